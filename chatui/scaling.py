"""Sizes that follow the screen and the reader: DPI scaling and Ctrl+plus zoom.

Tk sizes fonts given in points (positive sizes) for the screen's DPI by itself,
once ``tk scaling`` is right; fonts given in pixels (negative sizes: the Sun
Valley theme's are all -12 to -68 px) and every padding and window size stay
96-dpi pixels, which is why at 192 dpi only the history used to grow. Here:

- ``tk scaling`` is set from the DPI the screen reports (``winfo fpixels 1i``;
  Windows reports the real one once the process declared DPI awareness, see
  app.declare_dpi_awareness; an X server reports what it was started with);
- every named font is adopted: a size in pixels is taken as meant for 96 dpi
  and multiplied by ``factor`` (dpi / 96), a size in points is left to Tk, and
  both are multiplied by the zoom. Our own fonts are named too (``font``), so
  one ``set_zoom`` reaches every widget that uses them, at once;
- paddings (``px``) and the window's first and least sizes (``fit_window``) are
  96-dpi pixels times ``factor``; the least size times the zoom too.

The zoom (Ctrl+plus, Ctrl+minus, Ctrl+0) is remembered in settings.json.
"""
from __future__ import annotations

import tkinter as tk
from tkinter import font as tkfont
from tkinter import ttk
from typing import Callable, TypeVar

from . import settings

BASE_DPI = 96.0
ZOOMS = (0.5, 0.67, 0.75, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0)
SCREEN_SHARE = 0.92            # a first window never larger than this share of the screen
PLUS = ("<Control-plus>", "<Control-equal>", "<Control-KP_Add>")
MINUS = ("<Control-minus>", "<Control-underscore>", "<Control-KP_Subtract>")
RESET = ("<Control-Key-0>", "<Control-KP_0>", "<Control-KP_Insert>")     # Key-: "<Control-0>" is a button


