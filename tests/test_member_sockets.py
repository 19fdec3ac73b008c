"""Members' own sockets (udpnet/member_sockets.py): while a flood lasts, each member's
datagrams queue apart from it; the sockets open when the server stops keeping up and
close when it is calm again; the port is still the room's alone. Linux; loopback only."""
from __future__ import annotations

import contextlib
import socket
import threading
import time

import pytest

from udpcore import PortBusyError
from udpnet import loop as loop_module, member_sockets
from udpnet.loop import SocketLoop
from udpnet.member_sockets import MemberSockets
from udpnet.sockets import bind_server_socket
from tests.stub_engine import StubEngine

pytestmark = [pytest.mark.timeout(30),
              pytest.mark.skipif(not member_sockets.ENABLED, reason="members' own sockets are Linux's")]


class Recorder(StubEngine):
    """An engine that notes what came in, says what it is told to, and has the members
    the test gives it (changed on the socket thread, through ``SocketLoop.call``)."""

    def __init__(self) -> None:
        self.got: list[tuple[bytes, tuple]] = []
        self.addrs: list[tuple[str, int]] = []
        self.members_version = 0
        self.out: list[tuple[bytes, tuple]] = []
        self.slow = 0.0                   # seconds each datagram from outside the room takes
        self.busy = 0.0                   # seconds those datagrams took, in all
        self.answer: tuple | None = None  # an address whose datagrams are answered ("relayed")
        self.log: list[str] = []          # with ``answer``: "in" / "flood in" / "out", in order
        self.batches: list[int] = []      # datagrams from outside the room read between two sends
        self._outside = 0

    def set_members(self, addrs) -> None:
        self.addrs = list(addrs)
        self.members_version += 1

    def member_addresses(self):
        return list(self.addrs)

    def receive_datagram(self, data, addr, now):
        self.got.append((data, addr))
        if self.answer is not None:
            self.log.append("in" if addr == self.answer else "flood in")
            if addr == self.answer:
                self.out.append((b"relayed", addr))
        if addr not in self.addrs:
            self._outside += 1
        if self.slow and addr not in self.addrs:
            began = time.perf_counter()
            time.sleep(self.slow)
            self.busy += time.perf_counter() - began

    def datagrams_to_send(self, now):
        out, self.out = self.out, []
        self.batches.append(self._outside)
        self._outside = 0
        if self.answer is not None:
            self.log.extend("out" for _ in out)
        return out

    def from_(self, addr) -> list[bytes]:
        return [d for d, a in self.got if a == addr]


def until(cond, timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.01)
    return cond()


def udp(host: str) -> socket.socket:
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((host, 0))
    return s


@contextlib.contextmanager
def flooding(port: int, burst: int, pause: float):
    """A thread sending ``burst`` datagrams from 127.0.0.2 to the port every ``pause`` s, while inside."""
    stop = threading.Event()

    def flood():
        f = udp("127.0.0.2")
        while not stop.is_set():
            for _ in range(burst):
                f.sendto(b"x" * 100, ("127.0.0.1", port))
            time.sleep(pause)
        f.close()
    t = threading.Thread(target=flood)
    t.start()
    try:
        yield
    finally:
        stop.set()
        t.join(5)


@pytest.fixture
def room(request):
    """(engine, loop, members, port) on 127.0.0.1; the loop stopped afterwards."""
    made = []

    def make(host="127.0.0.1", rcvbuf: int | None = None, enabled: bool = True, cap: int = member_sockets.MAX_SOCKETS,
             flooded: bool = True, calm_for: float = 3600.0):
        """``flooded``: the sockets opened at once, as a flood would (``calm_for`` keeps them)."""
        sock = bind_server_socket(host, 0)
        if rcvbuf:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        eng = Recorder()
        members = MemberSockets(sock, cap=cap, calm_for=calm_for)
        members.enabled = members.enabled and enabled
        loop = SocketLoop(eng, sock, "test-members", members=members)
        if flooded and members.enabled:
            done = threading.Event()
            loop.call(lambda now: (members.flooded(now), done.set()))
            assert done.wait(3)
        made.append(loop)
        return eng, loop, members, sock.getsockname()[1]
    yield make
    for loop in made:
        loop.stop_by(0.0)
        loop.call(lambda now: None)
        loop.join(5)
        assert not loop.alive


def let_in(loop, eng, members, *addrs) -> None:
    loop.call(lambda now: eng.set_members(addrs))
    assert until(lambda: members.version == eng.members_version and set(members.by_addr) >= set(addrs))


