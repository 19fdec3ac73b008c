"""The widgets both windows are built from: history pane (in history.py),
entry bar, member list and status line."""
from __future__ import annotations

from chatfront.i18n import _

import tkinter as tk
from tkinter import ttk
from typing import Callable, Iterable

from .history import Entry, HistoryPane
from .message_box import MessageBox
from .scaling import follow_zoom, pad, px
from .theme import Palette, blend, name_colour

__all__ = ["Entry", "HistoryPane", "EntryBar", "MemberList", "StatusLine"]


class EntryBar(ttk.Frame):
    """The message being typed, with Send and Exit. Enter sends, Shift+Enter
    starts a new line (message_box.py); Up in an empty entry recalls what was sent
    before (Down goes forward again). ``on_send`` returning False keeps the text
    in the entry (a line refused before it went: too long, say)."""

    def __init__(self, master: tk.Misc, on_send: Callable[[str], bool | None], on_exit: Callable[[], None],
                 palette: Palette | None = None) -> None:
        super().__init__(master)
        self.on_send = on_send
        self.var = tk.StringVar(self)
        self.entry = MessageBox(self, self.var, palette=palette)
        self.send_button = ttk.Button(self, text=_("Send"), command=self.send, style="Accent.TButton")
        self.exit_button = ttk.Button(self, text=_("Exit"), command=on_exit)
        self.entry.grid(row=0, column=0, sticky="ew", padx=(0, px(self, 8)))
        self.send_button.grid(row=0, column=1, padx=(0, px(self, 6)), sticky="s")
        self.exit_button.grid(row=0, column=2, sticky="s")
        self.columnconfigure(0, weight=1)
        self.sent: list[str] = []
        self._recall = 0
        self.entry.bind("<Return>", lambda e: (self.send(), "break")[1])
        self.entry.bind("<KP_Enter>", lambda e: (self.send(), "break")[1])
        self.entry.bind("<Up>", self._up)
        self.entry.bind("<Down>", self._down)

    def send(self) -> None:
        text = self.entry.get()
        if not text.strip():
            return
        self.sent.append(text)
        self._recall = len(self.sent)
        self.var.set("")
        if self.on_send(text) is False and not self.var.get():
            self.prefill(text)                  # refused before it went: kept, to shorten

    def prefill(self, text: str) -> None:
        self.var.set(text)
        self.entry.icursor("end")
        self.entry.focus_set()

    def _up(self, _e=None) -> str | None:
        if not self.entry.on_first_line():
            return None                         # up a line inside the message
        if self.sent and (not self.var.get() or self._recall < len(self.sent)):
            self._recall = max(0, self._recall - 1)
            self.prefill(self.sent[self._recall])
        return "break"

    def _down(self, _e=None) -> str | None:
        if not self.entry.on_last_line():
            return None
        if self._recall < len(self.sent):
            self._recall += 1
            self.prefill(self.sent[self._recall] if self._recall < len(self.sent) else "")
        return "break"


