"""Shared pieces of the benchmarks.

- the machine: :func:`machine` (CPU model, cores, Python, kernel)
- processes measured from outside: :class:`ServerProcess` (the real headless
  server, ``gui_server.py --headless``, or ``bench/server_runner.py`` for the
  scale bench), :class:`EchoProcess` (the bare ``recvfrom``/``sendto`` loop),
  their CPU time and RSS read from ``/proc/PID/stat`` and ``/proc/PID/status``
- load generators: :class:`EnginePump` drives many real
  :class:`udpcore.client.ClientEngine` instances from one thread (one socket
  each, ``epoll``, one timer heap); :class:`LeanMember` is a minimal client
  written from the wire format alone (join, cumulative ACKs, SAY lines) for
  when the generator must cost less than the server it loads
- figures: :func:`percentile`, :func:`table`, :class:`Result` (what every bench
  returns: its tables and which goals hold) and :func:`main_for` (the command
  line every bench shares: ``--quick``, ``--json PATH``)

Every child process gets ``PR_SET_PDEATHSIG`` (the kernel kills it if the bench
dies) and is killed in ``close()``; only 127.0.0.1 is ever bound or sent to.
"""
from __future__ import annotations

import argparse
import ctypes
import heapq
import json
import os
import platform
import re
import secrets
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from udpcore import appmsg as m  # noqa: E402
from udpcore import wire  # noqa: E402
from udpcore.client import ClientEngine  # noqa: E402

PY = sys.executable
LOOPBACK = "127.0.0.1"
Addr = tuple[str, int]
CLK_TCK = os.sysconf("SC_CLK_TCK")


# --- the machine -------------------------------------------------------------------


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
            mem = f", {kb / 2**20:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    try:
        import tkinter
        tk = f", Tk {tkinter.Tcl().eval('info patchlevel')}"
    except Exception:                     # no Tk at all: the headless benches still run
        tk = ""
    return (f"{cpu}, {os.cpu_count()} cores{mem}, Python {platform.python_version()}{tk}, "
            f"{platform.system()} {platform.release()}")


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


# --- figures -------------------------------------------------------------------------


