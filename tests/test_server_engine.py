"""The server engine's own decisions, tested directly: its timer, its counters, the
operator's lines, closing, snapshots, renames, resumes from a new address, guests
and the room's fan-out. Fake clock, no sockets; milliseconds each."""
from __future__ import annotations

import dataclasses

import random

import pytest

from udpcore import appmsg as m
from udpcore import events as ev
from udpcore import wire
from udpcore.appmsg import LeaveReason
from udpcore.client import State
from udpcore.frames import decode_session
from udpcore.versions import foreign_refuse
from udpcore.errors import LineTooLong, NameTaken, NoSuchMember
from udpcore.keying import ClientKeying, client_resume_proof, server_resume_proof
from udpcore.operator import CLOSE_LINGER
from udpcore.pending import PENDING_LIFETIME
from udpcore.protection import Side
from udpcore.sealing import Seal
from udpcore.server import SWEEP_INTERVAL, ServerEngine
from tests.enginepair import SERVER, Room, drain, kind
from tests.sealed import as_data, is_sealed, keys_of, peek
from tests.typing_ import typed

pytestmark = pytest.mark.timeout(10)

GUEST = ("127.0.0.1", 50000)
RESET = wire.encode(wire.Reset(bytes(8)))     # a RESET names no session: a sealed packet carries none in clear


def joined(*names: str, **kw) -> tuple[Room, list]:
    room = Room(**kw)
    clients = [room.add(n) for n in names]
    room.settle()
    for c in clients:
        drain(c)
    drain(room.server)
    return room, clients


def member(room: Room, name: str):
    return room.server._roster.named(name)


def opened(keys, d: bytes, to: Side = Side.CLIENT) -> wire.Packet:
    """The session packet inside a datagram, which must have travelled sealed."""
    assert is_sealed(d), d[:6]
    return peek(keys, d, to=to)


def packets_to(room: Room, addr) -> list:
    keys = keys_of(room.clients[addr])
    return [x for d, dst in room.server.datagrams_to_send(room.now) if dst == addr for x in as_data(opened(keys, d))]


def messages_in(datagrams: list) -> list:
    """The chat messages inside DATA (single fragments), in order."""
    return [m.decode_msg(p.payload) for p in datagrams if isinstance(p, wire.Data)]


def sealed_by(client, packet) -> bytes:
    """``packet`` as ``client`` would send it: sealed, with its next packet number."""
    return client._peer.wrap(wire.encode(packet))


class Hand:
    """A client's half of the handshake, done by hand, for tests about the server's
    bytes: a HELLO with a fresh token and key, the WELCOME's keys, sealed packets."""

    def __init__(self, s: ServerEngine, addr, name: str, now: float, nonce: bytes = b"n" * 8) -> None:
        self.s, self.addr = s, addr
        self.keying = ClientKeying()
        self.hello = wire.Hello(nonce, name, s._gate.tokens.mint(addr, now), public=self.keying.share.public)
        self.seal: Seal | None = None
        self.session = b""

    def send_hello(self, now: float) -> list:
        self.s.receive_datagram(wire.encode(self.hello), self.addr, now)
        return self.s.datagrams_to_send(now)

    def welcomed(self, welcome: bytes) -> wire.Welcome:
        p = wire.decode(welcome)
        assert isinstance(p, wire.Welcome) and p.nonce == self.hello.nonce and not p.resumed
        keys = self.keying.welcomed(p.public, p.pake, p.confirm, self.hello.nonce, self.hello.token, p.session)
        self.seal, self.session = Seal(keys, Side.CLIENT), p.session
        return p

    def handshake(self, now: float) -> bytes:
        """HELLO; our one answer must be a WELCOME, whose keys we take. Its bytes
        (what the server sends others meanwhile is dropped)."""
        (welcome,) = [d for d, dst in self.send_hello(now) if dst == self.addr]
        self.welcomed(welcome)
        return welcome

    def sealed(self, packet) -> bytes:
        assert self.seal is not None
        return self.seal.seal(wire.encode(packet))

    def confirm(self, now: float) -> None:
        """Our first sealed packet (a PING, as the client engine sends)."""
        self.s.receive_datagram(self.sealed(wire.Ping(self.session)), self.addr, now)

    def open(self, d: bytes) -> wire.Packet:
        assert self.seal is not None and is_sealed(d)
        return decode_session(self.seal.open(d))


# --- the timer ---------------------------------------------------------------------------


def test_an_idle_server_wakes_once_a_second_to_sweep():
    s = ServerEngine(1000.0)
    assert SWEEP_INTERVAL == 1.0 and CLOSE_LINGER == 1.0
    assert s.get_timer() == 1001.0
    s.handle_timer(1000.5)                       # early: nothing to do, the sweep stays where it was
    assert s.get_timer() == 1001.0
    s.handle_timer(1001.0)
    assert s.get_timer() == 1002.0
    s.handle_timer(1003.5)                       # late: the next sweep is a second after this one
    assert s.get_timer() == 1004.5


def test_the_timer_is_a_members_retransmission_deadline_when_that_is_sooner():
    room, (a,) = joined("alice")
    s = room.server
    room.now = s.get_timer() - 0.5               # just after a sweep
    s.handle_timer(room.now + 0.5)
    sweep = s.get_timer()
    room.drop = lambda *x: True                  # alice hears nothing, acknowledges nothing
    s.say("hello", room.now)
    s.datagrams_to_send(room.now)
    mem = member(room, "alice")
    deadline = mem.peer.channel.get_timer()
    assert deadline is not None and deadline < sweep
    assert s.get_timer() == deadline == mem.timer_at
    s.handle_timer(deadline)                     # the line goes again
    again = [opened(keys_of(a), d) for d, _ in s.datagrams_to_send(deadline)]
    assert [type(p) for p in again] == [wire.Data]
    assert s.get_timer() == min(sweep, mem.peer.channel.get_timer())


def test_a_member_gone_before_its_timer_fires_is_not_served_and_does_not_rearm():
    room, (a, b) = joined("alice", "bob")
    s = room.server
    room.drop = lambda *x: True
    alice, bob = member(room, "alice"), member(room, "bob")
    room.now += 2.0
    s.handle_timer(room.now)                          # nothing pending from the join
    assert alice.timer_at is None and bob.timer_at is None
    s._room.send(alice, m.Closing("for alice"))
    s.datagrams_to_send(room.now)
    s._room.send(bob, m.Closing("for bob"))
    s.datagrams_to_send(room.now + 0.1)                # bob's deadline is later than alice's
    assert alice.timer_at < bob.timer_at
    s._room.remove(alice, LeaveReason.LEFT)           # alice goes; her timer entry stays in the heap
    s.datagrams_to_send(room.now + 0.1)
    t = bob.timer_at
    s.handle_timer(t)                                 # alice's entry surfaces first: skipped, not the end
    out = s.datagrams_to_send(t)
    assert out and {dst for _, dst in out} == {room.addr_of(b)}
    assert m.Closing("for bob") in [m.decode_msg(x.payload) for d, _ in out for x in as_data(opened(keys_of(b), d))]
    assert s.get_timer() == pytest.approx(min(bob.peer.channel.get_timer(), s._next_sweep))
    assert alice.peer.channel.get_timer() is not None      # she had data out, but nobody times it


