"""Latency: a line from one member to another through the server on loopback,
against the bare echo loop's round trip, measured in the same run.

    .venv/bin/python bench/bench_latency.py [--quick] [--profile] [--no-pin]

The server is the real headless program (``gui_server.py --headless``) in its
own process; members are real ``ClientEngine`` instances driven from this
process, each with its own socket. Each line carries the time its sender
submitted it. Latency is taken where it arrives, from the kernel's arrival
stamp on the receiving socket (``SO_TIMESTAMPNS``), so the time this one
process takes to get round to reading it (it plays a hundred members) does not
count:

- **p50/p99/max**: the sender's ``sendto`` -> arrival at the receiver's socket:
  two hops and the server, the same span as the echo loop's round trip.
- **from submit**: from the sender handing the line to its engine (``say()``;
  adds the sending engine).
- **to the event**: from ``say()`` to the receiver's ``RoomLine`` (adds both
  engines; idle rows only, where this process has nothing else to do).

The baseline is a datagram of the same size to the bare ``recvfrom``/``sendto``
echo loop and back, measured the same way before and after the chat.

How the machine is used, so that the harness does not measure itself:

- The members (and the echo prober) never wait in ``epoll_wait``: they sleep
  0.2 ms, then look. A datagram for them only lands on epoll's ready list, so
  the server's ``sendto`` wakes nobody — as with members on other machines.
  (Waiting in ``epoll_wait`` instead makes the server's first ``sendto`` of each
  line pay for waking this process, ~0.1 ms on this VM, and whether that lands
  before or after the receiver's copy depends on the server's set order.)
- For the idle rows the prober is pinned to one CPU and the server / echo
  loop to another, so every request wakes its server on another CPU, as a
  datagram from another machine does. Unpinned, the scheduler may run the echo
  loop on the prober's CPU and spare it that wake-up, which a chat server never
  gets; both are reported (``unpinned`` rows).
- The loaded row (100 members) runs unpinned: confined to one CPU, the process
  playing 100 members delays its own datagrams by ~5 ms now and then (seen as
  clusters of lines that all reach the server late, pinned server or not).

Rows: *idle, 2 members* (one sends a line every ~2 ms, the other receives);
*quiet room of 100* (one member talks, 99 receive: the fan-out alone);
*100 members chatting* (each says lines at random, Poisson, 1 line/s on
average; every member measures every line it receives).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import select
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent


def _root_argument() -> Path:
    """``--root FOLDER``: the project folder whose server and client engine to measure (a child of a
    comparison run). Read before anything imports udpcore, so that it is that folder's."""
    if "--root" in sys.argv[:-1]:
        return Path(sys.argv[sys.argv.index("--root") + 1]).resolve()
    return HERE


SERVER_ROOT = _root_argument()
if SERVER_ROOT != HERE:                 # that folder's udpcore; this folder's bench code
    sys.path.insert(0, str(SERVER_ROOT))
    import udpcore  # noqa: E402
    sys.path.remove(str(SERVER_ROOT))
    assert Path(udpcore.__file__).resolve().is_relative_to(SERVER_ROOT), udpcore.__file__
sys.path.insert(0, str(HERE))
from udpcore import events as ev  # noqa: E402

from bench.engine_pump import EnginePump, join_all  # noqa: E402
from bench.loopback import recv_stamped, stamp_sockets, udp_socket  # noqa: E402
from bench.measure import median, percentile  # noqa: E402
from bench.processes import PY, EchoProcess, ServerProcess, label, spawn  # noqa: E402
from bench.profiling import Profile, summarise  # noqa: E402
from bench.results import Result, main_for, ms  # noqa: E402

GOAL_P50_FACTOR = 3.0
GOAL_P99_LOAD = 0.005
POLL_SLEEP = 0.0002
SERVER_ARGS: list[str] = []     # --server-args: bench/server_runner.py what-if options instead of gui_server.py


class Placement:
    """Which CPUs the prober (this process) and the servers run on."""

    def __init__(self, pinned: bool) -> None:
        self.mine = os.sched_getaffinity(0)
        cpus = sorted(self.mine)
        self.pinned = pinned and len(cpus) >= 2
        self.probe = {cpus[0]} if self.pinned else None
        self.server = {cpus[1]} if self.pinned else None

    def __enter__(self) -> "Placement":
        if self.probe:
            os.sched_setaffinity(0, self.probe)
        return self

    def __exit__(self, *exc) -> None:
        os.sched_setaffinity(0, self.mine)

    def place_server(self, pid: int) -> None:
        if self.server:
            try:
                os.sched_setaffinity(pid, self.server)
            except OSError:
                pass


