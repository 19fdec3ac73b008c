"""The few datagrams a lean member speaks, written from docs/protocol.md alone.

The bench does not borrow the implementation's encoder (``udpcore`` keeps its
wire module to itself; its public face is the engines): a second, independent
reading of the format, just enough to join (HELLO, CHALLENGE, WELCOME,
REFUSE), to send SAY and LEAVE in DATA, to acknowledge, to PING and to say BYE.
Should the format change without this file, the benches' members fail to join,
loudly.

Two versions of the protocol, so that one bench can load this release's server
and the previous one's in the same run:

- **version 2** (this release): HELLO carries the client's X25519 key (and, in a
  locked room, its SPAKE2 message); CHALLENGE says whether the room is locked and
  its name; WELCOME brings the server's key and its key confirmation. After the
  handshake every DATA, ACK, PING and BYE travels as the plaintext of a SEALED
  datagram (``magic·version·12·phase·pn u32·ChaCha20-Poly1305(inner)·tag16``),
  whose inner packet is encoded as below with the version-2 prefix. The crypto
  itself is not re-implemented here: :mod:`bench.lean_member` uses udpcore's
  key agreement (``udpcore.keying``) and packet protection (``udpcore.sealing``).
- **version 1** (commit d3caeb2 and before): no keys, every packet in clear.
"""
from __future__ import annotations

import struct
from typing import NamedTuple

VERSION = 3                                     # 3: FRAMES (several fragments in one datagram)
MAGIC = b"\xffUC"
HELLO, CHALLENGE, WELCOME, REFUSE, DATA, ACK, PING, BYE, RESET, SEALED, FRAMES = 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13
HELLO_SIZE = 200                                # HELLO is padded with zeros to this size
REFUSALS = {1: "name taken", 2: "name invalid", 3: "version", 4: "room full", 5: "banned", 6: "host full",
            7: "locked", 8: "too many guesses"}
REFUSE_VERSION = 3
STAMP_MASK = 0xFFFFFFFF                         # timestamps: microseconds modulo 2**32
SESSION_LEN = 8
NO_SESSION = bytes(SESSION_LEN)                 # version 2's RESET: a sealed packet names no session in clear


def prefix(version: int = VERSION) -> bytes:
    """magic, version; then the packet type."""
    return MAGIC + bytes([version])


PREFIX = prefix(VERSION)
SEALED_PREFIX = PREFIX + bytes([SEALED])        # the first 5 bytes of every sealed datagram
RESET_PREFIX = PREFIX + bytes([RESET])
SEALED_HDR = struct.Struct("!3sBBBI")           # magic, version, SEALED, key phase, packet number

# Whole (inner) packets, header included: magic+version, type, then the body.
DATA_HDR = struct.Struct("!4sB8sIIIBII")        # session, seq, ack, sack, flags, ts, echo; fragment follows
ACK_PKT = struct.Struct("!4sB8sIII")            # session, ack, sack, echo
PAYLOAD_AT = DATA_HDR.size                      # first byte of a DATA's fragment: the message type
FRAMES_HDR = struct.Struct("!4sB8sIIIIB")      # session, ack, sack, ts, echo, count; then the frames
FRAME_HDR = struct.Struct("!IBH")              # seq, flags, length; the fragment follows



def frames(data: bytes) -> tuple[bytes, int, int, list[tuple[int, int, int, int]]]:
    """A FRAMES (version 3): session, ack, ts, and per frame (seq, flags, start, length) of
    its fragment in ``data``."""
    _, _, sid, ack, _sack, ts, _echo, count = FRAMES_HDR.unpack_from(data)
    pos, out = FRAMES_HDR.size, []
    for _ in range(count):
        seq, flags, length = FRAME_HDR.unpack_from(data, pos)
        pos += FRAME_HDR.size
        out.append((seq, flags, pos, length))
        pos += length
    return sid, ack, ts, out


# Chat messages (inside DATA); the same in all versions.
SAY, LEAVE, LINE = 1, 5, 20


class Challenge(NamedTuple):
    token: bytes
    locked: bool = False
    room: str = ""


class Welcome(NamedTuple):
    session: bytes
    resumed: bool = False
    public: bytes = b""         # version 2: the server's X25519 key
    pake: bytes = b""           # version 2, locked rooms: the server's SPAKE2 message
    confirm: bytes = b""        # version 2: the server's key confirmation


