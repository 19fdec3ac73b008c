"""What every engine offers its driver: aioquic's four doors, as a ``typing.Protocol``.

The transport (``udpnet``) drives any object of this shape; tests drive the same
objects by hand with a fake clock (tests/enginepair.py).
"""
from __future__ import annotations

from typing import Protocol

from .events import Event

Addr = tuple[str, int]


class Engine(Protocol):
    @property
    def closed(self) -> bool:
        """True once the engine has nothing more to do; the driver then stops."""
        ...

    def receive_datagram(self, data: bytes, addr: Addr, now: float) -> None:
        """Feed one datagram. Never raises for anything a peer sends."""
        ...

    def datagrams_to_send(self, now: float) -> list[tuple[bytes, Addr]]:
        """What to send now, after any of the other calls."""
        ...

    def get_timer(self) -> float | None:
        """When :meth:`handle_timer` should next be called (same clock as ``now``)."""
        ...

    def handle_timer(self, now: float) -> None:
        ...

    def next_event(self) -> Event | None:
        ...
