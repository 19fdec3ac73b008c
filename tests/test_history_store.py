"""The room's history store (udpnet/history.py): numbering, reading, search with and
without FTS5, retention, the folder's lock, damaged files and a refusing disk."""
from __future__ import annotations

import importlib.util
import os
import sqlite3
import subprocess
import sys
import time
import types

import pytest

from udpnet import history
from udpnet.history import (HistoryGap, HistoryInUse, HistoryStore, StoredLine, StoredPrivate,
                            fold)

pytestmark = pytest.mark.timeout(30)

NOW = 1_700_000_000.0
DAY = 86400.0


def lines(first: int, n: int, at: float = NOW, sender: str = "ana", text: str = "line") -> list[StoredLine]:
    return [StoredLine(seq, at, sender, f"{text} {seq}") for seq in range(first, first + n)]


@pytest.fixture
def store(tmp_path):
    s = HistoryStore.open(tmp_path, now=NOW)
    yield s
    s.close()


@pytest.fixture(params=["fts5", "like"])
def either(request, tmp_path, monkeypatch):
    """A store with FTS5, and one whose probe failed (the LIKE fallback)."""
    if request.param == "like":
        monkeypatch.setattr(history, "_probe_fts5", lambda conn: False)
    s = HistoryStore.open(tmp_path, now=NOW)
    assert s.fts is (request.param == "fts5")
    yield s
    s.close()


# --- opening, the room row -------------------------------------------------------------

def test_a_new_store_is_empty_and_has_a_room_id(store, tmp_path):
    assert store.last_seq() == 0
    assert len(store.room_id) == 16 and int(store.room_id, 16) >= 0
    assert store.after(0, 10) == [] and store.last(10) == [] and store.before(5, 10) == []
    assert store.search("anything", 10) == [] and store.privates_for("ana", 0, 10) == []
    assert store.notice is None and store.paused is False
    assert (tmp_path / "history.sqlite3").exists()


def test_wal_and_synchronous_normal(store):
    assert store._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store._conn.execute("PRAGMA synchronous").fetchone()[0] == 1     # NORMAL


def test_reopen_keeps_room_id_lines_and_privates(tmp_path):
    s = HistoryStore.open(tmp_path, now=NOW)
    rid = s.room_id
    assert s.append([*lines(1, 3), StoredPrivate(NOW, "ana", "bob", "psst")])
    s.close()
    s = HistoryStore.open(tmp_path, now=NOW + 5)
    try:
        assert s.room_id == rid and s.last_seq() == 3
        assert [ln.seq for ln in s.after(0, 10)] == [1, 2, 3]
        assert [p.text for p in s.privates_for("bob", 0, 10)] == ["psst"]
    finally:
        s.close()


def test_two_folders_are_two_rooms(tmp_path):
    a = HistoryStore.open(tmp_path / "a", now=NOW)
    b = HistoryStore.open(tmp_path / "b", now=NOW)
    try:
        assert a.room_id != b.room_id
    finally:
        a.close()
        b.close()


def test_a_file_that_cannot_be_opened_is_a_typed_error_and_frees_the_lock(tmp_path):
    (tmp_path / "history.sqlite3").mkdir()                 # a folder where the file should be
    with pytest.raises(history.HistoryUnavailable):
        HistoryStore.open(tmp_path, now=NOW)
    assert (tmp_path / "history.sqlite3").is_dir()         # not "moved aside": not damaged
    (tmp_path / "history.sqlite3").rmdir()
    HistoryStore.open(tmp_path, now=NOW).close()           # the lock was let go


def test_keep_days_must_be_positive(tmp_path):
    with pytest.raises(ValueError):
        HistoryStore.open(tmp_path, keep_days=0, now=NOW)


# --- numbering -------------------------------------------------------------------------

def test_append_continues_the_numbering(store):
    assert store.append(lines(1, 2))
    assert store.append(lines(3, 1))
    assert store.last_seq() == 3
    assert store.append([])             # an empty loop turn writes nothing, and is fine
    assert store.last_seq() == 3


