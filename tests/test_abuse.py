"""Issue 11's attacks on the room, each as a test of the pure server engine (no sockets):
a guest datagram of many lines, a guest storm from many addresses, a member flood,
a join storm, look-alike names, ghost time, a replayed handshake, the operator's
private target gone, and the operator's kick, mute and ban.

The same attacks over real sockets from many loopback addresses are in
tests/test_abuse_loopback.py; their cost to members' latency is bench/bench_abuse.py.
"""
from __future__ import annotations

import weakref

import pytest

from udpcore import appmsg as m
from udpcore import events as ev
from udpcore import wire
from udpcore.appmsg import LeaveReason
from udpcore.errors import NoSuchMember, NotBanned
from udpcore.keying import ClientKeying
from udpcore.limits import Limits
from udpcore.parting import PARTING_LINGER
from udpcore.peer import MEMBER_TIMEOUT
from udpcore.protection import Side
from udpcore.sealing import Seal
from udpcore.server import STALL_TIMEOUT, ServerEngine
from tests.enginepair import SERVER, Room, drain
from tests.sealed import keys_of, peek, peek_data
from tests.test_server_engine import joined as joined_room
from tests.typing_ import typed

pytestmark = pytest.mark.timeout(30)

GUEST = ("127.0.0.1", 50000)


def joined(*names: str, **kw) -> tuple[Room, list]:
    """A room with these members in it; what the server sent so far forgotten."""
    room, clients = joined_room(*names, **kw)
    room.sent_by_server.clear()
    return room, clients


def messages_to(room: Room, client) -> list:
    """The chat messages the server sent ``client`` (single-fragment DATA, opened
    with its session's keys), in order."""
    addr = room.addr_of(client)
    out = []
    for data, dst in room.sent_by_server:
        if dst == addr and wire.is_protocol(data):
            for p in peek_data(keys_of(client), data):
                if isinstance(p, wire.Data) and not p.flags & wire.FLAG_MORE:
                    out.append(m.decode_msg(p.payload))
    return out


def lines(events: list, sender: str | None = None) -> list[str]:
    return [e.text for e in events if isinstance(e, ev.RoomLine) and (sender is None or e.sender == sender)]


_SEALS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()     # server -> {addr: the member's Seal}


def _answers(s: ServerEngine, addr, now: float, room: Room | None, keys=None) -> list:
    answer = []
    for d, dst in s.datagrams_to_send(now):
        if dst == addr:
            answer.append(peek(keys, d) if keys is not None else wire.decode(d))
        elif room is not None:
            room.sent_by_server.append((d, dst))
            if dst in room.clients:
                room.clients[dst].receive_datagram(d, SERVER, now)
    return answer


def hello(s: ServerEngine, name: str, addr, now: float, nonce: bytes = b"n" * 8, room: Room | None = None) -> list:
    """A client's HELLO with a fresh token and, when it is welcomed, its first sealed
    packet (only that lets it in); the packets the server answers with (sealed ones
    opened). What the server sends others meanwhile goes to ``room``'s clients."""
    tok = s._gate.tokens.mint(addr, now)
    keying = ClientKeying()
    s.receive_datagram(wire.encode(wire.Hello(nonce, name, tok, public=keying.share.public)), addr, now)
    answer = _answers(s, addr, now, room)
    if answer and isinstance(answer[0], wire.Welcome):
        w = answer[0]
        keys = keying.welcomed(w.public, w.pake, w.confirm, nonce, tok, w.session)
        seal = _SEALS.setdefault(s, {})[addr] = Seal(keys, Side.CLIENT)
        s.receive_datagram(seal.seal(wire.encode(wire.Ping(w.session))), addr, now)
        answer += _answers(s, addr, now, room, keys)
    return answer


def sealed(s: ServerEngine, addr, packet, now: float) -> None:
    """``packet`` from the member :func:`hello` let in at ``addr``, sealed with its keys."""
    s.receive_datagram(_SEALS[s][addr].seal(wire.encode(packet)), addr, now)


# --- guests ----------------------------------------------------------------------------------


def test_a_64_kb_guest_datagram_of_lines_is_one_line_on_screens():
    room, (a,) = joined("alice")
    room.server.receive_datagram(b"a\n" * 32_753, GUEST, room.now)
    room.settle()
    assert lines(drain(a)) == ["a"]


