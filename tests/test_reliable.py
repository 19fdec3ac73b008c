"""The reliable channel and RTT estimator: RFC 6298 timing, SACK, ordering, duplicates."""
from __future__ import annotations

import random

import pytest

from udpcore import rtt
from udpcore.reliable import WINDOW, ReliableChannel
from udpcore.wire import MAX_FRAGMENT, stamp

pytestmark = pytest.mark.timeout(30)


def arrive(r: ReliableChannel, frame: tuple, sent_at: float, now: float) -> list[bytes]:
    """What Peer.receive does with one DATA sent at ``sent_at``: note its stamp, take the fragment."""
    r.heard(stamp(sent_at), now)
    return r.on_data(*frame)


def ack(s: ReliableChannel, r: ReliableChannel, sent_at: float, now: float) -> None:
    """r's acknowledgement, sent at ``sent_at``, reaches s at ``now``."""
    s.on_ack(*r.ack_fields(sent_at), now)


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
    for m in (b"h", b"e", b"l", b"o"):     # four in the network: not a thin stream
        a.send(m)
    frames = a.poll(0.0)
    assert a.get_timer() == pytest.approx(1.0)             # initial RTO, no sample yet
    assert not a.handle_timer(0.99) and a.poll(0.99) == []
    assert a.handle_timer(1.0)
    assert a.poll(1.0) == frames
    assert a.get_timer() == pytest.approx(1.0 + 2.0)       # backed off to 2 s
    assert a.retransmissions == 4


def test_a_thin_stream_retries_at_a_steady_rto_before_backing_off():
    """One line in the network (a chat's usual traffic) lost again and again: the
    first six timeouts in a row keep RTO (Linux's thin-stream linear timeouts);
    only a peer silent beyond that is backed off from, up to the usual ceiling."""
    a = ReliableChannel()
    a.rtt.sample(0.01)
    base = a.rtt.rto
    a.send(b"x")
    a.poll(0.0)
    times = []
    while len(times) < 9:
        t = a.get_timer()
        assert a.handle_timer(t)
        a.poll(t)
        times.append(t)
    gaps = [round(b - a_, 6) for a_, b in zip([0.0] + times, times)]
    assert gaps[:7] == [pytest.approx(base)] * 7          # sent, then six linear retries
    assert gaps[7] == pytest.approx(2 * base) and gaps[8] == pytest.approx(4 * base)


def test_a_retransmission_is_timed_by_its_own_round_trip():
    """The echoed timestamp says which transmission the ack answers, so an ack of a
    retransmission is a sample of the path (10 ms), not of the time since the first
    send (1.01 s) -- and needs no Karn's rule."""
    a, b = ReliableChannel(), ReliableChannel()
    a.send(b"x")
    a.poll(0.0)                           # lost
    a.handle_timer(1.0)
    (f,) = a.poll(1.0)
    arrive(b, f, 1.0, 1.005)
    ack(a, b, 1.005, 1.01)
    assert a.idle
    assert a.rtt.srtt == pytest.approx(0.01, abs=2e-6)


def test_fast_retransmit_after_three_later_fragments_are_sacked():
    a, b = ReliableChannel(), ReliableChannel()
    for i in range(5):
        a.send(bytes([i]))
    frames = a.poll(0.0)
    for f in frames[1:4]:              # frame 0 lost
        arrive(b, f, 0.0, 0.005)
        ack(a, b, 0.005, 0.01)
    again = a.poll(0.01)
    assert [f[0] for f in again] == [0]
    assert a.retransmissions == 1


def test_a_hole_under_one_ack_for_a_whole_burst_is_resent_at_once():
    """A receiver that reads a burst in one batch sends one ACK for all of it. The
    first fragment lost and 31 SACKed beyond it is a loss (RFC 6675) -- counting
    duplicate ACKs instead (three needed) left it to the initial RTO: the loss
    benchmark's runs that sat still for the first second."""
    a, b = ReliableChannel(), ReliableChannel()
    for i in range(WINDOW):
        a.send(bytes([i]))
    frames = a.poll(0.0)
    for f in frames[1:]:               # frame 0 lost; the rest read in one batch
        arrive(b, f, 0.0, 0.001)
    ack(a, b, 0.001, 0.002)            # one ACK
    assert [f[0] for f in a.poll(0.002)] == [0]
    assert a.poll(0.003) == []          # resent once, not on every ACK that follows


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
            got += arrive(b, f, now, now + 0.01)
        if rng.random() > 0.2:
            ack(a, b, now + 0.01, now + 0.02)
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
        got += arrive(b, f, 0.0, 0.05)
    assert got == [b"\0", b"\1", b"\2", b"\3"]
    ack(a, b, 0.05, 0.1)
    assert a.idle