@pytest.mark.parametrize("batch", [
    [StoredLine(2, NOW, "ana", "skips one")],                   # starts past last+1
    [StoredLine(0, NOW, "ana", "before the first")],            # starts at or below last
    [StoredLine(1, NOW, "ana", "a"), StoredLine(3, NOW, "ana", "gap inside")],
    [StoredLine(1, NOW, "ana", "a"), StoredLine(1, NOW, "ana", "twice")],
])
def test_a_gap_is_refused_and_nothing_of_the_batch_is_written(store, batch):
    with pytest.raises(HistoryGap):
        store.append([StoredPrivate(NOW, "ana", "bob", "with it"), *batch])
    assert store.last_seq() == 0 and store.after(0, 10) == []
    assert store.privates_for("ana", 0, 10) == []
    assert store.append(lines(1, 1))                              # and the right one is taken


def test_a_repeated_number_after_a_batch_is_refused(store):
    store.append(lines(1, 3))
    with pytest.raises(HistoryGap):
        store.append(lines(3, 1))
    assert store.last_seq() == 3


def test_privates_do_not_take_room_numbers(store):
    assert store.append([StoredPrivate(NOW, "ana", "bob", "p1"), *lines(1, 1),
                         StoredPrivate(NOW, "bob", "ana", "p2")])
    assert store.last_seq() == 1
    assert store.append(lines(2, 1))


def test_append_refuses_other_things(store):
    with pytest.raises(TypeError):
        store.append(["not a line"])     # type: ignore[list-item]


# --- reading ---------------------------------------------------------------------------

def test_after_before_last_at_their_edges(store):
    store.append(lines(1, 10))
    seqs = lambda ls: [ln.seq for ln in ls]
    assert seqs(store.after(0, 3)) == [1, 2, 3]
    assert seqs(store.after(8, 100)) == [9, 10]
    assert store.after(10, 5) == [] and store.after(0, 0) == [] and store.after(0, -1) == []
    assert seqs(store.last(3)) == [8, 9, 10]                  # newest three, oldest first
    assert seqs(store.last(100)) == list(range(1, 11))
    assert store.last(0) == []
    assert seqs(store.before(5, 2)) == [3, 4]
    assert seqs(store.before(3, 10)) == [1, 2]
    assert store.before(1, 10) == [] and store.before(5, 0) == []
    assert seqs(store.before(11, 1)) == [10]
    ln = store.after(0, 1)[0]
    assert ln == StoredLine(1, NOW, "ana", "line 1", 0)


def test_privates_only_for_their_two_parties(store):
    store.append([StoredPrivate(NOW, "ana", "bob", "one"), StoredPrivate(NOW, "bob", "ana", "two"),
                  StoredPrivate(NOW, "cid", "dee", "three"), StoredPrivate(NOW, "ana", "cid", "four", flags=2)])
    assert [p.text for p in store.privates_for("ana", 0, 10)] == ["one", "two", "four"]
    assert [p.text for p in store.privates_for("bob", 0, 10)] == ["one", "two"]
    assert [p.text for p in store.privates_for("eve", 0, 10)] == []
    assert [p.text for p in store.privates_for("Ana", 0, 10)] == []          # exact names
    first = store.privates_for("ana", 0, 1)
    assert [p.text for p in first] == ["one"] and first[0].id > 0
    assert [p.text for p in store.privates_for("ana", first[0].id, 10)] == ["two", "four"]
    assert store.privates_for("ana", 0, 10)[-1].flags == 2


# --- search ----------------------------------------------------------------------------

def test_fold():
    assert fold("Ação") == "acao" and fold("CAFÉ") == "cafe" and fold("ﬁ") == "fi"


def test_search_ignores_accents_both_ways(either):
    either.append([StoredLine(1, NOW, "ana", "Ação rápida"), StoredLine(2, NOW, "bob", "um cafe?"),
                   StoredLine(3, NOW, "cid", "Café com leite"), StoredLine(4, NOW, "dee", "nada")])
    texts = lambda ls: [ln.text for ln in ls]
    assert texts(either.search("acao", 10)) == ["Ação rápida"]
    assert texts(either.search("AÇÃO", 10)) == ["Ação rápida"]
    assert texts(either.search("cafe", 10)) == ["Café com leite", "um cafe?"]      # newest first
    assert texts(either.search("café", 10)) == ["Café com leite", "um cafe?"]
    assert texts(either.search("cafe", 1)) == ["Café com leite"]
    assert texts(either.search("cafe leite", 10)) == ["Café com leite"]            # every word
    assert texts(either.search("cid", 10)) == ["Café com leite"]                   # the sender too
    assert texts(either.search("ca\u0301fe\u0301", 10)) == ["Café com leite", "um cafe?"]  # decomposed
    assert either.search("zebra", 10) == [] and either.search("cafe", 0) == []


