"""The client engine against a hand-driven fake server (a Peer and encoded packets):
its timer, its queue, its answers to every server message, refusals and errors,
leaving in every state. Fake clock, no sockets."""
from __future__ import annotations

import random
import secrets

import pytest

from dataclasses import replace

from udpcore import appmsg as m
from udpcore import events as ev
from udpcore import wire
from udpcore.frames import decode_session
from udpcore.client import CONNECT_TIMEOUT, LEAVE_TIMEOUT, MAX_QUEUED, ClientEngine
from udpcore.client_state import State
from udpcore.errors import (BacklogFull, InvalidName, LineTooLong, NameProblem, NameTaken, NoSuchMember,
                            NotInRoom, NotLocked, PassphraseNeeded, RoomFull, VersionMismatch, WrongPassphrase)
from udpcore.keying import client_resume_proof, server_resume_proof
from udpcore.peer import KEEPALIVE, SERVER_TIMEOUT, Peer
from udpcore.protection import SessionKeys, Side
from udpcore.reliable import MAX_REASSEMBLY
from udpcore.sealing import Seal
from tests.enginepair import SERVER, drain, steady
from tests.sealed import ScriptKeys, as_data, is_sealed

pytestmark = pytest.mark.timeout(10)

SID = b"s" * 8


class FakeServer:
    """One client and the server's side of its session, moved by hand.

    It answers a HELLO with a real WELCOME (:class:`tests.sealed.ScriptKeys`),
    seals what it sends over the session and opens what the client seals."""

    def __init__(self, name: str = "alice", now: float = 100.0, passphrase: str = "") -> None:
        self.now = now
        self.c = ClientEngine(name, SERVER, now, randbytes=steady(random.Random(5).randbytes), passphrase=passphrase)
        self.keys: ScriptKeys | None = None
        self.peer: Peer | None = None
        self.origins: list[m.Origin] = []

    def open(self, data: bytes):
        """A datagram from the client, decoded (a sealed one opened with the session's keys)."""
        if is_sealed(data):
            assert self.keys is not None
            return decode_session(self.keys.seal.open(data))
        return wire.decode(data)

    def out(self) -> list:
        return [x for d, dst in self.c.datagrams_to_send(self.now) if dst == SERVER for x in as_data(self.open(d))]

    def to_client(self, p) -> None:
        """A packet in clear (CHALLENGE, WELCOME, REFUSE, RESET, or a forgery)."""
        self.c.receive_datagram(wire.encode(p), SERVER, self.now)

    def sealed(self, p) -> None:
        """A session packet, sealed with the session's keys as the server sends it."""
        assert self.peer is not None
        self.c.receive_datagram(self.peer.wrap(wire.encode(p)), SERVER, self.now)

    def welcome(self, hello: wire.Hello, session: bytes = SID, name: str | None = None,
                passphrase: str = "", room: str = "") -> None:
        """Answer ``hello`` with a real WELCOME (the confirmation does not cover the
        name) and hold the server's side of the new session."""
        self.keys = ScriptKeys(hello, session, passphrase, room)
        self.peer = Peer(session, self.now, seal=self.keys.seal)
        w = wire.decode(self.keys.welcome)
        self.c.receive_datagram(wire.encode(replace(w, name=name or hello.name)), SERVER, self.now)

    def join(self, name: str | None = None) -> None:
        self.c.connect(self.now)
        hello = self.out()[0]
        self.welcome(hello, name=name)

    def say(self, *msgs) -> None:
        """The server sends these messages over the session."""
        assert self.peer is not None
        for x in msgs:
            self.peer.send(x)
        for d in self.peer.datagrams(self.now):
            self.c.receive_datagram(d, SERVER, self.now)

    def hear(self) -> list:
        """What the client sent over the session, as messages (and acknowledged). Its
        ORIGIN, which comes once a session before the first line, is kept apart in
        ``origins`` (test_history_core.py tests what it is for)."""
        got = []
        for p in self.out():
            if isinstance(p, (wire.Data, wire.Ack, wire.Ping)):
                assert self.peer is not None and p.session == self.peer.session
                got += self.peer.receive(p, self.now)
        for i, x in enumerate(got):
            if isinstance(x, m.Origin):
                assert not any(isinstance(y, (m.Say, m.Private)) for y in got[:i])   # never a line before it
                self.origins.append(x)
        return [x for x in got if not isinstance(x, m.Origin)]


def joined(name: str = "alice") -> FakeServer:
    f = FakeServer(name)
    f.join()
    f.say(m.Members((name,)))                    # the server's first sealed packet: Connected
    f.hear()
    drain(f.c)
    return f


# --- the timer -----------------------------------------------------------------------------


def test_an_idle_client_has_no_timer_and_a_connecting_one_says_hello_at_once():
    c = ClientEngine("alice", SERVER, 0.0, randbytes=steady(secrets.token_bytes))
    assert c.get_timer() is None
    c.connect(5.0)
    assert c.get_timer() == 5.0
    assert [type(wire.decode(d)) for d, _ in c.datagrams_to_send(5.0)] == [wire.Hello]
    assert c.get_timer() == 5.25                   # the first retry


