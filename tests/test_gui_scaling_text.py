"""The windows at 96 and 192 dpi, the zoom, and text: multi-line messages, long lines.

Each test starts its own Xvfb with the DPI it wants (``-dpi``), and the window as
the program makes it (app.make_root: the theme, then scaling.setup), so what is
checked is what a person with a 4K laptop screen gets.
"""
from __future__ import annotations

import json
import tkinter as tk
from tkinter import font as tkfont

import pytest

from udpcore import events as ev
from tests.conftest import pump, wait_for
from tests.xvfb import Xvfb

pytestmark = [pytest.mark.gui, pytest.mark.timeout(90)]

SCREENS = {96: "1920x1080x24", 192: "3840x2160x24"}       # one laptop panel, at 100 % and at 200 %


@pytest.fixture(scope="session")
def screens():
    """An X display at each DPI, for the whole session: Tk keeps its connection to a
    display to the end of the process, and Xlib ends the process when one goes away."""
    made = {dpi: Xvfb(size=size, dpi=dpi, set_display=False) for dpi, size in SCREENS.items()}
    # A desktop scaled to 200 % by its settings (Xft.dpi), on an X server that says 96 dpi.
    made["xft"] = Xvfb(size=SCREENS[192], dpi=96, set_display=False)
    set_resources(made["xft"].display, "Xft.antialias:\t1\nXft.dpi:\t192\n")
    yield {dpi: x.display for dpi, x in made.items()}
    for x in made.values():
        x.close()


def set_resources(display: str, text: str) -> None:
    """Put ``text`` in the X server's resource database, as a desktop's settings daemon does."""
    import ctypes
    import ctypes.util
    x11 = ctypes.CDLL(ctypes.util.find_library("X11"))
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XDefaultRootWindow.restype = ctypes.c_ulong
    x11.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
    x11.XInternAtom.restype = ctypes.c_ulong
    x11.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    x11.XChangeProperty.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong,
                                    ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    x11.XSync.argtypes = [ctypes.c_void_p, ctypes.c_int]
    d = x11.XOpenDisplay(display.encode())
    data = text.encode()
    x11.XChangeProperty(d, x11.XDefaultRootWindow(d), x11.XInternAtom(d, b"RESOURCE_MANAGER", 0),
                        31, 8, 0, data, len(data))                  # XA_STRING, 8 bits, PropModeReplace
    x11.XSync(d, 0)
    # Left open, as a settings daemon stays: an X server resets (properties gone) when its last client goes.


@pytest.fixture(params=[96, 192], ids=["96dpi", "192dpi"])
def dpi(request, screens, monkeypatch):
    monkeypatch.setenv("DISPLAY", screens[request.param])
    return request.param


def client_window(config_dir, port: int | None, name: str = "alice"):
    """The client window as gui_client.py makes it, joined to ``port``'s room."""
    from chatui.app import make_root
    from chatui.client_window import ClientApp
    from chatui.scaling import scaler
    root, palette = make_root("ChatClient", "light")
    errors: list[str] = []
    root.report_callback_exception = lambda *exc: errors.append(repr(exc[1]))
    root._test_errors = errors
    scaler(root).fit_window(root, 760, 520, 480, 340)
    app = ClientApp(root, palette, f"127.0.0.1:{port}", name, find_rooms=None)
    pump(root, lambda: app.view is not None and name in app.view.members.names(), what="connected")
    pump(root, lambda: root.winfo_width() > 1 and root.winfo_ismapped(), what="mapped")
    settle(root)
    return root, app


def settle(root, rounds: int = 20) -> None:
    for _ in range(rounds):
        root.update()


def close(root) -> None:
    errors = root._test_errors
    try:
        root.destroy()
    except tk.TclError:
        pass
    import gc
    gc.collect()
    assert errors == []


def inside(widget, top) -> bool:
    """``widget`` is mapped and wholly inside the window ``top`` (not clipped by its edge)."""
    if not widget.winfo_ismapped():
        return False
    x, y = widget.winfo_rootx() - top.winfo_rootx(), widget.winfo_rooty() - top.winfo_rooty()
    return (x >= 0 and y >= 0 and x + widget.winfo_width() <= top.winfo_width()
            and y + widget.winfo_height() <= top.winfo_height())


