"""Issue 14: the README's one command never joins a stranger's room. With
--port-fallback a server whose port is taken listens on the next free one of
the ten from it, and the client windows --open-clients starts join that port.
The range starts at --port, so these tests use a random base, never 5002."""
from __future__ import annotations

import random
import socket
import subprocess

import pytest

from chatfront.launch import client_program, local_server, names_option
from chatfront.options import FALLBACK_PORTS, port_tries, server_parser
from udpcore import InvalidName, PortBusyError
from udpnet import start_server
from tests.conftest import pump

pytestmark = pytest.mark.timeout(60)


def free_base(span: int = FALLBACK_PORTS) -> int:
    """A port with ``span`` free ports from it on 127.0.0.1 and on every address."""
    rng = random.Random()
    for _ in range(200):
        base = rng.randrange(20000, 60000 - span)
        try:
            held = []
            for p in range(base, base + span):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                held.append(s)
                s.bind(("0.0.0.0", p))
            return base
        except OSError:
            continue
        finally:
            for s in held:
                s.close()
    raise RuntimeError("no free span of ports")


def test_the_option_tries_ten_ports_and_names_are_checked_when_parsed():
    args = server_parser().parse_args(["--port-fallback", "--open-clients", "alice, bob"])
    assert port_tries(args) == 10 and args.port == 5002 and args.open_clients == ("alice", "bob")
    assert port_tries(server_parser().parse_args([])) == 1
    with pytest.raises(InvalidName):
        names_option("alice,two words")


def test_the_clients_are_this_program_run_the_same_way(tmp_path):
    import sys
    assert client_program()[0] == sys.executable and client_program()[1].endswith("gui_client.py")
    (tmp_path / "ChatClient.exe").write_text("")
    assert client_program(str(tmp_path / "ChatServer.exe"), frozen=True, platform="win32") == \
        [str(tmp_path / "ChatClient.exe")]
    mac = tmp_path / "ChatServer.app" / "Contents" / "MacOS" / "ChatServer"
    client = tmp_path / "ChatClient.app" / "Contents" / "MacOS" / "ChatClient"
    client.parent.mkdir(parents=True)
    client.write_text("")
    assert client_program(str(mac), frozen=True, platform="darwin") == \
        [str(tmp_path / "ChatClient.app" / "Contents" / "MacOS" / "ChatClient")]
    assert local_server(("::", 5003)) == "127.0.0.1:5003" and local_server(("0.0.0.0", 7)) == "127.0.0.1:7"
    assert local_server(("::1", 5003)) == "[::1]:5003" and local_server(("192.0.2.2", 5)) == "192.0.2.2:5"


def test_a_taken_port_moves_to_the_next_free_one_and_all_taken_is_one_sentence():
    from chatfront.wording import explain
    base = free_base()
    stranger = start_server("127.0.0.1", base, stats=False)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as squatter:
        squatter.bind(("127.0.0.1", base + 1))
        ours = start_server(None, base, stats=False, tries=FALLBACK_PORTS)
        try:
            assert ours.address[1] == base + 2
            with pytest.raises(PortBusyError) as info:
                start_server(None, base, stats=False, tries=3)
            assert explain(info.value) == (f"Ports {base} to {base + 2} are all in use, probably by other "
                                           "chat servers; choose another port.")
            with pytest.raises(PortBusyError) as info:
                start_server(None, base, stats=False)          # without the fallback, as before
            assert info.value.last is None
        finally:
            ours.close()
            stranger.close()


@pytest.mark.gui
def test_the_window_moves_and_opens_its_clients_only_once_listening(tk_root):
    from chatui.server_window import PortDialog, ServerApp
    base = free_base()
    launched = []

    def launch(names, address):
        launched.append((names, address))
        return []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as squatter:
        squatter.bind(("127.0.0.1", base))
        app = ServerApp(tk_root, tk_root._palette, None, base, tries=FALLBACK_PORTS,
                        open_names=("alice", "bob"), launch=launch)
    try:
        assert app.transport.address[1] == base + 1
        assert launched == [(("alice", "bob"), app.transport.address)]      # its real port, bound
        assert (f"Port {base} is taken (another chat server or program has it), so this room listens "
                f"on port {base + 1}.") in app.view.history.content()
        text = app.view.history.content()
        assert text.index(f"Port {base} is taken") < text.index("Listening on")   # why, before where
        assert tk_root.title().endswith(f"port {base + 1}")
    finally:
        app.transport.close()


