"""The operator's tools in the server window: the member list's context menu,
the small questions it asks (a reason to kick, a ban to confirm, closing a
room with people in it) and the list of bans with Unban.

The questions go through :func:`ask` and :func:`confirm`, module functions the
window looks up at call time, so tests answer them (monkeypatch) without a
person clicking a modal dialog.
"""
from __future__ import annotations

import tkinter as tk
from tkinter import ttk
from typing import Callable, Iterable

from chatfront.moderation import MUTE_CHOICES
from chatfront.wording import (address_heading, bans_list, bans_title, cancel_button, close_button, menu_ban,
                               menu_bans, menu_kick, menu_minutes, menu_mute, menu_unmute, menu_write_privately,
                               name_heading, unban_button)
from udpcore import events as ev

from .scaling import wrap_at


class Question(tk.Toplevel):
    """A modal question: one sentence, an optional line to type, OK and Cancel.
    Enter answers OK, Escape cancels; ``answer`` is the text typed (or "" without
    a field), None when cancelled."""

    def __init__(self, master: tk.Misc, title: str, message: str, ok: str, *, field: bool = False) -> None:
        super().__init__(master)
        self.title(title)
        self.transient(master.winfo_toplevel())
        self.resizable(False, False)
        self.answer: str | None = None
        frame = ttk.Frame(self, padding=20)
        frame.pack(fill="both", expand=True)
        self.message = wrap_at(ttk.Label(frame, text=message, justify="left"), 380)
        self.message.pack(anchor="w")
        self.var = tk.StringVar(self)
        self.entry = ttk.Entry(frame, textvariable=self.var, width=44)
        if field:
            self.entry.pack(fill="x", pady=(10, 0))
        buttons = ttk.Frame(frame)
        buttons.pack(anchor="e", pady=(16, 0))
        self.cancel_button = ttk.Button(buttons, text=cancel_button(), command=self.destroy)
        self.cancel_button.pack(side="right")
        self.ok_button = ttk.Button(buttons, text=ok, command=self._ok, style="Accent.TButton")
        self.ok_button.pack(side="right", padx=(0, 8))
        self.bind("<Return>", lambda e: self._ok())
        self.bind("<KP_Enter>", lambda e: self._ok())
        self.bind("<Escape>", lambda e: self.destroy())
        self.protocol("WM_DELETE_WINDOW", self.destroy)
        (self.entry if field else self.ok_button).focus_set()

    def _ok(self) -> None:
        self.answer = self.var.get().strip()
        self.destroy()

    def run(self) -> str | None:
        """Wait (the window's events still run) until answered."""
        try:
            self.wait_visibility()
            self.grab_set()
        except tk.TclError:
            pass
        self.wait_window()
        return self.answer


def ask(master: tk.Misc, title: str, message: str, ok: str) -> str | None:
    """A line typed in answer (may be ""), or None when cancelled."""
    return Question(master, title, message, ok, field=True).run()


def confirm(master: tk.Misc, title: str, message: str, ok: str) -> bool:
    return Question(master, title, message, ok).run() is not None


class MemberMenu(tk.Menu):
    """Right-click (or the menu key, or Shift+F10) on the member list. ``actions``
    are the window's: write(name), kick(name), mute(name, minutes), ban(name), bans()."""

    def __init__(self, master: tk.Misc, name: str | None, *, write: Callable[[str], None],
                 kick: Callable[[str], None], mute: Callable[[str, int], None], ban: Callable[[str], None],
                 bans: Callable[[], None], muted: bool = False) -> None:
        super().__init__(master, tearoff=False)
        state = "normal" if name else "disabled"
        if name:
            self.add_command(label=name, state="disabled")
            self.add_separator()
        self.add_command(label=menu_write_privately(), state=state, command=lambda: write(name or ""))
        self.add_command(label=menu_kick(), state=state, command=lambda: kick(name or ""))
        self.mute_menu = tk.Menu(self, tearoff=False)
        for minutes in MUTE_CHOICES:
            self.mute_menu.add_command(label=menu_minutes(minutes), command=lambda m=minutes: mute(name or "", m))
        self.mute_menu.add_separator()
        self.mute_menu.add_command(label=menu_unmute(), state="normal" if muted else "disabled",
                                   command=lambda: mute(name or "", 0))
        self.add_cascade(label=menu_mute(), menu=self.mute_menu, state=state)
        self.add_command(label=menu_ban(), state=state, command=lambda: ban(name or ""))
        self.add_separator()
        self.add_command(label=menu_bans(), command=bans)

    def index_of(self, label: str, menu: tk.Menu | None = None) -> int:
        """The index of the item called ``label`` (tests invoke items by what they say)."""
        menu = menu or self
        for i in range(int(menu.index("end")) + 1):
            if menu.type(i) not in ("separator", "tearoff") and menu.entrycget(i, "label") == label:
                return i
        raise KeyError(label)

    def popup(self, x: int, y: int) -> None:
        try:
            self.tk_popup(x, y)
        finally:
            self.grab_release()


class BansWindow(tk.Toplevel):
    """The bans, by name and address, with Unban. ``refresh`` keeps it current."""

    def __init__(self, master: tk.Misc, bans: Iterable[ev.Ban], unban: Callable[[str], None]) -> None:
        super().__init__(master)
        self.title(bans_title())
        self.transient(master.winfo_toplevel())
        self.unban_ = unban
        frame = ttk.Frame(self, padding=16)
        frame.pack(fill="both", expand=True)
        self.summary = wrap_at(ttk.Label(frame, justify="left"), 420)
        self.summary.pack(anchor="w", pady=(0, 8))
        self.tree = ttk.Treeview(frame, columns=("name", "address"), show="headings", height=8, selectmode="browse")
        self.tree.heading("name", text=name_heading(), anchor="w")
        self.tree.heading("address", text=address_heading(), anchor="w")
        self.tree.column("name", width=180)
        self.tree.column("address", width=220)
        self.tree.pack(fill="both", expand=True)
        buttons = ttk.Frame(frame)
        buttons.pack(anchor="e", pady=(12, 0))
        ttk.Button(buttons, text=close_button(), command=self.destroy).pack(side="right")
        self.unban_button = ttk.Button(buttons, text=unban_button(), command=self.unban)
        self.unban_button.pack(side="right", padx=(0, 8))
        self.tree.bind("<<TreeviewSelect>>", lambda e: self._buttons())
        self.tree.bind("<Delete>", lambda e: self.unban())
        self.bind("<Escape>", lambda e: self.destroy())
        self.refresh(bans)
        self.tree.focus_set()

    def refresh(self, bans: Iterable[ev.Ban]) -> None:
        bans = tuple(bans)
        self.tree.delete(*self.tree.get_children())
        for b in bans:
            self.tree.insert("", "end", iid=b.name, values=(b.name, b.address))
        self.summary.configure(text=bans_list(bans))
        self._buttons()

    def _buttons(self) -> None:
        self.unban_button.configure(state="normal" if self.tree.selection() else "disabled")

    def unban(self) -> None:
        for name in self.tree.selection():
            self.unban_(name)
