"""The history's sentences (chatfront/history_wording.py): the headless markers
scripts rely on, search results, problems, and that every one is translated."""
from __future__ import annotations

import gettext
import os
import re
import time
from pathlib import Path

import pytest

from chatfront import history_wording as hw
from chatfront import i18n
from chatfront.wording import describe
from udpcore import events as ev
from udpnet.history import HistoryInUse, HistoryUnavailable

pytestmark = pytest.mark.timeout(10)


@pytest.fixture
def utc(monkeypatch):
    """Local time is UTC for the test, so a stamp can be written down."""
    if not hasattr(time, "tzset"):
        pytest.skip("no tzset on this system")
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


AT = 1796294880.0           # 2026-12-03 10:48:00 UTC


def line(text="hello", sender="alice", action=False, private_to=None, at=AT, seq=1):
    return ev.HistoryLine(seq=seq, at=at, sender=sender, text=text, action=action, private_to=private_to)


def test_the_headless_markers_are_the_contract():
    assert hw.earlier_marker() == "* earlier in this room:"
    assert hw.missed_marker() == "* while you were away:"
    assert hw.live_marker() == "* (live)"
    assert hw.more_lines_headless(1) == "* (1 earlier line not shown)"
    assert hw.more_lines_headless(40) == "* (40 earlier lines not shown)"


def test_a_search_result_is_stamped_and_in_the_live_form(utc):
    assert hw.stamp(AT) == "2026-12-03 10:48"
    assert hw.search_line(line("café au lait")) == "[2026-12-03 10:48] alice: café au lait"
    assert hw.search_line(line("waves", action=True)) == "[2026-12-03 10:48] * alice waves"
    # A private line says so, as a live one does: "to bob" for its sender, "private" for its recipient.
    assert hw.search_line(line("psst", private_to="bob"), "alice") == "[2026-12-03 10:48] alice (to bob): psst"
    assert hw.search_line(line("psst", private_to="bob"), "bob") == "[2026-12-03 10:48] alice (private): psst"
    assert hw.search_line(line("psst", private_to="bob")) == "[2026-12-03 10:48] alice (to bob): psst"


def test_a_line_of_the_history_prints_exactly_as_the_live_line_did():
    for old in (line(), line("waves", action=True), line("psst", private_to="bob"),
                line("psst", private_to="alice", sender="bob")):
        live = ev.RoomLine(seq=old.seq, sender=old.sender, text=old.text, action=old.action,
                           private_to=old.private_to, own=old.sender == "alice", at=old.at)
        assert hw.room_line(old, "alice") == describe(live, "alice")
    assert hw.room_line(line("hi")) == "alice: hi"
    assert hw.room_line(line("waves", action=True)) == "* alice waves"


def test_what_others_typed_cannot_forge_a_line_or_a_marker():
    # A sender's text with a line break prints its further lines indented behind "    | ":
    # none can be a forged "* (live)" marker or another member's line.
    shown = hw.room_line(line("x\n* (live)\r\nmallory: hi"))
    assert "\r" not in shown
    first, *further = shown.split("\n")
    assert first == "alice: x" and further and all(f.startswith("    | ") for f in further)
    saved = hw.search_line(line("x\n* (live)")).split("\n")
    assert saved[0].startswith("[") and saved[1] == "    | * (live)"
    assert "\n" not in hw.search_summary(ev.SearchResults("a\nb", ()))


def test_search_summary_counts_and_quotes_the_query():
    assert hw.search_summary(ev.SearchResults("cafe", ())) == "No line found for \u201ccafe\u201d."
    assert hw.search_summary(ev.SearchResults("cafe", (line(),))) == "1 line found for \u201ccafe\u201d."
    assert hw.search_summary(ev.SearchResults("cafe", (line(), line(seq=2)))) == "2 lines found for \u201ccafe\u201d."
    assert "/search WORDS" in hw.search_usage() and "/save FILE" in hw.save_usage()
    assert "/search WORDS" in hw.history_help() and "/save FILE" in hw.history_help()


