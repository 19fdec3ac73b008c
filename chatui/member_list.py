"""The member list both windows show, for a classroom of 150: sorted, filtered,
scrolled only when it has to be.

The client's list of names puts "NAME (you)" first, then everyone else in
alphabetical order, ignoring case and accents (so "Álvaro" sits with the a's,
not after "zoë"). The server's table sorts by whichever column heading was
clicked last (a second click reverses it; an arrow in the heading says which
and which way). A small field over the list keeps only the names containing
what is typed in it; typing while the list has the focus types into it.
"""
from __future__ import annotations

import ipaddress
import tkinter as tk
import unicodedata
from tkinter import ttk
from typing import Any, Callable, Iterable

from chatfront.i18n import _

from .theme import Palette
from .widgets import MemberList

UP, DOWN = " \u25b2", " \u25bc"      # ▲ ascending, ▼ descending, after the sorted column's heading


def collate(text: str) -> str:
    """The form names are sorted and filtered in: no accents, no case ("Álvaro" as "alvaro")."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def address_key(address: str) -> tuple:
    """An address in numeric order: 192.168.1.9:5002 before 192.168.1.20:5002, IPv4 before IPv6."""
    host, _sep, port = address.rpartition(":") if address.count(":") == 1 or address.startswith("[") \
        else (address, "", "")
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
        where: tuple = (ip.version, int(ip))
    except ValueError:
        where = (9, 0, collate(host))
    return where + (int(port) if port.isdigit() else 0,)


def filter_hint() -> str:
    return _("Filter names")


def counted(title: str, shown: int, total: int) -> str:
    """The list's title: "Members (150)", or "Members (3 of 150)" while a filter hides some."""
    if shown == total:
        return f"{title} ({total})"
    return _("{title} ({shown} of {total})").format(title=title, shown=shown, total=total)