def test_hello_retries_back_off_from_250_ms_to_2_s():
    c = ClientEngine("alice", SERVER, 0.0, randbytes=steady(secrets.token_bytes))
    c.connect(0.0)
    sent_at = []
    t = 0.0
    while t < CONNECT_TIMEOUT:
        if c.datagrams_to_send(t):
            sent_at.append(round(t, 6))
        t = c.get_timer()
        c.handle_timer(t)
    assert sent_at == [0.0, 0.25, 0.75, 1.75, 3.75, 5.75, 7.75, 9.75]
    assert t == CONNECT_TIMEOUT and c.closed


def test_a_joined_client_wakes_for_keepalive_silence_and_retransmission():
    f = joined()
    c = f.c
    assert c.get_timer() == f.now + KEEPALIVE
    c._peer.last_heard = f.now - 12.0
    assert c.get_timer() == f.now - 12.0 + SERVER_TIMEOUT
    c._peer.last_heard = f.now
    c.say("hello")
    c.datagrams_to_send(f.now)                    # not acknowledged
    assert c.get_timer() == c._peer.channel.get_timer() < f.now + KEEPALIVE


def test_a_reconnecting_client_times_only_its_hellos():
    f = joined()
    c = f.c
    c.say("unacknowledged")
    c.datagrams_to_send(f.now)
    f.to_client(wire.Reset(SID))
    assert c.state is State.RECONNECTING and c._peer is not None
    assert c.get_timer() == f.now                 # the HELLO, not the old session's timers
    c.datagrams_to_send(f.now)
    # A RESET resumes (with a proof), so the HELLO repeats at the resume's first
    # retry, 0.5 s (version 1 began a fresh join after a RESET: 0.25 s).
    assert c.get_timer() == f.now + 0.5 and c._deadline is None


def test_the_keepalive_goes_at_exactly_five_seconds_and_loss_at_fifteen():
    f = joined()
    c = f.c
    t0 = f.now
    c.handle_timer(t0 + KEEPALIVE - 0.001)
    assert c.datagrams_to_send(t0 + KEEPALIVE - 0.001) == []
    c.handle_timer(t0 + KEEPALIVE)
    ping = c.datagrams_to_send(t0 + KEEPALIVE)
    assert all(is_sealed(d) for d, _ in ping)
    assert [f.open(d) for d, _ in ping] == [wire.Ping(SID)]
    c.handle_timer(t0 + SERVER_TIMEOUT - 0.001)
    assert c.state is State.JOINED
    c.handle_timer(t0 + SERVER_TIMEOUT)
    assert c.state is State.RECONNECTING and drain(c) == [ev.ConnectionLost()]
    f.now = t0 + SERVER_TIMEOUT
    hello = f.out()[-1]
    assert hello.resume == b""                    # the proof needs the server's token
    f.to_client(wire.Challenge(hello.nonce, b"T" * 20))
    again = f.out()[-1]
    assert again.resume == client_resume_proof(f.keys.seal.keys, SID, hello.nonce, b"T" * 20)


def test_a_lost_server_while_leaving_closes_instead_of_reconnecting():
    f = joined()
    c = f.c
    c.handle_timer(f.now + 14.0)                  # a keepalive went, nothing came back
    c.leave(f.now + 14.0)
    assert c.state is State.DRAINING
    c.handle_timer(f.now + 15.0)
    assert c.state is State.CLOSED and drain(c) == []


# --- lines -------------------------------------------------------------------------------------


def test_lines_are_pending_with_their_id_text_action_and_recipient():
    f = joined()
    c = f.c
    assert c.say("hi") == 1
    assert c.say("waves", action=True) == 2
    assert c.private("bob", "psst") == 3
    assert c.private("bob", "nods", action=True) == 4
    assert drain(c) == [ev.LinePending(1, "hi", False, None), ev.LinePending(2, "waves", True, None),
                        ev.LinePending(3, "psst", False, "bob"), ev.LinePending(4, "nods", True, "bob")]
    assert f.hear() == [m.Say(1, "hi"), m.Say(2, "waves", True), m.Private(3, "bob", "psst"),
                        m.Private(4, "bob", "nods", True)]


def test_message_ids_wrap_from_the_largest_to_one_never_zero():
    f = joined()
    f.c._next_msg_id = 0xFFFFFFFF
    assert f.c.say("a") == 0xFFFFFFFF
    assert f.c.say("b") == 1


def test_a_line_of_8192_bytes_goes_and_8193_is_refused_after_cleaning():
    f = joined()
    f.c.say("x" * 8192)
    with pytest.raises(LineTooLong) as info:
        f.c.say("é" * 4097)
    assert (info.value.size, info.value.limit, info.value.chars) == (8194, 8192, 4097)
    assert info.value.chars_over() == 1                 # one é too many
    f.c.say("a\r\nb\x1b")
    assert [x.text for x in f.hear()] == ["x" * 8192, "a\nb"]     # the line break carried, ESC not


