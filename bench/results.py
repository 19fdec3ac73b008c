"""What every bench returns and prints, and the command line they share.

- :func:`machine`, :func:`load_average`: what the figures were taken on
- :func:`table`, :func:`rate`, :func:`ms`: Markdown tables and their cells
- :class:`Result`: a bench's tables, goals (and whether they hold), notes and
  profiles, as text or JSON (``run_all.py`` reads the JSON back)
- :func:`main_for`: the command line every bench shares (``--quick``,
  ``--json PATH``, ``--profile``)
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable


# --- the machine ------------------------------------------------------------------------


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


# --- figures ---------------------------------------------------------------------------


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
