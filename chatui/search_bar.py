"""The search bar over the history (Ctrl+F): a field, what was found, and the
lines found, newest first. Enter searches (the transport answers with a
SearchResults event); choosing a line (click, arrows, Enter) jumps to it in the
history when it is shown there, and otherwise leaves it highlighted in the list
(it is then older than what the pane holds). Escape closes the bar."""
from __future__ import annotations

import tkinter as tk
from tkinter import ttk
from typing import Callable

from chatfront import history_wording as hw
from udpcore import events as ev

from .theme import Palette, blend

RESULT_ROWS = 6


class SearchBar(ttk.Frame):
    """``on_search(words)`` asks; ``on_pick(line)`` returns True when the history showed it;
    ``on_close()`` gives the focus back."""

    def __init__(self, master: tk.Misc, palette: Palette, on_search: Callable[[str], None] | None = None,
                 on_pick: Callable[[ev.HistoryLine], bool] | None = None,
                 on_close: Callable[[], None] | None = None) -> None:
        super().__init__(master, padding=(0, 0, 0, 8))
        self.palette = palette
        self.on_search, self.on_pick, self.on_close = on_search, on_pick, on_close
        self.results: tuple[ev.HistoryLine, ...] = ()
        self.asked = ""                          # the last words searched
        self.var = tk.StringVar(self)
        row = ttk.Frame(self)
        row.grid(row=0, column=0, sticky="ew")
        self.entry = ttk.Entry(row, textvariable=self.var)
        self.entry.grid(row=0, column=0, sticky="ew", ipady=2)
        # The field says what it is for while it is empty (ttk has no placeholder).
        self.hint = tk.Label(self.entry, text=hw.search_placeholder(), foreground=palette.muted,
                             background=self._field_bg(), borderwidth=0, cursor="xterm")
        self.hint.bind("<1>", lambda e: self.entry.focus_set())
        self.summary = ttk.Label(row, text="", foreground=palette.muted)
        self.summary.grid(row=0, column=1, sticky="w", padx=(10, 8))
        self.close_button = ttk.Button(row, text="\u2715", width=3, command=self.close, takefocus=False)
        self.close_button.grid(row=0, column=2)
        row.columnconfigure(0, weight=1)
        self.list_frame = ttk.Frame(self)
        self.list = tk.Listbox(self.list_frame, height=RESULT_ROWS, activestyle="none", exportselection=False,
                               relief="flat", borderwidth=0, highlightthickness=1, font="TkTextFont")
        self.list_scroll = ttk.Scrollbar(self.list_frame, orient="vertical", command=self.list.yview)
        self.list.configure(yscrollcommand=self.list_scroll.set)
        self.list.grid(row=0, column=0, sticky="nsew")
        self.list_scroll.grid(row=0, column=1, sticky="ns")
        self.list_frame.columnconfigure(0, weight=1)
        self.columnconfigure(0, weight=1)
        self.recolour(palette)
        self.var.trace_add("write", lambda *a: self._hint())
        for w in (self.entry, self.list):
            w.bind("<Escape>", lambda e: (self.close(), "break")[1])
        self.entry.bind("<Return>", lambda e: (self.search(), "break")[1])
        self.entry.bind("<KP_Enter>", lambda e: (self.search(), "break")[1])
        self.entry.bind("<Down>", lambda e: (self._into_list(), "break")[1])
        self.list.bind("<<ListboxSelect>>", lambda e: self._picked())
        self.list.bind("<Return>", lambda e: (self._picked(), "break")[1])
        self.list.bind("<Up>", self._list_up)
        self._hint()

    def _field_bg(self) -> str:
        try:
            return str(ttk.Style(self).lookup("TEntry", "fieldbackground") or self.palette.bg)
        except tk.TclError:
            return self.palette.bg

    def recolour(self, p: Palette) -> None:
        self.palette = p
        self.list.configure(background=p.bg, foreground=p.fg, selectbackground=blend(p.accent, p.bg, 0.7),
                            selectforeground=p.fg, highlightbackground=blend(p.fg, p.bg, 0.8),
                            highlightcolor=p.accent)

    def _hint(self) -> None:
        if self.var.get():
            self.hint.place_forget()
        else:
            self.hint.place(x=8, rely=0.5, anchor="w")

    # --- opening and closing ----------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return bool(self.winfo_manager())

    def open(self) -> None:
        """Show the bar (grid it where its parent placed it) with the field focused and selected."""
        if not self.is_open:
            self.grid()
        self.entry.focus_set()
        self.entry.select_range(0, "end")
        self.entry.icursor("end")

    def close(self) -> None:
        if self.is_open:
            self.grid_remove()
        if self.on_close is not None:
            self.on_close()

    # --- searching --------------------------------------------------------------------------

    def search(self) -> None:
        words = self.var.get().strip()
        if not words or self.on_search is None:
            return
        self.asked = words
        self.on_search(words)

    def show(self, e: ev.SearchResults) -> None:
        """The answer: the summary, and the lines as the terminal prints them."""
        if not self.is_open:
            self.open()
        self.results = e.lines
        self.summary.configure(text=hw.search_summary(e))
        self.list.delete(0, "end")
        if e.lines:
            self.list.insert("end", *(hw.search_line(line) for line in e.lines))
            self.list_frame.grid(row=1, column=0, sticky="ew", pady=(6, 0))
            self.list.configure(height=min(RESULT_ROWS, len(e.lines)))
            if len(e.lines) > RESULT_ROWS:
                self.list_scroll.grid()
            else:
                self.list_scroll.grid_remove()
        else:
            self.list_frame.grid_remove()

    def choose(self, index: int) -> bool:
        """Choose result ``index`` (as a click does); True when the history showed it."""
        self.list.selection_clear(0, "end")
        self.list.selection_set(index)
        self.list.activate(index)
        self.list.see(index)
        return self._picked()

    def _picked(self) -> bool:
        sel = self.list.curselection()
        if not sel or self.on_pick is None:
            return False
        index = sel[0]
        shown = self.on_pick(self.results[index])
        # Not in the history pane: the list itself keeps it highlighted, in the accent colour.
        for i in range(self.list.size()):
            self.list.itemconfigure(i, background="", foreground="")
        if not shown:
            self.list.itemconfigure(index, foreground=self.palette.accent)
        return shown

    def _into_list(self) -> None:
        if self.list.size():
            self.list.focus_set()
            if not self.list.curselection():
                self.choose(0)

    def _list_up(self, _e=None) -> str | None:
        sel = self.list.curselection()
        if not sel or sel[0] == 0:
            self.entry.focus_set()
            return "break"
        return None
