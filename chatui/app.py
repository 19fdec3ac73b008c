"""Starting a window: theme, icon, error reporting, then the client or server app."""
from __future__ import annotations

import argparse
import logging
import sys
import tkinter as tk
import traceback
from pathlib import Path
from tkinter import messagebox

from .theme import apply_theme

ASSETS = Path(__file__).resolve().parent / "assets"
log = logging.getLogger("chatui")


def make_root(class_name: str, mode: str = "auto") -> tuple[tk.Tk, object]:
    """The Tk root with theme and icon; raises SystemExit with one sentence when
    there is no display."""
    try:
        root = tk.Tk(className=class_name)
    except tk.TclError:
        print(f"{class_name}: no display found; run it on a desktop, or use --headless.", file=sys.stderr)
        raise SystemExit(2) from None
    palette = apply_theme(root, mode)
    try:
        icons = [tk.PhotoImage(master=root, file=str(ASSETS / f"icon-{s}.png")) for s in (16, 32, 48, 64, 128)]
        root.iconphoto(True, *icons)
        root._icons = icons                     # keep references alive
    except tk.TclError:
        pass
    root.report_callback_exception = _report(root)
    return root, palette


def _report(root: tk.Tk):
    """An error in a Tk callback is logged and shown in one dialog, not lost on a console."""
    def report(exc, value, tb) -> None:
        text = "".join(traceback.format_exception(exc, value, tb))
        log.error("unexpected error in the window:\n%s", text)
        print(text, file=sys.stderr)
        try:
            messagebox.showerror("Something went wrong", f"{value}\n\nThe details were written to the log.",
                                 parent=root)
        except tk.TclError:
            pass
    return report


def run_client_window(args: argparse.Namespace) -> int:
    from .client_window import ClientApp
    root, palette = make_root("ChatClient", getattr(args, "theme", "auto"))
    root.geometry("760x520")
    root.minsize(480, 340)
    ClientApp(root, palette, args.server, args.name)
    root.mainloop()
    return 0


def run_server_window(args: argparse.Namespace) -> int:
    from .server_window import ServerApp
    root, palette = make_root("ChatServer", getattr(args, "theme", "auto"))
    root.geometry("900x560")
    root.minsize(560, 360)
    ServerApp(root, palette, args.host, args.port, allow_guests=not args.no_guests)
    root.mainloop()
    return 0
