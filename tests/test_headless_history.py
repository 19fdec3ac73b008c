# ruff: noqa: F811  (the procs fixture is imported, then named by the tests that use it)
"""The history in the headless programs (issue 13): the options, the blocks a
script reads (``* earlier in this room:`` … ``* (live)``, ``* while you were
away:`` … ``* (live)``), /search and /save, and the real programs as processes
on 127.0.0.1 with --data-dir in the test's folder: a second server on one folder,
a damaged file, a late joiner, a client restarted, kill -9 of the server."""
from __future__ import annotations

import io
import os
import re
import signal
import threading
import time

import pytest

from chatfront import headless
from chatfront import history_wording as hw
from chatfront.commands import Save, Search, Usage, parse, perform, saved_path
from chatfront.headless import HistoryPrinter
from chatfront.options import client_history, client_parser, server_history, server_parser
from tests.test_headless import FAST, procs  # noqa: F401  (procs: the fixture)
from udpcore import events as ev
from udpnet import EventQueue
from udpnet.history import HistoryInUse, HistoryUnavailable

pytestmark = pytest.mark.timeout(90)

AT = 1796294880.0       # 2026-12-03 10:48 UTC


def hl(seq: int, text: str, sender: str = "alice", **kw) -> ev.HistoryLine:
    return ev.HistoryLine(seq=seq, at=AT + seq, sender=sender, text=text, **kw)


# --- the options ------------------------------------------------------------------------------


def test_history_options_reach_the_transports(tmp_path):
    args = server_parser().parse_args(["--data-dir", str(tmp_path), "--history-days", "7"])
    assert server_history(args) == {"history_dir": str(tmp_path / "history"), "history_days": 7.0,
                                    "keep_history": True}
    args = server_parser().parse_args([])
    assert server_history(args)["history_days"] == 30 and server_history(args)["keep_history"] is True
    assert server_history(args)["history_dir"] == os.path.join(os.environ["LANCHAT_DATA_DIR"], "history")
    args = server_parser().parse_args(["--no-history", "--data-dir", str(tmp_path)])
    assert server_history(args) == {"history_dir": None, "history_days": 30, "keep_history": False}
    args = client_parser().parse_args(["--data-dir", str(tmp_path / "c"), "--replay", "0"])
    assert client_history(args) == {"history_dir": str(tmp_path / "c" / "history"), "replay": 0}
    assert client_parser().parse_args([]).replay == 100
    assert client_parser().parse_args(["--replay", "500"]).replay == 500
    for parser in (server_parser(), client_parser()):
        assert "--data-dir" in parser.format_help()
    assert "--history-days" in server_parser().format_help() and "--replay" in client_parser().format_help()


@pytest.mark.parametrize("program, option, value, wanted", [
    ("gui_server.py", "--history-days", "0", "a number above 0"),
    ("gui_server.py", "--history-days", "-3", "a number above 0"),
    ("gui_server.py", "--history-days", "nan", "a number above 0"),
    ("gui_server.py", "--history-days", "week", "a number above 0"),
    ("gui_client.py", "--replay", "-1", "a whole number from 0 to 500"),
    ("gui_client.py", "--replay", "many", "a whole number from 0 to 500"),
    ("gui_client.py", "--replay", "2.5", "a whole number from 0 to 500"),
    ("gui_client.py", "--replay", "501", "a whole number from 0 to 500"),   # one HISTORY page at most
])
def test_a_bad_history_option_is_one_sentence_and_status_2(procs, program, option, value, wanted):
    p = procs(program, "--headless", "--server", "127.0.0.1:1", "--name", "a", option, value, stdin=b"") \
        if program == "gui_client.py" else procs(program, "--headless", option, value, stdin=b"")
    code, lines, err = p.finish()
    prog = "ChatClient" if program == "gui_client.py" else "ChatServer"
    assert code == 2 and lines == []
    assert err == f"{prog}: {option} takes {wanted}, not '{value}'.\n"


# --- the typed commands -------------------------------------------------------------------------


