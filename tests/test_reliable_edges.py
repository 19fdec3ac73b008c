"""The reliable channel, the RTT estimator and the Peer at their edges: window,
SACK bits, thresholds and timers tried at and one past their values."""
from __future__ import annotations

import pytest

from udpcore import rtt
from udpcore import reliable as rel
from udpcore.appmsg import Say, Who, decode_msg, encode_msg
from udpcore.errors import BacklogFull, ProtocolError
from udpcore.peer import KEEPALIVE, MEMBER_TIMEOUT, SERVER_TIMEOUT, Peer
from udpcore.reliable import ReliableChannel
from udpcore.wire import FLAG_MORE, MAX_FRAGMENT, Ack, Data, Ping, decode, stamp

pytestmark = pytest.mark.timeout(10)


def sent(ch: ReliableChannel, n: int, now: float = 0.0) -> list:
    for i in range(n):
        ch.send(bytes([i]))
    return ch.poll(now)


# --- RTT -------------------------------------------------------------------------------


def test_rtt_constants():
    assert (rtt.INITIAL_RTO, rtt.MIN_RTO, rtt.MAX_RTO, rtt.GRANULARITY) == (1.0, 0.01, 8.0, 0.001)


def test_rttvar_grows_when_the_round_trip_shrinks_as_when_it_grows():
    up, down = rtt.RttEstimator(), rtt.RttEstimator()
    up.sample(0.1)
    up.sample(0.3)
    down.sample(0.3)
    down.sample(0.1)
    assert down.rttvar == pytest.approx(0.75 * 0.15 + 0.25 * 0.2)
    assert down.srtt == pytest.approx(0.875 * 0.3 + 0.125 * 0.1)
    assert down.rto == pytest.approx(down.srtt + 4 * down.rttvar)
    assert up.rttvar == pytest.approx(0.75 * 0.05 + 0.25 * 0.2)


def test_a_steady_round_trip_keeps_a_granularity_floor_over_srtt():
    e = rtt.RttEstimator()
    e.sample(0.1)
    for _ in range(200):
        e.sample(0.1)
    assert e.rttvar < 1e-12
    assert e.rto == pytest.approx(0.1 + rtt.GRANULARITY)        # SRTT + G, not SRTT + 4*RTTVAR


def test_four_rttvar_just_over_the_granularity_counts():
    e = rtt.RttEstimator()
    e.sample(0.0025)                    # rttvar 0.00125: 4x = 0.005 > G
    assert e.rto == pytest.approx(0.0125 if 0.0025 + 0.005 >= rtt.MIN_RTO else rtt.MIN_RTO)
    e = rtt.RttEstimator()
    e.sample(0.02)                      # rttvar 0.01: rto 0.06
    assert e.rto == pytest.approx(0.06)


def test_a_negative_sample_counts_as_zero_and_rto_is_clamped_both_ways():
    e = rtt.RttEstimator()
    e.sample(-5.0)
    assert e.srtt == 0.0 and e.rttvar == 0.0 and e.rto == rtt.MIN_RTO
    e = rtt.RttEstimator()
    e.sample(3.0)                       # 3 + 4 * 1.5 = 9 > 8
    assert e.rto == rtt.MAX_RTO
    e = rtt.RttEstimator()
    e.sample(2.0)                       # 2 + 4 * 1 = 6: within the clamp
    assert e.rto == pytest.approx(6.0)
    e = rtt.RttEstimator()
    e.sample(0.004)                     # 0.004 + 0.008 = 0.012: just over the floor
    assert e.rto == pytest.approx(0.012)


def test_backoff_doubles_up_to_the_ceiling_and_reset_restores_the_computed_rto():
    e = rtt.RttEstimator()
    e.backoff()
    assert e.rto == 2.0
    e.reset_backoff()
    assert e.rto == 1.0
    e.sample(0.1)
    computed = e.rto
    e.backoff()
    e.backoff()
    assert e.rto == pytest.approx(4 * computed)
    e.reset_backoff()
    assert e.rto == computed
    e.rto = 5.0
    e.backoff()
    assert e.rto == rtt.MAX_RTO


