"""The operator's side of the server window, under Xvfb: the private target
("To: maria ✕") that never re-addresses a line, members' private lines kept
private, the member list's context menu, the bans, and closing a room with
people in it. A recording transport stands in for the socket here (what the
window asks of it is the point); the end-to-end tests with real clients are in
test_gui_moderation.py."""
from __future__ import annotations

import json
import queue

import pytest

from udpcore import NoSuchMember, events as ev
from tests.conftest import pump

pytestmark = [pytest.mark.gui, pytest.mark.timeout(60)]


class Recorder:
    """What ServerTransport offers the window; each call is kept in ``calls``."""

    def __init__(self) -> None:
        self.address = ("127.0.0.1", 5555)
        self.label = "127.0.0.1:5555"
        self.events: queue.Queue = queue.Queue()
        self.calls: list[tuple] = []
        self.options: dict = {}

    def __getattr__(self, name: str):
        if name in ("say", "say_to", "kick", "mute", "ban", "unban"):
            return lambda *args: self.calls.append((name, *args))
        raise AttributeError(name)

    def close(self, timeout: float = 2.0, wait: bool = True) -> None:
        self.calls.append(("close",))
        self.events.put(ev.Closed())


def member(name: str, address: str = "127.0.0.1:40000", muted: float = 0.0, guest: bool = False) -> ev.MemberInfo:
    return ev.MemberInfo(name, address, 0.0, guest, muted)


@pytest.fixture
def data_dir(tmp_path):
    return tmp_path / "data"


@pytest.fixture
def app(tk_root, data_dir):
    from chatui.server_window import ServerApp
    rec = Recorder()

    def start(host, port, **options):
        rec.options = options
        return rec
    a = ServerApp(tk_root, tk_root._palette, "127.0.0.1", 0, start=start, data_dir=str(data_dir))
    a.rec = rec
    return a


def feed(app, *events: ev.Event) -> None:
    app.handle(list(events))
    app.root.update()


def room(app, *names: str) -> None:
    feed(app, *[ev.MemberJoined(n, "127.0.0.1:40000") for n in names],
         ev.Stats(tuple(member(n) for n in names)))


def type_line(app, text: str) -> None:
    app.view.entry.var.set(text)
    app.view.entry.send()


def test_the_target_is_a_chip_and_a_line_to_a_member_who_left_is_refused_not_sent_to_all(tk_root, app):
    room(app, "maria", "bob")
    assert app.chip.text() == "To: everyone"
    app.view.members.tree.selection_set("maria")
    pump(tk_root, lambda: app.chip.text() == "To: maria \u2715", what="chip")
    type_line(app, "hello maria")
    assert app.rec.calls == [("say_to", "maria", "hello maria")]
    feed(app, ev.MemberLeft("maria"), ev.Stats((member("bob"),)))
    assert not app.view.members.tree.exists("maria")
    assert app.chip.text() == "To: maria (not in the room) \u2715"       # still maria: nothing moved silently
    type_line(app, "are you there?")
    assert app.rec.calls == [("say_to", "maria", "hello maria")]          # nobody got it
    assert app.view.entry.var.get() == "are you there?"                   # kept, to send elsewhere
    assert "maria is no longer in the room; your line was not sent." in app.view.history.content()
    app.view.entry.entry.event_generate("<Escape>")                       # back to everyone, on purpose
    assert app.chip.text() == "To: everyone"
    app.view.entry.send()
    assert app.rec.calls[-1] == ("say", "are you there?")


def test_a_renamed_target_is_refused_with_the_new_name_and_a_new_maria_gets_nothing(tk_root, app):
    room(app, "maria")
    app.write_privately("maria")
    feed(app, ev.MemberRenamed("maria", "mary"))
    type_line(app, "psst")
    assert "maria is now known as mary; your line was not sent." in app.view.history.content()
    feed(app, ev.MemberJoined("maria", "127.0.0.9:1"), ev.Stats((member("mary"), member("maria"))))
    type_line(app, "psst")                   # another maria joined: still not hers without asking
    assert not [c for c in app.rec.calls if c[0] == "say_to"]
    app.chip.clear_button.invoke()
    assert app.chip.text() == "To: everyone" and app.view.members.selected() is None


def test_a_member_unnamed_in_a_crowd_leaving_still_stops_the_line(tk_root, app):
    room(app, "maria", "bob")
    app.write_privately("maria")
    feed(app, ev.Stats((member("bob"),)))             # gone, with no MemberLeft of her own
    type_line(app, "hi")
    assert app.rec.calls == [] and app.chip.text().endswith("(not in the room) \u2715")


