"""Finding rooms on the LAN: DISCOVER to every interface, HEREs back (udpcore.discovery).

Each round sends one DISCOVER to every port probed (DISCOVERY_PORTS: 5002-5011)
at each of: every IPv4 interface's directed broadcast address (computed from its
address and prefix, from ``ifaddr``: 255.255.255.255 alone leaves by one
interface only, and Windows lists no broadcast addresses), 255.255.255.255,
IPv6 ff02::1 on every interface (with its scope id), and 127.0.0.1 and ::1 (a
server on this machine). Several cards, a VPN, Wi-Fi and a cable: every
interface is probed. The address to connect to is where the HERE came from.

The rounds go at 0 and 0.25 s (a lost broadcast is not retried a whole second
later), then every ``interval``; a room not heard for ``forget_after`` is dropped.
"""
from __future__ import annotations

import ipaddress
import os
import queue
import secrets
import select
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator

from udpcore import (DISCOVERY_PORTS, AddressError, FoundRoom, NoSuchRoom, RoomList, SameNameRooms, UnknownHost,
                     encode_discover, room_name)

from .sockets import resolve

FIRST_ROUNDS = (0.0, 0.25)
INTERVAL = 1.0
FORGET_AFTER = 3.5          # three rounds missed: the server closed (or left the network)
SETTLE = 0.5                # looking for a room by name: wait this long after the first match for another
# Tests set this (tests/conftest.py) to "127.0.0.1,::1" so no program they start
# broadcasts on the machine's real network; namespace tests clear it.
HOSTS_ENV = "LANCHAT_DISCOVERY_HOSTS"


def broadcast_targets() -> tuple[list[str], list[int]]:
    """(IPv4 directed broadcast addresses, IPv6 interface indexes for ff02::1) of
    every interface that is up and has an address, loopback apart."""
    import ifaddr                    # pure Python; lists every system's interfaces and prefixes
    v4: list[str] = []
    scopes: list[int] = []
    try:
        adapters = ifaddr.get_adapters()
    except Exception:                # an odd system: the limited broadcast and loopback still go
        return v4, scopes
    for adapter in adapters:
        for ip in adapter.ips:
            try:
                if ip.is_IPv4:
                    net = ipaddress.IPv4Network(f"{ip.ip}/{ip.network_prefix}", strict=False)
                    if not net.is_loopback and net.prefixlen < 31 and str(net.broadcast_address) not in v4:
                        v4.append(str(net.broadcast_address))
                else:
                    addr, _flow, scope = ip.ip
                    index = scope or getattr(adapter, "index", None) or 0
                    if not ipaddress.IPv6Address(addr).is_loopback and index and index not in scopes:
                        scopes.append(index)
            except (ValueError, TypeError):
                continue
    return v4, scopes


def _open(family: int) -> socket.socket | None:
    try:
        sock = socket.socket(family, socket.SOCK_DGRAM)
    except OSError:
        return None
    try:
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(("::", 0))
        else:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
            sock.bind(("0.0.0.0", 0))
        sock.setblocking(False)
    except OSError:
        sock.close()
        return None
    return sock


def _scoped(addr: tuple) -> tuple:
    """A link-local sender's address with its interface (``fe80::1%eth0``), as
    start_client takes it: without the scope it cannot be reached."""
    if len(addr) == 4 and addr[3] and "%" not in addr[0]:
        try:
            scope = socket.if_indextoname(addr[3])
        except (OSError, AttributeError):
            scope = str(addr[3])
        return (f"{addr[0]}%{scope}", addr[1])
    return addr[:2]