def percentile(values: Iterable[float], p: float) -> float:
    s = sorted(values)
    if not s:
        return float("nan")
    k = (len(s) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def median(values: Iterable[float]) -> float:
    return percentile(values, 50)


def table(header: tuple[str, ...], rows: list[tuple]) -> str:
    """A Markdown table (readable as plain text too)."""
    cells = [tuple(str(c) for c in header)] + [tuple(str(c) for c in r) for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]

    def line(r: tuple[str, ...]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"
    return "\n".join([line(cells[0]), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
                     + [line(r) for r in cells[1:]])


def rate(n: float) -> str:
    """12345 -> '12.3 k'."""
    if n >= 1e6:
        return f"{n / 1e6:.2f} M"
    if n >= 1e3:
        return f"{n / 1e3:.1f} k"
    return f"{n:.0f}"


def ms(seconds: float) -> str:
    if seconds != seconds:      # nan
        return "-"
    if seconds < 0.01:
        return f"{seconds * 1000:.3f} ms"
    if seconds < 1:
        return f"{seconds * 1000:.1f} ms"
    return f"{seconds:.2f} s"


@dataclass
class Goal:
    text: str          # "p99 under 5 ms at 100 members"
    measured: str      # "3.2 ms"
    ok: bool | None    # None: not measured (a part was skipped)


@dataclass
class Result:
    name: str
    command: str
    tables: list[tuple[str, str]] = field(default_factory=list)   # (caption, markdown table)
    goals: list[Goal] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    profiles: list[tuple[str, str]] = field(default_factory=list)  # (what, py-spy summary)

    def add_table(self, caption: str, header: tuple[str, ...], rows: list[tuple]) -> None:
        self.tables.append((caption, table(header, rows)))

    def goal(self, text: str, measured: str, ok: bool | None) -> None:
        self.goals.append(Goal(text, measured, ok))

    def text(self) -> str:
        out = []
        for caption, tbl in self.tables:
            out += [caption, "", tbl, ""]
        for g in self.goals:
            verdict = {True: "holds", False: "MISSED", None: "not measured"}[g.ok]
            out.append(f"goal: {g.text}: {g.measured} -> {verdict}")
        for n in self.notes:
            out.append(f"note: {n}")
        for what, text in self.profiles:
            out += ["", f"profile: {what}", text]
        return "\n".join(out)

    def to_json(self) -> dict:
        return {"name": self.name, "command": self.command, "tables": self.tables,
                "goals": [g.__dict__ for g in self.goals], "notes": self.notes, "seconds": self.seconds,
                "profiles": self.profiles}

    @staticmethod
    def from_json(d: dict) -> "Result":
        r = Result(d["name"], d["command"], [tuple(t) for t in d["tables"]],
                   [Goal(**g) for g in d["goals"]], d["notes"], d.get("seconds", 0.0),
                   [tuple(p) for p in d.get("profiles", [])])
        return r


def main_for(name: str, run: Callable[[argparse.Namespace], Result],
             add_args: Callable[[argparse.ArgumentParser], None] | None = None,
             doc: str | None = None) -> None:
    """The command line every bench shares."""
    ap = argparse.ArgumentParser(description=(doc or "").strip().splitlines()[0] if doc else None)
    ap.add_argument("--quick", action="store_true", help="shorter runs (what run_all uses)")
    ap.add_argument("--json", type=Path, help="also write the result as JSON here")
    ap.add_argument("--profile", action="store_true",
                    help="record the server with py-spy during the main measurement and print where its time goes")
    if add_args:
        add_args(ap)
    opts = ap.parse_args()
    t0 = time.monotonic()
    result = run(opts)
    result.seconds = time.monotonic() - t0
    print(f"{name} — {machine()} — load average {load_average()}")
    print()
    print(result.text())
    print(f"({result.seconds:.0f} s)")
    if opts.json:
        opts.json.write_text(json.dumps(result.to_json(), indent=1))


# --- processes measured from outside --------------------------------------------------


def _die_with_parent() -> None:
    """preexec_fn: the kernel sends SIGKILL to the child when the bench dies."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)           # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def spawn(cmd: list[str], **kw) -> subprocess.Popen:
    kw.setdefault("cwd", ROOT)
    kw.setdefault("stdin", subprocess.DEVNULL)
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    env.update(kw.pop("env", {}) or {})
    return subprocess.Popen(cmd, preexec_fn=_die_with_parent, env=env, **kw)


def stop_process(p: subprocess.Popen, grace: float = 2.0) -> None:
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(grace)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of every thread of ``pid`` so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def memory(pid: int) -> dict[str, int]:
    """VmRSS, VmHWM (peak RSS) and friends of ``pid``, in bytes."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Vm") or line.startswith("Rss"):
                k, v = line.split(":", 1)
                parts = v.split()
                if len(parts) == 2 and parts[1] == "kB":
                    out[k] = int(parts[0]) * 1024
    return out


class CpuMeter:
    """Share of one core that a process used between start() and stop()."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.t0 = self.c0 = 0.0

    def start(self) -> "CpuMeter":
        self.t0, self.c0 = time.monotonic(), cpu_seconds(self.pid)
        return self

    def stop(self) -> tuple[float, float]:
        """(CPU seconds used, share of one core)."""
        dt = time.monotonic() - self.t0
        used = cpu_seconds(self.pid) - self.c0
        return used, used / dt if dt > 0 else 0.0


class ServerProcess:
    """The chat server in its own process, listening on 127.0.0.1 (a free port).

    ``runner=False`` runs exactly what a user runs, ``gui_server.py --headless``;
    ``runner=True`` runs ``bench/server_runner.py`` (the same headless server with
    bench options such as ``--quiet-joins``). What it prints goes to a file (it
    prints every room line, as the real program does), read for its address.
    """

    def __init__(self, extra: list[str] | None = None, runner: bool = False, close_grace: float = 2.0) -> None:
        self.close_grace = close_grace
        script = "bench/server_runner.py" if runner else "gui_server.py"
        self._out = tempfile.NamedTemporaryFile(prefix="bench-server-", suffix=".log", delete=False)
        self.log_path = Path(self._out.name)
        self.p = spawn([PY, script, "--headless", "--host", LOOPBACK, "--port", "0", *(extra or [])],
                       stdout=self._out, stderr=subprocess.STDOUT)
        self.address: Addr = (LOOPBACK, self._wait_listening())

    def _wait_listening(self, timeout: float = 15.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log_path.read_text(errors="replace")
            found = re.search(r"listening on 127\.0\.0\.1:(\d+)", text)
            if found:
                return int(found.group(1))
            if self.p.poll() is not None:
                break
            time.sleep(0.01)
        self.close()
        raise RuntimeError(f"the server did not start: {self.log_path.read_text(errors='replace')[-2000:]}")

    @property
    def pid(self) -> int:
        return self.p.pid

    def cpu_meter(self) -> CpuMeter:
        return CpuMeter(self.pid)

    def memory(self) -> dict[str, int]:
        return memory(self.pid)

    def alive(self) -> bool:
        return self.p.poll() is None

    def close(self) -> None:
        stop_process(self.p, self.close_grace)
        self._out.close()
        try:
            self.log_path.unlink()
        except OSError:
            pass

    def __enter__(self) -> "ServerProcess":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


ECHO_CODE = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)   # as udpcore.transport asks
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True)
recvfrom, sendto = s.recvfrom, s.sendto
while True:
    data, addr = recvfrom(65535)
    sendto(data, addr)
"""


class EchoProcess:
    """The baseline: a bare CPython ``recvfrom``/``sendto`` echo loop in its own
    process (blocking socket, nothing else) — the most a Python UDP server does here."""

    def __init__(self) -> None:
        self.p = spawn([PY, "-c", ECHO_CODE], stdout=subprocess.PIPE)
        line = self.p.stdout.readline()
        if not line.strip():
            raise RuntimeError("the echo process did not start")
        self.address: Addr = (LOOPBACK, int(line))

    @property
    def pid(self) -> int:
        return self.p.pid

    def cpu_meter(self) -> CpuMeter:
        return CpuMeter(self.pid)

    def close(self) -> None:
        stop_process(self.p, 0.5)
        if self.p.stdout:
            self.p.stdout.close()

    def __enter__(self) -> "EchoProcess":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def udp_socket(rcvbuf: int = 1 << 18) -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.bind((LOOPBACK, 0))
    s.setblocking(False)
    return s


def udp_errors() -> dict[str, int]:
    """System-wide UDP counters (RcvbufErrors: datagrams dropped for a full buffer)."""
    try:
        lines = [x.split() for x in Path("/proc/net/snmp").read_text().splitlines() if x.startswith("Udp:")]
        return dict(zip(lines[0][1:], map(int, lines[1][1:])))
    except (OSError, IndexError, ValueError):
        return {}


def raise_fd_limit(n: int) -> None:
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(n, hard), hard))


