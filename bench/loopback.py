"""UDP sockets on 127.0.0.1 for the load generators, and the kernel's arrival stamps.

Only 127.0.0.1 is ever bound or sent to. :func:`recv_stamped` reads the time the
kernel received a datagram (``SO_TIMESTAMPNS``), so a harness's own delay in
reading never counts in a latency.
"""
from __future__ import annotations

import socket
import struct
import time

LOOPBACK = "127.0.0.1"
Addr = tuple[str, int]

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)     # Linux; Python 3.11 lacks the constant
_TIMESPEC = struct.Struct("qq")


def udp_socket(rcvbuf: int = 1 << 18, host: str = LOOPBACK) -> socket.socket:
    """A non-blocking UDP socket bound to a free port of ``host`` (127.0.0.1, or
    another address of 127.0.0.0/8 when a bench needs distinct senders)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.bind((host, 0))
    s.setblocking(False)
    return s


def stamp_sockets(sock: socket.socket) -> None:
    """Ask the kernel to stamp each datagram with the time it arrived (``recv_stamped``)."""
    sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)


def recv_stamped(sock: socket.socket) -> tuple[bytes, Addr, int]:
    """(data, address, arrival time in ns of CLOCK_REALTIME, as time.time_ns())."""
    data, anc, _flags, addr = sock.recvmsg(65535, 64)
    for level, kind, raw in anc:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
            sec, nsec = _TIMESPEC.unpack_from(raw)
            return data, addr, sec * 1_000_000_000 + nsec
    return data, addr, time.time_ns()


def raise_fd_limit(n: int) -> None:
    """Allow ``n`` open files (one socket per member), up to the hard limit."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(n, hard), hard))
