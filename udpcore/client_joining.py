"""The client's steps through the handshake: CHALLENGE, WELCOME, REFUSE, and the confirmation.

A part of :class:`~udpcore.client.ClientEngine` kept in its own module. The
WELCOME is believed only once its key confirmation checks; the session is the
server's only once its first SEALED packet opened here, and only then is the
program told it is in (the server may still refuse the name at that point).
"""
from __future__ import annotations

from collections import deque

from . import appmsg as m
from . import events as ev
from .answers import refusal
from .client_state import HANDSHAKING, State
from .errors import ChatError, HandshakeError, ProtocolError, VersionError, WrongPassphrase
from .joining import Joiner
from .pacing import Pacer
from .peer import Peer
from .protection import SessionKeys, Side
from .sealing import Seal
from .versions import foreign_refuse
from .wire import HELLO_FIRST_RETRY, Challenge, Refuse, Welcome, decode

CONNECT_TIMEOUT = 10.0
_LINES = (bytes([m.MsgType.SAY]), bytes([m.MsgType.PRIVATE]))


class JoinSteps:
    name: str
    state: State
    server_label: str
    ignored: int
    _peer: Peer | None
    _join: Joiner
    _pacer: Pacer
    _events: deque[ev.Event]
    _deadline: float | None
    _queued: list[bytes]
    _leave_requested: bool
    _join_list_due: bool
    _whos: int
    _confirmed: bool
    _confirm_at: float | None
    _confirm_retry: float
    _greeting: ev.Event | None
    _declared: bool

    def _set_state(self, new: State) -> None:
        raise NotImplementedError

    def _begin_leaving(self) -> None:
        raise NotImplementedError

    def _declare(self) -> None:
        raise NotImplementedError

    def _handshake_packet(self, data: bytes, now: float) -> None:
        """CHALLENGE, WELCOME or REFUSE (the only packets that travel in clear)."""
        try:
            p = decode(data)
        except VersionError:
            p = foreign_refuse(data)               # a server of another version says which
        except ProtocolError:
            p = None
        if not isinstance(p, (Challenge, Welcome, Refuse)) or p.nonce != self._join.nonce:
            self.ignored += 1
        elif self.state in HANDSHAKING:
            if isinstance(p, Challenge):
                self._challenge(p, now)
            elif isinstance(p, Welcome):
                self._welcome(p, now)
            else:
                self._refused(refusal(p, self.name, self._join.room))
        elif isinstance(p, Refuse) and self._peer is not None and not self._confirmed:
            self._refused(refusal(p, self.name, self._join.room))      # someone confirmed the name first
        else:
            self.ignored += 1

    def _refused(self, error: ChatError) -> None:
        self._join.due = None                     # no more HELLOs: this join is over
        self._events.append(ev.JoinRefused(error))
        self._set_state(State.CLOSED)

    def _server_confirmed(self) -> None:
        """A sealed packet from the server opened: the session is the server's too."""
        if not self._confirmed:
            self._confirmed = True
            self._confirm_at = None
            if self._greeting is not None:
                self._events.append(self._greeting)
                self._greeting = None

    def _challenge(self, p: Challenge, now: float) -> None:
        if not self._join.token and self.state is State.CONNECTING and self._deadline is not None:
            # The server answers, so it is reachable: on a lossy network give
            # the rest of the handshake its own time (once, so it stays bounded).
            self._deadline = max(self._deadline, now + CONNECT_TIMEOUT)
        problem = self._join.challenged(p, now)
        if problem is not None:
            self._refused(problem)

    def _resumable(self) -> tuple[bytes, SessionKeys] | None:
        """Our session and its keys, to ask back after a drop."""
        peer = self._peer
        if peer is None or peer.seal is None or not self._confirmed:
            return None
        return peer.session, peer.seal.keys

    def _welcome(self, p: Welcome, now: float) -> None:
        try:
            keys = self._join.keys_for(p)
        except HandshakeError:
            if self._join.passphrase:             # the likeliest cause by far
                self._refused(WrongPassphrase(self._join.room))
            else:
                self.ignored += 1                 # forged: the real WELCOME may still come
            return
        rtts = self._join.welcomed(now)
        old = self._peer
        first = old is None
        if p.resumed and old is not None and old.session == p.session:
            old.last_heard = old.last_sent = now
            old.channel.resend_outstanding()
            greeting: ev.Event = ev.Reconnected(resumed=True)
        else:
            peer = Peer(p.session, now, seal=Seal(keys, Side.CLIENT))
            for rtt in rtts:                     # so a first line lost recovers in ms, not in 1 s
                peer.channel.rtt.sample(rtt)
            self._peer = peer
            self._declared = False
            if old is not None:
                for raw in old.channel.take_unsent_messages():
                    if raw[:1] in _LINES:
                        self._declare()               # a line the server may have stored is known
                    peer.channel.send(raw, capped=False)      # accepted once: never refused now
            self._join_list_due = True
            self._whos = 0                        # a new session answers no earlier who()
            self._confirmed = False
            self._confirm_at, self._confirm_retry = now, HELLO_FIRST_RETRY
            # A client holding a passphrase joins only a locked room (Joiner.challenged): the
            # WELCOME's confirmation checked, so the server knows the passphrase too.
            greeting = (ev.Connected(p.name, self.server_label, locked=bool(self._join.passphrase)) if first
                        else ev.Reconnected(resumed=False))
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
                if data[:1] in _LINES:
                    self._declare()
                self._peer.send(data, capped=False)   # type: ignore[union-attr]
        self._queued.clear()
        if self._confirmed:
            self._events.append(greeting)
        else:
            self._greeting = greeting             # told once the server's first sealed packet opens
        if self._leave_requested:
            self._begin_leaving()

