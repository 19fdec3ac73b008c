"""One deadline per member, in a heap: the server's retransmission timers.

A member's pending deadline is ``mem.timer_at``; arming it sooner pushes a new
entry and leaves the later one stale (skipped when it surfaces), so arming is
O(log n) and nothing is searched.
"""
from __future__ import annotations

import heapq
from collections.abc import Iterator

from .roster import Member


class MemberTimers:
    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Member]] = []
        self._tiebreak = 0

    def next_at(self) -> float | None:
        return self._heap[0][0] if self._heap else None

    def arm(self, mem: Member, at: float) -> None:
        """Make ``mem``'s timer fire by ``at`` (a later pending one is left stale)."""
        if mem.timer_at is None or at < mem.timer_at:
            self.schedule(mem, at)

    def schedule(self, mem: Member, at: float) -> None:
        mem.timer_at = at
        self._tiebreak += 1
        heapq.heappush(self._heap, (at, self._tiebreak, mem))

    def due(self, now: float) -> Iterator[Member]:
        """Pop every member whose current deadline is ``now`` or earlier."""
        heap = self._heap
        while heap and heap[0][0] <= now:
            at, _, mem = heapq.heappop(heap)
            if mem.timer_at == at:           # else a stale entry
                mem.timer_at = None
                yield mem
