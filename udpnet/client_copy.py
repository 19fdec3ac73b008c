"""The client's own copy of the room: what it was shown, kept on its disk.

One SQLite store (:class:`~udpnet.history.HistoryStore`, with gaps allowed)
per server, member name and room, under
``<root>/client/<server>/<name>/<room id>/``, so several people on one machine,
and several clients with different names on one folder, never mix their
histories; ``last-room`` beside the rooms names the one to show at start,
before the server has answered. Lines are stored on the socket thread before
they are queued for the program: a line shown was kept, and a restarted client
asks only for what comes after its last one, so a script prints every line once
over the life of its data folder.
"""
from __future__ import annotations

import dataclasses
import math
import os
import time
import unicodedata
from pathlib import Path
from urllib.parse import quote

from udpcore import Event, events as ev
from udpcore.appmsg import LINE_ACTION

from .history import HistoryError, HistoryInUse, HistoryStore, StoredLine, StoredPrivate
from .room_history import as_shown, save_lines

STORED_SHOWN = 200            # lines shown at start from our own copy
SEARCH_LIMIT = 200


def _slug(text: str) -> str:
    """A folder name any system takes (percent-encoded, like a URL's path)."""
    return quote(text, safe="") or "_"


class ClientCopy:
    def __init__(self, root: str, server_label: str, name: str) -> None:
        # The name as its person reads it, casefolded: the room already treats "Bia" and
        # "bia" as one name, and a case-blind file system (Windows, macOS) would too.
        self.folder = Path(root) / "client" / _slug(server_label) / _slug(unicodedata.normalize("NFC", name).casefold())
        self.store: HistoryStore | None = None
        self.problem: ev.HistoryProblem | None = None     # told once, with the first events

    # --- opening ------------------------------------------------------------------

    def open_last(self) -> None:
        """Open the room we were last in, if any (what the window shows before joining)."""
        try:
            room = (self.folder / "last-room").read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            return
        if room and all(c in "0123456789abcdefABCDEF" for c in room):
            self._open(room)

    def _open(self, room_id: str) -> None:
        if self.store is not None:
            if self.store.room_id == room_id:
                return
            self.store.close()
            self.store = None
        try:
            store = HistoryStore.open(self.folder / _slug(room_id), keep_days=math.inf, now=time.time())
        except HistoryInUse as exc:
            self.problem = ev.HistoryProblem("in-use", str(exc.path))
            return
        except (HistoryError, OSError) as exc:
            self.problem = ev.HistoryProblem("unavailable", str(exc))
            return
        store.adopt_room(room_id)
        if store.notice:
            self.problem = ev.HistoryProblem("damaged", store.path.name)
        self.store = store
        try:
            (self.folder / "last-room").write_text(room_id, encoding="ascii")
        except OSError:
            pass

    def close(self) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None

    # --- what the engine starts from ------------------------------------------------

    @property
    def room_id(self) -> str:
        return self.store.room_id if self.store is not None else ""

    @property
    def last_seq(self) -> int:
        return self.store.last_seq() if self.store is not None else 0

    @property
    def oldest_seq(self) -> int:
        return self.store.first_seq() if self.store is not None else 0

    def stored(self) -> ev.HistoryLines | None:
        """Our copy's last lines (room and private, in time order), shown at start."""
        if self.store is None:
            return None
        lines = [as_shown(x) for x in self.store.last(STORED_SHOWN)]
        lines += [ev.HistoryLine(0, p.at, p.sender, p.text, bool(p.flags & LINE_ACTION), p.to_name)
                  for p in self.store.recent_privates(STORED_SHOWN)]
        if not lines:
            return None
        lines.sort(key=lambda x: x.at)
        return ev.HistoryLines("stored", tuple(lines[-STORED_SHOWN:]), 0, True)

    # --- each turn, on the socket thread ---------------------------------------------

    def keep(self, events: list[Event]) -> list[Event]:
        """Store the turn's lines, then hand the events on (live lines get their time)."""
        out: list[Event] = []
        batch: list[StoredLine | StoredPrivate] = []
        at = time.time()
        if self.problem is not None:
            out.append(self.problem)
            self.problem = None
        for e in events:
            if isinstance(e, ev.InRoom):
                self._flush(batch)
                batch = []
                self._open(e.room_id)
                if self.problem is not None:
                    out.append(self.problem)
                    self.problem = None
            elif isinstance(e, ev.RoomLine):
                e = dataclasses.replace(e, at=at)
                flags = LINE_ACTION if e.action else 0
                if e.seq:
                    batch.append(StoredLine(e.seq, at, e.sender, e.text, flags))
                else:
                    batch.append(StoredPrivate(at, e.sender, e.private_to or "", e.text, flags))
            elif isinstance(e, ev.HistoryLines) and e.kind != "stored":
                batch += [StoredLine(x.seq, x.at, x.sender, x.text, LINE_ACTION if x.action else 0)
                          for x in e.lines if x.seq]
            out.append(e)
        self._flush(batch)
        return out

    def _flush(self, batch: list[StoredLine | StoredPrivate]) -> None:
        if batch and self.store is not None:
            self.store.append(batch, gaps=True)

    def search(self, words: str) -> ev.SearchResults:
        if self.store is None:
            return ev.SearchResults(words, (), True)
        return ev.SearchResults(words, tuple(as_shown(x) for x in self.store.search(words, SEARCH_LIMIT)),
                                self.store.fts)

    def save(self, path: str) -> Event:
        if self.store is None:
            return ev.HistoryProblem("save-failed", os.strerror(2))
        try:
            return ev.HistorySaved(path, save_lines(self.store.everything(), path))
        except OSError as exc:
            return ev.HistoryProblem("save-failed", exc.strerror or str(exc))