# --- load generator 1: real client engines ------------------------------------------------


class Member:
    """One real ClientEngine with its own socket (the server tells members apart by address)."""

    __slots__ = ("name", "sock", "fd", "engine", "timer", "events", "on_event", "sent", "received", "rx_stamp",
                 "tx_stamp")

    def __init__(self, name: str, sock: socket.socket, engine: ClientEngine,
                 on_event: Callable | None) -> None:
        self.name = name
        self.sock = sock
        self.fd = sock.fileno()
        self.engine = engine
        self.timer: float | None = None
        self.events: list = []
        self.on_event = on_event
        self.sent = 0
        self.received = 0
        self.rx_stamp = 0           # kernel receive time (ns, CLOCK_REALTIME) of the datagram being fed
        self.tx_stamp = 0           # time.time_ns() just before the first sendto of the last flush


SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)     # Linux; Python 3.11 lacks the constant
_TIMESPEC = struct.Struct("qq")


def stamp_sockets(sock: socket.socket) -> None:
    """Ask the kernel to stamp each datagram with the time it arrived (``recv_stamped``)."""
    sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)


def recv_stamped(sock: socket.socket) -> tuple[bytes, Addr, int]:
    """(data, address, arrival time in ns of CLOCK_REALTIME, as time.time_ns())."""
    data, anc, _flags, addr = sock.recvmsg(65535, 64)
    for level, kind, raw in anc:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
            sec, nsec = _TIMESPEC.unpack_from(raw)
            return data, addr, sec * 1_000_000_000 + nsec
    return data, addr, time.time_ns()


