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
    b.on_data(*f)
    a.on_ack(*b.ack_fields(), 1.01)
    assert a.rtt.srtt is None and a.idle
    a.send(b"y")
    (g,) = a.poll(2.0)
    b.on_data(*g)
    a.on_ack(*b.ack_fields(), 2.02)
    assert a.rtt.srtt == pytest.approx(0.02)


def test_fast_retransmit_after_three_later_fragments_are_sacked():
    a, b = ReliableChannel(), ReliableChannel()
    for i in range(5):
        a.send(bytes([i]))
    frames = a.poll(0.0)
    for f in frames[1:4]:              # frame 0 lost
        b.on_data(*f)
        a.on_ack(*b.ack_fields(), 0.01)
    again = a.poll(0.01)
    assert [f[0] for f in again] == [0]
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
            got += b.on_data(*f)
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
    assert [f[0] for f in frames] == [0xFFFFFFFE, 0xFFFFFFFF, 0, 1]
    got = []
    for f in reversed(frames):
        got += b.on_data(*f)
    assert got == [b"\0", b"\1", b"\2", b"\3"]
    a.on_ack(*b.ack_fields(), 0.1)
    assert a.idle


def test_unacknowledged_messages_can_move_to_a_new_session():
    a = ReliableChannel()
    a.send(b"A" * (MAX_FRAGMENT + 10))       # two fragments
    a.send(b"short")
    assert len(a.poll(0.0)) == 3
    a.on_ack(1, 0, 0.01)                      # first fragment of the long one acked
    # The new session never saw any of it: the half-acknowledged message goes again, whole.
    assert a.take_unsent_messages() == [b"A" * (MAX_FRAGMENT + 10), b"short"]
    assert a.idle


# --- regressions found through the lossy loopback tests ------------------------------------


@pytest.mark.timeout(10)
def test_a_burst_of_lost_fragments_doubles_the_rto_once_not_once_per_fragment():
    """RFC 6298 (5.5): when the retransmission timer expires, back off RTO once.

    Each fragment here has its own deadline, so five fragments sent a couple of
    milliseconds apart and lost together expire one after the other; that is one
    timeout of the path, and must double RTO once -- not five times (from the
    50 ms floor to 1.6 s within 8 ms). Under steady loss the per-fragment
    doubling keeps RTO at its 8 s cap; a fragment whose retransmission is lost
    twice then stays unacknowledged past the 15 s / 20 s liveness limits and the
    member is dropped ("vanished"), losing lines.
    """
    ch = ReliableChannel()
    ch.rtt.sample(0.01)                  # a LAN round trip: RTO sits at its floor
    rto0 = ch.rtt.rto
    t = 0.0
    for _ in range(5):                   # five fragments, 2 ms apart, all lost
        ch.send(b"x")
        assert len(ch.poll(t)) == 1
        t += 0.002
    first = ch.get_timer()
    assert first == pytest.approx(rto0)
    retransmitted = 0
    while (at := ch.get_timer()) is not None and at < first + 2 * rto0 - 1e-9:
        ch.handle_timer(at)              # what the transport does when the timer is due
        retransmitted += len(ch.poll(at))
    assert retransmitted >= 1            # the timeout did resend what was lost
    assert ch.rtt.rto == pytest.approx(2 * rto0), (
        f"one timeout period backed RTO off from {rto0} s to {ch.rtt.rto} s")


@pytest.mark.timeout(10)
def test_one_loss_in_a_full_window_resends_only_what_was_lost():
    """A window wider than the 32-bit SACK bitmap (it was 64) meant fragments more
    than 32 beyond a hole could never be reported received, so while the hole lasted they
    timed out and were all sent again (and when the hole fills, those that had not
    yet timed out give RTT samples as long as the hole lasted, which inflates
    RTO). Here fragment 0 of a full window and its fast retransmission are lost;
    everything else arrives. Only fragment 0 should need sending again.
    """
    rtt = 0.010
    s, r = ReliableChannel(), ReliableChannel()
    s.rtt.sample(rtt)
    for i in range(s.window):
        s.send(b"m%d" % i)
    t = 0.0
    in_flight: list[tuple[float, str, tuple]] = []       # (arrival time, "data"/"ack", fields)
    for f in s.poll(t):
        if f[0] != 0:                                    # fragment 0 is lost
            in_flight.append((t + rtt / 2, "data", f))
    lost_fast_retransmit = False
    delivered: list[bytes] = []
    while not s.idle and t < 5.0:
        t = round(t + 0.001, 6)
        for item in [x for x in in_flight if x[0] <= t]:
            in_flight.remove(item)
            _, kind, fields = item
            if kind == "data":
                delivered += r.on_data(*fields)
                in_flight.append((t + rtt / 2, "ack", r.ack_fields()))
            else:
                s.on_ack(*fields, t)
        at = s.get_timer()
        if at is not None and at <= t:
            s.handle_timer(t)
        for f in s.poll(t):
            if f[0] == 0 and not lost_fast_retransmit:
                lost_fast_retransmit = True               # ... and so is its first retransmission
                continue
            in_flight.append((t + rtt / 2, "data", f))
    assert s.idle and delivered == [b"m%d" % i for i in range(s.window)]
    assert lost_fast_retransmit
    assert s.retransmissions <= 2 and r.duplicates == 0, (
        f"one lost fragment cost {s.retransmissions} retransmissions; "
        f"{r.duplicates} fragments arrived twice")


def test_an_ack_for_anything_new_undoes_the_backoff_even_without_a_sample():
    """RFC 9002 6.2.1: once the peer acknowledges something new the path works; a
    window stuck behind a lost retransmission gives no fresh sample (Karn's rule),
    so without this RTO would stay backed off and recovery would crawl."""
    ch = ReliableChannel()
    ch.rtt.sample(0.002)
    base = ch.rtt.rto
    ch.send(b"a")
    ch.poll(0.0)
    ch.handle_timer(base)                 # lost: RTO doubles, the fragment goes again
    assert ch.rtt.rto == pytest.approx(2 * base)
    assert [f[0] for f in ch.poll(base)] == [0]
    ch.on_ack(1, 0, base + 0.001)         # acks the retransmission: no sample (Karn)...
    assert ch.rtt.srtt == pytest.approx(0.002)
    assert ch.rtt.rto == pytest.approx(base)   # ...but the backoff is undone


def test_an_ack_provoked_by_a_retransmission_gives_no_rtt_sample():
    """Fragments 0 and 1 both arrive, but their ACKs are lost. At the timeout only
    fragment 0 is due and goes again; the receiver's answer acknowledges both. That
    ACK times fragment 1 at a whole RTO (1 s) although the path takes milliseconds:
    it must not become a sample."""
    s, r = ReliableChannel(), ReliableChannel()
    s.send(b"a")
    (f0,) = s.poll(0.0)
    s.send(b"b")
    (f1,) = s.poll(0.001)
    r.on_data(*f0)
    r.on_data(*f1)                        # received; the ACKs for both are lost
    assert s.handle_timer(1.0)            # fragment 0's timer (fragment 1's is 1 ms later)
    assert [f[0] for f in s.poll(1.0)] == [0]
    r.on_data(*f0)                        # a duplicate: the receiver acknowledges again
    s.on_ack(*r.ack_fields(), 1.0005)
    assert s.idle
    assert s.rtt.srtt is None             # no sample of ~1 s from fragment 1
    assert s.rtt.rto == rtt.INITIAL_RTO   # and the backoff is undone
