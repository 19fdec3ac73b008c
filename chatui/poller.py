"""The bridge from the socket thread to Tk: the transport's queue, polled with after().

Only the Tk main thread touches widgets; the socket thread only puts events on
a queue. Each tick drains at most ``cap`` events and hands them to the window
as one batch (so a burst becomes a few large inserts, not thousands of small
ones); it reschedules at once with after_idle while more wait, and after
``interval`` ms when the queue is empty. The after id is kept so close() can
cancel it before the transport goes away (as IDLE does).
"""
from __future__ import annotations

import queue
import time
import tkinter as tk
from typing import Callable


class QueuePoller:
    def __init__(self, widget: tk.Misc, source: "queue.Queue", handle: Callable[[list], None],
                 cap: int = 500, interval: int = 30) -> None:
        self.widget = widget
        self.source = source
        self.handle = handle
        self.cap = cap
        self.interval = interval
        self._after: str | None = None
        self.ticks = 0
        self.max_gap = 0.0                 # longest time between two ticks (for benchmarks)
        self._last = time.perf_counter()
        self._after = widget.after(0, self._tick)
        widget.bind("<Destroy>", self._destroyed, add="+")

    def _destroyed(self, event) -> None:
        if event.widget is self.widget:
            self.stop()

    def _tick(self) -> None:
        self._after = None
        now = time.perf_counter()
        self.max_gap = max(self.max_gap, now - self._last)
        self._last = now
        self.ticks += 1
        batch = []
        get = self.source.get_nowait
        try:
            for _ in range(self.cap):
                batch.append(get())
        except queue.Empty:
            pass
        try:
            if batch:
                self.handle(batch)
        finally:
            try:
                if self._after is None and self.widget.winfo_exists():
                    more = len(batch) == self.cap
                    self._after = (self.widget.after_idle(self._tick) if more
                                   else self.widget.after(self.interval, self._tick))
            except tk.TclError:
                pass                       # the window was closed while handling the batch

    def stop(self) -> None:
        if self._after is not None:
            try:
                self.widget.after_cancel(self._after)
            except tk.TclError:
                pass
            self._after = None

    @property
    def running(self) -> bool:
        return self._after is not None
