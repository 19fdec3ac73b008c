"""A locked room's SPAKE2 runs in a child process (udpnet/pake_worker.py), on real
sockets on 127.0.0.1: joins work through it, without it, and after it dies, and it
never outlives its server (not even a server killed with SIGKILL)."""
from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from udpcore import WrongPassphrase
from udpcore.pake import RoomPake
from udpcore.pake_jobs import PakeJob
from udpcore.protection import Side
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
    pid = srv._pake.pid
    return [] if pid is None else [pid]


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
        assert os.sched_getscheduler(pids[0]) == os.SCHED_IDLE                      # yields to the room
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
        assert srv._pake.pid is None
    finally:
        log.client.close(timeout=0.5)
        srv.close(timeout=0.5)


def test_without_a_worker_process_joins_run_on_the_socket_thread(monkeypatch):
    def refuse(self):
        raise OSError("no processes here")
    monkeypatch.setattr(pake_worker.PakeWorker, "_start", refuse)
    srv = start_server(host="127.0.0.1", port=0, stats=False, passphrase=PASS, room="Cozinha")
    try:
        log = _join(srv, "ana", PASS)
        assert log.of(ev.Connected) and srv._pake._broken and srv._pake.pid is None
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


def test_the_socket_thread_writes_the_jobs_itself_and_one_thread_reads_the_answers():
    """No executor threads: waking them while the socket thread held the GIL cost it
    2-4 ms a job on a busy core (bench_handshake.py, a locked room at the limits)."""
    srv = start_server(host="127.0.0.1", port=0, stats=False, passphrase=PASS, room="Cozinha")
    log = None
    try:
        log = _join(srv, "ana", PASS)
        assert log.of(ev.Connected) and not srv._pake._broken
        names = {t.name for t in threading.enumerate()}
        kinds = {type(t).__name__ for t in threading.enumerate()}
        assert "spake2-answers" in names
        assert "QueueFeederThread" not in names and "_ExecutorManagerThread" not in kinds
    finally:
        if log is not None:
            log.client.close(timeout=0.5)
        srv.close(timeout=0.5)


class _Desk:
    """The engine's side of the worker: jobs handed out, answers taken."""

    def __init__(self, jobs) -> None:
        self.defer_pake = False
        self.jobs = list(jobs)
        self.done: dict[int, object] = {}

    def take_pake_jobs(self):
        jobs, self.jobs = self.jobs, []
        return jobs

    def pake_done(self, ticket, answer, now) -> None:
        self.done[ticket] = answer


def test_a_burst_of_jobs_goes_into_the_pipe_a_few_at_a_time_and_every_one_is_answered():
    """At most IN_PIPE jobs are written and unanswered, so a write never waits for the
    worker; the rest wait their turn, and each answer is the SPAKE2 its client expects."""
    clients, jobs = {}, []
    for ticket in range(3 * pake_worker.IN_PIPE):
        nonce, token = os.urandom(8), os.urandom(16)
        clients[ticket] = RoomPake(Side.CLIENT, PASS, "Cozinha", nonce, token)
        jobs.append(PakeJob(ticket, PASS, "Cozinha", nonce, token, clients[ticket].message))
    desk, calls = _Desk(jobs), queue.Queue()
    worker = pake_worker.PakeWorker(desk, calls.put)
    try:
        worker.run(0.0)
        most = len(worker._waiting)
        while len(desk.done) < len(jobs):
            calls.get(timeout=20)(0.0)
            most = max(most, len(worker._waiting))
        assert most == pake_worker.IN_PIPE
        for ticket, (server_message, key) in desk.done.items():
            assert clients[ticket].finish(server_message) == key
        assert not worker._broken
    finally:
        worker.close()


def test_jobs_the_worker_had_not_answered_when_it_died_are_run_here():
    nonce, token = os.urandom(8), os.urandom(16)
    client = RoomPake(Side.CLIENT, PASS, "Cozinha", nonce, token)
    desk, calls = _Desk([]), queue.Queue()
    worker = pake_worker.PakeWorker(desk, calls.put)
    try:
        worker.warm()
        worker._process.kill()
        worker._process.join(10)
        desk.jobs = [PakeJob(7, PASS, "Cozinha", nonce, token, client.message)]
        worker.run(0.0)                      # written before the socket thread learns it died...
        while 7 not in desk.done:
            calls.get(timeout=20)(0.0)       # ...then the pipe's end says so, and it runs here
        server_message, key = desk.done[7]
        assert client.finish(server_message) == key and worker._broken
    finally:
        worker.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_worker_that_cannot_start_leaves_no_pipe_open(monkeypatch):
    def refuse(self):
        raise OSError("no processes here")
    monkeypatch.setattr(pake_worker.multiprocessing.process.BaseProcess, "start", refuse)
    fds = lambda: len(os.listdir("/proc/self/fd"))
    before = fds()
    desk, calls = _Desk([]), queue.Queue()
    worker = pake_worker.PakeWorker(desk, calls.put)
    worker.warm()
    assert worker._broken and worker.pid is None
    assert fds() == before


_OFFERS = r"""
import os, signal, sys, time
from udpcore.pake import RoomPake
from udpcore.pake_jobs import PakeJob
from udpcore.protection import Side
from udpnet import pake_worker
nonce, token = os.urandom(8), os.urandom(16)
client = RoomPake(Side.CLIENT, sys.argv[1], "Cozinha", nonce, token)
job = PakeJob(1, sys.argv[1], "Cozinha", nonce, token, client.message)
offers = []
os.sched_yield = lambda: offers.append(time.perf_counter())     # what pake_worker calls
print(pake_worker._start_worker(), os.sched_getscheduler(0) == os.SCHED_IDLE)
start = time.perf_counter()
message, key = pake_worker._offering_the_core(job)
took = time.perf_counter() - start
print(client.finish(message) == key, len(offers), took, signal.getitimer(signal.ITIMER_REAL))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SCHED_IDLE is Linux's")
def test_while_a_job_runs_the_worker_offers_its_core_back_again_and_again():
    """SCHED_IDLE alone let the worker hold a shared core for a whole slice while the
    socket thread waited; during a job it yields every OFFER_EVERY, and not after."""
    out = subprocess.run([sys.executable, "-c", _OFFERS, PASS], cwd=ROOT, capture_output=True,
                         text=True, timeout=30, check=True).stdout.split("\n")
    assert out[0] == "True True"
    right, offers, took, timer = out[1].split(" ", 3)
    assert right == "True"                                   # the answer is still the SPAKE2 the client expects
    assert int(offers) >= max(3, float(took) / pake_worker.OFFER_EVERY / 4)   # a ~9 ms job: ~18 offers
    assert timer == "(0.0, 0.0)"                             # no timer left between jobs
