"""The windows' side of the room's history (issue 13), under Xvfb: blocks of
past lines, older pages above, search (Ctrl+F), Save history as…, and a room
that closes and opens again. Fake transports give the events the core gives
and record what the windows ask; the last tests use real ones on loopback."""
from __future__ import annotations

import queue
import time

import pytest

from chatfront import history_wording as hw
from udpcore import events as ev
from tests.conftest import pump

pytestmark = [pytest.mark.gui, pytest.mark.timeout(60)]

MON = time.mktime((2026, 11, 30, 9, 15, 0, 0, 0, -1))       # Monday 30 November 2026, 09:15
TUE = time.mktime((2026, 12, 1, 10, 48, 0, 0, 0, -1))       # Tuesday 1 December, 10:48


def line(seq: int, text: str, at: float, sender: str = "bob", **kw) -> ev.HistoryLine:
    return ev.HistoryLine(seq, at, sender, text, **kw)


def page(first: int, last: int, at: float, sender: str = "bob") -> tuple[ev.HistoryLine, ...]:
    return tuple(line(s, f"line {s}", at + s) for s in range(first, last + 1))


class FakeClient:
    """The client transport's API, recording the history calls."""

    def __init__(self, server: str, name: str) -> None:
        self.events: queue.Queue[ev.Event] = queue.Queue()
        self.server_label, self.name = server, name
        self.calls: list[tuple] = []

    def __getattr__(self, method: str):
        if method in ("say", "private", "nick", "who", "load_older", "search", "save_history", "rejoin"):
            return lambda *a, **kw: self.calls.append((method, *a))
        raise AttributeError(method)

    def close(self, timeout: float = 5.0, wait: bool = True) -> None:
        self.calls.append(("close",))
        self.events.put(ev.Closed())

    def count(self, method: str) -> int:
        return sum(1 for c in self.calls if c[0] == method)


def put(app, fake, *events: ev.Event) -> None:
    """Hand events to the window as the poller does: one batch."""
    for e in events:
        fake.events.put(e)
    pump(app.root, lambda: fake.events.empty(), what="the batch taken")
    app.root.update()


@pytest.fixture
def chat(tk_root):
    from chatui.client_window import ClientApp
    made: list[FakeClient] = []

    def start(server: str, name: str) -> FakeClient:
        made.append(FakeClient(server, name))
        return made[-1]
    app = ClientApp(tk_root, tk_root._palette, "127.0.0.5:5002", "alice", start=start)
    return app, made[0]


def connect(app, fake, *before: ev.Event) -> None:
    put(app, fake, *before, ev.Connected("alice", "127.0.0.5:5002"), ev.MemberList(("alice", "bob")))
    pump(app.root, lambda: app.view is not None and app.view.members.names() == ["alice", "bob"], what="view")


def text(app) -> str:
    return app.view.history.content()


def tags_at(app, needle: str) -> tuple[str, ...]:
    t = app.view.history.text
    return t.tag_names(t.search(needle, "1.0"))


# --- blocks -----------------------------------------------------------------------------------


def test_the_stored_copy_shows_dimmed_with_heading_and_days_and_an_overlapping_replay_adds_no_twin(tk_root, chat):
    app, fake = chat
    stored = ev.HistoryLines("stored", (line(1, "monday morning", MON), line(2, "tuesday first", TUE),
                                        line(3, "tuesday second", TUE + 60, sender="alice")))
    connect(app, fake, stored)            # the stored copy came before the room answered: shown once it did
    fake.events.put(ev.HistoryLines("earlier", (line(2, "tuesday first", TUE), line(3, "tuesday second", TUE + 60),
                                                line(4, "tuesday third", TUE + 120))))
    fake.events.put(ev.RoomLine(4, "bob", "tuesday third", at=TUE + 120))     # and live again: still once
    fake.events.put(ev.RoomLine(5, "bob", "live now", at=TUE + 180))
    pump(tk_root, lambda: "live now" in text(app), what="lines")
    shown = text(app).splitlines()
    assert shown[:7] == [hw.earlier_heading(), hw.day(MON), "09:15  bob: monday morning", hw.day(TUE),
                         "10:48  bob: tuesday first", "10:49  alice: tuesday second", "10:50  bob: tuesday third"]
    assert shown[7] == "10:51  bob: live now" and len(shown) == 8
    assert "dim" in tags_at(app, "monday morning") and "dim" not in tags_at(app, "live now")
    assert "day" in tags_at(app, hw.day(TUE)) and "heading" in tags_at(app, hw.earlier_heading())
    assert app.view.history.text.cget("state") == "disabled"


