"""The client's side of joining: HELLO with retries, the token, the first round trips.

The server answers a first HELLO with a CHALLENGE (a token); the client repeats
the HELLO with it at once and then, if nothing comes, with backoff. Each answer
to a HELLO that went only once times the path unambiguously, so the session
starts with a real RTT sample instead of RFC 6298's initial 1 s.
"""
from __future__ import annotations

from typing import Callable

from .wire import HELLO_FIRST_RETRY, Challenge, Hello, encode

HELLO_MAX_RETRY = 2.0          # while connecting
RECONNECT_MAX_RETRY = 5.0      # while trying to get back in
RESUME_FIRST_RETRY = 0.5


class Joiner:
    __slots__ = ("_randbytes", "nonce", "token", "resume", "due", "_retry", "_sent", "rtts")

    def __init__(self, randbytes: Callable[[int], bytes]) -> None:
        self._randbytes = randbytes
        self.nonce = b""
        self.token = b""
        self.resume = b""
        self.due: float | None = None          # when the next HELLO goes (None: not joining)
        self._retry = HELLO_FIRST_RETRY
        self._sent: list[float] = []           # when each HELLO with the current token went
        self.rtts: list[float] = []            # round trips timed unambiguously

    def start(self, now: float, resume: bytes = b"") -> None:
        """Begin (again): a fresh nonce, no token; ``resume`` a session id to ask back."""
        self.nonce = self._randbytes(8)
        self.token = b""
        self._sent = []
        self.rtts = []
        self.resume = resume
        self.due = now
        self._retry = RESUME_FIRST_RETRY if resume else HELLO_FIRST_RETRY

    def hello(self, name: str, now: float, reconnecting: bool) -> bytes | None:
        """The HELLO to send now, if one is due."""
        if self.due is None or now < self.due:
            return None
        self._sent.append(now)                 # its answer times the path if it went once
        self.due = now + self._retry
        self._retry = min(RECONNECT_MAX_RETRY if reconnecting else HELLO_MAX_RETRY, self._retry * 2)
        return encode(Hello(self.nonce, name, self.token, self.resume))

    def challenged(self, p: Challenge, now: float) -> None:
        """Take the token and answer at once."""
        if p.token != self.token:
            if len(self._sent) == 1 and not self.token:     # HELLO -> CHALLENGE, sent once
                self.rtts.append(now - self._sent[0])
            self._sent = []
        self.token = p.token
        self.due = now

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
