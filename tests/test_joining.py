"""The client's side of joining (udpcore/joining.py): HELLO timing, the token and
the round trips the handshake times."""
from __future__ import annotations

import pytest

from udpcore import joining as j
from udpcore import wire

pytestmark = pytest.mark.timeout(10)


def joiner() -> j.Joiner:
    n = iter(range(1, 100))
    return j.Joiner(lambda k: bytes([next(n)]) * k)


def test_constants():
    assert (j.HELLO_MAX_RETRY, j.RECONNECT_MAX_RETRY, j.RESUME_FIRST_RETRY, wire.HELLO_FIRST_RETRY) == (2.0, 5.0, 0.5, 0.25)


def test_nothing_is_sent_before_start_nor_before_it_is_due():
    x = joiner()
    assert x.due is None and x.hello("a", 0.0, False) is None
    x.start(10.0)
    assert x.nonce == b"\1" * 8 and x.due == 10.0 and x.resume == b"" and x.token == b""
    assert x.hello("a", 9.999, False) is None
    assert wire.decode(x.hello("alice", 10.0, False)) == wire.Hello(b"\1" * 8, "alice")
    assert x.hello("alice", 10.1, False) is None and x.due == 10.25


def test_retries_double_up_to_their_cap():
    x = joiner()
    x.start(0.0)
    gaps, t = [], 0.0
    for _ in range(6):
        x.hello("a", t, False)
        gaps.append(x.due - t)
        t = x.due
    assert gaps == [0.25, 0.5, 1.0, 2.0, 2.0, 2.0]
    y = joiner()
    y.start(0.0, resume=b"S" * 8)
    gaps, t = [], 0.0
    for _ in range(6):
        assert wire.decode(y.hello("a", t, True)).resume == b"S" * 8
        gaps.append(y.due - t)
        t = y.due
    assert gaps == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]
    z = joiner()
    z.start(0.0)                                   # reconnecting afresh: 0.25 s doubling to 5 s
    gaps, t = [], 0.0
    for _ in range(7):
        z.hello("a", t, True)
        gaps.append(z.due - t)
        t = z.due
    assert gaps == [0.25, 0.5, 1.0, 2.0, 4.0, 5.0, 5.0]


def test_a_challenge_is_answered_at_once_and_times_a_hello_that_went_once():
    x = joiner()
    x.start(0.0)
    x.hello("a", 0.0, False)
    x.challenged(wire.Challenge(x.nonce, b"T"), 0.03)
    assert x.token == b"T" and x.due == 0.03 and x.rtts == [0.03]
    x.hello("a", 0.03, False)
    assert x.welcomed(0.05) == pytest.approx([0.03, 0.02]) and x.due is None


def test_a_hello_that_went_twice_times_nothing():
    x = joiner()
    x.start(0.0)
    x.hello("a", 0.0, False)
    x.hello("a", 0.25, False)
    x.challenged(wire.Challenge(x.nonce, b"T"), 0.3)
    assert x.rtts == []
    x.hello("a", 0.3, False)
    assert x.due == 1.3                            # the backoff goes on from where it was
    x.hello("a", 1.3, False)
    assert x.welcomed(1.31) == []


def test_the_same_token_again_restarts_nothing_and_a_new_one_is_not_timed():
    x = joiner()
    x.start(0.0)
    x.hello("a", 0.0, False)
    x.challenged(wire.Challenge(x.nonce, b"T"), 0.01)
    x.hello("a", 0.01, False)
    x.challenged(wire.Challenge(x.nonce, b"T"), 0.02)     # the same token: the HELLO with it stays counted
    assert x.welcomed(0.03) == pytest.approx([0.01, 0.02])
    y = joiner()
    y.start(0.0)
    y.hello("a", 0.0, False)
    y.challenged(wire.Challenge(y.nonce, b"T"), 0.01)
    y.hello("a", 0.01, False)
    y.challenged(wire.Challenge(y.nonce, b"U"), 0.5)      # a fresh token (ours expired): not a first answer
    assert y.rtts == pytest.approx([0.01]) and y.token == b"U"


def test_a_welcome_without_a_token_times_nothing_and_start_forgets_the_last_attempt():
    x = joiner()
    x.start(0.0)
    x.hello("a", 0.0, False)
    assert x.welcomed(0.01) == []
    x.start(1.0)
    assert x.nonce == b"\2" * 8 and x.rtts == [] and x.token == b"" and x.due == 1.0


def test_asking_again_needs_a_token():
    x = joiner()
    x.start(0.0)
    x.hello("a", 0.0, False)
    x.ask_again(0.1)
    assert x.due == 0.25
    x.challenged(wire.Challenge(x.nonce, b"T"), 0.1)
    x.hello("a", 0.1, False)
    x.ask_again(0.2)
    assert x.due == 0.2


def test_a_joiner_not_started_has_nothing_to_send_and_has_timed_nothing():
    x = joiner()
    assert (x.nonce, x.token, x.resume, x.due, x.rtts) == (b"", b"", b"", None, [])
    assert x.welcomed(1.0) == [] and x.due is None
    x.challenged(wire.Challenge(b"", b"T"), 2.0)        # even an answer out of turn goes by the rules
    assert x.rtts == [] and x.token == b"T" and x.hello("a", 2.0, False) is not None and x.due == 2.25
