"""The scrolling history both windows show: timestamped, coloured, bounded.

A batch of events becomes one ``Text.insert`` call (text and tags flattened
into one argument list), so a burst of thousands of lines costs a few dozen Tk
calls, not thousands. Only the newest ``max_lines`` lines are kept, so a long
session stays fast.
"""
from __future__ import annotations

from chatfront.i18n import _

import re
import time
import tkinter as tk
import webbrowser
from dataclasses import dataclass, replace
from tkinter import font as tkfont
from tkinter import ttk
from typing import Iterable

from .theme import Palette, history_font, name_colour

URL = re.compile(r"(https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]|www\.[^\s<>\"']+[^\s<>\"'.,;:!?)\]])")
PENDING_MARK = " \u2026"       # … while the server has not echoed the line
DELIVERED_MARK = " \u2713"     # ✓ once it has
FAILED_MARK = " \u2717 "       # ✗ and why, when the server refused it


@dataclass(frozen=True)
class Entry:
    """One item for the history pane.

    kind: 'line' (a room line), 'notice' (joins, leaves, status) or 'error'.
    """

    kind: str
    text: str
    sender: str = ""
    action: bool = False
    private: str = ""             # a note such as "to bob" or "private"
    msg_id: int | None = None     # our own line, pending until delivered
    when: float | None = None
    delivered: bool = False       # our own line, already echoed by the server
    failed: str = ""              # our own line, refused: why ("not sent: too fast")

    def as_delivered(self) -> "Entry":
        return replace(self, msg_id=None, delivered=True)

    def as_failed(self, why: str) -> "Entry":
        return replace(self, msg_id=None, failed=why)