def test_guest_lines_are_cut_at_500_characters():
    room, (a,) = joined("alice")
    room.server.receive_datagram(b"x" * 60_000, GUEST, room.now)
    room.settle()
    assert lines(drain(a)) == ["x" * 500]


def test_a_guest_may_say_3_lines_at_once_then_1_a_second():
    room, (a,) = joined("alice")
    s = room.server
    for i in range(10):
        s.receive_datagram(f"g{i}".encode(), GUEST, room.now)
    room.settle()
    assert lines(drain(a)) == ["g0", "g1", "g2"]
    assert s.counters["guest_rate_limited"] == 7
    room.now += 0.99
    s.receive_datagram(b"early", GUEST, room.now)
    room.now += 0.02
    s.receive_datagram(b"on time", GUEST, room.now)
    room.settle()
    assert lines(drain(a)) == ["on time"]


def test_a_guest_storm_from_5000_addresses_admits_at_most_16_guests_and_5_lines_a_second():
    room, (a,) = joined("alice")
    s = room.server
    start = room.now
    for i in range(5000):                      # forged sources: each address sends once
        s.receive_datagram(b"junk junk", (f"127.1.{i // 250}.{i % 250 + 1}", 4000), room.now)
        if i % 500 == 499:
            room.now += 0.1
            room.settle()
    room.settle()
    got = drain(a)
    joins = [e for e in got if isinstance(e, ev.MemberJoined)]
    assert 1 <= len([n for n in s.member_names if n.startswith("guest-")]) <= 16
    assert len(joins) <= 16
    # Room-wide: a burst of 5, then 5 a second over the storm's second.
    assert len(lines(got)) <= 5 + 5 * (room.now - start) + 1
    assert s.counters["guests_full"] + s.counters["guest_rate_limited"] == 5000 - len(lines(got))


def test_no_more_than_16_guests_at_once():
    room, (a,) = joined("alice")
    s = room.server
    for i in range(20):
        room.now += 0.25                        # within the room's 5 guest lines a second
        s.receive_datagram(b"hi", (f"127.1.9.{i + 1}", 4000), room.now)
    assert len([n for n in s.member_names if n.startswith("guest-")]) == 16
    assert s.counters["guests_full"] == 4


def test_members_lines_go_through_a_guest_storm_at_once():
    room, (a, b) = joined("alice", "bob")
    s = room.server
    for i in range(2000):
        s.receive_datagram(b"x\n" * 500, (f"127.2.{i // 200}.{i % 200 + 1}", 4000), room.now)
    typed(a, "still here")
    room.settle()
    assert "still here" in lines(drain(b), "alice")
    assert sorted(s.member_names)[:2] == ["alice", "bob"]


def test_a_guest_over_its_rate_uses_no_room_tokens():
    room, (a,) = joined("alice")
    s = room.server
    for _ in range(20):                         # one loud guest...
        s.receive_datagram(b"loud", GUEST, room.now)
    s.receive_datagram(b"quiet", ("127.0.0.2", 50001), room.now)   # ...leaves room for another
    room.settle()
    assert lines(drain(a)).count("quiet") == 1


# --- members ---------------------------------------------------------------------------------


def test_a_member_flood_relays_the_burst_and_refuses_the_rest_to_the_sender():
    room, (a, b) = joined("alice", "bob")
    s = room.server
    for i in range(200):
        s._member_message(s._roster.named("alice"), m.Say(i + 1, f"flood {i}"), room.now)
    room.settle()
    assert lines(drain(b), "alice") == [f"flood {i}" for i in range(20)]
    refused = [x for x in messages_to(room, a) if isinstance(x, m.LineRefused)]
    assert [x.msg_id for x in refused] == list(range(21, 201))
    assert {(x.code, x.wait) for x in refused} == {(m.RefusalCode.RATE_LIMITED, 1)}
    assert s.counters["rate_limited"] == 180
    room.now += 1.0                             # 5 lines a second come back
    mem = s._roster.named("alice")
    for i in range(6):
        s._member_message(mem, m.Say(300 + i, f"later {i}"), room.now)
    room.settle()
    assert lines(drain(b), "alice") == [f"later {i}" for i in range(5)]


