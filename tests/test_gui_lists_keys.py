"""Member lists for a classroom of 150 and the keyboard and mouse habits people
bring, under Xvfb: the client's list sorted "you" first then by name (no case,
no accents) with a scrollbar only when it is needed, type-to-filter, the
server's table sorted by a clicked heading; Tab completion that cycles and
keeps the focus, Ctrl+A, Page Up/Down from the entry, Escape, the history's
right-click menu, double-clicking a whole address; and names with spaces
refused with a suggestion. Stand-in transports: what the window does is the point."""
from __future__ import annotations

import queue
import tkinter as tk

import pytest

from udpcore import events as ev
from tests.conftest import pump

pytestmark = [pytest.mark.gui, pytest.mark.timeout(60)]

CLASS = ["Álvaro", "bob", "Zoë", "ana", "Bruno", "joão", "João_Pedro", "maria", "Mariana", "éden", "carla"]


class FakeClient:
    def __init__(self, server: str, name: str) -> None:
        self.events: queue.Queue[ev.Event] = queue.Queue()
        self.server_label, self.name = server, name
        self.calls: list[tuple] = []

    def __getattr__(self, name: str):
        if name in ("say", "private", "nick", "who", "search", "save_history"):
            return lambda *args, **kw: self.calls.append((name, *args))
        raise AttributeError(name)

    def close(self, timeout: float = 5.0, wait: bool = True) -> None:
        self.events.put(ev.Closed())


def crowd(n: int = 150) -> list[str]:
    return CLASS + [f"aluno{i:03d}" for i in range(n - len(CLASS) - 1)]


@pytest.fixture
def chat(tk_root):
    """A client window joined as "Ze" (so "Ze (you)" would sort last by name)."""
    from chatui.client_window import ClientApp
    made: list[FakeClient] = []

    def start(server: str, name: str) -> FakeClient:
        made.append(FakeClient(server, name))
        return made[-1]
    app = ClientApp(tk_root, tk_root._palette, "127.0.0.5:5002", "Ze", start=start)
    fake = made[0]
    fake.events.put(ev.Connected("Ze", "127.0.0.5:5002"))
    fake.events.put(ev.MemberList(("bob", "Ze", "ana")))
    pump(tk_root, lambda: app.view is not None and len(app.view.members.names()) == 3, what="view")
    app.fake = fake
    return app


def members(app, names) -> None:
    app.fake.events.put(ev.MemberList(tuple(names)))
    pump(app.root, lambda: len(app.view.members.names()) == len(names), what="the new list")
    app.root.update()


def settle(root) -> None:
    for _ in range(5):
        root.update()


# --- the client's list -----------------------------------------------------------------------


def test_the_list_is_you_first_then_alphabetical_without_case_or_accents(tk_root, chat):
    members(chat, ["Ze"] + CLASS)
    names = chat.view.members.names()
    assert names == ["Ze", "Álvaro", "ana", "bob", "Bruno", "carla", "éden", "joão", "João_Pedro",
                     "maria", "Mariana", "Zoë"]
    tree = chat.view.members.tree
    assert list(tree.get_children()) == names
    assert tree.item("Ze", "values")[0] == "Ze (you)"
    assert chat.view.members.title.cget("text") == "Members (12)"


def test_a_scrollbar_only_when_the_150_do_not_fit(tk_root, chat):
    bar = chat.view.members.scrollbar
    settle(tk_root)
    assert not bar.winfo_ismapped()                    # three members: nothing to scroll
    everyone = ["Ze"] + crowd()
    members(chat, everyone)
    pump(tk_root, lambda: bar.winfo_ismapped(), what="the scrollbar")
    tree = chat.view.members.tree
    assert tree.yview()[0] == 0.0 and tree.bbox("Ze")    # "you" in sight, at the top
    assert len(tree.get_children()) == 150
    members(chat, ["Ze", "bob"])
    pump(tk_root, lambda: not bar.winfo_ismapped(), what="the scrollbar gone again")


