"""Finding rooms on the LAN: DISCOVER and HERE, sessionless, on the chat port.

A client broadcasts DISCOVER (padded to ``DISCOVER_SIZE``); every server that
hears it answers by unicast to the source with HERE: its room's name, how many
are in it, whether it is locked, and a random id of this server run (so a room
heard on two addresses is listed once). Stateless, like the handshake's
CHALLENGE: nothing is kept for an address but a token bucket.

A DISCOVER's source address may be forged, so the answer must never be a lever:
a HERE is at most ``HERE_MAX_SIZE`` bytes, below ``DISCOVER_SIZE`` by
construction (checked at import), and a DISCOVER shorter than that gets
nothing; answers are rate-limited per source address and in total
(:class:`~udpcore.limits.Limits`). Layouts: docs/protocol.md.
"""
from __future__ import annotations

import ipaddress
from collections import Counter
from dataclasses import dataclass

from .addresses import format_addr
from .errors import ProtocolError
from .limits import Limits
from .names import clean_text
from .ratelimit import TokenBucket
from .wire import DEFAULT_PORT, MAGIC, NONCE_LEN, VERSION, PacketType, Reader, pack_text

Addr = tuple[str, int]

DISCOVER_SIZE = 256              # a DISCOVER is at least this long (zero padding), at most MAX_DATAGRAM
MAX_ROOM_CHARS = 40              # a room's name, in characters...
ROOM_NAME_LIMIT = MAX_ROOM_CHARS * 4    # ...so at most this many bytes of UTF-8
INSTANCE_LEN = 8
# Servers whose port 5002 is taken by another server on the same machine take the
# next free one up to 5011, so a client probes all ten (a --ports option narrows it).
DISCOVERY_PORTS: tuple[int, ...] = tuple(range(DEFAULT_PORT, DEFAULT_PORT + 10))
LOOKED_KEPT = 64                 # sources of recent DISCOVERs the server remembers (for its window)...
LOOKED_FOR = 120.0               # ...and for how many seconds
LOCKED = 0x01                    # HERE flags: the room asks for a password (a later issue)

DISCOVER_PREFIX = MAGIC + bytes([VERSION, PacketType.DISCOVER])
HERE_PREFIX = MAGIC + bytes([VERSION, PacketType.HERE])
# header · nonce · instance · port u16 · members u16 · flags u8 · version u8 · room text16
_HERE_FIXED = len(HERE_PREFIX) + NONCE_LEN + INSTANCE_LEN + 2 + 2 + 1 + 1
HERE_MAX_SIZE = _HERE_FIXED + 2 + ROOM_NAME_LIMIT
assert HERE_MAX_SIZE < DISCOVER_SIZE, "a HERE must never be larger than the DISCOVER it answers"


@dataclass(frozen=True)
class Here:
    nonce: bytes            # the DISCOVER's, so a client matches answers to its own probes
    instance: bytes         # random per server run: one room heard on several addresses is one room
    port: int               # the port the server listens on
    members: int            # people in the room (members and guests), at most 65,535
    locked: bool
    version: int            # the protocol version the server speaks
    room: str


def room_name(text: str) -> str:
    """A room's name as it is announced and shown: one line, no tab (``--list``
    separates its columns with tabs), no reordering controls, no surrounding
    spaces, at most MAX_ROOM_CHARS characters."""
    return clean_text(text).replace("\t", " ").strip()[:MAX_ROOM_CHARS].strip()


def encode_discover(nonce: bytes) -> bytes:
    if len(nonce) != NONCE_LEN:
        raise ValueError("bad nonce")
    out = DISCOVER_PREFIX + nonce
    return out + bytes(DISCOVER_SIZE - len(out))


def decode_discover(data: bytes) -> bytes:
    """The nonce of a DISCOVER; ProtocolError when it is too short, too long or not zero-padded."""
    if not DISCOVER_SIZE <= len(data) <= 1200 or data[:5] != DISCOVER_PREFIX:
        raise ProtocolError("bad discover")
    if any(data[5 + NONCE_LEN:]):
        raise ProtocolError("non-zero padding")
    return data[5:5 + NONCE_LEN]


def encode_here(h: Here) -> bytes:
    if len(h.nonce) != NONCE_LEN or len(h.instance) != INSTANCE_LEN:
        raise ValueError("bad nonce or instance")
    return (HERE_PREFIX + h.nonce + h.instance + h.port.to_bytes(2, "big")
            + min(h.members, 0xFFFF).to_bytes(2, "big") + bytes([LOCKED if h.locked else 0, h.version])
            + pack_text(room_name(h.room), ROOM_NAME_LIMIT))


def decode_here(data: bytes) -> Here:
    """A HERE, its room name cleaned again for showing; ProtocolError when malformed.
    Flag bits other than LOCKED are ignored (room for later)."""
    if len(data) > HERE_MAX_SIZE or data[:5] != HERE_PREFIX:
        raise ProtocolError("bad here")
    r = Reader(data, 5)
    nonce, instance, port, members = r.take(NONCE_LEN), r.take(INSTANCE_LEN), r.u16(), r.u16()
    flags, version = r.u8(), r.u8()
    room = r.text(ROOM_NAME_LIMIT)
    r.end()
    return Here(nonce, instance, port, members, bool(flags & LOCKED), version, room_name(room))


