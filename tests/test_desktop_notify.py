"""Which notification each system gets (chatui/desktop.py): Tk 9's ``tk sysnotify``
anywhere, desktop-notifier on Windows with Tk 8.6, notify-send / osascript as before;
every failure quiet. No display, no real toasts: the platform, Tk's version, Tk itself
and desktop-notifier are stand-ins that record what they are asked."""
from __future__ import annotations

import importlib.machinery
import subprocess
import sys
import threading
import time
import tkinter
import types

import pytest

from chatui import desktop

pytestmark = pytest.mark.timeout(30)


class StandInRoot:
    """Just enough of a Tk root: ``tk.call`` is recorded (and may fail)."""

    def __init__(self, system: str = "x11", fail: bool = False) -> None:
        self.calls: list[tuple] = []
        self.system, self.fail = system, fail
        self.tk = self

    def call(self, *args):
        self.calls.append(args)
        if args == ("tk", "windowingsystem"):
            return self.system
        if self.fail:
            raise tkinter.TclError('unknown or ambiguous subcommand "sysnotify"')
        return ""

    def sysnotified(self) -> list[tuple]:
        return [c[2:] for c in self.calls if c[:2] == ("tk", "sysnotify")]


@pytest.fixture
def started(monkeypatch):
    """notify-send and osascript "installed", their runs recorded instead of started."""
    runs: list[list[str]] = []

    class FakePopen:
        def __init__(self, command, **kw):
            assert kw.get("stdin") == subprocess.DEVNULL
            runs.append(command)

        def poll(self):
            return 0

    monkeypatch.setattr(desktop.shutil, "which", lambda exe: f"/usr/bin/{exe}")
    monkeypatch.setattr(desktop.subprocess, "Popen", FakePopen)
    monkeypatch.setattr(desktop, "_children", [])
    return runs


@pytest.fixture
def toasts(monkeypatch):
    """desktop-notifier "installed": a stand-in module whose DesktopNotifierSync records
    its app name, each toast and the thread that sent it."""
    got = types.SimpleNamespace(app_names=[], sent=[], threads=[], fail_make=None, fail_send=None,
                                gate=threading.Event(), done=threading.Event())
    got.gate.set()

    class DesktopNotifierSync:
        def __init__(self, app_name="Python", **kw):
            if got.fail_make:
                raise got.fail_make
            got.app_names.append(app_name)

        def send(self, title, message, **kw):
            got.gate.wait(10)
            got.threads.append(threading.current_thread())
            if got.fail_send:
                raise got.fail_send
            got.sent.append((title, message))
            got.done.set()
            return "id"

    module = types.ModuleType("desktop_notifier")
    module.__spec__ = importlib.machinery.ModuleSpec("desktop_notifier", None)
    module.DesktopNotifierSync = DesktopNotifierSync
    monkeypatch.setitem(sys.modules, "desktop_notifier", module)
    monkeypatch.setattr(desktop, "_toasts", None)
    monkeypatch.setattr(desktop.sys, "platform", "win32")
    monkeypatch.setattr(tkinter, "TkVersion", 8.6)
    return got


@pytest.fixture
def no_thread_errors(monkeypatch):
    """What would reach stderr as a traceback from a thread is recorded here instead."""
    errors: list = []
    monkeypatch.setattr(threading, "excepthook", errors.append)
    yield errors
    assert errors == []


def wait_for(condition, seconds: float = 5.0) -> None:
    end = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.01)


# --- Tk 9: tk sysnotify, on every system ---------------------------------------------------------

@pytest.mark.parametrize("platform, system", [("linux", "x11"), ("win32", "win32"), ("darwin", "aqua")])
def test_tk9_uses_tk_sysnotify_first_on_every_system(monkeypatch, started, toasts, platform, system):
    monkeypatch.setattr(desktop.sys, "platform", platform)
    monkeypatch.setattr(tkinter, "TkVersion", 9.0)
    root = StandInRoot(system)
    assert desktop.notify("bob (private)", "see you at 7", root) is True
    assert root.sysnotified() == [("bob (private)", "see you at 7")]
    assert started == [] and toasts.app_names == []           # nothing else asked as well


def test_tk9_sysnotify_body_is_shortened_and_plain_text_for_libnotify(monkeypatch, started):
    monkeypatch.setattr(tkinter, "TkVersion", 9.0)
    x11, win = StandInRoot("x11"), StandInRoot("win32")
    desktop.notify("t", "<b>a & b</b>" + "x" * 500, x11)
    desktop.notify("t", "<b>a & b</b>", win)
    (title, body), = x11.sysnotified()
    assert body.startswith("&lt;b&gt;a &amp; b&lt;/b&gt;") and len(body) < desktop.BODY_CHARS + 30
    assert body.endswith("\u2026")
    assert win.sysnotified() == [("t", "<b>a & b</b>")]      # Windows and macOS show text as it is


def test_tk9_without_a_root_uses_tkinters_first_one(monkeypatch, started):
    monkeypatch.setattr(tkinter, "TkVersion", 9.0)
    root = StandInRoot()
    monkeypatch.setattr(tkinter, "_default_root", root, raising=False)
    assert desktop.notify("t", "b") is True and root.sysnotified() == [("t", "b")]


def test_tk9_sysnotify_failing_falls_back_to_the_systems_own_way(monkeypatch, started, toasts, no_thread_errors):
    monkeypatch.setattr(tkinter, "TkVersion", 9.0)
    monkeypatch.setattr(desktop.sys, "platform", "linux")
    assert desktop.notify("t", "b", StandInRoot("x11", fail=True)) is True
    assert started and started[0][0] == "/usr/bin/notify-send" and started[0][-2:] == ["t", "b"]
    monkeypatch.setattr(desktop.sys, "platform", "win32")
    assert desktop.notify("t2", "b2", StandInRoot("win32", fail=True)) is True
    assert toasts.done.wait(5) and toasts.sent == [("t2", "b2")]