def test_a_closing_server_wakes_at_its_deadline_and_a_closed_one_never():
    room, (a,) = joined("alice")
    s = room.server
    room.drop = lambda *x: True                  # nobody acknowledges the CLOSING
    s.close(room.now)
    assert s.closing_deadline == room.now + 1.0
    s.datagrams_to_send(room.now)
    assert s.get_timer() <= room.now + 1.0
    assert not s.closed
    s.datagrams_to_send(room.now + 0.999)
    assert not s.closed
    out = s.datagrams_to_send(room.now + 1.0)
    assert s.closed and s.get_timer() is None
    assert wire.Bye(a._peer.session, "") in [opened(keys_of(a), d) for d, _ in out]
    s.receive_datagram(b"hello", GUEST, room.now + 2)     # closed: nothing more is taken
    assert s.member_names == ["alice"] and s.datagrams_to_send(room.now + 2) == []


def test_close_is_acknowledged_then_finished_and_happens_once():
    room, (a, b) = joined("alice", "bob")
    s = room.server
    s.receive_datagram(b"hello, I am a guest", GUEST, room.now)
    room.settle()
    room.raw_to.clear()
    s.close(room.now, "maintenance")
    deadline = s.closing_deadline
    s.close(room.now + 0.5)                       # a second close changes nothing
    assert s.closing_deadline == deadline
    room.settle()
    assert s.closed
    for c in (a, b):
        assert ev.ServerClosed("maintenance") in drain(c)
    assert b"".join(room.raw_to[GUEST]).decode() == "* maintenance\n"
    s.say("too late", room.now)                   # nothing is said once closing
    s.receive_datagram(wire.encode(wire.Hello(b"n" * 8, "carol")), ("127.0.0.1", 41000), room.now)
    assert s.datagrams_to_send(room.now) == []


# --- counters ---------------------------------------------------------------------------------


def test_every_drop_is_counted_once_per_datagram():
    room, (a, b) = joined("alice", "bob")
    s = room.server
    stranger = ("127.0.0.1", 45000)
    for _ in range(2):
        s.receive_datagram(wire.encode(wire.Ping(a._peer.session)), stranger, room.now)   # a session packet in clear
        s.receive_datagram(sealed_by(a, wire.Ping(a._peer.session)), stranger, room.now)  # sealed, from nobody's
        s.receive_datagram(sealed_by(a, wire.Ping(a._peer.session)), room.addr_of(b), room.now)   # not bob's keys
        twice = sealed_by(a, wire.Ping(a._peer.session))
        s.receive_datagram(twice, room.addr_of(a), room.now)                          # opens: counted nowhere
        s.receive_datagram(twice, room.addr_of(a), room.now)                          # replayed
        s.receive_datagram(wire.MAGIC + bytes([wire.VERSION, 0x63]) + bytes(8), stranger, room.now)   # malformed
        s.receive_datagram(wire.MAGIC + bytes([wire.VERSION + 1, 0x07]) + bytes(300), stranger, room.now)   # version
        s.receive_datagram(wire.encode(wire.Hello(b"n" * 8, "x"))[:150], stranger, room.now)   # short hello
        s.receive_datagram(wire.encode(wire.Reset(b"x" * 8)), stranger, room.now)     # unexpected
    assert s.counters == {"unsealed": 2, "unknown_session": 2, "undecryptable": 2, "replayed": 2,
                          "malformed": 2, "version": 2, "short_hello": 2, "unexpected": 2}
    assert s.member_names == ["alice", "bob"]
    out = s.datagrams_to_send(room.now)
    to_stranger = [d for d, dst in out if dst == stranger]
    assert to_stranger.count(RESET) == 2                                            # unknown addresses are told
    assert sum(d[3] == wire.VERSION + 1 and foreign_refuse(d) is not None for d in to_stranger) == 2
    assert len(to_stranger) == 4
    assert {dst for _, dst in out} == {stranger, room.addr_of(a)}                   # alice's PINGs are answered
    assert [type(opened(keys_of(a), d)) for d, dst in out if dst == room.addr_of(a)] == [wire.Ack]


def test_an_ack_or_ping_from_another_address_is_ignored():
    room, (a,) = joined("alice")
    s = room.server
    mem = member(room, "alice")
    room.drop = lambda *x: True
    s.say("one", room.now)
    s.datagrams_to_send(room.now)
    heard = mem.last_heard
    later = room.now + 3
    elsewhere = ("127.0.0.1", 45000)
    ack = sealed_by(a, wire.Ack(a._peer.session, 0xFFFF, 0, 0))
    ping = sealed_by(a, wire.Ping(a._peer.session))
    for data in (ack, ping):
        s.receive_datagram(data, elsewhere, later)
    assert not mem.peer.channel.idle and mem.last_heard == heard and mem.addr == room.addr_of(a)
    assert s.datagrams_to_send(later) == [(RESET, elsewhere)] * 2       # held nothing for that address
    assert s.counters["unknown_session"] == 2
    s.receive_datagram(sealed_by(a, wire.Ping(a._peer.session)), room.addr_of(a), later)
    assert mem.last_heard == later
    (d, dst), = s.datagrams_to_send(later)
    assert isinstance(opened(keys_of(a), d), wire.Ack) and dst == room.addr_of(a)


def test_an_ack_from_the_member_acknowledges_and_lets_the_backlog_go():
    room, (a,) = joined("alice")
    s = room.server
    mem = member(room, "alice")
    mem.peer.channel.window = 1
    room.drop = lambda *x: True
    s.say("one", room.now)
    s.say("two", room.now)
    (first,) = [opened(keys_of(a), d) for d, _ in s.datagrams_to_send(room.now)]
    s.receive_datagram(sealed_by(a, wire.Ack(a._peer.session, first.seq + 1, 0, first.ts)),
                       room.addr_of(a), room.now + 0.01)
    assert mem.last_heard == room.now + 0.01
    (second,) = [opened(keys_of(a), d) for d, _ in s.datagrams_to_send(room.now + 0.01)]
    assert second.seq == first.seq + 1 and m.decode_msg(second.payload).text == "two"


def test_a_malformed_fragment_stream_drops_the_member():
    room, (a, b) = joined("alice", "bob")
    s = room.server
    huge = [wire.Data(a._peer.session, seq, 0, 0, wire.FLAG_MORE, 0, 0, b"x" * wire.MAX_FRAGMENT)
            for seq in range(a._peer.channel._next_seq, a._peer.channel._next_seq + 113)]
    for p in huge:
        s.receive_datagram(sealed_by(a, p), room.addr_of(a), room.now)
    assert s.member_names == ["bob"] and s.counters["malformed"] == 1
    assert ev.MemberLeft("alice", LeaveReason.LEFT) in drain(s)


def test_a_member_that_says_bye_leaves():
    room, (a, b) = joined("alice", "bob")
    room.server.receive_datagram(sealed_by(a, wire.Bye(a._peer.session, "")), room.addr_of(a), room.now)
    assert room.server.member_names == ["bob"]
    room.settle()
    assert ev.MemberLeft("alice", LeaveReason.LEFT) in drain(b)