def test_typing_filters_the_list_and_escape_brings_everyone_back(tk_root, chat):
    members(chat, ["Ze"] + crowd())
    view = chat.view.members
    settle(tk_root)
    assert view.filter.get() == "Filter names" and view.query() == ""    # the hint, in grey
    assert str(view.filter.cget("foreground")) == tk_root._palette.muted and len(view.shown()) == 150
    view.filter_var.set("JOA")                          # no case, no accents
    settle(tk_root)
    assert view.shown() == ["joão", "João_Pedro"]
    assert view.title.cget("text") == "Members (2 of 150)"
    assert len(view.names()) == 150                     # /who and completion still see everyone
    view.filter.focus_force()
    settle(tk_root)
    view.filter.event_generate("<Escape>")
    settle(tk_root)
    assert view.filter_var.get() == "" and len(view.shown()) == 150
    # Typing while the list has the focus types into the filter.
    view.tree.focus_force()
    settle(tk_root)
    for key in ("m", "a", "r"):
        view.tree.event_generate(f"<KeyPress-{key}>")
    settle(tk_root)
    assert view.filter_var.get() == "mar" and view.shown() == ["maria", "Mariana"]
    assert tk_root.focus_get() is view.filter
    view.filter.event_generate("<Return>")              # Enter picks the first, as a double-click
    settle(tk_root)
    assert chat.view.entry.var.get() == "/msg maria "
    view.filter_var.set("")
    chat.view.entry.entry.focus_force()
    settle(tk_root)
    assert view.filter.get() == "Filter names" and len(view.shown()) == 150   # the hint is back


# --- the server's table ----------------------------------------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.address = ("127.0.0.1", 5555)
        self.label = "127.0.0.1:5555"
        self.events: queue.Queue = queue.Queue()
        self.calls: list[tuple] = []

    def __getattr__(self, name: str):
        if name in ("say", "say_to", "kick", "mute", "ban", "unban"):
            return lambda *args: self.calls.append((name, *args))
        raise AttributeError(name)

    def close(self, timeout: float = 2.0, wait: bool = True) -> None:
        self.events.put(ev.Closed())


@pytest.fixture
def server(tk_root, tmp_path):
    from chatui.server_window import ServerApp
    rec = Recorder()
    app = ServerApp(tk_root, tk_root._palette, "127.0.0.1", 0, start=lambda host, port, **o: rec,
                    data_dir=str(tmp_path / "data"))
    rows = [ev.MemberInfo("bob", "203.0.113.20:5002", 30.0, False, 0.0),
            ev.MemberInfo("Álvaro", "203.0.113.9:40000", 2.0, False, 0.0),
            ev.MemberInfo("carla", "198.51.100.200:5002", 600.0, False, 0.0)]
    app.handle([ev.Stats(tuple(rows))])
    tk_root.geometry("1000x600")
    settle(tk_root)
    return app


def click_heading(tree, column: str) -> None:
    """A real click on a column's heading (the heading row is at the top of the tree)."""
    x = 0
    for cid in ("name", *tree.cget("columns")[1:]):
        width = tree.column(cid, "width")
        if cid == column:
            x += width // 2
            break
        x += width
    tree.event_generate("<ButtonPress-1>", x=x, y=8)
    tree.event_generate("<ButtonRelease-1>", x=x, y=8)
    settle(tree)


def test_the_servers_table_sorts_by_the_clicked_heading_both_ways(tk_root, server):
    view = server.view.members
    tree = view.tree
    assert view.shown() == ["Álvaro", "bob", "carla"]
    assert tree.heading("name", "text") == "Name \u25b2"
    click_heading(tree, "address")                       # numerically: 198.… < 203.0.113.9 < 203.0.113.20
    assert view.shown() == ["carla", "Álvaro", "bob"]
    assert tree.heading("address", "text") == "Address \u25b2" and tree.heading("name", "text") == "Name"
    click_heading(tree, "address")
    assert view.shown() == ["bob", "Álvaro", "carla"] and tree.heading("address", "text") == "Address \u25bc"
    click_heading(tree, "heard")                          # by seconds, not by the words
    assert view.shown() == ["Álvaro", "bob", "carla"]
    # The order holds when the next Stats come.
    click_heading(tree, "heard")
    server.handle([ev.Stats((ev.MemberInfo("bob", "203.0.113.20:5002", 1.0, False, 0.0),
                             ev.MemberInfo("Álvaro", "203.0.113.9:40000", 3.0, False, 0.0)))])
    settle(tk_root)
    assert view.shown() == ["Álvaro", "bob"]


def test_server_completion_knows_the_operators_commands(tk_root, server):
    entry = server.view.entry
    entry.var.set("/ki")
    entry.entry.icursor("end")
    entry.entry.focus_force()
    settle(tk_root)
    entry.entry.event_generate("<Tab>")
    assert entry.var.get() == "/kick "
    entry.entry.event_generate("<Tab>")                   # one match: it stays
    assert entry.var.get() == "/kick "
    entry.var.set("/kick ca")
    entry.entry.icursor("end")
    entry.entry.event_generate("<Tab>")
    assert entry.var.get() == "/kick carla "


# --- the entry -------------------------------------------------------------------------------


