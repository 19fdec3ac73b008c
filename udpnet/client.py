"""A client in a room: the client engine on its socket thread."""
from __future__ import annotations

import queue
import threading
import time

from udpcore import DEFAULT_PORT, ClientEngine, ClientState, check_name, events as ev

from .client_copy import ClientCopy
from .loop import SocketLoop
from .sockets import client_socket, resolve

SEND_AHEAD = 1000        # lines a sender may have unacknowledged before wait_for_room() blocks


class ClientTransport:
    """See docs/architecture.md. Every method is safe from any thread."""

    def __init__(self, engine: ClientEngine, sock, copy: ClientCopy | None = None) -> None:
        self._engine = engine
        self._copy = copy
        self.server_label = engine.server_label
        self._room = threading.Condition()
        self._posted = 0                   # lines posted to the thread, not yet taken by the engine
        self._backlog = 0                  # the engine's backlog after the last turn
        self._closing: float | None = None # close()'s timeout, once it was asked
        self._stop_at = 0.0                # when the socket thread stops, leaving
        shown = copy.stored() if copy is not None else None   # read before the thread owns the copy
        self._loop = SocketLoop(engine, sock, "chat-client", after_turn=self._turned, on_refused=self._refused,
                                on_events=copy.keep if copy is not None else None,
                                on_stop=copy.close if copy is not None else None)
        self.events = self._loop.events
        if shown is not None:
            self.events.put(shown)             # the last conversation, before the server answers
        self.local_address: tuple[str, int] = sock.getsockname()[:2]   # our own end
        self._loop.call(engine.connect)

    @property
    def name(self) -> str:
        return self._engine.name

    def say(self, text: str, *, action: bool = False) -> None:
        self._post(lambda now: self._engine.say(text, action=action))

    def private(self, to: str, text: str, *, action: bool = False) -> None:
        self._post(lambda now: self._engine.private(to, text, action=action))

    def nick(self, name: str) -> None:
        self._loop.call(lambda now: self._engine.nick(name))

    def who(self) -> None:
        self._loop.call(lambda now: self._engine.who())

    def load_older(self) -> None:
        """The page of room lines above what is shown: a HistoryLines("older") event."""
        self._loop.call(self._engine.load_older)

    def search(self, words: str) -> None:
        """Search our own copy of the room; a SearchResults event answers."""
        copy = self._copy
        if copy is None:
            self.events.put(ev.SearchResults(words, ()))
        else:
            self._loop.call(lambda now: self._loop.emit(copy.search(words)))

    def save_history(self, path: str) -> None:
        """Write our copy of the room to a text file; HistorySaved or HistoryProblem follows."""
        copy = self._copy
        if copy is None:
            self.events.put(ev.HistoryProblem("save-failed", "no history"))
        else:
            self._loop.call(lambda now: self._loop.emit(copy.save(path)))

    def rejoin(self) -> None:
        """The room was closed and we wait for it: try to join again now."""
        self._loop.call(self._engine.rejoin_now)

    @property
    def not_taken(self) -> int:
        """Lines posted that the engine never took (the client stopped first): once
        the Closed event has come, what was typed and never even became pending."""
        with self._room:
            return self._posted

    def wait_for_room(self, timeout: float | None = None) -> bool:
        """Block while SEND_AHEAD lines wait to be acknowledged (back-pressure for a
        sender that types faster than the server takes, such as a pipe). False when
        the wait timed out; True at once when the client has stopped."""
        with self._room:
            return self._room.wait_for(
                lambda: self._posted + self._backlog < SEND_AHEAD or not self._loop.alive, timeout)

    def close(self, timeout: float = 5.0, wait: bool = True) -> None:
        """Leave once what was typed is delivered, waiting at most ``timeout`` beyond
        the time the lines still waiting for the room's pace need to go out (a pipe
        that filled the queue is not cut short). With ``wait=False`` return at once;
        a Closed event follows on ``events``."""
        if self._loop.alive:
            pace: queue.SimpleQueue[float] = queue.SimpleQueue()

            def leave(now: float) -> None:
                delay = self._engine.pacing_delay(now)
                self._engine.leave(now)
                self._closing = timeout
                self._stop_at = now + timeout + delay
                self._loop.stop_by(self._stop_at)
                pace.put(delay)
            self._loop.call(leave)
            if wait:
                try:
                    delay = pace.get(timeout=timeout + 1.0)
                except queue.Empty:
                    delay = 0.0
                self._loop.join(timeout + 1.0 + delay)

    def cancel(self, grace: float = 1.0) -> None:
        """Give up joining: the socket closes at once and Closed is the last event.
        If the join completed meanwhile, the server is told we leave (for at most
        ``grace`` seconds) rather than left to time the session out."""
        def stop(now: float) -> None:
            if self._engine.state in (ClientState.IDLE, ClientState.CONNECTING):
                self._loop.stop_by(now)
            else:
                self._engine.leave(now)
                self._loop.stop_by(now + grace)
        self._loop.call(stop)

    def _refused(self, where: tuple | None, now: float) -> None:
        """On the socket thread: the system said nothing listens at ``where``
        (None: it did not say where; a client sends only to its server)."""
        if where is None or tuple(where) == self._engine.server:
            self._engine.port_unreachable(now)

    def _post(self, fn) -> None:
        with self._room:
            self._posted += 1

        def run(now: float) -> None:
            with self._room:
                self._posted -= 1
            fn(now)
        self._loop.call(run)

    def _turned(self) -> None:
        """On the socket thread after each turn: publish the backlog, wake a waiting sender;
        leaving, keep the stop beyond the time the lines waiting for the pace still need
        (lines typed before the join are paced only once the server has said its rate)."""
        if self._closing is not None and self._engine.backlog:
            now = time.monotonic()
            delay = self._engine.pacing_delay(now)
            if delay and now + self._closing + delay > self._stop_at:
                self._stop_at = now + self._closing + delay
                self._loop.stop_by(self._stop_at)
        backlog = self._engine.backlog
        with self._room:
            self._backlog = backlog
            self._room.notify_all()


def start_client(server: str, name: str, *, default_port: int = DEFAULT_PORT, passphrase: str = "",
                 history_dir: str | None = None, replay: int = 100, catch_up: int | None = 500,
                 rejoin: bool = False) -> ClientTransport:
    """Join ``server`` (as typed: host, host:port, [v6]:port) as ``name``, with
    the room's ``passphrase`` when it is locked. Our copy of the room is kept in
    ``history_dir`` (None: none, and every join replays as a newcomer's); a newcomer
    is shown the last ``replay`` lines; after an absence the newest ``catch_up``
    missed lines come (None: every one). ``rejoin``: when the server closes the room,
    wait for it to open again instead of stopping.
    Raises InvalidName, AddressError, UnknownHost or SocketError; the rest
    arrives as events (Connected, or JoinRefused / Unreachable)."""
    check_name(name)
    addr, family, label = resolve(server, default_port)
    copy = None
    if history_dir is not None:
        copy = ClientCopy(history_dir, label, name)
        copy.open_last()
    try:
        sock = client_socket(family)
    except BaseException:
        if copy is not None:
            copy.close()
        raise
    engine = ClientEngine(name, addr, time.monotonic(), server_label=label, passphrase=passphrase,
                          room_id=copy.room_id if copy else "", last_seq=copy.last_seq if copy else 0,
                          oldest_seq=copy.oldest_seq if copy else 0, replay=replay, catch_up=catch_up,
                          rejoin=rejoin)
    return ClientTransport(engine, sock, copy)
