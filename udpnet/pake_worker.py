"""SPAKE2 for a locked room's handshakes, in a child process: off the socket thread.

A server's SPAKE2 is ~9 ms of pure Python; on the socket thread (or on any
thread: it holds the GIL) every member's line that arrives meanwhile waits for
it. One worker process runs them on another core, and its answers come back
to the socket thread through :meth:`SocketLoop.call`. If the worker cannot be
started or dies, the runs are done on the socket thread, as before: slower for
the room, never a lost join.

The socket thread writes each job into the worker's pipe itself; one thread of
ours reads the answers. A ``ProcessPoolExecutor`` did this with two threads of
its own (a manager and a queue feeder): with the room on one core, handing it a
job took the socket thread 2-4 ms, 8 times a second under a flood at the limits
(a turn log of bench/bench_handshake.py ``--attack-cpu``, locked room).
"""
from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
from collections import deque
from multiprocessing.connection import Connection
from typing import Any, Callable

from udpcore import ServerEngine
from udpcore.pake_jobs import PakeJob, run_pake_job

log = logging.getLogger("udpnet")
WORKER_NICE = 10
IN_PIPE = 8                 # jobs written and not yet answered, at most: ~2.5 KB, within any pipe's buffer
                            # (Windows' are 8 KB), so writing one never waits for the worker
_FAILED = "failed"          # the worker's answer when a job raised: it is run here instead
OFFER_EVERY = 0.0005        # s: while a job runs, the worker offers its core back this often (Linux)


def _start_worker() -> bool:
    """In the worker: yield the CPU to the room (a join may wait a few ms more; a
    member's line should not wait for a stranger's join), and exit as soon as the
    server process is gone, even killed with SIGKILL. True: jobs are to be run
    with :func:`_offering_the_core`.

    Linux: SCHED_IDLE, the class that runs only when nothing else wants the core.
    At nice 10, when the two shared a core, the socket thread's write of a job into
    the worker's pipe took ~5 ms at every job (a turn log of bench_handshake.py
    --attack-cpu): the worker, woken by it, ran first. Elsewhere: nice 10."""
    offering = False
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))        # type: ignore[attr-defined]
        offering = hasattr(signal, "setitimer")
    except (AttributeError, OSError):
        if hasattr(os, "nice"):                 # other Unix; Windows keeps the normal priority
            try:
                os.nice(WORKER_NICE)
            except OSError:
                pass
    if offering:
        signal.signal(signal.SIGALRM, _offer_the_core)
    parent = multiprocessing.parent_process()
    if parent is not None:
        def watch() -> None:
            multiprocessing.connection.wait([parent.sentinel])
            os._exit(0)

        threading.Thread(target=watch, name="watch-parent", daemon=True).start()
    return offering


def _offer_the_core(signum: int, frame: object) -> None:
    os.sched_yield()


def _offering_the_core(job: PakeJob) -> Any:
    """``run_pake_job(job)``, giving the core back every OFFER_EVERY.

    SCHED_IDLE alone let the worker hold a shared core 2-3 ms at a stretch while
    the socket thread, ready to run, waited (perf sched, bench_handshake.py
    --attack-cpu, locked room). Linux's scheduler (EEVDF) picks only among tasks
    that have not had more than their share: a busy socket thread, woken while a
    member's process held the core, can be behind, and then the idle worker is
    the one picked, for a whole slice, until the next tick. ``sched_yield`` puts
    the worker behind everyone, so whoever is waiting runs within OFFER_EVERY;
    with no one waiting it costs a system call."""
    signal.setitimer(signal.ITIMER_REAL, OFFER_EVERY, OFFER_EVERY)
    try:
        return run_pake_job(job)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def _serve(jobs: Connection, answers: Connection) -> None:
    """The worker's whole life: a job in, ``(ticket, answer)`` out, until the pipe closes."""
    run = _offering_the_core if _start_worker() else run_pake_job
    while True:
        try:
            job = jobs.recv()
        except (EOFError, OSError):
            return
        try:
            answer: Any = run(job)
        except Exception:                       # a bug: the server runs it itself, and sees it
            answer = _FAILED
        try:
            answers.send((job.ticket, answer))
        except OSError:
            return


