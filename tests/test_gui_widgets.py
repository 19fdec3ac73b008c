"""The shared widgets, the poller, the theme and the remembered settings, under Xvfb, no network."""
from __future__ import annotations

import builtins
import queue
import sys
import time
import tkinter as tk
from tkinter import ttk

import pytest

from tests.conftest import pump

pytestmark = [pytest.mark.gui, pytest.mark.timeout(30)]


@pytest.fixture
def pane(tk_root):
    from chatui.history import HistoryPane
    p = HistoryPane(tk_root, tk_root._palette, max_lines=50)
    p.pack(fill="both", expand=True)
    tk_root.update()
    return p


def test_history_shows_time_name_text_and_marks(pane):
    from chatui.history import Entry
    pane.append([Entry("line", "hello", "bob"), Entry("line", "waves", "bob", action=True),
                 Entry("line", "psst", "bob", private="private"), Entry("notice", "carol joined"),
                 Entry("line", "mine", "alice", msg_id=7), Entry("error", "No member is called x.")])
    lines = pane.content().splitlines()
    assert [ln[5:] for ln in lines] == ["  bob: hello", "  * bob waves", "  bob: (private) psst",
                                        "  carol joined", "  alice: mine \u2026", "  No member is called x."]
    assert all(ln[2] == ":" and ln[:2].isdigit() for ln in lines)       # HH:MM first
    t = pane.text
    assert "notice" in t.tag_names("4.8") and "private" in t.tag_names("3.15")
    assert "privbody" in t.tag_names("3.23") and "privbody" not in t.tag_names("1.14")
    assert pane.mark_delivered(7) and pane.content().splitlines()[4].endswith("alice: mine \u2713")
    assert not pane.mark_delivered(7)                                   # only once


def test_a_name_has_the_same_colour_everywhere(pane, tk_root):
    from chatui.history import Entry, HistoryPane
    from chatui.theme import name_colour
    other = HistoryPane(tk_root, tk_root._palette)
    for p in (pane, other):
        p.append([Entry("line", "hi", "bob"), Entry("line", "hi", "zoë")])
    assert pane.text.tag_cget("name:bob", "foreground") == other.text.tag_cget("name:bob", "foreground") \
        == name_colour("bob", tk_root._palette)
    assert name_colour("bob", tk_root._palette) == name_colour("BOB", tk_root._palette)
    spread = {name_colour(f"user{i}", tk_root._palette) for i in range(200)}
    assert spread == set(tk_root._palette.names)                      # every colour gets used


def test_only_the_newest_lines_are_kept_counting_wrapped_text(pane):
    from chatui.history import Entry
    pane.append([Entry("notice", "three\nline\nhelp")] + [Entry("line", f"n{i}", "bob") for i in range(60)])
    lines = pane.content().splitlines()
    assert len(lines) == 50 and pane.lines == 50
    assert lines[-1].endswith("bob: n59") and lines[0].endswith("bob: n10")


def test_urls_are_links_without_trailing_punctuation(pane, monkeypatch):
    import chatui.history as history
    from chatui.history import Entry
    opened = []
    monkeypatch.setattr(history, "_open", opened.append)
    pane.append([Entry("line", "see https://example.org/a?b=1. and www.python.org, ok 🎉", "bob")])
    t = pane.text
    ranges = t.tag_ranges("url")
    assert [t.get(a, b) for a, b in zip(ranges[::2], ranges[1::2])] == ["https://example.org/a?b=1",
                                                                         "www.python.org"]
    t.mark_set("current", f"{ranges[2]} + 3c")
    pane._click_url()
    assert opened == ["www.python.org"]
    assert "🎉" in pane.content()


def test_follows_new_lines_and_offers_a_button_when_scrolled_up(tk_root, pane):
    from chatui.history import Entry
    pane.append([Entry("line", f"fill {i}", "bob") for i in range(45)])
    tk_root.update()
    assert pane.at_bottom() and not pane.more.winfo_ismapped()
    pane.text.yview_moveto(0.0)
    tk_root.update()
    pane.append([Entry("line", "new", "bob")])
    tk_root.update()
    assert pane.text.yview()[0] == 0.0 and pane.more.winfo_ismapped()
    pane.more.invoke()
    tk_root.update()
    assert pane.at_bottom() and not pane.more.winfo_ismapped()


def test_entry_bar_enter_sends_and_up_down_recall(tk_root):
    from chatui.widgets import EntryBar
    sent, exits = [], []
    bar = EntryBar(tk_root, sent.append, lambda: exits.append(1))
    bar.pack()
    bar.entry.focus_force()                    # key events go to the focus, as for a person
    tk_root.update()
    for text in ("one", "  ", "two"):
        bar.var.set(text)
        bar.entry.event_generate("<Return>")
    assert sent == ["one", "two"] and bar.var.get() == ""      # a blank line is not sent
    bar.entry.event_generate("<Up>")
    assert bar.var.get() == "two"
    bar.entry.event_generate("<Up>")
    assert bar.var.get() == "one"
    bar.entry.event_generate("<Down>")
    bar.entry.event_generate("<Down>")
    assert bar.var.get() == ""
    bar.exit_button.invoke()
    assert exits == [1]