# --- sending: fragments, window, backlog ---------------------------------------------------


def test_constants():
    assert (rel.WINDOW, rel.RECEIVE_WINDOW, rel.SACK_BITS, rel.MAX_REASSEMBLY) == (32, 256, 32, 131072)
    assert (rel.DUP_THRESHOLD, rel.MAX_SAMPLE, rel.THIN_STREAM, rel.THIN_LINEAR_TIMEOUTS) == (3, 60.0, 4, 6)


def test_a_message_of_max_fragment_bytes_is_one_fragment_and_one_more_is_two():
    a = ReliableChannel()
    a.send(b"x" * MAX_FRAGMENT)
    assert a.poll(0.0) == [(0, 0, b"x" * MAX_FRAGMENT)]
    a = ReliableChannel()
    a.send(b"x" * (MAX_FRAGMENT + 1))
    assert a.poll(0.0) == [(0, FLAG_MORE, b"x" * MAX_FRAGMENT), (1, 0, b"x")]
    a = ReliableChannel()
    a.send(b"y" * (2 * MAX_FRAGMENT))
    assert [f[1] for f in a.poll(0.0)] == [FLAG_MORE, 0]
    a = ReliableChannel()
    a.send(b"")
    assert a.poll(0.0) == [(0, 0, b"")]


def test_exactly_window_fragments_fly_and_each_ack_lets_one_more_go():
    a = ReliableChannel()
    frames = sent(a, rel.WINDOW + 2)
    assert [f[0] for f in frames] == list(range(32))
    assert a.has_output() is False and a.poll(0.0) == []
    a.on_ack(1, 0, stamp(0.0), 0.01)
    assert a.has_output() is True
    assert [f[0] for f in a.poll(0.01)] == [32]
    assert a.backlog == 33 and not a.idle


def test_sequence_numbers_wrap():
    a = ReliableChannel()
    a._next_seq = 0xFFFFFFFF
    a.send(b"a")
    a.send(b"b")
    assert [f[0] for f in a.poll(0.0)] == [0xFFFFFFFF, 0]


def test_the_backlog_cap_is_exact_and_control_messages_pass_it():
    a = ReliableChannel(max_backlog=3)
    for _ in range(4):
        a.send(b"m")                     # the backlog may reach max_backlog + 1
    with pytest.raises(BacklogFull):
        a.send(b"m")
    a.send(b"leave", capped=False)
    assert a.backlog == 5


def test_oldest_unacked_is_the_first_fragment_still_in_flight():
    a = ReliableChannel()
    assert a.oldest_unacked() is None
    a.send(b"a")
    a.poll(1.0)
    a.send(b"b")
    a.poll(2.0)
    assert a.oldest_unacked() == 1.0
    a.on_ack(1, 0, stamp(2.0), 2.1)
    assert a.oldest_unacked() == 2.0
    a.on_ack(2, 0, stamp(2.0), 2.1)
    assert a.oldest_unacked() is None and a.idle


# --- acknowledgements ---------------------------------------------------------------------


def test_an_ack_equal_to_a_seq_does_not_acknowledge_it_and_one_past_does():
    a = ReliableChannel()
    sent(a, 3)
    a.on_ack(0, 0, 0, 0.0)
    assert a.backlog == 3
    a.on_ack(2, 0, 0, 0.0)
    assert a.backlog == 1
    a.on_ack(2 + 0x80000000, 0, 0, 0.0)   # half the sequence space ahead: an old ack, not a new one
    assert a.backlog == 1
    a.on_ack(3, 0, 0, 0.0)
    assert a.idle


def test_an_ack_of_everything_in_flight_drops_it_at_once_and_is_a_sample():
    """The busy room's commonest ack: every fragment in flight at once (the fast path)."""
    a = ReliableChannel()
    sent(a, 5, now=1.0)
    a.send(b"waiting")                           # queued after the five went out
    a.on_ack(5, 0, stamp(1.0), 1.2)
    assert a.backlog == 1 and a.oldest_unacked() is None
    assert a.rtt.srtt == pytest.approx(0.2, abs=1e-3)
    assert [f[0] for f in a.poll(1.2)] == [5]
    a.on_ack(6, 0, stamp(1.2), 1.3)
    assert a.idle


