"""The history's journal: a turn's room lines made safe with one copy into memory before they are relayed.

A SQLite transaction (BEGIN / INSERT / COMMIT) costs the socket thread ~100 µs,
which at idle was as much as everything else a line costs the server, and a
line must be safe from a crash of the server before anyone sees it: a
restarted room must never give its number to another line. So each turn's
room lines are first copied into this file, mapped into memory (``mmap``,
shared: no system call; copying a record took 0.5 µs, or ~12 µs after 2 ms idle,
where a ``write`` of it took 2 µs, or ~33 µs after idle, on the test machine), and relayed; SQLite takes them in the same turn,
once they are on their way.

Safe from what: what is copied into a shared file mapping belongs to the
operating system's cache as soon as it is written, so a crash of the process
(``kill -9``) loses none of it — the promise SQLite's WAL with
``synchronous=NORMAL`` makes for the history itself. A power cut may lose the
last records, as it may lose the WAL's last commits; a record cut short or
damaged is recognised by its length and CRC-32, and the journal is read up to it.

The file is SIZE bytes, written from the start round and round: when the next
records do not fit, and SQLite holds every line written so far, they start
again at offset 0. Eight zero bytes always follow the last record, so a reader
stops there; older records beyond are never read. (Were one read, its number
is one SQLite already holds: it is skipped.)

A record: length (u32) · CRC-32 of the payload (u32) · payload, where the
payload is seq (u64) · at (f64) · flags (u32) · msg_id (u64) · the byte
lengths of sender, text and origin (u16 each) · sender · text · origin (UTF-8).
Only room lines are journalled: each has its number, so taking a record in
twice (a crash between SQLite's commit and the journal's reset) stores it once.
"""
from __future__ import annotations

import mmap
import os
import struct
import zlib
from pathlib import Path
from typing import Iterable, Protocol

JOURNAL_NAME = "history.journal"
SIZE = 1 << 20                 # bytes: about 10,000 typical lines before it starts again

_FRAME = struct.Struct("<II")
_HEAD = struct.Struct("<QdIQHHH")
_END = bytes(_FRAME.size)


class JournalLine(Protocol):
    """A room line as the engine hands it over (udpcore's ``Said``) or as the store keeps it."""
    seq: int
    sender: str
    text: str
    flags: int
    origin: bytes
    msg_id: int


def encode(lines: Iterable[JournalLine], at: float) -> bytes:
    """The records of ``lines``, one after another, each said at ``at`` (a turn's lines share it)."""
    out = []
    for ln in lines:
        sender, text = ln.sender.encode(), ln.text.encode()
        payload = _HEAD.pack(ln.seq, at, ln.flags, ln.msg_id, len(sender), len(text), len(ln.origin)) \
            + sender + text + ln.origin
        out.append(_FRAME.pack(len(payload), zlib.crc32(payload)))
        out.append(payload)
    return b"".join(out)


def decode(data: bytes) -> tuple[list[tuple[int, float, str, str, int, bytes, int]], int]:
    """The records at the start of ``data`` as (seq, at, sender, text, flags, origin, msg_id),
    up to the first one cut short or damaged, and how many bytes they take."""
    out, pos, end = [], 0, len(data)
    while pos + _FRAME.size <= end:
        size, crc = _FRAME.unpack_from(data, pos)
        body = pos + _FRAME.size
        if size < _HEAD.size or body + size > end:
            break
        payload = data[body:body + size]
        if zlib.crc32(payload) != crc:
            break
        seq, at, flags, msg_id, ns, nt, no = _HEAD.unpack_from(payload)
        if _HEAD.size + ns + nt + no != size:
            break
        i = _HEAD.size
        try:
            sender = payload[i:i + ns].decode()
            text = payload[i + ns:i + ns + nt].decode()
        except UnicodeDecodeError:
            break
        out.append((seq, at, sender, text, flags, payload[i + ns + nt:size], msg_id))
        pos = body + size
    return out, pos


class Journal:
    """The journal file of one history folder (which the store holds locked).
    The file is made and mapped on the first :meth:`write`: a store that never
    writes one (a client's copy) never makes it."""

    def __init__(self, folder: Path, size: int = SIZE) -> None:
        self.path = folder / JOURNAL_NAME
        self.size = size
        self._map: mmap.mmap | None = None
        self.pos = 0                  # where the next record goes
        self.upto = 0                 # the highest number written

    def read(self) -> list[tuple[int, float, str, str, int, bytes, int]]:
        """What a previous run left (nothing when the file is missing or unreadable)."""
        try:
            data = self.path.read_bytes()
        except OSError:
            return []
        return decode(data)[0]

    def write(self, lines: list[JournalLine], at: float, may_restart: bool) -> bool:
        """Copy ``lines``, said at ``at``, in. ``may_restart``: SQLite holds every line written so far, so
        the journal may start again from the top. False: they do not fit (then store them
        in SQLite first). Raises OSError when the file cannot be made or mapped."""
        data = encode(lines, at)
        if self._map is None:
            self._map = self._open()
        pos = self.pos
        if pos + len(data) + len(_END) > self.size:
            if not may_restart or len(data) + len(_END) > self.size:
                return False
            pos = 0
        end = pos + len(data)
        self._map[end:end + len(_END)] = _END        # the reader's stop, before the records
        self._map[pos:end] = data
        self.pos = end
        self.upto = max(self.upto, lines[-1].seq)
        return True

    def _open(self) -> mmap.mmap:
        # Read-write, not append mode: a mapping needs write access to the whole file
        # (on Windows an append-mode handle may lack it).
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o600)
        try:
            if os.fstat(fd).st_size < self.size:
                os.ftruncate(fd, 0)
                zeros = memoryview(bytes(self.size))  # blocks allocated now, not at a line's first copy
                while zeros:
                    zeros = zeros[os.write(fd, zeros):]
            return mmap.mmap(fd, self.size, access=mmap.ACCESS_WRITE)
        finally:
            os.close(fd)

    def reset(self) -> None:
        """Nothing in it any more: call only once SQLite holds every line written."""
        try:
            if self._map is not None:
                self._map[0:len(_END)] = _END
            elif self.path.exists():
                with open(self.path, "r+b") as f:
                    f.write(_END)
        except OSError:
            return                    # taken in again at the next open: stored once all the same
        self.pos = 0

    def close(self) -> None:
        if self._map is not None:
            self._map.close()
            self._map = None
