"""SPAKE2 for locked rooms: the passphrase becomes a key without ever crossing the wire.

A thin wrapper around ``spake2`` (the package magic-wormhole uses; SPAKE2 of
Abdalla and Pointcheval over Ed25519). The client is side A, the server side
B. Both identities name the protocol version, the room and both handshake
nonces, so a message made for one room or one handshake is worth nothing in
another. Each side sends one 33-byte message (a side byte and a point); the
32-byte key it yields goes into the session's key schedule
(:meth:`udpcore.protection.SessionKeys.derive`, ``pake_key``), whose two
"finished" values are the key confirmations: a wrong passphrase shows after
one round trip, on both sides.

Someone who records a handshake learns nothing to test passphrases against
offline: each message is a random point blinded by the passphrase, and the key
also needs one side's secret scalar. Someone who talks to the server can try
one passphrase per handshake; the server must count those and slow them down.
"""
from __future__ import annotations

import unicodedata
from typing import Callable

import spake2
from spake2.ed25519_basic import NotOnCurve

from .errors import HandshakeError
from .protection import Side
from .wire import VERSION

PAKE_MESSAGE_LEN = 33          # b"A" or b"B", then a 32-byte Ed25519 point


def _lp(field: bytes) -> bytes:
    if len(field) > 255:
        raise ValueError("a bound field is longer than 255 bytes")
    return bytes([len(field)]) + field


def identities(room: str, client_nonce: bytes, server_nonce: bytes, version: int = VERSION) -> tuple[bytes, bytes]:
    """SPAKE2's idA (the client's) and idB (the server's) for this room and handshake."""
    bound = bytes([version]) + _lp(unicodedata.normalize("NFC", room).encode("utf-8")) \
        + _lp(client_nonce) + _lp(server_nonce)
    return b"udpchat client" + bound, b"udpchat server" + bound


class RoomPake:
    """One side of one SPAKE2 exchange; :attr:`message` goes to the peer, :meth:`finish` takes the peer's.

    The passphrase is compared as typed, after NFC normalisation (so the same
    letters typed on macOS, which composes differently, still match).
    ``entropy`` (n -> n random bytes) is for tests; spake2 uses os.urandom by default."""

    def __init__(self, side: Side, passphrase: str, room: str, client_nonce: bytes, server_nonce: bytes,
                 entropy: Callable[[int], bytes] | None = None) -> None:
        pw = unicodedata.normalize("NFC", passphrase).encode("utf-8")
        id_a, id_b = identities(room, client_nonce, server_nonce)
        kind = spake2.SPAKE2_A if side is Side.CLIENT else spake2.SPAKE2_B
        extra = {} if entropy is None else {"entropy_f": entropy}
        self._spake = kind(pw, idA=id_a, idB=id_b, **extra)
        self.message: bytes = self._spake.start()

    def finish(self, peer_message: bytes) -> bytes:
        """The 32-byte PAKE key, or :class:`HandshakeError` for a message that is
        malformed, from the same side, or our own reflected. Once only."""
        if not isinstance(peer_message, bytes) or len(peer_message) != PAKE_MESSAGE_LEN:
            raise HandshakeError("a SPAKE2 message is 33 bytes")
        try:
            return self._spake.finish(peer_message)
        except spake2.spake2.OnlyCallFinishOnce:
            raise
        except (spake2.spake2.SPAKEError, NotOnCurve, ValueError, AssertionError, TypeError):
            raise HandshakeError("unusable SPAKE2 message") from None
