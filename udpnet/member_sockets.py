"""Linux: a socket of its own for each member, sharing the room's port.

Every datagram for the room arrives on one socket, so a flood of datagrams at
the room's port (HELLOs from many addresses, faster than the server can read
them) fills the queue a member's line waits in, and once it is full the
kernel drops the member's datagrams with the flood's. A UDP socket bound to
the same port (``SO_REUSEPORT``) and connected to a member's address is where
Linux puts that address's datagrams: an exact match of both ends wins over
the listening socket. Each member's datagrams then queue apart and are read
before the shared socket's; a flood from other addresses fills, and
overflows, only the shared socket.

Nothing depends on which socket a datagram arrives on: each is handed to the
engine with its own source address, so a kernel that delivers otherwise makes
the room no less correct, only less shielded. Replies still go out through
the listening socket.

``SO_REUSEPORT`` is set on the listening socket only once it is bound, so a
second server on the same port is still refused (it binds without the option);
and Linux lets only sockets of the same user share a port that way, so no other
user's program can bind beside the room. Elsewhere (Windows, macOS), and for an
address no socket could be made for (out of file descriptors, say), a member's
datagrams come through the shared socket as before.

Only while a flood lasts. A socket per member costs a busy room: a room of 100
members acking every line paid an epoll entry and a socket lookup per ack, and
its lines took half again as long (bench/README.md). So the sockets are opened
when the shared socket is under pressure (``PRESSED_TURNS`` reads in a row each
stopped by the batch's end, not by an empty socket: a backlog no room makes),
and closed again once it has been calm for ``CALM_FOR`` seconds.
"""
from __future__ import annotations

import logging
import socket
import sys
from collections.abc import Iterable

log = logging.getLogger("udpnet")
Addr = tuple[str, int]

# The benches' what-if (bench/server_runner.py --one-socket) turns it off.
ENABLED = sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")
MAX_SOCKETS = 600            # above the default 500 members and 16 guests; then the shared socket
PRESSED_TURNS = 3           # full reads of the shared socket in a row that open members' sockets
CALM_FOR = 30.0             # seconds without a full read before they are closed again


def _share_port(listening: socket.socket) -> bool:
    try:
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        return True
    except OSError:
        return False


class MemberSockets:
    """The connected sockets, one per address in the room, kept in step with it
    by :meth:`follow`. ``enabled`` is False where the port cannot be shared."""

    def __init__(self, listening: socket.socket, cap: int = MAX_SOCKETS, calm_for: float = CALM_FOR) -> None:
        self.by_addr: dict[Addr, socket.socket] = {}
        self.by_fd: dict[int, socket.socket] = {}
        self.version: int | None = None       # of the engine's member list last followed
        self.failed = 0                       # addresses left on the shared socket
        self._family = listening.family
        self._local = listening.getsockname()
        self._cap = cap
        self._calm_for = calm_for
        self.enabled = ENABLED and _share_port(listening)
        self.active = False                   # members' sockets open (a flood is on)
        self.opened_times = 0                 # how often a flood opened them
        self._full_reads = 0
        self._last_full = 0.0

    def read_was(self, full: bool, now: float) -> bool:
        """Note whether this turn's read of the shared socket ended at its batch's end
        (``full``: the server is not keeping up) rather than on an empty socket; True
        when ``active`` changed. One full read is a moment's backlog (a slow turn);
        several in a row are a flood."""
        if full:
            self._full_reads += 1
            self._last_full = now
            return self._full_reads >= PRESSED_TURNS and self.flooded(now)
        self._full_reads = 0
        if self.active and now - self._last_full >= self._calm_for:
            self.active = False
            return True
        return False

    def flooded(self, now: float) -> bool:
        """Open members' sockets (at the next :meth:`follow`); True if they were closed."""
        self._last_full = now
        if self.active:
            return False
        self.active = True
        self.opened_times += 1
        log.info("the room's port is flooded: each member's datagrams get a socket of their own")
        return True

    def follow(self, version: int, addresses: Iterable[Addr]) -> tuple[list[socket.socket], list[socket.socket]]:
        """Open a socket for each address new to the room and close those of
        addresses gone; (opened, about to be closed: the caller unregisters, then
        :meth:`close_all` them)."""
        self.version = version
        wanted = set(addresses) if self.active else set()
        gone = [self.by_addr.pop(a) for a in [a for a in self.by_addr if a not in wanted]]
        for s in gone:
            self.by_fd.pop(s.fileno(), None)
        opened = []
        for addr in wanted:
            if addr in self.by_addr or len(self.by_addr) >= self._cap:
                continue
            s = self._connected(addr)
            if s is None:
                self.failed += 1
                continue
            self.by_addr[addr] = s
            self.by_fd[s.fileno()] = s
            opened.append(s)
        return opened, gone

    def _connected(self, addr: Addr) -> socket.socket | None:
        s = socket.socket(self._family, socket.SOCK_DGRAM)
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            if self._family == socket.AF_INET6:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            s.bind(self._local)
            s.connect(addr)
            s.setblocking(False)
        except OSError as exc:
            s.close()
            if self.failed == 0:
                log.info("no socket of its own for %s (%s); its datagrams come through the shared one", addr[0], exc)
            return None
        return s

    @staticmethod
    def close_all(socks: Iterable[socket.socket]) -> None:
        for s in socks:
            s.close()

    def close(self) -> None:
        self.close_all(self.by_addr.values())
        self.by_addr.clear()
        self.by_fd.clear()
