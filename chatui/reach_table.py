"""Under the server's member list: this machine's networks, the address to give
out on each, and whether anyone there has reached the room (chatfront.reachability)."""
from __future__ import annotations

import tkinter as tk
from collections.abc import Iterable
from tkinter import ttk

from chatfront.reachability import Reach
from chatfront.wording import ago, networks_heading, nobody_reached_yet, reach_hint, reached_column

from .scaling import px
from .theme import Palette


class ReachTable(ttk.Frame):
    def __init__(self, master: tk.Misc, palette: Palette) -> None:
        super().__init__(master, padding=(0, 10, 0, 0))
        ttk.Label(self, text=networks_heading()).pack(anchor="w", pady=(0, 4))
        self.tree = ttk.Treeview(self, columns=("address", "heard"), show="headings", height=3,
                                 selectmode="browse")
        self.tree.heading("address", text=networks_heading(short=True), anchor="w")
        self.tree.heading("heard", text=reached_column(), anchor="w")
        self.tree.column("address", width=px(self, 220), stretch=True, anchor="w")
        self.tree.column("heard", width=px(self, 150), stretch=True, anchor="w")
        self.tree.pack(fill="x")
        self.hint = ttk.Label(self, text="", foreground=palette.muted, wraplength=380, justify="left")
        self.hint.pack(anchor="w", fill="x", pady=(4, 0))
        self.bind("<Configure>", lambda e: e.width > 50 and self.hint.configure(wraplength=e.width - 8), add="+")

    def show(self, rows: Iterable[Reach]) -> None:
        rows = list(rows)
        values = [(f"{r.address}  ({r.interface})", ago(r.heard) if r.heard is not None else nobody_reached_yet())
                  for r in rows]
        items = self.tree.get_children()
        if [tuple(self.tree.item(i, "values")) for i in items] != values:
            self.tree.delete(*items)
            for v in values:
                self.tree.insert("", "end", values=v)
        self.tree.configure(height=max(1, min(len(values), 4)))
        quiet = [r.address for r in rows if r.heard is None]
        self.hint.configure(text=reach_hint(quiet) if quiet else "")

    def rows(self) -> list[tuple[str, str]]:
        return [tuple(self.tree.item(i, "values")) for i in self.tree.get_children()]
