"""The body both windows share: history with the member list beside it, the
entry bar under it, the status line at the bottom. Resizes with the window."""
from __future__ import annotations

import tkinter as tk
from tkinter import ttk
from typing import Callable

from .theme import Palette
from .widgets import EntryBar, HistoryPane, MemberList, StatusLine


class ChatView(ttk.Frame):
    def __init__(self, master: tk.Misc, palette: Palette, *, on_send: Callable[[str], None],
                 on_exit: Callable[[], None], on_pick: Callable[[str], None] | None = None,
                 member_columns: tuple[tuple[str, str, int], ...] = (), members_width: int = 190) -> None:
        super().__init__(master, padding=(12, 12, 12, 8))
        panes = ttk.PanedWindow(self, orient="horizontal")
        self.history = HistoryPane(panes, palette)
        self.side = side = ttk.Frame(panes, padding=(10, 0, 0, 0))
        self.members = MemberList(side, palette, member_columns, on_pick)
        self.members.pack(fill="both", expand=True)
        panes.add(self.history, weight=4)
        panes.add(side, weight=1)
        self.entry = EntryBar(self, on_send, on_exit)
        self.status = StatusLine(self)
        panes.grid(row=0, column=0, sticky="nsew")
        self.entry.grid(row=1, column=0, sticky="ew", pady=(10, 0))
        self.status.grid(row=2, column=0, sticky="ew")
        self.rowconfigure(0, weight=1)
        self.columnconfigure(0, weight=1)
        self._panes, self._side_width = panes, members_width
        panes.bind("<Configure>", self._place_sash, add="+")
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
