"""Abuse: well-behaved members' line latency while guests storm, members flood and a
crowd joins at once, against the same room without, measured in the same run on the same server.

    .venv/bin/python bench/bench_abuse.py [--quick] [--profile] [CHECKOUT ...]
    .venv/bin/python bench/bench_abuse.py --guests 0 --flooders 0 --join-storm 0   # A/A: no attack at all (the noise)

The server is the real headless program (``gui_server.py --headless``) of this
checkout, or of each CHECKOUT folder given (``git worktree add /tmp/base
950709f``, say), run one after the other, each from its own folder; the
members, the storm and the flood are always this checkout's bench code, and
speak the protocol version the server speaks (version 2, sealed, since issue
12; version 1, in clear, to a server that refuses version 2).

1. **baseline**: ``--members`` well-behaved members (8; lean members with the
   real handshake, each bound to its own loopback address 127.0.10.N) each say
   a line every ~250 ms (4 lines/s, within the 5 lines/s, burst 20, a member
   is to be allowed). Every line carries the ``time.time_ns()`` taken just
   before its ``sendto``; every other member reads the kernel's arrival stamp
   of the datagram that completed it (``SO_TIMESTAMPNS``), so the bench's own
   delay in reading never counts, but a retransmission does (the stamp is the
   first send's).
2. **under attack**: the same server, the same members going on, while
   - a **guest storm** (a process of its own): ``--guests`` sockets (300), each
     bound to its own address 127.0.G.H, send plain UTF-8 datagrams round robin
     as fast as one process can: mostly one short line each, every 64th a
     ~60 KB datagram of ~3,700 short lines, every 64th (offset 32) one
     2,000-character line; it never reads what the server sends back (small
     receive buffers: the kernel drops it);
   - a **member flood** (another process): ``--flooders`` joined members (2)
     say lines as fast as the protocol lets them (up to 128 unacknowledged,
     under the server's 256-fragment receive window), acknowledge what the
     server sends, skip anything they cannot decode, and join again (as
     ``floodN-rK``) when the server resets or drops them.
   Both attackers run at ``--attack-nice`` (10): on this 2-core machine they
   stand for machines elsewhere, taking the CPU the room leaves rather than the
   server's (their CPU share and rates are reported, so the attack's strength
   is on record).
   The attack is on and off in turns of ``--slice`` seconds (1; the attackers
   are SIGSTOPped in the off slices) until it has been on for ``--attack``
   seconds: "the same room without" (the off slices, "between attacks") is then
   measured at the same times as the attack, which matters here: this
   machine's p95 of ~1 ms moves 2-3x with its neighbours' load (with no attack
   at all, ``--guests 0 --flooders 0``, one 10 s window against the next gave
   0.4x-3.4x). The ratio goal is judged against the off slices, or against the
   baseline when the room never recovered between them (a note says when the
   off slices were themselves over 2x the baseline).
3. **after**: the attackers stopped; the members go on (does the room recover?).
4. **join storm** (``--join-storm``, 1,000; 0 skips it), on a fresh server of
   the same checkout (what the storm and the flood left behind, an older
   server's backlog or its dropped members, is not measured again): the members
   join, a baseline of their own (``join-baseline``, 4 s with --quick), then
   they go on while another process (nice ``--attack-nice``) joins that many members as fast as
   it can, with the real handshake (HELLO padded to 200 bytes, the CHALLENGE's
   token echoed; since version 2 a fresh X25519 key per join, the server's
   confirmation checked and a sealed PING, ``bench.lean_member.Handshake``;
   ``JOIN_WINDOW`` handshakes in flight, a handshake unanswered for 5 s given
   up): first ``--join-burst`` (40) from one address, 127.0.30.1, more than the
   server's 32 per address (refused HOST_FULL), then ``--joins-per-address`` (4)
   from each of 127.0.31.1, 127.0.31.2, … (so the per-address cap is not what
   stops them; the room's 500 is, refused FULL; since version 2 the server's 50
   key agreements a second come first: a handshake over that rate gets no
   answer and is repeated).
   Each admitted member stays for the phase (``--join-seconds``, 10; 6 with
   --quick), acknowledging everything and answering PINGs, saying nothing.
   Reported: joins attempted, admitted (and how fast), refused by code,
   unanswered, the storm's members dropped; the JOINED and CROWD notices each
   well-behaved member received per second (and the joins the CROWDs counted);
   the server's CPU and RSS; the members' p50/p95/max against the baseline, and
   split at the moment every join had been answered (the joins themselves /
   the room they filled). Then the members fall silent until their last lines
   have arrived (at most 5 s) and the storm's process is stopped; its sessions
   just go quiet (no LEAVE). An older server admits everyone and names every
   join to everyone: all of it is reported, every wait bounded.

Per phase: latency p50 / p95 / max over every (line, receiver) pair of lines
*sent* in that phase (a line that never arrived counts as infinitely late, so a
p95 of "never" means more than 5 % never arrived); junk lines that reached each
member's screen per second (lines from ``guest-…`` senders and from the
flooders, counted when they arrive); JOINED and CROWD notices per member per
second; members dropped (a LEFT naming them, or a
RESET/BYE to them); the server's CPU and RSS. Every wait is bounded: a server
that chokes, dies or drops everyone is reported, never waited for.

The server's RSS with 5,000 members is the scale bench's figure
(``bench/bench_scale.py``), not measured here.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import TextIO

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import lean_wire as lw  # noqa: E402
from bench.lean_crypto import DecryptError  # noqa: E402
from bench.lean_member import Handshake, LeanMember, server_version  # noqa: E402
from bench.loopback import LOOPBACK, SO_TIMESTAMPNS, Addr, raise_fd_limit, stamp_sockets, udp_socket  # noqa: E402
from bench.measure import CpuMeter, cpu_seconds, percentile  # noqa: E402
from bench.processes import PY, ROOT, ServerProcess, spawn, stop_process  # noqa: E402
from bench.processes import label as checkout_label  # noqa: E402
from bench.profiling import Profile, summarise  # noqa: E402
from bench.results import Result, main_for, ms, rate  # noqa: E402

GOAL_FACTOR = 2.0           # p95 under attack within 2x the same room's p95 without
GOAL_P95 = 0.050            # and under 50 ms
SAY_EVERY = 0.25            # each well-behaved member: a line every ~250 ms
FLOOD_WINDOW = 128          # a flooder's unacknowledged lines (the server buffers 256 ahead)
JOINED = 21                 # chat message: guest(1) · name text16 · address text16
LEFT = 22                   # chat message: name text16 · reason text16
CROWD = 30                  # chat message: joined u32 · left u32 (joins counted, not named; newer servers)
REFUSE_CODES = {1: "NAME_TAKEN", 2: "NAME_INVALID", 3: "VERSION", 4: "FULL", 5: "BANNED", 6: "HOST_FULL",
                7: "LOCKED", 8: "TOO_MANY_GUESSES"}
JOIN_WINDOW = 128           # the join storm's handshakes in flight at once
FLAG_MORE = 0x01
MASK = 0xFFFFFFFF
PHASES = ("set-up", "baseline", "attack", "after", "between attacks", "join storm", "after the join storm")
_TIMESPEC = struct.Struct("qq")
_U16 = struct.Struct("!H")
_U32 = struct.Struct("!I")


def loopback_host(block: int, i: int) -> str:
    """The i-th address of 127.0.BLOCK.1 … (250 per third octet)."""
    return f"127.0.{block + i // 250}.{1 + i % 250}"


def socket_drops(addrs: list[Addr]) -> int:
    """Datagrams the kernel dropped at these sockets (full receive buffer): /proc/net/udp's last column."""
    want = {f"{socket.inet_aton(h)[::-1].hex().upper()}:{port:04X}" for h, port in addrs}
    total = 0
    try:
        with open("/proc/net/udp") as f:
            next(f)
            for line in f:
                parts = line.split()
                if len(parts) >= 13 and parts[1] in want:
                    total += int(parts[-1])
    except (OSError, ValueError, StopIteration):
        pass
    return total


