"""The room's name at the top of the server window, editable: what clients
looking for rooms on the LAN see in their list."""
from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from tkinter import ttk

from chatfront.wording import rename_room_button, room_label

from .theme import ui_font


class RoomNameBar(ttk.Frame):
    """``on_rename(name) -> name as announced`` is called with Return or the button;
    the field then shows the name as the server cleaned and cut it."""

    def __init__(self, master: tk.Misc, name: str, on_rename: Callable[[str], str]) -> None:
        super().__init__(master, padding=(12, 10, 12, 0))
        self.on_rename = on_rename
        self.current = name
        self._bold = ui_font(self, 1.0, "bold")
        ttk.Label(self, text=room_label(), font=self._bold).pack(side="left", padx=(0, 8))
        self.var = tk.StringVar(self, name)
        self.field = ttk.Entry(self, textvariable=self.var, width=34)
        self.field.pack(side="left", fill="x", expand=True)
        self.button = ttk.Button(self, text=rename_room_button(), command=self.apply, state="disabled")
        self.button.pack(side="left", padx=(8, 0))
        self.field.bind("<Return>", lambda e: (self.apply(), "break")[1])
        self.field.bind("<Escape>", lambda e: self.var.set(self.current))
        self.var.trace_add("write", lambda *a: self._changed())

    def _changed(self) -> None:
        changed = self.var.get().strip() not in ("", self.current)
        self.button.configure(state="normal" if changed else "disabled")

    def apply(self) -> None:
        wanted = self.var.get().strip()
        if not wanted or wanted == self.current:
            self.var.set(self.current)
            return
        self.current = self.on_rename(wanted)
        self.var.set(self.current)
