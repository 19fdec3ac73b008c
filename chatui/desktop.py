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

Notifications, the first of these that the system has:

- **Tk 9** (any system): ``tk sysnotify title message``, Tk's own call (the
  Windows and macOS APIs, libnotify or a small window of Tk's on X11);
- **Linux and the BSDs:** ``notify-send`` (libnotify) when it is installed,
  started without waiting for it;
- **macOS:** ``osascript``'s ``display notification``, the same way;
- **Windows with Tk 8.6:** ``desktop-notifier`` (a toast through the Windows
  Runtime), imported only then, on a thread of its own so that a slow call
  never holds the window up. Toasts want an AppUserModelID; desktop-notifier
  registers one under the current user for "LAN Chat". Where the package is
  missing or anything fails, there is simply no notification, never an error.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import html
import importlib.util
import logging
import queue
import shutil
import subprocess
import sys
import threading
import tkinter as tk
from typing import Any, Callable

URGENCY_HINT = 1 << 8          # XUrgencyHint, in XWMHints.flags
BODY_CHARS = 200               # a notification shows the start of a long line
APP_NAME = "LAN Chat"          # how the system lists the program's notifications


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


def shortened(body: str) -> str:
    return body if len(body) <= BODY_CHARS else body[:BODY_CHARS - 1] + "\u2026"


def notification_command(title: str, body: str) -> list[str] | None:
    """The system's own program and arguments for a notification, or None where there is none."""
    body = shortened(body)
    if sys.platform == "darwin":
        exe = shutil.which("osascript")
        return [exe, "-e", "on run argv", "-e", "display notification (item 2 of argv) with title (item 1 of argv)",
                "-e", "end run", title, body] if exe else None
    if sys.platform == "win32":
        return None
    exe = shutil.which("notify-send")
    # The body may be read as markup by the notification server: <, > and & stay text.
    return [exe, f"--app-name={APP_NAME}", "--category=im.received", "--", title, html.escape(body, quote=False)] \
        if exe else None


def tk_sysnotify(root: tk.Misc | None, title: str, body: str) -> bool:
    """Tk 9's own notification (``tk sysnotify title message``); False on Tk 8.6 or any failure."""
    if root is None or tk.TkVersion < 9:
        return False
    body = shortened(body)
    try:
        if str(root.tk.call("tk", "windowingsystem")) == "x11":
            body = html.escape(body, quote=False)          # libnotify reads the body as markup
        root.tk.call("tk", "sysnotify", title, body)
        return True
    except Exception:            # no such command after all, no notification service: nothing
        return False


class Toasts:
    """Windows toasts through desktop-notifier, sent by a thread of its own: importing
    the Windows Runtime bridge and registering the AppUserModelID can take a while,
    and a toast must never hold the window up. After a failure it is not tried again."""

    def __init__(self, factory: Callable[[], Any] | None = None) -> None:
        self.factory = factory or self._desktop_notifier
        self.broken = False
        self.queue: queue.SimpleQueue[tuple[str, str]] = queue.SimpleQueue()
        self.thread: threading.Thread | None = None

    @staticmethod
    def available() -> bool:
        """Whether desktop-notifier is installed (found without importing it)."""
        try:
            return importlib.util.find_spec("desktop_notifier") is not None
        except (ImportError, ValueError):
            return False

    @staticmethod
    def _desktop_notifier() -> Any:
        logging.getLogger("desktop_notifier").addHandler(logging.NullHandler())   # its warnings: not on stderr
        from desktop_notifier import DesktopNotifierSync
        return DesktopNotifierSync(app_name=APP_NAME)

    def send(self, title: str, body: str) -> bool:
        """Hand a toast to the thread; False where none will come (not installed, failed before)."""
        if self.broken:
            return False
        if self.thread is None:
            self.thread = threading.Thread(target=self._run, name="toasts", daemon=True)
            self.thread.start()
        self.queue.put((title, shortened(body)))
        return True

    def _run(self) -> None:
        try:
            notifier = self.factory()
            while True:
                title, body = self.queue.get()
                notifier.send(title=title, message=body)
        except Exception:            # missing package or runtime, no AppUserModelID, a refused toast
            self.broken = True


_toasts: Toasts | None = None


def windows_toast(title: str, body: str) -> bool:
    global _toasts
    if _toasts is None:
        if not Toasts.available():
            return False
        _toasts = Toasts()
    return _toasts.send(title, body)


def notify(title: str, body: str, root: tk.Misc | None = None) -> bool:
    """Show a desktop notification without waiting for it; False where none can be shown.
    ``root``: the window's interpreter, for Tk 9's own call (Tkinter's first root if None)."""
    global _children
    _children = [p for p in _children if p.poll() is None]        # reap the ones that finished
    if tk_sysnotify(root if root is not None else getattr(tk, "_default_root", None), title, body):
        return True
    if sys.platform == "win32":
        try:
            return windows_toast(title, body)
        except Exception:
            return False
    command = notification_command(title, body)
    if command is None:
        return False
    try:
        _children.append(subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL, close_fds=True))
        return True
    except OSError:
        return False
