"""The chat server engine, sans I/O: datagrams and time in; datagrams and events out.

It admits members through :mod:`udpcore.handshake`, keeps them in a
:class:`Roster`, orders the room with one sequence number, relays every line,
and treats plain UTF-8 datagrams as lines from guests (:mod:`udpcore.guest_door`).
Every cap and rate it enforces is in :class:`~udpcore.limits.Limits`; what the
operator decided about people (kick, mute, ban) in :mod:`udpcore.moderation`.
"""
from __future__ import annotations

import math
import secrets
import struct
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Callable

from . import appmsg as m
from . import events as ev
from . import guests
from .admission import Admission
from .appmsg import ErrorCode, LeaveReason
from .discovery import DISCOVER_PREFIX, Answerer
from .errors import ProtocolError, VersionError
from .frames import SESSION_PACKETS, decode_session
from .guest_door import GuestDoor
from .handshake import Gate
from .limits import Limits
from .moderation import Moderation
from .names import SERVER_NAME, clean_message, name_key, name_problem
from .operator import OperatorActions
from .parting import Parting
from .past_service import PastService
from .peer import MEMBER_TIMEOUT
from .pake_jobs import PakeDesk
from .pending import PENDING_LIFETIME, PendingJoins
from .room import Room
from .roster import Addr, Member, Roster
from .sealing import SEALED_PREFIX
from .timers import MemberTimers
from .versions import refuse_version
from .wire import MAGIC, VERSION, Ack, Bye, Data, Hello, PacketType, Ping, decode, encode, is_protocol

_ACK_PREFIX = MAGIC + bytes([VERSION, PacketType.ACK])
_ACK_SIZE = len(_ACK_PREFIX) + 20
_HELLO_PREFIX = MAGIC + bytes([VERSION, PacketType.HELLO])
_unpack_ack = struct.Struct("!III").unpack_from    # ack, sack, echo
_RATED = frozenset((m.Say, m.Private, m.Nick, m.Who))   # what a member's line rate counts
SWEEP_INTERVAL = 1.0     # keepalives and timeouts are checked this often
# A member is forgotten MEMBER_TIMEOUT after it was last heard at the latest: the
# sweep, every SWEEP_INTERVAL, takes whoever passed MEMBER_TIMEOUT - SWEEP_INTERVAL.
GHOST_AFTER = MEMBER_TIMEOUT - SWEEP_INTERVAL
STALL_TIMEOUT = 15.0     # an incomplete message from a member waits no longer


