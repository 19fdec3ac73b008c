"""Handshakes the server has answered but not yet seen confirmed, and the rates that bound them.

A validated HELLO gets its WELCOME at once, but the member is let in only when
its first SEALED packet opens under the new keys (which, in a locked room,
needs the right passphrase): until then nothing is announced, and nothing is
sent but the WELCOME. Everything here has a cap: pending handshakes (one per
address, ``max_pending`` in all, ``PENDING_LIFETIME`` each), key agreements a
second, SPAKE2 runs a second, and unconfirmed passphrase attempts per IP
address (the online-guessing limit: a confirmed join gives its attempt back).
"""
from __future__ import annotations

from typing import NamedTuple

from .limits import Limits
from .ratelimit import TokenBucket
from .sealing import Seal
from .wire import Hello

Addr = tuple[str, int]
PENDING_LIFETIME = 10.0     # the client's whole handshake gets CONNECT_TIMEOUT; after that it is gone
PAKE_BURST = 2              # SPAKE2 runs at once, whatever the rate
GUESS_HOSTS = 1024          # addresses whose attempts are tracked at once; beyond, locked joins wait


class Pending(NamedTuple):
    hello: Hello
    session: bytes
    seal: Seal
    welcome: bytes           # sent again, the same bytes, if the client repeats its HELLO
    until: float
    rtt: float | None
    locked: bool             # a passphrase attempt: counted against its IP address until confirmed


class PendingJoins:
    def __init__(self, limits: Limits, now: float) -> None:
        self.limits = limits
        self.by_addr: dict[Addr, Pending] = {}
        self._agreements = TokenBucket(limits.handshake_rate, limits.handshake_burst, now)
        # SPAKE2 runs ~9 ms each on the socket thread: at most two back to back, so a
        # burst of them delays members' lines by ~20 ms, not by a whole second's worth.
        self._pakes = TokenBucket(limits.locked_handshake_rate, PAKE_BURST, now)
        self._guesses: dict[str, TokenBucket] = {}

    def __len__(self) -> int:
        return len(self.by_addr)

    def at(self, addr: Addr) -> Pending | None:
        return self.by_addr.get(addr)

    def room_for(self, addr: Addr, locked: bool, now: float) -> str | None:
        """May a new handshake from ``addr`` run now? None if so (and its cost is
        taken), else the counter that says why not."""
        if addr not in self.by_addr and len(self.by_addr) >= self.limits.max_pending:
            return "pending_full"
        if self._agreements.take(now):
            return "handshake_limited"
        if locked and self._pakes.take(now):
            return "handshake_limited"
        return None

    def may_agree(self, now: float) -> bool:
        """Is a key agreement allowed now? (Looks only; :meth:`room_for` takes it.)"""
        b = self._agreements
        return min(b.burst, b.tokens + max(0.0, now - b.stamp) * b.rate) >= 1.0

    def guess_wait(self, host: str, now: float) -> float:
        """Seconds before ``host`` may try a passphrase again; 0.0 takes one attempt."""
        bucket = self._guesses.get(host)
        if bucket is None:
            if len(self._guesses) >= GUESS_HOSTS:
                return 1.0 / self.limits.guess_rate
            lim = self.limits
            bucket = self._guesses[host] = TokenBucket(lim.guess_rate, lim.guess_burst, now)
        return bucket.take(now)

    def add(self, addr: Addr, p: Pending) -> Pending | None:
        """Hold ``p``; returns the handshake it replaces at that address, if any."""
        old = self.by_addr.pop(addr, None)
        self.by_addr[addr] = p
        return old

    def confirmed(self, addr: Addr) -> Pending | None:
        """The client proved its keys: the handshake is done, its attempt given back."""
        p = self.by_addr.pop(addr, None)
        if p is not None and p.locked:
            bucket = self._guesses.get(addr[0])
            if bucket is not None:
                bucket.tokens = min(bucket.burst, bucket.tokens + 1.0)
        return p

    def discard(self, addr: Addr) -> None:
        self.by_addr.pop(addr, None)

    def expire(self, now: float) -> int:
        """Forget the handshakes never confirmed (a wrong passphrase, a client gone); how many."""
        gone = [a for a, p in self.by_addr.items() if now >= p.until]
        for a in gone:
            del self.by_addr[a]
        for host in [h for h, b in self._guesses.items() if b.tokens + (now - b.stamp) * b.rate >= b.burst]:
            del self._guesses[host]
        return len(gone)