def whole(widget) -> bool:
    """Given at least the room it asks for: its text is not cut off."""
    return widget.winfo_height() >= widget.winfo_reqheight() and widget.winfo_width() >= 8


def everything_visible(root, app) -> list[str]:
    view = app.view
    parts = {"status line": view.status, "entry": view.entry.entry, "Send": view.entry.send_button,
             "Exit": view.entry.exit_button, "Search": view.search_button, "Save": view.save_button,
             "members": view.members.title}
    return [name for name, w in parts.items() if not (inside(w, root) and whole(w))]


# --- scaling ------------------------------------------------------------------------------


def test_the_window_and_every_widget_follow_the_screens_dpi(dpi, config_dir, server):
    root, app = client_window(config_dir, server.address[1])
    try:
        from chatui.scaling import scaler
        factor = dpi / 96
        assert abs(float(root.winfo_fpixels("1i")) - dpi) < 1
        assert abs(float(root.tk.call("tk", "scaling")) - dpi / 72) < 0.02
        assert scaler(root).factor == pytest.approx(factor, rel=0.01)
        # The theme's fonts are in pixels: they follow the DPI too, not only the history's.
        body = tkfont.nametofont("SunValleyBodyFont", root=root)
        assert body.metrics("linespace") >= 15 * factor
        assert tkfont.nametofont("ChatHistory", root=root).metrics("linespace") >= 15 * factor
        # The window is the size of the design times the scale (kept inside the screen).
        assert root.winfo_width() >= 740 * factor and root.winfo_height() >= 500 * factor
        assert root.winfo_width() <= root.winfo_screenwidth()
        # The buttons, the entry and the status line grow with their text, and are all in the window.
        assert app.view.entry.send_button.winfo_height() >= 22 * factor
        assert app.view.status.winfo_height() >= 15 * factor
        assert everything_visible(root, app) == []
        app.view.status.set("Connected to 198.51.100.200:50000 as alice — a status line that says a lot")
        settle(root)
        assert everything_visible(root, app) == []
        # Shrunk to its least size, nothing is cut off either.
        root.geometry("%dx%d" % root.wm_minsize())
        settle(root)
        assert everything_visible(root, app) == []
    finally:
        close(root)


def test_a_desktop_scaled_by_its_settings_is_followed_too(screens, monkeypatch, config_dir, server):
    """GNOME, KDE and Xfce scale through Xft.dpi and leave the X server at 96 dpi."""
    monkeypatch.setenv("DISPLAY", screens["xft"])
    root, app = client_window(config_dir, server.address[1])
    try:
        from chatui.scaling import scaler
        assert scaler(root).dpi == 192 and scaler(root).factor == 2.0     # what the desktop says, not the server (96)
        assert abs(float(root.tk.call("tk", "scaling")) - 192 / 72) < 0.02
        assert tkfont.nametofont("SunValleyBodyFont", root=root).metrics("linespace") >= 30
        assert everything_visible(root, app) == []
    finally:
        close(root)


def test_the_server_window_shows_its_status_line_and_buttons_whole(dpi, config_dir):
    from chatui.app import make_root
    from chatui.scaling import scaler
    from chatui.server_window import ServerApp
    root, palette = make_root("ChatServer", "light")
    errors: list[str] = []
    root.report_callback_exception = lambda *exc: errors.append(repr(exc[1]))
    root._test_errors = errors
    scaler(root).fit_window(root, 900, 560, 560, 360)
    app = ServerApp(root, palette, "127.0.0.1", 0)
    try:
        pump(root, lambda: "Listening" in app.view.status.get(), what="listening")
        settle(root)
        assert root.winfo_height() >= 540 * dpi / 96
        assert everything_visible(root, app) == []
        assert tkfont.nametofont("SunValleyBodyFont", root=root).metrics("linespace") >= 15 * dpi / 96
        style_rows = int(str(root.tk.call("ttk::style", "lookup", "Treeview", "-rowheight")))
        assert style_rows >= tkfont.nametofont("SunValleyBodyFont", root=root).metrics("linespace")
    finally:
        app.transport.close()
        close(root)