def test_search_and_save_are_typed_commands():
    assert parse("/search café  noir ") == Search("café  noir")
    assert parse("/SEARCH cafe") == Search("cafe")
    assert parse("/search") == Usage("/search") and parse("/search   ") == Usage("/search")
    assert parse("/save") == Usage("/save")
    assert parse("/save notes.txt") == Save("notes.txt")
    assert parse("//search cafe").text == "/search cafe"              # said, not searched
    assert saved_path("notes.txt") == os.path.abspath("notes.txt")
    assert saved_path('"my notes.txt"') == os.path.abspath("my notes.txt")
    assert saved_path("~/h.txt") == os.path.join(os.path.expanduser("~"), "h.txt")

    class Client:
        def __init__(self):
            self.calls = []

        def search(self, words):
            self.calls.append(("search", words))

        def save_history(self, path):
            self.calls.append(("save", path))
    c = Client()
    assert perform(Search("cafe"), c) is None and perform(Save("h.txt"), c) is None
    assert c.calls == [("search", "cafe"), ("save", os.path.abspath("h.txt"))]
    assert headless.history_usage(Usage("/search")) == hw.search_usage()
    assert headless.history_usage(Usage("/save")) == hw.save_usage()
    assert headless.history_usage(Usage("/msg")) is None and headless.history_usage(None) is None


# --- what the terminal prints for the history's events ------------------------------------------


def test_an_earlier_block_prints_between_its_marker_and_live():
    p = HistoryPrinter()
    block = ev.HistoryLines("earlier", (hl(1, "hi"), hl(2, "waves", action=True), hl(3, "yo", sender="bob")))
    assert p.lines(block, "carol") == ["* earlier in this room:", "alice: hi", "* alice waves", "bob: yo", "* (live)"]


def test_pages_of_a_catch_up_print_one_marker_and_one_live():
    p = HistoryPrinter()
    out = p.lines(ev.HistoryLines("missed", (hl(5, "a"), hl(6, "b")), done=False), "bob")
    out += p.lines(ev.HistoryLines("missed", (hl(7, "c"),), done=False), "bob")
    out += p.lines(ev.HistoryLines("missed", (hl(8, "d"),), done=True), "bob")
    assert out == ["* while you were away:", "alice: a", "alice: b", "alice: c", "alice: d", "* (live)"]
    # ... and the next absence opens a block of its own.
    assert p.lines(ev.HistoryLines("missed", (hl(9, "e"),)), "bob") == \
        ["* while you were away:", "alice: e", "* (live)"]


def test_lines_not_sent_are_counted_before_the_block():
    p = HistoryPrinter()
    assert p.lines(ev.HistoryLines("earlier", (hl(41, "x"),), more=40), "bob") == \
        ["* earlier in this room:", "* (40 earlier lines not shown)", "alice: x", "* (live)"]


def test_what_was_printed_before_and_empty_blocks_print_nothing():
    p = HistoryPrinter()
    assert p.lines(ev.HistoryLines("stored", (hl(1, "old"),)), "bob") == []      # printed in its own run
    assert p.lines(ev.HistoryLines("older", (hl(1, "old"),)), "bob") == []       # the windows' scrolling
    assert p.lines(ev.HistoryLines("missed", (), done=True), "bob") == []        # nothing was missed
    assert p.lines(ev.HistoryLines("earlier", (), done=False), "bob") == []
    assert p.lines(ev.HistoryLines("earlier", (hl(1, "x"),), done=False), "bob") == \
        ["* earlier in this room:", "alice: x"]
    assert p.lines(ev.HistoryLines("earlier", (), done=True), "bob") == ["* (live)"]   # the open block ends


def test_private_lines_of_the_history_say_so_as_live_ones_do():
    p = HistoryPrinter()
    block = ev.HistoryLines("missed", (hl(0, "psst", private_to="bob"), hl(0, "ok", sender="bob",
                                                                          private_to="alice")))
    assert p.lines(block, "bob")[1:3] == ["alice (private): psst", "bob (to alice): ok"]


