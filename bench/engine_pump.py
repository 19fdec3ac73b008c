"""Load generator 1: many real client engines driven from one thread.

:class:`EnginePump` runs :class:`udpcore.ClientEngine` instances (the sans-I/O
engine a real client runs, through its public methods only) with one socket
each, one ``epoll`` and one heap of timers: the socket thread's loop, once for
all of them, so that 5,000 members fit in one process. :func:`join_all` fills
a room as a room fills (a few hundred handshakes at a time).
"""
from __future__ import annotations

import heapq
import select
import socket
import time
from typing import Callable

from udpcore import ClientEngine, events as ev

from bench.loopback import Addr, recv_stamped, stamp_sockets, udp_socket


class Member:
    """One real ClientEngine with its own socket (the server tells members apart by address)."""

    __slots__ = ("name", "sock", "fd", "engine", "timer", "events", "on_event", "sent", "received", "rx_stamp",
                 "tx_stamp")

    def __init__(self, name: str, sock: socket.socket, engine: ClientEngine,
                 on_event: Callable | None) -> None:
        self.name = name
        self.sock = sock
        self.fd = sock.fileno()
        self.engine = engine
        self.timer: float | None = None
        self.events: list = []
        self.on_event = on_event
        self.sent = 0
        self.received = 0
        self.rx_stamp = 0           # kernel receive time (ns, CLOCK_REALTIME) of the datagram being fed
        self.tx_stamp = 0           # time.time_ns() just before the first sendto of the last flush


class EnginePump:
    """Drives many ClientEngines from one thread: one socket each, one epoll,
    one heap of timers — the transport's loop, once for all of them."""

    def __init__(self, server: Addr, rcvbuf: int = 1 << 16, stamped: bool = False) -> None:
        self.server = server
        self.rcvbuf = rcvbuf
        self.stamped = stamped      # events are handed over per datagram, with ``Member.rx_stamp`` set
        self.sleep_poll = 0.0       # > 0: sleep this long, then poll (see step)
        self.ep = select.epoll()
        self.by_fd: dict[int, Member] = {}
        self._timers: list[tuple[float, int]] = []
        self.sent = 0
        self.received = 0

    def add(self, name: str, on_event: Callable | None = None, connect: bool = True) -> Member:
        now = time.monotonic()
        sock = udp_socket(self.rcvbuf)
        if self.stamped:
            stamp_sockets(sock)
        engine = ClientEngine(name, self.server, now)
        mem = Member(name, sock, engine, on_event)
        self.by_fd[mem.fd] = mem
        self.ep.register(mem.fd, select.EPOLLIN)
        if connect:
            engine.connect(now)
            self.flush(mem, now)
        return mem

    @property
    def members(self) -> list[Member]:
        return list(self.by_fd.values())

    def flush(self, mem: Member, now: float) -> None:
        """Send what the engine has, hand over its events, re-arm its timer."""
        eng = mem.engine
        sendto = mem.sock.sendto
        out = eng.datagrams_to_send(now)
        if out and self.stamped:
            mem.tx_stamp = time.time_ns()
        for data, addr in out:
            try:
                sendto(data, addr)
            except OSError:
                pass
            mem.sent += 1
            self.sent += 1
        self._events(mem, now)
        t = eng.get_timer()
        if t is not None and t != mem.timer:
            mem.timer = t
            heapq.heappush(self._timers, (t, mem.fd))
        elif t is None:
            mem.timer = None

    def _events(self, mem: Member, now: float) -> None:
        eng = mem.engine
        while (e := eng.next_event()) is not None:
            if mem.on_event is not None:
                mem.on_event(mem, e, now)
            else:
                mem.events.append(e)

    def step(self, max_wait: float = 0.05) -> None:
        now = time.monotonic()
        wait = max_wait
        if self._timers:
            wait = max(0.0, min(wait, self._timers[0][0] - now))
        if self.sleep_poll and wait > 0:
            # Sleep, then look: a datagram that arrives meanwhile is only put on
            # epoll's ready list; nobody waits in epoll_wait, so the sender's
            # sendto wakes no one (as with a peer on another machine).
            time.sleep(min(wait, self.sleep_poll))
            wait = 0
        for fd, _ in self.ep.poll(wait):
            mem = self.by_fd.get(fd)
            if mem is None:
                continue
            now = time.monotonic()
            recv, feed = mem.sock.recvfrom, mem.engine.receive_datagram
            stamped = self.stamped
            for _ in range(256):
                try:
                    if stamped:
                        data, addr, mem.rx_stamp = recv_stamped(mem.sock)
                    else:
                        data, addr = recv(65535)
                except (BlockingIOError, InterruptedError):
                    break
                except OSError:
                    break
                mem.received += 1
                self.received += 1
                feed(data, addr, now)
                if stamped:
                    self._events(mem, now)
            self.flush(mem, now)
        now = time.monotonic()
        timers = self._timers
        while timers and timers[0][0] <= now:
            t, fd = heapq.heappop(timers)
            mem = self.by_fd.get(fd)
            if mem is None or mem.timer != t:
                continue                       # stale entry
            mem.timer = None
            mem.engine.handle_timer(now)
            self.flush(mem, now)
            if mem.timer is not None and mem.timer <= now:       # never spin on a due timer
                mem.timer = now + 0.001
                heapq.heappush(timers, (mem.timer, fd))

    def run_until(self, done: Callable[[], bool], timeout: float, what: str = "") -> float:
        """Step until ``done()``; returns the time it took; RuntimeError on timeout."""
        t0 = time.monotonic()
        while not done():
            if time.monotonic() - t0 > timeout:
                raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what or done}")
            self.step()
        return time.monotonic() - t0

    def run_for(self, seconds: float, tick: Callable[[float], None] | None = None,
                max_wait: float = 0.05) -> None:
        end = time.monotonic() + seconds
        while (now := time.monotonic()) < end:
            if tick is not None:
                tick(now)
            self.step(min(max_wait, end - now))

    def close(self) -> None:
        for mem in self.by_fd.values():
            mem.sock.close()
        self.by_fd.clear()
        self.ep.close()


def join_all(pump: EnginePump, names: list[str], timeout: float, in_flight: int = 200,
             on_event: Callable | None = None) -> float:
    """Join ``names`` (at most ``in_flight`` handshakes at a time, as a room fills);
    returns the seconds it took. Members that are refused raise RuntimeError."""
    joined: set[int] = set()
    failed: list[str] = []

    def watch(mem: Member, e, now: float) -> None:
        if isinstance(e, ev.Connected):
            joined.add(mem.fd)
        elif isinstance(e, (ev.JoinRefused, ev.Unreachable)):
            failed.append(f"{mem.name}: {e.error}")
        if on_event is not None:
            on_event(mem, e, now)

    t0 = time.monotonic()
    pending = list(names)
    started = 0
    while len(joined) < len(names):
        if failed:
            raise RuntimeError("join failed: " + "; ".join(failed[:3]))
        while pending and started - len(joined) < in_flight:
            pump.add(pending.pop(0), on_event=watch)
            started += 1
        if time.monotonic() - t0 > timeout:
            raise RuntimeError(f"only {len(joined)} of {len(names)} joined within {timeout:.0f} s")
        pump.step(0.01)
    for mem in pump.members:
        if mem.on_event is watch:
            mem.on_event = on_event
    return time.monotonic() - t0
