"""The body both windows share: history with the member list beside it, the
entry bar under it, the status line at the bottom. Resizes with the window.

Rows: 0 the history (with the search bar over it, Ctrl+F) and the members;
1 free for a window's own bar (the server's To: chip, the client's "Join
again"); 2 the entry; 3 the status line, with Search and Save history as… at
its right."""
from __future__ import annotations

import tkinter as tk
from tkinter import ttk
from typing import Callable

from chatfront import history_wording as hw
from udpcore import events as ev

from .keys import ViewKeys
from .member_list import MemberTable
from .search_bar import SearchBar
from .scaling import pad, px
from .theme import Palette
from .widgets import EntryBar, HistoryPane, StatusLine


class ChatView(ttk.Frame):
    def __init__(self, master: tk.Misc, palette: Palette, *, on_send: Callable[[str], None],
                 on_exit: Callable[[], None], on_pick: Callable[[str], None] | None = None,
                 member_columns: tuple[tuple[str, str, int], ...] = (), members_width: int = 190,
                 on_search: Callable[[str], None] | None = None,
                 on_save: Callable[[], None] | None = None) -> None:
        super().__init__(master, padding=pad(master, 12, 12, 12, 8))
        panes = ttk.PanedWindow(self, orient="horizontal")
        left = ttk.Frame(panes)
        self.search = SearchBar(left, palette, on_search, self._found, self._search_closed)
        self.search.grid(row=0, column=0, sticky="ew")
        self.search.grid_remove()                 # until Ctrl+F
        self.history = HistoryPane(left, palette)
        self.history.grid(row=1, column=0, sticky="nsew")
        left.rowconfigure(1, weight=1)
        left.columnconfigure(0, weight=1)
        self.side = side = ttk.Frame(panes, padding=pad(self, 10, 0, 0, 0))
        self.members = MemberTable(side, palette, member_columns, on_pick)
        self.members.pack(fill="both", expand=True)
        panes.add(left, weight=4)
        panes.add(side, weight=1)
        self.entry = EntryBar(self, on_send, on_exit, palette)
        footer = ttk.Frame(self)
        self.status = StatusLine(footer)
        self.status.grid(row=0, column=0, sticky="ew")
        footer.columnconfigure(0, weight=1)
        self.search_button = ttk.Button(footer, text=hw.search_button(), style="Toolbutton",
                                        command=self.open_search, takefocus=False)
        self.save_button = ttk.Button(footer, text=hw.save_history_button(), style="Toolbutton",
                                      command=on_save or (lambda: None), takefocus=False)
        if on_search is not None:
            self.search_button.grid(row=0, column=1, padx=(6, 0), pady=(4, 0))
        if on_save is not None:
            self.save_button.grid(row=0, column=2, padx=(6, 0), pady=(4, 0))
        panes.grid(row=0, column=0, sticky="nsew")
        self.entry.grid(row=2, column=0, sticky="ew", pady=(px(self, 10), 0))
        footer.grid(row=3, column=0, sticky="ew")
        self.rowconfigure(0, weight=1)
        self.columnconfigure(0, weight=1)
        self._panes, self._side_width = panes, px(self, members_width)
        panes.bind("<Configure>", self._place_sash, add="+")
        top = self.winfo_toplevel()
        if on_search is not None:
            for sequence in ("<Control-f>", "<Control-F>"):
                top.bind(sequence, lambda e: (self.open_search(), "break")[1], add="+")
            if top.tk.call("tk", "windowingsystem") == "aqua":
                top.bind("<Command-f>", lambda e: (self.open_search(), "break")[1], add="+")
        if on_save is not None:                   # Ctrl+S: Save history as…, as in any program that saves
            for sequence in ("<Control-s>", "<Control-S>"):
                top.bind(sequence, lambda e: (on_save(), "break")[1], add="+")
        self.keys = ViewKeys(self, on_pick)      # Tab, Ctrl+A, Page Up/Down, Escape, the history's menu
        self.entry.entry.focus_set()

    def _place_sash(self, event) -> None:
        """Give the member list its width once the window has its real size;
        after that the user's dragging of the sash is left alone."""
        if event.width > 1:
            self._panes.unbind("<Configure>")
            self._panes.sashpos(0, max(event.width // 2, event.width - self._side_width))

    def set_input_enabled(self, enabled: bool) -> None:
        state = "normal" if enabled else "disabled"
        self.entry.entry.configure(state=state)
        self.entry.send_button.configure(state=state)

    # --- search ---------------------------------------------------------------------------

    def open_search(self) -> None:
        if self.winfo_exists():
            self.search.open()

    def show_results(self, e: ev.SearchResults) -> None:
        self.search.show(e)

    def _found(self, line: ev.HistoryLine) -> bool:
        """A result chosen: to it in the history, in context, when the pane holds it."""
        self.history.clear_found()
        return line.seq > 0 and self.history.show_seq(line.seq)

    def _search_closed(self) -> None:
        self.history.clear_found()
        if str(self.entry.entry.cget("state")) != "disabled":
            self.entry.entry.focus_set()