@pytest.mark.gui
def test_every_port_taken_is_the_dialog_and_no_client_starts_behind_it(tk_root):
    from chatui.server_window import PortDialog, ServerApp
    base = free_base()
    launched = []
    squatters = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(2)]
    try:
        for i, s in enumerate(squatters):
            s.bind(("127.0.0.1", base + i))
        app = ServerApp(tk_root, tk_root._palette, None, base, tries=2, open_names=("alice",),
                        launch=lambda names, address: launched.append(address) or [])
        [d] = [w for w in tk_root.winfo_children() if isinstance(w, PortDialog)]
        assert d.message.cget("text").startswith(f"Ports {base} to {base + 1} are all in use")
        assert d.port.get() == str(base + 2) and launched == []
        d.listen()                                       # the suggested port: the clients start now
        assert app.transport.address[1] == base + 2 and launched == [app.transport.address]
    finally:
        for s in squatters:
            s.close()
        app.transport.close()


@pytest.mark.gui
@pytest.mark.timeout(90)
def test_the_opened_client_windows_join_the_moved_room_not_the_strangers(tk_root, config_dir):
    """For real: the stranger's chat server holds the first port; the server
    window moves and starts two ChatClient programs (under the same Xvfb)."""
    from chatui.server_window import ServerApp
    base = free_base()
    stranger = start_server("127.0.0.1", base, stats=False)
    app = None
    try:
        app = ServerApp(tk_root, tk_root._palette, None, base, tries=FALLBACK_PORTS, open_names=("alice", "bob"))
        assert app.transport.address[1] == base + 1 and len(app.children) == 2
        pump(tk_root, lambda: {"alice", "bob"} <= set(app.present.values()), timeout=60,
             what="alice and bob in the moved room")
        strangers = []
        while not stranger.events.empty():
            strangers.append(stranger.events.get_nowait())
        assert not [e for e in strangers if type(e).__name__ == "MemberJoined"]
    finally:
        stranger.close()
        for child in (app.children if app else []):
            child.terminate()
        for child in (app.children if app else []):
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait(timeout=5)
        if app is not None and app.transport is not None:
            app.transport.close()


@pytest.mark.gui
@pytest.mark.timeout(90)
def test_the_headless_server_moves_and_its_opened_client_joins_there(xvfb_display, tmp_path):
    """The headless server with --open-clients, for real: the client window it starts
    (under Xvfb) joins the moved room, and the stranger's room sees nobody."""
    import subprocess as sp
    from tests.test_headless import Proc
    base = free_base()
    stranger = start_server("127.0.0.1", base, stats=False)
    env = {"DISPLAY": xvfb_display, "LANCHAT_CONFIG_DIR": str(tmp_path / "cfg")}
    srv = Proc("gui_server.py", "--headless", "--host", "127.0.0.1", "--port", str(base), "--port-fallback",
               "--open-clients", "ana", "--data-dir", str(tmp_path / "data"), env=env)
    try:
        srv.expect(rf"Port {base} is taken")
        srv.expect(rf"listening on 127\.0\.0\.1:{base + 1}")
        srv.expect(r"ana joined", timeout=60)
        assert not [e for e in _drain(stranger) if type(e).__name__ == "MemberJoined"]
        srv.send("exit")
        srv.send("exit")                              # a room with a member asks to be sure
        status, lines, _err = srv.finish(timeout=20)  # its output ends though ana's window is still open
        assert status == 0 and "the room is closed" in lines[-1]
    finally:
        stranger.close()
        srv.p.kill()
        # The opened client outlives the server by design (a window someone may still read): end it here.
        sp.run(["pkill", "-f", f"--server 127.0.0.1:{base + 1} --name ana"], capture_output=True)


def _drain(transport) -> list:
    out = []
    while not transport.events.empty():
        out.append(transport.events.get_nowait())
    return out
