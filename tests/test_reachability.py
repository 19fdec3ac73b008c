"""The server's reachability self-test, without sockets: who looked for rooms
(udpcore.discovery.Answerer.looked, in Stats) and which of this machine's networks
that covers (chatfront.reachability)."""
from __future__ import annotations

from collections import Counter

import pytest

from chatfront.reachability import Reach, reachability
from udpcore import Limits, ServerEngine
from udpcore import discovery as d

pytestmark = pytest.mark.timeout(10)


def answerer(now: float = 0.0) -> d.Answerer:
    return d.Answerer(b"i" * 8, "Sala 3", 5002, Limits(), now, Counter())


def discover() -> bytes:
    return d.encode_discover(b"n" * 8)


def test_who_looked_is_kept_with_how_long_ago_even_when_not_answered():
    a = answerer()
    a.answer(discover(), ("127.0.1.7", 40000), 1.0, 0)
    a.answer(discover()[:-1], ("127.0.1.8", 40000), 1.0, 0)        # too short: not a DISCOVER, not kept
    a.answer(b"junk" * 80, ("127.0.1.9", 40000), 1.0, 0)           # malformed: not kept
    for _ in range(50):                                             # over its rate: still someone who looked
        a.answer(discover(), ("127.0.1.10", 40000), 2.0, 0)
    assert dict(a.looked(5.0)) == {"127.0.1.7": 4.0, "127.0.1.10": 3.0}


def test_who_looked_is_forgotten_after_its_time():
    a = answerer()
    a.answer(discover(), ("127.0.1.7", 1), 0.0, 0)
    assert a.looked(d.LOOKED_FOR) == (("127.0.1.7", d.LOOKED_FOR),)   # exactly at the limit: still there
    assert a.looked(d.LOOKED_FOR + 0.1) == ()
    a.forget(d.LOOKED_FOR)
    assert a._looked                                                 # forget keeps it at the limit...
    a.forget(d.LOOKED_FOR + 0.1)
    assert not a._looked                                             # ...and drops it after


def test_a_storm_of_sources_fills_the_list_and_no_more():
    a = answerer()
    for n in range(d.LOOKED_KEPT + 40):
        a.answer(discover(), (f"127.3.{n // 250}.{n % 250 + 1}", 1), 0.0, 0)
    assert len(a.looked(1.0)) == d.LOOKED_KEPT
    a.answer(discover(), ("127.3.0.1", 1), 5.0, 0)                   # one already kept is refreshed
    assert dict(a.looked(6.0))["127.3.0.1"] == 1.0


def test_the_engine_reports_who_looked_in_its_snapshot():
    srv = ServerEngine(0.0)
    srv.receive_datagram(discover(), ("127.0.1.50", 5555), 1.0)
    assert srv.snapshot(3.0).looked == (("127.0.1.50", 2.0),)


NETS = [("eth0", "203.0.113.20", 24), ("wlan0", "198.18.0.5", 16), ("eth0", "fd00:1::20", 64)]


def test_each_network_shows_the_most_recent_sign_of_life_in_it():
    got = reachability(NETS, 5002, looked=[("203.0.113.7", 30.0), ("198.51.100.7", 1.0)],
                       members=[("203.0.113.9:40000", 4.0), ("[fd00:1::9]:4000", 7.0)])
    assert got == [Reach("eth0", "203.0.113.20:5002", 4.0), Reach("wlan0", "198.18.0.5:5002", None),
                   Reach("eth0", "[fd00:1::20]:5002", 7.0)]


@pytest.mark.parametrize("host, counts", [
    ("198.18.255.255:1", True),              # the last address of 198.18.0.0/16
    ("198.19.0.0:1", False),                 # the first one after it
    ("::ffff:198.18.3.4", True),             # what a dual-stack socket reports for IPv4
    ("[::ffff:198.18.3.4]:9", True),
    ("fe80::1%eth0", False),
    ("not an address", False),
    ("", False),
])
def test_network_edges_and_address_forms(host, counts):
    (reach,) = reachability([("wlan0", "198.18.0.5", 16)], 5002, looked=[(host, 2.0)], members=[])
    assert (reach.heard == 2.0) is counts


def test_an_ipv4_source_never_counts_for_an_ipv6_network():
    (reach,) = reachability([("eth0", "::", 0)], 5002, looked=[("192.0.2.1", 1.0)], members=[])
    assert reach.heard is None


def test_a_bad_interface_row_is_skipped():
    assert reachability([("x", "not-an-ip", 24), ("eth0", "192.0.2.1", 8)], 1, [], []) == [
        Reach("eth0", "192.0.2.1:1", None)]


def test_who_looked_ages_from_when_it_was_heard_on_any_clock():
    a = answerer(now=1000.0)
    a.answer(discover(), ("127.0.1.7", 1), 1000.0, 0)
    assert a.looked(1000.0 + d.LOOKED_FOR) == (("127.0.1.7", d.LOOKED_FOR),)
    a.forget(1000.0 + d.LOOKED_FOR)
    assert a.looked(1000.0 + d.LOOKED_FOR) != ()                     # forget at the limit keeps it
    assert a.looked(1000.0 + d.LOOKED_FOR + 0.5) == ()
    a.forget(1000.0 + d.LOOKED_FOR + 0.5)
    assert a._looked == {}


def test_each_short_or_malformed_discover_is_counted_once():
    a = answerer()
    for _ in range(2):
        a.answer(discover()[:-1], ("127.0.1.8", 1), 1.0, 0)
        a.answer(b"junk" * 80, ("127.0.1.9", 1), 1.0, 0)
    assert a.counters["discover_short"] == 2 and a.counters["malformed"] == 2


def test_a_room_name_keeps_no_tab():
    assert d.room_name("\tSala\t3 ") == "Sala 3"