def echo_rtt(echo: EchoProcess, samples: int, gap: float) -> tuple[list[float], list[float]]:
    """Round trips through the echo loop: (to the socket, to our recvmsg), seconds."""
    sock = udp_socket()
    stamp_sockets(sock)
    ep = select.epoll()
    ep.register(sock.fileno(), select.EPOLLIN)
    payload = b"\xffUC\x01\x05" + bytes(75)          # the size of a relayed line
    kernel, app = [], []
    try:
        for i in range(samples + 20):
            t0 = time.time_ns()
            sock.sendto(payload, echo.address)
            deadline = time.monotonic() + 1.0
            while True:                              # sleep, then look (see the docstring)
                time.sleep(POLL_SLEEP)
                if ep.poll(0):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError("the echo loop did not answer")
            _, _, stamp = recv_stamped(sock)
            t1 = time.time_ns()
            if i >= 20:                              # the kernel turns stamping on lazily
                kernel.append((stamp - t0) / 1e9)
                app.append((t1 - t0) / 1e9)
            time.sleep(gap * random.uniform(0.5, 1.5))
    finally:
        ep.close()
        sock.close()
    return kernel, app


class LineClock:
    """Stamps lines when they are submitted and sent; collects latencies where they arrive."""

    def __init__(self) -> None:
        self.wire: list[float] = []      # sender's sendto -> receiver's socket
        self.submit: list[float] = []    # sender's submit -> receiver's socket
        self.app: list[float] = []       # sender's submit -> receiver's RoomLine
        self.sent_at: dict[int, int] = {}
        self.recording = False
        self.said = 0

    def say(self, pump: EnginePump, mem, now: float) -> None:
        seq = self.said
        self.said += 1
        t = time.time_ns()
        mem.engine.say(f"{t} {seq} line from {mem.name}")
        mem.tx_stamp = 0
        pump.flush(mem, now)
        self.sent_at[seq] = mem.tx_stamp or t

    def on_event(self, mem, e, now: float) -> None:
        if self.recording and isinstance(e, ev.RoomLine) and not e.own:
            head = e.text.split(" ", 2)
            if len(head) == 3 and head[0].isdigit() and head[1].isdigit():
                submitted = int(head[0])
                self.submit.append((mem.rx_stamp - submitted) / 1e9)
                self.wire.append((mem.rx_stamp - self.sent_at.get(int(head[1]), submitted)) / 1e9)
                self.app.append((time.time_ns() - submitted) / 1e9)


def run_room(place: Placement, n: int, seconds: float, everyone: bool, gap: float = 0.002,
             profile: bool = False, seed: int = 1) -> tuple[LineClock, float, str]:
    """A server with ``n`` members. everyone=False: member 0 says a line every
    ~``gap`` s; True: each member says lines at 1 line/s on average (Poisson).
    Returns the clock, lines per second said while recording, and a profile."""
    clock = LineClock()
    rng = random.Random(seed)
    prof_text = ""
    with ServerProcess(SERVER_ARGS, runner=bool(SERVER_ARGS), root=SERVER_ROOT) as srv:
        place.place_server(srv.pid)
        pump = EnginePump(srv.address, rcvbuf=1 << 20, stamped=True)
        pump.sleep_poll = POLL_SLEEP
        try:
            join_all(pump, [f"m{i:03d}" for i in range(n)], timeout=30, on_event=clock.on_event)
            members = pump.members
            pump.run_for(0.3)                        # the join traffic settles
            if everyone:
                due = [time.monotonic() + rng.expovariate(1.0) for _ in members]

                def tick(now: float) -> None:
                    for i, t in enumerate(due):
                        if now >= t:
                            clock.say(pump, members[i], now)
                            due[i] = t + rng.expovariate(1.0)
            else:
                next_at = time.monotonic()

                def tick(now: float) -> None:
                    nonlocal next_at
                    if now >= next_at:
                        clock.say(pump, members[0], now)
                        next_at = now + gap * rng.uniform(0.5, 1.5)
            pump.run_for(0.3, tick, POLL_SLEEP)      # warm up
            prof = Profile(srv.pid, seconds) if profile else None
            said0 = clock.said
            clock.recording = True
            pump.run_for(seconds, tick, POLL_SLEEP)
            rate = (clock.said - said0) / seconds
            pump.run_for(0.2)                         # the last lines arrive
            clock.recording = False
            if prof is not None:
                prof_text = summarise(prof.stacks(), 30)
        finally:
            pump.close()
    return clock, rate, prof_text


def row(label: str, wire: list[float], submit: list[float] | None, app: list[float] | None,
        base: float) -> tuple:
    def pp(v: list[float] | None) -> str:
        return f"{ms(percentile(v, 50))} / {ms(percentile(v, 99))}" if v else "-"
    p50 = percentile(wire, 50)
    return (label, f"{len(wire):,}", ms(p50), ms(percentile(wire, 99)), ms(max(wire)), f"{p50 / base:.1f}x",
            pp(submit), pp(app))


