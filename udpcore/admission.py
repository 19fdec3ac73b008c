"""The server's door for members: HELLO, the key agreement, confirmation, resumption.

A part of :class:`~udpcore.server.ServerEngine` kept in its own module. The
decision about a HELLO is :class:`~udpcore.handshake.Gate`'s; here it is carried
out: a CHALLENGE (stateless), a WELCOME with the server's keys (the handshake
then waits in :class:`~udpcore.pending.PendingJoins`), a resumed session, or a
REFUSE. A member is in the room only once its first SEALED packet opened.
"""
from __future__ import annotations

import math
from collections import Counter
from typing import Callable

from . import appmsg as m
from .appmsg import LeaveReason
from .discovery import Answerer
from .errors import DecryptError, HandshakeError, ReplayedPacket
from .handshake import Gate, Step, Verdict, within_budget
from .keying import ServerKeys, server_handshake, server_keys, server_resume_proof
from .pake_jobs import PakeDesk, PakeJob
from .limits import Limits
from .moderation import Moderation
from .parting import Parting
from .pending import PENDING_LIFETIME, Pending, PendingJoins
from .peer import Peer
from .protection import KeyShare, Side
from .ratelimit import TokenBucket
from .reliable import ReliableChannel
from .room import Room
from .roster import Addr, Member, Roster
from .sealing import Seal
from .wire import Challenge, Hello, Refuse, RefuseCode, Reset, Welcome, encode
from .appmsg import MAX_MESSAGE_BYTES

RECEIVE_WINDOW = 64      # fragments a member may send beyond a hole (twice the send window)
_NO_SESSION = bytes(8)   # a RESET names no session: sealed packets carry none in clear


