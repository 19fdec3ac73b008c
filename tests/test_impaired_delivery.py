"""Real transports on loopback, through a proxy that loses, duplicates and reorders.

Several clients talk at once through ``tests.impairment.ImpairmentProxy`` at
20 % loss, 5 % duplication and reordering in both directions. Every member must
see every room line exactly once and in the server's order; a client that
leaves right after typing must still get everything it typed to the server.

The proxy's seed can be set with IMPAIR_SEED=<int> to replay a failure.
"""
from __future__ import annotations

import os
import random
import socket
import threading
import time

import pytest

from udpcore import LeaveReason, events as ev
from udpnet import start_client, start_server
from tests.enginepair import UNLIMITED
from tests.eventlog import Log, wait_until
from tests.typing_ import typed
from tests.impairment import ImpairmentProxy

SEED = int(os.environ.get("IMPAIR_SEED", "1729"))
LOSSY = dict(p_drop=0.20, p_dup=0.05, p_reorder=0.10, max_delay=0.02, hold_max=4)
EMOJI = ["😀", "🎉", "👍", "🚀", "🌍", "🔥", "🐍", "🇫🇷", "☕", "✨", "𝄞", "é", "中文"]


# --- helpers ------------------------------------------------------------------------------


def room_broke(room: "Room", names: list[str]) -> None:
    """Fail at once (instead of at the timeout) when somebody lost the connection
    or was dropped from the room: lines are then lost, not late."""
    broken = [(n, e) for n in names for e in room.logs[n].events
              if isinstance(e, (ev.ConnectionLost, ev.Reconnected, ev.MemberLeft))]
    broken += [("server", e) for e in room.server_log.events if isinstance(e, ev.MemberLeft)]
    if broken:
        raise AssertionError(f"the lossy link broke the room: {broken[:6]} ({room.proxy!r})")


def make_lines(name: str, n: int, rng: random.Random, long_every: int = 10) -> list[str]:
    """Short lines, emoji lines, and every ``long_every``-th line 3-8 KiB (3 to 7 fragments)."""
    out = []
    for i in range(n):
        head = f"{name} #{i}"
        if i % long_every == 2:
            target = rng.randint(3 * 1024, 8 * 1024)
            parts = [head, " "]
            size = len(head.encode()) + 1
            while size < target:
                piece = rng.choice(EMOJI) if rng.random() < 0.3 else rng.choice(["lorem", "ipsum", "dolor", "42", " "])
                parts.append(piece)
                size += len(piece.encode())
            text = "".join(parts).encode()[:target].decode("utf-8", "ignore").rstrip()
        elif i % 3 == 1:
            text = f"{head} " + "".join(rng.choice(EMOJI) for _ in range(rng.randint(1, 12)))
        else:
            text = f"{head} plain line {rng.randint(0, 10**6)}"
        assert len(text.encode()) <= 8192 and not text.startswith("/")
        out.append(text)
    return out


class Room:
    """A server, an impairment proxy in front of it, and clients; all closed at the end."""

    def __init__(self, seed: int, **impair) -> None:
        self.server = start_server(host="127.0.0.1", port=0, stats=False, limits=UNLIMITED)
        self.server_log = Log(self.server.events)
        self.proxies: list[ImpairmentProxy] = []
        self.clients = []
        self.logs: dict[str, Log] = {}
        try:
            self.proxy = ImpairmentProxy(self.server.address, seed=seed, **impair)
        except BaseException:
            self.server.close(timeout=0.5)
            raise
        self.proxies.append(self.proxy)

    def join(self, name: str):
        c = start_client(f"127.0.0.1:{self.proxy.port}", name)
        self.clients.append(c)
        self.logs[name] = Log(c.events)
        return c

    def close(self) -> None:
        for c in self.clients:
            c.close(timeout=1.0, wait=False)
        for c in self.clients:
            c._loop.join(3.0)
        self.server.close(timeout=0.5)
        for p in self.proxies:
            p.close()
        alive = [c.name for c in self.clients if c._loop.alive]
        assert not alive, f"client threads still running: {alive}"
        assert not self.server._loop.alive, "server thread still running"


@pytest.fixture
def lossy_room():
    room = Room(SEED, **LOSSY)
    try:
        yield room
    finally:
        room.close()


