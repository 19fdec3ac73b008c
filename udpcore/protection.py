"""Packet protection for member sessions: key agreement, key schedule, AEAD, key update.

Used by :mod:`udpcore.sealing` (every SEALED datagram) and :mod:`udpcore.keying`
(the handshake). Everything cryptographic is
``cryptography``'s: X25519, HKDF-SHA256, HMAC-SHA256 and ChaCha20-Poly1305;
this module only decides what goes in and what comes out. Pure like the rest of
udpcore: bytes in, bytes out, no clock, no sockets (the only randomness is
:meth:`KeyShare.generate`, which the caller may avoid by passing private bytes).

**Key agreement.** Each side makes an ephemeral :class:`KeyShare` per
handshake and sends its 32-byte public key; :meth:`KeyShare.shared` refuses a
peer key that gives the all-zero secret (a low-order point, RFC 7748 6.1).

**Key schedule** (:meth:`SessionKeys.derive`); ``lp(x)`` is one length byte
then ``x``, every label is ASCII::

    salt   = "udpchat session" || u8 version || u8 mode (0 open room, 1 locked)
             || lp(client_nonce) || lp(server_nonce)
             || lp(client_public) || lp(server_public) || lp(session_id)
    ikm    = x25519_shared (32) || pake_key (32 bytes when locked, else nothing)
    master = HKDF-SHA256(salt, ikm, info="udpchat master", L=32)
    c2s_0  = HKDF-Expand-SHA256(master, "udpchat c2s", 32)        client -> server traffic secret
    s2c_0  = HKDF-Expand-SHA256(master, "udpchat s2c", 32)        server -> client traffic secret
    resume = HKDF-Expand-SHA256(master, "udpchat resume", 32)     key of the resumption proof
    client_finished = HKDF-Expand-SHA256(master, "udpchat client finished", 32)
    server_finished = HKDF-Expand-SHA256(master, "udpchat server finished", 32)

and for each direction's traffic secret of generation ``n``::

    key_n    = HKDF-Expand-SHA256(secret_n, "udpchat key", 32)    ChaCha20-Poly1305 key
    iv_n     = HKDF-Expand-SHA256(secret_n, "udpchat iv", 12)
    secret_n+1 = HKDF-Expand-SHA256(secret_n, "udpchat key update", 32)

The two "finished" values are the key confirmations (TLS 1.3's Finished): each
side sends its own, compares the other's in constant time. They differ unless
both sides hold the same shared secret, the same PAKE key (the same passphrase)
and the same view of every bound input.

**Packets.** nonce = iv XOR the packet number left-padded to 12 bytes (TLS 1.3
5.3, QUIC); associated data = the clear header bytes as sent (the caller puts
the packet number and the key-phase bit in it). Packet numbers count up once
per session and direction, across key generations, and never exceed
:data:`MAX_PN` (32 bits on the wire); :class:`Sender` refuses a number that is
not above the last one it sealed, so no (key, nonce) pair is used twice.

**Key update.** A :class:`Sender` moves to the next generation after sealing
``update_after`` packets under one key (:data:`KEY_UPDATE_AFTER` by default):
the packet that reaches the count is the last of the old key. The key phase is
the generation's low bit, which the caller writes into the header
(:attr:`Sender.phase`, read before building each header). A :class:`Receiver`
tries the next generation's key when a packet shows the other phase and is
newer than the current generation's first packet; once it authenticates, the
previous key is kept for ``overlap`` more packets of the new phase (late,
reordered packets of the old phase still open), then dropped.
"""
from __future__ import annotations

import hmac as _hmac
from dataclasses import dataclass, fields
from enum import Enum

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as chmac
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF, HKDFExpand
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from .errors import DecryptError, HandshakeError, ReplayedPacket
from .replay import MIN_WIDTH, ReplayWindow
from .wire import VERSION