def test_a_thousand_lines_wait_for_the_join_and_the_next_is_refused():
    c = ClientEngine("alice", SERVER, 0.0, randbytes=steady(secrets.token_bytes))
    c.connect(0.0)
    for i in range(MAX_QUEUED):
        c.say(str(i))
    with pytest.raises(BacklogFull):
        c.say("one too many")
    assert c.backlog == MAX_QUEUED == 1000


def test_nothing_is_taken_after_leaving():
    f = joined()
    f.c.leave(f.now)
    for call in (lambda: f.c.say("x"), lambda: f.c.private("b", "x"), lambda: f.c.nick("zed"), f.c.who):
        with pytest.raises(NotInRoom):
            call()
    g = FakeServer()
    g.c.connect(g.now)
    g.c.leave(g.now)                             # asked to leave while still connecting
    with pytest.raises(NotInRoom):
        g.c.say("x")


def test_nick_checks_the_name_before_asking():
    f = joined()
    with pytest.raises(InvalidName) as info:
        f.c.nick("a b")
    assert info.value.problem is NameProblem.BAD_CHARACTER
    f.c.nick("zed")
    assert f.hear() == [m.Nick("zed")]


# --- what the server says -------------------------------------------------------------------------


def test_room_lines_become_events_with_their_flags():
    f = joined()
    f.say(m.Line(1, "bob", "hi"),
          m.Line(2, "bob", "waves", m.LINE_ACTION),
          m.Line(0, "bob", "psst", m.LINE_PRIVATE, 0, "alice"),
          m.Line(3, "alice", "mine", m.LINE_OWN, 7),
          m.Line(0, "alice", "nods", m.LINE_OWN | m.LINE_PRIVATE | m.LINE_ACTION, 8, "bob"))
    assert drain(f.c) == [
        ev.RoomLine(1, "bob", "hi", False, None, False, None),
        ev.RoomLine(2, "bob", "waves", True, None, False, None),
        ev.RoomLine(0, "bob", "psst", False, "alice", False, None),
        ev.RoomLine(3, "alice", "mine", False, None, True, 7),
        ev.RoomLine(0, "alice", "nods", True, "bob", True, 8)]


def test_joins_leaves_and_renames_become_events_and_our_own_rename_renames_us():
    f = joined()
    f.say(m.Joined("bob", "127.0.10.2:5", False), m.Joined("guest-x", "127.0.10.3:6", True),
          m.Left("bob", m.LeaveReason.VANISHED), m.Renamed("carol", "dave"), m.Renamed("alice", "Alicia"))
    assert drain(f.c) == [ev.MemberJoined("bob", "127.0.10.2:5", False), ev.MemberJoined("guest-x", "127.0.10.3:6", True),
                          ev.MemberLeft("bob", m.LeaveReason.VANISHED), ev.MemberRenamed("carol", "dave", False),
                          ev.MemberRenamed("alice", "Alicia", True)]
    assert f.c.name == "Alicia"


def test_the_join_list_is_not_an_answer_and_each_who_gets_one():
    f = FakeServer()
    f.join()
    f.c.who()                                   # typed before the join's list came
    f.c.who()
    f.say(m.Members(("alice",)), m.Members(("alice", "bob")), m.Members(("alice", "bob", "c")),
          m.Members(("x",)))
    assert drain(f.c)[1:] == [ev.MemberList(("alice",), False), ev.MemberList(("alice", "bob"), True),
                              ev.MemberList(("alice", "bob", "c"), True), ev.MemberList(("x",), False)]


def test_an_unasked_member_list_after_one_who_is_not_an_answer():
    f = joined()
    f.c.who()
    f.say(m.Members(("a",)), m.Members(("b",)))
    assert drain(f.c) == [ev.MemberList(("a",), True), ev.MemberList(("b",), False)]


@pytest.mark.parametrize("msg,error", [
    (m.Error(m.ErrorCode.NO_SUCH_MEMBER, "eve"), NoSuchMember("eve")),
    (m.Error(m.ErrorCode.NAME_TAKEN, "bob"), NameTaken("bob")),
    (m.Error(m.ErrorCode.NAME_INVALID, "a b"), InvalidName("a b", NameProblem.BAD_CHARACTER)),
    (m.Error(m.ErrorCode.NAME_INVALID, "x" * 25), InvalidName("x" * 25, NameProblem.TOO_LONG)),
    (m.Error(m.ErrorCode.NAME_INVALID, "fine"), InvalidName("fine", NameProblem.BAD_CHARACTER)),
])
def test_errors_from_the_server_become_typed_command_errors(msg, error):
    f = joined()
    f.say(msg)
    assert drain(f.c) == [ev.CommandError(error)]


