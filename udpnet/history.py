"""The room's history on disk: a SQLite file the server writes once per loop turn.

Building block for issue 13, not yet wired into the server. It lives in udpnet
because it is I/O (a file, a lock, fsyncs); the protocol in udpcore will only ever
see it through an interface it is handed.

One folder holds one room: ``history.sqlite3`` (plus SQLite's ``-wal``/``-shm``)
and ``history.lock``, locked for the store's whole life so that a second server
started on the same folder is refused instead of interleaving sequence numbers.

Room lines carry the room's sequence number: gapless, one order for everyone,
continuing across restarts (the last number is kept in the ``room`` row, so
deleting old lines never rewinds it). Private lines have no place in that order
(a third member must never learn that one was said), so they live in their own
table with their own ids and are only read back for one of their two parties.
"""
from __future__ import annotations

import os
import re
import secrets
import sqlite3
import sys
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from udpnet.checkpointer import Checkpointer    # absolute: tests load this file alone, as on Windows
from udpnet.journal import Journal, JournalLine
from typing import IO, Iterable, NamedTuple, Sequence, Union

__all__ = ["HistoryStore", "StoredLine", "StoredPrivate", "HistoryError", "HistoryInUse",
           "HistoryGap", "HistoryUnavailable", "fold", "DB_NAME", "LOCK_NAME"]

DB_NAME = "history.sqlite3"
LOCK_NAME = "history.lock"
_DAY = 86400.0


class HistoryError(Exception):
    """Anything the history store refuses; the program words it for a person."""


class HistoryInUse(HistoryError):
    """Another store (another server) holds this folder's lock."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"history folder in use by another server: {path}")
        self.path = path


class HistoryUnavailable(HistoryError):
    """The folder or file cannot be opened at all (permissions, not a folder, ...)."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"history unavailable at {path}: {reason}")
        self.path = path
        self.reason = reason


class HistoryGap(HistoryError, ValueError):
    """A batch whose numbering does not continue the room's: an engine bug, so it is
    raised (and nothing of the batch written) rather than quietly stored out of order."""


class StoredLine(NamedTuple):
    """One room line, numbered by the room (``seq``); ``at`` is the server's wall clock.
    A NamedTuple: the server makes one for every line it relays (and every line a page
    reads), at a quarter of a frozen dataclass's cost."""
    seq: int
    at: float
    sender: str
    text: str
    flags: int = 0
    origin: bytes = b""     # the sending program's id (pastmsg.Origin), for idempotence
    msg_id: int = 0         # ...and its message id


@dataclass(frozen=True)
class StoredPrivate:
    """One private line. ``id`` is given by the store (leave it 0 when appending)."""
    at: float
    sender: str
    to_name: str
    text: str
    flags: int = 0
    id: int = 0


Line = Union[StoredLine, StoredPrivate]