class Answerer:
    """The server's side: whether and what to answer to a DISCOVER (a pure decision)."""

    def __init__(self, instance: bytes, room: str, port: int, limits: Limits, now: float,
                 counters: Counter[str]) -> None:
        self.instance = instance
        self.room = room_name(room)
        self.port = port
        self.locked = False                 # the room asks for a passphrase (ServerEngine.lock)
        self.limits = limits
        self.counters = counters
        self._hosts: dict[str, TokenBucket] = {}       # source IP -> its bucket, at most discover_hosts
        self._all = TokenBucket(limits.discovers_rate, max(1.0, limits.discovers_rate), now)
        # Who looked for rooms lately, answered or not: the server window tells the
        # operator which of its networks can reach it. Capped: a storm of forged
        # sources fills it and is then ignored until its entries age out.
        self._looked: dict[str, float] = {}

    def rename(self, name: str) -> str:
        """Answer with ``name`` from now on; returns it as announced (cleaned and cut)."""
        self.room = room_name(name)
        return self.room

    def answer(self, data: bytes, addr: Addr, now: float, members: int) -> bytes | None:
        """The HERE to send to ``addr``, or None (dropped and counted)."""
        counters = self.counters
        if len(data) < DISCOVER_SIZE:
            counters["discover_short"] += 1
            return None
        try:
            nonce = decode_discover(data)
        except ProtocolError:
            counters["malformed"] += 1
            return None
        if addr[0] in self._looked or len(self._looked) < LOOKED_KEPT:
            self._looked[addr[0]] = now
        bucket = self._hosts.get(addr[0])
        if bucket is None:
            if len(self._hosts) >= self.limits.discover_hosts:
                counters["discover_limited"] += 1
                return None
            lim = self.limits
            bucket = self._hosts[addr[0]] = TokenBucket(lim.discover_rate, lim.discover_burst, now)
        if bucket.take(now) or self._all.take(now):
            counters["discover_limited"] += 1
            return None
        reply = encode_here(Here(nonce, self.instance, self.port, members, self.locked, VERSION, self.room))
        if len(reply) > len(data):          # cannot happen (HERE_MAX_SIZE < DISCOVER_SIZE): a second lock
            counters["amplification_limited"] += 1
            return None
        counters["discovered"] += 1
        return reply

    def forget(self, now: float) -> None:
        """Drop the buckets that are full again: forgetting them changes nothing."""
        full = [a for a, b in self._hosts.items() if b.tokens + (now - b.stamp) * b.rate >= b.burst]
        for a in full:
            del self._hosts[a]
        for a in [a for a, when in self._looked.items() if now - when > LOOKED_FOR]:
            del self._looked[a]

    def looked(self, now: float) -> tuple[tuple[str, float], ...]:
        """The addresses that sent a DISCOVER in the last LOOKED_FOR seconds, with how long ago."""
        return tuple((a, now - when) for a, when in self._looked.items() if now - when <= LOOKED_FOR)


# --- the client's side: the list of rooms heard --------------------------------------


@dataclass(frozen=True)
class FoundRoom:
    """A room on the LAN. ``host`` and ``port`` are where its HERE came from: the
    address to connect to (an IPv6 link-local host carries its ``%scope``)."""

    name: str
    host: str
    port: int
    members: int
    locked: bool
    version: int
    instance: bytes

    @property
    def label(self) -> str:
        """``HOST:PORT`` or ``[v6]:PORT``, as a person types it and start_client takes it."""
        return format_addr((self.host, self.port))


def address_rank(host: str) -> int:
    """Which of a room's addresses to show (lower is better): an ordinary IPv4
    address, then IPv6, then link-local (needs no router but only works on that
    link), then loopback (only this machine)."""
    try:
        ip = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return 4
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return 3
    if ip.is_link_local:
        return 2
    return 1 if ip.version == 6 else 0


class RoomList:
    """The rooms heard in answer to the DISCOVERs sent with ``nonce``, each once."""

    def __init__(self, nonce: bytes) -> None:
        self.nonce = nonce
        self.ignored = 0                                 # malformed, or not an answer to us
        self._rooms: dict[bytes, tuple[FoundRoom, float]] = {}

    def heard(self, data: bytes, addr: tuple, now: float) -> bool:
        """A datagram from ``addr``; True when the list changed."""
        try:
            h = decode_here(data)
        except ProtocolError:
            h = None
        if h is None or h.nonce != self.nonce:
            self.ignored += 1
            return False
        host = addr[0][7:] if addr[0].startswith("::ffff:") and "." in addr[0] else addr[0]
        room = FoundRoom(h.room, host, addr[1], h.members, h.locked, h.version, h.instance)
        old = self._rooms.get(h.instance)
        if old is not None and address_rank(old[0].host) <= address_rank(host) and \
                (old[0].host, old[0].port) != (host, addr[1]):
            room = FoundRoom(h.room, old[0].host, old[0].port, h.members, h.locked, h.version, h.instance)
        self._rooms[h.instance] = (room, now)
        return old is None or old[0] != room

    def forget(self, now: float, after: float) -> bool:
        """Drop rooms not heard for ``after`` seconds (closed, or gone); True when any was."""
        gone = [k for k, (_r, t) in self._rooms.items() if now - t > after]
        for k in gone:
            del self._rooms[k]
        return bool(gone)

    @property
    def rooms(self) -> tuple[FoundRoom, ...]:
        """By name (case-insensitive), then address."""
        return tuple(sorted((r for r, _t in self._rooms.values()), key=lambda r: (r.name.casefold(), r.label)))

    def named(self, name: str) -> list[FoundRoom]:
        """The rooms called ``name``, case-insensitive."""
        key = room_name(name).casefold()
        return [r for r in self.rooms if r.name.casefold() == key]
