"""The widgets both windows are built from: history pane, entry bar, member list, status line."""
from __future__ import annotations

import re
import time
import tkinter as tk
import webbrowser
from dataclasses import dataclass
from tkinter import ttk
from typing import Callable, Iterable

from .theme import Palette, history_font, name_colour

URL = re.compile(r"(https?://[^\s<>\"']+|www\.[^\s<>\"']+)")
PENDING_MARK = " \u2026"       # … while the server has not echoed the line
DELIVERED_MARK = " \u2713"     # ✓ once it has


@dataclass(frozen=True)
class Entry:
    """One line for the history pane.

    kind: 'line' (a room line), 'notice' (joins, leaves, status), 'error'.
    """

    kind: str
    text: str
    sender: str = ""
    action: bool = False
    private: str = ""             # a note such as "to bob" or "private"
    msg_id: int | None = None     # our own line, pending until delivered
    when: float | None = None
    delivered: bool = False       # our own line, already echoed by the server


class HistoryPane(ttk.Frame):
    """The scrolling history. Inserts a whole batch in one Tk call, keeps the
    newest ``max_lines``, follows new lines unless the user scrolled up."""

    def __init__(self, master: tk.Misc, palette: Palette, max_lines: int = 5000) -> None:
        super().__init__(master)
        self.palette = palette
        self.max_lines = max_lines
        self.text = tk.Text(self, wrap="word", state="disabled", undo=False, relief="flat",
                            borderwidth=0, highlightthickness=0, padx=10, pady=8,
                            font=history_font(self), cursor="arrow", takefocus=False)
        self.scroll = ttk.Scrollbar(self, orient="vertical", command=self.text.yview)
        self.text.configure(yscrollcommand=self.scroll.set)
        self.text.grid(row=0, column=0, sticky="nsew")
        self.scroll.grid(row=0, column=1, sticky="ns")
        self.rowconfigure(0, weight=1)
        self.columnconfigure(0, weight=1)
        self._name_tags: set[str] = set()
        self._url_count = 0
        self.lines = 0
        self.recolour(palette)
        self.text.tag_bind("url", "<Enter>", lambda e: self.text.configure(cursor="hand2"))
        self.text.tag_bind("url", "<Leave>", lambda e: self.text.configure(cursor="arrow"))
        # Text selection and copying stay possible in the read-only widget.
        self.text.bind("<1>", lambda e: self.text.focus_set())

    def recolour(self, p: Palette) -> None:
        self.palette = p
        t = self.text
        t.configure(background=p.bg, foreground=p.fg, selectbackground=p.accent,
                    inactiveselectbackground=p.accent, insertbackground=p.fg)
        base = history_font(self)
        t.tag_configure("time", foreground=p.muted)
        t.tag_configure("notice", foreground=p.muted, font=(base.actual("family"), base.actual("size"), "italic"))
        t.tag_configure("error", foreground="#d1242f" if not p.dark else "#ff7b72")
        t.tag_configure("private", foreground=p.private)
        t.tag_configure("pending", foreground=p.pending)
        t.tag_configure("delivered", foreground=p.delivered)
        t.tag_configure("url", foreground=p.accent, underline=True)
        t.tag_configure("line", lmargin2=24, spacing1=2, spacing3=2)
        for tag in self._name_tags:
            t.tag_configure(tag, foreground=name_colour(tag[5:], p),
                            font=(base.actual("family"), base.actual("size"), "bold"))

    def _name_tag(self, name: str) -> str:
        tag = "name:" + name
        if tag not in self._name_tags:
            self._name_tags.add(tag)
            base = history_font(self)
            self.text.tag_configure(tag, foreground=name_colour(name, self.palette),
                                    font=(base.actual("family"), base.actual("size"), "bold"))
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
        for i, part in enumerate(URL.split(e.text)):
            if not part:
                continue
            if i % 2:
                self._url_count += 1
                link = f"url{self._url_count}"
                self.text.tag_bind(link, "<Button-1>", lambda _e, u=part: _open(u))
                out += [part, ("url", link, "line")]
            else:
                out += [part, ("private", "line") if e.private else ("line",)]
        if e.delivered:
            out += [DELIVERED_MARK, ("delivered", "line")]
        elif e.msg_id is not None:
            out += [PENDING_MARK, ("pending", f"msg{e.msg_id}", "line")]
        return out + ["\n", ("line",)]

    def append(self, entries: Iterable[Entry]) -> int:
        """Add lines at the end in one Tk call; returns how many were added."""
        entries = list(entries)
        if not entries:
            return 0
        t = self.text
        at_bottom = t.yview()[1] >= 0.999
        args: list = []
        for e in entries:
            args += self._segments(e)
        t.configure(state="normal")
        t.insert("end-1c", *args)
        self.lines += len(entries)
        if self.lines > self.max_lines:
            excess = self.lines - self.max_lines
            t.delete("1.0", f"{excess + 1}.0")
            self.lines = self.max_lines
        t.configure(state="disabled")
        if at_bottom:
            t.see("end")
        return len(entries)

    def mark_delivered(self, msg_id: int) -> bool:
        """Turn a pending line's … into a ✓; False if it is no longer shown."""
        t = self.text
        rng = t.tag_ranges(f"msg{msg_id}")
        if not rng:
            return False
        t.configure(state="normal")
        t.delete(rng[0], rng[1])
        t.insert(rng[0], DELIVERED_MARK, ("delivered", "line"))
        t.tag_delete(f"msg{msg_id}")
        t.configure(state="disabled")
        return True

    def content(self) -> str:
        return self.text.get("1.0", "end-1c")