def fold(text: str) -> str:
    """What the LIKE fallback compares: compatibility-decomposed, combining marks
    dropped, case-folded, so ``acao`` finds "ação" and ``CAFE`` finds "café" without FTS5."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


_WORD = re.compile(r"[^\W_]+")


def _words(query: str) -> list[str]:
    """The user's search words: runs of letters and digits only. Everything else
    (quotes, ``*``, parentheses, ``-``, ``:``) is a separator, so nothing a person
    types can become FTS5 syntax; NFKC first so a decomposed "ã" stays inside its word."""
    return _WORD.findall(unicodedata.normalize("NFKC", query))


def _probe_fts5(conn: sqlite3.Connection) -> bool:
    """Whether this Python's SQLite has FTS5 (some builds lack it). A module-level
    function so a test can make it fail."""
    try:
        conn.execute("CREATE VIRTUAL TABLE temp.fts5_probe USING fts5(x)")
        conn.execute("DROP TABLE temp.fts5_probe")
        return True
    except sqlite3.Error:
        return False


# --- the folder's lock: fcntl on POSIX, msvcrt on Windows (neither exists on the other) ---

if sys.platform == "win32":
    import msvcrt

    def _try_lock(f: IO[bytes]) -> bool:
        f.seek(0)
        try:
            msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False

    def _unlock(f: IO[bytes]) -> None:
        f.seek(0)
        try:
            msvcrt.locking(f.fileno(), msvcrt.LK_UNLCK, 1)
        except OSError:
            pass
else:
    import fcntl

    def _try_lock(f: IO[bytes]) -> bool:
        # flock locks belong to the open file description, so even a second store in
        # the same process (a test, or a program opening the folder twice) is refused.
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError:
            return False

    def _unlock(f: IO[bytes]) -> None:
        fcntl.flock(f.fileno(), fcntl.LOCK_UN)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS room(
    one INTEGER PRIMARY KEY CHECK (one = 1),
    room_id TEXT NOT NULL,
    created REAL NOT NULL,
    last_seq INTEGER NOT NULL,
    fts_synced INTEGER NOT NULL DEFAULT 1,
    fts_upto INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS lines(
    seq INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    sender TEXT NOT NULL,
    text TEXT NOT NULL,
    flags INTEGER NOT NULL,
    folded TEXT NOT NULL,
    origin BLOB NOT NULL DEFAULT x'',
    msg_id INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS lines_at ON lines(at);
CREATE TABLE IF NOT EXISTS fts_pending(seq INTEGER PRIMARY KEY);
CREATE TABLE IF NOT EXISTS privates(
    id INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    sender TEXT NOT NULL,
    to_name TEXT NOT NULL,
    text TEXT NOT NULL,
    flags INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS privates_sender ON privates(sender, id);
CREATE INDEX IF NOT EXISTS privates_to ON privates(to_name, id);
CREATE INDEX IF NOT EXISTS privates_at ON privates(at);
"""

# External-content FTS5 over lines(text, sender). It is filled in bulk, not by a trigger
# per line: a server's new lines are those above ``fts_upto`` (its numbers run on), a
# client's copy, which takes lines of any number, also lists them in fts_pending; they go into
# the index a thousand at a time, before a search, and at open. Indexing one line at a
# time cost the relay a quarter of its rate (bench/bench_history.py: 25 µs a line).
# remove_diacritics 2 folds accents both ways.
_FTS = """
CREATE VIRTUAL TABLE IF NOT EXISTS lines_fts USING fts5(
    text, sender, content='lines', content_rowid='seq',
    tokenize='unicode61 remove_diacritics 2');
"""
FTS_BATCH = 1000          # lines waiting for the index before a turn indexes them

# Errors that mean "the disk said no" (full, I/O error, read-only, locked, damaged
# under our feet): the room keeps talking and history pauses. Programming errors
# (a bad binding, a constraint) are ours and are raised.
_OUR_BUGS = (sqlite3.ProgrammingError, sqlite3.InterfaceError, sqlite3.IntegrityError)


