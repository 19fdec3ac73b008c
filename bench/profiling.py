"""Where a server's time goes: ``py-spy record`` of its process, summarised.

:class:`Profile` samples a running process in the background (``--profile`` of
every bench); :func:`summarise` turns the stacks into the share of samples in
which each function is on the stack (inclusive) and at the top (self), over
the threads that were working (a thread waiting in ``select`` or on a queue is
left out), with the source lines where the biggest self times fall.
Needs py-spy (``.venv/bin/pip install py-spy``).
"""
from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from bench.processes import PY, ROOT, die_with_parent


def py_spy() -> str | None:
    exe = Path(PY).with_name("py-spy")
    if exe.exists():
        return str(exe)
    import shutil
    return shutil.which("py-spy")


class Profile:
    """``py-spy record`` of a running process, summarised: the share of samples
    in which each function is on the stack (inclusive) and at the top (self).

        prof = Profile(pid, seconds=3)      # starts sampling now, in the background
        ...                                 # load the process
        print(prof.report())                # waits for py-spy, then summarises
    """

    def __init__(self, pid: int, seconds: float, rate_hz: int = 500, out: Path | None = None) -> None:
        exe = py_spy()
        if exe is None:
            raise RuntimeError("py-spy is not installed: .venv/bin/pip install py-spy")
        self.out = out or Path(tempfile.mkstemp(prefix="bench-prof-", suffix=".txt")[1])
        self.p = subprocess.Popen([exe, "record", "--pid", str(pid), "--duration", str(max(1, round(seconds))),
                                   "--rate", str(rate_hz), "--format", "raw", "--nonblocking",
                                   "--output", str(self.out)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=die_with_parent)

    def stacks(self) -> list[tuple[list[str], int]]:
        try:
            self.p.wait(60)
        except subprocess.TimeoutExpired:
            self.p.kill()
        out = []
        for line in self.out.read_text(errors="replace").splitlines():
            stack, _, n = line.rpartition(" ")
            if stack and n.isdigit():
                out.append((stack.split(";"), int(n)))
        return out

    def report(self, top: int = 25, under: str | None = None) -> str:
        stacks = self.stacks()
        return summarise(stacks, top, under)


def _frame_name(frame: str) -> str:
    """'_relay (udpcore/server.py:345)' -> 'udpcore/server.py _relay'."""
    fn, _, where = frame.partition(" (")
    where = where.rstrip(")")
    path = where.rsplit(":", 1)[0]
    for marker in ("/udpcore/", "/udpnet/", "/chatfront/", "/chatui/", "/bench/", "/lib/python3"):
        if marker in path:
            path = path[path.index(marker) + 1:]
            break
    return f"{path} {fn}".strip()


def _waiting_frames() -> set[str]:
    """Leaf frames that mean a thread is waiting, not working: the socket
    thread's ``select`` line (udpnet/loop.py) and the lock waits of ``queue.Queue.get``."""
    frames = {"Condition.wait", "wait", "Thread._wait_for_tstate_lock", "Event.wait"}
    try:
        for i, line in enumerate((ROOT / "udpnet" / "loop.py").read_text().splitlines(), 1):
            if "select.select(" in line:
                frames.add(f"SocketLoop._run:{i}")      # py-spy names methods by qualified name
                frames.add(f"_run:{i}")                 # or by bare name, depending on its version
    except OSError:
        pass
    return frames


def busy_only(stacks: list[tuple[list[str], int]]) -> tuple[list[tuple[list[str], int]], int]:
    """Drop samples of threads that were waiting; returns (kept, dropped)."""
    waiting = _waiting_frames()
    kept, dropped = [], 0
    for stack, n in stacks:
        leaf = stack[-1]
        name, _, where = leaf.partition(" (")
        line = where.rstrip(")").rsplit(":", 1)[-1]
        if name in waiting or f"{name}:{line}" in waiting:
            dropped += n
        else:
            kept.append((stack, n))
    return kept, dropped


def summarise(stacks: list[tuple[list[str], int]], top: int = 25, under: str | None = None) -> str:
    """Inclusive and self shares per function, over the samples of working
    threads (waits dropped); ``under``: only stacks through that function."""
    stacks, dropped = busy_only(stacks)
    if under:
        stacks = [(s, n) for s, n in stacks if any(under in f for f in s)]
    total = sum(n for _, n in stacks)
    if not total:
        return "(no samples)"
    incl: dict[str, int] = {}
    self_: dict[str, int] = {}
    for stack, n in stacks:
        names = [_frame_name(f) for f in stack]
        for name in set(names):
            incl[name] = incl.get(name, 0) + n
        self_[names[-1]] = self_.get(names[-1], 0) + n
    rows = sorted(incl.items(), key=lambda kv: -kv[1])[:top]
    hot = sorted(self_.items(), key=lambda kv: -kv[1])[:4]
    lines = [f"{total} samples of working threads ({dropped} waiting ones left out)"
             + (f", through {under}" if under else ""),
             f"{'incl':>6} {'self':>6}  function"]
    for name, n in rows:
        lines.append(f"{n / total:6.1%} {self_.get(name, 0) / total:6.1%}  {name}")
    lines.append("where the biggest self times fall (share of all working samples, source line):")
    for name, _ in hot:
        lines.append(_hot_lines(stacks, name, total))
    return "\n".join(lines)


def _hot_lines(stacks: list[tuple[list[str], int]], name: str, total: int, top: int = 4) -> str:
    by_line: dict[tuple[str, int], int] = {}
    for stack, n in stacks:
        leaf = stack[-1]
        if _frame_name(leaf) != name:
            continue
        where = leaf.partition(" (")[2].rstrip(")")
        path, _, line = where.rpartition(":")
        if line.isdigit():
            by_line[(path, int(line))] = by_line.get((path, int(line)), 0) + n
    out = [f"  {name}:"]
    for (path, line), n in sorted(by_line.items(), key=lambda kv: -kv[1])[:top]:
        try:
            src = Path(path).read_text().splitlines()[line - 1].strip()
        except (OSError, IndexError):
            src = "?"
        out.append(f"    {n / total:6.1%}  line {line}: {src[:90]}")
    return "\n".join(out)