class Scaler:
    """One per Tk interpreter (``scaler(widget)`` finds or makes it)."""

    def __init__(self, root: tk.Misc) -> None:
        self.root = root
        system = root.tk.call("tk", "windowingsystem")
        # A Linux desktop's scaling setting (GNOME, KDE, Xfce: Xft.dpi) outranks the X server's figure,
        # which is 96 on most desktops whatever the screen: it is what every other program follows.
        self.dpi = (system == "x11" and xft_dpi(_resource_manager(root.winfo_screen()))
                    or float(root.winfo_fpixels("1i")))
        aqua = system == "aqua"
        # macOS counts in points already (72 "dpi", Retina doubled by the system): nothing to multiply
        self.factor = 1.0 if aqua else max(1.0, self.dpi / BASE_DPI)
        if not aqua:
            root.tk.call("tk", "scaling", self.dpi / 72.0)
        self.zoom = 1.0
        self.base: dict[str, int] = {}          # named font -> its size at zoom 1 (Tk's sign convention)
        self.on_zoom: list[Callable[[float], None]] = []
        self.adopt_all()

    # --- fonts ------------------------------------------------------------------------

    def adopt_all(self) -> None:
        """Every named font that exists now (Tk's, the theme's) follows the scale and the zoom."""
        for name in tkfont.names(self.root):
            if name not in self.base:
                self.adopt(name)

    def adopt(self, name: str, size: int | None = None) -> None:
        f = tkfont.nametofont(name, root=self.root)
        size = int(f.cget("size")) if size is None else int(size)
        if size == 0:
            return                               # Tk's default size: nothing to scale
        if size < 0:                             # pixels, meant for a 96-dpi screen
            size = -max(1, round(-size * self.factor))
        self.base[name] = size
        f.configure(size=self._zoomed(size))

    def font(self, name: str, *, family: str, size: int, weight: str = "normal",
             slant: str = "roman") -> tkfont.Font:
        """The named font ``name`` (made once), ``size`` at zoom 1, following the zoom."""
        exists = name in tkfont.names(self.root)
        f = tkfont.Font(root=self.root, name=name, exists=exists)
        f.configure(family=family, weight=weight, slant=slant)
        self.base.pop(name, None)
        self.adopt(name, size)
        return f

    def base_size(self, name: str) -> int:
        """A named font's size at zoom 1 (as adopted), in Tk's sign convention."""
        if name not in self.base:
            self.adopt(name)
        return self.base.get(name, int(tkfont.nametofont(name, root=self.root).cget("size")))

    def _zoomed(self, size: int) -> int:
        zoomed = max(1, round(abs(size) * self.zoom))
        return zoomed if size > 0 else -zoomed

    # --- zoom -------------------------------------------------------------------------

    def set_zoom(self, zoom: float, remember: bool = True) -> float:
        zoom = min(ZOOMS[-1], max(ZOOMS[0], float(zoom)))
        self.adopt_all()                         # fonts made since (a dialog's) follow too
        self.zoom = zoom
        for name, size in list(self.base.items()):
            try:
                tkfont.nametofont(name, root=self.root).configure(size=self._zoomed(size))
            except tk.TclError:                  # deleted meanwhile
                del self.base[name]
        self.fit_rows()
        for call in list(self.on_zoom):
            call(zoom)
        if remember:
            settings.save(zoom=zoom)
        return zoom

    def fit_rows(self) -> None:
        """A table's rows as tall as their font (ttk gives them a fixed height in pixels)."""
        style = ttk.Style(self.root)
        name = style.lookup("Treeview", "font") or "TkDefaultFont"
        try:
            line = tkfont.nametofont(str(name), root=self.root).metrics("linespace")
        except tk.TclError:
            return
        style.configure("Treeview", rowheight=line + self.px(4))

    def step(self, direction: int) -> float:
        """One step up (1), down (-1) or back to 100 % (0)."""
        if direction == 0:
            return self.set_zoom(1.0)
        if direction > 0:
            bigger = [z for z in ZOOMS if z > self.zoom + 1e-6]
            return self.set_zoom(bigger[0] if bigger else ZOOMS[-1])
        smaller = [z for z in ZOOMS if z < self.zoom - 1e-6]
        return self.set_zoom(smaller[-1] if smaller else ZOOMS[0])

    def bind_keys(self, widget: tk.Misc) -> None:
        """Ctrl+plus, Ctrl+minus and Ctrl+0 anywhere in the program (⌘ too on macOS)."""
        keys = [(PLUS, 1), (MINUS, -1), (RESET, 0)]
        aqua = widget.tk.call("tk", "windowingsystem") == "aqua"
        for sequences, direction in keys:
            for sequence in sequences + (tuple(s.replace("Control", "Command") for s in sequences) if aqua else ()):
                widget.bind_all(sequence, lambda e, d=direction: (self.step(d), "break")[1], add="+")

    # --- pixels -----------------------------------------------------------------------

    def px(self, n: float) -> int:
        """``n`` pixels of a 96-dpi design on this screen."""
        return round(n * self.factor)

    def pad(self, *values: float) -> tuple[int, ...]:
        return tuple(self.px(v) for v in values)

    def fit_window(self, top: tk.Wm, width: int, height: int, min_width: int, min_height: int) -> None:
        """The first size and the least size of ``top`` (96-dpi pixels at zoom 1), scaled and
        kept inside the screen; the least size follows the zoom from then on."""
        screen_w, screen_h = top.winfo_screenwidth(), top.winfo_screenheight()

        def fitted(w: float, h: float) -> tuple[int, int]:
            return (min(round(w), int(screen_w * SCREEN_SHARE)), min(round(h), int(screen_h * SCREEN_SHARE)))

        scale = self.factor * max(1.0, self.zoom)
        top.geometry("%dx%d" % fitted(width * scale, height * scale))

        def least(zoom: float) -> None:
            w, h = fitted(min_width * self.factor * zoom, min_height * self.factor * zoom)
            top.minsize(w, h)
            if top.winfo_width() > 1 and (top.winfo_width() < w or top.winfo_height() < h):
                top.geometry(f"{max(w, top.winfo_width())}x{max(h, top.winfo_height())}")
        least(self.zoom)
        self.on_zoom.append(least)


