"""How both windows leave: without blocking Tk while the last lines are acknowledged."""
from __future__ import annotations

import tkinter as tk
from typing import Any

GRACE = 2.0      # seconds past the transport's own timeout before the window closes anyway


class LeavingWindow:
    """Mixed into ClientApp and ServerApp. The transport closes with
    ``wait=False``; the window keeps polling and destroys itself when the
    ``Closed`` event arrives (the subclass calls ``close_window`` then), or after
    a grace period in case it never does."""

    root: tk.Tk
    transport: Any
    poller: Any
    view: Any
    leaving: bool = False
    stopped: bool = False          # the transport's Closed event has come

    def leave(self, status: str, timeout: float) -> None:
        if self.leaving:
            return
        self.leaving = True
        if self.transport is None or self.stopped:
            self.close_window()
            return
        if self.view is not None:
            self.view.set_input_enabled(False)
            self.view.status.set(status)
        self.transport.close(timeout=timeout, wait=False)
        self.root.after(int((timeout + GRACE) * 1000), self.close_window)

    def close_window(self) -> None:
        if self.poller:
            self.poller.stop()
        try:
            self.root.destroy()
        except tk.TclError:
            pass


def on_close(root: tk.Tk, close: Any) -> None:
    """The window's own way out, whichever way closing is asked for: the window
    manager's × (WM_DELETE_WINDOW) and, on macOS, Cmd-Q, the Dock's Quit and
    logging out (``::tk::mac::Quit``, which otherwise exits at once: no LEAVE
    sent, the room never told). Elsewhere the Tcl command is simply never called."""
    root.protocol("WM_DELETE_WINDOW", close)
    root.createcommand("::tk::mac::Quit", close)