def text16(buf: bytes, pos: int) -> tuple[str, int]:
    n = _U16.unpack_from(buf, pos)[0]
    return buf[pos + 2:pos + 2 + n].decode("utf-8", "replace"), pos + 2 + n


# --- members --------------------------------------------------------------------------


class Member(LeanMember):
    """A lean member on its own loopback address that notices being dropped (RESET,
    BYE) and skips whatever it cannot decode. ``whole=True``: it also reassembles
    messages and hands LINE and LEFT to ``rec`` with the kernel's arrival stamp."""

    __slots__ = ("host", "whole", "rec", "partial", "partial_size", "dropped", "undecoded", "due", "idx")

    def __init__(self, name: str, server: Addr, host: str, rcvbuf: int, whole: bool = False,
                 rec: "Recorder | None" = None, passphrase: str = "") -> None:
        super().__init__(name, server, rcvbuf, host, passphrase)
        self.host = host
        self.whole = whole
        self.rec = rec
        if whole:
            stamp_sockets(self.sock)
        self.partial: list[bytes] = []
        self.partial_size = 0
        self.dropped = ""           # why the server let it go, once it did
        self.undecoded = 0
        self.due = 0.0
        self.idx = 0

    def drain(self, now: float, limit: int = 4096) -> int:
        sock = self.sock
        n = 0
        while n < limit:
            try:
                if self.whole:
                    data, anc, _flags, _addr = sock.recvmsg(65535, 64)
                    stamp = 0
                    for level, kind, raw in anc:
                        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                            sec, nsec = _TIMESPEC.unpack_from(raw)
                            stamp = sec * 1_000_000_000 + nsec
                    stamp = stamp or time.time_ns()
                else:
                    data, stamp = sock.recv(65535), 0
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                break
            n += 1
            try:
                self._datagram(data, now, stamp)
            except (struct.error, IndexError, ValueError):
                self.undecoded += 1
        self.received += n
        return n

    def _datagram(self, data: bytes, now: float, stamp: int) -> None:
        if self.opener is not None:                     # version 2: sealed, or a RESET in clear
            if data[:5] == lw.SEALED_PREFIX:
                try:
                    data = self.opener(data)
                except DecryptError:
                    self.undecryptable += 1
                    return
            elif data[:5] == lw.RESET_PREFIX:
                if data[5:13] == lw.NO_SESSION and not self.dropped:
                    self.dropped = "reset"
                return
            else:
                self.undecoded += 1
                return
        self._packet(data, now, stamp)

    def _inner(self, data: bytes, now: float) -> None:
        """The first packet of the session, opened by the handshake (bench.lean_member.Handshake)."""
        self._packet(data, now, time.time_ns())

    def _packet(self, data: bytes, now: float, stamp: int) -> None:
        if data[:4] != self.prefix:
            self.undecoded += 1
            return
        t = data[4]
        if t == lw.DATA:
            _, _, sid, seq, ack, _sack, flags, echo_ts, _echo = lw.DATA_HDR.unpack_from(data)
            if sid != self.session:
                return
            self.echo_ts, self.echo_at = echo_ts, now
            self._acked_to(ack, now)
            self.need_ack = True
            self._in_order(seq, flags, data[lw.PAYLOAD_AT:], stamp)
        elif t == lw.FRAMES:                            # version 3: several fragments in one datagram
            sid, ack, echo_ts, fragments = lw.frames(data)
            if sid != self.session:
                return
            self.echo_ts, self.echo_at = echo_ts, now
            self._acked_to(ack, now)
            self.need_ack = True
            for seq, flags, start, length in fragments:
                self._in_order(seq, flags, data[start:start + length], stamp)
        elif t == lw.ACK:
            _, _, sid, ack, _sack, _echo = lw.ACK_PKT.unpack_from(data)
            if sid == self.session:
                self._acked_to(ack, now)
        elif t == lw.PING:
            self.need_ack = True
        elif t in (lw.BYE, lw.RESET):                   # version 2: BYE sealed; version 1: both in clear
            if data[5:13] == self.session and not self.dropped:
                self.dropped = "reset" if t == lw.RESET else "bye"
        else:
            self.undecoded += 1

    def _in_order(self, seq: int, flags: int, frag: bytes, stamp: int) -> None:
        """One fragment from the server: taken when it is the next, else counted as a gap."""
        if seq == self.expect:
            self.expect = (seq + 1) & MASK
            if self.whole:
                self._fragment(frag, flags, stamp)
            elif not flags & FLAG_MORE and frag[:1] == bytes([lw.LINE]):
                self.lines += 1
        elif ((seq - self.expect) & MASK) < 0x80000000:
            self.gaps += 1              # ahead: left to the server's retransmission

    def _fragment(self, frag: bytes, flags: int, stamp: int) -> None:
        if flags & FLAG_MORE:
            self.partial.append(frag)
            self.partial_size += len(frag)
            if self.partial_size > 1 << 18:          # nonsense: forget it
                self.partial.clear()
                self.partial_size = 0
            return
        if self.partial:
            frag = b"".join(self.partial) + frag
            self.partial.clear()
            self.partial_size = 0
        if not frag:
            return
        kind = frag[0]
        if kind == lw.LINE:
            self.lines += 1
            flags_ = frag[1]
            sender, pos = text16(frag, 10)
            _to, pos = text16(frag, pos)
            text, _ = text16(frag, pos)
            if self.rec is not None:
                self.rec.line(self, flags_, sender, text, stamp)
        elif kind == LEFT and self.rec is not None:
            name, pos = text16(frag, 1)
            reason, _ = text16(frag, pos)
            self.rec.left(name, reason)
        elif kind == JOINED and self.rec is not None:
            self.rec.joined[self.rec.phase][self.name] += 1
        elif kind == CROWD and self.rec is not None:
            self.rec.crowd[self.rec.phase][self.name] += 1
            self.rec.crowd_joins[self.rec.phase][self.name] += _U32.unpack_from(frag, 1)[0]