class HistoryStore:
    """The room's history. Open with :meth:`open`; only the server's socket thread uses it."""

    def __init__(self, conn: sqlite3.Connection, lock: IO[bytes] | None, path: Path, *,
                 keep_days: float, fts: bool, notice: str | None) -> None:
        # check_same_thread=False: opened by the program's thread, then used only by the
        # socket thread (never by two at once).
        self._conn = conn
        self._lock: IO[bytes] | None = lock
        self.path = path
        self.keep_days = keep_days
        self.fts = fts
        #: What happened at open that a person should hear (a damaged file moved aside).
        self.notice = notice
        #: True after an append the disk refused; the next successful append clears it.
        self.paused = False
        self.max_lines: int | None = None       # a memory-only store's cap
        # False: the owner indexes when it likes (the server: in quiet moments, see
        # udpnet/room_history.py), and before every search this store runs itself.
        self.index_on_append = True
        self._unindexed = conn.execute(
            "SELECT (SELECT count(*) FROM fts_pending) + (SELECT count(*) FROM lines"
            " WHERE seq > (SELECT fts_upto FROM room))").fetchone()[0] if fts else 0
        self.closed = False
        self._checkpointer: Checkpointer | None = None     # a file's: see udpnet/checkpointer.py
        self._journal: Journal | None = None               # a file's: see udpnet/journal.py
        self._journal_needed = False     # SQLite refused journalled lines: only the journal has them
        # The room row's last_seq is written only when lines are forgotten (so numbering never
        # rewinds) and at close: a turn's transaction then writes one page fewer.
        row = conn.execute("SELECT room_id, max(last_seq, (SELECT ifnull(max(seq), 0) FROM lines))"
                           " FROM room").fetchone()
        self.room_id: str = row[0]
        self._last_seq: int = row[1]

    # --- opening -------------------------------------------------------------------

    @classmethod
    def open(cls, folder: str | Path, *, keep_days: float = 30, now: float) -> HistoryStore:
        """Lock ``folder``, open (or create) its history file, check it.

        A damaged file is moved aside to ``history.sqlite3.corrupt-<time>`` and a fresh
        store started (``notice`` says so): the room starts rather than failing on a
        traceback. A second store on the same folder raises :class:`HistoryInUse`."""
        if not keep_days > 0:
            raise ValueError("keep_days must be positive (math.inf keeps everything)")
        folder = Path(folder)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            lock = open(folder / LOCK_NAME, "a+b")
        except OSError as exc:
            raise HistoryUnavailable(folder, exc.strerror or str(exc)) from exc
        if not _try_lock(lock):
            lock.close()
            raise HistoryInUse(folder)
        try:
            path = folder / DB_NAME
            notice = None
            try:
                conn = _connect(path)
            except sqlite3.DatabaseError as exc:
                if isinstance(exc, sqlite3.OperationalError) and "unable to open" in str(exc):
                    raise HistoryUnavailable(path, str(exc)) from exc
                aside = _move_aside(path, now)
                why = str(exc).splitlines()[0][:80] if str(exc) else type(exc).__name__
                notice = (f"The history file was damaged ({why}); it was moved aside to "
                          f"{aside.name} and a new history started.")
                conn = _connect(path)
            fts = _probe_fts5(conn)
            _create(conn, fts, now)
            store = cls(conn, lock, path, keep_days=keep_days, fts=fts, notice=notice)
            store._take_journal(Journal(folder))
            store.index_pending()           # lines a previous run left waiting: before the room starts
            conn.execute("PRAGMA wal_autocheckpoint=0")    # done aside, never in a turn's commit
            store._checkpointer = Checkpointer(path)
            return store
        except BaseException:
            _unlock(lock)
            lock.close()
            raise

    @classmethod
    def in_memory(cls, *, keep_days: float = 30, now: float, max_lines: int = 100_000) -> HistoryStore:
        """A store that lives only as long as the program (``--no-history``), keeping
        its newest ``max_lines`` lines: catch-up and search still work while it runs."""
        conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        fts = _probe_fts5(conn)
        _create(conn, fts, now)
        store = cls(conn, None, Path(":memory:"), keep_days=keep_days, fts=fts, notice=None)
        store.max_lines = max_lines
        return store

    def close(self) -> None:
        """Close the file (SQLite checkpoints the WAL) and release the folder's lock."""
        if self.closed:
            return
        self.closed = True
        if self._checkpointer is not None:
            self._checkpointer.close()
        try:
            with _transaction(self._conn):
                self._conn.execute("UPDATE room SET last_seq = max(last_seq, ?)", (self._last_seq,))
        except sqlite3.Error:
            pass                # the lines are there: the next open finds the number in them
        if self._journal is not None:
            if not self._journal_needed and self._last_seq >= self._journal.upto:
                self._journal.reset()
            self._journal.close()
        if self._lock is None:
            self._conn.close()
            return
        try:
            self._conn.close()
        finally:
            _unlock(self._lock)
            self._lock.close()
            self._lock = None

    def _take_journal(self, journal: Journal) -> None:
        """Store what a previous run journalled and SQLite never got (it crashed in
        between), then reset the journal; a disk that refuses keeps it for next time."""
        self._journal = journal
        found = journal.read()
        held = {r[0] for r in self._conn.execute("SELECT seq FROM lines WHERE seq BETWEEN ? AND ?",
                                                 (min(r[0] for r in found), max(r[0] for r in found)))} if found else set()
        left = [StoredLine(*r) for r in found if r[0] not in held]
        if left and not self.append(left, gaps=True):
            self._journal_needed = True
            return
        journal.reset()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- writing -------------------------------------------------------------------

    def last_seq(self) -> int:
        """The room's last sequence number ever stored (0 for a new room); never rewinds."""
        return self._last_seq

    def journal(self, lines: Sequence[JournalLine], at: float) -> bool:
        """Make a turn's room lines (said at ``at``) safe from a crash of the process before they are
        relayed: copied into the journal (a few µs, where :meth:`append`'s transaction
        costs ~100; udpnet/journal.py). True: they may go out now, and :meth:`append`
        must follow in the same turn. A memory-only store says True at once (its lines
        die with the process anyway). False: a disk that refused, a journal without room
        for them, or a store with no journal (a client's copy): append them before
        anything is sent."""
        if self.max_lines is not None:
            return True
        if self._journal is None or not lines:
            return False
        try:
            return self._journal.write(lines, at, not self._journal_needed and self._last_seq >= self._journal.upto)
        except (OSError, ValueError):          # ValueError: mmap refused (a file it cannot map)
            return False

    def append(self, lines: Iterable[Line], *, gaps: bool = False) -> bool:
        """Store one loop turn's lines in ONE transaction, before any of them is sent
        (or, once :meth:`journal` took them, in the same turn after they went out).

        Room lines must continue the room's numbering (``last_seq() + 1``, then one by
        one); otherwise :class:`HistoryGap` is raised and nothing is written. While
        ``paused`` the first number may be further on: the lines in between were said
        while the disk refused them and are known lost. Returns False (and sets
        ``paused``) when the disk refuses this batch: the room keeps talking.
        ``gaps``: a client's copy, which holds what it was sent: any numbers, in any
        order, a number already stored is kept as it was."""
        lines = list(lines)
        room = [ln for ln in lines if isinstance(ln, StoredLine)]
        privates = [ln for ln in lines if isinstance(ln, StoredPrivate)]
        if len(room) + len(privates) != len(lines):
            raise TypeError("append takes StoredLine and StoredPrivate only")
        if gaps:
            room.sort(key=lambda ln: ln.seq)
        elif room:
            first = room[0].seq
            if first != self._last_seq + 1 and not (self.paused and first > self._last_seq):
                raise HistoryGap(f"line {first} does not follow line {self._last_seq}")
            for i, ln in enumerate(room):
                if ln.seq != first + i:
                    raise HistoryGap(f"line {ln.seq} does not follow line {first + i - 1}")
        if not lines:
            return True
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                if room:
                    conn.executemany(
                        f"INSERT {'OR IGNORE ' if gaps else ''}INTO lines(seq, at, sender, text, flags, folded,"
                        " origin, msg_id) VALUES (?,?,?,?,?,?,?,?)",
                        ((ln.seq, ln.at, ln.sender, ln.text, ln.flags,
                          "" if self.fts else _folded(ln.sender, ln.text), ln.origin, ln.msg_id) for ln in room))
                    if gaps:            # a client's copy: any numbers, some below what is indexed
                        conn.executemany("INSERT OR IGNORE INTO fts_pending(seq) VALUES (?)",
                                         ((ln.seq,) for ln in room))
                if privates:
                    conn.executemany(
                        "INSERT INTO privates(at, sender, to_name, text, flags) VALUES (?,?,?,?,?)",
                        ((p.at, p.sender, p.to_name, p.text, p.flags) for p in privates))
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            if self._checkpointer is not None:
                self._checkpointer.nudge()
        except _OUR_BUGS:
            raise
        except sqlite3.DatabaseError:
            self.paused = True
            if self._journal is not None and self._journal.upto > self._last_seq:
                self._journal_needed = True      # the next open takes them from the journal
            return False
        if room:
            self._last_seq = max(self._last_seq, room[-1].seq)
        self.paused = False
        if self.max_lines is not None and room:
            self._trim()
        if room and self.fts:
            self._unindexed += len(room)
            if self.index_on_append and self._unindexed >= FTS_BATCH:
                self.index_pending()
        return True

    @property
    def unindexed(self) -> int:
        """Lines stored but not yet in the full-text index (0 without FTS5)."""
        return self._unindexed

    def index_pending(self) -> None:
        """Put the lines waiting in fts_pending into the full-text index (one transaction).
        A disk that refuses leaves them waiting: search finds them once it takes them."""
        if not self.fts:
            return
        try:
            with _transaction(self._conn):
                upto = self._conn.execute("SELECT fts_upto FROM room").fetchone()[0]
                self._conn.execute("INSERT INTO lines_fts(rowid, text, sender) SELECT seq, text, sender FROM lines"
                                   " WHERE seq > ? OR seq IN (SELECT seq FROM fts_pending)", (upto,))
                self._conn.execute("DELETE FROM fts_pending")
                self._conn.execute("UPDATE room SET fts_upto = max(fts_upto, (SELECT ifnull(max(seq), 0) FROM lines)),"
                                   " last_seq = max(last_seq, ?)", (self._last_seq,))
        except _OUR_BUGS:
            raise
        except sqlite3.DatabaseError:
            return
        self._unindexed = 0

    def _trim(self) -> None:
        """A memory-only store keeps its newest ``max_lines`` lines."""
        cut = self._last_seq - self.max_lines           # type: ignore[operator]
        if cut > 0 and self.first_seq() <= cut:
            with _transaction(self._conn):
                self._forget("seq <= ?", cut)

    def _forget(self, where: str, arg: float) -> int:
        """Delete the room lines ``where`` holds, and their index entries (inside a transaction)."""
        conn = self._conn
        if self.fts:
            conn.execute("INSERT INTO lines_fts(lines_fts, rowid, text, sender) SELECT 'delete', seq, text, sender"
                         f" FROM lines WHERE {where} AND seq <= (SELECT fts_upto FROM room)"
                         " AND seq NOT IN (SELECT seq FROM fts_pending)", (arg,))
        elif conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'lines_fts'").fetchone() is not None:
            conn.execute("UPDATE room SET fts_synced = 0")    # its index keeps them: rebuilt when FTS5 is back
        conn.execute("UPDATE room SET last_seq = max(last_seq, ?)", (self._last_seq,))   # never rewinds
        conn.execute(f"DELETE FROM fts_pending WHERE seq IN (SELECT seq FROM lines WHERE {where})", (arg,))
        return conn.execute(f"DELETE FROM lines WHERE {where}", (arg,)).rowcount

    def adopt_room(self, room_id: str) -> None:
        """A client's copy takes the id of the room it copies (a new file has a random one)."""
        if room_id != self.room_id:
            with _transaction(self._conn):
                self._conn.execute("UPDATE room SET room_id = ?", (room_id,))
            self.room_id = room_id

    def forget_older_than(self, now: float) -> int:
        """Delete room and private lines older than ``keep_days``; returns how many room
        lines went. ``last_seq`` stays (it lives in the room row), so numbering continues."""
        cutoff = now - self.keep_days * _DAY
        try:
            with _transaction(self._conn):
                gone = self._forget("at < ?", cutoff)
                self._conn.execute("DELETE FROM privates WHERE at < ?", (cutoff,))
        except _OUR_BUGS:
            raise
        except sqlite3.DatabaseError:
            return 0        # the disk said no: the old lines wait for the next sweep
        return gone

    # --- reading -------------------------------------------------------------------

    def first_seq(self) -> int:
        """The oldest room line's number still kept (0: none)."""
        row = self._conn.execute("SELECT MIN(seq) FROM lines").fetchone()
        return row[0] or 0

    def everything(self, batch: int = 1000) -> Iterable[StoredLine]:
        """Every room line, oldest first, read a batch at a time (saving to a file)."""
        seq = 0
        while rows := self.after(seq, batch):
            yield from rows
            seq = rows[-1].seq

    def after(self, seq: int, limit: int) -> list[StoredLine]:
        """Lines numbered above ``seq``, oldest first, at most ``limit`` (catch-up)."""
        return self._lines("WHERE seq > ? ORDER BY seq LIMIT ?", (seq, max(limit, 0)))

    def before(self, seq: int, limit: int) -> list[StoredLine]:
        """The ``limit`` lines just below ``seq``, oldest first (scrolling back)."""
        rows = self._lines("WHERE seq < ? ORDER BY seq DESC LIMIT ?", (seq, max(limit, 0)))
        return rows[::-1]

    def last(self, n: int) -> list[StoredLine]:
        """The newest ``n`` lines, oldest first (a newcomer's replay)."""
        return self._lines("ORDER BY seq DESC LIMIT ?", (max(n, 0),))[::-1]

    def privates_for(self, name: str, after_id: int, limit: int) -> list[StoredPrivate]:
        """Private lines ``name`` sent or received, id above ``after_id``, oldest first.
        Only their two parties ever get them; names are compared exactly (the room has
        already made them unique)."""
        rows = self._conn.execute(
            "SELECT at, sender, to_name, text, flags, id FROM privates"
            " WHERE id > ? AND (sender = ? OR to_name = ?) ORDER BY id LIMIT ?",
            (after_id, name, name, max(limit, 0))).fetchall()
        return [StoredPrivate(*r) for r in rows]

    def recent_privates(self, n: int) -> list[StoredPrivate]:
        """The newest ``n`` private lines, oldest first (a client's own copy holds only its own)."""
        rows = self._conn.execute("SELECT at, sender, to_name, text, flags, id FROM privates"
                                  " ORDER BY id DESC LIMIT ?", (max(n, 0),)).fetchall()
        return [StoredPrivate(*r) for r in reversed(rows)]

    def recent_origins(self, n: int) -> list[tuple[bytes, int, int]]:
        """(origin, msg_id, seq) of the newest ``n`` lines that carry one, oldest first: what
        a restarted server must recognise if a client sends them again."""
        rows = self._conn.execute("SELECT origin, msg_id, seq FROM lines WHERE origin != x''"
                                  " ORDER BY seq DESC LIMIT ?", (max(n, 0),)).fetchall()
        return [(bytes(o), i, s) for o, i, s in reversed(rows)]

    def search(self, words: str, limit: int) -> list[StoredLine]:
        """Room lines holding every word (each as a word prefix with FTS5, as a
        substring without), accents and case ignored, newest first."""
        if self.fts and self._unindexed:
            self.index_pending()
        return search_lines(self._conn, self.fts, words, limit)

    def _lines(self, tail: str, args: tuple) -> list[StoredLine]:
        return _lines(self._conn, tail, args)


