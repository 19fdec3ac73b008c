"""Every sentence about the room's history, for the terminal and the windows alike.

Times are the reader's local time, dates in the reader's language; the headless
markers (``* earlier in this room:``, ``* while you were away:``, ``* (live)``)
are a contract scripts rely on, so they are worded here once and tested. They
are translated like every sentence: a script that reads them runs the client
with ``--lang en`` (or ``LANG=C``) so that it sees these English ones.
"""
from __future__ import annotations

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


def problem(e: ev.HistoryProblem) -> str:
    detail = _shown(e.detail)
    if e.kind == "in-use":
        return _("Another chat program is already using the history folder {path}. "
                 "Close it, or start this one with --data-dir pointing somewhere else.").format(path=detail)
    if e.kind == "unavailable":
        return _("The history cannot be kept ({reason}); the room works without it.").format(reason=detail)
    if e.kind == "damaged":
        return _("The history file was damaged; it was moved aside to {path} and a new history started.").format(
            path=detail)
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

def search_line(line: ev.HistoryLine) -> str:
    """``[YYYY-MM-DD HH:MM] NAME: TEXT`` (the headless ``/search`` and saved files)."""
    who = _shown(line.sender)
    text = _shown(line.text)
    if line.action:
        return f"[{stamp(line.at)}] * {who} {text}"
    return f"[{stamp(line.at)}] {who}: {text}"


def search_summary(e: ev.SearchResults) -> str:
    n = len(e.lines)
    if not n:
        return _("No line found for \u201c{query}\u201d.").format(query=_shown(e.query))
    return n_("{n} line found for \u201c{query}\u201d.", "{n} lines found for \u201c{query}\u201d.", n).format(
        n=n, query=_shown(e.query))


def search_usage() -> str:
    return _("Usage: /search WORDS (accents and case do not matter)")


def search_placeholder() -> str:
    return _("Search the history")


def save_history_title() -> str:
    return _("Save history as")


def no_history() -> str:
    return _("History is off (--no-history): lines are kept in memory only while the server runs.")