def test_a_message_only_a_server_would_receive_is_ignored():
    f = joined()
    before = f.c.ignored
    f.say(m.Say(1, "hi"), m.Who())
    assert drain(f.c) == [] and f.c.ignored == before + 2


def test_closing_is_told_once_and_acknowledged_then_the_client_stops():
    f = joined()
    f.say(m.Closing("bye all"), m.Closing("again"))
    assert drain(f.c) == [ev.ServerClosed("bye all")]
    assert f.c.state is State.SERVER_CLOSING
    out = f.out()
    assert out and all(isinstance(p, wire.Ack) for p in out)
    assert f.c.closed


def test_a_bye_while_closing_is_not_told_twice():
    f = joined()
    f.peer.send(m.Closing("bye"))
    for d in f.peer.datagrams(f.now):
        f.c.receive_datagram(d, SERVER, f.now)
    f.sealed(wire.Bye(SID, "bye"))
    assert drain(f.c) == [ev.ServerClosed("bye")] and f.c.closed


# --- refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize("code,reason,error", [
    (wire.RefuseCode.NAME_TAKEN, "", NameTaken("alice")),
    (wire.RefuseCode.NAME_INVALID, "", InvalidName("alice", NameProblem.BAD_CHARACTER)),
    (wire.RefuseCode.VERSION, "2", VersionMismatch("2")),
    (wire.RefuseCode.FULL, "", RoomFull()),
])
def test_each_refusal_is_its_own_typed_error(code, reason, error):
    f = FakeServer()
    f.c.connect(f.now)
    hello = f.out()[0]
    f.to_client(wire.Refuse(hello.nonce, code, reason))
    assert drain(f.c) == [ev.JoinRefused(error)] and f.c.closed


def test_an_invalid_name_refusal_says_what_is_wrong_with_it():
    f = FakeServer("x" * 25)
    f.c.connect(f.now)
    f.to_client(wire.Refuse(f.out()[0].nonce, wire.RefuseCode.NAME_INVALID, ""))
    assert drain(f.c) == [ev.JoinRefused(InvalidName("x" * 25, NameProblem.TOO_LONG))]


def test_answers_with_another_nonce_or_from_another_address_are_ignored():
    f = FakeServer()
    f.c.connect(f.now)
    hello = f.out()[0]
    keys = ScriptKeys(hello, SID)
    welcome = wire.decode(keys.welcome)
    f.to_client(wire.Refuse(b"x" * 8, wire.RefuseCode.FULL, ""))
    f.to_client(replace(welcome, nonce=b"x" * 8))
    f.c.receive_datagram(keys.welcome, ("127.0.0.1", 9), f.now)
    f.c.receive_datagram(b"\xff junk", SERVER, f.now)
    assert f.c.state is State.CONNECTING and f.c.ignored == 4 and drain(f.c) == []
    f.c.receive_datagram(keys.welcome, SERVER, f.now)
    assert f.c.state is State.JOINED
    f.c.receive_datagram(keys.welcome, SERVER, f.now)           # a repeated WELCOME once joined
    assert f.c.ignored == 5


# --- joining and coming back ----------------------------------------------------------------------


def test_a_challenge_is_answered_at_once_with_its_token():
    f = FakeServer()
    f.c.connect(f.now)
    hello = f.out()[0]
    assert hello.token == b"" and hello.resume == b"" and hello.pake == b"" and len(hello.public) == 32
    f.now += 0.01
    f.to_client(wire.Challenge(hello.nonce, b"T" * 20))
    again = f.out()
    assert again == [wire.Hello(hello.nonce, "alice", b"T" * 20, public=hello.public)]


def test_a_challenge_late_in_the_connect_time_extends_it_once():
    f = FakeServer()
    f.c.connect(f.now)
    hello = f.out()[0]
    f.now += 9.0
    f.to_client(wire.Challenge(hello.nonce, b"T" * 20))
    assert f.c._deadline == f.now + CONNECT_TIMEOUT
    f.now += 5.0
    f.to_client(wire.Challenge(hello.nonce, b"U" * 20))          # a second one does not extend it again
    assert f.c._deadline == f.now - 5.0 + CONNECT_TIMEOUT


def test_the_welcome_names_us_and_connected_comes_with_the_servers_first_sealed_packet():
    f = FakeServer("alice")
    f.join(name="Alice")
    assert f.c.state is State.JOINED and f.c.name == "Alice"
    assert drain(f.c) == []                        # not yet: the session is not the server's yet
    f.hear()                                       # the client's sealed PING...
    f.say()                                        # ...acknowledged, sealed
    assert drain(f.c) == [ev.Connected("Alice", "127.0.0.1:5002")]


