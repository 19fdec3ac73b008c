"""The client's state table (udpcore/client_state.py), walked: every allowed
transition is reached by the engine doing what it does, and every forbidden one
raises BadTransition."""
from __future__ import annotations

import pytest

from udpcore import events as ev
from udpcore import wire
from udpcore.client import CONNECT_TIMEOUT, LEAVE_TIMEOUT, ClientEngine
from udpcore.client_state import GONE, HANDSHAKING, IN_SESSION, TRANSITIONS, BadTransition, State
from udpcore.protection import Side
from tests.enginepair import SERVER, Room, drain
from tests.sealed import keys_of, peek

pytestmark = pytest.mark.timeout(10)

S = State
ALLOWED = {(a, b) for a, targets in TRANSITIONS.items() for b in targets}


def recorded(c: ClientEngine) -> list[tuple[State, State]]:
    """Every transition ``c`` makes from now on, in order."""
    seen: list[tuple[State, State]] = []
    real = c._set_state

    def spy(new: State) -> None:
        old = c.state
        real(new)
        if c.state is not old:
            seen.append((old, c.state))
    c._set_state = spy
    return seen


def test_the_table_is_the_documented_one():
    assert TRANSITIONS == {
        S.IDLE: {S.CONNECTING, S.CLOSED},
        S.CONNECTING: {S.JOINED, S.CLOSED},
        S.JOINED: {S.RECONNECTING, S.DRAINING, S.SERVER_CLOSING, S.REMOVED, S.CLOSED},
        S.RECONNECTING: {S.JOINED, S.CLOSED},
        S.DRAINING: {S.LEAVING, S.SERVER_CLOSING, S.REMOVED, S.CLOSED},
        S.LEAVING: {S.SERVER_CLOSING, S.REMOVED, S.CLOSED},
        S.SERVER_CLOSING: {S.RECONNECTING, S.CLOSED},   # RECONNECTING: rejoin after the room closed
        S.REMOVED: {S.CLOSED},
        S.CLOSED: set(),
    }
    assert IN_SESSION == {S.JOINED, S.DRAINING, S.LEAVING, S.SERVER_CLOSING, S.REMOVED}
    assert HANDSHAKING == {S.CONNECTING, S.RECONNECTING}
    assert GONE == {S.DRAINING, S.LEAVING, S.SERVER_CLOSING, S.REMOVED, S.CLOSED}


@pytest.mark.parametrize("old", list(State))
def test_every_forbidden_transition_raises_and_leaves_the_state_alone(old):
    for new in State:
        c = ClientEngine("alice", SERVER, 0.0)
        c.state = old
        if new is old:
            c._set_state(new)                     # staying put is no transition
            assert c.state is old
        elif (old, new) in ALLOWED:
            c._set_state(new)
            assert c.state is new
        else:
            with pytest.raises(BadTransition, match=f"{old.name} -> {new.name}"):
                c._set_state(new)
            assert c.state is old


# --- each allowed transition, reached by the engine itself ---------------------------------


def test_idle_connecting_joined_draining_leaving_closed():
    room = Room()
    c = room.add("alice", connect=False)
    seen = recorded(c)
    assert c.state is S.IDLE and not c.closed
    c.connect(room.now)
    room.settle()
    c.say("last words")
    c.leave(room.now)
    assert c.state is S.DRAINING
    room.settle()
    assert seen == [(S.IDLE, S.CONNECTING), (S.CONNECTING, S.JOINED), (S.JOINED, S.DRAINING),
                    (S.DRAINING, S.LEAVING), (S.LEAVING, S.CLOSED)]
    assert c.closed and room.server.member_names == []


def test_idle_closed_when_leaving_before_connecting():
    c = ClientEngine("alice", SERVER, 0.0)
    seen = recorded(c)
    c.leave(0.0)
    assert seen == [(S.IDLE, S.CLOSED)] and c.get_timer() is None


def test_connecting_closed_when_refused():
    room = Room()
    room.add("alice")
    room.settle()
    c = room.add("ALICE", connect=False)
    seen = recorded(c)
    c.connect(room.now)
    room.settle()
    assert seen == [(S.IDLE, S.CONNECTING), (S.CONNECTING, S.CLOSED)]


def test_connecting_closed_when_unreachable_at_exactly_the_deadline():
    c = ClientEngine("alice", SERVER, 0.0)
    seen = recorded(c)
    c.connect(0.0)
    c.handle_timer(CONNECT_TIMEOUT - 0.001)
    assert c.state is S.CONNECTING
    c.handle_timer(CONNECT_TIMEOUT)
    assert seen[-1] == (S.CONNECTING, S.CLOSED)
    assert drain(c) == [ev.Unreachable("127.0.0.1:5002", 5002, CONNECT_TIMEOUT)]


def test_joined_reconnecting_joined_after_a_reset():
    room = Room()
    c = room.add("alice")
    room.settle()
    seen = recorded(c)
    from udpcore.server import ServerEngine
    room.server = ServerEngine(room.now, randbytes=room.rng.randbytes)     # forgets us
    c.say("hello?")
    room.advance(2)
    assert seen == [(S.JOINED, S.RECONNECTING), (S.RECONNECTING, S.JOINED)]