def test_what_a_members_datagram_calls_for_leaves_before_the_floods_batch_is_read(room):
    """A member's line is answered (relayed) before the shared socket's batch is read: it
    does not wait behind a turn's worth of flood."""
    eng, loop, members, port = room()
    ana, flood = udp("127.0.0.3"), udp("127.0.0.2")
    ana.settimeout(3)
    let_in(loop, eng, members, ana.getsockname())
    eng.answer = ana.getsockname()
    busy, held = threading.Event(), threading.Event()
    loop.call(lambda now: (busy.set(), held.wait(5)))      # both queue while the server is busy
    assert busy.wait(3)
    for _ in range(20):
        flood.sendto(b"x" * 200, ("127.0.0.1", port))
    ana.sendto(b"ana's line", ("127.0.0.1", port))
    time.sleep(0.05)
    held.set()
    assert ana.recv(100) == b"relayed"
    assert until(lambda: eng.log.count("flood in") == 20)
    assert eng.log[:3] == ["in", "out", "flood in"]


@pytest.mark.parametrize("share", [0.5, 1.0], ids=["rests", "what-if: never rests"])
def test_while_flooded_the_shared_socket_gets_at_most_its_share_of_the_loops_time(room, monkeypatch, share):
    """After a full batch the shared socket is left unread for as long again: the flood's
    reads take half the thread, not all of it, and members' sockets are read meanwhile."""
    monkeypatch.setattr(loop_module, "SHARED_SHARE", share)
    monkeypatch.setattr(loop_module, "SHARED_TIME", 1.0)    # batches of 64 whatever they cost: the share alone
    eng, loop, members, port = room()
    ana = udp("127.0.0.3")
    let_in(loop, eng, members, ana.getsockname())
    eng.slow = 0.0005                                     # a batch of 64: 32 ms and more
    with flooding(port, 50, 0.002):
        time.sleep(0.3)
        busy, began = eng.busy, time.perf_counter()
        time.sleep(1.5)
        taken = (eng.busy - busy) / (time.perf_counter() - began)
        ana.sendto(b"ana during the flood", ("127.0.0.1", port))
        assert until(lambda: eng.from_(ana.getsockname()) == [b"ana during the flood"])
    if share < 1:
        assert 0.3 < taken < 0.65                         # about half: read, then rested as long
    else:
        assert taken > 0.8                                # the flood takes the thread whole
    ana.close()


@pytest.mark.parametrize("limit", [loop_module.SHARED_TIME, 1.0], ids=["time-bounded", "what-if: count only"])
def test_while_flooded_a_batch_of_the_shared_socket_ends_after_its_time_however_few_it_read(room, monkeypatch,
                                                                                          limit):
    """Datagrams that each cost the engine long (HELLOs judged, key agreements) end the
    flood's batch after SHARED_TIME, not after SHARED_BATCH of them: members' lines wait
    behind at most that long of the flood's work."""
    monkeypatch.setattr(loop_module, "SHARED_TIME", limit)
    eng, loop, members, port = room()
    ana = udp("127.0.0.3")
    let_in(loop, eng, members, ana.getsockname())
    eng.slow = 0.0002                                     # 64 of them: 13 ms and more
    with flooding(port, 40, 0.001):
        time.sleep(0.5)
        seen = len(eng.batches)
        time.sleep(0.5)
        batches = [n for n in eng.batches[seen:] if n]
    assert len(batches) > 10
    if limit < 1:                                         # 0.5 ms: two or three of 0.2 ms and more
        assert max(batches) <= 4
    else:
        assert max(batches) == loop_module.SHARED_BATCH
    ana.close()


@pytest.mark.parametrize("own", [True, False], ids=["own sockets", "one socket"])
def test_a_members_line_gets_through_a_flood_that_overflows_the_shared_socket(room, own):
    eng, loop, members, port = room(rcvbuf=4096, enabled=own)
    ana, flood = udp("127.0.0.3"), udp("127.0.0.2")
    if own:
        let_in(loop, eng, members, ana.getsockname())
    busy, held = threading.Event(), threading.Event()
    loop.call(lambda now: (busy.set(), held.wait(5)))    # the server is busy for a moment...
    assert busy.wait(3)
    for _ in range(2000):                                 # ...and a flood fills its socket meanwhile
        flood.sendto(b"x" * 200, ("127.0.0.1", port))
    ana.sendto(b"ana's line", ("127.0.0.1", port))
    held.set()
    if own:
        assert until(lambda: eng.from_(ana.getsockname()) == [b"ana's line"])
    else:                                                 # the same test without: the line is lost
        time.sleep(0.5)
        assert eng.from_(ana.getsockname()) == []
    flooded = len(eng.from_(flood.getsockname()))
    assert 0 < flooded < 2000                             # the shared socket did overflow
    ana.close()
    flood.close()