class _Pops(dict):
    """An in-flight table that counts the fragments taken out of it one at a time."""
    pops = 0

    def pop(self, *args):
        self.pops += 1
        return super().pop(*args)


@pytest.mark.parametrize("moved_first", [False, True])
def test_an_ack_of_exactly_everything_in_flight_takes_nothing_out_one_by_one(moved_first):
    """The fast path, at its edge (the ack one past the last fragment), and after a
    session moved a message cut off by the window (its count starts again at 0)."""
    a = ReliableChannel(window=2)
    if moved_first:
        a.send(b"A" * (2 * MAX_FRAGMENT + 1))
        a.poll(0.0)
        assert a.take_unsent_messages()
    a._inflight = _Pops(a._inflight)
    first = a._next_seq
    sent(a, 2)
    a.on_ack(first + 2, 0, stamp(0.0), 0.1)
    assert a.idle and a._inflight.pops == 0
    sent(a, 2, now=0.1)
    a.on_ack(first + 3, 0, stamp(0.1), 0.2)          # one of two: taken out as before
    assert a.backlog == 1 and a._inflight.pops == 1
    a.on_ack(first + 4, 0, stamp(0.1), 0.2)
    a.send(b"B" * (MAX_FRAGMENT + 1))                # a long one after all that: counted again
    a.poll(0.3)
    a.on_ack(first + 6, 0, stamp(0.3), 0.4)
    assert a.idle and a.take_unsent_messages() == []


@pytest.mark.parametrize("covered", [4, 5, 6])
def test_an_ack_one_short_of_everything_in_flight_keeps_the_last(covered):
    a = ReliableChannel()
    sent(a, 5)
    a.on_ack(covered, 0, stamp(0.0), 0.1)
    assert a.backlog == max(0, 5 - covered)
    assert a.idle == (covered >= 5)


def test_an_ack_of_everything_in_flight_across_the_sequence_wrap():
    a = ReliableChannel()
    a._next_seq = 0xFFFFFFFD
    sent(a, 5)                                   # 0xFFFFFFFD .. 1
    a.on_ack(1, 0, stamp(0.0), 0.1)              # four of them: modulo 2**32
    assert a.backlog == 1
    a.on_ack(2, 0, stamp(0.0), 0.2)
    assert a.idle


def test_a_message_cut_off_by_the_window_keeps_its_acknowledged_parts_however_it_is_acked():
    """Every fragment in flight acknowledged, but the last in flight is not a message's
    end (the window held the rest back): its parts are kept, so that the message moves
    whole to a new session, and the count of such fragments comes back to 0."""
    a = ReliableChannel(window=2)
    long = b"A" * (2 * MAX_FRAGMENT + 1)         # three fragments; two fly
    a.send(long)
    assert [f[1] for f in a.poll(0.0)] == [FLAG_MORE, FLAG_MORE]
    a.on_ack(2, 0, stamp(0.0), 0.1)              # both in flight
    assert a.backlog == 1
    assert a.take_unsent_messages() == [long]
    b = ReliableChannel(window=2)
    b.send(long)
    b.send(b"next")
    b.poll(0.0)
    b.on_ack(2, 0, stamp(0.0), 0.1)
    assert [f[1] for f in b.poll(0.1)] == [0, 0]  # the long one's end, and "next"
    assert b._more_in_flight == 0
    b.on_ack(4, 0, stamp(0.0), 0.2)              # all in flight, and the long one's end among them
    assert b.idle and b.take_unsent_messages() == []


def test_a_duplicate_ack_is_not_a_round_trip_sample():
    a = ReliableChannel()
    sent(a, 2)
    a.on_ack(1, 0, stamp(0.0), 0.1)
    assert a.rtt.srtt == pytest.approx(0.1)
    a.on_ack(1, 0, stamp(0.0), 0.5)       # the same ack again, later: nothing new acknowledged
    assert a.rtt.srtt == pytest.approx(0.1)
    assert a.rtt.rttvar == pytest.approx(0.05)


