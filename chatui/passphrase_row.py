"""A passphrase typed into a window: hidden by default (•), with a Show box for
checking a long one before sending it, and, on the connect form, a row that is
only there for a locked room, with "Remember on this computer".

The row is not shown for open rooms: a passphrase sent to an open room is
refused (NotLocked, since whoever answers could be stripping the lock), so a
field that is not on screen is never sent either (``get`` is "" then).
"""
from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from tkinter import ttk

from chatfront import keychain
from chatfront.lock_wording import no_keychain, passphrase_label, remember_box, show_passphrase

from .scaling import wrap_at
from .theme import Palette

HIDDEN = "•"


class SecretEntry(ttk.Frame):
    """An entry that shows • for each character, and a Show box next to it."""

    def __init__(self, master: tk.Misc, width: int = 28) -> None:
        super().__init__(master)
        self.var = tk.StringVar(self)
        self.entry = ttk.Entry(self, textvariable=self.var, show=HIDDEN, width=width)
        self.entry.grid(row=0, column=0, sticky="ew")
        self.shown = tk.BooleanVar(self, False)
        self.show_box = ttk.Checkbutton(self, text=show_passphrase(), variable=self.shown, command=self._toggle)
        self.show_box.grid(row=0, column=1, padx=(8, 0))
        self.columnconfigure(0, weight=1)

    def _toggle(self) -> None:
        self.entry.configure(show="" if self.shown.get() else HIDDEN)

    def get(self) -> str:
        return self.var.get()

    def set(self, text: str) -> None:
        self.var.set(text)
        self.entry.icursor("end")

    def focus(self, select: bool = False) -> None:
        self.entry.focus_set()
        if select:
            self.entry.select_range(0, "end")
            self.entry.icursor("end")

    def set_enabled(self, enabled: bool) -> None:
        state = "normal" if enabled else "disabled"
        self.entry.configure(state=state)
        self.show_box.configure(state=state)


class PassphraseRow:
    """Two rows of the connect form's grid (``row`` and the next): "Passphrase"
    and the hidden entry, then the Remember box (greyed, with why, when there
    is no keychain). Widgets of the form itself, so the label lines up with
    Server and Your name; ``show``/``hide`` put them on and off the grid."""

    def __init__(self, form: tk.Misc, row: int, palette: Palette, on_submit: Callable[[], None]) -> None:
        self.label = ttk.Label(form, text=passphrase_label())
        self.secret = SecretEntry(form, width=24)
        self.remember = tk.BooleanVar(form, False)
        under = ttk.Frame(form)
        self.remember_box = ttk.Checkbutton(under, text=remember_box(), variable=self.remember)
        self.remember_box.grid(row=0, column=0, sticky="w")
        self.hint = wrap_at(ttk.Label(under, text=no_keychain(), foreground=palette.muted, justify="left"), 400)
        self.under = under
        self.label.grid(row=row, column=0, sticky="w", padx=(0, 12), pady=6)
        self.secret.grid(row=row, column=1, sticky="ew", pady=6)
        under.grid(row=row + 1, column=1, sticky="w", pady=(0, 4))
        self.recalled = ""           # what the keychain gave for the room shown (forget it if it is wrong)
        self.for_server = ""         # the address the row was shown for
        self._keychain: bool | None = None      # asked once, when first needed
        self.secret.entry.bind("<Return>", lambda e: on_submit())
        self.hide()

    @property
    def visible(self) -> bool:
        return bool(self.label.winfo_manager())

    def get(self) -> str:
        """The passphrase to send: "" when the row is not shown."""
        return self.secret.get() if self.visible else ""

    def show(self, server: str, passphrase: str | None = None) -> None:
        """Put the row on the form for ``server``; ``passphrase`` None: what the
        keychain remembers for it (the box then ticked), else that text. Already
        up for that server, what is typed stays (a refusal keeps the fields)."""
        refill = passphrase is not None or not self.visible or server != self.for_server
        if not self.visible:
            for w in (self.label, self.secret, self.under):
                w.grid()
        self._check_keychain()
        if refill:
            self.recalled = keychain.recall(server) if passphrase is None and self._keychain else ""
            self.secret.set(self.recalled if passphrase is None else passphrase)
            self.remember.set(bool(self.recalled))
        self.for_server = server

    def hide(self) -> None:
        for w in (self.label, self.secret, self.under):
            w.grid_remove()

    def _check_keychain(self) -> None:
        if self._keychain is None:
            self._keychain = keychain.available()
            if not self._keychain:
                self.remember.set(False)
                self.remember_box.configure(state="disabled")
                self.hint.grid(row=1, column=0, sticky="w")

    def set_enabled(self, enabled: bool) -> None:
        self.secret.set_enabled(enabled)
        # Not asked yet (the row never shown): only a keychain known to be missing greys it.
        self.remember_box.configure(state="normal" if enabled and self._keychain is not False else "disabled")

    def focus(self, select: bool = False) -> None:
        self.secret.focus(select)
