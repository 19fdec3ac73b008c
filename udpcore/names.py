"""Member names: what is allowed, and when two names are the same name.

A name is 1 to MAX_NAME_CHARS visible characters: no spaces, no control, format,
default-ignorable, unassigned or private-use code points (each could hide or fake
what the name shows), no combining mark first and at most MAX_MARKS in a row.

Two names are the same name when they look alike: :func:`name_key` compares their
Unicode TR39 confusable skeletons (Unicode's own look-alike table, generated into
``confusables_data``) after NFKC and case folding. So ``Alice``, ``ALICE``,
full-width ``ａｌｉｃｅ``, Cyrillic ``аlice`` and ``aIice`` (capital i) are one name,
and ``ѕerver`` (Cyrillic ѕ) is the reserved ``server``.
"""
from __future__ import annotations

import unicodedata

from .errors import InvalidName, LineTooLong, NameProblem
from .wire import MAX_MESSAGE_TEXT, MAX_NAME_CHARS

RESERVED = ("server",)
MAX_TEXT_LINES = 20         # lines in one chat message; what is past them joins the last one
GUEST_PREFIX = "guest-"
SERVER_NAME = "server"      # the name the server's own lines go out under

# Combining marks in a row (counted after NFD): Vietnamese needs 2, Indic and Tibetan
# clusters 3; a taller stack ("Zalgo") only spills over the lines around the name.
MAX_MARKS = 4

# Never in a name: control (Cc), format (Cf: zero-width, bidi), surrogate (Cs),
# private-use (Co: any font can draw them as anything) and unassigned (Cn) code points.
_BAD_CATEGORIES = frozenset(("Cc", "Cf", "Cs", "Co", "Cn"))

# Bidi embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069) and the
# deprecated format characters after them (U+206A-U+206F, which switch mirroring and
# shaping): removed from chat text, see clean_text.
_REORDERING = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x2070)])

# The capital I is both an "i" (by case) and an "l" (by shape, in TR39): a key that
# ignores case and shape must make the two letters one.
_I_AS_L = {ord("i"): "l"}

_skeleton_table: dict[int, str | None] | None = None     # built on first use: start-up never pays
_ignorable: frozenset[int] = frozenset()


def _table() -> dict[int, str | None]:
    """The skeleton mapping for str.translate: each confusable to its prototype, each
    default-ignorable code point to nothing (as TR39 does). Read once, on first use."""
    global _skeleton_table, _ignorable
    if _skeleton_table is None:
        from . import confusables_data as data
        entries = data.PROTOTYPES.rstrip("\n").replace("\n", "\x1f").split("\x1f")
        table: dict[int, str | None] = str.maketrans({e[0]: e[1:] for e in entries})
        ignorable = frozenset(cp for lo, hi in data.IGNORABLE for cp in range(lo, hi + 1))
        table.update(dict.fromkeys(ignorable))
        _ignorable, _skeleton_table = ignorable, table
    return _skeleton_table


def _fold(text: str, table: dict[int, str | None]) -> str:
    """One round: the TR39 skeleton (NFD, map, NFD), then case folding."""
    return unicodedata.normalize("NFD", unicodedata.normalize("NFD", text).translate(table)).casefold()


def name_key(name: str) -> str:
    """The form names are compared in: equal keys mean names that look alike.

    Skeleton before case folding catches capitals of other scripts (Cyrillic В as
    B); the second round catches what folding turns into a look-alike (M to m to rn)."""
    table = _table()
    return _fold(_fold(unicodedata.normalize("NFKC", name), table), table).translate(_I_AS_L)


def _marks_problem(name: str) -> bool:
    """A combining mark first, or more than MAX_MARKS of them in a row."""
    run = 0
    for i, ch in enumerate(unicodedata.normalize("NFD", name)):
        if unicodedata.category(ch)[0] != "M":
            run = 0
        elif i == 0 or run == MAX_MARKS:
            return True
        else:
            run += 1
    return False


def name_problem(name: str) -> NameProblem | None:
    """Why ``name`` cannot be used as a member name, or None if it can."""
    if not name or not name.strip():
        return NameProblem.BLANK
    if len(name) > MAX_NAME_CHARS:
        return NameProblem.TOO_LONG
    key = name_key(name)          # also loads the table of ignorable code points
    for ch in name:
        # (line and paragraph separators, Zl and Zp, are isspace() too)
        if unicodedata.category(ch) in _BAD_CATEGORIES or ch.isspace() or ord(ch) in _ignorable:
            return NameProblem.BAD_CHARACTER
    if _marks_problem(name):
        return NameProblem.MARKS
    plain = unicodedata.normalize("NFKC", name).casefold()
    if plain in RESERVED or plain.startswith(GUEST_PREFIX):
        return NameProblem.RESERVED
    if key in map(name_key, RESERVED) or key.startswith(name_key(GUEST_PREFIX)):
        return NameProblem.LOOKS_RESERVED
    return None


def check_name(name: str) -> None:
    """Raise InvalidName when ``name`` cannot be used."""
    problem = name_problem(name)
    if problem is not None:
        raise InvalidName(name, problem)


def clean_text(text: str) -> str:
    """Chat text safe to show: control characters (line breaks, ESC, C1 included)
    become spaces, so one chat line stays one line and no terminal escape passes;
    bidi embeddings, overrides and isolates are removed, so a line cannot reorder
    or fake what is shown around it. Other format characters stay (the zero-width
    joiner holds emoji sequences together, the non-joiner shapes Persian)."""
    if text.isprintable():
        return text
    # Removed rather than closed: a closed override still shows its own text in another
    # order than it was sent ("gnp.exe" as "exe.png"); people do not type these controls,
    # and the bidi algorithm orders mixed-direction text well without them.
    return "".join(ch if ch.isprintable() or ch == "\t" or unicodedata.category(ch) == "Cf" else " "
                   for ch in text.translate(_REORDERING))


def clean_message(text: str) -> str:
    """A chat message safe to show, with its line breaks: each line cleaned as
    :func:`clean_text` cleans (so no other control, no ESC, no bidi override passes),
    ``\r\n``, ``\r`` and the Unicode line and paragraph separators made ``\n``,
    blank lines at either end dropped, and at most MAX_TEXT_LINES lines (the rest
    joined to the last with spaces: nothing said is lost, a paste cannot fill a screen).
    Idempotent: the server cleans again what the client cleaned."""
    if text.isprintable():
        return text
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    if "\n" not in text:
        return clean_text(text)
    lines = [clean_text(line).rstrip() for line in text.split("\n")]
    while lines and not lines[-1].strip():
        lines.pop()
    while lines and not lines[0].strip():
        lines.pop(0)
    if len(lines) > MAX_TEXT_LINES:
        lines[MAX_TEXT_LINES - 1:] = [" ".join(lines[MAX_TEXT_LINES - 1:])]
    return "\n".join(lines)


def too_long(text: str) -> LineTooLong | None:
    """Why the message ``text`` cannot go (too many bytes once cleaned), or None: what
    the client engine refuses, for a window to tell before it empties its entry."""
    text = clean_message(text)
    size = len(text.encode())
    return LineTooLong(size, MAX_MESSAGE_TEXT, len(text)) if size > MAX_MESSAGE_TEXT else None
