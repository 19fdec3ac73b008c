"""The chat server engine, sans I/O: datagrams and time in; datagrams and events out.

It validates addresses before keeping state (stateless tokens), keeps one
:class:`Peer` per member, orders the room with one sequence number, relays
every line, and treats plain UTF-8 datagrams as lines from guests.
"""
from __future__ import annotations

import heapq
import secrets
import struct
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Callable

from . import appmsg as m
from . import events as ev
from .addresses import format_addr
from .names import GUEST_PREFIX, clean_text, name_key, name_problem
from .peer import MEMBER_TIMEOUT, Peer
from .tokens import TokenMinter
from .wire import (HELLO_FIRST_RETRY, HELLO_MIN_SIZE, MAGIC, MAX_DATAGRAM, MAX_MESSAGE_TEXT, NONCE_LEN, VERSION, Ack,
                   Bye, Challenge, Data, Hello, PacketType, Ping, ProtocolError, Refuse, RefuseCode,
                   Reset, VersionError, Welcome, decode, encode, is_protocol)

Addr = tuple[str, int]
_ACK_PREFIX = MAGIC + bytes([VERSION, PacketType.ACK])
_ACK_SIZE = len(_ACK_PREFIX) + 20
_PING_PREFIX = MAGIC + bytes([VERSION, PacketType.PING])
_PING_SIZE = len(_PING_PREFIX) + 8         # a keepalive: the commonest datagram of a quiet room
_unpack_ack = struct.Struct("!III").unpack_from    # ack, sack, echo
SERVER_NAME = "server"
AMPLIFICATION = 3        # RFC 9000 8.1: at most 3x the bytes received before validation
GUEST_TIMEOUT = 300.0    # a guest silent this long is forgotten
SWEEP_INTERVAL = 1.0     # keepalives and timeouts are checked this often
CLOSE_LINGER = 1.0       # how long close() waits for clients to acknowledge it


@dataclass(eq=False)
class Member:
    name: str
    addr: Addr
    peer: Peer | None            # None for a guest
    nonce: bytes = b""           # of the HELLO that made this session
    credit: int = 0              # guests: bytes we may still send (anti-amplification)
    last_heard: float = 0.0
    timer_at: float | None = field(default=None)

    @property
    def guest(self) -> bool:
        return self.peer is None


