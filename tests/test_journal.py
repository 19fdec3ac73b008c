"""The history's journal (udpnet/journal.py): a turn's lines safe from a crash before they
are relayed, and the store taking them back after one."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from udpnet import history, journal
from udpnet.history import HistoryStore, StoredLine, StoredPrivate
from udpnet.journal import JOURNAL_NAME, Journal, decode, encode

pytestmark = pytest.mark.timeout(30)

NOW = 1_700_000_000.0


def lines(first: int, n: int, text: str = "linha") -> list[StoredLine]:
    return [StoredLine(seq, NOW + seq, "ana", f"{text} {seq} ção", seq % 3, b"o" * (seq % 9), seq * 7)
            for seq in range(first, first + n)]


def as_tuples(lns: list[StoredLine], at: float = NOW) -> list[tuple]:
    return [(x.seq, at, x.sender, x.text, x.flags, x.origin, x.msg_id) for x in lns]


# --- the records -------------------------------------------------------------------------

def test_records_read_back_exactly_and_say_how_far_they_went():
    data = encode(lines(1, 3), NOW)
    assert decode(data) == (as_tuples(lines(1, 3)), len(data))
    assert decode(data + bytes(8)) == (as_tuples(lines(1, 3)), len(data))       # the stop
    assert decode(b"") == ([], 0)


def test_a_record_cut_short_or_damaged_ends_the_reading_there():
    one, two = encode(lines(1, 1), NOW), encode(lines(2, 1), NOW)
    assert decode(one + two[:-1]) == (as_tuples(lines(1, 1)), len(one))       # cut by one byte
    assert decode(one + two[:7]) == (as_tuples(lines(1, 1)), len(one))        # a frame cut short
    flipped = bytearray(two)
    flipped[-1] ^= 1
    assert decode(one + bytes(flipped) + one)[0] == as_tuples(lines(1, 1))     # CRC: nothing after it
    assert decode(bytes(8) + one) == ([], 0)


def test_a_record_whose_lengths_disagree_or_whose_text_is_not_utf8_ends_the_reading():
    good = encode(lines(1, 1), NOW)
    payload = bytearray(good[8:])
    payload[-1 - len(b"o")] = payload[-1 - len(b"o")]         # untouched: still good
    assert decode(bytes(good))[0] == as_tuples(lines(1, 1))
    longer = bytes(payload) + b"x"                                           # one byte more than its fields
    framed = len(longer).to_bytes(4, "little") + zlib.crc32(longer).to_bytes(4, "little") + longer
    assert decode(framed) == ([], 0)
    bad = StoredLine(1, NOW, "ana", "x", 0)
    raw = bytearray(encode([bad], NOW))
    raw[-1] = 0xFF                                                           # the text's byte, not UTF-8
    body = bytes(raw[8:])
    framed = len(body).to_bytes(4, "little") + zlib.crc32(body).to_bytes(4, "little") + body
    assert decode(framed) == ([], 0)
    tiny = b"abc"                                                            # shorter than a head
    assert decode(len(tiny).to_bytes(4, "little") + zlib.crc32(tiny).to_bytes(4, "little") + tiny) == ([], 0)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_the_decoder_never_raises_on_anything(data):
    found, used = decode(data)
    assert 0 <= used <= len(data)
    assert decode(data[:used])[0] == found


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 2**40), st.text(max_size=24), st.text(max_size=300),
                          st.integers(0, 2**32 - 1), st.binary(max_size=16), st.integers(0, 2**32 - 1)),
                max_size=5))
def test_any_line_goes_in_and_comes_back(rows):
    lns = [StoredLine(seq, NOW, s, t, f, o, i) for seq, s, t, f, o, i in rows]
    assert decode(encode(lns, NOW + 1.5)) == (as_tuples(lns, NOW + 1.5), len(encode(lns, NOW + 1.5)))


# --- the file ------------------------------------------------------------------------------

def test_nothing_is_made_until_the_first_write(tmp_path):
    j = Journal(tmp_path)
    assert j.read() == [] and not (tmp_path / JOURNAL_NAME).exists()
    j.reset()
    assert not (tmp_path / JOURNAL_NAME).exists()
    assert j.write(lines(1, 2), NOW, may_restart=False)
    assert (tmp_path / JOURNAL_NAME).stat().st_size == journal.SIZE
    assert Journal(tmp_path).read() == as_tuples(lines(1, 2)) and j.upto == 2
    j.close()


def test_writes_follow_one_another_and_a_reset_empties_it(tmp_path):
    j = Journal(tmp_path)
    j.write(lines(1, 2), NOW, may_restart=False)
    j.write(lines(3, 1), NOW, may_restart=False)
    assert [r[0] for r in Journal(tmp_path).read()] == [1, 2, 3]
    j.reset()
    assert Journal(tmp_path).read() == [] and j.pos == 0
    j.write(lines(4, 1), NOW, may_restart=False)
    assert [r[0] for r in Journal(tmp_path).read()] == [4]
    j.close()


def test_when_full_it_starts_again_only_if_sqlite_holds_everything(tmp_path):
    j = Journal(tmp_path, size=len(encode(lines(1, 3), NOW)) + 8)    # room for exactly three records and the stop
    for seq in (1, 2, 3):
        assert j.write(lines(seq, 1), NOW, may_restart=False)
    assert [r[0] for r in j.read()] == [1, 2, 3]
    assert j.write(lines(4, 1), NOW, may_restart=False) is False         # full: SQLite first
    assert [r[0] for r in j.read()] == [1, 2, 3] and j.upto == 3
    assert j.write(lines(4, 1), NOW, may_restart=True)                    # from the top
    assert [r[0] for r in j.read()] == [4] and j.pos == len(encode(lines(4, 1), NOW))   # the old ones are not read
    assert j.write(lines(5, 4), NOW, may_restart=True) is False           # bigger than the whole file
    j.close()


def test_a_file_from_before_of_another_size_is_made_anew(tmp_path):
    (tmp_path / JOURNAL_NAME).write_bytes(b"\x01" * 100)
    j = Journal(tmp_path)
    assert j.read() == []                                 # a length of 0x01010101: cut short
    j.write(lines(1, 1), NOW, may_restart=False)
    assert (tmp_path / JOURNAL_NAME).stat().st_size == journal.SIZE
    assert [r[0] for r in Journal(tmp_path).read()] == [1]
    j.close()


# --- the store around it -----------------------------------------------------------------

def test_the_store_journals_then_appends_and_a_clean_close_leaves_nothing_to_take(tmp_path):
    s = HistoryStore.open(tmp_path, now=NOW)
    assert s.journal(lines(1, 2), NOW)
    assert s.last_seq() == 0                           # not in SQLite yet
    assert s.append(lines(1, 2))
    s.close()
    assert Journal(tmp_path).read() == []
    with HistoryStore.open(tmp_path, now=NOW) as again:
        assert again.last_seq() == 2


def test_a_store_without_a_journal_says_so(tmp_path):
    mem = HistoryStore.in_memory(now=NOW)
    assert mem.journal(lines(1, 1), NOW) is True            # its lines die with the process anyway
    s = HistoryStore.open(tmp_path, now=NOW)
    assert s.journal([], NOW) is False
    s._journal = None                                  # as a store built by hand
    assert s.journal(lines(1, 1), NOW) is False
    s.close()


def test_a_journal_that_cannot_be_made_sends_the_lines_to_sqlite_first(tmp_path):
    (tmp_path / "sub").mkdir()
    s = HistoryStore.open(tmp_path / "sub", now=NOW)
    (tmp_path / "sub" / JOURNAL_NAME).mkdir()          # a folder where the file should be
    assert s.journal(lines(1, 1), NOW) is False
    s.close()


def test_the_journal_starts_again_only_once_sqlite_holds_what_it_has(tmp_path, monkeypatch):
    s = HistoryStore.open(tmp_path, now=NOW)
    s._journal = Journal(tmp_path, size=len(encode(lines(1, 2), NOW)) + 8)
    assert s.journal(lines(1, 1), NOW) and s.journal(lines(2, 1), NOW)
    assert s.journal(lines(3, 1), NOW) is False             # full, and SQLite has neither yet
    assert s.append(lines(1, 3))
    assert s.journal(lines(4, 1), NOW) is True              # now it may start again
    assert [r[0] for r in Journal(tmp_path).read()] == [4]
    s.close()


KILLED = """
import os, signal, sys
sys.path.insert(0, {root!r})
from udpnet.history import HistoryStore, StoredLine
s = HistoryStore.open({folder!r}, now={now})
assert s.append([StoredLine(i, {now}, 'ana', f'said {{i}}', 0, b'orig', i) for i in range(1, 4)])
assert s.journal([StoredLine(i, {now}, 'ana', f'said {{i}}', 0, b'orig', i) for i in range(1, 4)], {now}) is True
assert s.journal([StoredLine(i, {now}, 'bia', f'relayed {{i}}', 0, b'', 0) for i in range(4, 7)], {now}) is True
os.kill(os.getpid(), signal.SIGKILL)       # after relaying 4..6, before SQLite took them
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_lines_journalled_but_not_in_sqlite_when_the_server_dies_are_stored_at_the_next_open(tmp_path):
    root = os.path.dirname(os.path.dirname(os.path.abspath(history.__file__)))
    proc = subprocess.run([sys.executable, "-c", KILLED.format(root=root, folder=str(tmp_path), now=NOW)],
                          timeout=20)
    assert proc.returncode == -signal.SIGKILL
    with HistoryStore.open(tmp_path, now=NOW) as s:
        assert s.last_seq() == 6                        # the next line is 7: no number given twice
        assert [(ln.seq, ln.sender, ln.text) for ln in s.after(0, 10)] == \
            [(1, "ana", "said 1"), (2, "ana", "said 2"), (3, "ana", "said 3"),
             (4, "bia", "relayed 4"), (5, "bia", "relayed 5"), (6, "bia", "relayed 6")]
        assert [ln.seq for ln in s.search("relayed", 10)] == [6, 5, 4]
        assert s.recent_origins(10) == [(b"orig", 1, 1), (b"orig", 2, 2), (b"orig", 3, 3)]
    assert Journal(tmp_path).read() == []              # taken, so not taken again


def test_journalled_lines_sqlite_refused_stay_in_the_journal_for_the_next_open(tmp_path):
    from tests.test_history_store import RefusingConnection
    s = HistoryStore.open(tmp_path, now=NOW)
    assert s.append(lines(1, 1))
    assert s.journal(lines(2, 2), NOW)
    real = s._conn
    s._conn = RefusingConnection(real, "database or disk is full")
    assert s.append(lines(2, 2)) is False
    s._conn = real
    assert s.journal(lines(4, 1), NOW) is True              # appended, not started again over 2 and 3
    assert s.append(lines(4, 1)) is True               # 2, 3 lost to SQLite for now...
    s.close()
    assert [r[0] for r in Journal(tmp_path).read()] == [2, 3, 4]       # ...not to the journal
    with HistoryStore.open(tmp_path, now=NOW) as again:
        assert [ln.seq for ln in again.after(0, 10)] == [1, 2, 3, 4]
    assert Journal(tmp_path).read() == []


def test_privates_are_never_journalled(tmp_path):
    with HistoryStore.open(tmp_path, now=NOW) as s:
        with pytest.raises(AttributeError):
            s.journal([StoredPrivate(NOW, "ana", "bia", "psiu")], NOW)    # type: ignore[list-item]
