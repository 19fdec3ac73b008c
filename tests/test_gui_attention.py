"""Attention in the background, honest marks and a history pane that stays put (issue 15),
for real under Xvfb against a server on loopback; the resizes under a window manager (openbox)."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time

import pytest

from tests.conftest import pump
from tests.typing_ import typed
from tests.xvfb import Xvfb

pytestmark = [pytest.mark.gui, pytest.mark.timeout(60)]


def open_chat(root, server, name="alice"):
    from chatui.client_window import ClientApp
    app = ClientApp(root, root._palette, f"127.0.0.1:{server.address[1]}", name)
    pump(root, lambda: app.view is not None and name in app.view.members.names(), what="connected")
    return app


def history(app) -> str:
    return app.view.history.content()


def line_of(app, words: str) -> str:
    """The text index of the start of the history line that holds ``words``."""
    t = app.view.history.text
    where = t.search(words, "1.0", "end")
    assert where, f"{words!r} is not in the history"
    return t.index(f"{where} linestart")


def tagged(app, tag: str, index: str) -> bool:
    return tag in app.view.history.text.tag_names(index)


@pytest.fixture
def calls(monkeypatch):
    """The platform's attention call, replaced by a recorder for every windowing system."""
    from chatui import desktop
    got: list[bool] = []
    for system in ("x11", "win32", "aqua"):
        monkeypatch.setitem(desktop.URGENCY, system, lambda root, on: got.append(on))
    return got


@pytest.fixture
def notes(monkeypatch):
    """notify-send "installed", its runs recorded instead of started."""
    from chatui import desktop
    started: list[list[str]] = []

    class FakePopen:
        def __init__(self, command, **kw):
            assert kw.get("stdin") == subprocess.DEVNULL and kw.get("stdout") == subprocess.DEVNULL
            started.append(command)

        def poll(self):
            return 0

    monkeypatch.setattr(desktop.sys, "platform", "linux")
    monkeypatch.setattr(desktop.shutil, "which", lambda exe: "/usr/bin/" + exe if exe == "notify-send" else None)
    monkeypatch.setattr(desktop.subprocess, "Popen", FakePopen)
    return started


# --- attention in the background ----------------------------------------------------------------

def test_a_line_in_the_background_asks_for_attention_once_and_returning_clears_it(
        tk_root, server, peer_factory, monkeypatch, calls):
    app = open_chat(tk_root, server)
    bob = peer_factory("bob")
    pump(tk_root, lambda: "bob joined" in history(app), what="join")
    typed(bob, "while you were away")
    pump(tk_root, lambda: "while you were away" in history(app), what="line")
    assert calls == []                                   # in front: nothing asked
    monkeypatch.setattr(app, "_has_focus", lambda: False)
    typed(bob, "one")
    typed(bob, "two")
    pump(tk_root, lambda: app.unread == 2, what="unread lines")
    assert calls == [True]                               # once, not once a line
    app._focused()
    assert calls == [True, False] and tk_root.title() == "alice — LAN Chat"


def test_attention_never_raises_where_the_system_has_none(tk_root, monkeypatch):
    from chatui import desktop

    def broken(root, on):
        raise OSError("libX11.so.6: cannot open shared object file")
    monkeypatch.setitem(desktop.URGENCY, "x11", broken)
    u = desktop.Urgency(tk_root)
    u.request()
    u.request()
    u.cancel()
    assert not u.working and not u.asked
    u = desktop.Urgency(tk_root)
    u.system = "wayland-someday"                        # a windowing system with no call: nothing
    u.request()
    assert not u.asked
    monkeypatch.setattr(desktop.shutil, "which", lambda exe: None)
    monkeypatch.setattr(desktop.sys, "platform", "linux")
    assert desktop.notify("bob (private)", "hi") is False     # no notify-send: no notification, no error
    monkeypatch.setattr(desktop.sys, "platform", "win32")
    assert desktop.notification_command("t", "b") is None


def test_the_x11_urgency_hint_is_really_set_and_cleared(tk_root):
    from chatui import desktop
    tk_root.update()
    lib = desktop._libx11()
    window = int(tk_root.wm_frame(), 16)

    def urgent() -> bool:
        dpy = lib.XOpenDisplay(tk_root.winfo_screen().encode())
        try:
            hints = lib.XGetWMHints(dpy, window)
            flags = hints.contents.flags if hints else 0
            if hints:
                lib.XFree(hints)
            return bool(flags & desktop.URGENCY_HINT)
        finally:
            lib.XCloseDisplay(dpy)
    u = desktop.Urgency(tk_root)
    assert u.system == "x11" and not urgent()
    u.request()
    assert u.asked and urgent()
    u.cancel()
    assert not urgent() and u.working


