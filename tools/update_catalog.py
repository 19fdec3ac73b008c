"""Extract, update and compile the translations: the one command after new sentences land.

    .venv/bin/python tools/update_catalog.py            # from the project folder
    .venv/bin/python tools/update_catalog.py --check    # exit 1 if the files are not up to date

1. Every ``_("…")`` and ``n_("…", "…", n)`` in chatfront/, chatui/ and gui_*.py
   (babel.cfg says where), and argparse's own words (``usage:``, ``options:``, its
   error sentences: chatfront/i18n.py sends them through our catalogue too), go to
   chatfront/locale/lanchat.pot.
2. Each language's chatfront/locale/<lang>/LC_MESSAGES/lanchat.po is updated from
   it: new sentences come in untranslated, a changed sentence keeps its old
   translation marked fuzzy (to be checked), a removed one stays at the end as
   obsolete (``#~``) and comes back by itself if the sentence does (so does one
   translated ahead, before the branch that adds it is merged).
3. Each .po is compiled to lanchat.mo next to it (fuzzy and untranslated entries
   left out, so those sentences show in English until translated).

Then translate what is new (``msgstr ""`` and ``#, fuzzy`` entries in the .po:
any text editor, or Poedit), run this again to compile, and run
tests/test_translations.py, which fails while a sentence has no translation or
a translation's placeholders differ from the English. All three files are
committed, so running from source needs no build step.

Files are rewritten only when a message changed, so a run after a change
elsewhere leaves them (and their dates) alone. Line numbers are not written,
only file names: a moved line does not change the catalogues, which keeps merges
of branches that both add sentences small.
"""
from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir, extract_from_file
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "chatfront" / "locale"
POT = LOCALE / "lanchat.pot"
DOMAIN = "lanchat"
LANGUAGES = {"pt_BR": "nplurals=2; plural=(n > 1);"}     # language: its Plural-Forms (gettext's, for pt_BR)
KEYWORDS = {"_": None, "n_": (1, 2)}
ARGPARSE_KEYWORDS = {"_": None, "ngettext": (1, 2)}
COMMENT_TAGS = ("Translators:",)
WIDTH = 100


def po_path(lang: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(lang: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"


def _version() -> str:
    text = (ROOT / "udpcore" / "__init__.py").read_text(encoding="utf-8")
    return text.split('__version__ = "', 1)[1].split('"', 1)[0]


def _new_catalog(locale: str | None = None) -> Catalog:
    catalog = Catalog(locale=locale, domain=DOMAIN, project="LanChat", version=_version(),
                      copyright_holder="LanChat", msgid_bugs_address="the LanChat project's issues",
                      last_translator="LanChat", language_team="LanChat", charset="utf-8", fuzzy=False,
                      header_comment="# What LanChat's programs say to a person (tools/update_catalog.py writes this).\n#")
    if locale in LANGUAGES:
        catalog.mime_headers = [("Plural-Forms", LANGUAGES[locale])]     # gettext's rule, not CLDR's
    return catalog


def extract(root: Path = ROOT, with_argparse: bool = True) -> Catalog:
    """The template: every message in the project's sources (and argparse's)."""
    catalog = _new_catalog()
    with open(root / "babel.cfg", encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f)
    for filename, lineno, message, comments, context in extract_from_dir(
            str(root), method_map, options_map, keywords=KEYWORDS, comment_tags=COMMENT_TAGS,
            strip_comment_tags=True):
        catalog.add(message, None, [(Path(filename).as_posix(), lineno)], auto_comments=comments, context=context)
    if with_argparse:
        for lineno, message, comments, context in extract_from_file(
                "python", argparse.__file__, keywords=ARGPARSE_KEYWORDS):
            catalog.add(message, None, [("argparse.py", lineno)],
                        auto_comments=["argparse's own words (usage, options, errors)"], context=context)
    return catalog


def _po_text(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_po(out, catalog, width=WIDTH, sort_by_file=True, include_lineno=False, ignore_obsolete=False,
             omit_header=False)
    return out.getvalue()


def _without_dates(text: bytes) -> bytes:
    return b"\n".join(line for line in text.split(b"\n")
                      if not line.startswith((b'"POT-Creation-Date:', b'"PO-Revision-Date:', b"# Copyright (C)")))


def _write_if_changed(path: Path, text: bytes) -> bool:
    """Write ``text`` unless the file says the same apart from its dates."""
    if path.exists() and _without_dates(path.read_bytes()) == _without_dates(text):
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text)
    return True


def updated_po(template: Catalog, lang: str) -> Catalog:
    """The language's catalogue brought up to the template (a new one the first time)."""
    path = po_path(lang)
    if path.exists():
        with open(path, "rb") as f:
            catalog = read_po(f, locale=lang, domain=DOMAIN)
    else:
        catalog = _new_catalog(lang)
        catalog.revision_date = catalog.creation_date
    catalog.mime_headers = [("Plural-Forms", LANGUAGES[lang])]     # gettext's rule, not CLDR's 3 forms
    # An obsolete entry (#~) whose sentence is back, or that was translated ahead for a
    # branch not merged yet, is a translation again: msgmerge's habit, which Babel lacks.
    for key, old in list(catalog.obsolete.items()):
        if template.get(old.id, old.context) is not None:
            del catalog.obsolete[key]
            catalog[old.id] = old
    catalog.update(template, no_fuzzy_matching=False, update_header_comment=False)
    return catalog


def compiled(catalog: Catalog) -> bytes:
    """The .mo for a catalogue (fuzzy entries left out, as msgfmt does)."""
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def compiled_po(lang: str) -> bytes:
    with open(po_path(lang), "rb") as f:
        return compiled(read_po(f, locale=lang, domain=DOMAIN))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="update_catalog.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a file would change")
    args = parser.parse_args(argv)
    template = extract()
    changed: list[Path] = []
    pot_text = _po_text(template)
    if args.check:
        if not POT.exists() or _without_dates(POT.read_bytes()) != _without_dates(pot_text):
            changed.append(POT)
    elif _write_if_changed(POT, pot_text):
        changed.append(POT)
    for lang in LANGUAGES:
        catalog = updated_po(template, lang)
        po_text = _po_text(catalog)
        po = po_path(lang)
        if args.check:
            if not po.exists() or _without_dates(po.read_bytes()) != _without_dates(po_text):
                changed.append(po)
            elif not mo_path(lang).exists() or mo_path(lang).read_bytes() != compiled_po(lang):
                changed.append(mo_path(lang))
            continue
        if _write_if_changed(po, po_text):
            changed.append(po)
        mo = compiled_po(lang)
        if not mo_path(lang).exists() or mo_path(lang).read_bytes() != mo:
            mo_path(lang).write_bytes(mo)
            changed.append(mo_path(lang))
        missing = [m.id for m in catalog if m.id and (not m.string or m.fuzzy
                                                      or (isinstance(m.string, tuple) and not all(m.string)))]
        if missing:
            print(f"{lang}: {len(missing)} message(s) to translate or check (empty msgstr or #, fuzzy) in "
                  f"{po.relative_to(ROOT)}", file=sys.stderr)
    for path in changed:
        print(("would change " if args.check else "wrote ") + str(path.relative_to(ROOT)))
    if not changed:
        print("catalogues up to date")
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    sys.exit(main())
