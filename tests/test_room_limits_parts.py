"""The small pure pieces under the room's limits, at their edges: the token bucket,
the Limits record's validation, the sessions of members the operator removed, the
guests' line, the roster's counts and the gate's spent tokens and refusals."""
from __future__ import annotations

import dataclasses

import pytest

from udpcore import appmsg as m
from udpcore import events as ev
from udpcore import guests, wire
from udpcore.handshake import Gate, Step
from udpcore.limits import Limits
from udpcore.moderation import Moderation
from udpcore.parting import BYE_REASON, PARTING_LINGER, Parting
from udpcore.peer import Peer
from udpcore.ratelimit import TokenBucket
from udpcore.roster import Member, Roster
from udpcore.tokens import TOKEN_LIFETIME

pytestmark = pytest.mark.timeout(10)

ADDR = ("127.0.0.1", 40000)


# --- the token bucket -----------------------------------------------------------------------


def test_a_bucket_gives_its_burst_at_once_then_says_how_long_to_wait():
    b = TokenBucket(5.0, 2, 0.0)
    assert b.take(0.0) == 0.0 and b.take(0.0) == 0.0
    assert b.take(0.0) == pytest.approx(0.2)          # one token at 5 a second
    assert b.take(0.1) == pytest.approx(0.1)          # half a token there: half the wait left
    assert b.take(0.2) == 0.0


def test_a_refused_take_takes_nothing():
    b = TokenBucket(1.0, 1, 0.0)
    b.take(0.0)
    for t in (0.1, 0.5, 0.9):
        assert b.take(t) > 0
    assert b.take(1.0) == 0.0


def test_a_bucket_never_holds_more_than_its_burst():
    b = TokenBucket(10.0, 3, 100.0)
    b.take(100.0)
    assert [b.take(1000.0) for _ in range(4)][3] == pytest.approx(0.1)      # 3, then empty


def test_slow_and_stopped_buckets():
    slow = TokenBucket(0.5, 1, 0.0)
    slow.take(0.0)
    assert slow.take(0.0) == pytest.approx(2.0)       # a rate below 1: the wait is longer than a second
    stopped = TokenBucket(0.0, 1, 0.0)
    assert stopped.take(0.0) == 0.0
    assert stopped.take(99.0) == float("inf")         # no division by zero


def test_time_going_backwards_refills_nothing():
    b = TokenBucket(1.0, 1, 10.0)
    b.take(10.0)
    assert b.take(5.0) > 0 and b.take(10.5) == pytest.approx(0.5)


# --- Limits ------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["max_members", "max_per_address", "line_burst", "max_guests",
                                   "guest_line_chars", "guest_burst"])
def test_every_count_must_be_at_least_one(field):
    assert getattr(dataclasses.replace(Limits(), **{field: 1}), field) == 1
    with pytest.raises(ValueError, match=f"^{field} must be at least 1$"):
        dataclasses.replace(Limits(), **{field: 0})


@pytest.mark.parametrize("field", ["line_rate", "guest_rate", "guests_rate"])
def test_every_rate_must_be_more_than_zero(field):
    assert getattr(dataclasses.replace(Limits(), **{field: 0.01}), field) == 0.01
    with pytest.raises(ValueError, match=f"^{field} must be more than 0$"):
        dataclasses.replace(Limits(), **{field: 0.0})


def test_named_joins_may_be_zero_but_not_negative():
    assert Limits(named_joins=0).named_joins == 0
    with pytest.raises(ValueError, match="^named_joins must not be negative$"):
        Limits(named_joins=-1)


def test_the_defaults_are_the_documented_ones():
    assert Limits() == Limits(max_members=500, max_per_address=32, line_rate=5.0, line_burst=20, max_guests=16,
                              guest_line_chars=500, guest_rate=1.0, guest_burst=3, guests_rate=5.0, named_joins=5)


# --- parting sessions -------------------------------------------------------------------------


def parting_member(sid: bytes = b"S" * 8, addr=ADDR, now: float = 0.0) -> Member:
    mem = Member("bob", addr, Peer(sid, now), now)
    mem.peer.send(m.Removed("spam"))
    return mem


def byes(out) -> list:
    return [(wire.decode(d), a) for d, a in out if isinstance(wire.decode(d), wire.Bye)]


