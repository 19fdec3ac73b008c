"""SEALED datagrams: every packet of a member session, encrypted and authenticated.

After the handshake, each DATA, ACK, PING and BYE (encoded as in
:mod:`udpcore.wire`, session id included) travels as the plaintext of one
SEALED datagram::

    magic(3) · version(1) · SEALED(1) · key phase(1) · packet number u32 · ChaCha20-Poly1305(plaintext) · tag(16)

The clear header is the AEAD's associated data, so neither the packet number
nor the key phase can be altered; the nonce is derived from the packet number
(:class:`udpcore.protection.PacketKey`). A sniffer sees the header, the size
and the timing, nothing else: not the session id, not the name, not a word.
Every datagram gets a fresh packet number, retransmissions included.
"""
from __future__ import annotations

from .errors import DecryptError
from .protection import Receiver, Sender, SessionKeys, Side
from .wire import MAGIC, MAX_DATAGRAM, SEALED_HEADER, VERSION, PacketType

SEALED_PREFIX = MAGIC + bytes([VERSION, PacketType.SEALED])
_HEADER_LEN = SEALED_HEADER.size
_pack = SEALED_HEADER.pack
_PHASE_MASK = 0x01


class Seal:
    """One end of a session's packet protection: seals what it sends, opens what it gets.

    ``keys`` stays with the seal: a resuming client proves possession with it,
    and the server checks that proof against it."""

    __slots__ = ("keys", "sender", "receiver")

    def __init__(self, keys: SessionKeys, side: Side) -> None:
        self.keys = keys
        self.sender: Sender = keys.sender(side)
        self.receiver: Receiver = keys.receiver(side)

    def seal(self, inner: bytes) -> bytes:
        """``inner`` (an encoded session packet) as one SEALED datagram, with the next packet number.

        Raises ValueError once the session has used every packet number
        (2**32: a new handshake is needed)."""
        s = self.sender
        pn = s.next_pn
        header = _pack(MAGIC, VERSION, PacketType.SEALED, s.phase, pn)
        return header + s.seal(pn, header, inner)

    def open(self, datagram: bytes) -> bytes:
        """The plaintext of a SEALED datagram; :class:`DecryptError` (or its
        :class:`~udpcore.errors.ReplayedPacket`) for anything forged, damaged or
        already seen. A refused datagram changes nothing."""
        if len(datagram) > MAX_DATAGRAM or len(datagram) < _HEADER_LEN + 16 or datagram[:5] != SEALED_PREFIX:
            raise DecryptError("not a sealed datagram")
        flags = datagram[5]
        if flags & ~_PHASE_MASK:
            raise DecryptError("unknown flags")
        pn = int.from_bytes(datagram[6:_HEADER_LEN], "big")
        return self.receiver.open(pn, flags, datagram[:_HEADER_LEN], datagram[_HEADER_LEN:])


def is_sealed(datagram: bytes) -> bool:
    return datagram[:5] == SEALED_PREFIX
