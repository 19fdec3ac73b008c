"""Scale: 5,000 joined members that only keep alive — the server's memory (RSS) and CPU.

    .venv/bin/python bench/bench_scale.py [--quick] [--members 5000] [--window 10] [--real-joins 500]

The server runs in its own process (``bench/server_runner.py --quiet-joins``:
the real headless server, except that joins are not announced to the members
already there — filling a room of N costs N²/2 join notices, 12.5 million for
5,000, which is its own figure below, not part of "only keep alive"). The
members are 5,000 real ``ClientEngine`` instances with a socket each, driven
from this one process; after the last has joined and the room is quiet, the
server's CPU is read from /proc over ``--window`` seconds (two keepalive
periods of 5 s) and its RSS at the end. The baseline is the same server process
with no member at all, measured in the same run.

It also times filling a room of ``--real-joins`` N members (1,000; 400 with
``--quick``) with the unmodified server, every join announced to everyone (what
the quiet-joins shortcut leaves out), so that cost can be extrapolated.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.engine_pump import EnginePump, join_all  # noqa: E402
from bench.loopback import raise_fd_limit  # noqa: E402
from bench.measure import CpuMeter  # noqa: E402
from bench.processes import ServerProcess  # noqa: E402
from bench.profiling import Profile, summarise  # noqa: E402
from bench.results import Result, main_for  # noqa: E402

GOAL_RSS = 150e6
GOAL_CPU = 0.05


def quiet(pump: EnginePump, window: float, timeout: float, below: int = 0) -> None:
    """Step until fewer than ``below`` datagrams moved in ``window`` seconds
    (keepalives never stop, so 'none at all' would never come)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        before = pump.sent + pump.received
        pump.run_for(window)
        if pump.sent + pump.received - before <= below:
            return


def idle_server(window: float) -> tuple[float, int]:
    """CPU share and RSS of the server with nobody in the room."""
    with ServerProcess(["--quiet-joins"], runner=True) as srv:
        time.sleep(0.3)
        meter = srv.cpu_meter().start()
        time.sleep(window)
        return meter.stop()[1], srv.memory().get("VmRSS", 0)


def run(opts: argparse.Namespace) -> Result:
    n = opts.members
    window = opts.window or (6.0 if opts.quick else 10.0)
    res = Result("Scale", "python bench/bench_scale.py")
    raise_fd_limit(n + 200)
    base_cpu, base_rss = idle_server(2.0)
    with ServerProcess(["--quiet-joins"], runner=True, close_grace=0.2) as srv:
        pump = EnginePump(srv.address, rcvbuf=1 << 16)
        try:
            join_s = join_all(pump, [f"u{i:05d}" for i in range(n)], timeout=120, in_flight=100)
            pump.run_for(1.0)                     # the last member lists and their acks
            rss_joined = srv.memory()
            meter = srv.cpu_meter().start()
            gen = CpuMeter(os.getpid()).start()
            sent0, recv0 = pump.sent, pump.received
            pump.run_for(window)
            used, share = meter.stop()
            gen_share = gen.stop()[1]
            dgrams = (pump.sent - sent0 + pump.received - recv0) / window
            mem = srv.memory()
            if not srv.alive():
                raise RuntimeError("the server died")
            if opts.profile:                      # an extra window, so py-spy does not touch the figures
                prof = Profile(srv.pid, 5.0, rate_hz=200)
                pump.run_for(5.5)
                res.profiles.append((f"server with {n} members keeping alive (an extra 5 s under py-spy)",
                                     summarise(prof.stacks(), 30)))
        finally:
            pump.close()
    rss, hwm = mem.get("VmRSS", 0), mem.get("VmHWM", 0)
    res.add_table(
        f"Scale: {n} members joined, then only keeping alive for {window:.0f} s "
        f"(server CPU from /proc over that window)",
        ("", "members", "RSS", "peak RSS", "CPU (share of one core)", "datagrams in+out", "per member"),
        [("server, empty room (baseline)", 0, f"{base_rss / 1e6:.1f} MB", "", f"{base_cpu:.2%}", "", ""),
         ("server, members keeping alive", n, f"{rss / 1e6:.1f} MB", f"{hwm / 1e6:.1f} MB", f"{share:.2%}",
          f"{dgrams:,.0f}/s", f"{(rss - base_rss) / n / 1e3:.1f} kB, {(share - base_cpu) / n * 1e6:.1f} µs/s")])
    res.notes.append(f"{n} members joined in {join_s:.1f} s (joins not announced, see the docstring); "
                     f"RSS right after the join {rss_joined.get('VmRSS', 0) / 1e6:.1f} MB; "
                     f"load generator used {gen_share:.0%} of a core while keeping them alive.")
    real = opts.real_joins if opts.real_joins >= 0 else (400 if opts.quick else 1000)
    if real:
        res.add_table(*real_joins(real))
    res.goal(f"{n} members keeping alive: RSS under {GOAL_RSS / 1e6:.0f} MB", f"{rss / 1e6:.1f} MB", rss < GOAL_RSS)
    res.goal(f"{n} members keeping alive: CPU under {GOAL_CPU:.0%} of a core", f"{share:.2%}", share < GOAL_CPU)
    return res


def real_joins(n: int) -> tuple[str, tuple, list]:
    """Fill a room of ``n`` with the real server: joins told by name up to
    Limits.named_joins a second, the rest counted in one CROWD notice a second."""
    with ServerProcess() as srv:
        pump = EnginePump(srv.address, rcvbuf=1 << 18)
        try:
            meter = srv.cpu_meter().start()
            t = join_all(pump, [f"r{i:05d}" for i in range(n)], timeout=120, in_flight=50)
            quiet(pump, 0.3, 60, below=max(20, n // 4))
            cpu = meter.stop()[0]
        finally:
            pump.close()
    per = cpu / n
    return (f"Filling a room as fast as it takes joins (the real server, joins named up to 5 a second "
            f"and counted beyond): {n} members",
            ("members", "wall time", "server CPU", "server CPU per join"),
            [(n, f"{t:.1f} s", f"{cpu:.1f} s", f"{per * 1e3:.2f} ms")])


def add_args(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--members", type=int, default=5000)
    ap.add_argument("--window", type=float, default=0.0, help="seconds of keepalive measured (default 10; 6 with --quick)")
    ap.add_argument("--real-joins", type=int, default=-1, metavar="N",
                    help="also time filling a room of N with the real server (default 1000; 400 with --quick; 0: skip)")


if __name__ == "__main__":
    main_for("Scale", run, add_args, __doc__)