def xft_dpi(resources: str | None = None) -> float | None:
    """``Xft.dpi`` from the X server's resource database (RESOURCE_MANAGER, where the
    desktop's settings daemon puts its scaling), or None. Read with libX11 itself
    (no xrdb needed); any failure is None: scaling is never a reason not to start."""
    if resources is None:
        resources = _resource_manager()
    for line in (resources or "").splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("Xft.dpi", "*dpi"):
            try:
                dpi = float(value.strip())
            except ValueError:
                return None
            return dpi if 48 <= dpi <= 960 else None
    return None


def _resource_manager(screen: str | None = None) -> str | None:
    try:
        import ctypes
        import ctypes.util
        try:                    # the usual name first: find_library runs ldconfig, slow at start-up
            x11 = ctypes.CDLL("libX11.so.6")
        except OSError:
            name = ctypes.util.find_library("X11")
            if not name:
                return None
            x11 = ctypes.CDLL(name)
        x11.XOpenDisplay.restype = ctypes.c_void_p
        x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
        x11.XResourceManagerString.restype = ctypes.c_char_p
        x11.XResourceManagerString.argtypes = [ctypes.c_void_p]
        x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
        display = x11.XOpenDisplay(screen.encode() if screen else None)
        if not display:
            return None
        try:
            raw = x11.XResourceManagerString(display)
            return raw.decode("utf-8", "replace") if raw else None
        finally:
            x11.XCloseDisplay(display)
    except Exception:           # no libX11, another ABI: the screen's own figure is used
        return None


T = TypeVar("T")


def per_root(widget: tk.Misc, name: str, make: Callable[[tk.Misc], T]) -> T:
    """The one ``make(root)`` of ``widget``'s interpreter, kept on its root as ``name``."""
    root = widget._root()                       # type: ignore[attr-defined]
    found = getattr(root, name, None)
    if found is None:
        found = make(root)
        setattr(root, name, found)
    return found


def scaler(widget: tk.Misc) -> Scaler:
    """The interpreter's Scaler, made on first use."""
    return per_root(widget, "_lanchat_scaler", Scaler)


def setup(root: tk.Tk) -> Scaler:
    """At start: the scale from the screen, the remembered zoom, the zoom keys."""
    s = scaler(root)
    s.set_zoom(remembered_zoom(), remember=False)
    s.bind_keys(root)
    return s


def follow_zoom(widget: tk.Misc, call: Callable[[float], None]) -> None:
    """``call(zoom)`` at each change of the zoom while ``widget`` exists (and once now)."""
    s = scaler(widget)

    def changed(zoom: float) -> None:
        try:
            exists = widget.winfo_exists()
        except tk.TclError:
            exists = False
        if exists:
            call(zoom)
        else:
            s.on_zoom.remove(changed)
    s.on_zoom.append(changed)
    call(s.zoom)


def wrap_at(label: tk.Misc, n: float) -> tk.Misc:
    """``label`` wraps its text at ``n`` pixels of a 96-dpi design, scaled with the screen and
    the zoom as its font is. A bare ``wraplength`` is in the screen's pixels: at 192 dpi a
    sentence wrapped at half the width it was drawn for. Returns ``label``."""
    s = scaler(label)
    follow_zoom(label, lambda zoom: label.configure(wraplength=round(n * s.factor * zoom)))
    return label


def remembered_zoom() -> float:
    z = settings.load().get("zoom", 1.0)
    return float(z) if isinstance(z, (int, float)) and ZOOMS[0] <= z <= ZOOMS[-1] else 1.0


def px(widget: tk.Misc, n: float) -> int:
    return scaler(widget).px(n)


def pad(widget: tk.Misc, *values: float) -> tuple[int, ...]:
    return scaler(widget).pad(*values)