class RoomFinder:
    """Looks for rooms on a thread until :meth:`stop`. ``rooms`` is a queue.Queue
    of tuples of :class:`FoundRoom` (by name): the whole list again each time it
    changes (a room found, gone, renamed, its count or best address changed), so
    a window only replaces what it shows. ``latest`` is the last one put.

    ``ports``: the ports probed (default DISCOVERY_PORTS). ``hosts``: probe only
    these hosts, by unicast, and broadcast nothing (a known subnet's server,
    tests)."""

    def __init__(self, ports: Iterable[int] | None = None, *, hosts: Iterable[str] | None = None,
                 interval: float = INTERVAL, forget_after: float = FORGET_AFTER) -> None:
        self.ports = tuple(ports) if ports is not None else DISCOVERY_PORTS
        self.rooms: queue.Queue[tuple[FoundRoom, ...]] = queue.Queue()
        self.latest: tuple[FoundRoom, ...] = ()
        self.send_errors = 0
        if hosts is None and os.environ.get(HOSTS_ENV):
            hosts = [h.strip() for h in os.environ[HOSTS_ENV].split(",") if h.strip()]
        self._hosts = tuple(hosts) if hosts is not None else None
        self._interval = interval
        self._forget_after = forget_after
        self._list = RoomList(secrets.token_bytes(8))
        self._probe = encode_discover(self._list.nonce)
        self._stop = threading.Event()
        self._socks = [s for s in (_open(socket.AF_INET), _open(socket.AF_INET6)) if s is not None]
        self._thread = threading.Thread(target=self._run, name="room-finder", daemon=True)
        self._thread.start()

    def stop(self, wait: bool = True) -> None:
        self._stop.set()
        if wait and threading.current_thread() is not self._thread:
            self._thread.join(2.0)

    def __enter__(self) -> RoomFinder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _targets(self) -> list[tuple[int, tuple]]:
        """(family, address) of every destination of one round, for every port."""
        if self._hosts is not None:
            out = []
            for host in self._hosts:
                for port in self.ports:
                    try:
                        addr, family, _label = resolve(host, port)
                    except (AddressError, UnknownHost):
                        continue
                    out.append((family, addr))
            return out
        v4, scopes = broadcast_targets()
        out = []
        for port in self.ports:
            out += [(socket.AF_INET, (b, port)) for b in [*v4, "255.255.255.255", "127.0.0.1"]]
            out += [(socket.AF_INET6, ("ff02::1", port, 0, s)) for s in scopes]
            out.append((socket.AF_INET6, ("::1", port, 0, 0)))
        return out

    def _send_round(self) -> None:
        socks = {s.family: s for s in self._socks}
        for family, addr in self._targets():      # interfaces come and go: listed again each round
            sock = socks.get(family)
            if sock is None:
                continue
            try:
                sock.sendto(self._probe, addr)
            except OSError:                  # no route on this interface, no IPv6: the others still go
                self.send_errors += 1

    def _run(self) -> None:
        start = time.monotonic()
        rounds = [start + t for t in FIRST_ROUNDS]
        try:
            while not self._stop.is_set():
                now = time.monotonic()
                if now >= rounds[0]:
                    rounds.pop(0)
                    self._send_round()
                    if not rounds:
                        rounds.append(now + self._interval)
                    if self._list.forget(now, self._forget_after):
                        self._publish()
                wait = min(0.1, max(0.0, rounds[0] - time.monotonic()))
                readable = select.select(self._socks, (), (), wait)[0] if self._socks else []
                if not self._socks:
                    self._stop.wait(wait)
                changed = False
                for sock in readable:
                    for _ in range(64):
                        try:
                            data, addr = sock.recvfrom(2048)
                        except OSError:      # nothing more (or an ICMP error from an earlier probe)
                            break
                        changed |= self._list.heard(data, _scoped(addr), time.monotonic())
                if changed:
                    self._publish()
        finally:
            for s in self._socks:
                s.close()

    def _publish(self) -> None:
        self.latest = self._list.rooms
        self.rooms.put(self.latest)


def _lists(finder: RoomFinder, deadline: Callable[[], float]) -> Iterator[tuple[FoundRoom, ...]]:
    """Each new list of rooms the finder puts, until ``deadline()`` (read anew each
    time, so a caller may bring it closer) has passed."""
    while (left := deadline() - time.monotonic()) > 0:
        try:
            yield finder.rooms.get(timeout=left)
        except queue.Empty:
            return


def discover(timeout: float = 2.0, ports: Iterable[int] | None = None,
             on_room: Callable[[FoundRoom], None] | None = None, *,
             hosts: Iterable[str] | None = None) -> list[FoundRoom]:
    """The rooms that answered within ``timeout`` seconds, by name. ``on_room`` is
    called (on this thread) with each room as it is first heard."""
    seen: set[bytes] = set()
    with RoomFinder(ports, hosts=hosts) as finder:
        deadline = time.monotonic() + timeout
        for rooms in _lists(finder, lambda: deadline):
            for room in rooms:
                if room.instance not in seen:
                    seen.add(room.instance)
                    if on_room is not None:
                        on_room(room)
        return list(finder.latest)


def find_room(name: str, timeout: float = 2.0, ports: Iterable[int] | None = None, *,
              hosts: Iterable[str] | None = None) -> FoundRoom:
    """The one room called ``name`` (case-insensitive). Waits SETTLE seconds after a
    first match for another of the same name (every server hears the same round).
    Raises NoSuchRoom, or SameNameRooms with the addresses to choose from."""
    key = room_name(name).casefold()
    matches: list[FoundRoom] = []
    with RoomFinder(ports, hosts=hosts) as finder:
        deadline = time.monotonic() + timeout
        for rooms in _lists(finder, lambda: deadline):      # the lambda reads the deadline as it moves
            matches = [r for r in rooms if r.name.casefold() == key]
            if matches:
                deadline = min(deadline, time.monotonic() + SETTLE)
    if not matches:
        raise NoSuchRoom(name)
    if len(matches) > 1:
        raise SameNameRooms(name, tuple(r.label for r in matches))
    return matches[0]


def server_or_room(text: str, timeout: float = 2.0, ports: Iterable[int] | None = None) -> str:
    """What to connect to for what the user typed as the server: ``text`` itself
    when it is an address or a host name that resolves; else the address of the
    room of that name on the LAN. Raises AddressError (it looked like an address
    but is not one, and no room has that name), NoSuchRoom or SameNameRooms."""
    try:
        resolve(text)
        return text
    except AddressError as exc:
        bad_address: AddressError | None = exc
    except UnknownHost:
        bad_address = None
    try:
        return find_room(text, timeout, ports).label
    except NoSuchRoom:
        if bad_address is not None:
            raise bad_address from None
        raise
