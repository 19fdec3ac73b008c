"""A real server on loopback keeps serving its members through a storm of junk.

Two real clients join a real server (start_server on 127.0.0.1, port 0); then
several sockets blast ~20,000 junk datagrams at it as fast as they can: random
bytes, the magic and version followed by random bytes, truncated valid packets,
1,400-byte datagrams, invalid UTF-8, another protocol version, session
packets in clear with made-up session ids, and SEALED datagrams no key made. During the storm and after it the members
still exchange lines, in one order; the server thread lives; its counters (read
from the ``Stats`` events) show the drops; it logs no internal error; and no
junk socket ever got back more than three times the bytes it sent.
"""
from __future__ import annotations

import logging
import random
import socket
import threading
import time
from collections import Counter

import pytest

from udpcore import events as ev
from udpcore import wire
from udpnet import start_client, start_server
from tests.enginepair import UNLIMITED
from tests.eventlog import Log, wait_until
from tests.typing_ import typed

pytestmark = pytest.mark.timeout(90)

V1 = wire.MAGIC + bytes([wire.VERSION])
JUNK_COUNT = 20_000
JUNK_SOCKETS = 6
MAX_BLAST_SECONDS = 15.0
MIN_BLAST_SECONDS = 3.0      # bursts are spread over at least this long, so the room talks *during* it


# --- junk -----------------------------------------------------------------------------------


def _valid_packets(rng: random.Random) -> list[bytes]:
    sid = rng.randbytes(8)
    return [
        wire.encode(wire.Hello(rng.randbytes(8), "mallory", rng.randbytes(20))),
        wire.encode(wire.Hello(rng.randbytes(8), "mallory", b"", rng.randbytes(8))),
        wire.encode(wire.Challenge(rng.randbytes(8), rng.randbytes(20))),
        wire.encode(wire.Welcome(rng.randbytes(8), sid, "mallory")),
        wire.encode(wire.Refuse(rng.randbytes(8), wire.RefuseCode.FULL, "no")),
        wire.encode(wire.Data(sid, rng.getrandbits(32), rng.getrandbits(32), rng.getrandbits(32), 0,
                              rng.getrandbits(32), rng.getrandbits(32), rng.randbytes(rng.randint(0, 1000)))),
        wire.encode(wire.Ack(sid, rng.getrandbits(32), rng.getrandbits(32), rng.getrandbits(32))),
        wire.encode(wire.Ping(sid)),
        wire.encode(wire.Bye(sid, "bye")),
        wire.encode(wire.Reset(sid)),
    ]


def _invalid_utf8(rng: random.Random) -> bytes:
    bad = rng.choice([b"\x80", b"\xc3\x28", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80",
                      b"caf\xc3", b"\xfe", b"\xe2\x82"])
    text = "".join(rng.choice("abc xyz 123") for _ in range(rng.randint(0, 40))).encode()
    cut = rng.randint(0, len(text))
    return text[:cut] + bad + text[cut:]


def _forged_session(rng: random.Random) -> bytes:
    sid = rng.randbytes(8)
    return rng.choice([
        lambda: wire.encode_data(sid, rng.getrandbits(32), rng.getrandbits(32), rng.getrandbits(32),
                                 rng.choice([0, 1]), rng.getrandbits(32), rng.getrandbits(32),
                                 rng.randbytes(rng.randint(0, 200))),
        lambda: wire.encode_ack(sid, rng.getrandbits(32), rng.getrandbits(32), rng.getrandbits(32)),
        lambda: wire.encode(wire.Ping(sid)),
        lambda: wire.encode(wire.Bye(sid, "forged")),
    ])()


def _forged_sealed(rng: random.Random) -> bytes:
    """A SEALED datagram nobody's keys made: any phase, any packet number, any ciphertext."""
    return (wire.SEALED_HEADER.pack(wire.MAGIC, wire.VERSION, wire.PacketType.SEALED, rng.choice([0, 1, 2]),
                                    rng.getrandbits(32)) + rng.randbytes(rng.randint(0, 300)))


