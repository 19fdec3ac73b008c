"""Every sentence about the room's history, for the terminal and the windows alike.

Times are the reader's local time, dates in the reader's language; the headless
markers (``* earlier in this room:``, ``* while you were away:``, ``* (live)``)
are a contract scripts rely on, so they are worded here once and tested. They
are translated like every sentence: a script that reads them runs the client
with ``--lang en`` (or ``LANG=C``) so that it sees these English ones.
"""
from __future__ import annotations

import os
import re
import time

from udpcore import clean_text, events as ev

from .i18n import _, n_

_shown = clean_text


def clock(at: float) -> str:
    """``10:48`` in local time (24 hours, as in Brazil)."""
    return time.strftime("%H:%M", time.localtime(at))


def stamp(at: float) -> str:
    """``2026-12-03 10:48`` (``03/12/2026 10:48`` in Portuguese) in local time: search
    results, saved history."""
    t = time.localtime(at)
    # Translators: a date and time; {day} and {month} are two digits (03, 12), {time} is 10:48.
    return _("{year}-{month}-{day} {time}").format(year=t.tm_year, month=f"{t.tm_mon:02d}",
                                                   day=f"{t.tm_mday:02d}", time=clock(at))


# The names come from the catalogue, not from the system's locale (time.strftime's
# %A %B): a Brazilian reader gets Portuguese names on a system without the pt_BR
# locale installed (most Windows and many Linux installs have only C and en_US).
def _weekday(index: int) -> str:
    """Monday = 0, as time.struct_time's tm_wday."""
    # Translators: weekday names, at the start of the day separator ("Quinta-feira, 3 de dezembro de 2026").
    return (_("Monday"), _("Tuesday"), _("Wednesday"), _("Thursday"), _("Friday"), _("Saturday"),
            _("Sunday"))[index]


def _month(number: int) -> str:
    """January = 1."""
    # Translators: month names, inside a date ("3 de dezembro de 2026").
    return (_("January"), _("February"), _("March"), _("April"), _("May"), _("June"), _("July"),
            _("August"), _("September"), _("October"), _("November"), _("December"))[number - 1]


def day(at: float) -> str:
    """The day separator's words: ``Thursday, 3 December 2026`` (``Quinta-feira, 3 de
    dezembro de 2026``), in the reader's language whatever the system's locale."""
    t = time.localtime(at)
    # Translators: the day separator in the history.
    return _("{weekday}, {day} {month} {year}").format(weekday=_weekday(t.tm_wday), day=t.tm_mday,
                                                       month=_month(t.tm_mon), year=t.tm_year)


def same_day(a: float, b: float) -> bool:
    return time.localtime(a)[:3] == time.localtime(b)[:3]


# --- headless markers (scripts rely on their exact form) ---------------------------

def earlier_marker() -> str:
    return "* " + _("earlier in this room:")


def missed_marker() -> str:
    return "* " + _("while you were away:")


def live_marker() -> str:
    return "* " + _("(live)")


# --- window headings -----------------------------------------------------------------

def earlier_heading() -> str:
    return _("Earlier in this room")


def missed_heading(first_at: float, last_at: float) -> str:
    """``While you were away, 10:48–10:49`` (one time when both are the same minute)."""
    a, b = clock(first_at), clock(last_at)
    if not same_day(first_at, last_at):
        a, b = stamp(first_at), stamp(last_at)
    span = a if a == b else f"{a}–{b}"
    return _("While you were away, {span}").format(span=span)


def more_lines(n: int) -> str:
    """Above a block that does not reach back to the start of what is missing."""
    return n_("{n} earlier line is not shown: scroll up to load it.",
              "{n} earlier lines are not shown: scroll up to load them.", n).format(n=n)


def more_lines_headless(n: int) -> str:
    return "* " + n_("({n} earlier line not shown)", "({n} earlier lines not shown)", n).format(n=n)


def nothing_missed() -> str:
    return _("Nothing was said while you were away.")


# --- events ----------------------------------------------------------------------------

def members_back(e: ev.MembersBack) -> str:
    return n_("{n} member is back", "{n} members are back", e.count).format(n=e.count)


def room_closed_waiting() -> str:
    return _("The room is closed. You will join again by yourself when it opens.")


def join_again() -> str:
    return _("Join again")


# The name a damaged history file is given beside the new one (udpnet.history._move_aside:
# ``history.sqlite3.corrupt-20261203-103000``), found by its form, not by the store's words.
_ASIDE = re.compile(r"[^\s/\\]+\.(?:corrupt|damaged)-[0-9][0-9-]*")


def aside_name(detail: str) -> str:
    """The damaged file's new name in a HistoryProblem("damaged") detail: the store's own
    English notice, or that name alone; "" when it names none."""
    m = _ASIDE.search(detail)
    return m.group(0) if m else ""