def test_zoom_enlarges_all_text_and_the_least_size_and_is_remembered(dpi, config_dir, server):
    root, app = client_window(config_dir, server.address[1])
    try:
        fonts = ("TkDefaultFont", "SunValleyBodyFont", "ChatHistory", "ChatHistoryBold")
        before = {f: tkfont.nametofont(f, root=root).metrics("linespace") for f in fonts}
        least = root.wm_minsize()
        entry = app.view.entry.entry
        entry.focus_force()
        for _ in range(3):                              # 110 %, 125 %, 150 %
            entry.event_generate("<Control-plus>")
        settle(root)
        after = {f: tkfont.nametofont(f, root=root).metrics("linespace") for f in fonts}
        assert all(after[f] >= before[f] * 1.35 for f in fonts), (before, after)
        assert root.wm_minsize()[1] > least[1] * 1.3
        assert json.loads((config_dir / "settings.json").read_text())["zoom"] == 1.5
        assert everything_visible(root, app) == []
        entry.event_generate("<Control-minus>")
        settle(root)
        assert json.loads((config_dir / "settings.json").read_text())["zoom"] == 1.25
        size_125 = tkfont.nametofont("ChatHistory", root=root).cget("size")
    finally:
        close(root)
    # The window opened again: the same zoom.
    root, app = client_window(config_dir, server.address[1], "alice2")
    try:
        assert tkfont.nametofont("ChatHistory", root=root).cget("size") == size_125
        assert everything_visible(root, app) == []
        app.view.entry.entry.focus_force()
        app.view.entry.entry.event_generate("<Control-Key-0>")
        settle(root)
        assert tkfont.nametofont("ChatHistory", root=root).metrics("linespace") == before["ChatHistory"]
        assert json.loads((config_dir / "settings.json").read_text())["zoom"] == 1.0
    finally:
        close(root)


# --- multi-line messages --------------------------------------------------------------------


@pytest.fixture
def screen96(screens, monkeypatch):
    monkeypatch.setenv("DISPLAY", screens[96])


def test_shift_enter_starts_a_new_line_enter_sends_and_copy_gives_the_text(screen96, config_dir, server, peer_factory):
    bob = peer_factory("bob")
    root, app = client_window(config_dir, server.address[1])
    try:
        entry = app.view.entry.entry
        entry.focus_force()
        one_row = entry.winfo_height()
        entry.insert("end", "first line")
        entry.event_generate("<Shift-Return>")
        entry.insert("end", "bob: not really bob")
        settle(root)
        assert entry.get() == "first line\nbob: not really bob"
        assert app.view.entry.var.get() == entry.get()
        assert entry.winfo_height() > one_row * 1.5             # it grew to show both lines
        entry.event_generate("<Return>")
        assert entry.get() == ""
        got = wait_for(bob, lambda e: isinstance(e, ev.RoomLine) and e.sender == "alice")
        assert got.text == "first line\nbob: not really bob"
        pump(root, lambda: "✓" in app.view.history.content(), what="delivered")
        settle(root)
        assert entry.winfo_height() <= one_row + 2                # one row again
        text = app.view.history.text
        # The second line sits under the first, indented: no time, no name of its own.
        start = text.search("bob: not really", "1.0")
        assert start and "cont" in text.tag_names(start)
        assert text.dlineinfo(start)[0] > text.dlineinfo(text.search("first line", "1.0"))[0] - 200
        assert text.bbox(start)[0] >= 20                          # indented
        # Copying gives the text as sent.
        text.tag_add("sel", text.search("first line", "1.0"), f"{start} + 19 chars")
        text.event_generate("<<Copy>>")
        assert root.clipboard_get() == "first line\nbob: not really bob"
    finally:
        close(root)


def test_a_paste_keeps_its_line_breaks_and_up_moves_inside_it(screen96, config_dir, server):
    root, app = client_window(config_dir, server.address[1])
    try:
        entry = app.view.entry.entry
        entry.focus_force()
        root.clipboard_clear()
        root.clipboard_append("one\ntwo\nthree")
        entry.event_generate("<<Paste>>")
        settle(root)
        assert entry.get() == "one\ntwo\nthree"
        entry.event_generate("<Up>")                    # a line up inside the message, not the last one sent
        settle(root)
        assert entry.get() == "one\ntwo\nthree" and entry.line_index("insert").startswith("2.")
        assert entry.index("insert") == len("one\ntwo")               # as ttk.Entry counts: characters
    finally:
        close(root)


