"""The room's history on the wire: ROOM, FETCH, HISTORY and BACK messages.

After joining, the server tells the member which room this is (its id: a new
room when the server's history was started afresh) and its last sequence
number (ROOM). The client asks for what it lacks with FETCH -- the lines
numbered ``after < seq < before`` (``before`` 0: no upper bound), the newest
``limit`` of them or the oldest -- and the server answers one page per FETCH
(HISTORY), saying how many more lines the range holds beyond the page, so a
client pages at its own pace and the server never queues more than a page for
anyone. BACK tells a restarted room how many members came back, as one line.
Decoding raises only :class:`ProtocolError` (via :class:`~udpcore.wire.Reader`).
"""
from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field

from .errors import ProtocolError
from .wire import MAX_MESSAGE_TEXT, NAME_LIMIT, Reader, pack_text

ROOM_ID_BYTES = 64          # a room id is short ASCII text (the store makes 32 hex digits)
PAGE_LINES = 500            # at most this many lines in one HISTORY...
PAGE_BYTES = 60_000         # ...and at most this many bytes of them (one message stays well under MAX_REASSEMBLY)
_FETCH = struct.Struct("!IIIHB")       # token, after, before, limit, newest
_HISTORY_HEAD = struct.Struct("!IIHH")  # token, more, wait, count
_PAST_LINE = struct.Struct("!IdBI")    # seq, at, flags, msg_id (the asker's own lines only)
ORIGIN_BYTES = 8
_U32 = 0xFFFFFFFF


@dataclass(frozen=True)
class RoomInfo:
    """Server -> client after joining: this room's id and its last sequence number."""
    room_id: str
    last_seq: int


@dataclass(frozen=True)
class Fetch:
    """Client -> server: the lines ``after < seq < before`` (0: no bound), at most
    ``limit``, the newest of them (``newest``) or the oldest."""
    token: int
    after: int
    before: int
    limit: int
    newest: bool = True


@dataclass(frozen=True)
class Origin:
    """Client -> server, first on every fresh session: the client program's own random
    id, so that a line it sends again after a crash of the server is known (and not
    relayed twice), and its own lines in a catch-up come back marked as its own."""
    instance: bytes


@dataclass(frozen=True)
class PastLine:
    seq: int
    at: float        # unix time the server ordered the line
    sender: str
    text: str
    flags: int = 0   # appmsg.LINE_ACTION; LINE_OWN on the asker's own lines
    msg_id: int = 0  # the asker's own message id (its own lines only)
    origin: bytes = field(default=b"", compare=False, repr=False)   # the server's side only, never sent


@dataclass(frozen=True)
class History:
    """Server -> client: one page for the FETCH with ``token``, oldest first.
    ``more``: lines of the range not in the page (on the side the page did not
    start from). ``wait`` > 0: refused, over the member's rate: ask again after
    that many seconds (``lines`` is empty then)."""
    token: int
    lines: tuple[PastLine, ...]
    more: int = 0
    wait: int = 0


@dataclass(frozen=True)
class Back:
    """A restarted room: ``count`` members came back (one notice, not one per member)."""
    count: int


PastMessage = RoomInfo | Fetch | History | Back | Origin


def page_size(line: PastLine) -> int:
    """The bytes ``line`` takes in a HISTORY (the server fills pages up to PAGE_BYTES)."""
    return _PAST_LINE.size + 4 + len(line.sender.encode()) + len(line.text.encode())


def encode_past(type_byte: int, msg: PastMessage) -> bytes:
    head = bytes([type_byte])
    if isinstance(msg, RoomInfo):
        return head + pack_text(msg.room_id, ROOM_ID_BYTES) + min(msg.last_seq, _U32).to_bytes(4, "big")
    if isinstance(msg, Fetch):
        return head + _FETCH.pack(msg.token, msg.after, msg.before, min(msg.limit, 0xFFFF), msg.newest)
    if isinstance(msg, History):
        parts = [head, _HISTORY_HEAD.pack(msg.token, min(msg.more, _U32), min(msg.wait, 0xFFFF), len(msg.lines))]
        for ln in msg.lines:
            parts.append(_PAST_LINE.pack(ln.seq, ln.at, ln.flags, ln.msg_id))
            parts.append(pack_text(ln.sender, NAME_LIMIT))
            parts.append(pack_text(ln.text))
        return b"".join(parts)
    if isinstance(msg, Origin):
        if len(msg.instance) != ORIGIN_BYTES:
            raise ValueError("an origin is 8 bytes")
        return head + msg.instance
    return head + min(msg.count, _U32).to_bytes(4, "big")


def decode_room(r: Reader) -> RoomInfo:
    return RoomInfo(r.text(ROOM_ID_BYTES), r.u32())


def decode_fetch(r: Reader) -> Fetch:
    token, after, before, limit, newest = _FETCH.unpack(r.take(_FETCH.size))
    if newest > 1:
        raise ProtocolError("bad FETCH")
    return Fetch(token, after, before, limit, bool(newest))


def decode_history(r: Reader) -> History:
    token, more, wait, count = _HISTORY_HEAD.unpack(r.take(_HISTORY_HEAD.size))
    if count > PAGE_LINES:
        raise ProtocolError("HISTORY page too long")
    lines = []
    for _ in range(count):
        seq, at, flags, msg_id = _PAST_LINE.unpack(r.take(_PAST_LINE.size))
        if not math.isfinite(at):
            raise ProtocolError("bad time in HISTORY")
        lines.append(PastLine(seq, at, r.text(NAME_LIMIT), r.text(MAX_MESSAGE_TEXT), flags, msg_id))
    return History(token, tuple(lines), more, wait)


def decode_back(r: Reader) -> Back:
    return Back(r.u32())


def decode_origin(r: Reader) -> Origin:
    return Origin(r.take(ORIGIN_BYTES))