class PakeWorker:
    """``post(fn)`` runs ``fn(now)`` on the socket thread (SocketLoop.call). Every
    method but the answers' reader runs on the socket thread."""

    def __init__(self, engine: ServerEngine, post: Callable[[Callable[[float], None]], None]) -> None:
        self._engine = engine
        self._post = post
        self._process: multiprocessing.process.BaseProcess | None = None
        self._jobs: Connection | None = None            # ours to write; the worker reads
        self._waiting: dict[int, PakeJob] = {}          # sent, not yet answered (socket thread only)
        self._queued: deque[PakeJob] = deque()          # not yet sent: IN_PIPE are out
        self._broken = False
        engine.defer_pake = True

    @property
    def pid(self) -> int | None:
        """The worker process's id, once it was started (and until it is given up)."""
        return self._process.pid if self._process is not None else None

    def warm(self) -> None:
        """Start the worker now (a locked room): its ~0.3 s start-up is not paid by the first join."""
        self._worker()

    def run(self, now: float) -> None:
        """On the socket thread, each turn: hand the engine's new SPAKE2 runs to the worker."""
        for job in self._engine.take_pake_jobs():
            if self._worker() is None:
                self._engine.pake_done(job.ticket, run_pake_job(job), now)
            else:
                self._queued.append(job)
        self._pump(now)

    def _pump(self, now: float) -> None:
        """Write queued jobs into the worker's pipe while fewer than IN_PIPE are out."""
        while self._queued and len(self._waiting) < IN_PIPE and self._jobs is not None:
            job = self._queued.popleft()
            try:
                self._jobs.send(job)
            except (OSError, ValueError):
                self._queued.appendleft(job)
                self._give_up(now)
                return
            self._waiting[job.ticket] = job

    def _worker(self) -> Connection | None:
        if self._broken:
            return None
        if self._jobs is None:
            try:
                self._start()
            except Exception:
                log.warning("SPAKE2 runs on the socket thread: the worker process could not be used",
                            exc_info=True)
                self._broken = True
                return None
        return self._jobs

    def _start(self) -> None:
        # "spawn" everywhere: forking a process that has threads is unsafe, and it is
        # what Windows and macOS do anyway (PyInstaller: freeze_support in main).
        ctx = multiprocessing.get_context("spawn")
        jobs_r, jobs_w = ctx.Pipe(duplex=False)
        answers_r, answers_w = ctx.Pipe(duplex=False)
        process = ctx.Process(target=_serve, args=(jobs_r, answers_w), name="lanchat-spake2", daemon=True)
        try:
            process.start()
        except BaseException:
            jobs_w.close()
            answers_r.close()
            raise
        finally:
            jobs_r.close()                      # the worker's ends, now in the worker
            answers_w.close()
        self._process, self._jobs = process, jobs_w
        threading.Thread(target=self._read_answers, args=(answers_r,), name="spake2-answers", daemon=True).start()

    def _read_answers(self, answers: Connection) -> None:
        """On a thread of its own: each answer to the socket thread; the pipe's end (the
        worker died, or was stopped) tells the socket thread to run what it still waits for."""
        try:
            while True:
                ticket, answer = answers.recv()
                self._post(lambda now, t=ticket, a=answer: self._answered(t, a, now))
        except (EOFError, OSError):
            self._post(self._give_up)
        finally:
            answers.close()

    def _answered(self, ticket: int, answer: Any, now: float) -> None:
        job = self._waiting.pop(ticket, None)
        if job is None:
            return                              # run here already, after the worker was given up
        if answer == _FAILED:
            answer = run_pake_job(job)
        self._engine.pake_done(ticket, answer, now)
        self._pump(now)

    def _give_up(self, now: float) -> None:
        """The worker died (or its pipe broke): from now on SPAKE2 runs here, what it
        had not answered first."""
        if self._broken or self._jobs is None:
            return
        log.warning("SPAKE2 runs on the socket thread: the worker process stopped")
        self._broken = True
        self._close_worker()
        left = [*self._waiting.values(), *self._queued]
        self._waiting, self._queued = {}, deque()
        for job in left:
            self._engine.pake_done(job.ticket, run_pake_job(job), now)

    def _close_worker(self) -> None:
        jobs, self._jobs = self._jobs, None
        process, self._process = self._process, None
        if jobs is not None:
            jobs.close()                        # the worker reads the end and exits
        if process is not None and process.is_alive():
            process.join(0.5)
            if process.is_alive():
                process.kill()

    def close(self) -> None:
        self._close_worker()
