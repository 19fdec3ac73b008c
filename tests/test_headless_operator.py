# ruff: noqa: F811  (the procs fixture is imported, then named by the tests that use it)
"""The operator at the headless server's terminal, end to end with real
headless clients: /kick, /mute, /ban, /unban and /bans, bans that outlive a
restart in --data-dir, a corrupt bans file, and ``exit`` with people in the room."""
from __future__ import annotations

import json
import re
import time

import pytest

from tests.test_headless import client, procs  # noqa: F401  (procs: the fixture)

pytestmark = pytest.mark.timeout(90)


def start_server(procs, data, *more: str):
    srv = procs("gui_server.py", "--headless", "--host", "127.0.0.1", "--port", "0", "--data-dir", str(data), *more)
    srv.port = int(srv.expect(r"listening on 127\.0\.0\.1:(\d+)").group(1))
    return srv


def joined(procs, srv, name: str):
    c = client(procs, srv.port, name)
    c.expect("Connected")
    srv.expect(rf"^\* {name} joined from 127\.0\.0\.1:\d+$")
    return c


def nth(proc, pattern: str, n: int, timeout: float = 10.0) -> None:
    """Wait until ``n`` lines of ``proc`` match (Proc.expect finds the first one only)."""
    deadline = time.monotonic() + timeout
    while len([ln for ln in proc.lines if re.search(pattern, ln)]) < n:
        assert time.monotonic() < deadline, f"fewer than {n} lines match {pattern!r}: {proc.lines!r}"
        try:
            proc.expect(r"(?!)", timeout=0.1)          # matches nothing: only reads what came
        except AssertionError:
            pass


def test_mute_refuses_a_members_lines_until_unmuted(procs, tmp_path):
    srv = start_server(procs, tmp_path)
    bob = joined(procs, srv, "bob")
    srv.send("/mute bob 1")
    srv.expect(r"^\* bob is muted for 1 minute\.$")
    time.sleep(0.3)
    bob.send("can anyone hear me")
    time.sleep(1.0)                          # the line reaches the server (and is refused) before the unmute
    srv.send("/mute bob 0")
    srv.expect(r"^\* bob may speak again\.$")
    time.sleep(0.3)
    bob.send("back again")
    srv.expect(r"^bob: back again$")
    assert not any("can anyone hear me" in ln for ln in srv.lines)     # the muted line went nowhere
    srv.send("/mute nobody 5")
    srv.expect(r"^\* No member is called nobody\.$")
    srv.send("/mute bob")
    srv.expect(r"^\* Usage: /mute NAME MINUTES$")


def test_kick_removes_a_member_who_is_told_why(procs, tmp_path):
    srv = start_server(procs, tmp_path)
    alice = joined(procs, srv, "alice")
    watcher = joined(procs, srv, "watcher")
    srv.send("/kick alice go home")
    srv.expect(r"^\* alice ")                                           # the operator sees her go
    watcher.expect(r"^\* alice ")                                       # and so does the room
    alice.p.wait(timeout=15)
    code, _, err = alice.finish()
    assert code == 1 and err.count("\n") == 1 and "go home" in err      # one sentence with the reason
    srv.send("/kick nobody")
    srv.expect(r"^\* No member is called nobody\.$")
    again = joined(procs, srv, "alice")                                 # a kick is not a ban
    again.send("I'm back")
    srv.expect(r"^alice: I'm back$")


