"""Chat messages carried inside the reliable stream (after reassembly).

A message is one type byte and its fields; texts are length-prefixed UTF-8.
Like :mod:`udpcore.wire`, decoding raises only :class:`ProtocolError`.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import Enum, IntEnum

from . import pastmsg as past
from .errors import ProtocolError
from .pastmsg import Back, Fetch, History, Origin, PastLine, RoomInfo
from .wire import MAX_MESSAGE_TEXT, NAME_LIMIT, Reader, pack_text


class MsgType(IntEnum):
    # client -> server
    SAY = 1
    PRIVATE = 2
    NICK = 3
    WHO = 4
    LEAVE = 5
    SYNC = 6         # answered by SYNCED after everything before it: an ordering barrier
    FETCH = 7        # past lines of the room (udpcore.pastmsg)
    ORIGIN = 8       # the client program's id, first on a fresh session (udpcore.pastmsg)
    # server -> client
    LINE = 20
    JOINED = 21
    LEFT = 22
    RENAMED = 23
    MEMBERS = 24
    ERROR = 25
    CLOSING = 26
    SYNCED = 27
    LINE_REFUSED = 28  # a SAY or PRIVATE not relayed (over the rate, or muted), to its sender
    REMOVED = 29       # to a member the operator kicked or banned, just before it is taken out
    CROWD = 30         # many joined or left at once: counted, not named (a join storm stays quiet)
    LIMITS = 31        # the room's line rate, sent once after WELCOME so clients pace themselves
    ROOM = 32          # the room's id and last sequence number, after LIMITS (udpcore.pastmsg)
    HISTORY = 33       # one page of past lines, answering a FETCH
    BACK = 34          # a restarted room: how many members came back


class LeaveReason(Enum):
    """Why a member is no longer in the room; the value is what LEFT carries."""

    LEFT = "left"                # said goodbye (or a new program took its address)
    VANISHED = "vanished"        # nothing heard for MEMBER_TIMEOUT
    EXPIRED = "expired"          # a guest silent for GUEST_TIMEOUT
    TOO_SLOW = "too-slow"        # its backlog overflowed: it could not keep up
    KICKED = "kicked"            # the operator removed it
    BANNED = "banned"            # the operator removed and banned it


class ErrorCode(IntEnum):
    """What an ERROR refuses; its detail field names the member or name concerned."""

    NO_SUCH_MEMBER = 1
    NAME_TAKEN = 2
    NAME_INVALID = 3
    RATE_LIMITED = 4    # a NICK or WHO over the member's rate (lines get LINE_REFUSED)


LINE_ACTION = 0x01
LINE_PRIVATE = 0x02
LINE_OWN = 0x04
MAX_MEMBERS_LISTED = 10_000


@dataclass(frozen=True)
class Say:
    msg_id: int
    text: str
    action: bool = False


@dataclass(frozen=True)
class Private:
    msg_id: int
    to: str
    text: str
    action: bool = False


@dataclass(frozen=True)
class Nick:
    name: str


@dataclass(frozen=True)
class Who:
    pass


@dataclass(frozen=True)
class Leave:
    pass


@dataclass(frozen=True)
class Sync:
    token: int


@dataclass(frozen=True)
class Synced:
    token: int


@dataclass(frozen=True)
class Line:
    seq: int
    sender: str
    text: str
    flags: int = 0
    msg_id: int = 0
    to: str = ""


@dataclass(frozen=True)
class Joined:
    name: str
    address: str = ""
    guest: bool = False


@dataclass(frozen=True)
class Left:
    name: str
    reason: LeaveReason = LeaveReason.LEFT


@dataclass(frozen=True)
class Renamed:
    old: str
    new: str


@dataclass(frozen=True)
class Members:
    names: tuple[str, ...]


@dataclass(frozen=True)
class Error:
    code: ErrorCode
    detail: str = ""


@dataclass(frozen=True)
class Closing:
    reason: str = ""


class RefusalCode(IntEnum):
    """Why LINE_REFUSED did not relay a line."""

    RATE_LIMITED = 1    # over the member's line rate; ``wait`` seconds until one more may go
    MUTED = 2           # the operator muted the sender; ``wait`` seconds of the mute are left


@dataclass(frozen=True)
class LineRefused:
    msg_id: int
    code: RefusalCode
    wait: int           # seconds (rounded up), at most 65535


@dataclass(frozen=True)
class Removed:
    reason: str = ""    # the operator's words, if any
    banned: bool = False


@dataclass(frozen=True)
class Crowd:
    joined: int         # joined since the last notice, beyond those named one by one
    left: int


@dataclass(frozen=True)
class Limits:
    lines_per_minute: int   # the member's sustained line rate...
    burst: int              # ...and how many lines may go at once on top of it


AppMessage = (Say | Private | Nick | Who | Leave | Sync | Synced | Line | Joined | Left | Renamed | Members | Error
              | Closing | LineRefused | Removed | Crowd | Limits | RoomInfo | Fetch | History | Back | Origin)
_PAST_TYPES = {RoomInfo: 32, Fetch: 7, History: 33, Back: 34, Origin: 8}      # MsgType values (pastmsg's messages)
_U16 = 0xFFFF


def _name(s: str) -> bytes:
    return pack_text(s, NAME_LIMIT)


_LINE_HEAD = struct.Struct("!BBII")      # LINE, flags, room seq, msg_id
_SAY_HEAD = struct.Struct("!BBIH")       # SAY, action, msg_id, text length


def encode_line(seq: int, sender: str, text: str, flags: int = 0, msg_id: int = 0, to: str = "") -> bytes:
    """LINE without building a :class:`Line`: the relay encodes one per public line."""
    return _LINE_HEAD.pack(MsgType.LINE, flags, seq, msg_id) + _name(sender) + _name(to) + pack_text(text)


def restamped_line(line: bytes, seq: int, flags: int, msg_id: int) -> bytes:
    """An encoded LINE with other flags and message id (the sender's own copy of the
    relay's shared one): its head packed again, the rest reused as it is."""
    return _LINE_HEAD.pack(MsgType.LINE, flags, seq, msg_id) + line[_LINE_HEAD.size:]


def encode_msg(m: AppMessage) -> bytes:
    match m:
        case Say():
            return bytes([MsgType.SAY, m.action]) + m.msg_id.to_bytes(4, "big") + pack_text(m.text)
        case Private():
            return (bytes([MsgType.PRIVATE, m.action]) + m.msg_id.to_bytes(4, "big")
                    + _name(m.to) + pack_text(m.text))
        case Nick():
            return bytes([MsgType.NICK]) + _name(m.name)
        case Who():
            return bytes([MsgType.WHO])
        case Leave():
            return bytes([MsgType.LEAVE])
        case Sync():
            return bytes([MsgType.SYNC]) + m.token.to_bytes(4, "big")
        case Synced():
            return bytes([MsgType.SYNCED]) + m.token.to_bytes(4, "big")
        case Line():
            return encode_line(m.seq, m.sender, m.text, m.flags, m.msg_id, m.to)
        case Joined():
            return bytes([MsgType.JOINED, m.guest]) + _name(m.name) + pack_text(m.address, 128)
        case Left():
            return bytes([MsgType.LEFT]) + _name(m.name) + pack_text(m.reason.value, 64)
        case Renamed():
            return bytes([MsgType.RENAMED]) + _name(m.old) + _name(m.new)
        case Members():
            return (bytes([MsgType.MEMBERS]) + len(m.names).to_bytes(2, "big")
                    + b"".join(_name(n) for n in m.names))
        case Error():
            return bytes([MsgType.ERROR, m.code]) + _name(m.detail)
        case Closing():
            return bytes([MsgType.CLOSING]) + pack_text(m.reason, 512)
        case LineRefused():
            return struct.pack("!BIBH", MsgType.LINE_REFUSED, m.msg_id, m.code, min(m.wait, _U16))
        case Removed():
            return bytes([MsgType.REMOVED, m.banned]) + pack_text(m.reason, 512)
        case Crowd():
            return struct.pack("!BII", MsgType.CROWD, m.joined, m.left)
        case Limits():
            return struct.pack("!BHH", MsgType.LIMITS, min(m.lines_per_minute, _U16), min(m.burst, _U16))
        case RoomInfo() | Fetch() | History() | Back() | Origin():
            return past.encode_past(_PAST_TYPES[type(m)], m)
    raise TypeError(f"not a message: {m!r}")


def decode_msg(data: bytes) -> AppMessage:
    if data[:1] == b"\x01" and len(data) >= 8:         # SAY, the server's commonest message
        _, action, msg_id, n = _SAY_HEAD.unpack_from(data)
        if n != len(data) - 8 or n > MAX_MESSAGE_TEXT:
            raise ProtocolError("bad SAY")
        try:
            return Say(msg_id, data[8:].decode("utf-8"), bool(action))
        except UnicodeDecodeError as exc:
            raise ProtocolError("bad UTF-8") from exc
    r = Reader(data)
    try:
        t = MsgType(r.u8())
    except ValueError:
        raise ProtocolError("unknown message type") from None
    m: AppMessage
    if t is MsgType.SAY:
        raise ProtocolError("truncated")       # a SAY of 8 bytes or more took the fast path
    if t is MsgType.PRIVATE:
        action = bool(r.u8())
        m = Private(r.u32(), r.text(NAME_LIMIT), r.text(), action)
    elif t is MsgType.NICK:
        m = Nick(r.text(NAME_LIMIT))
    elif t is MsgType.WHO:
        m = Who()
    elif t is MsgType.LEAVE:
        m = Leave()
    elif t is MsgType.SYNC:
        m = Sync(r.u32())
    elif t is MsgType.SYNCED:
        m = Synced(r.u32())
    elif t is MsgType.LINE:
        flags = r.u8()
        m = Line(seq=r.u32(), msg_id=r.u32(), sender=r.text(NAME_LIMIT), to=r.text(NAME_LIMIT),
                 text=r.text(), flags=flags)
    elif t is MsgType.JOINED:
        guest = bool(r.u8())
        m = Joined(r.text(NAME_LIMIT), r.text(128), guest)
    elif t is MsgType.LEFT:
        name = r.text(NAME_LIMIT)
        try:
            m = Left(name, LeaveReason(r.text(64)))
        except ValueError:
            raise ProtocolError("unknown leave reason") from None
    elif t is MsgType.RENAMED:
        m = Renamed(r.text(NAME_LIMIT), r.text(NAME_LIMIT))
    elif t is MsgType.MEMBERS:
        n = r.u16()
        m = Members(tuple(r.text(NAME_LIMIT) for _ in range(n)))
    elif t is MsgType.ERROR:
        try:
            code = ErrorCode(r.u8())
        except ValueError:
            raise ProtocolError("unknown error code") from None
        m = Error(code, r.text(NAME_LIMIT))
    elif t is MsgType.CLOSING:
        m = Closing(r.text(512))
    elif t is MsgType.LINE_REFUSED:
        msg_id = r.u32()
        try:
            refusal = RefusalCode(r.u8())
        except ValueError:
            raise ProtocolError("unknown refusal code") from None
        m = LineRefused(msg_id, refusal, r.u16())
    elif t is MsgType.REMOVED:
        banned = bool(r.u8())
        m = Removed(r.text(512), banned)
    elif t is MsgType.CROWD:
        m = Crowd(r.u32(), r.u32())
    elif t is MsgType.FETCH:
        m = past.decode_fetch(r)
    elif t is MsgType.ROOM:
        m = past.decode_room(r)
    elif t is MsgType.HISTORY:
        m = past.decode_history(r)
    elif t is MsgType.BACK:
        m = past.decode_back(r)
    elif t is MsgType.ORIGIN:
        m = past.decode_origin(r)
    else:
        m = Limits(r.u16(), r.u16())
    r.end()
    return m


# The largest encoded message: a private line with two full names and full text.
MAX_MESSAGE_BYTES = 2 + 8 + 3 * 2 + 2 * NAME_LIMIT + MAX_MESSAGE_TEXT
