"""The only I/O: a UDP socket driven by one background thread, events on a queue.

The thread waits in ``select`` on the socket and on a wake-up socket pair (so
``say``/``submit``/``close`` from any thread take effect at once), feeds the
engine, sends what it returns and moves its events onto ``events``. Callers
never touch the engine; they post closures that run on the thread.
"""
from __future__ import annotations

import errno
import logging
import queue
import select
import socket
import threading
import time
from collections import deque
from typing import Callable

from . import events as ev
from .addresses import AddressError, format_addr, parse_server
from .cli import DEFAULT_PORT
from .client import ClientEngine
from .names import name_problem
from .server import ServerEngine

log = logging.getLogger("udpcore")
RECV_BATCH = 256            # datagrams read per wake-up before the engine is asked to send
RECV_BUFFER = 1 << 20       # ask the kernel for room for bursts
STATS_INTERVAL = 1.0


class EventQueue(queue.Queue):
    """A ``queue.Queue`` that also moves events in batches. The socket thread hands
    over each turn's events under one lock, and a reader may take all there are:
    a relaying server makes an event per line, and a put and a get per event (a
    lock and a wake-up each, in two threads contending for the GIL) cost the
    headless server about a tenth of its relay rate."""

    def put_many(self, items: list) -> None:
        if not items:
            return
        with self.not_full:                   # unbounded: never waits
            for item in items:
                self._put(item)
            self.unfinished_tasks += len(items)
            self.not_empty.notify(len(items))

    def get_all(self) -> list:
        """Everything queued now, oldest first, without waiting (maybe nothing)."""
        with self.mutex:
            items = list(self.queue)
            self.queue.clear()
            self.not_full.notify_all()
        return items


class ChatError(Exception):
    """A failure the user must be told about; str() is one plain sentence."""


class PortBusyError(ChatError):
    pass


def _quiet_connreset(sock: socket.socket) -> None:
    """Windows reports an ICMP port-unreachable from an earlier sendto as
    WinError 10054 on the next recvfrom; switch that off where the ioctl exists."""
    ioctl = getattr(sock, "ioctl", None)
    code = getattr(socket, "SIO_UDP_CONNRESET", None)
    if ioctl is not None and code is not None:
        try:
            ioctl(code, False)
        except OSError:
            pass


def local_addresses() -> list[str]:
    """This machine's addresses other hosts can use (no loopback, no link-local).

    Three ways, merged: the source address of the default route (connecting a
    UDP socket sends nothing; 192.0.2.1 and 2001:db8::1 are documentation
    addresses, never contacted), every interface's address where the system
    lists them (Linux), and what the host name resolves to (Windows, macOS).
    """
    found: list[str] = []
    for family, probe in ((socket.AF_INET, "192.0.2.1"), (socket.AF_INET6, "2001:db8::1")):
        try:
            with socket.socket(family, socket.SOCK_DGRAM) as s:
                s.connect((probe, 9))
                found.append(s.getsockname()[0])
        except OSError:
            pass
    found += _linux_interface_addresses()
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, type=socket.SOCK_DGRAM):
            found.append(str(info[4][0]))
    except (OSError, UnicodeError):
        pass
    out: list[str] = []
    for a in found:
        a = a.split("%")[0]
        if a in out or a.startswith(("127.", "fe80:", "169.254.")) or a in ("::1", "::", "0.0.0.0"):
            continue
        out.append(a)
    return out


def _linux_interface_addresses() -> list[str]:
    out: list[str] = []
    try:
        import fcntl
        import struct
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for _, name in socket.if_nameindex():
                try:
                    req = struct.pack("256s", name.encode()[:15])
                    res = fcntl.ioctl(s.fileno(), 0x8915, req)      # SIOCGIFADDR
                    out.append(socket.inet_ntoa(res[20:24]))
                except OSError:
                    pass
        with open("/proc/net/if_inet6") as f:
            for line in f:
                raw = bytes.fromhex(line.split()[0])
                out.append(socket.inet_ntop(socket.AF_INET6, raw))
    except (ImportError, OSError, AttributeError, ValueError):
        pass
    return out


