"""The chat client engine, sans I/O.

States: CONNECTING (HELLO until WELCOME, REFUSE or 10 s), JOINED, RECONNECTING
(the server went quiet: HELLO with our session id, with backoff, until it takes
us back), LEAVING (LEAVE sent after everything typed; waiting for its ack), and
CLOSED. Lines typed before the join completes are queued, not lost.
"""
from __future__ import annotations

import secrets
from collections import deque
from enum import Enum
from typing import Callable

from . import appmsg as m
from . import commands as c
from . import events as ev
from .names import clean_text, name_problem
from .peer import SERVER_TIMEOUT, Peer
from .wire import (HELLO_FIRST_RETRY, MAX_MESSAGE_TEXT, Ack, Bye, Challenge, Data, Hello, Ping, ProtocolError,
                   Refuse, Reset, Welcome, decode, encode)

Addr = tuple[str, int]
_SESSION_PACKETS = (Data, Ack, Ping, Bye, Reset)   # the packets that carry a session id
CONNECT_TIMEOUT = 10.0
HELLO_MAX_RETRY = 2.0
RECONNECT_MAX_RETRY = 5.0
LEAVE_TIMEOUT = 10.0


class State(Enum):
    IDLE = "idle"
    CONNECTING = "connecting"
    JOINED = "joined"
    RECONNECTING = "reconnecting"
    LEAVING = "leaving"
    CLOSED = "closed"