def test_the_stored_conversation_shows_before_the_room_answers_and_a_failed_join_goes_back_to_the_form(
        tk_root, chat):
    from udpcore import NameTaken
    app, fake = chat
    put(app, fake, ev.HistoryLines("stored", page(1, 3, TUE)))
    assert app.view is not None and "bob: line 3" in text(app) and not app.form.winfo_manager()
    assert app.view.status.get() == "Connecting to 127.0.0.5:5002…"
    assert str(app.view.entry.entry.cget("state")) == "disabled" and app.view.members.tree.instate(["disabled"])
    put(app, fake, ev.JoinRefused(NameTaken("alice")))
    assert app.view is None and app.form.winfo_manager()
    assert app.form.message.cget("text") == "The name alice is already taken in this room; choose another."


def test_the_stored_conversation_stays_when_the_join_works(tk_root, chat):
    app, fake = chat
    put(app, fake, ev.HistoryLines("stored", page(1, 3, TUE)))
    view = app.view
    connect(app, fake)
    assert app.view is view and app.form is None and text(app).count("bob: line 3") == 1
    assert str(app.view.entry.entry.cget("state")) == "normal" and not app.view.members.tree.instate(["disabled"])
    assert app.view.status.get() == "Connected to 127.0.0.5:5002 as alice"


def test_a_missed_block_has_its_heading_is_not_dimmed_and_says_what_is_not_shown(tk_root, chat):
    app, fake = chat
    connect(app, fake)
    put(app, fake, ev.RoomLine(10, "bob", "before the drop", at=TUE))
    put(app, fake, ev.ConnectionLost(), ev.Reconnected(resumed=False),
        ev.HistoryLines("missed", page(511, 512, TUE + 60), more=500))
    shown = text(app).splitlines()
    at = shown.index(hw.missed_heading(TUE + 60 + 511, TUE + 60 + 512))
    assert shown[at - 1] == "\u2191 " + hw.more_lines(500)                   # above the block
    assert shown[at + 1].endswith("bob: line 511") and shown[at + 2].endswith("bob: line 512")
    tags = tags_at(app, "line 511")
    assert "missed" in tags and "dim" not in tags
    assert "missedhead" in tags_at(app, "While you were away")
    fake.events.put(ev.HistoryLines("missed", (), more=0))
    pump(tk_root, lambda: hw.nothing_missed() in text(app), what="nothing missed")


def test_the_missed_heading_spans_every_page_of_a_catch_up(tk_root, chat):
    app, fake = chat
    connect(app, fake)
    put(app, fake, ev.HistoryLines("missed", page(1, 3, TUE), done=False), ev.HistoryLines("missed", page(4, 6, TUE)))
    assert text(app).count("While you were away") == 1
    assert hw.missed_heading(TUE + 1, TUE + 6) in text(app)


def test_scrolling_to_the_top_loads_an_older_page_once_and_it_goes_above_keeping_the_view(tk_root, chat):
    app, fake = chat
    connect(app, fake)
    put(app, fake, ev.HistoryLines("earlier", page(301, 400, TUE), more=300))
    pane = app.view.history
    assert text(app).splitlines()[0] == "\u2191 " + hw.more_lines(300)
    pane.text.yview_moveto(0.0)
    tk_root.update()
    pane.text.event_generate("<Button-4>")                  # the wheel, once more, at the top
    tk_root.update()
    assert fake.count("load_older") == 1                    # asked once, not again until the page came
    top = pane.text.index("@0,0")
    put(app, fake, ev.HistoryLines("older", page(201, 300, TUE), more=200))
    shown = text(app).splitlines()
    assert shown[0] == "\u2191 " + hw.more_lines(200) and shown[1] == hw.earlier_heading()
    assert shown.count(hw.earlier_heading()) == 1 and shown.count(hw.day(TUE)) == 1   # one day: one separator
    assert shown[3].endswith("line 201") and shown[102].endswith("line 300") and shown[103].endswith("line 301")
    first_seen = pane.text.get(pane.text.index("@0,0"), pane.text.index("@0,0") + " lineend")
    assert "line 301" in first_seen and top != pane.text.index("@0,0")   # where the reader was: line 301
    pane.text.yview_moveto(0.0)
    tk_root.update()
    pane.text.event_generate("<Button-4>")
    tk_root.update()
    assert fake.count("load_older") == 2
    put(app, fake, ev.HistoryLines("older", page(1, 200, MON), more=0))
    shown = text(app).splitlines()
    assert hw.more_lines(200) not in text(app) and shown[0] == hw.earlier_heading() and shown[1] == hw.day(MON)
    assert shown.count(hw.day(TUE)) == 1 and len([s for s in shown if "bob: line" in s]) == 400
    pane.text.yview_moveto(0.0)
    tk_root.update()
    pane.text.event_generate("<Button-4>")
    tk_root.update()
    assert fake.count("load_older") == 2                    # line 1 is shown: nothing older to ask for


