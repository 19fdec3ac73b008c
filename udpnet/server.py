"""A running chat server: the server engine on its socket thread."""
from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Callable

from udpcore import DEFAULT_PORT, Event, Limits, ServerEngine, events as ev, format_addr

from .loop import SocketLoop
from .sockets import bind_server_socket


class ServerTransport:
    """See docs/architecture.md. Every method is safe from any thread."""

    def __init__(self, engine: ServerEngine, sock, *, stats: bool = True,
                 keep: Callable[[Event], bool] | None = None) -> None:
        self.address: tuple[str, int] = sock.getsockname()[:2]
        self._engine = engine
        self._loop = SocketLoop(engine, sock, "chat-server", snapshot=engine.snapshot if stats else None, keep=keep)
        self.events = self._loop.events
        self.events.put(ev.Listening(self.address[0], self.address[1]))

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
                 tries: int = 1, room: str = "", passphrase: str = "") -> ServerTransport:
    """Listen on ``host`` (None: every address) and ``port`` (0: any free one),
    with ``limits`` (None: the defaults) and the ``bans`` kept from before;
    ``tries`` > 1: the first free port from ``port`` on (``address`` tells which);
    ``room`` is the name clients looking for rooms see (chatfront words the default);
    a ``passphrase`` locks the room.
    Raises PortBusyError, NotLocalAddress or SocketError."""
    sock = bind_server_socket(host, port, tries)
    engine = ServerEngine(time.monotonic(), allow_guests=allow_guests, announce_joins=announce_joins,
                          limits=limits or Limits(), bans=bans, room=room, port=sock.getsockname()[1],
                          passphrase=passphrase)
    return ServerTransport(engine, sock, stats=stats, keep=keep)