def test_a_parting_member_gets_its_removal_until_the_deadline_then_a_bye():
    p = Parting()
    mem = parting_member()
    p.add(mem, 0.0)
    out: list = []
    p.flush(0.0, out)
    assert [type(wire.decode(d)) for d, _ in out] == [wire.Data] and len(p) == 1
    out = []
    p.flush(PARTING_LINGER - 0.001, out)
    assert byes(out) == []
    p.flush(PARTING_LINGER, out)
    assert byes(out) == [(wire.Bye(b"S" * 8, BYE_REASON), ADDR)] and len(p) == 0


def test_an_acknowledged_removal_ends_at_once_and_others_still_wait():
    p = Parting()
    a, b = parting_member(b"A" * 8), parting_member(b"B" * 8, ("127.0.0.2", 1))
    p.add(a, 0.0)
    p.add(b, 0.0)
    p.flush(0.0, [])
    assert p.packet(wire.Ack(b"A" * 8, 1, 0, 0), ADDR, 0.01)
    out: list = []
    p.flush(0.02, out)
    assert byes(out) == [(wire.Bye(b"A" * 8, BYE_REASON), ADDR)] and len(p) == 1
    out = []
    p.flush(PARTING_LINGER, out)
    assert byes(out) == [(wire.Bye(b"B" * 8, BYE_REASON), ("127.0.0.2", 1))]


def test_a_parting_session_heard_from_another_address_is_swallowed_but_not_believed():
    p = Parting()
    mem = parting_member()
    p.add(mem, 0.0)
    p.flush(0.0, [])
    assert p.packet(wire.Ack(b"S" * 8, 1, 0, 0), ("127.0.0.9", 9), 0.01)     # ours: not "unknown session"
    assert not mem.peer.channel.idle                                          # but not its ack either
    assert not p.packet(wire.Ack(b"X" * 8, 1, 0, 0), ADDR, 0.01)             # not ours


def test_the_next_wake_is_the_sooner_of_the_retransmission_and_the_deadline():
    p = Parting()
    assert p.next_at() is None
    mem = parting_member()
    p.add(mem, 10.0)
    assert p.next_at() == 10.0 + PARTING_LINGER                               # nothing sent yet
    p.flush(10.0, [])
    rto = mem.peer.channel.get_timer()
    assert rto is not None and p.next_at() == min(rto, 10.0 + PARTING_LINGER)


def test_closing_the_room_ends_every_parting_session():
    p = Parting()
    p.add(parting_member(b"A" * 8), 0.0)
    p.add(parting_member(b"B" * 8), 0.0)
    out: list = []
    p.bye_all(out)
    assert [x for x, _ in byes(out)] == [wire.Bye(b"A" * 8, BYE_REASON), wire.Bye(b"B" * 8, BYE_REASON)]
    assert len(p) == 0 and p.next_at() is None


def test_sessions_that_end_together_all_get_their_bye():
    p = Parting()
    p.add(parting_member(b"A" * 8), 0.0)
    p.add(parting_member(b"B" * 8), 0.0)
    out: list = []
    p.flush(PARTING_LINGER, out)
    assert [x.session for x, _ in byes(out)] == [b"A" * 8, b"B" * 8] and len(p) == 0


# --- the guests' line, at its byte edges ---------------------------------------------------------


def test_only_the_bytes_that_can_matter_are_decoded_and_a_cut_character_is_no_error():
    # max_chars=2: at most 4 * 2 + 4 = 12 bytes are read.
    assert guests.line_in("\u20ac\u20ac\u20ac\u20ac\u20ac".encode(), 2) == "\u20ac\u20ac"   # 15 bytes: read 12
    assert guests.line_in(b"abcdefghijkl\xff", 2) == "ab"              # the 13th byte is never read
    assert guests.line_in(b"abcdefghijk\xff", 2) is None               # the 12th is
    assert guests.line_in(b"abcdefghijk\xc3", 2) is None               # 12 bytes, not cut: a bad ending
    assert guests.line_in(b"abcdefghijkl\xc3\xa9", 2) == "ab"          # cut inside the 13th-14th: fine
    assert guests.line_in(b"abcd\xc3", 2) is None                      # short and broken: not UTF-8
    assert guests.line_in(b"abcdef\xc3", 2) is None


