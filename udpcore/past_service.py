"""The server's side of the room's history, sans I/O: what to store, what was asked.

The engine never reads or writes the history itself (that is a file, so I/O):
each loop turn the transport takes the lines said (:meth:`take_said`) and
stores them *before* it sends anything of that turn, so no line is
acknowledged or relayed before it is on disk; then it takes the FETCHes
members sent (:meth:`take_fetches`), reads the pages and hands them back
(:meth:`answer_fetch`), which queues one HISTORY per FETCH to the member.
A part of :class:`~udpcore.server.ServerEngine` kept in its own module.
"""
from __future__ import annotations

import math
from collections import Counter, OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import NamedTuple

from .limits import Limits
from .appmsg import LINE_OWN
from .pastmsg import PAGE_BYTES, PAGE_LINES, Fetch, History, PastLine, RoomInfo, page_size
from .ratelimit import TokenBucket
from .room import Room
from .roster import Member, Roster

BACK_WINDOW = 30.0      # after a restart, joins this long are gathered into one "N members are back"
KNOWN_ORIGINS = 10_000  # lines whose (origin, msg_id) the server remembers, to relay none twice


class Said(NamedTuple):
    """A line to store: ``seq`` > 0 a room line; 0 the operator's private line with ``private_to``.
    A NamedTuple: one is made for every line relayed, at a quarter of a frozen dataclass's cost."""
    seq: int
    sender: str
    text: str
    flags: int
    private_to: str = ""
    origin: bytes = b""      # the sending program's id, and its message id: a line
    msg_id: int = 0          # sent again after a crash is recognised by them


@dataclass(frozen=True)
class FetchAsk:
    """A member's FETCH for the transport to read from the store (``member`` is opaque to it)."""
    member: Member
    fetch: Fetch


class PastService:
    limits: Limits
    counters: Counter[str]
    _room: Room
    _roster: Roster

    def _init_past(self, room_id: str | None, last_seq: int, now: float,
                   known: Iterable[tuple[bytes, int, int]] = ()) -> None:
        self.room_id = room_id                   # None: the room keeps no history at all
        # (origin, msg_id) -> seq of the latest lines: the history's newest at start, then
        # every line relayed; oldest forgotten first.
        self._known: OrderedDict[tuple[bytes, int], int] = OrderedDict(
            ((o, i), s) for o, i, s in list(known)[-KNOWN_ORIGINS:])
        self._room.seq = last_seq
        self._room.keeping = room_id is not None
        self._asks: list[FetchAsk] = []
        self._fetch_bucket = TokenBucket(self.limits.fetches_rate, self.limits.fetches_burst, now)
        self._back_until: float | None = None
        if room_id is not None and last_seq > 0:  # a room that ran before: its members are coming back
            self._room.gathering = True
            self._back_until = now + BACK_WINDOW

    def take_said(self) -> list[Said]:
        """The lines said since the last call, in order: store them before sending anything."""
        said, self._room.said = self._room.said, []
        if self.room_id is None:
            return []
        return list(map(Said._make, said))

    def take_fetches(self) -> list[FetchAsk]:
        asks, self._asks = self._asks, []
        return asks

    def answer_fetch(self, ask: FetchAsk, lines: list[PastLine], more: int) -> None:
        """The page for ``ask`` (at most its limit, oldest first, as the store gave it;
        ``more``: the lines of the range beyond it). Cut to PAGE_BYTES from the far side,
        which then counts in ``more``; nothing is sent to a member that left meanwhile."""
        mem = ask.member
        if not self._roster.present(mem) or mem.peer is None:
            return
        f = ask.fetch
        if mem.origin:          # its own lines come back marked, with its message ids
            lines = [replace(ln, flags=ln.flags | LINE_OWN) if ln.origin == mem.origin else
                     replace(ln, msg_id=0) if ln.msg_id else ln for ln in lines]
        else:
            lines = [replace(ln, msg_id=0) if ln.msg_id else ln for ln in lines]
        size, keep = 0, 0
        for ln in (reversed(lines) if f.newest else lines):
            size += page_size(ln)
            if size > PAGE_BYTES:
                break
            keep += 1
        cut = len(lines) - keep
        lines = lines[cut:] if f.newest else lines[:keep]
        self._room.send(mem, History(f.token, tuple(lines), more + cut))

    def _room_info(self, mem: Member) -> None:
        """After LIMITS on a fresh session: which room this is, and how far it has got."""
        if self.room_id is not None:
            self._room.send(mem, RoomInfo(self.room_id, self._room.seq))

    def _fetch(self, mem: Member, f: Fetch, now: float) -> None:
        """A FETCH: within the member's rate and the room's, asked of the transport;
        over them, refused with how long to wait (the client asks again then)."""
        if self.room_id is None:
            self._room.send(mem, History(f.token, ()))
            return
        assert mem.fetches is not None          # FETCH comes sealed: only from members, who all have one
        wait = mem.fetches.take(now)
        if not wait:
            wait = self._fetch_bucket.take(now)
            if wait:
                mem.fetches.tokens += 1.0       # the room's budget said no: the member's token back
        if wait:
            self.counters["fetch_limited"] += 1
            self._room.send(mem, History(f.token, (), 0, max(1, math.ceil(wait))))
            return
        limit = max(0, min(f.limit, PAGE_LINES))
        self._asks.append(FetchAsk(mem, Fetch(f.token, f.after, f.before, limit, f.newest)))

    def _known_line(self, mem: Member, msg_id: int) -> int:
        """The seq of the line ``mem``'s program already sent as ``msg_id`` (0: a new one)."""
        return self._known.get((mem.origin, msg_id), 0) if mem.origin else 0

    def _remember(self, mem: Member, msg_id: int, seq: int) -> None:
        if mem.origin and self.room_id is not None:
            known = self._known
            known[(mem.origin, msg_id)] = seq
            if len(known) > KNOWN_ORIGINS:
                known.popitem(last=False)

    def _past_tick(self, now: float) -> None:
        """Once a second: a gathering ends when its window is over."""
        if self._back_until is not None and now >= self._back_until:
            self._back_until = None
            if self._room.gathering:
                self._room.end_gathering()

