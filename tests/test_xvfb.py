"""tests/xvfb.py: displays started at the same moment never collide, and none outlives its close."""
from __future__ import annotations

import os
import sys
import threading

import pytest

from tests.xvfb import Xvfb

pytestmark = [pytest.mark.gui, pytest.mark.timeout(60),
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Xvfb is the Linux tests' screen")]


def gone(pid: int) -> bool:
    """No such process (reaped, not a zombie left behind)."""
    return not os.path.exists(f"/proc/{pid}")


def test_two_displays_started_at_once_differ_and_both_go_away(monkeypatch):
    monkeypatch.setenv("DISPLAY", ":999")
    started: list[Xvfb] = []
    errors: list[BaseException] = []
    go = threading.Barrier(2)

    def start() -> None:
        go.wait()
        try:
            started.append(Xvfb(set_display=False))
        except BaseException as exc:        # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    try:
        assert errors == []
        a, b = started
        assert a.display != b.display
        for x in started:
            assert x.p.poll() is None
            assert os.path.exists(f"/tmp/.X11-unix/X{x.display[1:]}")
    finally:
        for x in started:
            x.close()
    assert all(gone(x.pid) for x in started)
    assert os.environ["DISPLAY"] == ":999"


def test_display_is_set_while_open_and_put_back_after(monkeypatch):
    monkeypatch.setenv("DISPLAY", ":999")
    with Xvfb() as outer:
        assert os.environ["DISPLAY"] == outer.display
        with Xvfb() as inner:
            assert inner.display != outer.display
            assert os.environ["DISPLAY"] == inner.display
        assert os.environ["DISPLAY"] == outer.display
    assert os.environ["DISPLAY"] == ":999"
    assert gone(outer.pid) and gone(inner.pid)


def test_a_missing_xvfb_is_said_plainly(monkeypatch):
    from tests.xvfb import XvfbError
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(XvfbError, match="Xvfb is not installed"):
        Xvfb()