def test_members_private_lines_show_no_text_and_lines_to_the_operator_are_marked_and_answerable(tk_root, app):
    room(app, "alice", "bob")
    feed(app, ev.PrivatePassed("alice", "bob"), ev.PrivatePassed("bob", "alice"))
    assert "2 private lines between members" in app.view.status.get()
    feed(app, ev.RoomLine(1, "alice", "can you help?", private_to="server"))
    content = app.view.history.content()
    assert "alice: (privately to you) can you help?" in content
    assert "Ctrl+R answers alice privately" in app.chip.hint.cget("text")
    app.view.entry.entry.event_generate("<Control-r>")
    assert app.chip.text() == "To: alice \u2715"
    type_line(app, "sure")
    assert app.rec.calls == [("say_to", "alice", "sure")]


def test_the_context_menu_writes_kicks_mutes_and_bans_through_the_transport(tk_root, app, monkeypatch):
    from chatui import moderation
    room(app, "maria", "bob")
    asked: list[tuple] = []
    monkeypatch.setattr(moderation, "ask", lambda master, title, message, ok: asked.append((title, message)) or
                        "spamming")
    monkeypatch.setattr(moderation, "confirm", lambda master, title, message, ok: asked.append((title, message))
                        or True)
    menu = app.member_menu("maria")
    labels = [menu.entrycget(i, "label") for i in range(menu.index("end") + 1) if menu.type(i) != "separator"]
    assert labels == ["maria", "Write privately", "Kick…", "Mute", "Ban…", "Bans…"]
    menu.invoke(menu.index_of("Write privately"))
    assert app.chip.text() == "To: maria \u2715"
    menu.invoke(menu.index_of("Kick…"))
    assert app.rec.calls[-1] == ("kick", "maria", "spamming") and asked[-1][0] == "Kick maria"
    sub = menu.mute_menu
    assert [sub.entrycget(i, "label") for i in range(sub.index("end") + 1) if sub.type(i) != "separator"] == \
        ["5 minutes", "15 minutes", "1 hour", "Unmute"]
    assert sub.entrycget(menu.index_of("Unmute", sub), "state") == "disabled"      # not muted yet
    sub.invoke(menu.index_of("15 minutes", sub))
    assert app.rec.calls[-1] == ("mute", "maria", 15)
    assert "maria is muted for 15 minutes." in app.view.history.content()
    feed(app, ev.Stats((member("maria", muted=890.0), member("bob"))))
    assert app.view.members.tree.item("maria", "values")[3] == "15 min"
    sub = app.member_menu("maria").mute_menu
    sub.invoke(app.member_menu("maria").index_of("Unmute", sub))
    assert app.rec.calls[-1] == ("mute", "maria", 0)
    menu = app.member_menu("bob")
    menu.invoke(menu.index_of("Ban…"))
    assert app.rec.calls[-1] == ("ban", "bob") and asked[-1][0] == "Ban bob?"
    assert "127.0.0.1" in asked[-1][1]                    # the operator is told the address goes too


def test_cancelled_questions_do_nothing(tk_root, app, monkeypatch):
    from chatui import moderation
    room(app, "maria")
    monkeypatch.setattr(moderation, "ask", lambda *a: None)
    monkeypatch.setattr(moderation, "confirm", lambda *a: False)
    app.kick_member("maria")
    app.ban_member("maria")
    app.view.entry.exit_button.invoke()
    assert app.rec.calls == [] and not app.leaving