@pytest.mark.parametrize("mode", ["light", "dark"])
def test_the_message_box_has_a_field_a_border_and_a_focus_ring_that_can_be_seen(tk_root, mode):
    """Sun Valley draws entries from images: a style lookup gives the window's own
    background, and the box (a Text) had drawn its field and its focus ring in it."""
    from chatui.theme import apply_theme
    from chatui.chat_view import ChatView
    palette = apply_theme(tk_root, mode)
    tk_root.tk.call("configure_colors")        # sv-ttk's <<ThemeChanged>>, run by the time a window is built
    view = ChatView(tk_root, palette, on_send=lambda text: None, on_exit=lambda: None)
    view.pack(fill="both", expand=True)
    box = view.entry.entry
    tk_root.update()
    window = str(ttk.Style(tk_root).lookup(".", "background"))
    assert window == palette.bg
    field, ring, border = (str(box.cget(k)) for k in ("background", "highlightcolor", "highlightbackground"))
    assert ring == palette.accent
    assert len({field, ring, border, window}) == 4         # each tells itself from the others
    assert int(box.cget("highlightthickness")) >= 1


def test_member_list_keeps_selection_marks_you_and_colours_names(tk_root):
    from chatui.theme import name_colour
    from chatui.widgets import MemberList
    picked = []
    ml = MemberList(tk_root, tk_root._palette, on_pick=picked.append)
    ml.pack()
    ml.set_members([("alice", ()), ("bob", ())], me="alice")
    ml.tree.selection_set("bob")
    ml.set_members([("carol", ()), ("bob", ()), ("alice", ())], me="alice")
    assert ml.names() == ["carol", "bob", "alice"] and ml.selected() == "bob"
    assert list(ml.tree.item("alice", "values")) == ["alice (you)"]
    assert ml.title.cget("text") == "Members (3)"
    assert str(ml.tree.tag_configure("n:carol", "foreground")) == name_colour("carol", tk_root._palette)


def test_a_member_list_of_150_scrolls_to_its_last_name(tk_root):
    from chatui.widgets import MemberList
    ml = MemberList(tk_root, tk_root._palette)
    ml.pack(fill="both", expand=True)
    names = [f"aluno{n:03}" for n in range(150)]
    ml.set_members([(n, ()) for n in names])
    tk_root.update()
    top, bottom = ml.scrollbar.get()
    assert top == 0.0 and bottom < 0.5                   # most of the list is below: the bar says so
    ml.tree.yview_moveto(1.0)
    tk_root.update()
    assert ml.tree.bbox(names[-1])                       # the last member can be brought into sight
    assert ml.scrollbar.get()[1] == 1.0


def test_poller_drains_a_capped_batch_per_tick_and_stops(tk_root):
    from chatui.poller import QueuePoller
    q: queue.Queue[int] = queue.Queue()
    for i in range(1200):
        q.put(i)
    batches: list[list[int]] = []
    poller = QueuePoller(tk_root, q, batches.append, cap=500, interval=20)
    pump(tk_root, lambda: sum(map(len, batches)) == 1200, what="drained")
    assert [len(b) for b in batches] == [500, 500, 200]
    assert [x for b in batches for x in b] == list(range(1200))
    assert poller.running
    poller.stop()
    assert not poller.running
    q.put(1200)
    end = time.monotonic() + 0.2               # several poll intervals
    while time.monotonic() < end:
        tk_root.update()
    assert q.qsize() == 1                      # nothing polls after stop()


def test_poller_error_is_reported_and_polling_goes_on(tk_root):
    from chatui.poller import QueuePoller
    q: queue.Queue[str] = queue.Queue()
    seen: list[list[str]] = []

    def handle(batch):
        seen.append(batch)
        if batch == ["boom"]:
            raise ValueError("boom")
    QueuePoller(tk_root, q, handle, interval=10)
    q.put("boom")
    pump(tk_root, lambda: tk_root._test_errors, what="the error reported")
    assert tk_root._test_errors == ["ValueError('boom')"]
    tk_root._test_errors.clear()
    q.put("after")
    pump(tk_root, lambda: ["after"] in seen, what="polling after the error")