def test_an_ack_that_only_sacks_something_new_is_a_sample():
    a = ReliableChannel()
    sent(a, 3)
    a.on_ack(0, 0b1, stamp(0.0), 0.2)     # seq 1 SACKed, 0 still missing
    assert a.rtt.srtt == pytest.approx(0.2)
    a.on_ack(0, 0b1, stamp(0.0), 0.9)     # the same SACK again: no sample
    assert a.rtt.srtt == pytest.approx(0.2)


def test_an_echo_just_under_a_minute_is_a_sample_and_a_minute_is_not():
    a = ReliableChannel()
    sent(a, 2, 0.0)
    a.on_ack(1, 0, stamp(0.0), 59.5)
    assert a.rtt.srtt == pytest.approx(59.5)
    b = ReliableChannel()
    sent(b, 2, 0.0)
    b.rtt.backoff()
    b.on_ack(1, 0, stamp(0.0), 60.0)
    assert b.rtt.srtt is None and b.rtt.rto == 1.0       # not a sample, but the backoff is undone


def test_sack_bit_i_means_ack_plus_one_plus_i():
    a = ReliableChannel()
    frames = sent(a, 32)
    a.on_ack(0, 1 << 31, stamp(0.0), 0.01)     # bit 31: seq 32 -- not in flight, nothing happens
    assert a.get_timer() is not None
    a.on_ack(0, 1 << 30, stamp(0.0), 0.01)     # bit 30: seq 31
    assert [f.seq for f in a._inflight.values() if f.sacked] == [31]
    a.on_ack(0, 0b101, stamp(0.0), 0.01)       # seqs 1 and 3
    assert [f.seq for f in a._inflight.values() if f.sacked] == [1, 3, 31]
    assert len(frames) == 32


def test_sack_bit_31_reaches_the_last_fragment_of_a_full_window():
    a = ReliableChannel()
    sent(a, 33)                                # 32 fly (0..31)
    a.on_ack(0, 0x7FFFFFFF, stamp(0.0), 0.01)  # 1..31 SACKed, 0 missing
    assert all(f.sacked for f in a._inflight.values() if f.seq != 0)
    assert [f[0] for f in a.poll(0.01)] == [0]       # fast retransmit of the hole


def test_two_fragments_sacked_beyond_a_hole_are_not_enough_and_three_are():
    a = ReliableChannel()
    sent(a, 4)
    a.on_ack(0, 0b011, stamp(0.0), 0.01)
    assert a.poll(0.01) == [] and a.retransmissions == 0
    a.on_ack(0, 0b111, stamp(0.0), 0.02)
    assert [f[0] for f in a.poll(0.02)] == [0] and a.retransmissions == 1


def test_a_fast_retransmission_is_not_repeated_on_every_later_ack():
    a = ReliableChannel()
    sent(a, 6)
    a.on_ack(0, 0b111, stamp(0.0), 0.01)
    assert [f[0] for f in a.poll(0.01)] == [0]
    a.on_ack(0, 0b1111, stamp(0.0), 0.02)      # more SACKed beyond the same hole
    a.on_ack(0, 0b11111, stamp(0.0), 0.03)
    assert a.poll(0.03) == [] and a.retransmissions == 1
    # a second hole further on is its own loss
    b = ReliableChannel()
    sent(b, 8)
    b.on_ack(0, 0b1111110, stamp(0.0), 0.01)   # 0 and 1 missing, 2..7 SACKed
    assert [f[0] for f in b.poll(0.01)] == [0, 1]
    assert b.retransmissions == 2


def test_a_fast_retransmission_acked_before_it_goes_is_not_sent():
    a = ReliableChannel()
    sent(a, 4)
    a.on_ack(0, 0b111, stamp(0.0), 0.01)       # 0 marked for fast retransmit
    a.on_ack(4, 0, stamp(0.0), 0.01)           # ...and then it arrives after all
    assert a.poll(0.01) == [] and a.idle


