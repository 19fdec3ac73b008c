"""The client's own pace (udpcore/pacing.py) at its edges: the bucket it builds from
LIMITS, what a resume keeps, NICK/WHO debts, what may go at once, and when."""
from __future__ import annotations

import pytest

from udpcore import names
from udpcore.pacing import BURST_SLACK, HOLD_MAX, RATE_SLACK, Pacer

pytestmark = pytest.mark.timeout(10)


def paced(lines_per_minute: int = 60, burst: int = 4, now: float = 0.0) -> Pacer:
    p = Pacer()
    p.limits(lines_per_minute, burst, now)
    return p


def test_the_bucket_is_a_little_slower_and_smaller_than_the_servers():
    assert (RATE_SLACK, BURST_SLACK, HOLD_MAX) == (0.95, 0.25, 1.0)
    b = paced(300, 20).bucket
    assert b.rate == pytest.approx(300 / 60 * 0.95) and b.burst == 15.0 and b.tokens == 15.0
    b = paced(0, 1).bucket                        # a rate of 0 on the wire: one a minute; a burst of 1 stays 1
    assert b.rate == pytest.approx(0.95 / 60) and b.burst == 1.0


def test_a_resume_keeps_what_was_used_plus_what_came_back_since():
    p = paced(60, 4, 0.0)                         # 0.95 a second, 3 at most
    for _ in range(3):
        assert p.take_at_once()
    p.limits(60, 4, 2.0)
    assert p.bucket.tokens == pytest.approx(2 * 0.95)
    p.limits(60, 4, 100.0)
    assert p.bucket.tokens == 3.0                 # never more than it holds


def test_a_fresh_pacer_paces_nothing_and_waits_on_nothing():
    p = Pacer()
    assert not p.active and p.next_at() is None and p.drain_time() == 0.0
    assert p.take_at_once()
    p.waiting.append(b"x")
    assert p.drain_time() == 0.0 and p.next_at() == 0.0


def test_what_may_go_at_once():
    p = paced()
    assert p.take_at_once()
    p.waiting.append(b"x")
    assert not p.take_at_once()                   # something waits before it
    p = paced()
    p.hold(0.0)
    assert not p.take_at_once()                   # holding for LIMITS
    p = paced()
    p.charge()
    assert not p.take_at_once()                   # a NICK's debt first
    p = Pacer()
    p.hold(0.0)
    assert not p.take_at_once() and p.active


def test_debts_make_the_next_line_wait_and_say_until_when():
    p = paced(60, 2, 0.0)                         # 1.5 tokens
    for _ in range(3):
        p.charge()
    p.waiting.append(b"line")
    assert p.drain_time() == pytest.approx((4 - 1.5) / 0.95)
    assert p.due(0.0) == []
    # 1.5 - 1 = 0.5; then two debts not covered: 0.5 - 1 - 1 = -1.5; a line needs 2.5 more
    assert p.next_at() == pytest.approx(2.5 / 0.95)
    assert p.due(2.5 / 0.95 + 1e-9) == [b"line"] and p.next_at() is None


def test_a_line_not_yet_asked_about_may_go_at_once_after_every_reset():
    p = paced()
    p.waiting.append(b"x")
    assert p.next_at() == 0.0
    p.unhold()
    assert p.next_at() == 0.0
    p.limits(60, 4, 1.0)
    assert p.next_at() == 0.0
    assert p.due(1.0) == [b"x"]
    p.waiting.append(b"y")
    assert p.next_at() == 0.0


def test_drain_time_counts_the_waiting_the_extra_and_the_debt_against_the_tokens():
    p = paced(60, 4, 0.0)                         # 3 tokens at 0.95 a second
    assert p.drain_time() == 0.0 and p.drain_time(3) == 0.0
    assert p.drain_time(5) == pytest.approx(2 / 0.95)
    p.charge()
    p.waiting.append(b"x")
    assert p.drain_time(4) == pytest.approx(3 / 0.95)


def test_the_skeleton_table_built_again_gives_the_same_keys(monkeypatch):
    # Built once per process on first use; built here again, so that what builds
    # it is tested too (a test run shares the table otherwise).
    monkeypatch.setattr(names, "_skeleton_table", None)
    monkeypatch.setattr(names, "_ignorable", frozenset())
    assert names.name_key("\u0430lice") == names.name_key("alice") == names.name_key("aIice")
    assert names.name_key("\u0455erver") == names.name_key("server")
    assert names.name_problem("alice\u034f") is not None          # a default-ignorable: the second table
    assert names.name_key("bob") != names.name_key("rob")
