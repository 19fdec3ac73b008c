"""The theme's drawn parts at the screen's scale: scroll bars, check boxes, radio
buttons, the arrows of combo boxes, menu buttons and tree items.

scaling.py makes fonts and paddings follow the DPI and the zoom; the theme's parts
are another matter:

- **Sun Valley** (sv-ttk) draws them with 96-dpi pictures cut from a sprite sheet,
  and its image elements have fixed sizes in pixels (``-width 26``, ``-border {0 3}``)
  that cannot be changed once the element exists. So for a scale ``s`` (the DPI
  factor times the zoom, in quarter steps, never below 1) each picture is copied
  enlarged (Tk's ``photo copy -zoom``/``-subsample``: whole pixels repeated, so it stays
  sharp), the elements are made again under a name of their own (``s200.``
  ``Vertical.Scrollbar.thumb``) with their sizes scaled, and the widgets' layouts
  are pointed at them. Tk's bindings find the parts by the end of their names
  (``*thumb``, ``*arrow``), which the prefix keeps.
- **clam, alt, default** (when sv-ttk is missing) draw them from style options:
  ``-arrowsize`` (the scroll bar's width and its arrows, the combo box's arrow) and
  ``-indicatorsize`` (check and radio boxes) are scaled.
- The panes' sash (``-sashthickness``) is scaled in both.

Anything unexpected (another theme, another sv-ttk with other picture names) leaves
the theme as it was: the parts stay small, the program runs.
"""
from __future__ import annotations

import math
import tkinter as tk
from tkinter import ttk

# Sun Valley's elements as sv-ttk 2.6 makes them (theme/light.tcl, dark.tcl): the
# pictures by state, and the options in pixels. Scaled: -width, -height, -border.
_CHECK = [("{alternate disabled}", "check-tri-dis"), ("{selected disabled}", "check-dis"),
          ("disabled", "check-unsel-dis"), ("{pressed alternate}", "check-tri-hover"),
          ("{active focus alternate}", "check-tri-focus-hover"), ("{active alternate}", "check-tri-hover"),
          ("{focus alternate}", "check-tri-focus"), ("alternate", "check-tri-rest"),
          ("{pressed selected}", "check-hover"), ("{active focus selected}", "check-focus-hover"),
          ("{active selected}", "check-hover"), ("{focus selected}", "check-focus"), ("selected", "check-rest"),
          ("{pressed !selected}", "check-unsel-pressed"), ("{active focus}", "check-unsel-focus-hover"),
          ("active", "check-unsel-hover"), ("focus", "check-unsel-focus")]
_RADIO = [("{selected disabled}", "radio-dis"), ("disabled", "radio-unsel-dis"), ("{pressed selected}", "radio-pressed"),
          ("{active focus selected}", "radio-focus-hover"), ("{active selected}", "radio-hover"),
          ("{focus selected}", "radio-focus"), ("selected", "radio-rest"),
          ("{pressed !selected}", "radio-unsel-pressed"), ("{active focus}", "radio-unsel-focus-hover"),
          ("active", "radio-unsel-hover"), ("focus", "radio-unsel-focus")]

# element: (default picture, [(state, picture)], {option: pixels}, sticky)
SV_ELEMENTS: dict[str, tuple[str, list[tuple[str, str]], dict[str, tuple[int, ...]], str]] = {
    "Vertical.Scrollbar.trough": ("scrollbar-trough-vert", [], {"border": (0, 6)}, "ns"),
    "Vertical.Scrollbar.thumb": ("scrollbar-thumb-vert", [], {"border": (0, 3)}, "ns"),
    "Vertical.Scrollbar.uparrow": ("scrollbar-up", [], {"height": (13,)}, "n"),
    "Vertical.Scrollbar.downarrow": ("scrollbar-down", [], {"height": (13,)}, "s"),
    "Horizontal.Scrollbar.trough": ("scrollbar-trough-hor", [], {"border": (6, 0)}, "ew"),
    "Horizontal.Scrollbar.thumb": ("scrollbar-thumb-hor", [], {"border": (3, 0)}, "ew"),
    "Horizontal.Scrollbar.leftarrow": ("scrollbar-left", [], {"width": (13,)}, "w"),
    "Horizontal.Scrollbar.rightarrow": ("scrollbar-right", [], {"width": (13,)}, "e"),
    "Checkbutton.indicator": ("check-unsel-rest", _CHECK, {"width": (26,)}, "w"),
    "Radiobutton.indicator": ("radio-unsel-rest", _RADIO, {"width": (26,)}, "w"),
    "Combobox.arrow": ("down", [], {"width": (34,)}, ""),
    "Menubutton.indicator": ("down", [], {"width": (10,)}, "e"),
    "Treeitem.indicator": ("right", [("user2", "empty"), ("user1", "down")], {"width": (26,)}, ""),
}
# The layouts (widget styles) that hold those elements.
LAYOUTS = ("Vertical.TScrollbar", "Horizontal.TScrollbar", "TCheckbutton", "TRadiobutton", "TCombobox",
           "TMenubutton", "Item")
SV_THEMES = {"sun-valley-light": "sv_light", "sun-valley-dark": "sv_dark"}
# Options of the stock themes, and their sizes at 96 dpi where a theme leaves them unset.
OPTIONS: dict[str, dict[str, tuple[int, ...]]] = {
    "TScrollbar": {"arrowsize": (14,)}, "TCombobox": {"arrowsize": (14,)},
    "TCheckbutton": {"indicatorsize": (10,), "indicatormargin": (1, 1, 4, 1)},
    "TRadiobutton": {"indicatorsize": (10,), "indicatormargin": (1, 1, 4, 1)}}