def test_reconnecting_closed_when_leaving_times_out():
    room = Room()
    c = room.add("alice")
    room.settle()
    room.drop = lambda *a: True
    room.advance(16)
    assert c.state is S.RECONNECTING
    seen = recorded(c)
    c.leave(room.now)
    assert c.state is S.RECONNECTING               # nothing to drain through: wait for a session
    room.advance(LEAVE_TIMEOUT + 0.1)
    assert seen == [(S.RECONNECTING, S.CLOSED)]


def test_reconnecting_then_leave_requested_leaves_once_joined_again():
    room = Room()
    c = room.add("alice")
    room.settle()
    room.drop = lambda *a: True
    room.advance(16)
    seen = recorded(c)
    c.leave(room.now)
    room.drop = lambda *a: False
    room.advance(3)
    assert seen == [(S.RECONNECTING, S.JOINED), (S.JOINED, S.DRAINING), (S.DRAINING, S.LEAVING),
                    (S.LEAVING, S.CLOSED)]


@pytest.mark.parametrize("when", ["joined", "draining", "leaving"])
def test_server_closing_from_every_state_in_a_session(when):
    room = Room()
    c = room.add("alice")
    room.settle()
    if when != "joined":
        room.drop = lambda d, src, dst: dst == SERVER      # the server hears nothing: the leave stalls
        c.leave(room.now)
        room.settle()
        if when == "leaving":
            from udpcore.appmsg import Synced
            c._server_message(Synced(1), room.now)
    state = {"joined": S.JOINED, "draining": S.DRAINING, "leaving": S.LEAVING}[when]
    assert c.state is state
    seen = recorded(c)
    room.server.close(room.now)
    room.settle()
    assert seen[0] == (state, S.SERVER_CLOSING) and seen[-1] == (S.SERVER_CLOSING, S.CLOSED)
    assert drain(c)[-1] == ev.ServerClosed("")


def test_joined_closed_on_bye():
    room = Room()
    c = room.add("alice")
    room.settle()
    seen = recorded(c)
    mem = room.server._roster.named("alice")          # sealed as the server seals it
    c.receive_datagram(mem.peer.wrap(wire.encode(wire.Bye(c._peer.session, "gone"))), SERVER, room.now)
    assert seen == [(S.JOINED, S.CLOSED)] and drain(c)[-1] == ev.ServerClosed("gone")


def test_draining_closed_on_reset_and_on_the_leave_deadline():
    room = Room()
    c = room.add("alice")
    room.settle()
    room.drop = lambda *a: True
    c.leave(room.now)
    seen = recorded(c)
    c.receive_datagram(wire.encode(wire.Reset(c._peer.session)), SERVER, room.now)
    assert seen == [(S.DRAINING, S.CLOSED)]
    room = Room()
    c = room.add("alice")
    room.settle()
    room.drop = lambda *a: True
    start = room.now
    c.leave(start)
    seen = recorded(c)
    c.handle_timer(start + LEAVE_TIMEOUT - 0.01)
    assert c.state is S.DRAINING
    c.handle_timer(start + LEAVE_TIMEOUT)
    assert seen == [(S.DRAINING, S.CLOSED)]


def test_a_reset_while_leaving_ends_the_leave():
    room = Room()
    c = room.add("alice")
    room.settle()
    room.drop = lambda d, src, dst: src == SERVER
    c.leave(room.now)
    room.settle()
    from udpcore.appmsg import Synced
    c._server_message(Synced(1), room.now)
    assert c.state is S.LEAVING
    seen = recorded(c)
    c.receive_datagram(wire.encode(wire.Reset(c._peer.session)), SERVER, room.now)
    assert seen == [(S.LEAVING, S.CLOSED)]


def test_a_synced_outside_draining_changes_nothing():
    room = Room()
    c = room.add("alice")
    room.settle()
    from udpcore.appmsg import Synced
    c._server_message(Synced(1), room.now)
    assert c.state is S.JOINED and c._peer.channel.idle


@pytest.mark.parametrize("when", ["joined", "draining", "leaving"])
def test_removed_from_every_state_in_a_session_is_acknowledged_then_closed(when):
    """The operator's REMOVED ends the stay from any state with a session: one
    Removed event, the acknowledgement, then CLOSED; never RECONNECTING."""
    from udpcore import appmsg as m
    from udpcore.appmsg import Synced
    from udpcore.peer import Peer
    room = Room()
    c = room.add("alice")
    room.settle()
    if when != "joined":
        room.drop = lambda d, src, dst: dst == SERVER
        c.leave(room.now)
        room.settle()
        if when == "leaving":
            c._server_message(Synced(1), room.now)
    drain(c)
    seen = recorded(c)
    server_side = Peer(c._peer.session, room.now, seal=room.server._roster.named("alice").peer.seal)
    server_side.channel._next_seq = c._peer.channel._expected     # continue the server's stream
    server_side.send(m.Removed("spam", banned=True))
    for d in server_side.datagrams(room.now):
        c.receive_datagram(d, SERVER, room.now)
    assert drain(c) == [ev.Removed("spam", True)]
    out = c.datagrams_to_send(room.now)
    sent = [peek(keys_of(c), d, to=Side.SERVER) for d, _ in out]
    acks = [p.ack for p in sent if isinstance(p, (wire.Ack, wire.Data))]
    assert acks and acks[-1] == server_side.channel._next_seq         # REMOVED acknowledged
    assert seen[-2:] == [(seen[-2][0], S.REMOVED), (S.REMOVED, S.CLOSED)]
    c.handle_timer(room.now + 100)
    assert c.closed and c.datagrams_to_send(room.now + 100) == []
