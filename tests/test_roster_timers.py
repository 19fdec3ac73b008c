"""The server's bookkeeping: the roster's three indexes and the member timer heap."""
from __future__ import annotations

import pytest

from udpcore.peer import Peer
from udpcore.roster import Member, Roster
from udpcore.timers import MemberTimers

pytestmark = pytest.mark.timeout(10)

A1, A2, A3 = ("127.0.10.1", 1), ("127.0.10.2", 2), ("127.0.10.3", 3)


def mem(name, addr, sid=None, now=0.0):
    return Member(name, addr, Peer(sid, now) if sid else None, now)


def test_a_member_hears_through_its_peer_and_a_guest_by_itself():
    m = mem("alice", A1, b"s" * 8, now=5.0)
    assert not m.guest and m.last_heard == 5.0 and m.credit == 0 and m.timer_at is None and m.nonce == b""
    m.heard(7.0)
    assert m.peer.last_heard == 7.0 and m.last_heard == 7.0
    g = mem("guest-x", A2, now=5.0)
    assert g.guest and g.last_heard == 5.0
    g.heard(9.0)
    assert g.last_heard == 9.0


def test_the_roster_finds_members_by_session_name_and_address():
    r = Roster()
    a, g = mem("Alice", A1, b"a" * 8), mem("guest-x", A2)
    r.add(a)
    r.add(g)
    assert len(r) == 2 and list(r) == [a, g] and list(r.sessions()) == [a]
    assert r.named("ALICE") is a and r.named("alice") is a and r.named("bob") is None
    assert r.at(A1) is a and r.at(A3) is None
    assert r.session(b"a" * 8) is a and r.session(b"b" * 8) is None
    assert r.names() == ["Alice", "guest-x"]


def test_removing_twice_is_false_and_leaves_no_trace():
    r = Roster()
    a = mem("alice", A1, b"a" * 8)
    r.add(a)
    assert r.remove(a) is True
    assert r.remove(a) is False
    assert len(r) == 0 and r.named("alice") is None and r.session(b"a" * 8) is None and not r.present(a)


def test_a_member_replaced_at_its_address_is_no_longer_present_and_removing_it_spares_the_new_one():
    r = Roster()
    old, new = mem("old", A1, b"o" * 8), mem("new", A1, b"n" * 8)
    r.add(old)
    r.add(new)
    assert not r.present(old) and r.present(new)
    assert r.remove(old) is False
    assert r.at(A1) is new


def test_rename_and_move_keep_the_indexes_together():
    r = Roster()
    a = mem("alice", A1, b"a" * 8)
    r.add(a)
    r.rename(a, "Alicia")
    assert a.name == "Alicia" and r.named("alicia") is a and r.named("alice") is None
    r.move(a, A2)
    assert a.addr == A2 and r.at(A2) is a and r.at(A1) is None and r.present(a)
    assert r.remove(a) and len(r) == 0


def test_the_timer_heap_gives_the_earliest_deadline_and_skips_stale_entries():
    t = MemberTimers()
    assert t.next_at() is None
    a, b = mem("a", A1, b"a" * 8), mem("b", A2, b"b" * 8)
    t.arm(a, 5.0)
    t.arm(b, 3.0)
    assert t.next_at() == 3.0
    t.arm(a, 7.0)                          # later than pending: left as it is
    assert a.timer_at == 5.0
    t.arm(a, 2.0)                          # sooner: the 5.0 entry goes stale
    assert a.timer_at == 2.0 and t.next_at() == 2.0
    assert list(t.due(1.999)) == []
    assert list(t.due(2.0)) == [a] and a.timer_at is None
    assert list(t.due(4.0)) == [b]
    assert list(t.due(100.0)) == []        # the stale 5.0 entry of a is dropped, not served
    assert t.next_at() is None


def test_schedule_replaces_the_deadline_even_when_later():
    t = MemberTimers()
    a = mem("a", A1, b"a" * 8)
    t.arm(a, 1.0)
    t.schedule(a, 4.0)
    assert list(t.due(2.0)) == [] and list(t.due(4.0)) == [a]


def test_members_due_at_the_same_instant_come_out_in_the_order_they_were_armed():
    t = MemberTimers()
    ms = [mem(str(i), ("127.0.10.9", i), bytes([i]) * 8) for i in range(5)]
    for x in ms:
        t.arm(x, 1.0)
    assert list(t.due(1.0)) == ms


def test_the_roster_version_moves_when_an_address_comes_or_goes_and_not_on_a_rename():
    r = Roster()
    v = r.version
    a = mem("alice", A1, b"a" * 8)
    r.add(a)
    assert r.version == v + 1
    r.rename(a, "alicia")
    assert r.version == v + 1                  # the same address: nothing for the transport to follow
    r.move(a, A2)
    assert r.version == v + 2
    r.add(mem("guest-x", A3))
    assert r.version == v + 3
    assert not r.remove(mem("bob", A1, b"b" * 8))   # not in the room: nothing changed
    assert r.version == v + 3
    assert r.remove(a)
    assert r.version == v + 4