STOCK_THEMES = ("clam", "alt", "default", "classic")


def quantised(scale: float) -> float:
    """Quarter steps, never below 1: whole-pixel copies need a ratio of small numbers,
    and parts smaller than the theme's own are hard to hit."""
    return max(1.0, round(scale * 4) / 4)


def _ratio(scale: float) -> tuple[int, int]:
    zoom, sub = round(scale * 4), 4
    g = math.gcd(zoom, sub)
    return zoom // g, sub // g


def _prefix(scale: float) -> str:
    return f"s{round(scale * 100)}."


def _plain(element: str) -> str:
    """The element's own name, without a scale's prefix."""
    head, dot, rest = element.partition(".")
    return rest if dot and head[:1] == "s" and head[1:].isdigit() else element


class ThemeScaler:
    """One per Tk interpreter: remembers which scaled pictures and elements exist."""

    def __init__(self, root: tk.Misc) -> None:
        self.root = root
        self.style = ttk.Style(root)
        self.made: set[tuple[str, float]] = set()          # (theme, scale) whose elements exist
        self.pictures: dict[tuple[str, float], str] = {}   # (source image, scale) -> scaled image
        self.base: dict[tuple[str, str, str], tuple[int, ...]] = {}  # (theme, style, option) -> at scale 1
        self.scale = 1.0

    def apply(self, scale: float) -> float:
        """Scale the theme in use to ``scale`` (quantised); returns the scale used."""
        scale = quantised(scale)
        theme = self.style.theme_use()
        try:
            if theme in SV_THEMES:
                self._sun_valley(theme, scale)
            elif theme in STOCK_THEMES:
                self._stock(theme, scale)
            self._sash(theme, scale)
        except (tk.TclError, ValueError):                  # another sv-ttk, another Tk: leave it
            return self.scale
        self.scale = scale
        return scale

    # --- Sun Valley ---------------------------------------------------------------------

    def _pictures(self, theme: str) -> dict[str, str]:
        namespace = SV_THEMES[theme]
        return dict(zip(*[iter(self.root.tk.splitlist(
            self.root.tk.eval(f"array get ttk::theme::{namespace}::I")))] * 2))

    def _scaled_picture(self, image: str, scale: float) -> str:
        key = (image, scale)
        if key not in self.pictures:
            zoom, sub = _ratio(scale)
            name = f"lanchat_{image}_{round(scale * 100)}"
            self.root.tk.call("image", "create", "photo", name)
            self.root.tk.call(name, "copy", image, "-zoom", zoom, zoom, "-subsample", sub, sub)
            self.pictures[key] = name
        return self.pictures[key]

    def _sun_valley(self, theme: str, scale: float) -> None:
        if scale > 1 and (theme, scale) not in self.made:
            pictures = self._pictures(theme)
            for element, (default, states, sizes, sticky) in SV_ELEMENTS.items():
                spec = [self._scaled_picture(pictures[default], scale)]
                for state, picture in states:
                    spec += [state, self._scaled_picture(pictures[picture], scale)]
                options: list[object] = []
                for option, values in sizes.items():
                    options += [f"-{option}", " ".join(str(round(v * scale)) for v in values)]
                self.root.tk.call("ttk::style", "element", "create", _prefix(scale) + element, "image",
                                  " ".join(spec), *options, "-sticky", sticky)
            self.made.add((theme, scale))
        prefix = _prefix(scale) if scale > 1 else ""
        for name in LAYOUTS:
            try:
                layout = self.style.layout(name)
            except tk.TclError:
                continue
            self.style.layout(name, self._renamed(layout, prefix))

    def _renamed(self, layout: list, prefix: str) -> list:
        out = []
        for element, options in layout:
            plain = _plain(element)
            options = dict(options)
            if "children" in options:
                options["children"] = self._renamed(options["children"], prefix)
            out.append((prefix + plain if plain in SV_ELEMENTS else plain, options))
        return out

    # --- the stock themes -------------------------------------------------------------------

    def _scaled_option(self, theme: str, style: str, option: str, default: tuple[int, ...], scale: float) -> None:
        key = (theme, style, option)
        if key not in self.base:
            found = self.style.lookup(style, option)
            try:
                values = tuple(int(float(v)) for v in self.root.tk.splitlist(found))
            except (TypeError, ValueError, tk.TclError):
                values = ()
            self.base[key] = values or default
        self.style.configure(style, **{option: " ".join(str(round(v * scale)) for v in self.base[key])})

    def _stock(self, theme: str, scale: float) -> None:
        for style, options in OPTIONS.items():
            for option, default in options.items():
                self._scaled_option(theme, style, option, default, scale)

    def _sash(self, theme: str, scale: float) -> None:
        self._scaled_option(theme, "Sash", "sashthickness", (5,), scale)


def theme_scaler(root: tk.Misc) -> ThemeScaler:
    from .scaling import per_root
    return per_root(root, "_lanchat_theme_scaler", ThemeScaler)


def follow(root: tk.Misc) -> ThemeScaler:
    """The theme's parts at the screen's scale now, and at each zoom from now on."""
    from .scaling import scaler
    s = scaler(root)
    t = theme_scaler(root)
    t.apply(s.factor * s.zoom)
    if not getattr(t, "following", False):
        s.on_zoom.append(lambda zoom: t.apply(s.factor * zoom))
        t.following = True                                 # type: ignore[attr-defined]
    return t
