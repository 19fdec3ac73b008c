"""Issue 14, connecting that never makes you guess: the pure parts. An address
that is only digits and dots must be four numbers 0-255; an ICMP refusal ends a
join at once and is only a hint afterwards; the sentences for both failures."""
from __future__ import annotations

import pytest

from chatfront.wording import EXAMPLE_ADDRESS, explain, unreachable
from udpcore import SERVER_TIMEOUT, AddressError, ClientEngine, ClientState, events as ev, parse_server
from tests.enginepair import SERVER, Room, drain

pytestmark = pytest.mark.timeout(10)

# Inputs are loopback-shaped or impossible: nothing here is sent anywhere (pure parsing),
# and a test names no address outside 127.0.0.0/8.
SHORT = f"is not a complete address: an IPv4 address has four numbers, like {EXAMPLE_ADDRESS}."
RANGE = f"is not an address: each of the four numbers of an IPv4 address is 0 to 255, like {EXAMPLE_ADDRESS}."


@pytest.mark.parametrize("typed,sentence", [
    ("127.0.1", "127.0.1 " + SHORT),
    ("127.1", "127.1 " + SHORT),
    ("127.1:6000", "127.1 " + SHORT),
    ("5002", "5002 " + SHORT),
    ("127.0..1", "127.0..1 " + SHORT),
    ("127.0.0.", "127.0.0. " + SHORT),
    ("127.0.0.1.5", f"127.0.0.1.5 is not an address: an IPv4 address has four numbers, like {EXAMPLE_ADDRESS}."),
    ("127.0.0.300", "127.0.0.300 " + RANGE),
    ("127.256.0.1:5002", "127.256.0.1 " + RANGE),
])
def test_incomplete_or_impossible_ipv4_addresses_are_refused_with_a_sentence(typed, sentence):
    with pytest.raises(AddressError) as info:
        parse_server(typed)
    assert explain(info.value) == sentence


@pytest.mark.parametrize("typed,expected", [
    ("127.0.0.20", ("127.0.0.20", 5002)),
    ("127.0.0.0:7", ("127.0.0.0", 7)),
    ("127.255.255.255", ("127.255.255.255", 5002)),
    ("0127.000.001.010", ("127.0.1.10", 5002)),       # never read as octal
    ("chat.local", ("chat.local", 5002)),
    ("1e100.net:9", ("1e100.net", 9)),
    ("host-10.lan", ("host-10.lan", 5002)),
    ("::1", ("::1", 5002)),
    ("[::ffff:127.0.0.2]:6000", ("::ffff:127.0.0.2", 6000)),
    ("[fe80::1]:5003", ("fe80::1", 5003)),
])
def test_complete_addresses_host_names_and_ipv6_keep_working(typed, expected):
    assert parse_server(typed) == expected


def test_a_refusal_while_joining_ends_the_join_at_once():
    c = ClientEngine("alice", SERVER, 100.0, server_label="localhost:5002")
    c.connect(100.0)
    c.datagrams_to_send(100.0)
    c.port_unreachable(100.002)
    assert c.closed and c.get_timer() is None
    [e] = drain(c)
    assert e == ev.Unreachable("localhost:5002", 5002, pytest.approx(0.002), refused=True)
    assert unreachable(e) == "Nothing is listening on localhost:5002 — is the server running?"


@pytest.mark.parametrize("then", ["joined", "reconnecting"])
def test_a_refusal_once_joined_is_only_a_hint(then):
    """A restarting server refuses for a moment and anyone can forge ICMP: the
    session goes on, and the usual loss detection and reconnecting decide."""
    room = Room()
    c = room.add("alice")
    room.settle()
    assert c.state is ClientState.JOINED
    drain(c)
    if then == "reconnecting":
        room.drop = lambda data, src, dst: True        # the server goes quiet
        room.advance(SERVER_TIMEOUT + 1.0)
        assert c.state is ClientState.RECONNECTING
    c.port_unreachable(room.now)
    c.port_unreachable(room.now)
    assert not c.closed and c.refusals == 2
    assert not [e for e in drain(c) if isinstance(e, ev.Unreachable)]


def test_silence_names_the_wait_and_only_then_the_firewall():
    sentence = unreachable(ev.Unreachable("127.0.0.20:5002", 5002, 10.0))
    assert sentence.startswith("No answer from 127.0.0.20:5002 after 10 seconds. ")
    assert sentence.index("firewall") > sentence.index("No answer") and "docs/firewall.md" in sentence
