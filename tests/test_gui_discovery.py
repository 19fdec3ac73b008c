"""Issue 14 in the windows, under Xvfb, on loopback (conftest keeps every probe there):
the connect form lists the rooms found and joins one on double-click; the server
window names its room, lets the operator rename it, and tells per network whether
anyone there has reached it."""
from __future__ import annotations

import pytest

from chatui.room_help import RoomHelp
from udpnet import RoomFinder, start_server
from tests.conftest import pump
from tests.test_gui_client import double_click

pytestmark = [pytest.mark.gui, pytest.mark.timeout(60)]


@pytest.fixture
def free_udp_port() -> int:
    import socket
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def room():
    srv = start_server("127.0.0.1", 0, stats=False, room="Sala 3")
    yield srv
    srv.close()


def form_app(tk_root, port: int):
    from chatui.client_window import ClientApp
    return ClientApp(tk_root, tk_root._palette, find_rooms=lambda: RoomFinder([port]))


def listed_form(tk_root, room):
    """A client window whose connect form already lists ``room``."""
    app = form_app(tk_root, room.address[1])
    pump(tk_root, lambda: app.form.rooms.listed(), what="the room listed")
    tk_root.update()
    return app


def test_the_form_lists_the_room_and_a_double_click_joins_it(tk_root, room):
    port = room.address[1]
    app = listed_form(tk_root, room)
    form = app.form
    form.name.set("ana")
    (listed,) = form.rooms.listed()
    assert (listed.room, listed.where, listed.members, listed.locked) == ("Sala 3", f"127.0.0.1:{port}", 0, False)
    assert "1 room found" in form.rooms_status.cget("text")
    double_click(form.rooms.tree, form.rooms.tree.get_children()[0])
    pump(tk_root, lambda: app.view is not None, what="joined by double-click")
    assert app.view.status.get() == f"Connected to 127.0.0.1:{port} as ana"


def test_a_listed_rooms_name_typed_as_the_server_joins_it(tk_root, room):
    port = room.address[1]
    app = listed_form(tk_root, room)
    form = app.form
    form.server.set("  sala 3 ")
    form.name.set("caio")
    form.button.invoke()
    pump(tk_root, lambda: app.view is not None, what="joined by the room's name")
    assert app.view.status.get() == f"Connected to 127.0.0.1:{port} as caio"


def test_a_name_no_listed_room_has_is_tried_as_a_host(tk_root, room):
    app = listed_form(tk_root, room)
    assert app.form.address_of("Sala 4") == "Sala 4" and app.form.address_of("sala 3") == f"127.0.0.1:{room.address[1]}"


def test_a_double_click_with_no_name_asks_for_one_and_keeps_the_address(tk_root, room):
    port = room.address[1]
    app = listed_form(tk_root, room)
    form = app.form
    form.name.set("")
    double_click(form.rooms.tree, form.rooms.tree.get_children()[0])
    tk_root.update()
    assert app.transport is None and form.server.get() == f"127.0.0.1:{port}"
    assert "name" in form.message.cget("text") and tk_root.focus_get() is form.name_entry


def test_the_form_stops_its_finder_when_it_goes(tk_root, room):
    app = form_app(tk_root, room.address[1])
    finder = app.form.finder
    app.form.name.set("bia")
    app.form.server.set(f"127.0.0.1:{room.address[1]}")
    app.form.button.invoke()
    pump(tk_root, lambda: app.view is not None, what="joined")
    finder._thread.join(3)
    assert not finder._thread.is_alive()


def test_with_no_room_the_form_says_so_and_offers_help(tk_root, free_udp_port):
    app = form_app(tk_root, free_udp_port)
    form = app.form
    assert "Looking for rooms" in form.rooms_status.cget("text")
    pump(tk_root, lambda: "No room has answered" in form.rooms_status.cget("text"), timeout=8, what="none found")
    helper = form.open_help()
    tk_root.update()
    assert isinstance(helper, RoomHelp) and helper.winfo_ismapped()
    commands = [row.command for row in helper.rows]
    assert any(c.startswith("netsh advfirewall") for c in commands)
    assert any("socketfilterfw" in c for c in commands) and "sudo ufw allow 5002/udp" in commands
    helper.rows[0].button.invoke()
    assert tk_root.clipboard_get() == commands[0]
    helper.destroy()