def test_a_leave_is_acknowledged_at_once_and_a_later_data_gets_reset():
    room, (a,) = joined("alice")
    s = room.server
    a._peer.send(m.Leave(), capped=False)
    (d, _), = a.datagrams_to_send(room.now)
    s.receive_datagram(d, room.addr_of(a), room.now)
    out = [opened(keys_of(a), x) for x, _ in s.datagrams_to_send(room.now)]
    assert isinstance(out[0], wire.Ack) and out[0].ack == opened(keys_of(a), d, to=Side.SERVER).seq + 1
    assert s.member_names == []
    s.receive_datagram(d, room.addr_of(a), room.now)           # the LEAVE again
    assert s.datagrams_to_send(room.now) == [(RESET, room.addr_of(a))]


def test_a_server_to_client_message_from_a_member_is_counted_unexpected():
    room, (a,) = joined("alice")
    a._peer.send(m.Synced(3))
    a._peer.send(m.Sync(4))
    for d, _ in a.datagrams_to_send(room.now):
        room.server.receive_datagram(d, room.addr_of(a), room.now)
    assert room.server.counters["unexpected"] == 1
    assert m.Synced(4) in messages_in(packets_to(room, room.addr_of(a)))


# --- the operator ------------------------------------------------------------------------------


def test_the_operator_speaks_to_the_room_within_the_limits():
    room, (a,) = joined("alice")
    s = room.server
    s.say("x" * 8192, room.now)
    with pytest.raises(LineTooLong) as info:
        s.say("x" * 8193, room.now)
    assert (info.value.size, info.value.limit) == (8193, 8192)
    s.say("   ", room.now)                         # blank: nothing
    s.say("a\nb\x07", room.now)                     # two lines: the break kept, the bell not
    room.settle()
    got = [(e.seq, e.sender, e.text) for e in drain(a) if isinstance(e, ev.RoomLine)]
    assert got == [(1, "server", "x" * 8192), (2, "server", "a\nb")]
    assert s.relayed == 2
    assert [e for e in drain(s) if isinstance(e, ev.RoomLine)] == [
        ev.RoomLine(1, "server", "x" * 8192, False), ev.RoomLine(2, "server", "a\nb", False)]


def test_the_operator_answers_one_member_privately():
    room, (a, b) = joined("alice", "bob")
    s = room.server
    s.say_to("ALICE", "psst\x07", room.now)
    with pytest.raises(NoSuchMember) as info:
        s.say_to("carol", "hi", room.now)
    assert info.value.name == "carol"
    with pytest.raises(LineTooLong):
        s.say_to("alice", "x" * 8193, room.now)
    s.say_to("carol", "  ", room.now)               # blank: not even looked up
    room.settle()
    assert [e for e in drain(a) if isinstance(e, ev.RoomLine)] == [
        ev.RoomLine(0, "server", "psst ", False, "alice")]
    assert [e for e in drain(b) if isinstance(e, ev.RoomLine)] == []
    assert [e for e in drain(s) if isinstance(e, ev.RoomLine)] == [
        ev.RoomLine(0, "server", "psst ", False, private_to="alice")]


def test_the_operator_answers_a_guest_in_plain_text():
    room, _ = joined("alice")
    s = room.server
    s.receive_datagram(b"hello everyone", GUEST, room.now)
    room.settle()
    room.raw_to.clear()
    s.say_to("guest-127.0.0.1:50000", "welcome", room.now)
    room.settle()
    assert b"".join(room.raw_to[GUEST]) == b"[private] server: welcome\n"


def test_a_snapshot_lists_members_and_counts():
    room, (a,) = joined("alice")
    s = room.server
    s.receive_datagram(b"hi", GUEST, room.now + 1)
    s.receive_datagram(b"\xff", GUEST, room.now + 1)                 # malformed
    snap = s.snapshot(room.now + 3)
    assert snap.members == (ev.MemberInfo("alice", "127.0.0.1:40000", pytest.approx(3.0), False),
                            ev.MemberInfo("guest-127.0.0.1:50000", "127.0.0.1:50000", pytest.approx(2.0), True))
    assert snap.relayed == 1 and snap.dropped == 1 and snap.counters == {"malformed": 1}
    assert s.snapshot(room.now - 5).members[0].idle == 0.0           # never negative


# --- names -----------------------------------------------------------------------------------


def test_renames_are_checked_announced_and_may_change_case():
    room, (a, b) = joined("alice", "bob")
    s = room.server
    for bad in ("a b", "server", "x" * 25):
        a._peer.send(m.Nick(bad))
    a._peer.send(m.Nick("BOB"))
    a._peer.send(m.Nick("Alice"))                   # her own name, another case: fine
    room.settle()
    errors = [e.error for e in drain(a) if isinstance(e, ev.CommandError)]
    assert [type(x).__name__ for x in errors] == ["InvalidName"] * 3 + ["NameTaken"]
    assert [x.name for x in errors] == ["a b", "server", "x" * 25, "BOB"]
    assert sorted(s.member_names) == ["Alice", "bob"]
    assert ev.MemberRenamed("alice", "Alice") in drain(b)
    assert ev.MemberRenamed("alice", "Alice") in drain(s)
    assert member(room, "ALICE").name == "Alice"


# --- coming back --------------------------------------------------------------------------------


def resume_hello(client, nonce: bytes, token: bytes) -> bytes:
    """A resuming HELLO as ``client`` makes it: its name, a fresh key, and the proof
    that it holds its session's keys, bound to this nonce and token."""
    proof = client_resume_proof(keys_of(client), client._peer.session, nonce, token)
    return wire.encode(wire.Hello(nonce, client.name, token, proof, ClientKeying().share.public))


def resumed_welcome(client, nonce: bytes, token: bytes) -> wire.Welcome:
    """The WELCOME that resumes ``client``'s session: no new key, the server's proof."""
    session = client._peer.session
    return wire.Welcome(nonce, session, client.name, resumed=True,
                        confirm=server_resume_proof(keys_of(client), session, nonce, token))


def test_a_member_resuming_from_a_new_address_moves_there_and_gets_its_lines_at_once():
    room, (a, b) = joined("alice", "bob")
    s = room.server
    old = room.addr_of(a)
    new = ("127.0.0.1", 41999)
    room.drop = lambda d, src, dst: old in (src, dst)
    typed(b, "while away")
    room.settle()
    mem = member(room, "alice")
    assert not mem.peer.channel.idle
    nonce = b"r" * 8
    tok = s._gate.tokens.mint(new, room.now)
    s.receive_datagram(resume_hello(a, nonce, tok), new, room.now)
    out = s.datagrams_to_send(room.now)
    assert all(dst == new for _, dst in out)
    assert wire.decode(out[0][0]) == resumed_welcome(a, nonce, tok)
    got = [x for d, _ in out[1:] for x in as_data(opened(keys_of(a), d))]
    assert any(isinstance(p, wire.Data) for p in got)                # resent now, not at the timer
    assert mem.addr == new and s._roster.at(old) is None and s._roster.at(new) is mem
    assert mem.nonce == nonce and mem.peer.last_heard == room.now and mem.peer.last_sent == room.now
    assert s.member_names == ["alice", "bob"]
    assert not [e for e in drain(s) if isinstance(e, (ev.MemberLeft, ev.MemberJoined))]


