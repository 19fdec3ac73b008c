"""The keyboard and mouse habits people bring from other chat programs, for
both windows' entry and history.

In the entry: Tab completes the member name (or, first on the line, the
/command) being typed, and keeps the focus; Tab again goes on to the next
match. Ctrl+A selects the whole line; Page Up and Page Down scroll the history;
Escape closes the search bar, or drops the "/msg NAME " a double-click put in
front of the line. In the history: Ctrl+A selects everything; a right-click
offers Copy, Select all and, on a member's line, Reply privately;
double-clicking an address (192.168.1.20:5002, [fe80::1]:5002, a link) selects
all of it, not one number.
"""
from __future__ import annotations

import re
import tkinter as tk
from tkinter import ttk
from typing import TYPE_CHECKING, Any, Callable, Sequence

from chatfront.i18n import _

from .member_list import collate

if TYPE_CHECKING:
    from .chat_view import ChatView

CLIENT_COMMANDS = ("/msg", "/me", "/nick", "/who", "/help", "/search", "/save", "/quit", "/exit")
SERVER_COMMANDS = ("/msg", "/who", "/help", "/kick", "/mute", "/ban", "/unban", "/bans", "/quit", "/exit")

# What a double-click selects whole: an IPv4 address or host with a port, an IPv6 one in brackets, a link.
ADDRESS = re.compile(r"(?:\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?"
                     r"|\[[0-9A-Fa-f:.%\w]+\](?::\d{1,5})?"
                     r"|[\w][\w.-]*:\d{1,5}"
                     r"|(?:https?://|www\.)\S+)")
EDGE = "\"'()[]<>{},;!?."           # stripped from both ends of what was clicked (brackets kept when IPv6)
PRIVATE_PREFIX = re.compile(r"/msg\s+\S+\s+")


def address_around(text: str, col: int) -> tuple[int, int] | None:
    """The span of the address under column ``col`` of ``text``, or None."""
    if not 0 <= col < len(text) or text[col].isspace():
        return None
    start, end = col, col
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    while end < len(text) and not text[end].isspace():
        end += 1
    for _ in range(2):
        while start < end and text[start] in EDGE and not (text[start] == "[" and "]" in text[start:end]):
            start += 1
        while end > start and text[end - 1] in EDGE and not (text[end - 1] == "]" and "[" in text[start:end]):
            end -= 1
        if end > start and text[end - 1] == ":":       # "192.168.1.20:" at the end of a sentence
            end -= 1
    if start <= col < end and ADDRESS.fullmatch(text[start:end]):
        return start, end
    return None


class Completer:
    """Tab completion in a ttk.Entry: names from ``names()``, /commands from ``commands``."""

    def __init__(self, entry: ttk.Entry, names: Callable[[], Sequence[str]],
                 commands: Sequence[str] = CLIENT_COMMANDS) -> None:
        self.entry = entry
        self.names = names
        self.commands = tuple(commands)
        self._cycle: dict[str, Any] | None = None
        entry.bind("<Tab>", self.tab)
        for sequence in ("<Shift-Tab>", "<ISO_Left_Tab>"):
            try:
                entry.bind(sequence, lambda e: self.tab(e, step=-1))
            except tk.TclError:          # a key this system's Tk does not know
                pass

    def candidates(self, word: str, first: bool) -> list[str]:
        if first and word.startswith("/"):
            return [c for c in self.commands if c.startswith(word.casefold())]
        at = "@" if word.startswith("@") else ""
        wanted = collate(word[len(at):])
        return [at + n for n in self.names() if collate(n).startswith(wanted)]

    def tab(self, _event: Any = None, step: int = 1) -> str | None:
        """Complete the word before the cursor, or go on to the next match; the focus stays."""
        entry = self.entry
        text, cursor = entry.get(), entry.index("insert")
        cycle = self._cycle
        if cycle is not None and (text, cursor) == cycle["after"]:
            cycle["i"] = (cycle["i"] + step) % len(cycle["matches"])
            self._put(cycle)
            return "break"
        self._cycle = None
        if not text.strip() or str(entry.cget("state")) == "disabled":
            return None                     # an empty line: Tab moves the focus on, as everywhere
        start = cursor
        while start > 0 and not text[start - 1].isspace():
            start -= 1
        word = text[start:cursor]
        first = not text[:start].strip()
        matches = self.candidates(word, first)
        if not matches:
            entry.bell()
            return "break"
        rest = text[cursor:]
        command = first and word.startswith("/")
        suffix = "" if rest[:1].isspace() else (" " if command or not first else ": ")
        self._cycle = {"start": start, "end": cursor, "rest": rest, "suffix": suffix,
                       "matches": matches, "i": 0 if step > 0 else len(matches) - 1, "before": text[:start]}
        self._put(self._cycle)
        return "break"

    def _put(self, cycle: dict[str, Any]) -> None:
        chosen = cycle["matches"][cycle["i"]] + cycle["suffix"]
        text = cycle["before"] + chosen + cycle["rest"]
        cursor = len(cycle["before"]) + len(chosen)
        self.entry.delete(0, "end")
        self.entry.insert(0, text)
        self.entry.icursor(cursor)
        self.entry.selection_clear()
        cycle["after"] = (text, cursor)