class EnginePump:
    """Drives many ClientEngines from one thread: one socket each, one epoll,
    one heap of timers — the transport's loop, once for all of them."""

    def __init__(self, server: Addr, rcvbuf: int = 1 << 16, stamped: bool = False) -> None:
        self.server = server
        self.rcvbuf = rcvbuf
        self.stamped = stamped      # events are handed over per datagram, with ``Member.rx_stamp`` set
        self.sleep_poll = 0.0       # > 0: sleep this long, then poll (see step)
        self.ep = select.epoll()
        self.by_fd: dict[int, Member] = {}
        self._timers: list[tuple[float, int]] = []
        self.sent = 0
        self.received = 0

    def add(self, name: str, on_event: Callable | None = None, connect: bool = True) -> Member:
        now = time.monotonic()
        sock = udp_socket(self.rcvbuf)
        if self.stamped:
            stamp_sockets(sock)
        engine = ClientEngine(name, self.server, now)
        mem = Member(name, sock, engine, on_event)
        self.by_fd[mem.fd] = mem
        self.ep.register(mem.fd, select.EPOLLIN)
        if connect:
            engine.connect(now)
            self.flush(mem, now)
        return mem

    @property
    def members(self) -> list[Member]:
        return list(self.by_fd.values())

    def flush(self, mem: Member, now: float) -> None:
        """Send what the engine has, hand over its events, re-arm its timer."""
        eng = mem.engine
        sendto = mem.sock.sendto
        out = eng.datagrams_to_send(now)
        if out and self.stamped:
            mem.tx_stamp = time.time_ns()
        for data, addr in out:
            try:
                sendto(data, addr)
            except OSError:
                pass
            mem.sent += 1
            self.sent += 1
        self._events(mem, now)
        t = eng.get_timer()
        if t is not None and t != mem.timer:
            mem.timer = t
            heapq.heappush(self._timers, (t, mem.fd))
        elif t is None:
            mem.timer = None

    def _events(self, mem: Member, now: float) -> None:
        eng = mem.engine
        while (e := eng.next_event()) is not None:
            if mem.on_event is not None:
                mem.on_event(mem, e, now)
            else:
                mem.events.append(e)

    def step(self, max_wait: float = 0.05) -> None:
        now = time.monotonic()
        wait = max_wait
        if self._timers:
            wait = max(0.0, min(wait, self._timers[0][0] - now))
        if self.sleep_poll and wait > 0:
            # Sleep, then look: a datagram that arrives meanwhile is only put on
            # epoll's ready list; nobody waits in epoll_wait, so the sender's
            # sendto wakes no one (as with a peer on another machine).
            time.sleep(min(wait, self.sleep_poll))
            wait = 0
        for fd, _ in self.ep.poll(wait):
            mem = self.by_fd.get(fd)
            if mem is None:
                continue
            now = time.monotonic()
            recv, feed = mem.sock.recvfrom, mem.engine.receive_datagram
            stamped = self.stamped
            for _ in range(256):
                try:
                    if stamped:
                        data, addr, mem.rx_stamp = recv_stamped(mem.sock)
                    else:
                        data, addr = recv(65535)
                except (BlockingIOError, InterruptedError):
                    break
                except OSError:
                    break
                mem.received += 1
                self.received += 1
                feed(data, addr, now)
                if stamped:
                    self._events(mem, now)
            self.flush(mem, now)
        now = time.monotonic()
        timers = self._timers
        while timers and timers[0][0] <= now:
            t, fd = heapq.heappop(timers)
            mem = self.by_fd.get(fd)
            if mem is None or mem.timer != t:
                continue                       # stale entry
            mem.timer = None
            mem.engine.handle_timer(now)
            self.flush(mem, now)
            if mem.timer is not None and mem.timer <= now:       # never spin on a due timer
                mem.timer = now + 0.001
                heapq.heappush(timers, (mem.timer, fd))

    def run_until(self, done: Callable[[], bool], timeout: float, what: str = "") -> float:
        """Step until ``done()``; returns the time it took; RuntimeError on timeout."""
        t0 = time.monotonic()
        while not done():
            if time.monotonic() - t0 > timeout:
                raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what or done}")
            self.step()
        return time.monotonic() - t0

    def run_for(self, seconds: float, tick: Callable[[float], None] | None = None,
                max_wait: float = 0.05) -> None:
        end = time.monotonic() + seconds
        while (now := time.monotonic()) < end:
            if tick is not None:
                tick(now)
            self.step(min(max_wait, end - now))

    def close(self) -> None:
        for mem in self.by_fd.values():
            mem.sock.close()
        self.by_fd.clear()
        self.ep.close()