def test_a_fragment_already_due_is_not_queued_twice():
    a = ReliableChannel()
    sent(a, 5)
    a.handle_timer(1.0)                        # all five due
    a.on_ack(0, 0b1111, stamp(0.0), 1.0)       # 1..4 SACKed: 0 would be fast-retransmitted, but is due
    assert [f[0] for f in a.poll(1.0)] == [0, 1, 2, 3, 4]
    assert a.retransmissions == 5


def test_acknowledged_fragments_are_not_glued_onto_the_next_message_when_a_session_moves():
    a = ReliableChannel()
    a.send(b"A" * (2 * MAX_FRAGMENT + 1))       # three fragments
    a.send(b"next")
    a.poll(0.0)
    a.on_ack(3, 0, stamp(0.0), 0.01)            # the whole long message acknowledged in one ack
    assert a.take_unsent_messages() == [b"next"]
    b = ReliableChannel()
    b.send(b"B" * (MAX_FRAGMENT + 1))
    b.send(b"next")
    b.poll(0.0)
    b.on_ack(1, 0, stamp(0.0), 0.01)            # first fragment...
    b.on_ack(2, 0, stamp(0.0), 0.02)            # ...then the last, in another ack
    assert b.take_unsent_messages() == [b"next"]
    assert b.take_unsent_messages() == [] and b.idle


def test_a_half_acknowledged_message_moves_whole_with_the_backlog_behind_it():
    a = ReliableChannel(window=2)
    a.send(b"A" * (MAX_FRAGMENT + 1))
    a.send(b"later")                             # still in the backlog: the window is 2
    a.poll(0.0)
    a.on_ack(1, 0, stamp(0.0), 0.01)
    a.handle_timer(5.0)
    assert a.take_unsent_messages() == [b"A" * (MAX_FRAGMENT + 1), b"later"]
    assert a.poll(5.0) == [] and a.get_timer() is None and not a.has_output()


# --- timers -----------------------------------------------------------------------------------


def test_get_timer_is_the_earliest_deadline_of_what_is_not_sacked():
    a = ReliableChannel()
    assert a.get_timer() is None
    a.send(b"a")
    a.poll(0.0)
    a.send(b"b")
    a.poll(0.5)
    assert a.get_timer() == pytest.approx(1.0)
    a.on_ack(0, 0b1, stamp(0.5), 0.6)           # 1 SACKed; srtt 0.1 now, but 0 keeps its deadline
    assert a.get_timer() == pytest.approx(1.0)
    a.on_ack(1, 0, stamp(0.5), 0.6)             # 0 acked; 1 was SACKed: nothing waits on a timer
    assert a.get_timer() is None and a.backlog == 1


def test_a_timer_fires_at_its_deadline_not_before():
    a = ReliableChannel()
    sent(a, 1)
    assert not a.handle_timer(0.999999)
    assert a.handle_timer(1.0)
    assert a.poll(1.0) == [(0, 0, b"\0")]
    assert a.get_timer() == pytest.approx(1.0 + a.rtt.rto)


def test_three_in_the_network_is_thin_and_four_is_not():
    thin, thick = ReliableChannel(), ReliableChannel()
    sent(thin, 3)
    sent(thick, 4)
    thin.handle_timer(1.0)
    thick.handle_timer(1.0)
    assert thin.rtt.rto == 1.0 and thick.rtt.rto == 2.0
    # SACKed fragments are not in the network: four sent, two SACKed leave a thin stream
    part = ReliableChannel()
    sent(part, 4)
    part.on_ack(0, 0b10, stamp(0.0), 0.5)      # seq 2 SACKed (srtt 0.5)
    rto = part.rtt.rto
    part.handle_timer(10.0)
    assert part.rtt.rto == rto


def test_backoff_happens_at_most_once_per_rto_and_again_after_it():
    a = ReliableChannel()
    sent(a, 4)
    assert a.handle_timer(1.0) and a.rtt.rto == 2.0
    a.poll(1.0)                                  # resent, deadline 3.0
    a.send(b"x")
    a.poll(1.5)                                  # a new fragment, deadline 3.5
    assert a.handle_timer(3.0) and a.rtt.rto == 4.0    # 3.0 >= backoff_until (1.0 + 2.0)
    a.poll(3.0)
    assert a.handle_timer(3.5) and a.rtt.rto == 4.0    # the new one's expiry: same period (until 7.0)


