"""Locking the running room from the server window, next to its name.

Open: a "Lock…" button, which asks for the passphrase in a small dialog (hidden
as it is typed, with Show to check it). Locked: a padlock, "Locked", and Unlock. The
passphrase is typed here, never on a command line others could read; it is
checked for what the core takes (not empty, at most chatfront.passphrase.MAX_CHARS,
the same limit as a passphrase file) before the room is locked with it.
"""
from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from tkinter import ttk

from chatfront.i18n import _
from chatfront.lock_wording import (lock_button, lock_confirm, lock_prompt, lock_title, locked_badge,
                                    passphrase_label, passphrase_missing, passphrase_too_long, unlock_button)
from chatfront.passphrase import MAX_CHARS

from .padlock import padlock
from .passphrase_row import SecretEntry
from .scaling import wrap_at
from .theme import Palette


class LockBar(ttk.Frame):
    """``on_lock(passphrase)`` locks the room ("" opens it); the bar shows the state."""

    def __init__(self, master: tk.Misc, palette: Palette, on_lock: Callable[[str], None],
                 locked: bool = False) -> None:
        super().__init__(master)
        self.palette = palette
        self.on_lock = on_lock
        self.dialog: LockDialog | None = None
        background = ttk.Style(self).lookup("TFrame", "background") or palette.bg
        self.padlock = padlock(self, palette.accent, background)
        self.badge = ttk.Label(self, text=locked_badge(), image=self.padlock, compound="left",
                               foreground=palette.accent)
        self.button = ttk.Button(self, command=self._pressed)
        self.button.grid(row=0, column=1)
        self.show(locked)

    def show(self, locked: bool) -> None:
        self.locked = locked
        if locked:
            self.badge.grid(row=0, column=0, padx=(0, 8))
        else:
            self.badge.grid_remove()
        self.button.configure(text=unlock_button() if locked else lock_button())

    def _pressed(self) -> None:
        if self.locked:
            self.on_lock("")
        else:
            self.ask()

    def ask(self) -> "LockDialog":
        """The passphrase dialog (one at a time: pressing Lock… again brings it forward)."""
        if self.dialog is not None and self.dialog.winfo_exists():
            self.dialog.lift()
            self.dialog.secret.focus()
            return self.dialog
        self.dialog = LockDialog(self.winfo_toplevel(), self.palette, self.on_lock)
        return self.dialog


class LockDialog(tk.Toplevel):
    """One sentence on what locking does, the passphrase (hidden, Show), Lock or Cancel."""

    def __init__(self, master: tk.Misc, palette: Palette, on_lock: Callable[[str], None]) -> None:
        super().__init__(master)
        self.title(lock_title())
        self.transient(master)
        self.resizable(False, False)
        self.on_lock = on_lock
        frame = ttk.Frame(self, padding=20)
        frame.pack(fill="both", expand=True)
        wrap_at(ttk.Label(frame, text=lock_prompt(), justify="left"), 360).grid(
            row=0, column=0, columnspan=2, sticky="w", pady=(0, 12))
        ttk.Label(frame, text=passphrase_label()).grid(row=1, column=0, sticky="w", padx=(0, 12))
        self.secret = SecretEntry(frame, width=26)
        self.secret.grid(row=1, column=1, sticky="ew")
        self.message = wrap_at(ttk.Label(frame, text="", foreground=palette.error, justify="left"), 360)
        self.message.grid(row=2, column=0, columnspan=2, sticky="w", pady=(8, 0))
        buttons = ttk.Frame(frame)
        buttons.grid(row=3, column=0, columnspan=2, sticky="e", pady=(12, 0))
        self.cancel_button = ttk.Button(buttons, text=_("Cancel"), command=self.destroy)
        self.cancel_button.pack(side="right")
        self.lock_button = ttk.Button(buttons, text=lock_confirm(), command=self.lock, style="Accent.TButton")
        self.lock_button.pack(side="right", padx=(0, 8))
        frame.columnconfigure(1, weight=1)
        self.secret.entry.bind("<Return>", lambda e: self.lock())
        self.bind("<Escape>", lambda e: self.destroy())
        self.secret.focus()

    def lock(self) -> None:
        passphrase = self.secret.get()
        if not passphrase:
            self.message.configure(text=passphrase_missing())
        elif len(passphrase) > MAX_CHARS:
            self.message.configure(text=passphrase_too_long(MAX_CHARS))
        else:
            self.destroy()
            self.on_lock(passphrase)