def test_unacknowledged_messages_can_move_to_a_new_session():
    a = ReliableChannel()
    a.send(b"A" * (MAX_FRAGMENT + 10))       # two fragments
    a.send(b"short")
    assert len(a.poll(0.0)) == 3
    a.on_ack(1, 0, stamp(0.0), 0.01)          # first fragment of the long one acked
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
            in_flight.append((t + rtt / 2, "data", (f, t)))
    lost_fast_retransmit = False
    delivered: list[bytes] = []
    while not s.idle and t < 5.0:
        t = round(t + 0.001, 6)
        for item in [x for x in in_flight if x[0] <= t]:
            in_flight.remove(item)
            _, kind, fields = item
            if kind == "data":
                delivered += arrive(r, *fields, t)
                in_flight.append((t + rtt / 2, "ack", r.ack_fields(t)))
            else:
                s.on_ack(*fields, t)
        at = s.get_timer()
        if at is not None and at <= t:
            s.handle_timer(t)
        for f in s.poll(t):
            if f[0] == 0 and not lost_fast_retransmit:
                lost_fast_retransmit = True               # ... and so is its first retransmission
                continue
            in_flight.append((t + rtt / 2, "data", (f, t)))
    assert s.idle and delivered == [b"m%d" % i for i in range(s.window)]
    assert lost_fast_retransmit
    assert s.retransmissions <= 2 and r.duplicates == 0, (
        f"one lost fragment cost {s.retransmissions} retransmissions; "
        f"{r.duplicates} fragments arrived twice")


def test_an_ack_of_a_retransmission_undoes_the_backoff():
    """RFC 9002 6.2.1: once the peer acknowledges something new the path works, so
    a backed-off RTO returns to what the samples say (here the retransmission's own
    round trip is the fresh sample)."""
    s, r = ReliableChannel(), ReliableChannel()
    s.rtt.sample(0.002)
    base = s.rtt.rto
    for m in (b"a", b"b", b"c", b"d"):
        s.send(m)
    s.poll(0.0)
    s.handle_timer(base)                  # all four lost: RTO doubles, they go again
    assert s.rtt.rto == pytest.approx(2 * base)
    for f in s.poll(base):
        arrive(r, f, base, base + 0.001)
    ack(s, r, base + 0.001, base + 0.002)
    assert s.idle
    assert s.rtt.srtt == pytest.approx(0.002, abs=2e-6)
    assert s.rtt.rto == pytest.approx(base, abs=2e-6)


def test_an_ack_held_back_is_timed_without_the_hold():
    """The loss benchmark's slow runs: a fragment arrives but its ACK is lost; the
    peer has nothing to send until its own lost data is recovered 0.4 s later, and
    its next datagram acknowledges ours. Timing that ack from when the fragment was
    sent gave 0.4 s samples on a 2 ms path; RTO swelled and the room crawled. The
    echo carries the hold time, so the sample is the path's 2 ms."""
    s, r = ReliableChannel(), ReliableChannel()
    s.rtt.sample(0.002)
    s.send(b"a")
    (f,) = s.poll(0.0)
    arrive(r, f, 0.0, 0.001)              # its ACK is lost
    ack(s, r, 0.4, 0.401)                 # the next ack from r, 0.4 s later
    assert s.idle
    assert s.rtt.srtt == pytest.approx(0.002, abs=2e-6)


def test_a_round_trip_across_the_timestamp_wrap_is_timed_right():
    """Stamps are microseconds modulo 2**32 (they wrap every 71.6 minutes); the
    channel's inlined arithmetic must survive the wrap as wire.stamp_age does."""
    wrap = 2**32 / 1_000_000
    s, r = ReliableChannel(), ReliableChannel()
    s.send(b"a")
    (f,) = s.poll(wrap - 0.001)
    arrive(r, f, wrap - 0.001, wrap + 0.0005)
    ack(s, r, wrap + 0.001, wrap + 0.002)
    assert s.idle and s.rtt.srtt == pytest.approx(0.0025, abs=2e-6)


def test_an_echo_older_than_a_minute_is_not_a_sample():
    """A wrapped clock or a broken peer must not set RTO to its ceiling."""
    s = ReliableChannel()
    s.rtt.sample(0.002)
    s.send(b"a")
    s.poll(0.0)
    s.handle_timer(s.rtt.rto)
    s.on_ack(1, 0, stamp(0.003) + 1, 0.003)  # an echo "from the future": 71 minutes old mod 2**32
    assert s.idle
    assert s.rtt.srtt == pytest.approx(0.002) and s.rtt.rto == s.rtt._base
