"""The box a message is typed in: one line that grows to five, as a modern chat's.

Enter sends; Shift+Enter starts a new line; a paste keeps its line breaks. It is
a Text widget that speaks enough of ttk.Entry's language (``get()``,
``insert(0, …)``, ``icursor``, ``delete(0, "end")``, a ``textvariable``) that the
windows and their tests drive it as they drove the one-line entry.
"""
from __future__ import annotations

import tkinter as tk
from tkinter import ttk

from .scaling import px
from .theme import Palette, blend

MAX_ROWS = 5            # it grows with what is typed up to this many rows, then scrolls


def _colours(master: tk.Misc, palette: Palette | None) -> tuple[str, str, str, str]:
    """(field, text, border, focus ring). From the palette: Sun Valley draws its entries
    from images, so a style lookup falls back to the window's own background, and the
    box had neither a field of its own nor a focus ring anyone could see."""
    if palette is not None:
        field = "#ffffff" if not palette.dark else blend("#ffffff", palette.bg, 0.92)
        return field, palette.fg, blend(palette.fg, palette.bg, 0.6), palette.accent
    style = ttk.Style(master)           # a stock theme (no sv-ttk): its entry's own colours
    field = style.lookup("TEntry", "fieldbackground") or style.lookup("TEntry", "background") or "white"
    fg = style.lookup("TEntry", "foreground") or "black"
    border = style.lookup("TEntry", "bordercolor") or "#8a8a8a"
    accent = style.lookup("TEntry", "selectbackground") or fg
    return field, fg, border, accent


class MessageBox(tk.Text):
    def __init__(self, master: tk.Misc, textvariable: tk.StringVar, font: str = "TkTextFont",
                 palette: Palette | None = None) -> None:
        field, fg, border, accent = _colours(master, palette)
        super().__init__(master, height=1, width=20, wrap="word", undo=True, font=font, relief="flat",
                         borderwidth=0, padx=6, pady=4, highlightthickness=max(1, px(master, 1)),
                         highlightbackground=border, highlightcolor=accent, background=field, foreground=fg,
                         insertbackground=fg, exportselection=True, takefocus=True)
        self.var = textvariable
        self._syncing = False
        self.var.trace_add("write", self._from_var)
        self.bind("<<Modified>>", self._modified, add="+")
        self.bind("<Configure>", lambda e: self.fit(), add="+")
        for sequence in ("<Shift-Return>", "<Shift-KP_Enter>"):
            self.bind(sequence, self._newline)
        # Tab and Shift+Tab move the focus, as from an entry (Tk's Text would insert a tab): on a tag of
        # our own between the widget's and Text's, so that the widget's own Tab (completing a name)
        # comes first and, when it lets the key go, the focus moves on instead of a tab going in.
        tags = list(self.bindtags())
        tags.insert(tags.index("Text"), "MessageBox")
        self.bindtags(tuple(tags))
        self.bind_class("MessageBox", "<Tab>", _next_field)
        for sequence in ("<Shift-Tab>", "<ISO_Left_Tab>"):
            self.bind_class("MessageBox", sequence, _previous_field)
        self._click_y = 0                                       # for an entry's "@x" (index)
        self.bind("<ButtonPress-1>", lambda e: setattr(self, "_click_y", e.y), add="+")
        self._from_var()

    # --- the text and the variable stay the same -------------------------------------------

    def _from_var(self, *_args) -> None:
        if self._syncing:
            return
        value = self.var.get()
        if tk.Text.get(self, "1.0", "end-1c") == value:
            return
        self._syncing = True
        try:
            state = str(self.cget("state"))
            self.configure(state="normal")
            tk.Text.delete(self, "1.0", "end")
            tk.Text.insert(self, "1.0", value)
            self.configure(state=state)
            self.mark_set("insert", "end-1c")
        finally:
            self._syncing = False
        self.fit()

    def _modified(self, _e=None) -> None:
        if not self.edit_modified():
            return
        self.edit_modified(False)
        if not self._syncing:
            self._syncing = True
            try:
                self.var.set(tk.Text.get(self, "1.0", "end-1c"))
            finally:
                self._syncing = False
        self.fit()

    def fit(self) -> None:
        """As many rows as the text needs on screen, one to MAX_ROWS."""
        try:
            rows = self.count("1.0", "end-1c", "displaylines") or (0,)
        except tk.TclError:
            return
        rows = rows[0] if isinstance(rows, tuple) else rows
        wanted = max(1, min(MAX_ROWS, int(rows or 0) + 1))
        if int(self.cget("height")) != wanted:
            self.configure(height=wanted)
        if wanted == MAX_ROWS:
            self.see("insert")

    def _newline(self, _e=None) -> str:
        self.insert("insert", "\n")
        self.see("insert")
        return "break"

    # --- what ttk.Entry offered -------------------------------------------------------------

    @staticmethod
    def _index(index) -> str:
        if isinstance(index, int):
            return f"1.0 + {index} chars"
        return "end-1c" if index == "end" else index

    def get(self, index1=None, index2=None) -> str:        # type: ignore[override]
        if index1 is None:
            return tk.Text.get(self, "1.0", "end-1c")
        return tk.Text.get(self, self._index(index1), None if index2 is None else self._index(index2))

    def insert(self, index, chars: str, *args) -> None:    # type: ignore[override]
        tk.Text.insert(self, self._index(index), chars, *args)
        self._modified()

    def delete(self, index1, index2=None) -> None:         # type: ignore[override]
        tk.Text.delete(self, self._index(index1), None if index2 is None else self._index(index2))
        self._modified()

    def icursor(self, index) -> None:
        self.mark_set("insert", self._index(index))

    def index(self, index) -> int:                          # type: ignore[override]
        """A position as ttk.Entry gives it: characters from the start. ``@x`` (an entry's
        form) is taken on the row of the last click."""
        if isinstance(index, str) and index.startswith("@") and "," not in index:
            index = f"{index},{self._click_y}"
        where = tk.Text.index(self, self._index(index))
        counted = self.count("1.0", where, "chars")
        return int(counted[0] if isinstance(counted, tuple) else counted or 0)

    def selection_range(self, start, end) -> None:
        self.tag_remove("sel", "1.0", "end")
        self.tag_add("sel", self._index(start), self._index(end))

    select_range = selection_range

    def selection_clear(self) -> None:                      # type: ignore[override]
        self.tag_remove("sel", "1.0", "end")

    def selection_present(self) -> bool:
        return bool(self.tag_ranges("sel"))

    def bbox(self, index):                                  # type: ignore[override]
        return tk.Text.bbox(self, self._index(index))

    def line_index(self, index: str = "insert") -> str:
        """Tk's own ``line.char`` form (Text.index), which ``index`` no longer gives."""
        return tk.Text.index(self, index)

    def on_first_line(self) -> bool:
        return self.compare("insert linestart", "==", "1.0")

    def on_last_line(self) -> bool:
        return self.compare("insert lineend", "==", "end-1c")


def _next_field(event) -> str:
    following = event.widget.tk_focusNext()
    if following is not None:
        following.focus_set()
    return "break"


def _previous_field(event) -> str:
    previous = event.widget.tk_focusPrev()
    if previous is not None:
        previous.focus_set()
    return "break"
