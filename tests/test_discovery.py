"""Finding rooms over loopback, with real sockets, and as programs (the pure core's
tests are in tests/test_discovery_core.py). Nothing here broadcasts: the loopback
tests probe 127.0.0.1 and ::1 by unicast (``hosts=``); broadcast and multicast
are tested in namespaces (tests/test_lan_discovery.py).
"""
from __future__ import annotations

import socket
import sys
import time

import pytest

from udpcore import Limits, NoSuchRoom, SameNameRooms, events as ev
from udpcore import discovery as d
from udpnet import RoomFinder, discover, find_room, server_or_room, start_client, start_server
from tests.typing_ import typed

pytestmark = pytest.mark.timeout(60)

NONCE = bytes(range(1, 9))
PROBE = d.encode_discover(NONCE)
A = ("127.0.0.7", 40000)


# --- over loopback, with real sockets -------------------------------------------------------


@pytest.fixture
def servers():
    made = []

    def start(room: str, host: str | None = "127.0.0.1", **kw):
        s = start_server(host, 0, stats=False, room=room, **kw)
        made.append(s)
        return s
    yield start
    for s in made:
        s.close(timeout=1.0)


def test_a_server_on_this_machine_answers_and_is_listed_within_a_second(servers):
    srv = servers("Sala 3")
    port = srv.address[1]
    heard: list[tuple[float, str]] = []
    start = time.monotonic()
    rooms = discover(1.0, [port, port + 1 if port < 65535 else port - 1], hosts=["127.0.0.1"],
                     on_room=lambda r: heard.append((time.monotonic() - start, r.label)))
    assert [(r.name, r.label, r.members, r.locked) for r in rooms] == [("Sala 3", f"127.0.0.1:{port}", 0, False)]
    assert len(heard) == 1 and heard[0][0] < 0.5


def test_a_dual_stack_server_heard_on_both_loopbacks_is_listed_once(servers):
    if not socket.has_dualstack_ipv6():
        pytest.skip("no dual-stack sockets")
    srv = servers("both", host=None)
    rooms = discover(0.6, [srv.address[1]], hosts=["127.0.0.1", "::1"])
    assert len(rooms) == 1 and rooms[0].host in ("127.0.0.1", "::1")


def test_a_room_is_found_by_name_and_two_of_one_name_ask_for_the_address(servers):
    one, two = servers("Sala 3"), servers("Sala 4")
    ports = [one.address[1], two.address[1]]
    assert find_room("sala 3", 1.0, ports, hosts=["127.0.0.1"]).label == f"127.0.0.1:{ports[0]}"
    with pytest.raises(NoSuchRoom):
        find_room("Sala 5", 0.5, ports, hosts=["127.0.0.1"])
    two.rename_room("SALA 3")
    with pytest.raises(SameNameRooms) as err:
        find_room("Sala 3", 1.0, ports, hosts=["127.0.0.1"])
    assert sorted(err.value.addresses) == sorted(f"127.0.0.1:{p}" for p in ports)


def test_an_address_is_used_as_it_is_without_looking_for_rooms():
    start = time.monotonic()
    assert server_or_room("127.0.0.1:5999", 2.0, ports=[1]) == "127.0.0.1:5999"
    assert time.monotonic() - start < 0.5


def test_the_stream_tells_of_a_new_count_and_of_a_room_gone(servers):
    srv = servers("live")
    port = srv.address[1]
    with RoomFinder([port], hosts=["127.0.0.1"], interval=0.2, forget_after=0.5) as finder:
        first = finder.rooms.get(timeout=2)
        assert [(r.name, r.members) for r in first] == [("live", 0)]
        cli = start_client(f"127.0.0.1:{port}", "alice")
        try:
            deadline = time.monotonic() + 5
            while finder.latest and finder.latest[0].members != 1 and time.monotonic() < deadline:
                finder.rooms.get(timeout=1)
            assert finder.latest[0].members == 1
        finally:
            cli.close(timeout=1.0)
        srv.close(timeout=1.0)
        deadline = time.monotonic() + 5
        while finder.latest and time.monotonic() < deadline:
            finder.rooms.get(timeout=1)
        assert finder.latest == ()
    assert not finder._thread.is_alive()


STORM_SECONDS = 3.0
# The storm runs in its own process (as an attacker's would), so it does not take
# the GIL from the members' socket threads: 400 sockets on 127.2.x.y, DISCOVERs
# (each valid, so each is weighed by the rate limits) as fast as it can send them.
STORM = """
import socket, sys, time
port, seconds = int(sys.argv[1]), float(sys.argv[2])
probe = bytes.fromhex(sys.argv[3])
socks = []
for i in range(400):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((f"127.2.{i // 200}.{i % 200 + 1}", 0))
    s.setblocking(False)
    socks.append(s)
print("ready", flush=True)
sent, i, end = 0, 0, time.monotonic() + seconds
while time.monotonic() < end:
    try:
        socks[i % 400].sendto(probe, ("127.0.0.1", port))
        sent += 1
    except OSError:
        time.sleep(0.0005)
    i += 1
print(sent, flush=True)
"""