def test_nick_and_who_count_against_the_rate_and_are_refused_with_an_error():
    room, (a,) = joined("alice", limits=Limits(line_burst=2, line_rate=0.001))
    s = room.server
    mem = s._roster.named("alice")
    s._member_message(mem, m.Who(), room.now)
    s._member_message(mem, m.Nick("ally"), room.now)
    s._member_message(mem, m.Nick("al"), room.now)
    room.settle()
    assert s.member_names == ["ally"]
    assert m.Error(m.ErrorCode.RATE_LIMITED, "") in messages_to(room, a)


def test_a_new_member_is_told_the_rate_to_pace_itself_by():
    room = Room(limits=Limits(line_rate=2.5, line_burst=7))
    c = room.add("alice")
    room.settle()
    assert m.Limits(150, 7) in messages_to(room, c)


def test_the_room_refuses_members_past_max_members_with_full():
    s = ServerEngine(0.0, limits=Limits(max_members=3, handshake_burst=10))      # about the cap, not the rate
    for i in range(3):
        assert isinstance(hello(s, f"m{i}", (f"127.0.3.{i + 1}", 4000), 0.0)[0], wire.Welcome)
    answer = hello(s, "late", ("127.0.3.9", 4000), 0.0)
    assert answer == [wire.Refuse(b"n" * 8, wire.RefuseCode.FULL, "late")]


def test_one_address_may_hold_32_members_and_no_more():
    s = ServerEngine(0.0, limits=Limits(handshake_rate=1e6, handshake_burst=10**6))   # about the caps, not the rate
    for port in range(32):
        assert isinstance(hello(s, f"m{port}", ("127.0.4.1", 5000 + port), 0.0)[0], wire.Welcome)
    assert hello(s, "m32", ("127.0.4.1", 6000), 0.0)[0].code is wire.RefuseCode.HOST_FULL
    assert isinstance(hello(s, "other", ("127.0.4.2", 6000), 0.0)[0], wire.Welcome)
    sealed(s, ("127.0.4.1", 5000), wire.Bye(s._roster.named("m0").peer.session), 0.0)
    assert isinstance(hello(s, "m32", ("127.0.4.1", 6000), 0.01)[0], wire.Welcome)   # a place freed


def test_a_join_storm_names_5_joins_a_second_and_counts_the_rest():
    # As many key agreements a second as the storm brings (the default 50 would
    # leave most HELLOs unanswered: tests/test_sealed_sessions.py tries that limit).
    room, (a,) = joined("alice", limits=Limits(handshake_rate=1e6, handshake_burst=10**6))
    s = room.server
    room.advance(1.05)                          # alice's own join used this second's first name
    room.sent_by_server.clear()
    refused = 0
    for i in range(3000):
        refused += isinstance(hello(s, f"u{i}", (f"127.5.{i // 200}.{i % 200 + 1}", 4000), room.now, room=room)[0],
                              wire.Refuse)
    room.settle()
    told = messages_to(room, a)
    assert len([x for x in told if isinstance(x, m.Joined)]) == 5
    assert not [x for x in told if isinstance(x, m.Crowd)]
    room.advance(1.05)
    assert [x for x in messages_to(room, a) if isinstance(x, m.Crowd)] == [m.Crowd(494, 0)]   # 499 joined
    assert len(s.member_names) == 500 and refused == 2501


def test_leaves_beyond_5_a_second_are_counted_too_but_kicks_always_named():
    room, (a,) = joined("alice", limits=Limits(handshake_rate=1e6, handshake_burst=10**6))
    s = room.server
    for i in range(20):
        hello(s, f"u{i}", ("127.0.6.1", 4000 + i), room.now, room=room)
    room.advance(1.05)
    drain(a)
    room.sent_by_server.clear()
    for i in range(10):
        sealed(s, ("127.0.6.1", 4000 + i), wire.Bye(s._roster.named(f"u{i}").peer.session), room.now)
    s.kick("u10", room.now)
    s.kick("u11", room.now)
    room.settle()
    got = drain(a)
    left = [e for e in got if isinstance(e, ev.MemberLeft)]
    assert len([e for e in left if e.reason is LeaveReason.LEFT]) == 5
    assert [e.name for e in left if e.reason is LeaveReason.KICKED] == ["u10", "u11"]
    room.advance(1.05)
    assert [x for x in messages_to(room, a) if isinstance(x, m.Crowd)] == [m.Crowd(0, 5)]