def test_search_results_print_oldest_first_then_the_summary(monkeypatch):
    monkeypatch.setattr(hw, "stamp", lambda at: f"T{at - AT:.0f}")
    p = HistoryPrinter()
    found = ev.SearchResults("cafe", (hl(9, "café again"), hl(2, "un café")))         # newest first
    assert p.lines(found, "bob") == ["[T2] alice: un café", "[T9] alice: café again",
                                     "* 2 lines found for \u201ccafe\u201d."]
    assert p.lines(ev.SearchResults("tea", ()), "bob") == ["* No line found for \u201ctea\u201d."]


def test_other_history_events_are_notices_and_the_rest_is_not_ours():
    p = HistoryPrinter()
    assert p.lines(ev.MembersBack(150)) == ["* 150 members are back"]
    assert p.lines(ev.HistoryProblem("paused")) == ["* " + hw.problem(ev.HistoryProblem("paused"))]
    assert p.lines(ev.HistorySaved("/tmp/h.txt", 2)) == ["* Saved 2 lines to /tmp/h.txt."]
    assert p.lines(ev.RoomLine(1, "alice", "hi")) is None
    assert p.lines(ev.Connected("bob", "127.0.0.1:5002")) is None


# --- the headless client's loop, with a transport that plays a script ------------------------------


class FakeClient:
    """What run_client needs of udpnet.ClientTransport; answers /search after a while."""

    def __init__(self, opening: list[ev.Event], answer_after: float = 0.5) -> None:
        self.events: EventQueue = EventQueue()
        self.events.put_many(opening)
        self.name = "bob"
        self.not_taken = 0
        self.calls: list[tuple] = []
        self.answer_after = answer_after

    def wait_for_room(self) -> None:
        pass

    def say(self, text: str, *, action: bool = False) -> None:
        self.calls.append(("say", text))
        self.events.put(ev.RoomLine(99, self.name, text, own=True))

    def search(self, words: str) -> None:
        self.calls.append(("search", words))
        found = ev.SearchResults(words, (hl(2, "un café"),))
        threading.Timer(self.answer_after, self.events.put, (found,)).start()

    def save_history(self, path: str) -> None:
        self.calls.append(("save", path))
        threading.Timer(self.answer_after, self.events.put, (ev.HistoryProblem("save-failed", "disk full"),)).start()

    def close(self, timeout: float = 0) -> None:
        self.calls.append(("close",))
        self.events.put(ev.Closed())


def run_fake_client(monkeypatch, capsys, fake: FakeClient, typed: str, *options: str):
    started: dict = {}

    def start(server, name, **kw):
        started.update(kw, server=server, name=name)
        return fake
    monkeypatch.setattr(headless, "start_client", start)
    monkeypatch.setattr(headless, "server_or_room", lambda s, *a: s)
    monkeypatch.setattr(headless, "_on_signals", lambda stop: threading.Event())   # pytest keeps its Ctrl-C
    monkeypatch.setattr("sys.stdin", io.StringIO(typed))
    args = client_parser().parse_args(["--headless", "--server", "127.0.0.1:5002", "--name", "bob", *options])
    code = headless.run_client(args)
    out, err = capsys.readouterr()
    return code, out.splitlines(), err, started


def test_the_client_prints_the_blocks_and_passes_its_options(monkeypatch, capsys, tmp_path):
    opening = [ev.HistoryLines("stored", (hl(1, "said yesterday"),)),
               ev.Connected("bob", "127.0.0.1:5002"), ev.InRoom("r1", 3),
               ev.HistoryLines("missed", (hl(2, "while away"),), done=False),
               ev.HistoryLines("missed", (hl(3, "still away"),), done=True),
               ev.RoomLine(4, "alice", "live again"), ev.MembersBack(3)]
    code, out, err, started = run_fake_client(monkeypatch, capsys, FakeClient(opening), "",
                                              "--data-dir", str(tmp_path), "--replay", "7")
    assert code == 0, err
    assert out == ["* Connected to 127.0.0.1:5002 as bob", "* while you were away:", "alice: while away",
                   "alice: still away", "* (live)", "alice: live again", "* 3 members are back"]
    assert started["history_dir"] == str(tmp_path / "history") and started["replay"] == 7
    assert started["catch_up"] is None                    # the terminal prints every line missed