def test_ban_unban_and_bans_with_the_file_kept_current(procs, tmp_path):
    srv = start_server(procs, tmp_path)
    joined(procs, srv, "mallory")
    srv.send("/ban mallory")
    srv.expect(r"^\* mallory is banned, and so is the address 127\.0\.0\.1\.$")
    assert json.loads((tmp_path / "bans.json").read_text()) == {
        "version": 1, "bans": [{"name": "mallory", "address": "127.0.0.1"}]}
    srv.send("/bans")
    srv.expect(r"^\* 1 ban: mallory \(127\.0\.0\.1\)$")
    back = client(procs, srv.port, "mallory2", stdin=b"")             # the same address, another name
    code, _, err = back.finish(timeout=20)
    assert code == 1 and err.startswith("ChatClient: ")
    srv.send("/unban nobody")
    srv.expect(r"^\* No ban holds the name nobody\.$")
    srv.send("/unban mallory")
    srv.expect(r"^\* The ban on mallory is lifted\.$")
    assert json.loads((tmp_path / "bans.json").read_text())["bans"] == []
    joined(procs, srv, "mallory")
    srv.send("/bans")
    srv.expect(r"^\* No one is banned\.$")


def test_bans_outlive_a_restart_in_the_data_folder(procs, tmp_path):
    srv = start_server(procs, tmp_path)
    eve = joined(procs, srv, "eve")
    srv.send("/ban eve")
    srv.expect(r"^\* eve is banned")
    eve.p.wait(timeout=15)
    srv.send("exit")
    code, _, _ = srv.finish()
    assert code == 0
    again = start_server(procs, tmp_path)
    again.expect(rf"^\* 1 ban kept from before \({tmp_path / 'bans.json'}\)$")
    refused = client(procs, again.port, "eve", stdin=b"")
    code, _, err = refused.finish(timeout=20)
    assert code == 1 and err.startswith("ChatClient: ")
    again.send("/bans")
    again.expect(r"^\* 1 ban: eve \(127\.0\.0\.1\)$")


def test_a_corrupt_bans_file_is_kept_aside_and_the_room_opens(procs, tmp_path):
    (tmp_path / "bans.json").write_text("{ half a file")
    srv = start_server(procs, tmp_path)
    srv.expect(r"^\* The bans file .*bans\.json could not be read; it was kept as .*bans\.json\.corrupt-\d+-\d+ "
               r"and the room starts with no bans\.$")
    kept = [p for p in tmp_path.iterdir() if p.name.startswith("bans.json.corrupt-")]
    assert [p.read_text() for p in kept] == ["{ half a file"]
    joined(procs, srv, "alice")


def test_exit_with_members_in_asks_for_a_second_exit(procs, tmp_path):
    srv = start_server(procs, tmp_path)
    a = joined(procs, srv, "alice")
    b = joined(procs, srv, "bob")
    srv.send("exit")
    srv.expect(r"^\* 2 members are in the room\. Type exit again to close it\.$")
    a.send("still open?")
    srv.expect(r"^alice: still open\?$")
    srv.send("/who")                              # anything else typed in between: exit asks again
    srv.expect(r"^\* 2 in the room: alice, bob$")
    srv.send("exit")
    nth(srv, r"^\* 2 members are in the room\. Type exit again to close it\.$", 2)
    assert len([ln for ln in srv.lines if "Type exit again" in ln]) == 2
    srv.send("exit")
    code, lines, _ = srv.finish()
    assert code == 0 and lines[-1] == "* the room is closed"
    for c in (a, b):
        c.p.wait(timeout=10)
        assert c.finish()[0] == 1


def test_exit_in_an_empty_room_closes_at_once(procs, tmp_path):
    srv = start_server(procs, tmp_path, "--max-members", "3")
    srv.send("exit")
    code, lines, _ = srv.finish()
    assert code == 0 and lines[-1] == "* the room is closed"


def test_the_room_count_includes_members_a_crowd_brought_unnamed():
    """Joins beyond --named-joins a second come as a count: exit must still ask."""
    from chatfront.headless import _Room
    from udpcore import events as ev
    room = _Room()
    for e in (ev.MemberJoined("alice", "127.0.0.1:1"), ev.Crowd(12, 0), ev.MemberLeft("zed"),
              ev.MemberRenamed("alice", "ally"), ev.Crowd(0, 3)):
        room.track(e)
    assert room.names == ["ally"] and len(room) == 1 + 12 - 1 - 3
    room.track(ev.Crowd(0, 50))
    assert len(room) == 1