# --- a member that pins memory ---------------------------------------------------------------


def test_a_member_holds_at_most_64_fragments_beyond_a_hole_and_one_message_of_its_own_size():
    room, (a,) = joined("alice")
    mem = room.server._roster.named("alice")
    ch = mem.peer.channel
    assert ch.receive_window == 64 and ch.max_message == m.MAX_MESSAGE_BYTES
    base = ch._expected
    for k in range(1, 100):
        ch.on_data(base + k, wire.FLAG_MORE, b"z" * 1000)
    assert len(ch._ooo) == 63


def test_an_incomplete_message_left_hanging_removes_its_member_after_15_s():
    room, (a, b) = joined("alice", "bob")
    s = room.server
    mem = s._roster.named("bob")
    sid = mem.peer.session
    ch = mem.peer.channel
    data = wire.encode_data(sid, ch._expected, 0, 0, wire.FLAG_MORE, 0, 0, b"half a message")
    s.receive_datagram(b._peer.wrap(data), room.addr_of(b), room.now)
    assert mem.peer.holding_since == room.now
    assert STALL_TIMEOUT == 15.0
    room.drop = lambda d, src, dst: (src == room.addr_of(b)
                                     and peek(keys_of(b), d, to=Side.SERVER).__class__ is wire.Data)
    room.advance(14.0, tick=0.5)
    assert "bob" in s.member_names
    room.advance(2.0, tick=0.5)
    assert s.counters["stalled"] == 1 and s._roster.named("bob") is not mem    # (bob's client joins again)
    assert ev.MemberLeft("bob", LeaveReason.VANISHED) in drain(s)


# --- names -----------------------------------------------------------------------------------


@pytest.mark.parametrize("lookalike", [
    "\u0430lice",           # Cyrillic a
    "aIice",                # capital i for l
    "alice\u200d", "alice\u2060", "alice\u200e", "\u2066alice\u2069", "alice\u034f",
])
def test_the_server_refuses_lookalikes_of_a_member(lookalike):
    room, (a,) = joined("alice")
    answer = hello(room.server, lookalike, ("127.0.7.1", 4000), room.now)
    assert isinstance(answer[0], wire.Refuse) and answer[0].code in (wire.RefuseCode.NAME_TAKEN,
                                                                     wire.RefuseCode.NAME_INVALID)
    assert room.server.member_names == ["alice"]


@pytest.mark.parametrize("lookalike", ["\u0455erver", "gu\u0435st-1", "SERVER"])
def test_the_server_refuses_lookalikes_of_the_operator_and_guests(lookalike):
    s = ServerEngine(0.0)
    assert hello(s, lookalike, ("127.0.7.2", 4000), 0.0)[0].code is wire.RefuseCode.NAME_INVALID


# --- ghosts and replays ------------------------------------------------------------------------


def test_a_vanished_member_is_gone_within_20_seconds_measured_with_the_engines_own_timers():
    room, (a, b) = joined("alice", "bob")
    s = room.server
    t0 = s._roster.named("bob").last_heard
    room.drop = lambda d, src, dst: src == room.addr_of(b) or dst == room.addr_of(b)   # bob's cable is cut
    gone_at = None
    while gone_at is None and room.now < t0 + 30:
        room.advance(0.05, tick=0.05)
        if "bob" not in s.member_names:
            gone_at = room.now
    assert gone_at is not None and MEMBER_TIMEOUT - 1.0 <= gone_at - t0 <= MEMBER_TIMEOUT


def _welcomed(s: ServerEngine, hello_bytes: bytes, keying: ClientKeying, addr, now: float) -> Seal:
    """Send this HELLO, take its WELCOME, and let the member in with its first sealed packet."""
    h = wire.decode(hello_bytes)
    s.receive_datagram(hello_bytes, addr, now)
    (w,) = [wire.decode(d) for d, _ in s.datagrams_to_send(now)]
    assert isinstance(w, wire.Welcome) and s.member_names == []        # pending until it proves its keys
    seal = Seal(keying.welcomed(w.public, w.pake, w.confirm, h.nonce, h.token, w.session), Side.CLIENT)
    s.receive_datagram(seal.seal(wire.encode(wire.Ping(w.session))), addr, now)
    return seal


