"""The client engine and the room's limits (issue 11), against a hand-driven fake
server: it paces its lines to the server's LIMITS so a pipe is never refused,
and turns LINE_REFUSED, REMOVED, CROWD, the new refusals and leave reasons into
typed events. Fake clock, no sockets."""
from __future__ import annotations

import math

import pytest

from udpcore import appmsg as m
from udpcore import events as ev
from udpcore import wire
from udpcore.appmsg import LeaveReason
from udpcore.client import LEAVE_TIMEOUT, MAX_QUEUED
from udpcore.client_state import State
from udpcore.errors import Banned, BacklogFull, HostFull, Muted, NotInRoom, RateLimited
from udpcore.pacing import HOLD_MAX
from udpcore.ratelimit import TokenBucket
from tests.enginepair import SERVER, drain
from tests.test_client_engine import SID, FakeServer, joined

pytestmark = pytest.mark.timeout(20)

RATE, BURST = 5.0, 20          # the server's defaults (udpcore.limits.Limits)
LIMITS = m.Limits(round(RATE * 60), BURST)


def limited(name: str = "alice") -> FakeServer:
    f = joined(name)
    f.say(LIMITS)
    f.hear()
    drain(f.c)
    return f


def run(f: FakeServer, seconds: float, bucket: TokenBucket | None = None) -> list[tuple[float, m.AppMessage]]:
    """Let fake time pass by the client's own timer, the fake server hearing
    (and acknowledging) everything; (arrival time, message) for each message.
    With ``bucket``, every SAY and PRIVATE must find a token in it, as on the server."""
    got = []
    end = f.now + seconds
    while f.now < end:
        for msg in f.hear():
            got.append((f.now, msg))
            if bucket is not None and isinstance(msg, (m.Say, m.Private)):
                assert bucket.take(f.now) == 0.0, f"line {msg.msg_id} would be refused at {f.now}"
        for d in f.peer.datagrams(f.now):          # acknowledge what arrived
            f.c.receive_datagram(d, SERVER, f.now)
        t = f.c.get_timer()
        f.now = min(end, t if t is not None and t > f.now else f.now + 0.05)
        if t is not None and f.now >= t:
            f.c.handle_timer(f.now)
    return got


# --- pacing --------------------------------------------------------------------------------


def test_two_hundred_piped_lines_go_at_the_servers_pace_and_none_is_refused():
    f = limited()
    server_bucket = TokenBucket(RATE, BURST, f.now)
    start = f.now
    for i in range(200):
        f.c.say(f"y {i}")
    assert f.c.backlog == 200 + 1                 # waiting in the client, counted for back-pressure
                                                  # (and who we are, ahead of the first line)
    got = run(f, 60.0, server_bucket)
    lines = [(t, x) for t, x in got if isinstance(x, m.Say)]
    assert [x.text for _, x in lines] == [f"y {i}" for i in range(200)]        # all, in order
    last = lines[-1][0] - start
    assert 35 < last < 45                         # (200 - 15 at once) / 4.75 a second: ~39 s
    assert sum(1 for t, _ in lines if t == start) == 15                        # the burst, less slack


def test_without_limits_nothing_is_paced():
    f = joined()
    for i in range(100):
        f.c.say(str(i))
    assert len([x for x in f.hear() if isinstance(x, m.Say)]) == 31          # the window, at once
                                                                              # (less who we are)
    assert f.c.get_timer() != f.now + 1 / RATE


def test_lines_typed_before_the_join_wait_for_the_limits_that_follow_the_welcome():
    f = FakeServer()
    f.c.connect(f.now)
    for i in range(50):
        f.c.say(str(i))
    hello = f.out()[0]
    f.welcome(hello)
    assert [x for x in f.hear() if isinstance(x, m.Say)] == []               # held for LIMITS
    f.say(LIMITS, m.Members(("alice",)))
    assert len([x for x in f.hear() if isinstance(x, m.Say)]) == 15          # then paced
    got = run(f, 30.0)
    assert len([x for _, x in got if isinstance(x, m.Say)]) == 35


def test_a_server_that_sends_no_limits_gets_the_held_lines_with_its_first_word_or_after_a_second():
    f = FakeServer()
    f.c.connect(f.now)
    f.c.say("early")
    f.welcome(f.out()[0])
    assert f.hear() == []                         # (the client's sealed PING only)
    assert f.c.get_timer() == f.now + 0.25        # its retry, until a sealed packet comes back
    f.say()                                       # the server's ACK of it: no word yet
    assert f.hear() == [] and drain(f.c) == [ev.LinePending(1, "early", False, None),
                                             ev.Connected("alice", "127.0.0.1:5002")]
    assert f.c.get_timer() == f.now + HOLD_MAX
    f.say(m.Members(("alice",)))                  # an older server: no LIMITS first
    assert [x.text for x in f.hear() if isinstance(x, m.Say)] == ["early"]
    g = FakeServer()
    g.c.connect(g.now)
    g.c.say("early")
    g.welcome(g.out()[0])
    g.now += HOLD_MAX
    g.c.handle_timer(g.now)
    assert [x.text for x in g.hear() if isinstance(x, m.Say)] == ["early"]