def test_the_end_of_input_waits_for_the_answers_to_search_and_save(monkeypatch, capsys, tmp_path):
    fake = FakeClient([ev.Connected("bob", "127.0.0.1:5002"), ev.InRoom("r1", 0)], answer_after=0.8)
    code, out, err, _s = run_fake_client(monkeypatch, capsys, fake, "/search cafe\n/save h.txt\n/search\n/save\n")
    assert fake.calls[:2] == [("search", "cafe"), ("save", os.path.abspath("h.txt"))]
    assert fake.calls[-1] == ("close",)                   # closed only once both were answered
    assert code == 0, err
    assert out[0] == "* Connected to 127.0.0.1:5002 as bob"
    assert set(out[1:]) >= {"* " + hw.search_usage(), "* " + hw.save_usage(),
                            "* 1 line found for \u201ccafe\u201d.",
                            "* " + hw.problem(ev.HistoryProblem("save-failed", "disk full"))}
    assert re.fullmatch(r"\[\d{4}-\d\d-\d\d \d\d:\d\d\] alice: un café", out[out.index(
        "* 1 line found for \u201ccafe\u201d.") - 1])


def test_a_client_whose_history_cannot_open_says_so_once(monkeypatch, capsys, tmp_path):
    def refuse(*a, **kw):
        raise HistoryUnavailable(tmp_path / "history", "Permission denied")
    monkeypatch.setattr(headless, "start_client", refuse)
    monkeypatch.setattr(headless, "server_or_room", lambda s, *a: s)
    args = client_parser().parse_args(["--headless", "--server", "127.0.0.1:5002", "--name", "bob"])
    assert headless.run_client(args) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and err.startswith("ChatClient: The history folder ")
    assert "Permission denied" in err


def test_the_server_refused_its_history_folder_is_one_sentence_and_status_1(monkeypatch, capsys, tmp_path):
    for exc, words in ((HistoryInUse(tmp_path / "history" / "room"), "Another chat program"),
                       (HistoryUnavailable(tmp_path / "history" / "room", "Read-only file system"),
                        "Read-only file system")):
        def refuse(*a, **kw):
            raise exc
        monkeypatch.setattr(headless, "start_server", refuse)
        monkeypatch.setattr("sys.stdin", io.StringIO(""))
        args = server_parser().parse_args(["--headless", "--data-dir", str(tmp_path)])
        assert headless.run_server(args) == 1
        out, err = capsys.readouterr()
        assert out == "" and err.count("\n") == 1 and err.startswith("ChatServer: ") and words in err
        assert str(tmp_path / "history" / "room") in err


# --- the real programs ----------------------------------------------------------------------------
# These need the core's history (udpcore + udpnet, issue 13).

STAMP = r"\[\d{4}-\d\d-\d\d \d\d:\d\d\]"


def start_server(procs, data, *more: str, port: int = 0):
    srv = procs("gui_server.py", "--headless", "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(data),
                *FAST, *more)
    srv.port = int(srv.expect(r"listening on 127\.0\.0\.1:(\d+)").group(1))
    return srv


def member(procs, port: int, name: str, data, *more: str, stdin: bytes | None = None):
    return procs("gui_client.py", "--headless", "--server", f"127.0.0.1:{port}", "--name", name,
                 "--data-dir", str(data), *more, stdin=stdin)


def joined(procs, srv, name: str, data, *more: str):
    c = member(procs, srv.port, name, data, *more)
    c.expect(rf"Connected to 127\.0\.0\.1:\d+ as {name}")
    srv.expect(rf"^\* {name} joined from")
    return c


def block(lines: list[str], marker: str) -> list[str]:
    """The lines printed between ``marker`` and the next ``* (live)``."""
    start = lines.index(marker)
    return lines[start + 1:lines.index("* (live)", start)]


