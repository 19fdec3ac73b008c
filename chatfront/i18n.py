"""The one translation function every sentence a person reads goes through.

``_("{name} joined").format(name=n)``: the placeholders are named, so a
translation may put them in another order. Catalogues are gettext's
(``chatfront/locale/<lang>/LC_MESSAGES/lanchat.mo``); with none installed the
English text is used as it is. The windows issue adds the Portuguese one.
"""
from __future__ import annotations

import gettext
import os

DOMAIN = "lanchat"
# os.path, not pathlib: this module is on the headless server's start-up path,
# and pathlib (with urllib.parse and ipaddress behind it) costs it ~6 ms.
LOCALE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "locale")

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
