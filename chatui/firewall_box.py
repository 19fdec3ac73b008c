"""A band over the server's history when nobody has reached the room: the likely
cause (the firewall) and the exact command for this system, in a box the
operator can select from or copy with one click."""
from __future__ import annotations

import tkinter as tk
from tkinter import ttk

from chatfront.wording import copied, copy_button, firewall_commands, firewall_hint, firewall_more

from .theme import Palette

COPIED_FOR_MS = 2000       # how long the button says "Copied" before it says "Copy" again


class FirewallBox(ttk.Frame):
    def __init__(self, master: tk.Misc, palette: Palette, port: int, system: str) -> None:
        super().__init__(master, padding=(12, 10, 12, 0))
        self.commands = firewall_commands(port, system)
        head = ttk.Frame(self)
        head.pack(fill="x")
        self.sentence = ttk.Label(head, text="⚠  " + firewall_hint(port), wraplength=620, justify="left",
                                  foreground=palette.error)
        self.sentence.pack(side="left", fill="x", expand=True)
        self.close_button = ttk.Button(head, text="✕", width=3, command=self.destroy)
        self.close_button.pack(side="right", anchor="n")
        rows = [CommandRow(self, palette, what, command) for what, command in self.commands]
        for row in rows:
            row.pack(fill="x")
        self.fields = [row.field for row in rows]
        self.copy_buttons = [row.button for row in rows]
        ttk.Label(self, text=firewall_more(), foreground=palette.muted).pack(anchor="w", pady=(4, 0))
        self.bind("<Configure>", self._wrap, add="+")

    def _wrap(self, event) -> None:
        if event.width > 100:
            self.sentence.configure(wraplength=event.width - 80)


class CommandRow(ttk.Frame):
    """What a command is for, then the command in a read-only field (selectable by
    hand: read-only, not disabled) with a Copy button."""

    def __init__(self, master: tk.Misc, palette: Palette, what: str, command: str) -> None:
        super().__init__(master)
        self.command = command
        ttk.Label(self, text=what, foreground=palette.muted).pack(anchor="w", pady=(6, 2))
        line = ttk.Frame(self)
        line.pack(fill="x")
        self.text = tk.StringVar(self, command)
        self.field = ttk.Entry(line, textvariable=self.text, state="readonly", font="TkFixedFont")
        self.field.pack(side="left", fill="x", expand=True)
        self.button = ttk.Button(line, text=copy_button(), command=self.copy)
        self.button.pack(side="left", padx=(8, 0))

    def copy(self) -> None:
        self.clipboard_clear()
        self.clipboard_append(self.command)
        self.button.configure(text=copied() + " ✓")
        self.after(COPIED_FOR_MS, lambda: self.button.winfo_exists() and self.button.configure(text=copy_button()))
