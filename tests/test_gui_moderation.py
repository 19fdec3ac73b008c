"""The server window's operator tools with a real server and real clients on
127.0.0.1: the context menu's kick, mute and ban reach the members, bans are
saved and lifted, private lines keep their text from the operator, and a line
to a member who left is refused, not sent to anyone."""
from __future__ import annotations

import json
import time

import pytest

from udpcore import events as ev
from tests.conftest import Peers, pump, wait_for

pytestmark = [pytest.mark.gui, pytest.mark.timeout(60)]


@pytest.fixture
def data(tmp_path):
    return tmp_path / "data"


@pytest.fixture
def app(tk_root, data, monkeypatch):
    from chatui import moderation
    from chatui.server_window import ServerApp
    answers = {"ask": "", "confirm": True}
    monkeypatch.setattr(moderation, "ask", lambda *a: answers["ask"])
    monkeypatch.setattr(moderation, "confirm", lambda *a: answers["confirm"])
    a = ServerApp(tk_root, tk_root._palette, "127.0.0.1", 0, data_dir=str(data))
    a.answers = answers
    yield a
    if a.transport is not None:
        a.transport.close()


@pytest.fixture
def clients(app):
    peers = Peers(app.transport.address[1])
    yield peers
    peers.close()


def listed(tk_root, app, *names: str) -> None:
    pump(tk_root, lambda: all(app.view.members.tree.exists(n) for n in names), what=f"{names} listed")


def menu_item(app, name: str, label: str, sub: bool = False) -> None:
    menu = app.member_menu(name)
    target = menu.mute_menu if sub else menu
    target.invoke(menu.index_of(label, target))


def test_a_line_to_a_member_who_left_reaches_nobody(tk_root, app, clients):
    maria, bob = clients("maria"), clients("bob")
    listed(tk_root, app, "maria", "bob")
    menu_item(app, "maria", "Write privately")
    maria.close(timeout=2)
    pump(tk_root, lambda: "(not in the room)" in app.chip.text(), what="target marked gone")
    app.view.entry.var.set("still there?")
    app.view.entry.send()
    assert "maria is no longer in the room; your line was not sent." in app.view.history.content()
    assert app.view.entry.var.get() == "still there?"
    app.transport.say("marker")                     # after anything the window might have sent
    wait_for(bob, lambda e: isinstance(e, ev.RoomLine) and e.text == "marker")
    assert not [e for e in bob.seen if isinstance(e, ev.RoomLine) and e.text == "still there?"]


def test_private_lines_between_members_show_no_text_and_lines_to_the_operator_do(tk_root, app, clients):
    alice, bob = clients("alice"), clients("bob")
    listed(tk_root, app, "alice", "bob")
    alice.private("bob", "the secret is 42")
    wait_for(bob, lambda e: isinstance(e, ev.RoomLine) and e.text == "the secret is 42")
    pump(tk_root, lambda: "1 private line between members" in app.view.status.get(), what="counted")
    alice.private("server", "a word with the operator")
    pump(tk_root, lambda: "alice: (privately to you) a word with the operator" in app.view.history.content(),
         what="line to the operator")
    assert "secret" not in app.view.history.content()


def test_kick_from_the_menu_removes_the_member_with_the_reason(tk_root, app, clients):
    alice, bob = clients("alice"), clients("bob")
    listed(tk_root, app, "alice", "bob")
    app.answers["ask"] = "enough for today"
    menu_item(app, "alice", "Kick…")
    e = wait_for(alice, lambda e: isinstance(e, ev.Removed))
    assert e.reason == "enough for today" and not e.banned
    left = wait_for(bob, lambda e: isinstance(e, ev.MemberLeft) and e.name == "alice")
    assert left.reason.value == "kicked"
    pump(tk_root, lambda: not app.view.members.tree.exists("alice"), what="alice gone from the list")


def test_mute_from_the_menu_refuses_the_members_lines_and_shows_in_the_list(tk_root, app, clients):
    alice, bob = clients("alice"), clients("bob")
    listed(tk_root, app, "alice", "bob")
    menu_item(app, "alice", "5 minutes", sub=True)
    pump(tk_root, lambda: app.view.members.tree.item("alice", "values")[3] == "5 min", what="muted shown")
    alice.say("can you hear me?")
    time.sleep(0.5)                                     # time for the server to refuse it
    menu_item(app, "alice", "Unmute", sub=True)
    pump(tk_root, lambda: app.view.members.tree.item("alice", "values")[3] == "", what="unmuted shown")
    alice.say("and now?")
    wait_for(bob, lambda e: isinstance(e, ev.RoomLine) and e.text == "and now?")
    assert not [e for e in bob.seen if isinstance(e, ev.RoomLine) and e.text == "can you hear me?"]
    pump(tk_root, lambda: "alice: and now?" in app.view.history.content(), what="shown")
    assert "can you hear me?" not in app.view.history.content()
    refused = [e for e in alice.seen + alice.events.get_all() if isinstance(e, ev.LineRefused)]
    assert len(refused) == 1                           # alice is told, with the mute's time left
    assert type(refused[0].error).__name__ == "Muted" and 200 < refused[0].error.wait <= 300


def test_ban_from_the_menu_saves_keeps_out_and_unban_lets_back_in(tk_root, app, clients, data):
    from chatui.moderation import BansWindow
    from udpnet import start_client
    eve = clients("eve")
    listed(tk_root, app, "eve")
    app.answers["confirm"] = False
    menu_item(app, "eve", "Ban…")                       # cancelled: nothing happens
    time.sleep(0.2)
    assert app.bans == ()
    app.answers["confirm"] = True
    menu_item(app, "eve", "Ban…")
    assert wait_for(eve, lambda e: isinstance(e, ev.Removed)).banned
    pump(tk_root, lambda: (data / "bans.json").exists(), what="bans saved")
    assert json.loads((data / "bans.json").read_text())["bans"] == [{"name": "eve", "address": "127.0.0.1"}]
    again = start_client(f"127.0.0.1:{app.transport.address[1]}", "eve")
    again.seen = []
    e = wait_for(again, lambda e: isinstance(e, (ev.JoinRefused, ev.Connected)))
    assert isinstance(e, ev.JoinRefused) and type(e.error).__name__ == "Banned"
    again.close(timeout=1)
    menu = app.member_menu(None)                        # the list's background: Bans… only
    menu.invoke(menu.index_of("Bans…"))
    window = next(w for w in tk_root.winfo_children() if isinstance(w, BansWindow))
    window.tree.selection_set("eve")
    tk_root.update()
    window.unban_button.invoke()
    pump(tk_root, lambda: window.tree.get_children() == (), what="ban lifted in the list")
    assert json.loads((data / "bans.json").read_text())["bans"] == []
    clients("eve")                                      # welcome back
