"""Abuse: well-behaved members' line latency while guests storm and members flood,
against the same room without, measured in the same run on the same server.

    .venv/bin/python bench/bench_abuse.py [--quick] [--profile] [CHECKOUT ...]
    .venv/bin/python bench/bench_abuse.py --guests 0 --flooders 0      # A/A: no attack at all (the noise)

The server is the real headless program (``gui_server.py --headless``) of this
checkout, or of each CHECKOUT folder given (``git worktree add /tmp/base
950709f``, say), run one after the other, each from its own folder; the
members, the storm and the flood are always this checkout's bench code.

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

Per phase: latency p50 / p95 / max over every (line, receiver) pair of lines
*sent* in that phase (a line that never arrived counts as infinitely late, so a
p95 of "never" means more than 5 % never arrived); junk lines that reached each
member's screen per second (lines from ``guest-…`` senders and from the
flooders, counted when they arrive); members dropped (a LEFT naming them, or a
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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import lean_wire as lw  # noqa: E402
from bench.lean_member import LeanMember  # noqa: E402
from bench.loopback import LOOPBACK, SO_TIMESTAMPNS, Addr, raise_fd_limit, stamp_sockets  # noqa: E402
from bench.measure import CpuMeter, cpu_seconds, percentile  # noqa: E402
from bench.processes import PY, ROOT, ServerProcess, spawn, stop_process  # noqa: E402
from bench.profiling import Profile, summarise  # noqa: E402
from bench.results import Result, main_for, ms, rate  # noqa: E402

GOAL_FACTOR = 2.0           # p95 under attack within 2x the same room's p95 without
GOAL_P95 = 0.050            # and under 50 ms
SAY_EVERY = 0.25            # each well-behaved member: a line every ~250 ms
FLOOD_WINDOW = 128          # a flooder's unacknowledged lines (the server buffers 256 ahead)
BYE, RESET = 8, 9           # packet types lean_wire does not need
LEFT = 22                   # chat message: name text16 · reason text16
FLAG_MORE = 0x01
MASK = 0xFFFFFFFF
PHASES = ("set-up", "baseline", "attack", "after", "between attacks")
_TIMESPEC = struct.Struct("qq")
_U16 = struct.Struct("!H")


def bound_socket(host: str, rcvbuf: int) -> socket.socket:
    """A non-blocking UDP socket bound to a free port of ``host`` (an address of 127.0.0.0/8)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.bind((host, 0))
    s.setblocking(False)
    return s


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
                 rec: "Recorder | None" = None) -> None:
        super().__init__(name, server, 0)
        self.sock.close()
        self.sock = bound_socket(host, rcvbuf)
        self.fd = self.sock.fileno()
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
        if data[:4] != lw.PREFIX:
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
            if seq == self.expect:
                self.expect = (seq + 1) & MASK
                if self.whole:
                    self._fragment(data[lw.PAYLOAD_AT:], flags, stamp)
                elif not flags & FLAG_MORE and len(data) > lw.PAYLOAD_AT and data[lw.PAYLOAD_AT] == lw.LINE:
                    self.lines += 1
            elif ((seq - self.expect) & MASK) < 0x80000000:
                self.gaps += 1              # ahead: left to the server's retransmission
        elif t == lw.ACK:
            _, _, sid, ack, _sack, _echo = lw.ACK_PKT.unpack_from(data)
            if sid == self.session:
                self._acked_to(ack, now)
        elif t == lw.PING:
            self.need_ack = True
        elif t in (BYE, RESET):
            if data[5:13] == self.session and not self.dropped:
                self.dropped = "reset" if t == RESET else "bye"
        else:
            self.undecoded += 1

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
        self.dropped: dict[str, str] = {}        # member -> reason (and the phase it happened in)
        self.spent: Counter[int] = Counter()     # seconds spent in each phase (2 and 4 alternate)
        self.since = time.monotonic()

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

    def __init__(self, server: Addr, n: int, rec: Recorder) -> None:
        self.rec = rec
        self.ep = select.epoll()
        self.members: list[Member] = []
        self.by_fd: dict[int, Member] = {}
        self.speaking = False
        self.said = 0
        try:
            for i in range(n):
                mem = Member(f"calm{i}", server, loopback_host(10, i), 4 << 20, whole=True, rec=rec)
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
            mem.due = now + SAY_EVERY * i / n         # spread over the period

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
                        mem.due += SAY_EVERY
                        if mem.due < now:             # fell far behind: no burst to catch up
                            mem.due = now + SAY_EVERY
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
    socks = [bound_socket(loopback_host(1, i), 2048) for i in range(args["guests"])]
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


def child_main(kind: str, spec: str) -> int:
    args = json.loads(spec)
    try:
        os.nice(args.get("nice", 0))
    except OSError:
        pass
    result = storm_child(args) if kind == "storm" else flood_child(args)
    Path(args["out"]).write_text(json.dumps(result))
    return 0


