"""Stateless address-validation tokens (like QUIC Retry and DTLS cookies).

The server answers a first HELLO with a token that is a keyed hash of the
client's address and the time; only a HELLO that echoes a fresh token from the
same address makes the server keep state for it. Nothing is stored per token.
"""
from __future__ import annotations

import hashlib
import hmac
import struct

TOKEN_LIFETIME = 30.0   # seconds a token is accepted after it was made
_TIME = struct.Struct("!I")
_MAC_LEN = 16


class TokenMinter:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def _mac(self, addr: tuple[str, int], stamp: int) -> bytes:
        msg = f"{addr[0]}|{addr[1]}|".encode() + _TIME.pack(stamp)
        return hmac.new(self._key, msg, hashlib.sha256).digest()[:_MAC_LEN]

    def mint(self, addr: tuple[str, int], now: float) -> bytes:
        stamp = int(now * 1000) & 0xFFFFFFFF      # milliseconds: the age is also an RTT sample
        return _TIME.pack(stamp) + self._mac(addr, stamp)

    def check(self, token: bytes, addr: tuple[str, int], now: float) -> bool:
        if len(token) != _TIME.size + _MAC_LEN:
            return False
        (stamp,) = _TIME.unpack(token[:_TIME.size])
        if self.age(token, now) > TOKEN_LIFETIME:
            return False
        return hmac.compare_digest(token[_TIME.size:], self._mac(addr, stamp))

    @staticmethod
    def age(token: bytes, now: float) -> float:
        """Seconds since a (checked) token was made: CHALLENGE out to HELLO back."""
        (stamp,) = _TIME.unpack(token[:_TIME.size])
        return ((int(now * 1000) - stamp) & 0xFFFFFFFF) / 1000
