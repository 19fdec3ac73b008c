"""Typed events that the engines emit and the transport puts on its queue.

Events are small immutable records, so the Tk windows and the headless programs
can handle them with ``match`` or ``isinstance`` and never touch engine state.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .appmsg import LeaveReason
from .errors import ChatError


@dataclass(frozen=True)
class Event:
    """Base class of every event."""


# --- room traffic (both sides) ------------------------------------------------


@dataclass(frozen=True)
class RoomLine(Event):
    """A line of the room as the server ordered it.

    ``seq`` is the server's room sequence number (0 for private lines, which are
    not part of the shared room order). ``private_to`` names the recipient of a
    private line. ``own`` is true on the client that wrote it; ``msg_id`` then
    matches the :class:`LinePending` shown when it was typed.
    """

    seq: int
    sender: str
    text: str
    action: bool = False
    private_to: str | None = None
    own: bool = False
    msg_id: int | None = None
    at: float = 0.0          # the server's wall clock when it ordered the line (0.0: not known)


@dataclass(frozen=True)
class HistoryLine:
    """One past line of the room (``seq`` > 0) or a private line (``seq`` 0)."""

    seq: int
    at: float                # unix time the server ordered it
    sender: str
    text: str
    action: bool = False
    private_to: str | None = None


@dataclass(frozen=True)
class HistoryLines(Event):
    """A block of past lines, oldest first.

    ``kind``: ``"earlier"`` (a newcomer's replay of the room's last lines),
    ``"missed"`` (what was said while we were away), ``"older"`` (a page loaded by
    scrolling back: it goes above what is shown), ``"stored"`` (our own copy, shown
    at start before the room answers). ``more``: room lines beyond this block on its
    earlier side that were not sent. ``done``: the last block of a replay or catch-up;
    live lines follow it."""

    kind: str
    lines: tuple[HistoryLine, ...]
    more: int = 0
    done: bool = True


@dataclass(frozen=True)
class InRoom(Event):
    """The server said which room this is (a new ``room_id``: its history started
    afresh) and its last sequence number; the client's copy follows that room."""

    room_id: str
    last_seq: int


@dataclass(frozen=True)
class MembersBack(Event):
    """After a server restart: how many members came back (told as one line)."""

    count: int


@dataclass(frozen=True)
class SearchResults(Event):
    """The answer to a search of the history, newest first; ``fts``: full-text index
    used (False: the slower substring search of a Python without FTS5)."""

    query: str
    lines: tuple[HistoryLine, ...]
    fts: bool = True


@dataclass(frozen=True)
class HistorySaved(Event):
    path: str
    count: int


@dataclass(frozen=True)
class HistoryProblem(Event):
    """Something about the history a person should hear. ``kind``: ``"in-use"``,
    ``"unavailable"``, ``"damaged"`` (``detail``: where the file was moved),
    ``"paused"`` (the disk refused: history paused, the room goes on),
    ``"resumed"``, ``"save-failed"`` (``detail``: the system's reason)."""

    kind: str
    detail: str = ""


@dataclass(frozen=True)
class PortFlooded(Event):
    """The server's port gets datagrams faster than it reads them (``on``), or no
    longer; meanwhile each member's come through a socket of their own (Linux)."""

    on: bool


@dataclass(frozen=True)
class MemberJoined(Event):
    name: str
    address: str = ""
    guest: bool = False


@dataclass(frozen=True)
class MemberLeft(Event):
    name: str
    reason: LeaveReason = LeaveReason.LEFT


@dataclass(frozen=True)
class MemberRenamed(Event):
    old: str
    new: str
    you: bool = False


# --- client side ---------------------------------------------------------------


@dataclass(frozen=True)
class Connected(Event):
    """Joined the room (also after a reconnect that needed a fresh join). ``locked``: a
    locked room, joined with its passphrase (the server proved it knows it too)."""

    name: str
    server: str
    members: tuple[str, ...] = ()
    locked: bool = False


@dataclass(frozen=True)
class JoinRefused(Event):
    """The server refused us (name taken or invalid, version, room full)."""

    error: ChatError


@dataclass(frozen=True)
class Unreachable(Event):
    """The join failed for want of a server: no answer from ``server`` (as the
    user typed it) within ``waited`` seconds, or, with ``refused``, its system
    said at once that nothing listens on that port (ICMP port unreachable)."""

    server: str
    port: int
    waited: float
    refused: bool = False


@dataclass(frozen=True)
class ConnectionLost(Event):
    """The server stopped answering; the client keeps trying to reconnect."""


@dataclass(frozen=True)
class Reconnected(Event):
    """Back in the room. ``resumed`` means the server still held our session,
    so the room saw no leave or join."""

    resumed: bool


@dataclass(frozen=True)
class ServerClosed(Event):
    """The server closed the room; ``reason`` is its operator's text, if any."""

    reason: str = ""


@dataclass(frozen=True)
class MemberList(Event):
    """The full member list: sent on join, and in answer to ``who()``
    (``answers_who``), which a program shows while the join's list it only keeps."""

    names: tuple[str, ...]
    answers_who: bool = False


@dataclass(frozen=True)
class LinePending(Event):
    """A line we typed was accepted for sending; it is delivered when the
    matching :class:`RoomLine` with ``own=True`` arrives."""

    msg_id: int
    text: str
    action: bool = False
    private_to: str | None = None


@dataclass(frozen=True)
class CommandError(Event):
    """A line or command was refused (unknown member, name taken, too long…);
    ``chatfront.wording.explain(error)`` is the sentence to show."""

    error: ChatError


@dataclass(frozen=True)
class LineRefused(Event):
    """The server did not relay a line we typed (the :class:`LinePending` with
    this ``msg_id``): ``error`` is a RateLimited or a Muted."""

    msg_id: int
    error: ChatError


@dataclass(frozen=True)
class Removed(Event):
    """The operator took us out of the room (``banned``: for good); no line
    can be sent any more. ``reason`` is the operator's words, if any."""

    reason: str = ""
    banned: bool = False


@dataclass(frozen=True)
class Crowd(Event):
    """Many joined or left at once: counted, not named (on both sides)."""

    joined: int
    left: int


@dataclass(frozen=True)
class Closed(Event):
    """The transport stopped; no event follows this one."""


# --- server side ---------------------------------------------------------------


@dataclass(frozen=True)
class Listening(Event):
    host: str
    port: int


@dataclass(frozen=True)
class PrivatePassed(Event):
    """A member's private line to another member went through the server; the
    operator is told who wrote to whom, never the text."""

    sender: str
    to: str


@dataclass(frozen=True)
class Ban:
    """One ban: a name (compared as names are), and the IP address it had, if known."""

    name: str
    address: str = ""


@dataclass(frozen=True)
class BansChanged(Event):
    """The operator banned or unbanned: the whole list, to be kept across restarts."""

    bans: tuple[Ban, ...]


@dataclass(frozen=True)
class MemberInfo:
    name: str
    address: str
    idle: float  # seconds since last heard from
    guest: bool = False
    muted: float = 0.0   # seconds of a mute left (0: may speak)


@dataclass(frozen=True)
class Stats(Event):
    """A periodic snapshot for status lines and member lists (about 1 s)."""

    members: tuple[MemberInfo, ...] = ()
    relayed: int = 0
    dropped: int = 0
    counters: dict[str, int] = field(default_factory=dict, compare=False, hash=False)
    looked: tuple[tuple[str, float], ...] = ()   # who sent a DISCOVER lately: (IP address, seconds ago)
