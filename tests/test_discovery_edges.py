"""Finding rooms, the pure core at its edges (no sockets, no clock): every byte of a
DISCOVER's padding, a HERE of another kind or version, the total rate below one a
second, counters that add up, forgetting measured from the last DISCOVER or HERE
rather than from time zero, the room list's addresses and order, and the server
engine's sweep forgetting the per-address buckets. Written against the mutants that
tests/test_discovery.py left alive (docs/mutation.md); its socket tests stay there.
"""
from __future__ import annotations

from collections import Counter

import pytest

from udpcore import Limits, ServerEngine
from udpcore import discovery as d
from udpcore.errors import ProtocolError
from udpcore.wire import NONCE_LEN, VERSION, PacketType

pytestmark = pytest.mark.timeout(30)

NONCE = bytes(range(1, 9))
PROBE = d.encode_discover(NONCE)
A = ("127.0.1.7", 40000)
B = ("127.0.1.8", 40000)


def answerer(now: float = 0.0, **limits) -> tuple[d.Answerer, Counter]:
    counters: Counter = Counter()
    return d.Answerer(b"i" * 8, "Sala 3", 5002, Limits(**limits), now, counters), counters


def here(instance: bytes = b"i" * 8, room: str = "Sala 3", members: int = 2, nonce: bytes = NONCE) -> bytes:
    return d.encode_here(d.Here(nonce, instance, 5002, members, False, 1, room))


def answered(a: d.Answerer, addr: tuple, now: float) -> bool:
    return a.answer(PROBE, addr, now, 0) is not None


# --- DISCOVER: the nonce, then zeros to the end -----------------------------------------------


@pytest.mark.parametrize("at", [5 + NONCE_LEN, 5 + NONCE_LEN + 1, 100, d.DISCOVER_SIZE - 1])
def test_every_padding_byte_must_be_zero_from_the_first_after_the_nonce(at):
    probe = bytearray(PROBE)
    probe[at] = 1
    with pytest.raises(ProtocolError):
        d.decode_discover(bytes(probe))
    a, c = answerer()
    assert a.answer(bytes(probe), A, 0.0, 0) is None and c == Counter(malformed=1)


def test_a_nonce_is_taken_whole_whatever_its_bytes():
    for nonce in (b"\xff" * NONCE_LEN, bytes(NONCE_LEN), bytes(7) + b"\x01", b"\x01" + bytes(7)):
        probe = d.encode_discover(nonce)
        assert len(probe) == d.DISCOVER_SIZE and d.decode_discover(probe) == nonce
        reply = answerer()[0].answer(probe, A, 0.0, 0)
        assert reply is not None and d.decode_here(reply).nonce == nonce


@pytest.mark.parametrize("n", [NONCE_LEN - 1, NONCE_LEN + 1])
def test_a_nonce_or_instance_of_the_wrong_length_is_not_encoded(n):
    with pytest.raises(ValueError):
        d.encode_discover(bytes(n))
    with pytest.raises(ValueError):
        d.encode_here(d.Here(bytes(n), b"i" * d.INSTANCE_LEN, 1, 0, False, 1, "r"))
    with pytest.raises(ValueError):
        d.encode_here(d.Here(NONCE, bytes(n), 1, 0, False, 1, "r"))


# --- HERE: only a HERE of this version is one -------------------------------------------------


@pytest.mark.parametrize("at,value", [(0, 0x00), (2, ord("X")), (3, VERSION + 1), (3, VERSION - 1), (3, 0),
                                      (4, PacketType.DISCOVER)])
def test_a_here_with_another_magic_version_or_type_is_refused(at, value):
    raw = bytearray(here())
    assert d.decode_here(bytes(raw)).room == "Sala 3"
    raw[at] = value
    with pytest.raises(ProtocolError):
        d.decode_here(bytes(raw))
    rl = d.RoomList(NONCE)
    assert not rl.heard(bytes(raw), ("192.0.2.2", 5002), 0.0) and rl.ignored == 1 and rl.rooms == ()


def test_the_port_and_count_fields_are_big_endian_on_the_wire():
    raw = d.encode_here(d.Here(NONCE, b"i" * 8, 0x1389, 0x0102, True, 1, "r"))
    fixed = len(d.HERE_PREFIX) + NONCE_LEN + d.INSTANCE_LEN
    assert raw[fixed:fixed + 6] == bytes([0x13, 0x89, 0x01, 0x02, d.LOCKED, 1])
    assert raw[fixed + 6:] == b"\x00\x01r"


# --- the server's rates and counters -------------------------------------------------------------


def test_a_total_rate_below_one_a_second_still_answers_one_at_once_then_one_per_period():
    a, c = answerer(discovers_rate=0.5)                 # its bucket holds max(1, rate): one answer
    assert answered(a, ("127.0.2.1", 1), 0.0)
    assert not answered(a, ("127.0.2.2", 1), 0.0)
    assert not answered(a, ("127.0.2.3", 1), 1.999)
    assert answered(a, ("127.0.2.4", 1), 2.0)
    assert (c["discovered"], c["discover_limited"]) == (2, 2)


