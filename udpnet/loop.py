"""The socket thread: one UDP socket, one engine, events out on a queue.

The thread waits in ``select`` (the server on Linux: epoll, with its members'
sockets during a flood) on the socket and on a wake-up socket pair (so a
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

from .member_sockets import MemberSockets
from .sockets import take_refusals

log = logging.getLogger("udpnet")
RECV_BATCH = 256            # datagrams read per wake-up before the engine is asked to send
# While members have sockets of their own (a flood is on), the shared socket holds
# newcomers, guests and the flood: fewer a turn, so members' sockets are read again sooner.
SHARED_BATCH = 64
# While flooded, the shared socket gets at most this share of the thread's time: after a
# full batch it is left unread for at least as long again (times (1 - share) / share;
# epoll waits whole milliseconds, so ~1 ms after a batch of ~0.3 ms). The flood's reads
# took a core the members' lines need (with the flooders on other machines, or on a core
# of their own, that was what was left of their delay); the kernel drops the excess
# unread at no cost to the room, and newcomers' HELLOs are still read, less often.
SHARED_SHARE = 0.5
# ...and a batch ends after this long, however few it read: a HELLO costs the engine up to
# ~40 µs to judge (a key agreement ~250), so 64 of them (flooders starting at once) held
# members' lines ~2-4 ms where the batch's count alone bounded nothing.
SHARED_TIME = 0.0005
GONE_DRAIN = 64             # datagrams read from a member's socket before it is closed
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
    ``members``: the server's sockets connected to each member while a flood lasts
    (Linux, :mod:`udpnet.member_sockets`): the loop then waits in epoll, reads them
    before ``sock``, opens and closes them as its reads of ``sock`` show a flood
    beginning and ending (a PortFlooded event each time), and keeps them in step
    with the engine's ``member_addresses`` after each turn.
    """

    def __init__(self, engine: Engine, sock: socket.socket, name: str, *,
                 snapshot: Callable[[float], Event] | None = None,
                 keep: Callable[[Event], bool] | None = None,
                 after_turn: Callable[[], None] | None = None,
                 on_refused: Callable[[tuple | None, float], None] | None = None,
                 before_send: Callable[[float], None] | None = None,
                 after_send: Callable[[float], None] | None = None,
                 on_events: Callable[[list[Event]], list[Event]] | None = None,
                 on_stop: Callable[[], None] | None = None,
                 members: MemberSockets | None = None) -> None:
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
        self._members = members if members is not None and members.enabled else None
        self._stop_at: float | None = None
        self._refused: list[Event] = []
        self.send_errors = 0
        self.internal_errors = 0
        # A server hands its datagrams over one by one as it seals them (each_datagram).
        self._outgoing = getattr(engine, "each_datagram", None) or engine.datagrams_to_send
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
        members = self._members
        poll = self._poller() if members is not None else None
        next_stats = time.monotonic() if self._snapshot else None
        rest_until: float | None = None     # the shared socket left unread until then (a flood)
        try:
            while True:
                now = time.monotonic()
                timer = eng.get_timer()
                wait = 1.0 if timer is None else max(0.0, timer - now)
                if next_stats is not None:
                    wait = min(wait, max(0.0, next_stats - now))
                if self._stop_at is not None:
                    wait = min(wait, max(0.0, self._stop_at - now))
                if rest_until is not None:
                    wait = min(wait, max(0.0, rest_until - now))
                if poll is None:
                    readable, _, _ = select.select((sock, self._wake_r), (), (), wait)
                    woke, shared, ready = self._wake_r in readable, sock in readable, ()
                else:
                    woke, shared, ready = poll(wait)
                now = time.monotonic()
                if rest_until is not None and now >= rest_until:
                    rest_until = None
                    self._rest_shared(False)
                    shared = True                           # read it now: it may hold a backlog
                if woke:
                    try:
                        self._wake_r.recv(4096)
                    except OSError:
                        pass
                if self._calls:
                    self._run_calls(now)
                if ready and self._receive_members(ready, now) and shared:
                    self._send(now)                # members' lines leave before the flood's batch is read
                if shared:
                    began = time.monotonic()
                    full = self._receive(now)
                    if members is not None and members.read_was(full, now):
                        self._flood_changed()
                    if full and members is not None and members.active and SHARED_SHARE < 1:
                        done = time.monotonic()
                        rest_until = done + (done - began) * (1 - SHARED_SHARE) / SHARED_SHARE
                        self._rest_shared(True)
                elif rest_until is None and members is not None and members.active \
                        and members.read_was(False, now):
                    self._flood_changed()
                timer = eng.get_timer()
                if timer is not None and now >= timer:
                    eng.handle_timer(now)
                self._send(now)
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
                if members is not None and eng.members_version != members.version:
                    self._follow_members()
                if eng.closed or (self._stop_at is not None and now >= self._stop_at):
                    break
        finally:
            if self._on_stop is not None:
                try:
                    self._on_stop()                # the transport closes its files
                except Exception:
                    log.exception("closing the transport's files failed")
            if members is not None:
                members.close()
                self._epoll.close()
            sock.close()
            self._wake_r.close()
            self._wake_w.close()
            self.events.put(ev.Closed())
            if self._after_turn is not None:
                self._after_turn()

    def _send(self, now: float) -> None:
        """The engine's datagrams out: the history's journal kept before, its store after."""
        if self._before_send is not None:
            self._before_send(now)
        sendto = self.sock.sendto
        for data, addr in self._outgoing(now):
            try:
                sendto(data, addr)
            except OSError:
                self.send_errors += 1     # unreachable peer, full buffer: retransmission copes
        if self._after_send is not None:
            self._after_send(now)

    def _rest_shared(self, rest: bool) -> None:
        """Leave the shared socket out of epoll's wait (a level-triggered socket with a
        backlog would wake it at once), or put it back."""
        fd = self.sock.fileno()
        if rest:
            self._epoll.unregister(fd)
        else:
            self._epoll.register(fd, select.EPOLLIN)

    def _poller(self) -> Callable[[float], tuple[bool, bool, list]]:
        """epoll over the shared socket, the wake-up socket and the members' sockets:
        ``poll(timeout)`` -> (woken, shared socket readable, members' sockets readable)."""
        self._epoll = ep = select.epoll()
        shared_fd, wake_fd = self.sock.fileno(), self._wake_r.fileno()
        ep.register(shared_fd, select.EPOLLIN)
        ep.register(wake_fd, select.EPOLLIN)
        by_fd = self._members.by_fd          # type: ignore[union-attr]
        ep_poll = ep.poll

        def poll(timeout: float) -> tuple[bool, bool, list]:
            woke = shared = False
            ready = []
            for fd, _ in ep_poll(timeout):
                if fd == shared_fd:
                    shared = True
                elif fd == wake_fd:
                    woke = True
                elif (s := by_fd.get(fd)) is not None:
                    ready.append(s)
            return woke, shared, ready
        return poll

    def _flood_changed(self) -> None:
        """A flood began or ended: the members' sockets follow the room at this turn's
        end, and the program is told (the operator sees why the room slowed)."""
        self._members.version = None                               # type: ignore[union-attr]
        self.emit(ev.PortFlooded(self._members.active))            # type: ignore[union-attr]

    def _follow_members(self) -> None:
        """Sockets for the addresses that came into the room, none for those that left."""
        members, eng = self._members, self.engine
        opened, gone = members.follow(eng.members_version, eng.member_addresses())   # type: ignore[union-attr]
        now, drained = time.monotonic(), 0
        for s in gone:
            try:
                self._epoll.unregister(s.fileno())
            except (OSError, ValueError):
                pass
            for _ in range(GONE_DRAIN):        # what came in since the last read: not lost in the close
                if not self._receive_members([s], now):
                    break
                drained += 1
        members.close_all(gone)                                    # type: ignore[union-attr]
        if drained:
            self.call(lambda now: None)        # a turn at once, to send what they called for
        for s in opened:
            self._epoll.register(s.fileno(), select.EPOLLIN)

    def _receive_members(self, ready: list[socket.socket], now: float) -> int:
        """One datagram from each member's socket that has one: epoll reports a socket
        with more again at once, and a room of 100 acking every line would pay an
        empty read per socket per turn to learn it had no more."""
        feed = self.engine.receive_datagram
        got = 0
        for s in ready:
            try:
                data, addr = s.recvfrom(65535)
            except OSError:                    # empty after all; or an ICMP error for a reply to it, told once
                continue
            got += 1
            try:
                feed(data, addr[:2], now)
            except Exception:                  # as in _receive
                self.internal_errors += 1
                if self.internal_errors == 1:
                    log.exception("a datagram from %s could not be handled; it was dropped", addr[0])
        return got

    def _receive(self, now: float) -> bool:
        """Read the shared socket; True when the batch ended before the socket was empty."""
        recv, feed, refused = self.sock.recvfrom, self.engine.receive_datagram, self._on_refused
        if refused is not None:
            for where in take_refusals(self.sock):         # Linux, IP_RECVERR
                refused(where, now)
        members = self._members
        flooded = members is not None and members.active
        clock, until = time.monotonic, time.monotonic() + SHARED_TIME
        for _ in range(SHARED_BATCH if flooded else RECV_BATCH):
            if flooded and clock() >= until:
                return True
            try:
                data, addr = recv(65535)
            except (BlockingIOError, InterruptedError):
                return False
            except (ConnectionResetError, ConnectionRefusedError):
                if refused is not None:            # Windows WinError 10054 (or Linux's sk_err)
                    refused(None, now)
                continue                           # a server ignores it and keeps serving
            except OSError:
                return False
            try:
                feed(data, addr[:2], now)
            except Exception:                      # a bug must not let one datagram stop the room
                self.internal_errors += 1
                if self.internal_errors == 1:
                    log.exception("a datagram from %s could not be handled; it was dropped", addr[0])
        return True