def test_a_resume_with_a_wrong_proof_resumes_nothing_and_the_name_is_taken():
    room, (a, b) = joined("alice", "bob")
    s = room.server
    new = ("127.0.0.1", 41999)
    mem = member(room, "alice")
    before = s._gate.tokens.mint(new, room.now - 1)        # a proof bound to another token proves nothing now
    tok = s._gate.tokens.mint(new, room.now)
    nonce = b"r" * 8
    sa, sb = a._peer.session, b._peer.session
    proofs = [
        bytes(32),                                                   # a guess
        client_resume_proof(keys_of(b), sa, nonce, tok),             # another session's keys
        client_resume_proof(keys_of(a), sb, nonce, tok),             # alice's keys, another session's id
        client_resume_proof(keys_of(a), sa, nonce, before),          # alice's proof, for an older token...
        client_resume_proof(keys_of(a), sa, b"o" * 8, tok),          # ...or for another HELLO
    ]
    for i, proof in enumerate(proofs):
        hello = wire.Hello(nonce, "alice", tok, proof, ClientKeying().share.public)
        s.receive_datagram(wire.encode(hello), new, room.now + i)
        assert s.datagrams_to_send(room.now + i) == [
            (wire.encode(wire.Refuse(nonce, wire.RefuseCode.NAME_TAKEN, "alice")), new)]
    assert mem.addr == room.addr_of(a) and s._roster.at(new) is None and not s._pending.by_addr
    assert s.member_names == ["alice", "bob"] and drain(s) == []
    s.receive_datagram(resume_hello(a, nonce, tok), new, room.now + 5)     # the right proof, then
    assert wire.decode(s.datagrams_to_send(room.now + 5)[0][0]) == resumed_welcome(a, nonce, tok)
    assert mem.addr == new


def test_a_resume_to_an_address_a_guest_holds_replaces_the_guest():
    room, (a, b) = joined("alice", "bob")
    s = room.server
    s.receive_datagram(b"hi", GUEST, room.now)
    tok = s._gate.tokens.mint(GUEST, room.now)
    s.receive_datagram(resume_hello(a, b"r" * 8, tok), GUEST, room.now)
    assert s.member_names == ["alice", "bob"] and member(room, "alice").addr == GUEST
    assert ev.MemberLeft("guest-127.0.0.1:50000", LeaveReason.LEFT) in drain(s)


def test_a_lost_welcome_is_repeated_byte_for_byte_and_the_member_waits_for_its_first_sealed_packet():
    room = Room()
    c = room.add("alice")
    addr = room.addr_of(c)
    lost = []
    room.drop = lambda d, src, dst: src == SERVER and kind(d) is wire.PacketType.WELCOME and not lost.append(d)
    room.settle()
    assert len(lost) == 1 and c.state is State.CONNECTING
    assert room.server.member_names == [] and room.server._pending.at(addr) is not None
    (hello, _), = [x for x in c.datagrams_to_send(room.now + 1) if kind(x[0]) is wire.PacketType.HELLO]
    assert wire.decode(hello).token                         # the same HELLO: its nonce, its token
    room.server.receive_datagram(hello, addr, room.now + 1)
    assert room.server.datagrams_to_send(room.now + 1) == [(lost[0], addr)]
    session = wire.decode(lost[0]).session
    assert room.server._pending.at(addr).session == session and room.server.member_names == []
    room.now += 1
    c.receive_datagram(lost[0], SERVER, room.now)
    room.settle()
    assert c.state is State.JOINED and room.server.member_names == ["alice"]
    assert member(room, "alice").peer.session == session == c._peer.session
    assert [e.name for e in drain(room.server) if isinstance(e, ev.MemberJoined)] == ["alice"]


def test_a_new_program_at_a_members_address_replaces_it():
    room, (a, b) = joined("alice", "bob")
    s = room.server
    addr = room.addr_of(a)
    room.now += 0.01                       # a token admits once: each program gets its own
    carol = Hand(s, addr, "carol", room.now, nonce=b"z" * 8)
    carol.handshake(room.now)
    assert s.member_names == ["alice", "bob"]   # a handshake alone removes nobody...
    a.say("alice is still here")
    room.settle()
    assert [e.text for e in drain(b) if isinstance(e, ev.RoomLine)] == ["alice is still here"]
    carol.confirm(room.now)
    assert s.member_names == ["bob", "carol"]   # ...but one whose keys are proven does: the address is carol's
    room.now += 0.05                       # a key agreement's worth of the handshake rate (3 just ran)
    tok = s._gate.tokens.mint(addr, room.now)
    s.receive_datagram(wire.encode(wire.Hello(b"y" * 8, "a b", tok, public=ClientKeying().share.public)), addr,
                       room.now)           # refused, and carol goes
    assert s.member_names == ["bob"]
    evs = drain(s)
    assert ev.MemberLeft("alice", LeaveReason.LEFT) in evs and ev.MemberLeft("carol", LeaveReason.LEFT) in evs
    assert ev.MemberJoined("carol", "127.0.0.1:40000") in evs


def test_joins_are_not_announced_when_turned_off_but_still_reported_to_the_operator():
    room, (a,) = joined("alice", announce_joins=False)
    room.add("bob")
    room.settle()
    room.server.receive_datagram(b"hi", GUEST, room.now)
    room.settle()
    assert not [e for e in drain(a) if isinstance(e, ev.MemberJoined)]
    assert [e.name for e in drain(room.server) if isinstance(e, ev.MemberJoined)] == ["bob", "guest-127.0.0.1:50000"]


def test_session_ids_never_collide():
    """Not with a member's, nor with a handshake's still waiting for its first sealed packet."""
    ids = iter([b"D" * 8, b"A" * 8, b"A" * 8, b"B" * 8, b"A" * 8, b"B" * 8, b"C" * 8])
    rng = random.Random(3)
    s = ServerEngine(0.0, randbytes=lambda n: next(ids) if n == 8 else rng.randbytes(n))   # D: discovery's id
    hands = [Hand(s, ("127.0.0.1", 42000 + i), name, 0.0) for i, name in enumerate(("alice", "bob", "carol"))]
    hands[0].handshake(0.0)
    hands[0].confirm(0.0)                  # alice is a member...
    hands[1].handshake(0.0)                # ...bob's handshake waits...
    hands[2].handshake(0.0)
    assert [h.session for h in hands] == [b"A" * 8, b"B" * 8, b"C" * 8]
    for h in hands[1:]:
        h.confirm(0.0)
    assert sorted(x.peer.session for x in s._roster.sessions()) == [b"A" * 8, b"B" * 8, b"C" * 8]
    assert next(ids, None) is None


# --- the door: handshakes wait for their first sealed packet ------------------------------------


