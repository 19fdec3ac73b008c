"""Load generator 2: lean members, from the wire format alone.

:class:`LeanMember` costs the generator less per datagram than the server it
loads (the relay bench needs that); it speaks the few packets of
:mod:`bench.lean_wire`. :func:`join_lean` joins a list of them,
:func:`settle_lean` acknowledges the join traffic until the room is quiet.
"""
from __future__ import annotations

import secrets
import select
import socket
import time
from typing import Callable

from bench import lean_wire as lw
from bench.loopback import Addr, udp_socket

_DATA_HDR, _ACK_HDR, _PAYLOAD_AT = lw.DATA_HDR, lw.ACK_PKT, lw.PAYLOAD_AT
_T_DATA, _T_ACK, _T_PING = lw.DATA, lw.ACK, lw.PING
_LINE = lw.LINE


class LeanMember:
    """A member that costs the load generator as little as possible.

    It joins with the real handshake (HELLO, CHALLENGE, HELLO with the token,
    WELCOME), then only: acknowledges the server's DATA cumulatively (in-order
    arrivals; anything out of order is dropped and left to the server's
    retransmission, which loopback never needs unless a buffer overflows),
    answers PING, and sends SAY lines, keeping a few in flight and resending
    them if no ACK comes. Its acks echo the server's timestamps as the real
    client does, so the server's RTT estimate for it is true. It decodes nothing it does not need: counting room
    lines takes one byte of each DATA. Used where real ClientEngines would make
    the generator, not the server, the bottleneck.
    """

    __slots__ = ("name", "sock", "fd", "server", "session", "expect", "next_seq", "acked", "unacked",
                 "lines", "gaps", "need_ack", "msg_id", "sent", "received", "last_progress", "on_data",
                 "echo_ts", "echo_at")

    def __init__(self, name: str, server: Addr, rcvbuf: int = 1 << 20) -> None:
        self.name = name
        self.sock = udp_socket(rcvbuf)
        self.fd = self.sock.fileno()
        self.server = server
        self.session = b""
        self.expect = 0                 # next DATA seq expected from the server
        self.next_seq = 0               # our next DATA seq
        self.acked = 0                  # the server's cumulative ack of our DATA
        self.unacked: dict[int, bytes] = {}
        self.lines = 0                  # room lines received in order
        self.gaps = 0                   # DATA dropped for arriving out of order
        self.need_ack = False
        self.msg_id = 0
        self.sent = 0
        self.received = 0
        self.last_progress = 0.0
        self.on_data: Callable[[LeanMember, bytes, float], None] | None = None
        self.echo_ts = 0                # the last DATA's timestamp, and when it came
        self.echo_at = 0.0

    # joining: a blocking handshake is fine, it happens before anything is measured
    def join(self, timeout: float = 10.0) -> None:
        nonce = secrets.token_bytes(8)
        token = b""
        deadline = time.monotonic() + timeout
        self.sock.setblocking(True)
        try:
            while time.monotonic() < deadline:
                self.sock.sendto(lw.hello(nonce, self.name, token), self.server)
                self.sock.settimeout(0.5)
                try:
                    while True:
                        data, addr = self.sock.recvfrom(65535)
                        reply = lw.handshake_reply(data)
                        if reply is None or reply[1] != nonce:
                            continue
                        kind, _, value = reply
                        if kind == lw.CHALLENGE:
                            token = value
                            break
                        if kind == lw.WELCOME:
                            self.session = value
                            return
                        raise RuntimeError(f"{self.name}: refused ({value})")
                except socket.timeout:
                    continue
            raise RuntimeError(f"{self.name}: no WELCOME within {timeout} s")
        finally:
            self.sock.setblocking(False)

    def drain(self, now: float) -> int:
        """Read everything waiting; returns datagrams read."""
        recv = self.sock.recv
        n = 0
        while True:
            try:
                data = recv(2048)
            except (BlockingIOError, InterruptedError):
                break
            n += 1
            t = data[4]
            if t == _T_DATA:
                _, _, sid, seq, ack, _sack, _flags, self.echo_ts, _echo = _DATA_HDR.unpack_from(data)
                self.echo_at = now
                self._acked_to(ack, now)
                self.need_ack = True
                if seq == self.expect:
                    self.expect = (seq + 1) & 0xFFFFFFFF
                    if data[_PAYLOAD_AT] == _LINE:
                        self.lines += 1
                        if self.on_data is not None:
                            self.on_data(self, data, now)
                elif ((seq - self.expect) & 0xFFFFFFFF) < 0x80000000:
                    self.gaps += 1              # ahead: left to the server's retransmission
            elif t == _T_ACK:
                _, _, sid, ack, _sack, _echo = _ACK_HDR.unpack_from(data)
                self._acked_to(ack, now)
            elif t == _T_PING:
                self.need_ack = True
        self.received += n
        return n

    def _acked_to(self, ack: int, now: float) -> None:
        if ack != self.acked and ((ack - self.acked) & 0xFFFFFFFF) < 0x80000000:
            for s in range(self.acked, ack):
                self.unacked.pop(s & 0xFFFFFFFF, None)
            self.acked = ack
            self.last_progress = now

    @property
    def in_flight(self) -> int:
        return (self.next_seq - self.acked) & 0xFFFFFFFF

    def say(self, text: str, now: float) -> int:
        """Send one room line (with our ack piggybacked); returns its msg_id."""
        self.msg_id += 1
        payload = lw.say(self.msg_id, text)
        seq = self.next_seq
        if not self.unacked:
            self.last_progress = now
        self.unacked[seq] = payload
        self.next_seq = (seq + 1) & 0xFFFFFFFF
        self._send(self._data(seq, payload, now))
        self.need_ack = False
        return self.msg_id

    def _echo(self, now: float) -> int:
        return (self.echo_ts + int((now - self.echo_at) * 1_000_000)) & lw.STAMP_MASK

    def _data(self, seq: int, payload: bytes, now: float) -> bytes:
        return lw.data(self.session, seq, self.expect, lw.stamp(now), self._echo(now), payload)

    def send_ack(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self._send(lw.ack(self.session, self.expect, self._echo(now)))
        self.need_ack = False

    def resend_if_stalled(self, now: float, after: float = 0.2) -> None:
        if self.unacked and now - self.last_progress > after:
            for seq, payload in sorted(self.unacked.items()):
                self._send(self._data(seq, payload, now))
            self.last_progress = now

    def leave(self) -> None:
        try:
            self._send(self._data(self.next_seq, lw.leave(), time.monotonic()))
        except OSError:
            pass

    def _send(self, data: bytes) -> None:
        try:
            self.sock.sendto(data, self.server)
        except (BlockingIOError, InterruptedError):
            return                               # buffer full: acks repeat, lines are resent
        self.sent += 1

    def close(self) -> None:
        self.sock.close()


def join_lean(names: list[str], server: Addr, rcvbuf: int = 1 << 20) -> list[LeanMember]:
    out = []
    for n in names:
        lm = LeanMember(n, server, rcvbuf)
        lm.join()
        out.append(lm)
    return out


def settle_lean(members: list[LeanMember], seconds: float = 0.3) -> None:
    """Acknowledge the join traffic (member list, join notices) until the room is quiet."""
    ep = select.epoll()
    by_fd = {x.fd: x for x in members}
    for x in members:
        ep.register(x.fd, select.EPOLLIN)
    quiet_since = time.monotonic()
    try:
        while time.monotonic() - quiet_since < seconds:
            ready = ep.poll(0.05)
            now = time.monotonic()
            for fd, _ in ready:
                x = by_fd[fd]
                if x.drain(now):
                    quiet_since = now
            for x in members:
                if x.need_ack:
                    x.send_ack(now)
    finally:
        ep.close()
    for x in members:
        x.lines = 0
        x.gaps = 0
