"""Window: a client window receiving a burst of 10,000 lines — time until all are
shown and the longest gap between main-loop ticks, against Tk's own batch-insert
rate measured in the same run.

    .venv/bin/python bench/bench_window.py [--quick] [--lines 10000]

Needs Xvfb (starts its own display). In this process: the real client window
(``chatui.app.make_root`` + ``chatui.client_window.ClientApp``, its real
transport, its real ``mainloop``), joined to the real headless server (own
process). Another member — the real headless client, ``gui_client.py
--headless`` in its own process — types ``--lines`` lines as fast as it can
(stdin from a file); the window receives them through the server.

Measured in the window's process, through public faces only (the window's
``start`` and ``handle``, a ``ClientEngine`` subclass; nothing patched):
- when each burst line reaches the window's event queue: the socket thread
  takes it from the engine (``next_event``) in the turn that queues it,
- when the last one has been inserted and Tk has redrawn (``update_idletasks``),
- every gap between two runs of a 5 ms ``after`` heartbeat (how long the main
  loop could not react: the goal is under 100 ms), and the poller's own
  ``max_gap``,
- the main thread's time inside the window's batch handler.

Baseline, same process, same display, after the burst: a plain ``tk.Text`` of
the same size and font gets the same lines, already formatted, in chunks of 500
(the poller's batch), one ``insert`` per chunk, ``see('end')`` and
``update_idletasks()`` after each — Tk's own rate with no app logic.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from udpcore import DEFAULT_PORT, ClientEngine, events as ev  # noqa: E402
from bench.processes import bench_data_dir  # noqa: E402

# The windows keep history in the data folder: the bench's own, never the user's.
os.environ.setdefault("LANCHAT_DATA_DIR", bench_data_dir())
from udpnet import ClientTransport, resolve  # noqa: E402

from bench.loopback import udp_socket  # noqa: E402
from bench.measure import percentile  # noqa: E402
from bench.processes import PY, ServerProcess, spawn, stop_process  # noqa: E402
from bench.results import Result, main_for, ms  # noqa: E402
from tests.xvfb import Xvfb  # noqa: E402

GOAL_GAP = 0.100
TEXT = "burst line {:05d}: the quick brown fox jumps over the lazy dog"


def is_burst(e) -> bool:
    return isinstance(e, ev.RoomLine) and e.text.startswith("burst line ")


class StampingEngine(ClientEngine):
    """The real client engine; notes when the socket thread takes each burst line
    from it: in the same turn, that line is put on the window's event queue."""

    def __init__(self, *args, arrivals: list[float], **kw) -> None:
        super().__init__(*args, **kw)
        self.arrivals = arrivals

    def next_event(self):
        e = super().next_event()
        if e is not None and is_burst(e):
            self.arrivals.append(time.perf_counter())
        return e


def stamping_start(arrivals: list[float]):
    """A ``start`` for ClientApp: ``udpnet.start_client`` built from its public
    pieces (the real ClientTransport, a socket on 127.0.0.1 with udpnet's 1 MiB
    receive buffer) around a StampingEngine."""
    def start(server: str, name: str) -> ClientTransport:
        addr, _family, label = resolve(server, DEFAULT_PORT)
        engine = StampingEngine(name, addr, time.monotonic(), server_label=label, arrivals=arrivals)
        return ClientTransport(engine, udp_socket(1 << 20))
    return start


def run_loop(root, until, timeout: float) -> bool:
    """Run the real mainloop until ``until()`` is true (checked every 10 ms) or timeout."""
    deadline = time.monotonic() + timeout
    done = [False]

    def check() -> None:
        if until():
            done[0] = True
            root.quit()
        elif time.monotonic() > deadline:
            root.quit()
        else:
            root.after(10, check)
    root.after(10, check)
    root.mainloop()
    return done[0]


def tk_baseline(root, palette, lines: list[str], chunk: int = 500) -> float:
    """Seconds for a plain Text to take ``lines`` in chunks, shown after each chunk."""
    import tkinter as tk
    from chatui.theme import history_font
    top = tk.Toplevel(root)
    top.geometry("760x520")
    text = tk.Text(top, wrap="word", font=history_font(top), background=palette.bg, foreground=palette.fg)
    text.pack(fill="both", expand=True)
    text.tag_configure("time", foreground=palette.muted)
    text.tag_configure("name", foreground=palette.accent)
    top.update()
    stamp = time.strftime("%H:%M")
    t0 = time.perf_counter()
    for i in range(0, len(lines), chunk):
        args: list = []
        for line in lines[i:i + chunk]:
            args += [stamp + "  ", ("time", "line"), "burst", ("name", "line"), ": " + line + "\n", ("line",)]
        text.insert("end", *args)
        text.see("end")
        text.update_idletasks()
    took = time.perf_counter() - t0
    top.destroy()
    return took


