"""A running chat server: the server engine on its socket thread."""
from __future__ import annotations

import os
import time
from collections.abc import Iterable
from typing import Callable

from udpcore import DEFAULT_PORT, Event, Limits, ServerEngine, events as ev, format_addr

from .history import HistoryStore
from .loop import SocketLoop
from .member_sockets import MemberSockets
from .pake_worker import PakeWorker
from .room_history import RoomHistory
from .sockets import bind_server_socket


class ServerTransport:
    """See docs/architecture.md. Every method is safe from any thread."""

    def __init__(self, engine: ServerEngine, sock, *, stats: bool = True,
                 keep: Callable[[Event], bool] | None = None, store: HistoryStore | None = None) -> None:
        self.address: tuple[str, int] = sock.getsockname()[:2]
        self._engine = engine
        self._store = store
        self._history: RoomHistory | None = None
        shown: ev.HistoryLines | None = None
        if store is not None:
            # Everything that reads the store is set up before the socket thread starts:
            # from then on only that thread touches it.
            self._history = RoomHistory(store, engine, lambda e: self._loop.emit(e))
            shown = self._history.last_shown()
        self._pake = PakeWorker(engine, lambda fn: self._loop.call(fn))
        self._loop = SocketLoop(engine, sock, "chat-server", snapshot=engine.snapshot if stats else None, keep=keep,
                                before_send=self._turn, on_stop=self._stopped,
                                after_send=self._history.after_send if self._history is not None else None,
                                members=MemberSockets(sock))
        if engine.passphrase:
            self._loop.call(lambda now: self._pake.warm())
        self.events = self._loop.events
        self.events.put(ev.Listening(self.address[0], self.address[1]))
        if store is not None and store.notice:
            self.events.put(ev.HistoryProblem("damaged", store.notice))
        if shown is not None and shown.lines:
            self.events.put(shown)

    def _turn(self, now: float) -> None:
        self._pake.run(now)
        if self._history is not None:
            self._history.before_send(now)

    def _stopped(self) -> None:
        self._pake.close()
        if self._store is not None:
            self._store.close()

    @property
    def history_path(self) -> str | None:
        """Where the room's history is kept (None: nowhere; ":memory:" with --no-history)."""
        return str(self._store.path) if self._store is not None else None

    def search(self, words: str) -> None:
        """Search the room's history; a SearchResults event answers."""
        if self._history is not None:
            self._loop.call(lambda now: self._history.search_aside(words, self.events.put))  # type: ignore[union-attr]
        else:
            self.events.put(ev.SearchResults(words, ()))

    def save_history(self, path: str) -> None:
        """Write the room's history to a text file; HistorySaved or HistoryProblem follows."""
        if self._history is not None:
            self._loop.call(lambda now: self._loop.emit(self._history.save(path)))      # type: ignore[union-attr]
        else:
            self.events.put(ev.HistoryProblem("save-failed", "no history"))

    @property
    def label(self) -> str:
        return format_addr(self.address)

    def say(self, text: str) -> None:
        """The server's own line to the room."""
        self._loop.call(lambda now: self._engine.say(text, now))

    def say_to(self, name: str, text: str) -> None:
        """The server's own private line to one member (NoSuchMember comes as a CommandError)."""
        self._loop.call(lambda now: self._engine.say_to(name, text, now))

    def kick(self, name: str, reason: str = "") -> None:
        """Take a member out, telling it ``reason`` (NoSuchMember comes as a CommandError)."""
        self._loop.call(lambda now: self._engine.kick(name, now, reason))

    def mute(self, name: str, minutes: float) -> None:
        """Refuse a member's lines for ``minutes``; 0 lifts the mute."""
        self._loop.call(lambda now: self._engine.mute(name, minutes, now))

    def ban(self, name: str, reason: str = "") -> None:
        """Ban a name and its member's address, and take the member out; a
        BansChanged event follows (the program keeps the list)."""
        self._loop.call(lambda now: self._engine.ban(name, now, reason))

    def unban(self, name: str) -> None:
        """Lift a ban (NotBanned comes as a CommandError); a BansChanged event follows."""
        self._loop.call(lambda now: self._engine.unban(name))

    @property
    def room(self) -> str:
        """The room's name, as it is announced to clients looking for rooms."""
        return self._engine.room_name

    @property
    def locked(self) -> bool:
        """Joining needs the room's passphrase."""
        return bool(self._engine.passphrase)

    def lock(self, passphrase: str) -> None:
        """Lock the room with ``passphrase`` (empty: open it); members already in stay."""
        self._loop.call(lambda now: self._engine.lock(passphrase))
        if passphrase:
            self._loop.call(lambda now: self._pake.warm())

    def rename_room(self, name: str) -> None:
        """Announce the room as ``name`` from now on (cleaned, cut at 40 characters)."""
        self._loop.call(lambda now: self._engine.rename_room(name))

    def close(self, timeout: float = 2.0, wait: bool = True) -> None:
        """Tell every client the room is closing, then stop the thread. With
        ``wait=False`` return at once; a Closed event follows on ``events``."""
        if self._loop.alive:
            self._loop.call(lambda now: (self._engine.close(now), self._loop.stop_by(now + timeout)))
            if wait:
                self._loop.join(timeout + 1.0)


def start_server(host: str | None = None, port: int = DEFAULT_PORT, *, allow_guests: bool = True,
                 announce_joins: bool = True, stats: bool = True, limits: Limits | None = None,
                 bans: Iterable[ev.Ban] = (), keep: Callable[[Event], bool] | None = None,
                 tries: int = 1, room: str = "", passphrase: str = "", history_dir: str | None = None,
                 history_days: float = 30, keep_history: bool = True) -> ServerTransport:
    """Listen on ``host`` (None: every address) and ``port`` (0: any free one),
    with ``limits`` (None: the defaults) and the ``bans`` kept from before;
    ``tries`` > 1: the first free port from ``port`` on (``address`` tells which);
    ``room`` is the name clients looking for rooms see (chatfront words the default);
    a ``passphrase`` locks the room. The room's history is kept in ``history_dir``
    (its ``room`` folder), lines older than ``history_days`` forgotten; with
    ``keep_history=False`` in memory only; with neither, not at all.
    Raises PortBusyError, NotLocalAddress or SocketError, then (the port let go
    again) HistoryInUse or HistoryUnavailable."""
    sock = bind_server_socket(host, port, tries)      # a busy port is the likelier news: told first
    try:
        store = None
        if not keep_history:
            store = HistoryStore.in_memory(keep_days=history_days, now=time.time())
        elif history_dir is not None:
            store = HistoryStore.open(os.path.join(history_dir, "room"), keep_days=history_days, now=time.time())
    except BaseException:
        sock.close()
        raise
    engine = ServerEngine(time.monotonic(), allow_guests=allow_guests, announce_joins=announce_joins,
                          limits=limits or Limits(), bans=bans, room=room, port=sock.getsockname()[1],
                          passphrase=passphrase, room_id=store.room_id if store is not None else None,
                          last_seq=store.last_seq() if store is not None else 0,
                          known=store.recent_origins(10_000) if store is not None else ())
    return ServerTransport(engine, sock, stats=stats, keep=keep, store=store)