def junk(rng: random.Random) -> tuple[str, bytes]:
    """One junk datagram and its kind."""
    kind = rng.choice(["random", "magic", "truncated", "huge", "utf8", "session", "sealed", "version"])
    if kind == "random":
        data = rng.randbytes(rng.randint(0, 600))
    elif kind == "magic":
        data = V1 + rng.randbytes(rng.choice([0, 0, 1, 2, 5, 13, 30, 64, 200]))
    elif kind == "truncated":
        valid = rng.choice(_valid_packets(rng))
        data = valid[:rng.randint(0, len(valid) - 1)]
    elif kind == "huge":
        data = rng.choice([rng.randbytes(1400), V1 + bytes([wire.PacketType.DATA]) + rng.randbytes(1395)])
    elif kind == "utf8":
        data = _invalid_utf8(rng)
    elif kind == "session":
        data = _forged_session(rng)
    elif kind == "sealed":
        data = _forged_sealed(rng)
    else:
        other = rng.choice([v for v in range(256) if v != wire.VERSION])
        data = wire.MAGIC + bytes([other]) + rng.randbytes(rng.randint(0, 40))
    return kind, data


class Blaster(threading.Thread):
    """Sends ``count`` junk datagrams to ``target`` from several sockets, as fast
    as it can in bursts spread over at least ``min_seconds`` and at most
    ``max_seconds``; counts what it sent and what came back per socket."""

    def __init__(self, target: tuple[str, int], count: int, seed: int) -> None:
        super().__init__(name="junk-blaster", daemon=True)
        assert target[0] == "127.0.0.1"
        self.target = target
        self.count = count
        rng = random.Random(seed)
        self.pool = [junk(rng) for _ in range(4000)]
        self.socks = []
        for _ in range(JUNK_SOCKETS):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("127.0.0.1", 0))
            s.setblocking(False)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
            self.socks.append(s)
        self.sent_kinds: Counter[str] = Counter()
        self.sent = 0
        self.bytes_out: Counter[int] = Counter()     # per socket index
        self.bytes_in: Counter[int] = Counter()
        self.started_at = self.ended_at = 0.0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.started_at = time.monotonic()
            deadline = self.started_at + MAX_BLAST_SECONDS
            burst = 500
            bursts = -(-self.count // burst)
            gap = MIN_BLAST_SECONDS / bursts
            i = 0
            while self.sent < self.count and time.monotonic() < deadline:
                t0 = time.monotonic()
                for _ in range(min(burst, self.count - self.sent)):
                    kind, data = self.pool[i % len(self.pool)]
                    k = i % len(self.socks)
                    i += 1
                    try:
                        self.socks[k].sendto(data, self.target)
                    except (BlockingIOError, InterruptedError):
                        continue                  # our send buffer is full: the storm goes on
                    self.sent += 1
                    self.sent_kinds[kind] += 1
                    self.bytes_out[k] += len(data)
                self.drain()
                left = gap - (time.monotonic() - t0)
                if left > 0:
                    time.sleep(left)
        except BaseException as exc:
            self.error = exc
        finally:
            self.ended_at = time.monotonic()

    def drain(self) -> None:
        for k, s in enumerate(self.socks):
            while True:
                try:
                    data, src = s.recvfrom(65535)
                except (BlockingIOError, InterruptedError):
                    break
                except OSError:
                    break
                assert src[:2] == self.target
                self.bytes_in[k] += len(data)

    def close(self) -> None:
        if self.ident is not None:
            self.join(MAX_BLAST_SECONDS + 5)
        for s in self.socks:
            s.close()


# --- helpers ----------------------------------------------------------------------------------


@pytest.fixture
def room():
    srv = start_server(host="127.0.0.1", port=0, stats=True, limits=UNLIMITED)   # the storm, not the rate
    clients = []
    try:
        port = srv.address[1]
        alice = start_client(f"127.0.0.1:{port}", "alice")
        clients.append(alice)
        bob = start_client(f"127.0.0.1:{port}", "bob")
        clients.append(bob)
        logs = {"server": Log(srv.events), "alice": Log(alice.events), "bob": Log(bob.events)}
        wait_until(logs.values(), lambda: len(logs["server"].of(ev.MemberJoined)) == 2
                   and logs["alice"].of(ev.Connected) and logs["bob"].of(ev.Connected), 10, "both to join")
        yield srv, alice, bob, logs
    finally:
        for c in clients:
            c.close(timeout=1.0, wait=False)
        for c in clients:
            c._loop.join(3.0)
        srv.close(timeout=1.0)
        assert not srv._loop.alive and not any(c._loop.alive for c in clients), "a thread was left running"


# --- the test --------------------------------------------------------------------------------


def test_room_keeps_talking_through_a_storm_of_junk(room, caplog):
    caplog.set_level(logging.WARNING, logger="udpcore")
    srv, alice, bob, logs = room
    slog, alog, blog = logs["server"], logs["alice"], logs["bob"]
    blaster = Blaster(srv.address, JUNK_COUNT, seed=99)
    said: list[tuple[str, str]] = []

    def say(client, who: str, text: str) -> None:
        typed(client, text)
        said.append((who, text))

    try:
        blaster.start()
        # During the storm: both members talk, and lines come through while it lasts.
        n = 0
        while blaster.is_alive() and n < 200:
            say(alice, "alice", f"alice during #{n}")
            say(bob, "bob", f"bob during #{n} ✨")
            n += 1
            for log in logs.values():
                log.pump()
            time.sleep(0.02)
        blaster.join(MAX_BLAST_SECONDS + 5)
        assert not blaster.is_alive() and blaster.error is None, blaster.error
        end = blaster.ended_at
        assert blaster.sent >= JUNK_COUNT * 0.9, (blaster.sent, blaster.sent_kinds)
        assert n >= 5, f"only {n} lines were typed while the storm lasted ({end - blaster.started_at:.2f} s)"
        for log in logs.values():
            log.pump()
        got_during = [t for t, e in zip(blog.seen_at, blog.events) if isinstance(e, ev.RoomLine) and e.sender == "alice" and t < end]
        assert got_during, "no line got through while the storm lasted"

        # After the storm: more lines, and everything said arrives, once, in one order.
        for i in range(20):
            say(alice, "alice", f"alice after #{i}")
            say(bob, "bob", f"bob after #{i} — fin")
        wait_until(logs.values(), lambda: len(alog.member_lines()) >= len(said)
                   and len(blog.member_lines()) >= len(said)
                   and len(slog.member_lines()) >= len(said), 30,
                   lambda: f"{len(said)} lines (server {len(slog.member_lines())}, alice "
                           f"{len(alog.member_lines())}, bob {len(blog.member_lines())})")
        order = slog.member_lines()
        assert sorted((s, t) for _, s, t in order) == sorted(said)
        for who in ("alice", "bob"):
            assert [t for _, s, t in order if s == who] == [t for s, t in said if s == who]
        assert alog.member_lines() == order and blog.member_lines() == order
        for log, me in ((alog, "alice"), (blog, "bob")):
            assert all(e.own == (e.sender == me) for e in log.of(ev.RoomLine) if e.sender in ("alice", "bob"))
            assert not log.of(ev.ConnectionLost) and not log.of(ev.ServerClosed)
            assert not [e for e in log.of(ev.MemberLeft) if e.name in ("alice", "bob")]

        # The server thread lives, keeps reporting, and counted the junk it dropped.
        assert srv._loop.alive
        stats_before = len(slog.of(ev.Stats))
        wait_until([slog], lambda: len(slog.of(ev.Stats)) >= stats_before + 2, 5, "two more Stats events")
        stats = slog.of(ev.Stats)[-1]
        c = stats.counters
        assert {m.name for m in stats.members} >= {"alice", "bob"}
        assert c.get("malformed", 0) > 0 and c.get("unknown_session", 0) > 0 and c.get("version", 0) > 0, c
        assert c.get("unsealed", 0) > 0, c            # the made-up session packets in clear
        assert stats.dropped == sum(c.values())
        assert c.get("version", 0) <= blaster.sent_kinds["version"]
        assert c.get("wrong_address", 0) == 0 and c.get("too_slow", 0) == 0, c
        assert srv._loop.alive

        # Anti-amplification: no junk socket got back more than 3x what it sent.
        time.sleep(0.2)
        blaster.drain()
        for k in range(JUNK_SOCKETS):
            assert blaster.bytes_in[k] <= 3 * blaster.bytes_out[k], (k, blaster.bytes_in[k], blaster.bytes_out[k])
    finally:
        blaster.close()

    # Last, because it names a bug rather than a symptom: no datagram tripped an
    # exception inside the engine (the transport logs the first one and drops it).
    errors = [r for r in caplog.records if r.name == "udpcore" and r.levelno >= logging.ERROR]
    assert not errors, f"{len(errors)} internal error(s), first: {errors[0].getMessage()} {errors[0].exc_info[1]!r}"
    assert srv._loop.internal_errors == 0
