"""Member names: what is allowed, and when two names are the same name.

Two names collide when their NFKC-normalised, case-folded forms are equal, so
``Alice``, ``ALICE`` and full-width ``ａｌｉｃｅ`` are one name in a room.
"""
from __future__ import annotations

import unicodedata

from .errors import InvalidName, NameProblem
from .wire import MAX_NAME_CHARS

RESERVED = ("server",)
GUEST_PREFIX = "guest-"
SERVER_NAME = "server"      # the name the server's own lines go out under


def name_key(name: str) -> str:
    """The form names are compared in."""
    return unicodedata.normalize("NFKC", name).casefold()


def name_problem(name: str) -> NameProblem | None:
    """Why ``name`` cannot be used as a member name, or None if it can."""
    if not name or not name.strip():
        return NameProblem.BLANK
    if len(name) > MAX_NAME_CHARS:
        return NameProblem.TOO_LONG
    for ch in name:
        cat = unicodedata.category(ch)
        # Cf: invisible format characters -- zero-width (U+200B) would make "alice\u200b" a
        # second "alice" to the eye, and a bidi override (U+202E) would reorder the line it heads.
        # (line and paragraph separators, Zl and Zp, are isspace() too)
        if cat in ("Cc", "Cf") or ch.isspace():
            return NameProblem.BAD_CHARACTER
    key = name_key(name)
    if key in RESERVED or key.startswith(GUEST_PREFIX):
        return NameProblem.RESERVED
    return None


def check_name(name: str) -> None:
    """Raise InvalidName when ``name`` cannot be used."""
    problem = name_problem(name)
    if problem is not None:
        raise InvalidName(name, problem)


def clean_text(text: str) -> str:
    """Replace control characters (line breaks included) with spaces, so one
    chat line stays one line on every screen and terminal."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch == "\t" else " " for ch in text)