def test_every_history_problem_is_one_distinct_sentence():
    kinds = ("in-use", "unavailable", "damaged", "paused", "resumed", "save-failed")
    sentences = [hw.problem(ev.HistoryProblem(k, "/data/history/room")) for k in kinds]
    assert len(set(sentences)) == len(kinds)
    for s in sentences:
        assert s.endswith(".") and "\n" not in s and s[0].isupper()
    assert "/data/history/room" in sentences[0] and "--data-dir" in sentences[0]
    assert "/data/history/room" not in sentences[2]               # a folder is no file moved aside
    # "damaged": the store says it in English of its own; only the file it names is kept from it.
    notice = ("The history file was damaged (file is not a database); it was moved aside to "
              "history.sqlite3.corrupt-20261203-103000 and a new history started.")
    assert hw.aside_name(notice) == "history.sqlite3.corrupt-20261203-103000"
    assert hw.aside_name("history.sqlite3.corrupt-20261203-103000-2") == "history.sqlite3.corrupt-20261203-103000-2"
    assert hw.aside_name("history.sqlite3") == "" and hw.aside_name("") == ""
    named = hw.problem(ev.HistoryProblem("damaged", notice))
    assert named == hw.problem(ev.HistoryProblem("damaged", "history.sqlite3.corrupt-20261203-103000"))
    assert named == ("The history file was damaged; it was moved aside to history.sqlite3.corrupt-20261203-103000 "
                     "and a new history started.")
    full = hw.problem(ev.HistoryProblem("damaged", notice), "/data/history/room/history.sqlite3")
    assert "moved aside to " + os.path.join("/data/history/room", "history.sqlite3.corrupt-20261203-103000") in full
    assert "not a database" not in full
    assert hw.problem(ev.HistoryProblem("damaged", "history.sqlite3")) == \
        "The history file was damaged; it was moved aside and a new history started."


def test_a_store_that_cannot_open_is_one_sentence_naming_the_folder(tmp_path):
    folder = tmp_path / "history" / "room"
    in_use = hw.cannot_start(HistoryInUse(folder))
    assert str(folder) in in_use and "Another chat program" in in_use and "--data-dir" in in_use
    gone = hw.cannot_start(HistoryUnavailable(folder, "Permission denied"))
    assert str(folder) in gone and "Permission denied" in gone and "--no-history" in gone
    client = hw.cannot_start(HistoryUnavailable(folder, "Permission denied"), server=False)
    assert "--no-history" not in client and "--data-dir" in client      # the client has no --no-history
    for s in (in_use, gone, client):
        assert s.endswith(".") and "\n" not in s


def test_counts_and_spans():
    assert hw.members_back(ev.MembersBack(1)) == "1 member is back"
    assert hw.members_back(ev.MembersBack(150)) == "150 members are back"
    assert hw.saved(ev.HistorySaved("/tmp/h.txt", 1)) == "Saved 1 line to /tmp/h.txt."
    assert hw.saved(ev.HistorySaved("/tmp/h.txt", 3)) == "Saved 3 lines to /tmp/h.txt."


def test_the_missed_heading_spans_the_absence(utc):
    assert hw.missed_heading(AT, AT + 30) == "While you were away, 10:48"
    assert hw.missed_heading(AT, AT + 60) == "While you were away, 10:48–10:49"
    assert hw.missed_heading(AT, AT + 86400) == "While you were away, 2026-12-03 10:48–2026-12-04 10:48"


class _Marked(gettext.NullTranslations):
    """A catalogue that marks every sentence it translates."""

    def gettext(self, message):
        return "«" + message + "»"

    def ngettext(self, singular, plural, n):
        return "«" + (singular if n == 1 else plural) + "»"


def test_every_sentence_goes_through_the_translation(monkeypatch):
    monkeypatch.setattr(i18n, "_translation", _Marked())
    said = [hw.earlier_marker(), hw.missed_marker(), hw.live_marker(), hw.more_lines_headless(2),
            hw.more_lines(2), hw.nothing_missed(), hw.earlier_heading(), hw.missed_heading(AT, AT + 60),
            hw.members_back(ev.MembersBack(3)), hw.room_closed_waiting(), hw.join_again(),
            hw.saved(ev.HistorySaved("/x", 2)), hw.search_summary(ev.SearchResults("q", ())),
            hw.search_usage(), hw.save_usage(), hw.history_help(), hw.search_placeholder(),
            hw.save_history_title(), hw.no_history(), hw.cannot_start(HistoryInUse(Path("/x"))),
            hw.cannot_start(HistoryUnavailable(Path("/x"), "r")),
            hw.cannot_start(HistoryUnavailable(Path("/x"), "r"), server=False), hw.whole_number_between(0, 5)]
    said += [hw.problem(ev.HistoryProblem("damaged", "d"), "/x/history.sqlite3")]
    said += [hw.problem(ev.HistoryProblem(k, "d")) for k in
             ("in-use", "unavailable", "damaged", "paused", "resumed", "save-failed")]
    for s in said:
        assert re.search("«.*»", s, re.S), s