@pytest.mark.parametrize("hostile", ['"', '""', '*', 'AND', 'OR NOT', 'NEAR(a b)', 'a"b', '"cafe',
                                     'cafe*', '(cafe', 'sender:cafe', '-cafe', '^cafe', '%', '_',
                                     '\\', "'; DROP TABLE lines; --", '', '   ', '{sender}: x'])
def test_hostile_search_strings_never_raise(either, hostile):
    either.append([StoredLine(1, NOW, "ana", "Café AND tea"), StoredLine(2, NOW, "bob", "100% a_b")])
    result = either.search(hostile, 10)
    assert isinstance(result, list)
    assert either.last_seq() == 2 and len(either.after(0, 10)) == 2


def test_hostile_strings_still_find_their_words(either):
    either.append([StoredLine(1, NOW, "ana", "Café AND tea"), StoredLine(2, NOW, "bob", "plain")])
    for q in ('"cafe', 'cafe*', '(cafe)', 'AND', '-tea'):
        assert [ln.seq for ln in either.search(q, 10)] == [1], q
    assert either.search("%", 10) == [] and either.search("_", 10) == []   # no LIKE wildcards


def test_lines_written_without_fts5_are_found_when_it_is_back(tmp_path, monkeypatch):
    s = HistoryStore.open(tmp_path, now=NOW)
    s.append([StoredLine(1, NOW, "ana", "primeiro")])
    s.close()
    monkeypatch.setattr(history, "_probe_fts5", lambda conn: False)
    s = HistoryStore.open(tmp_path, now=NOW)
    assert s.append([StoredLine(2, NOW, "ana", "Ação sem índice")])
    assert [ln.seq for ln in s.search("acao", 10)] == [2]
    s.close()
    monkeypatch.undo()
    s = HistoryStore.open(tmp_path, now=NOW)
    try:
        assert s.fts
        assert [ln.seq for ln in s.search("acao", 10)] == [2]
        assert [ln.seq for ln in s.search("primeiro", 10)] == [1]
    finally:
        s.close()


# --- retention -------------------------------------------------------------------------

def test_retention_forgets_old_lines_and_keeps_the_numbering(tmp_path):
    s = HistoryStore.open(tmp_path, keep_days=2, now=NOW)
    try:
        s.append([*lines(1, 3, at=NOW - 3 * DAY, text="old"), *lines(4, 2, at=NOW, text="new"),
                  StoredPrivate(NOW - 3 * DAY, "ana", "bob", "old p"), StoredPrivate(NOW, "ana", "bob", "new p")])
        assert s.forget_older_than(NOW) == 3
        assert [ln.seq for ln in s.after(0, 10)] == [4, 5]
        assert [p.text for p in s.privates_for("ana", 0, 10)] == ["new p"]
        if s.fts:
            assert s.search("old", 10) == []                # the index forgot them too
        assert [ln.seq for ln in s.search("new", 10)] == [5, 4]
        assert s.forget_older_than(NOW + 10 * DAY) == 2     # everything
        assert s.after(0, 10) == [] and s.last(5) == []
        assert s.last_seq() == 5
        assert s.append(lines(6, 1))
        with pytest.raises(HistoryGap):
            s.append(lines(1, 1))
    finally:
        s.close()
    s = HistoryStore.open(tmp_path, keep_days=2, now=NOW)
    try:
        assert s.last_seq() == 6                            # and across a restart
    finally:
        s.close()


