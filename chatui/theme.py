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
    private_bg: str
    pending: str
    delivered: str
    error: str
    names: tuple[str, ...]


# Name colours: ten clearly different hues, each readable on its background.
LIGHT = Palette(False, "#fafafa", "#1c1c1c", "#6b6b6b", "#005fb8", "#8a4b00", "#fcefd9", "#9a9a9a", "#1a7f37", "#d1242f",
                ("#c0392b", "#bf5700", "#9a6700", "#5c6b00", "#1a7f37",
                 "#0f7b8a", "#1f6feb", "#6639ba", "#9c2f9c", "#b3136b"))
DARK = Palette(True, "#1c1c1c", "#e8e8e8", "#9a9a9a", "#4cc2ff", "#f0b463", "#3a2e1b", "#7a7a7a", "#56d364", "#ff7b72",
               ("#ff7b72", "#ffa657", "#e3b341", "#c9d05c", "#7ee787",
                "#39c5cf", "#79c0ff", "#b392f0", "#e07ce0", "#f778ba"))


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
    _arrow_beside_label(ttk.Style(root))
    from .theme_scale import follow
    follow(root)                         # scroll bars, check boxes, arrows: at the screen's scale too
    return DARK if dark else LIGHT


def _arrow_beside_label(style: ttk.Style) -> None:
    """A menu button's arrow is packed first, then its label: Tk keeps the label's
    ``-side left`` from sv-ttk's layout out of what it stores, so the label took the
    whole width and the arrow was drawn over its last letter."""
    try:
        layout = style.layout("TMenubutton")
        (button, bopts), = layout
        (padding, popts), = bopts["children"]
        kids = popts["children"]
        label = [k for k in kids if k[0].endswith("Menubutton.label")]
        arrow = [k for k in kids if k[0].endswith("Menubutton.indicator")]
        if len(label) != 1 or len(arrow) != 1 or len(kids) != 2:
            return
        popts["children"] = [(arrow[0][0], {**arrow[0][1], "side": "right"}),
                             (label[0][0], {**label[0][1], "side": "left"})]
        style.layout("TMenubutton", [(button, {**bopts, "children": [(padding, popts)]})])
    except (tk.TclError, ValueError, KeyError, TypeError):
        pass                                   # another theme's layout: left as it is


def _tune_fonts(root: tk.Misc) -> None:
    """Readable sizes on every system: at least 10 pt for the UI and the history.
    Tuned at zoom 1 (the sizes the scaler keeps), then the scaler applies the screen's
    DPI and the zoom to them and to every other named font (scaling.py)."""
    from .scaling import scaler
    s = scaler(root)
    for name in ("TkDefaultFont", "TkTextFont", "TkHeadingFont"):
        try:
            size = s.base_size(name)
        except tk.TclError:
            continue
        if 0 < size < 10:
            s.adopt(name, 10)
        elif -13 < size < 0:             # negative sizes are pixels
            s.adopt(name, -13)
    s.adopt_all()                        # the theme's own (Sun Valley's, in pixels)


def history_font(root: tk.Misc, style: str = "") -> tkfont.Font:
    """The system's text font, at least 11 pt: the history is what people read most.
    A named font (``ChatHistory``, ``ChatHistoryBold``, ``ChatHistoryItalic``):
    every pane shares it, and Ctrl+plus enlarges them all at once."""
    from .scaling import scaler
    s = scaler(root)
    family = tkfont.nametofont("TkTextFont", root=root).actual()["family"]
    base = s.base_size("TkTextFont")
    size = max(11, base if base > 0 else 11)
    return s.font("ChatHistory" + style.capitalize(), family=family, size=size,
                  weight="bold" if style == "bold" else "normal", slant="italic" if style == "italic" else "roman")


def ui_font(root: tk.Misc, scale: float = 1.0, weight: str = "normal") -> tkfont.Font:
    """The system's UI font scaled (for headings), never a hard-coded family; a named
    font that follows the zoom."""
    from .scaling import scaler
    s = scaler(root)
    family = tkfont.nametofont("TkDefaultFont", root=root).actual()["family"]
    size = s.base_size("TkDefaultFont")
    size = round(size * scale) if size > 0 else -round(-size * scale)
    return s.font(f"ChatUI{round(scale * 100)}{weight.capitalize()}", family=family, size=size, weight=weight)


def name_colour(name: str, palette: Palette) -> str:
    """A colour of its own for each name, the same in every session, window and
    machine (a checksum, not hash(), which changes from run to run)."""
    return palette.names[zlib.crc32(name.casefold().encode()) % len(palette.names)]


def blend(colour: str, background: str, amount: float) -> str:
    """``colour`` faded ``amount`` (0..1) of the way towards ``background``: the
    dimmed history keeps each name's own colour, only quieter, in both themes."""
    a = [int(colour[i:i + 2], 16) for i in (1, 3, 5)]
    b = [int(background[i:i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * amount):02x}" for x, y in zip(a, b))