def test_the_thin_stream_counts_consecutive_timeouts_and_an_ack_restarts_the_count():
    a = ReliableChannel()
    sent(a, 1)
    t = 0.0
    for _ in range(rel.THIN_LINEAR_TIMEOUTS):
        t = a.get_timer()
        a.handle_timer(t)
        a.poll(t)
    assert a.rtt.rto == 1.0
    a.send(b"more")
    a.poll(t)
    a.on_ack(1, 0, stamp(t), t + 0.0001)        # progress: the count starts again (and RTO from the sample)
    base = a.rtt.rto
    for _ in range(rel.THIN_LINEAR_TIMEOUTS):
        t = a.get_timer()
        a.handle_timer(t)
        a.poll(t)
    assert a.rtt.rto == base
    t = a.get_timer()
    a.handle_timer(t)
    assert a.rtt.rto == pytest.approx(2 * base)


# --- receiving ------------------------------------------------------------------------------


def test_the_receive_window_buffers_255_ahead_and_drops_256():
    b = ReliableChannel()
    assert b.on_data(255, 0, b"far") == []
    assert b.duplicates == 0
    assert b.on_data(256, 0, b"too far") == []
    assert b.duplicates == 1
    assert b.on_data(255, 0, b"far") == [] and b.duplicates == 2        # a duplicate of a buffered one


def test_an_old_fragment_is_a_duplicate_and_still_asks_for_an_ack():
    b = ReliableChannel()
    assert b.on_data(0, 0, b"a") == [b"a"]
    b.ack_needed = False
    assert b.on_data(0, 0, b"a") == [] and b.duplicates == 1
    assert b.ack_needed


def test_ack_fields_describe_what_arrived_and_echo_the_hold_time():
    b = ReliableChannel()
    assert b.ack_fields(0.0) == (0, 0, 0)
    b.heard(1000, 2.0)
    b.on_data(1, 0, b"b")                    # 0 missing
    b.on_data(32, 0, b"c")                   # bit 31
    b.on_data(33, 0, b"d")                   # beyond the bitmap: buffered, not reported
    ack, sack, echo = b.ack_fields(2.5)
    assert (ack, sack) == (0, 1 | 1 << 31)
    assert echo == 1000 + 500_000
    assert b.on_data(0, 0, b"a") == [b"a", b"b"]
    assert b.ack_fields(2.5)[:2] == (2, 1 << 29 | 1 << 30)
    b.heard(0xFFFFFFFF, 3.0)
    assert b.ack_fields(3.5)[2] == 499_999   # the echo wraps


def test_fragments_reassemble_only_at_the_last_one():
    b = ReliableChannel()
    assert b.on_data(0, FLAG_MORE, b"he") == []
    assert b.on_data(1, FLAG_MORE, b"ll") == []
    assert b.on_data(2, 0, b"o") == [b"hello"]
    assert b.on_data(3, 0, b"!") == [b"!"]
    assert b.on_data(5, 0, b"c") == []
    assert b.on_data(4, FLAG_MORE, b"ab") == [b"abc"]


def test_reassembly_counts_every_fragment_of_the_message():
    b = ReliableChannel()
    half = rel.MAX_REASSEMBLY // 2
    b.on_data(0, FLAG_MORE, b"x" * half)
    b.on_data(1, FLAG_MORE, b"x" * half)
    with pytest.raises(ProtocolError):
        b.on_data(2, 0, b"x")
    b2 = ReliableChannel()
    b2.on_data(0, 0, b"x" * rel.MAX_REASSEMBLY)        # the count starts again for each message
    assert b2.on_data(1, 0, b"y" * rel.MAX_REASSEMBLY) == [b"y" * rel.MAX_REASSEMBLY]


# --- the Peer ----------------------------------------------------------------------------------


SID = b"P" * 8