def run(opts: argparse.Namespace) -> Result:
    n = opts.lines
    res = Result("Window", "python bench/bench_window.py")
    lines = [TEXT.format(i) for i in range(n)]
    with tempfile.TemporaryDirectory(prefix="bench-window-") as tmp, Xvfb(), ServerProcess() as srv:
        os.environ["LANCHAT_CONFIG_DIR"] = tmp
        from chatui.app import make_root
        from chatui.client_window import ClientApp

        arrivals: list[float] = []
        shown = [0]
        done_at: list[float] = []
        busy = [0.0]
        batches = [0]

        class TimedClientApp(ClientApp):
            """The real window; its batch handler (what the poller calls) timed."""

            def handle(self, events: list) -> None:
                t = time.perf_counter()
                super().handle(events)
                busy[0] += time.perf_counter() - t
                batches[0] += 1
                shown[0] += sum(1 for e in events if is_burst(e))
                if shown[0] >= n and not done_at:
                    root.update_idletasks()                # drawn, not just inserted
                    done_at.append(time.perf_counter())

        root, palette = make_root("ChatClient", "light")
        root.geometry("760x520")
        app = TimedClientApp(root, palette, f"127.0.0.1:{srv.address[1]}", "viewer", start=stamping_start(arrivals))
        if not run_loop(root, lambda: app.view is not None, 15):
            raise RuntimeError("the window did not connect")
        run_loop(root, lambda: False, 0.5)               # settle: member list, first draw
        busy[0], batches[0] = 0.0, 0                      # the burst's batches only

        gaps: list[float] = []
        last = [time.perf_counter()]

        def beat() -> None:
            now = time.perf_counter()
            gaps.append(now - last[0])
            last[0] = now
            root.after(5, beat)
        root.after(5, beat)
        run_loop(root, lambda: False, 0.3)
        gaps.clear()
        app.poller.max_gap = 0.0

        feed = Path(tmp) / "burst.txt"
        feed.write_text("\n".join(lines) + "\n", encoding="utf-8")
        with open(feed, "rb") as stdin:
            sender = spawn([PY, "gui_client.py", "--headless", "--server", f"127.0.0.1:{srv.address[1]}",
                            "--name", "burst"], stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            finished = run_loop(root, lambda: bool(done_at), 60)
            run_loop(root, lambda: False, 0.2)            # gaps right after the burst count too
        finally:
            stop_process(sender, 2.0)
        poller_gap = app.poller.max_gap
        burst_gaps = list(gaps)
        base_s = tk_baseline(root, palette, lines)
        app.exit()
        run_loop(root, lambda: False, 0.5)
        try:
            root.destroy()
        except Exception:
            pass
    if not finished or not arrivals:
        res.goal(f"burst of {n} lines shown", f"only {shown[0]} shown within 60 s", False)
        return res
    first, last_arrival = arrivals[0], arrivals[-1]
    total = done_at[0] - first
    max_gap = max(burst_gaps)
    app_rate = n / busy[0]
    base_rate = n / base_s
    res.add_table(f"Window: a burst of {n} lines from another member (real headless client) through the server "
                  f"into the client window under Xvfb",
                  ("", "figure"),
                  [("lines reaching the window's event queue (first -> last)", ms(last_arrival - first)),
                   ("first line in -> all shown (inserted and drawn)", ms(total)),
                   ("last line in -> all shown (lag behind the network)", ms(done_at[0] - last_arrival)),
                   ("longest gap between main-loop ticks (5 ms heartbeat)", ms(max_gap)),
                   ("heartbeat gaps p50 / p99 during the burst",
                    f"{ms(percentile(burst_gaps, 50))} / {ms(percentile(burst_gaps, 99))}"),
                   ("the poller's own max_gap", ms(poller_gap)),
                   ("batches handled / main thread inside the handler",
                    f"{batches[0]} / {ms(busy[0])} ({busy[0] / total:.0%} of the burst)"),
                   ("window: lines handled per second of handler time", f"{app_rate:,.0f}/s"),
                   ("baseline: plain Text.insert, chunks of 500, drawn after each", f"{base_rate:,.0f}/s ({ms(base_s)})"),
                   ("window handler rate / Tk baseline", f"{app_rate / base_rate:.2f}")])
    res.goal(f"longest gap between main-loop ticks under {GOAL_GAP * 1000:.0f} ms while {n} lines arrive",
             ms(max_gap), max_gap < GOAL_GAP)
    return res


def add_args(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--lines", type=int, default=10000)


if __name__ == "__main__":
    main_for("Window", run, add_args, __doc__)