def _tune(sock: socket.socket) -> None:
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECV_BUFFER)
    except OSError:
        pass
    sock.setblocking(False)
    _quiet_connreset(sock)


def bind_server_socket(host: str | None, port: int) -> socket.socket:
    """A UDP socket listening on ``host`` (None: every IPv6 and IPv4 address)."""
    if host is None:
        if socket.has_dualstack_ipv6():
            family, addr = socket.AF_INET6, ("::", port)
        else:
            family, addr = socket.AF_INET, ("0.0.0.0", port)
    else:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM, flags=socket.AI_PASSIVE)
        except socket.gaierror:
            raise ChatError(f"'{host}' is not an address of this machine.") from None
        family, addr = infos[0][0], infos[0][4][:2]
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        if hasattr(socket, "SO_EXCLUSIVEADDRUSE"):       # Windows: nobody may share our port
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)
        if family == socket.AF_INET6 and addr[0] == "::":
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.bind(addr)
    except OSError as exc:
        sock.close()
        if exc.errno in (errno.EADDRINUSE, getattr(errno, "WSAEADDRINUSE", -1)) or \
                getattr(exc, "winerror", None) in (10048, 10013):
            raise PortBusyError(f"Port {port} is already in use, probably by another chat server; "
                                f"choose another port.") from None
        if exc.errno == errno.EACCES:
            raise PortBusyError(f"This user may not listen on port {port}; choose a port above 1023.") from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise ChatError(f"'{host}' is not an address of this machine.") from None
        raise ChatError(f"Cannot listen on port {port}: {exc.strerror or exc}.") from None
    _tune(sock)
    return sock


class _Loop:
    """The socket thread around one engine."""

    def __init__(self, engine, sock: socket.socket, name: str, stats: bool = False) -> None:
        self.engine = engine
        self.sock = sock
        self.events: EventQueue = EventQueue()
        self._calls: deque[Callable[[float], None]] = deque()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._stats = stats
        self._stop_at: float | None = None
        self.send_errors = 0
        self.internal_errors = 0
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def call(self, fn: Callable[[float], None]) -> None:
        """Run ``fn(now)`` on the socket thread, soon."""
        self._calls.append(fn)
        try:
            self._wake_w.send(b"\0")
        except OSError:
            pass

    def stop_by(self, deadline: float) -> None:
        self._stop_at = deadline

    def join(self, timeout: float | None) -> None:
        self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        eng, sock = self.engine, self.sock
        sendto = sock.sendto
        next_stats = time.monotonic() if self._stats else None
        try:
            while True:
                now = time.monotonic()
                timer = eng.get_timer()
                wait = 1.0 if timer is None else max(0.0, timer - now)
                if next_stats is not None:
                    wait = min(wait, max(0.0, next_stats - now))
                if self._stop_at is not None:
                    wait = min(wait, max(0.0, self._stop_at - now))
                readable, _, _ = select.select((sock, self._wake_r), (), (), wait)
                now = time.monotonic()
                if self._wake_r in readable:
                    try:
                        self._wake_r.recv(4096)
                    except OSError:
                        pass
                while self._calls:
                    self._calls.popleft()(now)
                if sock in readable:
                    self._receive(now)
                timer = eng.get_timer()
                if timer is not None and now >= timer:
                    eng.handle_timer(now)
                for data, addr in eng.datagrams_to_send(now):
                    try:
                        sendto(data, addr)
                    except OSError:
                        self.send_errors += 1     # unreachable peer, full buffer: retransmission copes
                batch = []
                while (e := eng.next_event()) is not None:
                    batch.append(e)
                if next_stats is not None and now >= next_stats:
                    batch.append(eng.snapshot(now))
                    next_stats = now + STATS_INTERVAL
                self.events.put_many(batch)
                if eng.closed or (self._stop_at is not None and now >= self._stop_at):
                    break
        finally:
            sock.close()
            self._wake_r.close()
            self._wake_w.close()
            self.events.put(ev.Closed())

    def _receive(self, now: float) -> None:
        recv, feed = self.sock.recvfrom, self.engine.receive_datagram
        for _ in range(RECV_BATCH):
            try:
                data, addr = recv(65535)
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionResetError:
                continue                           # Windows WinError 10054: ignore, keep serving
            except OSError:
                return
            try:
                feed(data, addr[:2], now)
            except Exception:                      # a bug must not let one datagram stop the room
                self.internal_errors += 1
                if self.internal_errors == 1:
                    log.exception("a datagram from %s could not be handled; it was dropped", addr[0])