def _open(url: str) -> None:
    webbrowser.open(url if "://" in url else "http://" + url)


class EntryBar(ttk.Frame):
    """The line being typed, with Send and Exit. Enter sends; Up in an empty
    entry recalls what was sent before (Down goes forward again)."""

    def __init__(self, master: tk.Misc, on_send: Callable[[str], None], on_exit: Callable[[], None]) -> None:
        super().__init__(master)
        self.on_send = on_send
        self.var = tk.StringVar(self)
        self.entry = ttk.Entry(self, textvariable=self.var)
        self.send_button = ttk.Button(self, text="Send", command=self.send, style="Accent.TButton")
        self.exit_button = ttk.Button(self, text="Exit", command=on_exit)
        self.entry.grid(row=0, column=0, sticky="ew", padx=(0, 8), ipady=2)
        self.send_button.grid(row=0, column=1, padx=(0, 6))
        self.exit_button.grid(row=0, column=2)
        self.columnconfigure(0, weight=1)
        self.sent: list[str] = []
        self._recall = 0
        self.entry.bind("<Return>", lambda e: (self.send(), "break")[1])
        self.entry.bind("<KP_Enter>", lambda e: (self.send(), "break")[1])
        self.entry.bind("<Up>", self._up)
        self.entry.bind("<Down>", self._down)

    def send(self) -> None:
        text = self.var.get()
        if not text.strip():
            return
        self.sent.append(text)
        self._recall = len(self.sent)
        self.var.set("")
        self.on_send(text)

    def prefill(self, text: str) -> None:
        self.var.set(text)
        self.entry.icursor("end")
        self.entry.focus_set()

    def _up(self, _e=None) -> str:
        if self.sent and (not self.var.get() or self._recall < len(self.sent)):
            self._recall = max(0, self._recall - 1)
            self.prefill(self.sent[self._recall])
        return "break"

    def _down(self, _e=None) -> str:
        if self._recall < len(self.sent):
            self._recall += 1
            self.prefill(self.sent[self._recall] if self._recall < len(self.sent) else "")
        return "break"


class MemberList(ttk.Frame):
    """Members, as a table: the client shows names; the server adds address and
    when each was last heard from. Double-click calls ``on_pick(name)``."""

    def __init__(self, master: tk.Misc, columns: tuple[tuple[str, str, int], ...] = (),
                 on_pick: Callable[[str], None] | None = None, title: str = "Members") -> None:
        super().__init__(master)
        self.title = ttk.Label(self, text=title)
        self.title.grid(row=0, column=0, sticky="w", pady=(0, 4))
        ids = ["name"] + [c[0] for c in columns]
        self.tree = ttk.Treeview(self, columns=ids, show="headings" if columns else "",
                                 selectmode="browse", height=8)
        self.tree.heading("name", text="Name", anchor="w")
        self.tree.column("name", width=120, minwidth=80, stretch=True)
        for cid, heading, width in columns:
            self.tree.heading(cid, text=heading, anchor="w")
            self.tree.column(cid, width=width, minwidth=40, stretch=False)
        self.tree.grid(row=1, column=0, sticky="nsew")
        self.rowconfigure(1, weight=1)
        self.columnconfigure(0, weight=1)
        self.on_pick = on_pick
        self.tree.bind("<Double-1>", self._double)
        self._title_text = title

    def set_members(self, rows: Iterable[tuple[str, tuple]]) -> None:
        """Replace the list with (name, column values) rows, keeping the selection."""
        rows = list(rows)
        selected = self.selected()
        tree = self.tree
        wanted = {name for name, _ in rows}
        for iid in tree.get_children():
            if iid not in wanted:
                tree.delete(iid)
        for index, (name, values) in enumerate(rows):
            values = (name, *values)
            if tree.exists(name):
                tree.item(name, values=values)
                if tree.index(name) != index:
                    tree.move(name, "", index)
            else:
                tree.insert("", index, iid=name, values=values)
        if selected and tree.exists(selected):
            tree.selection_set(selected)
        self.title.configure(text=f"{self._title_text} ({len(rows)})")

    def names(self) -> list[str]:
        return list(self.tree.get_children())

    def selected(self) -> str | None:
        sel = self.tree.selection()
        return sel[0] if sel else None

    def _double(self, event) -> None:
        iid = self.tree.identify_row(event.y)
        if iid and self.on_pick:
            self.on_pick(iid)


class StatusLine(ttk.Label):
    def __init__(self, master: tk.Misc) -> None:
        super().__init__(master, anchor="w", padding=(2, 4, 2, 0))

    def set(self, text: str) -> None:
        self.configure(text=text)

    def get(self) -> str:
        return str(self.cget("text"))