def test_a_second_server_on_the_same_data_folder_is_refused(procs, tmp_path):
    first = start_server(procs, tmp_path / "srv")
    second = procs("gui_server.py", "--headless", "--host", "127.0.0.1", "--port", "0",
                   "--data-dir", str(tmp_path / "srv"), stdin=b"")
    code, lines, err = second.finish()
    assert code == 1 and "Traceback" not in err
    assert err.count("\n") == 1 and err.startswith("ChatServer: Another chat program is already using")
    assert str(tmp_path / "srv" / "history") in err and not any("listening" in ln for ln in lines)
    first.send("still here")                                    # the first is untouched
    first.expect(r"^server: still here$")
    # --no-history keeps nothing on disk: a second room on the folder may run (memory only).
    third = start_server(procs, tmp_path / "srv", "--no-history")
    third.expect(re.escape("* " + hw.no_history()))


def test_a_damaged_history_file_is_moved_aside_and_the_room_starts(procs, tmp_path):
    room = tmp_path / "srv" / "history" / "room"
    room.mkdir(parents=True)
    (room / "history.sqlite3").write_bytes(b"this is not a database\n" * 200)
    srv = start_server(procs, tmp_path / "srv")
    moved = srv.expect(rf"^\* The history file was damaged; it was moved aside to ({re.escape(str(room))}/"
                       r"history\.sqlite3\.corrupt-[\d-]+) and a new history started\.$").group(1)
    assert open(moved, "rb").read().startswith(b"this is not a database")      # kept, where it says
    alice = joined(procs, srv, "alice", tmp_path / "a")
    alice.send("after the damage")
    srv.expect(r"^alice: after the damage$")
    assert not any("Traceback" in ln for ln in srv.lines)


def test_a_late_joiner_sees_the_last_lines_between_the_markers(procs, tmp_path):
    srv = start_server(procs, tmp_path / "srv")
    alice = joined(procs, srv, "alice", tmp_path / "a")
    bob = joined(procs, srv, "bob", tmp_path / "b")
    for text in ("one", "two", "/me waves", "/msg bob a secret", "three"):
        alice.send(text)
    alice.expect(r"^alice: three$")
    bob.expect(r"^alice: three$")
    carol = joined(procs, srv, "carol", tmp_path / "c", "--replay", "3")
    carol.expect(r"^\* \(live\)$")
    lines = carol.lines
    connected = next(i for i, ln in enumerate(lines) if ln.startswith("* Connected"))
    assert lines.index("* earlier in this room:") > connected
    # the last 3 room lines, the one before them counted; the private line is never shown to a third member
    assert block(lines, "* earlier in this room:") == ["* (1 earlier line not shown)", "alice: two",
                                                       "* alice waves", "alice: three"]
    assert not any("secret" in ln for ln in lines)
    alice.send("live now")
    carol.expect(r"^alice: live now$")
    assert lines.count("* (live)") == 1


def test_replay_0_shows_a_new_member_nothing_earlier(procs, tmp_path):
    srv = start_server(procs, tmp_path / "srv")
    alice = joined(procs, srv, "alice", tmp_path / "a")
    alice.send("before dave")
    srv.expect(r"^alice: before dave$")
    dave = joined(procs, srv, "dave", tmp_path / "d", "--replay", "0")
    alice.send("after dave")
    dave.expect(r"^alice: after dave$")
    assert "* earlier in this room:" not in dave.lines and not any("before dave" in ln for ln in dave.lines)


def test_a_client_restarted_on_its_data_folder_prints_only_what_it_lacks(procs, tmp_path):
    srv = start_server(procs, tmp_path / "srv")
    alice = joined(procs, srv, "alice", tmp_path / "a")
    alice.send("first 1")
    alice.send("first 2")
    alice.expect(r"^alice: first 2$")
    bob = joined(procs, srv, "bob", tmp_path / "b")
    bob.expect(r"^\* \(live\)$")                          # first time: the room's last lines
    assert block(bob.lines, "* earlier in this room:") == ["alice: first 1", "alice: first 2"]
    alice.send("seen 3")
    bob.expect(r"^alice: seen 3$")
    code, _, err = bob.finish()
    assert code == 0, err
    srv.expect(r"^\* bob left$")
    for text in ("away 4", "away 5", "/me away 6"):
        alice.send(text)
    alice.expect(r"^\* alice away 6$")
    again = joined(procs, srv, "bob", tmp_path / "b")
    again.expect(r"^\* \(live\)$")
    assert block(again.lines, "* while you were away:") == ["alice: away 4", "alice: away 5", "* alice away 6"]
    assert "* earlier in this room:" not in again.lines
    assert not any(("first" in ln or "seen 3" in ln) for ln in again.lines)   # printed by the first run
    alice.send("live 7")
    again.expect(r"^alice: live 7$")
    assert [ln for ln in again.lines if ln.startswith("alice")].count("alice: away 4") == 1


