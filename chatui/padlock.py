"""A small padlock, drawn: the "locked" mark in the server window's bar.

Not the 🔒 character: Tk 8.6 draws no colour emoji, and a machine without an
emoji font in its fallback list (a plain Linux with DejaVu only) shows an empty
box instead. Drawn here at the UI font's height, in the theme's colour, smoothed
against the window's background, so it looks the same on every system.
"""
from __future__ import annotations

import math
import tkinter as tk
from tkinter import font as tkfont

SAMPLES = 4                 # per pixel side, for the smoothing
GAP = 3                     # transparent pixels on its right: room before the text next to it


def _inside(x: float, y: float, w: float, h: float) -> bool:
    """Is the point (in pixels, from the top left) on the padlock of ``w`` x ``h``?"""
    if not 0 <= x < w:
        return False
    body_top = h * 0.45
    if y >= body_top:                                     # the body, with a keyhole
        hole = abs(x - w / 2) < w * 0.09 and body_top + (h - body_top) * 0.3 < y < h - (h - body_top) * 0.3
        return not hole
    stroke = max(1.6, w * 0.16)                           # the shackle: a U upside down
    radius = w / 2 - w * 0.18
    cy = radius + stroke / 2
    cx = w / 2
    if y <= cy:
        return abs(math.hypot(x - cx, y - cy) - radius) <= stroke / 2
    return abs(abs(x - cx) - radius) <= stroke / 2


def _mix(colour: tuple[int, int, int], bg: tuple[int, int, int], amount: float) -> str:
    return "#%02x%02x%02x" % tuple(round(c * amount + b * (1 - amount)) for c, b in zip(colour, bg))


def padlock(master: tk.Misc, colour: str, background: str, height: int | None = None) -> tk.PhotoImage:
    """The padlock as an image (keep a reference to it: Tk does not)."""
    if height is None:
        height = max(10, round(tkfont.nametofont("TkDefaultFont", root=master).metrics("linespace") * 0.8))
    width = max(8, round(height * 0.78))
    rgb = tuple(v // 256 for v in master.winfo_rgb(colour))
    bg = tuple(v // 256 for v in master.winfo_rgb(background))
    image = tk.PhotoImage(master=master, width=width + GAP, height=height)
    step = 1 / SAMPLES
    for py in range(height):
        for px in range(width + GAP):
            hits = sum(_inside(px + (i + 0.5) * step, py + (j + 0.5) * step, width, height)
                       for i in range(SAMPLES) for j in range(SAMPLES))
            if hits:
                image.put(_mix(rgb, bg, hits / SAMPLES ** 2), to=(px, py))
            else:
                image.transparency_set(px, py, True)
    return image
