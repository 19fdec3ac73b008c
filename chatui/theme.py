"""Look and feel: a modern ttk theme that follows the system's light or dark mode.

sv-ttk (Sun Valley) gives Windows 11-like widgets in light and dark; darkdetect
reads the system setting. Both are optional: without them the stock ``clam``
theme (or the platform's native one) is used with a light palette. Fonts are
Tk's named fonts, so each system shows its own UI font (Segoe UI, SF, DejaVu…).
"""
from __future__ import annotations

import sys
import tkinter as tk
import zlib
from dataclasses import dataclass
from tkinter import font as tkfont
from tkinter import ttk


@dataclass(frozen=True)
class Palette:
    dark: bool
    bg: str
    fg: str
    muted: str
    accent: str
    private: str
    pending: str
    delivered: str
    names: tuple[str, ...]


LIGHT = Palette(False, "#fafafa", "#1c1c1c", "#6b6b6b", "#005fb8", "#8a4b00", "#9a9a9a", "#1a7f37",
                ("#c0392b", "#1f6feb", "#1a7f37", "#8250df", "#bf5700", "#0f7b8a",
                 "#b3136b", "#5c6b00", "#6639ba", "#9a6700", "#0b6e4f", "#a40e26"))
DARK = Palette(True, "#1c1c1c", "#e8e8e8", "#9a9a9a", "#4cc2ff", "#f0b463", "#7a7a7a", "#56d364",
               ("#ff7b72", "#79c0ff", "#7ee787", "#d2a8ff", "#ffa657", "#39c5cf",
                "#f778ba", "#c9d05c", "#b392f0", "#e3b341", "#56d4a4", "#ff9492"))


def system_is_dark() -> bool:
    try:
        import darkdetect
        return bool(darkdetect.isDark())
    except Exception:          # not installed, or no answer on this desktop
        return False


def apply_theme(root: tk.Misc, mode: str = "auto") -> Palette:
    """Theme ``root`` ('auto', 'light' or 'dark') and return the palette for Text widgets."""
    dark = system_is_dark() if mode == "auto" else mode == "dark"
    try:
        import sv_ttk
        sv_ttk.set_theme("dark" if dark else "light", root)
    except Exception:
        dark = False
        style = ttk.Style(root)
        if sys.platform not in ("win32", "darwin") and "clam" in style.theme_names():
            style.theme_use("clam")
    _tune_fonts(root)
    return DARK if dark else LIGHT


def _tune_fonts(root: tk.Misc) -> None:
    """Readable sizes on every system: at least 10 pt for the UI and the history."""
    for name in ("TkDefaultFont", "TkTextFont", "TkHeadingFont"):
        try:
            f = tkfont.nametofont(name, root=root)
        except tk.TclError:
            continue
        size = f.cget("size")
        if 0 < size < 10:
            f.configure(size=10)
        elif -13 < size < 0:             # negative sizes are pixels
            f.configure(size=-13)


def history_font(root: tk.Misc) -> tkfont.Font:
    base = tkfont.nametofont("TkTextFont", root=root).actual()
    size = max(11, abs(int(base["size"])) if base["size"] > 0 else 11)
    return tkfont.Font(root=root, family=base["family"], size=size)


def name_colour(name: str, palette: Palette) -> str:
    """A colour of its own for each name, the same in every session and window."""
    return palette.names[zlib.crc32(name.casefold().encode()) % len(palette.names)]
