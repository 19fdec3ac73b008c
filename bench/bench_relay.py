"""Relay throughput: datagrams per second the server takes in and sends out while
relaying room lines among N members, against a bare recvfrom/sendto echo loop.

    .venv/bin/python bench/bench_relay.py [--quick] [--sizes 2,10,100]

The server is the real headless program (``gui_server.py --headless``) in its
own process. One load-generator process drives N lean members (real handshake,
then SAY lines and cumulative ACKs; see ``bench.lean_member.LeanMember``) so that the
generator costs less per datagram than the server it loads: every member says
lines in turn, and at most ``--in-flight`` lines are on their way (sent, not yet
received by every member) at any moment, so the server always has work and
never builds a backlog. The baseline is a bare CPython ``recvfrom``/``sendto``
echo loop in its own process, driven by the same generator (10 sockets,
datagrams the size of a relayed line, a fixed number in flight), measured in
alternation with the server in the same run. Datagrams are counted at the
generator (what it sent to the server = the server's in, what it received =
the server's out); CPU is read from /proc for the server and the echo loop.
"""
from __future__ import annotations

import argparse
import os
import select
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.lean_member import LeanMember, join_lean, settle_lean  # noqa: E402
from bench.loopback import udp_socket  # noqa: E402
from bench.measure import CpuMeter, median, udp_errors  # noqa: E402
from bench.processes import EchoProcess, ServerProcess  # noqa: E402
from bench.profiling import Profile, summarise  # noqa: E402
from bench.results import Result, main_for, rate  # noqa: E402

TEXT = "the quick brown fox jumps over the lazy dog, line {}"
GOAL_N = 10
GOAL_RATIO = 0.5


def drive_relay(members: list[LeanMember], seconds: float, in_flight: int) -> dict:
    """Relay lines among ``members`` for ``seconds``; returns counts."""
    ep = select.epoll()
    by_fd = {x.fd: x for x in members}
    for x in members:
        ep.register(x.fd, select.EPOLLIN)
    n = len(members)
    sent0 = sum(x.sent for x in members)
    recv0 = sum(x.received for x in members)
    said = 0
    base = min(x.lines for x in members)
    rr = 0
    gaps0 = sum(x.gaps for x in members)
    t0 = time.monotonic()
    end = t0 + seconds
    next_check = t0 + 0.05
    try:
        while (now := time.monotonic()) < end:
            ready = ep.poll(0.002)
            now = time.monotonic()
            touched = []
            for fd, _ in ready:
                x = by_fd[fd]
                x.drain(now)
                touched.append(x)
            delivered = min(x.lines for x in members) - base
            budget = in_flight - (said - delivered)
            tries = 0
            while budget > 0 and tries < n:
                x = members[rr]
                rr = (rr + 1) % n
                if x.in_flight >= 32:
                    tries += 1
                    continue
                x.say(TEXT.format(said), now)
                said += 1
                budget -= 1
                tries = 0
            for x in touched:
                if x.need_ack:
                    x.send_ack(now)
            if now >= next_check:
                next_check = now + 0.05
                for x in members:
                    x.resend_if_stalled(now)
    finally:
        ep.close()
    dt = time.monotonic() - t0
    delivered = min(x.lines for x in members) - base
    return {"dt": dt, "in": sum(x.sent for x in members) - sent0, "out": sum(x.received for x in members) - recv0,
            "lines": delivered, "gaps": sum(x.gaps for x in members) - gaps0}


