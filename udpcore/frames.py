"""FRAMES: several fragments of the reliable channel in one datagram.

A relay in a busy room has many lines for the same member within one turn; one
DATA each costs a seal (ChaCha20-Poly1305 and the Python around it) and a
``sendto`` apiece, which is most of what the server spends per line. FRAMES
carries them together, the way a QUIC packet carries several STREAM frames::

    magic(3) · version(1) · FRAMES(1) · session(8) · ack u32 · sack u32 · ts u32 · echo u32
    · count u8 · count × [seq u32 · flags u8 · length u16 · fragment]

The ack fields and the timestamp are the datagram's, as in DATA; each frame is
one fragment, exactly what a DATA of that ``seq``, ``flags`` and fragment would
carry. Nothing waits to be bundled: only what is due in the same turn goes
together, so a lone line still goes as one DATA, as soon as before. Like DATA,
FRAMES only ever travels inside SEALED.
"""
from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import NamedTuple

from .errors import ProtocolError
from .reliable import Frame
from .wire import (MAGIC, MAX_DATAGRAM, SEAL_OVERHEAD, VERSION, Ack, Bye, Data, Packet, PacketType,
                   Ping, decode)

FRAMES_PREFIX = MAGIC + bytes([VERSION, PacketType.FRAMES])
FRAMES_HEAD = struct.Struct("!8sIIIIB")       # session, ack, sack, ts, echo, count
FRAME_HEAD = struct.Struct("!IBH")            # seq, flags, length
HEAD_LEN = len(FRAMES_PREFIX) + FRAMES_HEAD.size
MAX_INNER = MAX_DATAGRAM - SEAL_OVERHEAD      # the most a sealed datagram can carry inside
MAX_FRAMES = 255

_head = FRAMES_HEAD.pack
_frame = FRAME_HEAD.pack
_unpack_head = FRAMES_HEAD.unpack_from
_unpack_frame = FRAME_HEAD.unpack_from
_FRAME_LEN = FRAME_HEAD.size


class Frames(NamedTuple):
    """A decoded FRAMES: the datagram's ack fields and timestamp, and its fragments in order."""

    session: bytes
    ack: int
    sack: int
    ts: int
    echo: int
    frames: tuple[Frame, ...]


SESSION_PACKETS = (Data, Frames, Ack, Ping, Bye)      # what a SEALED datagram may carry


def encode_frames(session: bytes, ack: int, sack: int, ts: int, echo: int, frames: Sequence[Frame]) -> bytes:
    """One FRAMES datagram's plaintext. Raises ValueError when it would not fit (our bug)."""
    if not 0 < len(frames) <= MAX_FRAMES:
        raise ValueError("a FRAMES carries 1 to 255 fragments")
    parts = [FRAMES_PREFIX, _head(session, ack, sack, ts, echo, len(frames))]
    for seq, flags, payload in frames:             # (a fragment over MAX_FRAGMENT never fits: below)
        parts.append(_frame(seq, flags, len(payload)))
        parts.append(payload)
    out = b"".join(parts)
    if len(out) > MAX_INNER:
        raise ValueError("FRAMES too large for one sealed datagram")
    return out


def groups(frames: Sequence[Frame]) -> list[list[Frame]]:
    """``frames`` in order, cut into runs that each fit one sealed datagram: a run of
    one goes as DATA (its overhead is smaller), a longer one as FRAMES."""
    out: list[list[Frame]] = []
    run: list[Frame] = []
    size = HEAD_LEN
    for f in frames:
        need = _FRAME_LEN + len(f[2])
        if run and size + need > MAX_INNER:      # (255 frames never fit: 7 bytes each at least)
            out.append(run)
            run, size = [], HEAD_LEN
        run.append(f)
        size += need
    if run:
        out.append(run)
    return out


def decode_frames(data: bytes) -> Frames:
    """A FRAMES datagram's plaintext, or ProtocolError for anything malformed."""
    n = len(data)
    if n > MAX_INNER or n < HEAD_LEN or data[:5] != FRAMES_PREFIX:
        raise ProtocolError("not a FRAMES datagram")
    session, ack, sack, ts, echo, count = _unpack_head(data, 5)
    if count == 0:
        raise ProtocolError("FRAMES without a frame")
    pos = HEAD_LEN
    frames = []
    for _ in range(count):
        if pos + _FRAME_LEN > n:
            raise ProtocolError("truncated")
        seq, flags, length = _unpack_frame(data, pos)
        pos += _FRAME_LEN
        end = pos + length
        if end > n:
            raise ProtocolError("truncated")
        frames.append((seq, flags, data[pos:end]))
        pos = end
    if pos != n:
        raise ProtocolError("trailing bytes")
    return Frames(session, ack, sack, ts, echo, tuple(frames))


def decode_session(data: bytes) -> Packet | Frames:
    """Any packet a SEALED datagram may carry (FRAMES included), or ProtocolError;
    the caller checks that what came out is a session packet."""
    if data[:5] == FRAMES_PREFIX:
        return decode_frames(data)
    return decode(data)