class Admission:
    limits: Limits
    counters: Counter[str]
    passphrase: str
    defer_pake: bool
    closing_deadline: float | None
    discovery: Answerer
    _randbytes: Callable[[int], bytes]
    _gate: Gate
    _mod: Moderation
    _roster: Roster
    _room: Room
    _pending: PendingJoins
    _pake_desk: PakeDesk
    _parting: Parting
    _by_addr: dict[Addr, Member]
    _dirty: dict[Member, None]
    _parting_sessions: dict

    def _reply(self, data: bytes, addr: Addr, received: int) -> None:
        """Send to an address we have not validated: never more than 3x what it sent."""
        if not within_budget(len(data), received):
            self.counters["amplification_limited"] += 1
            return
        self._room.later.append((data, addr))

    def _refuse(self, h: Hello, addr: Addr, code: RefuseCode, detail: str = "") -> None:
        self._room.later.append((encode(Refuse(h.nonce, code, detail or h.name)), addr))

    def _hello(self, h: Hello, addr: Addr, now: float, size: int) -> None:
        pend = self._pending.at(addr) if self._pending.by_addr else None
        if pend is not None and pend.hello.nonce == h.nonce and h.token:
            # The same handshake again: our WELCOME was lost, or we were slow and it
            # answered a second CHALLENGE. The same WELCOME again (the client keeps
            # every token it answered, so it can check this one's keys).
            if self._gate.tokens.check(h.token, addr, now):
                self._room.out.append((pend.welcome, addr))
            return
        v = self._gate.judge(h, addr, now, size, self._roster)
        if v.step is Step.DROP:
            self.counters["short_hello"] += 1
        elif v.step is Step.CHALLENGE:
            token = self._gate.tokens.mint(addr, now)
            self._reply(encode(Challenge(h.nonce, token, bool(self.passphrase), self.discovery.room)), addr, size)
        elif v.step is Step.RESUME:
            assert v.member is not None
            self._gate.spend(h.token, now)
            self._rebind(v.member, addr, h, now)
        elif v.step is Step.REWELCOME:
            mem = v.member
            assert mem is not None and mem.peer is not None
            self._room.out.append((self._welcome_back(mem, h), addr))
        elif v.step is Step.REFUSE:
            assert v.refuse is not None
            if v.member is not None:
                self._room.remove(v.member, LeaveReason.LEFT)
            self._refuse(h, addr, v.refuse)
        else:
            self._handshake(h, addr, now, v)

    def _handshake(self, h: Hello, addr: Addr, now: float, v: Verdict) -> None:
        """A new member's keys: WELCOME now, the room once it proves them."""
        locked = bool(self.passphrase)
        if len(h.public) == 0 or (h.pake and not locked):
            self.counters["bad_handshake"] += 1
            return
        if locked and not h.pake:
            self._refuse(h, addr, RefuseCode.LOCKED)
            return
        desk = self._pake_desk
        if locked and desk.waiting(addr, h.nonce):
            return                               # sent again while its SPAKE2 runs: answered when done
        why = "pending_full" if locked and self.defer_pake and desk.full(addr) else \
            self._pending.room_for(addr, locked, now)
        if why == "handshake_limited" and self._pending.hold(addr, (h, v), now):
            self.counters["handshake_held"] += 1
            return                               # answered in turn, as the rate allows
        if why is not None:
            self.counters[why] += 1              # no answer: the client asks again
            return
        if self._pending.held:
            self._pending.held.pop(addr, None)   # its retry got in first: not answered twice
        if locked:                               # an attempt is counted only when SPAKE2 will run
            wait = self._pending.guess_wait(addr[0], now)
            if wait:
                self.counters["guesses_limited"] += 1
                self._refuse(h, addr, RefuseCode.TOO_MANY_GUESSES, str(math.ceil(wait)))
                return
            if self.defer_pake:
                desk.post(addr, h, v.rtt, self.passphrase, self.discovery.room, now)
                return
        sid = self._new_session_id()
        try:
            sk = server_handshake(h.public, h.pake, self.passphrase, self.discovery.room, h.nonce, h.token, sid,
                                  KeyShare(self._randbytes(32)))
        except HandshakeError:
            self.counters["bad_handshake"] += 1
            return
        self._welcome(h, addr, now, v.rtt, locked, sid, sk)

    def _release_held(self, now: float) -> None:
        """The joins deferred past a turn's confirmations, then the HELLOs held for the
        handshake rate, whose turn has come."""
        for addr, kept in self._pending.take_deferred():
            for data in kept:
                self.receive_datagram(data, addr, now)      # type: ignore[attr-defined]
        for addr, (h, v) in self._pending.release(now, bool(self.passphrase)):      # type: ignore[misc]
            if self.closing_deadline is None:
                self._handshake(h, addr, now, v)

    def _new_session_id(self) -> bytes:
        sid = self._randbytes(8)
        while self._roster.session(sid) is not None or sid in self._pending.sessions:
            sid = self._randbytes(8)
        return sid

    # --- SPAKE2 run elsewhere (pake_jobs) ----------------------------------------------

    def take_pake_jobs(self) -> list[PakeJob]:
        """With ``defer_pake``: the SPAKE2 runs wanted since the last call, for the
        transport to run (:func:`~udpcore.pake_jobs.run_pake_job`) and answer with :meth:`pake_done`."""
        return self._pake_desk.take_jobs()

    def pake_done(self, ticket: int, result: tuple[bytes, bytes] | None, now: float) -> None:
        """A job's answer (``run_pake_job``'s return): the WELCOME goes out now. An
        answer for a handshake replaced, expired, or run with a passphrase since
        changed is dropped: the client asks again."""
        w = self._pake_desk.done(ticket)
        if w is None:
            self.counters["pake_late"] += 1
            return
        if result is None:
            self.counters["bad_handshake"] += 1
            return
        if w.passphrase != self.passphrase or self.closing_deadline is not None:
            self.counters["pake_late"] += 1
            return
        h = w.hello
        sid = self._new_session_id()
        try:
            sk = server_keys(h.public, result[0], result[1], h.nonce, h.token, sid, KeyShare(self._randbytes(32)))
        except HandshakeError:
            self.counters["bad_handshake"] += 1
            return
        self._welcome(h, w.addr, now, w.rtt, True, sid, sk)

    def _welcome(self, h: Hello, addr: Addr, now: float, rtt: float | None, locked: bool, sid: bytes,
                 sk: ServerKeys) -> None:
        self._gate.spend(h.token, now)
        # A previous program at this address stays until this one proves its keys
        # (_confirm replaces it then): a handshake alone removes nobody.
        welcome = encode(Welcome(h.nonce, sid, h.name, False, sk.public, sk.pake, sk.confirm))
        self._pending.add(addr, Pending(h, sid, Seal(sk.keys, Side.SERVER), welcome,
                                        now + PENDING_LIFETIME, rtt, locked))
        self._room.out.append((welcome, addr))

    def _confirm(self, pend: Pending, addr: Addr, now: float) -> Member | None:
        """The handshake's first sealed packet opened: let the member in, if there is still room."""
        self._pending.confirmed(addr)
        h = pend.hello
        holder = self._roster.named(h.name)
        existing = self._roster.at(addr)
        replaced = existing is not None and existing.peer is not None      # its place is freed first
        code = None
        if holder is not None and holder is not existing:
            code = RefuseCode.NAME_TAKEN          # someone else confirmed that name first
        elif len(self._roster.by_sid) - replaced >= self.limits.max_members:
            code = RefuseCode.FULL
        elif self._roster.per_host[addr[0]] - replaced >= self.limits.max_per_address:
            code = RefuseCode.HOST_FULL
        if code is not None:
            self._refuse(h, addr, code)
            return None
        if existing is not None:
            self._room.remove(existing, LeaveReason.LEFT)
        return self._admit(h, addr, now, pend)

    def _admit(self, h: Hello, addr: Addr, now: float, pend: Pending) -> Member:
        # What a member can make us hold is small: a message of its own is at most
        # MAX_MESSAGE_BYTES, and a sender keeps at most WINDOW fragments in flight.
        peer = Peer(pend.session, now, ReliableChannel(receive_window=RECEIVE_WINDOW, max_message=MAX_MESSAGE_BYTES),
                    pend.seal)
        if pend.rtt is not None:
            peer.channel.rtt.sample(pend.rtt)
        lim = self.limits
        mem = Member(h.name, addr, peer, now, nonce=h.nonce, bucket=TokenBucket(lim.line_rate, lim.line_burst, now))
        self._room.join(mem)
        mem.fetches = TokenBucket(lim.fetch_rate, lim.fetch_burst, now)
        self._room.send(mem, self._limits_msg)
        self._room_info(mem)
        self._room.send(mem, self._room.members_msg())
        return mem

    def _room_info(self, mem: Member) -> None:
        raise NotImplementedError

    def _welcome_back(self, mem: Member, h: Hello) -> bytes:
        peer = mem.peer
        assert peer is not None and peer.seal is not None
        proof = server_resume_proof(peer.seal.keys, peer.session, h.nonce, h.token)
        return encode(Welcome(h.nonce, peer.session, mem.name, resumed=True, confirm=proof))

    def _rebind(self, mem: Member, addr: Addr, h: Hello, now: float) -> None:
        """A member came back (new address or after a blip), proving it holds its session's keys."""
        assert mem.peer is not None
        if mem.addr != addr:
            old = self._roster.at(addr)
            if old is not None and old is not mem:
                self._room.remove(old, LeaveReason.LEFT)
            self._roster.move(mem, addr)
        mem.nonce = h.nonce
        mem.peer.last_heard = mem.peer.last_sent = now
        self._room.out.append((self._welcome_back(mem, h), addr))
        mem.peer.channel.resend_outstanding()
        self._room.send(mem, self._limits_msg)
        self._dirty[mem] = None

    @property
    def _limits_msg(self) -> m.Limits:
        return m.Limits(round(self.limits.line_rate * 60), self.limits.line_burst)

    def _unseal(self, data: bytes, addr: Addr, now: float) -> tuple[bytes, Member] | None:
        """The plaintext of a SEALED datagram and the member whose keys opened it,
        or None (dropped and counted; an address we hold nothing for is told RESET)."""
        mem = self._by_addr.get(addr)
        pend = self._pending.at(addr) if self._pending.by_addr else None
        if pend is not None:                       # a new program at this address, or a member to be
            if addr in self._pending.deferred or not self._pending.may_confirm():
                if not self._pending.defer(addr, data):      # opened in a later turn, in order
                    self.counters["join_deferred_dropped"] += 1
                return None
            try:
                inner = pend.seal.open(data)
            except DecryptError:
                inner = None                       # perhaps the member still there: tried below
            if inner is not None:
                mem = self._confirm(pend, addr, now)
                return None if mem is None else (inner, mem)
        if mem is None or mem.peer is None:
            mem = self._parting.at(addr) if self._parting_sessions else None
            if mem is None:
                if pend is not None:
                    self.counters["undecryptable"] += 1
                    return None
                self.counters["unknown_session"] += 1
                self._reply(encode(Reset(_NO_SESSION)), addr, len(data))
                return None
        seal = mem.peer.seal          # type: ignore[union-attr]
        try:
            return seal.open(data), mem           # type: ignore[union-attr]
        except ReplayedPacket:
            self.counters["replayed"] += 1
        except DecryptError:
            self.counters["undecryptable"] += 1
        return None
