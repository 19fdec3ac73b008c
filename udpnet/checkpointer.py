"""The history's WAL copied into its database file on a thread of its own.

SQLite checkpoints a WAL database by itself, in the commit that takes the log
past 1,000 pages: on our socket thread, with its fsyncs, so every ~500 lines
one line waited 10-13 ms (and more on a laptop disk or Windows) before it was
relayed. Here the store's own connection never checkpoints
(``wal_autocheckpoint=0``); a second connection on this thread does it, at
most once a second while lines come in. A PASSIVE checkpoint takes no lock a
writer needs, and the sqlite3 module lets go of the GIL while it works, so the
room's traffic does not wait for it. The last connection's close still
checkpoints what is left.
"""
from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

EVERY = 1.0        # seconds between checkpoints while lines keep coming


class Checkpointer:
    def __init__(self, path: Path, every: float = EVERY) -> None:
        self.path = path
        self.every = every
        self.runs = 0                                   # checkpoints done (for tests)
        self.last: tuple[int, int, int] | None = None   # SQLite's (busy, log frames, checkpointed)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="history-checkpoint", daemon=True)
        self._thread.start()

    def nudge(self) -> None:
        """Lines were committed: a checkpoint is due within ``every`` seconds."""
        self._wake.set()

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        try:
            while True:
                self._wake.wait()
                if self._stop.wait(self.every):       # gather a second's commits into one checkpoint
                    return
                self._wake.clear()
                try:
                    if conn is None:
                        conn = sqlite3.connect(str(self.path), isolation_level=None)
                    row = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    self.last = (int(row[0]), int(row[1]), int(row[2]))
                    self.runs += 1
                except sqlite3.Error:
                    pass                               # the next one tries again; close checkpoints anyway
        finally:
            if conn is not None:
                conn.close()

    def close(self) -> None:
        """Stop before the store's own connection closes (the last one cleans the WAL up)."""
        self._stop.set()
        self._wake.set()
        self._thread.join(5.0)