def drive_echo(echo_addr, socks, seconds: float, in_flight: int, size: int) -> dict:
    """Keep ``in_flight`` datagrams of ``size`` bytes circulating through the echo loop."""
    ep = select.epoll()
    by_fd = {s.fileno(): s for s in socks}
    for s in socks:
        ep.register(s.fileno(), select.EPOLLIN)
    payload = b"\xffUC\x01\x05" + bytes(size - 5)
    sent = received = 0
    per = max(1, in_flight // len(socks))
    for s in socks:
        for _ in range(per):
            s.sendto(payload, echo_addr)
            sent += 1
    t0 = time.monotonic()
    end = t0 + seconds
    try:
        while time.monotonic() < end:
            for fd, _ in ep.poll(0.01):
                s = by_fd[fd]
                k = 0
                while True:
                    try:
                        s.recv(2048)
                    except (BlockingIOError, InterruptedError):
                        break
                    k += 1
                received += k
                for _ in range(k):
                    s.sendto(payload, echo_addr)
                sent += k
    finally:
        ep.close()
    dt = time.monotonic() - t0
    # drain what is still circulating so the next window starts clean
    time.sleep(0.05)
    for s in socks:
        while True:
            try:
                s.recv(2048)
            except (BlockingIOError, InterruptedError):
                break
    return {"dt": dt, "in": sent - per * len(socks), "out": received}


def run(opts: argparse.Namespace) -> Result:
    sizes = [int(x) for x in opts.sizes.split(",")]
    reps = 4 if opts.quick else 8
    window = 0.6 if opts.quick else 1.0
    res = Result("Relay throughput", "python bench/bench_relay.py")
    rows = []
    ratio_at_goal = None
    me = os.getpid()
    with EchoProcess() as echo:
        echo_socks = [udp_socket(1 << 20) for _ in range(10)]
        echo_samples = []
        for n in sizes:
            samples = []
            runner = opts.server_args.split() if opts.server_args else None
            with ServerProcess(runner, runner=bool(runner)) as srv:
                members = join_lean([f"m{i:03d}" for i in range(n)], srv.address)
                settle_lean(members)
                drop0 = udp_errors().get("RcvbufErrors", 0)
                for rep in range(reps):
                    drive_relay(members, 0.15, opts.in_flight)             # warm up
                    cs, cg = srv.cpu_meter().start(), CpuMeter(me).start()
                    r = drive_relay(members, window, opts.in_flight)
                    r["cpu"], r["gen_cpu"] = cs.stop()[1], cg.stop()[1]
                    samples.append(r)
                    drive_echo(echo.address, echo_socks, 0.1, opts.echo_in_flight, 70)
                    ce, cg = echo.cpu_meter().start(), CpuMeter(me).start()
                    e = drive_echo(echo.address, echo_socks, window, opts.echo_in_flight, 70)
                    e["cpu"], e["gen_cpu"] = ce.stop()[1], cg.stop()[1]
                    echo_samples.append(e)
                    samples[-1]["echo"] = e
                drops = udp_errors().get("RcvbufErrors", 0) - drop0
                if opts.profile and n == GOAL_N:        # an extra window, so py-spy does not touch the figures
                    prof = Profile(srv.pid, 3.0)
                    drive_relay(members, 3.3, opts.in_flight)
                    res.profiles.append((f"server relaying among {n} members (an extra 3 s window under py-spy)",
                                         summarise(prof.stacks(), 30)))
                for x in members:
                    x.leave()
                    x.close()
            dg = [(r["in"] + r["out"]) / r["dt"] for r in samples]
            eg = [(r["echo"]["in"] + r["echo"]["out"]) / r["echo"]["dt"] for r in samples]
            ratios = [a / b for a, b in zip(dg, eg)]
            per_cpu = [(r["in"] + r["out"]) / r["dt"] / max(r["cpu"], 1e-9) for r in samples]
            echo_per_cpu = [(r["echo"]["in"] + r["echo"]["out"]) / r["echo"]["dt"] / max(r["echo"]["cpu"], 1e-9)
                            for r in samples]
            lines = median(r["lines"] / r["dt"] for r in samples)
            ratio = median(ratios)
            if n == GOAL_N:
                ratio_at_goal = ratio
            rows.append((n, f"{rate(median(r['in'] / r['dt'] for r in samples))}/s",
                         f"{rate(median(r['out'] / r['dt'] for r in samples))}/s",
                         f"{rate(median(dg))}/s", f"{rate(median(eg))}/s", f"{ratio:.2f}",
                         f"{median(r['cpu'] for r in samples):.0%} / {median(r['echo']['cpu'] for r in samples):.0%}",
                         f"{median(a / b for a, b in zip(per_cpu, echo_per_cpu)):.2f}",
                         f"{rate(lines)}/s", f"{median(r['gen_cpu'] for r in samples):.0%}",
                         sum(r["gaps"] for r in samples) + drops))
        for s in echo_socks:
            s.close()
    res.add_table(
        f"Relay throughput: medians over {reps} pairs of {window:.1f} s windows, server then echo loop; "
        f"ratio = median of the pairs' ratios; {opts.in_flight} lines in flight (echo: {opts.echo_in_flight} "
        f"datagrams)",
        ("members", "server in", "server out", "in+out", "bare echo in+out", "ratio",
         "CPU server / echo", "ratio per CPU-second", "lines relayed", "generator CPU", "drops"),
        rows)
    res.notes.append("ratio = server datagrams (in+out) per second / bare echo loop's, each median of "
                     "paired windows; 'ratio per CPU-second' divides each by the CPU it used (the fairer "
                     "figure when the generator, not the echo loop, is the limit). 'drops' = out-of-order "
                     "arrivals the lean members dropped plus kernel RcvbufErrors.")
    if ratio_at_goal is not None:
        res.goal(f"relay at N = {GOAL_N} at least {GOAL_RATIO} of the bare loop's datagram rate",
                 f"{ratio_at_goal:.2f}", ratio_at_goal >= GOAL_RATIO)
    return res


def add_args(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--sizes", default="2,10,100", help="member counts (default 2,10,100)")
    ap.add_argument("--in-flight", type=int, default=32, help="lines on their way at once (default 32)")
    ap.add_argument("--echo-in-flight", type=int, default=64, help="echo datagrams in flight (default 64)")
    ap.add_argument("--server-args", default="", metavar="ARGS",
                    help="run bench/server_runner.py with these what-if options instead of gui_server.py, "
                         "e.g. '--no-print --simple-queue'")


if __name__ == "__main__":
    main_for("Relay throughput", run, add_args, __doc__)