def joined(room: Room, names: list[str], timeout: float = 15.0) -> list:
    clients = [room.join(n) for n in names]
    logs = [room.server_log, *room.logs.values()]
    wait_until(logs, lambda: len(room.server_log.of(ev.MemberJoined)) == len(names)
               and all(room.logs[n].of(ev.Connected) for n in names), timeout,
               f"{names} to join through the lossy proxy ({room.proxy!r})")
    for n in names:
        bad = room.logs[n].of(ev.JoinRefused) + room.logs[n].of(ev.Unreachable)
        assert not bad, f"{n}: {bad}"
    return clients


# --- the proxy itself ----------------------------------------------------------------------


@pytest.mark.timeout(20)
def test_proxy_forwards_both_ways_with_one_upstream_socket_per_client():
    echo = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    echo.bind(("127.0.0.1", 0))
    echo.settimeout(0.1)
    seen: list[tuple] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                data, src = echo.recvfrom(2048)
            except socket.timeout:
                continue
            except OSError:
                return
            seen.append(src)
            echo.sendto(b"echo:" + data, src)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    socks = []
    proxy = ImpairmentProxy(echo.getsockname(), seed=1)
    try:
        for i in range(2):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("127.0.0.1", 0))
            s.settimeout(2.0)
            socks.append(s)
        for n in range(20):
            for i, s in enumerate(socks):
                s.sendto(f"{i}:{n}".encode(), proxy.address)
        for i, s in enumerate(socks):
            got = [s.recvfrom(2048) for _ in range(20)]
            assert [d for d, _ in got] == [f"echo:{i}:{n}".encode() for n in range(20)]
            assert {src for _, src in got} == {proxy.address}
        assert len(set(seen)) == 2 and proxy.address not in seen
        assert {proxy.upstream_address_of(s.getsockname()) for s in socks} == set(seen)
        deadline = time.monotonic() + 2.0             # the proxy counts just after it sends
        while proxy.counts["forwarded_down"] < 40 and time.monotonic() < deadline:
            time.sleep(0.005)
        assert proxy.dropped == proxy.duplicated == proxy.reordered == 0
        assert proxy.counts["forwarded_up"] == proxy.counts["forwarded_down"] == 40
    finally:
        proxy.close()
        stop.set()
        echo.close()
        t.join(3)
        for s in socks:
            s.close()
    assert not proxy.alive


@pytest.mark.timeout(20)
def test_proxy_duplicates_and_reorders_what_it_is_told_to():
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    sink.bind(("127.0.0.1", 0))
    sink.settimeout(1.0)
    src = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    src.bind(("127.0.0.1", 0))
    proxy = ImpairmentProxy(sink.getsockname(), p_dup=1.0, p_reorder=0.3, seed=3)
    try:
        for n in range(100):
            src.sendto(n.to_bytes(2, "big"), proxy.address)
            time.sleep(0.0005)
        got = []
        try:
            while len(got) < 200:
                got.append(int.from_bytes(sink.recvfrom(16)[0], "big"))
        except socket.timeout:
            pass
        assert sorted(got) == sorted(list(range(100)) * 2)
        assert got != sorted(got), "nothing was reordered"
        assert proxy.duplicated == 100 and proxy.reordered > 0 and proxy.dropped == 0
    finally:
        proxy.close()
        sink.close()
        src.close()


# --- the chat through it -------------------------------------------------------------------