class Refuse(NamedTuple):
    code: int
    why: str


def stamp(now: float) -> int:
    """``now`` (seconds of a monotonic clock) as a DATA timestamp."""
    return int(now * 1_000_000) & STAMP_MASK


def _text16(s: str) -> bytes:
    raw = s.encode("utf-8")
    return len(raw).to_bytes(2, "big") + raw


def _blob8(b: bytes) -> bytes:
    return bytes([len(b)]) + b


def hello(nonce: bytes, name: str, token: bytes = b"", public: bytes = b"", pake: bytes = b"",
          version: int = VERSION) -> bytes:
    """HELLO: nonce(8) · resume blob8 (empty) · token blob8 · name text16
    [· public blob8 · pake blob8, version 2] · zeros to 200 bytes."""
    out = prefix(version) + bytes([HELLO]) + nonce + b"\x00" + _blob8(token) + _text16(name)
    if version >= 2:
        out += _blob8(public) + _blob8(pake)
    return out + bytes(max(0, HELLO_SIZE - len(out)))


class _Reader:
    __slots__ = ("buf", "pos")

    def __init__(self, buf: bytes, pos: int) -> None:
        self.buf, self.pos = buf, pos

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.buf):
            raise ValueError("truncated")
        out = self.buf[self.pos:self.pos + n]
        self.pos += n
        return out

    def blob8(self) -> bytes:
        return self.take(self.take(1)[0])

    def text16(self) -> str:
        return self.take(int.from_bytes(self.take(2), "big")).decode("utf-8", "replace")


def handshake_reply(data: bytes, version: int = VERSION) -> tuple[int, bytes, Challenge | Welcome | Refuse] | None:
    """(CHALLENGE, nonce, Challenge), (WELCOME, nonce, Welcome), (REFUSE, nonce, Refuse)
    or None for anything else. A REFUSE of the other version (a server of another
    release refusing ours, with a zero nonce) is read too: its code is REFUSE_VERSION."""
    if len(data) < 14 or data[:3] != MAGIC:
        return None
    kind, nonce = data[4], data[5:13]
    r = _Reader(data, 13)
    try:
        if kind == REFUSE:
            code = r.take(1)[0]
            return REFUSE, nonce, Refuse(code, f"{REFUSALS.get(code, code)}: {r.text16()}")
        if data[3] != version:
            return None
        if kind == CHALLENGE:
            token = r.blob8()
            if version < 2:
                return CHALLENGE, nonce, Challenge(token)
            flags = r.take(1)[0]
            return CHALLENGE, nonce, Challenge(token, bool(flags & 1), r.text16())
        if kind == WELCOME:
            session = r.take(SESSION_LEN)
            if version < 2:
                return WELCOME, nonce, Welcome(session)
            resumed = bool(r.take(1)[0])
            r.text16()                                          # the name, as the server took it
            return WELCOME, nonce, Welcome(session, resumed, r.blob8(), r.blob8(), r.blob8())
    except ValueError:
        return None
    return None


def data(session: bytes, seq: int, ack: int, ts: int, echo: int, payload: bytes, version: int = VERSION) -> bytes:
    """DATA (one whole message in one fragment, no SACK bits)."""
    return DATA_HDR.pack(prefix(version), DATA, session, seq, ack, 0, 0, ts, echo) + payload


def ack(session: bytes, ack_: int, echo: int, version: int = VERSION) -> bytes:
    """ACK (no SACK bits)."""
    return ACK_PKT.pack(prefix(version), ACK, session, ack_, 0, echo)


def ping(session: bytes, version: int = VERSION) -> bytes:
    return prefix(version) + bytes([PING]) + session


def bye(session: bytes, version: int = VERSION) -> bytes:
    """BYE with an empty reason."""
    return prefix(version) + bytes([BYE]) + session + b"\x00\x00"


def say(msg_id: int, text: str) -> bytes:
    """SAY: action(1) · msg_id u32 · text16."""
    return bytes([SAY, 0]) + msg_id.to_bytes(4, "big") + _text16(text)


def leave() -> bytes:
    return bytes([LEAVE])