def test_a_welcome_marked_resumed_on_a_first_join_is_ignored():
    # Version 1 took it as a join. A resumed WELCOME carries a proof made with
    # the keys of the session asked back; on a first join there is none, so it
    # cannot check: ignored, and the real WELCOME still gets us in.
    f = FakeServer("alice")
    f.c.connect(f.now)
    hello = f.out()[0]
    keys = ScriptKeys(hello, SID)
    real = wire.decode(keys.welcome)
    f.to_client(replace(real, resumed=True, public=b"", pake=b""))
    f.to_client(replace(real, resumed=True))
    assert f.c.state is State.CONNECTING and f.c.ignored == 2 and f.c._peer is None and drain(f.c) == []
    f.c.receive_datagram(keys.welcome, SERVER, f.now)
    assert f.c.state is State.JOINED and f.c._peer.session == SID


def test_data_before_the_welcome_asks_for_the_welcome_again():
    # While resuming: the server took us back (its WELCOME was lost) and its next
    # packet, sealed with the session's keys, opens here: HELLO again at once.
    f = joined()
    f.to_client(wire.Reset(SID))
    hello = f.out()[0]
    f.to_client(wire.Challenge(hello.nonce, b"T" * 20))
    f.out()                                        # the HELLO with the token and proof; its WELCOME is lost
    f.now += 0.01
    assert f.out() == []                           # its retry is not due yet
    before = f.c.ignored
    f.say(m.Members(("alice",)))
    assert f.c.ignored == before + 1 and f.c.state is State.RECONNECTING
    assert [type(p) for p in f.out()] == [wire.Hello]


def test_a_sealed_packet_before_a_first_welcome_cannot_open_and_asks_for_nothing():
    # Version 1 answered DATA before the WELCOME with a HELLO at once. On a first
    # join the client has no keys before the WELCOME: the datagram is ignored and
    # the HELLO waits for its retry.
    f = FakeServer()
    f.c.connect(f.now)
    hello = f.out()[0]
    f.to_client(wire.Challenge(hello.nonce, b"T" * 20))
    again = f.out()[0]                             # the HELLO with the token; its WELCOME is lost
    keys = ScriptKeys(again, SID)
    f.now += 0.01
    f.c.receive_datagram(Peer(SID, f.now, seal=keys.seal).wrap(
        wire.encode(wire.Data(SID, 0, 0, 0, 0, 0, 0, m.encode_msg(m.Members(("alice",)))))), SERVER, f.now)
    assert f.c.ignored == 1 and f.out() == [] and f.c.state is State.CONNECTING


def test_a_resume_keeps_the_session_and_resends_what_was_outstanding_at_once():
    f = joined()
    c = f.c
    c.say("during the blip")
    f.out()                                        # lost
    c.handle_timer(f.now + SERVER_TIMEOUT)
    f.now += SERVER_TIMEOUT
    assert c.state is State.RECONNECTING
    hello = f.out()[0]
    assert hello.resume == b""                     # the proof needs the server's token
    f.to_client(wire.Challenge(hello.nonce, b"T" * 20))
    again = f.out()[0]
    keys = f.keys.seal.keys
    assert again.resume == client_resume_proof(keys, SID, hello.nonce, b"T" * 20) and len(again.resume) == 32
    f.now += 0.1
    f.to_client(wire.Welcome(hello.nonce, SID, "alice", resumed=True,
                             confirm=server_resume_proof(keys, SID, hello.nonce, b"T" * 20)))
    assert drain(c)[1:] == [ev.ConnectionLost(), ev.Reconnected(resumed=True)]
    assert c._peer.last_heard == f.now and c._peer.last_sent == f.now
    assert [x.text for x in f.hear()] == ["during the blip"]


def test_a_rejoin_on_a_new_session_resends_the_unacknowledged_lines_and_lists_members_afresh():
    f = joined()
    c = f.c
    c.say("lost one")
    f.out()
    f.to_client(wire.Reset(SID))
    assert drain(c)[-1] == ev.ConnectionLost()
    c.say("typed while away")
    hello = f.out()[0]
    f.to_client(wire.Challenge(hello.nonce, b"T" * 20))
    again = f.out()[0]
    assert len(again.resume) == 32                 # it asks its session back...
    f.welcome(again, session=b"t" * 8)             # ...but the server forgot it: a new session
    f.say(m.Members(("alice",)))           # (lines typed meanwhile wait for the session's first word)
    assert [x.text for x in f.hear()] == ["lost one", "typed while away"]
    events = drain(c)
    assert ev.Reconnected(resumed=False) in events
    assert ev.MemberList(("alice",), answers_who=False) in events


def test_leave_while_connecting_waits_for_the_join_then_leaves():
    f = FakeServer()
    f.c.connect(f.now)
    f.c.leave(f.now)
    f.c.leave(f.now + 5.0)                          # a second leave changes nothing
    assert f.c.state is State.CONNECTING and f.c._deadline == f.now + LEAVE_TIMEOUT
    hello = f.out()[0]
    f.welcome(hello)
    assert f.c.state is State.DRAINING
    assert f.hear() == [m.Sync(1)]
    f.say(m.Synced(1))
    assert f.c.state is State.LEAVING
    assert f.hear() == [m.Leave()]
    assert not f.c.closed
    f.say()                                         # the server's ACK of the LEAVE
    f.out()
    assert f.c.closed


