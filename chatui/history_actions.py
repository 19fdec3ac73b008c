"""What both windows do with the history's events and buttons: notices for
saved files and problems, the Save history as… dialog, and the bar a client
shows while its room is closed ("Join again")."""
from __future__ import annotations

import re
import time
import tkinter as tk
from tkinter import filedialog, ttk
from typing import Any, Callable

from chatfront import history_wording as hw
from udpcore import events as ev

from .history import Entry

REJOIN_PAUSE_MS = 2000       # Join again rests this long after a click: one try at a time


MOVED_ASIDE = re.compile(r"moved aside to (.+?) and a new history started")


def history_problem(kind: str, detail: str = "") -> str:
    """chatfront's sentence for a history problem. The store tells a damaged file
    in an English sentence of its own: only the file it names is kept from it."""
    if kind == "damaged" and (m := MOVED_ASIDE.search(detail)):
        detail = m.group(1)
    return hw.problem(ev.HistoryProblem(kind, detail))


def history_notice(e: ev.Event) -> Entry | None:
    """The history pane's line for a saved file, a problem, members coming back; None for others."""
    if isinstance(e, ev.HistorySaved):
        return Entry("notice", hw.saved(e))
    if isinstance(e, ev.HistoryProblem):
        return Entry("notice" if e.kind == "resumed" else "error", history_problem(e.kind, e.detail))
    if isinstance(e, ev.MembersBack):
        return Entry("notice", hw.members_back(e))
    return None


def ask_save_path(root: tk.Misc) -> str:
    """The system's Save dialog, with a dated file name offered; "" when cancelled."""
    name = time.strftime("chat-history-%Y-%m-%d.txt")
    path = filedialog.asksaveasfilename(parent=root, title=hw.save_history_title(), initialfile=name,
                                        defaultextension=".txt")
    return str(path or "")


class ClosedBar(ttk.Frame):
    """Over the entry while the room is closed: the sentence, and Join again."""

    def __init__(self, master: tk.Misc, on_rejoin: Callable[[], None] | None) -> None:
        super().__init__(master, padding=(10, 8))
        self.on_rejoin = on_rejoin
        self.label = ttk.Label(self, text=hw.room_closed_waiting(), wraplength=460, justify="left")
        self.label.grid(row=0, column=0, sticky="w")
        self.button = ttk.Button(self, text=hw.join_again(), style="Accent.TButton", command=self.rejoin)
        if on_rejoin is not None:
            self.button.grid(row=0, column=1, padx=(12, 0))
        self.columnconfigure(0, weight=1)
        self.bind("<Configure>", lambda e: self.label.configure(wraplength=max(200, e.width - 160)))

    def rejoin(self) -> None:
        if self.on_rejoin is None or str(self.button.cget("state")) == "disabled":
            return
        self.button.configure(state="disabled")
        self.after(REJOIN_PAUSE_MS, self._ready)
        self.on_rejoin()

    def _ready(self) -> None:
        try:
            self.button.configure(state="normal")
        except tk.TclError:
            pass


class HistoryTools:
    """Search and Save history as…, the same in both windows (mixed into ClientApp and ServerApp)."""

    root: tk.Tk
    transport: Any
    stopped: bool = False

    def search_history(self, words: str) -> None:
        if self.transport is not None and not self.stopped and hasattr(self.transport, "search"):
            self.transport.search(words)

    def save_history(self) -> None:
        if self.transport is None or self.stopped or not hasattr(self.transport, "save_history"):
            return
        path = ask_save_path(self.root)
        if path:
            self.transport.save_history(path)