def test_retention_edge_is_kept(tmp_path):
    s = HistoryStore.open(tmp_path, keep_days=1, now=NOW)
    try:
        s.append([StoredLine(1, NOW - DAY - 1, "ana", "older"), StoredLine(2, NOW - DAY, "ana", "exactly")])
        assert s.forget_older_than(NOW) == 1
        assert [ln.text for ln in s.after(0, 10)] == ["exactly"]
    finally:
        s.close()


# --- the folder's lock -----------------------------------------------------------------

def test_a_second_store_on_the_folder_is_refused_until_the_first_closes(tmp_path):
    first = HistoryStore.open(tmp_path, now=NOW)
    with pytest.raises(HistoryInUse) as info:
        HistoryStore.open(tmp_path, now=NOW)
    assert info.value.path == tmp_path
    first.append(lines(1, 1))                   # the refused opener did not disturb it
    first.close()
    first.close()                               # closing twice is harmless
    second = HistoryStore.open(tmp_path, now=NOW)
    try:
        assert second.last_seq() == 1
    finally:
        second.close()


def test_context_manager_releases_the_lock(tmp_path):
    with HistoryStore.open(tmp_path, now=NOW) as s:
        s.append(lines(1, 1))
    with HistoryStore.open(tmp_path, now=NOW) as s:
        assert s.last_seq() == 1


# --- damaged files ---------------------------------------------------------------------

def test_a_file_that_is_not_a_database_is_moved_aside(tmp_path):
    junk = b"this is not a database at all " * 200
    (tmp_path / "history.sqlite3").write_bytes(junk)
    (tmp_path / "history.sqlite3-wal").write_bytes(b"stale wal")
    s = HistoryStore.open(tmp_path, now=NOW)
    try:
        assert s.notice and "moved aside" in s.notice
        aside = sorted(tmp_path.glob("history.sqlite3.corrupt-*"))
        names = {p.name for p in aside}
        assert "history.sqlite3.corrupt-20231114-221320" in names
        # SQLite itself deletes a -wal it cannot use when the connection closes; what
        # matters is that nothing of the old file is replayed into the new one.
        wal = tmp_path / "history.sqlite3-wal"
        assert not wal.exists() or wal.read_bytes() != b"stale wal"
        assert (tmp_path / "history.sqlite3.corrupt-20231114-221320").read_bytes() == junk
        assert s.last_seq() == 0 and s.append(lines(1, 2))          # a fresh store that works
        assert [ln.seq for ln in s.search("line", 10)] == [2, 1]
    finally:
        s.close()
    with HistoryStore.open(tmp_path, now=NOW) as s:
        assert s.notice is None and s.last_seq() == 2