def test_peer_clock_constants():
    assert (KEEPALIVE, MEMBER_TIMEOUT, SERVER_TIMEOUT) == (5.0, 20.0, 15.0)


def test_a_peer_keeps_alive_after_exactly_five_quiet_seconds():
    p = Peer(SID, 100.0)
    assert p.keepalive_at() == 105.0
    assert not p.needs_keepalive(104.999) and p.needs_keepalive(105.0)


def test_a_peer_is_lost_when_silent_or_unacknowledging_for_the_timeout():
    p = Peer(SID, 100.0)
    assert not p.lost(119.999, 20.0) and p.lost(120.0, 20.0)
    p.receive(Ping(SID), 110.0)
    assert not p.lost(129.999, 20.0) and p.lost(130.0, 20.0)
    q = Peer(SID, 0.0)
    q.send(Who())
    q.datagrams(1.0)                         # sent at 1.0, never acknowledged
    q.last_heard = 20.0                      # though the peer keeps talking
    assert not q.lost(20.999, 20.0) and q.lost(21.0, 20.0)


def test_a_peer_answers_a_ping_with_a_bare_ack_and_then_nothing():
    p = Peer(SID, 0.0)
    assert p.datagrams(0.0) == []
    assert p.receive(Ping(SID), 1.0) == []
    (d,) = p.datagrams(2.0)
    assert decode(d) == Ack(SID, 0, 0, 2_000_000) and p.last_sent == 2.0 and p.last_heard == 1.0
    assert p.datagrams(2.1) == []


def test_a_peer_sends_data_with_its_ack_stamp_and_echo():
    p = Peer(SID, 0.0)
    p.receive(Data(SID, 0, 0, 0, 0, 777, 0, encode_msg(Say(1, "hi"))), 1.0)
    p.send(Say(2, "yo"))
    (d,) = p.datagrams(1.5)
    got = decode(d)
    assert (got.seq, got.ack, got.sack, got.flags) == (0, 1, 0, 0)
    assert got.ts == stamp(1.5) and got.echo == 777 + 500_000
    assert decode_msg(got.payload) == Say(2, "yo") and p.last_sent == 1.5
    assert p.datagrams(1.6) == []            # the ack went with the data


def test_a_peer_counts_a_malformed_message_and_keeps_the_good_ones():
    p = Peer(SID, 0.0)
    got = p.receive(Data(SID, 0, 0, 0, 0, 0, 0, b"\x63junk"), 1.0)
    assert got == [] and p.malformed == 1
    got = p.receive(Data(SID, 1, 0, 0, 0, 0, 0, encode_msg(Who())), 1.0)
    assert got == [Who()] and p.malformed == 1 and p.last_heard == 1.0


def test_a_peer_takes_acks_from_data_and_bare_acks():
    p = Peer(SID, 0.0)
    p.send(Who())
    p.send(Who())
    p.datagrams(0.0)
    p.receive(Data(SID, 0, 1, 0, 0, 0, stamp(0.0), encode_msg(Who())), 0.1)
    assert p.channel.backlog == 1
    p.receive(Ack(SID, 2, 0, stamp(0.0)), 0.2)
    assert p.channel.idle


def test_a_peer_queue_is_capped_unless_told_otherwise():
    p = Peer(SID, 0.0, ReliableChannel(max_backlog=1))
    p.send(Who())
    p.send(Who())
    with pytest.raises(BacklogFull):
        p.send(Who())
    p.send(Who(), capped=False)
    assert p.channel.backlog == 3 and p.malformed == 0


def test_a_peer_takes_the_sack_from_data_and_acks():
    p = Peer(SID, 0.0)
    for _ in range(4):
        p.send(Who())
    p.datagrams(0.0)
    p.receive(Data(SID, 0, 0, 0b10, 0, 0, stamp(0.0), encode_msg(Who())), 0.1)
    assert [f.seq for f in p.channel._inflight.values() if f.sacked] == [2]
    p.receive(Ack(SID, 0, 0b100, stamp(0.0)), 0.1)
    assert [f.seq for f in p.channel._inflight.values() if f.sacked] == [2, 3]


