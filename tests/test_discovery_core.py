"""Finding rooms in the pure core, without sockets: DISCOVER and HERE sizes, caps and
rates at their edges, the room list a client keeps (the socket tests are in
tests/test_discovery.py; this file is in mutmut's selection).
"""
from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from udpcore import Limits, ServerEngine
from udpcore import discovery as d
from udpcore.errors import ProtocolError
from udpcore.wire import VERSION

pytestmark = pytest.mark.timeout(60)

NONCE = bytes(range(1, 9))
PROBE = d.encode_discover(NONCE)
A = ("127.0.0.7", 40000)


def answerer(now: float = 0.0, **limits) -> tuple[d.Answerer, Counter]:
    counters: Counter = Counter()
    return d.Answerer(b"i" * 8, "Sala 3", 5002, Limits(**limits), now, counters), counters


# --- sizes: a HERE is never larger than the DISCOVER that caused it ----------------------


@pytest.mark.parametrize("char", ["a", "é", "語", "𝄞"])       # 1, 2, 3 and 4 bytes of UTF-8
def test_a_here_is_never_larger_than_its_discover_for_every_name_length(char):
    for n in range(0, d.MAX_ROOM_CHARS + 3):
        a, _c = answerer()
        a.rename(char * n if n else "")
        here = a.answer(PROBE, A, 0.0, 65_536)
        assert here is not None and len(here) <= len(PROBE) == d.DISCOVER_SIZE == 256
        assert len(here) <= d.HERE_MAX_SIZE == 189
        assert d.decode_here(here).room == char * min(n, d.MAX_ROOM_CHARS)
    assert len(d.encode_here(d.Here(NONCE, b"i" * 8, 5002, 0, False, 1, "𝄞" * 40))) == d.HERE_MAX_SIZE


def test_a_discover_one_byte_short_gets_no_answer_and_is_counted():
    a, c = answerer()
    assert a.answer(PROBE[:255], A, 0.0, 0) is None and c["discover_short"] == 1
    assert a.answer(PROBE[:5], A, 0.0, 0) is None and c["discover_short"] == 2
    assert a.answer(PROBE, A, 0.0, 0) is not None and c["discovered"] == 1
    assert a.answer(PROBE + bytes(1200 - 256), A, 0.0, 0) is not None        # longest: 1200
    assert a.answer(PROBE + bytes(1201 - 256), A, 0.0, 0) is None and c["malformed"] == 1
    assert a.answer(PROBE[:-1] + b"\x01", A, 0.0, 0) is None and c["malformed"] == 2   # padding is zeros


def test_the_here_says_what_the_room_is():
    e = ServerEngine(0.0, room="  Sala\x1b[2J 3\u202e  ", port=5005, randbytes=lambda n: bytes([7]) * n)
    e.receive_datagram(PROBE, A, 0.0)
    (raw, to), = e.datagrams_to_send(0.0)
    assert to == A
    h = d.decode_here(raw)
    assert h == d.Here(NONCE, bytes([7]) * 8, 5005, 0, False, VERSION, "Sala [2J 3")
    assert e.room_name == "Sala [2J 3"
    assert e.rename_room("x" * 50) == "x" * 40 and e.room_name == "x" * 40
    e.receive_datagram(b"hello from nc", ("127.0.0.9", 1), 0.0)          # a guest counts as one in the room
    e.receive_datagram(PROBE, A, 0.1)
    here = [d.decode_here(x) for x, _a in e.datagrams_to_send(0.1) if x[:5] == d.HERE_PREFIX]
    assert [(h.members, h.room) for h in here] == [(1, "x" * 40)]


def test_members_count_is_capped_at_two_bytes():
    assert d.decode_here(d.encode_here(d.Here(NONCE, b"i" * 8, 1, 70_000, True, 1, "r"))).members == 65_535


def test_a_closing_room_answers_no_discover():
    e = ServerEngine(0.0, room="r")
    e.close(0.0)
    e.datagrams_to_send(0.0)
    e.receive_datagram(PROBE, A, 0.1)
    assert not [x for x, _a in e.datagrams_to_send(0.1) if x[:5] == d.HERE_PREFIX]


def test_a_locked_room_says_so_and_stops_saying_so_once_opened():
    e = ServerEngine(0.0, room="r", passphrase="sesame")

    def locked(now: float) -> bool:
        e.receive_datagram(PROBE, A, now)
        (here,) = [d.decode_here(x) for x, _a in e.datagrams_to_send(now) if x[:5] == d.HERE_PREFIX]
        return here.locked
    assert locked(0.0) is True
    e.lock("")
    assert locked(1.0) is False
    e.lock("again")
    assert locked(2.0) is True


def test_a_here_sent_to_a_server_is_dropped_and_counted():
    e = ServerEngine(0.0)
    e.receive_datagram(d.encode_here(d.Here(NONCE, b"i" * 8, 1, 0, False, 1, "r")), A, 0.0)
    assert e.counters["malformed"] == 1 and e.datagrams_to_send(0.0) == []


# --- rates and caps at their edges ----------------------------------------------------------


def test_one_address_gets_its_burst_then_its_rate():
    a, c = answerer(discover_rate=4.0, discover_burst=8)
    assert [a.answer(PROBE, A, 0.0, 0) is not None for _ in range(9)] == [True] * 8 + [False]
    assert c["discover_limited"] == 1
    assert a.answer(PROBE, A, 0.249, 0) is None           # a token every 0.25 s
    assert a.answer(PROBE, A, 0.25, 0) is not None
    assert a.answer(PROBE, ("127.0.0.7", 1), 0.25, 0) is None      # per IP address, whatever the port
    assert a.answer(PROBE, ("127.0.0.8", 1), 0.25, 0) is not None   # another address has its own


