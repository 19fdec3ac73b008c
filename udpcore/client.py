"""The chat client engine, sans I/O. States: :mod:`udpcore.client_state`, every change
through :meth:`ClientEngine._set_state`. Lines typed before the join are queued, not lost.
What the user does arrives as typed calls (say, private, nick, who, leave), which raise a
:class:`ChatError` when they cannot be done. Once the server has said its rate (LIMITS),
lines go no faster (:mod:`udpcore.pacing`): a pipe is slowed down, not refused."""
from __future__ import annotations

import logging
import secrets
from collections import deque
from typing import Callable

from . import appmsg as m
from . import events as ev
from .client_history import CatchUp
from .client_joining import CONNECT_TIMEOUT, JoinSteps
from .client_messages import ServerMessages
from .client_state import ENDED_BY_SERVER, GONE, HANDSHAKING, IN_SESSION, TRANSITIONS, BadTransition, State
from .errors import BacklogFull, DecryptError, NotInRoom, ProtocolError
from .joining import HELLO_MAX_RETRY, Joiner
from .names import check_name, clean_message, too_long
from .pacing import Pacer
from .frames import SESSION_PACKETS, decode_session
from .peer import SERVER_TIMEOUT, Peer
from .sealing import SEALED_PREFIX
from .wire import HELLO_FIRST_RETRY, MAGIC, VERSION, Bye, PacketType, Ping, Reset, encode

__all__ = ["ClientEngine", "State", "BadTransition", "CONNECT_TIMEOUT", "LEAVE_TIMEOUT"]

log = logging.getLogger("udpcore.client")
Addr = tuple[str, int]
_NO_SESSION = bytes(8)                      # a RESET in answer to a sealed packet names no session
LEAVE_TIMEOUT = 10.0
MAX_QUEUED = 1000          # messages held while not yet joined, and lines waiting for the pace
_RESET_PREFIX = MAGIC + bytes([VERSION, PacketType.RESET])
REMOVED_BYE = "removed"    # the BYE's reason after a REMOVED (or instead of one that was lost)