def test_leave_after_the_room_closed_does_nothing():
    f = joined()
    f.say(m.Closing(""))
    f.c.leave(f.now)
    assert f.c._deadline is None and not f.c._leave_requested


def test_who_before_the_join_is_sent_after_it_and_a_new_session_forgets_it():
    f = FakeServer()
    f.c.connect(f.now)
    f.c.who()                                      # queued with the lines
    hello = f.out()[0]
    f.welcome(hello)
    assert f.hear() == [m.Who()]
    f.say(m.Members(("alice",)), m.Members(("alice",)))
    assert [e for e in drain(f.c) if isinstance(e, ev.MemberList)] == [
        ev.MemberList(("alice",), False), ev.MemberList(("alice",), False)]


def test_leaving_never_fails_for_a_full_backlog():
    f = joined()
    f.c._peer.channel.max_backlog = 3
    with pytest.raises(BacklogFull):
        for i in range(10):
            f.c.say(str(i))
    f.c.leave(f.now)                               # SYNC goes in anyway
    assert f.c.state is State.DRAINING
    f.c._server_message(m.Synced(1), f.now)             # and so does LEAVE
    assert f.c.state is State.LEAVING


def test_while_reconnecting_at_most_a_thousand_lines_wait():
    f = joined()
    f.to_client(wire.Reset(SID))
    assert f.c.state is State.RECONNECTING
    for i in range(MAX_QUEUED):
        f.c.say(str(i))
    with pytest.raises(BacklogFull):
        f.c.say("one too many")


def test_a_reconnecting_client_is_not_woken_by_the_old_sessions_timers():
    f = joined()
    c = f.c
    c.say("unacknowledged")
    c.datagrams_to_send(f.now)                     # its retransmission is due at now + 1 s
    f.now += 0.9
    f.to_client(wire.Reset(SID))
    c.datagrams_to_send(f.now)                     # the HELLO (a resume: its first retry is 0.5 s)
    assert c.get_timer() == pytest.approx(f.now + 0.5)


def test_data_on_the_old_session_while_reconnecting_is_not_shown():
    f = joined()
    f.to_client(wire.Reset(SID))
    drain(f.c)
    f.say(m.Line(1, "bob", "late"))
    assert drain(f.c) == []


def test_a_malformed_stream_from_the_server_is_ignored_once_per_datagram():
    f = joined()
    before = f.c.ignored
    seq = f.peer.channel._next_seq
    n = MAX_REASSEMBLY // wire.MAX_FRAGMENT + 1    # the fewest full fragments of one message over 128 KiB
    assert n == 115                                # (113 before sealing shrank MAX_FRAGMENT to 1140)
    for i in range(n):
        f.sealed(wire.Data(SID, seq + i, 0, 0, wire.FLAG_MORE, 0, 0, b"x" * wire.MAX_FRAGMENT))
    assert f.c.ignored == before + 1 and f.c.state is State.JOINED


def test_a_resume_hello_backs_off_from_half_a_second_to_five():
    f = joined()
    c = f.c
    c.handle_timer(f.now + SERVER_TIMEOUT)
    t = f.now + SERVER_TIMEOUT
    sent_at = []
    while len(sent_at) < 7:
        if any(isinstance(wire.decode(d), wire.Hello) for d, _ in c.datagrams_to_send(t)):
            sent_at.append(round(t - (f.now + SERVER_TIMEOUT), 6))
        t = c.get_timer()
        c.handle_timer(t)
    assert sent_at == [0.0, 0.5, 1.5, 3.5, 7.5, 12.5, 17.5]


def test_an_idle_client_sends_nothing_whatever_arrives():
    c = ClientEngine("alice", SERVER, 0.0, randbytes=steady(secrets.token_bytes))
    c.receive_datagram(wire.encode(wire.Data(SID, 0, 0, 0, 0, 0, 0, b"\x04")), SERVER, 0.0)
    assert c.datagrams_to_send(0.0) == [] and c.get_timer() is None and c.ignored == 1


def test_packets_of_another_session_are_each_ignored():
    f = joined()
    before = f.c.ignored
    for _ in range(2):
        f.sealed(wire.Ping(b"o" * 8))              # sealed with our keys (in clear it would prove nothing)
    assert f.c.ignored == before + 2


def test_a_reset_stops_the_old_session_sending_even_its_acks():
    f = joined()
    f.say(m.Line(1, "bob", "hi"))                 # an ACK is now owed on the old session...
    f.to_client(wire.Reset(SID))                  # ...but the server forgot it
    assert [type(p) for p in f.out()] == [wire.Hello]


def test_a_huge_unsent_backlog_moves_to_a_new_session_without_being_refused():
    f = joined()
    ch = f.c._peer.channel
    for _ in range(ch.max_backlog + 2):
        ch.send(b"\x04", capped=False)            # more than a session may queue
    f.to_client(wire.Reset(SID))
    f.c.who()                                     # and one more typed while away
    hello = f.out()[0]
    f.welcome(hello, session=b"t" * 8)
    assert f.c.state is State.JOINED and f.c.backlog == ch.max_backlog + 3