def test_a_handshake_waits_unannounced_until_its_first_sealed_packet_opens():
    room, (a,) = joined("alice")
    s = room.server
    addr = ("127.0.0.1", 41000)
    bob = Hand(s, addr, "bob", room.now)
    out = bob.send_hello(room.now)
    assert len(out) == 1 and out[0][1] == addr              # the WELCOME, and nothing else to anyone
    session = bob.welcomed(out[0][0]).session
    assert s.member_names == ["alice"] and s._roster.session(session) is None
    assert s._pending.at(addr).session == session and drain(s) == []
    room.settle()
    assert not [e for e in drain(a) if isinstance(e, ev.MemberJoined)]
    forged = bytearray(bob.sealed(wire.Ping(bob.session)))
    forged[-1] ^= 1                                         # does not open: proves nothing
    s.receive_datagram(bytes(forged), addr, room.now)
    assert s.counters["undecryptable"] == 1 and s.member_names == ["alice"] and s._pending.at(addr) is not None
    assert s.datagrams_to_send(room.now) == []
    bob.confirm(room.now + 0.1)
    assert s.member_names == ["alice", "bob"] and not s._pending.by_addr
    assert s._roster.session(session) is member(room, "bob")
    assert drain(s) == [ev.MemberJoined("bob", "127.0.0.1:41000")]
    room.now += 0.1
    room.settle()
    assert messages_in([x for d in room.raw_to[addr] for x in as_data(bob.open(d))]) == [
        m.Limits(300, 20), m.Members(("server", "alice", "bob"))]
    assert ev.MemberJoined("bob", "127.0.0.1:41000") in drain(a)


def test_a_handshake_never_confirmed_is_forgotten_after_its_lifetime_and_counted_unconfirmed():
    assert PENDING_LIFETIME == 10.0
    s = ServerEngine(0.0)
    addr = ("127.0.0.1", 41000)
    bob = Hand(s, addr, "bob", 0.0)
    bob.handshake(0.0)
    s._next_sweep = PENDING_LIFETIME - 0.001
    s.handle_timer(PENDING_LIFETIME - 0.001)
    assert s._pending.at(addr) is not None and "unconfirmed" not in s.counters
    s._next_sweep = PENDING_LIFETIME
    s.handle_timer(PENDING_LIFETIME)
    assert s._pending.at(addr) is None and s.counters["unconfirmed"] == 1
    s.handle_timer(PENDING_LIFETIME + 5)                    # counted once
    assert s.counters["unconfirmed"] == 1
    bob.confirm(PENDING_LIFETIME + 5)                       # too late: the server holds nothing for it
    assert s.member_names == [] and s.counters["unknown_session"] == 1
    assert s.datagrams_to_send(PENDING_LIFETIME + 5) == [(RESET, addr)]
    assert drain(s) == []


def test_a_repeated_hello_gets_the_same_welcome_even_with_a_fresh_token():
    rng = random.Random(5)
    drawn = []

    def randbytes(n: int) -> bytes:
        drawn.append(n)
        return rng.randbytes(n)
    s = ServerEngine(0.0, randbytes=randbytes)
    addr = ("127.0.0.1", 41000)
    first = Hand(s, addr, "bob", 0.0)
    out = first.send_hello(0.01)
    before = len(drawn)
    assert first.send_hello(0.3) == out and len(out) == 1       # byte for byte, to the same address
    assert first.send_hello(0.8) == out
    assert len(drawn) == before and len(s._pending) == 1          # no new session, no new key
    assert s.counters == {} and s.member_names == []
    first.welcomed(out[0][0])
    # The same nonce with another token: the client answered a second CHALLENGE (a
    # slow server). It keeps every token it answered, so the first WELCOME stands.
    s.receive_datagram(wire.encode(dataclasses.replace(first.hello, token=s._gate.tokens.mint(addr, 1.0))), addr, 1.0)
    assert s.datagrams_to_send(1.0) == out and len(drawn) == before
    forged = dataclasses.replace(first.hello, token=b"\x00" * 20)   # not a token of ours: no answer at all
    s.receive_datagram(wire.encode(forged), addr, 1.0)
    assert s.datagrams_to_send(1.0) == []
    first.confirm(1.1)
    assert s.member_names == ["bob"] and member_session(s, "bob") == first.session


def member_session(s: ServerEngine, name: str) -> bytes:
    return s._roster.named(name).peer.session


def test_two_clients_racing_for_one_name_the_second_to_confirm_is_refused_name_taken():
    room = Room()
    first, second = room.add("dave"), room.add("Dave")
    room.settle()
    addrs = room.addr_of(first), room.addr_of(second)
    welcomed = [dst for d, dst in room.sent_by_server if kind(d) is wire.PacketType.WELCOME]
    assert sorted(welcomed) == sorted(addrs)              # both: neither was in the room yet
    assert first.state is State.JOINED and second.state is State.CLOSED
    refusals = [(wire.decode(d), dst) for d, dst in room.sent_by_server if kind(d) is wire.PacketType.REFUSE]
    assert refusals == [(wire.Refuse(second._join.nonce, wire.RefuseCode.NAME_TAKEN, "Dave"), addrs[1])]
    assert drain(second) == [ev.JoinRefused(NameTaken("Dave"))]
    assert drain(first)[0] == ev.Connected("dave", "127.0.0.1:5002")
    assert room.server.member_names == ["dave"] and not room.server._pending.by_addr
    assert member(room, "dave").addr == addrs[0]
    assert [e for e in drain(room.server) if isinstance(e, (ev.MemberJoined, ev.MemberLeft))] == [
        ev.MemberJoined("dave", "127.0.0.1:40000")]


def test_session_packets_in_clear_from_a_members_address_are_counted_unsealed_and_change_nothing():
    room, (a, b) = joined("alice", "bob")
    s = room.server
    mem = member(room, "alice")
    room.drop = lambda *x: True
    s.say("one", room.now)
    (line,) = [opened(keys_of(a), d) for d, dst in s.datagrams_to_send(room.now) if dst == room.addr_of(a)]
    drain(s)
    heard = mem.last_heard
    later = room.now + 3
    sid = a._peer.session
    said = m.encode_msg(m.Say(1, "in clear"))
    clear = [wire.Data(sid, a._peer.channel._next_seq, line.seq + 1, 0, 0, 0, 0, said),
             wire.Ack(sid, line.seq + 1, 0, line.ts), wire.Ping(sid), wire.Bye(sid, "")]
    for p in clear:
        s.receive_datagram(wire.encode(p), room.addr_of(a), later)
    assert s.counters == {"unsealed": 4}
    assert s.member_names == ["alice", "bob"] and mem.last_heard == heard and not mem.peer.channel.idle
    assert s.datagrams_to_send(later) == [] and drain(s) == []
    s.receive_datagram(sealed_by(a, clear[1]), room.addr_of(a), later)     # the same ACK, sealed, counts
    assert mem.peer.channel.idle and mem.last_heard == later


# --- guests ----------------------------------------------------------------------------------