def test_a_finder_that_cannot_start_leaves_a_form_that_takes_an_address(tk_root):
    from chatui.client_window import ClientApp

    def broken():
        raise OSError(24, "Too many open files")
    app = ClientApp(tk_root, tk_root._palette, find_rooms=broken)
    tk_root.update()
    assert app.form.finder is None and app.form.rooms_status.cget("text") == ""
    assert str(app.form.server_entry.cget("state")) == "normal"


def test_in_the_smallest_window_the_list_shrinks_and_connect_stays_in_sight(tk_root):
    from chatui.client_window import ClientApp
    tk_root.geometry("480x340")
    app = ClientApp(tk_root, tk_root._palette, find_rooms=lambda: RoomFinder([1]))
    tk_root.update()
    for widget in (app.form.button, app.form.help_link, app.form.server_entry):
        assert widget.winfo_ismapped()
        assert widget.winfo_rooty() + widget.winfo_height() - tk_root.winfo_rooty() <= tk_root.winfo_height()
        assert widget.winfo_rootx() + widget.winfo_width() - tk_root.winfo_rootx() <= tk_root.winfo_width()


def test_recent_servers_are_offered_in_the_server_field(tk_root, monkeypatch):
    from chatui import settings
    settings.remember_join("192.0.2.9:5002", "ana")
    settings.remember_join("sala.local", "ana")
    app = form_app(tk_root, 1)
    assert list(app.form.server_entry.cget("values")) == ["sala.local", "192.0.2.9:5002"]
    assert app.form.server.get() == "sala.local"


# ---------------------------------------------------------------- the server window

@pytest.fixture
def server_app(tk_root, data_dir):
    from chatui.server_window import ServerApp
    app = ServerApp(tk_root, tk_root._palette, "127.0.0.1", 0, data_dir=str(data_dir), room="Sala 3")
    yield app
    if app.transport is not None:
        app.transport.close()


@pytest.fixture
def data_dir(tmp_path):
    return tmp_path / "data"


def test_the_operator_renames_the_room_and_clients_see_the_new_name(tk_root, server_app):
    bar = server_app.room_bar
    assert bar.var.get() == "Sala 3" and str(bar.button.cget("state")) == "disabled"
    bar.var.set("  Aula de redes\tsexta  ")
    assert str(bar.button.cget("state")) == "normal"
    bar.button.invoke()
    assert bar.var.get() == "Aula de redes sexta" and "Aula de redes sexta" in server_app.view.history.content()
    port = server_app.transport.address[1]
    with RoomFinder([port]) as finder:
        pump(tk_root, lambda: [r.name for r in finder.latest] == ["Aula de redes sexta"], what="the new name")
    bar.var.set("x" * 60)
    bar.field.focus_force()
    tk_root.update()
    bar.field.event_generate("<Return>")
    tk_root.update()
    assert bar.var.get() == "x" * 40                      # cut as the server announces it


def test_a_loopback_server_has_no_networks_table(server_app):
    assert server_app.reach is None                     # nobody else can reach 127.0.0.1


def test_the_networks_table_says_which_network_reached_the_room(tk_root, data_dir, monkeypatch):
    from chatui import server_window
    from udpcore import events as ev
    monkeypatch.setattr(server_window, "local_networks",
                        lambda: [("eth0", "192.0.2.20", 24), ("wlan0", "198.51.0.5", 16)])
    quiet = lambda *a, **k: start_server(*a, stats=False, **k)      # only the Stats this test gives
    app = server_window.ServerApp(tk_root, tk_root._palette, None, 0, data_dir=str(data_dir), start=quiet)
    try:
        port = app.transport.address[1]
        app.handle([ev.Stats(looked=(("192.0.2.77", 12.0),))])
        tk_root.update()
        assert app.reach.rows() == [(f"192.0.2.20:{port}  (eth0)", "12 s ago"), (f"198.51.0.5:{port}  (wlan0)", "not yet")]
        assert f"198.51.0.5:{port}" in app.reach.hint.cget("text") and "192.0.2.20" not in app.reach.hint.cget("text")
        app.handle([ev.Stats(members=(ev.MemberInfo("bia", "198.51.3.4:40000", 1.0, False),),
                             looked=(("192.0.2.77", 14.0),))])
        assert [r[1] for r in app.reach.rows()] == ["14 s ago", "now"] and app.reach.hint.cget("text") == ""
    finally:
        app.transport.close()