def press(widget, sequence: str) -> None:
    widget.focus_force()
    settle(widget)
    widget.event_generate(sequence)
    settle(widget)


def test_tab_completes_names_cycles_and_keeps_the_focus(tk_root, chat):
    members(chat, ["Ze", "maria", "Mariana", "bob", "márcio"])
    bar = chat.view.entry
    bar.var.set("oi mar")
    bar.entry.icursor("end")
    press(bar.entry, "<Tab>")
    assert bar.var.get() == "oi márcio "                  # "marcio" comes before "maria"
    assert tk_root.focus_get() is bar.entry               # the focus stays; the next keys land here
    press(bar.entry, "<Tab>")
    assert bar.var.get() == "oi maria "
    press(bar.entry, "<Tab>")
    assert bar.var.get() == "oi Mariana "
    press(bar.entry, "<Tab>")
    assert bar.var.get() == "oi márcio "                  # round again
    bar.entry.insert("end", "tudo bem?")
    assert bar.var.get() == "oi márcio tudo bem?"
    bar.var.set("bo")                                     # first on the line: "name: "
    bar.entry.icursor("end")
    press(bar.entry, "<Tab>")
    assert bar.var.get() == "bob: "
    bar.var.set("/m")                                     # /commands, first on the line
    bar.entry.icursor("end")
    press(bar.entry, "<Tab>")
    assert bar.var.get() == "/msg "
    press(bar.entry, "<Tab>")
    assert bar.var.get() == "/me "
    bar.var.set("/msg mari")
    bar.entry.icursor("end")
    press(bar.entry, "<Tab>")
    assert bar.var.get() == "/msg maria "
    bar.var.set("oi xyz")                                 # nothing matches: nothing changes, focus stays
    bar.entry.icursor("end")
    press(bar.entry, "<Tab>")
    assert bar.var.get() == "oi xyz" and tk_root.focus_get() is bar.entry


def test_ctrl_a_selects_all_in_the_entry_and_in_the_history(tk_root, chat):
    from chatui.history import Entry
    bar = chat.view.entry
    bar.var.set("uma frase inteira")
    bar.entry.icursor(3)
    press(bar.entry, "<Control-a>")
    assert bar.entry.selection_present()
    assert (bar.entry.index("sel.first"), bar.entry.index("sel.last")) == (0, len("uma frase inteira"))
    chat.view.history.append([Entry("line", "primeira", "bob"), Entry("line", "segunda", "ana")])
    text = chat.view.history.text
    press(text, "<Control-a>")
    assert text.get("sel.first", "sel.last") == chat.view.history.content()


def test_page_up_and_down_in_the_entry_scroll_the_history(tk_root, chat):
    from chatui.history import Entry
    pane = chat.view.history
    pane.append([Entry("line", f"linha {i}", "bob") for i in range(200)])
    settle(tk_root)
    assert pane.at_bottom()
    press(chat.view.entry.entry, "<Prior>")
    assert not pane.at_bottom()
    top = pane.text.yview()[0]
    press(chat.view.entry.entry, "<Prior>")
    assert pane.text.yview()[0] < top
    press(chat.view.entry.entry, "<Next>")
    press(chat.view.entry.entry, "<Next>")
    assert pane.at_bottom()
    assert tk_root.focus_get() is chat.view.entry.entry


def test_escape_closes_the_search_then_drops_the_private_target(tk_root, chat):
    bar = chat.view.entry
    bar.var.set("/msg bob oi, tudo bem?")
    chat.view.open_search()
    settle(tk_root)
    press(bar.entry, "<Escape>")
    assert not chat.view.search.is_open and bar.var.get() == "/msg bob oi, tudo bem?"
    press(bar.entry, "<Escape>")
    assert bar.var.get() == "oi, tudo bem?"


# --- the history ----------------------------------------------------------------------------


def line_of(pane, words: str) -> int:
    for i, line in enumerate(pane.content().splitlines(), start=1):
        if words in line:
            return i
    raise AssertionError(words)