def test_guest_credit_is_three_times_what_it_sent_and_exhaustion_is_counted():
    room, (a,) = joined("alice")
    s = room.server
    s.receive_datagram(b"abcd", GUEST, room.now)            # 4 bytes: 12 of credit
    guest = s._roster.at(GUEST)
    assert guest.credit == 12
    s.say("0123456789", room.now)                           # "server: 0123456789\n" is 19: over
    assert s.counters["guest_credit_exhausted"] == 1 and guest.credit == 12
    s.say("0123", room.now)                                 # "server: 0123\n" is 13: still over
    assert s.counters["guest_credit_exhausted"] == 2
    s.say("012", room.now)                                  # 12: exactly the credit
    assert guest.credit == 0 and s.counters["guest_credit_exhausted"] == 2
    room.settle()
    assert room.raw_to[GUEST] == [b"server: 012\n"]


def test_a_guest_says_the_first_line_of_a_datagram_and_leaves_with_exit():
    room, (a,) = joined("alice")
    s = room.server
    s.receive_datagram(b"one\nEXIT\nnever", GUEST, room.now)      # one line per datagram: the rest is dropped
    s.receive_datagram(b"EXIT", GUEST, room.now)
    room.settle()
    evs = drain(a)
    assert [e.text for e in evs if isinstance(e, ev.RoomLine)] == ["one"]
    assert ev.MemberLeft("guest-127.0.0.1:50000", LeaveReason.LEFT) in evs
    assert s.member_names == ["alice"]


def test_blank_plain_text_from_a_stranger_makes_no_guest():
    room, _ = joined("alice")
    room.server.receive_datagram(b"\n  \n", GUEST, room.now)
    assert room.server.member_names == ["alice"] and room.server.counters == {}


def test_plain_text_from_a_members_address_is_malformed_not_a_guest():
    room, (a,) = joined("alice")
    room.server.receive_datagram(b"hello", room.addr_of(a), room.now)
    assert room.server.member_names == ["alice"] and room.server.counters["malformed"] == 1


def test_guests_are_refused_while_closing():
    room, _ = joined("alice")
    room.drop = lambda *x: True
    room.server.close(room.now)
    room.server.receive_datagram(b"hi", GUEST, room.now)
    assert room.server.counters["guest_refused"] == 1 and room.server.member_names == ["alice"]


def test_a_guest_expires_after_exactly_five_silent_minutes():
    s = ServerEngine(0.0)
    s.receive_datagram(b"hi", GUEST, 0.0)
    s.handle_timer(300.0)
    assert s.member_names == ["guest-127.0.0.1:50000"]
    s._next_sweep = 300.5
    s.handle_timer(300.5)
    assert s.member_names == []
    assert ev.MemberLeft("guest-127.0.0.1:50000", LeaveReason.EXPIRED) in drain(s)


def test_a_guest_that_keeps_talking_stays():
    s = ServerEngine(0.0)
    s.receive_datagram(b"hi", GUEST, 0.0)
    s.receive_datagram(b"still here", GUEST, 200.0)
    s.handle_timer(450.0)
    assert s.member_names == ["guest-127.0.0.1:50000"]


def test_a_member_vanishes_after_nineteen_silent_seconds_so_the_sweep_never_passes_twenty():
    room, (a,) = joined("alice")
    s = room.server
    t0 = member(room, "alice").last_heard
    mem = member(room, "alice")
    mem.peer.last_sent = t0
    s.handle_timer(t0 + 4.9)
    assert s.datagrams_to_send(t0 + 4.9) == []
    s._next_sweep = t0 + 5.0
    s.handle_timer(t0 + 5.0)
    assert [opened(keys_of(a), d) for d, _ in s.datagrams_to_send(t0 + 5.0)] == [wire.Ping(a._peer.session)]
    assert mem.peer.last_sent == t0 + 5.0
    s._next_sweep = t0 + 19.0 - 0.001
    s.handle_timer(t0 + 19.0 - 0.001)
    assert s.member_names == ["alice"]
    s._next_sweep = t0 + 19.0
    s.handle_timer(t0 + 19.0)
    assert s.member_names == []
    assert ev.MemberLeft("alice", LeaveReason.VANISHED) in drain(s)


# --- the room's fan-out --------------------------------------------------------------------------


def test_private_lines_carry_their_flags_to_both_parties():
    room, (a, b, c) = joined("alice", "bob", "carol")
    b.private("alice", "waves", action=True)
    room.settle()
    got_a = [e for e in drain(a) if isinstance(e, ev.RoomLine)]
    got_b = [e for e in drain(b) if isinstance(e, ev.RoomLine)]
    assert got_a == [ev.RoomLine(0, "bob", "waves", True, "alice")]
    assert got_b == [ev.RoomLine(0, "bob", "waves", True, "alice", own=True, msg_id=1)]
    assert not [e for e in drain(c) if isinstance(e, ev.RoomLine)]
    server_saw = drain(room.server)          # who wrote to whom, never the text
    assert [e for e in server_saw if isinstance(e, (ev.RoomLine, ev.PrivatePassed))] == [ev.PrivatePassed("bob", "alice")]


def test_a_private_line_to_oneself_is_echoed_once_and_a_blank_one_not_at_all():
    room, (a,) = joined("alice")
    a.private("alice", "note to self")
    a.private("alice", "   ")
    room.settle()
    got = [e for e in drain(a) if isinstance(e, ev.RoomLine)]
    assert got == [ev.RoomLine(0, "alice", "note to self", False, "alice", own=True, msg_id=1)]


def test_a_private_line_to_a_guest_is_plain_text_and_control_characters_are_cleaned():
    room, (a,) = joined("alice")
    room.server.receive_datagram(b"hi there, a guest with some credit", GUEST, room.now)
    room.settle()
    room.raw_to.clear()
    a.private("guest-127.0.0.1:50000", "psst")
    a._peer.send(m.Private(99, "guest-127.0.0.1:50000", "a\x1bb"))    # past the client's own cleaning
    room.settle()
    assert b"".join(room.raw_to[GUEST]) == b"[private] alice: psst\n[private] alice: a b\n"


def test_a_private_line_to_nobody_is_an_error_naming_them():
    room, (a,) = joined("alice")
    a.private("nobody", "hi")
    room.settle()
    assert [e.error.name for e in drain(a) if isinstance(e, ev.CommandError)] == ["nobody"]


def test_room_lines_and_actions_from_a_guest_reach_members_with_room_order():
    room, (a, b) = joined("alice", "bob")
    room.server.receive_datagram(b"first", GUEST, room.now)
    typed(a, "/me second")
    room.settle()
    got = [(e.seq, e.sender, e.text, e.action, e.own) for e in drain(b) if isinstance(e, ev.RoomLine)]
    assert got == [(1, "guest-127.0.0.1:50000", "first", False, False), (2, "alice", "second", True, False)]
    room.settle()
    assert b"* alice second\n" in room.raw_to[GUEST]
    assert b"guest-127.0.0.1:50000: first\n" not in room.raw_to.get(GUEST, [])     # no echo to a guest


def test_a_who_answers_with_the_member_list_in_join_order():
    room, (a, b) = joined("alice", "bob")
    room.server.receive_datagram(b"hi", GUEST, room.now)
    a.who()
    room.settle()
    assert ev.MemberList(("server", "alice", "bob", "guest-127.0.0.1:50000"), answers_who=True) in drain(a)


