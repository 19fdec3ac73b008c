"""The one translation function every sentence a person reads goes through.

``_("{name} joined").format(name=n)``: the placeholders are named, so a
translation may put them in another order. Catalogues are gettext's
(``chatfront/locale/<lang>/LC_MESSAGES/lanchat.mo``, made from the .po next to
it by ``tools/update_catalog.py``); without one the English text is used as it is.

The language: ``--lang en|pt_BR`` on the command line, else the system's
(:func:`system_language`). The entry scripts call :func:`choose_language` first
thing, before any parser is built, so ``--lang pt_BR --help`` is Portuguese.
argparse's own words (``usage:``, ``options:``, its errors) go through the same
catalogue (:func:`translate_argparse`).
"""
from __future__ import annotations

import gettext
import os
import sys
from collections.abc import Mapping, Sequence

DOMAIN = "lanchat"
# os.path, not pathlib: this module is on the headless server's start-up path,
# and pathlib (with urllib.parse and ipaddress behind it) costs it ~6 ms.
LOCALE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "locale")

ENGLISH = "en"
LANGUAGES = (ENGLISH, "pt_BR")          # what --lang takes; English is the text in the sources
OPTION = "--lang"


def language_code(text: str | None) -> str | None:
    """One of LANGUAGES for a locale or language name, None when we have none for it.

    ``pt_BR.UTF-8``, ``pt-BR``, ``pt_BR@euro``, ``pt``, ``pt_PT`` → ``pt_BR`` (the only
    Portuguese we have, nearer to a Portuguese reader than English is);
    ``en_US.UTF-8``, ``C``, ``POSIX`` → ``en``."""
    if not text:
        return None
    name = text.strip().split(".", 1)[0].split("@", 1)[0].replace("-", "_")
    if name in ("C", "POSIX"):
        return ENGLISH
    lang = name.split("_", 1)[0].lower()
    if lang == "pt":
        return "pt_BR"
    if lang == "en":
        return ENGLISH
    return None


def system_language(environ: Mapping[str, str] | None = None, platform: str | None = None) -> str:
    """The language the system asks for; English when it asks for one we do not have.

    As gettext does: the first of LANGUAGE (a ``:`` list, the first we have wins),
    LC_ALL, LC_MESSAGES and LANG that is set decides. When none is (a program started
    from the Windows Start menu or the macOS Finder), the system's own setting: the
    user's display language on Windows, the preferred languages on macOS. Never
    raises: anything unexpected means English."""
    environ = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(var)
        if value:
            for part in value.split(":"):
                if (code := language_code(part)) is not None:
                    return code
            return ENGLISH
    try:
        if platform == "win32":
            found = _windows_languages()
        elif platform == "darwin":
            found = _mac_languages()
        else:
            found = []
        import locale
        found.append(locale.getlocale(locale.LC_CTYPE)[0] or "")
    except Exception:       # a missing library, an odd answer: English rather than no program
        found = []
    for name in found:
        if (code := language_code(name)) is not None:
            return code
    return ENGLISH


def _windows_languages() -> list[str]:  # pragma: no cover - Windows only
    """The user's display language (Settings > Time & language), as ``pt_BR``."""
    import ctypes
    import locale
    langid = ctypes.windll.kernel32.GetUserDefaultUILanguage()
    return [locale.windows_locale.get(langid, "")]