def test_everyone_together_gets_the_total_rate():
    a, c = answerer(discovers_rate=10.0)
    got = [a.answer(PROBE, (f"127.0.1.{i}", 1), 0.0, 0) is not None for i in range(11)]
    assert got == [True] * 10 + [False]
    assert a.answer(PROBE, ("127.0.2.1", 1), 0.099, 0) is None
    assert a.answer(PROBE, ("127.0.2.2", 1), 0.1, 0) is not None
    assert c["discover_limited"] == 2


def test_addresses_tracked_at_once_are_capped_and_forgotten_once_full_again():
    a, c = answerer(discover_hosts=3, discover_rate=4.0, discover_burst=8)
    for i in range(3):
        assert a.answer(PROBE, (f"127.0.1.{i}", 1), 0.0, 0) is not None
    assert a.answer(PROBE, ("127.0.1.9", 1), 0.0, 0) is None and c["discover_limited"] == 1
    a.forget(0.249)                     # one token short of full: still tracked (forgetting would refill it)
    assert a.answer(PROBE, ("127.0.1.9", 1), 0.249, 0) is None
    a.forget(0.25)
    assert a.answer(PROBE, ("127.0.1.9", 1), 0.25, 0) is not None


def test_the_server_engine_applies_the_limits_given():
    e = ServerEngine(0.0, limits=Limits(discover_burst=2, discover_rate=1.0))
    for _ in range(3):
        e.receive_datagram(PROBE, A, 0.0)
    assert len(e.datagrams_to_send(0.0)) == 2 and e.counters["discover_limited"] == 1


@pytest.mark.parametrize("field", ["discover_rate", "discovers_rate"])
def test_rates_must_be_above_zero(field):
    with pytest.raises(ValueError):
        Limits(**{field: 0})


@pytest.mark.parametrize("field", ["discover_burst", "discover_hosts"])
def test_counts_must_be_at_least_one(field):
    Limits(**{field: 1})
    with pytest.raises(ValueError):
        Limits(**{field: 0})


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_decoding_junk_raises_only_protocol_error(data):
    for raw in (data, d.HERE_PREFIX + data, d.DISCOVER_PREFIX + data):
        for decoder in (d.decode_here, d.decode_discover):
            try:
                decoder(raw)
            except ProtocolError:
                pass


# --- the client's list ------------------------------------------------------------------------


def here(instance: bytes = b"i" * 8, room: str = "Sala 3", members: int = 2, nonce: bytes = NONCE) -> bytes:
    return d.encode_here(d.Here(nonce, instance, 5002, members, False, 1, room))


@pytest.mark.parametrize("host,rank", [("192.0.2.4", 0), ("::ffff:192.0.2.1", 0), ("fd00::2", 1),
                                       ("fe80::1%eth0", 2), ("169.254.3.3", 2), ("127.0.0.1", 3), ("::1", 3),
                                       ("not an address", 4)])
def test_address_rank(host, rank):
    assert d.address_rank(host) == rank


def test_a_room_heard_on_several_addresses_is_listed_once_at_the_best():
    rl = d.RoomList(NONCE)
    assert rl.heard(here(), ("127.0.0.1", 5002), 0.0)
    assert rl.heard(here(), ("fe80::1%eth0", 5002), 0.0)
    assert rl.heard(here(), ("fd00::2", 5002, 0, 0), 0.0)
    assert rl.heard(here(), ("192.0.2.2", 5002), 0.0)
    assert not rl.heard(here(), ("127.0.0.1", 5002), 0.1)          # worse: nothing changed
    assert not rl.heard(here(), ("192.0.2.3", 5002), 0.1)           # as good: the first one stays
    (room,) = rl.rooms
    assert (room.name, room.label, room.members) == ("Sala 3", "192.0.2.2:5002", 2)
    assert rl.heard(here(members=3), ("127.0.0.1", 5002), 0.2)     # news from any address counts
    assert rl.rooms[0].members == 3 and rl.rooms[0].label == "192.0.2.2:5002"
    assert rl.heard(here(b"j" * 8, "sala 3"), ("::ffff:192.0.2.9", 5003), 0.0)
    assert [r.label for r in rl.named("SALA 3")] == ["192.0.2.2:5002", "192.0.2.9:5003"]


def test_answers_to_someone_else_and_junk_are_ignored():
    rl = d.RoomList(NONCE)
    assert not rl.heard(here(nonce=b"x" * 8), ("192.0.2.2", 5002), 0.0)
    assert not rl.heard(b"junk", ("192.0.2.2", 5002), 0.0)
    assert not rl.heard(PROBE, ("192.0.2.2", 5002), 0.0)
    assert rl.rooms == () and rl.ignored == 3


def test_a_room_not_heard_for_a_while_is_forgotten():
    rl = d.RoomList(NONCE)
    rl.heard(here(), ("192.0.2.2", 5002), 0.0)
    assert not rl.forget(3.5, 3.5) and rl.rooms
    assert rl.forget(3.51, 3.5) and rl.rooms == ()


def test_a_room_name_from_the_network_is_cleaned_again():
    raw = d.HERE_PREFIX + NONCE + b"i" * 8 + bytes([0x13, 0x8A, 0, 1, 0, 1]) + b"\x00\x07a\nb\x1bc\td"
    assert d.decode_here(raw).room == "a b c d"            # a tab too: --list's columns stay columns
    with pytest.raises(ProtocolError):
        d.decode_here(raw + b"\x00")                          # trailing bytes