def test_private_lines_and_mentions_are_highlighted_and_notified(tk_root, server, peer_factory, monkeypatch,
                                                                 calls, notes):
    app = open_chat(tk_root, server)
    bob = peer_factory("bob")
    pump(tk_root, lambda: "bob joined" in history(app), what="join")
    typed(bob, "hey ALICE, look")
    typed(bob, "malice is not a name")
    pump(tk_root, lambda: "malice is not" in history(app), what="lines")
    assert tagged(app, "mention", f"{line_of(app, 'hey ALICE')} + 14c")
    assert not tagged(app, "mention", f"{line_of(app, 'malice')} + 14c")
    assert notes == []                                   # in front: highlighted, not notified
    monkeypatch.setattr(app, "_has_focus", lambda: False)
    bells: list[int] = []
    monkeypatch.setattr(tk_root, "bell", lambda: bells.append(1))
    typed(bob, "/msg alice <b>just</b> for you")
    pump(tk_root, lambda: notes, what="a notification")
    assert notes[-1] == ["/usr/bin/notify-send", "--app-name=LAN Chat", "--category=im.received", "--",
                         "bob (private)", "&lt;b&gt;just&lt;/b&gt; for you"]
    assert tagged(app, "privbody", f"{line_of(app, 'just</b>')} + 25c")
    typed(bob, "alice: are you there?")
    pump(tk_root, lambda: len(notes) == 2, what="a second notification")
    assert notes[-1][-2:] == ["bob mentioned you", "alice: are you there?"]
    typed(bob, "an ordinary line")
    pump(tk_root, lambda: "an ordinary line" in history(app), what="line")
    tk_root.update()
    assert len(notes) == 2 and bells == []               # ordinary lines only count; the sound is off
    from chatui import settings
    settings.save(notify=False, sound=True)
    typed(bob, "/msg alice again")
    pump(tk_root, lambda: bells, what="the beep")
    assert len(notes) == 2                               # notifications turned off


def test_the_unread_marker_goes_where_you_left_off(tk_root, server, peer_factory, monkeypatch, calls):
    app = open_chat(tk_root, server)
    for i in range(60):
        server.say(f"fill {i}")
    bob = peer_factory("bob")
    typed(bob, "read this")
    pump(tk_root, lambda: "read this" in history(app), what="line")
    app._left()
    monkeypatch.setattr(app, "_has_focus", lambda: False)
    typed(bob, "missed one")
    typed(bob, "missed two")
    pump(tk_root, lambda: app.unread == 2, what="unread")
    assert "New since you left" not in history(app)
    tk_root.update()
    assert app.view.history.at_bottom()
    app._focused()
    tk_root.update()
    assert app.view.history.at_bottom()                          # the marker did not unpin the view
    rows = history(app).splitlines()
    at = rows.index("New since you left")
    assert rows[at - 1].endswith("bob: read this") and rows[at + 1].endswith("bob: missed one")
    assert tagged(app, "unreadline", line_of(app, "New since you left"))
    app._left()
    typed(bob, "missed three")
    pump(tk_root, lambda: app.unread == 1, what="unread again")
    app._focused()
    rows = history(app).splitlines()
    assert rows.count("New since you left") == 1                 # moved, not added
    assert rows[rows.index("New since you left") + 1].endswith("bob: missed three")


# --- honest marks ---------------------------------------------------------------------------------

def test_a_private_line_to_nobody_gets_a_cross_and_why(tk_root, server):
    app = open_chat(tk_root, server)
    for i in range(60):
        server.say(f"fill {i}")
    pump(tk_root, lambda: "fill 59" in history(app), what="fill")
    app.send("/msg ninguem oi")
    pump(tk_root, lambda: "\u2717" in history(app), what="the cross")
    text = history(app)
    assert "alice: (to ninguem) oi \u2717 not sent: no such member" in text
    assert text.count("No member is called ninguem.") == 1 and "\u2026" not in text
    app.send("/msg ninguem oi de novo")                   # also when the error comes in a later batch
    pump(tk_root, lambda: history(app).count("\u2717") == 2, what="the second cross")
    assert app.pending_ids() == []
    # The answer in a batch of its own: the … in the pane becomes ✗ (and the view stays at the bottom).
    from udpcore import NoSuchMember, events as ev
    for n in range(8):                                   # one of them wraps when … becomes ✗ and why
        app.handle([ev.LinePending(77 + n, "palavra " * (4 + n), private_to="Ninguem")])
        tk_root.update()
        assert app.view.history.at_bottom() and app.pending_ids() == [77 + n]
        app.handle([ev.CommandError(NoSuchMember("ninguem"))])
        tk_root.update()
        assert app.pending_ids() == [] and history(app).count("\u2717") == 3 + n
        assert app.view.history.at_bottom()


