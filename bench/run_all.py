"""Run every benchmark (short versions), print their tables, write bench/RESULTS.md.

    .venv/bin/python bench/run_all.py [--full] [--only relay,latency] [--no-write] [--build] [--profile] [--readme]
                                      [--against OLD_CHECKOUT]

Each bench runs in its own process (``--quick --json``), one after the other,
so one's sockets, threads or Tk state never touch another's. The whole set
takes about two minutes. ``--full`` runs the longer versions; ``--build`` lets the
start-up bench build packaged programs (otherwise it measures them only if
``dist/`` holds a build, and RESULTS.md keeps the packaged figures that
``bench/bench_startup.py`` wrote last); ``--readme`` also refreshes the figures
in the project README (between its bench markers). ``--against OLD_CHECKOUT``
(a worktree of an earlier commit, ``git worktree add /work/wt-old d3caeb2``)
runs the benches that compare releases (relay, latency, abuse, handshake,
relay-cpu) on both folders in the same run, the older first.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.processes import PY, ROOT  # noqa: E402
from bench.results import Result, load_average, machine  # noqa: E402

BENCHES = [("relay", "bench_relay.py"), ("latency", "bench_latency.py"), ("scale", "bench_scale.py"),
           ("abuse", "bench_abuse.py"), ("handshake", "bench_handshake.py"), ("loss", "bench_loss.py"),
           ("window", "bench_window.py"), ("startup", "bench_startup.py"), ("relay-cpu", "bench_relay_cpu.py"),
           ("history", "bench_history.py")]
COMPARED = ("relay", "latency", "abuse", "handshake", "relay-cpu")     # take CHECKOUT folders
README_START = "<!-- bench:start -->"
README_END = "<!-- bench:end -->"


PACKAGED_START = "<!-- packaged start-up: start -->"
PACKAGED_END = "<!-- packaged start-up: end -->"


def packaged_block() -> str:
    """The packaged start-up figures bench_startup.py last wrote into RESULTS.md (kept across runs)."""
    try:
        text = (ROOT / "bench" / "RESULTS.md").read_text(encoding="utf-8")
    except OSError:
        return ""
    if PACKAGED_START not in text or PACKAGED_END not in text:
        return ""
    return PACKAGED_START + text.split(PACKAGED_START, 1)[1].split(PACKAGED_END, 1)[0] + PACKAGED_END


def run_one(key: str, script: str, full: bool, extra: list[str]) -> Result:
    with tempfile.TemporaryDirectory(prefix="bench-all-") as tmp:
        out = Path(tmp) / "result.json"
        cmd = [PY, str(ROOT / "bench" / script), "--json", str(out)] + ([] if full else ["--quick"]) + extra
        t0 = time.monotonic()
        p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900)
        if p.returncode != 0 or not out.exists():
            r = Result(key, f"python bench/{script}")
            r.goal(f"{key} bench ran", f"failed (exit {p.returncode}): {p.stderr.strip()[-800:]}", False)
            r.seconds = time.monotonic() - t0
            return r
        return Result.from_json(json.loads(out.read_text()))


def verdict(ok: bool | None) -> str:
    return {True: "holds", False: "**missed**", None: "not measured"}[ok]


def markdown(results: list[Result], started: datetime, total: float, full: bool, against: str = "") -> str:
    out = ["# Benchmark results", "",
           f"Run {started:%Y-%m-%d %H:%M} UTC with `python bench/run_all.py{' --full' if full else ''}"
           f"{f' --against {against}' if against else ''}` in {total:.0f} s.", "",
           f"Machine: {machine()}; load average at the end {load_average()}. "
           "The machine is a shared VM: figures move by 10-30 % between runs; compare the ratios to the "
           "baselines measured in the same run, not absolute times across runs.", "",
           "## Goals", "", "| bench | goal | measured | verdict |", "|---|---|---|---|"]
    for r in results:
        for g in r.goals:
            out.append(f"| {r.name} | {g.text} | {g.measured} | {verdict(g.ok)} |")
    for r in results:
        out += ["", f"## {r.name}", "", f"`{r.command}` ({r.seconds:.0f} s here)", ""]
        for caption, tbl in r.tables:
            out += [caption + ":", "", tbl, ""]
        for n in r.notes:
            out.append(f"- {n}")
        if r.notes:
            out.append("")
        for what, text in r.profiles:
            out += [f"Profile: {what}", "", "```", text, "```", ""]
        if r.name == "Start-up":
            block = packaged_block()
            out += [block or f"{PACKAGED_START}\n\nPackaged programs: not measured yet; run "
                             f"`.venv/bin/python bench/bench_startup.py`.\n\n{PACKAGED_END}", ""]
    return "\n".join(out).rstrip() + "\n"


def readme_block(results: list[Result], started: datetime) -> str:
    lines = [README_START, "",
             f"Measured {started:%Y-%m-%d} on {machine()} (`python bench/run_all.py`; details and every "
             f"table in [bench/RESULTS.md](bench/RESULTS.md), how each is measured in "
             f"[bench/README.md](bench/README.md)):", "",
             "| bench | goal | measured | verdict |", "|---|---|---|---|"]
    for r in results:
        for g in r.goals:
            lines.append(f"| {r.name} | {g.text} | {g.measured} | {verdict(g.ok)} |")
    lines += ["", README_END]
    return "\n".join(lines)


def update_readme(results: list[Result], started: datetime) -> bool:
    path = ROOT / "README.md"
    text = path.read_text(encoding="utf-8")
    if README_START not in text or README_END not in text:
        return False
    head, rest = text.split(README_START, 1)
    _, tail = rest.split(README_END, 1)
    path.write_text(head + readme_block(results, started) + tail, encoding="utf-8")
    return True


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full", action="store_true", help="the longer versions (several minutes)")
    ap.add_argument("--only", help="comma-separated subset: " + ",".join(k for k, _ in BENCHES))
    ap.add_argument("--no-write", action="store_true", help="do not write bench/RESULTS.md")
    ap.add_argument("--readme", action="store_true", help="also refresh the figures in README.md")
    ap.add_argument("--profile", action="store_true", help="pass --profile to the benches that take it")
    ap.add_argument("--against", metavar="OLD_CHECKOUT",
                    help="also measure this older checkout's server, in the same run, in the benches that compare")
    ap.add_argument("--build", action="store_true",
                    help="let bench_startup build the packaged programs (~15-90 s more) when dist/ holds none")
    opts = ap.parse_args()
    chosen = [b for b in BENCHES if not opts.only or b[0] in opts.only.split(",")]
    started = datetime.now(timezone.utc)
    t0 = time.monotonic()
    results = []
    print(f"{machine()} — load average {load_average()}", flush=True)
    for key, script in chosen:
        print(f"\n=== {key} ({script})", flush=True)
        extra = ["--profile"] if opts.profile and key in ("relay", "latency", "scale", "handshake", "history") else []
        if key == "startup" and not opts.build:
            extra.append("--no-build")
        if opts.against and key in COMPARED:
            extra += [str(Path(opts.against).resolve()), str(ROOT)]
            if key == "relay-cpu":
                extra += ["--what-if", "null-seal,flat-seal"]
        r = run_one(key, script, opts.full, extra)
        print(r.text(), flush=True)
        print(f"({r.seconds:.0f} s)", flush=True)
        results.append(r)
    total = time.monotonic() - t0
    print(f"\n=== all done in {total:.0f} s")
    for r in results:
        for g in r.goals:
            print(f"{verdict(g.ok).strip('*'):>12}  {r.name}: {g.text}: {g.measured}")
    if not opts.no_write:
        (ROOT / "bench" / "RESULTS.md").write_text(markdown(results, started, total, opts.full, opts.against or ""),
                                                   encoding="utf-8")
        print("wrote bench/RESULTS.md")
    if opts.readme:
        print("updated README.md" if update_readme(results, started) else
              f"README.md has no {README_START} ... {README_END} block; not changed")
    return 0 if all(g.ok is not False for r in results for g in r.goals) else 1


if __name__ == "__main__":
    sys.exit(main())