PUBLIC_LEN = 32             # X25519 public key, private key and shared secret
SECRET_LEN = 32
KEY_LEN = 32                # ChaCha20-Poly1305
IV_LEN = 12
TAG_LEN = 16
MAX_PN = 2**32 - 1          # the packet number is 32 bits on the wire; a session seals at most 2**32 packets
KEY_UPDATE_AFTER = 2**20    # packets under one key before the sender moves to the next
OVERLAP_PACKETS = 64        # packets of a new phase after which the receiver drops the old key
PAKE_KEY_LEN = 32           # spake2's key (SHA-256)


class Side(Enum):
    CLIENT = "client"
    SERVER = "server"


def _expand(secret: bytes, label: str, length: int) -> bytes:
    return HKDFExpand(hashes.SHA256(), length, b"udpchat " + label.encode("ascii")).derive(secret)


def traffic_keys(secret: bytes) -> tuple[bytes, bytes]:
    """The AEAD key and IV of a traffic secret."""
    return _expand(secret, "key", KEY_LEN), _expand(secret, "iv", IV_LEN)


def next_secret(secret: bytes) -> bytes:
    """The traffic secret of the next key generation."""
    return _expand(secret, "key update", SECRET_LEN)


def _lp(field: bytes) -> bytes:
    if len(field) > 255:
        raise ValueError("a bound field is longer than 255 bytes")
    return bytes([len(field)]) + field


class KeyShare:
    """One side's ephemeral X25519 key for one handshake (RFC 7748)."""

    def __init__(self, private: bytes) -> None:
        self._private = X25519PrivateKey.from_private_bytes(private)
        self.public = self._private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @classmethod
    def generate(cls) -> KeyShare:
        """A fresh key from cryptography's generator (the system's CSPRNG)."""
        key = X25519PrivateKey.generate()
        return cls(key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()))

    def shared(self, peer_public: bytes) -> bytes:
        """The shared secret with ``peer_public``; :class:`HandshakeError` for a
        key of the wrong length or a low-order point (all-zero secret)."""
        if not isinstance(peer_public, bytes) or len(peer_public) != PUBLIC_LEN:
            raise HandshakeError("an X25519 public key is 32 bytes")
        try:
            secret = self._private.exchange(X25519PublicKey.from_public_bytes(peer_public))
        except ValueError:          # OpenSSL refuses the all-zero result itself
            raise HandshakeError("low-order X25519 public key") from None
        if not any(secret):         # and so do we, whatever the backend does
            raise HandshakeError("low-order X25519 public key")
        return secret


@dataclass(frozen=True)
class Binding:
    """What the session keys are bound to: both sides must agree on every field."""

    client_nonce: bytes
    server_nonce: bytes
    client_public: bytes
    server_public: bytes
    session_id: bytes
    version: int = VERSION

    def salt(self, locked: bool) -> bytes:
        return (b"udpchat session" + bytes([self.version, int(locked)])
                + b"".join(_lp(getattr(self, f.name)) for f in fields(self) if f.name != "version"))


class PacketKey:
    """One direction's AEAD key and IV of one generation."""

    def __init__(self, key: bytes, iv: bytes) -> None:
        if len(key) != KEY_LEN or len(iv) != IV_LEN:
            raise ValueError("a packet key is 32 bytes and its IV 12")
        self._aead = ChaCha20Poly1305(key)
        self._iv = int.from_bytes(iv, "big")

    @classmethod
    def from_secret(cls, secret: bytes) -> PacketKey:
        return cls(*traffic_keys(secret))

    def nonce(self, pn: int) -> bytes:
        if not 0 <= pn <= MAX_PN:
            raise ValueError(f"packet number {pn} is outside 0..{MAX_PN}")
        return (self._iv ^ pn).to_bytes(IV_LEN, "big")

    def seal(self, pn: int, header: bytes, plaintext: bytes) -> bytes:
        """The ciphertext and 16-byte tag. The caller must never seal two packets with one ``pn``."""
        return self._aead.encrypt(self.nonce(pn), plaintext, header)

    def open(self, pn: int, header: bytes, ciphertext: bytes) -> bytes:
        """The plaintext, or :class:`DecryptError` for anything that does not authenticate."""
        if not isinstance(pn, int) or not 0 <= pn <= MAX_PN:
            raise DecryptError("packet number out of range")
        try:
            return self._aead.decrypt(self.nonce(pn), ciphertext, header)
        except (InvalidTag, ValueError, TypeError, OverflowError):
            raise DecryptError("packet does not authenticate") from None