def test_tk86_never_calls_sysnotify(monkeypatch, started):
    monkeypatch.setattr(tkinter, "TkVersion", 8.6)
    monkeypatch.setattr(desktop.sys, "platform", "linux")
    root = StandInRoot()
    assert desktop.notify("t", "b", root) is True
    assert root.calls == [] and len(started) == 1            # notify-send, as before


def test_linux_and_macos_keep_their_programs(monkeypatch, started, toasts):
    for platform, exe in (("linux", "/usr/bin/notify-send"), ("darwin", "/usr/bin/osascript")):
        monkeypatch.setattr(desktop.sys, "platform", platform)
        assert desktop.notify("title", "body", StandInRoot()) is True
        assert started[-1][0] == exe and started[-1][-2:] == ["title", "body"]
    assert toasts.app_names == []                             # desktop-notifier only on Windows


# --- Windows with Tk 8.6: desktop-notifier on its own thread -------------------------------------

def test_windows_sends_a_toast_as_lan_chat_off_the_main_thread(toasts, started, no_thread_errors):
    assert desktop.notify("bob (private)", "x" * 500) is True
    assert toasts.done.wait(5)
    assert toasts.app_names == ["LAN Chat"]
    (title, body), = toasts.sent
    assert title == "bob (private)" and len(body) == desktop.BODY_CHARS and body.endswith("\u2026")
    assert toasts.threads[0] is not threading.main_thread()
    assert started == []                                      # no program started on Windows
    toasts.done.clear()
    assert desktop.notify("noa mentioned you", "alice: hi") is True
    assert toasts.done.wait(5) and toasts.sent[-1] == ("noa mentioned you", "alice: hi")
    assert toasts.app_names == ["LAN Chat"]                   # one notifier for the program's life


def test_a_slow_toast_never_holds_the_window_up(toasts, no_thread_errors):
    toasts.gate.clear()                                       # the toast call hangs...
    t0 = time.monotonic()
    assert desktop.notify("t", "b") is True
    assert desktop.notify("t", "c") is True
    assert time.monotonic() - t0 < 0.5                        # ...notify does not
    toasts.gate.set()
    wait_for(lambda: len(toasts.sent) == 2)
    assert toasts.sent == [("t", "b"), ("t", "c")]


def test_windows_without_desktop_notifier_shows_nothing_and_says_so(toasts, monkeypatch, no_thread_errors):
    monkeypatch.delitem(sys.modules, "desktop_notifier")
    monkeypatch.setattr(desktop.importlib.util, "find_spec", lambda name: None)
    assert desktop.notify("t", "b") is False
    assert desktop._toasts is None                            # no thread started for nothing


@pytest.mark.parametrize("failure", ["import", "no AppUserModelID", "send"])
def test_windows_toast_failures_are_quiet_and_not_tried_again(toasts, monkeypatch, no_thread_errors, failure):
    if failure == "import":                                   # found, but its import fails (winrt missing)
        monkeypatch.setitem(sys.modules, "desktop_notifier", None)
        monkeypatch.setattr(desktop.Toasts, "available", staticmethod(lambda: True))
    elif failure == "no AppUserModelID":
        toasts.fail_make = RuntimeError("Could not get ToastNotifier for app_id: LAN Chat")
    else:
        toasts.fail_send = OSError("[WinError -2143420155] The notification platform is unavailable")
    assert desktop.notify("t", "b") in (True, False)         # handed over, or refused at once
    wait_for(lambda: desktop._toasts is not None and desktop._toasts.broken)
    assert desktop.notify("t", "again") is False
    assert toasts.sent == []


def test_windows_toast_call_failing_at_once_is_false(monkeypatch, toasts):
    def broken(title, body):
        raise RuntimeError("queue gone")
    monkeypatch.setattr(desktop, "windows_toast", broken)
    assert desktop.notify("t", "b") is False


# --- where it is installed and built ---------------------------------------------------------------

@pytest.mark.parametrize("platform", ["win32", "linux", "darwin"])
def test_desktop_notifier_is_a_windows_only_dependency(monkeypatch, tmp_path, platform):
    from pathlib import Path
    pytest.importorskip("PyInstaller")
    root = Path(__file__).resolve().parent.parent
    wanted = [line for line in (root / "requirements.txt").read_text().splitlines()
              if line.startswith("desktop-notifier")]
    assert len(wanted) == 1 and wanted[0].split("#")[0].split(";")[1].strip() == 'sys_platform == "win32"'
    hidden: list = []

    def analysis(scripts, **kwargs):
        hidden.extend(kwargs["hiddenimports"])
        return types.SimpleNamespace(scripts=scripts, pure=[], binaries=[], datas=[])
    monkeypatch.setattr(sys, "argv", ["build.spec"])
    monkeypatch.setattr(sys, "platform", platform)
    spec = {"SPECPATH": str(root), "workpath": str(tmp_path), "Analysis": analysis, "PYZ": lambda pure: "pyz",
            "EXE": lambda *a, **k: types.SimpleNamespace(**k), "COLLECT": lambda *a, **k: None,
            "BUNDLE": lambda *a, **k: None}
    exec(compile((root / "build.spec").read_text(encoding="utf-8"), "build.spec", "exec"), spec)
    assert ("desktop_notifier" in hidden) == (platform == "win32")    # Linux and macOS builds never look for it
