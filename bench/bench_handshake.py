"""Handshakes: how many a second the server absorbs, and whether a handshake flood delays members' lines.

    .venv/bin/python bench/bench_handshake.py [--quick] [--profile] [CHECKOUT ...]

Since protocol version 2 (issue 12) joining costs the server a key agreement
(X25519 and its key schedule) and, in a locked room, a SPAKE2 run; it caps
them (``--handshake-rate`` 50 a second with a burst of 3, ``--locked-handshake-rate``
8 a second, ``--max-pending`` 256 handshakes waiting for their first sealed
packet, ``--guess-burst`` / ``--guess-rate`` unconfirmed passphrase attempts per
address). The server is the real headless program of this checkout, or of each
CHECKOUT folder given, one after the other (the previous release,
``git -C /work/main worktree add /work/wt-old d3caeb2``, speaks version 1: no
keys, no locked rooms, no handshake limits; its rows are the open room's).

0. **What one HELLO costs**, in process (``bench/hello_costs.py``, a fresh
   process per folder): the server engine's time by what the HELLO leads to,
   and two what-ifs for the HELLOs over the limit.
1. **Handshakes absorbed.** A process of its own (``handshakes``) keeps
   ``--window`` (64) handshakes going at once, each a fresh lean member on its
   own socket, the addresses 127.0.0.2 … 127.0.0.127 in turn, doing the whole
   join as a real client does (``bench.lean_member.Handshake``: HELLO padded to
   200 bytes with a fresh X25519 key, the CHALLENGE's token, in a locked room
   the SPAKE2 message, the WELCOME's key confirmation checked, a sealed PING
   until the server's first sealed packet opens), repeating an unanswered HELLO
   or PING every 0.25 s (a real client's first retry), giving up after 5 s;
   once in, it says BYE (sealed) and closes, so the room stays empty. Reported
   for ``--absorb`` seconds (6; 4 with --quick): handshakes completed a second,
   the server's CPU and its CPU per handshake (so: how many one core would
   absorb), HELLO -> in p50/p99, refusals by code, handshakes given up; with
   the server's default limits, and with every handshake limit lifted (what the
   CPU allows). Open room, and locked room (the passphrase from
   ``LANCHAT_PASSPHRASE``).
2. **A handshake flood against members' lines.** Two well-behaved members
   (lean, sealed, on 127.0.10.1 and .2; ``bench_abuse.Member``) each say a line
   every ``--say-every`` (20 ms), so the server runs with ``--line-rate`` and
   ``--line-burst`` 1000 (its handshake limits are the defaults); the latency of
   each line is the sender's ``sendto`` -> the kernel's arrival stamp at the
   other member (``SO_TIMESTAMPNS``; a line the server dropped counts with its
   retransmission, 0.5 s later). First a baseline (``--baseline`` s, 5; 3 with
   --quick); then, on and off in slices of ``--slice`` seconds (1; the flooders
   SIGSTOPped in the off slices, so "without" is measured at the same times),
   until on for ``--flood`` seconds (8; 6 with --quick):

   - **at the limits**: the ``handshakes`` process above, on 127.0.0.2 …
     127.0.0.85, as fast as the server's limits allow (64 in flight: more than
     the limits take; the server's limiter sets the rate, and after each off
     slice its burst);
   - **beyond the limits**: the same on 127.0.0.86 … 127.0.0.169, plus a
     ``hellos`` process on 127.0.0.170 … 127.0.0.254 that takes a token per
     address and then sends HELLOs with a token, a fresh nonce each, a valid
     X25519 key (and a valid SPAKE2 message in the locked room) as fast as it
     can, round robin, never confirming (those the limits let through cost the
     server a key agreement, a SPAKE2 and a pending handshake; the rest are
     judged and dropped); it reads its answers only for fresh tokens.

   - with ``--cpu-control``, then, **no datagram**: two busy loops at the
     flooders' niceness, on and off in the same slices: what two processes
     wanting the cores cost members' lines on this machine with no flood at
     all (a reference for the rows above; not judged).

   Both flooders run at ``--attack-nice`` (10), as machines elsewhere would,
   taking the CPU the room leaves. Reported per row: p50 / p99 / max with the
   flood and in the slices between, their ratios, the server's CPU, what the
   flood did (handshakes completed a second, refusals, HELLOs sent a second).

Goal (issue 12): with the flood, members' lines p50 and p99 no more than 2x the
unflooded figures (the slices between; the baseline before, when the room had
not recovered in them: their p99 over 2x the baseline's). Only 127.0.0.0/8 is
bound or sent to.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
from typing import TextIO
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import lean_wire as lw  # noqa: E402
from bench.bench_abuse import (Attacker, Recorder, Room, Stop, cell, p_with_missing, ratio_of,  # noqa: E402
                               socket_drops)
from bench.lean_crypto import ClientKeying, KeyShare  # noqa: E402
from bench.lean_member import Handshake, LeanMember, server_version  # noqa: E402
from bench.loopback import LOOPBACK, raise_fd_limit, udp_socket  # noqa: E402
from bench.measure import cpu_seconds, percentile  # noqa: E402
from bench.processes import NO_HANDSHAKE_POLICY, NO_POLICY, PY, ROOT, ServerProcess, label  # noqa: E402
from bench.profiling import Profile, summarise  # noqa: E402
from bench.results import Result, main_for, ms, rate  # noqa: E402

GOAL_FACTOR = 2.0
PASSPHRASE = "correct horse battery staple"
ROOM = "bench"
JOIN_HOSTS = [f"127.0.0.{i}" for i in range(2, 128)]      # the handshakes absorbed, one address after another
# The flood: each part its own addresses (a locked room remembers each address's passphrase attempts).
FLOOD_HOSTS = {"at the limits": [f"127.0.0.{i}" for i in range(2, 86)],
               "beyond the limits": [f"127.0.0.{i}" for i in range(86, 170)]}
HELLO_HOSTS = [f"127.0.0.{i}" for i in range(170, 255)]   # the HELLOs beyond the limits
RETRY = 0.25                     # a real client's first HELLO retry (wire.HELLO_FIRST_RETRY)
JOIN_TIMEOUT = 5.0
REFUSE_CODES = {1: "NAME_TAKEN", 2: "NAME_INVALID", 3: "VERSION", 4: "FULL", 5: "BANNED", 6: "HOST_FULL",
                7: "LOCKED", 8: "TOO_MANY_GUESSES"}
THIS = Path(__file__).resolve()
# Every handshake limit lifted: what the server's CPU allows.
LIFTED = [*NO_POLICY, *NO_HANDSHAKE_POLICY, "--locked-handshake-rate", "1000000", "--guess-burst", "1000000",
          "--guess-rate", "1000000"]
TALKATIVE = ["--line-rate", "1000", "--line-burst", "1000"]     # members say a line every 20 ms


# --- the flooders (each a process of its own) -------------------------------------------

CONTROL = "no datagram: two busy loops"


def spin_child(args: dict) -> dict:
    """A busy loop and no datagram (``--cpu-control``): the CPU a flooder takes, without its flood."""
    stop = Stop()
    Path(args["ready"]).write_text("ready")
    loops = 0
    while not stop.now:
        loops += 1
    return {"loops": loops}


def handshakes_child(args: dict) -> dict:
    """``window`` handshakes at once, a fresh member each, the hosts in turn; each that gets in says BYE."""
    server = (LOOPBACK, args["port"])
    stop = Stop()
    raise_fd_limit(args["window"] + 64)
    hosts = args["hosts"]
    out: dict = {"started": 0, "completed": 0, "refused": Counter(), "unanswered": 0, "latencies": [],
                 "hellos": 0, "pings": 0, "bind_failed": 0, "errors": Counter()}
    ep = select.epoll()
    active: dict[int, Handshake] = {}
    Path(args["ready"]).write_text("ready")
    t0 = time.monotonic()
    deadline = t0 + args["seconds"]
    nxt = 0
    next_tick = t0

    def done(fd: int) -> None:
        hs = active.pop(fd)
        out["hellos"] += hs.hellos
        out["pings"] += hs.pings
        ep.unregister(fd)
        hs.mem.close()

    while not stop.now:
        now = time.monotonic()
        if now >= deadline:
            break
        while len(active) < args["window"]:
            host = hosts[nxt % len(hosts)]
            nxt += 1
            try:
                mem = LeanMember(f"hs{nxt}", server, 64 << 10, host, args["passphrase"])
            except OSError:
                out["bind_failed"] += 1
                continue
            ep.register(mem.fd, select.EPOLLIN)
            active[mem.fd] = Handshake(mem, now, args["version"], retry=RETRY)
            out["started"] += 1
        for fd, _ in ep.poll(0.002):
            hs = active.get(fd)
            if hs is None:
                continue
            while True:
                try:
                    data = hs.mem.sock.recv(65535)
                except (BlockingIOError, InterruptedError):
                    break
                except OSError:
                    break
                now = time.monotonic()
                try:
                    state = hs.datagram(data, now)
                except RuntimeError as exc:        # a confirmation that does not check, a room not as expected
                    out["errors"][str(exc).split(": ", 1)[-1][:80]] += 1
                    done(fd)
                    break
                if state == "in":
                    out["completed"] += 1
                    out["latencies"].append(now - hs.started)
                    try:
                        hs.mem.send_bye()
                    except OSError:
                        pass
                    done(fd)
                    break
                if state == "refused":
                    out["refused"][REFUSE_CODES.get(hs.refused[0], str(hs.refused[0]))] += 1
                    done(fd)
                    break
        now = time.monotonic()
        if now >= next_tick:
            next_tick = now + 0.02
            for fd, hs in list(active.items()):
                if now - hs.started > JOIN_TIMEOUT:
                    out["unanswered"] += 1
                    done(fd)
                else:
                    hs.tick(now)
    out["seconds"] = time.monotonic() - t0
    for fd in list(active):
        done(fd)
    ep.close()
    return out


def hellos_child(args: dict) -> dict:
    """HELLOs with a token, as fast as one process sends them, from ``hosts``; never a confirmation."""
    server = (LOOPBACK, args["port"])
    stop = Stop()
    version = args["version"]
    socks = [udp_socket(64 << 10, h) for h in args["hosts"]]
    by_fd = {s.fileno(): i for i, s in enumerate(socks)}
    ep = select.epoll()
    for s in socks:
        ep.register(s.fileno(), select.EPOLLIN)
    tokens: list[bytes] = [b""] * len(socks)
    asked = [0.0] * len(socks)
    public = KeyShare.generate().public if version >= 2 else b""
    pake = b""
    if version >= 2 and args["passphrase"]:      # a valid SPAKE2 message (made for another handshake)
        pake = ClientKeying(args["passphrase"]).challenged(True, ROOM, os.urandom(8), os.urandom(16))
    got: Counter[str] = Counter()
    sent = failed = 0
    Path(args["ready"]).write_text("ready")
    t0 = time.monotonic()
    deadline = t0 + args["seconds"]
    n = len(socks)
    i = 0
    while not stop.now and time.monotonic() < deadline:
        for _ in range(256):
            k = i % n
            i += 1
            tok = tokens[k]
            if not tok:
                now = time.monotonic()
                if now - asked[k] < 0.25:
                    continue
                asked[k] = now
            try:
                socks[k].sendto(lw.hello(os.urandom(8), f"x{k}", tok, public, pake if tok else b"", version), server)
                sent += 1
            except OSError:
                failed += 1
        for fd, _ in ep.poll(0):
            k = by_fd[fd]
            for _ in range(64):
                try:
                    data = socks[k].recv(65535)
                except (BlockingIOError, InterruptedError):
                    break
                except OSError:
                    break
                reply = lw.handshake_reply(data, version)
                if reply is None:
                    got["other"] += 1
                    continue
                kind, _nonce, body = reply
                if kind == lw.CHALLENGE:
                    tokens[k] = body.token             # a fresh one (the last one admitted someone)
                    got["CHALLENGE"] += 1
                elif kind == lw.WELCOME:
                    got["WELCOME"] += 1
                else:
                    got[REFUSE_CODES.get(body.code, str(body.code))] += 1
    out = {"seconds": time.monotonic() - t0, "sent": sent, "failed": failed, "got": dict(got), "addresses": n}
    for s in socks:
        s.close()
    ep.close()
    return out


def child_main(kind: str, spec: str) -> int:
    args = json.loads(spec)
    try:
        os.nice(args.get("nice", 0))
    except OSError:
        pass
    result = {"handshakes": handshakes_child, "hellos": hellos_child, "spin1": spin_child,
              "spin2": spin_child}[kind](args)
    Path(args["out"]).write_text(json.dumps(result))
    return 0


# --- 0. what one HELLO costs the server, in process (bench/hello_costs.py) -------------------


def hello_costs(roots: list[Path]) -> list[tuple]:
    rows = []
    for r in roots:
        p = subprocess.run([PY, str(THIS.with_name("hello_costs.py")), str(r)], capture_output=True, text=True,
                           timeout=600)
        if p.returncode != 0:
            rows.append((label(r), p.stderr.strip().splitlines()[-1][:120] if p.stderr.strip() else "failed",
                         *("-",) * 7))
            continue
        c = json.loads(p.stdout)

        def us(k: str) -> str:
            return f"{c[k]:,.1f} µs" if k in c else "-"
        limited = us("limited")
        if "limited_budget_first" in c:
            limited += (f" (what-if: budget checked before judging {us('limited_budget_first')}, "
                        f"before decoding {us('limited_raw_first')})")
        n = c.get("burst_turns", 0)
        burst = f"{c['burst_longest_ms']:.1f} ms ({n} turn{'s' if n != 1 else ''})" if "burst_longest_ms" in c else "-"
        rows.append((label(r), us("challenge"), limited, us("handshake"), us("locked_handshake"),
                     us("guesses"), us("held_retry"), burst))
    return rows


# --- the server -------------------------------------------------------------------------


def server(root: Path, locked: bool, extra: list[str]) -> ServerProcess:
    env = {"LANCHAT_PASSPHRASE": PASSPHRASE} if locked else {}
    return ServerProcess(["--room", ROOM, *extra], policy=True, root=root, env=env)


# --- 1. handshakes absorbed ----------------------------------------------------------------


def absorb(root: Path, version: int, locked: bool, lifted: bool, opts: argparse.Namespace, tmp: Path,
           res: Result) -> tuple:
    extra = LIFTED if lifted else []
    if lifted and version < 2:
        extra = NO_POLICY
    with server(root, locked, extra) as srv:
        hs = Attacker("handshakes", tmp, grace=2.0, script=THIS, port=srv.address[1], version=version,
                      passphrase=PASSPHRASE if locked else "", hosts=JOIN_HOSTS, window=opts.window,
                      seconds=opts.absorb + 30.0)
        t_wait = time.monotonic() + 10
        while not hs.is_ready() and time.monotonic() < t_wait:
            time.sleep(0.01)
        meter = srv.cpu_meter().start()
        prof = Profile(srv.pid, opts.absorb) if opts.profile and version >= 2 else None
        time.sleep(opts.absorb)
        used, share = meter.stop()
        hs.stop()
        rep = hs.report()
        if prof is not None:
            res.profiles.append((f"{label(root)}: server absorbing handshakes, {'locked' if locked else 'open'} "
                                 f"room, limits {'lifted' if lifted else 'as by default'} (py-spy during the "
                                 f"measurement)", summarise(prof.stacks(), 30)))
        alive = srv.alive()
    if "error" in rep:
        return (label(root), "locked" if locked else "open", "lifted" if lifted else "default", rep["error"][:120],
                *("-",) * 6)
    secs = rep["seconds"]
    done = rep["completed"]
    per = used / done if done else math.nan
    lat = rep["latencies"]
    refused = ", ".join(f"{v:,} {k}" for k, v in Counter(rep["refused"]).most_common()) or "0"
    errors = sum(rep["errors"].values())
    return (label(root), "locked" if locked else "open", "lifted" if lifted else "default",
            f"{done / secs:,.1f}/s ({done:,} in {secs:.1f} s)",
            f"{share:.0%}" + ("" if alive else " (died)"),
            "-" if per != per else f"{per * 1e3:.2f} ms ({1 / per:,.0f}/s per core)",
            f"{ms(percentile(lat, 50))} / {ms(percentile(lat, 99))}" if lat else "-",
            refused + (f"; {errors} errors: {', '.join(rep['errors'])}" if errors else ""),
            f"{rep['unanswered']:,} of {rep['started']:,}")


# --- 2. a flood against members' lines -------------------------------------------------------


def flood_run(root: Path, version: int, locked: bool, opts: argparse.Namespace, tmp: Path,
              res: Result) -> dict:
    """A baseline, then the flood at the limits (slices), then beyond them (slices): figures per part."""
    names = ["calm0", "calm1"]
    out: dict = {"root": root, "locked": locked, "parts": {}}
    extra = [*TALKATIVE, *opts.server_args.split()] if version >= 2 else TALKATIVE
    with server(root, locked, extra) as srv, AttackPlacement(opts.attack_cpu) as place:
        place.room(srv.pid, opts.worker_cpu)
        rec = Recorder(names, "hs")
        dump = opts.lines_file
        rec.dump = mark(dump, f"{label(root)} {'locked' if locked else 'open'} baseline")
        room = Room(srv.address, 2, rec, say_every=opts.say_every, passphrase=PASSPHRASE if locked else "")
        try:
            room.drive(0.3)
            room.speaking = True
            rec.set_phase(0)
            room.drive(1.0)                                 # warm up
            c0 = cpu_seconds(srv.pid)
            rec.set_phase(1)
            room.drive(opts.baseline)
            rec.set_phase(0)
            room.speaking = False
            room.drive(1.0, until=lambda: rec.got[1] >= rec.expected[1])
            room.speaking = True
            lat, missing = rec.lat[1], max(0, rec.expected[1] - rec.got[1])
            out["baseline"] = {"p50": p_with_missing(lat, missing, 50), "p99": p_with_missing(lat, missing, 99),
                               "max": max(lat) if lat else math.nan, "n": len(lat), "expected": rec.expected[1],
                               "cpu": (cpu_seconds(srv.pid) - c0) / rec.seconds(1)}
            common = {"port": srv.address[1], "version": version, "passphrase": PASSPHRASE if locked else "",
                      "nice": opts.attack_nice, "seconds": 3 * opts.flood + 60.0}
            for part in ("at the limits", "beyond the limits", *((CONTROL,) if opts.cpu_control else ())):
                rec = Recorder(names, "hs")
                rec.dump = mark(dump, f"{label(root)} {'locked' if locked else 'open'} {part}")
                for m in room.members:
                    m.rec = rec
                room.rec = rec
                if part == CONTROL:
                    attackers = [Attacker(kind, tmp, grace=2.0, script=THIS, **common) for kind in ("spin1", "spin2")]
                else:
                    attackers = [Attacker("handshakes", tmp, grace=2.0, script=THIS, hosts=FLOOD_HOSTS[part],
                                          window=opts.window, **common)]
                if part == "beyond the limits":
                    attackers.append(Attacker("hellos", tmp, grace=2.0, script=THIS, hosts=HELLO_HOSTS, **common))
                for a in attackers:
                    place.attacker(a.p.pid)
                room.drive(10.0, until=lambda: all(a.is_ready() for a in attackers))
                for a in attackers:
                    a.pause(True)
                    a.start_meter()
                room.drive(0.5)                             # the first slice without
                cpu = {2: 0.0, 4: 0.0}
                drops = {2: 0, 4: 0}
                prof = Profile(srv.pid, 2 * opts.flood) if opts.profile and version >= 2 else None
                on_time = 0.0
                t_start = time.monotonic()
                while on_time < opts.flood - 1e-3 and srv.alive() and time.monotonic() - t_start < 4 * opts.flood + 20:
                    n = min(opts.slice, opts.flood - on_time)
                    for i, paused in ((2, False), (4, True)):
                        for a in attackers:
                            a.pause(paused)
                        rec.set_phase(i)
                        mark(dump, f"phase {i} from {time.time_ns()}")
                        c0, d0, t = cpu_seconds(srv.pid), socket_drops([srv.address]), time.monotonic()
                        room.drive(n)
                        cpu[i] += cpu_seconds(srv.pid) - c0
                        drops[i] += socket_drops([srv.address]) - d0
                        if i == 2:
                            on_time += time.monotonic() - t
                rec.set_phase(0)
                for a in attackers:
                    a.stop(on_time)
                room.speaking = False
                room.drive(2.0, until=lambda: rec.got[2] >= rec.expected[2] and rec.got[4] >= rec.expected[4])
                reports = {a.kind: dict(a.report(), cpu=a.cpu) for a in attackers}
                room.speaking = True
                if prof is not None:
                    res.profiles.append((f"{label(root)}: server during the {'locked' if locked else 'open'} "
                                         f"room's flood {part}, on and off slices (py-spy)",
                                         summarise(prof.stacks(), 30)))
                figs = {}
                for i in (2, 4):
                    lat = rec.lat[i]
                    missing = max(0, rec.expected[i] - rec.got[i])
                    figs[i] = {"p50": p_with_missing(lat, missing, 50), "p99": p_with_missing(lat, missing, 99),
                               "max": max(lat) if lat else math.nan, "n": len(lat), "expected": rec.expected[i],
                               "cpu": cpu[i] / rec.seconds(i), "seconds": rec.seconds(i), "drops": drops[i]}
                out["parts"][part] = {"figs": figs, "reports": reports, "on_time": on_time,
                                      "dropped": dict(rec.dropped)}
                room.drive(1.0)                             # pending handshakes expire or complete
            out["alive"] = srv.alive()
        finally:
            room.close()
    return out


def mark(dump: TextIO | None, what: str) -> TextIO | None:
    """``--lines-to``: a heading in the file of lines (a row begins, a slice begins)."""
    if dump is not None:
        dump.write(f"# {what}\n")
    return dump


def _threads_and_children(pid: int) -> list[int]:
    """The threads of ``pid`` and, recursively, of its child processes (Linux's /proc)."""
    out: list[int] = []
    try:
        threads = [int(t) for t in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        return [pid]
    for kid in _children(pid):
        out += _threads_and_children(kid)
    return threads + out


def _children(pid: int) -> list[int]:
    """The processes ``pid``'s threads started (Linux's /proc)."""
    kids = []
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    for tid in threads:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                kids += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return kids


class AttackPlacement:
    """``--attack-cpu``: the flooders on the first CPU, the server and the members (this
    process) on the others, as when the attack comes from machines elsewhere and only its
    datagrams reach the server's. Without it everything shares every CPU."""

    def __init__(self, on: bool) -> None:
        self.mine = os.sched_getaffinity(0)
        cpus = sorted(self.mine)
        self.on = on and len(cpus) >= 2
        self.attack, self.rest = ({cpus[0]}, set(cpus[1:])) if self.on else (None, None)

    def __enter__(self) -> "AttackPlacement":
        if self.rest:
            os.sched_setaffinity(0, self.rest)
        return self

    def __exit__(self, *exc) -> None:
        os.sched_setaffinity(0, self.mine)

    def _put(self, pid: int, cpus: set[int] | None) -> None:
        """Every thread of ``pid`` and of the processes it started (sched_setaffinity moves
        one thread: the server's socket thread had stayed on every CPU, and so had its
        SPAKE2 worker, or not, by whether the first locked join came before the server
        was placed). A process started later inherits its parent thread's CPUs."""
        if not cpus:
            return
        for tid in _threads_and_children(pid):
            try:
                os.sched_setaffinity(tid, cpus)
            except OSError:
                pass

    def room(self, pid: int, worker_cpu: str = "room") -> None:
        """The server's threads and processes with the room; ``worker_cpu="attack"``: its
        child processes (the SPAKE2 worker) on the flooders' CPU instead, as on a server
        with a core for each."""
        self._put(pid, self.rest)
        if worker_cpu == "attack" and self.attack:
            for kid in _children(pid):
                self._put(kid, self.attack)

    def attacker(self, pid: int) -> None:
        self._put(pid, self.attack)


def unflooded(run: dict, part: str) -> tuple[dict, str]:
    """What a part's flooded slices are judged against: the slices between (the same times), unless
    the room had not recovered in them (p99 over 2x the baseline before any flood): then the baseline."""
    b, base = run["parts"][part]["figs"][4], run["baseline"]
    if b["p99"] <= GOAL_FACTOR * base["p99"]:
        return b, "between"
    return base, "baseline"


def flood_rows(run: dict) -> list[tuple]:
    def lines(f: dict) -> str:
        return f"{cell(f['p50'])} / {cell(f['p99'])} / {cell(f['max'])} ({f['n']:,} of {f['expected']:,})"
    base = run["baseline"]
    rows = [(label(run["root"]), "locked" if run["locked"] else "open", "none (the baseline before)",
             lines(base), "-", "-", f"{base['cpu']:.0%}", "-", "-", "-")]
    for part, got in run["parts"].items():
        figs, reps, on = got["figs"], got["reports"], got["on_time"] or math.nan
        a, b = figs[2], figs[4]
        ref, which = unflooded(run, part)
        hs = reps.get("handshakes", {})
        he = reps.get("hellos", {})
        flood = "-"
        if part == CONTROL:
            flood = "two busy loops at the flooders' niceness, no datagram; CPU " + \
                " and ".join(f"{reps.get(k, {}).get('cpu', math.nan):.0%}" for k in ("spin1", "spin2"))
        elif "error" in hs:
            flood = hs["error"][:120]
        elif hs:
            refused = ", ".join(f"{v:,} {k}" for k, v in Counter(hs["refused"]).most_common())
            errors = sum(Counter(hs["errors"]).values())
            flood = (f"{hs['completed'] / on:,.1f} handshakes/s completed ({hs['hellos'] / on:,.0f} HELLOs/s)"
                     + (f", refused: {refused}" if refused else "")
                     + (f", {hs['unanswered']:,} given up" if hs["unanswered"] else "")
                     + (f", {errors:,} failed ({', '.join(hs['errors'])})" if errors else "")
                     + f"; CPU {hs.get('cpu', math.nan):.0%}")
        if he:
            if "error" in he:
                flood += "; " + he["error"][:120]
            else:
                answers = ", ".join(f"{v:,} {k}" for k, v in Counter(he["got"]).most_common(4))
                flood += (f"; HELLO flood: {rate(he['sent'] / on)}/s with a token from {he['addresses']} addresses"
                          f" (answers: {answers or 'none'}); CPU {he.get('cpu', math.nan):.0%}")
        dropped = len(got["dropped"])
        rows.append((label(run["root"]), "locked" if run["locked"] else "open", part, lines(b), lines(a),
                     f"{ratio_of(a['p50'], ref['p50'])} / {ratio_of(a['p99'], ref['p99'])}"
                     + (" (vs the baseline)" if which == "baseline" else ""),
                     f"{b['cpu']:.0%} / {a['cpu']:.0%}", f"{b['drops']:,} / {a['drops']:,}", flood,
                     f"{dropped} of 2"))
    return rows


# --- the whole -------------------------------------------------------------------------------


def run(opts: argparse.Namespace) -> Result:
    roots = [Path(r).resolve() for r in opts.checkouts] or [ROOT]
    for r in roots:
        if not (r / "gui_server.py").exists():
            raise SystemExit(f"{r}: no gui_server.py here (give a project checkout)")
    if opts.quick:
        opts.absorb = opts.absorb or 4.0
        opts.flood = opts.flood or 6.0
        opts.baseline = opts.baseline or 3.0
    opts.absorb = opts.absorb or 6.0
    opts.flood = opts.flood or 8.0
    opts.baseline = opts.baseline or 5.0
    raise_fd_limit(opts.window * 2 + 512)
    opts.lines_file = open(opts.lines_to, "w", buffering=1) if opts.lines_to else None
    res = Result("Handshakes", "python bench/bench_handshake.py" + "".join(f" {r}" for r in opts.checkouts))
    res.add_table(
        "What one HELLO costs the server engine, in process (receive_datagram + datagrams_to_send, mean of "
        "3,000; 1,000 and 60 for the handshakes), by what it leads to",
        ("server", "no token: CHALLENGE", "a token, over the handshake limit: dropped",
         "a token: key agreement, WELCOME, pending (open room)", "the same in a locked room (+ SPAKE2)",
         "locked room, out of passphrase attempts: REFUSE", "a held client's retry (40 held)",
         "50 HELLOs at once, --handshake-burst 50: the longest turn"), hello_costs(roots))
    absorb_rows, flood_runs = [], []
    tmp = Path(tempfile.mkdtemp(prefix="bench-handshake-"))
    try:
        for r in roots:
            with ServerProcess(policy=True, root=r) as probe:
                version = server_version(probe.address)
            rooms = (False, True) if version >= 2 else (False,)
            for locked in rooms if not opts.no_absorb else ():
                for lifted in (False, True):
                    absorb_rows.append(absorb(r, version, locked, lifted, opts, tmp, res))
            if not opts.no_flood:
                for locked in (x for x in rooms if opts.rooms == "both" or x == (opts.rooms == "locked")):
                    flood_runs.append(flood_run(r, version, locked, opts, tmp, res))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if opts.lines_file is not None:
            opts.lines_file.close()
    if absorb_rows:
        res.add_table(
            f"Handshakes absorbed: one process keeps {opts.window} real handshakes going (a fresh member and X25519 "
            f"key each, SPAKE2 in the locked room, the confirmation checked, a sealed PING; HELLO/PING repeated "
            f"every {RETRY} s; BYE once in), from {len(JOIN_HOSTS)} addresses in turn, for {opts.absorb:g} s; "
            f"'limits': the server's defaults (50 key agreements/s, burst 50; 8 SPAKE2/s; 256 pending; 5 guesses "
            f"per address, then one per 10 s) or every handshake limit lifted",
            ("server", "room", "limits", "handshakes completed", "server CPU", "server CPU per handshake",
             "HELLO -> in p50 / p99", "refused", "given up (5 s) / started"), absorb_rows)
    if flood_runs:
        rows = [row for run_ in flood_runs for row in flood_rows(run_)]
        res.add_table(
            f"Members' lines during a handshake flood: 2 members each saying a line every {opts.say_every * 1e3:.0f} "
            f"ms (latency = sendto -> the kernel's arrival stamp at the other); the flood on and off in "
            f"{opts.slice:g} s slices until on for {opts.flood:g} s; flooders at nice {opts.attack_nice}"
            + ("; the flooders on a CPU of their own, the server and members on the other" if opts.attack_cpu else "")
            + (f"; the version-2 server with {opts.server_args}" if opts.server_args else ""),
            ("server", "room", "flood", "without (the slices between): p50 / p99 / max (lines)",
             "with: p50 / p99 / max (lines)", "with / without: p50 / p99", "server CPU without / with",
             "datagrams the server's full socket dropped, without / with", "what the flood did",
             "members dropped"),
            rows)
        goal_root = roots[-1]
        for run_ in flood_runs:
            if run_["root"] != goal_root:
                continue
            for part, got in run_["parts"].items():
                if part == CONTROL:
                    continue                           # a reference, not a flood
                a = got["figs"][2]
                b, which = unflooded(run_, part)
                ok = a["p50"] <= GOAL_FACTOR * b["p50"] and a["p99"] <= GOAL_FACTOR * b["p99"]
                vs = "the slices between" if which == "between" else \
                    "the baseline before (the slices between were over 2x it: the room had not recovered)"
                res.goal(f"a handshake flood {part}, {'locked' if run_['locked'] else 'open'} room: members' lines "
                         f"p50 and p99 within {GOAL_FACTOR:.0f}x the unflooded figures"
                         + (f" ({label(goal_root)})" if len(roots) > 1 else ""),
                         f"p50 {cell(a['p50'])} vs {cell(b['p50'])} = {ratio_of(a['p50'], b['p50'])}, "
                         f"p99 {cell(a['p99'])} vs {cell(b['p99'])} = {ratio_of(a['p99'], b['p99'])}; against {vs}",
                         ok)
        for run_ in flood_runs:
            if not run_.get("alive", True):
                res.notes.append(f"{label(run_['root'])}: the server died during the flood.")
    res.notes.append("The flooders run at nice "
                     f"{opts.attack_nice}: on this 2-core machine they take the CPU the room leaves, as machines "
                     "elsewhere would; the members and the server are not niced. The handshakes absorbed bind "
                     "127.0.0.2-127.0.0.127; in the flood, the handshakes 127.0.0.2-85 (at the limits) and "
                     "127.0.0.86-169 (beyond), the HELLO flood 127.0.0.170-254, the members 127.0.10.1-2. A member's "
                     "line the server dropped (its socket buffer full) is resent after 0.5 s and counts from its "
                     "first send.")
    return res


def add_args(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("checkouts", nargs="*", metavar="CHECKOUT",
                    help="project folders whose server to measure, one after the other (default: this one); "
                         "the goal is judged on the last")
    ap.add_argument("--window", type=int, default=64, help="handshakes at once (default 64)")
    ap.add_argument("--absorb", type=float, default=0.0, help="seconds of each absorb row (default 6; 4 with --quick)")
    ap.add_argument("--flood", type=float, default=0.0,
                    help="seconds the flood is on, in slices (default 8; 6 with --quick)")
    ap.add_argument("--baseline", type=float, default=0.0,
                    help="seconds of the room before any flood (default 5; 3 with --quick)")
    ap.add_argument("--slice", type=float, default=1.0, help="seconds of each on or off slice (default 1)")
    ap.add_argument("--say-every", type=float, default=0.02, help="seconds between a member's lines (default 0.02)")
    ap.add_argument("--attack-nice", type=int, default=10, help="niceness of the flooders (default 10)")
    ap.add_argument("--attack-cpu", action="store_true",
                    help="the flooders on a CPU of their own, the server and the members on the other "
                         "(an attack from machines elsewhere)")
    ap.add_argument("--worker-cpu", choices=("room", "attack"), default="room",
                    help="with --attack-cpu, where the server's SPAKE2 worker runs: with the room (default: a "
                         "one-core server) or on the flooders' CPU (a server with a core for it)")
    ap.add_argument("--cpu-control", action="store_true",
                    help="after the floods, the same slices with two busy loops at the flooders' niceness and no "
                         "datagram: what the flooders' CPU alone costs members' lines on this machine (not judged)")
    ap.add_argument("--rooms", choices=("both", "open", "locked"), default="both",
                    help="the flood's rooms (default both)")
    ap.add_argument("--lines-to", metavar="FILE",
                    help="write each member's line of the flood rows to FILE: phase (1 baseline, 2 flood on, "
                         "4 off), sent (ns since the epoch), latency (ms), receiver; a '#' line where each row "
                         "and slice begins (where the slow lines sit)")
    ap.add_argument("--no-flood", action="store_true", help="only the handshakes absorbed")
    ap.add_argument("--no-absorb", action="store_true", help="only the flood")
    ap.add_argument("--server-args", default="", metavar="ARGS",
                    help="more options for a version-2 server in the flood (what-ifs with its own limits), "
                         "e.g. --server-args='--handshake-burst 5'")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        sys.exit(child_main(sys.argv[2], sys.argv[3]))

    def _quit(signum, _frame):                  # SIGTERM/SIGHUP clean up as Ctrl-C does
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, _quit)
    signal.signal(signal.SIGHUP, _quit)
    main_for("Handshakes", run, add_args, __doc__)
