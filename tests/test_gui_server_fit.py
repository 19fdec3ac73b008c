"""The server window shows all it says: at its first size the member table's
four columns fit beside the history, and the status line under the entry wraps
rather than run under Search… and Save history as… (the server's, with address,
members, lines relayed and private lines between members, is longer than what
is left of a 900-pixel window, more so in Portuguese). Under Xvfb, with a
stand-in transport."""
from __future__ import annotations

import queue
import time

import pytest

from udpcore import events as ev

pytestmark = [pytest.mark.gui, pytest.mark.timeout(60)]


class Quiet:
    def __init__(self) -> None:
        self.address = ("203.0.113.20", 5002)
        self.events: queue.Queue = queue.Queue()

    def __getattr__(self, name: str):
        return lambda *a, **kw: None


def settle(root, seconds: float = 0.3) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        root.update()
        time.sleep(0.01)


def test_a_long_server_status_wraps_and_is_read_whole(tk_root, tmp_path):
    from chatui.server_window import ServerApp
    tk_root.geometry("900x560")
    app = ServerApp(tk_root, tk_root._palette, "203.0.113.20", 5002, start=lambda *a, **kw: Quiet(),
                    data_dir=str(tmp_path))
    names = ("alice", "bob", "chen", "maria")
    app.handle([ev.MemberJoined(n, "203.0.113.31:50112") for n in names]
               + [ev.PrivatePassed("bob", "alice") for _ in range(3)]
               + [ev.Stats(tuple(ev.MemberInfo(n, "203.0.113.31:50112", 1.0) for n in names), relayed=1234)])
    settle(tk_root)
    status = app.view.status
    assert "3 private lines between members" in status.get()
    assert status.winfo_reqwidth() <= status.winfo_width()           # nothing cut off at the right
    assert status.winfo_height() > status.winfo_reqheight() // 2     # and the wrapped lines all shown
    search = app.view.search_button
    assert status.winfo_rootx() + status.winfo_width() <= search.winfo_rootx()
    tk_root.geometry("1600x560")                                     # room again: one line
    settle(tk_root)
    assert status.winfo_reqheight() < 2 * tk_root.tk.call("font", "metrics", str(status.cget("font") or
                                                                              "TkDefaultFont"), "-linespace")


def test_at_its_first_size_the_member_table_shows_every_column(tk_root, tmp_path):
    from chatui.app import SERVER_WINDOW
    from chatui.scaling import scaler
    from chatui.server_window import ServerApp
    scaler(tk_root).fit_window(tk_root, *SERVER_WINDOW)
    app = ServerApp(tk_root, tk_root._palette, "203.0.113.20", 5002, start=lambda *a, **kw: Quiet(),
                    data_dir=str(tmp_path))
    app.handle([ev.Stats((ev.MemberInfo("maria", "203.0.113.60:49876", 1.0, muted=600.0),))])
    settle(tk_root)
    tree = app.view.members.tree
    columns = ("name", *tree["columns"][1:])
    assert tuple(tree["columns"]) == ("name", "address", "heard", "muted")
    assert sum(int(tree.column(c, "width")) for c in columns) <= tree.winfo_width()


def test_the_status_says_when_the_port_is_flooded_and_when_it_is_over(tk_root, tmp_path):
    from chatfront import i18n
    from chatui.server_window import ServerApp
    tk_root.geometry("1200x560")
    app = ServerApp(tk_root, tk_root._palette, "203.0.113.20", 5002, start=lambda *a, **kw: Quiet(),
                    data_dir=str(tmp_path))
    maria = (ev.MemberInfo("maria", "203.0.113.60:49876", 1.0),)
    app.handle([ev.Stats(maria, relayed=7), ev.PortFlooded(True)])
    settle(tk_root, 0.1)
    assert "the port is flooded" in app.view.status.get()
    assert "the room's port is being flooded" in app.view.history.text.get("1.0", "end")
    try:
        i18n.use_language(["pt_BR"])
        app.handle([ev.Stats(maria, relayed=8)])                 # the next snapshot keeps it said
        settle(tk_root, 0.1)
        assert "porta inundada" in app.view.status.get()
    finally:
        i18n.use_language(["en"])
    app.handle([ev.PortFlooded(False), ev.Stats(maria, relayed=9)])
    settle(tk_root, 0.1)
    assert "flooded" not in app.view.status.get() and "9 lines relayed" in app.view.status.get()
    assert "the flood at the room's port is over" in app.view.history.text.get("1.0", "end")
