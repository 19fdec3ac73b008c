"""Load generator 2: lean members, from the wire format and udpcore's crypto.

:class:`LeanMember` costs the generator less per datagram than the server it
loads (the relay bench needs that); it speaks the few packets of
:mod:`bench.lean_wire`. :class:`Handshake` is one join, step by step (many at
once for the join storms); :func:`join_lean` joins a list of members,
:func:`settle_lean` acknowledges the join traffic until the room is quiet.

Against a version-2 server (this release) the member does the real
handshake and the real packet protection, as a real client would: a fresh
X25519 key per join (``udpcore.keying.ClientKeying``), SPAKE2 in a locked room,
the server's key confirmation checked, then every packet sealed with
ChaCha20-Poly1305 and every datagram from the server opened, its replay window
kept (``udpcore.sealing.Seal``, through :mod:`bench.lean_crypto`). Only the
encoding of the packets inside is the bench's own. Against a version-1 server (the previous release: it refuses our
HELLO with REFUSE VERSION) the same member speaks version 1, in clear, so one
bench can load both releases' servers in one run.
"""
from __future__ import annotations

import secrets
import select
import socket
import time
from typing import Callable

from bench import lean_wire as lw
from bench.lean_crypto import ClientKeying, DecryptError, HandshakeError, Seal, client_seal
from bench.loopback import LOOPBACK, Addr, udp_socket

_DATA_HDR, _ACK_HDR, _PAYLOAD_AT = lw.DATA_HDR, lw.ACK_PKT, lw.PAYLOAD_AT
_T_DATA, _T_ACK, _T_PING, _T_FRAMES = lw.DATA, lw.ACK, lw.PING, lw.FRAMES
_LINE = lw.LINE
_SEALED_PREFIX = lw.SEALED_PREFIX
HELLO_RETRY = 0.25          # a real client never repeats a HELLO sooner (wire.HELLO_FIRST_RETRY)


class Refused(RuntimeError):
    """The server refused the join (``code``: lean_wire.REFUSALS)."""

    def __init__(self, name: str, code: int, why: str) -> None:
        super().__init__(f"{name}: refused ({why})")
        self.code = code


