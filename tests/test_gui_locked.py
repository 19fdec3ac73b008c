"""Issue 12's locked rooms in the windows, under Xvfb, against real servers on loopback:
the operator locks and unlocks the running room; the connect form asks for a
locked room's passphrase (and only for a locked room's), says when it is wrong,
and remembers it in the keychain when asked to; both real programs, typed into
with xdotool."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

import keyring
import keyring.backend
import pytest
from jaraco.classes import properties
from keyring.backends import fail

from chatfront import keychain
from chatfront.passphrase import ENV_VAR, MAX_CHARS
from udpcore import NotLocked, PassphraseNeeded, WrongPassphrase, events as ev
from udpnet import RoomFinder, start_client, start_server
from tests.conftest import pump, wait_for
from tests.test_gui_client import double_click

pytestmark = [pytest.mark.gui, pytest.mark.timeout(60)]

SECRET = "correct horse battery"


# --- keychains for the tests -----------------------------------------------------------------

class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keychain in a dict. Never chosen by keyring on its own (its priority
    says it is not viable): only where a test installs it."""

    @properties.classproperty
    def priority(cls) -> float:
        raise RuntimeError("for tests only")

    def __init__(self) -> None:
        super().__init__()
        self.kept: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.kept.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.kept[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.kept.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError("not kept")


@pytest.fixture
def memory_keyring():
    before = keyring.get_keyring()
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    yield ring
    keyring.set_keyring(before)


@pytest.fixture
def no_keyring():
    """This machine's case: keyring finds no keychain (its 'fail' backend)."""
    before = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(before)


# --- rooms and windows -----------------------------------------------------------------------

@pytest.fixture
def locked_room():
    srv = start_server("127.0.0.1", 0, stats=False, room="Sala 3", passphrase=SECRET)
    yield srv
    srv.close()


@pytest.fixture
def open_room():
    srv = start_server("127.0.0.1", 0, stats=False, room="Lab")
    yield srv
    srv.close()


def where(room) -> str:
    return f"127.0.0.1:{room.address[1]}"


def listing_form(tk_root, *rooms):
    """A client window whose connect form lists ``rooms``."""
    from chatui.client_window import ClientApp
    app = ClientApp(tk_root, tk_root._palette, find_rooms=lambda: RoomFinder([r.address[1] for r in rooms]))
    pump(tk_root, lambda: len(app.form.rooms.listed()) == len(rooms), what="the rooms listed")
    tk_root.update()
    return app


def select(app, room_name: str) -> None:
    """Click a listed room (as a person selects it)."""
    tree = app.form.rooms.tree
    item = next(i for i, r in app.form.rooms.rows.items() if r.room == room_name)
    tree.selection_set(item)
    app.form.update()


def done_with(app) -> None:
    """Leave the room and take the chat off the window, for the next window in the same test
    (one Tk root per test, as one per program)."""
    app.poller.stop()
    app.transport.close(timeout=1)
    app.view.destroy()


def message(app) -> str:
    return str(app.form.message.cget("text"))


def join_refusal(server: str, name: str, **options):
    """What a real client engine is told: Connected, or the JoinRefused error."""
    c = start_client(server, name, **options)
    c.seen = []
    try:
        e = wait_for(c, lambda e: isinstance(e, (ev.Connected, ev.JoinRefused, ev.Unreachable)))
    finally:
        c.close(timeout=1)
    return e.error if isinstance(e, ev.JoinRefused) else e


# --- the server window -------------------------------------------------------------------------

@pytest.fixture
def server_app(tk_root, tmp_path):
    from chatui.server_window import ServerApp
    app = ServerApp(tk_root, tk_root._palette, "127.0.0.1", 0, data_dir=str(tmp_path / "data"), room="Sala 3")
    yield app
    if app.transport is not None:
        app.transport.close()


def test_the_operator_locks_and_unlocks_the_running_room(tk_root, server_app):
    bar = server_app.lock_bar
    server = where(server_app.transport)
    assert bar.button.cget("text") == "Lock…" and not bar.badge.winfo_ismapped()
    assert bar.master is server_app.room_bar                   # next to the room's name
    assert isinstance(join_refusal(server, "ana"), ev.Connected)
    bar.button.invoke()
    dialog = bar.dialog
    tk_root.update()
    assert dialog.title() == "Lock the room" and str(dialog.secret.entry.cget("show")) == "•"
    assert tk_root.focus_get() is dialog.secret.entry
    dialog.lock_button.invoke()                                    # nothing typed: said, still open
    assert dialog.message.cget("text") == "Type a passphrase first." and dialog.winfo_exists()
    dialog.secret.set("x" * (MAX_CHARS + 1))
    dialog.lock_button.invoke()
    assert dialog.message.cget("text") == f"A passphrase has at most {MAX_CHARS} characters."
    dialog.secret.set(SECRET)
    dialog.secret.show_box.invoke()                                 # Show: the text as typed
    assert str(dialog.secret.entry.cget("show")) == ""
    dialog.secret.show_box.invoke()
    assert str(dialog.secret.entry.cget("show")) == "•"
    dialog.secret.entry.focus_force()
    tk_root.update()
    dialog.secret.entry.event_generate("<Return>")
    tk_root.update()
    assert not dialog.winfo_exists()
    assert bar.badge.winfo_ismapped() and bar.badge.cget("text") == "Locked" and bar.badge.cget("image")
    assert bar.button.cget("text") == "Unlock" and server_app.passphrase == SECRET
    assert "The room is locked: joining it needs its passphrase" in server_app.view.history.content()
    refused = join_refusal(server, "bia")
    assert isinstance(refused, PassphraseNeeded) and refused.room == "Sala 3"
    refused = join_refusal(server, "bia", passphrase="wrong")
    assert isinstance(refused, WrongPassphrase) and refused.room == "Sala 3"
    assert isinstance(join_refusal(server, "bia", passphrase=SECRET), ev.Connected)
    with RoomFinder([server_app.transport.address[1]]) as finder:
        pump(tk_root, lambda: [r.locked for r in finder.latest] == [True], what="listed as locked")
    bar.button.invoke()                                                  # Unlock
    tk_root.update()
    assert not bar.badge.winfo_ismapped() and bar.button.cget("text") == "Lock…"
    assert server_app.passphrase == ""
    assert "The room is open again" in server_app.view.history.content()
    assert isinstance(join_refusal(server, "caio"), ev.Connected)
    assert isinstance(join_refusal(server, "dani", passphrase=SECRET), NotLocked)


def test_lock_is_one_dialog_at_a_time_and_escape_cancels(tk_root, server_app):
    bar = server_app.lock_bar
    first = bar.ask()
    assert bar.ask() is first
    first.secret.set("never used")
    first.secret.entry.focus_force()
    tk_root.update()
    first.secret.entry.event_generate("<Escape>")
    tk_root.update()
    assert not first.winfo_exists() and not bar.locked and server_app.transport.locked is False


def test_a_server_given_a_passphrase_starts_locked_and_gives_it_to_its_clients_privately(tk_root, tmp_path):
    from chatui.server_window import ServerApp
    launched = []
    app = ServerApp(tk_root, tk_root._palette, "127.0.0.1", 0, data_dir=str(tmp_path), passphrase=SECRET,
                    open_names=("ana",), launch=lambda names, address, **kw: launched.append((names, kw)) or [])
    try:
        tk_root.update()
        assert app.lock_bar.locked and app.lock_bar.badge.winfo_ismapped()
        assert "The room is locked" in app.view.history.content()
        assert launched == [(("ana",), {"passphrase": SECRET})]
        assert isinstance(join_refusal(where(app.transport), "bia"), PassphraseNeeded)
        assert isinstance(join_refusal(where(app.transport), "bia", passphrase=SECRET), ev.Connected)
    finally:
        app.transport.close()


def test_the_clients_it_opens_get_the_passphrase_in_their_environment_never_their_command_line(tmp_path,
                                                                                               monkeypatch):
    from chatfront.launch import open_clients
    out = tmp_path / "seen.json"
    program = [sys.executable, "-c", "import json, os, sys; json.dump({'argv': sys.argv, 'env': "
               f"os.environ.get({ENV_VAR!r})}}, open({str(out)!r}, 'w'))"]
    monkeypatch.setenv(ENV_VAR, "inherited, from another file")
    for given, expected in ((SECRET, SECRET), ("", None), (None, "inherited, from another file")):
        out.unlink(missing_ok=True)
        (p,) = open_clients(("ana",), ("127.0.0.1", 5002), program, passphrase=given)
        assert p.wait(timeout=20) == 0
        seen = json.loads(out.read_text())
        assert seen["env"] == expected and seen["argv"][1:] == ["--server", "127.0.0.1:5002", "--name", "ana"]


def test_a_passphrase_that_cannot_be_used_is_one_sentence_in_a_dialog(tk_root, tmp_path, monkeypatch):
    import argparse
    from chatui import app as app_module
    said = []
    monkeypatch.setattr(app_module.messagebox, "showerror", lambda title, text, parent: said.append((title, text)))
    missing = tmp_path / "nope.txt"
    assert app_module.given_passphrase(argparse.Namespace(passphrase_file=str(missing)), tk_root, "T") is None
    assert said == [("T", f"Cannot read the passphrase file {missing}: No such file or directory.")]
    empty = tmp_path / "empty.txt"
    empty.write_text("\n")
    assert app_module.given_passphrase(argparse.Namespace(passphrase_file=str(empty)), tk_root, "T") is None
    assert said[-1] == ("T", f"The passphrase file {empty} is empty.")
    monkeypatch.setenv(ENV_VAR, SECRET)
    assert app_module.given_passphrase(argparse.Namespace(passphrase_file=None), tk_root, "T") == SECRET
    assert len(said) == 2


# --- the connect form ------------------------------------------------------------------------

def test_the_row_is_there_for_a_locked_room_and_not_for_an_open_one(tk_root, locked_room, open_room, no_keyring):
    app = listing_form(tk_root, locked_room, open_room)
    form = app.form
    assert [(r.room, r.locked) for r in form.rooms.listed()] == [("Lab", False), ("Sala 3", True)]
    assert not form.lock_row.visible and not form.lock_row.secret.winfo_ismapped()
    select(app, "Lab")
    assert form.server.get() == where(open_room) and not form.lock_row.secret.winfo_ismapped()
    select(app, "Sala 3")
    tk_root.update()
    assert form.server.get() == where(locked_room)
    assert form.lock_row.secret.winfo_ismapped() and form.lock_row.label.cget("text") == "Passphrase"
    assert str(form.lock_row.secret.entry.cget("show")) == "•"
    form.lock_row.secret.set("typed for Sala 3")
    select(app, "Lab")
    tk_root.update()
    assert not form.lock_row.secret.winfo_ismapped() and form.secret() == ""   # never sent to an open room
    form.name.set("ana")
    form.button.invoke()
    pump(tk_root, lambda: app.view is not None, what="joined the open room")


def test_a_wrong_passphrase_is_said_the_fields_kept_and_the_right_one_joins(tk_root, locked_room, no_keyring):
    app = listing_form(tk_root, locked_room)
    form = app.form
    select(app, "Sala 3")
    form.name.set("ana")
    form.lock_row.secret.set("wrong one")
    form.button.invoke()
    pump(tk_root, lambda: "Wrong passphrase" in message(app), what="the refusal")
    assert message(app) == "Wrong passphrase for room 'Sala 3'."
    assert form.server.get() == where(locked_room) and form.name.get() == "ana"
    assert form.lock_row.secret.get() == "wrong one" and form.lock_row.visible
    entry = form.lock_row.secret.entry
    assert entry.selection_present() and tk_root.focus_get() is entry      # typing replaces it
    assert str(entry.cget("state")) == "normal" and str(form.button.cget("state")) == "normal"
    form.lock_row.secret.set(SECRET)
    entry.event_generate("<Return>")
    pump(tk_root, lambda: app.view is not None, what="joined")
    assert app.view.status.get() == f"Connected to {where(locked_room)} as ana, in a locked room"
    assert str(app.view.status.cget("image")) and str(app.view.status.cget("compound")) == "left"   # the padlock


def test_a_double_click_on_a_locked_room_asks_for_its_passphrase_first(tk_root, locked_room, no_keyring):
    app = listing_form(tk_root, locked_room)
    form = app.form
    form.name.set("ana")
    double_click(form.rooms.tree, form.rooms.tree.get_children()[0])
    tk_root.update()
    assert app.transport is None                      # nothing sent: it would only be refused
    assert message(app) == "Room 'Sala 3' is locked: joining it needs its passphrase."
    assert tk_root.focus_get() is form.lock_row.secret.entry


def test_a_typed_address_refused_for_want_of_a_passphrase_brings_the_row(tk_root, locked_room, no_keyring):
    from chatui.client_window import ClientApp
    app = ClientApp(tk_root, tk_root._palette, find_rooms=None)
    form = app.form
    form.server.set(where(locked_room))
    form.name.set("ana")
    assert not form.lock_row.visible
    form.button.invoke()
    pump(tk_root, lambda: form.lock_row.visible and not form.busy, what="asked for the passphrase")
    # The window's own sentence: not the terminal's hint about --passphrase-file.
    assert message(app) == "Room 'Sala 3' is locked: joining it needs its passphrase."
    assert tk_root.focus_get() is form.lock_row.secret.entry
    form.lock_row.secret.set(SECRET)
    form.lock_row.secret.entry.event_generate("<Return>")
    pump(tk_root, lambda: app.view is not None, what="joined")
    assert app.view.status.get() == f"Connected to {where(locked_room)} as ana, in a locked room"
    assert str(app.view.status.cget("image")) and str(app.view.status.cget("compound")) == "left"   # the padlock


def test_another_address_typed_takes_the_row_away(tk_root, locked_room, no_keyring):
    app = listing_form(tk_root, locked_room)
    select(app, "Sala 3")
    assert app.form.lock_row.visible
    app.form.server.set("127.0.0.1:5002")
    assert not app.form.lock_row.visible and app.form.secret() == ""


def test_a_passphrase_is_handed_to_start_only_when_one_was_typed(tk_root, locked_room, no_keyring):
    from chatui.client_window import ClientApp
    calls = []

    def start(server, name, **options):
        calls.append((server, name, options))
        return start_client(server, name, **options)
    app = ClientApp(tk_root, tk_root._palette, where(locked_room), "ana", start=start, find_rooms=None)
    pump(tk_root, lambda: app.form.lock_row.visible and not app.form.busy, what="asked")
    app.form.lock_row.secret.set(SECRET)
    app.form.button.invoke()
    pump(tk_root, lambda: app.view is not None, what="joined")
    assert calls == [(where(locked_room), "ana", {}), (where(locked_room), "ana", {"passphrase": SECRET})]


def test_a_given_passphrase_joins_a_locked_room_and_is_never_sent_to_an_open_one(tk_root, locked_room, open_room,
                                                                                 no_keyring):
    from chatui.client_window import ClientApp
    locked = ClientApp(tk_root, tk_root._palette, where(locked_room), "ana", passphrase=SECRET, find_rooms=None)
    pump(tk_root, lambda: locked.view is not None, what="joined the locked room")
    done_with(locked)
    opened = ClientApp(tk_root, tk_root._palette, where(open_room), "ana", passphrase=SECRET, find_rooms=None)
    pump(tk_root, lambda: opened.view is not None or opened.form and "not locked" in message(opened),
         what="joined the open room")
    assert opened.view is not None                          # not refused with NotLocked: nothing was sent
    pump(tk_root, lambda: opened.view.status.get().startswith("Connected"), what="the status")
    assert opened.view.status.get() == f"Connected to {where(open_room)} as ana"      # no claim of a lock
    assert not str(opened.view.status.cget("image"))
    done_with(opened)


def test_remember_keeps_it_only_when_ticked_and_fills_it_in_next_time(tk_root, locked_room, memory_keyring):
    server = where(locked_room)
    first = listing_form(tk_root, locked_room)
    select(first, "Sala 3")
    row = first.form.lock_row
    assert str(row.remember_box.cget("state")) == "normal" and not row.remember.get()
    assert not row.hint.winfo_ismapped()
    first.form.name.set("ana")
    row.secret.set(SECRET)
    first.form.button.invoke()
    pump(tk_root, lambda: first.view is not None, what="joined, box not ticked")
    assert memory_keyring.kept == {}
    done_with(first)

    second = listing_form(tk_root, locked_room)
    select(second, "Sala 3")
    row = second.form.lock_row
    assert row.secret.get() == "" and not row.remember.get()
    second.form.name.set("bia")
    row.secret.set(SECRET)
    row.remember_box.invoke()
    second.form.button.invoke()
    pump(tk_root, lambda: second.view is not None, what="joined, box ticked")
    assert memory_keyring.kept == {("LanChat", server): SECRET}
    assert "not remembered" not in second.view.history.content()
    done_with(second)

    third = listing_form(tk_root, locked_room)
    select(third, "Sala 3")
    row = third.form.lock_row
    assert row.secret.get() == SECRET and row.remember.get()               # filled in, box ticked
    third.form.name.set("caio")
    double_click(third.form.rooms.tree, third.form.rooms.tree.get_children()[0])
    pump(tk_root, lambda: third.view is not None, what="joined with the remembered one")
    done_with(third)


def test_a_remembered_address_fills_in_the_row_and_a_wrong_one_is_forgotten(tk_root, locked_room, memory_keyring):
    from chatui.client_window import ClientApp
    server = where(locked_room)
    memory_keyring.kept[("LanChat", server)] = "changed since"
    app = ClientApp(tk_root, tk_root._palette, server, "ana", find_rooms=None)
    # Locked after all: tried again at once with the remembered one, which is wrong now.
    pump(tk_root, lambda: "Wrong passphrase" in message(app), what="the refusal")
    assert message(app) == "Wrong passphrase for room 'Sala 3'. The remembered passphrase was forgotten."
    assert memory_keyring.kept == {} and not app.form.lock_row.remember.get()
    assert app.form.lock_row.secret.get() == "changed since"          # kept, selected, to type over
    memory_keyring.kept[("LanChat", server)] = SECRET
    app.form.server.set("elsewhere")
    assert not app.form.lock_row.visible
    app.form.server.set(server)                                       # picked among the recent servers:
    app.form.server_entry.event_generate("<<ComboboxSelected>>")
    assert app.form.lock_row.visible and app.form.secret() == SECRET and app.form.lock_row.remember.get()
    app.form.button.invoke()
    pump(tk_root, lambda: app.view is not None, what="joined")
    done_with(app)


def test_unticking_a_remembered_passphrase_forgets_it_once_the_join_worked(tk_root, locked_room, memory_keyring):
    memory_keyring.kept[("LanChat", where(locked_room))] = SECRET
    app = listing_form(tk_root, locked_room)
    select(app, "Sala 3")
    assert app.form.lock_row.remember.get()
    app.form.lock_row.remember_box.invoke()
    app.form.name.set("ana")
    app.form.button.invoke()
    pump(tk_root, lambda: app.view is not None, what="joined")
    assert memory_keyring.kept == {}
    done_with(app)


def test_without_a_keychain_the_box_is_greyed_and_says_why(tk_root, locked_room, no_keyring):
    assert not keychain.available() and keychain.recall("x") == "" and keychain.remember("x", "y") == "no keychain"
    keychain.forget("x")                                                      # nothing raised either
    app = listing_form(tk_root, locked_room)
    select(app, "Sala 3")
    tk_root.update()
    row = app.form.lock_row
    assert str(row.remember_box.cget("state")) == "disabled" and not row.remember.get()
    assert row.hint.winfo_ismapped()
    assert row.hint.cget("text") == "This computer has no keychain to keep it in."
    app.form.name.set("ana")
    row.secret.set(SECRET)
    app.form.button.invoke()
    assert str(row.remember_box.cget("state")) == "disabled"                  # greyed while connecting too
    pump(tk_root, lambda: app.view is not None, what="joined")
    done_with(app)


def test_a_keychain_that_refuses_is_one_sentence_in_the_room(tk_root, locked_room, memory_keyring, monkeypatch):
    def refuse(*a):
        raise keyring.errors.PasswordSetError("the keychain is locked")
    monkeypatch.setattr(memory_keyring, "set_password", refuse)
    app = listing_form(tk_root, locked_room)
    select(app, "Sala 3")
    app.form.name.set("ana")
    app.form.lock_row.secret.set(SECRET)
    app.form.lock_row.remember_box.invoke()
    app.form.button.invoke()
    pump(tk_root, lambda: app.view is not None, what="joined all the same")
    assert "The passphrase was not remembered: the keychain is locked." in app.view.history.content()
    done_with(app)


# --- the real programs, typed into with xdotool -----------------------------------------------

@pytest.mark.timeout(90)
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="xdotool types into X11 windows, on Linux")
def test_real_programs_the_passphrase_typed_with_xdotool(xvfb_display, config_dir):
    from tests.test_gui_server import _type, _window, free_port
    from tests.test_headless import Proc
    if shutil.which("xdotool") is None:
        pytest.fail("xdotool is not installed (apt-get install xdotool); .ci/run installs it")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != ENV_VAR}
    env["PYTHONUNBUFFERED"] = "1"
    procs: list[subprocess.Popen] = []
    watcher = None
    try:
        procs.append(subprocess.Popen([sys.executable, "gui_server.py", "--port", str(port), "--room", "Sala 3"],
                                      cwd=root, env={**env, ENV_VAR: SECRET},
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        _window(f"Chat Server .* port {port}$")
        # No passphrase given: the form asks for it, with the cursor in its field.
        procs.append(subprocess.Popen([sys.executable, "gui_client.py", "--server", f"127.0.0.1:{port}",
                                       "--name", "carol"], cwd=root, env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        form = _window("^LAN Chat$")
        watcher = Proc("gui_client.py", "--headless", "--server", f"127.0.0.1:{port}", "--name", "watcher",
                       env={ENV_VAR: SECRET})
        watcher.expect("Connected")
        time.sleep(1.0)                                  # the refusal is in: the row is up and focused
        _type(form, SECRET)
        watcher.expect(r"^\* carol joined", timeout=20)
        _window("^carol .* LAN Chat$")
    finally:
        if watcher is not None:
            watcher.kill()
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()


def test_the_list_marks_a_room_that_locks_or_opens_in_place(tk_root):
    from chatui.room_list import RoomList, Row
    rooms = RoomList(tk_root, tk_root._palette, on_join=lambda row: None)
    rooms.pack()
    rooms.show([Row("a", "Sala 3", "127.0.0.1:5002", 1)])
    (item,) = rooms.tree.get_children()
    assert rooms.tree.item(item, "image") == ""
    rooms.show([Row("a", "Sala 3", "127.0.0.1:5002", 1, locked=True)])
    assert rooms.tree.get_children() == (item,) and rooms.tree.item(item, "image") == (str(rooms.padlock),)
    rooms.show([Row("a", "Sala 3", "127.0.0.1:5002", 1)])
    assert rooms.tree.item(item, "image") == ""


def test_in_the_smallest_window_the_row_fits_and_connect_stays_in_sight(tk_root, locked_room, no_keyring):
    tk_root.geometry("480x340")
    app = listing_form(tk_root, locked_room)
    assert (tk_root.winfo_width(), tk_root.winfo_height()) == (480, 340)
    select(app, "Sala 3")
    app.form.lock_row.secret.set("x")
    app.form.submit()                                  # a sentence under the fields too
    tk_root.update()
    form, row = app.form, app.form.lock_row
    for widget in (form.button, row.secret.entry, row.remember_box, row.hint, form.message):
        assert widget.winfo_ismapped()
        assert widget.winfo_rooty() + widget.winfo_height() - tk_root.winfo_rooty() <= tk_root.winfo_height()
        assert widget.winfo_rootx() + widget.winfo_width() - tk_root.winfo_rootx() <= tk_root.winfo_width()
    assert tk_root.winfo_width() == 480 and 340 < tk_root.winfo_height() < 480     # grown by what was missing
    app.cancel()