def search_lines(conn: sqlite3.Connection, fts: bool, words: str, limit: int) -> list[StoredLine]:
    """:meth:`HistoryStore.search` on any connection to the file: a reader of its own
    searches on another thread while the socket thread writes (WAL lets both)."""
    terms = _words(words)
    if not terms or limit <= 0:
        return []
    if fts:
        match = " ".join('"' + t.replace('"', '""') + '"*' for t in terms)
        return _lines(
            conn,
            # the newest matches straight from the index, not every match sorted
            "WHERE seq IN (SELECT rowid FROM lines_fts WHERE lines_fts MATCH ?"
            " ORDER BY rowid DESC LIMIT ?) ORDER BY seq DESC", (match, limit))
    where = " AND ".join(["folded LIKE ? ESCAPE '\\'"] * len(terms))
    pats = ["%" + re.sub(r"([\\%_])", r"\\\1", fold(t)) + "%" for t in terms]
    return _lines(conn, f"WHERE {where} ORDER BY seq DESC LIMIT ?", (*pats, limit))


def _lines(conn: sqlite3.Connection, tail: str, args: tuple) -> list[StoredLine]:
    rows = conn.execute(f"SELECT seq, at, sender, text, flags, origin, msg_id FROM lines {tail}", args)
    return [StoredLine(*r) for r in rows.fetchall()]