def test_the_first_layout_is_not_the_reader_scrolling_up(tk_root, chat):
    app, fake = chat
    put(app, fake, ev.Connected("alice", "127.0.0.5:5002"), ev.HistoryLines("earlier", page(301, 400, TUE), more=300))
    deadline = time.monotonic() + 0.5
    while time.monotonic() < deadline:
        tk_root.update()
    assert app.view.history.at_bottom() and fake.count("load_older") == 0


def test_an_older_page_fills_the_gap_above_a_catch_up_under_its_heading(tk_root, chat):
    app, fake = chat
    connect(app, fake, ev.HistoryLines("stored", page(1, 5, TUE)))
    put(app, fake, ev.Reconnected(resumed=False), ev.HistoryLines("missed", page(11, 12, TUE), more=5))
    app.view.history.insert_older(ev.HistoryLines("older", page(6, 10, TUE), more=0))
    shown = text(app).splitlines()
    heading = next(i for i, s in enumerate(shown) if s.startswith("While you were away"))
    assert [s.rsplit(" ", 1)[1] for s in shown[heading + 1:heading + 8]] == [str(n) for n in range(6, 13)]
    assert all("line 5" not in s for s in shown[heading:]) and hw.more_lines(5) not in text(app)
    assert "missed" in tags_at(app, "line 6") and "dim" not in tags_at(app, "line 6")
    assert shown[heading] == hw.missed_heading(TUE + 6, TUE + 12)


