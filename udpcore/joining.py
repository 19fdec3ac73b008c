"""The client's side of joining: HELLO with retries, the token, the keys, the first round trips.

The server answers a first HELLO with a CHALLENGE (a token, and whether the
room is locked); the client repeats the HELLO with it at once, now with its
SPAKE2 message when the room is locked and, when resuming, the proof that it
holds the session's keys; then, if nothing comes, with backoff. The WELCOME's
confirmation is checked before anything is believed (:mod:`udpcore.keying`).
Each answer to a HELLO that went only once times the path unambiguously, so the
session starts with a real RTT sample instead of RFC 6298's initial 1 s.
"""
from __future__ import annotations

import hmac
from typing import Callable

from .errors import ChatError, HandshakeError, NotLocked, PassphraseNeeded
from .keying import MAX_TOKENS, ClientKeying, client_resume_proof, server_resume_proof
from .protection import KeyShare, SessionKeys
from .wire import HELLO_FIRST_RETRY, Challenge, Hello, Welcome, encode

HELLO_MAX_RETRY = 2.0          # while connecting
RECONNECT_MAX_RETRY = 5.0      # while trying to get back in
RESUME_FIRST_RETRY = 0.5


class Joiner:
    __slots__ = ("_randbytes", "nonce", "token", "resume", "due", "_retry", "_sent", "rtts", "passphrase",
                 "keying", "room", "_pake", "_proof", "_answered")

    def __init__(self, randbytes: Callable[[int], bytes], passphrase: str = "") -> None:
        self._randbytes = randbytes
        self.passphrase = passphrase
        self.nonce = b""
        self.token = b""
        self.resume: tuple[bytes, SessionKeys] | None = None
        self.keying: ClientKeying | None = None
        self.room = ""                         # the room's name, as its CHALLENGE gave it
        self._pake = b""
        self._proof = b""
        self._answered: list[bytes] = []       # the tokens this handshake answered, oldest first
        self.due: float | None = None          # when the next HELLO goes (None: not joining)
        self._retry = HELLO_FIRST_RETRY
        self._sent: list[float] = []           # when each HELLO with the current token went
        self.rtts: list[float] = []            # round trips timed unambiguously

    def start(self, now: float, resume: tuple[bytes, SessionKeys] | None = None) -> None:
        """Begin (again): a fresh nonce and key, no token; ``resume`` the session
        (id and keys) to ask back."""
        self.nonce = self._randbytes(8)
        self.token = b""
        self._sent = []
        self.rtts = []
        self.resume = resume
        self.keying = ClientKeying(self.passphrase, KeyShare(self._randbytes(32)))
        self._answered: list[bytes] = []       # the tokens this handshake answered, oldest first
        self._pake = self._proof = b""
        self.due = now
        self._retry = RESUME_FIRST_RETRY if resume else HELLO_FIRST_RETRY

    def hello(self, name: str, now: float, reconnecting: bool) -> bytes | None:
        """The HELLO to send now, if one is due."""
        if self.due is None or now < self.due:
            return None
        self._sent.append(now)                 # its answer times the path if it went once
        # Jittered, 1-1.5x (never sooner: the server times the path by it, HELLO_FIRST_RETRY):
        # a class whose clients all try again at the same instants (150 joining at once,
        # a server restarted under them) got only the handshake burst in per instant,
        # and most of them gave up as if the server were unreachable.
        self.due = now + self._retry * (1.0 + int.from_bytes(self._randbytes(2), "big") / 131072)
        self._retry = min(RECONNECT_MAX_RETRY if reconnecting else HELLO_MAX_RETRY, self._retry * 2)
        assert self.keying is not None
        return encode(Hello(self.nonce, name, self.token, self._proof, self.keying.share.public, self._pake))

    def challenged(self, p: Challenge, now: float) -> ChatError | None:
        """Take the token and answer at once; or, when we cannot join this room as
        it is (locked and no passphrase; open and we hold one), say why."""
        assert self.keying is not None
        if p.locked and not self.passphrase:
            return PassphraseNeeded(p.room)
        if self.passphrase and not p.locked:
            # Refused rather than ignored: otherwise anyone who answers for the
            # server could strip the lock and read what we say.
            return NotLocked(p.room)
        if p.token != self.token:
            if len(self._sent) == 1 and not self.token:     # HELLO -> CHALLENGE, sent once
                self.rtts.append(now - self._sent[0])
            self._sent = []
        self.token = p.token
        if p.token not in self._answered:
            self._answered = [*self._answered[-(MAX_TOKENS - 1):], p.token]
        self.room = p.room
        self._pake = self.keying.challenged(p.locked, p.room, self.nonce, p.token)
        if self.resume is not None:
            self._proof = client_resume_proof(self.resume[1], self.resume[0], self.nonce, p.token)
        self.due = now
        return None

    def keys_for(self, p: Welcome) -> SessionKeys:
        """The keys a WELCOME brings us (or, resumed, the session's own), once its
        confirmation checks; HandshakeError when it does not (forged, or the wrong passphrase)."""
        if p.resumed:
            if self.resume is None or self.resume[0] != p.session:
                raise HandshakeError("a resumed WELCOME for a session we did not ask back")
            keys = self.resume[1]
            for token in reversed(self._answered):      # the WELCOME answers one of the tokens we answered
                if hmac.compare_digest(p.confirm, server_resume_proof(keys, p.session, self.nonce, token)):
                    return keys
            raise HandshakeError("the server's resume proof does not check")
        assert self.keying is not None
        keys, _token = self.keying.welcomed_any(p.public, p.pake, p.confirm, self.nonce, p.session)
        return keys

    def welcomed(self, now: float) -> list[float]:
        """Joined: stop sending HELLO; the round trips the handshake timed."""
        self.due = None
        if len(self._sent) == 1 and self.token:             # HELLO with token -> WELCOME
            self.rtts.append(now - self._sent[0])
        return self.rtts

    def ask_again(self, now: float) -> None:
        """We were welcomed but the WELCOME was lost (DATA came first): HELLO again now."""
        if self.token:
            self.due = now