def test_closing_with_lines_not_delivered_asks(tk_root, server, monkeypatch):
    from chatui import attention
    from chatui.history import Entry
    app = open_chat(tk_root, server)
    asked: list[str] = []
    answer = [False]

    def askyesno(title, question, **kw):
        asked.append(question)
        return answer[0]
    monkeypatch.setattr(attention.messagebox, "askyesno", askyesno)
    close = tk_root.protocol("WM_DELETE_WINDOW")         # what the title bar's × runs
    assert app.may_leave() and asked == []               # nothing waiting: it would leave without a word
    app._show(Entry("line", "first", "alice", msg_id=900001))
    app._show(Entry("line", "second", "alice", msg_id=900002))
    tk_root.tk.call(close)
    assert asked == ["2 lines are not delivered yet. Leave anyway?"] and not app.leaving   # No: it stays
    answer[0] = True
    app.view.entry.exit_button.invoke()
    assert len(asked) == 2 and app.leaving               # Yes: it leaves
    pump(tk_root, lambda: not _exists(tk_root), what="closed")


def _exists(root) -> bool:
    try:
        return bool(root.winfo_exists())
    except Exception:
        return False


# --- the history pane ---------------------------------------------------------------------------

def test_sending_brings_you_to_the_bottom(tk_root, server):
    app = open_chat(tk_root, server)
    for i in range(150):
        server.say(f"fill {i}")
    pump(tk_root, lambda: "fill 149" in history(app), what="fill")
    text = app.view.history.text
    text.yview_moveto(0.0)
    tk_root.update()
    assert not app.view.history.at_bottom()
    app.view.entry.var.set("my own line")
    app.view.entry.send()
    pump(tk_root, lambda: "my own line" in history(app), what="own line")
    pump(tk_root, lambda: app.view.history.at_bottom(), what="at the bottom")
    assert text.dlineinfo(line_of(app, "my own line")) is not None


def test_the_new_lines_button_counts_and_never_covers_a_line(tk_root, server):
    app = open_chat(tk_root, server)
    for i in range(150):
        server.say(f"fill {i}")
    pump(tk_root, lambda: "fill 149" in history(app), what="fill")
    pane = app.view.history
    pane.text.yview_moveto(0.3)
    tk_root.update()
    server.say("below one")
    server.say("below two")
    pump(tk_root, lambda: pane.more.winfo_ismapped() and pane.new_count == 2, what="the button")
    tk_root.update()
    assert pane.more.cget("text") == "\u2193 2 new"
    text_bottom = pane.text.winfo_rooty() + pane.text.winfo_height()
    assert pane.more.winfo_rooty() >= text_bottom        # under the text, not over it
    last = pane.text.index("@0,%d linestart" % (pane.text.winfo_height() - 1))
    x, y, w, h, _ = pane.text.dlineinfo(last)
    assert pane.text.winfo_rooty() + y + h <= pane.more.winfo_rooty()
    pane.more.invoke()
    tk_root.update()
    assert pane.at_bottom() and not pane.more.winfo_ismapped() and pane.new_count == 0


# --- under a window manager -----------------------------------------------------------------------

_wm: list[str] = []


def _wm_managing(display: str) -> bool:
    """Whether a window manager has announced itself on the display (EWMH's check window)."""
    out = subprocess.run(["xprop", "-root", "-display", display, "_NET_SUPPORTING_WM_CHECK"],
                         capture_output=True, text=True).stdout
    return "window id" in out


def _wm_started(display: str, tries: int = 3, wait: float = 20.0) -> None:
    """Start openbox on the display and wait until it manages it.

    A CI run once saw openbox not announce itself within 10 s, with nothing to
    say why: openbox's own words now go to a file, an openbox that exits is
    started again, and a failure quotes what it said."""
    from tests.xvfb import _die_with_parent
    said = ""
    for _ in range(tries):
        with tempfile.TemporaryFile() as log:
            wm = subprocess.Popen(["openbox", "--sm-disable"], env={**os.environ, "DISPLAY": display},
                                  stdin=subprocess.DEVNULL, stdout=log, stderr=log, preexec_fn=_die_with_parent)
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline and wm.poll() is None:
                if _wm_managing(display):
                    return
                time.sleep(0.05)
            if wm.poll() is None:
                wm.kill()
            wm.wait()
            log.seek(0)
            said = f"exit {wm.returncode}: " + log.read().decode(errors="replace").strip()[-500:]
    pytest.fail(f"openbox did not start on {display} ({said})")