def test_theme_falls_back_to_a_stock_theme_without_sv_ttk(xvfb_display, monkeypatch):
    from tkinter import ttk

    from chatui.theme import LIGHT, apply_theme
    monkeypatch.setitem(sys.modules, "sv_ttk", None)          # import sv_ttk now fails
    root = tk.Tk()
    try:
        assert apply_theme(root, "dark") is LIGHT                # no dark palette on stock widgets
        assert ttk.Style(root).theme_use() == "clam"
    finally:
        root.destroy()


def test_theme_dark_and_light_with_sv_ttk(tk_root):
    from tkinter import ttk

    from chatui.theme import DARK, LIGHT, apply_theme
    assert apply_theme(tk_root, "dark") is DARK and ttk.Style(tk_root).theme_use() == "sun-valley-dark"
    assert apply_theme(tk_root, "light") is LIGHT and ttk.Style(tk_root).theme_use() == "sun-valley-light"


def test_settings_round_trip_and_fallback_without_platformdirs(tmp_path, monkeypatch):
    from chatui import settings
    monkeypatch.setenv("LANCHAT_CONFIG_DIR", str(tmp_path / "cfg"))
    assert settings.load() == {}
    settings.save(server="127.0.0.5:5002", name="alice")
    settings.save(name="ally")
    assert settings.load() == {"server": "127.0.0.5:5002", "name": "ally"}
    monkeypatch.delenv("LANCHAT_CONFIG_DIR")
    # Every system's own folder points into tmp_path: the developer's real settings
    # are never read (on macOS the fallback is under HOME, not XDG_CONFIG_HOME).
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "local"))
    real_import = builtins.__import__

    def no_platformdirs(name, *args, **kwargs):
        if name == "platformdirs":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", no_platformdirs)
    expected = {"win32": tmp_path / "local" / "LanChat",
                "darwin": tmp_path / "home" / "Library" / "Application Support" / "LanChat",
                }.get(sys.platform, tmp_path / "xdg" / "LanChat")
    assert settings.config_dir() == expected
    expected.mkdir(parents=True)
    (expected / "settings.json").write_text("not json")
    assert settings.load() == {}                               # a broken file is no reason to fail


def test_recent_servers_newest_first_once_each_and_capped(tmp_path, monkeypatch):
    from chatui import settings
    monkeypatch.setenv("LANCHAT_CONFIG_DIR", str(tmp_path / "cfg"))
    assert settings.recent_servers() == []
    for n in range(settings.RECENT + 2):
        settings.remember_join(f"192.0.2.{n}", "ana")
    settings.remember_join(" 192.0.2.5 ", "bia")
    recent = settings.recent_servers()
    assert recent[0] == "192.0.2.5" and recent.count("192.0.2.5") == 1     # again: first, not twice
    assert len(recent) == settings.RECENT and "192.0.2.0" not in recent  # the oldest fell off
    assert settings.load()["name"] == "bia" and settings.load()["server"] == "192.0.2.5"
    settings.save(recent="not a list")
    assert settings.recent_servers() == []                                # a hand-edited file: ignored
    settings.save(recent=["ok", 7, "", None])
    assert settings.recent_servers() == ["ok"]


def test_the_theme_accepts_tk_9():
    # sv-ttk 2.6.0 asks for "package require Tk 8.6", which Tk 9 (python.org's
    # installers from 3.14.7) refuses, and the windows fall back to stock ttk;
    # requirements.txt asks for 2.6.1, whose "8.6-" takes any Tk from 8.6 on.
    import importlib.resources
    import re as re_
    sv = importlib.resources.files("sv_ttk").joinpath("sv.tcl").read_text(encoding="utf-8")
    wanted = re_.search(r"package require Tk (\S+)", sv).group(1)
    assert wanted.endswith("-") or wanted.startswith("9"), wanted
    from pathlib import Path
    assert "sv-ttk>=2.6.1" in (Path(__file__).resolve().parent.parent / "requirements.txt").read_text()


def test_windows_is_told_the_windows_handle_dpi_themselves():
    from types import SimpleNamespace
    from chatui.app import declare_dpi_awareness
    calls: list = []
    both = SimpleNamespace(shcore=SimpleNamespace(SetProcessDpiAwareness=lambda v: calls.append(("shcore", v))),
                           user32=SimpleNamespace(SetProcessDPIAware=lambda: calls.append(("user32",))))
    assert declare_dpi_awareness(both) == "per-monitor" and calls == [("shcore", 2)]

    def missing(v):
        raise OSError("no shcore.dll before Windows 8.1")
    old = SimpleNamespace(shcore=SimpleNamespace(SetProcessDpiAwareness=missing),
                          user32=SimpleNamespace(SetProcessDPIAware=lambda: calls.append(("user32",))))
    assert declare_dpi_awareness(old) == "system" and calls[-1] == ("user32",)
    assert declare_dpi_awareness(SimpleNamespace()) == ""
    if sys.platform != "win32":
        assert declare_dpi_awareness() == ""            # elsewhere: nothing to declare
