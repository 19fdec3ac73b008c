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
HELD_MAX = 64               # validated HELLOs waiting for the handshake rate, in arrival order...
HOLD_FOR = 5.0              # ...each at most this long (its client keeps asking meanwhile)
# Key agreements between two sends (~0.3 ms each), whatever burst the operator allows
# (--handshake-burst, 3 by default): a burst of 50 run back to back held the socket
# thread ~15 ms while members' lines waited; the rest are held and run after the next
# send, with the sockets read between.
AGREEMENTS_PER_TURN = 4
# Joins confirmed between two sends (a handshake's first sealed packet: ~50 µs each, the
# member let in and told to the room). 64 clients sending theirs at once held the socket
# thread ~2.6 ms; the rest wait, unopened and in order, for the next turns.
CONFIRMS_PER_TURN = 8
DEFERRED_EACH = 4           # sealed datagrams kept per address meanwhile; more are dropped


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
        self.sessions: set[bytes] = set()          # their session ids (a new one must differ)
        self._agreements = TokenBucket(limits.handshake_rate, limits.handshake_burst, now)
        # SPAKE2 runs ~9 ms each on the socket thread: at most two back to back, so a
        # burst of them delays members' lines by ~20 ms, not by a whole second's worth.
        self._pakes = TokenBucket(limits.locked_handshake_rate, PAKE_BURST, now)
        self._guesses: dict[str, TokenBucket] = {}
        # HELLOs that came while no key agreement could run: answered in turn as the
        # rate allows, instead of dropped. Dropped, each client tried again on its own
        # backoff while the bucket, capped at its burst, filled and overflowed between
        # tries: 150 joining at once took ~10 s to get in at 50 a second.
        self.held: dict[Addr, tuple[object, float]] = {}
        self._this_turn = 0                        # key agreements since the last send
        self._confirms = 0                         # joins confirmed since the last send
        self.deferred: dict[Addr, list[bytes]] = {}   # sealed datagrams of joins past that cap

    def turn_over(self) -> None:
        """The turn's datagrams are going out: the next turn may run its own agreements."""
        self._this_turn = 0
        self._confirms = 0

    def may_confirm(self) -> bool:
        return self._confirms < CONFIRMS_PER_TURN

    def defer(self, addr: Addr, data: bytes) -> bool:
        """Keep a sealed datagram of a pending join for a later turn, behind any
        already kept for ``addr``; False (not kept) past DEFERRED_EACH."""
        kept = self.deferred.setdefault(addr, [])
        if len(kept) >= DEFERRED_EACH:
            return False
        kept.append(data)
        return True

    def take_deferred(self) -> list[tuple[Addr, list[bytes]]]:
        """The kept datagrams of as many addresses as may be confirmed this turn, oldest first."""
        out = []
        while self.deferred and len(out) < CONFIRMS_PER_TURN - self._confirms:
            addr = next(iter(self.deferred))
            out.append((addr, self.deferred.pop(addr)))
        return out

    def __len__(self) -> int:
        return len(self.by_addr)

    def at(self, addr: Addr) -> Pending | None:
        return self.by_addr.get(addr)

    def room_for(self, addr: Addr, locked: bool, now: float) -> str | None:
        """May a new handshake from ``addr`` run now? None if so (and its cost is
        taken), else the counter that says why not."""
        if addr not in self.by_addr and len(self.by_addr) >= self.limits.max_pending:
            return "pending_full"
        if self._this_turn >= AGREEMENTS_PER_TURN:
            return "handshake_limited"
        if locked and not _has_token(self._pakes, now):     # looked at first: no agreement wasted
            return "handshake_limited"
        if self._agreements.take(now):
            return "handshake_limited"
        if locked:
            self._pakes.take(now)
        self._this_turn += 1
        return None

    def may_run(self, now: float, locked: bool) -> bool:
        """May a new handshake run now: a key agreement, and in a locked room a SPAKE2
        run too? (Looks only.) A locked room's flood is held back by the SPAKE2 rate,
        with key agreements to spare: asking only for those let every HELLO of it be
        decoded and judged."""
        return self._this_turn < AGREEMENTS_PER_TURN and _has_token(self._agreements, now) and \
            (not locked or _has_token(self._pakes, now))

    def hold(self, addr: Addr, item: object, now: float) -> bool:
        """Keep ``item`` (a judged HELLO) until a key agreement may run for it; False
        when the queue is full. Asked again, an address keeps its place."""
        if addr not in self.held and len(self.held) >= HELD_MAX:
            return False
        self.held[addr] = (item, self.held[addr][1] if addr in self.held else now + HOLD_FOR)
        return True

    def may_hold(self) -> bool:
        return len(self.held) < HELD_MAX

    def holds(self, addr: Addr, now: float) -> bool:
        """Is a HELLO from ``addr`` held, and not yet forgotten?"""
        item = self.held.get(addr)
        return item is not None and now < item[1]

    def next_release(self, locked: bool) -> float | None:
        """When the next held HELLO may go on (None: none held); in a locked room
        it also waits for a SPAKE2 run. Deferred confirmations are due at once."""
        if self.deferred:
            return 0.0
        if not self.held:
            return None
        at = _token_at(self._agreements)
        return max(at, _token_at(self._pakes)) if locked else at

    def release(self, now: float, locked: bool) -> list[tuple[Addr, object]]:
        """The held HELLOs a key agreement (and in a locked room a SPAKE2 run) may
        now run for, oldest first (their ``room_for`` takes it); the ones held too
        long are forgotten."""
        free = min(_tokens(self._agreements, now), AGREEMENTS_PER_TURN - self._this_turn)
        if locked:
            free = min(free, _tokens(self._pakes, now))
        out: list[tuple[Addr, object]] = []
        for addr in list(self.held):
            item, until = self.held[addr]
            if now >= until:
                del self.held[addr]
            elif len(out) < free:
                del self.held[addr]
                out.append((addr, item))
        return out

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
        if old is not None:
            self.sessions.discard(old.session)
            self.deferred.pop(addr, None)          # sealed with the keys it replaces
        self.by_addr[addr] = p
        self.sessions.add(p.session)
        return old

    def confirmed(self, addr: Addr) -> Pending | None:
        """The client proved its keys: the handshake is done, its attempt given back."""
        p = self.by_addr.pop(addr, None)
        if p is not None:
            self.sessions.discard(p.session)
            self._confirms += 1
        if p is not None and p.locked:
            bucket = self._guesses.get(addr[0])
            if bucket is not None:
                bucket.tokens = min(bucket.burst, bucket.tokens + 1.0)
        return p

    def discard(self, addr: Addr) -> None:
        self.deferred.pop(addr, None)
        p = self.by_addr.pop(addr, None)
        if p is not None:
            self.sessions.discard(p.session)

    def expire(self, now: float) -> int:
        """Forget the handshakes never confirmed (a wrong passphrase, a client gone); how many."""
        gone = [a for a, p in self.by_addr.items() if now >= p.until]
        for a in gone:
            self.sessions.discard(self.by_addr.pop(a).session)
            self.deferred.pop(a, None)
        for host in [h for h, b in self._guesses.items() if b.tokens + (now - b.stamp) * b.rate >= b.burst]:
            del self._guesses[host]
        return len(gone)


def _tokens(b: TokenBucket, now: float) -> int:
    """Whole tokens ``b`` holds at ``now`` (looks only)."""
    return int(min(b.burst, b.tokens + max(0.0, now - b.stamp) * b.rate))


def _has_token(b: TokenBucket, now: float) -> bool:
    return min(b.burst, b.tokens + max(0.0, now - b.stamp) * b.rate) >= 1.0


def _token_at(b: TokenBucket) -> float:
    """When ``b`` next holds a whole token."""
    return b.stamp + max(0.0, (1.0 - b.tokens) / b.rate)
