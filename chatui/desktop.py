"""What each desktop offers for getting attention, with Tk 8.6 (which has no call for it).

- **X11:** the ICCCM urgency hint (``UrgencyHint`` in ``WM_HINTS``) on the
  window the window manager manages (``wm frame``), set through libX11 with
  ctypes: taskbars flash or colour the window's button, tiling managers mark
  its workspace. Cleared when the window has focus again. (EWMH's
  ``_NET_WM_STATE_DEMANDS_ATTENTION`` is what most managers turn the hint into.)
- **Windows:** ``FlashWindowEx`` flashes the taskbar button until the window
  comes to the front (``FLASHW_TIMERNOFG``).
- **macOS:** ``[NSApp requestUserAttention:NSInformationalRequest]`` through the
  Objective-C runtime: the Dock icon bounces once.

Each call is best effort: where the library, the function or the window is
missing, the request does nothing, is not tried again, and never raises.

Notifications use the system's own program, started without waiting for it:
``notify-send`` (libnotify) on Linux and the BSDs when it is installed,
``osascript``'s ``display notification`` on macOS; on Windows nothing yet.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import html
import shutil
import subprocess
import sys
import tkinter as tk
from typing import Callable

URGENCY_HINT = 1 << 8          # XUrgencyHint, in XWMHints.flags
BODY_CHARS = 200               # a notification shows the start of a long line


class _XWMHints(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_long), ("input", ctypes.c_int), ("initial_state", ctypes.c_int),
                ("icon_pixmap", ctypes.c_ulong), ("icon_window", ctypes.c_ulong), ("icon_x", ctypes.c_int),
                ("icon_y", ctypes.c_int), ("icon_mask", ctypes.c_ulong), ("window_group", ctypes.c_ulong)]


_xlib = None


def _libx11():
    global _xlib
    if _xlib is None:
        lib = ctypes.CDLL(ctypes.util.find_library("X11") or "libX11.so.6")
        lib.XOpenDisplay.restype = ctypes.c_void_p
        lib.XOpenDisplay.argtypes = [ctypes.c_char_p]
        lib.XGetWMHints.restype = ctypes.POINTER(_XWMHints)
        lib.XGetWMHints.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
        lib.XSetWMHints.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.POINTER(_XWMHints)]
        lib.XFree.argtypes = [ctypes.c_void_p]
        lib.XFlush.argtypes = [ctypes.c_void_p]
        lib.XCloseDisplay.argtypes = [ctypes.c_void_p]
        _xlib = lib
    return _xlib


def x11_urgency(root: tk.Misc, on: bool) -> None:
    """Set or clear the urgency hint, on a connection of our own to the window's display."""
    lib = _libx11()
    window = int(root.wm_frame(), 16)
    dpy = lib.XOpenDisplay(root.winfo_screen().encode())
    if not dpy:
        raise OSError("cannot open the X display")
    try:
        found = lib.XGetWMHints(dpy, window)
        hints = _XWMHints.from_buffer_copy(found.contents) if found else _XWMHints()
        if found:
            lib.XFree(found)
        hints.flags = hints.flags | URGENCY_HINT if on else hints.flags & ~URGENCY_HINT
        lib.XSetWMHints(dpy, window, ctypes.byref(hints))
        lib.XFlush(dpy)
    finally:
        lib.XCloseDisplay(dpy)


class _FLASHWINFO(ctypes.Structure):
    _fields_ = [("cbSize", ctypes.c_uint), ("hwnd", ctypes.c_void_p), ("dwFlags", ctypes.c_uint),
                ("uCount", ctypes.c_uint), ("dwTimeout", ctypes.c_uint)]


FLASHW_STOP, FLASHW_ALL, FLASHW_TIMERNOFG = 0, 3, 12


def windows_flash(root: tk.Misc, on: bool) -> None:
    """Flash the taskbar button until the window comes to the front (or stop it)."""
    info = _FLASHWINFO(ctypes.sizeof(_FLASHWINFO), int(root.wm_frame(), 16),
                       FLASHW_ALL | FLASHW_TIMERNOFG if on else FLASHW_STOP, 0, 0)
    ctypes.windll.user32.FlashWindowEx(ctypes.byref(info))         # type: ignore[attr-defined]


NS_INFORMATIONAL_REQUEST = 10


def mac_bounce(root: tk.Misc, on: bool) -> None:
    """Bounce the Dock icon once (macOS stops asking when the app is active again)."""
    if not on:
        return
    objc = ctypes.cdll.LoadLibrary(ctypes.util.find_library("objc"))
    objc.objc_getClass.restype = ctypes.c_void_p
    objc.objc_getClass.argtypes = [ctypes.c_char_p]
    objc.sel_registerName.restype = ctypes.c_void_p
    objc.sel_registerName.argtypes = [ctypes.c_char_p]
    send0 = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)(("objc_msgSend", objc))
    send1 = ctypes.CFUNCTYPE(ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_ulong)(("objc_msgSend", objc))
    app = send0(objc.objc_getClass(b"NSApplication"), objc.sel_registerName(b"sharedApplication"))
    if app:
        send1(app, objc.sel_registerName(b"requestUserAttention:"), NS_INFORMATIONAL_REQUEST)


# By Tk's windowing system; tests put their own in.
URGENCY: dict[str, Callable[[tk.Misc, bool], None]] = {"x11": x11_urgency, "win32": windows_flash,
                                                       "aqua": mac_bounce}


class Urgency:
    """Asks for attention once per time in the background; clears it on return."""

    def __init__(self, root: tk.Misc) -> None:
        self.root = root
        try:
            self.system = str(root.tk.call("tk", "windowingsystem"))
        except tk.TclError:
            self.system = ""
        self.working = True          # False after a failure: not tried again
        self.asked = False

    def request(self) -> None:
        if not self.asked and self._call(True):
            self.asked = True

    def cancel(self) -> None:
        if self.asked:
            self.asked = False
            self._call(False)

    def _call(self, on: bool) -> bool:
        do = URGENCY.get(self.system)
        if do is None or not self.working:
            return False
        try:
            do(self.root, on)
            return True
        except Exception:            # no library, no function, no window: nothing, never a crash
            self.working = False
            return False


_children: list[subprocess.Popen] = []


def notification_command(title: str, body: str) -> list[str] | None:
    """The system's own program and arguments for a notification, or None where there is none."""
    body = body if len(body) <= BODY_CHARS else body[:BODY_CHARS - 1] + "\u2026"
    if sys.platform == "darwin":
        exe = shutil.which("osascript")
        return [exe, "-e", "on run argv", "-e", "display notification (item 2 of argv) with title (item 1 of argv)",
                "-e", "end run", title, body] if exe else None
    if sys.platform == "win32":
        return None
    exe = shutil.which("notify-send")
    # The body may be read as markup by the notification server: <, > and & stay text.
    return [exe, "--app-name=LAN Chat", "--category=im.received", "--", title, html.escape(body, quote=False)] \
        if exe else None


def notify(title: str, body: str) -> bool:
    """Show a desktop notification without waiting for it; False where none can be shown."""
    global _children
    _children = [p for p in _children if p.poll() is None]        # reap the ones that finished
    command = notification_command(title, body)
    if command is None:
        return False
    try:
        _children.append(subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL, close_fds=True))
        return True
    except OSError:
        return False
