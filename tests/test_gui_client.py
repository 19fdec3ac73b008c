"""The client window for real, under Xvfb, against a real server on loopback."""
from __future__ import annotations

import json
import queue
import socket
import time

import pytest

from udpcore import NameTaken, events as ev
from udpnet import start_server
from tests.conftest import pump, wait_for
from tests.typing_ import typed

pytestmark = [pytest.mark.gui, pytest.mark.timeout(60)]


def open_chat(tk_root, server, name="alice"):
    from chatui.client_window import ClientApp
    app = ClientApp(tk_root, tk_root._palette, f"127.0.0.1:{server.address[1]}", name)
    pump(tk_root, lambda: app.view is not None and "alice" in app.view.members.names()
         or app.view is not None and name in app.view.members.names(), what="connected")
    return app


def history(app) -> str:
    return app.view.history.content()


def test_connect_form_connects_and_remembers(tk_root, server, config_dir):
    from chatui.client_window import ClientApp
    app = ClientApp(tk_root, tk_root._palette)
    form = app.form
    assert form.server.get() == "localhost" and form.name.get() == ""
    form.server.set(f"127.0.0.1:{server.address[1]}")
    form.name.set("alice")
    form.button.invoke()
    pump(tk_root, lambda: app.view is not None, what="the chat view")
    pump(tk_root, lambda: sorted(app.view.members.names()) == ["alice", "server"], what="member list")
    assert app.view.status.get() == f"Connected to 127.0.0.1:{server.address[1]} as alice"
    assert tk_root.title() == "alice — LAN Chat"
    saved = json.loads((config_dir / "settings.json").read_text())
    assert saved == {"server": f"127.0.0.1:{server.address[1]}", "name": "alice",
                     "recent": [f"127.0.0.1:{server.address[1]}"]}
    assert tk_root.focus_get() is app.view.entry.entry


def test_taken_name_is_shown_on_the_form_with_fields_kept(tk_root, server, peer_factory):
    from chatui.client_window import ClientApp
    peer_factory("alice")
    app = ClientApp(tk_root, tk_root._palette, f"127.0.0.1:{server.address[1]}", "ALICE")
    pump(tk_root, lambda: "taken" in app.form.message.cget("text"), what="refusal")
    assert app.form.message.cget("text") == "The name ALICE is already taken in this room; choose another."
    assert app.form.name.get() == "ALICE" and str(app.form.button.cget("state")) == "normal"
    assert app.view is None


def test_bad_address_is_one_sentence_on_the_form(tk_root, config_dir):
    from chatui.client_window import ClientApp
    app = ClientApp(tk_root, tk_root._palette)
    app.form.server.set("host:99999")
    app.form.name.set("alice")
    app.form.button.invoke()
    assert app.form.message.cget("text") == "'99999' is not a port number (1-65535)."
    assert app.form.server.get() == "host:99999"


@pytest.mark.timeout(40)
def test_unreachable_server_says_firewall_on_the_form(tk_root, config_dir):
    from chatui.client_window import ClientApp
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        app = ClientApp(tk_root, tk_root._palette, f"127.0.0.1:{silent.getsockname()[1]}", "alice")
        assert "Connecting to" in app.form.message.cget("text")
        pump(tk_root, lambda: "firewall" in app.form.message.cget("text"), timeout=15, what="unreachable")
    assert app.form.message.cget("text").startswith("No answer from 127.0.0.1:")


def test_enter_and_send_deliver_lines_with_pending_then_tick(tk_root, server, peer_factory):
    bob = peer_factory("bob")
    app = open_chat(tk_root, server)
    pump(tk_root, lambda: sorted(app.view.members.names()) == ["alice", "bob", "server"], what="members")
    entry = app.view.entry
    entry.entry.insert(0, "hello bob 👋 https://example.org")
    entry.entry.event_generate("<Return>")
    assert entry.var.get() == ""
    pump(tk_root, lambda: "✓" in history(app), what="delivered tick")
    assert "alice: hello bob 👋 https://example.org ✓" in history(app)
    assert "…" not in history(app)
    entry.var.set("second line")
    entry.send_button.invoke()
    wait_for(bob, lambda e: isinstance(e, ev.RoomLine) and e.text == "second line")
    got = [e.text for e in bob.seen if isinstance(e, ev.RoomLine)]
    assert got == ["hello bob 👋 https://example.org", "second line"]
    assert app.view.history.text.tag_ranges("url")          # the link is clickable