def test_right_click_and_the_menu_key_open_the_menu_for_the_row(tk_root, app, monkeypatch):
    from chatui import moderation
    room(app, "maria", "bob")
    opened: list = []
    monkeypatch.setattr(moderation.MemberMenu, "popup", lambda self, x, y: opened.append(self.entrycget(0, "label")))
    tree = app.view.members.tree
    tree.update()
    x, y, w, h = tree.bbox("bob")
    tree.event_generate("<Button-3>", x=x + 5, y=y + h // 2)
    tree.focus("maria")
    tree.focus_force()
    tree.event_generate("<Shift-F10>")
    assert opened == ["bob", "maria"]
    assert app.to is None                       # opening a menu chooses no one as the target


def test_the_bans_list_unbans_and_every_change_is_saved(tk_root, app, data_dir):
    from chatui.moderation import BansWindow
    bans = (ev.Ban("eve", "127.0.0.5"),)
    feed(app, ev.BansChanged(bans))
    assert "eve is banned, and so is the address 127.0.0.5." in app.view.history.content()
    saved = json.loads((data_dir / "bans.json").read_text())
    assert saved == {"version": 1, "bans": [{"name": "eve", "address": "127.0.0.5"}]}
    type_line(app, "/bans")
    window = next(w for w in tk_root.winfo_children() if isinstance(w, BansWindow))
    assert window.tree.get_children() == ("eve",) and "1 ban: eve (127.0.0.5)" in window.summary.cget("text")
    window.tree.selection_set("eve")
    tk_root.update()
    window.unban_button.invoke()
    assert app.rec.calls[-1] == ("unban", "eve")
    feed(app, ev.BansChanged(()))
    assert window.tree.get_children() == () and window.summary.cget("text") == "No one is banned."
    assert json.loads((data_dir / "bans.json").read_text())["bans"] == []
    assert "The ban on eve is lifted." in app.view.history.content()


def test_bans_kept_from_before_are_handed_to_the_server(tk_root, data_dir):
    from chatui.server_window import ServerApp
    data_dir.mkdir()
    (data_dir / "bans.json").write_text(json.dumps({"version": 1, "bans": [{"name": "eve", "address": ""}]}))
    seen = {}
    rec = Recorder()
    ServerApp(tk_root, tk_root._palette, "127.0.0.1", 0, start=lambda h, p, **o: seen.update(o) or rec,
              data_dir=str(data_dir))
    assert seen["bans"] == (ev.Ban("eve", ""),)


def test_operator_commands_typed_in_the_window(tk_root, app):
    room(app, "maria")
    for line in ("/kick maria too loud", "/mute maria 5", "/ban maria", "/unban maria", "/mute maria",
                 "/kick"):
        type_line(app, line)
    assert app.rec.calls == [("kick", "maria", "too loud"), ("mute", "maria", 5), ("ban", "maria", ""),
                             ("unban", "maria")]
    text = app.view.history.content()
    assert "Usage: /mute NAME MINUTES" in text and "Usage: /kick NAME [REASON]" in text
    feed(app, ev.CommandError(NoSuchMember("zed")))
    assert "No member is called zed." in app.view.history.content()


def test_closing_with_people_in_the_room_asks_first(tk_root, app, monkeypatch):
    from chatui import moderation
    room(app, "a", "b", "c")
    asked: list[str] = []
    answer = [False]
    monkeypatch.setattr(moderation, "confirm", lambda master, title, message, ok: asked.append(message) or answer[0])
    type_line(app, "exit")
    tk_root.tk.call(tk_root.protocol("WM_DELETE_WINDOW"))    # the window's X, as the window manager calls it
    tk_root.tk.call("::tk::mac::Quit")                        # Cmd-Q, the Dock's Quit, logging out on macOS
    assert asked == ["Close the room? 3 people are in it."] * 3 and app.rec.calls == []
    answer[0] = True
    app.view.entry.exit_button.invoke()
    assert app.rec.calls == [("close",)]


def test_closing_an_empty_room_asks_nothing(tk_root, app, monkeypatch):
    from chatui import moderation
    monkeypatch.setattr(moderation, "confirm", lambda *a: pytest.fail("asked"))
    app.exit()
    assert app.rec.calls == [("close",)]


@pytest.mark.parametrize("system,commands", [
    ("win32", ['netsh advfirewall firewall add rule name="LAN Chat" dir=in action=allow protocol=UDP localport=5555']),
    ("darwin", ["sudo /usr/libexec/ApplicationFirewall/socketfilterfw --unblockapp /Applications/ChatServer.app"]),
    ("linux", ["sudo ufw allow 5555/udp", "sudo firewall-cmd --add-port=5555/udp"]),
])
def test_a_room_nobody_reached_shows_the_firewall_command_in_a_copyable_box(tk_root, app, monkeypatch, system,
                                                                           commands):
    from chatui import server_window
    monkeypatch.setattr(server_window.sys, "platform", system)
    app.transport.address = ("0.0.0.0", 5555)
    assert app.firewall_box is None
    app._firewall_hint()
    box = app.firewall_box
    tk_root.update()
    assert box.winfo_ismapped() and box.winfo_y() < app.view.winfo_y()      # above the history, in sight
    assert "Nobody has reached this room yet" in box.sentence.cget("text") and "5555" in box.sentence.cget("text")
    assert [f.get() for f in box.fields] == commands
    assert all(str(f.cget("state")) == "readonly" for f in box.fields)       # selectable, not editable
    box.copy_buttons[-1].invoke()
    assert tk_root.clipboard_get() == commands[-1]
    assert "✓" in box.copy_buttons[-1].cget("text")


def test_the_firewall_box_goes_when_someone_comes_in_or_is_closed(tk_root, app):
    app.transport.address = ("0.0.0.0", 5555)
    app._firewall_hint()
    box = app.firewall_box
    feed(app, ev.MemberJoined("alice", "192.0.2.7:40000"))
    assert app.firewall_box is None and not box.winfo_exists()
    app.reached = False
    app._firewall_hint()
    app.firewall_box.close_button.invoke()
    assert not app.firewall_box.winfo_exists()


def test_no_firewall_hint_once_someone_came_in(tk_root, app):
    from chatui.server_window import FIREWALL_HINT_AFTER
    assert FIREWALL_HINT_AFTER == 60.0
    feed(app, ev.MemberJoined("alice", "127.0.0.1:40000"))
    app._firewall_hint()
    assert app.firewall_box is None


def test_a_crowd_counts_as_someone_coming_in(tk_root, app):
    feed(app, ev.Crowd(12, 0))
    app._firewall_hint()
    assert app.firewall_box is None