class ClientEngine:
    def __init__(self, name: str, server: Addr, now: float, *, server_label: str = "",
                 randbytes: Callable[[int], bytes] = secrets.token_bytes) -> None:
        self.name = name
        self.server = server
        self.server_label = server_label or f"{server[0]}:{server[1]}"
        self.state = State.IDLE
        self._randbytes = randbytes
        self._peer: Peer | None = None
        self._nonce = b""
        self._token = b""
        self._hellos: list[float] = []            # when each HELLO with the current token went
        self._handshake_rtts: list[float] = []    # round trips the handshake timed unambiguously
        self._resume = b""
        self._hello_at: float | None = None
        self._hello_retry = HELLO_FIRST_RETRY
        self._deadline: float | None = None      # connect or leave deadline
        self._queued: list[bytes] = []            # typed before we had a session
        self._leave_requested = False
        self._ever_joined = False
        self._closing_ack = False
        self._leave_barrier = False               # waiting for the answer to our last WHO
        self._server_closed = False
        self._next_msg_id = 1
        self._out: list[tuple[bytes, Addr]] = []
        self._events: deque[ev.Event] = deque()
        self.ignored = 0                          # datagrams dropped (malformed, foreign, stale)

    @property
    def closed(self) -> bool:
        return self.state is State.CLOSED

    # --- the four doors ------------------------------------------------------------

    def connect(self, now: float) -> None:
        self._start_hello(now, resume=b"")
        self._deadline = now + CONNECT_TIMEOUT
        self.state = State.CONNECTING

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
            if p.nonce != self._nonce or self.state not in (State.CONNECTING, State.RECONNECTING):
                self.ignored += 1
            elif isinstance(p, Challenge):
                if not self._token and self.state is State.CONNECTING and self._deadline is not None:
                    # The server answers, so it is reachable: on a lossy network give
                    # the rest of the handshake its own time (once, so it stays bounded).
                    self._deadline = max(self._deadline, now + CONNECT_TIMEOUT)
                if p.token != self._token:
                    if len(self._hellos) == 1 and not self._token:   # HELLO -> CHALLENGE, sent once
                        self._handshake_rtts.append(now - self._hellos[0])
                    self._hellos = []
                self._token = p.token
                self._hello_at = now              # answer at once
            elif isinstance(p, Welcome):
                self._welcome(p, now)
            else:
                self._events.append(ev.JoinRefused(p.reason))
                self.state = State.CLOSED
            return
        peer = self._peer
        if peer is None and self._token and isinstance(p, Data):
            self._hello_at = now                  # we were welcomed but the WELCOME was lost: ask again
        if (peer is None or not isinstance(p, _SESSION_PACKETS)
                or p.session != peer.session):           # a server never sends us a HELLO
            self.ignored += 1
            return
        if isinstance(p, Reset):
            self._server_forgot_us(now)
        elif isinstance(p, Bye):
            self._closed_by_server(p.reason or "The server closed the room.")
            self.state = State.CLOSED
        elif isinstance(p, (Data, Ack, Ping)) and self.state in (State.JOINED, State.LEAVING):
            try:
                msgs = peer.receive(p, now)
            except ProtocolError:
                self.ignored += 1
                return
            for msg in msgs:
                self._server_message(msg)

    def datagrams_to_send(self, now: float) -> list[tuple[bytes, Addr]]:
        out, self._out = self._out, []
        if self._hello_at is not None and now >= self._hello_at:
            out.append((encode(Hello(self._nonce, self.name, self._token, self._resume)), self.server))
            self._hellos.append(now)              # its answer times the path if it went once
            cap = RECONNECT_MAX_RETRY if self.state is State.RECONNECTING else HELLO_MAX_RETRY
            self._hello_at = now + self._hello_retry
            self._hello_retry = min(cap, self._hello_retry * 2)
        peer = self._peer
        if peer is not None and self.state in (State.JOINED, State.LEAVING):
            out.extend((d, self.server) for d in peer.datagrams(now))
            if self.state is State.LEAVING and not self._leave_barrier and peer.channel.idle:
                self.state = State.CLOSED
        if self._closing_ack:
            self.state = State.CLOSED
        return out

    def get_timer(self) -> float | None:
        if self.closed:
            return None
        times = [t for t in (self._hello_at, self._deadline) if t is not None]
        peer = self._peer
        if peer is not None and self.state in (State.JOINED, State.LEAVING):
            t = peer.channel.get_timer()
            if t is not None:
                times.append(t)
            times.append(peer.keepalive_at())
            times.append(peer.last_heard + SERVER_TIMEOUT)
        return min(times) if times else None

    def handle_timer(self, now: float) -> None:
        if self._deadline is not None and now >= self._deadline:
            if self.state is State.CONNECTING:
                host, port = self.server_label.rsplit(":", 1)
                self._events.append(ev.Unreachable(
                    f"No answer from {self.server_label} within {CONNECT_TIMEOUT:.0f} seconds: "
                    f"is the server running? A firewall may be blocking UDP port {port}."))
            self.state = State.CLOSED
            return
        peer = self._peer
        if peer is None or self.state not in (State.JOINED, State.LEAVING):
            return
        peer.channel.handle_timer(now)
        if peer.lost(now, SERVER_TIMEOUT):
            if self.state is State.LEAVING:
                self.state = State.CLOSED
                return
            self.state = State.RECONNECTING
            self._start_hello(now, resume=peer.session)
            self._events.append(ev.ConnectionLost())
        elif peer.needs_keepalive(now):
            peer.last_sent = now
            self._out.append((encode(Ping(peer.session)), self.server))

    def next_event(self) -> ev.Event | None:
        return self._events.popleft() if self._events else None

    # --- what the user does -----------------------------------------------------------

    def submit(self, line: str, now: float) -> bool:
        """Act on one typed line. Returns False when it asks to leave."""
        cmd = c.parse(line)
        if cmd is None:
            return True
        if isinstance(cmd, c.Quit):
            return False
        if self.state in (State.CLOSED, State.LEAVING):
            self._events.append(ev.CommandError("You are not in the room any more."))
        elif isinstance(cmd, c.Say):
            self._say(cmd.text, cmd.action, None)
        elif isinstance(cmd, c.Msg):
            self._say(cmd.text, False, cmd.to)
        elif isinstance(cmd, c.Nick):
            problem = name_problem(cmd.name)
            if problem:
                self._events.append(ev.CommandError(problem[0].upper() + problem[1:] + "."))
            else:
                self._send(m.Nick(cmd.name))
        elif isinstance(cmd, c.Who):
            self._send(m.Who())
        elif isinstance(cmd, c.Help):
            self._events.append(ev.Info(c.HELP))
        else:
            self._events.append(ev.CommandError(cmd.reason))
        return True

    def leave(self, now: float) -> None:
        """Leave once everything typed so far is delivered (or LEAVE_TIMEOUT passes)."""
        if self.state in (State.CLOSED, State.LEAVING) or self._leave_requested:
            return
        self._leave_requested = True
        self._deadline = now + LEAVE_TIMEOUT
        if self.state is State.JOINED:
            self._begin_leaving()
        elif self.state is State.IDLE:
            self.state = State.CLOSED

    # --- inside --------------------------------------------------------------------

    def _say(self, text: str, action: bool, to: str | None) -> None:
        text = clean_text(text)
        size = len(text.encode())
        if size > MAX_MESSAGE_TEXT:
            self._events.append(ev.CommandError(
                f"That line is {size} bytes; the limit is {MAX_MESSAGE_TEXT} bytes. It was not sent."))
            return
        msg_id = self._next_msg_id
        self._next_msg_id = msg_id % 0xFFFFFFFF + 1
        self._events.append(ev.LinePending(msg_id, text, action, to))
        self._send(m.Say(msg_id, text, action) if to is None else m.Private(msg_id, to, text, action))

    def _send(self, msg: m.AppMessage) -> None:
        data = m.encode_msg(msg)
        if self._peer is None or self.state is State.CONNECTING:
            self._queued.append(data)
            return
        try:
            self._peer.send(data)
        except OverflowError:
            self._events.append(ev.CommandError("Too many lines are waiting to be sent; that one was not."))

    def _start_hello(self, now: float, resume: bytes) -> None:
        self._nonce = self._randbytes(8)
        self._token = b""
        self._hellos = []
        self._handshake_rtts = []
        self._resume = resume
        self._hello_at = now
        self._hello_retry = HELLO_FIRST_RETRY if not resume else 0.5

    def _welcome(self, p: Welcome, now: float) -> None:
        self._hello_at = None
        old = self._peer
        first = not self._ever_joined
        if p.resumed and old is not None and old.session == p.session:
            old.last_heard = old.last_sent = now
            old.channel.handle_timer(float("inf"))   # resend what is outstanding now
        else:
            peer = Peer(p.session, self.server, now)
            if len(self._hellos) == 1 and self._token:           # HELLO with token -> WELCOME
                self._handshake_rtts.append(now - self._hellos[0])
            for rtt in self._handshake_rtts:     # so a first line lost recovers in ms, not in 1 s
                peer.channel.rtt.sample(rtt)
            if old is not None:
                for raw in old.channel.take_unsent_messages():
                    peer.channel.send(raw)
            self._peer = peer
        self.name = p.name
        self._ever_joined = True
        self.state = State.JOINED
        if not self._leave_requested:
            self._deadline = None
        for data in self._queued:
            self._peer.send(data)     # type: ignore[union-attr]
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
        self._peer.send(m.Sync(1))
        self._leave_barrier = True
        self.state = State.LEAVING

    def _server_forgot_us(self, now: float) -> None:
        """RESET: the server holds no session for us (it restarted, or we left)."""
        if self.state is State.LEAVING:
            self.state = State.CLOSED
            return
        if self.state is State.JOINED:
            self._events.append(ev.ConnectionLost())
        self.state = State.RECONNECTING
        self._start_hello(now, resume=b"")

    def _closed_by_server(self, reason: str) -> None:
        if not self._server_closed:
            self._server_closed = True
            self._events.append(ev.ServerClosed(reason))

    def _server_message(self, msg: m.AppMessage) -> None:
        e: ev.Event
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
            e = ev.MemberList(msg.names)
        elif isinstance(msg, m.Synced):
            if self._leave_barrier and self.state is State.LEAVING:
                self._leave_barrier = False
                self._peer.send(m.Leave())      # type: ignore[union-attr]
            return
        elif isinstance(msg, m.Error):
            e = ev.CommandError(msg.text)
        elif isinstance(msg, m.Closing):
            self._closed_by_server(msg.reason or "The server closed the room.")
            self._closing_ack = True           # acknowledge it, then stop
            return
        else:
            self.ignored += 1
            return
        self._events.append(e)