class Sender:
    """One direction's sealing side: packet numbers only go up, keys update on a count."""

    def __init__(self, secret: bytes, update_after: int = KEY_UPDATE_AFTER) -> None:
        if update_after < 1:
            raise ValueError("update_after must be at least 1")
        self.update_after = update_after
        self.generation = 0
        self.next_pn = 0             # the lowest packet number the next seal may use
        self._secret = secret
        self._key = PacketKey.from_secret(secret)
        self._sealed = 0             # packets sealed under the current key

    @property
    def phase(self) -> int:
        """The key-phase bit the next packet's header must carry."""
        return self.generation & 1

    @property
    def exhausted(self) -> bool:
        """Every packet number has been used: the session needs a new handshake."""
        return self.next_pn > MAX_PN

    def seal(self, pn: int, header: bytes, plaintext: bytes) -> bytes:
        if pn < self.next_pn:
            raise ValueError(f"packet number {pn} already used (next is {self.next_pn})")
        if pn > MAX_PN:
            raise ValueError(f"packet number {pn} is past {MAX_PN}: a new handshake is needed")
        sealed = self._key.seal(pn, header, plaintext)
        self.next_pn = pn + 1
        self._sealed += 1
        if self._sealed >= self.update_after:
            self._secret = next_secret(self._secret)
            self._key = PacketKey.from_secret(self._secret)
            self.generation += 1
            self._sealed = 0
        return sealed


class Receiver:
    """One direction's opening side: anti-replay window, current/previous/next keys.

    Counts what it refuses (``failed``: did not authenticate; ``replayed``:
    duplicates and packets older than the window) for the engine's counters."""

    def __init__(self, secret: bytes, window: int = MIN_WIDTH, overlap: int = OVERLAP_PACKETS) -> None:
        if overlap < 0:
            raise ValueError("overlap is a count of packets")
        self.window = ReplayWindow(window)
        self.overlap = overlap
        self.generation = 0
        self._secret = secret
        self._key = PacketKey.from_secret(secret)
        self._first = 0                          # the current key's first packet (all older keys' are below)
        self._prev: PacketKey | None = None      # the previous generation, during the overlap
        self._prev_left = 0                      # packets of the current phase before it is dropped
        self._next: tuple[bytes, PacketKey] | None = None      # derived on first need
        self.opened = self.failed = self.replayed = 0

    @property
    def phase(self) -> int:
        return self.generation & 1

    def _next_key(self) -> tuple[bytes, PacketKey]:
        if self._next is None:
            secret = next_secret(self._secret)
            self._next = (secret, PacketKey.from_secret(secret))
        return self._next

    def open(self, pn: int, phase: int, header: bytes, ciphertext: bytes) -> bytes:
        """The plaintext of packet ``pn`` whose header shows key phase ``phase``.

        Raises :class:`DecryptError` (:class:`ReplayedPacket` for a duplicate or
        a packet behind the window); a refused packet changes nothing but the counts."""
        if not isinstance(pn, int) or not 0 <= pn <= MAX_PN or phase not in (0, 1):
            self.failed += 1
            raise DecryptError("packet number or key phase out of range")
        if not self.window.check(pn):
            self.replayed += 1
            raise ReplayedPacket(f"packet {pn} replayed or too old")
        if phase == self.phase:
            key, which = self._key, "current"
        elif self._prev is not None and pn < self._first:
            key, which = self._prev, "previous"
        else:
            key, which = self._next_key()[1], "next"
        try:
            plaintext = key.open(pn, header, ciphertext)
        except DecryptError:
            self.failed += 1
            raise
        self.window.mark(pn)
        self.opened += 1
        if which == "next":          # the peer has updated: follow, keep the old key a while
            old = self._key
            self._secret, self._key = self._next_key()
            self._next = None
            self._prev, self._prev_left = (old, self.overlap) if self.overlap > 0 else (None, 0)
            self.generation += 1
            self._first = pn
        elif which == "current" and self._prev is not None:
            self._prev_left -= 1
            if self._prev_left == 0:
                self._prev = None
        return plaintext