def test_the_port_is_still_refused_to_a_second_server(room):
    eng, loop, members, port = room()
    ana = udp("127.0.0.3")
    let_in(loop, eng, members, ana.getsockname())
    with pytest.raises(PortBusyError):
        bind_server_socket("127.0.0.1", port)
    with pytest.raises(PortBusyError):
        bind_server_socket(None, port)                    # every address, the default server's
    ana.close()


def test_the_sockets_follow_who_is_in_the_room(room):
    eng, loop, members, port = room()
    ana, bia = udp("127.0.0.3"), udp("127.0.0.4")
    a, b = ana.getsockname(), bia.getsockname()
    let_in(loop, eng, members, a, b)
    assert {s.getpeername()[:2] for s in members.by_addr.values()} == {a, b}
    assert all(s.getsockname()[1] == port for s in members.by_addr.values())
    left = members.by_addr[b]
    loop.call(lambda now: eng.set_members([a]))
    assert until(lambda: list(members.by_addr) == [a])
    assert left.fileno() == -1 and len(members.by_fd) == 1       # closed, and no longer read
    ana.sendto(b"from ana", ("127.0.0.1", port))
    bia.sendto(b"from bia", ("127.0.0.1", port))                  # gone from the room: the shared socket
    assert until(lambda: eng.from_(a) == [b"from ana"] and eng.from_(b) == [b"from bia"])
    loop.call(lambda now: eng.set_members([]))
    assert until(lambda: not members.by_addr and not members.by_fd)
    ana.close()
    bia.close()


def test_beyond_the_cap_a_member_is_read_from_the_shared_socket(room):
    eng, loop, members, port = room(cap=1)
    ana, bia = udp("127.0.0.3"), udp("127.0.0.4")
    let_in(loop, eng, members, ana.getsockname())
    loop.call(lambda now: eng.set_members([ana.getsockname(), bia.getsockname()]))
    assert until(lambda: members.version == eng.members_version)
    assert list(members.by_addr) == [ana.getsockname()]
    for s in (ana, bia):
        s.sendto(b"hi", ("127.0.0.1", port))
    assert until(lambda: eng.from_(ana.getsockname()) == [b"hi"] and eng.from_(bia.getsockname()) == [b"hi"])
    ana.close()
    bia.close()


def test_a_member_gone_without_a_word_does_not_stop_the_reading(room):
    """A reply to a member whose program is gone brings back 'port unreachable', which
    Linux reports on the socket connected to it: read past, as on the shared socket."""
    eng, loop, members, port = room()
    gone = udp("127.0.0.5")
    addr = gone.getsockname()
    gone.close()
    let_in(loop, eng, members, addr)
    loop.call(lambda now: eng.out.append((b"are you there?", addr)))
    bia = udp("127.0.0.4")
    time.sleep(0.2)
    bia.sendto(b"still here", ("127.0.0.1", port))
    assert until(lambda: eng.from_(bia.getsockname()) == [b"still here"])
    assert loop.alive and loop.internal_errors == 0
    bia.close()


def test_an_ipv6_member_gets_its_own_socket_and_its_own_address(room):
    try:
        probe = udp("::1")
    except OSError:
        pytest.skip("no IPv6 loopback")
    eng, loop, members, port = room(host="::1")
    a = probe.getsockname()[:2]
    let_in(loop, eng, members, a)
    probe.sendto(b"hello over v6", ("::1", port))
    assert until(lambda: eng.from_(a) == [b"hello over v6"])
    assert members.by_addr[a].getpeername()[:2] == a
    probe.close()