class MemberList(ttk.Frame):
    """Members, as a table: the client shows names; the server adds address and
    when each was last heard from. In a list of names only, each name has the
    colour it has in the history. Double-click calls ``on_pick(name)``."""

    def __init__(self, master: tk.Misc, palette: Palette, columns: tuple[tuple[str, str, int], ...] = (),
                 on_pick: Callable[[str], None] | None = None, title: str | None = None) -> None:
        super().__init__(master)
        self.palette = palette
        self._plain = bool(columns)     # a tag colours a whole row: only a list of names is coloured
        title = title or _("Members")
        self.title = ttk.Label(self, text=title)
        self.title.grid(row=0, column=0, sticky="w", pady=(0, 4))
        ids = ["name"] + [c[0] for c in columns]
        self.tree = ttk.Treeview(self, columns=ids, show="headings" if columns else "",
                                 selectmode="browse", height=8)
        self.tree.heading("name", text=_("Name"), anchor="w")
        for cid, heading, _width in columns:
            self.tree.heading(cid, text=heading, anchor="w")
        follow_zoom(self, lambda zoom: self._widths(columns, zoom))     # the columns grow with the text
        # A classroom is 30 to 150 people: the list scrolls rather than hiding the rest.
        self.scrollbar = ttk.Scrollbar(self, orient="vertical", command=self.tree.yview)
        self.tree.configure(yscrollcommand=self.scrollbar.set)
        self.tree.grid(row=1, column=0, sticky="nsew")
        self.scrollbar.grid(row=1, column=1, sticky="ns")
        self.title.grid_configure(columnspan=2)
        self.rowconfigure(1, weight=1)
        self.columnconfigure(0, weight=1)
        self.on_pick = on_pick
        self.tree.bind("<Double-1>", self._double)
        self._title_text = title
        self.enabled = True

    def _widths(self, columns: tuple[tuple[str, str, int], ...], zoom: float) -> None:
        self.tree.column("name", width=px(self, 120 * zoom), minwidth=px(self, 80 * zoom), stretch=True)
        for cid, _heading, width in columns:
            self.tree.column(cid, width=px(self, width * zoom), minwidth=px(self, 40 * zoom), stretch=False)

    def set_members(self, rows: Iterable[tuple[str, tuple]], me: str | None = None) -> None:
        """Replace the list with (name, column values) rows, keeping the
        selection; ``me`` is shown as "NAME (you)"."""
        rows = list(rows)
        selected = self.selected()
        tree = self.tree
        wanted = {name for name, _ in rows}
        for iid in tree.get_children():
            if iid not in wanted:
                tree.delete(iid)
        for index, (name, values) in enumerate(rows):
            values = (_("{name} (you)").format(name=name) if name == me else name, *values)
            if tree.exists(name):
                tree.item(name, values=values, tags=self._tags(name))
                if tree.index(name) != index:
                    tree.move(name, "", index)
            else:
                tree.insert("", index, iid=name, values=values, tags=self._tags(name))
        if selected and tree.exists(selected):
            tree.selection_set(selected)
        self.title.configure(text=f"{self._title_text} ({len(rows)})")

    def _tags(self, name: str) -> tuple[str, ...]:
        """A name's colour in a list of names; every row grey while the list is off."""
        if not self.enabled:
            return ("off",)
        if self._plain:
            return ()
        tag = "n:" + name
        self.tree.tag_configure(tag, foreground=name_colour(name, self.palette))
        return (tag,)

    def set_enabled(self, enabled: bool) -> None:
        """Greyed while the room is closed (the names are who was there); kept, not cleared."""
        self.enabled = enabled
        self.tree.tag_configure("off", foreground=blend(self.palette.fg, self.palette.bg, 0.55))
        self.tree.state(["!disabled"] if enabled else ["disabled"])
        self.title.state(["!disabled"] if enabled else ["disabled"])
        if not enabled:
            self.tree.selection_set(())
        for iid in self.tree.get_children():
            self.tree.item(iid, tags=self._tags(iid))

    def names(self) -> list[str]:
        return list(self.tree.get_children())

    def selected(self) -> str | None:
        sel = self.tree.selection()
        return sel[0] if sel else None

    def _double(self, event) -> None:
        iid = self.tree.identify_row(event.y)
        if iid and self.on_pick and self.enabled:
            self.on_pick(iid)


class StatusLine(ttk.Label):
    """One line under the entry: where we are connected or listening, and how it goes."""

    def __init__(self, master: tk.Misc) -> None:
        super().__init__(master, anchor="w", justify="left", padding=pad(master, 2, 4, 2, 0))
        # A long status (the server's: address, members, lines, private lines) wraps to the width
        # it is given instead of running under the buttons at its right.
        self.bind("<Configure>", self._wrap, add="+")

    def _wrap(self, event: tk.Event) -> None:
        width = event.width - sum(pad(self, 2, 2))
        if width > 50 and str(self.cget("wraplength")) != str(width):
            self.configure(wraplength=width)

    def set(self, text: str, image: tk.PhotoImage | None = None) -> None:
        """``image`` (a drawn mark, kept alive by the caller) goes before the text."""
        self.configure(text=text, image=image or "", compound="left" if image else "none")

    def get(self) -> str:
        return str(self.cget("text"))
