"""Start-up: process start -> window shown, from source and packaged, against a
bare Tk window started the same way in the same run.

    .venv/bin/python bench/bench_startup.py [--quick] [--runs 5] [--dist DIR ...] [--layouts onefile,onedir] [--no-build]

Needs Xvfb and xdotool (starts its own display). For each variant, the median
(min-max) of ``--runs`` starts after one unmeasured warm-up start (page cache,
one-file extraction):

- **client window shown**: ``ChatClient --server 127.0.0.1:PORT --name NAME``
  until a window titled "LAN Chat" is mapped (``xdotool search --onlyvisible``,
  polled every 10 ms), and **in the room**: until its title shows the name
  (the chat view is up, joined to a real headless server running meanwhile);
- **server window shown** (not with ``--quick``): ``ChatServer --port 0``;
- **headless server listening**: ``ChatServer --headless`` until it prints
  ``listening on``.

Variants: python from source (``gui_client.py`` / ``gui_server.py``), then the
PyInstaller programs: ``dist/`` if it holds both (``pyinstaller
build.spec``), each ``--dist DIR``, and otherwise one-file and one-folder builds
made for this run from ``build.spec`` in a temporary folder (~15-90 s each;
``--layouts`` picks, ``--no-build`` skips them, as ``run_all.py`` does). This is
the measurement behind the one-file choice in docs/packaging.md. The baseline is ``python -c 'import tkinter;
tkinter.Tk().mainloop()'`` with a title: the least any Python/Tk window takes
here. When packaged programs were measured, their rows are also written into
bench/RESULTS.md (between the ``packaged start-up`` markers, which
``run_all.py`` keeps).
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.processes import PY, ROOT, ServerProcess, spawn, stop_process  # noqa: E402
from bench.results import Result, main_for  # noqa: E402
from tests.xvfb import Xvfb  # noqa: E402

TK_BASELINE = "import tkinter as tk; r = tk.Tk(); r.title('Tk baseline'); r.mainloop()"


def find_program(dist: Path, name: str) -> Path | None:
    for c in (dist / name, dist / f"{name}.exe", dist / "LanChat" / name, dist / "LanChat" / f"{name}.exe"):
        if c.is_file() and os.access(c, os.X_OK):
            return c
    return None


def size_of(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def visible(title_regex: str) -> bool:
    out = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", title_regex],
                         capture_output=True, text=True).stdout
    return bool(out.strip())


def time_window(cmd: list[str], titles: list[str], env: dict, timeout: float = 30.0) -> list[float]:
    """Seconds from Popen to each title (in order) being visible."""
    t0 = time.perf_counter()
    p = spawn(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tempfile.gettempdir())
    out: list[float] = []
    try:
        for title in titles:
            while not visible(title):
                if p.poll() is not None:
                    raise RuntimeError(f"{Path(cmd[0]).name} exited ({p.returncode}) before {title!r} showed")
                if time.perf_counter() - t0 > timeout:
                    raise RuntimeError(f"no window {title!r} within {timeout} s")
                time.sleep(0.01)
            out.append(time.perf_counter() - t0)
    finally:
        stop_process(p, 2.0)
    return out


def time_listening(cmd: list[str], env: dict, timeout: float = 30.0) -> float:
    with tempfile.TemporaryFile() as log:
        t0 = time.perf_counter()
        p = spawn(cmd + ["--headless", "--host", "127.0.0.1", "--port", "0"], env=env, stdout=log,
                  stderr=subprocess.STDOUT, cwd=tempfile.gettempdir())
        try:
            while time.perf_counter() - t0 < timeout:
                log.seek(0)
                if b"listening on" in log.read():
                    return time.perf_counter() - t0
                if p.poll() is not None:
                    break
                time.sleep(0.002)
            raise RuntimeError(f"{Path(cmd[-1]).name}: no 'listening on' line")
        finally:
            stop_process(p, 2.0)


def series(fn, runs: int) -> list[float]:
    fn()                                              # warm-up, not counted
    return [fn() for _ in range(runs)]


def fmt(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{statistics.median(values) * 1000:.0f} ms ({min(values) * 1000:.0f}-{max(values) * 1000:.0f})"


def builds(extra: list[Path]) -> list[tuple[str, Path]]:
    found = []
    for label, d in [("packaged one-file, dist/", ROOT / "dist")] + [(f"packaged, {d}", d) for d in extra]:
        if find_program(d, "ChatClient") and find_program(d, "ChatServer"):
            found.append((label, d))
    return found


def build(tmp: Path, layout: str) -> tuple[Path, float]:
    """``pyinstaller build.spec -- --<layout>`` into ``tmp``; returns (dist folder, seconds)."""
    t0 = time.monotonic()
    subprocess.run([PY, "-m", "PyInstaller", "--noconfirm", "--log-level", "ERROR",
                    "--distpath", str(tmp / f"dist-{layout}"), "--workpath", str(tmp / f"work-{layout}"),
                    str(ROOT / "build.spec"), "--", f"--{layout}"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=1800)
    return tmp / f"dist-{layout}", time.monotonic() - t0


PACKAGED_START = "<!-- packaged start-up: start -->"
PACKAGED_END = "<!-- packaged start-up: end -->"


def packaged_block(header: tuple, rows: list[tuple], runs: int, note: str) -> str:
    from bench.results import machine, table
    return "\n".join([PACKAGED_START, "",
                      f"Packaged start-up, measured {time.strftime('%Y-%m-%d %H:%M')} with "
                      f"`.venv/bin/python bench/bench_startup.py` ({note}; median (min-max) of {runs} starts "
                      f"after one warm-up, under Xvfb; {machine()}):", "",
                      table(header, rows), "", PACKAGED_END])


def write_packaged(block: str) -> None:
    """Put the packaged rows into bench/RESULTS.md (replacing the previous ones)."""
    path = ROOT / "bench" / "RESULTS.md"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    if PACKAGED_START in text and PACKAGED_END in text:
        head, rest = text.split(PACKAGED_START, 1)
        text = head + block + rest.split(PACKAGED_END, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")


def run(opts: argparse.Namespace) -> Result:
    runs = opts.runs or (3 if opts.quick else 5)
    res = Result("Start-up", "python bench/bench_startup.py")
    variants: list[tuple[str, list[str], list[str], str]] = [
        ("python from source", [PY, str(ROOT / "gui_client.py")], [PY, str(ROOT / "gui_server.py")], "-")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp, Xvfb(), ServerProcess() as srv:
        found = builds(opts.dist)
        how = "existing build"
        if not found and not opts.no_build:
            took = []
            for layout in opts.layouts.split(","):
                dist, t = build(Path(tmp) / "build", layout)
                found.append((f"packaged {layout} (built for this run)", dist))
                took.append(f"{layout} {t:.0f} s")
            how = f"built by the bench from build.spec: {', '.join(took)}"
            res.notes.append(f"built the packaged programs from build.spec into a temporary folder ({', '.join(took)})")
        for label, d in found:
            client, server = find_program(d, "ChatClient"), find_program(d, "ChatServer")
            size = (f"{size_of(client) / 1e6:.1f} + {size_of(server) / 1e6:.1f} MB" if client.parent == d
                    else f"{size_of(client.parent) / 1e6:.1f} MB folder")
            variants.append((label, [str(client)], [str(server)], size))
        if len(variants) == 1:
            res.notes.append("packaged programs not measured in this run (--no-build and no dist/ build); "
                             "their figures, from a run of bench_startup.py, are below")
        env = {"LANCHAT_CONFIG_DIR": tmp}
        addr = f"127.0.0.1:{srv.address[1]}"
        base = series(lambda: time_window([PY, "-c", TK_BASELINE], ["^Tk baseline$"], env)[0], runs)
        rows.append(("bare Tk window from Python (baseline)", fmt(base), "-", "-", "-", "1.00x", "-"))
        n = 0
        for label, client, server, size in variants:
            try:
                def client_run() -> list[float]:
                    nonlocal n
                    n += 1
                    name = f"s{os.getpid() % 1000}x{n}"
                    return time_window(client + ["--server", addr, "--name", name],
                                       ["LAN Chat", f"^{re.escape(name)} "], env)
                both = series(client_run, runs)
                shown = [b[0] for b in both]
                joined = [b[1] for b in both]
                server_win = [] if opts.quick else series(
                    lambda: time_window(server + ["--port", "0"], ["^LAN Chat Server"], env)[0], runs)
                listening = series(lambda: time_listening(server, env), runs)
                rows.append((label, fmt(shown), fmt(joined), fmt(server_win), fmt(listening),
                             f"{statistics.median(shown) / statistics.median(base):.2f}x", size))
            except (RuntimeError, OSError) as exc:
                rows.append((label, f"failed: {exc}", "", "", "", "", size))
    header = ("variant", "client window shown", "client in the room", "server window shown",
              "headless server listening", "client shown vs bare Tk", "size")
    res.add_table(f"Start-up: median (min-max) of {runs} starts after one warm-up, under Xvfb", header, rows)
    if len(variants) > 1 and not opts.json:          # a run of its own, not part of run_all: keep the figures
        write_packaged(packaged_block(header, rows, runs, how))
        res.notes.append("packaged rows written into bench/RESULTS.md")
    return res


def add_args(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--runs", type=int, default=0, help="starts per figure (default 5; 3 with --quick)")
    ap.add_argument("--dist", type=Path, action="append", default=[], help="also time the programs in DIR")
    ap.add_argument("--layouts", default="onefile,onedir",
                    help="what to build when dist/ holds nothing: onefile, onedir or both (default both)")
    ap.add_argument("--no-build", action="store_true",
                    help="do not build packaged programs when dist/ holds none (source only)")


if __name__ == "__main__":
    main_for("Start-up", run, add_args, __doc__)