def test_the_right_click_menu_offers_copy_select_all_and_a_private_reply(tk_root, chat, monkeypatch):
    from chatui.history import Entry
    pane = chat.view.history
    pane.append([Entry("line", "alguém tem o endereço?", "bob"), Entry("line", "eu", "Ze"),
                 Entry("notice", "ana joined")])
    settle(tk_root)
    posted: list[tk.Menu] = []
    monkeypatch.setattr(tk.Menu, "tk_popup", lambda self, x, y, entry="": posted.append(self))
    x, y, _w, h = pane.text.bbox(f"{line_of(pane, 'endereço')}.12")
    pane.text.event_generate("<Button-3>", x=x, y=y + h // 2, rootx=10, rooty=10)
    settle(tk_root)
    menu = posted[-1]
    labels = [menu.entrycget(i, "label") if menu.type(i) != "separator" else "-"
              for i in range(menu.index("end") + 1)]
    assert labels == ["Copy", "Select all", "-", "Reply privately to bob"]
    assert menu.entrycget(0, "state") == "disabled"           # nothing selected yet
    menu.invoke(3)
    assert chat.view.entry.var.get() == "/msg bob "
    menu.invoke(1)
    assert pane.text.get("sel.first", "sel.last") == pane.content()
    menu = chat.view.keys.menu(f"{line_of(pane, 'Ze: eu')}.3")  # one's own line, a notice: no reply
    assert menu.index("end") == 1 and menu.entrycget(0, "state") == "normal"
    assert chat.view.keys.menu(f"{line_of(pane, 'ana joined')}.3").index("end") == 1
    menu.invoke(0)
    assert tk_root.clipboard_get() == pane.content()


def double_click(widget, **where) -> None:
    for _ in range(2):
        widget.event_generate("<ButtonPress-1>", **where)
        widget.event_generate("<ButtonRelease-1>", **where)
    settle(widget)


def test_double_click_selects_a_whole_address(tk_root, chat):
    from chatui.history import Entry
    pane = chat.view.history
    pane.append([Entry("line", "entrem em 203.0.113.20:5002, ou [fe80::1]:5002.", "bob")])
    settle(tk_root)
    text = pane.text
    line = line_of(pane, "203.0.113")
    start = text.get(f"{line}.0", f"{line}.end").index("113")
    x, y, _w, h = text.bbox(f"{line}.{start + 1}")
    double_click(text, x=x, y=y + h // 2)
    assert text.get("sel.first", "sel.last") == "203.0.113.20:5002"
    start = text.get(f"{line}.0", f"{line}.end").index("fe80")
    x, y, _w, h = text.bbox(f"{line}.{start + 1}")
    double_click(text, x=x, y=y + h // 2)
    assert text.get("sel.first", "sel.last") == "[fe80::1]:5002"
    start = text.get(f"{line}.0", f"{line}.end").index("entrem")
    x, y, _w, h = text.bbox(f"{line}.{start + 2}")
    double_click(text, x=x, y=y + h // 2)                 # an ordinary word: just the word
    assert text.get("sel.first", "sel.last") == "entrem"
    # In the entry too.
    bar = chat.view.entry
    bar.var.set("conecte em 192.0.2.7:5002 agora")
    settle(tk_root)
    bbox = bar.entry.bbox(bar.var.get().index("2.7"))
    double_click(bar.entry, x=bbox[0] + 1, y=bbox[1] + bbox[3] // 2)
    assert bar.entry.selection_get() == "192.0.2.7:5002"


def test_address_spans():
    from chatui.keys import address_around
    text = "veja (203.0.113.20:5002), http://x.org/a. e sala.local:5002: fim 3.5"
    assert address_around(text, text.index("113")) == (6, 23)
    span = address_around(text, text.index("x.org"))
    assert text[span[0]:span[1]] == "http://x.org/a"
    span = address_around(text, text.index("local"))
    assert text[span[0]:span[1]] == "sala.local:5002"
    assert address_around(text, text.index("fim")) is None
    assert address_around(text, len(text) - 1) is None     # a plain number is left to Tk


# --- names with spaces -----------------------------------------------------------------------


def test_a_name_with_spaces_is_refused_with_a_suggestion():
    from chatfront.wording import explain, spaceless
    from udpcore import InvalidName, check_name
    with pytest.raises(InvalidName) as caught:
        check_name("joão silva")
    assert explain(caught.value) == "Names cannot contain spaces; try \u201cjoão_silva\u201d."
    assert spaceless("ana  maria\u00a0luz") == "ana_maria_luz"
    assert spaceless("a\x07 b") is None                   # not only spaces wrong: the general sentence
    assert spaceless("server x") == "server_x" and spaceless("guest- 1") is None


def test_the_connect_form_suggests_a_name_without_spaces(tk_root):
    from chatui.client_window import ClientApp
    app = ClientApp(tk_root, tk_root._palette, "127.0.0.1:1", None, find_rooms=None)
    app.form.name.set("joão silva")
    app.form.button.invoke()
    settle(tk_root)
    assert app.form.message.cget("text") == "Names cannot contain spaces; try \u201cjoão_silva\u201d."