@pytest.fixture
def wm_display():
    """A display of its own with openbox managing it (the shared one has no window manager).

    Started once per test run and never stopped by the tests: Tk keeps its
    connection to a display it has used until the process ends, and Xlib ends
    the process at the next event it reads from a display that went away. Both
    programs die with this process instead (``PR_SET_PDEATHSIG``, tests/xvfb.py)."""
    if shutil.which("openbox") is None or shutil.which("xprop") is None:
        pytest.skip("openbox or xprop is not installed (.ci/run installs both)")
    if not _wm:
        x = Xvfb(set_display=False)
        _wm_started(x.display)
        _wm.append(x.display)
    return _wm[0]


@pytest.fixture
def wm_root(wm_display, config_dir):
    import tkinter as tk
    from chatui.theme import apply_theme
    before = os.environ.get("DISPLAY")
    root = tk.Tk(screenName=wm_display)
    # Tk sets the process's DISPLAY to the screen it opened (Tcl's env array is the environment):
    # programs the later tests start, and xdotool, must find the shared display there again.
    if before is None:
        os.unsetenv("DISPLAY")
    else:
        os.environ["DISPLAY"] = before
    root.geometry("760x520+40+40")
    root._palette = apply_theme(root, "light")
    errors: list[str] = []
    root.report_callback_exception = lambda *exc: errors.append(repr(exc[1]))
    yield root
    try:
        root.destroy()
    except tk.TclError:
        pass
    import gc
    gc.collect()
    assert errors == []


def settle(root, seconds: float = 0.4) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        root.update()
        time.sleep(0.01)


def last_line_shown(app) -> bool:
    t = app.view.history.text
    info = t.dlineinfo("end-2l linestart")
    return info is not None and info[1] + info[3] <= t.winfo_height()


def test_pinned_to_the_bottom_across_resizes_under_openbox(wm_root, server):
    app = open_chat(wm_root, server)
    for i in range(200):
        server.say(f"fill {i}")
    pump(wm_root, lambda: "fill 199" in history(app), what="fill")
    settle(wm_root)
    pane = app.view.history
    assert pane.at_bottom() and last_line_shown(app)
    wm_root.geometry("520x330")                               # shrink
    pump(wm_root, lambda: wm_root.winfo_height() < 400, what="shrunk")
    settle(wm_root)
    assert pane.at_bottom() and last_line_shown(app)
    server.say("after the shrink")
    pump(wm_root, lambda: "after the shrink" in history(app), what="line")
    settle(wm_root)
    assert pane.at_bottom() and last_line_shown(app)
    wm_root.wm_attributes("-zoomed", True)                    # maximize, then un-maximize
    pump(wm_root, lambda: wm_root.winfo_height() > 600, what="maximized")
    settle(wm_root)
    assert pane.at_bottom()
    wm_root.wm_attributes("-zoomed", False)
    pump(wm_root, lambda: wm_root.winfo_height() < 400, what="un-maximized")
    settle(wm_root)
    assert pane.at_bottom() and last_line_shown(app)
    server.say("after un-maximizing")
    pump(wm_root, lambda: "after un-maximizing" in history(app), what="line")
    settle(wm_root)
    assert pane.at_bottom() and last_line_shown(app) and not pane.more.winfo_ismapped()


class Stand:
    """A transport that only says what the test puts in its queue."""

    def __init__(self, server: str, name: str) -> None:
        import queue
        self.events: queue.Queue = queue.Queue()
        self.server_label, self.name = server, name

    def __getattr__(self, method):
        return lambda *a, **kw: None


def test_lines_still_waiting_when_the_room_is_gone_for_good_get_a_cross(tk_root):
    from chatui.client_window import ClientApp
    from udpcore import events as ev
    made: list[Stand] = []
    app = ClientApp(tk_root, tk_root._palette, "192.0.2.1:5002", "alice",
                    start=lambda s, n: made.append(Stand(s, n)) or made[-1])
    put = made[0].events.put
    put(ev.Connected("alice", "192.0.2.1:5002", ("alice", "bob")))
    put(ev.LinePending(1, "first"))
    pump(tk_root, lambda: app.view is not None and "first …" in history(app), what="pending")
    put(ev.LinePending(2, "second"))
    put(ev.Removed("enough"))
    pump(tk_root, lambda: "second ✗" in history(app), what="the crosses")
    assert "alice: first ✗ not delivered" in history(app) and "alice: second ✗ not delivered" in history(app)
    assert app.pending_ids() == [] and app.may_leave()


def test_the_notification_command_on_macos(monkeypatch):
    from chatui import desktop
    monkeypatch.setattr(desktop.sys, "platform", "darwin")
    monkeypatch.setattr(desktop.shutil, "which", lambda exe: "/usr/bin/" + exe)
    command = desktop.notification_command('bob "the" (private)', "x" * 500)
    assert command[:2] == ["/usr/bin/osascript", "-e"]
    assert command[-2] == 'bob "the" (private)'                 # an argument, never spliced into the script
    assert len(command[-1]) == desktop.BODY_CHARS and command[-1].endswith("…")