class Attacker:
    """A storm or flood child: started, told to stop, its report read back."""

    def __init__(self, kind: str, tmp: Path, **args) -> None:
        self.kind = kind
        self.ready = tmp / f"{kind}.ready"
        self.out = tmp / f"{kind}.json"
        self.err_path = tmp / f"{kind}.err"
        self.err = open(self.err_path, "wb")
        spec = dict(args, ready=str(self.ready), out=str(self.out))
        self.p = spawn([PY, str(Path(__file__).resolve()), "--child", kind, json.dumps(spec)],
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
        stop_process(self.p, 0.5)
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


def one_run(root: Path, opts: argparse.Namespace, durations: dict[str, float]) -> dict:
    """Baseline, attack and after against the server of ``root``; the figures."""
    flood_prefix = "flood"
    names = [f"calm{i}" for i in range(opts.members)]
    rec = Recorder(names, flood_prefix)
    out: dict = {"root": str(root), "notes": []}
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

    try:
        room = Room(srv.address, opts.members, rec)
        mine = [m.sock.getsockname() for m in room.members]
        room.drive(0.3)                                   # member list and join notices
        room.speaking = True
        rec.set_phase(0)
        room.drive(durations["warm-up"])
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
        out["server_alive"] = srv.alive()
        out["rss_end"] = rss()
        rec.set_phase(0)
        out["undecoded"] = sum(m.undecoded for m in room.members)
    finally:
        for a in attackers:
            a.stop()
            a.report()
        if room is not None:
            room.close()
        srv.close()
        shutil.rmtree(tmp, ignore_errors=True)
    out["rec"] = rec
    out["cpu"] = {i: cpu_s[i] / rec.seconds(i) for i in (1, 2, 3, 4)}
    out["drops"] = {i: (drops_srv[i], drops_mem[i]) for i in (1, 2, 3, 4)}
    return out


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


def phase_rows(label: str, run: dict, n_members: int) -> tuple[list[tuple], dict]:
    rec: Recorder = run["rec"]
    rows, figs = [], {}
    base_p95 = between_p95 = None
    for i, title in ((1, "baseline"), (4, "between attacks (attackers paused)"), (2, "under attack"),
                     (3, "after the attack")):
        if i == 4 and not rec.spent[4]:
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
        dropped = [f"{n}: {why}" for n, why in sorted(rec.dropped.items()) if f"({PHASES[i]})" in why]
        ratio = "" if i == 1 else ratio_of(p95, base_p95)
        if i == 2 and between_p95 is not None:
            ratio += f" / {ratio_of(p95, between_p95)}"
        cpu = run.get("cpu", {}).get(i, float("nan"))
        d_srv, d_mem = run.get("drops", {}).get(i, (0, 0))
        rows.append((f"{label}{title}", f"{secs:.1f} s" + (f" in {run['slice']:g} s slices" if i in (2, 4) else ""), f"{len(lat):,} of {rec.expected[i]:,}",
                     cell(p50), cell(p95), cell(max(lat)) if lat else "-", ratio,
                     f"{sum(g) / len(g):,.0f} / {max(g):,.0f}", f"{sum(f) / len(f):,.0f} / {max(f):,.0f}",
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
    return (label or "this checkout", storm, flood,
            f"{mb(run.get('rss_baseline', 0))} -> {mb(run.get('rss_attack_peak', 0))} peak, "
            f"{mb(run.get('rss_end', 0))} after")


def run(opts: argparse.Namespace) -> Result:
    res = Result("Abuse", "python bench/bench_abuse.py")
    roots = [Path(r).resolve() for r in opts.checkouts] or [ROOT]
    for r in roots:
        if not (r / "gui_server.py").exists():
            raise SystemExit(f"{r}: no gui_server.py here (give a project checkout)")
    durations = {"warm-up": 1.0, "baseline": 6.0 if opts.quick else 10.0, "attack": 8.0 if opts.quick else 10.0,
                 "after": 3.0 if opts.quick else 5.0, "tail": 1.5}
    for k in ("baseline", "attack", "after"):
        if getattr(opts, k):
            durations[k] = getattr(opts, k)
    raise_fd_limit(opts.guests + opts.members + 256)
    runs = []
    for r in roots:
        label = "" if len(roots) == 1 else f"{r}: "
        runs.append((label, r, one_run(r, opts, durations)))
    rows, attack_rows = [], []
    last = None
    for label, r, got in runs:
        rr, figs = phase_rows(label, got, opts.members)
        rows += rr
        attack_rows.append(attack_row(label, got))
        if not got.get("server_alive", True):
            res.notes.append(f"{label or 'this checkout: '}the server process died during the run.")
        last = (label, figs)
    res.add_table(
        f"Abuse: {opts.members} well-behaved members each saying a line every ~{SAY_EVERY * 1000:.0f} ms; "
        f"latency = the sender's sendto -> the kernel's arrival stamp at each other member, for the lines sent "
        f"in that phase (never arrived = infinitely late); junk = lines from guests / from the flooders that "
        f"reached a member, per second, mean / worst member; server CPU = share of one core",
        ("phase", "lasted", "lines received", "p50", "p95", "max", "p95 vs baseline (/ vs between attacks)", "guest lines/s on screen",
         "flood lines/s on screen", "members dropped", "server CPU",
         "datagrams dropped, full buffer: server / members"), rows)
    res.add_table(
        f"The attack: guest storm ({opts.guests} addresses, one process) and member flood ({opts.flooders} "
        f"members, one process), both at nice {opts.attack_nice}, while they ran",
        ("server", "guest storm sent", "member flood", "server RSS"), attack_rows)
    label, figs = last
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
    lost = sum(figs[i]["dropped"] for i in (2, 3, 4) if i in figs)
    res.goal(f"no well-behaved member dropped during or after the attack{where}",
             f"{lost} of {opts.members}", lost == 0)
    res.notes.append("The attackers run at nice "
                     f"{opts.attack_nice} so that on this 2-core machine they take the CPU the room leaves (as "
                     "machines elsewhere would); the members and the server are not niced. Both attackers bind "
                     "addresses of 127.0.0.0/8 (storm 127.0.1.x-127.0.2.x, flood 127.0.20.x, members "
                     "127.0.10.x), so per-address limits see distinct senders.")
    res.notes.append("The server's RSS with 5,000 members is measured by the scale bench: "
                     "`.venv/bin/python bench/bench_scale.py` (in run_all as `scale`).")
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