class LeanMember:
    """A member that costs the load generator as little as possible.

    It joins with the real handshake (:class:`Handshake`), then only:
    acknowledges the server's DATA cumulatively (in-order arrivals; anything out
    of order is dropped and left to the server's retransmission, which loopback
    never needs unless a buffer overflows), answers PING, and sends SAY lines,
    keeping a few in flight and resending them if no ACK comes. Its acks echo
    the server's timestamps as the real client does, so the server's RTT
    estimate for it is true. It decodes nothing it does not need: counting room
    lines takes one byte of each DATA (once the datagram is opened, version 2).
    Used where real ClientEngines would make the generator, not the server, the
    bottleneck.
    """

    __slots__ = ("name", "sock", "fd", "server", "session", "expect", "next_seq", "acked", "unacked",
                 "lines", "gaps", "need_ack", "msg_id", "sent", "received", "last_progress",
                 "echo_ts", "echo_at", "version", "prefix", "seal", "opener", "sealer", "undecryptable",
                 "passphrase", "resets")

    def __init__(self, name: str, server: Addr, rcvbuf: int = 1 << 20, host: str = LOOPBACK,
                 passphrase: str = "") -> None:
        self.name = name
        self.sock = udp_socket(rcvbuf, host)
        self.fd = self.sock.fileno()
        self.server = server
        self.passphrase = passphrase
        self.session = b""
        self.version = lw.VERSION
        self.prefix = lw.PREFIX
        self.seal: Seal | None = None
        self.opener: Callable[[bytes], bytes] | None = None     # Seal.open, once joined (version 2)
        self.sealer: Callable[[bytes], bytes] | None = None     # Seal.seal
        self.expect = 0                 # next DATA seq expected from the server
        self.next_seq = 0               # our next DATA seq
        self.acked = 0                  # the server's cumulative ack of our DATA
        self.unacked: dict[int, bytes] = {}
        self.lines = 0                  # room lines received in order
        self.gaps = 0                   # DATA dropped for arriving out of order
        self.undecryptable = 0          # datagrams that did not open (forged, damaged, replayed)
        self.resets = 0                 # RESETs from the server (it holds no session for us)
        self.need_ack = False
        self.msg_id = 0
        self.sent = 0
        self.received = 0
        self.last_progress = 0.0
        self.echo_ts = 0                # the last DATA's timestamp, and when it came
        self.echo_at = 0.0

    def keyed(self, session: bytes, seal: Seal | None, version: int) -> None:
        """The handshake's outcome: the session, and (version 2) its packet protection."""
        self.session = session
        self.version = version
        self.prefix = lw.prefix(version)
        self.seal = seal
        self.opener = seal.open if seal is not None else None
        self.sealer = seal.seal if seal is not None else None

    # joining: a blocking handshake is fine, it happens before anything is measured
    def join(self, timeout: float = 10.0, version: int | None = None) -> None:
        """Join; against a server that refuses version 2, join again in version 1
        (unless ``version`` says which). RuntimeError (Refused) if it cannot."""
        deadline = time.monotonic() + timeout
        versions = [version] if version else [lw.VERSION, 1]
        for v in versions:
            try:
                self._join(v, deadline)
                return
            except Refused as exc:
                if exc.code != lw.REFUSE_VERSION or v == versions[-1]:
                    raise

    def _join(self, version: int, deadline: float) -> None:
        hs = Handshake(self, time.monotonic(), version)
        sock = self.sock
        ep = select.epoll()
        ep.register(self.fd, select.EPOLLIN)
        try:
            while hs.state not in ("in", "refused"):
                now = time.monotonic()
                if now > deadline:
                    raise RuntimeError(f"{self.name}: not in the room ({hs.state}) by the deadline")
                hs.tick(now)
                ep.poll(min(0.05, max(0.0, deadline - now)))
                while hs.state not in ("in", "refused"):
                    try:
                        data = sock.recv(65535)
                    except (BlockingIOError, InterruptedError):
                        break
                    hs.datagram(data, time.monotonic())
        finally:
            ep.close()
        if hs.state == "refused":
            raise Refused(self.name, hs.refused[0], hs.refused[1])

    def handle(self, data: bytes, now: float) -> None:
        """One datagram from the server (what ``drain`` does to each, one at a time)."""
        opener = self.opener
        if opener is not None:
            if data[:5] != _SEALED_PREFIX:
                self._clear(data, now)
                return
            try:
                data = opener(data)
            except DecryptError:
                self.undecryptable += 1
                return
        self._inner(data, now)

    def _inner(self, data: bytes, now: float) -> None:
        t = data[4]
        if t == _T_DATA:
            _, _, sid, seq, ack, _sack, _flags, self.echo_ts, _echo = _DATA_HDR.unpack_from(data)
            self.echo_at = now
            self._acked_to(ack, now)
            self.need_ack = True
            self._fragment(seq, data, _PAYLOAD_AT, now)
        elif t == _T_FRAMES:
            self._frames(data, now)
        elif t == _T_ACK:
            _, _, sid, ack, _sack, _echo = _ACK_HDR.unpack_from(data)
            self._acked_to(ack, now)
        elif t == _T_PING:
            self.need_ack = True

    def _fragment(self, seq: int, data: bytes, at: int, now: float) -> None:
        """One fragment from the server, its first byte at ``data[at]``: counted when in order."""
        if seq == self.expect:
            self.expect = (seq + 1) & 0xFFFFFFFF
            if data[at] == _LINE:
                self.lines += 1
        elif ((seq - self.expect) & 0xFFFFFFFF) < 0x80000000:
            self.gaps += 1              # ahead: left to the server's retransmission

    def _frames(self, data: bytes, now: float) -> None:
        """A FRAMES (version 3): its ack fields, then each fragment as a DATA's."""
        _sid, ack, self.echo_ts, fragments = lw.frames(data)
        self.echo_at = now
        self._acked_to(ack, now)
        self.need_ack = True
        for seq, _flags, start, _length in fragments:
            self._fragment(seq, data, start, now)

    def _clear(self, data: bytes, now: float) -> None:
        """A datagram in clear from a version-2 server: a RESET, or a late handshake packet."""
        if data[:5] == lw.RESET_PREFIX:
            self.resets += 1

    def drain(self, now: float) -> int:
        """Read everything waiting; returns datagrams read. (``handle``, inlined: the hot path.)"""
        recv = self.sock.recv
        opener = self.opener
        n = 0
        while True:
            try:
                data = recv(2048)
            except (BlockingIOError, InterruptedError):
                break
            n += 1
            if opener is not None:
                if data[:5] != _SEALED_PREFIX:
                    self._clear(data, now)
                    continue
                try:
                    data = opener(data)
                except DecryptError:
                    self.undecryptable += 1
                    continue
            t = data[4]
            if t == _T_DATA:
                _, _, sid, seq, ack, _sack, _flags, self.echo_ts, _echo = _DATA_HDR.unpack_from(data)
                self.echo_at = now
                self._acked_to(ack, now)
                self.need_ack = True
                self._fragment(seq, data, _PAYLOAD_AT, now)
            elif t == _T_FRAMES:
                self._frames(data, now)
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
        return _DATA_HDR.pack(self.prefix, _T_DATA, self.session, seq, self.expect, 0, 0, lw.stamp(now),
                              self._echo(now)) + payload

    def send_ack(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self._send(_ACK_HDR.pack(self.prefix, _T_ACK, self.session, self.expect, 0, self._echo(now)))
        self.need_ack = False

    def send_ping(self) -> None:
        self._send(lw.ping(self.session, self.version))

    def send_bye(self) -> None:
        self._send(lw.bye(self.session, self.version))

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
        """Send one session packet: sealed (version 2; every datagram a fresh packet number), else as is."""
        sealer = self.sealer
        if sealer is not None:
            data = sealer(data)
        try:
            self.sock.sendto(data, self.server)
        except (BlockingIOError, InterruptedError):
            return                               # buffer full: acks repeat, lines are resent
        self.sent += 1

    def close(self) -> None:
        self.sock.close()


class Handshake:
    """One join of ``mem``, driven by its datagrams (so that many can run at once).

    HELLO (padded to 200 bytes, with a fresh X25519 key in version 2) →
    CHALLENGE (the token; locked or not) → HELLO with the token (and, in a
    locked room, the SPAKE2 message for it) → WELCOME; in version 2 the server's
    key confirmation is checked, the member seals a PING at once (the server
    admits it when its first sealed packet opens) and repeats it until the
    server's first sealed packet opens, which is then handled as any other
    (it is the member list, or a join notice). HELLO and PING are repeated every
    ``retry`` seconds while unanswered, never sooner than a real client does.

    ``state``: "hello", "confirming", "in" or "refused" (``refused`` = (code, why)).
    Times: ``started``, ``challenged_at``, ``welcomed_at``, ``in_at``.
    """

    __slots__ = ("mem", "version", "nonce", "token", "keying", "pake", "state", "refused", "retry",
                 "resend_at", "started", "challenged_at", "welcomed_at", "in_at", "hellos", "pings")

    def __init__(self, mem: LeanMember, now: float, version: int = lw.VERSION, retry: float = 0.5,
                 keying: ClientKeying | None = None) -> None:
        self.mem = mem
        self.version = version
        self.nonce = secrets.token_bytes(8)
        self.token = b""
        self.keying = (keying or ClientKeying(mem.passphrase)) if version >= 2 else None
        self.pake = b""
        self.state = "hello"
        self.refused: tuple[int, str] = (0, "")
        self.retry = max(HELLO_RETRY, retry)
        self.started = now
        self.challenged_at = self.welcomed_at = self.in_at = 0.0
        self.hellos = self.pings = 0
        self._hello(now)

    def _hello(self, now: float) -> None:
        public = self.keying.share.public if self.keying is not None else b""
        self._raw(lw.hello(self.nonce, self.mem.name, self.token, public, self.pake, self.version))
        self.hellos += 1
        self.resend_at = now + self.retry

    def _raw(self, data: bytes) -> None:
        try:
            self.mem.sock.sendto(data, self.mem.server)
        except OSError:
            pass

    def _ping(self, now: float) -> None:
        try:
            self.mem.send_ping()
        except OSError:
            pass
        self.pings += 1
        self.resend_at = now + self.retry

    def tick(self, now: float) -> None:
        """Repeat what is unanswered, when due."""
        if now < self.resend_at:
            return
        if self.state == "hello":
            self._hello(now)
        elif self.state == "confirming":
            self._ping(now)

    def datagram(self, data: bytes, now: float) -> str:
        """Take one datagram from the server; returns the state after it."""
        if self.state == "confirming":
            if data[:5] == _SEALED_PREFIX:
                try:
                    inner = self.mem.opener(data)           # type: ignore[misc]
                except DecryptError:
                    self.mem.undecryptable += 1
                    return self.state
                self.state, self.in_at = "in", now
                self.mem.received += 1
                self.mem._inner(inner, now)
                return self.state
            if data[:5] == lw.RESET_PREFIX:                  # the server forgot the pending join: again
                self.mem.resets += 1
                self.state, self.token, self.pake = "hello", b"", b""
                self.nonce = secrets.token_bytes(8)
                self.keying = ClientKeying(self.mem.passphrase)
                self._hello(now)
                return self.state
        if self.state not in ("hello", "confirming"):
            return self.state
        reply = lw.handshake_reply(data, self.version)
        if reply is None:
            return self.state
        kind, nonce, body = reply
        if kind == lw.REFUSE and (nonce == self.nonce or body.code == lw.REFUSE_VERSION):
            self.state, self.refused = "refused", (body.code, body.why)
        elif nonce != self.nonce or self.state != "hello":
            pass                                              # another join's, or a repeat
        elif kind == lw.CHALLENGE:
            if body.token != self.token:
                if self.keying is not None:
                    if body.locked and not self.mem.passphrase:
                        raise RuntimeError(f"{self.mem.name}: the room is locked and no passphrase was given")
                    if self.mem.passphrase and not body.locked:
                        raise RuntimeError(f"{self.mem.name}: a passphrase was given but the room is open")
                    self.pake = self.keying.challenged(body.locked, body.room, self.nonce, body.token)
                self.token = body.token
                self.challenged_at = now
                self._hello(now)                               # at once, as a real client does
        elif kind == lw.WELCOME and self.token:
            self.welcomed_at = now
            if self.keying is None:                            # version 1: in at the WELCOME
                self.mem.keyed(body.session, None, self.version)
                self.state, self.in_at = "in", now
            else:
                try:
                    # Any token it answered, as a real client (udpcore.joining): a WELCOME
                    # for the HELLO before a second CHALLENGE checks only with that token.
                    keys, _token = self.keying.welcomed_any(body.public, body.pake, body.confirm, self.nonce,
                                                            body.session)
                except HandshakeError as exc:
                    raise RuntimeError(f"{self.mem.name}: {exc}") from None
                self.mem.keyed(body.session, client_seal(keys), self.version)
                self.state = "confirming"
                self._ping(now)                                # admits us once it opens
        return self.state


def join_lean(names: list[str], server: Addr, rcvbuf: int = 1 << 20, passphrase: str = "") -> list[LeanMember]:
    out = []
    for n in names:
        lm = LeanMember(n, server, rcvbuf, passphrase=passphrase)
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


def server_version(server: Addr, timeout: float = 3.0) -> int:
    """The protocol version a server speaks: a version-2 HELLO (no token) gets a
    CHALLENGE from a version-2 server and REFUSE VERSION from a version-1 one."""
    s = udp_socket(1 << 16)
    try:
        nonce = secrets.token_bytes(8)
        s.setblocking(True)
        s.settimeout(0.3)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            s.sendto(lw.hello(nonce, "probe", public=bytes(32)), server)
            try:
                while True:
                    reply = lw.handshake_reply(s.recv(65535))
                    if reply is None:
                        continue
                    if reply[0] == lw.CHALLENGE:
                        return lw.VERSION
                    if reply[0] == lw.REFUSE and reply[2].code == lw.REFUSE_VERSION:
                        return 1
            except socket.timeout:
                continue
        raise RuntimeError(f"no answer from {server[0]}:{server[1]}")
    finally:
        s.close()
