"""The scrolling history both windows show: timestamped, coloured, bounded.

A batch of events becomes one ``Text.insert`` call (text and tags flattened
into one argument list), so a burst of thousands of lines costs a few dozen Tk
calls, not thousands. Only the newest ``max_lines`` lines are kept, so a long
session stays fast.

A room line (``seq`` > 0) is shown once however often it arrives (the stored
copy, a replay and a catch-up may overlap): the pane remembers every seq it has
shown and keeps a mark ``seq<N>`` at each such line, so a search result can
jump to it. Past lines come in blocks (history_blocks.py).
"""
from __future__ import annotations

from chatfront.i18n import _

import re
import time
import tkinter as tk
import webbrowser
from dataclasses import dataclass, replace
from tkinter import ttk
from typing import Callable, Iterable

from chatfront.history_wording import day as day_words

from .history_blocks import BlocksMixin
from .new_lines import NewLinesButton
from .rtl import RtlMixin
from .scaling import px
from .theme import Palette, blend, history_font, name_colour

URL = re.compile(r"(https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]|www\.[^\s<>\"']+[^\s<>\"'.,;:!?)\]])")
PENDING_MARK = " \u2026"       # … while the server has not echoed the line
DELIVERED_MARK = " \u2713"     # ✓ once it has
FAILED_MARK = " \u2717 "       # ✗ and why, when the server refused it
DIM = 0.45                     # how far the dimmed history fades towards the background


