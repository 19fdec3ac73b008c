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
        self.copy_buttons: list[ttk.Button] = []
        self.fields: list[ttk.Entry] = []
        for what, command in self.commands:
            ttk.Label(self, text=what, foreground=palette.muted).pack(anchor="w", pady=(6, 2))
            row = ttk.Frame(self)
            row.pack(fill="x")
            text = tk.StringVar(self, command)
            # Read-only, not disabled: the text can still be selected and copied by hand.
            field = ttk.Entry(row, textvariable=text, state="readonly", font="TkFixedFont")
            field.pack(side="left", fill="x", expand=True)
            field._text = text          # kept alive with the widget  # type: ignore[attr-defined]
            button = ttk.Button(row, text=copy_button())
            button.configure(command=lambda c=command, b=button: self.copy(c, b))
            button.pack(side="left", padx=(8, 0))
            self.fields.append(field)
            self.copy_buttons.append(button)
        ttk.Label(self, text=firewall_more(), foreground=palette.muted).pack(anchor="w", pady=(4, 0))
        self.bind("<Configure>", self._wrap, add="+")

    def copy(self, command: str, button: ttk.Button) -> None:
        self.clipboard_clear()
        self.clipboard_append(command)
        button.configure(text=copied() + " ✓")
        self.after(COPIED_FOR_MS, lambda: button.winfo_exists() and button.configure(text=copy_button()))

    def _wrap(self, event) -> None:
        if event.width > 100:
            self.sentence.configure(wraplength=event.width - 80)