def test_an_empty_older_page_means_nothing_older_and_the_marker_goes(tk_root, chat):
    app, fake = chat
    connect(app, fake, ev.HistoryLines("stored", page(50, 60, TUE), more=49))
    t = app.view.history.text
    x, y, _w, h = t.bbox(t.search(hw.more_lines(49), "1.0"))
    t.event_generate("<Motion>", x=x + 5, y=y + h // 2)
    t.event_generate("<ButtonRelease-1>", x=x + 5, y=y + h // 2)        # the marker is a link too
    assert fake.count("load_older") == 1
    app.load_older()
    assert fake.count("load_older") == 1
    put(app, fake, ev.HistoryLines("older", (), more=0))
    assert hw.more_lines(49) not in text(app)
    app.load_older()
    assert fake.count("load_older") == 1 and not app.view.history.may_have_older()


def test_a_live_line_shows_the_server_time_and_a_new_day_gets_a_separator(tk_root, chat):
    app, fake = chat
    connect(app, fake)
    put(app, fake, ev.RoomLine(1, "bob", "late monday", at=MON + 14 * 3600),
        ev.RoomLine(2, "bob", "early tuesday", at=TUE))
    shown = text(app).splitlines()
    assert shown == ["23:15  bob: late monday", hw.day(TUE), "10:48  bob: early tuesday"]


def test_our_own_line_echoed_then_in_a_catch_up_stays_one_line(tk_root, chat):
    app, fake = chat
    connect(app, fake)
    put(app, fake, ev.LinePending(1, "mine"))
    put(app, fake, ev.RoomLine(7, "alice", "mine", own=True, msg_id=1, at=TUE))
    put(app, fake, ev.HistoryLines("missed", (line(7, "mine", TUE, sender="alice"), line(8, "theirs", TUE))))
    assert text(app).count("mine") == 1 and "alice: mine ✓" in text(app) and "bob: theirs" in text(app)


# --- search --------------------------------------------------------------------------------------


def test_ctrl_f_searches_and_a_result_jumps_to_its_line_in_context(tk_root, chat):
    app, fake = chat
    connect(app, fake, ev.HistoryLines("stored", page(1, 200, TUE)))
    bar = app.view.search
    assert not bar.is_open
    app.view.entry.entry.focus_force()
    tk_root.update()
    app.view.entry.entry.event_generate("<Control-f>")
    tk_root.update()
    assert bar.is_open and tk_root.focus_get() is bar.entry
    bar.var.set("cafe")
    bar.entry.event_generate("<Return>")
    assert fake.calls[-1] == ("search", "cafe")
    found = (line(20, "un café ?", TUE + 20), line(3, "le café", TUE + 3), line(900000, "café old", MON))
    put(app, fake, ev.SearchResults("cafe", found))
    assert bar.summary.cget("text") == "3 lines found for \u201ccafe\u201d."
    assert bar.list.get(0, "end") == tuple(hw.search_line(x) for x in found)
    assert bar.choose(0) is True                           # line 20 is in the pane: shown, highlighted
    pane = app.view.history.text
    tk_root.update()
    ranges = pane.tag_ranges("found")
    assert ranges and pane.get(*ranges).strip().endswith("bob: line 20")
    assert pane.bbox(ranges[0]) is not None                # scrolled into view
    assert bar.choose(2) is False                          # not in the pane: highlighted in the list
    assert str(bar.list.itemcget(2, "foreground")) == tk_root._palette.accent
    assert not pane.tag_ranges("found")
    bar.entry.focus_force()
    bar.entry.event_generate("<Escape>")
    tk_root.update()
    assert not bar.is_open and tk_root.focus_get() is app.view.entry.entry


def test_no_result_is_one_sentence_and_no_list(tk_root, chat):
    app, fake = chat
    connect(app, fake)
    app.view.search_button.invoke()
    put(app, fake, ev.SearchResults("zebra", ()))
    assert app.view.search.summary.cget("text") == hw.search_summary(ev.SearchResults("zebra", ()))
    assert not app.view.search.list_frame.winfo_manager()


# --- saving, problems, members back ----------------------------------------------------------------


def test_save_history_asks_where_then_the_transport_saves_and_says_so(tk_root, chat, monkeypatch, tmp_path):
    from tkinter import filedialog
    app, fake = chat
    connect(app, fake)
    asked: list[dict] = []
    answers = iter([str(tmp_path / "room.txt"), ""])
    monkeypatch.setattr(filedialog, "asksaveasfilename", lambda **kw: (asked.append(kw), next(answers))[1])
    app.view.save_button.invoke()
    assert fake.calls[-1] == ("save_history", str(tmp_path / "room.txt"))
    assert asked[0]["title"] == hw.save_history_title() and asked[0]["initialfile"].endswith(".txt")
    app.view.entry.entry.focus_force()
    tk_root.update()
    app.view.entry.entry.event_generate("<Control-s>")      # the same dialog; cancelled: nothing saved
    assert len(asked) == 2 and fake.count("save_history") == 1
    put(app, fake, ev.HistorySaved(str(tmp_path / "room.txt"), 42),
        ev.HistoryProblem("save-failed", "No space left on device"), ev.MembersBack(150),
        ev.HistoryProblem("paused"))
    assert hw.saved(ev.HistorySaved(str(tmp_path / "room.txt"), 42)) in text(app)
    assert "The history could not be saved: No space left on device." in text(app)
    assert "error" in tags_at(app, "could not be saved")
    assert text(app).count("150 members are back") == 1
    assert hw.problem(ev.HistoryProblem("paused")) in text(app)


# --- the room closes and opens again -----------------------------------------------------------------


def test_a_closed_room_greys_the_list_keeps_the_history_and_join_again_rejoins(tk_root, chat):
    app, fake = chat
    connect(app, fake, ev.HistoryLines("stored", page(1, 60, MON)))
    put(app, fake, ev.RoomLine(61, "bob", "said before", at=TUE))
    assert app.view.history.at_bottom() and app.view.history.text.yview()[0] > 0
    put(app, fake, ev.ServerClosed("The server closed the room."))
    assert "said before" in text(app)
    assert "The server closed the room." in text(app)
    assert app.closed_bar.label.cget("text") == hw.room_closed_waiting()
    assert app.view.status.get() == "Server closed — 127.0.0.5:5002 is no longer serving this room"
    assert str(app.view.entry.entry.cget("state")) == "disabled"
    tree = app.view.members.tree
    assert tree.instate(["disabled"]) and all(list(tree.item(i, "tags")) == ["off"] for i in tree.get_children())
    bar = app.closed_bar
    assert app.view.history.at_bottom()                      # the bar took room: the last lines stay in view
    assert bar is not None and bar.button.cget("text") == hw.join_again() and bar.button.winfo_manager()
    bar.button.invoke()
    bar.button.invoke()                                      # a second click at once: one try
    assert fake.count("rejoin") == 1
    put(app, fake, ev.Reconnected(resumed=False), ev.MemberList(("alice", "bob", "carol")))
    assert app.closed_bar is None and not bar.winfo_exists()
    assert str(app.view.entry.entry.cget("state")) == "normal" and not tree.instate(["disabled"])
    assert app.view.members.names() == ["alice", "bob", "carol"]
    assert app.view.status.get() == "Connected to 127.0.0.5:5002 as alice"
    assert "said before" in text(app)


def test_the_transport_stopping_after_the_room_closed_takes_join_again_away(tk_root, chat):
    app, fake = chat
    connect(app, fake)
    put(app, fake, ev.ServerClosed(), ev.Closed())
    assert app.closed_bar is None and str(app.view.entry.entry.cget("state")) == "disabled"


# --- the server window ---------------------------------------------------------------------------------


class FakeServer:
    def __init__(self) -> None:
        self.events: queue.Queue[ev.Event] = queue.Queue()
        self.address = ("127.0.0.1", 5002)
        self.calls: list[tuple] = []

    def search(self, words: str) -> None:
        self.calls.append(("search", words))

    def save_history(self, path: str) -> None:
        self.calls.append(("save_history", path))

    def close(self, timeout: float = 2.0, wait: bool = True) -> None:
        self.events.put(ev.Closed())


def test_the_server_window_searches_saves_and_tells_history_problems(tk_root, monkeypatch, tmp_path):
    from tkinter import filedialog
    from chatui.server_window import ServerApp
    fake = FakeServer()
    app = ServerApp(tk_root, tk_root._palette, "127.0.0.1", 5002, start=lambda *a, **kw: fake)
    fake.events.put(ev.RoomLine(1, "bob", "bonjour", at=TUE))
    fake.events.put(ev.RoomLine(2, "bob", "for you", private_to="server", at=TUE + 60))
    fake.events.put(ev.HistoryProblem("damaged", "/data/history.sqlite3.damaged-1"))
    pump(tk_root, lambda: "damaged" in app.view.history.content(), what="events")
    assert "10:48  bob: bonjour" in app.view.history.content()
    app.view.entry.entry.focus_force()
    tk_root.update()
    app.view.entry.entry.event_generate("<Control-f>")
    app.view.search.var.set("bonjour")
    app.view.search.search()
    assert fake.calls == [("search", "bonjour")]
    fake.events.put(ev.SearchResults("bonjour", (line(1, "bonjour", TUE),)))
    pump(tk_root, lambda: app.view.search.list.size() == 1, what="results")
    assert app.view.search.choose(0) and app.view.history.text.tag_ranges("found")
    monkeypatch.setattr(filedialog, "asksaveasfilename", lambda **kw: str(tmp_path / "r.txt"))
    app.view.save_button.invoke()
    assert fake.calls[-1] == ("save_history", str(tmp_path / "r.txt"))
    fake.events.put(ev.HistoryLines("earlier", (line(0, "old secret", MON, private_to="server"),)))
    pump(tk_root, lambda: "old secret" in app.view.history.content(), what="block")
    assert "(private to you)" in app.view.history.content() or "private" in app.view.history.content()


# --- real transports on 127.0.0.1 -----------------------------------------------------------------------


def said(client, text: str) -> None:
    """``client`` says ``text`` and waits for the room's echo: stored before anyone else joins."""
    from tests.conftest import wait_for
    from tests.typing_ import typed
    if not hasattr(client, "seen"):
        client.seen = []
    typed(client, text)
    wait_for(client, lambda e: isinstance(e, ev.RoomLine) and e.own and e.text == text)


def window_client(tmp_path, name: str = "alice"):
    """start_client as the window's program starts it: a copy of its own, and rejoining by itself."""
    from functools import partial
    from udpnet import start_client
    return partial(start_client, history_dir=str(tmp_path / f"copy-{name}"), rejoin=True)


def test_a_late_joiner_sees_the_room_dimmed_and_ctrl_f_finds_cafe_typed_without_accent(tk_root, tmp_path):
    from chatui.client_window import ClientApp
    from tests.conftest import wait_for
    from udpnet import start_client, start_server
    srv = start_server("127.0.0.1", 0, stats=False, history_dir=str(tmp_path / "room"))
    bob = start_client(f"127.0.0.1:{srv.address[1]}", "bob")
    bob.seen = []
    try:
        wait_for(bob, lambda e: isinstance(e, ev.Connected))
        for words in ("on se retrouve au café ?", "à 18 h", "ok pour moi"):
            said(bob, words)
        app = ClientApp(tk_root, tk_root._palette, f"127.0.0.1:{srv.address[1]}", "alice",
                        start=window_client(tmp_path))
        pump(tk_root, lambda: app.view is not None and "ok pour moi" in text(app), what="the replay")
        shown = text(app).splitlines()
        assert hw.earlier_heading() in shown and shown.count(hw.earlier_heading()) == 1
        assert "dim" in tags_at(app, "au café") and "heading" in tags_at(app, hw.earlier_heading())
        assert sum("bob: " in s for s in shown) == 3                     # each line once
        said(bob, "now live")
        pump(tk_root, lambda: "now live" in text(app), what="a live line")
        assert "dim" not in tags_at(app, "now live") and text(app).count("now live") == 1
        app.view.entry.entry.focus_force()
        tk_root.update()
        app.view.entry.entry.event_generate("<Control-f>")
        tk_root.update()
        app.view.search.var.set("cafe")
        app.view.search.entry.event_generate("<Return>")
        pump(tk_root, lambda: app.view.search.list.size() > 0, what="the results")
        assert app.view.search.summary.cget("text") == "1 line found for \u201ccafe\u201d."
        assert app.view.search.list.get(0).endswith("bob: on se retrouve au café ?")
        assert app.view.search.choose(0)
        found = app.view.history.text.tag_ranges("found")
        assert "au café" in app.view.history.text.get(*found)
    finally:
        bob.close(timeout=1)
        srv.close()


@pytest.mark.timeout(90)
def test_a_closed_room_that_opens_again_takes_the_window_back_with_every_line_once(tk_root, tmp_path):
    from chatui.client_window import ClientApp
    from tests.conftest import wait_for
    from udpnet import start_client, start_server
    room = str(tmp_path / "room")
    srv = start_server("127.0.0.1", 0, stats=False, history_dir=room)
    port = srv.address[1]
    app = ClientApp(tk_root, tk_root._palette, f"127.0.0.1:{port}", "alice", start=window_client(tmp_path))
    pump(tk_root, lambda: app.view is not None and "alice" in app.view.members.names(), what="joined")
    srv.say("before the break")
    pump(tk_root, lambda: "before the break" in text(app), what="a line")
    srv.close()
    pump(tk_root, lambda: app.closed_bar is not None, what="the room closed")
    assert str(app.view.entry.entry.cget("state")) == "disabled" and app.view.members.tree.instate(["disabled"])
    srv = start_server("127.0.0.1", port, stats=False, history_dir=room)        # the same room, restarted
    bob = start_client(f"127.0.0.1:{port}", "bob")
    bob.seen = []
    try:
        wait_for(bob, lambda e: isinstance(e, ev.Connected))
        said(bob, "said while alice was out")
        app.closed_bar.button.invoke()                                       # Join again: at once
        pump(tk_root, lambda: app.closed_bar is None and "said while alice was out" in text(app),
             timeout=20, what="back in the room")
        pump(tk_root, lambda: "bob" in app.view.members.names(), what="the new member list")
        assert str(app.view.entry.entry.cget("state")) == "normal" and not app.view.members.tree.instate(["disabled"])
        assert text(app).count("said while alice was out") == 1 and text(app).count("before the break") == 1
        app.view.entry.var.set("hello again")
        app.view.entry.send()
        wait_for(bob, lambda e: isinstance(e, ev.RoomLine) and e.text == "hello again")
    finally:
        bob.close(timeout=1)
        srv.close()


def test_the_server_window_shows_its_stored_room_and_searches_it(tk_root, tmp_path):
    from chatui.server_window import ServerApp
    from udpnet import start_server
    room = str(tmp_path / "history")
    first = start_server("127.0.0.1", 0, stats=False, history_dir=room)
    first.say("yesterday's café plan")
    time.sleep(0.3)
    first.close()
    app = ServerApp(tk_root, tk_root._palette, "127.0.0.1", 0, history_dir=room)
    try:
        pump(tk_root, lambda: "café plan" in app.view.history.content(), what="the stored room")
        assert hw.earlier_heading() in app.view.history.content() and "dim" in tags_at(app, "café plan")
        app.view.open_search()
        app.view.search.var.set("CAFE")
        app.view.search.search()
        pump(tk_root, lambda: app.view.search.list.size() == 1, what="found")
        assert app.view.search.choose(0)
    finally:
        app.transport.close()


def test_a_second_server_window_on_the_same_history_says_so_and_quits(tk_root, tmp_path):
    from chatui.server_window import PortDialog, ServerApp
    from udpnet import start_server
    room = str(tmp_path / "history")
    first = start_server("127.0.0.1", 0, stats=False, history_dir=room)
    try:
        app = ServerApp(tk_root, tk_root._palette, "127.0.0.1", 0, history_dir=room)
        dialog = next(w for w in tk_root.winfo_children() if isinstance(w, PortDialog))
        assert dialog.message.cget("text").startswith("Another chat program is already using the history folder")
        assert app.transport is None and not dialog.entry.winfo_manager()
        dialog.quit_button.invoke()
        assert app.exit_code == 2
    finally:
        first.close()


def test_a_damaged_file_is_told_in_chatfront_words_naming_the_file_moved_aside(tk_root):
    from chatui.history_actions import history_notice
    store_says = ("The history file was damaged (file is not a database); it was moved aside to "
                  "history.sqlite3.damaged-20261203-1030 and a new history started.")
    note = history_notice(ev.HistoryProblem("damaged", store_says))
    assert note.kind == "error"
    assert note.text == hw.problem(ev.HistoryProblem("damaged", "history.sqlite3.damaged-20261203-1030"))
    assert history_notice(ev.HistoryProblem("resumed")).kind == "notice"


def test_no_history_is_said_once_in_the_server_window(tk_root):
    from chatui.server_window import ServerApp
    app = ServerApp(tk_root, tk_root._palette, "127.0.0.1", 0, keep_history=False)
    try:
        assert app.view.history.content().count(hw.no_history()) == 1
        app.view.open_search()
        app.view.search.var.set("nothing")
        app.view.search.search()
        pump(tk_root, lambda: app.view.search.summary.cget("text") != "", what="an answer")
    finally:
        app.transport.close()


def test_private_lines_of_the_history_are_shown_once_and_say_who_they_were_for(tk_root, chat):
    app, fake = chat
    secret = line(0, "just for you", TUE, private_to="alice")
    mine = line(0, "thanks", TUE + 5, sender="alice", private_to="bob")
    connect(app, fake, ev.HistoryLines("stored", (line(1, "hi", TUE - 5), secret, mine)))
    put(app, fake, ev.HistoryLines("missed", (secret, mine, line(2, "new", TUE + 9))))
    shown = text(app)
    assert shown.count("just for you") == 1 and shown.count("thanks") == 1 and "bob: new" in shown
    assert "bob: (private) just for you" in shown and "alice: (to bob) thanks" in shown


def test_a_reader_up_in_older_pages_is_not_trimmed_under(tk_root):
    from chatui.history import Entry, HistoryPane
    pane = HistoryPane(tk_root, tk_root._palette, max_lines=50)
    pane.pack(fill="both", expand=True)
    pane.append([Entry("line", f"old {i}", "bob", seq=i) for i in range(1, 41)])
    tk_root.update()
    pane.text.yview_moveto(0.0)
    tk_root.update()
    pane.append([Entry("line", f"new {i}", "bob", seq=i) for i in range(41, 81)])
    assert "old 1" in pane.content() and pane.text.yview()[0] == 0.0        # kept while being read
    pane.scroll_to_end()
    tk_root.update()
    pane.append([Entry("line", "newest", "bob", seq=81)])
    assert "old 1" not in pane.content() and pane.lines <= 50 and pane.trimmed
    assert not pane.may_have_older()                                      # the top is gone: nothing to load above
    assert not pane.show_seq(1) and pane.show_seq(81)
