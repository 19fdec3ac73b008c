"""The one translation function every sentence a person reads goes through.

``_("{name} joined").format(name=n)``: the placeholders are named, so a
translation may put them in another order. Catalogues are gettext's
(``chatfront/locale/<lang>/LC_MESSAGES/lanchat.mo``); with none installed the
English text is used as it is. The windows issue adds the Portuguese one.
"""
from __future__ import annotations

import gettext
from pathlib import Path

DOMAIN = "lanchat"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"

_translation: gettext.NullTranslations = gettext.translation(DOMAIN, LOCALE_DIR, fallback=True)


def use_language(languages: list[str] | None = None) -> None:
    """Switch catalogues (None: from LANGUAGE, LC_ALL, LC_MESSAGES and LANG, as gettext does)."""
    global _translation
    _translation = gettext.translation(DOMAIN, LOCALE_DIR, languages=languages, fallback=True)


def _(message: str) -> str:
    """The reader's language for ``message``."""
    return _translation.gettext(message)


def n_(singular: str, plural: str, n: int) -> str:
    """The reader's language for a sentence that depends on a count."""
    return _translation.ngettext(singular, plural, n)
