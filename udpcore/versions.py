"""Telling a peer of another protocol version which one we speak.

A server and a client of different versions cannot talk, but each must be able
to say so in one sentence rather than time out as "no answer". REFUSE is laid
out the same in every version (nonce(8) · code(1) · detail text16), and so is
HELLO's start (its nonce right after the 5-byte header), so:

- the server answers a HELLO of another version with REFUSE code VERSION framed
  in *that* version, echoing the HELLO's nonce: the other client reads it with
  its own decoder and tells its user which version the server speaks;
- a client reads a REFUSE VERSION framed in another version (a newer server's
  answer to it), if it echoes its HELLO's nonce like any answer must.
"""
from __future__ import annotations

from .errors import ProtocolError
from .wire import MAGIC, NONCE_LEN, VERSION, PacketType, Reader, Refuse, RefuseCode, pack_text

_NONCE_AT = len(MAGIC) + 2


def refuse_version(data: bytes) -> bytes:
    """The REFUSE VERSION for ``data``, a datagram with our magic and another version."""
    if data[4:5] == bytes([PacketType.HELLO]) and len(data) >= _NONCE_AT + NONCE_LEN:
        nonce = data[_NONCE_AT:_NONCE_AT + NONCE_LEN]
    else:
        nonce = bytes(NONCE_LEN)                # not a HELLO: nobody is waiting on an answer
    return (MAGIC + bytes([data[3], PacketType.REFUSE]) + nonce + bytes([RefuseCode.VERSION])
            + pack_text(str(VERSION), 512))


def foreign_refuse(data: bytes) -> Refuse | None:
    """A REFUSE VERSION framed in another version than ours, else None."""
    if len(data) < 5 or data[:3] != MAGIC or data[3] == VERSION or data[4] != PacketType.REFUSE:
        return None
    r = Reader(data, _NONCE_AT)
    try:
        nonce, code, detail = r.take(NONCE_LEN), r.u8(), r.text(512)
        r.end()
    except ProtocolError:
        return None
    return Refuse(nonce, RefuseCode.VERSION, detail) if code == RefuseCode.VERSION else None