def test_a_replayed_hello_cannot_bring_back_a_member_who_left():
    s = ServerEngine(0.0)
    addr = ("127.0.8.1", 4000)
    tok = s._gate.tokens.mint(addr, 0.0)
    keying = ClientKeying()
    captured = wire.encode(wire.Hello(b"n" * 8, "alice", tok, public=keying.share.public))
    seal = _welcomed(s, captured, keying, addr, 0.1)
    assert s.member_names == ["alice"]
    s.datagrams_to_send(0.1)
    s.receive_datagram(seal.seal(wire.encode(wire.Bye(s._roster.named("alice").peer.session))), addr, 0.2)
    assert s.member_names == []
    s.receive_datagram(captured, addr, 5.0)          # within the token's 30 s
    answer = [wire.decode(d) for d, _ in s.datagrams_to_send(5.0)]
    assert s.member_names == [] and [type(p) for p in answer] == [wire.Challenge]


def test_a_repeated_hello_after_a_lost_welcome_is_still_welcomed_once():
    s = ServerEngine(0.0)
    addr = ("127.0.8.2", 4000)
    tok = s._gate.tokens.mint(addr, 0.0)
    keying = ClientKeying()
    h = wire.encode(wire.Hello(b"n" * 8, "alice", tok, public=keying.share.public))
    s.receive_datagram(h, addr, 0.1)
    (lost, _), = s.datagrams_to_send(0.1)             # the WELCOME is lost
    s.receive_datagram(h, addr, 0.4)
    answer = s.datagrams_to_send(0.4)
    assert [d for d, _ in answer] == [lost]           # the same WELCOME again: the same keys
    assert isinstance(wire.decode(lost), wire.Welcome) and s.member_names == []   # in once it proves them
    w = wire.decode(lost)
    seal = Seal(keying.welcomed(w.public, w.pake, w.confirm, b"n" * 8, tok, w.session), Side.CLIENT)
    s.receive_datagram(seal.seal(wire.encode(wire.Ping(w.session))), addr, 0.5)
    assert s.member_names == ["alice"]
    assert [e.name for e in drain(s) if isinstance(e, ev.MemberJoined)] == ["alice"]


# --- the operator ------------------------------------------------------------------------------


def test_the_operators_private_line_to_someone_who_left_is_refused_not_sent_to_all():
    room, (a, b) = joined("alice", "maria")
    s = room.server
    b.leave(room.now)
    room.settle()
    with pytest.raises(NoSuchMember):
        s.say_to("maria", "sua nota foi 4", room.now)
    room.settle()
    assert "sua nota foi 4" not in lines(drain(a))


def test_members_private_lines_reach_the_operator_and_the_operator_never_reads_theirs():
    room, (a, b) = joined("alice", "bob")
    s = room.server
    a.private("server", "can I leave early?")
    a.private("bob", "secret")
    room.settle()
    got = drain(s)
    assert ev.RoomLine(0, "alice", "can I leave early?", private_to="server") in got
    assert ev.PrivatePassed("alice", "bob") in got
    assert "secret" not in [getattr(e, "text", None) for e in got]
    assert lines(drain(b)) == ["secret"]


def test_the_operator_is_in_the_member_list():
    room, (a,) = joined("alice")
    a.who()
    room.settle()
    assert ev.MemberList(("server", "alice"), answers_who=True) in drain(a)


def test_kick_tells_the_member_why_and_the_room_who_then_ends_its_session():
    room, (a, b) = joined("alice", "bob")
    s = room.server
    s.kick("bob", room.now, "spam\x1b[31m")
    room.settle()
    assert m.Removed("spam [31m", banned=False) in messages_to(room, b)
    assert ev.MemberLeft("bob", LeaveReason.KICKED) in drain(a)
    assert s.member_names == ["alice"]
    sid = b._peer.session if b._peer else None
    room.advance(PARTING_LINGER + 0.1)
    byes = [peek(keys_of(b), d) for d, dst in room.sent_by_server if dst == room.addr_of(b)
            and peek(keys_of(b), d).__class__ is wire.Bye]
    assert byes == [wire.Bye(sid, "removed")] or not s._parting
    assert len(s._parting) == 0
    with pytest.raises(NoSuchMember):
        s.kick("nobody", room.now)