def test_two_names_on_one_data_folder_keep_their_own_copies(procs, tmp_path):
    """Several people (or names) on one computer and one folder: no clash, no mixing."""
    shared = tmp_path / "shared"
    srv = start_server(procs, tmp_path / "srv")
    alice = joined(procs, srv, "alice", shared)
    bob = joined(procs, srv, "bob", shared)
    alice.send("to everyone")
    bob.expect(r"^alice: to everyone$")
    code, _, err = bob.finish()
    assert code == 0, err
    alice.send("while bob is away")
    alice.expect(r"^alice: while bob is away$")
    again = joined(procs, srv, "bob", shared)
    again.expect(r"^\* \(live\)$")
    assert block(again.lines, "* while you were away:") == ["alice: while bob is away"]
    assert not any("HistoryInUse" in ln or "Another chat program" in ln for ln in alice.lines + again.lines)


def test_search_finds_words_without_their_accents(procs, tmp_path):
    srv = start_server(procs, tmp_path / "srv")
    alice = joined(procs, srv, "alice", tmp_path / "a")
    for text in ("un café noir", "a tea", "Ação rápida", "CAFÉ again"):
        alice.send(text)
    alice.expect(r"^alice: CAFÉ again$")
    srv.expect(r"^alice: CAFÉ again$")
    alice.send("/search cafe")
    alice.expect(r"^\* 2 lines found for “cafe”\.$")
    found = alice.lines[alice.lines.index("* 2 lines found for “cafe”.") - 2:][:2]
    assert re.fullmatch(STAMP + r" alice: un café noir", found[0])          # oldest first, newest last
    assert re.fullmatch(STAMP + r" alice: CAFÉ again", found[1])
    alice.send("/search acao")
    alice.expect(STAMP + r" alice: Ação rápida$")
    alice.send("/search nothing like this")
    alice.expect(r"^\* No line found for “nothing like this”\.$")
    alice.send("/search")
    alice.expect(re.escape("* " + hw.search_usage()))
    srv.send("/search CAFE")                                   # the server's console searches too
    srv.expect(r"^\* 2 lines found for “CAFE”\.$")
    assert any(re.fullmatch(STAMP + r" alice: un café noir", ln) for ln in srv.lines)
    assert not any("/search" in ln for ln in alice.lines if ln.startswith("alice:"))   # never said to the room


def test_a_script_piping_search_gets_its_answer_before_leaving(procs, tmp_path):
    srv = start_server(procs, tmp_path / "srv")
    alice = joined(procs, srv, "alice", tmp_path / "a")
    alice.send("un café noir")
    srv.expect(r"^alice: un café noir$")
    script = member(procs, srv.port, "script", tmp_path / "s", stdin="/search cafe\n".encode())
    code, lines, err = script.finish()
    assert code == 0, err
    assert "* 1 line found for “cafe”." in lines


def test_save_writes_the_history_to_a_file(procs, tmp_path):
    srv = start_server(procs, tmp_path / "srv")
    alice = joined(procs, srv, "alice", tmp_path / "a")
    alice.send("kept line")
    alice.send("/me keeps another")
    alice.expect(r"^\* alice keeps another$")
    out = tmp_path / "saved by alice.txt"
    alice.send(f'/save "{out}"')
    alice.expect(rf"^\* Saved \d+ lines? to {re.escape(str(out))}\.$")
    text = out.read_text(encoding="utf-8")
    assert "kept line" in text and "keeps another" in text
    srv_out = tmp_path / "server.txt"
    srv.send(f"/save {srv_out}")
    srv.expect(rf"^\* Saved \d+ lines? to {re.escape(str(srv_out))}\.$")
    assert "kept line" in srv_out.read_text(encoding="utf-8")
    alice.send(f"/save {tmp_path / 'no such folder' / 'x.txt'}")
    alice.expect(r"^\* The history could not be saved: .+\.$")