def test_room_lines_notices_private_and_commands(tk_root, server, peer_factory):
    app = open_chat(tk_root, server)
    bob = peer_factory("bob")
    pump(tk_root, lambda: "bob joined" in history(app), what="join notice")
    typed(bob, "hi all")
    typed(bob, "/me waves")
    typed(bob, "/msg alice just for you")
    pump(tk_root, lambda: "just for you" in history(app), what="lines")
    text = history(app)
    assert "bob: hi all" in text and "* bob waves" in text and "bob: (private) just for you" in text
    app.view.entry.var.set("/nick ally")
    app.view.entry.send()
    pump(tk_root, lambda: "You are now known as ally" in history(app), what="rename")
    assert tk_root.title() == "ally — LAN Chat" and "ally" in app.view.members.names()
    app.view.entry.var.set("/msg nobody hi")
    app.view.entry.send()
    pump(tk_root, lambda: "No member is called nobody." in history(app), what="error")
    app.view.entry.var.set("/who")
    app.view.entry.send()
    pump(tk_root, lambda: "3 in the room:" in history(app), what="who")     # the server is listed too
    bob.close(timeout=2)
    pump(tk_root, lambda: "bob left" in history(app), what="leave notice")
    assert sorted(app.view.members.names()) == ["ally", "server"]


