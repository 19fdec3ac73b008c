"""The history pane's "↓ N new" button (mixed into HistoryPane).

It sits in a row of its own under the text, right-aligned, shown only while
the reader is scrolled up and lines came below: it never covers a line (a
button placed over the text hid the last visible one). The text gives up that
row's height while it shows, which moves nothing the reader is looking at:
the view keeps its top line.
"""
from __future__ import annotations

from tkinter import ttk

from chatfront.i18n import n_


class NewLinesButton:
    def init_new_lines(self) -> None:
        self.new_count = 0                      # room lines that came below since the reader scrolled up
        self.more = ttk.Button(self, text="", command=self.scroll_to_end,          # type: ignore[arg-type]
                               style="Accent.TButton", takefocus=False)

    def show_new(self, count: int) -> None:
        self.new_count += count
        if not self.new_count:
            return
        self.more.configure(text=n_("\u2193 {n} new", "\u2193 {n} new", self.new_count).format(n=self.new_count))
        if not self.more.winfo_manager():
            self.more.grid(row=1, column=0, columnspan=2, sticky="e", pady=(6, 0))

    def hide_new(self) -> None:
        self.new_count = 0
        if self.more.winfo_manager():
            self.more.grid_remove()
