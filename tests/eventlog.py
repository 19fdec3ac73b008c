"""What a transport put on its queue, kept in order, for tests over loopback."""
from __future__ import annotations

import queue
import time

from udpcore import events as ev


class Log:
    """Every event a transport put on its queue, in order, with when it was seen."""

    def __init__(self, q: queue.Queue) -> None:
        self.q = q
        self.events: list[ev.Event] = []
        self.seen_at: list[float] = []        # time.monotonic() when each event was taken

    def pump(self, wait: float = 0.0) -> None:
        """Take everything queued; with ``wait``, first wait that long for one."""
        try:
            self._add(self.q.get(timeout=wait) if wait > 0 else self.q.get_nowait())
        except queue.Empty:
            return
        while True:
            try:
                self._add(self.q.get_nowait())
            except queue.Empty:
                return

    def _add(self, e: ev.Event) -> None:
        self.events.append(e)
        self.seen_at.append(time.monotonic())

    def of(self, cls) -> list:
        return [e for e in self.events if isinstance(e, cls)]

    def room_lines(self) -> list[ev.RoomLine]:
        return [e for e in self.of(ev.RoomLine) if e.private_to is None]

    def member_lines(self, members=("alice", "bob")) -> list[tuple[int, str, str]]:
        return [(e.seq, e.sender, e.text) for e in self.of(ev.RoomLine) if e.sender in members]


def wait_until(logs, cond, timeout: float, what) -> None:
    """Pump ``logs`` until ``cond()``; ``what`` (a string or a function giving
    one) says what was awaited when the time runs out."""
    logs = list(logs)
    deadline = time.monotonic() + timeout
    while True:
        for log in logs:
            log.pump()
        if cond():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for "
                                 f"{what() if callable(what) else what}")
        logs[0].pump(wait=0.02) if logs else time.sleep(0.02)
