"""The first thing a client shows: where to connect and under which name."""
from __future__ import annotations

from chatfront.i18n import _

import tkinter as tk
from tkinter import ttk
from typing import Callable

from udpcore import DEFAULT_PORT

from .theme import LIGHT, Palette, ui_font


class ConnectForm(ttk.Frame):
    """Server and name fields and a Connect button; problems are shown under
    the fields in one sentence and the fields are kept as typed. While an
    attempt is under way a Cancel button stands next to Connect: nobody has
    to wait for an answer that may never come."""

    def __init__(self, master: tk.Misc, server: str, name: str,
                 on_connect: Callable[[str, str], None], palette: Palette = LIGHT,
                 on_cancel: Callable[[], None] | None = None) -> None:
        super().__init__(master, padding=28)
        self.on_connect = on_connect
        self.on_cancel = on_cancel
        self.busy = False                 # a connection attempt is under way
        self.palette = palette
        self._heading = ui_font(self, 1.6, "bold")
        ttk.Label(self, text=_("Join a chat room"), font=self._heading).grid(
            row=0, column=0, columnspan=2, sticky="w", pady=(0, 4))
        ttk.Label(self, text=_("Ask the person running ChatServer for its address.")).grid(
            row=1, column=0, columnspan=2, sticky="w", pady=(0, 16))
        self.server = tk.StringVar(self, server)
        self.name = tk.StringVar(self, name)
        ttk.Label(self, text=_("Server")).grid(row=2, column=0, sticky="w", padx=(0, 12), pady=(6, 0))
        self.server_entry = ttk.Entry(self, textvariable=self.server, width=32)
        self.server_entry.grid(row=2, column=1, sticky="ew", pady=(6, 0))
        ttk.Label(self, text=_("host or host:port (port {port} by default)").format(port=DEFAULT_PORT),
                  foreground=palette.muted).grid(row=3, column=1, sticky="w", pady=(2, 8))
        ttk.Label(self, text=_("Your name")).grid(row=4, column=0, sticky="w", padx=(0, 12), pady=6)
        self.name_entry = ttk.Entry(self, textvariable=self.name, width=32)
        self.name_entry.grid(row=4, column=1, sticky="ew", pady=6)
        self.message = ttk.Label(self, text="", wraplength=400, justify="left")
        self.message.grid(row=5, column=0, columnspan=2, sticky="ew", pady=(14, 6))
        buttons = ttk.Frame(self)
        buttons.grid(row=6, column=1, sticky="e", pady=(6, 0))
        self.button = ttk.Button(buttons, text=_("Connect"), command=self.submit, style="Accent.TButton")
        self.button.grid(row=0, column=1)
        self.cancel_button = ttk.Button(buttons, text=_("Cancel"), command=self.cancel)
        self.cancel_button.grid(row=0, column=0, padx=(0, 8))
        self.cancel_button.grid_remove()  # only while connecting
        self.cancel_button.bind("<Escape>", lambda e: self.cancel())
        self.columnconfigure(1, weight=1)
        for w in (self.server_entry, self.name_entry):
            w.bind("<Return>", lambda e: self.submit())
        (self.name_entry if server and not name else self.server_entry).focus_set()

    def submit(self) -> None:
        if self.busy:
            return          # disabled entries still get <Return>: one connection attempt at a time
        server, name = self.server.get().strip(), self.name.get().strip()
        if not server:
            self.show_error(_("Type the server's address, for example 192.168.1.20."))
        elif not name:
            self.show_error(_("Type the name the others will see."))
        else:
            self.on_connect(server, name)

    def cancel(self) -> None:
        """Stop the attempt under way; the fields come back as typed."""
        if not self.busy:
            return
        self.message.configure(text=_("Not connected: you cancelled."), foreground="")
        self.set_busy(False)
        if self.on_cancel is not None:
            self.on_cancel()

    def show_error(self, sentence: str) -> None:
        self.message.configure(text=sentence, foreground=self.palette.error)
        self.set_busy(False)

    def show_progress(self, sentence: str) -> None:
        self.message.configure(text=sentence, foreground="")
        self.set_busy(True)

    def set_busy(self, busy: bool) -> None:
        self.busy = busy
        state = "disabled" if busy else "normal"
        for w in (self.server_entry, self.name_entry, self.button):
            w.configure(state=state)
        if busy and self.on_cancel is not None:
            self.cancel_button.grid()
            self.cancel_button.focus_set()      # Escape or Space cancels; Tab gets nowhere else now
        else:
            self.cancel_button.grid_remove()
            if not busy and self.focus_get() in (self.cancel_button, None):
                self.server_entry.focus_set()
