"""A locked room's SPAKE2 runs in a child process (udpnet/pake_worker.py), on real
sockets on 127.0.0.1: joins work through it, without it, and after it dies, and it
never outlives its server (not even a server killed with SIGKILL)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from udpcore import WrongPassphrase
from udpcore import events as ev
from udpnet import start_client, start_server
import udpnet.pake_worker as pake_worker
from tests.eventlog import Log, wait_until

pytestmark = pytest.mark.timeout(60)
ROOT = Path(__file__).resolve().parent.parent
PASS = "pão de queijo"


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _gone_within(pid: int, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return False


def _join(srv, name: str, passphrase: str) -> Log:
    c = start_client(f"127.0.0.1:{srv.address[1]}", name, passphrase=passphrase)
    log = Log(c.events)
    log.client = c
    wait_until([log], lambda: log.of(ev.Connected) or log.of(ev.JoinRefused), 20, f"{name}'s answer")
    return log


def _worker_pids(srv) -> list[int]:
    pool = srv._pake._pool
    return [] if pool is None or not pool._processes else list(pool._processes)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_locked_joins_run_spake2_in_a_child_process_that_ends_with_the_server():
    srv = start_server(host="127.0.0.1", port=0, stats=False, passphrase=PASS, room="Cozinha")
    logs = []
    try:
        logs = [_join(srv, "ana", PASS), _join(srv, "eve", "pao de queijo"), _join(srv, "bia", PASS)]
        assert [bool(x.of(ev.Connected)) for x in logs] == [True, False, True]
        assert logs[1].of(ev.JoinRefused)[0].error == WrongPassphrase("Cozinha")
        pids = _worker_pids(srv)
        assert len(pids) == 1 and pids[0] != os.getpid() and _alive(pids[0])
        nice = lambda pid: int(Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[16])
        assert nice(pids[0]) >= min(19, nice(os.getpid()) + pake_worker.WORKER_NICE)   # yields to the room
        assert not srv._pake._broken
    finally:
        for x in logs:
            x.client.close(timeout=0.5)
        srv.close(timeout=0.5)
    assert _gone_within(pids[0], 10)


def test_an_open_room_starts_no_worker():
    srv = start_server(host="127.0.0.1", port=0, stats=False, room="Aberta")
    try:
        log = _join(srv, "ana", "")
        assert log.of(ev.Connected)
        assert srv._pake._pool is None
    finally:
        log.client.close(timeout=0.5)
        srv.close(timeout=0.5)


def test_without_a_worker_process_joins_run_on_the_socket_thread(monkeypatch):
    def refuse(*a, **kw):
        raise OSError("no processes here")
    monkeypatch.setattr(pake_worker, "ProcessPoolExecutor", refuse)
    srv = start_server(host="127.0.0.1", port=0, stats=False, passphrase=PASS, room="Cozinha")
    try:
        log = _join(srv, "ana", PASS)
        assert log.of(ev.Connected) and srv._pake._broken and srv._pake._pool is None
    finally:
        log.client.close(timeout=0.5)
        srv.close(timeout=0.5)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_worker_that_dies_costs_no_join():
    srv = start_server(host="127.0.0.1", port=0, stats=False, passphrase=PASS, room="Cozinha")
    logs = []
    try:
        logs.append(_join(srv, "ana", PASS))
        (pid,) = _worker_pids(srv)
        os.kill(pid, signal.SIGKILL)
        assert _gone_within(pid, 10)
        logs.append(_join(srv, "bia", PASS))
        assert all(x.of(ev.Connected) for x in logs)
    finally:
        for x in logs:
            x.client.close(timeout=0.5)
        srv.close(timeout=0.5)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_the_worker_of_a_headless_server_killed_with_sigkill_ends_too(tmp_path):
    env = dict(os.environ, LANCHAT_PASSPHRASE=PASS, LANCHAT_DATA_DIR=str(tmp_path))
    proc = subprocess.Popen([sys.executable, str(ROOT / "gui_server.py"), "--headless", "--host", "127.0.0.1",
                             "--port", "0", "--lang", "en"], cwd=ROOT, env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        children: list[int] = []
        end = time.monotonic() + 20
        while not children and time.monotonic() < end:        # warmed at start: the room is locked
            children = [int(x) for t in Path(f"/proc/{proc.pid}/task").glob("*")
                        for x in (t / "children").read_text().split()]      # any thread's children
            time.sleep(0.1)
        assert children, "the locked room's worker was not started"
        proc.kill()
        proc.wait(10)
        assert all(_gone_within(pid, 10) for pid in children)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        proc.stdout.close()
        proc.stdin.close()
