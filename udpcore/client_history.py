"""The client's side of the room's history: replay, catch-up, scrolling back.

A part of :class:`~udpcore.client.ClientEngine` kept in its own module. The
engine is told what its own copy holds (the room's id, the last and the first
line it has). When a fresh session starts, the server says which room it is
and how far it has got (ROOM):

- the same room, lines beyond ours: catch-up ("missed"), the newest
  ``catch_up`` of them (a window: scrolling up loads the rest) or, with
  ``catch_up=None`` (scripts), every one of them, page after page;
- another room, or none yet: the last ``replay`` lines ("earlier").

Live lines that arrive meanwhile are held back until the catch-up is shown, so
everything reaches the program once and in the room's order; a room line
numbered at or below what we already have is dropped (counted ``duplicate``).
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from . import appmsg as m
from . import events as ev
from .client_state import State
from .pastmsg import PAGE_LINES, Fetch, History, RoomInfo
from .peer import Peer

OLDER_PAGE = 100         # lines loaded per scroll past the top


@dataclass
class _Asked:
    kind: str            # "earlier", "missed", "older"
    fetch: Fetch
    continued: bool = False   # a script's catch-up past its first page: its last block closes it
    retry_at: float | None = None


class CatchUp:
    state: State
    ignored: int
    _peer: Peer | None
    _events: deque[ev.Event]
    room_closed: bool

    def _init_history(self, room_id: str, last_seq: int, oldest_seq: int, replay: int,
                      catch_up: int | None) -> None:
        self.room_id = room_id          # the room our copy holds ("" : none)
        self.last_seq = last_seq        # the newest room line we have (shown or stored)
        self._older_before = oldest_seq # scrolling back asks for lines below this (0: nothing older)
        self._older_floor = 0           # ...and above this (a gap left by a capped catch-up)
        self._after_gap = 0             # where scrolling back goes on once that gap is filled
        self.replay = max(0, min(replay, PAGE_LINES))
        self.catch_up = None if catch_up is None else max(1, min(catch_up, PAGE_LINES))
        self._asked: dict[int, _Asked] = {}
        self._next_token = 1
        self._holding = False           # a replay or catch-up is on its way: live lines wait
        self._held: list[ev.Event] = []
        self.duplicates = 0

    # --- what the program asks ------------------------------------------------------

    def load_older(self, now: float) -> None:
        """The page of room lines just above what the program shows; answered by a
        HistoryLines("older") event, empty when there is nothing older (or no session)."""
        if any(a.kind == "older" for a in self._asked.values()):
            return                      # one page at a time: its answer comes
        if self._older_before <= 1 or self._peer is None or self.state is not State.JOINED:
            self._events.append(ev.HistoryLines("older", (), 0, True))
            return
        self._ask("older", self._older_floor, self._older_before, OLDER_PAGE, True)

    # --- what the server says -------------------------------------------------------

    def _emit(self, e: ev.Event) -> None:
        """A live event from the server: held back while a catch-up is on its way;
        a room line we already have is dropped."""
        if isinstance(e, ev.RoomLine) and e.seq:
            if e.seq <= self.last_seq:
                self.duplicates += 1
                return
            self.last_seq = e.seq
        if self._holding:
            self._held.append(e)
        else:
            self._events.append(e)

    def _past_message(self, msg: RoomInfo | History | m.Back, now: float) -> None:
        if isinstance(msg, RoomInfo):
            self._room_info(msg)
        elif isinstance(msg, History):
            self._history(msg, now)
        else:
            self._emit(ev.MembersBack(msg.count))

    def _room_info(self, info: RoomInfo) -> None:
        """A fresh session: catch up, or replay, and hold live lines until that is shown."""
        self._events.append(ev.InRoom(info.room_id, info.last_seq))
        self.room_closed = False
        older = [a for a in self._asked.values() if a.kind == "older"]
        self._asked.clear()
        self._let_live_through()
        top = info.last_seq
        if info.room_id == self.room_id and self.last_seq > 0:
            # The server's number is the truth: lines above it are live, whatever we had.
            if top > self.last_seq:
                if self.catch_up is None:
                    self._ask("missed", self.last_seq, top + 1, PAGE_LINES, False)
                else:
                    self._ask("missed", self.last_seq, top + 1, self.catch_up, True)
                self._holding = True
        else:                           # a room we have nothing of (or whose history began afresh)
            self.room_id = info.room_id
            self._older_before = top + 1 if top else 0
            self._older_floor = 0
            if self.replay and top:
                self._ask("earlier", 0, top + 1, self.replay, True)
                self._holding = True
            older = []                  # pages of another room: not wanted any more
        self.last_seq = top
        for a in older:                  # a page asked on the session that ended: ask it again
            self._ask("older", a.fetch.after, a.fetch.before, a.fetch.limit, True)

    def _history(self, h: History, now: float) -> None:
        asked = self._asked.pop(h.token, None)
        if asked is None:
            self.ignored += 1
            return
        if h.wait:                      # over the server's rate: ask again when it says
            asked.retry_at = now + h.wait
            self._asked[h.token] = asked
            return
        lines = tuple(ev.HistoryLine(p.seq, p.at, p.sender, p.text, bool(p.flags & m.LINE_ACTION)) for p in h.lines)
        f = asked.fetch
        if asked.kind == "older":
            self._events.append(ev.HistoryLines("older", lines, h.more, True))
            if lines and h.more:
                self._older_before = lines[0].seq
            elif self._older_floor:     # the gap is filled: on below what we held before it
                self._older_floor, self._older_before = 0, self._after_gap
            else:
                self._older_before = 0
            return
        if not f.newest and h.more and lines:                  # a script's catch-up: the next page
            self._events.append(ev.HistoryLines(asked.kind, lines, 0, False))
            self._ask(asked.kind, lines[-1].seq, f.before, f.limit, False, continued=True)
            return
        if lines or asked.continued:
            self._events.append(ev.HistoryLines(asked.kind, lines, h.more if f.newest else 0, True))
        if f.newest and lines:
            if asked.kind == "earlier":
                self._older_before = lines[0].seq if h.more else 0
            elif h.more:                 # a capped catch-up: scrolling back fills the gap first
                self._after_gap = self._older_before
                self._older_floor, self._older_before = f.after, lines[0].seq
        self._let_live_through()

    # --- inside ---------------------------------------------------------------------

    def _ask(self, kind: str, after: int, before: int, limit: int, newest: bool, continued: bool = False) -> None:
        token = self._next_token
        self._next_token = token % 0xFFFFFFFF + 1        # u32, never 0
        self._send_ask(_Asked(kind, Fetch(token, after, before, limit, newest), continued))

    def _send_ask(self, a: _Asked) -> None:
        a.retry_at = None
        self._asked[a.fetch.token] = a
        if self._peer is not None:
            self._peer.send(m.encode_msg(a.fetch), capped=False)

    def _let_live_through(self) -> None:
        """The catch-up is shown: the live events held meanwhile follow, in order."""
        self._holding = False
        held, self._held = self._held, []
        self._events.extend(held)

    def _past_due(self, now: float) -> None:
        """Ask again what the server refused for its rate, once the wait is over."""
        for a in list(self._asked.values()):
            if a.retry_at is not None and now >= a.retry_at:
                self._send_ask(a)

    def _past_timer(self) -> float | None:
        times = [a.retry_at for a in self._asked.values() if a.retry_at is not None]
        return min(times) if times else None
