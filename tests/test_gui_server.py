"""The server window for real under Xvfb, and both real programs typed into with xdotool."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from udpcore import events as ev
from tests.conftest import Peers, pump, wait_for
from tests.typing_ import typed
from tests.test_headless import Proc

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.gui, pytest.mark.timeout(60)]


def free_port() -> int:
    with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.bind(("::", 0))
        return s.getsockname()[1]


@pytest.fixture
def server_app(tk_root):
    from chatui.server_window import ServerApp
    app = ServerApp(tk_root, tk_root._palette, "127.0.0.1", 0)
    yield app
    if app.transport is not None:
        app.transport.close()


@pytest.fixture
def clients(server_app):
    peers = Peers(server_app.transport.address[1])
    yield peers
    peers.close()


def test_listens_at_once_and_shows_members_with_address_and_last_heard(tk_root, server_app, clients):
    port = server_app.transport.address[1]
    assert tk_root.title() == f"LAN Chat Server — port {port}"
    pump(tk_root, lambda: "0 members online" in server_app.view.status.get(), what="status")
    assert server_app.view.status.get().startswith(f"Listening on 127.0.0.1:{port}")
    alice = clients("alice")
    tree = server_app.view.members.tree
    pump(tk_root, lambda: tree.exists("alice"), what="alice listed")
    name, address, heard, muted = tree.item("alice", "values")
    assert name == "alice" and heard == "now" and muted == ""
    assert address == f"127.0.0.1:{alice.local_address[1]}"
    pump(tk_root, lambda: "1 member online" in server_app.view.status.get(), what="1 member")
    typed(alice, "hello server")
    pump(tk_root, lambda: "alice: hello server" in server_app.view.history.content(), what="line")
    pump(tk_root, lambda: "1 line relayed" in server_app.view.status.get(), what="relayed count")
    assert "alice joined from 127.0.0.1:" in server_app.view.history.content()
    assert "listening on" not in server_app.view.history.content()      # said once, as "Listening on …"


def test_answers_everyone_or_the_selected_member(tk_root, server_app, clients):
    alice, bob = clients("alice"), clients("bob")
    entry = server_app.view.entry
    entry.var.set("hello everyone")
    entry.entry.focus_force()
    tk_root.update()
    entry.entry.event_generate("<Return>")
    for c in (alice, bob):
        wait_for(c, lambda e: isinstance(e, ev.RoomLine) and e.text == "hello everyone" and e.sender == "server")
    tree = server_app.view.members.tree
    pump(tk_root, lambda: tree.exists("bob"), what="bob listed")
    tree.selection_set("bob")
    pump(tk_root, lambda: server_app.chip.text() == "To: bob \u2715", what="target shown")
    entry.var.set("just bob")
    entry.send_button.invoke()
    e = wait_for(bob, lambda e: isinstance(e, ev.RoomLine) and e.text == "just bob")
    assert e.private_to == "bob" and e.sender == "server"
    entry.entry.event_generate("<Escape>")
    assert server_app.chip.text() == "To: everyone"
    entry.var.set("to all again")
    entry.send()
    wait_for(alice, lambda e: isinstance(e, ev.RoomLine) and e.text == "to all again")
    assert "just bob" not in [x.text for x in alice.seen if isinstance(x, ev.RoomLine)]
    pump(tk_root, lambda: "server: (to bob) just bob" in server_app.view.history.content(), what="shown")


def test_exit_tells_every_client_and_closes(tk_root, server_app, clients, monkeypatch):
    from chatui import moderation
    asked: list[str] = []
    monkeypatch.setattr(moderation, "confirm", lambda master, title, message, ok: asked.append(message) or True)
    alice = clients("alice")
    pump(tk_root, lambda: server_app.present, what="alice in")
    server_app.view.entry.exit_button.invoke()
    pump(tk_root, lambda: not tk_root.winfo_exists() if _alive(tk_root) else True, what="closed")
    e = wait_for(alice, lambda e: isinstance(e, ev.ServerClosed))
    assert e == ev.ServerClosed("")          # the operator gave no words: the client says the usual sentence
    assert asked == ["Close the room? 1 person is in it."]


def test_busy_port_offers_another(tk_root):
    from chatui.server_window import PortDialog, ServerApp
    port = free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as squatter:
        squatter.bind(("127.0.0.1", port))
        app = ServerApp(tk_root, tk_root._palette, "127.0.0.1", port)
        dialogs = [w for w in tk_root.winfo_children() if isinstance(w, PortDialog)]
        assert len(dialogs) == 1 and app.transport is None
        d = dialogs[0]
        assert d.message.cget("text") == (f"Port {port} is already in use, probably by another chat server; "
                                          "choose another port.")
        d.port.set("0")
        d.listen()
    try:
        assert app.transport is not None and app.transport.address[1] != port
        pump(tk_root, lambda: "Listening on 127.0.0.1:" in app.view.status.get(), what="listening")
    finally:
        app.transport.close()


def test_server_commands_who_help_and_mistakes_stay_local(tk_root, server_app, clients):
    alice = clients("alice")
    tree = server_app.view.members.tree
    pump(tk_root, lambda: tree.exists("alice"), what="alice listed")
    entry = server_app.view.entry
    for line in ("/who", "/help", "/msg alice", "/me waves", "/bogus", "//slash line"):
        entry.var.set(line)
        entry.send()
    text = server_app.view.history.content()
    assert "1 in the room: alice" in text and "/msg NAME TEXT   a private line" in text
    assert "Usage: /msg NAME TEXT" in text and "/me and /nick are for the members" in text
    assert "Unknown command /bogus; type /help for the list." in text
    e = wait_for(alice, lambda e: isinstance(e, ev.RoomLine) and e.sender == "server")
    assert e.text == "/slash line"                            # the only thing the room saw
    entry.var.set("/msg alice psst")
    entry.send()
    e = wait_for(alice, lambda e: isinstance(e, ev.RoomLine) and e.text == "psst")
    assert e.private_to == "alice"


def test_listening_everywhere_lists_the_machines_addresses(tk_root):
    from chatui.server_window import ServerApp
    from udpcore import format_addr
    from udpnet import local_addresses
    app = ServerApp(tk_root, tk_root._palette, None, 0)       # all interfaces, as by default
    try:
        port = app.transport.address[1]
        pump(tk_root, lambda: "members online" in app.view.status.get(), what="status")
        status = app.view.status.get()
        addresses = [format_addr((a, port)) for a in local_addresses()] or [f"localhost:{port}"]
        assert status.startswith(f"Listening on {addresses[0]}")
        assert "0 members online  ·  0 lines relayed" in status
        assert all(a in app.view.history.content() for a in addresses)
    finally:
        app.transport.close()


def test_a_bad_host_is_one_sentence_and_quit(tk_root):
    from chatui.server_window import PortDialog, ServerApp
    app = ServerApp(tk_root, tk_root._palette, "no-such-host.invalid", 5002)
    d = next(w for w in tk_root.winfo_children() if isinstance(w, PortDialog))
    assert d.message.cget("text") == "'no-such-host.invalid' is not an address of this machine."
    assert not d.entry.winfo_manager()                        # no port field: another port would not help
    d.quit_button.invoke()
    pump(tk_root, lambda: not _alive(tk_root) or not tk_root.winfo_exists(), what="closed")
    assert app.exit_code == 2


def _alive(root) -> bool:
    try:
        root.winfo_exists()
        return True
    except Exception:
        return False


# --- the real programs, typed into with xdotool -----------------------------------------


def _window(name: str, timeout: float = 15.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", name],
                             capture_output=True, text=True).stdout.split()
        if out:
            return out[0]
        time.sleep(0.1)
    raise AssertionError(f"no window named {name!r}")


def _type(window: str, text: str) -> None:
    """Focus the window and type as a keyboard would (XTEST), then press Return."""
    subprocess.run(["xdotool", "windowraise", window], check=True, timeout=10)
    subprocess.run(["xdotool", "windowfocus", "--sync", window], check=True, timeout=10)
    time.sleep(0.2)
    subprocess.run(["xdotool", "type", "--delay", "15", text], check=True, timeout=30)
    subprocess.run(["xdotool", "key", "Return"], check=True, timeout=10)


@pytest.mark.timeout(90)
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="xdotool types into X11 windows, on Linux")
def test_real_programs_typed_into_with_xdotool(xvfb_display, config_dir):
    if shutil.which("xdotool") is None:
        pytest.fail("xdotool is not installed (apt-get install xdotool); .ci/run installs it")
    port = free_port()
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    procs: list[subprocess.Popen] = []
    watcher = None
    try:
        procs.append(subprocess.Popen([sys.executable, "gui_server.py", "--port", str(port)], cwd=ROOT, env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        server_win = _window(f"Chat Server .* port {port}$")
        procs.append(subprocess.Popen([sys.executable, "gui_client.py", "--server", f"127.0.0.1:{port}",
                                       "--name", "carol"], cwd=ROOT, env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        client_win = _window("^carol .* LAN Chat$")
        watcher = Proc("gui_client.py", "--headless", "--server", f"127.0.0.1:{port}", "--name", "watcher")
        watcher.expect("Connected")
        _type(client_win, "typed by a person")
        watcher.expect(r"^carol: typed by a person$", timeout=15)
        _type(server_win, "the server answers")
        watcher.expect(r"^server: the server answers$", timeout=15)
        _type(client_win, "exit")
        watcher.expect(r"^\* carol left$", timeout=15)
        assert procs[1].wait(timeout=10) == 0
        _type(server_win, "exit")                     # with the watcher in, the window asks first
        _type(_window("^Closing the room$"), "")       # Enter: Close the room
        assert procs[0].wait(timeout=10) == 0
        status, _, err = watcher.finish(timeout=15)
        assert "The server closed the room." in err and status == 1
    finally:
        if watcher is not None:
            watcher.kill()
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