def test_the_member_list_is_cut_at_100000_bytes():
    from udpcore.room import MEMBERS_LIST_BYTES
    room, _ = joined("alice")
    r = room.server._room
    assert MEMBERS_LIST_BYTES == 100_000
    names = [f"{i:022d}" for i in range(4200)]             # 24 bytes each with its length
    from udpcore.roster import Member
    for i, n in enumerate(names):
        room.server._roster.add(Member(n, ("127.0.10.1", i), None, 0.0))
    listed = r.members_msg().names
    size = sum(len(x.encode()) + 2 for x in listed)
    assert size <= 100_000 and size + 24 > 100_000
    assert listed[:2] == ("server", "alice") and listed[2:] == tuple(names[:len(listed) - 2])


@pytest.mark.parametrize("theirs", [1, wire.VERSION - 1, wire.VERSION + 1])
def test_another_version_is_refused_in_its_own_framing_with_its_nonce_and_our_version(theirs):
    """An older or newer client reads the REFUSE with its own decoder (REFUSE is laid
    out alike in every version) and tells its user which version this server speaks."""
    s = ServerEngine(0.0)
    hello = bytearray(wire.encode(wire.Hello(b"n" * 8, "alice")))
    hello[3] = theirs
    s.receive_datagram(bytes(hello), GUEST, 0.0)
    (d, dst), = s.datagrams_to_send(0.0)
    assert dst == GUEST and d == (wire.MAGIC + bytes([theirs, wire.PacketType.REFUSE]) + b"n" * 8
                                  + bytes([wire.RefuseCode.VERSION]) + wire.pack_text(str(wire.VERSION)))
    ping = wire.MAGIC + bytes([theirs, wire.PacketType.PING]) + bytes(8)      # not a HELLO: no nonce to echo
    s.receive_datagram(ping + bytes(40), GUEST, 0.0)
    (d, _), = s.datagrams_to_send(0.0)
    assert d[3] == theirs and d[5:13] == bytes(8)
    assert s.counters["version"] == 2


def test_counters_count_every_occurrence():
    room, (a,) = joined("alice")
    s = room.server
    for _ in range(2):
        s.receive_datagram(wire.MAGIC + b"\x09\x01", GUEST, room.now)          # a 5-byte newer HELLO
    assert s.counters["amplification_limited"] == 2 and s.counters["version"] == 2
    a._peer.send(m.Synced(1))
    a._peer.send(m.Synced(2))
    for d, _ in a.datagrams_to_send(room.now):
        s.receive_datagram(d, room.addr_of(a), room.now)
    assert s.counters["unexpected"] == 2
    g = Room(allow_guests=False)
    g.server.receive_datagram(b"hi", GUEST, g.now)
    g.server.receive_datagram(b"hi", GUEST, g.now)
    assert g.server.counters["guest_refused"] == 2


def test_two_malformed_members_count_twice():
    room, (a, b, c) = joined("alice", "bob", "carol")
    s = room.server
    for x in (a, b):
        seq = x._peer.channel._next_seq
        for i in range(113):
            p = wire.Data(x._peer.session, seq + i, 0, 0, wire.FLAG_MORE, 0, 0, b"x" * wire.MAX_FRAGMENT)
            s.receive_datagram(sealed_by(x, p), room.addr_of(x), room.now)
    assert s.counters["malformed"] == 2 and s.member_names == ["carol"]


def test_messages_released_together_are_all_handled():
    room, (a, b) = joined("alice", "bob")
    s = room.server
    a._peer.send(m.Say(1, "first"))
    a._peer.send(m.Say(2, "second"))
    datas = [d for d, _ in a.datagrams_to_send(room.now)]
    for d in reversed(datas):                      # the second arrives first: both are released at once
        s.receive_datagram(d, room.addr_of(a), room.now)
    assert [e.text for e in drain(s) if isinstance(e, ev.RoomLine)] == ["first", "second"]


def test_the_line_to_the_other_party_of_a_private_line_carries_no_message_id():
    room, (a, b) = joined("alice", "bob")
    room.sent_by_server.clear()
    a.private("bob", "psst")
    room.settle()
    lines = {}
    for d, dst in room.sent_by_server:
        p = opened(keys_of(room.clients[dst]), d)
        if isinstance(p, wire.Data) and p.payload[:1] == bytes([m.MsgType.LINE]):
            lines[dst] = m.decode_msg(p.payload)
    assert lines[room.addr_of(b)] == m.Line(0, "alice", "psst", m.LINE_PRIVATE, 0, "bob")
    assert lines[room.addr_of(a)] == m.Line(0, "alice", "psst", m.LINE_PRIVATE | m.LINE_OWN, 1, "bob")


def test_one_member_too_slow_does_not_stop_the_line_reaching_the_others():
    room, (a, b, c) = joined("alice", "bob", "carol")
    s = room.server
    bob = member(room, "bob")
    bob.peer.channel.max_backlog = 0
    room.drop = lambda d, src, dst: dst == room.addr_of(b)
    for i in range(40):                            # bob's window fills, then his backlog overflows
        s.say(f"line {i}", room.now)
        room.settle()
    assert "bob" not in s.member_names and s.counters["too_slow"] == 1
    assert [e.text for e in drain(c) if isinstance(e, ev.RoomLine)] == [f"line {i}" for i in range(40)]


def two_too_slow_for_an_announcement():
    room, (a, b, c) = joined("alice", "bob", "carol")
    s = room.server
    for name in ("alice", "bob"):
        ch = member(room, name).peer.channel
        ch.max_backlog = -1                        # anything more overflows
        ch.send(b"x" * 3 * wire.MAX_FRAGMENT, capped=False)
    room.drop = lambda *x: True
    c._peer.send(m.Nick("caroline"))
    for d, _ in c.datagrams_to_send(room.now):
        s.receive_datagram(d, room.addr_of(c), room.now)
    return s


def test_members_too_slow_for_an_announcement_are_dropped_too():
    s = two_too_slow_for_an_announcement()
    assert s.member_names == ["caroline"]
    assert sorted(e.name for e in drain(s) if isinstance(e, ev.MemberLeft) and e.reason is LeaveReason.TOO_SLOW) \
        == ["alice", "bob"]


def test_each_member_dropped_as_too_slow_is_counted_once():
    assert two_too_slow_for_an_announcement().counters["too_slow"] == 2


def test_guests_hear_joins_leaves_and_renames_in_plain_text():
    room, (a,) = joined("alice")
    s = room.server
    s.receive_datagram(b"hello, I am a guest with credit to spare", GUEST, room.now)
    room.settle()
    room.raw_to.clear()
    room.add("bob")
    room.settle()
    a.nick("alicia")
    room.settle()
    assert b"".join(room.raw_to[GUEST]).decode() == "* bob joined\n* alice is now known as alicia\n"


def test_a_member_list_of_exactly_100000_bytes_is_whole_and_one_byte_more_is_cut():
    from udpcore.roster import Member
    room, _ = joined("alice")                      # "alice": 7 bytes with its length
    r = room.server._roster
    for i in range(3845):                          # 26 bytes each
        r.add(Member(f"{i:024d}", ("127.0.10.1", i), None, 0.0))
    r.add(Member("x" * 21, ("127.0.10.2", 1), None, 0.0))      # 23: exactly 100,000 in all
    assert len(room.server._room.members_msg().names) == 3847
    r.add(Member("y", ("127.0.10.2", 2), None, 0.0))
    assert len(room.server._room.members_msg().names) == 3847