class ServerTransport:
    """A running chat server. See docs/architecture.md."""

    def __init__(self, engine: ServerEngine, sock: socket.socket, stats: bool) -> None:
        self.address: tuple[str, int] = sock.getsockname()[:2]
        self._loop = _Loop(engine, sock, "chat-server", stats)
        self.events = self._loop.events
        self.events.put(ev.Listening(self.address[0], self.address[1]))

    @property
    def label(self) -> str:
        return format_addr(self.address)

    def say(self, text: str, to: str | None = None) -> None:
        self._loop.call(lambda now: self._loop.engine.say(text, now, to))

    def close(self, timeout: float = 2.0, wait: bool = True) -> None:
        """Tell every client the room is closing, then stop the thread. With
        ``wait=False`` return at once; a Closed event follows on ``events``."""
        if self._loop.alive:
            self._loop.call(lambda now: (self._loop.engine.close(now), self._loop.stop_by(now + timeout)))
            if wait:
                self._loop.join(timeout + 1.0)


def start_server(host: str | None = None, port: int = DEFAULT_PORT, *, allow_guests: bool = True,
                 stats: bool = True) -> ServerTransport:
    sock = bind_server_socket(host, port)
    return ServerTransport(ServerEngine(time.monotonic(), allow_guests=allow_guests), sock, stats)


class ClientTransport:
    """A client in a room. See docs/architecture.md."""

    def __init__(self, engine: ClientEngine, sock: socket.socket) -> None:
        self._engine = engine
        self.server_label = engine.server_label
        self._loop = _Loop(engine, sock, "chat-client")
        self.events = self._loop.events
        self.local_address: tuple[str, int] = sock.getsockname()[:2]   # our own end, as the server sees its port
        self._loop.call(engine.connect)

    @property
    def name(self) -> str:
        return self._engine.name

    def submit(self, line: str) -> bool:
        """Send a line or run a command; False when the line asks to leave."""
        from .commands import Quit, parse
        if isinstance(parse(line), Quit):
            return False
        self._loop.call(lambda now: self._engine.submit(line, now))
        return True

    def close(self, timeout: float = 5.0, wait: bool = True) -> None:
        """Leave once what was typed is delivered, waiting at most ``timeout``.
        With ``wait=False`` return at once; a Closed event follows on ``events``."""
        if self._loop.alive:
            self._loop.call(lambda now: (self._engine.leave(now), self._loop.stop_by(now + timeout)))
            if wait:
                self._loop.join(timeout + 1.0)


def resolve(server: str, default_port: int = DEFAULT_PORT) -> tuple[tuple, int, str]:
    """(socket address, family, label) for what the user typed; ChatError if unusable."""
    try:
        host, port = parse_server(server, default_port)
    except AddressError as exc:
        raise ChatError(str(exc)) from None
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    except (socket.gaierror, UnicodeError):
        raise ChatError(f"Cannot find a server called '{host}': check the name or type its IP address.") from None
    family, addr = infos[0][0], infos[0][4][:2]
    return addr, family, format_addr((host, port)) if ":" not in host else format_addr(addr)


def start_client(server: str, name: str, *, default_port: int = DEFAULT_PORT) -> ClientTransport:
    problem = name_problem(name)
    if problem:
        raise ChatError(problem[0].upper() + problem[1:] + ".")
    addr, family, label = resolve(server, default_port)
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        sock.bind(("::", 0) if family == socket.AF_INET6 else ("0.0.0.0", 0))
    except OSError as exc:
        sock.close()
        raise ChatError(f"Cannot open a network socket: {exc.strerror or exc}.") from None
    _tune(sock)
    engine = ClientEngine(name, addr, time.monotonic(), server_label=label)
    return ClientTransport(engine, sock)