def problem(e: ev.HistoryProblem, path: str | None = None) -> str:
    """``path``: the history file (ServerTransport.history_path), so that "damaged" names
    where the old file now is in full. The store's English words are never shown."""
    detail = _shown(e.detail)
    if e.kind == "in-use":
        return _("Another chat program is already using the history folder {path}. "
                 "Close it, or start this one with --data-dir pointing somewhere else.").format(path=detail)
    if e.kind == "unavailable":
        return _("The history cannot be kept ({reason}); the room works without it.").format(reason=detail)
    if e.kind == "damaged":
        if not (name := aside_name(e.detail)):
            return _("The history file was damaged; it was moved aside and a new history started.")
        where = os.path.join(os.path.dirname(path), name) if path and os.path.dirname(path) else name
        return _("The history file was damaged; it was moved aside to {path} and a new history started.").format(
            path=_shown(where))
    if e.kind == "paused":
        return _("History paused: the disk refused to store lines. The room goes on; lines said now are not kept.")
    if e.kind == "resumed":
        return _("History resumed: lines are stored again.")
    if e.kind == "save-failed":
        return _("The history could not be saved: {reason}.").format(reason=detail)
    return detail


def saved(e: ev.HistorySaved) -> str:
    return n_("Saved {n} line to {path}.", "Saved {n} lines to {path}.", e.count).format(n=e.count, path=e.path)


# --- search ----------------------------------------------------------------------------

def search_line(line: ev.HistoryLine, me: str = "") -> str:
    """``[YYYY-MM-DD HH:MM] NAME: TEXT`` (the headless ``/search`` and saved files).
    A private line says so as a live one does: ``NAME (to bob): TEXT`` on the sender's
    side (and wherever ``me`` is not known), ``NAME (private): TEXT`` on the recipient's."""
    return f"[{stamp(line.at)}] {room_line(line, me)}"


def as_room_line(line: ev.HistoryLine, me: str = "") -> ev.RoomLine:
    """A line of the history as the live line it was, for what prints or shows live lines."""
    return ev.RoomLine(seq=line.seq, sender=line.sender, text=line.text, action=line.action,
                       private_to=line.private_to, own=bool(me) and line.sender == me, at=line.at)


def room_line(line: ev.HistoryLine, me: str = "") -> str:
    """The terminal's form of a line of the history, exactly that of a live line:
    ``NAME: TEXT``, ``* NAME ACTION``, ``NAME (private): TEXT``."""
    from .wording import describe       # wording is the larger module; only the terminal needs this
    return describe(as_room_line(line, me), me) or ""


def search_summary(e: ev.SearchResults) -> str:
    n = len(e.lines)
    if not n:
        return _("No line found for \u201c{query}\u201d.").format(query=_shown(e.query))
    return n_("{n} line found for \u201c{query}\u201d.", "{n} lines found for \u201c{query}\u201d.", n).format(
        n=n, query=_shown(e.query))


def search_usage() -> str:
    return _("Usage: /search WORDS (accents and case do not matter)")


def save_usage() -> str:
    return _("Usage: /save FILE (the history, written as text)")


def history_help() -> str:
    """The history's commands, after the program's own /help."""
    return _("""  /search WORDS    find lines in the history (accents and case do not matter)
  /save FILE       write the history to a text file""")


def cannot_start(e: Exception, *, server: bool = True) -> str:
    """udpnet.HistoryInUse / HistoryUnavailable raised as a program starts: one sentence,
    then the program ends (status 1); never a traceback. ``server``: it has --no-history."""
    path = str(getattr(e, "path", ""))
    if type(e).__name__ == "HistoryInUse":
        return problem(ev.HistoryProblem("in-use", path))
    reason = _shown(str(getattr(e, "reason", "") or e))
    if server:
        return _("The history folder {path} cannot be used ({reason}). Choose another with --data-dir, "
                 "or start with --no-history.").format(path=_shown(path), reason=reason)
    return _("The history folder {path} cannot be used ({reason}). Choose another with --data-dir.").format(
        path=_shown(path), reason=reason)


def whole_number_between(minimum: int, maximum: int) -> str:
    """What an option such as --replay takes (after "--replay takes ")."""
    return _("a whole number from {minimum} to {maximum}").format(minimum=minimum, maximum=maximum)


def search_placeholder() -> str:
    return _("Search the history")


def save_history_title() -> str:
    return _("Save history as")


def no_history() -> str:
    return _("History is off (--no-history): lines are kept in memory only while the server runs.")


# --- added for the windows (chatui) ----------------------------------------------------

def search_button() -> str:
    """The button that opens the search bar (Ctrl+F does the same)."""
    return _("Search…")


def save_history_button() -> str:
    """The button that opens the Save history as dialog."""
    return _("Save history as…")
