"""Opening the UDP sockets: the server's listening socket, the client's, and
turning what the user typed into a socket address. Errors become ChatErrors."""
from __future__ import annotations

import errno
import socket
import sys

from udpcore import (DEFAULT_PORT, NotLocalAddress, PortBusyError, SocketError, UnknownHost,
                     format_addr, parse_server)

RECV_BUFFER = 1 << 20       # ask the kernel for room for bursts
# Linux: ICMP errors on an unconnected UDP socket are reported only with IP_RECVERR
# (ip(7)); Python 3.11 does not name these constants, their values are the kernel's.
_LINUX = sys.platform.startswith("linux")
_IP_RECVERR, _IPV6_RECVERR, _MSG_ERRQUEUE = 11, 25, 0x2000


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


def tune(sock: socket.socket, report_refusals: bool = False) -> None:
    """Non-blocking, a large receive buffer; ``report_refusals`` (the client's
    socket): ICMP port unreachable comes back to us instead of being dropped."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECV_BUFFER)
    except OSError:
        pass
    sock.setblocking(False)
    if not report_refusals:
        _quiet_connreset(sock)        # a server is never stopped by one client gone
    elif _LINUX:
        v6 = sock.family == socket.AF_INET6
        try:
            sock.setsockopt(socket.IPPROTO_IPV6 if v6 else socket.IPPROTO_IP,
                            _IPV6_RECVERR if v6 else _IP_RECVERR, 1)
        except OSError:
            pass                      # then only the connect timeout tells
    # Windows reports it on the next recvfrom (WinError 10054) unless switched off: left on.


def take_refusals(sock: socket.socket) -> list[tuple]:
    """Linux: empty the socket's error queue (select says it is readable while
    anything waits there); the addresses that answered 'port unreachable'."""
    found: list[tuple] = []
    if not _LINUX:
        return found
    while True:
        try:
            _data, ancdata, _flags, addr = sock.recvmsg(1, 256, _MSG_ERRQUEUE)
        except OSError:               # BlockingIOError: the queue is empty
            return found
        for _level, _type, info in ancdata:
            if int.from_bytes(info[:4], sys.byteorder) == errno.ECONNREFUSED and addr:
                found.append(addr[:2])


def bind_server_socket(host: str | None, port: int, tries: int = 1) -> socket.socket:
    """A UDP socket listening on ``host`` (None: every IPv6 and IPv4 address);
    with ``tries`` > 1, the first free port of ``port`` .. ``port + tries - 1``
    (PortBusyError with ``last`` when every one is taken)."""
    last = min(port + tries - 1, 65535) if port else port
    for p in range(port, last + 1):
        try:
            return _bind_server_socket(host, p)
        except PortBusyError as exc:
            if exc.forbidden or p == last:
                raise PortBusyError(port, exc.forbidden, last if last > port and not exc.forbidden else None) \
                    from None
    raise AssertionError("unreachable")


def _bind_server_socket(host: str | None, port: int) -> socket.socket:
    if host is None:
        if socket.has_dualstack_ipv6():
            family, addr = socket.AF_INET6, ("::", port)
        else:
            family, addr = socket.AF_INET, ("0.0.0.0", port)
    else:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM, flags=socket.AI_PASSIVE)
        except (socket.gaierror, UnicodeError):
            raise NotLocalAddress(host) from None
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
            raise PortBusyError(port) from None
        if exc.errno == errno.EACCES:
            raise PortBusyError(port, forbidden=True) from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise NotLocalAddress(host or "") from None
        raise SocketError(exc.strerror or str(exc), port) from None
    tune(sock)
    return sock


def resolve(server: str, default_port: int = DEFAULT_PORT) -> tuple[tuple, int, str]:
    """(socket address, family, label) for what the user typed.
    Raises AddressError or UnknownHost."""
    host, port = parse_server(server, default_port)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    except (socket.gaierror, UnicodeError):
        raise UnknownHost(host) from None
    family, addr = infos[0][0], infos[0][4][:2]
    return addr, family, format_addr((host, port)) if ":" not in host else format_addr(addr)


def client_socket(family: int) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        sock.bind(("::", 0) if family == socket.AF_INET6 else ("0.0.0.0", 0))
    except OSError as exc:
        sock.close()
        raise SocketError(exc.strerror or str(exc)) from None
    tune(sock, report_refusals=True)
    return sock



