"""Relay throughput: datagrams per second the server takes in and sends out while
relaying room lines among N members, against a bare recvfrom/sendto echo loop.

    .venv/bin/python bench/bench_relay.py [--quick] [--sizes 2,10,100] [CHECKOUT ...]

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

Since protocol version 2 every member datagram is sealed: the lean members do
the real handshake (X25519, the server's confirmation checked) and seal and
open every datagram with udpcore's ChaCha20-Poly1305, as a real client would.
Give CHECKOUT folders (``git -C /work/main worktree add /work/wt-old d3caeb2``,
then ``bench/bench_relay.py /work/wt-old .``) to load each folder's server in
turn in the same run, against the same echo loop: the members speak version 1
(in clear) to a server that refuses version 2.
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
from bench.processes import ROOT, EchoProcess, ServerProcess, label  # noqa: E402
from bench.profiling import Profile, summarise  # noqa: E402
from bench.results import Result, main_for, rate  # noqa: E402

TEXT = "the quick brown fox jumps over the lazy dog, line {}"
GOAL_N = 10
GOAL_RATIO = 0.4             # since protocol version 2 (issue 12: every datagram sealed); 0.5 before


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
    roots = [Path(r).resolve() for r in opts.checkouts] or [ROOT]
    runner = opts.server_args.split() if opts.server_args else None
    # What is measured, in turn: each folder's server, then (--what-if) the last one's under server_runner.
    targets: list[tuple[Path, list[str] | None, str]] = [(r, runner, label(r)) for r in roots]
    if opts.what_if:
        targets.append((roots[-1], opts.what_if.split(), f"{label(roots[-1])} {opts.what_if}"))
    names = {i: t[2] for i, t in enumerate(targets)}
    res = Result("Relay throughput", "python bench/bench_relay.py" + "".join(f" {r}" for r in opts.checkouts))
    rows = []
    ratio_at_goal: dict[int, float] = {}
    lines_at_goal: dict[int, float] = {}
    by_root: dict[tuple[int, int], dict] = {}
    me = os.getpid()
    roots = list(range(len(targets)))         # from here on, a target's index
    with EchoProcess() as echo:
        echo_socks = [udp_socket(1 << 20) for _ in range(10)]
        for n in sizes:
            samples: dict[Path, list[dict]] = {r: [] for r in roots}
            servers: dict[Path, ServerProcess] = {}
            members: dict[Path, list[LeanMember]] = {}
            drop0 = 0
            try:
                for r in roots:                   # every release's server up at once, so their windows alternate
                    root, args, _ = targets[r]
                    servers[r] = ServerProcess(args, runner=args is not None, root=root)
                    members[r] = join_lean([f"m{i:03d}" for i in range(n)], servers[r].address)
                    settle_lean(members[r])
                drop0 = udp_errors().get("RcvbufErrors", 0)
                for rep in range(reps):
                    for r in roots:
                        srv, mem = servers[r], members[r]
                        settle_lean(mem, 0.05)                                # what queued while the other ran
                        drive_relay(mem, 0.15, opts.in_flight)               # warm up
                        cs, cg = srv.cpu_meter().start(), CpuMeter(me).start()
                        x = drive_relay(mem, window, opts.in_flight)
                        x["cpu"], x["gen_cpu"] = cs.stop()[1], cg.stop()[1]
                        drive_echo(echo.address, echo_socks, 0.1, opts.echo_in_flight, 70)
                        ce, cg = echo.cpu_meter().start(), CpuMeter(me).start()
                        e = drive_echo(echo.address, echo_socks, window, opts.echo_in_flight, 70)
                        e["cpu"], e["gen_cpu"] = ce.stop()[1], cg.stop()[1]
                        x["echo"] = e
                        samples[r].append(x)
                drops = udp_errors().get("RcvbufErrors", 0) - drop0
                if opts.profile and n == GOAL_N:        # an extra window, so py-spy does not touch the figures
                    for r in roots:
                        prof = Profile(servers[r].pid, 3.0)
                        drive_relay(members[r], 3.3, opts.in_flight)
                        res.profiles.append((f"{names[r]}: server relaying among {n} members (an extra 3 s "
                                             f"window under py-spy)", summarise(prof.stacks(), 30)))
                for r in roots:
                    if not servers[r].alive():
                        res.notes.append(f"{names[r]}: the server died while relaying among {n} members")
            finally:
                for r in roots:
                    for x in members.get(r, []):
                        x.leave()
                        x.close()
                    if r in servers:
                        servers[r].close()
            for r in roots:
                got = samples[r]
                dg = [(x["in"] + x["out"]) / x["dt"] for x in got]
                eg = [(x["echo"]["in"] + x["echo"]["out"]) / x["echo"]["dt"] for x in got]
                ratios = [a / b for a, b in zip(dg, eg)]
                per_cpu = [(x["in"] + x["out"]) / x["dt"] / max(x["cpu"], 1e-9) for x in got]
                echo_per_cpu = [(x["echo"]["in"] + x["echo"]["out"]) / x["echo"]["dt"] / max(x["echo"]["cpu"], 1e-9)
                                for x in got]
                lines = median(x["lines"] / x["dt"] for x in got)
                ratio = median(ratios)
                # Line copies: each line comes in once and goes out to all n (its sender's own copy
                # included), however many share a datagram; acks are not counted.
                copies = median(x["lines"] * (1 + n) / x["dt"] / e for x, e in zip(got, eg))
                by_root[(n, r)] = {"ratio": ratio, "ratios": ratios, "lines": lines, "copies": copies,
                                   "per_cpu": median(a / b for a, b in zip(per_cpu, echo_per_cpu))}
                if n == GOAL_N:
                    ratio_at_goal[r] = ratio
                    lines_at_goal[r] = copies
                who = () if len(roots) == 1 else (names[r],)
                rows.append((n, *who, f"{rate(median(x['in'] / x['dt'] for x in got))}/s",
                             f"{rate(median(x['out'] / x['dt'] for x in got))}/s",
                             f"{rate(median(dg))}/s", f"{rate(median(eg))}/s", f"{ratio:.2f}", f"{copies:.2f}",
                             f"{median(x['cpu'] for x in got):.0%} / {median(x['echo']['cpu'] for x in got):.0%}",
                             f"{by_root[(n, r)]['per_cpu']:.2f}",
                             f"{rate(lines)}/s", f"{median(x['gen_cpu'] for x in got):.0%}",
                             sum(x["gaps"] for x in got) + (drops if r == roots[-1] else 0)))
        for s in echo_socks:
            s.close()
    who = () if len(roots) == 1 else ("server",)
    order = "each server's window then an echo window, the servers in turn" if len(roots) > 1 else \
        "server then echo loop"
    res.add_table(
        f"Relay throughput: medians over {reps} pairs of {window:.1f} s windows ({order}); "
        f"ratio = median of the pairs' ratios; {opts.in_flight} lines in flight (echo: {opts.echo_in_flight} "
        f"datagrams)",
        ("members", *who, "server in", "server out", "in+out", "bare echo in+out", "ratio", "line copies ratio",
         "CPU server / echo", "ratio per CPU-second", "lines relayed", "generator CPU", "drops"),
        rows)
    if len(roots) > 1:
        base, new = roots[0], len(roots) - 1 - bool(opts.what_if)
        for other in sorted({base, roots[-1]} - {new}):
            res.add_table(
                f"Relay throughput, {names[new]} against {names[other]} (ratio to the bare echo loop, same run; "
                f"datagrams / line copies)",
                ("members", names[other], names[new], "new / old", "lines relayed old -> new"),
                [(n, f"{by_root[(n, other)]['ratio']:.2f} / {by_root[(n, other)]['copies']:.2f}",
                  f"{by_root[(n, new)]['ratio']:.2f} / {by_root[(n, new)]['copies']:.2f}",
                  f"{by_root[(n, new)]['lines'] / by_root[(n, other)]['lines']:.2f}",
                  f"{rate(by_root[(n, other)]['lines'])}/s -> {rate(by_root[(n, new)]['lines'])}/s") for n in sizes])
    res.notes.append("ratio = server datagrams (in+out) per second / bare echo loop's, each median of "
                     "paired windows; 'ratio per CPU-second' divides each by the CPU it used (the fairer "
                     "figure when the generator, not the echo loop, is the limit). 'drops' = out-of-order "
                     "arrivals the lean members dropped plus kernel RcvbufErrors (those counted for the run, "
                     "in the last server's row). Against a version-2 or later server every datagram is sealed "
                     "and opened (ChaCha20-Poly1305) by both sides; against version 1 nothing is. 'line copies "
                     "ratio' = lines relayed x (1 + members) per second (each line in once, out to every member, "
                     "its sender included) / the bare loop's datagrams per second: the relay's work in lines, "
                     "whether they share datagrams (version 3's FRAMES) or not; acks are not counted. With one "
                     "line per datagram it is the datagram ratio less the acks.")
    goal = len(roots) - 1 - bool(opts.what_if)
    if goal in ratio_at_goal:
        res.goal(f"relay at N = {GOAL_N} at least {GOAL_RATIO} of the bare loop's rate, in line copies"
                 + (f" ({names[goal]})" if len(roots) > 1 else ""),
                 f"{lines_at_goal[goal]:.2f} (datagrams: {ratio_at_goal[goal]:.2f})"
                 + "".join(f"; {names[r]}: {lines_at_goal[r]:.2f} ({ratio_at_goal[r]:.2f})"
                           for r in roots if r != goal and r in ratio_at_goal),
                 lines_at_goal[goal] >= GOAL_RATIO)
    return res


def add_args(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("checkouts", nargs="*", metavar="CHECKOUT",
                    help="project folders whose servers to measure in turn, in the same run against the same "
                         "echo loop (default: this one); the last one's figure is judged against the goal")
    ap.add_argument("--sizes", default="2,10,100", help="member counts (default 2,10,100)")
    ap.add_argument("--in-flight", type=int, default=32, help="lines on their way at once (default 32)")
    ap.add_argument("--echo-in-flight", type=int, default=64, help="echo datagrams in flight (default 64)")
    ap.add_argument("--what-if", default="", metavar="ARGS",
                    help="also measure the last CHECKOUT's server under bench/server_runner.py with these options, "
                         "in the same alternation, e.g. '--one-per-datagram'")
    ap.add_argument("--server-args", default="", metavar="ARGS",
                    help="run bench/server_runner.py with these what-if options instead of gui_server.py, "
                         "e.g. '--no-print --simple-queue'")


if __name__ == "__main__":
    main_for("Relay throughput", run, add_args, __doc__)