# --- helpers -------------------------------------------------------------------------

class _transaction:
    """BEGIN IMMEDIATE ... COMMIT, ROLLBACK on any error (the connection is in autocommit
    mode so every transaction is one we opened on purpose)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, *rest: object) -> None:
        if kind is None:
            self.conn.execute("COMMIT")
        elif self.conn.in_transaction:
            self.conn.execute("ROLLBACK")


def _connect(path: Path) -> sqlite3.Connection:
    """Open and check the file; raises sqlite3.DatabaseError when it is damaged."""
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        # WAL + synchronous=NORMAL: a commit is in the WAL file when COMMIT returns, so a
        # crash of the process (kill -9) loses nothing committed: every line a sender saw
        # acknowledged survives. What NORMAL gives up is the fsync at each commit, so a
        # crash of the operating system or a power cut may lose the last transactions
        # (never corrupting the file). We keep NORMAL: FULL would put one fsync in every
        # loop turn of the socket thread, which also runs retransmission timers (tens of
        # ms on a laptop disk or Windows, throttling the whole room), to guard against
        # power loss on the server machine, after which the room itself is gone too and
        # its members have the last lines on their own screens.
        conn.execute("PRAGMA synchronous=NORMAL")
        result = conn.execute("PRAGMA quick_check(1)").fetchone()     # the first problem only
        if result is None or result[0] != "ok":
            raise sqlite3.DatabaseError(f"quick_check: {result[0] if result else 'no answer'}")
    except BaseException:
        conn.close()
        raise
    return conn


def _create(conn: sqlite3.Connection, fts: bool, now: float) -> None:
    """The tables, the room row (a new random room_id) and, with FTS5, its index."""
    # executescript commits on its own, so the schema is created statement by statement
    # inside our own transaction instead.
    with _transaction(conn):
        for stmt in _statements(_SCHEMA):
            conn.execute(stmt)
        if conn.execute("SELECT 1 FROM room").fetchone() is None:
            conn.execute("INSERT INTO room(one, room_id, created, last_seq) VALUES (1, ?, ?, 0)",
                         (secrets.token_hex(8), now))
        # Files from before lines carried their origin (this release's first builds).
        have = {row[1] for row in conn.execute("PRAGMA table_info(lines)")}
        if "fts_upto" not in {row[1] for row in conn.execute("PRAGMA table_info(room)")}:
            conn.execute("ALTER TABLE room ADD COLUMN fts_upto INTEGER NOT NULL DEFAULT 0")
            conn.execute("UPDATE room SET fts_synced = 0")     # rebuilt below, and fts_upto set
        if "origin" not in have:
            conn.execute("ALTER TABLE lines ADD COLUMN origin BLOB NOT NULL DEFAULT x''")
            conn.execute("ALTER TABLE lines ADD COLUMN msg_id INTEGER NOT NULL DEFAULT 0")
        # Files from before the index was filled in bulk kept it by triggers.
        conn.execute("DROP TRIGGER IF EXISTS lines_fts_ins")
        conn.execute("DROP TRIGGER IF EXISTS lines_fts_del")
        conn.execute("DROP TRIGGER IF EXISTS lines_pending")
        has_fts = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE name = 'lines_fts'").fetchone() is not None
        if fts:
            for stmt in _statements(_FTS):
                conn.execute(stmt)
            synced = conn.execute("SELECT fts_synced FROM room").fetchone()[0]
            if not has_fts or not synced:
                # A new index over old lines, or one that still holds lines a Python without
                # FTS5 forgot by age: rebuilt from the lines table.
                conn.execute("INSERT INTO lines_fts(lines_fts) VALUES ('rebuild')")
                conn.execute("DELETE FROM fts_pending")
                conn.execute("UPDATE room SET fts_synced = 1, fts_upto = (SELECT ifnull(max(seq), 0) FROM lines)")
        else:
            # The LIKE fallback reads ``folded``, which lines written with FTS5 leave empty.
            conn.create_function("lanchat_folded", 2, _folded, deterministic=True)
            conn.execute("UPDATE lines SET folded = lanchat_folded(sender, text) WHERE folded = ''")


def _folded(sender: str, text: str) -> str:
    return fold(sender) + "\n" + fold(text)


def _statements(script: str) -> list[str]:
    """Split a script on the semicolons that end statements (a trigger's body holds its own)."""
    out, cur = [], []
    for line in script.strip().splitlines():
        cur.append(line)
        joined = "\n".join(cur).strip()
        if joined.endswith(";") and sqlite3.complete_statement(joined):
            out.append(joined)
            cur = []
    return out


def _move_aside(path: Path, now: float) -> Path:
    """Rename the damaged file and its -wal/-shm to ``<name>.corrupt-<UTC time>``."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(now))
    base = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while base.exists():
        n += 1
        base = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
    for suffix in ("", "-wal", "-shm"):
        src = Path(str(path) + suffix)
        if src.exists():
            os.replace(src, Path(str(base) + suffix))
    return base