def _lines_delays(alice, bob, seconds: float) -> list[float]:
    """alice says a line every 0.25 s for ``seconds``; how long each took to reach bob."""
    typed_at: dict[str, float] = {}
    delays: list[float] = []

    def take() -> None:
        for e in bob.events.get_all():
            if isinstance(e, ev.RoomLine) and e.text in typed_at:
                delays.append(time.monotonic() - typed_at[e.text])
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        text = f"line {time.monotonic()}"
        typed_at[text] = time.monotonic()
        typed(alice, text)
        end = time.monotonic() + 0.25
        while time.monotonic() < end:
            take()
            time.sleep(0.002)
    end = time.monotonic() + 5
    while len(delays) < len(typed_at) and time.monotonic() < end:
        take()
        time.sleep(0.005)
    assert len(delays) == len(typed_at), (len(delays), len(typed_at))
    return sorted(delays)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="127.0.0.0/8 beyond .1 is Linux's")
def test_a_discover_storm_from_400_addresses_does_not_slow_members_lines():
    import subprocess
    srv = start_server("127.0.0.1", 0, stats=True, room="stormy")
    port = srv.address[1]
    alice = start_client(f"127.0.0.1:{port}", "alice")
    bob = start_client(f"127.0.0.1:{port}", "bob")
    storm = None
    try:
        for c in (alice, bob):
            e = c.events.get(timeout=10)
            while not isinstance(e, ev.Connected):
                e = c.events.get(timeout=10)
        quiet = _lines_delays(alice, bob, 1.5)               # the baseline, in the same run
        storm = subprocess.Popen([sys.executable, "-c", STORM, str(port), str(STORM_SECONDS), PROBE.hex()],
                                 stdout=subprocess.PIPE, text=True)
        assert storm.stdout.readline().strip() == "ready"
        started = time.monotonic()
        stormy = _lines_delays(alice, bob, STORM_SECONDS - 0.3)
        sent = int(storm.stdout.readline())
        lasted = time.monotonic() - started
        storm.wait(5)
        time.sleep(1.1)                                       # one more Stats
        stats = [e for e in srv.events.get_all() if isinstance(e, ev.Stats)]
        counters = stats[-1].counters
        assert sent > 5000, sent
        median = stormy[len(stormy) // 2]
        print(f"storm: {sent} DISCOVERs in {lasted:.1f} s; line delays quiet median {quiet[len(quiet) // 2]:.4f} s, "
              f"storm median {median:.4f} s, max {stormy[-1]:.4f} s; counters {counters}")
        # Both processes share two cores with a sender going flat out: a line may wait behind a
        # full socket buffer of DISCOVERs (each dropped in microseconds) but never for long.
        assert median < 0.2 and stormy[-1] < 1.0, (quiet, stormy)
        # Answers: at most the total bucket (100 at once, then 100 a second); the rest dropped and counted.
        assert counters.get("discovered", 0) <= 100 + 100 * (lasted + 1.5), counters
        assert counters.get("discover_limited", 0) > 10_000, (sent, counters)     # the rest: dropped by the kernel
    finally:
        if storm is not None:
            storm.kill()
            storm.wait(5)
        for c in (alice, bob):
            c.close(timeout=1.0)
        srv.close(timeout=1.0)


# --- the programs, on loopback (conftest keeps their probes there) ---------------------------


def test_tests_keep_discovery_on_loopback():
    with RoomFinder([5002]) as finder:
        assert {addr[0] for _f, addr in finder._targets()} == {"127.0.0.1", "::1"}


def test_list_and_join_by_name_as_programs(servers):
    from tests.test_headless import Proc
    srv = servers("Sala 3")
    port = str(srv.address[1])
    listing = Proc("gui_client.py", "--list", "--ports", port)
    code, lines, err = listing.finish()
    assert (code, lines, err) == (0, [f"Sala 3\t127.0.0.1:{port}\t0 members"], "")
    member = Proc("gui_client.py", "--headless", "--server", "SALA 3", "--ports", port, "--name", "alice")
    try:
        member.expect(rf"Connected to 127\.0\.0\.1:{port} as alice", timeout=15)
    finally:
        member.p.kill()
        member.p.wait(5)


def test_two_rooms_of_one_name_ask_for_the_address(servers):
    from tests.test_headless import Proc
    a, b = servers("Sala 3"), servers("sala 3")
    ports = f"{a.address[1]},{b.address[1]}"
    c = Proc("gui_client.py", "--headless", "--server", "Sala 3", "--ports", ports, "--name", "x", stdin=b"")
    code, _lines, err = c.finish()
    assert code == 1 and "There are 2 rooms on the network called 'Sala 3'" in err
    assert f"127.0.0.1:{a.address[1]}" in err and f"127.0.0.1:{b.address[1]}" in err


def test_list_prints_one_member_and_locked_as_worded():
    from chatfront.wording import room_listing
    room = d.FoundRoom("r", "fe80::1%eth0", 5002, 1, True, 1, b"i" * 8)
    assert room_listing(room) == "r\t[fe80::1%eth0]:5002\t1 member\tlocked"


def test_the_server_options_set_the_room_and_the_discovery_limits():
    from chatfront.options import limits_from, server_parser
    args = server_parser().parse_args(["--room", " Sala\t3 " + "x" * 50, "--discover-rate", "0.5",
                                       "--discover-burst", "1", "--discovers-rate", "7", "--discover-hosts", "2"])
    assert args.room == ("Sala 3 " + "x" * 50)[:40]
    assert limits_from(args) == Limits(discover_rate=0.5, discover_burst=1, discovers_rate=7, discover_hosts=2)
    assert server_parser().parse_args([]).room.endswith("'s room")
