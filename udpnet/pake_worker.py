"""SPAKE2 for a locked room's handshakes, in a child process: off the socket thread.

A server's SPAKE2 is ~9 ms of pure Python; on the socket thread (or on any
thread: it holds the GIL) every member's line that arrives meanwhile waits for
it. One worker process runs them on the other core, and its answers come back
to the socket thread through :meth:`SocketLoop.call`. If the worker cannot be
started or dies, the runs are done on the socket thread, as before: slower for
the room, never a lost join.
"""
from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.connection
import os
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Callable

from udpcore import ServerEngine
from udpcore.pake_jobs import PakeJob, run_pake_job

log = logging.getLogger("udpnet")
WORKER_NICE = 10


def _ready() -> bool:
    return True


def _start_worker() -> None:
    """In the worker: yield the CPU to the room (a join may wait a few ms more; a
    member's line should not wait for a stranger's join), and exit as soon as the
    server process is gone, even killed with SIGKILL (the pool's own pipes stay
    open in the worker, so it would never notice)."""
    if hasattr(os, "nice"):                     # Unix; Windows keeps the normal priority
        try:
            os.nice(WORKER_NICE)
        except OSError:
            pass
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(0)

    threading.Thread(target=watch, name="watch-parent", daemon=True).start()


class PakeWorker:
    """``post(fn)`` runs ``fn(now)`` on the socket thread (SocketLoop.call). Every
    method but the pool's callback runs on the socket thread."""

    def __init__(self, engine: ServerEngine, post: Callable[[Callable[[float], None]], None]) -> None:
        self._engine = engine
        self._post = post
        self._pool: ProcessPoolExecutor | None = None
        self._broken = False
        engine.defer_pake = True

    def warm(self) -> None:
        """Start the worker now (a locked room): its ~0.3 s start-up is not paid by the first join."""
        pool = self._get_pool()
        if pool is not None:
            try:
                pool.submit(_ready)
            except Exception:
                self._give_up()

    def run(self, now: float) -> None:
        """On the socket thread, each turn: hand the engine's new SPAKE2 runs to the worker."""
        jobs = self._engine.take_pake_jobs()
        for job in jobs:
            pool = self._get_pool()
            if pool is None:
                self._engine.pake_done(job.ticket, run_pake_job(job), now)
                continue
            try:
                future = pool.submit(run_pake_job, job)
            except Exception:
                self._give_up()
                self._engine.pake_done(job.ticket, run_pake_job(job), now)
                continue
            future.add_done_callback(lambda f, job=job: self._answered(f, job))

    def _answered(self, future: Future, job: PakeJob) -> None:
        """On the pool's own thread: the answer goes to the socket thread."""
        try:
            result = future.result()
        except Exception:                       # the worker died (BrokenProcessPool), or cancelled
            self._broken = True
            self._post(lambda now: self._engine.pake_done(job.ticket, run_pake_job(job), now))
            return
        self._post(lambda now: self._engine.pake_done(job.ticket, result, now))

    def _get_pool(self) -> ProcessPoolExecutor | None:
        if self._broken:
            return None
        if self._pool is None:
            try:
                # "spawn" everywhere: forking a process that has threads is unsafe, and it
                # is what Windows and macOS do anyway (PyInstaller: freeze_support in main).
                self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                                 initializer=_start_worker)
            except Exception:
                self._give_up()
        return self._pool

    def _give_up(self) -> None:
        if not self._broken:
            log.warning("SPAKE2 runs on the socket thread: the worker process could not be used", exc_info=True)
        self._broken = True

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