def test_a_database_failing_quick_check_is_moved_aside(tmp_path):
    with HistoryStore.open(tmp_path, now=NOW) as s:
        s.append(lines(1, 2000, text="x" * 200))
        rid = s.room_id
    path = tmp_path / "history.sqlite3"
    data = bytearray(path.read_bytes())
    assert len(data) > 40 * 4096
    for page in range(3, len(data) // 4096, 2):                  # scribble over every other page
        data[page * 4096 + 8: page * 4096 + 200] = b"\xff" * 192
    path.write_bytes(bytes(data))
    s = HistoryStore.open(tmp_path, now=NOW)
    try:
        assert s.notice and "moved aside" in s.notice
        assert "\n" not in s.notice and len(s.notice) < 250          # a sentence, not a report
        assert s.room_id != rid and s.last_seq() == 0
        assert s.append(lines(1, 1))
    finally:
        s.close()


def test_moving_aside_twice_in_one_second_keeps_both(tmp_path):
    for _ in range(2):
        (tmp_path / "history.sqlite3").write_bytes(b"garbage" * 1000)
        HistoryStore.open(tmp_path, now=NOW).close()
    assert len(list(tmp_path.glob("history.sqlite3.corrupt-*"))) == 2


# --- a disk that says no ---------------------------------------------------------------

class RefusingConnection:
    """Stands for the store's connection: every INSERT fails as a full disk does, or
    (``after``) the executemany writes that many rows and then fails."""

    def __init__(self, real: sqlite3.Connection, error: str = "database or disk is full",
                 after: int | None = None) -> None:
        self.real, self.error, self.after = real, error, after

    def execute(self, sql, args=()):
        if sql.lstrip().upper().startswith(("INSERT", "DELETE")):
            raise sqlite3.OperationalError(self.error)
        return self.real.execute(sql, args)

    def executemany(self, sql, rows):
        if self.after is None:
            raise sqlite3.OperationalError(self.error)
        for i, row in enumerate(rows):
            if i == self.after:
                raise sqlite3.OperationalError(self.error)
            self.real.execute(sql, row)

    @property
    def in_transaction(self):
        return self.real.in_transaction

    def close(self):
        self.real.close()


@pytest.mark.parametrize("error", ["database or disk is full", "disk I/O error"])
def test_a_full_disk_pauses_history_and_the_room_goes_on(store, error):
    real = store._conn
    assert store.append(lines(1, 2))
    store._conn = RefusingConnection(real, error)
    assert store.append(lines(3, 2)) is False
    assert store.paused is True and store.last_seq() == 2
    assert store.append(lines(5, 1)) is False                    # still full
    store._conn = real                                            # space again
    assert store.append(lines(6, 1)) is True                     # 3..5 are known lost
    assert store.paused is False and store.last_seq() == 6
    assert [ln.seq for ln in store.after(0, 10)] == [1, 2, 6]
    with pytest.raises(HistoryGap):                               # gapless again once unpaused
        store.append(lines(8, 1))


def test_while_paused_numbers_still_may_not_go_back(store):
    store.append(lines(1, 2))
    real = store._conn
    store._conn = RefusingConnection(real)
    store.append(lines(3, 1))
    store._conn = real
    with pytest.raises(HistoryGap):
        store.append(lines(2, 1))


def test_ten_thousand_lines_are_one_transaction(store):
    statements: list[str] = []
    store._conn.set_trace_callback(statements.append)
    assert store.append(lines(1, 10_000))
    store._conn.set_trace_callback(None)
    marks = [i for i, s in enumerate(statements) if s in ("BEGIN IMMEDIATE", "COMMIT")]
    inserts = [i for i, s in enumerate(statements) if s.startswith("INSERT INTO lines(")]
    assert marks[0] < min(inserts) and max(inserts) < marks[1]           # the lines: one transaction
    # With FTS5, a batch this big is then indexed in a second one of its own (FTS_BATCH).
    assert len(marks) == (4 if store.fts else 2)
    assert store.last_seq() == 10_000 and len(store.after(0, 20_000)) == 10_000


def test_the_index_is_filled_in_batches_and_before_a_search(tmp_path):
    s = HistoryStore.open(tmp_path, now=NOW)
    try:
        assert s.fts
        waiting = lambda: s._conn.execute(                                   # noqa: E731
            "SELECT count(*) FROM lines WHERE seq > (SELECT fts_upto FROM room)"
            " OR seq IN (SELECT seq FROM fts_pending)").fetchone()[0]
        s.append(lines(1, history.FTS_BATCH - 1))
        assert waiting() == history.FTS_BATCH - 1                           # not indexed line by line
        assert [ln.seq for ln in s.search("999", 3)] == [999] and waiting() == 0        # a search indexes first
        s.append(lines(history.FTS_BATCH, history.FTS_BATCH))
        assert waiting() == 0                                               # a full batch indexes itself
        s.append(lines(2 * history.FTS_BATCH, 5))
    finally:
        s.close()
    s = HistoryStore.open(tmp_path, now=NOW)                              # what waited is found after a restart
    try:
        assert [ln.seq for ln in s.search(f"line {2 * history.FTS_BATCH + 4}", 1)] == [2 * history.FTS_BATCH + 4]
    finally:
        s.close()


def test_lines_forgotten_while_waiting_for_the_index_leave_no_trace(tmp_path):
    s = HistoryStore.open(tmp_path, keep_days=1, now=NOW)
    try:
        s.append(lines(1, 3, at=NOW - 2 * DAY, text="velho"))
        s.index_pending()
        s.append(lines(4, 2, at=NOW - 2 * DAY, text="velho"))                # still waiting
        s.append(lines(6, 1, at=NOW, text="novo"))
        assert s.forget_older_than(NOW) == 5
        assert s.search("velho", 10) == [] and [ln.seq for ln in s.search("novo", 10)] == [6]
        assert s._conn.execute("SELECT count(*) FROM fts_pending").fetchone()[0] == 0
    finally:
        s.close()


def test_ten_thousand_lines_failing_half_way_leave_nothing(store):
    store.append(lines(1, 1))
    real = store._conn
    store._conn = RefusingConnection(real, after=5_000)
    assert store.append([*lines(2, 10_000), StoredPrivate(NOW, "ana", "bob", "p")]) is False
    store._conn = real
    assert store.last_seq() == 1
    assert [ln.seq for ln in store.after(0, 20_000)] == [1]
    assert store.privates_for("ana", 0, 10) == []
    assert not real.in_transaction
    if store.fts:
        assert store.search("line", 10) == [StoredLine(1, NOW, "ana", "line 1")]
    assert store.append(lines(2, 10_000)) and store.paused is False


def test_a_bug_of_ours_is_raised_not_paused(store):
    with pytest.raises(sqlite3.Error):
        store.append([StoredLine(1, NOW, "ana", "text", object())])   # type: ignore[arg-type]
    assert store.paused is False and store.last_seq() == 0 and store.after(0, 5) == []
    assert not store._conn.in_transaction


def test_search_limit_keeps_the_newest(either):
    either.append(lines(1, 50))
    assert [ln.seq for ln in either.search("line", 3)] == [50, 49, 48]
    assert [ln.seq for ln in either.search("lin", 100)][:2] == [50, 49]     # a word's beginning
    assert len(either.search("line", 1000)) == 50


def test_retention_on_a_refusing_disk_forgets_nothing_and_does_not_raise(tmp_path):
    s = HistoryStore.open(tmp_path, keep_days=1, now=NOW)
    try:
        s.append(lines(1, 2, at=NOW - 5 * DAY))
        real = s._conn
        s._conn = RefusingConnection(real, "disk I/O error")
        assert s.forget_older_than(NOW) == 0
        s._conn = real
        assert not real.in_transaction and len(s.after(0, 10)) == 2
        assert s.forget_older_than(NOW) == 2                 # the next sweep does it
    finally:
        s.close()


def test_on_windows_the_lock_is_msvcrt_and_fcntl_is_never_imported(tmp_path, monkeypatch):
    """Load the module as Windows would (no fcntl there) against a stand-in msvcrt that
    behaves like LK_NBLCK: a second lock on the same file fails until it is unlocked."""
    held: dict[int, int] = {}          # inode -> fd holding it

    def locking(fd: int, mode: int, nbytes: int) -> None:
        inode = os.fstat(fd).st_ino
        if mode == fake.LK_NBLCK:
            if inode in held:
                raise PermissionError(13, "locked")
            held[inode] = fd
        elif mode == fake.LK_UNLCK and held.get(inode) == fd:
            del held[inode]

    fake = types.ModuleType("msvcrt")
    fake.LK_UNLCK, fake.LK_NBLCK = 0, 2
    fake.locking = locking
    monkeypatch.setitem(sys.modules, "msvcrt", fake)
    monkeypatch.setitem(sys.modules, "fcntl", None)          # import fcntl -> ImportError
    monkeypatch.setattr(sys, "platform", "win32")
    spec = importlib.util.spec_from_file_location("history_as_on_windows", history.__file__)
    win = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, win)           # dataclasses look it up
    spec.loader.exec_module(win)
    monkeypatch.undo()
    first = win.HistoryStore.open(tmp_path, now=NOW)
    assert len(held) == 1
    with pytest.raises(win.HistoryInUse):
        win.HistoryStore.open(tmp_path, now=NOW)
    first.close()
    assert held == {}
    win.HistoryStore.open(tmp_path, now=NOW).close()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_kill_9_after_append_loses_nothing_committed(tmp_path):
    """What WAL + synchronous=NORMAL promises: a process crash right after append
    returns True loses none of it (the lock dies with the process, too)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(history.__file__)))
    script = (
        "import os, signal, sys\n"
        f"sys.path.insert(0, {root!r})\n"
        "from udpnet.history import HistoryStore, StoredLine, StoredPrivate\n"
        f"s = HistoryStore.open({str(tmp_path)!r}, now={NOW})\n"
        f"assert s.append([StoredLine(i, {NOW}, 'ana', f'said {{i}}') for i in range(1, 501)])\n"
        f"assert s.append([StoredLine(501, {NOW}, 'ana', 'the last'), StoredPrivate({NOW}, 'ana', 'bob', 'p')])\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n")
    proc = subprocess.run([sys.executable, "-c", script], timeout=20)
    assert proc.returncode == -9
    with HistoryStore.open(tmp_path, now=NOW) as s:
        assert s.notice is None and s.last_seq() == 501
        assert [ln.text for ln in s.last(2)] == ["said 500", "the last"]
        assert [p.text for p in s.privates_for("bob", 0, 5)] == ["p"]
        assert [ln.seq for ln in s.search("last", 5)] == [501]


def test_a_clients_copy_indexes_lines_of_any_number_once(tmp_path):
    s = HistoryStore.open(tmp_path, now=NOW)
    try:
        s.append(lines(100, 5, text="depois"), gaps=True)
        s.index_pending()
        s.append(lines(10, 3, text="antes"), gaps=True)          # an older page, below what is indexed
        s.append(lines(100, 5, text="depois"), gaps=True)        # and the same lines again
        assert [ln.seq for ln in s.search("antes", 10)] == [12, 11, 10]
        assert [ln.seq for ln in s.search("depois", 10)] == [104, 103, 102, 101, 100]
        assert s._conn.execute("SELECT count(*) FROM lines_fts WHERE lines_fts MATCH 'depois'").fetchone()[0] == 5
    finally:
        s.close()


def test_the_number_survives_a_restart_without_being_written_each_turn(tmp_path):
    s = HistoryStore.open(tmp_path, now=NOW)
    s.append(lines(1, 7))
    assert s._conn.execute("SELECT last_seq FROM room").fetchone()[0] == 0      # not written per turn
    s._lock and None
    s.close()
    s = HistoryStore.open(tmp_path, now=NOW)
    try:
        assert s.last_seq() == 7
    finally:
        s.close()


# --- the WAL is checkpointed aside (udpnet/checkpointer.py) --------------------------------------

def _line(seq: int) -> StoredLine:
    return StoredLine(seq, 1000.0 + seq, "ana", f"line {seq} of the room, a typical chat line", 0, b"", 0)


def test_a_turns_commit_never_checkpoints_the_wal(tmp_path):
    """SQLite's own checkpoint ran inside the commit that took the log past 1,000 pages:
    on the socket thread, 10-13 ms every ~500 lines. The store's connection must not."""
    s = HistoryStore.open(tmp_path, now=1000.0)
    try:
        assert s._conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
        s._checkpointer.close()                        # nobody checkpoints now
        page = s._conn.execute("PRAGMA page_size").fetchone()[0]
        for seq in range(1, 1201):                     # a turn each: at least a page each
            assert s.append([_line(seq)])
        assert os.path.getsize(tmp_path / (history.DB_NAME + "-wal")) > 1100 * page
    finally:
        s.close()


def test_a_thread_checkpoints_soon_after_lines_come_and_stops_with_the_store(tmp_path, monkeypatch):
    monkeypatch.setattr(history.Checkpointer.__init__, "__defaults__", (0.05,))     # every 50 ms
    s = HistoryStore.open(tmp_path, now=1000.0)
    cp = s._checkpointer
    assert cp.runs == 0
    for seq in range(1, 51):
        s.append([_line(seq)])
    deadline = time.monotonic() + 10
    while not (cp.runs and cp.last[1] == cp.last[2] > 0) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert cp.runs >= 1 and cp.last[0] == 0 and cp.last[1] == cp.last[2] > 0     # every frame copied
    runs = cp.runs
    time.sleep(0.3)
    assert cp.runs == runs                             # nothing new said: no checkpoint
    s.close()
    assert not cp._thread.is_alive()
    assert not (tmp_path / (history.DB_NAME + "-wal")).exists()       # the last close cleaned up
    reopened = HistoryStore.open(tmp_path, now=1001.0)
    assert reopened.last_seq() == 50
    reopened.close()