def run_one(opts: argparse.Namespace) -> tuple[Result, dict]:
    """Every row against the server (and client engine) of SERVER_ROOT; the result and its figures."""
    SERVER_ARGS[:] = opts.server_args.split()
    res = Result("Latency", "python bench/bench_latency.py")
    samples = 500 if opts.quick else 1500
    idle_s = samples * 0.002
    load_s = 5.0 if opts.quick else 12.0
    with Placement(not opts.no_pin) as place:
        with EchoProcess() as echo:
            place.place_server(echo.pid)
            ek, ea = echo_rtt(echo, samples, 0.002)
            idle, _, _ = run_room(place, 2, idle_s, everyone=False)
            quiet, _, _ = run_room(place, 100, 1.0 if opts.quick else 3.0, everyone=False, gap=0.005)
            ek2, ea2 = echo_rtt(echo, samples, 0.002)
            ek, ea = ek + ek2, ea + ea2
    # Under load nothing is pinned: pinned to one CPU, the 100 simulated members
    # delay their own datagrams (see the module docstring).
    with Placement(False) as free, EchoProcess() as echo:
        fk, fa = echo_rtt(echo, samples, 0.002)
        fidle, _, _ = run_room(free, 2, idle_s, everyone=False)
        load, load_rate, _ = run_room(free, 100, load_s, everyone=True)
        prof = run_room(free, 100, 4.0, everyone=True, profile=True)[2] if opts.profile else ""
    base = percentile(ek, 50)
    fbase = percentile(fk, 50)
    where = "server pinned to another CPU than the members" if place.pinned else "unpinned"
    rows = [row(f"bare echo loop, round trip (baseline; {where})", ek, None, ea, base),
            row(f"chat, idle, 2 members ({where})", idle.wire, idle.submit, idle.app, base),
            row(f"chat, quiet room of 100, one member talking ({where})", quiet.wire, quiet.submit, None, base)]
    if place.pinned:
        rows += [row("bare echo loop, round trip, unpinned (baseline for the rows below)", fk, None, fa, fbase),
                 row("chat, idle, 2 members, unpinned", fidle.wire, fidle.submit, fidle.app, fbase)]
    rows.append(row(f"chat, 100 members at 1 line/s each ({load_rate:.0f} lines/s), unpinned",
                    load.wire, load.submit, None, fbase))
    res.add_table("Latency on loopback (p50/p99/max: the sender's sendto -> arrival at the receiver's socket; "
                  "'from submit' adds the sending engine; 'to the event' adds both engines); "
                  "'vs bare RTT' against the echo loop placed the same way",
                  ("path", "samples", "p50", "p99", "max", "p50 vs bare RTT", "from submit p50 / p99",
                   "to the event p50 / p99"), rows)
    p50_idle = percentile(idle.wire, 50)
    p99_load = percentile(load.submit, 99)
    extra = ""
    if place.pinned:
        extra = f"; unpinned {ms(percentile(fidle.wire, 50))} = {percentile(fidle.wire, 50) / fbase:.1f}x"
    res.goal(f"p50 at idle within {GOAL_P50_FACTOR:.0f}x the bare round trip ({ms(base)}, {where})",
             f"{ms(p50_idle)} = {p50_idle / base:.1f}x{extra}", p50_idle <= GOAL_P50_FACTOR * base)
    res.goal(f"p99 under {GOAL_P99_LOAD * 1000:.0f} ms while 100 members chat at 1 line/s each (from submit)",
             ms(p99_load), p99_load < GOAL_P99_LOAD)
    res.notes.append("The loaded row runs unpinned. With the 100 simulated members pinned to one CPU its p99 "
                     "was 7-8 ms on this machine; per line, the delay then hits whole clusters of lines "
                     "(~5 ms before the server's first copy goes out) whether or not the server is pinned, and "
                     "does not change with the server's GIL switch interval, its garbage collector or its "
                     "printing (server_runner what-ifs): it comes with confining the load generator.")
    if prof:
        res.profiles.append(("server while 100 members chat at 1 line/s each (an extra 4 s run under py-spy)", prof))
    keys = ["echo", "idle", "quiet"] + (["echo, unpinned", "idle, unpinned"] if place.pinned else []) + ["load"]
    wires = [ek, idle.wire, quiet.wire] + ([fk, fidle.wire] if place.pinned else []) + [load.wire]
    bases = [base] * 3 + ([fbase] * 2 if place.pinned else []) + [fbase]
    figures = {"base": base, "free_base": fbase, "pinned": place.pinned,
               "rows": {k: {"label": r[0], "p50": percentile(v, 50), "p99": percentile(v, 99), "base": b}
                        for k, r, v, b in zip(keys, rows, wires, bases)},
               "idle_p50": p50_idle, "free_idle_p50": percentile(fidle.wire, 50), "load_p99_submit": p99_load}
    return res, figures


