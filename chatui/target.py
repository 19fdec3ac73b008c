"""Where the operator's next line goes, shown where it is typed: "To: maria ✕".

The server window's lines go to everyone or privately to one member. A list
selection that silently vanished when that member left (and the next line going
to the whole room) is what this replaces: the target is a value of its own,
shown as a chip above the entry, cleared only by the operator (✕ or Escape),
and marked when the member is no longer in the room, so the window can refuse
the line instead of re-addressing it.
"""
from __future__ import annotations

import tkinter as tk
from tkinter import ttk
from typing import Callable

from chatfront.wording import to_everyone, to_member, to_member_gone

from .theme import Palette, ui_font


class TargetChip(ttk.Frame):
    """"To: everyone" in quiet grey, or a coloured chip "To: maria ✕"; a hint at the right."""

    def __init__(self, master: tk.Misc, palette: Palette, on_clear: Callable[[], None]) -> None:
        super().__init__(master)
        self.palette = palette
        self.chip = tk.Frame(self, bg=palette.bg, highlightthickness=1, highlightbackground=palette.bg)
        self.label = tk.Label(self.chip, anchor="w", bg=palette.bg, fg=palette.muted, padx=8, pady=2,
                              font=ui_font(self, weight="bold"))
        self.clear_button = tk.Button(self.chip, text="\u2715", command=on_clear, relief="flat", bd=0,
                                      padx=6, pady=0, cursor="hand2", takefocus=False,
                                      bg=palette.private_bg, fg=palette.private,
                                      activebackground=palette.private_bg, activeforeground=palette.fg,
                                      highlightthickness=0)
        self.label.pack(side="left")
        self.chip.pack(side="left")
        self.hint = ttk.Label(self, anchor="e", foreground=palette.muted)
        self.hint.pack(side="right")
        self.name: str | None = None
        self.gone = False
        self.show(None)

    def show(self, name: str | None, gone: bool = False) -> None:
        """Everyone (None), a member, or a member no longer in the room."""
        self.name, self.gone = name, gone
        p = self.palette
        if name is None:
            self.chip.configure(bg=p.bg, highlightbackground=p.bg)
            self.label.configure(text=to_everyone(), bg=p.bg, fg=p.muted)
            self.clear_button.pack_forget()
            return
        fg = p.error if gone else p.private
        self.chip.configure(bg=p.private_bg, highlightbackground=fg)
        self.label.configure(text=to_member_gone(name) if gone else to_member(name), bg=p.private_bg, fg=fg)
        self.clear_button.configure(bg=p.private_bg, fg=fg)
        self.clear_button.pack(side="left")

    def text(self) -> str:
        """What the chip says, ✕ included while a member is the target (tests, screen readers)."""
        return str(self.label.cget("text")) + (" \u2715" if self.name else "")

    def set_hint(self, text: str) -> None:
        self.hint.configure(text=text)