# --- the sealed handshake (protocol version 2) -----------------------------------------------------


def test_a_welcome_whose_confirmation_does_not_check_is_ignored_in_an_open_room():
    f = FakeServer()
    f.c.connect(f.now)
    hello = f.out()[0]
    keys = ScriptKeys(hello, SID)
    real = wire.decode(keys.welcome)
    other = wire.decode(ScriptKeys(hello, SID).welcome)          # another server's key share
    forged = [replace(real, confirm=bytes(32)),
              replace(real, confirm=bytes([real.confirm[0] ^ 1]) + real.confirm[1:]),
              replace(real, public=other.public),
              replace(real, session=b"o" * 8)]
    for p in forged:
        f.to_client(p)
    assert f.c.ignored == len(forged) == 4
    assert f.c.state is State.CONNECTING and f.c._peer is None and drain(f.c) == [] and f.out() == []
    f.c.receive_datagram(keys.welcome, SERVER, f.now)            # the join goes on: the real one
    assert f.c.state is State.JOINED and f.c._peer.session == SID
    f.keys = keys
    assert [f.open(d) for d, _ in f.c.datagrams_to_send(f.now)] == [wire.Ping(SID)]


def _locked_hello(f: FakeServer) -> wire.Hello:
    """Connect, be told the room is locked, and return the HELLO that answers it."""
    f.c.connect(f.now)
    hello = f.out()[0]
    assert hello.pake == b""                                     # nobody has said it is locked yet
    f.to_client(wire.Challenge(hello.nonce, b"T" * 20, locked=True, room="Sala 3"))
    again = f.out()[0]
    assert again.token == b"T" * 20 and len(again.pake) == wire.PAKE_LEN and again.public == hello.public
    return again


def test_a_welcome_whose_confirmation_does_not_check_means_a_wrong_passphrase():
    f = FakeServer(passphrase="sesame")
    hello = _locked_hello(f)
    f.c.receive_datagram(ScriptKeys(hello, SID, "open sesame", "Sala 3").welcome, SERVER, f.now)
    assert drain(f.c) == [ev.JoinRefused(WrongPassphrase("Sala 3"))] and f.c.closed
    assert f.out() == [] and f.c.get_timer() is None
    f.now += CONNECT_TIMEOUT
    assert f.out() == []
    # The same steps with the room's passphrase get in.
    g = FakeServer(passphrase="sesame")
    g.welcome(_locked_hello(g), passphrase="sesame", room="Sala 3")
    assert g.c.state is State.JOINED and g.c.ignored == 0


@pytest.mark.parametrize("locked,passphrase,error", [
    (True, "", PassphraseNeeded("Sala 3")),
    (False, "sesame", NotLocked("Sala 3")),
])
def test_a_room_we_cannot_join_as_it_is_ends_the_join_at_its_challenge(locked, passphrase, error):
    f = FakeServer(passphrase=passphrase)
    f.c.connect(f.now)
    hello = f.out()[0]
    f.to_client(wire.Challenge(hello.nonce, b"T" * 20, locked=locked, room="Sala 3"))
    assert drain(f.c) == [ev.JoinRefused(error)] and f.c.closed
    assert f.out() == [] and f.c.get_timer() is None              # nothing more: no HELLO with the token
    f.now += CONNECT_TIMEOUT
    assert f.out() == []


def test_after_the_welcome_a_sealed_ping_repeats_with_backoff_until_a_sealed_packet_comes_back():
    f = FakeServer()
    f.join()
    c = f.c
    t0 = t = f.now
    sent_at = []
    while t < t0 + 8.0:
        for d, _ in c.datagrams_to_send(t):
            assert is_sealed(d) and f.open(d) == wire.Ping(SID)      # each opens: a fresh packet number
            sent_at.append(round(t - t0, 6))
        t = c.get_timer()
        c.handle_timer(t)
    assert sent_at == [0.0, 0.25, 0.75, 1.75, 3.75, 5.0, 5.75, 7.75]   # 5.0 is the keepalive
    assert drain(c) == [] and c.state is State.JOINED
    f.now = t
    before = c.ignored
    f.to_client(wire.Ping(SID))                                   # in clear: proves nothing
    assert c.ignored == before + 1 and drain(c) == []
    f.say(m.Members(("alice",)))                                  # the server's first sealed packet
    assert drain(c) == [ev.Connected("alice", "127.0.0.1:5002"), ev.MemberList(("alice",), False)]
    assert [type(f.open(d)) for d, _ in c.datagrams_to_send(f.now)] == [wire.Ack]
    assert c.get_timer() == f.now + KEEPALIVE                     # no more confirming PINGs


