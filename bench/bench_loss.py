"""Loss: 1,000 lines through 20% loss, 5% duplication and reordering — time until
every member has all of them, against the same path without impairment.

    .venv/bin/python bench/bench_loss.py [--quick] [--lines 1000] [--runs 5]

A fresh real headless server per run, in its own process; in front of it the
impairment proxy of the tests (``tests/impairment.ImpairmentProxy``: each
datagram, both ways, dropped with p = 0.20, else duplicated with p = 0.05, and
each copy held back with p = 0.10 behind 1-4 later ones or up to 20 ms), in its
own process too. Two members (real ``ClientEngine`` instances, driven from this
process) join through the proxy; one submits ``--lines`` lines at once; the
clock stops when the other has received all of them and the sender has the
server's echo of each (every member has every line). Each run checks that the
receiver got every line exactly once and in order. The baseline is the same
path through the same proxy with every probability 0, in the same run
(alternating), so the proxy's own cost cancels out.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from udpcore import events as ev  # noqa: E402

from bench.engine_pump import EnginePump, join_all  # noqa: E402
from bench.measure import median  # noqa: E402
from bench.processes import PY, ROOT, ServerProcess, spawn, stop_process  # noqa: E402
from bench.results import Result, main_for, ms  # noqa: E402

LOSSY = dict(p_drop=0.20, p_dup=0.05, p_reorder=0.10, max_delay=0.02, hold_max=4)   # as tests/test_impaired_delivery.py
CLEAN = dict(p_drop=0.0, p_dup=0.0, p_reorder=0.0, max_delay=0.02, hold_max=4)

PROXY_CODE = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
from tests.impairment import ImpairmentProxy
p = ImpairmentProxy(("127.0.0.1", int(sys.argv[2])), seed=int(sys.argv[3]), **json.loads(sys.argv[4]))
print(p.port, flush=True)
sys.stdin.read()                 # until the bench closes our stdin
counts = dict(p.counts)
p.close()
print(json.dumps(counts), flush=True)
"""


