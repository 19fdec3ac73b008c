"""Right-to-left text (Arabic, Hebrew, Persian…) in the right visual order.

Tk 8.6 on X11 draws characters in the order they are stored and does not join
Arabic letters: "مرحبا" came out letter-reversed and unjoined. For display only,
each line of a message that holds right-to-left letters is shaped
(``arabic-reshaper``: the joined presentation forms) and reordered by the
Unicode bidi algorithm (``python-bidi``); what is stored, searched, sent and
copied stays the logical text (HistoryPane keeps the logical text of each
reordered run and puts it on the clipboard, see ``logical_copy``).

Windows and macOS draw through the system's text engine (Uniscribe/DirectWrite,
Core Text), which orders and shapes by itself: reordering there as well would
undo it, so it is done on X11 only. Without the two packages the text is shown
as it is stored (the old behaviour), never an error.
"""
from __future__ import annotations

import tkinter as tk
import unicodedata
from functools import lru_cache

try:        # python-bidi's own implementation: the one that also mirrors brackets, "(x)" in a Hebrew line
    from bidi.algorithm import get_display
except ImportError:                 # optional: without it right-to-left text stays in stored order
    get_display = None
try:
    import arabic_reshaper
except ImportError:
    arabic_reshaper = None

_RTL = frozenset(("R", "AL"))


def wanted(widget: tk.Misc) -> bool:
    """Whether this Tk needs the help: X11 only, and only with python-bidi there."""
    return get_display is not None and widget.tk.call("tk", "windowingsystem") == "x11"


def has_rtl(text: str) -> bool:
    if text.isascii():
        return False
    return any(unicodedata.bidirectional(ch) in _RTL for ch in text)


@lru_cache(maxsize=4096)
def visual(text: str) -> str:
    """``text`` as it must be drawn left to right, line by line (each line its own
    paragraph, its direction from its first strong letter); the same text when it
    holds no right-to-left letter."""
    if get_display is None or not has_rtl(text):
        return text
    out = []
    for line in text.split("\n"):
        if has_rtl(line):
            if arabic_reshaper is not None:
                line = arabic_reshaper.reshape(line)
            line = get_display(line)
        out.append(line)
    return "\n".join(out)


class LogicalRuns:
    """Visual run -> its logical text, for the runs a Text widget shows reordered
    (tagged ``rtl``). Bounded: the oldest are forgotten, as the history forgets lines."""

    def __init__(self, limit: int = 20000) -> None:
        self.limit = limit
        self.runs: dict[str, str] = {}

    def add(self, shown: str, logical: str) -> None:
        if shown in self.runs:
            self.runs.pop(shown)                 # most recent last
        self.runs[shown] = logical
        while len(self.runs) > self.limit:
            self.runs.pop(next(iter(self.runs)))

    def get(self, shown: str) -> str | None:
        return self.runs.get(shown)


def logical_copy(text: tk.Text, runs: LogicalRuns) -> str | None:
    """The selection of ``text`` as it was written: each reordered run that the
    selection touches is given as its logical text (whole: a part of a reordered
    run has no logical order of its own). None when nothing is selected."""
    if not text.tag_ranges("sel"):
        return None
    first, last = text.index("sel.first"), text.index("sel.last")
    pos, out = first, []
    if "rtl" in text.tag_names(first):
        start, end = text.tag_prevrange("rtl", f"{first} + 1c")
        ranges = [(start, end)]
        where = end
    else:
        ranges, where = [], first
    while True:
        found = text.tag_nextrange("rtl", where, last)
        if not found:
            break
        ranges.append(found)
        where = found[1]
    for start, end in ranges:
        if text.compare(start, ">", pos):
            out.append(text.get(pos, start))
        shown = text.get(start, end)
        logical = runs.get(shown)
        if logical is None:                      # not one of ours (or forgotten): what is there
            logical = text.get(pos if text.compare(pos, ">", start) else start,
                               last if text.compare(last, "<", end) else end)
        out.append(logical)
        pos = end
    if text.compare(pos, "<", last):
        out.append(text.get(pos, last))
    return "".join(out)


class RtlMixin:
    """For HistoryPane: ``_shown`` puts a text in its visual order, ``<<Copy>>`` gives
    the logical one back."""

    text: tk.Text

    def init_rtl(self) -> None:
        self._rtl = wanted(self.text)
        self._runs = LogicalRuns()
        self.text.bind("<<Copy>>", self._copy)

    def _shown(self, text: str, tags: tuple) -> tuple[str, tuple]:
        """Right-to-left text in its visual order, tagged ``rtl`` so that copying gives
        back the logical text; anything else as it is."""
        if not self._rtl or text.isascii():
            return text, tags
        shown = visual(text)
        if shown == text:
            return text, tags
        self._runs.add(shown, text)
        return shown, ("rtl",) + tags

    def _copy(self, _e=None) -> str | None:
        copied = logical_copy(self.text, self._runs)
        if copied is None:
            return None
        self.text.clipboard_clear()
        self.text.clipboard_append(copied)
        return "break"
