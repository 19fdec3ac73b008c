"""The no-op half of an engine, for tests that drive ``udpnet.loop.SocketLoop`` with a
fake: no timer, no events, never closed. A fake adds what it observes."""
from __future__ import annotations


class StubEngine:
    closed = False

    def get_timer(self):
        return None

    def handle_timer(self, now) -> None:
        pass

    def next_event(self):
        return None