def join_all(pump: EnginePump, names: list[str], timeout: float, in_flight: int = 200,
             on_event: Callable | None = None) -> float:
    """Join ``names`` (at most ``in_flight`` handshakes at a time, as a room fills);
    returns the seconds it took. Members that are refused raise RuntimeError."""
    from udpcore import events as ev
    joined: set[int] = set()
    failed: list[str] = []

    def watch(mem: Member, e, now: float) -> None:
        if isinstance(e, ev.Connected):
            joined.add(mem.fd)
        elif isinstance(e, (ev.JoinRefused, ev.Unreachable)):
            failed.append(f"{mem.name}: {e.reason}")
        if on_event is not None:
            on_event(mem, e, now)

    t0 = time.monotonic()
    pending = list(names)
    started = 0
    while len(joined) < len(names):
        if failed:
            raise RuntimeError("join failed: " + "; ".join(failed[:3]))
        while pending and started - len(joined) < in_flight:
            pump.add(pending.pop(0), on_event=watch)
            started += 1
        if time.monotonic() - t0 > timeout:
            raise RuntimeError(f"only {len(joined)} of {len(names)} joined within {timeout:.0f} s")
        pump.step(0.01)
    for mem in pump.members:
        if mem.on_event is watch:
            mem.on_event = on_event
    return time.monotonic() - t0


# --- load generator 2: lean members, from the wire format alone ---------------------------


_DATA_HDR = struct.Struct("!4sB8sIIIBII")      # magic+version, type, session, seq, ack, sack, flags, ts, echo
_ACK_HDR = struct.Struct("!4sB8sIII")
_PAYLOAD_AT = _DATA_HDR.size                    # first byte of a DATA's fragment (the message type)
_V1 = wire.MAGIC + bytes([wire.VERSION])
_T_DATA, _T_ACK, _T_PING = wire.PacketType.DATA, wire.PacketType.ACK, wire.PacketType.PING
_LINE = m.MsgType.LINE


