"""The server's history on its socket thread: store each turn's lines, answer FETCHes.

The engine (pure) hands over what was said and what was asked; this module
reads and writes the :class:`~udpnet.history.HistoryStore`. Everything here
runs on the socket thread. A turn's lines are safe from a crash (in the
store's journal, or in SQLite) before anything of that turn goes out, so no
member sees a line acknowledged or relayed that a restarted room could lose
or number again; SQLite takes journalled lines once the turn's datagrams left.
"""
from __future__ import annotations

import math
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Callable, Iterable

from udpcore import Event, ServerEngine, events as ev
from udpcore.appmsg import LINE_ACTION, PastLine
from udpcore.past_service import Said

from .history import HistoryStore, StoredLine, StoredPrivate, search_lines

SEARCH_LIMIT = 200            # results of one search
STORED_SHOWN = 100            # lines the operator's window shows at start
SWEEP_EVERY = 3600.0          # old lines are forgotten once an hour
INDEX_WHEN_QUIET = 1.0        # the full-text index is filled after this long with no line said...
INDEX_AT_MOST = 10_000        # ...or at once when this many wait (~35 ms of work on the socket thread)


def as_shown(line: StoredLine) -> ev.HistoryLine:
    return ev.HistoryLine(line.seq, line.at, line.sender, line.text, bool(line.flags & LINE_ACTION))


def text_line(line: StoredLine) -> str:
    """How a line reads in a saved file: ``[YYYY-MM-DD HH:MM] NAME: TEXT``."""
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(line.at))
    if line.flags & LINE_ACTION:
        return f"[{when}] * {line.sender} {line.text}"
    return f"[{when}] {line.sender}: {line.text}"


def save_lines(lines: Iterable[StoredLine], path: str) -> int:
    """Write ``lines`` to ``path`` (UTF-8), through a temporary file renamed at the end,
    so a failed save never leaves half a file where an older one was. Raises OSError."""
    target = Path(path)
    tmp = target.with_name(target.name + ".part")
    n = 0
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as f:
            for line in lines:
                f.write(text_line(line) + "\n")
                n += 1
        os.replace(tmp, target)
    except OSError:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise
    return n


class RoomHistory:
    """``store``: the room's history; ``emit``: queue an event of our own this turn."""

    def __init__(self, store: HistoryStore, engine: ServerEngine, emit: Callable[[Event], None],
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self._engine = engine
        self._emit = emit
        self._clock = clock
        self._paused = False
        self._next_sweep = clock()
        self._last_said = 0.0
        self._waiting: tuple[list[Said], float] | None = None     # journalled this turn, for SQLite after the sends
        store.index_on_append = False           # indexed in quiet moments (turn), not mid-burst

    def before_send(self, now: float) -> None:
        """Before anything of the turn is sent: make what was said safe, answer what was asked.

        Room lines are copied into the store's journal and go into SQLite once the turn's
        datagrams left (:meth:`after_send`). A turn with a private line to keep, or with a
        FETCH to answer (which must find this turn's lines), or whose lines the journal
        cannot take, stores in SQLite first, as every turn once did."""
        said = self._engine.take_said()
        asks = self._engine.take_fetches()
        if said:
            self._last_said = now
            at = self._clock()
            # A private line is never journalled; nothing else is built before the sends.
            if asks or any(not s.seq for s in said) or not self.store.journal(said, at):
                self._store(said, at)
            else:
                self._waiting = (said, at)
        for ask in asks:
            lines, more = self.page(ask.fetch.after, ask.fetch.before, ask.fetch.limit, ask.fetch.newest)
            self._engine.answer_fetch(ask, lines, more)

    def after_send(self, now: float) -> None:
        """After the turn's datagrams left: the journalled lines into SQLite, then the chores."""
        if self._waiting is not None:
            (said, at), self._waiting = self._waiting, None
            self._store(said, at)
        store = self.store
        if store.unindexed and (store.unindexed >= INDEX_AT_MOST or now - self._last_said >= INDEX_WHEN_QUIET):
            store.index_pending()               # a busy room's relay never waits for the index
        if self._last_said == now and self._clock() >= self._next_sweep:      # lines came this turn
            self._next_sweep = self._clock() + SWEEP_EVERY
            self.store.forget_older_than(self._clock())

    def _store(self, said: list[Said], at: float) -> None:
        ok = self.store.append([StoredLine(s.seq, at, s.sender, s.text, s.flags, s.origin, s.msg_id) if s.seq else
                                StoredPrivate(at, s.sender, s.private_to, s.text, s.flags) for s in said])
        if ok != (not self._paused):
            self._paused = not ok
            self._emit(ev.HistoryProblem("paused" if self._paused else "resumed"))

    def page(self, after: int, before: int, limit: int, newest: bool) -> tuple[list[PastLine], int]:
        """The lines ``after < seq < before`` (0: no bound), at most ``limit``, and how many
        of the range were left out (counted from the numbers: the store is gapless but
        for lines forgotten by age, which are below its first line)."""
        top = before or math.inf
        if newest:
            rows = [r for r in self.store.before(before or (1 << 62), limit) if r.seq > after]
            more = max(0, rows[0].seq - max(after + 1, self.store.first_seq())) if rows else 0
        else:
            rows = [r for r in self.store.after(after, limit) if r.seq < top]
            more = max(0, min(top - 1, self.store.last_seq()) - rows[-1].seq) if rows else 0
        return [PastLine(r.seq, r.at, r.sender, r.text, r.flags, r.msg_id, r.origin) for r in rows], int(more)

    def last_shown(self) -> ev.HistoryLines:
        """The room's last lines, for the operator's window at start."""
        lines = self.store.last(STORED_SHOWN)
        return ev.HistoryLines("stored", tuple(as_shown(x) for x in lines),
                               max(0, lines[0].seq - self.store.first_seq()) if lines else 0, True)

    def search(self, words: str) -> ev.SearchResults:
        return ev.SearchResults(words, tuple(as_shown(x) for x in self.store.search(words, SEARCH_LIMIT)),
                                self.store.fts)

    def search_aside(self, words: str, answer: Callable[[Event], None]) -> None:
        """Search on a thread of its own, with a connection of its own, so that a search
        of a big room (the commonest word in a million lines: ~60 ms) never holds up the
        room's traffic; ``answer`` (thread-safe) gets the SearchResults. What waits for the
        index is indexed first, here on the socket thread (at most FTS_BATCH lines).
        A memory-only store has no file to share: searched here."""
        store = self.store
        if store.max_lines is not None:
            answer(self.search(words))
            return
        store.index_pending()
        path, fts = store.path, store.fts

        def run() -> None:
            try:
                conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
                try:
                    found = search_lines(conn, fts, words, SEARCH_LIMIT)
                finally:
                    conn.close()
            except sqlite3.Error:
                found = []
            answer(ev.SearchResults(words, tuple(as_shown(x) for x in found), fts))
        threading.Thread(target=run, name="history-search", daemon=True).start()

    def save(self, path: str) -> Event:
        try:
            return ev.HistorySaved(path, save_lines(self.store.everything(), path))
        except OSError as exc:
            return ev.HistoryProblem("save-failed", exc.strerror or str(exc))