class ViewKeys:
    """Installs the habits on a ChatView; ``on_pick(name)`` is the window's private reply."""

    def __init__(self, view: "ChatView", on_pick: Callable[[str], None] | None) -> None:
        self.view = view
        self.on_pick = on_pick
        entry = view.entry.entry
        text = view.history.text
        self.completer = Completer(entry, self.names)
        for sequence in ("<Control-a>", "<Control-A>"):
            entry.bind(sequence, lambda e: (self.select_entry(), "break")[1])
            text.bind(sequence, lambda e: (self.select_history(), "break")[1])
        entry.bind("<Prior>", lambda e: (self.page(-1), "break")[1])
        entry.bind("<Next>", lambda e: (self.page(1), "break")[1])
        entry.bind("<Escape>", self.escape)
        entry.bind("<Double-1>", self._entry_double)
        text.bind("<Double-1>", self._history_double)
        for sequence in ("<Button-3>", "<Shift-F10>", "<KeyPress-Menu>", "<KeyPress-App>"):
            try:
                text.bind(sequence, self._popup, add="+")
            except tk.TclError:
                pass
        if text.tk.call("tk", "windowingsystem") == "aqua":
            text.bind("<Button-2>", self._popup, add="+")

    def names(self) -> list[str]:
        """Names to complete: everyone else first, then oneself."""
        members = self.view.members
        everyone = members.names()
        me = getattr(members, "me", None)
        return [n for n in everyone if n != me] + [n for n in everyone if n == me]

    # --- the entry -----------------------------------------------------------------------------

    def select_entry(self) -> None:
        entry = self.view.entry.entry
        entry.selection_range(0, "end")
        entry.icursor("end")

    def page(self, pages: int) -> None:
        """Page Up / Page Down typed in the entry scroll the history."""
        pane = self.view.history
        pane.text.yview_scroll(pages, "pages")
        if pages < 0 and pane.text.yview()[0] <= 0.0:
            pane._reached_top()                  # as Page Up at the top of the pane itself: older lines

    def escape(self, _event: Any = None) -> str | None:
        """Escape: close the search bar; else drop "/msg NAME " from the line's start."""
        view = self.view
        if view.search.is_open:
            view.search.close()
            return "break"
        var = view.entry.var
        m = PRIVATE_PREFIX.match(var.get())
        if m:
            var.set(var.get()[m.end():])
            view.entry.entry.icursor("end")
            return "break"
        return None

    def _entry_double(self, event: Any) -> str | None:
        entry = self.view.entry.entry
        span = address_around(entry.get(), entry.index(f"@{event.x}"))
        if span is None:
            return None
        entry.selection_range(*span)
        entry.icursor(span[1])
        return "break"

    # --- the history ------------------------------------------------------------------------------

    def select_history(self) -> None:
        text = self.view.history.text
        text.tag_add("sel", "1.0", "end-2c")          # the last line's own newline left out

    def copy(self) -> None:
        text = self.view.history.text
        if text.tag_ranges("sel"):
            text.clipboard_clear()
            text.clipboard_append(text.get("sel.first", "sel.last"))

    def _history_double(self, event: Any) -> str | None:
        text = self.view.history.text
        index = text.index(f"@{event.x},{event.y}")
        line, col = (int(part) for part in index.split("."))
        span = address_around(text.get(f"{line}.0", f"{line}.0 lineend"), col)
        if span is None:
            return None
        text.tag_remove("sel", "1.0", "end")
        text.tag_add("sel", f"{line}.{span[0]}", f"{line}.{span[1]}")
        text.mark_set("insert", f"{line}.{span[1]}")
        text.focus_set()
        return "break"

    def sender_at(self, index: str) -> str | None:
        """The member whose line is at ``index`` (None: a notice, or one's own line)."""
        text = self.view.history.text
        for key, value, _where in text.dump(f"{index} linestart", f"{index} lineend", tag=True):
            if key == "tagon" and value.startswith(("name:", "dname:")):
                name = value.split(":", 1)[1]
                members = self.view.members
                if name != getattr(members, "me", None) and name in members.names():
                    return name
                return None
        return None

    def menu(self, index: str) -> tk.Menu:
        """The right-click menu for the history at ``index``."""
        text = self.view.history.text
        menu = tk.Menu(text, tearoff=False)
        menu.add_command(label=_("Copy"), command=self.copy,
                         state="normal" if text.tag_ranges("sel") else "disabled")
        menu.add_command(label=_("Select all"), command=self.select_history)
        name = self.sender_at(index)
        if name is not None and self.on_pick is not None:
            menu.add_separator()
            menu.add_command(label=_("Reply privately to {name}").format(name=name),
                             command=lambda: self.on_pick(name))
        return menu

    def _popup(self, event: Any) -> str:
        text = self.view.history.text
        if event.type == tk.EventType.ButtonPress:
            index, x, y = text.index(f"@{event.x},{event.y}"), event.x_root, event.y_root
        else:                                    # the keyboard: where the insert mark is
            index = text.index("insert")
            box = text.bbox(index) or (10, 10, 0, 0)
            x, y = text.winfo_rootx() + box[0], text.winfo_rooty() + box[1] + box[3]
        menu = self.menu(index)
        try:
            menu.tk_popup(x, y)
        finally:
            menu.grab_release()
        return "break"
