"""Starting a window: theme, icon, error reporting, then the client or server app."""
from __future__ import annotations

from chatfront.i18n import _, tk_locale

import argparse
import logging
import logging.handlers
import os
import sys
import tkinter as tk
import traceback
from pathlib import Path
from tkinter import messagebox

from . import scaling, settings
from .theme import Palette, apply_theme

ASSETS = Path(__file__).resolve().parent / "assets"
log = logging.getLogger("chatui")


def declare_dpi_awareness(windll=None) -> str:
    """On Windows, say that the windows handle DPI themselves (Tk sizes its fonts
    in points); otherwise Windows draws them as a blurry bitmap at 125-200 %
    scaling. Per monitor where the system has it (8.1 and newer), else system-wide.
    Returns which was declared ('' elsewhere, or when neither call exists)."""
    if windll is None:
        if sys.platform != "win32":
            return ""
        import ctypes
        windll = ctypes.windll      # type: ignore[attr-defined]
    try:
        windll.shcore.SetProcessDpiAwareness(2)          # PROCESS_PER_MONITOR_DPI_AWARE
        return "per-monitor"
    except (AttributeError, OSError):
        pass
    try:
        windll.user32.SetProcessDPIAware()
        return "system"
    except (AttributeError, OSError):
        return ""


def make_root(class_name: str, mode: str = "auto") -> tuple[tk.Tk, Palette]:
    """The Tk root with theme, icon and error reporting; raises SystemExit with
    one sentence when there is no display."""
    declare_dpi_awareness()         # before the first window exists
    try:
        root = tk.Tk(className=class_name)
    except tk.TclError:
        print(f"{class_name}: " + _("no display found; run it on a desktop, or use --headless."), file=sys.stderr)
        raise SystemExit(2) from None
    try:        # Tk's own dialogs (message box buttons, the file dialog) in our language, not the system's
        root.tk.call("::msgcat::mclocale", tk_locale())
    except tk.TclError:
        pass
    palette = apply_theme(root, mode)
    scaling.setup(root)             # the screen's DPI, the remembered zoom, Ctrl+plus/minus/0
    set_icon(root)
    root.report_callback_exception = _report(root, _log_file(class_name))
    return root, palette


def set_icon(root: tk.Tk) -> None:
    """The speech bubble in the title bar, task bar and Alt-Tab (all sizes, so
    each desktop picks a crisp one); the .ico as well on Windows."""
    try:
        icons = [tk.PhotoImage(master=root, file=str(ASSETS / f"icon-{s}.png")) for s in (16, 32, 48, 64, 128)]
        root.iconphoto(True, *icons)
        root._icons = icons                     # type: ignore[attr-defined]  # keep them alive
        if sys.platform == "win32" and (ASSETS / "chat.ico").exists():
            root.iconbitmap(default=str(ASSETS / "chat.ico"))
    except tk.TclError:
        pass                                    # an icon is never a reason not to start


def _log_file(class_name: str) -> Path | None:
    """Errors go to a small rotating log in the config folder, so a windowed
    program with no console still leaves the details somewhere findable."""
    path = settings.config_dir() / f"{class_name}.log"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=256_000, backupCount=1, encoding="utf-8")
    except OSError:
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    for name in ("chatui", "udpcore"):
        logging.getLogger(name).addHandler(handler)
    return path


def _report(root: tk.Tk, log_path: Path | None):
    """An error in a Tk callback is logged and shown in one dialog, not lost on a console."""
    def report(exc, value, tb) -> None:
        text = "".join(traceback.format_exception(exc, value, tb))
        log.error("unexpected error in the window:\n%s", text)
        if sys.stderr is not None:
            print(text, file=sys.stderr)
        where = _("The details were written to {path}.").format(path=log_path) if log_path else \
            _("The details are on the console.")
        try:
            messagebox.showerror(_("Something went wrong"), f"{value}\n\n{where}", parent=root)
        except tk.TclError:
            pass
    return report


def given_passphrase(args: argparse.Namespace, root: tk.Tk, title: str) -> str | None:
    """The passphrase --passphrase-file or LANCHAT_PASSPHRASE gives ("" for none);
    None, after one sentence in a dialog, when it cannot be used (never a traceback)."""
    from chatfront.passphrase import PassphraseProblem, passphrase_from
    from chatfront.wording import explain
    try:
        return passphrase_from(getattr(args, "passphrase_file", None))
    except PassphraseProblem as exc:
        messagebox.showerror(title, explain(exc), parent=root)
        return None


def run_client_window(args: argparse.Namespace) -> int:
    from udpcore import ChatError
    from udpnet import RoomFinder, server_or_room
    from .client_window import ClientApp
    ports = getattr(args, "ports", None)
    server = args.server
    if server and args.name:             # --server may name a room on the LAN, as in the terminal
        try:                             # (before the window: no blank window while it looks)
            server = server_or_room(server, 2.0, ports)
        except ChatError:
            pass                         # the form says what is wrong with it, fields kept
    root, palette = make_root("ChatClient", getattr(args, "theme", "auto"))
    scaling.scaler(root).fit_window(root, 760, 520, 480, 340)
    from chatfront.lock_wording import passphrase_unusable_title
    passphrase = given_passphrase(args, root, passphrase_unusable_title())     # None: said; go on without
    ClientApp(root, palette, server, args.name, find_rooms=lambda: RoomFinder(ports), passphrase=passphrase or "",
              start=client_starter(args))
    root.mainloop()
    return 0


def history_folder(args: argparse.Namespace) -> str | None:
    """Where the history is kept: ``history`` in the data folder; None with --no-history."""
    from chatfront.datadir import data_dir
    if getattr(args, "no_history", False):
        return None
    return os.path.join(data_dir(getattr(args, "data_dir", None)), "history")


def client_starter(args: argparse.Namespace):
    """start_client as the window wants it: its own copy of the room, a newcomer's
    replay, and a room that closes is waited for and joined again by itself."""
    from functools import partial
    from udpnet import start_client
    return partial(start_client, history_dir=history_folder(args), replay=getattr(args, "replay", 100),
                   rejoin=True)


# The server window's first and least size (96-dpi pixels): wide enough at first for the member
# table's four columns (name, address, last heard, muted) beside the history.
SERVER_WINDOW = (1000, 560, 560, 360)


def run_server_window(args: argparse.Namespace) -> int:
    from .server_window import ServerApp
    root, palette = make_root("ChatServer", getattr(args, "theme", "auto"))
    scaling.scaler(root).fit_window(root, *SERVER_WINDOW)
    from chatfront.options import limits_from, port_tries
    from chatfront.lock_wording import cannot_lock_title
    passphrase = given_passphrase(args, root, cannot_lock_title())
    if passphrase is None:               # asked to lock it and cannot: not opened unlocked instead
        root.destroy()
        return 2
    app = ServerApp(root, palette, args.host, args.port, allow_guests=not args.no_guests,
                    limits=limits_from(args), data_dir=args.data_dir, tries=port_tries(args),
                    open_names=tuple(getattr(args, "open_clients", ())), room=getattr(args, "room", ""),
                    passphrase=passphrase, history_dir=history_folder(args),
                    history_days=getattr(args, "history_days", 30), keep_history=not getattr(args, "no_history", False))
    root.mainloop()
    return app.exit_code