@dataclass(frozen=True)
class Entry:
    """One item for the history pane.

    kind: 'line' (a room line), 'notice' (joins, leaves, status) or 'error';
    the history's own furniture: 'day' (a day separator), 'heading' (a block's
    heading), 'missedhead' (the heading of what was missed), 'more' (how many
    earlier lines are not shown; clicking it loads them).
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
    seq: int = 0                  # the room's sequence number (0: private, or not a room line)
    style: str = ""               # '' live, 'dim' (earlier or stored history), 'missed'
    block: int = 0                # the block a heading or 'more' marker belongs to

    def as_delivered(self) -> "Entry":
        return replace(self, msg_id=None, delivered=True)

    def as_failed(self, why: str) -> "Entry":
        return replace(self, msg_id=None, failed=why)


def day_key(at: float) -> tuple[int, int, int]:
    return tuple(time.localtime(at)[:3])        # type: ignore[return-value]


class HistoryPane(RtlMixin, BlocksMixin, NewLinesButton, ttk.Frame):
    """Follows new lines while the view is at the bottom; once the user
    scrolls up to read, new lines only raise a "new lines" button. Reaching
    the very top calls ``on_top`` (the client loads an older page then)."""

    def __init__(self, master: tk.Misc, palette: Palette, max_lines: int = 5000) -> None:
        super().__init__(master)
        self.palette = palette
        self.max_lines = max_lines
        self.on_top: Callable[[], None] | None = None
        self.font = history_font(self)
        self._bold = history_font(self, "bold")
        self._italic = history_font(self, "italic")
        self.text = tk.Text(self, wrap="word", state="disabled", undo=False, relief="flat",
                            borderwidth=0, highlightthickness=0, padx=px(self, 10), pady=px(self, 8),
                            font=self.font, cursor="arrow", takefocus=False)
        self.scroll = ttk.Scrollbar(self, orient="vertical", command=self.text.yview)
        self.text.configure(yscrollcommand=self._scrolled)
        self.text.grid(row=0, column=0, sticky="nsew")
        self.scroll.grid(row=0, column=1, sticky="ns")
        self.rowconfigure(0, weight=1)
        self.columnconfigure(0, weight=1)
        self.init_new_lines()
        self._name_tags: set[str] = set()
        self.lines = 0                         # text lines in the widget
        self.seqs: set[int] = set()            # room lines ever shown (never shown twice)
        self._private_seen: set[tuple] = set() # private lines (seq 0) of the history, by content
        self._last_day: tuple[int, int, int] | None = None   # the day of the last line at the bottom
        self.trimmed = False                   # lines were dropped at the top to stay bounded
        self._stuck = True                     # the reader is at the bottom (following new lines)
        self._height = 0                       # the text's height when the view last moved
        self.init_blocks()
        self.recolour(palette)
        t = self.text
        for tag in ("url", "more"):
            t.tag_bind(tag, "<Enter>", lambda e: t.configure(cursor="hand2"))
            t.tag_bind(tag, "<Leave>", lambda e: t.configure(cursor="arrow"))
        t.tag_bind("url", "<ButtonRelease-1>", self._click_url)
        t.tag_bind("more", "<ButtonRelease-1>", lambda e: self._reached_top())
        # Selecting and copying stay possible in the read-only widget; copying gives the logical text.
        t.bind("<1>", lambda e: t.focus_set())
        self.init_rtl()
        for sequence in ("<MouseWheel>", "<Button-4>", "<Prior>", "<Control-Home>"):
            t.bind(sequence, self._wheel, add="+")

    def recolour(self, p: Palette) -> None:
        self.palette = p
        t = self.text
        t.configure(background=p.bg, foreground=p.fg, selectbackground=p.accent,
                    selectforeground=p.bg, inactiveselectbackground=p.accent, insertbackground=p.fg)
        # Created in priority order (a tag created later wins): the missed band under everything.
        t.tag_configure("missed", background=blend(p.accent, p.bg, 0.9))
        t.tag_configure("time", foreground=p.muted)
        t.tag_configure("dim", foreground=blend(p.fg, p.bg, DIM))
        t.tag_configure("notice", foreground=p.muted, font=self._italic)
        t.tag_configure("error", foreground=p.error)
        t.tag_configure("private", foreground=p.private, font=self._italic)
        t.tag_configure("privbody", background=p.private_bg)
        t.tag_configure("pending", foreground=p.pending)
        t.tag_configure("delivered", foreground=p.delivered)
        t.tag_configure("url", foreground=p.accent, underline=True)
        indent = px(self, 24)
        t.tag_configure("line", lmargin2=indent, spacing1=2, spacing3=2)
        t.tag_configure("cont", lmargin1=indent, lmargin2=indent)   # a message's further lines, under its first
        t.tag_configure("day", foreground=p.muted, justify="center", spacing1=10, spacing3=4, font=self._bold)
        t.tag_configure("heading", foreground=p.muted, spacing1=10, spacing3=2, font=self._bold)
        t.tag_configure("missedhead", foreground=p.accent, spacing1=10, spacing3=2, font=self._bold)
        t.tag_configure("more", foreground=p.accent, underline=True, spacing1=6)
        t.tag_configure("found", background=blend(p.accent, p.bg, 0.7))
        for tag in self._name_tags:
            faded = tag.startswith("dname:")
            colour = name_colour(tag[6:] if faded else tag[5:], p)
            t.tag_configure(tag, foreground=blend(colour, p.bg, DIM) if faded else colour)

    def _name_tag(self, name: str, dim: bool = False) -> str:
        tag = ("dname:" if dim else "name:") + name
        if tag not in self._name_tags:
            self._name_tags.add(tag)
            colour = name_colour(name, self.palette)
            self.text.tag_configure(tag, foreground=blend(colour, self.palette.bg, DIM) if dim else colour,
                                    font=self._bold)
        return tag

    def _segments(self, e: Entry) -> list:
        """(text, tags) pairs, flattened, for one Text.insert call."""
        extra: tuple[str, ...] = (e.style,) if e.style in ("missed", "mention") else ()
        if e.kind in ("day", "heading", "missedhead", "more"):
            mine = (f"more{e.block}",) if e.kind == "more" else (f"head{e.block}",)
            return [e.text + "\n", (e.kind,) + mine + (extra if e.kind != "day" else ())]
        stamp = time.strftime("%H:%M", time.localtime(e.when if e.when is not None else time.time()))
        line = ("line",) + extra
        out: list = [stamp + "  ", ("time",) + line]
        if e.kind != "line":
            return out + [e.text + "\n", (e.kind,) + line]
        who = self._name_tag(e.sender, e.style == "dim")
        sender, who_tags = self._shown(e.sender, (who,) + line)
        if e.action:
            out += ["* ", line, sender, who_tags, " ", line]
        else:
            out += [sender, who_tags, ": ", line]
        if e.private:
            out += [f"({e.private}) ", ("private",) + line]
        body = ("privbody",) + line if e.private else line
        if "\n" in e.text:
            body = ("cont",) + body
        if e.style == "dim":
            body = ("dim",) + body
        text, body = self._shown(e.text, body)
        for i, part in enumerate(URL.split(text)):
            if part:
                out += [part, ("url",) + body if i % 2 else body]
        if e.failed:
            out += [FAILED_MARK + e.failed, ("error",) + line]
        elif e.delivered:
            out += [DELIVERED_MARK, ("delivered",) + line]
        elif e.msg_id is not None:
            out += [PENDING_MARK, ("pending", f"msg{e.msg_id}") + line]
        return out + ["\n", line]

    def at_bottom(self) -> bool:
        return self.text.yview()[1] >= 0.99999

    # --- which lines are new, and their days -------------------------------------------------

    def shown(self, seq: int) -> bool:
        return seq > 0 and seq in self.seqs

    def remember(self, seq: int) -> None:
        """A room line shown some other way (our own, marked delivered): never shown again."""
        if seq > 0:
            self.seqs.add(seq)
            self.note_seq(seq)

    def _fresh(self, entries: Iterable[Entry]) -> list[Entry]:
        """Drop room lines already shown (and history's private lines seen before)."""
        out = []
        for e in entries:
            if e.kind == "line" and e.seq > 0:
                if e.seq in self.seqs:
                    continue
                self.remember(e.seq)
            elif e.kind == "line" and e.when is not None and e.msg_id is None:
                key = (e.when, e.sender, e.text, e.private)
                if key in self._private_seen:
                    continue
                self._private_seen.add(key)
            out.append(e)
        return out

    def dated(self, entries: list[Entry], last: tuple[int, int, int] | None) -> tuple[list[Entry], tuple | None]:
        """``entries`` with a day separator wherever the day changes; a dimmed block
        after its heading always starts with one. Returns them and the last day."""
        out: list[Entry] = []
        force = False
        for e in entries:
            if e.kind == "heading":
                force = True
            if e.kind == "line":
                d = day_key(e.when if e.when is not None else time.time())
                if d != last and (last is not None or e.style == "dim") or force and e.style == "dim":
                    out.append(Entry("day", day_words(e.when if e.when is not None else time.time()), style=e.style))
                last, force = d, False
            out.append(e)
        return out, last

    # --- putting lines in ------------------------------------------------------------------

    def insert_at(self, index: str, entries: list[Entry]) -> int:
        """Insert at a line start in one Tk call, marking each room line; returns text lines added."""
        t = self.text
        start = int(t.index(index).split(".")[0])
        args: list = []
        marks: list[tuple[int, int]] = []
        n = 0
        for e in entries:
            args += self._segments(e)
            if e.kind == "line" and e.seq > 0:
                marks.append((e.seq, start + n))
            n += 1 + e.text.count("\n")
        t.configure(state="normal")
        t.insert(index, *args)
        t.configure(state="disabled")
        for seq, line in marks:
            t.mark_set(f"seq{seq}", f"{line}.0")          # right gravity: text put before it stays before
        self.lines += n
        return n

    def append(self, entries: Iterable[Entry], *, block: bool = False) -> int:
        """Add items at the end in one Tk call; returns how many were added.
        ``block``: they are a history block (which may go on with its next page)."""
        entries = self._fresh(entries)
        if not entries:
            return 0
        if not block:
            self.tail = None                    # live lines end the block at the bottom
        t = self.text
        follow = self.at_bottom()
        entries, self._last_day = self.dated(entries, self._last_day)
        self.insert_at("end-1c", entries)
        if self.lines > self.max_lines and follow:     # not under a reader who is up in older pages
            self._trim(self.lines - self.max_lines)
        if follow:
            t.see("end")
        else:
            self.show_new(sum(1 for e in entries if e.kind in ("line", "notice", "error")))
        return len(entries)

    def _trim(self, excess: int) -> None:
        """Drop the oldest lines (and their marks); nothing above is offered for loading after that."""
        t = self.text
        cut = f"{excess + 1}.0"
        gone, where = [], "1.0"
        while (name := t.mark_next(where)) and t.compare(name, "<", cut):
            gone.append(name)
            where = name
        for name in gone:
            if name.startswith("seq"):
                t.mark_unset(name)
        t.configure(state="normal")
        t.delete("1.0", cut)
        t.configure(state="disabled")
        self.lines -= excess
        self.trimmed = True

    def delete_lines(self, first: str, last: str) -> None:
        """Delete the text lines from ``first`` up to (not including) ``last``."""
        t = self.text
        n = int(t.index(last).split(".")[0]) - int(t.index(first).split(".")[0])
        t.configure(state="normal")
        t.delete(first, last)
        t.configure(state="disabled")
        self.lines -= n

    def scroll_to_end(self) -> None:
        self.text.see("end")
        self.hide_new()

    def _scrolled(self, first: str, last: str) -> None:
        """The view moved. When the pane's height changed (a bar shown, the window
        resized, the first layout), a reader who was at the bottom stays there;
        otherwise where the view is now is where the reader wants it."""
        self.scroll.set(first, last)
        if float(last) >= 0.99999 and self.new_count:
            self.hide_new()
        height = self.text.winfo_height()
        if height != self._height:                          # laid out again: not the reader's doing
            self._height = height
            if self._stuck and float(last) < 0.99999:
                self.text.after_idle(self.text.see, "end")
            return
        self._stuck = float(last) >= 0.99999
        if float(first) <= 0.0 and float(last) < 1.0 and self.text.winfo_ismapped():
            self._reached_top()                             # scrolled to the very top of a longer history

    def _wheel(self, event) -> None:
        """Wheel or Page Up while already at the top (or with everything in view)."""
        delta = getattr(event, "delta", 0)
        if (event.num == 4 or delta > 0 or event.keysym in ("Prior", "Home")) and self.text.yview()[0] <= 0.0:
            self._reached_top()

    def _reached_top(self) -> None:
        if self.on_top is not None:
            self.on_top()

    # --- our own lines --------------------------------------------------------------------------

    def mark_delivered(self, msg_id: int, seq: int = 0) -> bool:
        """Turn a pending line's … into a ✓; False if it is no longer shown."""
        t = self.text
        rng = t.tag_ranges(f"msg{msg_id}")
        if rng and seq > 0:
            t.mark_set(f"seq{seq}", f"{rng[0]} linestart")
            self.remember(seq)
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
        follow = self.at_bottom()
        t.configure(state="normal")
        t.delete(rng[0], rng[1])
        t.insert(rng[0], mark, tags)
        t.tag_delete(tag)
        t.configure(state="disabled")
        if follow:                              # a longer mark may wrap: the reader at the bottom stays there
            t.see("end")
        return True

    # --- finding a line ------------------------------------------------------------------------

    def show_seq(self, seq: int) -> bool:
        """Scroll room line ``seq`` into view with a few lines of context above,
        highlighted; False when it is not in the pane."""
        t = self.text
        name = f"seq{seq}"
        if seq not in self.seqs or name not in t.mark_names():
            return False
        t.tag_remove("found", "1.0", "end")
        t.tag_add("found", name, f"{name} lineend + 1c")
        t.tag_raise("found")
        t.yview(f"{name} - 3 lines linestart")
        return True

    def clear_found(self) -> None:
        self.text.tag_remove("found", "1.0", "end")

    def content(self) -> str:
        """The text shown, lines separated by newlines (for tests and copying)."""
        return self.text.get("1.0", "end-1c").removesuffix("\n")

    def _click_url(self, _e=None) -> None:
        rng = self.text.tag_prevrange("url", "current + 1c")
        if rng and not self.text.tag_ranges("sel"):        # a drag to select is not a click
            _open(self.text.get(*rng))


def _open(url: str) -> None:
    webbrowser.open(url if "://" in url else "http://" + url)
