"""Reading a process from outside, and reducing samples to figures.

- :func:`cpu_seconds`, :func:`memory` and :class:`CpuMeter`: a process's CPU
  time and RSS from ``/proc/PID/stat`` and ``/proc/PID/status``
- :func:`udp_errors`: the system's UDP counters (datagrams dropped for a full buffer)
- :func:`percentile`, :func:`median`
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Iterable

CLK_TCK = os.sysconf("SC_CLK_TCK")


def percentile(values: Iterable[float], p: float) -> float:
    s = sorted(values)
    if not s:
        return float("nan")
    k = (len(s) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def median(values: Iterable[float]) -> float:
    return percentile(values, 50)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of every thread of ``pid`` so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def memory(pid: int) -> dict[str, int]:
    """VmRSS, VmHWM (peak RSS) and friends of ``pid``, in bytes."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Vm") or line.startswith("Rss"):
                k, v = line.split(":", 1)
                parts = v.split()
                if len(parts) == 2 and parts[1] == "kB":
                    out[k] = int(parts[0]) * 1024
    return out


class CpuMeter:
    """Share of one core that a process used between start() and stop()."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.t0 = self.c0 = 0.0

    def start(self) -> "CpuMeter":
        self.t0, self.c0 = time.monotonic(), cpu_seconds(self.pid)
        return self

    def stop(self) -> tuple[float, float]:
        """(CPU seconds used, share of one core)."""
        dt = time.monotonic() - self.t0
        used = cpu_seconds(self.pid) - self.c0
        return used, used / dt if dt > 0 else 0.0


def udp_errors() -> dict[str, int]:
    """System-wide UDP counters (RcvbufErrors: datagrams dropped for a full buffer)."""
    try:
        lines = [x.split() for x in Path("/proc/net/snmp").read_text().splitlines() if x.startswith("Udp:")]
        return dict(zip(lines[0][1:], map(int, lines[1][1:])))
    except (OSError, IndexError, ValueError):
        return {}
