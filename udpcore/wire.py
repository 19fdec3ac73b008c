"""Datagram format: paired encode/decode functions and every size limit.

Each datagram starts with ``0xFF 'U' 'C'`` and a version byte. ``0xFF`` never
occurs in UTF-8, so a datagram of plain text (a guest, ``nc -u``) can never be
mistaken for this protocol, and a datagram of this protocol never decodes as text.
The layout of each type is in docs/protocol.md. Decoding never raises anything
but :class:`ProtocolError`.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import NamedTuple

from .errors import ProtocolError, VersionError

MAGIC = b"\xffUC"
DEFAULT_PORT = 5002           # the chat port, for servers and for what users type without one
VERSION = 3                  # 2: sessions sealed (udpcore/sealing.py), keys agreed in the handshake;
                             # 3: FRAMES, several fragments in one datagram (udpcore/frames.py)
MAX_DATAGRAM = 1200          # never needs IP fragmentation (QUIC's minimum MTU)
MAX_MESSAGE_TEXT = 8192      # bytes of UTF-8 in one chat line
MAX_NAME_CHARS = 24
HELLO_MIN_SIZE = 200         # clients pad HELLO so the answer fits 3x its size
HELLO_FIRST_RETRY = 0.25     # a client never repeats a HELLO sooner; the server relies on it
SESSION_ID_LEN = 8
NONCE_LEN = 8
MAX_TOKEN_LEN = 64
DATA_HEADER = struct.Struct("!8sIIIBII")  # session, seq, ack, sack, flags, ts, echo
ACK_BODY = struct.Struct("!8sIII")        # session, ack, sack, echo
SEALED_HEADER = struct.Struct("!3sBBBI")   # magic, version, SEALED, key phase, packet number
AEAD_TAG = 16
SEAL_OVERHEAD = SEALED_HEADER.size + AEAD_TAG       # a session packet travels inside a SEALED one
MAX_FRAGMENT = MAX_DATAGRAM - SEAL_OVERHEAD - len(MAGIC) - 2 - DATA_HEADER.size
PUBLIC_LEN = 32              # an X25519 public key
PAKE_LEN = 33                # a SPAKE2 message
CONFIRM_LEN = 32             # WELCOME's key confirmation (HMAC-SHA256)
MAX_ROOM_BYTES = 160         # a room's name on the wire (CHALLENGE, HERE)
FLAG_LOCKED = 0x01           # CHALLENGE (and HERE): joining needs the room's passphrase

FLAG_MORE = 0x01             # DATA: more fragments of this message follow
STAMP_MASK = 0xFFFFFFFF      # timestamps are microseconds of the sender's clock, modulo 2**32


def stamp(now: float) -> int:
    """``now`` (seconds, any monotonic clock) as a DATA timestamp: microseconds mod 2**32."""
    return int(now * 1_000_000) & STAMP_MASK


def stamp_age(echo: int, now: float) -> float:
    """Seconds from an echoed timestamp of ours to ``now`` (wraps every 71 minutes;
    an echo from the future comes out as about an hour and is discarded by the caller)."""
    return ((int(now * 1_000_000) - echo) & STAMP_MASK) / 1_000_000


class PacketType(IntEnum):
    HELLO = 1
    CHALLENGE = 2
    WELCOME = 3
    REFUSE = 4
    DATA = 5
    ACK = 6
    PING = 7
    BYE = 8
    RESET = 9
    DISCOVER = 10        # sessionless: udpcore/discovery.py encodes and decodes these two
    HERE = 11
    SEALED = 12          # a DATA, FRAMES, ACK, PING or BYE sealed with the session's keys (udpcore/sealing.py)
    FRAMES = 13          # several DATA fragments in one datagram (udpcore/frames.py)


class RefuseCode(IntEnum):
    NAME_TAKEN = 1
    NAME_INVALID = 2
    VERSION = 3
    FULL = 4             # the room holds --max-members already
    BANNED = 5           # the operator banned this name or address
    HOST_FULL = 6        # too many members from this IP address (--max-per-address)
    LOCKED = 7           # the room has a passphrase and the HELLO brought no SPAKE2 message
    TOO_MANY_GUESSES = 8 # too many unconfirmed passphrase attempts from this IP address; detail: seconds


@dataclass(frozen=True)
class Hello:
    nonce: bytes
    name: str
    token: bytes = b""
    resume: bytes = b""        # resuming: the proof that we hold the session's keys, else empty
    public: bytes = b""        # our X25519 key for this handshake
    pake: bytes = b""          # locked rooms: our SPAKE2 message


@dataclass(frozen=True)
class Challenge:
    nonce: bytes
    token: bytes
    locked: bool = False
    room: str = ""


@dataclass(frozen=True)
class Welcome:
    nonce: bytes
    session: bytes
    name: str
    resumed: bool = False
    public: bytes = b""        # the server's X25519 key (empty when resumed)
    pake: bytes = b""          # locked rooms: the server's SPAKE2 message
    confirm: bytes = b""       # the server's key confirmation (or, resumed, its proof)


@dataclass(frozen=True)
class Refuse:
    nonce: bytes
    code: RefuseCode
    reason: str


class Data(NamedTuple):
    """DATA and ACK are the relay's hot path: named tuples build several times
    faster than frozen dataclasses and are just as immutable.

    ``ts`` is when the sender sent this datagram (:func:`stamp`); ``echo`` is the
    ``ts`` of the last DATA the sender received plus how long it held it since,
    so the peer reads a true round trip from it, however late the ack comes."""

    session: bytes
    seq: int
    ack: int
    sack: int
    flags: int
    ts: int
    echo: int
    payload: bytes


class Ack(NamedTuple):
    session: bytes
    ack: int
    sack: int
    echo: int


@dataclass(frozen=True)
class Ping:
    session: bytes


@dataclass(frozen=True)
class Bye:
    session: bytes
    reason: str = ""


@dataclass(frozen=True)
class Reset:
    session: bytes


Packet = Hello | Challenge | Welcome | Refuse | Data | Ack | Ping | Bye | Reset


# --- helpers -------------------------------------------------------------------


class Reader:
    """Reads fields from a buffer; any shortfall or bad UTF-8 is a ProtocolError."""

    __slots__ = ("buf", "pos")

    def __init__(self, buf: bytes, pos: int = 0) -> None:
        self.buf = buf
        self.pos = pos

    def take(self, n: int) -> bytes:
        end = self.pos + n
        if end > len(self.buf):
            raise ProtocolError("truncated")
        out = self.buf[self.pos:end]
        self.pos = end
        return out

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return int.from_bytes(self.take(2), "big")

    def u32(self) -> int:
        return int.from_bytes(self.take(4), "big")

    def blob8(self) -> bytes:
        return self.take(self.u8())

    def text(self, limit: int = MAX_MESSAGE_TEXT) -> str:
        n = self.u16()
        if n > limit:
            raise ProtocolError("text too long")
        try:
            return self.take(n).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProtocolError("bad UTF-8") from exc

    def rest(self) -> bytes:
        out = self.buf[self.pos:]
        self.pos = len(self.buf)
        return out

    def end(self) -> None:
        if self.pos != len(self.buf):
            raise ProtocolError("trailing bytes")


def pack_text(s: str, limit: int = MAX_MESSAGE_TEXT) -> bytes:
    raw = s.encode("utf-8")
    if len(raw) > limit:
        raise ValueError(f"text of {len(raw)} bytes exceeds {limit}")
    return len(raw).to_bytes(2, "big") + raw


def _blob8(b: bytes) -> bytes:
    return bytes([len(b)]) + b


def _header(t: PacketType) -> bytes:
    return MAGIC + bytes([VERSION, t])


NAME_LIMIT = MAX_NAME_CHARS * 4  # bytes: 24 characters of at most 4 UTF-8 bytes


# --- encode --------------------------------------------------------------------


def encode(p: Packet) -> bytes:
    """Encode one packet. Raises ValueError for fields out of range (our bug)."""
    match p:
        case Hello():
            out = (_header(PacketType.HELLO) + p.nonce + _blob8(p.resume)
                   + _blob8(p.token) + pack_text(p.name, NAME_LIMIT) + _blob8(p.public) + _blob8(p.pake))
            return out + bytes(max(0, HELLO_MIN_SIZE - len(out)))
        case Challenge():
            return (_header(PacketType.CHALLENGE) + p.nonce + _blob8(p.token)
                    + bytes([FLAG_LOCKED if p.locked else 0]) + pack_text(p.room, MAX_ROOM_BYTES))
        case Welcome():
            return (_header(PacketType.WELCOME) + p.nonce + p.session
                    + bytes([1 if p.resumed else 0]) + pack_text(p.name, NAME_LIMIT)
                    + _blob8(p.public) + _blob8(p.pake) + _blob8(p.confirm))
        case Refuse():
            return _header(PacketType.REFUSE) + p.nonce + bytes([p.code]) + pack_text(p.reason, 512)
        case Data():
            return encode_data(p.session, p.seq, p.ack, p.sack, p.flags, p.ts, p.echo, p.payload)
        case Ack():
            return encode_ack(p.session, p.ack, p.sack, p.echo)
        case Ping():
            return _header(PacketType.PING) + p.session
        case Bye():
            return _header(PacketType.BYE) + p.session + pack_text(p.reason, 512)
        case Reset():
            return _header(PacketType.RESET) + p.session
    raise TypeError(f"not a packet: {p!r}")


_DATA_PREFIX = MAGIC + bytes([VERSION, PacketType.DATA])
_ACK_PREFIX = MAGIC + bytes([VERSION, PacketType.ACK])


def encode_data(session: bytes, seq: int, ack: int, sack: int, flags: int, ts: int, echo: int,
                payload: bytes) -> bytes:
    """The hot path of a relay: DATA without building a Data object."""
    if len(payload) > MAX_FRAGMENT:
        raise ValueError("fragment too large")
    return _DATA_PREFIX + DATA_HEADER.pack(session, seq, ack, sack, flags, ts, echo) + payload


DATA_REST = struct.Struct("!IIIBII")        # DATA_HEADER after the session: seq, ack, sack, flags, ts, echo


def data_prefix(session: bytes) -> bytes:
    """The bytes every DATA of a session starts with; ``prefix + DATA_REST.pack(...) +
    payload`` equals :func:`encode_data` (the relay builds many DATA per session).
    Fragments come from the reliable channel, already at most MAX_FRAGMENT."""
    return _DATA_PREFIX + session


def encode_ack(session: bytes, ack: int, sack: int, echo: int) -> bytes:
    return _ACK_PREFIX + ACK_BODY.pack(session, ack, sack, echo)


# --- decode --------------------------------------------------------------------


_V1 = MAGIC + bytes([VERSION])
_DATA_MIN = 5 + DATA_HEADER.size
_ACK_SIZE = 5 + ACK_BODY.size
_unpack_data = DATA_HEADER.unpack_from
_unpack_ack = ACK_BODY.unpack_from


def is_protocol(data: bytes) -> bool:
    """True when the datagram claims to be ours (as opposed to plain text)."""
    return data[:1] == MAGIC[:1]


def decode(data: bytes) -> Packet:
    """Decode one datagram, or raise ProtocolError (VersionError for a newer peer)."""
    n = len(data)
    if n > MAX_DATAGRAM:
        raise ProtocolError("datagram too large")
    if n >= 5 and data[:4] == _V1:            # the hot path first: DATA and ACK of version 1
        if data[4] == PacketType.DATA and n >= _DATA_MIN:
            return Data(*_unpack_data(data, 5), data[_DATA_MIN:])
        if data[4] == PacketType.ACK and n == _ACK_SIZE:
            return Ack(*_unpack_ack(data, 5))
    if data[:3] != MAGIC or n < 5:
        raise ProtocolError("not this protocol")
    if data[3] != VERSION:
        raise VersionError(data[3])
    r = Reader(data, 5)
    try:
        ptype = PacketType(data[4])
    except ValueError:
        raise ProtocolError(f"unknown packet type {data[4]}") from None
    if ptype is PacketType.HELLO:
        nonce = r.take(NONCE_LEN)
        resume = r.blob8()
        token = r.blob8()
        name = r.text(NAME_LIMIT)
        public = r.blob8()
        pake = r.blob8()
        if (resume and len(resume) != CONFIRM_LEN or len(token) > MAX_TOKEN_LEN
                or public and len(public) != PUBLIC_LEN or pake and len(pake) != PAKE_LEN):
            raise ProtocolError("bad hello")
        if any(r.rest()):
            raise ProtocolError("non-zero padding")
        return Hello(nonce, name, token, resume, public, pake)
    if ptype is PacketType.CHALLENGE:
        nonce, token, flags = r.take(NONCE_LEN), r.blob8(), r.u8()
        p: Packet = Challenge(nonce, token, bool(flags & FLAG_LOCKED), r.text(MAX_ROOM_BYTES))
    elif ptype is PacketType.WELCOME:
        p = Welcome(r.take(NONCE_LEN), r.take(SESSION_ID_LEN), resumed=bool(r.u8()),
                    name=r.text(NAME_LIMIT), public=r.blob8(), pake=r.blob8(), confirm=r.blob8())
        if (p.public and len(p.public) != PUBLIC_LEN or p.pake and len(p.pake) != PAKE_LEN
                or len(p.confirm) != CONFIRM_LEN):
            raise ProtocolError("bad welcome")
    elif ptype is PacketType.REFUSE:
        nonce = r.take(NONCE_LEN)
        try:
            code = RefuseCode(r.u8())
        except ValueError:
            raise ProtocolError("unknown refuse code") from None
        p = Refuse(nonce, code, r.text(512))
    elif ptype in (PacketType.DATA, PacketType.ACK):
        raise ProtocolError("truncated")       # a well-formed one took the hot path
    elif ptype in (PacketType.DISCOVER, PacketType.HERE):
        raise ProtocolError("not a session packet")   # udpcore.discovery reads these
    elif ptype is PacketType.SEALED:
        raise ProtocolError("sealed")                 # udpcore.sealing opens these
    elif ptype is PacketType.FRAMES:
        raise ProtocolError("frames")                 # udpcore.frames reads these
    elif ptype is PacketType.PING:
        p = Ping(r.take(SESSION_ID_LEN))
    elif ptype is PacketType.BYE:
        p = Bye(r.take(SESSION_ID_LEN), r.text(512))
    else:
        p = Reset(r.take(SESSION_ID_LEN))
    r.end()
    return p