@pytest.mark.timeout(60)
def test_every_member_gets_every_line_once_in_server_order_through_loss(lossy_room):
    room = lossy_room
    names = ["alice", "Bøb", "carol", "дэйв"]
    clients = joined(room, names)
    rng = random.Random(SEED)
    sent = {n: make_lines(n, 100, rng, long_every=5) for n in names}
    total = sum(len(v) for v in sent.values())
    for i in range(100):
        for n, c in zip(names, clients):
            typed(c, sent[n][i])
        if i % 10 == 9:
            time.sleep(0.01)          # a little spread, as people type

    logs = [room.server_log, *room.logs.values()]
    wait_until(logs, lambda: room_broke(room, names) or len(room.server_log.of(ev.RoomLine)) >= total
               and all(len(room.logs[n].room_lines()) >= total for n in names), 45,
               lambda: f"{total} lines to reach every member ({room.proxy!r}; "
               f"server {len(room.server_log.of(ev.RoomLine))}, "
               + ", ".join(f"{n} {len(room.logs[n].room_lines())}" for n in names) + ")")
    time.sleep(0.5)                   # late duplicates would show up now
    for log in logs:
        log.pump()

    server_order = [(e.seq, e.sender, e.text) for e in room.server_log.of(ev.RoomLine)]
    assert len(server_order) == total
    assert [s for s, _, _ in server_order] == list(range(1, total + 1))
    for n in names:                   # each sender's lines, in the order typed, each once
        assert [t for _, s, t in server_order if s == n] == sent[n]

    for n in names:
        log = room.logs[n]
        got = [(e.seq, e.sender, e.text) for e in log.room_lines()]
        assert got == server_order, f"{n} saw a different room ({room.proxy!r})"
        pending = log.of(ev.LinePending)
        assert [p.text for p in pending] == sent[n]
        assert len({p.msg_id for p in pending}) == len(pending)
        own = [e for e in log.room_lines() if e.sender == n]
        assert all(e.own for e in own)
        assert [(e.msg_id, e.text) for e in own] == [(p.msg_id, p.text) for p in pending]
        others = [e for e in log.room_lines() if e.sender != n]
        assert not any(e.own for e in others) and all(e.msg_id is None for e in others)
        assert not log.of(ev.ConnectionLost) and not log.of(ev.CommandError), log.events[-5:]

    c = room.proxy.counts
    for d in ("up", "down"):
        assert c[f"dropped_{d}"] > 0 and c[f"duplicated_{d}"] > 0 and c[f"reordered_{d}"] > 0, dict(c)
    # About a fifth of what reached the proxy was dropped (loose bounds: it is random).
    for d in ("up", "down"):
        assert 0.1 < c[f"dropped_{d}"] / c[f"received_{d}"] < 0.3, dict(c)


@pytest.mark.timeout(60)
def test_lines_typed_just_before_leaving_all_reach_the_server(lossy_room):
    room = lossy_room
    names = ["erin", "frank", "grace"]
    watcher, frank, grace = joined(room, names)
    rng = random.Random(SEED + 1)
    sent = {n: make_lines(n, 30, rng) for n in ("frank", "grace")}
    for i in range(30):
        typed(frank, sent["frank"][i])
        typed(grace, sent["grace"][i])
    t0 = time.monotonic()
    frank.close(timeout=20.0, wait=False)      # at once: most lines are still in flight
    grace.close(timeout=20.0, wait=False)
    leavers = [room.logs["frank"], room.logs["grace"]]
    wait_until([room.server_log, *room.logs.values()],
               lambda: all(log.of(ev.Closed) for log in leavers), 25, "both leavers to close")
    took = time.monotonic() - t0
    assert took < 20.0, f"close() ran into its timeout instead of finishing the leave ({took:.1f} s)"

    wait_until([room.server_log, room.logs["erin"]],
               lambda: len(room.server_log.of(ev.MemberLeft)) == 2
               and len(room.logs["erin"].of(ev.MemberLeft)) == 2, 10, "the leaves to be seen")
    srv = room.server_log.events
    for n in ("frank", "grace"):
        lines = [e.text for e in srv if isinstance(e, ev.RoomLine) and e.sender == n]
        assert lines == sent[n], f"the server did not get all of {n}'s lines ({room.proxy!r})"
        left = [i for i, e in enumerate(srv) if isinstance(e, ev.MemberLeft) and e.name == n]
        last_line = max(i for i, e in enumerate(srv) if isinstance(e, ev.RoomLine) and e.sender == n)
        assert len(left) == 1 and left[0] > last_line
        assert srv[left[0]] == ev.MemberLeft(n, LeaveReason.LEFT)

        log = room.logs[n]
        assert isinstance(log.events[-1], ev.Closed) and len(log.of(ev.Closed)) == 1
        pending = log.of(ev.LinePending)
        own = [e for e in log.room_lines() if e.own]
        # The leave waits for the echo of everything typed (the SYNC barrier).
        assert [(e.msg_id, e.text) for e in own] == [(p.msg_id, p.text) for p in pending]
        assert [p.text for p in pending] == sent[n]
        assert not log.of(ev.CommandError) and not log.of(ev.ServerClosed)

    erin = room.logs["erin"]
    server_order = [(e.seq, e.sender, e.text) for e in room.server_log.of(ev.RoomLine)]
    assert [(e.seq, e.sender, e.text) for e in erin.room_lines()] == server_order
    assert sorted((e.name, e.reason) for e in erin.of(ev.MemberLeft)) == [("frank", LeaveReason.LEFT), ("grace", LeaveReason.LEFT)]