def test_what_a_removed_guest_reads():
    assert guests.removed_out("", False) == "* The operator removed you from the room."
    assert guests.removed_out("spam", True) == "* The operator banned you from the room: spam"


# --- the roster's counts -----------------------------------------------------------------------


def test_the_roster_counts_guests_and_members_per_address_through_every_change():
    r = Roster()
    g1, g2 = Member("guest-1", ("127.0.0.7", 1), None, 0.0), Member("guest-2", ("127.0.0.7", 2), None, 0.0)
    a = Member("a", ("127.0.0.8", 1), Peer(b"A" * 8, 0.0), 0.0)
    b = Member("b", ("127.0.0.8", 2), Peer(b"B" * 8, 0.0), 0.0)
    for x in (g1, g2, a, b):
        r.add(x)
    assert r.guests == 2 and dict(r.per_host) == {"127.0.0.8": 2}
    r.remove(g1)
    assert r.guests == 1
    r.move(a, ("127.0.0.9", 5))
    assert dict(r.per_host) == {"127.0.0.8": 1, "127.0.0.9": 1}
    r.move(g2, ("127.0.0.9", 6))                       # a guest moving counts nowhere
    assert dict(r.per_host) == {"127.0.0.8": 1, "127.0.0.9": 1} and r.guests == 1
    r.remove(b)
    assert dict(r.per_host) == {"127.0.0.9": 1}        # an address with nobody left is forgotten
    r.remove(a)
    r.remove(g2)
    assert not r.per_host and r.guests == 0 and not r.by_key and not r.by_sid and not r.by_addr


# --- the gate: spent tokens, and refusals at an address someone holds ---------------------------


def test_a_spent_token_is_remembered_exactly_as_long_as_it_could_be_accepted():
    gate = Gate(b"k" * 32, Limits(), Moderation())
    gate.spend(b"t" * 20, 100.0)
    gate.forget_spent(100.0 + TOKEN_LIFETIME)
    assert b"t" * 20 in gate._spent
    gate.forget_spent(100.0 + TOKEN_LIFETIME + 0.001)
    assert not gate._spent


def hello_at(gate: Gate, name: str, addr, nonce: bytes = b"m" * 8) -> wire.Hello:
    return wire.Hello(nonce, name, gate.tokens.mint(addr, 1.0))


@pytest.mark.parametrize("limits,code", [(Limits(max_members=1), wire.RefuseCode.FULL),
                                         (Limits(max_per_address=1), wire.RefuseCode.HOST_FULL)])
def test_a_new_program_at_a_members_address_takes_its_place_in_a_full_room(limits, code):
    gate = Gate(b"k" * 32, limits, Moderation())
    roster = Roster()
    old = Member("alice", ADDR, Peer(b"A" * 8, 0.0), 0.0, nonce=b"n" * 8)
    roster.add(old)
    v = gate.judge(hello_at(gate, "carol", ADDR), ADDR, 1.0, 200, roster)
    assert (v.step, v.member) == (Step.ADMIT, old)
    other = ("127.0.0.1", 40001)                      # the same host, another program: no place
    v = gate.judge(hello_at(gate, "dave", other), other, 1.0, 200, roster)
    assert (v.step, v.refuse, v.member) == (Step.REFUSE, code, None)


@pytest.mark.parametrize("limits,bans,code", [
    (Limits(max_members=1), (), wire.RefuseCode.FULL),
    (Limits(max_per_address=1), (), wire.RefuseCode.HOST_FULL),
    (Limits(), ("carol",), wire.RefuseCode.BANNED),
])
def test_a_refusal_at_an_address_someone_holds_names_who_goes(limits, bans, code):
    gate = Gate(b"k" * 32, limits, Moderation(ev.Ban(n) for n in bans))
    roster = Roster()
    roster.add(Member("bob", ("127.0.0.3", 1), Peer(b"B" * 8, 0.0), 0.0))       # fills the room / address
    guest = Member("guest-x", ("127.0.0.3", 2), None, 0.0)
    roster.add(guest)
    v = gate.judge(hello_at(gate, "carol", guest.addr), guest.addr, 1.0, 200, roster)
    assert (v.step, v.refuse, v.member) == (Step.REFUSE, code, guest)
