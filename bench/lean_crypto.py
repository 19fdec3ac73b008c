"""The only bench module that reaches inside udpcore: the client's crypto, for the lean members.

Since protocol version 2 (issue 12) every member session is sealed. A lean
member (:mod:`bench.lean_member`) encodes its few packets itself, from
docs/protocol.md, but does the cryptography exactly as a real client does, with
udpcore's own code rather than a second implementation that could flatter the
server: the client's half of the key agreement and its confirmation check
(``udpcore.keying.ClientKeying``: X25519, and SPAKE2 in a locked room) and the
packet protection (``udpcore.sealing.Seal``: ChaCha20-Poly1305, packet numbers,
replay window, key update). udpcore's public face (its ``__all__``) is for
programs, which use the engines and never need these; a bench that plays
thousands of members needs them without an engine, so they are imported here,
in one place.

It also holds the stand-ins ``bench_relay_cpu.py --what-if`` swaps in for a
server's seals, to tell where the server's time goes (:func:`stand_in`), and
``server_runner.py --flat-seal``'s (:func:`server_flat_seal`).
"""
from __future__ import annotations

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from udpcore.errors import DecryptError, HandshakeError, ReplayedPacket
from udpcore.keying import ClientKeying
from udpcore.protection import KEY_UPDATE_AFTER, KeyShare, Side, traffic_keys
from udpcore.sealing import Seal
from udpcore.wire import MAGIC, SEALED_HEADER, VERSION, PacketType

__all__ = ["ClientKeying", "DecryptError", "HandshakeError", "KeyShare", "Seal", "Side", "client_seal",
           "server_flat_seal", "stand_in", "WHAT_IFS"]

WHAT_IFS = ("null-seal", "flat-seal")


def client_seal(keys) -> Seal:
    """The client's packet protection for a session's keys."""
    return Seal(keys, Side.CLIENT)


def server_flat_seal() -> None:
    """``server_runner.py --flat-seal``: every session the server engine of this process admits from
    now on seals and opens with :func:`stand_in`'s FlatSeal (the same bytes as Seal)."""
    import udpcore.admission as admission
    real = admission.Seal
    admission.Seal = lambda keys, side: stand_in("flat-seal", real(keys, side), side is Side.CLIENT)


def stand_in(kind: str, old, side_is_client: bool):
    """A stand-in for the udpcore.sealing.Seal ``old`` (after the handshake), same keys, same packet numbers."""

    prefix = MAGIC + bytes([VERSION, PacketType.SEALED])
    pack = SEALED_HEADER.pack
    keys = old.keys
    send_secret, recv_secret = (keys.c2s, keys.s2c) if side_is_client else (keys.s2c, keys.c2s)

    class NullSeal:
        """Framing only: header, packet number, a zero tag. No cipher, no replay window."""
        __slots__ = ("keys", "pn")

        def __init__(self) -> None:
            self.keys = keys
            self.pn = old.sender.next_pn

        def seal(self, inner: bytes) -> bytes:
            pn = self.pn
            self.pn = pn + 1
            return pack(MAGIC, VERSION, PacketType.SEALED, 0, pn) + inner + bytes(16)

        def open(self, datagram: bytes) -> bytes:
            if len(datagram) < 26 or datagram[:5] != prefix:
                raise DecryptError("not a sealed datagram")
            return datagram[10:-16]

    class FlatSeal:
        """The same protection, one function per direction (generation 0; a key update would take the slow path)."""
        __slots__ = ("keys", "pn", "_enc", "_siv", "_left", "_dec", "_riv", "_highest", "_bits")

        def __init__(self) -> None:
            self.keys = keys
            key, iv = traffic_keys(send_secret)
            self._enc = ChaCha20Poly1305(key).encrypt
            self._siv = int.from_bytes(iv, "big")
            self.pn = old.sender.next_pn
            self._left = KEY_UPDATE_AFTER - self.pn
            key, iv = traffic_keys(recv_secret)
            self._dec = ChaCha20Poly1305(key).decrypt
            self._riv = int.from_bytes(iv, "big")
            w = old.receiver.window
            self._highest = -1 if w.highest is None else w.highest
            self._bits = w._bits

        def seal(self, inner: bytes) -> bytes:
            pn = self.pn
            self._left -= 1
            if self._left < 0:
                raise NotImplementedError("a key update: the slow path")
            self.pn = pn + 1
            header = pack(MAGIC, VERSION, PacketType.SEALED, 0, pn)
            return header + self._enc((self._siv ^ pn).to_bytes(12, "big"), inner, header)

        def open(self, datagram: bytes) -> bytes:
            if len(datagram) < 26 or datagram[:5] != prefix or datagram[5]:
                raise DecryptError("not a sealed datagram of key phase 0")
            pn = int.from_bytes(datagram[6:10], "big")
            highest = self._highest
            behind = highest - pn
            if behind >= 0 and (behind >= 64 or (self._bits >> behind) & 1):
                raise ReplayedPacket("replayed or too old")
            try:
                plain = self._dec((self._riv ^ pn).to_bytes(12, "big"), datagram[10:], datagram[:10])
            except InvalidTag:
                raise DecryptError("packet does not authenticate") from None
            if behind < 0:
                self._bits = ((self._bits << -behind) | 1) & 0xFFFFFFFFFFFFFFFF
                self._highest = pn
            else:
                self._bits |= 1 << behind
            return plain

    return {"null-seal": NullSeal, "flat-seal": FlatSeal}[kind]()
