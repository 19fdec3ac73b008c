"""Command-line options shared by the windows and the headless programs.

Both entry scripts parse with these parsers first and only then decide whether
to import Tk, so ``--headless`` never needs a display.
"""
from __future__ import annotations

import argparse
import os
import sys

from udpcore import DEFAULT_PORT, Limits, __version__

from .i18n import _


def attach_console() -> None:
    """A windowed Windows executable starts with no console, so stdout is None
    and --help or --headless would print into nothing (or crash). Attach to the
    terminal it was started from, if any; else send output nowhere, safely."""
    if sys.platform != "win32" or sys.stdout is not None:
        return
    import ctypes
    try:
        if ctypes.windll.kernel32.AttachConsole(-1):      # ATTACH_PARENT_PROCESS
            sys.stdout = open("CONOUT$", "w", encoding="utf-8", errors="replace")
            sys.stderr = open("CONOUT$", "w", encoding="utf-8", errors="replace")
            sys.stdin = open("CONIN$", encoding="utf-8", errors="replace")
            return
    except OSError:
        pass
    # Double-clicked: no terminal at all.
    sys.stdout = sys.stderr = open(os.devnull, "w")
    sys.stdin = open(os.devnull)


def server_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ChatServer",
        description=_("LAN chat server over UDP. Opens a window unless --headless is given."),
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    p.add_argument("--headless", action="store_true",
                   help=_("run without a window: print room events, read lines to send from stdin"))
    p.add_argument("--host", default=None,
                   help=_("address to listen on (default: all IPv6 and IPv4 addresses)"))
    p.add_argument("--port", type=int, default=DEFAULT_PORT,
                   help=_("UDP port to listen on (default {port}; 0 picks a free one)").format(port=DEFAULT_PORT))
    p.add_argument("--no-guests", action="store_true",
                   help=_("ignore plain-text datagrams instead of treating them as guest lines"))
    d = Limits()
    p.add_argument("--line-rate", type=float, default=d.line_rate, metavar="N",
                   help=_("lines a second a member may keep up (default {n})").format(n=d.line_rate))
    p.add_argument("--line-burst", type=int, default=d.line_burst, metavar="N",
                   help=_("lines a member may send at once on top of that (default {n})").format(n=d.line_burst))
    _theme(p)
    return p


def limits_from(args: argparse.Namespace) -> Limits:
    """The server's caps and rates from its options. Raises ValueError for a bad value."""
    return Limits(line_rate=args.line_rate, line_burst=args.line_burst)


def client_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ChatClient",
        description=_("LAN chat client over UDP. Opens a window unless --headless is given."),
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    p.add_argument("--headless", action="store_true",
                   help=_("run in the terminal: lines typed are sent, room lines are printed"))
    p.add_argument("--server", default=None,
                   help=_("server as HOST, HOST:PORT or [IPv6]:PORT (default port {port})").format(port=DEFAULT_PORT))
    p.add_argument("--name", default=None, help=_("your name in the room"))
    _theme(p)
    return p


def _theme(p: argparse.ArgumentParser) -> None:
    p.add_argument("--theme", choices=("auto", "light", "dark"), default="auto",
                   help=_("window colours (default: follow the system)"))
