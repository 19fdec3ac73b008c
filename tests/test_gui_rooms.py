"""The list of rooms found on the LAN (chatui/room_list.py), driven in-process under Xvfb."""
from __future__ import annotations

import pytest

from chatui.room_list import RoomList, Row
from tests.test_gui_client import double_click

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def rooms(tk_root):
    joined: list[Row] = []
    widget = RoomList(tk_root, tk_root._palette, on_join=joined.append)
    widget.pack(fill="both", expand=True)
    tk_root.update()
    widget.joined = joined
    return widget


def test_rooms_are_listed_by_name_once_each_and_updated_in_place(rooms, tk_root):
    sala = Row("srv-a", "Sala 3", "203.0.113.20:5002", 4)
    aula = Row("srv-b", "aula de redes", "203.0.113.31:5003", 1, locked=True)
    rooms.show([sala, aula])
    assert [r.room for r in rooms.listed()] == ["aula de redes", "Sala 3"]       # by name, case aside
    first = rooms.tree.get_children()[1]
    rooms.tree.selection_set(first)
    rooms.show([Row("srv-a", "Sala 3", "203.0.113.20:5002", 5), aula])           # heard again: one more member
    assert len(rooms.listed()) == 2
    assert rooms.tree.item(first, "values")[2] == "5 members"
    assert rooms.selected().members == 5                                           # the selection stayed on it
    locked, unlocked = rooms.tree.get_children()
    assert rooms.tree.item(locked, "values")[1:] == ("203.0.113.31:5003", "1 member")
    assert rooms.tree.item(locked, "image") == (str(rooms.padlock),)          # a drawn padlock: no font needed
    assert rooms.tree.item(unlocked, "image") == ""


def test_a_room_the_finder_no_longer_has_leaves_the_list(rooms):
    rooms.show([Row("a", "A", "192.0.2.1:5002", 1), Row("b", "B", "192.0.2.2:5002", 1)])
    rooms.show([Row("a", "A", "192.0.2.1:5002", 1)])
    assert [r.room for r in rooms.listed()] == ["A"]
    rooms.show([])
    assert rooms.listed() == [] and rooms.rows == {}


def test_double_click_or_return_joins_the_room(rooms, tk_root):
    rooms.show([Row("a", "Sala 3", "192.0.2.1:5002", 2)])
    tk_root.update()
    item = rooms.tree.get_children()[0]
    double_click(rooms.tree, item)
    tk_root.update()
    assert [r.where for r in rooms.joined] == ["192.0.2.1:5002"]
    rooms.tree.focus_set()
    rooms.tree.selection_set(item)
    rooms.tree.event_generate("<Return>")
    tk_root.update()
    assert len(rooms.joined) == 2


def test_double_click_on_nothing_joins_nothing(rooms, tk_root):
    rooms.show([Row("a", "Sala 3", "192.0.2.1:5002", 2)])
    tk_root.update()
    for _ in range(2):
        rooms.tree.event_generate("<ButtonPress-1>", x=10, y=rooms.tree.winfo_height() - 3)
        rooms.tree.event_generate("<ButtonRelease-1>", x=10, y=rooms.tree.winfo_height() - 3)
    tk_root.update()
    assert rooms.joined == []