class LeanMember:
    """A member that costs the load generator as little as possible.

    It joins with the real handshake (HELLO, CHALLENGE, HELLO with the token,
    WELCOME), then only: acknowledges the server's DATA cumulatively (in-order
    arrivals; anything out of order is dropped and left to the server's
    retransmission, which loopback never needs unless a buffer overflows),
    answers PING, and sends SAY lines, keeping a few in flight and resending
    them if no ACK comes. Its acks echo the server's timestamps as the real
    client does, so the server's RTT estimate for it is true. It decodes nothing it does not need: counting room
    lines takes one byte of each DATA. Used where real ClientEngines would make
    the generator, not the server, the bottleneck.
    """

    __slots__ = ("name", "sock", "fd", "server", "session", "expect", "next_seq", "acked", "unacked",
                 "lines", "gaps", "need_ack", "msg_id", "sent", "received", "last_progress", "on_data",
                 "echo_ts", "echo_at")

    def __init__(self, name: str, server: Addr, rcvbuf: int = 1 << 20) -> None:
        self.name = name
        self.sock = udp_socket(rcvbuf)
        self.fd = self.sock.fileno()
        self.server = server
        self.session = b""
        self.expect = 0                 # next DATA seq expected from the server
        self.next_seq = 0               # our next DATA seq
        self.acked = 0                  # the server's cumulative ack of our DATA
        self.unacked: dict[int, bytes] = {}
        self.lines = 0                  # room lines received in order
        self.gaps = 0                   # DATA dropped for arriving out of order
        self.need_ack = False
        self.msg_id = 0
        self.sent = 0
        self.received = 0
        self.last_progress = 0.0
        self.on_data: Callable[[LeanMember, bytes, float], None] | None = None
        self.echo_ts = 0                # the last DATA's timestamp, and when it came
        self.echo_at = 0.0

    # joining: a blocking handshake is fine, it happens before anything is measured
    def join(self, timeout: float = 10.0) -> None:
        nonce = secrets.token_bytes(8)
        token = b""
        deadline = time.monotonic() + timeout
        self.sock.setblocking(True)
        try:
            while time.monotonic() < deadline:
                self.sock.sendto(wire.encode(wire.Hello(nonce, self.name, token)), self.server)
                self.sock.settimeout(0.5)
                try:
                    while True:
                        data, addr = self.sock.recvfrom(65535)
                        p = wire.decode(data)
                        if isinstance(p, wire.Challenge) and p.nonce == nonce:
                            token = p.token
                            break
                        if isinstance(p, wire.Welcome) and p.nonce == nonce:
                            self.session = p.session
                            return
                        if isinstance(p, wire.Refuse):
                            raise RuntimeError(f"{self.name}: {p.reason}")
                except socket.timeout:
                    continue
            raise RuntimeError(f"{self.name}: no WELCOME within {timeout} s")
        finally:
            self.sock.setblocking(False)

    def drain(self, now: float) -> int:
        """Read everything waiting; returns datagrams read."""
        recv = self.sock.recv
        n = 0
        while True:
            try:
                data = recv(2048)
            except (BlockingIOError, InterruptedError):
                break
            n += 1
            t = data[4]
            if t == _T_DATA:
                _, _, sid, seq, ack, _sack, _flags, self.echo_ts, _echo = _DATA_HDR.unpack_from(data)
                self.echo_at = now
                self._acked_to(ack, now)
                self.need_ack = True
                if seq == self.expect:
                    self.expect = (seq + 1) & 0xFFFFFFFF
                    if data[_PAYLOAD_AT] == _LINE:
                        self.lines += 1
                        if self.on_data is not None:
                            self.on_data(self, data, now)
                elif ((seq - self.expect) & 0xFFFFFFFF) < 0x80000000:
                    self.gaps += 1              # ahead: left to the server's retransmission
            elif t == _T_ACK:
                _, _, sid, ack, _sack, _echo = _ACK_HDR.unpack_from(data)
                self._acked_to(ack, now)
            elif t == _T_PING:
                self.need_ack = True
        self.received += n
        return n

    def _acked_to(self, ack: int, now: float) -> None:
        if ack != self.acked and ((ack - self.acked) & 0xFFFFFFFF) < 0x80000000:
            for s in range(self.acked, ack):
                self.unacked.pop(s & 0xFFFFFFFF, None)
            self.acked = ack
            self.last_progress = now

    @property
    def in_flight(self) -> int:
        return (self.next_seq - self.acked) & 0xFFFFFFFF

    def say(self, text: str, now: float) -> int:
        """Send one room line (with our ack piggybacked); returns its msg_id."""
        self.msg_id += 1
        payload = m.encode_msg(m.Say(self.msg_id, text))
        seq = self.next_seq
        if not self.unacked:
            self.last_progress = now
        self.unacked[seq] = payload
        self.next_seq = (seq + 1) & 0xFFFFFFFF
        self._send(self._data(seq, payload, now))
        self.need_ack = False
        return self.msg_id

    def _echo(self, now: float) -> int:
        return (self.echo_ts + int((now - self.echo_at) * 1_000_000)) & wire.STAMP_MASK

    def _data(self, seq: int, payload: bytes, now: float) -> bytes:
        return wire.encode_data(self.session, seq, self.expect, 0, 0, wire.stamp(now), self._echo(now), payload)

    def send_ack(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self._send(wire.encode_ack(self.session, self.expect, 0, self._echo(now)))
        self.need_ack = False

    def resend_if_stalled(self, now: float, after: float = 0.2) -> None:
        if self.unacked and now - self.last_progress > after:
            for seq, payload in sorted(self.unacked.items()):
                self._send(self._data(seq, payload, now))
            self.last_progress = now

    def leave(self) -> None:
        try:
            self._send(self._data(self.next_seq, m.encode_msg(m.Leave()), time.monotonic()))
        except OSError:
            pass

    def _send(self, data: bytes) -> None:
        try:
            self.sock.sendto(data, self.server)
        except (BlockingIOError, InterruptedError):
            return                               # buffer full: acks repeat, lines are resent
        self.sent += 1

    def close(self) -> None:
        self.sock.close()


def join_lean(names: list[str], server: Addr, rcvbuf: int = 1 << 20) -> list[LeanMember]:
    out = []
    for n in names:
        lm = LeanMember(n, server, rcvbuf)
        lm.join()
        out.append(lm)
    return out


def settle_lean(members: list[LeanMember], seconds: float = 0.3) -> None:
    """Acknowledge the join traffic (member list, join notices) until the room is quiet."""
    ep = select.epoll()
    by_fd = {x.fd: x for x in members}
    for x in members:
        ep.register(x.fd, select.EPOLLIN)
    quiet_since = time.monotonic()
    try:
        while time.monotonic() - quiet_since < seconds:
            ready = ep.poll(0.05)
            now = time.monotonic()
            for fd, _ in ready:
                x = by_fd[fd]
                if x.drain(now):
                    quiet_since = now
            for x in members:
                if x.need_ack:
                    x.send_ack(now)
    finally:
        ep.close()
    for x in members:
        x.lines = 0
        x.gaps = 0


# --- profiling ------------------------------------------------------------------------------


def py_spy() -> str | None:
    exe = Path(PY).with_name("py-spy")
    if exe.exists():
        return str(exe)
    import shutil
    return shutil.which("py-spy")


class Profile:
    """``py-spy record`` of a running process, summarised: the share of samples
    in which each function is on the stack (inclusive) and at the top (self).

        prof = Profile(pid, seconds=3)      # starts sampling now, in the background
        ...                                 # load the process
        print(prof.report())                # waits for py-spy, then summarises
    """

    def __init__(self, pid: int, seconds: float, rate_hz: int = 500, out: Path | None = None) -> None:
        exe = py_spy()
        if exe is None:
            raise RuntimeError("py-spy is not installed: .venv/bin/pip install py-spy")
        self.out = out or Path(tempfile.mkstemp(prefix="bench-prof-", suffix=".txt")[1])
        self.p = subprocess.Popen([exe, "record", "--pid", str(pid), "--duration", str(max(1, round(seconds))),
                                   "--rate", str(rate_hz), "--format", "raw", "--nonblocking",
                                   "--output", str(self.out)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=_die_with_parent)

    def stacks(self) -> list[tuple[list[str], int]]:
        try:
            self.p.wait(60)
        except subprocess.TimeoutExpired:
            self.p.kill()
        out = []
        for line in self.out.read_text(errors="replace").splitlines():
            stack, _, n = line.rpartition(" ")
            if stack and n.isdigit():
                out.append((stack.split(";"), int(n)))
        return out

    def report(self, top: int = 25, under: str | None = None) -> str:
        stacks = self.stacks()
        return summarise(stacks, top, under)


def _frame_name(frame: str) -> str:
    """'_relay (udpcore/server.py:345)' -> 'udpcore/server.py _relay'."""
    fn, _, where = frame.partition(" (")
    where = where.rstrip(")")
    path = where.rsplit(":", 1)[0]
    for marker in ("/udpcore/", "/chatui/", "/bench/", "/lib/python3"):
        if marker in path:
            path = path[path.index(marker) + 1:]
            break
    return f"{path} {fn}".strip()


def _waiting_frames() -> set[str]:
    """Leaf frames that mean a thread is waiting, not working: the transport's
    ``select`` line and the lock waits of ``queue.Queue.get``."""
    frames = {"Condition.wait", "wait", "Thread._wait_for_tstate_lock", "Event.wait"}
    try:
        for i, line in enumerate((ROOT / "udpcore" / "transport.py").read_text().splitlines(), 1):
            if "select.select(" in line:
                frames.add(f"_Loop._run:{i}")
    except OSError:
        pass
    return frames


def busy_only(stacks: list[tuple[list[str], int]]) -> tuple[list[tuple[list[str], int]], int]:
    """Drop samples of threads that were waiting; returns (kept, dropped)."""
    waiting = _waiting_frames()
    kept, dropped = [], 0
    for stack, n in stacks:
        leaf = stack[-1]
        name, _, where = leaf.partition(" (")
        line = where.rstrip(")").rsplit(":", 1)[-1]
        if name in waiting or f"{name}:{line}" in waiting:
            dropped += n
        else:
            kept.append((stack, n))
    return kept, dropped


def summarise(stacks: list[tuple[list[str], int]], top: int = 25, under: str | None = None) -> str:
    """Inclusive and self shares per function, over the samples of working
    threads (waits dropped); ``under``: only stacks through that function."""
    stacks, dropped = busy_only(stacks)
    if under:
        stacks = [(s, n) for s, n in stacks if any(under in f for f in s)]
    total = sum(n for _, n in stacks)
    if not total:
        return "(no samples)"
    incl: dict[str, int] = {}
    self_: dict[str, int] = {}
    for stack, n in stacks:
        names = [_frame_name(f) for f in stack]
        for name in set(names):
            incl[name] = incl.get(name, 0) + n
        self_[names[-1]] = self_.get(names[-1], 0) + n
    rows = sorted(incl.items(), key=lambda kv: -kv[1])[:top]
    hot = sorted(self_.items(), key=lambda kv: -kv[1])[:4]
    lines = [f"{total} samples of working threads ({dropped} waiting ones left out)"
             + (f", through {under}" if under else ""),
             f"{'incl':>6} {'self':>6}  function"]
    for name, n in rows:
        lines.append(f"{n / total:6.1%} {self_.get(name, 0) / total:6.1%}  {name}")
    lines.append("where the biggest self times fall (share of all working samples, source line):")
    for name, _ in hot:
        lines.append(_hot_lines(stacks, name, total))
    return "\n".join(lines)


def _hot_lines(stacks: list[tuple[list[str], int]], name: str, total: int, top: int = 4) -> str:
    by_line: dict[tuple[str, int], int] = {}
    for stack, n in stacks:
        leaf = stack[-1]
        if _frame_name(leaf) != name:
            continue
        where = leaf.partition(" (")[2].rstrip(")")
        path, _, line = where.rpartition(":")
        if line.isdigit():
            by_line[(path, int(line))] = by_line.get((path, int(line)), 0) + n
    out = [f"  {name}:"]
    for (path, line), n in sorted(by_line.items(), key=lambda kv: -kv[1])[:top]:
        try:
            src = Path(path).read_text().splitlines()[line - 1].strip()
        except (OSError, IndexError):
            src = "?"
        out.append(f"    {n / total:6.1%}  line {line}: {src[:90]}")
    return "\n".join(out)


# --- a private X display ---------------------------------------------------------------------


class Xvfb:
    """A private Xvfb display (its number chosen by Xvfb itself); sets DISPLAY while open."""

    def __init__(self, size: str = "1280x800x24") -> None:
        import shutil
        if shutil.which("Xvfb") is None:
            raise RuntimeError("Xvfb is not installed (apt-get install xvfb)")
        r, w = os.pipe()
        self.p = subprocess.Popen(["Xvfb", "-displayfd", str(w), "-screen", "0", size, "-nolisten", "tcp"],
                                  pass_fds=(w,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  preexec_fn=_die_with_parent)
        os.close(w)
        with os.fdopen(r) as f:
            number = f.readline().strip()
        if not number:
            stop_process(self.p)
            raise RuntimeError("Xvfb did not start")
        self.display = f":{number}"
        self._old = os.environ.get("DISPLAY")
        os.environ["DISPLAY"] = self.display

    def close(self) -> None:
        if self._old is None:
            os.environ.pop("DISPLAY", None)
        else:
            os.environ["DISPLAY"] = self._old
        stop_process(self.p, 2.0)

    def __enter__(self) -> "Xvfb":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