def _own(lines: list[str], who: str) -> list[str]:
    return [ln for ln in lines if ln.startswith(f"{who}: ")]


BURST = 1500


def _kill_9_mid_burst(procs, tmp_path) -> dict:
    """A sender pipes 1,500 lines; the server is killed (SIGKILL) once 300 were
    acknowledged (echoed to the sender) and restarted on the same port and data
    folder. Returns what each program printed and what the store holds."""
    from udpnet.history import HistoryStore
    srv = start_server(procs, tmp_path / "srv")
    port = srv.port
    watcher = joined(procs, srv, "watcher", tmp_path / "w")
    payload = "".join(f"burst {i}\n" for i in range(BURST)).encode()
    sender = member(procs, port, "sender", tmp_path / "s", stdin=payload)
    sender.expect(r"^sender: burst 299$", timeout=30)
    srv.p.send_signal(signal.SIGKILL)
    srv.p.wait(timeout=10)
    seen_before = _own(sender.lines, "sender")
    time.sleep(1.0)                                           # the room is down a moment
    again = start_server(procs, tmp_path / "srv", port=port)
    code, lines, err = sender.finish(timeout=90)
    watcher.expect(rf"^sender: burst {BURST - 1}$", timeout=60)
    if "* while you were away:" in watcher.lines:
        watcher.expect(r"^\* \(live\)$")
    again.send("exit")
    again.send("exit")
    again.finish()
    with HistoryStore.open(tmp_path / "srv" / "history" / "room", now=time.time()) as store:
        stored = store.last(5000)
    return {"seen_before": seen_before, "sender": lines, "code": code, "err": err,
            "watcher": list(watcher.lines), "stored": stored}


@pytest.mark.timeout(150)
def test_kill_9_of_the_server_mid_burst_loses_no_acknowledged_line(procs, tmp_path):
    """Every line the sender saw acknowledged reaches the watcher, in order, live or
    caught up, and is in the store; the room's numbering continues without a gap."""
    run = _kill_9_mid_burst(procs, tmp_path)
    got = list(dict.fromkeys(_own(run["watcher"], "sender")))          # first time each was printed
    assert got == [f"sender: burst {i}" for i in range(BURST)], "a line lost or out of order"
    assert set(run["seen_before"]) <= set(got)
    assert "* Reconnected and joined the room again" in run["watcher"]
    if "* while you were away:" in run["watcher"]:             # what was said while it rejoined, then live
        assert run["watcher"].index("* (live)") > run["watcher"].index("* while you were away:")
    seqs = [s.seq for s in run["stored"]]
    assert seqs == list(range(1, len(seqs) + 1)), "the room's numbering has a gap or restarted"
    assert list(dict.fromkeys(s.text for s in run["stored"] if s.sender == "sender")) == \
        [f"burst {i}" for i in range(BURST)]


@pytest.mark.timeout(150)
def test_kill_9_of_the_server_mid_burst_prints_every_line_once_and_the_sender_ends_well(procs, tmp_path):
    """Every line is printed once over the life of a data folder, and a sender whose
    every line was delivered ends with status 0. Open in the core (see the report):
    lines the dying server had stored but not yet acknowledged are sent again on the
    new session and stored a second time (32 twice, the window in flight); lines it had
    acknowledged but not yet echoed stay LinePending for ever ("N lines you typed were
    not delivered", status 1)."""
    run = _kill_9_mid_burst(procs, tmp_path)
    texts = [s.text for s in run["stored"] if s.sender == "sender"]
    assert len(texts) == len(set(texts)), f"{len(texts) - len(set(texts))} lines stored twice"
    got = _own(run["watcher"], "sender")
    assert len(got) == len(set(got)), f"{len(got) - len(set(got))} lines printed twice"
    own = _own(run["sender"], "sender")
    wanted = [f"sender: burst {i}" for i in range(BURST)]
    assert own == wanted, (f"the sender printed {len(own) - len(set(own))} of its lines twice, "
                           f"{len(set(wanted) - set(own))} never; {run['err']}")
    assert run["code"] == 0, run["err"]