def test_a_total_rate_between_one_and_two_holds_that_many_not_two():
    a, _c = answerer(discovers_rate=1.5)                # burst 1.5: one now, the next after 1/3 s
    assert answered(a, ("127.0.2.1", 1), 0.0)
    assert not answered(a, ("127.0.2.2", 1), 0.0)
    assert not answered(a, ("127.0.2.3", 1), 0.33)
    assert answered(a, ("127.0.2.4", 1), 0.34)


def test_each_answer_and_each_drop_adds_one_to_its_counter():
    a, c = answerer(discover_hosts=1)
    assert answered(a, A, 0.0) and answered(a, A, 0.0) and answered(a, A, 0.0)
    assert not answered(a, B, 0.0) and not answered(a, ("127.0.1.9", 1), 0.0)     # beyond the hosts cap
    assert c == Counter(discovered=3, discover_limited=2)


def test_an_emptied_bucket_is_forgotten_only_once_full_again_counted_from_its_last_take():
    a, c = answerer(now=100.0, discover_hosts=1, discover_rate=4.0, discover_burst=8)
    assert [answered(a, A, 100.0) for _ in range(9)] == [True] * 8 + [False]
    a.forget(100.1)                          # 0.4 of a token: forgetting it would hand A a full burst
    assert not answered(a, A, 100.1)
    assert not answered(a, B, 100.1)         # and A still holds the one place
    a.forget(101.999)
    assert not answered(a, B, 101.999)
    a.forget(102.0)                          # 8 tokens since 100.0 (nothing taken since): full, forgotten
    assert answered(a, B, 102.0)
    assert c["discover_limited"] == 4


def test_the_server_sweep_forgets_full_buckets_so_a_new_address_gets_the_place():
    e = ServerEngine(10.0, limits=Limits(discover_hosts=1, discover_rate=4.0, discover_burst=8))
    e.receive_datagram(PROBE, A, 10.0)
    e.receive_datagram(PROBE, B, 10.0)
    assert [to for _x, to in e.datagrams_to_send(10.0)] == [A] and e.counters["discover_limited"] == 1
    t = e.get_timer()
    assert t is not None and t <= 11.0
    e.handle_timer(11.0)                     # a sweep, A's bucket full again since 10.25
    e.receive_datagram(PROBE, B, 11.0)
    assert [to for _x, to in e.datagrams_to_send(11.0)] == [B]


def test_an_engine_not_told_its_room_or_port_announces_an_empty_name_and_port_zero():
    e = ServerEngine(0.0)
    assert e.room_name == ""
    e.receive_datagram(PROBE, A, 0.0)
    (raw, _to), = e.datagrams_to_send(0.0)
    h = d.decode_here(raw)
    assert (h.room, h.port, h.members, h.locked) == ("", 0, 0, False)


# --- the client's list -----------------------------------------------------------------------


def test_a_room_is_forgotten_by_the_time_since_it_was_last_heard_not_since_zero():
    rl = d.RoomList(NONCE)
    assert rl.heard(here(), ("192.0.2.2", 5002), 10.0)
    assert rl.heard(here(b"j" * 8, "other"), ("192.0.2.3", 5002), 10.0)
    assert not rl.heard(here(), ("192.0.2.2", 5002), 12.0)        # the same news: refreshed, not changed
    assert not rl.forget(13.5, 3.5) and len(rl.rooms) == 2
    assert rl.forget(13.51, 3.5) and [r.name for r in rl.rooms] == ["Sala 3"]
    assert not rl.forget(15.5, 3.5)
    assert rl.forget(15.51, 3.5) and rl.rooms == ()


def test_an_ipv4_mapped_source_is_kept_as_plain_ipv4():
    rl = d.RoomList(NONCE)
    assert rl.heard(here(), ("::ffff:192.0.2.9", 5003, 0, 0), 0.0)
    (room,) = rl.rooms
    assert (room.host, room.port, room.label) == ("192.0.2.9", 5003, "192.0.2.9:5003")
    assert not rl.heard(here(), ("192.0.2.9", 5003), 0.1)           # the same address, written plainly
    rl.heard(here(b"j" * 8), ("fd00::ffff:1", 5002, 0, 0), 0.0)   # ::ffff: inside, not mapped: as it is
    assert {r.host for r in rl.rooms} == {"192.0.2.9", "fd00::ffff:1"}


def test_rooms_are_listed_by_name_ignoring_case_then_by_address():
    rl = d.RoomList(NONCE)
    for inst, name, host in [(b"1" * 8, "beta", "192.0.2.1"), (b"2" * 8, "Alpha", "192.0.2.3"),
                             (b"3" * 8, "alpha", "192.0.2.2"), (b"4" * 8, "ALPHA", "[fd00::1]")]:
        assert rl.heard(here(inst, name), (host.strip("[]"), 5002), 0.0)
    assert [(r.name, r.label) for r in rl.rooms] == [
        ("alpha", "192.0.2.2:5002"), ("Alpha", "192.0.2.3:5002"), ("ALPHA", "[fd00::1]:5002"), ("beta", "192.0.2.1:5002")]
    assert [r.label for r in rl.named("  aLpHa ")] == ["192.0.2.2:5002", "192.0.2.3:5002", "[fd00::1]:5002"]
    assert rl.named("alph") == [] and rl.named("alpha beta") == []