class ProxyProcess:
    def __init__(self, upstream_port: int, seed: int, impair: dict) -> None:
        self.p = spawn([PY, "-c", PROXY_CODE, str(ROOT), str(upstream_port), str(seed), json.dumps(impair)],
                       stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        line = self.p.stdout.readline()
        if not line.strip():
            stop_process(self.p)
            raise RuntimeError("the impairment proxy did not start (is tests/impairment.py there?)")
        self.address = ("127.0.0.1", int(line))

    def close(self) -> dict:
        counts = {}
        try:
            self.p.stdin.close()
            line = self.p.stdout.readline()
            counts = json.loads(line) if line.strip() else {}
        except (OSError, ValueError):
            pass
        stop_process(self.p, 2.0)
        self.p.stdout.close()
        return counts


def one_run(n_lines: int, seed: int, impair: dict, timeout: float = 60.0) -> dict:
    with ServerProcess() as srv:
        proxy = ProxyProcess(srv.address[1], seed, impair)
        try:
            pump = EnginePump(proxy.address, rcvbuf=1 << 20)
            got: dict[str, list[int]] = {"sender": [], "receiver": []}

            def on_event(mem, e, now: float) -> None:
                if isinstance(e, ev.RoomLine) and e.text.isdigit():
                    got[mem.name].append(int(e.text))
            try:
                join_all(pump, ["sender", "receiver"], timeout=30, on_event=on_event)
                pump.run_for(0.5)                     # member list and join notices get through
                sender = next(m for m in pump.members if m.name == "sender")
                t0 = time.monotonic()
                now = t0
                for i in range(n_lines):
                    sender.engine.say(str(i))
                pump.flush(sender, now)
                progress = []                         # (seconds, lines the receiver has)
                done = False
                while time.monotonic() - t0 < timeout:
                    pump.run_for(0.02)
                    progress.append((time.monotonic() - t0, len(got["receiver"]), len(got["sender"])))
                    if len(got["receiver"]) >= n_lines and len(got["sender"]) >= n_lines:
                        done = True
                        break
                took = time.monotonic() - t0
                if done:
                    pump.run_for(0.1)                 # would-be duplicates surface
                ch = getattr(getattr(sender.engine, "_peer", None), "channel", None)
                retrans = getattr(ch, "retransmissions", None)
                rto = getattr(getattr(ch, "rtt", None), "rto", None)
            finally:
                pump.close()
        finally:
            counts = proxy.close()
    if done:
        ok = got["receiver"] == list(range(n_lines)) and got["sender"] == list(range(n_lines))
    else:           # what arrived must still be a prefix, each line once
        ok = got["receiver"] == list(range(len(got["receiver"]))) and got["sender"] == list(range(len(got["sender"])))
    stall = max((b[0] - a[0] for a, b in zip(progress, progress[1:]) if b[1:] != a[1:]), default=0.0)
    longest_flat, start = 0.0, 0.0
    for a, b in zip(progress, progress[1:]):
        if b[1:] != a[1:]:
            start = b[0]
        else:
            longest_flat = max(longest_flat, b[0] - start)
    return {"seconds": took, "done": done, "exact": ok, "retransmissions": retrans, "rto": rto,
            "receiver": len(got["receiver"]), "sender": len(got["sender"]), "stall": max(stall, longest_flat),
            "dropped": counts.get("dropped_up", 0) + counts.get("dropped_down", 0),
            "duplicated": counts.get("duplicated_up", 0) + counts.get("duplicated_down", 0),
            "reordered": counts.get("reordered_up", 0) + counts.get("reordered_down", 0),
            "forwarded": counts.get("forwarded_up", 0) + counts.get("forwarded_down", 0)}


def run(opts: argparse.Namespace) -> Result:
    runs = opts.runs or (2 if opts.quick else 5)
    cap = opts.timeout or (15.0 if opts.quick else 60.0)
    res = Result("Loss", "python bench/bench_loss.py")
    clean, lossy = [], []
    for i in range(runs):
        clean.append(one_run(opts.lines, 100 + i, CLEAN, cap))
        lossy.append(one_run(opts.lines, 100 + i, LOSSY, cap))
    base = median(r["seconds"] for r in clean)
    rows = []
    for label, rs in (("no impairment (same proxy, all p = 0)", clean),
                      ("20% loss, 5% duplication, 10% reordering", lossy)):
        t = [r["seconds"] for r in rs]
        unfinished = [r for r in rs if not r["done"]]
        when = ms(median(t)) if not unfinished else (
            f"{len(unfinished)} of {len(rs)} runs unfinished after {ms(cap)}" + (f"; finished: {ms(median(r['seconds'] for r in rs if r['done']))}" if len(unfinished) < len(rs) else ""))
        rows.append((label, when, f"{ms(min(t))} - {ms(max(t))}", f"{median(t) / base:.1f}x",
                     f"{median(r['receiver'] for r in rs):.0f} / {median(r['sender'] for r in rs):.0f}",
                     ms(median(r["stall"] for r in rs)),
                     f"{median(r['dropped'] for r in rs):.0f} / {median(r['duplicated'] for r in rs):.0f} / "
                     f"{median(r['reordered'] for r in rs):.0f}",
                     "-" if rs[0]["retransmissions"] is None else f"{median(r['retransmissions'] for r in rs):.0f}",
                     "-" if rs[0]["rto"] is None else ms(median(r["rto"] for r in rs)),
                     "yes" if all(r["exact"] for r in rs) else "NO"))
    res.add_table(f"Loss: {opts.lines} lines from one member to another through the impairment proxy, "
                  f"until every member has all of them (median of {runs} runs, seeds 100..{99 + runs}, "
                  f"each capped at {cap:.0f} s)",
                  ("path", "time to deliver all", "range", "vs no impairment",
                   "lines at receiver / sender's echoes", "longest stall", "dropped / duplicated / reordered",
                   "sender retransmissions", "sender RTO at the end", "exactly once, in order"), rows)
    finished = all(r["done"] for r in lossy)
    exact = all(r["exact"] for r in clean + lossy)
    lossy_t = median(r["seconds"] for r in lossy)
    res.goal(f"{opts.lines} lines through 20% loss, 5% duplication and reordering: all delivered, exactly once "
             f"and in order (time reported against the unimpaired path; no target given)",
             (f"{ms(lossy_t)} = {lossy_t / base:.0f}x the unimpaired {ms(base)}" if finished else
              f"not all delivered within {cap:.0f} s in {sum(not r['done'] for r in lossy)} of {runs} runs "
              f"(median {median(r['receiver'] for r in lossy):.0f} of {opts.lines}); unimpaired {ms(base)}"),
             finished and exact)
    return res


def add_args(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--lines", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=0, help="runs of each kind (default 5; 2 with --quick)")
    ap.add_argument("--timeout", type=float, default=0.0, help="cap per run in seconds (default 60; 15 with --quick)")


if __name__ == "__main__":
    main_for("Loss", run, add_args, __doc__)
