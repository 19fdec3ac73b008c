"""The terminal programs: ``gui_server.py --headless`` and ``gui_client.py --headless``.

Thin: they print what arrives on the transport's queue and send what is typed
on stdin. Exit status: 0 after a clean end; 1 when the name is refused, the
server cannot be reached or closed the room; 2 for a busy port or a bad option.
"""
from __future__ import annotations

import argparse
import queue
import signal
import sys
import threading

from . import events as ev
from .commands import Msg, Quit, parse
from .textview import describe
from .transport import ChatError, local_addresses, start_client, start_server


BUSY_PAUSE = 0.02      # seconds the headless server waits between batches when events pour in


def _setup_stdio() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(line_buffering=True, errors="replace")  # type: ignore[union-attr]
        except (AttributeError, ValueError):
            pass


def _stdin_lines(handle, done: threading.Event) -> threading.Thread:
    """Feed each stdin line to ``handle`` on a thread; set ``done`` when it returns False or EOF."""
    def run() -> None:
        try:
            for line in sys.stdin:
                if handle(line.rstrip("\r\n")) is False:
                    break
        except (OSError, ValueError):
            pass
        done.set()
    t = threading.Thread(target=run, name="stdin", daemon=True)
    t.start()
    return t


def _on_signals(stop: threading.Event) -> None:
    def handler(signum, frame) -> None:
        stop.set()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            signal.signal(sig, handler)
        except (ValueError, OSError):
            pass


def run_server(args: argparse.Namespace) -> int:
    _setup_stdio()
    try:
        srv = start_server(args.host, args.port, allow_guests=not args.no_guests, stats=False)
    except ChatError as exc:
        print(f"ChatServer: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    _on_signals(stop)

    def typed(line: str) -> bool:
        cmd = parse(line)
        if isinstance(cmd, Quit):
            stop.set()
            return False
        if isinstance(cmd, Msg):
            srv.say(cmd.text, to=cmd.to)
        elif cmd is not None:
            srv.say(line)
        return True

    eof = threading.Event()            # end of input only stops reading
    _stdin_lines(typed, eof)
    while not stop.is_set():
        try:
            batch = [srv.events.get(timeout=0.2)]
        except queue.Empty:
            continue
        batch += srv.events.get_all()
        lines = [text for e in batch if (text := describe(e))]
        for e in batch:
            if isinstance(e, ev.Listening) and args.host is None:
                others = ", ".join(f"{a}:{srv.address[1]}" if ":" not in a else f"[{a}]:{srv.address[1]}"
                                   for a in local_addresses())
                if others:
                    lines.append(f"* clients on the network can connect to: {others}")
        if lines:
            print("\n".join(lines))                # one write for the whole batch
        if len(batch) > 1:
            # A busy room: pause, so the socket thread runs without this thread
            # taking the GIL from it after every line (CPython's convoy effect);
            # a lone event is still printed at once.
            stop.wait(BUSY_PAUSE)
    srv.close()
    while True:
        e = srv.events.get()
        if isinstance(e, ev.Closed):
            break
        text = describe(e)
        if text:
            print(text)
    print("* the room is closed")
    return 0


def run_client(args: argparse.Namespace) -> int:
    _setup_stdio()
    try:
        cli = start_client(args.server, args.name)
    except ChatError as exc:
        print(f"ChatClient: {exc}", file=sys.stderr)
        return 1
    stop = threading.Event()
    _on_signals(stop)
    _stdin_lines(cli.submit, stop)     # exit, /quit or end of input: leave
    status = 0
    leaving = False
    while True:
        if stop.is_set() and not leaving:
            leaving = True
            threading.Thread(target=cli.close, kwargs={"timeout": 15.0}, daemon=True).start()
        try:
            e = cli.events.get(timeout=0.1)
        except queue.Empty:
            continue
        if isinstance(e, ev.Closed):
            break
        if isinstance(e, (ev.JoinRefused, ev.Unreachable, ev.ServerClosed)):
            print(f"ChatClient: {e.reason}", file=sys.stderr)
            status = 1
            continue
        text = describe(e, cli.name)
        if text:
            print(text)
    return status