def test_a_flood_the_server_cannot_keep_up_with_opens_the_sockets_and_calm_closes_them(room):
    eng, loop, members, port = room(flooded=False, calm_for=0.5)
    ana, bia = udp("127.0.0.3"), udp("127.0.0.4")
    loop.call(lambda now: eng.set_members([ana.getsockname(), bia.getsockname()]))
    assert until(lambda: members.version == eng.members_version)
    assert not members.active and not members.by_addr          # a calm room: one socket for all
    eng.slow = 0.0002                                         # a server slower than the flood below
    with flooding(port, 100, 0.001):
        assert until(lambda: members.active and set(members.by_addr) == {ana.getsockname(), bia.getsockname()}, 10)
        assert members.opened_times == 1
        ana.sendto(b"ana during the flood", ("127.0.0.1", port))
        assert until(lambda: eng.from_(ana.getsockname()) == [b"ana during the flood"])
    assert until(lambda: not members.active and not members.by_addr and not members.by_fd, 10)
    bia.sendto(b"bia after it", ("127.0.0.1", port))
    assert until(lambda: eng.from_(bia.getsockname()) == [b"bia after it"])
    from udpcore import events as ev
    told = [e for e in loop.events.get_all() if isinstance(e, ev.PortFlooded)]
    assert told == [ev.PortFlooded(True), ev.PortFlooded(False)]      # the operator hears both, once


def test_one_slow_turn_is_not_a_flood(room):
    """A moment's backlog (one read ended by the batch, the next by an empty socket)
    leaves the room on one socket: the sockets cost a busy room more than they save."""
    eng, loop, members, port = room(flooded=False)
    ana = udp("127.0.0.3")
    loop.call(lambda now: eng.set_members([ana.getsockname()]))
    assert until(lambda: members.version == eng.members_version)
    busy, held = threading.Event(), threading.Event()
    loop.call(lambda now: (busy.set(), held.wait(5)))
    assert busy.wait(3)
    f = udp("127.0.0.2")
    for _ in range(400):                                     # more than one read (256), less than three
        f.sendto(b"y" * 50, ("127.0.0.1", port))
    held.set()
    assert until(lambda: len(eng.from_(f.getsockname())) == 400)
    time.sleep(0.2)
    assert not members.active and not members.by_addr and members.opened_times == 0
    f.close()
    ana.close()


def test_the_pressure_rule_at_its_edges():
    """PRESSED_TURNS full reads in a row open the sockets, an empty read in between
    starts the count again; they close CALM_FOR after the last full read, not before."""
    a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    a.bind(("127.0.0.1", 0))
    m = MemberSockets(a, calm_for=10.0)
    n = member_sockets.PRESSED_TURNS
    for i in range(n - 1):
        assert not m.read_was(True, float(i))
    assert not m.read_was(False, 5.0)                         # the count starts again
    for i in range(n - 1):
        assert not m.read_was(True, 6.0 + i)
    assert m.read_was(True, 20.0) and m.active and m.opened_times == 1
    assert not m.read_was(True, 21.0)                         # already open: no change
    assert not m.read_was(False, 30.9) and m.active           # 9.9 s after the last full read
    assert m.read_was(False, 31.0) and not m.active           # 10 s: calm
    assert not m.read_was(False, 40.0)
    a.close()


def test_a_real_room_under_a_flood_gives_each_member_a_socket_and_takes_it_back_when_it_leaves():
    from udpnet.client import start_client
    from udpnet.server import start_server
    srv = start_server("127.0.0.1", 0, stats=False)
    try:
        c = start_client(f"127.0.0.1:{srv.address[1]}", "ana")
        assert c.wait_for_room(5)
        members = srv._loop._members
        time.sleep(0.2)
        assert not members.by_addr                            # a calm room: the one socket
        srv._loop.call(lambda now: (members.flooded(now), setattr(members, "version", None)))
        assert until(lambda: len(members.by_addr) == 1)
        (addr,) = members.by_addr
        assert addr[0] == "127.0.0.1" and addr[1] == c._loop.sock.getsockname()[1]
        c.close()
        assert until(lambda: not members.by_addr)
    finally:
        srv.close()


def test_what_waits_in_a_members_socket_when_it_closes_is_still_read(room):
    eng, loop, members, port = room()
    ana = udp("127.0.0.3")
    let_in(loop, eng, members, ana.getsockname())
    busy, held = threading.Event(), threading.Event()
    loop.call(lambda now: (busy.set(), held.wait(5)))    # the turn is past its reads...
    assert busy.wait(3)
    ana.sendto(b"sent as she left", ("127.0.0.1", port))  # ...when this reaches her socket,
    time.sleep(0.1)
    eng.set_members([])                                  # and she leaves in the same turn
    held.set()
    assert until(lambda: not members.by_addr)
    assert until(lambda: eng.from_(ana.getsockname()) == [b"sent as she left"])
    ana.close()

