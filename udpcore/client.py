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
from .answers import command_error, line_refusal, refusal
from .client_state import ENDED_BY_SERVER, GONE, HANDSHAKING, IN_SESSION, TRANSITIONS, BadTransition, State
from .errors import BacklogFull, LineTooLong, NotInRoom, ProtocolError
from .joining import Joiner
from .names import check_name, clean_text
from .pacing import Pacer
from .peer import SERVER_TIMEOUT, Peer
from .wire import MAX_MESSAGE_TEXT, Ack, Bye, Challenge, Data, Ping, Refuse, Reset, Welcome, decode, encode

__all__ = ["ClientEngine", "State", "BadTransition", "CONNECT_TIMEOUT", "LEAVE_TIMEOUT"]

log = logging.getLogger("udpcore.client")
Addr = tuple[str, int]
_SESSION_PACKETS = (Data, Ack, Ping, Bye, Reset)   # the packets that carry a session id
CONNECT_TIMEOUT = 10.0
LEAVE_TIMEOUT = 10.0
MAX_QUEUED = 1000          # messages held while not yet joined, and lines waiting for the pace
REMOVED_BYE = "removed"    # the BYE's reason after a REMOVED (or instead of one that was lost)


class ClientEngine:
    def __init__(self, name: str, server: Addr, now: float, *, server_label: str = "",
                 randbytes: Callable[[int], bytes] = secrets.token_bytes) -> None:
        self.name = name
        self.server = server
        self.server_label = server_label or f"{server[0]}:{server[1]}"
        self.state = State.IDLE
        self._peer: Peer | None = None
        self._join = Joiner(randbytes)
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
        try:
            p = decode(data)
        except ProtocolError:
            self.ignored += 1
            return
        if isinstance(p, (Challenge, Welcome, Refuse)):
            if p.nonce != self._join.nonce or self.state not in HANDSHAKING:
                self.ignored += 1
            elif isinstance(p, Challenge):
                self._challenge(p, now)
            elif isinstance(p, Welcome):
                self._welcome(p, now)
            else:
                self._events.append(ev.JoinRefused(refusal(p, self.name)))
                self._set_state(State.CLOSED)
            return
        peer = self._peer
        if peer is None and isinstance(p, Data):
            self._join.ask_again(now)
        if (peer is None or not isinstance(p, _SESSION_PACKETS)
                or p.session != peer.session):           # a server never sends us a HELLO
            self.ignored += 1
            return
        if isinstance(p, Reset):
            self._server_forgot_us(now)
        elif isinstance(p, Bye):
            if p.reason == REMOVED_BYE and self.state is not State.SERVER_CLOSING:
                if self.state is not State.REMOVED:          # its REMOVED never reached us
                    self._events.append(ev.Removed())
            elif self.state not in ENDED_BY_SERVER:
                self._events.append(ev.ServerClosed(p.reason))
            self._set_state(State.CLOSED)
        elif isinstance(p, (Data, Ack, Ping)) and self.state in IN_SESSION:
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
        if peer is not None and self.state in IN_SESSION:
            self._release(peer, now)
            out.extend((d, self.server) for d in peer.datagrams(now))
            if self.state in ENDED_BY_SERVER or (self.state is State.LEAVING and peer.channel.idle):
                self._set_state(State.CLOSED)     # our last ack is in ``out``
        return out

    def get_timer(self) -> float | None:
        if self.closed:
            return None
        times = [t for t in (self._join.due, self._deadline) if t is not None]
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
            self._join.start(now, resume=peer.session)
            self._events.append(ev.ConnectionLost())
        elif peer.needs_keepalive(now):
            peer.last_sent = now
            self._out.append((encode(Ping(peer.session)), self.server))

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
        elif self.state is State.IDLE:
            self._set_state(State.CLOSED)

    # --- inside --------------------------------------------------------------------

    def _check_in_room(self) -> None:
        if self.state in GONE or self._leave_requested:
            raise NotInRoom()

    def _line(self, text: str, action: bool, to: str | None) -> int:
        self._check_in_room()
        text = clean_text(text)
        size = len(text.encode())
        if size > MAX_MESSAGE_TEXT:
            raise LineTooLong(size, MAX_MESSAGE_TEXT)
        msg_id = self._next_msg_id
        msg = m.Say(msg_id, text, action) if to is None else m.Private(msg_id, to, text, action)
        self._send(m.encode_msg(msg), line=True)  # raises BacklogFull before anything is shown
        self._next_msg_id = msg_id % 0xFFFFFFFF + 1
        self._events.append(ev.LinePending(msg_id, text, action, to))
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
        self._peer.send(data)

    def _release(self, peer: Peer, now: float) -> None:
        """Lines whose turn has come go to the channel; a deferred SYNC follows the last.
        Leaving, the deadline is kept beyond the time the waiting lines still need
        (they may have come into the pacer only after leave(): typed before the join)."""
        if self._pacer.waiting:
            for data in self._pacer.due(now):
                peer.send(data, capped=False)     # accepted once already: never refused now
            if self._leave_requested and self._deadline is not None:
                self._deadline = max(self._deadline, now + LEAVE_TIMEOUT + self._pacer.drain_time())
        if self._sync_due and not self._pacer.waiting:
            self._sync_due = False
            peer.send(m.Sync(1), capped=False)

    def _challenge(self, p: Challenge, now: float) -> None:
        if not self._join.token and self.state is State.CONNECTING and self._deadline is not None:
            # The server answers, so it is reachable: on a lossy network give
            # the rest of the handshake its own time (once, so it stays bounded).
            self._deadline = max(self._deadline, now + CONNECT_TIMEOUT)
        self._join.challenged(p, now)

    def _welcome(self, p: Welcome, now: float) -> None:
        rtts = self._join.welcomed(now)
        old = self._peer
        first = old is None
        if p.resumed and old is not None and old.session == p.session:
            old.last_heard = old.last_sent = now
            old.channel.resend_outstanding()
        else:
            peer = Peer(p.session, now)
            for rtt in rtts:                     # so a first line lost recovers in ms, not in 1 s
                peer.channel.rtt.sample(rtt)
            if old is not None:
                for raw in old.channel.take_unsent_messages():
                    peer.channel.send(raw, capped=False)      # accepted once: never refused now
            self._peer = peer
            self._join_list_due = True
            self._whos = 0                        # a new session answers no earlier who()
        self.name = p.name
        self._set_state(State.JOINED)
        if not self._leave_requested:
            self._deadline = None
        if not p.resumed:
            self._pacer.hold(now)                 # LIMITS comes first on a fresh session
        for data in self._queued:
            if data[0] in (m.MsgType.SAY, m.MsgType.PRIVATE) and self._pacer.active:
                self._pacer.waiting.append(data)  # paced like any line
            else:
                self._peer.send(data, capped=False)   # type: ignore[union-attr]
        self._queued.clear()
        if first:
            self._events.append(ev.Connected(self.name, self.server_label))
        else:
            self._events.append(ev.Reconnected(resumed=p.resumed))
        if self._leave_requested:
            self._begin_leaving()

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
        self._join.start(now)

    def _server_message(self, msg: m.AppMessage, now: float) -> None:
        e: ev.Event
        if isinstance(msg, m.Limits):
            self._pacer.limits(msg.lines_per_minute, msg.burst, now)
            return
        if self._pacer.holding is not None:
            self._pacer.unhold()                  # an older server: it paces nobody
        if isinstance(msg, m.Line):
            own = bool(msg.flags & m.LINE_OWN)
            e = ev.RoomLine(msg.seq, msg.sender, msg.text, bool(msg.flags & m.LINE_ACTION),
                            msg.to or None, own, msg.msg_id if own else None)
        elif isinstance(msg, m.Joined):
            e = ev.MemberJoined(msg.name, msg.address, msg.guest)
        elif isinstance(msg, m.Left):
            e = ev.MemberLeft(msg.name, msg.reason)
        elif isinstance(msg, m.Renamed):
            you = msg.old == self.name
            if you:
                self.name = msg.new
            e = ev.MemberRenamed(msg.old, msg.new, you)
        elif isinstance(msg, m.Members):
            answers = not self._join_list_due and self._whos > 0
            if self._join_list_due:
                self._join_list_due = False
            elif answers:
                self._whos -= 1
            e = ev.MemberList(msg.names, answers_who=answers)
        elif isinstance(msg, m.Synced):
            if self.state is State.DRAINING:
                self._peer.send(m.Leave(), capped=False)      # type: ignore[union-attr]
                self._set_state(State.LEAVING)
            return
        elif isinstance(msg, m.Error):
            e = ev.CommandError(command_error(msg))
        elif isinstance(msg, m.Closing):
            if self.state is not State.SERVER_CLOSING:
                self._events.append(ev.ServerClosed(msg.reason))
                self._set_state(State.SERVER_CLOSING)    # acknowledge it, then stop
            return
        elif isinstance(msg, m.LineRefused):
            too_fast = msg.code is m.RefusalCode.RATE_LIMITED
            if too_fast:
                self._pacer.refused()
            e = ev.LineRefused(msg.msg_id, line_refusal(msg))
        elif isinstance(msg, m.Removed):
            if self.state is State.SERVER_CLOSING:
                return                            # the room is closing anyway
            self._pacer.waiting.clear()
            self._events.append(ev.Removed(msg.reason, msg.banned))
            self._set_state(State.REMOVED)        # acknowledge it, then stop
            return
        elif isinstance(msg, m.Crowd):
            e = ev.Crowd(msg.joined, msg.left)
        else:
            self.ignored += 1
            return
        self._events.append(e)