class ServerEngine:
    def __init__(self, now: float, *, allow_guests: bool = True,
                 randbytes: Callable[[int], bytes] = secrets.token_bytes) -> None:
        self._randbytes = randbytes
        self._tokens = TokenMinter(randbytes(32))
        self.allow_guests = allow_guests
        self._by_sid: dict[bytes, Member] = {}
        self._by_key: dict[str, Member] = {}
        self._by_addr: dict[Addr, Member] = {}
        self._out: list[tuple[bytes, Addr]] = []
        self._dirty: set[Member] = set()
        self._timers: list[tuple[float, int, Member]] = []
        self._timer_tiebreak = 0
        self._events: deque[ev.Event] = deque()
        self._next_sweep = now + SWEEP_INTERVAL
        self._room_seq = 0
        self.counters: Counter[str] = Counter()
        self.relayed = 0
        self.closing_deadline: float | None = None
        self.closed = False

    # --- the four doors ------------------------------------------------------------

    def receive_datagram(self, data: bytes, addr: Addr, now: float) -> None:
        if self.closed:
            return
        if data[:5] == _ACK_PREFIX and len(data) == _ACK_SIZE:      # the commonest datagram
            mem = self._by_sid.get(data[5:13])
            if mem is not None and mem.addr == addr and mem.peer is not None:
                mem.last_heard = now
                peer = mem.peer
                peer.last_heard = now
                ch = peer.channel
                ch.on_ack(*_unpack_ack(data, 13), now)
                if ch.has_output():
                    self._dirty.add(mem)
                return
        elif len(data) == _PING_SIZE and data[:5] == _PING_PREFIX:
            mem = self._by_sid.get(data[5:])
            if mem is not None and mem.addr == addr and mem.peer is not None:
                mem.last_heard = mem.peer.last_heard = now
                mem.peer.channel.ack_needed = True          # answered with an ACK: proof of life
                self._dirty.add(mem)
                return
        if not is_protocol(data):
            self._guest_datagram(data, addr, now)
            return
        try:
            p = decode(data)
        except VersionError:
            self.counters["version"] += 1
            self._reply(encode(Refuse(bytes(NONCE_LEN), RefuseCode.VERSION,
                                      "This server speaks chat protocol version 1.")), addr, len(data))
            return
        except ProtocolError:
            self.counters["malformed"] += 1
            return
        if isinstance(p, Hello):
            self._hello(p, addr, now, len(data))
        elif isinstance(p, (Data, Ack, Ping, Bye)):
            self._session_packet(p, addr, now, len(data))
        else:
            self.counters["unexpected"] += 1       # server-to-client packet types

    def datagrams_to_send(self, now: float) -> list[tuple[bytes, Addr]]:
        out, self._out = self._out, []
        for mem in self._dirty:
            peer = mem.peer
            if peer is None or self._by_addr.get(mem.addr) is not mem:
                continue
            addr = mem.addr
            for d in peer.datagrams(now):
                out.append((d, addr))
            # A pending timer re-arms itself when it fires; arm again only when what
            # just went out is due sooner (RTO shrank: a fresh sample, backoff undone).
            if mem.timer_at is None or now + peer.channel.rtt.rto < mem.timer_at:
                t = peer.channel.get_timer()
                if t is not None:
                    self._arm(mem, t)
        self._dirty.clear()
        if self.closing_deadline is not None and not self.closed:
            if now >= self.closing_deadline or all(
                    x.peer.channel.idle for x in self._by_sid.values()):   # type: ignore[union-attr]
                self._finish_close(out)
        return out

    def get_timer(self) -> float | None:
        t = self._next_sweep
        if self._timers and self._timers[0][0] < t:
            t = self._timers[0][0]
        if self.closing_deadline is not None and self.closing_deadline < t:
            t = self.closing_deadline
        return None if self.closed else t

    def handle_timer(self, now: float) -> None:
        timers = self._timers
        while timers and timers[0][0] <= now:
            at, _, mem = heapq.heappop(timers)
            if mem.timer_at != at or mem.peer is None or self._by_sid.get(mem.peer.session) is not mem:
                continue                  # stale entry
            mem.timer_at = None
            if mem.peer.channel.handle_timer(now):
                self._dirty.add(mem)
            t = mem.peer.channel.get_timer()
            if t is not None:
                self._schedule(mem, t)
        if now >= self._next_sweep:
            self._next_sweep = now + SWEEP_INTERVAL
            self._sweep(now)

    def next_event(self) -> ev.Event | None:
        return self._events.popleft() if self._events else None

    # --- what the person running the server does ----------------------------------

    def say(self, text: str, now: float, to: str | None = None) -> None:
        """The server's own line, to everyone or privately to one member."""
        text = clean_text(text)
        if not text.strip() or self.closing_deadline is not None:
            return
        if len(text.encode()) > MAX_MESSAGE_TEXT:
            self._events.append(ev.CommandError(f"That line is too long (the limit is {MAX_MESSAGE_TEXT} bytes)."))
            return
        if to is None:
            self._relay(SERVER_NAME, text, False, now)
            return
        target = self._by_key.get(name_key(to))
        if target is None:
            self._events.append(ev.CommandError(f"No member is called {to}."))
            return
        self._private(SERVER_NAME, None, 0, target, text, False)

    def close(self, now: float, reason: str = "The server closed the room.") -> None:
        """Tell every member the room is closing; ``closed`` turns true once they
        acknowledged it or CLOSE_LINGER passed."""
        if self.closing_deadline is not None:
            return
        self.closing_deadline = now + CLOSE_LINGER
        for mem in list(self._by_addr.values()):
            if mem.peer is None:
                self._plain(mem, f"* {reason}")
            else:
                self._send(mem, m.Closing(reason))

    def snapshot(self, now: float) -> ev.Stats:
        members = tuple(ev.MemberInfo(x.name, format_addr(x.addr), max(0.0, now - x.last_heard), x.guest)
                        for x in self._by_key.values())
        return ev.Stats(members, self.relayed, sum(self.counters.values()), dict(self.counters))

    @property
    def member_names(self) -> list[str]:
        return [x.name for x in self._by_key.values()]

    # --- joining -------------------------------------------------------------------

    def _reply(self, data: bytes, addr: Addr, received: int) -> None:
        """Send to an address we have not validated: never more than 3x what it sent."""
        if len(data) > AMPLIFICATION * received:
            self.counters["amplification_limited"] += 1
            return
        self._out.append((data, addr))

    def _hello(self, h: Hello, addr: Addr, now: float, size: int) -> None:
        if self.closing_deadline is not None:
            return
        if size < HELLO_MIN_SIZE:        # clients pad HELLO (as QUIC pads Initial): answers stay smaller
            self.counters["short_hello"] += 1
            return
        if not self._tokens.check(h.token, addr, now):
            self._reply(encode(Challenge(h.nonce, self._tokens.mint(addr, now))), addr, size)
            return
        # The address is validated from here on.
        if h.resume:
            mem = self._by_sid.get(h.resume)
            if mem is not None and name_key(mem.name) == name_key(h.name):
                self._rebind(mem, addr, h.nonce, now)
                return
        existing = self._by_addr.get(addr)
        if existing is not None:
            if existing.peer is not None and existing.nonce == h.nonce:   # our WELCOME was lost
                self._out.append((encode(Welcome(h.nonce, existing.peer.session, existing.name)), addr))
                return
            self._remove(existing, "left")         # a new program (or a guest) on the same port
        problem = name_problem(h.name)
        if problem:
            self._out.append((encode(Refuse(h.nonce, RefuseCode.NAME_INVALID, problem[0].upper() + problem[1:] + ".")), addr))
            return
        if name_key(h.name) in self._by_key:
            self._out.append((encode(Refuse(h.nonce, RefuseCode.NAME_TAKEN,
                                            f"The name {h.name} is already taken in this room; choose another.")), addr))
            return
        sid = self._randbytes(8)
        while sid in self._by_sid:
            sid = self._randbytes(8)
        mem = Member(h.name, addr, Peer(sid, addr, now), nonce=h.nonce, last_heard=now)
        rtt = self._tokens.age(h.token, now)
        if rtt < HELLO_FIRST_RETRY:  # the client answers a CHALLENGE at once and retries no sooner
            mem.peer.channel.rtt.sample(rtt)      # type: ignore[union-attr]
        self._announce(m.Joined(h.name, format_addr(addr)))
        self._by_sid[sid] = mem
        self._by_key[name_key(h.name)] = mem
        self._by_addr[addr] = mem
        self._out.append((encode(Welcome(h.nonce, sid, h.name)), addr))
        self._send(mem, self._members_msg())
        self._events.append(ev.MemberJoined(h.name, format_addr(addr)))

    def _rebind(self, mem: Member, addr: Addr, nonce: bytes, now: float) -> None:
        """A member came back (new address or after a blip) with its session id."""
        assert mem.peer is not None
        if mem.addr != addr:
            old = self._by_addr.get(addr)
            if old is not None and old is not mem:
                self._remove(old, "left")
            self._by_addr.pop(mem.addr, None)
            mem.addr = mem.peer.addr = addr
            self._by_addr[addr] = mem
        mem.nonce = nonce
        mem.last_heard = mem.peer.last_heard = now
        self._out.append((encode(Welcome(nonce, mem.peer.session, mem.name, resumed=True)), addr))
        mem.peer.channel.handle_timer(float("inf"))      # resend what is outstanding now
        self._dirty.add(mem)

    def _members_msg(self) -> m.Members:
        names, size = [], 0
        for name in (x.name for x in self._by_key.values()):
            size += len(name.encode()) + 2
            if size > 100_000:
                break
            names.append(name)
        return m.Members(tuple(names))

    # --- members' traffic -------------------------------------------------------------

    def _session_packet(self, p: Data | Ack | Ping | Bye, addr: Addr, now: float, size: int) -> None:
        mem = self._by_sid.get(p.session)
        if mem is None:
            self.counters["unknown_session"] += 1
            self._reply(encode(Reset(p.session)), addr, size)
            return
        if mem.addr != addr:                      # a session claimed from elsewhere
            self.counters["wrong_address"] += 1
            return
        mem.last_heard = now
        if isinstance(p, Bye):
            self._remove(mem, "left")
            return
        peer = mem.peer
        assert peer is not None
        try:
            msgs = peer.receive(p, now)
        except ProtocolError:
            self.counters["malformed"] += 1
            self._remove(mem, "left")
            return
        self._dirty.add(mem)
        for msg in msgs:
            self._member_message(mem, msg, now)
            if self._by_addr.get(addr) is not mem:
                break                             # it left (or was dropped) meanwhile

    def _member_message(self, mem: Member, msg: m.AppMessage, now: float) -> None:
        if isinstance(msg, m.Say):
            text = clean_text(msg.text)
            if text.strip():
                self._relay(mem.name, text, msg.action, now, origin=mem, msg_id=msg.msg_id)
        elif isinstance(msg, m.Private):
            target = self._by_key.get(name_key(msg.to))
            if target is None:
                self._send(mem, m.Error(f"No member is called {msg.to}."))
            else:
                self._private(mem.name, mem, msg.msg_id, target, clean_text(msg.text), msg.action)
        elif isinstance(msg, m.Nick):
            self._nick(mem, msg.name)
        elif isinstance(msg, m.Who):
            self._send(mem, self._members_msg())
        elif isinstance(msg, m.Sync):
            self._send(mem, m.Synced(msg.token))
        elif isinstance(msg, m.Leave):
            assert mem.peer is not None
            self._out.append((encode(Ack(mem.peer.session, *mem.peer.channel.ack_fields(now))), mem.addr))
            self._remove(mem, "left")
        else:
            self.counters["unexpected"] += 1

    def _nick(self, mem: Member, new: str) -> None:
        problem = name_problem(new)
        if problem:
            self._send(mem, m.Error(problem[0].upper() + problem[1:] + "."))
            return
        key = name_key(new)
        holder = self._by_key.get(key)
        if holder is not None and holder is not mem:
            self._send(mem, m.Error(f"The name {new} is already taken in this room."))
            return
        old = mem.name
        del self._by_key[name_key(old)]
        mem.name = new
        self._by_key[key] = mem
        self._announce(m.Renamed(old, new))
        self._events.append(ev.MemberRenamed(old, new))

    def _relay(self, sender: str, text: str, action: bool, now: float, origin: Member | None = None,
               msg_id: int = 0) -> None:
        self._room_seq += 1
        seq = self._room_seq
        flags = m.LINE_ACTION if action else 0
        shared = m.encode_line(seq, sender, text, flags)
        plain = None                              # for guests, built only if there are any
        dirty, out = self._dirty, self._out
        for mem in list(self._by_addr.values()):
            peer = mem.peer
            if mem is origin:
                if peer is not None:              # a guest saw what it typed; save its credit
                    self._send(mem, m.encode_line(seq, sender, text, flags | m.LINE_OWN, msg_id))
            elif peer is None:
                if plain is None:
                    plain = f"* {sender} {text}" if action else f"{sender}: {text}"
                self._plain(mem, plain)
            else:                 # the relay's fan-out: straight out when nothing waits before it
                try:
                    d = peer.send_now(shared, now)
                except OverflowError:
                    self._too_slow(mem)
                    continue
                if d is None:
                    dirty.add(mem)
                else:
                    out.append((d, mem.addr))
                    self._arm(mem, now + peer.channel.rtt.rto)     # the new fragment's deadline
        self.relayed += 1
        self._events.append(ev.RoomLine(seq, sender, text, action))

    def _private(self, sender: str, origin: Member | None, msg_id: int, target: Member,
                 text: str, action: bool) -> None:
        if not text.strip():
            return
        flags = m.LINE_PRIVATE | (m.LINE_ACTION if action else 0)
        if target.peer is None:
            self._plain(target, f"[private] {sender}: {text}")
        elif target is not origin:
            self._send(target, m.Line(0, sender, text, flags, 0, target.name))
        if origin is not None:
            self._send(origin, m.Line(0, sender, text, flags | m.LINE_OWN, msg_id, target.name))
        self._events.append(ev.RoomLine(0, sender, text, action, private_to=target.name))

    def _announce(self, msg: m.AppMessage) -> None:
        """Tell every member (guests in plain text) about a join, leave or rename."""
        data = m.encode_msg(msg)
        if isinstance(msg, m.Joined):
            plain = f"* {msg.name} joined"
        elif isinstance(msg, m.Left):
            plain = f"* {msg.name} {'left' if msg.reason == 'left' else msg.reason}"
        elif isinstance(msg, m.Renamed):
            plain = f"* {msg.old} is now known as {msg.new}"
        else:
            plain = ""
        for mem in list(self._by_addr.values()):
            if mem.peer is None:
                if plain:
                    self._plain(mem, plain)
            else:
                self._send(mem, data)

    def _send(self, mem: Member, msg: m.AppMessage | bytes) -> None:
        assert mem.peer is not None
        try:
            mem.peer.send(msg)
        except OverflowError:
            self._too_slow(mem)
            return
        self._dirty.add(mem)

    def _too_slow(self, mem: Member) -> None:
        """Its backlog is full: it cannot take the room's pace, so it is dropped."""
        self.counters["too_slow"] += 1
        self._remove(mem, "too-slow")

    def _arm(self, mem: Member, at: float) -> None:
        """Make the member's timer fire by ``at`` (a later pending one is left stale)."""
        if mem.timer_at is None or at < mem.timer_at:
            self._schedule(mem, at)

    def _schedule(self, mem: Member, at: float) -> None:
        mem.timer_at = at
        self._timer_tiebreak += 1
        heapq.heappush(self._timers, (at, self._timer_tiebreak, mem))

    def _remove(self, mem: Member, reason: str) -> None:
        if self._by_addr.get(mem.addr) is not mem:
            return
        del self._by_addr[mem.addr]
        self._by_key.pop(name_key(mem.name), None)
        if mem.peer is not None:
            self._by_sid.pop(mem.peer.session, None)
        self._dirty.discard(mem)
        self._announce(m.Left(mem.name, reason))
        self._events.append(ev.MemberLeft(mem.name, reason))

    def _sweep(self, now: float) -> None:
        for mem in list(self._by_addr.values()):
            peer = mem.peer
            if peer is None:
                if now - mem.last_heard > GUEST_TIMEOUT:
                    self._remove(mem, "expired")
            elif peer.lost(now, MEMBER_TIMEOUT):
                self._remove(mem, "vanished")
            elif peer.needs_keepalive(now):
                peer.last_sent = now
                self._out.append((encode(Ping(peer.session)), mem.addr))

    def _finish_close(self, out: list[tuple[bytes, Addr]]) -> None:
        for mem in self._by_sid.values():
            out.append((encode(Bye(mem.peer.session, "The server closed the room.")), mem.addr))  # type: ignore[union-attr]
        self.closed = True

    # --- guests (plain UTF-8 text) ------------------------------------------------------

    def _guest_datagram(self, data: bytes, addr: Addr, now: float) -> None:
        if not self.allow_guests or self.closing_deadline is not None:
            self.counters["guest_refused"] += 1
            return
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            self.counters["malformed"] += 1
            return
        mem = self._by_addr.get(addr)
        if mem is not None and mem.peer is not None:
            self.counters["malformed"] += 1       # a member does not speak plain text
            return
        lines = [clean_text(x).strip() for x in text.splitlines()]
        lines = [x for x in lines if x and len(x.encode()) <= MAX_MESSAGE_TEXT]
        if mem is None:
            if not lines:
                return
            name = f"{GUEST_PREFIX}{format_addr(addr)}"
            mem = Member(name, addr, None, last_heard=now)
            self._announce(m.Joined(name, format_addr(addr), guest=True))
            self._by_addr[addr] = mem
            self._by_key[name_key(name)] = mem
            self._events.append(ev.MemberJoined(name, format_addr(addr), guest=True))
        mem.last_heard = now
        mem.credit += AMPLIFICATION * len(data)
        for line in lines:
            if line.lower() in ("exit", "/quit"):
                self._remove(mem, "left")
                return
            self._relay(mem.name, line, False, now, origin=mem)

    def _plain(self, mem: Member, text: str) -> None:
        """A line to a guest, in datagrams of at most MAX_DATAGRAM bytes, within its credit."""
        raw = (text + "\n").encode()
        if len(raw) > mem.credit:
            self.counters["guest_credit_exhausted"] += 1
            return
        mem.credit -= len(raw)
        while raw:
            cut = min(len(raw), MAX_DATAGRAM)
            while cut < len(raw) and (raw[cut] & 0xC0) == 0x80:
                cut -= 1                          # do not split a UTF-8 character
            self._out.append((raw[:cut], mem.addr))
            raw = raw[cut:]
