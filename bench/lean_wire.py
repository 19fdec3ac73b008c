"""The few datagrams a lean member speaks, written from docs/protocol.md alone.

The bench does not borrow the implementation's encoder (``udpcore`` keeps its
wire module to itself; its public face is the engines): a second, independent
reading of the format, just enough to join (HELLO, CHALLENGE, WELCOME,
REFUSE), to send SAY and LEAVE in DATA and to acknowledge. Should the format
change without this file, the relay bench's members fail to join, loudly.
"""
from __future__ import annotations

import struct

VERSION = 1
PREFIX = b"\xffUC" + bytes([VERSION])          # magic, version; then the packet type
HELLO, CHALLENGE, WELCOME, REFUSE, DATA, ACK, PING = 1, 2, 3, 4, 5, 6, 7
HELLO_SIZE = 200                                # HELLO is padded with zeros to this size
REFUSALS = {1: "name taken", 2: "name invalid", 3: "version", 4: "room full"}
STAMP_MASK = 0xFFFFFFFF                         # timestamps: microseconds modulo 2**32

# Whole datagrams, header included: magic+version, type, then the body.
DATA_HDR = struct.Struct("!4sB8sIIIBII")        # session, seq, ack, sack, flags, ts, echo; fragment follows
ACK_PKT = struct.Struct("!4sB8sIII")            # session, ack, sack, echo
PAYLOAD_AT = DATA_HDR.size                      # first byte of a DATA's fragment: the message type

# Chat messages (inside DATA).
SAY, LEAVE, LINE = 1, 5, 20


def stamp(now: float) -> int:
    """``now`` (seconds of a monotonic clock) as a DATA timestamp."""
    return int(now * 1_000_000) & STAMP_MASK


def _text16(s: str) -> bytes:
    raw = s.encode("utf-8")
    return len(raw).to_bytes(2, "big") + raw


def hello(nonce: bytes, name: str, token: bytes = b"") -> bytes:
    """HELLO: nonce(8) · resume blob8 (empty) · token blob8 · name text16 · zeros to 200 bytes."""
    out = PREFIX + bytes([HELLO]) + nonce + b"\x00" + bytes([len(token)]) + token + _text16(name)
    return out + bytes(max(0, HELLO_SIZE - len(out)))


def handshake_reply(data: bytes) -> tuple[int, bytes, bytes | str] | None:
    """(CHALLENGE, nonce, token), (WELCOME, nonce, session), (REFUSE, nonce, why)
    or None for anything else."""
    if len(data) < 13 or data[:4] != PREFIX:
        return None
    kind, nonce, body = data[4], data[5:13], data[13:]
    if kind == CHALLENGE and body:
        return CHALLENGE, nonce, body[1:1 + body[0]]
    if kind == WELCOME and len(body) >= 8:
        return WELCOME, nonce, body[:8]
    if kind == REFUSE and body:
        detail = body[3:].decode("utf-8", "replace")
        return REFUSE, nonce, f"{REFUSALS.get(body[0], body[0])}: {detail}"
    return None


def data(session: bytes, seq: int, ack: int, ts: int, echo: int, payload: bytes) -> bytes:
    """DATA (one whole message in one fragment, no SACK bits)."""
    return DATA_HDR.pack(PREFIX, DATA, session, seq, ack, 0, 0, ts, echo) + payload


def ack(session: bytes, ack_: int, echo: int) -> bytes:
    """ACK (no SACK bits)."""
    return ACK_PKT.pack(PREFIX, ACK, session, ack_, 0, echo)


def say(msg_id: int, text: str) -> bytes:
    """SAY: action(1) · msg_id u32 · text16."""
    return bytes([SAY, 0]) + msg_id.to_bytes(4, "big") + _text16(text)


def leave() -> bytes:
    return bytes([LEAVE])