def double_click(tree, item: str) -> None:
    """Two quick clicks on a member's row: Tk makes them a double-click."""
    x, y, w, h = tree.bbox(item)
    for _ in range(2):
        tree.event_generate("<ButtonPress-1>", x=x + 5, y=y + h // 2)
        tree.event_generate("<ButtonRelease-1>", x=x + 5, y=y + h // 2)


def test_double_click_member_starts_private_line_and_up_recalls(tk_root, server, peer_factory):
    peer_factory("bob")
    app = open_chat(tk_root, server)
    tree = app.view.members.tree
    pump(tk_root, lambda: tree.exists("bob") and tree.bbox("bob"), what="bob in the list")
    double_click(tree, "bob")
    pump(tk_root, lambda: app.view.entry.var.get() == "/msg bob ", what="prefill")
    app.view.entry.var.set("first")
    app.view.entry.send()
    app.view.entry.entry.event_generate("<Up>")
    assert app.view.entry.var.get() == "first"


def test_unread_count_in_title_until_focused(tk_root, server, peer_factory, monkeypatch):
    app = open_chat(tk_root, server)
    bob = peer_factory("bob")
    monkeypatch.setattr(app, "_has_focus", lambda: False)
    typed(bob, "one")
    typed(bob, "two")
    pump(tk_root, lambda: tk_root.title() == "(2) alice — LAN Chat", what="unread title")
    app._focused()
    assert tk_root.title() == "alice — LAN Chat"


def test_exit_button_leaves_cleanly_and_closes_the_window(tk_root, server, peer_factory):
    bob = peer_factory("bob")
    app = open_chat(tk_root, server)
    app.view.entry.var.set("last words")
    app.view.entry.send()
    app.view.entry.exit_button.invoke()
    pump(tk_root, lambda: not _exists(tk_root), what="window closed")
    wait_for(bob, lambda e: isinstance(e, ev.MemberLeft) and e.name == "alice")
    assert "last words" in [e.text for e in bob.seen if isinstance(e, ev.RoomLine)]


def test_typing_exit_leaves_too(tk_root, server, peer_factory):
    bob = peer_factory("bob")
    app = open_chat(tk_root, server)
    app.view.entry.var.set("exit")
    app.view.entry.send()
    pump(tk_root, lambda: not _exists(tk_root), what="window closed")
    wait_for(bob, lambda e: isinstance(e, ev.MemberLeft) and e.name == "alice")


def test_server_closing_is_shown_and_input_disabled(tk_root, config_dir):
    srv = start_server("127.0.0.1", 0, stats=False)
    try:
        app = open_chat(tk_root, srv)
    finally:
        srv.close()
    pump(tk_root, lambda: "Server closed" in app.view.status.get(), what="closed status")
    assert "The server closed the room." in history(app)
    assert str(app.view.entry.entry.cget("state")) == "disabled"


def test_burst_of_5000_lines_arrives_and_the_pane_stays_bounded(tk_root, server):
    app = open_chat(tk_root, server)
    for i in range(5000):
        server.say(f"burst line {i}")
    ticks = app.poller.ticks
    pump(tk_root, lambda: "burst line 4999" in history(app), timeout=40, what="the whole burst")
    text = history(app)
    shown = [ln for ln in text.splitlines() if "burst line" in ln]
    assert shown[-1].endswith("server: burst line 4999")
    assert len(shown) <= app.view.history.max_lines
    assert [int(ln.rsplit(" ", 1)[1]) for ln in shown] == list(range(5000 - len(shown), 5000))
    assert app.poller.ticks - ticks >= 10          # drained in many small batches, not one freeze
    tk_root.update()
    assert app.view.history.at_bottom() and not app.view.history.more.winfo_manager()   # kept following


def test_pane_follows_new_lines_unless_scrolled_up(tk_root, server):
    app = open_chat(tk_root, server)
    for i in range(200):
        server.say(f"fill {i}")
    pump(tk_root, lambda: "fill 199" in history(app), what="fill")
    tk_root.update()
    text = app.view.history.text
    assert text.yview()[1] == 1.0                  # followed to the end
    text.yview_moveto(0.0)
    tk_root.update()
    server.say("while reading")
    pump(tk_root, lambda: "while reading" in history(app), what="new line")
    tk_root.update()
    assert text.yview()[0] == 0.0                  # the reader was not yanked down


def _exists(root) -> bool:
    try:
        return bool(root.winfo_exists())
    except Exception:
        return False


# --- states that a loopback server cannot easily produce: a fake transport ---------------


class FakeClient:
    """The transport API (docs/architecture.md) with events the test puts on the queue."""

    def __init__(self, server: str, name: str) -> None:
        self.events: queue.Queue[ev.Event] = queue.Queue()
        self.server_label, self.name = server, name
        self.calls: list[tuple] = []
        self.closed_with: list[float] = []

    def say(self, text: str, *, action: bool = False) -> None:
        self.calls.append(("say", text, action))

    def private(self, to: str, text: str, *, action: bool = False) -> None:
        self.calls.append(("private", to, text, action))

    def nick(self, name: str) -> None:
        self.calls.append(("nick", name))

    def who(self) -> None:
        self.calls.append(("who",))

    def close(self, timeout: float = 5.0, wait: bool = True) -> None:
        self.closed_with.append(timeout)
        self.events.put(ev.Closed())


@pytest.fixture
def fake_chat(tk_root):
    from chatui.client_window import ClientApp
    made: list[FakeClient] = []

    def start(server: str, name: str) -> FakeClient:
        made.append(FakeClient(server, name))
        return made[-1]
    app = ClientApp(tk_root, tk_root._palette, "127.0.0.5:5002", "alice", start=start)
    fake = made[0]
    fake.events.put(ev.Connected("alice", "127.0.0.5:5002"))
    fake.events.put(ev.MemberList(("alice", "bob")))
    pump(tk_root, lambda: app.view is not None and app.view.members.names() == ["alice", "bob"], what="view")
    return app, fake


def test_reconnecting_and_back_in_the_status_line(tk_root, fake_chat):
    app, fake = fake_chat
    assert app.view.status.get() == "Connected to 127.0.0.5:5002 as alice"
    fake.events.put(ev.ConnectionLost())
    pump(tk_root, lambda: app.view.status.get() == "Reconnecting to 127.0.0.5:5002…", what="reconnecting")
    assert history(app).endswith("Lost contact with the server; reconnecting…")
    assert "notice" in app.view.history.text.tag_names("end-2c")          # the quieter style
    fake.events.put(ev.Reconnected(resumed=True))
    pump(tk_root, lambda: app.view.status.get().startswith("Connected to"), what="back")
    assert history(app).endswith("Reconnected")


def test_a_refused_rejoin_is_shown_and_input_stops(tk_root, fake_chat):
    app, fake = fake_chat
    fake.events.put(ev.ConnectionLost())
    fake.events.put(ev.JoinRefused(NameTaken("alice")))
    pump(tk_root, lambda: "already taken" in history(app), what="refusal")
    assert app.view.status.get() == "Disconnected from 127.0.0.5:5002"
    assert str(app.view.entry.entry.cget("state")) == "disabled"


def test_pending_and_echo_in_one_batch_show_one_delivered_line(tk_root, fake_chat):
    app, fake = fake_chat
    app.view.entry.var.set("quick")
    app.view.entry.send()
    assert fake.calls == [("say", "quick", False)]
    fake.events.put(ev.LinePending(1, "quick"))
    fake.events.put(ev.RoomLine(5, "alice", "quick", own=True, msg_id=1))
    fake.events.put(ev.RoomLine(6, "bob", "/msg-free line"))
    pump(tk_root, lambda: "/msg-free line" in history(app), what="lines")
    assert history(app).count("quick") == 1 and "alice: quick ✓" in history(app)


def test_closing_the_window_is_exit_and_is_prompt_after_the_server_closed(tk_root, fake_chat):
    app, fake = fake_chat
    fake.events.put(ev.ServerClosed("The server closed the room."))
    fake.events.put(ev.Closed())
    pump(tk_root, lambda: app.stopped, what="closed")
    assert app.view.status.get() == "Server closed — 127.0.0.5:5002 is no longer serving this room"
    started = time.monotonic()
    tk_root.tk.call(tk_root.protocol("WM_DELETE_WINDOW"))           # what the window manager's × does
    pump(tk_root, lambda: not _exists(tk_root), timeout=2, what="window closed at once")
    assert time.monotonic() - started < 1.0 and fake.closed_with == []


def test_window_close_button_leaves_like_exit(tk_root, fake_chat):
    app, fake = fake_chat
    tk_root.tk.call(tk_root.protocol("WM_DELETE_WINDOW"))
    assert fake.closed_with == [5.0] and app.view.status.get() == "Leaving…"
    pump(tk_root, lambda: not _exists(tk_root), what="window closed")


def test_quitting_on_macos_leaves_like_exit(tk_root, fake_chat):
    # Cmd-Q, the Dock's Quit and logging out call ::tk::mac::Quit; without it Tk
    # exits at once and the room is never told.
    app, fake = fake_chat
    tk_root.tk.call("::tk::mac::Quit")
    assert fake.closed_with == [5.0] and app.view.status.get() == "Leaving…"
    pump(tk_root, lambda: not _exists(tk_root), what="window closed")


def test_enter_while_connecting_starts_nothing_more_and_the_failure_still_shows(tk_root):
    """Disabled ttk entries still get key bindings: Enter pressed while the form is
    connecting must not start a second transport (which left the form stuck on
    'Connecting…' in a packaged build tried by hand)."""
    from chatui.client_window import ClientApp
    made: list[FakeClient] = []

    def start(server: str, name: str) -> FakeClient:
        made.append(FakeClient(server, name))
        return made[-1]
    app = ClientApp(tk_root, tk_root._palette, start=start)
    app.form.server.set("127.0.0.5")
    app.form.name.set("dora")
    tk_root.update()
    app.form.name_entry.focus_force()
    tk_root.update()
    app.form.name_entry.event_generate("<Return>", when="now")
    assert len(made) == 1 and "Connecting" in app.form.message.cget("text")
    app.form.name_entry.event_generate("<Return>", when="now")
    app.form.server_entry.focus_force()
    tk_root.update()
    app.form.server_entry.event_generate("<Return>", when="now")
    app.form.submit()
    assert len(made) == 1
    made[0].events.put(ev.Unreachable("127.0.0.5:5002", 5002, 10.0))
    made[0].events.put(ev.Closed())
    pump(tk_root, lambda: "No answer" in app.form.message.cget("text"), what="the failure on the form")
    assert str(app.form.name_entry.cget("state")) == "normal"
    app.form.name_entry.focus_force()
    tk_root.update()
    app.form.name_entry.event_generate("<Return>", when="now")     # and trying again works
    assert len(made) == 2


# --- the room's limits (issue 11) --------------------------------------------------------------


def test_a_refused_line_stays_shown_marked_not_sent_with_one_sentence(tk_root, fake_chat):
    from udpcore import RateLimited
    app, fake = fake_chat
    fake.events.put(ev.LinePending(1, "too quick"))
    pump(tk_root, lambda: "too quick …" in history(app), what="pending")
    fake.events.put(ev.LinePending(2, "quicker"))
    fake.events.put(ev.LinePending(3, "quickest"))
    fake.events.put(ev.LineRefused(1, RateLimited(1)))       # shown in an earlier batch
    fake.events.put(ev.LineRefused(2, RateLimited(1)))       # in this very batch
    fake.events.put(ev.LineRefused(3, RateLimited(1)))
    pump(tk_root, lambda: "quickest ✗" in history(app), what="refusals")
    text = history(app)
    assert "alice: too quick ✗ not sent: too fast" in text
    assert "alice: quicker ✗ not sent: too fast" in text and "…" not in text
    sentence = "Too fast: that line was not sent. Wait a second and send it again."
    assert text.count(sentence) <= 2                          # one per batch, never one per line
    assert "error" in app.view.history.text.tag_names(app.view.history.text.search("✗", "1.0"))


def test_removed_by_the_operator_says_why_and_stops_the_input(tk_root, fake_chat):
    app, fake = fake_chat
    fake.events.put(ev.Removed("spam", banned=False))
    fake.events.put(ev.Closed())
    pump(tk_root, lambda: app.stopped, what="removed")
    assert "The operator removed you from the room: spam." in history(app)
    assert str(app.view.entry.entry.cget("state")) == "disabled"
    assert app.view.status.get() == "Removed from the room by the operator of 127.0.0.5:5002"
    tk_root.tk.call(tk_root.protocol("WM_DELETE_WINDOW"))
    pump(tk_root, lambda: not _exists(tk_root), timeout=2, what="closed at once")
    assert fake.closed_with == []


def test_a_crowd_is_one_notice_and_one_quiet_refresh_of_the_member_list(tk_root, fake_chat, monkeypatch):
    import chatui.client_window as cw
    monkeypatch.setattr(cw, "WHO_REFRESH_MS", 100)
    app, fake = fake_chat
    fake.events.put(ev.Crowd(12, 0))
    fake.events.put(ev.Crowd(3, 1))
    pump(tk_root, lambda: ("who",) in fake.calls, what="the refresh")
    assert history(app).count("12 people joined") == 1 and "3 people joined, 1 person left" in history(app)
    fake.events.put(ev.MemberList(("alice", "bob", "carol", "server"), answers_who=True))
    pump(tk_root, lambda: "carol" in app.view.members.names(), what="the refreshed list")
    assert "in the room:" not in history(app)                 # the window asked: no notice
    tk_root.after(300, lambda: None)
    deadline = time.monotonic() + 0.4
    while time.monotonic() < deadline:
        tk_root.update()
    assert fake.calls.count(("who",)) == 1                    # two crowds, one refresh
    app.send("/who")                                          # the user's own /who still answers
    fake.events.put(ev.MemberList(("alice", "bob", "carol", "server"), answers_who=True))
    pump(tk_root, lambda: "4 in the room:" in history(app), what="the user's list")


def test_the_server_in_the_member_list_takes_a_private_line_by_double_click(tk_root, fake_chat):
    app, fake = fake_chat
    fake.events.put(ev.MemberList(("alice", "bob", "server")))
    pump(tk_root, lambda: "server" in app.view.members.names(), what="server listed")
    tree = app.view.members.tree
    pump(tk_root, lambda: tree.exists("server") and tree.bbox("server"), what="server shown")
    double_click(tree, "server")
    pump(tk_root, lambda: app.view.entry.var.get() == "/msg server ", what="prefill")
    app.view.entry.var.set("/msg server please unmute me")
    app.view.entry.send()
    assert fake.calls[-1] == ("private", "server", "please unmute me", False)