def test_the_handshake_round_trip_seeds_the_members_rtt():
    s = ServerEngine(0.0)
    addr = ("127.0.0.1", 41000)
    hand = Hand(s, addr, "alice", 10.0)            # the token: minted at 10.0
    hand.handshake(10.02)
    hand.confirm(10.5)                             # its first sealed packet comes later: no sample
    assert s._roster.named("alice").peer.channel.rtt.srtt == pytest.approx(0.02)


def test_the_operator_and_guests_see_exact_join_and_line_events():
    room, (a,) = joined("alice")
    s = room.server
    s.receive_datagram(b"hi", GUEST, room.now)
    typed(a, "/me waves")
    room.settle()
    assert drain(s) == [ev.MemberJoined("guest-127.0.0.1:50000", "127.0.0.1:50000", guest=True),
                        ev.RoomLine(1, "guest-127.0.0.1:50000", "hi", False),
                        ev.RoomLine(2, "alice", "waves", True)]
    room.add("bob")
    room.settle()
    assert ev.MemberJoined("bob", "127.0.0.1:40001", guest=False) in drain(s)


def test_guest_credit_adds_up_over_datagrams():
    s = ServerEngine(0.0)
    s.receive_datagram(b"abcd", GUEST, 0.0)
    s.receive_datagram(b"ef", GUEST, 0.0)
    assert s._roster.at(GUEST).credit == 3 * 6


def test_two_members_dropped_as_too_slow_at_different_times_count_two():
    room, (a, b, c) = joined("alice", "bob", "carol")
    s = room.server
    for name in ("alice", "bob"):
        member(room, name).peer.channel.max_backlog = 0
    room.drop = lambda d, src, dst: dst in (room.addr_of(a), room.addr_of(b))
    for i in range(40):
        s.say(f"line {i}", room.now)
        room.settle()
    assert s.member_names == ["carol"] and s.counters["too_slow"] == 2


def test_a_relayed_line_carries_no_message_id_but_its_echo_does():
    room, (a, b) = joined("alice", "bob")
    room.sent_by_server.clear()
    a.say("hello")
    room.settle()
    got = {}
    for d, dst in room.sent_by_server:
        p = opened(keys_of(room.clients[dst]), d)
        if isinstance(p, wire.Data) and p.payload[:1] == bytes([m.MsgType.LINE]):
            got[dst] = m.decode_msg(p.payload)
    assert got[room.addr_of(b)] == m.Line(1, "alice", "hello", 0, 0, "")
    assert got[room.addr_of(a)] == m.Line(1, "alice", "hello", m.LINE_OWN, 1, "")


def test_a_lines_readers_are_served_before_its_sender():
    """The copies a person waits for go first; the sender's own copy and ack after them,
    whichever order the roster holds them in."""
    for sender in ("alice", "bob", "carol"):
        room, clients = joined("alice", "bob", "carol")
        s = room.server
        c = clients[["alice", "bob", "carol"].index(sender)]
        c.say("oi")
        for d, _ in c.datagrams_to_send(room.now):
            s.receive_datagram(d, room.addr_of(c), room.now)
        order = [dst for _, dst in s.datagrams_to_send(room.now)]
        assert len(order) == 3 and order[-1] == room.addr_of(c), sender


def test_each_datagram_builds_each_copy_as_it_is_taken():
    room, (a, b, c) = joined("alice", "bob", "carol")
    s = room.server
    a.say("oi")
    for d, _ in a.datagrams_to_send(room.now):
        s.receive_datagram(d, room.addr_of(a), room.now)
    pending = lambda name: member(room, name).peer.channel.has_output()      # noqa: E731
    each = s.each_datagram(room.now)
    first, dst = next(each)
    assert dst in (room.addr_of(b), room.addr_of(c))
    assert pending("alice") and (pending("bob") or pending("carol"))        # not built yet
    rest = list(each)
    assert not any(pending(n) for n in ("alice", "bob", "carol"))
    assert sorted(d for _, d in [(first, dst)] + rest) == sorted(room.addr_of(x) for x in (a, b, c))
    for data, to in [(first, dst)] + rest:
        room.clients[to].receive_datagram(data, SERVER, room.now)
    assert [e.text for e in drain(b) if isinstance(e, ev.RoomLine)] == ["oi"]
    assert s.datagrams_to_send(room.now) == []


def test_the_engine_tells_everyones_address_and_when_that_changed():
    room, (a, b) = joined("alice", "bob")
    s = room.server
    v = s.members_version
    assert sorted(s.member_addresses()) == sorted([room.addr_of(a), room.addr_of(b)])
    assert s.members_version == v                   # asking changes nothing
    s.kick("bob", room.now)
    assert s.members_version > v and s.member_addresses() == [room.addr_of(a)]


def test_members_datagrams_leave_before_the_turns_replies_to_strangers():
    """Strangers' HELLOs and a discovery probe in the same turn as alice's line: the line's
    copies go out first (each reply to a stranger is a sendto that wakes its reader, and a
    burst of them held members' lines ~3 ms), and every reply still goes, once."""
    from udpcore import discovery
    room, (a, b) = joined("alice", "bob")
    s, now = room.server, room.now
    newcomers = [room.add(f"new{i}", port=42000 + i) for i in range(3)]
    for c in newcomers[:2]:                                 # first HELLOs: CHALLENGEs
        for data, _ in c.datagrams_to_send(now):
            s.receive_datagram(data, room.addr_of(c), now)
    a.say("hi")
    for data, _ in a.datagrams_to_send(now):
        s.receive_datagram(data, room.addr_of(a), now)
    for data, _ in newcomers[2].datagrams_to_send(now):
        s.receive_datagram(data, room.addr_of(newcomers[2]), now)
    taken = ("127.0.0.1", 42100)                            # a HELLO for a name in use: REFUSE
    hello = wire.Hello(b"t" * 8, "bob", s._gate.tokens.mint(taken, now), b"", ClientKeying().share.public)
    s.receive_datagram(wire.encode(hello), taken, now)
    probe = ("127.0.0.1", 42200)
    s.receive_datagram(discovery.encode_discover(bytes(range(1, 9))), probe, now)
    out = s.datagrams_to_send(now)
    members = {room.addr_of(a), room.addr_of(b)}
    to = [dst in members for _, dst in out]
    assert to.count(True) >= 1 and to == sorted(to, reverse=True)      # members' first, then the rest
    strangers = [(kind(d), dst) for d, dst in out if dst not in members]
    assert sorted(strangers, key=str) == sorted(
        [(wire.PacketType.CHALLENGE, room.addr_of(c)) for c in newcomers]
        + [(wire.PacketType.REFUSE, taken), (wire.PacketType.HERE, probe)], key=str)
    seen = next(d for d, dst in out if dst == room.addr_of(b))
    b.receive_datagram(seen, SERVER, now)
    assert any(isinstance(e, ev.RoomLine) and e.text == "hi" for e in drain(b))