def test_data_carries_the_ack_so_no_bare_ack_follows():
    p = Peer(SID, 0.0)
    p.receive(Data(SID, 0, 0, 0, 0, 0, 0, encode_msg(Who())), 1.0)
    p.send(Who())
    assert len(p.datagrams(1.0)) == 1
    assert p.datagrams(1.0) == [] and not p.channel.ack_needed


def test_the_default_backlog_cap_is_50000_fragments():
    assert ReliableChannel().max_backlog == 50_000 and ReliableChannel().window == rel.WINDOW


def test_a_message_of_exactly_max_fragment_bytes_is_one_fragment():
    a = ReliableChannel()
    a.send(b"x" * MAX_FRAGMENT)
    assert a.poll(0.0) == [(0, 0, b"x" * MAX_FRAGMENT)]


def test_a_retransmission_waiting_to_go_is_output():
    a = ReliableChannel()
    sent(a, 4)
    assert not a.has_output()
    a.on_ack(0, 0b111, stamp(0.0), 0.01)           # fast retransmit of 0: the server's ACK path must send it
    assert a.has_output()
    a.poll(0.01)
    assert not a.has_output()
    a.handle_timer(5.0)
    assert a.has_output()


def test_each_hole_with_three_sacked_beyond_it_is_fast_retransmitted():
    a = ReliableChannel()
    sent(a, 8)
    a.on_ack(0, 0b1110111, stamp(0.0), 0.01)       # 0 and 4 missing; 1-3 and 5-7 SACKed
    assert [f[0] for f in a.poll(0.01)] == [0, 4]
    b = ReliableChannel()
    sent(b, 8)
    b.on_ack(0, 0b1100111, stamp(0.0), 0.01)       # 0, 4 and 5 missing; only 6-7 beyond 4 and 5
    assert [f[0] for f in b.poll(0.01)] == [0]


def test_every_duplicate_is_counted():
    b = ReliableChannel()
    b.on_data(0, 0, b"a")
    b.on_data(0, 0, b"a")
    b.on_data(0, 0, b"a")
    assert b.duplicates == 2


def test_a_peer_counts_every_malformed_message():
    p = Peer(SID, 0.0)
    p.receive(Data(SID, 0, 0, 0, 0, 0, 0, b"\x63"), 1.0)
    p.receive(Data(SID, 1, 0, 0, 0, 0, 0, b"\x64"), 1.0)
    assert p.malformed == 2


def test_rtt_starts_empty():
    e = rtt.RttEstimator()
    assert e.srtt is None and e.rttvar == 0.0 and e.rto == e._base == 1.0


def test_resending_after_a_resume_is_not_a_timeout_and_later_timeouts_still_back_off():
    # A resume used to be handle_timer(inf): it counted as a timeout and set the
    # backoff clock to infinity, so that channel never backed off again.
    ch = ReliableChannel()
    for i in range(6):                          # not a thin stream: timeouts back off at once
        ch.send(encode_msg(Say(i + 1, "x")))
    ch.poll(0.0)
    rto = ch.rtt.rto
    ch.resend_outstanding()
    assert ch.rtt.rto == rto and [seq for seq, _, _ in ch.poll(0.1)] == list(range(6))
    assert ch.retransmissions == 6
    deadline = ch.get_timer()
    assert deadline == pytest.approx(0.1 + rto)
    assert ch.handle_timer(deadline)            # a real timeout after it...
    assert ch.rtt.rto == min(rtt.MAX_RTO, 2 * rto)   # ...still backs off
    ch.poll(deadline)
    assert ch.handle_timer(ch.get_timer()) and ch.rtt.rto == min(rtt.MAX_RTO, 4 * rto)


def test_resending_skips_what_the_peer_already_holds():
    ch = ReliableChannel()
    for i in range(3):
        ch.send(encode_msg(Say(i + 1, "x")))
    ch.poll(0.0)
    ch.on_ack(0, 0b1, 0, 0.05)                  # seq 1 arrived beyond the hole at 0
    ch.resend_outstanding()
    assert [seq for seq, _, _ in ch.poll(0.1)] == [0, 2]
