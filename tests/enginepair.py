"""Engines wired together by hand, with a fake clock: no sockets, no threads.

``Room`` holds one ServerEngine and any number of ClientEngines and moves the
datagrams between them, optionally through a ``drop`` predicate, so loss and
timeouts are a few lines of test (as in aioquic's ``transfer``/``roundtrip``).
"""
from __future__ import annotations

import random
from typing import Callable

from udpcore import events as ev
from udpcore import wire
from udpcore.client import ClientEngine
from udpcore.limits import Limits
from udpcore.server import ServerEngine

SERVER = ("127.0.0.1", 5002)


def drain(engine) -> list[ev.Event]:
    out = []
    while (e := engine.next_event()) is not None:
        out.append(e)
    return out


def kind(data: bytes) -> wire.PacketType | None:
    """The packet type a datagram of ours says it is, read without decoding (a member's
    packets all say SEALED); None for anything else (a guest's plain text)."""
    if not wire.is_protocol(data) or len(data) < 5:
        return None
    try:
        return wire.PacketType(data[4])
    except ValueError:
        return None


def steady(randbytes: Callable[[int], bytes]) -> Callable[[int], bytes]:
    """``randbytes`` whose 2-byte draws are zero: a client's HELLO retries without their
    jitter (udpcore/joining.py), for tests of exact retry times. Every other draw, and
    their order, is ``randbytes``'s own."""
    return lambda n: bytes(2) if n == 2 else randbytes(n)


# For tests about delivery rather than rates: no member's line rate, nor the handshake
# rate (a room whose members all join at one instant), gets in the way.
UNLIMITED = Limits(line_rate=1e9, line_burst=10**9, handshake_rate=1e9, handshake_burst=10**9)


class Room:
    def __init__(self, seed: int = 1, **server_kw) -> None:
        self.rng = random.Random(seed)
        self.now = 1000.0
        self.server = ServerEngine(self.now, randbytes=self.rng.randbytes, **server_kw)
        self.clients: dict[tuple[str, int], ClientEngine] = {}
        self.drop: Callable[[bytes, tuple, tuple], bool] = lambda data, src, dst: False
        self.sent_by_server: list[tuple[bytes, tuple]] = []
        self.raw_to: dict[tuple, list[bytes]] = {}      # datagrams to addresses with no engine

    def add(self, name: str, port: int | None = None, connect: bool = True) -> ClientEngine:
        addr = ("127.0.0.1", port or 40000 + len(self.clients))
        c = ClientEngine(name, SERVER, self.now, randbytes=steady(self.rng.randbytes))
        self.clients[addr] = c
        if connect:
            c.connect(self.now)
        return c

    def addr_of(self, client: ClientEngine) -> tuple[str, int]:
        return next(a for a, c in self.clients.items() if c is client)

    def step(self) -> int:
        """Move one round of datagrams each way; return how many moved."""
        moved = 0
        for addr, c in list(self.clients.items()):
            for data, dst in c.datagrams_to_send(self.now):
                moved += 1
                if not self.drop(data, addr, dst):
                    self.server.receive_datagram(data, addr, self.now)
        for data, dst in self.server.datagrams_to_send(self.now):
            moved += 1
            self.sent_by_server.append((data, dst))
            if self.drop(data, SERVER, dst):
                continue
            c = self.clients.get(dst)
            if c is None:
                self.raw_to.setdefault(dst, []).append(data)
            else:
                c.receive_datagram(data, SERVER, self.now)
        return moved

    def settle(self, rounds: int = 50) -> None:
        for _ in range(rounds):
            if not self.step():
                return

    def advance(self, seconds: float, tick: float = 0.05) -> None:
        """Let fake time pass, firing timers and moving datagrams as it goes."""
        end = self.now + seconds
        while self.now < end:
            self.now = min(end, self.now + tick)
            for e in [self.server, *self.clients.values()]:
                t = e.get_timer()
                if t is not None and t <= self.now:
                    e.handle_timer(self.now)
            self.settle()
