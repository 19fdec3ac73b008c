"""The reliable channel and RTT estimator: RFC 6298 timing, SACK, ordering, duplicates."""
from __future__ import annotations

import random

import pytest

from udpcore import rtt
from udpcore.reliable import WINDOW, ReliableChannel
from udpcore.wire import MAX_FRAGMENT

pytestmark = pytest.mark.timeout(30)


def test_first_sample_sets_srtt_and_rttvar_as_rfc6298_says():
    e = rtt.RttEstimator()
    assert e.rto == rtt.INITIAL_RTO == 1.0
    e.sample(0.1)
    assert e.srtt == 0.1 and e.rttvar == 0.05
    assert e.rto == pytest.approx(0.1 + 4 * 0.05)
    e.sample(0.3)
    assert e.rttvar == pytest.approx(0.75 * 0.05 + 0.25 * 0.2)
    assert e.srtt == pytest.approx(0.875 * 0.1 + 0.125 * 0.3)


def test_rto_is_clamped_and_backoff_doubles():
    e = rtt.RttEstimator()
    e.sample(0.0001)
    assert e.rto == rtt.MIN_RTO
    e.backoff()
    assert e.rto == 2 * rtt.MIN_RTO
    for _ in range(20):
        e.backoff()
    assert e.rto == rtt.MAX_RTO


def test_retransmission_fires_at_rto_with_fake_clock_and_backs_off():
    a = ReliableChannel()
    a.send(b"hello")
    (f,) = a.poll(0.0)
    assert a.get_timer() == pytest.approx(1.0)             # initial RTO, no sample yet
    assert not a.handle_timer(0.99) and a.poll(0.99) == []
    assert a.handle_timer(1.0)
    (again,) = a.poll(1.0)
    assert again == f
    assert a.get_timer() == pytest.approx(1.0 + 2.0)       # backed off to 2 s
    assert a.retransmissions == 1


def test_karns_rule_no_rtt_sample_from_retransmitted_data():
    a, b = ReliableChannel(), ReliableChannel()
    a.send(b"x")
    a.poll(0.0)
    a.handle_timer(1.0)
    (f,) = a.poll(1.0)
    b.on_data(f.seq, f.flags, f.payload)
    a.on_ack(*b.ack_fields(), 1.01)
    assert a.rtt.srtt is None and a.idle
    a.send(b"y")
    (g,) = a.poll(2.0)
    b.on_data(g.seq, g.flags, g.payload)
    a.on_ack(*b.ack_fields(), 2.02)
    assert a.rtt.srtt == pytest.approx(0.02)


def test_fast_retransmit_after_three_later_fragments_are_sacked():
    a, b = ReliableChannel(), ReliableChannel()
    for i in range(5):
        a.send(bytes([i]))
    frames = a.poll(0.0)
    for f in frames[1:4]:              # frame 0 lost
        b.on_data(f.seq, f.flags, f.payload)
        a.on_ack(*b.ack_fields(), 0.01)
    again = a.poll(0.01)
    assert [f.seq for f in again] == [0]
    assert a.retransmissions == 1


def test_window_bounds_what_is_in_flight():
    a = ReliableChannel()
    for i in range(WINDOW + 10):
        a.send(b"m")
    assert len(a.poll(0.0)) == WINDOW
    assert a.poll(0.0) == []
    assert a.backlog == WINDOW + 10


def test_duplicates_and_reordering_give_each_message_once_in_order():
    rng = random.Random(7)
    a, b = ReliableChannel(), ReliableChannel()
    msgs = [bytes([i]) * rng.randint(1, 3 * MAX_FRAGMENT) for i in range(200)]
    for m in msgs:
        a.send(m)
    got: list[bytes] = []
    now = 0.0
    while not a.idle and now < 200:
        frames = a.poll(now)
        wire = [f for f in frames if rng.random() > 0.2]
        wire += [f for f in frames if rng.random() < 0.1]        # duplicates
        rng.shuffle(wire)                                       # reordering
        for f in wire:
            got += b.on_data(f.seq, f.flags, f.payload)
        if rng.random() > 0.2:
            a.on_ack(*b.ack_fields(), now)
        now += 0.05
        a.handle_timer(now)
    assert got == msgs
    assert b.duplicates > 0


def test_sequence_numbers_wrap_around():
    a, b = ReliableChannel(), ReliableChannel()
    a._next_seq = b._expected = 0xFFFFFFFE
    for i in range(4):
        a.send(bytes([i]))
    frames = a.poll(0.0)
    assert [f.seq for f in frames] == [0xFFFFFFFE, 0xFFFFFFFF, 0, 1]
    got = []
    for f in reversed(frames):
        got += b.on_data(f.seq, f.flags, f.payload)
    assert got == [b"\0", b"\1", b"\2", b"\3"]
    a.on_ack(*b.ack_fields(), 0.1)
    assert a.idle


def test_unacknowledged_messages_can_move_to_a_new_session():
    a = ReliableChannel()
    a.send(b"A" * (MAX_FRAGMENT + 10))       # two fragments
    a.send(b"short")
    frames = a.poll(0.0)
    a.on_ack(1, 0, 0.01)                      # first fragment of the long one acked
    assert a.take_unsent_messages() == [b"short"]      # the half-delivered one cannot be rebuilt
    assert a.idle