class MemberTable(MemberList):
    """A MemberList that sorts, filters and hides its scrollbar when everything fits.

    ``set_members`` takes (name, values) rows, or (name, values, keys) where
    ``keys`` are what each column sorts by (the server's idle seconds, not the
    words "3 min ago"). ``names()`` is every member in the list's order, the
    filtered-out ones included."""

    def __init__(self, master: tk.Misc, palette: Palette, columns: tuple[tuple[str, str, int], ...] = (),
                 on_pick: Callable[[str], None] | None = None, title: str | None = None) -> None:
        super().__init__(master, palette, columns, on_pick, title)
        self._rows: dict[str, tuple[tuple, tuple | None]] = {}
        self.me: str | None = None
        self.sort_column, self.descending = "name", False
        self._held: str | None = None            # the chosen member, kept while a filter hides it
        self._windows = self.tk.call("tk", "windowingsystem") == "win32"
        self._headings = {"name": _("Name"), **{cid: heading for cid, heading, _w in columns}}
        # The filter field goes between the title and the list.
        self.filter_var = tk.StringVar(self)
        self.filter = ttk.Entry(self, textvariable=self.filter_var, width=12)
        self.filter.grid(row=1, column=0, columnspan=2, sticky="ew", pady=(0, 6))
        # While empty and not focused the field says what it is for, in grey, as its own text
        # (a label over it never quite matches a themed field's background).
        self._placeholder = False
        self.filter.bind("<FocusIn>", lambda e: self._hint(), add="+")
        self.filter.bind("<FocusOut>", lambda e: self._hint(), add="+")
        self.tree.grid(row=2, column=0, sticky="nsew")
        self.scrollbar.grid(row=2, column=1, sticky="ns")
        self.rowconfigure(1, weight=0)
        self.rowconfigure(2, weight=1)
        self.tree.configure(yscrollcommand=self._yscroll)
        self.filter_var.trace_add("write", lambda *a: self._filtered())
        self.filter.bind("<Escape>", self._escape)
        self.filter.bind("<Down>", lambda e: (self._into_list(), "break")[1])
        self.filter.bind("<Return>", lambda e: (self._pick_first(), "break")[1])
        self.filter.bind("<KP_Enter>", lambda e: (self._pick_first(), "break")[1])
        self.tree.bind("<KeyPress>", self._typed, add="+")
        if columns:
            for cid in self._headings:
                self.tree.heading(cid, command=lambda c=cid: self.sort_by(c))
            self._show_arrow()
        self._hint()

    # --- the rows -------------------------------------------------------------------------

    def set_members(self, rows: Iterable[tuple], me: str | None = None) -> None:
        """Replace the list with (name, values[, keys]) rows; ``me`` is shown as
        "NAME (you)", first. The chosen member stays chosen."""
        self._rows = {row[0]: (tuple(row[1]), tuple(row[2]) if len(row) > 2 else None) for row in rows}
        self.me = me
        self._refresh()

    def names(self) -> list[str]:
        return self._order(self._rows)

    def shown(self) -> list[str]:
        """The names the list shows now (the filter applied), in order."""
        return list(self.tree.get_children())

    def _order(self, names: Iterable[str]) -> list[str]:
        column = self.sort_column
        index = list(self._headings).index(column) - 1     # -1: the name itself

        def key(name: str) -> tuple:
            values, keys = self._rows[name]
            if index < 0:
                return (collate(name), name)
            value = keys[index] if keys is not None else collate(str(values[index]))
            return (value, collate(name), name)
        ordered = sorted((n for n in names if n != self.me), key=key, reverse=self.descending)
        return ([self.me] if self.me in self._rows else []) + ordered

    def _refresh(self) -> None:
        tree = self.tree
        current = self.selected()
        if current is not None:
            self._held = current
        elif self._held is not None and tree.exists(self._held):
            self._held = None                  # shown and not chosen: the choice was undone
        words = collate(self.query().strip())
        visible = [n for n in self._order(self._rows) if words in collate(n)]
        wanted = set(visible)
        for iid in tree.get_children():
            if iid not in wanted:
                tree.delete(iid)
        for index, name in enumerate(visible):
            values = self._rows[name][0]
            values = (_("{name} (you)").format(name=name) if name == self.me else name, *values)
            if tree.exists(name):
                tree.item(name, values=values, tags=self._tags(name))
                if tree.index(name) != index:
                    tree.move(name, "", index)
            else:
                tree.insert("", index, iid=name, values=values, tags=self._tags(name))
        if self._held is not None and tree.exists(self._held) and self.selected() != self._held:
            tree.selection_set(self._held)
        self.title.configure(text=counted(self._title_text, len(visible), len(self._rows)))

    # --- sorting by a column ------------------------------------------------------------------

    def sort_by(self, column: str) -> None:
        """A heading clicked: sort by it, or the other way round if it already sorts."""
        if column == self.sort_column:
            self.descending = not self.descending
        else:
            self.sort_column, self.descending = column, False
        self._show_arrow()
        self._refresh()

    def _show_arrow(self) -> None:
        for cid, text in self._headings.items():
            arrow = (DOWN if self.descending else UP) if cid == self.sort_column else ""
            self.tree.heading(cid, text=text + arrow)

    # --- filtering ---------------------------------------------------------------------------

    def query(self) -> str:
        """What the filter holds ("" while it shows its hint)."""
        return "" if self._placeholder else self.filter_var.get()

    def _filtered(self) -> None:
        if self._placeholder and self.filter_var.get() != filter_hint():
            self._placeholder = False                  # set from outside (a test, the list's keys)
            self.filter.configure(foreground="")
        if not self.filter_var.get():
            self._hint()                                # emptied while the focus is elsewhere
        self._refresh()
        children = self.tree.get_children()
        if children:
            self.tree.see(children[0])

    def _hint(self) -> None:
        """The hint in the empty field while the focus is elsewhere; gone while it has the focus."""
        try:
            focused = self.focus_get() is self.filter
        except (KeyError, tk.TclError):      # the focus in a window tkinter does not know (a menu's)
            focused = False
        if self._placeholder and focused:
            self._placeholder = False
            self.filter.configure(foreground="")
            self.filter_var.set("")
        elif not self._placeholder and not focused and not self.filter_var.get():
            self._placeholder = True                 # first: the trace then filters by nothing
            self.filter.configure(foreground=self.palette.muted)   # (the style's is not used)
            self.filter_var.set(filter_hint())

    def _typed(self, event: Any) -> str | None:
        """A letter typed while the list has the focus goes into the filter."""
        # Control, and Alt (X11) or Command (macOS): shortcuts, not letters. On Windows 0x8 is NumLock.
        control = event.state & (0x4 if self._windows else 0xC)
        typed = self.query()
        if event.keysym == "BackSpace" and typed:
            typed = typed[:-1]
        elif event.char and event.char.isprintable() and not event.char.isspace() and not control:
            typed += event.char
        else:
            return None
        self.filter.focus_set()
        self._hint()
        self.filter_var.set(typed)
        self.filter.icursor("end")
        return "break"

    def _escape(self, _e: Any = None) -> str | None:
        """Escape in the filter: empty it; in an empty filter, let it go on (the window's Escape)."""
        if not self.query():
            return None
        self.filter_var.set("")
        return "break"

    def _into_list(self) -> None:
        children = self.tree.get_children()
        if children:
            self.tree.focus_set()
            self.tree.focus(self.selected() or children[0])     # not chosen yet: the arrows choose

    def _pick_first(self) -> None:
        """Enter in the filter: the first name shown is picked, as by a double-click."""
        children = self.tree.get_children()
        if children and self.on_pick and self.enabled:
            self.on_pick(children[0])

    def _yscroll(self, first: str, last: str) -> None:
        """The scrollbar shows only while some members are out of sight."""
        if float(first) <= 0.0 and float(last) >= 1.0:
            self.scrollbar.grid_remove()
        else:
            self.scrollbar.grid()
        self.scrollbar.set(first, last)