class ServerEngine(OperatorActions, PastService, Admission):
    """The server's four doors (as aioquic's), plus what its operator does:
    :meth:`say`, :meth:`say_to`, :meth:`close`, :meth:`snapshot`, :meth:`lock`.

    With a ``passphrase`` the room is locked: joining runs SPAKE2 with it, and
    plain-text guests are turned away (they cannot prove they know it).
    With a ``room_id`` the room keeps a history (:mod:`udpcore.past_service`):
    numbering continues from ``last_seq``, the history's last line, and ``known``
    ((origin, msg_id, seq) of its newest lines) are not relayed again if sent again."""

    def __init__(self, now: float, *, allow_guests: bool = True, announce_joins: bool = True,
                 limits: Limits = Limits(), bans: Iterable[ev.Ban] = (), room: str = "", port: int = 0,
                 passphrase: str = "", randbytes: Callable[[int], bytes] = secrets.token_bytes,
                 room_id: str | None = None, last_seq: int = 0,
                 known: Iterable[tuple[bytes, int, int]] = ()) -> None:
        self._randbytes = randbytes
        self.passphrase = ""
        self.limits = limits
        self._mod = Moderation(bans)
        self._gate = Gate(randbytes(32), limits, self._mod)
        self.allow_guests = allow_guests
        self._roster = Roster()
        self._timers = MemberTimers()
        self.counters: Counter[str] = Counter()
        self._room = Room(self._roster, self.counters, announce_joins=announce_joins,
                          named_joins=limits.named_joins)
        self._guests = GuestDoor(limits, now, self._roster, self._room, self._mod, self.counters)
        self._parting = Parting()
        self.discovery = Answerer(randbytes(8), room, port, limits, now, self.counters)   # a new id each run
        self._pending = PendingJoins(limits, now)
        # True (the transport's choice): SPAKE2 runs are handed out (take_pake_jobs), not run here.
        self.defer_pake = False
        self._pake_desk = PakeDesk(limits.max_pending, PENDING_LIFETIME)
        self._init_past(room_id, last_seq, now, known)
        self.lock(passphrase)
        self._parting_sessions = self._parting.sessions      # the same dict, never replaced
        # The hot paths' own names for the roster's indexes and the room's dirty set
        # (the same objects, never replaced): one attribute lookup less per datagram.
        self._by_sid = self._roster.by_sid
        self._by_addr = self._roster.by_addr
        self._dirty = self._room.dirty
        self._next_sweep = now + SWEEP_INTERVAL
        self.closing_deadline: float | None = None
        self.closed = False

    # --- the four doors ------------------------------------------------------------

    def receive_datagram(self, data: bytes, addr: Addr, now: float) -> None:
        if self.closed:
            return
        if data[:5] == SEALED_PREFIX:           # every member's packet: the commonest datagram
            opened = self._unseal(data, addr, now)
            if opened is not None:
                self._sealed(opened[0], opened[1], addr, now)
            return
        if data[:5] == _HELLO_PREFIX and self._over_handshake_budget(data, addr, now):
            self.counters["handshake_limited"] += 1
            return
        if data[:5] == DISCOVER_PREFIX:          # sessionless: answered (or not) at once, nothing kept
            if self.closing_deadline is None and (here := self.discovery.answer(data, addr, now, len(self._roster))):
                self._room.later.append((here, addr))
            return
        if not is_protocol(data):
            self._guest_datagram(data, addr, now)
            return
        try:
            p = decode(data)
        except VersionError:
            self.counters["version"] += 1
            self._reply(refuse_version(data), addr, len(data))       # in its own version's framing
            return
        except ProtocolError:
            self.counters["malformed"] += 1
            return
        if isinstance(p, Hello):
            if self.closing_deadline is None:
                self._hello(p, addr, now, len(data))
        elif isinstance(p, (Data, Ack, Ping, Bye)):
            self.counters["unsealed"] += 1         # a session packet in clear: never ours
        else:
            self.counters["unexpected"] += 1       # server-to-client packet types

    def _over_handshake_budget(self, data: bytes, addr: Addr, now: float) -> bool:
        """A HELLO that brings a token and asks no resume, while no key agreement may
        run and it cannot be held (the queue is full, or its address is already held:
        a client's retry keeps the place its first HELLO took): dropped before it is
        decoded (~2 µs instead of ~40), so a flood of them, or a class's retries while
        they wait, cost the server as little as they can. Anything malformed is left
        to the decoder."""
        pending = self._pending
        if len(data) < 15 or data[13] != 0 or data[14] == 0:       # a resume, or no token
            return False
        if pending.may_hold() and not pending.holds(addr, now):
            return False
        return not pending.may_run(now, bool(self.passphrase))

    def lock(self, passphrase: str) -> None:
        """Lock the room with ``passphrase`` (empty: open it). Members already in stay;
        whoever joins from now on needs it, and guests are turned away."""
        self.passphrase = passphrase
        self.discovery.locked = bool(passphrase)

    def datagrams_to_send(self, now: float) -> list[tuple[bytes, Addr]]:
        return list(self.each_datagram(now))

    def each_datagram(self, now: float) -> Iterator[tuple[bytes, Addr]]:
        """:meth:`datagrams_to_send` one at a time, built as they are taken: the transport
        sends each as soon as it is sealed, so a line's first copy does not wait for the
        turn's last one to be built. Take them all: the turn's bookkeeping ends with the last."""
        room = self._room
        self._pending.turn_over()
        out, room.out = room.out, []
        yield from out
        out = []
        by_addr = self._by_addr
        dirty = self._dirty
        for mem in dirty:
            peer = mem.peer
            if peer is None or by_addr.get(mem.addr) is not mem:      # gone: Roster.present, inlined
                continue
            addr = mem.addr
            for d in peer.datagrams(now):
                yield d, addr
            # A pending timer re-arms itself when it fires; arm again only when what
            # just went out is due sooner (RTO shrank: a fresh sample, backoff undone).
            if mem.timer_at is None or now + peer.channel.rtt.rto < mem.timer_at:
                t = peer.channel.get_timer()
                if t is not None:
                    self._timers.arm(mem, t)
        dirty.clear()
        if self.closing_deadline is not None and not self.closed:
            if now >= self.closing_deadline or all(
                    x.peer.channel.idle for x in self._roster.sessions()):   # type: ignore[union-attr]
                self._finish_close(out)
        if self._parting_sessions:
            self._parting.flush(now, out)
        out += room.later                        # strangers' replies last (Room.later)
        room.later = []
        yield from out

    def get_timer(self) -> float | None:
        if self.closed:
            return None
        t = self._next_sweep
        nxt = self._timers.next_at()
        if nxt is not None and nxt < t:
            t = nxt
        if self.closing_deadline is not None and self.closing_deadline < t:
            t = self.closing_deadline
        if self._parting_sessions:
            p = self._parting.next_at()
            if p is not None and p < t:
                t = p
        if self._pending.held or self._pending.deferred:
            h = self._pending.next_release(bool(self.passphrase))
            if h is not None and h < t:
                t = h
        return t

    def handle_timer(self, now: float) -> None:
        if self._pending.held or self._pending.deferred:
            self._release_held(now)
        sessions = self._by_sid
        for mem in self._timers.due(now):
            if mem.peer is None or sessions.get(mem.peer.session) is not mem:
                continue                  # it left meanwhile
            if mem.peer.channel.handle_timer(now):
                self._dirty[mem] = None
            t = mem.peer.channel.get_timer()
            if t is not None:
                self._timers.schedule(mem, t)
        if now >= self._next_sweep:
            self._next_sweep = now + SWEEP_INTERVAL
            self._sweep(now)
            self._past_tick(now)
            self._room.tick()
            self._gate.forget_spent(now)
            unconfirmed = self._pending.expire(now)
            late = self._pake_desk.expire(now)
            if late:
                self.counters["pake_late"] += late
            if unconfirmed:
                self.counters["unconfirmed"] += unconfirmed
            self.discovery.forget(now)

    def next_event(self) -> ev.Event | None:
        events = self._room.events
        return events.popleft() if events else None

    @property
    def relayed(self) -> int:
        """Public lines relayed so far."""
        return self._room.relayed

    # --- members' traffic -------------------------------------------------------------

    def _sealed(self, inner: bytes, mem: Member, addr: Addr, now: float) -> None:
        """The plaintext of a SEALED datagram that ``mem``'s keys opened."""
        peer = mem.peer
        assert peer is not None                   # only members have keys
        if inner[:5] == _ACK_PREFIX and len(inner) == _ACK_SIZE and inner[5:13] == peer.session:
            peer.last_heard = now
            ch = peer.channel
            ch.on_ack(*_unpack_ack(inner, 13), now)
            if ch.has_output() and self._by_addr.get(addr) is mem:
                self._dirty[mem] = None
            return
        try:
            p = decode_session(inner)
        except ProtocolError:
            p = None
        if not isinstance(p, SESSION_PACKETS) or p.session != peer.session:
            self.counters["malformed"] += 1       # sealed by the member itself: its own bug
            return
        if self._by_addr.get(addr) is not mem:    # a parting member: its acks count, nothing else
            if not isinstance(p, Bye):
                self._parting.packet(p, addr, now)
            return
        peer.last_heard = now
        if isinstance(p, Bye):
            self._room.remove(mem, LeaveReason.LEFT)
            return
        try:
            msgs = peer.receive(p, now)
        except ProtocolError:
            self.counters["malformed"] += 1
            self._room.remove(mem, LeaveReason.LEFT)
            return
        by_addr = self._by_addr
        for msg in msgs:
            self._member_message(mem, msg, now)
            if by_addr.get(addr) is not mem:
                return                            # it left (or was dropped) meanwhile
        # Its answer (acks, its own copy) is served after its lines' copies to the others,
        # which are what a person waits for.
        dirty = self._dirty
        dirty.pop(mem, None)
        dirty[mem] = None

    def _member_message(self, mem: Member, msg: m.AppMessage, now: float) -> None:
        if type(msg) in _RATED and self._refused(mem, msg, now):      # type: ignore[arg-type]
            return
        if isinstance(msg, m.Say):
            text = clean_message(msg.text)
            if not text.strip():
                return
            seen = self._known_line(mem, msg.msg_id)
            if seen:            # sent again after a crash of ours: the room has it; say so, once
                self.counters["sent_again"] += 1
                flags = m.LINE_OWN | (m.LINE_ACTION if msg.action else 0)
                self._room.send(mem, m.Line(seen, mem.name, text, flags, msg.msg_id))
                return
            self._room.relay(mem.name, text, msg.action, origin=mem, msg_id=msg.msg_id)
            self._remember(mem, msg.msg_id, self._room.seq)
        elif isinstance(msg, m.Private):
            target = self._roster.named(msg.to)
            if name_key(msg.to) == name_key(SERVER_NAME):
                self._room.to_operator(mem, msg.msg_id, clean_message(msg.text), msg.action)
            elif target is None:
                self._room.send(mem, m.Error(ErrorCode.NO_SUCH_MEMBER, msg.to))
            else:
                self._room.private(mem.name, mem, msg.msg_id, target, clean_message(msg.text), msg.action)
        elif isinstance(msg, m.Nick):
            self._nick(mem, msg.name)
        elif isinstance(msg, m.Who):
            self._room.send(mem, self._room.members_msg())
        elif isinstance(msg, m.Fetch):
            self._fetch(mem, msg, now)
        elif isinstance(msg, m.Origin):
            mem.origin = msg.instance
        elif isinstance(msg, m.Sync):
            self._room.send(mem, m.Synced(msg.token))
        elif isinstance(msg, m.Leave):
            assert mem.peer is not None
            self._room.out.append((mem.peer.wrap(encode(Ack(mem.peer.session, *mem.peer.channel.ack_fields(now)))),
                                   mem.addr))
            self._room.remove(mem, LeaveReason.LEFT)
        else:
            self.counters["unexpected"] += 1

    def _refused(self, mem: Member, msg: m.Say | m.Private | m.Nick | m.Who, now: float) -> bool:
        """Over the member's rate, or muted: refused to it with a reason, never relayed."""
        if self._mod.mutes and isinstance(msg, (m.Say, m.Private)):
            to_operator = isinstance(msg, m.Private) and name_key(msg.to) == name_key(SERVER_NAME)
            muted = 0.0 if to_operator else self._mod.muted_for(mem.name, now)   # a muted member may plead
            if muted:
                self.counters["muted"] += 1
                self._room.send(mem, m.LineRefused(msg.msg_id, m.RefusalCode.MUTED, math.ceil(muted)))
                return True
        wait = mem.bucket.take(now) if mem.bucket is not None else 0.0
        if not wait:
            return False
        self.counters["rate_limited"] += 1
        if isinstance(msg, (m.Say, m.Private)):
            self._room.send(mem, m.LineRefused(msg.msg_id, m.RefusalCode.RATE_LIMITED, math.ceil(wait)))
        else:
            self._room.send(mem, m.Error(ErrorCode.RATE_LIMITED, ""))
        return True

    def _nick(self, mem: Member, new: str) -> None:
        if name_problem(new) is not None:
            self._room.send(mem, m.Error(ErrorCode.NAME_INVALID, new))
            return
        holder = self._roster.named(new)
        if holder is not None and holder is not mem:
            self._room.send(mem, m.Error(ErrorCode.NAME_TAKEN, new))
            return
        old = mem.name
        self._roster.rename(mem, new)
        self._mod.renamed(old, new)
        self._room.announce(m.Renamed(old, new))
        self._room.events.append(ev.MemberRenamed(old, new))

    def _sweep(self, now: float) -> None:
        for mem in self._roster:
            peer = mem.peer
            if peer is None:
                if now - mem.last_heard > guests.GUEST_TIMEOUT:
                    self._room.remove(mem, LeaveReason.EXPIRED)
            elif peer.lost(now, GHOST_AFTER):
                self._room.remove(mem, LeaveReason.VANISHED)
            elif peer.holding_since is not None and peer.stalled(now, STALL_TIMEOUT):   # None: no call
                self.counters["stalled"] += 1
                self._room.remove(mem, LeaveReason.VANISHED)
            elif peer.needs_keepalive(now):
                peer.last_sent = now
                self._room.out.append((peer.wrap(encode(Ping(peer.session))), mem.addr))

    def _finish_close(self, out: list[tuple[bytes, Addr]]) -> None:
        for mem in self._roster.sessions():
            out.append((mem.peer.wrap(encode(Bye(mem.peer.session, ""))), mem.addr))  # type: ignore[union-attr]
        self._parting.bye_all(out)
        self.closed = True

    # --- guests (plain UTF-8 text) ------------------------------------------------------

    def _guest_datagram(self, data: bytes, addr: Addr, now: float) -> None:
        if not self.allow_guests or self.passphrase or self.closing_deadline is not None:
            self.counters["guest_refused"] += 1
            return
        self._guests.datagram(data, addr, now)