def run(opts: argparse.Namespace) -> Result:
    if opts.figures:                      # a child of a comparison run
        res, figures = run_one(opts)
        opts.figures.write_text(json.dumps(figures))
        return res
    if not opts.checkouts:
        return run_one(opts)[0]
    return compare(opts)


def compare(opts: argparse.Namespace) -> Result:
    """Each CHECKOUT's server and client engine in turn, ``--rounds`` times, each run a child
    process with its own echo baseline; the figures side by side."""
    roots = [Path(r).resolve() for r in opts.checkouts]
    res = Result("Latency", "python bench/bench_latency.py" + "".join(f" {r}" for r in opts.checkouts))
    figs: dict[Path, list[dict]] = {r: [] for r in roots}
    last: Result | None = None
    with tempfile.TemporaryDirectory(prefix="bench-latency-") as tmp:
        for rnd in range(opts.rounds):
            for r in roots:
                f, j = Path(tmp) / "figures.json", Path(tmp) / "result.json"
                cmd = [PY, str(Path(__file__).resolve()), "--root", str(r), "--figures", str(f), "--json", str(j)]
                cmd += ["--quick"] * opts.quick + ["--no-pin"] * opts.no_pin
                cmd += [f"--server-args={opts.server_args}"] if opts.server_args else []
                p = spawn(cmd, cwd=HERE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                _, err = p.communicate(timeout=600)
                if p.returncode != 0:
                    raise RuntimeError(f"{label(r)}: the latency run failed: {err.decode(errors='replace')[-1500:]}")
                figs[r].append(json.loads(f.read_text()))
                if r == roots[-1]:
                    last = Result.from_json(json.loads(j.read_text()))
    assert last is not None
    for caption, tbl in last.tables:
        res.tables.append((f"{label(roots[-1])}, the last round: {caption}", tbl))
    rows = []
    for key, row in figs[roots[-1]][0]["rows"].items():
        cells = []
        for r in roots:
            got = [f["rows"][key] for f in figs[r] if key in f["rows"]]
            if not got:
                cells.append("-")
                continue
            p50, p99 = median(g["p50"] for g in got), median(g["p99"] for g in got)
            runs = [g["p50"] / g["base"] for g in got]
            cells.append(f"{ms(p50)} / {ms(p99)} ({median(runs):.1f}x; runs "
                         + ", ".join(f"{x:.1f}x" for x in runs) + ")")
        rows.append((row["label"], *cells))
    res.add_table(f"Latency, {' against '.join(label(r) for r in reversed(roots))}: p50 / p99 of the sender's sendto "
                  f"-> arrival, and p50 against the bare round trip measured in the same run; medians of "
                  f"{opts.rounds} runs each, alternating",
                  ("path", *(label(r) for r in roots)), rows)
    for r in roots:
        idle = median(f["idle_p50"] / f["base"] for f in figs[r])
        free = median(f["free_idle_p50"] / f["free_base"] for f in figs[r])
        res.goal(f"p50 at idle within {GOAL_P50_FACTOR:.0f}x the bare round trip ({label(r)}, median of "
                 f"{opts.rounds} runs)", f"{idle:.1f}x; unpinned {free:.1f}x", idle <= GOAL_P50_FACTOR)
        p99 = median(f["load_p99_submit"] for f in figs[r])
        res.goal(f"p99 under {GOAL_P99_LOAD * 1000:.0f} ms while 100 members chat at 1 line/s each (from submit; "
                 f"{label(r)})", ms(p99), p99 < GOAL_P99_LOAD)
    res.notes += last.notes
    return res


def add_args(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("checkouts", nargs="*", metavar="CHECKOUT",
                    help="project folders to compare (their server and client engine, this folder's bench), "
                         "each run in turn in a child process, --rounds times")
    ap.add_argument("--rounds", type=int, default=2, help="runs of each CHECKOUT, alternating (default 2)")
    ap.add_argument("--root", type=Path, default=HERE, help=argparse.SUPPRESS)
    ap.add_argument("--figures", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--no-pin", action="store_true", help="let the scheduler place the prober and the servers")
    ap.add_argument("--server-args", default="", metavar="ARGS",
                    help="run bench/server_runner.py with these what-if options instead of gui_server.py, "
                         "e.g. --server-args=--no-print")


if __name__ == "__main__":
    main_for("Latency", run, add_args, __doc__)