class Recorder:
    """Latencies of the well-behaved members' lines, by the phase they were sent in,
    and the junk reaching their screens, by the phase it arrived in."""

    def __init__(self, names: list[str], flood_prefix: str) -> None:
        self.names = set(names)
        self.flood_prefix = flood_prefix
        self.phase = 0
        self.lat: dict[int, list[float]] = {i: [] for i in range(len(PHASES))}
        self.expected: Counter[int] = Counter()
        self.got: Counter[int] = Counter()
        self.junk_guest: dict[int, Counter[str]] = {i: Counter() for i in range(len(PHASES))}
        self.junk_flood: dict[int, Counter[str]] = {i: Counter() for i in range(len(PHASES))}
        self.other: Counter[int] = Counter()
        # join notices reaching each member, by the phase they arrived in: JOINED (one name each),
        # CROWD (one a second at most) and the joins the CROWDs counted
        self.joined: dict[int, Counter[str]] = {i: Counter() for i in range(len(PHASES))}
        self.crowd: dict[int, Counter[str]] = {i: Counter() for i in range(len(PHASES))}
        self.crowd_joins: dict[int, Counter[str]] = {i: Counter() for i in range(len(PHASES))}
        self.storm_lines: list[tuple[int, float]] = []   # the join storm's lines: (sent, latency)
        self.storm_t0 = 0                                # time.time_ns() when the join storm started
        self.dropped: dict[str, str] = {}        # member -> reason (and the phase it happened in)
        self.spent: Counter[int] = Counter()     # seconds spent in each phase (2 and 4 alternate)
        self.since = time.monotonic()
        self.dump: TextIO | None = None          # each line: phase, sent (ns since the epoch), latency ms, receiver

    def set_phase(self, i: int) -> None:
        now = time.monotonic()
        self.spent[self.phase] += now - self.since
        self.phase = i
        self.since = now

    def line(self, mem: Member, flags: int, sender: str, text: str, stamp: int) -> None:
        if flags & 4:                           # own: the echo of what it said
            return
        if sender.startswith("guest-"):
            self.junk_guest[self.phase][mem.name] += 1
        elif sender.startswith(self.flood_prefix):
            self.junk_flood[self.phase][mem.name] += 1
        elif sender in self.names:
            head = text.split(" ", 2)
            try:
                sent, phase = int(head[0]), int(head[1])
            except (ValueError, IndexError):
                self.other[self.phase] += 1
                return
            self.got[phase] += 1
            self.lat[phase].append((stamp - sent) / 1e9)
            if self.dump is not None:
                self.dump.write(f"{phase} {sent} {(stamp - sent) / 1e6:.3f} {mem.name}\n")
            if phase == 5:
                self.storm_lines.append((sent, (stamp - sent) / 1e9))
        else:
            self.other[self.phase] += 1

    def left(self, name: str, reason: str) -> None:
        if name in self.names and name not in self.dropped:
            self.dropped[name] = f"{reason} ({PHASES[self.phase]})"

    def member_dropped(self, mem: Member) -> None:
        if mem.name not in self.dropped:
            self.dropped[mem.name] = f"{mem.dropped} ({PHASES[self.phase]})"

    def seconds(self, i: int) -> float:
        return max(1e-9, self.spent[i] + (time.monotonic() - self.since if i == self.phase else 0.0))


class Room:
    """The well-behaved members, driven from this process with one epoll."""

    def __init__(self, server: Addr, n: int, rec: Recorder, say_every: float = SAY_EVERY,
                 passphrase: str = "") -> None:
        self.rec = rec
        self.say_every = say_every
        self.ep = select.epoll()
        self.members: list[Member] = []
        self.by_fd: dict[int, Member] = {}
        self.speaking = False
        self.said = 0
        try:
            for i in range(n):
                mem = Member(f"calm{i}", server, loopback_host(10, i), 4 << 20, whole=True, rec=rec,
                             passphrase=passphrase)
                mem.idx = i
                self.members.append(mem)
                self.by_fd[mem.fd] = mem
                mem.join(timeout=10)
                self.ep.register(mem.fd, select.EPOLLIN)
        except BaseException:
            self.close()
            raise
        now = time.monotonic()
        for i, mem in enumerate(self.members):
            mem.due = now + say_every * i / n         # spread over the period

    def live(self) -> list[Member]:
        return [m for m in self.members if m.name not in self.rec.dropped and not m.dropped]

    def say(self, mem: Member, now: float) -> None:
        live = len(self.live())
        self.rec.expected[self.rec.phase] += max(0, live - 1)
        mem.say(f"{time.time_ns()} {self.rec.phase} line {self.said} from {mem.name}", now)
        self.said += 1

    def drive(self, seconds: float, until=None) -> None:
        """Run the members for ``seconds`` (or until ``until()``)."""
        end = time.monotonic() + seconds
        members, by_fd, poll = self.members, self.by_fd, self.ep.poll
        next_check = 0.0
        while True:
            now = time.monotonic()
            if now >= end:
                return
            if until is not None and now >= next_check:
                if until():
                    return
                next_check = now + 0.02
            wait = end - now
            if self.speaking:
                for mem in members:
                    if mem.dropped or mem.name in self.rec.dropped:
                        continue
                    if now >= mem.due:
                        self.say(mem, now)
                        mem.due += self.say_every
                        if mem.due < now:             # fell far behind: no burst to catch up
                            mem.due = now + self.say_every
                    wait = min(wait, mem.due - now)
            for fd, _ in poll(max(0.0, min(wait, 0.005))):
                by_fd[fd].drain(time.monotonic())
            now = time.monotonic()
            for mem in members:
                if mem.dropped:
                    self.rec.member_dropped(mem)
                    continue
                if mem.need_ack:
                    mem.send_ack(now)
                mem.resend_if_stalled(now, 0.5)

    def close(self) -> None:
        for mem in self.members:
            if not mem.dropped:
                mem.leave()
            mem.close()
        self.ep.close()


# --- the attackers (each in a process of its own) --------------------------------------


class Stop:
    """SIGTERM ends a child's loop (it then writes what it did)."""

    def __init__(self) -> None:
        self.now = False
        signal.signal(signal.SIGTERM, self._set)

    def _set(self, *_a) -> None:
        self.now = True