def _mac_languages() -> list[str]:  # pragma: no cover - macOS only
    """The user's preferred languages (System Settings > Language & Region), as
    ``pt-BR``, from CoreFoundation (``defaults read`` would start a program: too slow)."""
    import ctypes
    import ctypes.util
    path = ctypes.util.find_library("CoreFoundation")
    if not path:
        return []
    cf = ctypes.cdll.LoadLibrary(path)
    cf.CFLocaleCopyPreferredLanguages.restype = ctypes.c_void_p
    cf.CFLocaleCopyPreferredLanguages.argtypes = []
    cf.CFArrayGetCount.restype = ctypes.c_long
    cf.CFArrayGetCount.argtypes = [ctypes.c_void_p]
    cf.CFArrayGetValueAtIndex.restype = ctypes.c_void_p
    cf.CFArrayGetValueAtIndex.argtypes = [ctypes.c_void_p, ctypes.c_long]
    cf.CFStringGetCString.restype = ctypes.c_bool
    cf.CFStringGetCString.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_long, ctypes.c_uint32]
    cf.CFRelease.restype = None
    cf.CFRelease.argtypes = [ctypes.c_void_p]
    array = cf.CFLocaleCopyPreferredLanguages()
    if not array:
        return []
    out: list[str] = []
    try:
        buf = ctypes.create_string_buffer(64)
        for i in range(min(cf.CFArrayGetCount(array), 8)):
            item = cf.CFArrayGetValueAtIndex(array, i)
            if item and cf.CFStringGetCString(item, buf, len(buf), 0x08000100):      # kCFStringEncodingUTF8
                out.append(buf.value.decode("utf-8", "replace"))
    finally:
        cf.CFRelease(array)
    return out


def option_language(argv: Sequence[str]) -> str | None:
    """The language ``--lang X`` / ``--lang=X`` (or an abbreviation argparse would
    take, ``--lan X``) asks for; None when it is absent or names none we have
    (argparse then refuses it with its sentence: options.py)."""
    args = list(argv)
    for i, arg in enumerate(args):
        if arg == "--":
            break
        word, eq, value = arg.partition("=")
        if len(word) >= 4 and OPTION.startswith(word):
            if not eq:
                value = args[i + 1] if i + 1 < len(args) else ""
            return language_code(value)
    return None


def _catalogue(language: str) -> gettext.NullTranslations:
    """The language's catalogue, read straight from its file: the code is already
    one of ours, so gettext.translation's search (locale.normalize, copy) is not needed."""
    try:
        with open(os.path.join(LOCALE_DIR, language, "LC_MESSAGES", DOMAIN + ".mo"), "rb") as f:
            return gettext.GNUTranslations(f)
    except OSError:          # English (no catalogue: the sources' text), or a catalogue gone missing
        return gettext.NullTranslations()


_language: str = system_language()
_by_option = False
_translation: gettext.NullTranslations = _catalogue(_language)


def use_language(languages: list[str] | None = None) -> None:
    """Switch catalogues: the first of ``languages`` we have, else English (None: the system's)."""
    global _translation, _language
    if languages is None:
        _language = system_language()
    else:
        _language = next((c for c in map(language_code, languages) if c is not None), ENGLISH)
    _translation = _catalogue(_language)


def choose_language(argv: Sequence[str] | None = None) -> str:
    """Call first thing in a program: ``--lang`` in ``argv`` (default sys.argv[1:]),
    else the system's language. Returns the one chosen."""
    global _by_option
    asked = option_language(sys.argv[1:] if argv is None else argv)
    _by_option = asked is not None
    use_language([asked or system_language()])
    translate_argparse()
    return _language


def language() -> str:
    """The language sentences are in now: one of LANGUAGES."""
    return _language


def language_args() -> list[str]:
    """``["--lang", X]`` when the language came from the command line, for programs
    this one starts (the server's --open-clients), else nothing: they find the
    system's language by themselves."""
    return [OPTION, _language] if _by_option else []


def tk_locale() -> str:
    """The language for Tk's own dialogs (msgcat: ``pt``, ``en``), so that their
    buttons (Sim/Não, the file dialog) speak like our windows."""
    return _language.split("_", 1)[0].lower()


def translate_argparse() -> None:
    """argparse's own words (``usage:``, ``options:``, ``show this help message and
    exit``, its error sentences) through our catalogue: it looks up the module-level
    names ``_`` and ``ngettext`` when it speaks, so rebinding them is enough."""
    import argparse
    argparse._ = _             # type: ignore[attr-defined]
    argparse.ngettext = n_     # type: ignore[attr-defined]


def _(message: str) -> str:
    """The reader's language for ``message``."""
    return _translation.gettext(message)


def n_(singular: str, plural: str, n: int) -> str:
    """The reader's language for a sentence that depends on a count."""
    return _translation.ngettext(singular, plural, n)