def test_a_refusal_after_the_welcome_but_before_the_server_confirmed_ends_the_join():
    f = FakeServer()
    f.c.connect(f.now)
    hello = f.out()[0]
    f.welcome(hello)
    assert [type(p) for p in f.out()] == [wire.Ping]
    f.to_client(wire.Refuse(b"x" * 8, wire.RefuseCode.NAME_TAKEN, "alice"))    # not ours
    assert f.c.ignored == 1 and f.c.state is State.JOINED
    f.to_client(wire.Refuse(hello.nonce, wire.RefuseCode.NAME_TAKEN, "alice"))  # someone confirmed it first
    assert drain(f.c) == [ev.JoinRefused(NameTaken("alice"))] and f.c.closed
    f.now += 1.0
    assert f.out() == [] and f.c.get_timer() is None


def test_a_refusal_after_the_server_confirmed_is_ignored():
    f = FakeServer()
    f.c.connect(f.now)
    hello = f.out()[0]
    f.welcome(hello)
    f.hear()
    f.say(m.Members(("alice",)))
    drain(f.c)
    f.to_client(wire.Refuse(hello.nonce, wire.RefuseCode.NAME_TAKEN, "alice"))
    assert f.c.ignored == 1 and f.c.state is State.JOINED and drain(f.c) == []


@pytest.mark.parametrize("session", [bytes(8), SID], ids=["no-session", "ours"])
def test_a_reset_for_no_session_or_ours_makes_the_client_resume_with_a_proof(session):
    f = joined()
    f.to_client(wire.Reset(session))
    assert f.c.state is State.RECONNECTING and drain(f.c) == [ev.ConnectionLost()]
    hello = f.out()[0]
    assert hello.name == "alice" and hello.resume == b"" and len(hello.public) == 32
    f.to_client(wire.Challenge(hello.nonce, b"T" * 20))
    again = f.out()[0]
    assert again.nonce == hello.nonce and len(again.resume) == 32
    assert again.resume == client_resume_proof(f.keys.seal.keys, SID, hello.nonce, b"T" * 20)


def test_a_reset_for_another_session_is_ignored():
    f = joined()
    before = f.c.ignored
    f.to_client(wire.Reset(b"o" * 8))
    assert f.c.state is State.JOINED and f.c.ignored == before + 1
    assert drain(f.c) == [] and f.out() == []


def test_server_datagrams_sealed_with_other_keys_replayed_or_bit_flipped_are_ignored_and_counted():
    f = joined()
    c = f.c
    before = c.ignored
    line = m.Line(1, "bob", "hi")
    stranger = Peer(SID, f.now, seal=Seal(SessionKeys(b"k" * 32), Side.SERVER))     # our session id, other keys
    stranger.send(line)
    for d in stranger.datagrams(f.now):
        c.receive_datagram(d, SERVER, f.now)
    f.sealed(wire.Ping(b"o" * 8))                  # our keys, another session's id inside
    assert c.ignored == before + 2 and drain(c) == []
    f.peer.send(line)
    (real,) = f.peer.datagrams(f.now)
    n = 0
    for i in range(len(real)):
        for bit in (0x01, 0x80):
            forged = bytearray(real)
            forged[i] ^= bit
            c.receive_datagram(bytes(forged), SERVER, f.now)
            n += 1
    assert c.ignored == before + 2 + n and drain(c) == [] and c.state is State.JOINED
    c.receive_datagram(real, SERVER, f.now)        # the flips burned nothing: the real one opens
    assert drain(c) == [ev.RoomLine(1, "bob", "hi", False, None, False, None)]
    c.receive_datagram(real, SERVER, f.now)        # replayed
    assert c.ignored == before + 3 + n and drain(c) == []


@pytest.mark.parametrize("theirs", [1, wire.VERSION - 1, wire.VERSION + 1])
def test_a_server_of_another_version_is_named_in_one_refusal_not_a_timeout(theirs):
    f = FakeServer()
    f.c.connect(f.now)
    (hello,) = f.out()
    refuse = (wire.MAGIC + bytes([theirs, wire.PacketType.REFUSE]) + hello.nonce
              + bytes([wire.RefuseCode.VERSION]) + wire.pack_text(str(theirs)))
    other = bytearray(refuse)
    other[5] ^= 1                                            # not our HELLO's nonce: ignored
    f.c.receive_datagram(bytes(other), SERVER, f.now)
    f.c.receive_datagram(refuse.replace(bytes([wire.RefuseCode.VERSION]) + wire.pack_text(str(theirs)),
                                        bytes([wire.RefuseCode.FULL]) + wire.pack_text("")), SERVER, f.now)
    assert f.c.state is State.CONNECTING and f.c.ignored == 2           # another code means nothing here
    f.c.receive_datagram(refuse + b"x", SERVER, f.now)                  # trailing bytes: malformed
    assert f.c.ignored == 3
    f.c.receive_datagram(refuse, SERVER, f.now)
    (e,) = [e for e in drain(f.c) if isinstance(e, ev.JoinRefused)]
    assert isinstance(e.error, VersionMismatch) and e.error.detail == str(theirs)
    assert f.c.state is State.CLOSED