def storm_child(args: dict) -> dict:
    server = (LOOPBACK, args["port"])
    stop = Stop()
    socks = [udp_socket(2048, loopback_host(1, i)) for i in range(args["guests"])]
    lines = [f"hi from guest {i}, nothing to say".encode() for i in range(len(socks))]
    bulk = b"".join(b"spam %05d eggs\n" % k for k in range(60_000 // 16))
    long_line = ("x" * 1990 + " the end").encode()
    Path(args["ready"]).write_text("ready")
    sent: Counter[str] = Counter()
    failed = 0
    lines_sent = 0
    bulk_lines = bulk.count(b"\n")
    deadline = time.monotonic() + args["seconds"]
    t0 = t_base = time.monotonic()
    n_base = 0
    j = 0
    n = len(socks)
    while not stop.now:
        for _ in range(256):
            k = j & 63
            i = j % n
            if k == 0:
                data, kind, nl = bulk, "bulk", bulk_lines
            elif k == 32:
                data, kind, nl = long_line, "long", 1
            else:
                data, kind, nl = lines[i], "line", 1
            j += 1
            try:
                socks[i].sendto(data, server)
            except OSError:
                failed += 1
                continue
            sent[kind] += 1
            lines_sent += nl
        now = time.monotonic()
        if now > deadline:
            break
        if args["rate"]:                              # --storm-rate: no faster than that
            count = sum(sent.values()) + failed
            ahead = t_base + (count - n_base) / args["rate"] - now
            if ahead > 0:
                time.sleep(ahead)
            elif ahead < -0.1:                        # resumed after a pause: no burst to catch up
                t_base, n_base = now, count
    spent = time.monotonic() - t0
    for s in socks:
        s.close()
    return {"seconds": spent, "sent": dict(sent), "lines": lines_sent, "failed": failed, "addresses": n}


def flood_child(args: dict) -> dict:
    server = (LOOPBACK, args["port"])
    stop = Stop()
    out = {"said": 0, "acked": 0, "joins": 0, "join_failures": [], "dropped": [], "undecoded": 0, "received": 0}
    ep = select.epoll()
    members: dict[int, Member] = {}
    rejoin_at: dict[int, float] = {}
    names = [f"{args['prefix']}{i}" for i in range(args["flooders"])]

    def join(i: int, name: str) -> None:
        mem = Member(name, server, loopback_host(20, i), 4 << 20)
        try:
            mem.join(timeout=3)
        except (RuntimeError, OSError) as exc:
            out["join_failures"].append(str(exc)[:200])
            mem.close()
            rejoin_at[i] = time.monotonic() + 1.0
            return
        out["joins"] += 1
        members[i] = mem
        ep.register(mem.fd, select.EPOLLIN)

    for i, name in enumerate(names):
        join(i, name)
    Path(args["ready"]).write_text("ready")
    deadline = time.monotonic() + args["seconds"]
    t0 = time.monotonic()
    filler = "flood " * 6
    by_fd = lambda fd: next((m for m in members.values() if m.fd == fd), None)  # noqa: E731
    blocked = False
    while not stop.now and time.monotonic() < deadline:
        # window full everywhere: wait for acks instead of spinning (the storm needs the CPU)
        for fd, _ in ep.poll(0.001 if blocked else 0):
            mem = by_fd(fd)
            if mem is not None:
                mem.drain(time.monotonic())
        now = time.monotonic()
        blocked = True
        for i in range(len(names)):
            mem = members.get(i)
            if mem is None:
                if now >= rejoin_at.get(i, 0.0):
                    join(i, f"{names[i]}-r{out['joins']}")
                continue
            if mem.dropped:
                out["dropped"].append(f"{mem.name}: {mem.dropped}")
                out["said"] += mem.msg_id
                out["acked"] += mem.acked
                out["received"] += mem.received
                ep.unregister(mem.fd)
                mem.close()
                del members[i]
                rejoin_at[i] = now + 0.2
                continue
            for _ in range(64):
                if mem.in_flight >= FLOOD_WINDOW:
                    break
                mem.say(f"{mem.msg_id} {filler}", now)
                blocked = False
            if mem.need_ack:
                mem.send_ack(now)
            mem.resend_if_stalled(now, 0.3)
    out["seconds"] = time.monotonic() - t0
    for mem in members.values():
        out["said"] += mem.msg_id
        out["acked"] += mem.acked
        out["received"] += mem.received
        out["undecoded"] += mem.undecoded
        mem.leave()
        mem.close()
    ep.close()
    return out


def join_hosts(n: int, burst: int, per_address: int) -> list[str]:
    """Where each of the join storm's ``n`` joins comes from: first ``burst`` from one address
    (127.0.30.1: more than --max-per-address, to be refused HOST_FULL), then ``per_address``
    from each of 127.0.31.1, 127.0.31.2, … (few enough that the per-address cap never stops them)."""
    hosts = [loopback_host(30, 0)] * min(n, burst)
    return hosts + [loopback_host(31, i // max(1, per_address)) for i in range(n - len(hosts))]


def join_child(args: dict) -> dict:
    """The join storm: ``joins`` members join as fast as the handshake allows (``JOIN_WINDOW``
    handshakes in flight), each on its own socket, then stay (acknowledging everything, answering
    PINGs) until told to stop. Nothing is said."""
    server = (LOOPBACK, args["port"])
    stop = Stop()
    go = [False]
    signal.signal(signal.SIGUSR1, lambda *_a: go.__setitem__(0, True))
    raise_fd_limit(args["joins"] + 64)
    hosts = join_hosts(args["joins"], args["burst"], args["per_address"])
    out: dict = {"attempted": 0, "admitted": 0, "refused": Counter(), "unanswered": 0, "dropped": Counter(),
                 "received": 0, "undecoded": 0, "admitted_at": [], "answered_s": None, "hosts": len(set(hosts)),
                 "burst_host": hosts[0] if hosts else "", "burst": min(args["joins"], args["burst"]),
                 "burst_admitted": 0, "burst_refused": Counter(), "bind_failed": 0}
    ep = select.epoll()
    pending: dict[int, Handshake] = {}
    held: dict[int, Member] = {}
    Path(args["ready"]).write_text("ready")
    wait_until = time.monotonic() + 30.0
    while not go[0] and not stop.now and time.monotonic() < wait_until:
        time.sleep(0.005)
    t0 = time.monotonic()
    deadline = t0 + args["seconds"]
    nxt = 0
    next_sweep = t0

    def finish(fd: int) -> Handshake:
        j = pending.pop(fd)
        ep.unregister(fd)
        if not pending and nxt >= len(hosts) and out["answered_s"] is None:
            out["answered_s"] = time.monotonic() - t0
        return j

    while not stop.now:
        now = time.monotonic()
        if now >= deadline:
            break
        while nxt < len(hosts) and len(pending) < JOIN_WINDOW:
            try:
                mem = Member(f"{args['prefix']}{nxt}", server, hosts[nxt], 256 << 10)
            except OSError:
                out["bind_failed"] += 1
                nxt += 1
                continue
            mem.idx = nxt
            ep.register(mem.fd, select.EPOLLIN)
            j = Handshake(mem, now, args["version"], retry=0.5)      # sends the first HELLO
            pending[mem.fd] = j
            nxt += 1
            out["attempted"] += 1
        for fd, _ in ep.poll(0.002):
            if stop.now or time.monotonic() >= deadline:
                break
            now = time.monotonic()
            mem = held.get(fd)
            if mem is not None:
                mem.drain(now, 32)
                if mem.dropped:
                    out["dropped"][mem.dropped] += 1
                    out["received"] += mem.received
                    out["undecoded"] += mem.undecoded
                    ep.unregister(fd)
                    del held[fd]
                    mem.close()
                elif mem.need_ack:
                    mem.send_ack(now)
                continue
            j = pending.get(fd)
            if j is None:
                continue
            mem = j.mem
            for _ in range(16):
                try:
                    data = mem.sock.recv(65535)
                except (BlockingIOError, InterruptedError):
                    break
                except OSError:                         # ICMP: nobody there (the server died)
                    break
                state = j.datagram(data, now)
                if state == "in":
                    finish(fd)
                    out["admitted"] += 1
                    out["admitted_at"].append(round(now - t0, 3))
                    if mem.host == out["burst_host"] and mem.idx < out["burst"]:
                        out["burst_admitted"] += 1
                    held[fd] = mem
                    ep.register(fd, select.EPOLLIN)
                    mem.drain(now, 32)                  # what came right behind
                    if mem.need_ack:
                        mem.send_ack(now)
                    break
                if state == "refused":
                    code = REFUSE_CODES.get(j.refused[0], str(j.refused[0]))
                    finish(fd)
                    out["refused"][code] += 1
                    if mem.idx < out["burst"]:
                        out["burst_refused"][code] += 1
                    mem.close()
                    break
        now = time.monotonic()
        if now >= next_sweep:                           # handshakes to repeat, or to give up on
            next_sweep = now + 0.05
            for fd, j in list(pending.items()):
                if now - j.started > args["join_timeout"]:
                    finish(fd)
                    out["unanswered"] += 1
                    j.mem.close()
                else:
                    j.tick(now)                         # HELLO or the sealed PING, when due
            for mem in held.values():                   # acks lost to a full buffer, stalled LEAVEs: none here
                if mem.need_ack:
                    mem.send_ack(now)
    out["seconds"] = time.monotonic() - t0
    out["still_joining"] = len(pending) + max(0, len(hosts) - nxt)
    out["held"] = len(held)
    for mem in held.values():
        out["received"] += mem.received
        out["undecoded"] += mem.undecoded
        mem.close()                                     # no LEAVE: their sessions just go quiet
    for j in pending.values():
        j.mem.close()
    ep.close()
    return out


def child_main(kind: str, spec: str) -> int:
    args = json.loads(spec)
    try:
        os.nice(args.get("nice", 0))
    except OSError:
        pass
    result = {"storm": storm_child, "flood": flood_child, "joins": join_child}[kind](args)
    Path(args["out"]).write_text(json.dumps(result))
    return 0


class Attacker:
    """A storm or flood child (``script --child KIND SPEC``, this file's by default): started,
    told to stop, its report read back."""

    def __init__(self, kind: str, tmp: Path, grace: float = 0.5, script: Path | None = None, **args) -> None:
        self.kind = kind
        self.grace = grace                                # to write its report once told to stop
        self.ready = tmp / f"{kind}.ready"
        self.out = tmp / f"{kind}.json"
        self.err_path = tmp / f"{kind}.err"
        self.err = open(self.err_path, "wb")
        spec = dict(args, ready=str(self.ready), out=str(self.out))
        self.p = spawn([PY, str(script or Path(__file__).resolve()), "--child", kind, json.dumps(spec)],
                       cwd=Path(__file__).resolve().parent.parent, stdout=subprocess.DEVNULL, stderr=self.err)
        self.meter: CpuMeter | None = None
        self.cpu = float("nan")

    def is_ready(self) -> bool:
        return self.ready.exists() or self.p.poll() is not None

    def start_meter(self) -> None:
        try:
            self.meter = CpuMeter(self.p.pid).start()
        except OSError:
            self.meter = None

    def go(self) -> None:
        """SIGUSR1: the join storm waits for it (so that it starts with its phase)."""
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGUSR1)

    def pause(self, paused: bool) -> None:
        """SIGSTOP / SIGCONT: the attack's off and on slices."""
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGSTOP if paused else signal.SIGCONT)

    def stop(self, on_time: float = 0.0) -> None:
        if self.meter is not None:
            try:
                used = self.meter.stop()[0]
                self.cpu = used / on_time if on_time > 0 else float("nan")
            except OSError:
                pass
            self.meter = None
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGCONT)            # a stopped process would hold SIGTERM
            self.p.send_signal(signal.SIGTERM)

    def done(self) -> bool:
        return self.p.poll() is not None

    def report(self) -> dict:
        stop_process(self.p, self.grace)
        self.err.close()
        try:
            return json.loads(self.out.read_text())
        except (OSError, ValueError):
            tail = self.err_path.read_text(errors="replace")[-600:] if self.err_path.exists() else ""
            return {"error": f"{self.kind} wrote no report (exit {self.p.returncode}): {tail.strip()}"}


# --- the server of a checkout ---------------------------------------------------------


class CheckoutServer(ServerProcess):
    """``gui_server.py --headless`` of another checkout, run from its folder."""

    def __init__(self, root: Path, close_grace: float = 2.0) -> None:
        self.close_grace = close_grace
        self._out = tempfile.NamedTemporaryFile(prefix="bench-server-", suffix=".log", delete=False)
        self.log_path = Path(self._out.name)
        self.p = spawn([PY, str(root / "gui_server.py"), "--headless", "--host", LOOPBACK, "--port", "0"],
                       cwd=root, stdout=self._out, stderr=subprocess.STDOUT)
        self.address = (LOOPBACK, self._wait_listening())


# --- one run --------------------------------------------------------------------------


def one_run(root: Path, opts: argparse.Namespace, durations: dict[str, float], joins: bool = False) -> dict:
    """Baseline, attack and after against the server of ``root``; the figures. ``joins``: on a
    fresh server of ``root``, a baseline and then the join storm instead."""
    flood_prefix = "flood"
    names = [f"calm{i}" for i in range(opts.members)]
    rec = Recorder(names, flood_prefix)
    out: dict = {"root": str(root), "notes": [], "members": opts.members}
    tmp = Path(tempfile.mkdtemp(prefix="bench-abuse-"))
    attackers: list[Attacker] = []
    srv = CheckoutServer(root)
    room = None
    cpu_s: Counter[int] = Counter()              # server CPU seconds, server socket drops, members' drops
    drops_srv: Counter[int] = Counter()
    drops_mem: Counter[int] = Counter()

    def rss() -> int:
        try:
            return srv.memory().get("VmRSS", 0)
        except OSError:
            return 0

    def server_cpu() -> float:
        try:
            return cpu_seconds(srv.pid)
        except OSError:                               # the server died
            return float("nan")

    def run_phase(i: int, seconds: float, until=None, speak_until: float | None = None) -> None:
        """Drive the members for ``seconds`` as phase i, adding up the server's CPU and drops."""
        rec.set_phase(i)
        c0, d0, m0 = server_cpu(), socket_drops([srv.address]), socket_drops(mine)
        room.drive(seconds, until)
        if speak_until is not None:
            room.speaking = False
            room.drive(speak_until)
        cpu_s[i] += server_cpu() - c0
        drops_srv[i] += socket_drops([srv.address]) - d0
        drops_mem[i] += socket_drops(mine) - m0

    def join_storm(out: dict) -> None:
        """Phase 5: the members go on talking while a process joins ``--join-storm`` members as
        fast as it can and keeps them; then (phase 6, not a row of its own) the members fall
        silent until their last lines have arrived, at most ``join-tail`` seconds."""
        joiner = Attacker("joins", tmp, grace=3.0, port=srv.address[1], nice=opts.attack_nice,
                          version=server_version(srv.address),
                          joins=opts.join_storm, burst=opts.join_burst, per_address=opts.joins_per_address,
                          prefix="join", join_timeout=5.0,
                          seconds=durations["joins"] + durations["join-tail"] + 10.0)   # a backstop
        attackers.append(joiner)
        room.drive(10.0, until=joiner.is_ready)
        if joiner.done() or not joiner.is_ready():
            out["joins"] = joiner.report()
            attackers.remove(joiner)
            return
        joiner.start_meter()
        out["rss_joins_before"] = peak = rss()
        rec.set_phase(5)
        rec.storm_t0 = time.time_ns()
        joiner.go()
        t0 = time.monotonic()
        while time.monotonic() - t0 < durations["joins"] - 1e-3 and srv.alive():
            run_phase(5, min(0.5, durations["joins"] - (time.monotonic() - t0)), until=lambda: not srv.alive())
            peak = max(peak, rss())
        out["joins_seconds"] = time.monotonic() - t0
        room.speaking = False                      # the lines said in the storm: until they arrive
        run_phase(6, durations["join-tail"],
                  until=lambda: not srv.alive() or (rec.got[5] >= rec.expected[5] and rec.got[1] >= rec.expected[1]))
        peak = max(peak, rss())
        out["join_tail_s"] = rec.seconds(6)
        out["rss_joins_peak"] = peak
        joiner.stop(time.monotonic() - t0)
        rep_ = joiner.report()
        attackers.remove(joiner)
        out["joins"] = dict(rep_, cpu=joiner.cpu)

    try:
        room = Room(srv.address, opts.members, rec)
        mine = [m.sock.getsockname() for m in room.members]
        room.drive(0.3)                                   # member list and join notices
        room.speaking = True
        rec.set_phase(0)
        room.drive(durations["warm-up"])
        if joins:
            run_phase(1, durations["join-baseline"], until=lambda: not srv.alive())
            out["rss_baseline"] = rss()
            if srv.alive():
                join_storm(out)
            return out
        run_phase(1, durations["baseline"], until=lambda: not srv.alive())
        out["rss_baseline"] = rss()
        # the attack
        rec.set_phase(0)                                  # setting up the attack: not measured
        common = {"port": srv.address[1], "nice": opts.attack_nice,
                  "seconds": 2 * durations["attack"] + 30.0}   # a backstop: they are stopped below
        t_wait = time.monotonic()
        if opts.flooders:                                 # the flooders join before the storm starts
            attackers.append(Attacker("flood", tmp, flooders=opts.flooders, prefix=flood_prefix, **common))
            room.drive(15.0, until=attackers[-1].is_ready)
        if opts.guests:
            attackers.append(Attacker("storm", tmp, guests=opts.guests, rate=opts.storm_rate, **common))
            room.drive(10.0, until=attackers[-1].is_ready)
        out["attackers_ready_s"] = time.monotonic() - t_wait
        for a in attackers:
            a.start_meter()
        prof = Profile(srv.pid, 2 * durations["attack"]) if opts.profile else None
        # on and off slices, alternating, so that "the same room without" is measured at the same
        # times as the attack (this machine's noise comes and goes by the second)
        on_time, peak, t0 = 0.0, 0, time.monotonic()
        while on_time < durations["attack"] - 1e-3 and srv.alive():
            if time.monotonic() - t0 > 3 * durations["attack"] + 10:
                break                                     # a backstop; every drive is bounded anyway
            n = min(opts.slice, durations["attack"] - on_time)
            for a in attackers:
                a.pause(False)
            t = time.monotonic()
            run_phase(2, n)
            on_time += time.monotonic() - t
            for a in attackers:
                a.pause(True)
            peak = max(peak, rss())
            if opts.slice < durations["attack"]:
                run_phase(4, n)
        out["rss_attack_peak"] = peak
        out["on_time"] = on_time
        out["slice"] = opts.slice
        for a in attackers:
            a.stop(on_time)
        run_phase(3, 3.0, until=lambda: all(a.done() for a in attackers))
        out["attack"] = {a.kind: dict(a.report(), cpu=a.cpu, on_time=on_time) for a in attackers}
        attackers = []
        if prof is not None:
            out["profile"] = summarise(prof.stacks(), 30)
        run_phase(3, max(0.0, durations["after"] - rec.seconds(3)), speak_until=durations["tail"])
        rec.set_phase(0)
        out["rss_end"] = rss()
        return out
    finally:
        rec.set_phase(0)
        out["server_alive"] = srv.alive()
        out["undecoded"] = sum(m.undecoded for m in room.members) if room is not None else 0
        for a in attackers:
            a.stop()
            a.report()
        if room is not None:
            room.close()
        srv.close()
        shutil.rmtree(tmp, ignore_errors=True)
        out["rec"] = rec
        out["cpu"] = {i: cpu_s[i] / rec.seconds(i) for i in (1, 2, 3, 4, 5)}
        out["drops"] = {i: (drops_srv[i], drops_mem[i]) for i in (1, 2, 3, 4, 5)}


# --- the report -----------------------------------------------------------------------


def p_with_missing(lat: list[float], missing: int, p: float) -> float:
    """The p-th percentile of the latencies, each line that never arrived counted as infinitely late."""
    values = sorted(lat) + [math.inf] * max(0, missing)
    if not values:
        return float("nan")
    k = (len(values) - 1) * p / 100
    if values[min(int(k) + 1, len(values) - 1)] == math.inf:
        return values[int(k)] if k == int(k) else math.inf
    return percentile(values, p)


def cell(seconds: float) -> str:
    return "never" if seconds == math.inf else ms(seconds)


def ratio_of(a: float, b: float) -> str:
    if a != a or b != b or b <= 0 or b == math.inf:
        return "-"
    return "∞" if a == math.inf else f"{a / b:.1f}x"


def mb(n: float) -> str:
    return f"{n / 1e6:.1f} MB"


ATTACK_ROWS = ((1, "baseline"), (4, "between attacks (attackers paused)"), (2, "under attack"),
               (3, "after the attack"))
JOIN_ROWS = ((1, "join storm's room (a fresh server): baseline"), (5, "during the join storm"))


def phase_rows(label: str, run: dict, n_members: int, titles=ATTACK_ROWS) -> tuple[list[tuple], dict]:
    rec: Recorder = run["rec"]
    rows, figs = [], {}
    base_p95 = between_p95 = None
    for i, title in titles:
        if i in (4, 5) and not rec.spent[i]:
            continue
        lat = rec.lat[i]
        missing = max(0, rec.expected[i] - rec.got[i])
        p50, p95 = p_with_missing(lat, missing, 50), p_with_missing(lat, missing, 95)
        if i == 1:
            base_p95 = p95
        elif i == 4:
            between_p95 = p95
        secs = rec.seconds(i)
        g = [rec.junk_guest[i][n] / secs for n in rec.names]
        f = [rec.junk_flood[i][n] / secs for n in rec.names]
        jn = [rec.joined[i][n] / secs for n in rec.names]
        cr = [rec.crowd[i][n] / secs for n in rec.names]
        cj = [rec.crowd_joins[i][n] / secs for n in rec.names]
        dropped = [f"{n}: {why}" for n, why in sorted(rec.dropped.items())
                   if f"({PHASES[i]})" in why or (i == 5 and f"({PHASES[6]})" in why)]
        ratio = "" if i == 1 else ratio_of(p95, base_p95)
        if i == 2 and between_p95 is not None:
            ratio += f" / {ratio_of(p95, between_p95)}"
        cpu = run.get("cpu", {}).get(i, float("nan"))
        d_srv, d_mem = run.get("drops", {}).get(i, (0, 0))
        rows.append((f"{label}{title}", f"{secs:.1f} s" + (f" in {run['slice']:g} s slices" if i in (2, 4) else ""), f"{len(lat):,} of {rec.expected[i]:,}",
                     cell(p50), cell(p95), cell(max(lat)) if lat else "-", ratio,
                     f"{sum(g) / len(g):,.0f} / {max(g):,.0f}", f"{sum(f) / len(f):,.0f} / {max(f):,.0f}",
                     f"{sum(jn) / len(jn):,.1f} / {sum(cr) / len(cr):,.1f}"
                     + (f" (counting {sum(cj) / len(cj):,.0f})" if sum(cj) else ""),
                     f"{len(dropped)} of {n_members}" + (f" ({'; '.join(dropped[:3])})" if dropped else ""),
                     "-" if cpu != cpu else f"{cpu:.0%}", f"{d_srv:,} / {d_mem:,}"))
        figs[i] = {"p95": p95, "p50": p50, "missing": missing, "dropped": len(dropped)}
    return rows, figs


def attack_row(label: str, run: dict) -> tuple:
    a = run.get("attack", {})
    s, f = a.get("storm", {}), a.get("flood", {})

    def per_s(d: dict, n: float) -> str:           # over the time the attack was on (not paused)
        t = d.get("on_time") or d.get("seconds")
        return rate(n / t) + "/s" if t else "-"
    storm = "-"
    if "error" in s:
        storm = s["error"][:120]
    elif s:
        sent = s.get("sent", {})
        storm = (f"{per_s(s, sum(sent.values()))} datagrams ({per_s(s, sent.get('bulk', 0))} of ~60 KB), "
                 f"{per_s(s, s['lines'])} lines, from {s['addresses']} addresses; CPU {s.get('cpu', 0):.0%}")
    flood = "-"
    if "error" in f:
        flood = f["error"][:120]
    elif f:
        flood = (f"{per_s(f, f['said'])} lines said, {per_s(f, f['acked'])} acknowledged; {f['joins']} joins"
                 + (f", {len(f['dropped'])} dropped" if f["dropped"] else "")
                 + (f", {len(f['join_failures'])} joins failed" if f["join_failures"] else "")
                 + f"; CPU {f.get('cpu', 0):.0%}")
    return (server_label(label, run), storm, flood,
            f"{mb(run.get('rss_baseline', 0))} -> {mb(run.get('rss_attack_peak', 0))} peak, "
            f"{mb(run.get('rss_end', 0))} after")


def server_label(label: str, run: dict) -> str:
    if label:
        return label.rstrip(": ")
    return "this checkout" if run.get("root") == str(ROOT) else run.get("root", "?")


def join_split(run: dict) -> str:
    """The join storm's lines that arrived, split at the moment every join had been answered:
    the joins themselves, then the room they filled."""
    rec: Recorder | None = run.get("rec")
    j = run.get("joins") or {}
    if rec is None or not rec.storm_lines or "attempted" not in j:
        return ""
    cut = j.get("answered_s")
    if cut is None:
        return (f"joins were still unanswered when the phase ended ({j.get('admitted', 0):,} admitted by "
                f"then): every line of the phase was said during the joins")
    edge = rec.storm_t0 + int(cut * 1e9)
    during = sorted(lat for sent, lat in rec.storm_lines if sent < edge)
    later = sorted(lat for sent, lat in rec.storm_lines if sent >= edge)
    room = j.get("held", 0) + run.get("members", 0)

    def p(v: list[float]) -> str:
        return f"p95 {cell(percentile(v, 95))}, max {cell(v[-1])} ({len(v):,} arrivals)" if v else "no lines"
    return (f"of the lines that arrived, those sent while the joins were being answered (the first "
            f"{cut:.1f} s): {p(during)}; those sent after, in the room of ~{room:,} they had filled: {p(later)}")


def join_row(label: str, run: dict, n_members: int) -> tuple:
    j = run.get("joins")
    if not j:
        return (server_label(label, run), "-", "-", "-", "-", "-", "-", "-", "-")
    if "error" in j:
        return (server_label(label, run), j["error"][:160], "-", "-", "-", "-", "-", "-", "-")
    rec: Recorder = run["rec"]
    refused = Counter(j.get("refused", {}))
    other = sum(v for k, v in refused.items() if k not in ("FULL", "HOST_FULL"))
    burst_ref = j.get("burst_refused", {})
    at = j.get("admitted_at", [])
    speed = "-"
    if at:
        speed = f"{len(at):,} in {at[-1]:.1f} s" + (f" ({len(at) / at[-1]:,.0f}/s)" if at[-1] > 0 else "")
    answered = j.get("answered_s")
    unanswered = j.get("unanswered", 0) + j.get("still_joining", 0)
    dropped = sum(j.get("dropped", {}).values())
    calm = sum(rec.joined[i][n] for i in (5, 6) for n in rec.names) / max(1, len(rec.names))
    crowd = sum(rec.crowd[i][n] for i in (5, 6) for n in rec.names) / max(1, len(rec.names))
    counted = sum(rec.crowd_joins[i][n] for i in (5, 6) for n in rec.names) / max(1, len(rec.names))
    cpu = run.get("cpu", {}).get(5, float("nan"))
    return (server_label(label, run),
            f"{j['attempted']:,} from {j['hosts']} addresses ({j['burst']} of them from {j['burst_host']})",
            speed + ("" if answered is None else f"; all answered in {answered:.1f} s"),
            f"{refused.get('FULL', 0):,} / {refused.get('HOST_FULL', 0):,}" + (f" / {other:,}" if other else "")
            + f" (from {j['burst_host']}: {j.get('burst_admitted', 0)} admitted, "
              f"{burst_ref.get('HOST_FULL', 0)} HOST_FULL)",
            f"{unanswered:,}",
            f"{dropped:,} of {j['admitted']:,} ({j.get('held', 0):,} still in at the end)",
            f"{calm:,.0f} JOINED, {crowd:,.0f} CROWD" + (f" counting {counted:,.0f} joins" if counted else ""),
            f"{'-' if cpu != cpu else f'{cpu:.0%}'} / {mb(run.get('rss_joins_before', 0))} -> "
            f"{mb(run.get('rss_joins_peak', 0))} peak",
            f"{j.get('cpu', float('nan')):.0%}")


def run(opts: argparse.Namespace) -> Result:
    res = Result("Abuse", "python bench/bench_abuse.py" + "".join(f" {r}" for r in opts.checkouts))
    roots = [Path(r).resolve() for r in opts.checkouts] or [ROOT]
    for r in roots:
        if not (r / "gui_server.py").exists():
            raise SystemExit(f"{r}: no gui_server.py here (give a project checkout)")
    durations = {"warm-up": 1.0, "baseline": 6.0 if opts.quick else 10.0, "attack": 8.0 if opts.quick else 10.0,
                 "after": 3.0 if opts.quick else 5.0, "tail": 1.5,
                 "join-baseline": 4.0 if opts.quick else 6.0, "joins": 6.0 if opts.quick else 10.0,
                 "join-tail": 5.0}
    for k in ("baseline", "attack", "after"):
        if getattr(opts, k):
            durations[k] = getattr(opts, k)
    if opts.join_seconds:
        durations["joins"] = opts.join_seconds
    raise_fd_limit(max(opts.guests, opts.join_storm) + opts.members + 256)
    runs = []
    for r in roots:
        label = "" if len(roots) == 1 else f"{checkout_label(r)}: "
        got = one_run(r, opts, durations)
        if opts.join_storm:                       # on a fresh server: not the attack's aftermath
            got["join_run"] = one_run(r, opts, durations, joins=True)
        runs.append((label, r, got))
    rows, attack_rows, join_rows = [], [], []
    last = None
    for label, r, got in runs:
        rr, figs = phase_rows(label, got, opts.members)
        rows += rr
        attack_rows.append(attack_row(label, got))
        jfigs = None
        if "join_run" in got:
            jr, jfigs = phase_rows(label, got["join_run"], opts.members, JOIN_ROWS)
            rows += jr
            join_rows.append(join_row(label, got["join_run"], opts.members))
            if not got["join_run"].get("server_alive", True):
                res.notes.append(f"{server_label(label, got)}: the server process died during the join storm.")
        if not got.get("server_alive", True):
            res.notes.append(f"{label or 'this checkout: '}the server process died during the run.")
        last = (label, figs, jfigs)
    res.add_table(
        f"Abuse: {opts.members} well-behaved members each saying a line every ~{SAY_EVERY * 1000:.0f} ms; "
        f"latency = the sender's sendto -> the kernel's arrival stamp at each other member, for the lines sent "
        f"in that phase (never arrived = infinitely late); junk = lines from guests / from the flooders that "
        f"reached a member, per second, mean / worst member; server CPU = share of one core",
        ("phase", "lasted", "lines received", "p50", "p95", "max", "p95 vs baseline (/ vs between attacks)", "guest lines/s on screen",
         "flood lines/s on screen", "join notices/s: JOINED / CROWD", "members dropped", "server CPU",
         "datagrams dropped, full buffer: server / members"), rows)
    res.add_table(
        f"The attack: guest storm ({opts.guests} addresses, one process) and member flood ({opts.flooders} "
        f"members, one process), both at nice {opts.attack_nice}, while they ran",
        ("server", "guest storm sent", "member flood", "server RSS"), attack_rows)
    if opts.join_storm:
        res.add_table(
            f"The join storm: one process (nice {opts.attack_nice}) joins {opts.join_storm:,} members with the "
            f"real handshake (HELLO padded to 200 bytes, the CHALLENGE's token echoed, and in version 2 the key "
            f"agreement, the server's confirmation and a sealed PING; {JOIN_WINDOW} handshakes in flight), {opts.join_burst} from one address first, then {opts.joins_per_address} per address, "
            f"and keeps them (acknowledging, answering PINGs) while the well-behaved members talk",
            ("server", "joins attempted", "admitted", "refused: FULL / HOST_FULL", "no answer (in 5 s, or by the end)",
             "join-storm members dropped", "join notices per well-behaved member, in all",
             "server CPU / RSS", "join storm CPU"), join_rows)
    label, figs, jfigs = last
    a, b = figs[2], figs.get(4, figs[1])          # paired: the slices between attacks, else the baseline
    if not b["p95"] < math.inf:                   # they never recovered: the baseline before, then
        b = figs[1]
    ok_ratio = a["p95"] <= GOAL_FACTOR * b["p95"] if b["p95"] < math.inf else None
    where = f" ({label.rstrip(': ')})" if label else ""
    vs = "between attacks" if b is figs.get(4) else "baseline"
    res.goal(f"members' line p95 under a guest storm and a member flood within {GOAL_FACTOR:.0f}x the same "
             f"room's without (the slices between attacks){where}",
             f"{cell(a['p95'])} vs {cell(b['p95'])} {vs} = {ratio_of(a['p95'], b['p95'])}; "
             f"vs the baseline before ({cell(figs[1]['p95'])}) {ratio_of(a['p95'], figs[1]['p95'])}", ok_ratio)
    if 4 in figs and not figs[4]["p95"] <= GOAL_FACTOR * figs[1]["p95"]:
        res.notes.append(f"{label}the slices between attacks had p95 {cell(figs[4]['p95'])}, more than "
                         f"{GOAL_FACTOR:.0f}x the baseline before any attack ({cell(figs[1]['p95'])}): the room had "
                         f"not recovered between slices (or the machine was busy), so the paired ratio flatters; "
                         f"read the ratio to the baseline too.")
    res.goal(f"members' line p95 under a guest storm and a member flood under {GOAL_P95 * 1000:.0f} ms{where}",
             cell(a["p95"]), a["p95"] < GOAL_P95)
    if jfigs and 5 in jfigs:
        js, jb = jfigs[5], jfigs[1]
        res.goal(f"members' line p95 during a join storm under {GOAL_P95 * 1000:.0f} ms{where}",
                 f"{cell(js['p95'])} (p50 {cell(js['p50'])}); {ratio_of(js['p95'], jb['p95'])} its room's "
                 f"baseline just before ({cell(jb['p95'])}), {ratio_of(js['p95'], figs[1]['p95'])} the first "
                 f"baseline ({cell(figs[1]['p95'])})", js["p95"] < GOAL_P95)
    elif opts.join_storm:
        res.notes.append(f"{label}no join storm was measured (the server had died, or the storm did not start).")
    lost = sum(figs[i]["dropped"] for i in (2, 3, 4) if i in figs) + (jfigs or {}).get(5, {}).get("dropped", 0)
    res.goal(f"no well-behaved member dropped during or after the attacks{where}",
             f"{lost} of {opts.members}", lost == 0)
    res.notes.append("The attackers run at nice "
                     f"{opts.attack_nice} so that on this 2-core machine they take the CPU the room leaves (as "
                     "machines elsewhere would); the members and the server are not niced. Both attackers bind "
                     "addresses of 127.0.0.0/8 (storm 127.0.1.x-127.0.2.x, flood 127.0.20.x, join storm "
                     "127.0.30.1 and 127.0.31.x-, members 127.0.10.x), so per-address limits see distinct "
                     "senders.")
    res.notes.append("The server's RSS with 5,000 members is measured by the scale bench: "
                     "`.venv/bin/python bench/bench_scale.py` (in run_all as `scale`).")
    for label, _r, got in runs:
        split = join_split(got.get("join_run", {}))
        if split:
            res.notes.append(f"{server_label(label, got)}: join storm: {split}.")
    for label, _r, got in runs:
        if got.get("undecoded"):
            res.notes.append(f"{label}members skipped {got['undecoded']:,} datagrams they could not decode.")
    for label, _r, got in runs:
        if got.get("profile"):
            res.profiles.append((f"{label}server during the attack's on and off slices (py-spy, "
                                 f"recording during the measurement itself)", got["profile"]))
    return res


def add_args(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("checkouts", nargs="*", metavar="CHECKOUT",
                    help="project folders whose server to measure, one after the other (default: this one)")
    ap.add_argument("--members", type=int, default=8, help="well-behaved members (default 8)")
    ap.add_argument("--guests", type=int, default=300, help="guest addresses in the storm (0: no storm)")
    ap.add_argument("--storm-rate", type=float, default=0.0, metavar="N",
                    help="the storm's datagrams per second at most (default: as fast as it can)")
    ap.add_argument("--flooders", type=int, default=2, help="members flooding (0: no flood)")
    ap.add_argument("--join-storm", type=int, default=1000, metavar="N",
                    help="members the join storm joins (default 1000; 0: no join storm)")
    ap.add_argument("--join-burst", type=int, default=40, metavar="N",
                    help="of those, how many join first from one address (default 40: more than the server's "
                         "32 per address)")
    ap.add_argument("--joins-per-address", type=int, default=4, metavar="N",
                    help="the rest join N from each address (default 4)")
    ap.add_argument("--join-seconds", type=float, default=0.0,
                    help="seconds of the join storm phase (default 10; 6 with --quick)")
    ap.add_argument("--attack-nice", type=int, default=10, help="niceness of the attacking processes (default 10)")
    ap.add_argument("--baseline", type=float, default=0.0, help="seconds (default 10; 6 with --quick)")
    ap.add_argument("--attack", type=float, default=0.0, help="seconds (default 10; 8 with --quick)")
    ap.add_argument("--after", type=float, default=0.0, help="seconds (default 5; 3 with --quick)")
    ap.add_argument("--slice", type=float, default=1.0,
                    help="the attack is on and off (attackers SIGSTOPped) in turns of this many seconds, so "
                         "'the same room without' is measured at the same times (default 1; the --attack "
                         "value or more: one single attack, compared with the baseline before it)")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        sys.exit(child_main(sys.argv[2], sys.argv[3]))
    def _quit(signum, _frame):                  # SIGTERM/SIGHUP clean up as Ctrl-C does
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, _quit)
    signal.signal(signal.SIGHUP, _quit)
    main_for("Abuse", run, add_args, __doc__)
