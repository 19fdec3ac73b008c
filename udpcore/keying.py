"""The cryptographic half of the handshake, for both ends: key agreement, PAKE, confirmation.

Joining (after the address token, so it costs a round trip and stays within the
amplification budget)::

    client                                                     server
    HELLO(nonce, name, public_c [, pake_A | resume proof]) ─▶
                        ◀─ WELCOME(session, public_s [, pake_B], confirm = server_finished)
    SEALED(...) ─▶       (the first packet that opens under c2s admits the member)

``server_nonce`` is the address token the HELLO echoes: fresh, made by the
server, and known to both before the client's PAKE message is made. In a
locked room the SPAKE2 key joins the X25519 secret in the key schedule, so a
wrong passphrase yields other keys: the client sees the server's confirmation
fail, the server never sees a packet that opens.

Resuming proves possession of the session's keys (HMAC under ``resume_key``
over the session id, the HELLO's nonce and the fresh token); the WELCOME of a
resume proves the server's the same way under another label.
"""
from __future__ import annotations

from typing import NamedTuple

from .errors import HandshakeError
from .pake import RoomPake
from .protection import Binding, KeyShare, SessionKeys, Side

_WELCOME_LABEL = b"welcome "      # the server's resume proof covers other bytes than the client's


def resume_nonce(hello_nonce: bytes, token: bytes) -> bytes:
    """What a resume proof is bound to: fresh for the server, since it made the token."""
    return hello_nonce + token


def client_resume_proof(keys: SessionKeys, session: bytes, hello_nonce: bytes, token: bytes) -> bytes:
    return keys.resume_proof(session, resume_nonce(hello_nonce, token))


def server_resume_proof(keys: SessionKeys, session: bytes, hello_nonce: bytes, token: bytes) -> bytes:
    return keys.resume_proof(session, _WELCOME_LABEL + resume_nonce(hello_nonce, token))


class ServerKeys(NamedTuple):
    keys: SessionKeys
    public: bytes          # goes in the WELCOME
    pake: bytes            # the server's SPAKE2 message (locked rooms), else empty
    confirm: bytes         # server_finished


def server_handshake(client_public: bytes, client_pake: bytes, passphrase: str, room: str,
                     hello_nonce: bytes, token: bytes, session: bytes, share: KeyShare | None = None) -> ServerKeys:
    """The server's keys for a validated HELLO. Raises HandshakeError for a
    low-order key or an unusable SPAKE2 message; with a passphrase, the HELLO
    must bring a SPAKE2 message (the caller refuses it as LOCKED otherwise)."""
    pake_msg, pake_key = b"", b""
    if passphrase:
        pake = RoomPake(Side.SERVER, passphrase, room, hello_nonce, token)
        pake_msg, pake_key = pake.message, pake.finish(client_pake)
    return server_keys(client_public, pake_msg, pake_key, hello_nonce, token, session, share)


def server_keys(client_public: bytes, pake_msg: bytes, pake_key: bytes, hello_nonce: bytes, token: bytes,
                session: bytes, share: KeyShare | None = None) -> ServerKeys:
    """The server's keys once its SPAKE2 (if any) has run, here or in a worker
    (:mod:`udpcore.pake_jobs`). Raises HandshakeError for a low-order key."""
    share = share or KeyShare.generate()
    shared = share.shared(client_public)
    keys = SessionKeys.derive(shared, Binding(hello_nonce, token, client_public, share.public, session), pake_key)
    return ServerKeys(keys, share.public, pake_msg, keys.finished(Side.SERVER))


MAX_TOKENS = 4          # tokens one handshake answers (a slow server may send a CHALLENGE per HELLO)


class ClientKeying:
    """The client's side of one handshake: a fresh X25519 key, and a SPAKE2 side
    per token answered once the room says it is locked.

    A server slower than our first retry may send two CHALLENGEs, each with its
    own token; we answer both, and its WELCOME answers one of them. So each
    answered token keeps its own SPAKE2 side, and :meth:`welcomed` tries each."""

    def __init__(self, passphrase: str = "", share: KeyShare | None = None) -> None:
        self.passphrase = passphrase
        self.share = share or KeyShare.generate()
        self._pakes: dict[tuple[bytes, bytes], RoomPake | None] = {}     # (nonce, token) -> its side

    def challenged(self, locked: bool, room: str, hello_nonce: bytes, token: bytes) -> bytes:
        """Our SPAKE2 message for this token (empty for an open room). The caller has
        already refused a locked room without a passphrase, and a passphrase for an open room."""
        key = (hello_nonce, token)
        if key not in self._pakes:
            if len(self._pakes) >= MAX_TOKENS:
                del self._pakes[next(iter(self._pakes))]             # the oldest answer
            self._pakes[key] = RoomPake(Side.CLIENT, self.passphrase, room, hello_nonce, token) if locked else None
        pake = self._pakes[key]
        return b"" if pake is None else pake.message

    def welcomed(self, server_public: bytes, server_pake: bytes, confirm: bytes, hello_nonce: bytes,
                 token: bytes, session: bytes) -> SessionKeys:
        """The session keys for a WELCOME answering ``token``, once the server's
        confirmation checks; HandshakeError otherwise."""
        shared = self.share.shared(server_public)
        pake = self._pakes.get((hello_nonce, token))
        if (pake is None) != (not server_pake):
            raise HandshakeError("SPAKE2 on one side only")          # a lock added or stripped
        pake_key = b"" if pake is None else pake.finish(server_pake)   # once: a failure ends a locked join
        keys = SessionKeys.derive(shared, Binding(hello_nonce, token, self.share.public, server_public, session),
                                  pake_key)
        if not keys.check_finished(Side.SERVER, confirm):
            raise HandshakeError("the server's confirmation does not check")
        return keys

    def welcomed_any(self, server_public: bytes, server_pake: bytes, confirm: bytes, hello_nonce: bytes,
                     session: bytes) -> tuple[SessionKeys, bytes]:
        """The keys and the token, for whichever token we answered the WELCOME
        answers (the newest first; none answered: the empty token)."""
        tokens = [t for n, t in self._pakes if n == hello_nonce] or [b""]
        for token in reversed(tokens):
            try:
                return self.welcomed(server_public, server_pake, confirm, hello_nonce, token, session), token
            except HandshakeError:
                continue
        raise HandshakeError("the server's confirmation does not check for any token we answered")
