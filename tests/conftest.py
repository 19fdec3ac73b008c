"""Fixtures shared by the window tests: a private Xvfb display and a Tk root."""
from __future__ import annotations

import os
import queue
import sys
import time

import pytest

# The suite reads the programs' English sentences, whatever the machine's language:
# LANGUAGE, LC_ALL and LC_MESSAGES outrank LANG (chatfront/i18n.py), so they go, and
# LANG is an English one, here and in every program a test starts. A test that wants
# Portuguese sets LANG=pt_BR.UTF-8 (or passes --lang pt_BR): tests/test_translations.py.
for _var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
    os.environ.pop(_var, None)
os.environ["LANG"] = "C.UTF-8" if sys.platform.startswith("linux") else "en_US.UTF-8"

from tests.xvfb import Xvfb, XvfbError


@pytest.fixture(scope="session")
def xvfb_display():
    """Start Xvfb for the session (the machine has no screen) and point DISPLAY at it.

    Xvfb picks its own display number (tests/xvfb.py), so parallel sessions never collide.
    Windows and macOS draw on their own screen (a CI runner's desktop): no Xvfb there."""
    if not sys.platform.startswith("linux"):
        yield None
        return
    try:
        x = Xvfb()
    except XvfbError as exc:
        pytest.fail(str(exc))
    try:
        yield x.display
    finally:
        x.close()


@pytest.fixture(autouse=True)
def _private_data_dir(tmp_path, monkeypatch):
    """No test (nor a program a test starts) reads or writes the user's own bans."""
    monkeypatch.setenv("LANCHAT_DATA_DIR", str(tmp_path / "lanchat-data"))


@pytest.fixture(autouse=True)
def _no_broadcast_on_the_real_network(monkeypatch):
    """Looking for rooms (--list, a room's name as --server) probes loopback only,
    in this process and in every program a test starts; the namespace tests
    (tests/test_lan_discovery.py) clear this to broadcast inside their own LAN."""
    monkeypatch.setenv("LANCHAT_DISCOVERY_HOSTS", "127.0.0.1,::1")


@pytest.fixture
def config_dir(tmp_path, monkeypatch):
    d = tmp_path / "config"
    monkeypatch.setenv("LANCHAT_CONFIG_DIR", str(d))
    return d


@pytest.fixture
def tk_root(xvfb_display, config_dir):
    import tkinter as tk
    from chatui.theme import apply_theme
    root = tk.Tk()
    root.geometry("760x520+0+0")
    palette = apply_theme(root, "light")
    errors: list[str] = []
    root.report_callback_exception = lambda *exc: errors.append(repr(exc[1]))
    root._test_errors = errors
    root._palette = palette
    yield root
    try:
        root.destroy()
    except tk.TclError:
        pass
    import gc
    gc.collect()            # free Tk variables here, on the main thread, not later on another
    assert errors == [], f"errors in Tk callbacks: {errors}"


def pump(root, until, timeout: float = 10.0, what: str = "") -> None:
    """Run the Tk loop until ``until()`` is true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            root.update()
        except Exception:
            pass
        if until():
            return
        time.sleep(0.005)
    raise AssertionError(f"timed out waiting for {what or until}")


def wait_for(client, match, timeout: float = 10.0):
    """Read a transport's events until one matches; keep them all in ``client.seen``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            e = client.events.get(timeout=0.05)
        except queue.Empty:
            continue
        client.seen.append(e)
        if match(e):
            return e
    raise AssertionError(f"no matching event; saw {client.seen}")


@pytest.fixture
def server():
    """A real server on 127.0.0.1, with no history, for window tests to join
    (a test file that needs another kind defines its own ``server``)."""
    from udpnet import start_server
    srv = start_server("127.0.0.1", 0, stats=False)
    yield srv
    srv.close()


@pytest.fixture
def peer_factory(server):
    """``peer_factory("bob")``: a plain client joined to ``server``; all closed at the end."""
    peers = Peers(server.address[1])
    yield peers
    peers.close()


class Peers:
    """Plain clients (no window) joined to a server on loopback, for window tests to talk to."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.made: list = []

    def __call__(self, name: str):
        from udpcore import events as ev
        from udpnet import start_client
        c = start_client(f"127.0.0.1:{self.port}", name)
        c.seen = []
        self.made.append(c)
        wait_for(c, lambda e: isinstance(e, ev.Connected))
        return c

    def close(self) -> None:
        for c in self.made:
            c.close(timeout=1)



def pytest_make_parametrize_id(config, val, argname):
    """Test ids that can be selected again by name (mutmut runs tests by their ids):
    brackets and '::' inside a parameter would break the node id."""
    if isinstance(val, str) and ("[" in val or "]" in val or "::" in val):
        return val.replace("[", "(").replace("]", ")").replace("::", ":_:")
    return None
