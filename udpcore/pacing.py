"""The client's own pace: lines wait here until the server's rate lets them go.

The server refuses a member's line over its token bucket (LINE_REFUSED), and
tells the member the bucket's size in LIMITS right after WELCOME. A client that
keeps a bucket of its own, a little smaller and slower than the server's, never
has a line refused for going too fast, however fast a pipe feeds it: lines over
it wait in :class:`Pacer` (bounded by the caller) and go on the engine's timer.
Pure: the caller passes ``now``.
"""
from __future__ import annotations

from collections import deque

from .ratelimit import TokenBucket

# Our bucket is this much slower than the server's, and holds a quarter less
# (BURST_SLACK): lines delayed together on the way (a loss, then a burst of
# retransmissions) still find tokens in the server's bucket when they arrive.
RATE_SLACK = 0.95
BURST_SLACK = 0.25
HOLD_MAX = 1.0     # a fresh session waits at most this long for LIMITS before lines go unpaced


class Pacer:
    """Encoded SAY and PRIVATE messages waiting for a token, oldest first."""

    __slots__ = ("bucket", "waiting", "holding", "_debt", "_next")
    # ``holding`` is None, or until when lines wait for LIMITS on a fresh session.

    def __init__(self) -> None:
        self.bucket: TokenBucket | None = None     # None: no LIMITS yet, nothing is paced
        self.waiting: deque[bytes] = deque()
        self.holding: float | None = None         # a fresh session, LIMITS not yet come
        self._debt = 0                            # NICK and WHO sent: the server counted them
        self._next: float | None = None           # when the first waiting line may go

    def __len__(self) -> int:
        return len(self.waiting)

    @property
    def active(self) -> bool:
        """Lines must queue here (paced, or held until the server says its pace)."""
        return self.bucket is not None or self.holding is not None or bool(self.waiting)

    def limits(self, lines_per_minute: int, burst: int, now: float) -> None:
        """The server's LIMITS. A rate of 0 (a rate rounded down on the wire) is
        taken as one line a minute: a bucket that never refills would wait forever."""
        rate = max(1, lines_per_minute) / 60.0 * RATE_SLACK
        size = max(1.0, burst - burst * BURST_SLACK)
        old = self.bucket
        self.bucket = TokenBucket(rate, size, now)
        if old is not None:                       # a resume: what was used stays used
            self.bucket.tokens = min(size, old.tokens + max(0.0, now - old.stamp) * old.rate)
        self.holding = None
        self._next = None

    def hold(self, now: float) -> None:
        """A fresh session: its LIMITS comes first on the stream; wait for it (a while)."""
        self.holding = now + HOLD_MAX

    def unhold(self) -> None:
        """The server spoke without LIMITS first: an older server that paces nobody."""
        self.holding = None
        self._next = None

    def charge(self) -> None:
        """A NICK or WHO went unpaced; the server's bucket counted it, so ours does too."""
        if self.bucket is not None:
            self._debt += 1

    def refused(self) -> None:
        """The server refused a line as too fast: its bucket is emptier than ours thinks."""
        if self.bucket is not None:
            self.bucket.tokens = min(self.bucket.tokens, 0.0)

    def take_at_once(self) -> bool:
        """A token for a line typed now, if one is there already (refill is counted
        only up to the last time we looked: never more than the server allows), and
        nothing waits before it: the line goes at once, in order with the rest."""
        b = self.bucket
        if self.waiting or self.holding is not None or self._debt or b is None:
            return b is None and self.holding is None and not self.waiting
        return b.take(b.stamp) == 0.0

    def due(self, now: float) -> list[bytes]:
        """The waiting lines that may go now, in order (all of them when not paced)."""
        if self.holding is not None and now >= self.holding:
            self.unhold()                         # no LIMITS came: nothing to pace by
        if self.holding is not None or not self.waiting:
            return []
        b = self.bucket
        if b is None:
            out = list(self.waiting)
            self.waiting.clear()
            return out
        while self._debt:
            if b.take(now):
                b.tokens -= 1.0                   # in debt: the next lines wait longer
            self._debt -= 1
        out = []
        while self.waiting:
            wait = b.take(now)
            if wait:
                self._next = now + wait
                return out
            out.append(self.waiting.popleft())
        self._next = None
        return out

    def next_at(self) -> float | None:
        """When :meth:`due` has something again (None: nothing waits on the clock)."""
        if not self.waiting:
            return None
        if self.holding is not None:
            return self.holding
        return self._next if self._next is not None else 0.0     # not yet asked: at once

    def drain_time(self, extra: int = 0) -> float:
        """Seconds until every waiting line (and ``extra`` more) can have gone."""
        b = self.bucket
        n = len(self.waiting) + extra + self._debt
        if b is None or n == 0:
            return 0.0
        return max(0.0, (n - b.tokens) / b.rate)
