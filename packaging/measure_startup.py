#!/usr/bin/env python3
"""Size and start-up time of the packaged programs, one-file and one-folder side by side.

    .venv/bin/python packaging/measure_startup.py            # build what is missing, then measure
    .venv/bin/python packaging/measure_startup.py --runs 9 --rebuild

Builds both layouts with build.spec into build/measure/ (unless they are there
already; --rebuild forces it), then starts each program --runs times after one
unmeasured warm-up run and prints the median (min-max) of:

  window     process start -> its window is mapped (visible), polled with
             ``xdotool search --onlyvisible --name`` every 10 ms on a private Xvfb
  listening  process start -> the headless server prints its ``listening on`` line

The same figures for ``python gui_*.py`` from the source tree are printed as a
reference. Linux only for the window figures (Xvfb and xdotool); the headless
figure works anywhere. Prints a Markdown table for docs/packaging.md.
"""
from __future__ import annotations

import argparse
import os
import platform
import queue
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "measure"
CLIENT_TITLE = "^LAN Chat$"            # the client's connect window
SERVER_TITLE = "^LAN Chat Server"      # the server window ("LAN Chat Server — port N")


# ---------------------------------------------------------------- building

def build(layout: str, rebuild: bool) -> Path:
    """dist folder of ``layout`` ('onefile' or 'onedir'), built with build.spec if needed."""
    dist = OUT / layout
    if rebuild or find_program(dist, "ChatServer") is None or find_program(dist, "ChatClient") is None:
        shutil.rmtree(dist, ignore_errors=True)
        cmd = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
               "--distpath", str(dist), "--workpath", str(OUT / f"work-{layout}"),
               str(ROOT / "build.spec"), "--", f"--{layout}"]
        print("building:", " ".join(cmd), file=sys.stderr)
        t0 = time.monotonic()
        subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        print(f"  built in {time.monotonic() - t0:.0f} s", file=sys.stderr)
    return dist


def find_program(dist: Path, name: str) -> Path | None:
    for candidate in (dist / name, dist / f"{name}.exe", dist / "LanChat" / name,
                      dist / "LanChat" / f"{name}.exe", dist / f"{name}.app" / "Contents" / "MacOS" / name):
        if candidate.is_file():
            return candidate
    return None


def size_of(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


# ---------------------------------------------------------------- measuring

def start(cmd: list[str], env: dict, **kw) -> tuple[subprocess.Popen, float]:
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, env=env, cwd=tempfile.gettempdir(), **kw)
    return p, t0


def stop(p: subprocess.Popen) -> None:
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)


def time_to_window(cmd: list[str], title: str, env: dict, timeout: float = 30.0) -> float:
    p, t0 = start(cmd, env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = t0 + timeout
        while time.perf_counter() < deadline:
            found = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", title],
                                   env=env, capture_output=True, text=True).stdout.split()
            if found:
                return time.perf_counter() - t0
            if p.poll() is not None:
                raise RuntimeError(f"{cmd[0]} exited with {p.returncode} before its window showed")
            time.sleep(0.01)
        raise RuntimeError(f"no window {title!r} from {cmd} within {timeout} s")
    finally:
        stop(p)


def time_to_listening(cmd: list[str], env: dict, timeout: float = 30.0) -> float:
    p, t0 = start(cmd + ["--headless", "--host", "127.0.0.1", "--port", "0"], env,
                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:                            # the program line-buffers its output itself
        for line in p.stdout:
            lines.put(line)
        lines.put(None)
    threading.Thread(target=read, daemon=True).start()
    try:
        while (left := t0 + timeout - time.perf_counter()) > 0:
            try:
                line = lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                break
            if "listening on" in line:
                elapsed = time.perf_counter() - t0
                p.stdin.write("exit\n")
                p.stdin.flush()
                p.wait(10)
                return elapsed
        raise RuntimeError(f"{cmd} printed no 'listening on' line within {timeout} s")
    finally:
        stop(p)


def series(fn, runs: int) -> str:
    fn()                                           # warm-up: page cache, first extraction
    values = [fn() for _ in range(runs)]
    return f"{statistics.median(values):.2f} s ({min(values):.2f}–{max(values):.2f})"


class Xvfb:
    def __init__(self) -> None:
        self.proc = None
        self.display = None

    def __enter__(self) -> str:
        for n in range(150, 250):
            if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
                break
        self.proc = subprocess.Popen(["Xvfb", f":{n}", "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not Path(f"/tmp/.X11-unix/X{n}").exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("Xvfb did not start")
            time.sleep(0.05)
        self.display = f":{n}"
        return self.display

    def __exit__(self, *exc) -> None:
        stop(self.proc)


# ---------------------------------------------------------------- main

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5, help="measured runs per figure (default 5)")
    ap.add_argument("--rebuild", action="store_true", help="build both layouts again")
    ap.add_argument("--no-source", action="store_true", help="skip the python-from-source reference row")
    args = ap.parse_args()

    variants = []                                  # (label, server cmd, client cmd, sizes text)
    for layout in ("onefile", "onedir"):
        dist = build(layout, args.rebuild)
        server, client = find_program(dist, "ChatServer"), find_program(dist, "ChatClient")
        if layout == "onefile":
            sizes = f"ChatServer {mb(size_of(server))}, ChatClient {mb(size_of(client))}"
        else:
            sizes = f"folder with both {mb(size_of(server.parent))}"
        variants.append((f"one-{layout[3:]}", [str(server)], [str(client)], sizes))
    if not args.no_source:
        py = sys.executable
        variants.append(("python from source", [py, str(ROOT / "gui_server.py")],
                         [py, str(ROOT / "gui_client.py")], "(needs Python and the venv)"))

    env = dict(os.environ, LANCHAT_CONFIG_DIR=tempfile.mkdtemp(prefix="lanchat-measure-"))
    windows = sys.platform.startswith("linux") and shutil.which("Xvfb") and shutil.which("xdotool")
    rows = []
    with (Xvfb() if windows else _Null()) as display:
        if display:
            env["DISPLAY"] = display
        for label, server, client, sizes in variants:
            print(f"measuring {label} …", file=sys.stderr)
            listening = series(lambda: time_to_listening(server, env), args.runs)
            if display:
                cwin = series(lambda: time_to_window(client, CLIENT_TITLE, env), args.runs)
                swin = series(lambda: time_to_window(server + ["--port", "0"], SERVER_TITLE, env), args.runs)
            else:
                cwin = swin = "n/a (needs Linux, Xvfb, xdotool)"
            rows.append((label, sizes, cwin, swin, listening))
    shutil.rmtree(env["LANCHAT_CONFIG_DIR"], ignore_errors=True)

    tmp = tempfile.gettempdir()
    fs = subprocess.run(["stat", "-f", "-c", "%T", tmp], capture_output=True, text=True).stdout.strip() or "?"
    print(f"\n{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"TMPDIR {tmp} ({fs}); median of {args.runs} runs after one warm-up (min–max)\n")
    print("| build | size | ChatClient: start → window shown | ChatServer: start → window shown "
          "| ChatServer --headless: start → `listening` |")
    print("|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0


class _Null:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return None


if __name__ == "__main__":
    sys.exit(main())