class HistoryPane(ttk.Frame):
    """Follows new lines while the view is at the bottom; once the user
    scrolls up to read, new lines only raise a "new lines" button."""

    def __init__(self, master: tk.Misc, palette: Palette, max_lines: int = 5000) -> None:
        super().__init__(master)
        self.palette = palette
        self.max_lines = max_lines
        self.font = history_font(self)
        self._bold = tkfont.Font(self, **{**self.font.actual(), "weight": "bold"})
        self._italic = tkfont.Font(self, **{**self.font.actual(), "slant": "italic"})
        self.text = tk.Text(self, wrap="word", state="disabled", undo=False, relief="flat",
                            borderwidth=0, highlightthickness=0, padx=10, pady=8,
                            font=self.font, cursor="arrow", takefocus=False)
        self.scroll = ttk.Scrollbar(self, orient="vertical", command=self.text.yview)
        self.text.configure(yscrollcommand=self._scrolled)
        self.text.grid(row=0, column=0, sticky="nsew")
        self.scroll.grid(row=0, column=1, sticky="ns")
        self.rowconfigure(0, weight=1)
        self.columnconfigure(0, weight=1)
        self.more = ttk.Button(self, text=_("\u2193 New lines"), command=self.scroll_to_end,
                               style="Accent.TButton", takefocus=False)
        self._name_tags: set[str] = set()
        self.lines = 0                         # text lines in the widget
        self.recolour(palette)
        t = self.text
        t.tag_bind("url", "<Enter>", lambda e: t.configure(cursor="hand2"))
        t.tag_bind("url", "<Leave>", lambda e: t.configure(cursor="arrow"))
        t.tag_bind("url", "<ButtonRelease-1>", self._click_url)
        # Selecting and copying stay possible in the read-only widget.
        t.bind("<1>", lambda e: t.focus_set())

    def recolour(self, p: Palette) -> None:
        self.palette = p
        t = self.text
        t.configure(background=p.bg, foreground=p.fg, selectbackground=p.accent,
                    selectforeground=p.bg, inactiveselectbackground=p.accent, insertbackground=p.fg)
        t.tag_configure("time", foreground=p.muted)
        t.tag_configure("notice", foreground=p.muted, font=self._italic)
        t.tag_configure("error", foreground=p.error)
        t.tag_configure("private", foreground=p.private, font=self._italic)
        t.tag_configure("privbody", background=p.private_bg)
        t.tag_configure("pending", foreground=p.pending)
        t.tag_configure("delivered", foreground=p.delivered)
        t.tag_configure("url", foreground=p.accent, underline=True)
        t.tag_configure("line", lmargin2=24, spacing1=2, spacing3=2)
        for tag in self._name_tags:
            t.tag_configure(tag, foreground=name_colour(tag[5:], p))

    def _name_tag(self, name: str) -> str:
        tag = "name:" + name
        if tag not in self._name_tags:
            self._name_tags.add(tag)
            self.text.tag_configure(tag, foreground=name_colour(name, self.palette), font=self._bold)
        return tag

    def _segments(self, e: Entry) -> list:
        """(text, tags) pairs, flattened, for one Text.insert call."""
        stamp = time.strftime("%H:%M", time.localtime(e.when if e.when is not None else time.time()))
        out: list = [stamp + "  ", ("time", "line")]
        if e.kind != "line":
            return out + [e.text + "\n", (e.kind, "line")]
        who = self._name_tag(e.sender)
        if e.action:
            out += ["* ", ("line",), e.sender, (who, "line"), " ", ("line",)]
        else:
            out += [e.sender, (who, "line"), ": ", ("line",)]
        if e.private:
            out += [f"({e.private}) ", ("private", "line")]
        body = ("privbody", "line") if e.private else ("line",)
        for i, part in enumerate(URL.split(e.text)):
            if part:
                out += [part, ("url",) + body if i % 2 else body]
        if e.failed:
            out += [FAILED_MARK + e.failed, ("error", "line")]
        elif e.delivered:
            out += [DELIVERED_MARK, ("delivered", "line")]
        elif e.msg_id is not None:
            out += [PENDING_MARK, ("pending", f"msg{e.msg_id}", "line")]
        return out + ["\n", ("line",)]

    def at_bottom(self) -> bool:
        return self.text.yview()[1] >= 0.99999

    def append(self, entries: Iterable[Entry]) -> int:
        """Add items at the end in one Tk call; returns how many were added."""
        entries = list(entries)
        if not entries:
            return 0
        t = self.text
        follow = self.at_bottom()
        args: list = []
        for e in entries:
            args += self._segments(e)
            self.lines += 1 + e.text.count("\n")
        t.configure(state="normal")
        t.insert("end-1c", *args)
        if self.lines > self.max_lines:
            excess = self.lines - self.max_lines
            t.delete("1.0", f"{excess + 1}.0")
            self.lines = self.max_lines
        t.configure(state="disabled")
        if follow:
            t.see("end")
        elif not self.more.winfo_manager():
            self.more.place(relx=1.0, rely=1.0, anchor="se", x=-28, y=-12)
        return len(entries)

    def scroll_to_end(self) -> None:
        self.text.see("end")
        self.more.place_forget()

    def _scrolled(self, first: str, last: str) -> None:
        self.scroll.set(first, last)
        if float(last) >= 0.99999 and self.more.winfo_manager():
            self.more.place_forget()

    def mark_delivered(self, msg_id: int) -> bool:
        """Turn a pending line's … into a ✓; False if it is no longer shown."""
        return self._settle(msg_id, DELIVERED_MARK, ("delivered", "line"))

    def mark_failed(self, msg_id: int, why: str) -> bool:
        """Turn a pending line's … into ✗ and why it was not sent; False if it is no
        longer shown. The line itself stays as typed, so it can be copied and sent again."""
        return self._settle(msg_id, FAILED_MARK + why, ("error", "line"))

    def _settle(self, msg_id: int, mark: str, tags: tuple[str, ...]) -> bool:
        """Replace a pending line's … with ``mark``; False if the line is no longer shown."""
        t = self.text
        tag = f"msg{msg_id}"
        rng = t.tag_ranges(tag)
        if not rng:
            t.tag_delete(tag)
            return False
        t.configure(state="normal")
        t.delete(rng[0], rng[1])
        t.insert(rng[0], mark, tags)
        t.tag_delete(tag)
        t.configure(state="disabled")
        return True

    def content(self) -> str:
        """The text shown, lines separated by newlines (for tests and copying)."""
        return self.text.get("1.0", "end-1c").removesuffix("\n")

    def _click_url(self, _e=None) -> None:
        rng = self.text.tag_prevrange("url", "current + 1c")
        if rng and not self.text.tag_ranges("sel"):        # a drag to select is not a click
            _open(self.text.get(*rng))


def _open(url: str) -> None:
    webbrowser.open(url if "://" in url else "http://" + url)