class SessionKeys:
    """Everything one handshake derives (see the module docstring for the exact derivation)."""

    def __init__(self, master: bytes) -> None:
        self.c2s = _expand(master, "c2s", SECRET_LEN)
        self.s2c = _expand(master, "s2c", SECRET_LEN)
        self.resume_key = _expand(master, "resume", SECRET_LEN)
        self._finished = {Side.CLIENT: _expand(master, "client finished", SECRET_LEN),
                          Side.SERVER: _expand(master, "server finished", SECRET_LEN)}

    @classmethod
    def derive(cls, shared: bytes, binding: Binding, pake_key: bytes = b"") -> SessionKeys:
        """Keys from the X25519 secret, bound to ``binding`` and, in a locked room, the SPAKE2 key."""
        if len(shared) != PUBLIC_LEN or len(pake_key) not in (0, PAKE_KEY_LEN):
            raise ValueError("the shared secret and the PAKE key are 32 bytes (no PAKE key: empty)")
        master = HKDF(hashes.SHA256(), SECRET_LEN, binding.salt(bool(pake_key)),
                      b"udpchat master").derive(shared + pake_key)
        return cls(master)

    def sender(self, side: Side, update_after: int = KEY_UPDATE_AFTER) -> Sender:
        """What ``side`` seals its packets with."""
        return Sender(self.c2s if side is Side.CLIENT else self.s2c, update_after)

    def receiver(self, side: Side, window: int = MIN_WIDTH, overlap: int = OVERLAP_PACKETS) -> Receiver:
        """What ``side`` opens its peer's packets with."""
        return Receiver(self.s2c if side is Side.CLIENT else self.c2s, window, overlap)

    def finished(self, side: Side) -> bytes:
        """The key confirmation ``side`` sends."""
        return self._finished[side]

    def check_finished(self, side: Side, received: bytes) -> bool:
        """Is ``received`` the confirmation ``side`` (the peer) must have sent? Constant time."""
        return isinstance(received, bytes) and _hmac.compare_digest(received, self._finished[side])

    def resume_proof(self, session_id: bytes, nonce: bytes) -> bytes:
        """HMAC-SHA256(resume_key, "udpchat resume" || lp(session_id) || lp(nonce)).

        ``nonce`` must be fresh for the server (the resuming HELLO's nonce and
        its address token), so a proof seen once cannot be replayed."""
        mac = chmac.HMAC(self.resume_key, hashes.SHA256())
        mac.update(b"udpchat resume" + _lp(session_id) + _lp(nonce))
        return mac.finalize()

    def verify_resume(self, session_id: bytes, nonce: bytes, proof: bytes) -> bool:
        """Constant time; False for anything but the proof of this session and nonce."""
        if not isinstance(proof, bytes) or len(session_id) > 255 or len(nonce) > 255:
            return False
        mac = chmac.HMAC(self.resume_key, hashes.SHA256())
        mac.update(b"udpchat resume" + _lp(session_id) + _lp(nonce))
        try:
            mac.verify(proof)
        except InvalidSignature:
            return False
        return True