def test_a_line_too_long_is_told_in_characters_and_kept_in_the_entry(screen96, config_dir, server):
    root, app = client_window(config_dir, server.address[1])
    try:
        text = "ação " * 1800                            # 9,000 characters, 12,600 bytes
        app.view.entry.var.set(text)
        app.view.entry.send()
        settle(root)
        shown = app.view.history.content()
        assert "too long by about" in shown and "characters" in shown and "bytes" not in shown
        assert app.view.entry.entry.get() == text       # kept, to shorten
        assert app.view.entry.var.get() == text
    finally:
        close(root)


# --- right-to-left text ----------------------------------------------------------------------


HEBREW = "שלום עולם"                       # "hello world": ש is its first letter, ם its last
ARABIC = "مرحبا بكم"                        # "welcome"


def test_right_to_left_lines_show_in_visual_order_and_copy_as_written(screen96, config_dir, server, peer_factory):
    pytest.importorskip("bidi")
    bob = peer_factory("bob")
    root, app = client_window(config_dir, server.address[1])
    try:
        for line in (HEBREW, f"olá {ARABIC} 123 mundo", "first\n" + HEBREW):
            bob.say(line)
        pump(root, lambda: app.view.history.content().count("bob:") == 3, what="three lines")
        settle(root)
        text = app.view.history.text
        # Hebrew: read right to left, so its first letter is drawn right of its last one.
        first, last = text.search("ש", "1.0"), text.search("ם", "1.0")
        assert first and last and text.bbox(first)[0] > text.bbox(last)[0]
        # Arabic: joined (presentation forms), in the middle of a left-to-right line that keeps its order.
        row = text.get(text.search("olá", "1.0"), f'{text.search("olá", "1.0")} lineend')
        assert row.startswith("olá 123 ") and row.endswith(" mundo")     # the number goes with the Arabic (bidi W2)
        assert any(0xFE70 <= ord(ch) <= 0xFEFF for ch in row) and ARABIC not in row
        # Copying gives the text as written, whole lines and a line with a further line alike.
        for needle, expected in ((first, f"bob: {HEBREW}"), (text.search("olá", "1.0"), f"olá {ARABIC} 123 mundo")):
            text.tag_remove("sel", "1.0", "end")
            start = needle if expected.startswith("olá") else f"{needle} linestart + 7c"
            text.tag_add("sel", start, f"{needle} lineend")
            text.event_generate("<<Copy>>")
            assert root.clipboard_get() == expected
        text.tag_remove("sel", "1.0", "end")
        begin = text.search("first", "1.0")
        text.tag_add("sel", begin, f"{begin} + 1 lines lineend")
        text.event_generate("<<Copy>>")
        assert root.clipboard_get() == "first\n" + HEBREW
    finally:
        close(root)


def test_the_visual_order_is_only_for_showing():
    pytest.importorskip("bidi")
    from chatui import rtl
    assert rtl.visual("plain text") == "plain text"
    assert rtl.visual(HEBREW) == "םלוע םולש"
    assert rtl.visual("a\n" + HEBREW) == "a\nםלוע םולש"             # each line its own paragraph
    assert rtl.visual(HEBREW + "! (hi)") == "(hi) !םלוע םולש"          # brackets mirrored, as read
    runs = rtl.LogicalRuns(limit=2)
    for i in range(3):
        runs.add(f"v{i}", f"l{i}")
    assert runs.get("v0") is None and runs.get("v2") == "l2"


def test_tab_in_an_empty_entry_moves_on_and_types_no_tab(screen96, config_dir, server):
    root, app = client_window(config_dir, server.address[1])
    try:
        entry = app.view.entry.entry
        entry.focus_force()
        settle(root)
        entry.event_generate("<Tab>")
        settle(root)
        assert entry.get() == "" and "\t" not in entry.get()
        assert root.focus_get() is not entry
    finally:
        close(root)