@pytest.mark.timeout(90)
def test_members_back_after_a_restart_are_one_line(procs, tmp_path):
    """After kill -9 and a restart, the members who come back are told as one line
    ("2 members are back"), not a "joined" each, however long each takes to notice:
    here alice speaks at once (she notices the restart at once), bob stays idle."""
    srv = start_server(procs, tmp_path / "srv")
    alice = joined(procs, srv, "alice", tmp_path / "a")
    bob = joined(procs, srv, "bob", tmp_path / "b")
    alice.send("before")
    bob.expect(r"^alice: before$")
    srv.p.send_signal(signal.SIGKILL)
    srv.p.wait(timeout=10)
    again = start_server(procs, tmp_path / "srv", port=srv.port)
    alice.send("after")
    bob.expect(r"^alice: after$", timeout=30)
    again.expect(r"^\* \d+ members? (is|are) back$", timeout=20)
    for who in (alice, bob):
        who.expect(r"^\* 2 members are back$", timeout=10)
    assert not any("joined" in ln for ln in again.lines), again.lines


def test_the_clients_a_server_opens_keep_their_history_in_its_data_folder(tmp_path):
    import json
    import sys
    from chatfront.launch import open_clients
    out = tmp_path / "seen.json"
    program = [sys.executable, "-c", f"import json, sys; json.dump(sys.argv, open({str(out)!r}, 'w'))"]
    (p,) = open_clients(("ana",), ("127.0.0.1", 5002), program, data_dir=str(tmp_path / "portable"))
    assert p.wait(timeout=20) == 0
    assert json.loads(out.read_text())[1:] == ["--server", "127.0.0.1:5002", "--name", "ana",
                                               "--data-dir", str(tmp_path / "portable")]
    (p,) = open_clients(("ana",), ("127.0.0.1", 5002), program)           # none given: theirs
    assert p.wait(timeout=20) == 0
    assert "--data-dir" not in json.loads(out.read_text())


def test_a_search_typed_while_joining_waits_for_the_replay(monkeypatch, capsys):
    """The client searches its own copy: a script's first line, /search, waits until
    what the room sends on joining (here a replay in two pages) is in."""
    fake = FakeClient([ev.Connected("bob", "127.0.0.1:5002"), ev.InRoom("r1", 2),
                       ev.HistoryLines("earlier", (hl(1, "un café"),), done=False)])
    searched_after: list[bool] = []
    last_page = ev.HistoryLines("earlier", (hl(2, "thé"),), done=True)

    def finish_replay() -> None:
        fake.replayed = True
        fake.events.put(last_page)
    fake.replayed = False
    threading.Timer(0.6, finish_replay).start()
    search = fake.search
    fake.search = lambda words: (searched_after.append(fake.replayed), search(words))
    code, out, err, _s = run_fake_client(monkeypatch, capsys, fake, "/search cafe\n")
    assert code == 0, err
    assert searched_after == [True]
    assert out[:4] == ["* Connected to 127.0.0.1:5002 as bob", "* earlier in this room:", "alice: un café",
                       "alice: thé"]
    assert "* (live)" in out and out[-1] == "* 1 line found for \u201ccafe\u201d."


def test_a_search_typed_while_joining_a_room_with_nothing_to_send_waits_a_moment(monkeypatch, capsys):
    fake = FakeClient([ev.Connected("bob", "127.0.0.1:5002"), ev.InRoom("r1", 0)], answer_after=0.1)
    started = time.monotonic()
    code, out, err, _s = run_fake_client(monkeypatch, capsys, fake, "/search cafe\n")
    assert code == 0, err
    assert out[-1] == "* 1 line found for \u201ccafe\u201d."
    assert headless.SETTLE <= time.monotonic() - started < headless.SETTLE + 3