def test_a_kick_is_retransmitted_until_the_member_gets_it():
    room, (a, b) = joined("alice", "bob")
    s = room.server
    lost = [True]

    def drop_first_removed(d, src, dst):
        if dst == room.addr_of(b) and lost[0] and peek(keys_of(b), d).__class__ is wire.Data:
            lost[0] = False
            return True
        return False
    room.drop = drop_first_removed
    s.kick("bob", room.now, "bye")
    room.advance(1.5)
    assert messages_to(room, b).count(m.Removed("bye")) >= 2
    assert not lost[0]


def test_mute_refuses_lines_with_the_time_left_but_not_a_plea_to_the_operator():
    room, (a, b) = joined("alice", "bob")
    s = room.server
    s.mute("bob", 5, room.now)
    typed(b, "let me talk")
    b.private("server", "sorry")
    room.settle()
    refused = [x for x in messages_to(room, b) if isinstance(x, m.LineRefused)]
    assert [(x.code, x.wait) for x in refused] == [(m.RefusalCode.MUTED, 300)]
    assert lines(drain(a)) == []
    assert ev.RoomLine(0, "bob", "sorry", private_to="server") in drain(s)
    assert [x.muted for x in s.snapshot(room.now).members if x.name == "bob"] == [300.0]
    b.nick("robert")                             # a mute follows its member to a new name
    room.settle()
    typed(b, "now?")
    room.settle()
    assert lines(drain(a)) == []
    s.mute("robert", 0, room.now)
    typed(b, "thanks")
    room.settle()
    assert lines(drain(a)) == ["thanks"]


def test_a_mute_ends_by_itself():
    room, (a, b) = joined("alice", "bob")
    s = room.server
    s.mute("bob", 1, room.now)
    room.now += 59.9
    typed(b, "early")
    room.settle()
    room.now += 0.2
    typed(b, "after")
    room.settle()
    assert lines(drain(a)) == ["after"]


def test_ban_removes_and_refuses_the_name_and_the_address_until_unbanned():
    room, (a, b) = joined("alice", "bob")
    s = room.server
    bob_host = room.addr_of(b)[0]
    ban = s.ban("bob", room.now, "enough")
    assert ban == ev.Ban("bob", bob_host)
    room.settle()
    assert m.Removed("enough", banned=True) in messages_to(room, b)
    got = drain(s)
    assert ev.MemberLeft("bob", LeaveReason.BANNED) in got and ev.BansChanged((ban,)) in got
    assert hello(s, "b\u043eb", ("127.0.9.1", 4000), room.now)[0].code is wire.RefuseCode.BANNED   # look-alike
    assert hello(s, "robert", (bob_host, 4999), room.now)[0].code is wire.RefuseCode.BANNED       # his address
    s.receive_datagram(b"as a guest", (bob_host, 4998), room.now)
    assert s.counters["guest_banned"] == 1
    s.unban("BOB")
    assert ev.BansChanged(()) in drain(s) and s.bans == ()
    assert isinstance(hello(s, "bob", ("127.0.9.1", 4000), room.now + 0.01)[0], wire.Welcome)
    with pytest.raises(NotBanned):
        s.unban("bob")


def test_bans_given_at_start_hold_and_a_ban_of_an_absent_name_holds_the_name_only():
    s = ServerEngine(0.0, bans=[ev.Ban("mallory", "127.0.9.9")])
    assert hello(s, "eve", ("127.0.9.9", 4000), 0.0)[0].code is wire.RefuseCode.BANNED
    assert s.ban("trudy", 0.0) == ev.Ban("trudy", "")
    assert hello(s, "Trudy", ("127.0.9.8", 4000), 0.0)[0].code is wire.RefuseCode.BANNED
    assert isinstance(hello(s, "walter", ("127.0.9.8", 4001), 0.0)[0], wire.Welcome)


def test_the_operator_can_kick_a_guest_and_the_guest_reads_why():
    room, (a,) = joined("alice")
    s = room.server
    s.receive_datagram(b"hello, may I stay for a while and listen?", GUEST, room.now)   # credit for the answer
    s.kick("guest-127.0.0.1:50000", room.now, "no guests today")
    room.settle()
    assert room.raw_to[GUEST][-1] == b"* The operator removed you from the room: no guests today\n"
    assert ev.MemberLeft("guest-127.0.0.1:50000", LeaveReason.KICKED) in drain(a)
