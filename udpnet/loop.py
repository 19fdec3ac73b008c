"""The socket thread: one UDP socket, one engine, events out on a queue.

The thread waits in ``select`` on the socket and on a wake-up socket pair (so a
call posted from any thread takes effect at once), feeds the engine, sends what
it returns and moves its events onto ``events``. Callers never touch the engine;
they post closures that run on the thread (:meth:`SocketLoop.call`).
"""
from __future__ import annotations

import logging
import queue
import select
import socket
import threading
import time
from collections import deque
from typing import Callable

from udpcore import ChatError, Engine, Event, events as ev

from .sockets import take_refusals

log = logging.getLogger("udpnet")
RECV_BATCH = 256            # datagrams read per wake-up before the engine is asked to send
STATS_INTERVAL = 1.0


class EventQueue(queue.Queue):
    """A ``queue.Queue`` that also moves events in batches. The socket thread hands
    over each turn's events under one lock, and a reader may take all there are:
    a relaying server makes an event per line, and a put and a get per event (a
    lock and a wake-up each, in two threads contending for the GIL) cost the
    headless server about a tenth of its relay rate."""

    def put_many(self, items: list) -> None:
        if not items:
            return
        with self.not_full:                   # unbounded: never waits
            for item in items:
                self._put(item)
            self.unfinished_tasks += len(items)
            self.not_empty.notify(len(items))

    def get_all(self) -> list:
        """Everything queued now, oldest first, without waiting (maybe nothing)."""
        with self.mutex:
            items = list(self.queue)
            self.queue.clear()
            self.not_full.notify_all()
        return items


class SocketLoop:
    """The socket thread around one engine.

    ``snapshot``: called about once a second for a Stats event (the server).
    ``keep``: a filter on events before they are queued (benchmarks' what-ifs).
    ``after_turn``: called on the thread after every turn (the client's back-pressure).
    ``on_refused``: called with (address or None, now) when the system reports an
    ICMP port unreachable (the client; a server ignores them).
    ``before_send``: called on the thread each turn after the engine took what came
    in and before anything is sent (the history keeps the turn's lines safe there:
    nothing of a turn goes out before its lines would survive a crash).
    ``after_send``: called on the thread each turn once its datagrams went out (the
    history moves the turn's journalled lines into SQLite there).
    ``on_events``: called on the thread with each turn's events before they are
    queued; it returns the events to queue (the client's own copy of the room).
    ``on_stop``: called on the thread when it ends, before Closed is queued.
    """

    def __init__(self, engine: Engine, sock: socket.socket, name: str, *,
                 snapshot: Callable[[float], Event] | None = None,
                 keep: Callable[[Event], bool] | None = None,
                 after_turn: Callable[[], None] | None = None,
                 on_refused: Callable[[tuple | None, float], None] | None = None,
                 before_send: Callable[[float], None] | None = None,
                 after_send: Callable[[float], None] | None = None,
                 on_events: Callable[[list[Event]], list[Event]] | None = None,
                 on_stop: Callable[[], None] | None = None) -> None:
        self.engine = engine
        self.sock = sock
        self.events: EventQueue = EventQueue()
        self._calls: deque[Callable[[float], None]] = deque()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._snapshot = snapshot
        self._keep = keep
        self._after_turn = after_turn
        self._on_refused = on_refused
        self._before_send = before_send
        self._after_send = after_send
        self._on_events = on_events
        self._on_stop = on_stop
        self._stop_at: float | None = None
        self._refused: list[Event] = []
        self.send_errors = 0
        self.internal_errors = 0
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def call(self, fn: Callable[[float], object]) -> None:
        """Run ``fn(now)`` on the socket thread, soon. A ChatError it raises
        becomes a CommandError event (a refused line is told, never lost silently)."""
        self._calls.append(fn)
        try:
            self._wake_w.send(b"\0")
        except OSError:
            pass

    def emit(self, event: Event) -> None:
        """On the socket thread: an event of the transport's own, queued this turn."""
        self._refused.append(event)

    def stop_by(self, deadline: float) -> None:
        self._stop_at = deadline

    def join(self, timeout: float | None) -> None:
        self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _run_calls(self, now: float) -> None:
        calls = self._calls
        while calls:
            try:
                calls.popleft()(now)
            except ChatError as exc:
                self._refused.append(ev.CommandError(exc))

    def _run(self) -> None:
        eng, sock = self.engine, self.sock
        sendto = sock.sendto
        # A server hands its datagrams over one by one as it seals them (each_datagram).
        outgoing = getattr(eng, "each_datagram", None) or eng.datagrams_to_send
        next_stats = time.monotonic() if self._snapshot else None
        try:
            while True:
                now = time.monotonic()
                timer = eng.get_timer()
                wait = 1.0 if timer is None else max(0.0, timer - now)
                if next_stats is not None:
                    wait = min(wait, max(0.0, next_stats - now))
                if self._stop_at is not None:
                    wait = min(wait, max(0.0, self._stop_at - now))
                readable, _, _ = select.select((sock, self._wake_r), (), (), wait)
                now = time.monotonic()
                if self._wake_r in readable:
                    try:
                        self._wake_r.recv(4096)
                    except OSError:
                        pass
                if self._calls:
                    self._run_calls(now)
                if sock in readable:
                    self._receive(now)
                timer = eng.get_timer()
                if timer is not None and now >= timer:
                    eng.handle_timer(now)
                if self._before_send is not None:
                    self._before_send(now)
                for data, addr in outgoing(now):
                    try:
                        sendto(data, addr)
                    except OSError:
                        self.send_errors += 1     # unreachable peer, full buffer: retransmission copes
                if self._after_send is not None:
                    self._after_send(now)
                batch, self._refused = self._refused, []
                while (e := eng.next_event()) is not None:
                    batch.append(e)
                if next_stats is not None and now >= next_stats:
                    batch.append(self._snapshot(now))      # type: ignore[misc]
                    next_stats = now + STATS_INTERVAL
                if self._on_events is not None and batch:
                    batch = self._on_events(batch)
                if self._keep is not None:
                    batch = [e for e in batch if self._keep(e)]
                self.events.put_many(batch)
                if self._after_turn is not None:
                    self._after_turn()
                if eng.closed or (self._stop_at is not None and now >= self._stop_at):
                    break
        finally:
            if self._on_stop is not None:
                try:
                    self._on_stop()                # the transport closes its files
                except Exception:
                    log.exception("closing the transport's files failed")
            sock.close()
            self._wake_r.close()
            self._wake_w.close()
            self.events.put(ev.Closed())
            if self._after_turn is not None:
                self._after_turn()

    def _receive(self, now: float) -> None:
        recv, feed, refused = self.sock.recvfrom, self.engine.receive_datagram, self._on_refused
        if refused is not None:
            for where in take_refusals(self.sock):         # Linux, IP_RECVERR
                refused(where, now)
        for _ in range(RECV_BATCH):
            try:
                data, addr = recv(65535)
            except (BlockingIOError, InterruptedError):
                return
            except (ConnectionResetError, ConnectionRefusedError):
                if refused is not None:            # Windows WinError 10054 (or Linux's sk_err)
                    refused(None, now)
                continue                           # a server ignores it and keeps serving
            except OSError:
                return
            try:
                feed(data, addr[:2], now)
            except Exception:                      # a bug must not let one datagram stop the room
                self.internal_errors += 1
                if self.internal_errors == 1:
                    log.exception("a datagram from %s could not be handled; it was dropped", addr[0])