class ClientEngine(CatchUp, ServerMessages, JoinSteps):
    """``passphrase``: the room's, for a locked room (a client that holds one
    refuses a room that says it is open). ``room_id``, ``last_seq`` and
    ``oldest_seq`` say what the client's own copy of the room holds;
    ``replay`` and ``catch_up`` how much of the past to ask for
    (:mod:`udpcore.client_history`). ``rejoin``: when the server closes the
    room, keep trying to join again (a window); without it the engine stops."""

    def __init__(self, name: str, server: Addr, now: float, *, server_label: str = "", passphrase: str = "",
                 randbytes: Callable[[int], bytes] = secrets.token_bytes, room_id: str = "", last_seq: int = 0,
                 oldest_seq: int = 0, replay: int = 100, catch_up: int | None = 500, rejoin: bool = False) -> None:
        self.name = name
        self.server = server
        self.server_label = server_label or f"{server[0]}:{server[1]}"
        self.state = State.IDLE
        self._peer: Peer | None = None
        self._join = Joiner(randbytes, passphrase)
        # A fresh session is the server's once our first SEALED packet reaches it: we
        # send a PING until the server's first sealed packet shows it did, and only
        # then tell the program we are in (the server may still refuse the name).
        self._confirmed = False
        self._confirm_at: float | None = None
        self._confirm_retry = HELLO_FIRST_RETRY
        self._greeting: ev.Event | None = None
        self._deadline: float | None = None      # connect or leave deadline
        self._queued: list[bytes] = []            # typed before we had a session
        self._leave_requested = False             # leave() before the join completed
        self._join_list_due = False               # the next MEMBERS is the join's, not a who()'s
        self._whos = 0                            # who() calls not yet answered
        self._next_msg_id = 1
        self._pacer = Pacer()                     # lines waiting for the server's rate
        self._sync_due = False                    # leaving: SYNC goes once the paced lines have
        self._out: list[tuple[bytes, Addr]] = []
        self._events: deque[ev.Event] = deque()
        self.ignored = 0                          # datagrams dropped (malformed, foreign, stale)
        self.refusals = 0                         # ICMP port unreachable once past joining (a hint)
        self._started = now                       # when connect() began: how long a refusal took
        self._rejoin = rejoin
        self._origin = randbytes(8)               # this program's id to the server (pastmsg.Origin)...
        self._declared = False                    # ...said on this session (before its first line)
        self.room_closed = False                  # the server closed the room; we wait for it to open
        self._init_history(room_id, last_seq, oldest_seq, replay, catch_up)

    @property
    def closed(self) -> bool:
        return self.state is State.CLOSED

    @property
    def backlog(self) -> int:
        """Fragments and messages not yet acknowledged by the server (or not yet sent)."""
        peer = self._peer
        return len(self._queued) + len(self._pacer) + (peer.channel.backlog if peer is not None else 0)

    def pacing_delay(self, now: float) -> float:
        """Seconds the lines waiting for the server's rate still need to go out."""
        return self._pacer.drain_time(len(self._queued))

    def _set_state(self, new: State) -> None:
        old = self.state
        if new is old:
            return
        if new not in TRANSITIONS[old]:
            raise BadTransition(f"{old.name} -> {new.name}")
        log.debug("%s: %s -> %s", self.name, old.name, new.name)
        self.state = new

    # --- the four doors ------------------------------------------------------------

    def connect(self, now: float) -> None:
        self._join.start(now)
        self._started = now
        self._deadline = now + CONNECT_TIMEOUT
        self._set_state(State.CONNECTING)

    def port_unreachable(self, now: float) -> None:
        """ICMP port unreachable from the server: while joining, the answer (say so now, not
        after CONNECT_TIMEOUT); later only a counted hint (a restarting server says it for a
        moment, anyone on the path can forge it): sessions end by SERVER_TIMEOUT only."""
        if self.state is not State.CONNECTING:
            self.refusals += 1
            return
        self._events.append(ev.Unreachable(self.server_label, self.server[1], now - self._started, True))
        self._set_state(State.CLOSED)

    def receive_datagram(self, data: bytes, addr: Addr, now: float) -> None:
        if self.closed or addr != self.server:
            self.ignored += 1
            return
        peer = self._peer
        if data[:5] == SEALED_PREFIX:
            if peer is None or peer.seal is None:
                self.ignored += 1
                return
            try:
                data = peer.seal.open(data)
            except DecryptError:
                self.ignored += 1             # forged, damaged, replayed, or another session's
                return
            if self.state in HANDSHAKING:     # the server has us back: our WELCOME was lost
                self._join.ask_again(now)
                self.ignored += 1
                return
            self._server_confirmed()
        elif not data.startswith(_RESET_PREFIX):
            self._handshake_packet(data, now)
            return
        try:
            p = decode_session(data)
        except ProtocolError:
            self.ignored += 1
            return
        if isinstance(p, Reset):
            if peer is not None and p.session in (peer.session, _NO_SESSION):
                self._server_forgot_us(now)
            else:
                self.ignored += 1
            return
        if peer is None or not isinstance(p, SESSION_PACKETS) or p.session != peer.session:
            self.ignored += 1
            return
        if isinstance(p, Bye):
            if p.reason == REMOVED_BYE and self.state is not State.SERVER_CLOSING:
                if self.state is not State.REMOVED:          # its REMOVED never reached us
                    self._events.append(ev.Removed())
            elif self.state not in ENDED_BY_SERVER:
                self._events.append(ev.ServerClosed(p.reason))
            if self._rejoin and self.state in (State.JOINED, State.SERVER_CLOSING):
                self._wait_for_room(now)
            else:
                self._set_state(State.CLOSED)
        elif self.state in IN_SESSION:
            try:
                msgs = peer.receive(p, now)
            except ProtocolError:
                self.ignored += 1
                return
            for msg in msgs:
                if self.state is State.REMOVED:
                    break                         # nothing after REMOVED concerns us
                self._server_message(msg, now)

    def datagrams_to_send(self, now: float) -> list[tuple[bytes, Addr]]:
        out, self._out = self._out, []
        hello = self._join.hello(self.name, now, reconnecting=self.state is State.RECONNECTING)
        if hello is not None:
            out.append((hello, self.server))
        peer = self._peer
        if peer is not None and self._confirm_at is not None and now >= self._confirm_at \
                and self.state in IN_SESSION:
            out.append((peer.wrap(encode(Ping(peer.session))), self.server))
            self._confirm_at = now + self._confirm_retry
            self._confirm_retry = min(HELLO_MAX_RETRY, self._confirm_retry * 2)
        if peer is not None and self.state in IN_SESSION:
            self._release(peer, now)
            if self._asked:
                self._past_due(now)
            out.extend((d, self.server) for d in peer.datagrams(now))
            if self.state is State.SERVER_CLOSING and self._rejoin:
                self._wait_for_room(now)          # our last ack is in ``out``; then HELLO, now and then
            elif self.state in ENDED_BY_SERVER or (self.state is State.LEAVING and peer.channel.idle):
                self._set_state(State.CLOSED)     # our last ack is in ``out``
        return out

    def get_timer(self) -> float | None:
        if self.closed:
            return None
        times = [t for t in (self._join.due, self._deadline, self._confirm_at) if t is not None]
        peer = self._peer
        if peer is not None and self.state in IN_SESSION:
            t = peer.channel.get_timer()
            if t is not None:
                times.append(t)
            times.append(peer.keepalive_at())
            times.append(peer.last_heard + SERVER_TIMEOUT)
            t = self._pacer.next_at()
            if t is not None:
                times.append(t)
            t = self._past_timer()
            if t is not None:
                times.append(t)
        return min(times) if times else None

    def handle_timer(self, now: float) -> None:
        if self._deadline is not None and now >= self._deadline:
            if self.state is State.CONNECTING:
                self._events.append(ev.Unreachable(self.server_label, self.server[1], CONNECT_TIMEOUT))
            self._set_state(State.CLOSED)
            return
        peer = self._peer
        if peer is None or self.state not in IN_SESSION:
            return
        peer.channel.handle_timer(now)
        if peer.lost(now, SERVER_TIMEOUT):
            if self.state is not State.JOINED:    # leaving, or the room is closing anyway
                self._set_state(State.CLOSED)
                return
            self._set_state(State.RECONNECTING)
            self._join.start(now, resume=self._resumable())
            self._events.append(ev.ConnectionLost())
        elif peer.needs_keepalive(now):
            peer.last_sent = now
            self._out.append((peer.wrap(encode(Ping(peer.session))), self.server))

    def next_event(self) -> ev.Event | None:
        return self._events.popleft() if self._events else None

    # --- what the user does -----------------------------------------------------------

    def say(self, text: str, *, action: bool = False) -> int:
        """A line to the room; returns its message id (see LinePending).
        Raises NotInRoom, LineTooLong or BacklogFull."""
        return self._line(text, action, None)

    def private(self, to: str, text: str, *, action: bool = False) -> int:
        """A private line to one member; returns its message id. Raises as :meth:`say`."""
        return self._line(text, action, to)

    def nick(self, name: str) -> None:
        """Ask for a new name. Raises InvalidName (the server may still refuse it: taken)."""
        self._check_in_room()
        check_name(name)
        self._send(m.encode_msg(m.Nick(name)))
        self._pacer.charge()

    def who(self) -> None:
        """Ask for the member list; it comes as MemberList(answers_who=True)."""
        self._check_in_room()
        self._send(m.encode_msg(m.Who()))
        self._pacer.charge()
        self._whos += 1

    def leave(self, now: float) -> None:
        """Leave once everything typed so far is delivered (or LEAVE_TIMEOUT passes)."""
        if self.state in GONE or self._leave_requested:
            return
        self._leave_requested = True
        self._deadline = now + LEAVE_TIMEOUT + self.pacing_delay(now)   # paced lines go first
        if self.state is State.JOINED:
            self._begin_leaving()
        elif self.state is State.IDLE or (self.state is State.RECONNECTING and self.room_closed):
            self._set_state(State.CLOSED)         # nobody to say goodbye to

    def rejoin_now(self, now: float) -> None:
        """The room was closed and we wait for it: try to join again now ("Join again")."""
        if self.state is State.RECONNECTING:
            self._join.start(now)

    # --- inside --------------------------------------------------------------------

    def _declare(self) -> None:
        """Tell the server who we are, once a session and before its first line: a line
        sent again after the server went down, which it had stored, is then known (not
        relayed twice), and our own lines in a catch-up come back marked as ours."""
        assert self._peer is not None
        self._peer.send(m.encode_msg(m.Origin(self._origin)), capped=False)
        self._declared = True

    def _wait_for_room(self, now: float) -> None:
        """The server closed the room: wait for it to open again, asking now and then
        (a restarted server takes us in as a new member, and we catch up)."""
        self.room_closed = True
        self._set_state(State.RECONNECTING)
        self._join.start(now)

    def _check_in_room(self) -> None:
        if self.state in GONE or self._leave_requested:
            raise NotInRoom()

    def _line(self, text: str, action: bool, to: str | None) -> int:
        self._check_in_room()
        refused = too_long(text)
        if refused:
            raise refused
        text = clean_message(text)
        msg_id = self._next_msg_id
        msg = m.Say(msg_id, text, action) if to is None else m.Private(msg_id, to, text, action)
        self._send(m.encode_msg(msg), line=True)  # raises BacklogFull before anything is shown
        self._next_msg_id = msg_id % 0xFFFFFFFF + 1
        self._events.append(ev.LinePending(msg_id, text, action, to))
        self._unconfirmed.add(msg_id)
        return msg_id

    def _send(self, data: bytes, line: bool = False) -> None:
        if self._peer is None or self.state not in IN_SESSION:
            if len(self._queued) >= MAX_QUEUED:
                raise BacklogFull()
            self._queued.append(data)
            return
        pacer = self._pacer
        if line and not pacer.take_at_once():
            if len(pacer) >= MAX_QUEUED:
                raise BacklogFull()
            pacer.waiting.append(data)            # datagrams_to_send releases it, on time
            return
        if line and not self._declared:
            self._declare()
        self._peer.send(data)

    def _release(self, peer: Peer, now: float) -> None:
        """Lines whose turn has come go to the channel; a deferred SYNC follows the last.
        Leaving, the deadline is kept beyond the time the waiting lines still need
        (they may have come into the pacer only after leave(): typed before the join)."""
        if self._pacer.waiting:
            for data in self._pacer.due(now):
                if not self._declared:
                    self._declare()
                peer.send(data, capped=False)     # accepted once already: never refused now
            if self._leave_requested and self._deadline is not None:
                self._deadline = max(self._deadline, now + LEAVE_TIMEOUT + self._pacer.drain_time())
        if self._sync_due and not self._pacer.waiting:
            self._sync_due = False
            peer.send(m.Sync(1), capped=False)

    def _begin_leaving(self) -> None:
        """SYNC first: the server answers in order, so when SYNCED comes back
        every earlier line's echo has arrived too; then LEAVE."""
        assert self._peer is not None
        self._sync_due = True                     # after the lines still waiting for the pace
        self._set_state(State.DRAINING)

    def _server_forgot_us(self, now: float) -> None:
        """RESET: the server holds no session for us (it restarted, or we left)."""
        if self.state in GONE:
            self._set_state(State.CLOSED)
            return
        if self.state is State.JOINED:
            self._events.append(ev.ConnectionLost())
        self._set_state(State.RECONNECTING)
        self._join.start(now, resume=self._resumable())      # our address may merely have changed
