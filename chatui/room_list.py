"""The rooms found on the LAN, as the connect form lists them: a padlock for a
locked room (drawn, chatui/padlock.py: the 🔒 character is an empty box where no
emoji font is installed), room, where, how many are in it. Each ``show`` is the whole list as the
finder has it now (udpnet.RoomFinder forgets a room that stopped answering); rows
are kept by the server's identity, so a room heard again updates its row in place
and the selection stays on it."""
from __future__ import annotations

import tkinter as tk
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from tkinter import ttk

from chatfront.i18n import _, n_

from .scaling import px
from .padlock import padlock
from .theme import Palette

@dataclass(frozen=True)
class Row:
    """One room as the list shows it (the form makes these from what discovery found)."""
    key: Hashable            # the server's identity: one row per room, however many addresses reach it
    room: str
    where: str               # what joining it types into the Server field (host:port)
    members: int
    locked: bool = False


def members_text(n: int) -> str:
    return n_("{n} member", "{n} members", n).format(n=n)


class RoomList(ttk.Frame):
    def __init__(self, master: tk.Misc, palette: Palette, on_join: Callable[[Row], None],
                 on_pick: Callable[[Row], None] | None = None, height: int = 5) -> None:
        super().__init__(master)
        self.on_join, self.on_pick = on_join, on_pick
        self.rows: dict[str, Row] = {}              # tree item id -> row
        style = ttk.Style(self)
        # The padlock goes in the tree column; a flat list has no use for its expand indicator's room.
        style.layout("Rooms.Treeview.Item", [("Treeitem.padding", {"sticky": "nswe", "children": [
            ("Treeitem.image", {"sticky": ""})]})])
        self.tree = ttk.Treeview(self, columns=("room", "where", "members"), show=("tree", "headings"),
                                 height=height, selectmode="browse", style="Rooms.Treeview")
        self.padlock = padlock(self, palette.fg, style.lookup("Treeview", "background") or palette.bg)
        self.tree.column("#0", width=self.padlock.width() + 16, minwidth=self.padlock.width() + 16, stretch=False)
        for column, heading, width, stretch in (("room", _("Room"), 190, True), ("where", _("Address"), 150, True),
                                                ("members", _("Members"), 90, False)):
            self.tree.heading(column, text=heading, anchor="w")
            self.tree.column(column, width=px(self, width), minwidth=px(self, 30), stretch=stretch, anchor="w")
        bar = ttk.Scrollbar(self, orient="vertical", command=self.tree.yview)
        self.tree.configure(yscrollcommand=bar.set)
        self.tree.grid(row=0, column=0, sticky="nsew")
        bar.grid(row=0, column=1, sticky="ns")
        self.rowconfigure(0, weight=1)
        self.columnconfigure(0, weight=1)
        self.tree.bind("<Double-Button-1>", self._double)
        self.tree.bind("<Return>", lambda e: self._join_selected())
        self.tree.bind("<<TreeviewSelect>>", lambda e: self._picked())

    def show(self, rows: Iterable[Row]) -> None:
        """The rooms found now: new ones added, known ones updated in place, the rest removed."""
        by_key = {row.key: item for item, row in self.rows.items()}
        keep: set[str] = set()
        for row in rows:
            values = (row.room, row.where, members_text(row.members))
            image = self.padlock if row.locked else ""
            item = by_key.get(row.key)
            if item is None:
                item = self.tree.insert("", "end", values=values, image=image)
                by_key[row.key] = item
            elif self.rows[item] != row:
                self.tree.item(item, values=values, image=image)
            self.rows[item] = row
            keep.add(item)
        for item in [i for i in self.rows if i not in keep]:
            self.tree.delete(item)
            del self.rows[item]
        self._sort()

    def _sort(self) -> None:
        order = sorted(self.rows, key=lambda item: (self.rows[item].room.casefold(), self.rows[item].where))
        for index, item in enumerate(order):
            if self.tree.index(item) != index:
                self.tree.move(item, "", index)

    def listed(self) -> list[Row]:
        return [self.rows[item] for item in self.tree.get_children()]

    def selected(self) -> Row | None:
        chosen = self.tree.selection()
        return self.rows.get(chosen[0]) if chosen else None

    def _picked(self) -> None:
        if self.on_pick and (row := self.selected()):
            self.on_pick(row)

    def _double(self, event) -> str | None:
        item = self.tree.identify_row(event.y)
        if not item:
            return None
        self.tree.selection_set(item)
        self.on_join(self.rows[item])
        return "break"

    def _join_selected(self) -> None:
        if (row := self.selected()):
            self.on_join(row)

    def set_enabled(self, enabled: bool) -> None:
        self.tree.state(["!disabled"] if enabled else ["disabled"])
