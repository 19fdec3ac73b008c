""""Room not listed?": what to type instead, and how the server's machine lets
the chat port in, for every system (the person asking may not know which system
the server runs on). The same commands as docs/firewall.md and the server's box."""
from __future__ import annotations

import tkinter as tk
from tkinter import ttk

from chatfront.wording import close_button, firewall_commands, firewall_more, room_help_text, room_help_title, \
    system_name
from udpcore import DEFAULT_PORT

from .firewall_box import CommandRow
from .scaling import wrap_at
from .theme import Palette, ui_font


class RoomHelp(tk.Toplevel):
    def __init__(self, master: tk.Misc, palette: Palette, port: int = DEFAULT_PORT) -> None:
        super().__init__(master)
        self.title(room_help_title())
        self.transient(master.winfo_toplevel())
        body = ttk.Frame(self, padding=20)
        body.pack(fill="both", expand=True)
        self._bold = ui_font(self, 1.0, "bold")
        wrap_at(ttk.Label(body, text=room_help_text(port), justify="left"), 560).pack(anchor="w", fill="x")
        self.rows: list[CommandRow] = []
        for system in ("win32", "darwin", "linux"):
            ttk.Label(body, text=system_name(system), font=self._bold).pack(anchor="w", pady=(12, 0))
            for what, command in firewall_commands(port, system):
                row = CommandRow(body, palette, what, command)
                row.pack(fill="x")
                self.rows.append(row)
        ttk.Label(body, text=firewall_more(), foreground=palette.muted).pack(anchor="w", pady=(10, 0))
        self.close = ttk.Button(body, text=close_button(), command=self.destroy)
        self.close.pack(anchor="e", pady=(12, 0))
        self.bind("<Escape>", lambda e: self.destroy())
        self.close.focus_set()