def test_nick_and_who_go_at_once_but_count_against_the_pace():
    f = limited()
    for i in range(15):
        f.c.say(str(i))
    f.hear()
    f.c.who()
    f.c.nick("alicia")
    assert [type(x) for x in f.hear()] == [m.Who, m.Nick]                   # not paced
    f.c.say("next")
    got = run(f, 2.0)
    t = next(t for t, x in got if isinstance(x, m.Say))
    assert t - (f.now - 2.0) >= 2 / (RATE * 0.95) - 1e-9                     # waited for two more tokens


def test_a_rate_of_zero_on_the_wire_never_makes_an_infinite_timer():
    """lines_per_minute rounds to 0 for a server rate under 1/120 a second: a bucket
    that never refills would give an infinite deadline, and select() an OverflowError."""
    f = joined()
    f.say(m.Limits(0, 1))
    f.hear()
    for i in range(3):
        f.c.say(str(i))
    f.hear()
    t = f.c.get_timer()
    assert t is not None and math.isfinite(t) and t <= f.now + 60 / 0.95 + 1e-6
    assert math.isfinite(f.c.pacing_delay(f.now))


def test_the_pace_queue_is_bounded_like_the_join_queue():
    f = limited()
    for i in range(MAX_QUEUED + 15):               # the first 15 go at once: the bucket's burst
        f.c.say(str(i))
    with pytest.raises(BacklogFull):
        f.c.say("one too many")


def test_leaving_waits_for_the_paced_lines_then_syncs_after_the_last():
    f = limited()
    for i in range(60):
        f.c.say(str(i))
    f.c.leave(f.now)
    assert f.c._deadline > f.now + LEAVE_TIMEOUT + 9      # the pace's ~9.5 s come on top
    with pytest.raises(NotInRoom):
        f.c.say("after leaving")
    got = []
    end = f.now + 30
    while not f.c.closed and f.now < end:
        got += [x for _, x in run(f, 0.5)]
        syncs = [x for x in got if isinstance(x, m.Sync)]
        if syncs:
            f.say(m.Synced(syncs[0].token))
    kinds = [type(x) for x in got]
    assert kinds.count(m.Say) == 60 and kinds.index(m.Sync) > max(i for i, k in enumerate(kinds) if k is m.Say)
    assert f.c.closed and 9 < f.now - (end - 30) < 15


def test_a_refusal_for_speed_empties_the_clients_bucket():
    f = limited()
    f.c.say("x")
    f.hear()
    f.say(m.LineRefused(1, m.RefusalCode.RATE_LIMITED, 2))
    assert f.c._pacer.bucket.tokens <= 0


# --- new messages as events ---------------------------------------------------------------


@pytest.mark.parametrize("msg,event", [
    (m.LineRefused(7, m.RefusalCode.RATE_LIMITED, 1), ev.LineRefused(7, RateLimited(1))),
    (m.LineRefused(8, m.RefusalCode.MUTED, 300), ev.LineRefused(8, Muted(300))),
    (m.Crowd(12, 3), ev.Crowd(12, 3)),
    (m.Left("bob", LeaveReason.KICKED), ev.MemberLeft("bob", LeaveReason.KICKED)),
    (m.Left("eve", LeaveReason.BANNED), ev.MemberLeft("eve", LeaveReason.BANNED)),
    (m.Error(m.ErrorCode.RATE_LIMITED, ""), ev.CommandError(RateLimited(0))),
])
def test_the_rooms_new_messages_become_typed_events(msg, event):
    f = limited()
    f.say(msg)
    assert drain(f.c) == [event] and f.c.state is State.JOINED


@pytest.mark.parametrize("code,error", [(wire.RefuseCode.BANNED, Banned()), (wire.RefuseCode.HOST_FULL, HostFull())])
def test_banned_and_host_full_refusals_are_typed(code, error):
    f = FakeServer()
    f.c.connect(f.now)
    f.to_client(wire.Refuse(f.out()[0].nonce, code, ""))
    assert drain(f.c) == [ev.JoinRefused(error)] and f.c.closed


def test_removed_is_told_once_acknowledged_and_ends_the_stay_without_reconnecting():
    f = limited()
    for i in range(40):
        f.c.say(str(i))                            # 15 go at once, 25 wait for the pace
    assert len([x for x in f.hear() if isinstance(x, m.Say)]) == 15
    drain(f.c)
    f.say(m.Removed("spam", False), m.Line(1, "bob", "after", 0))
    assert drain(f.c) == [ev.Removed("spam", False)]          # nothing after it
    assert f.c.state is State.REMOVED
    for call in (lambda: f.c.say("x"), lambda: f.c.who(), lambda: f.c.nick("bob")):
        with pytest.raises(NotInRoom):
            call()
    out = f.out()
    assert out and not any(isinstance(p, wire.Data) and p.payload[:1] == bytes([m.MsgType.SAY]) for p in out)
    assert f.c.closed
    f.sealed(wire.Bye(SID, "removed"))                       # the server's BYE later: nothing more
    f.c.handle_timer(f.now + 60)
    assert drain(f.c) == [] and f.c.datagrams_to_send(f.now + 60) == []


def test_a_bye_removed_whose_removed_was_lost_is_still_a_removal():
    f = limited()
    f.sealed(wire.Bye(SID, "removed"))
    assert drain(f.c) == [ev.Removed("", False)] and f.c.closed


def test_a_bye_with_other_words_is_still_the_room_closing():
    f = limited()
    f.sealed(wire.Bye(SID, "closing time"))
    assert drain(f.c) == [ev.ServerClosed("closing time")]
