"""Screenshots of both windows, light and dark, with a small conversation in them.

Run: ``.venv/bin/python docs/screenshots/take_screenshots.py`` (needs Xvfb and
ImageMagick's ``import``). Starts its own Xvfb; writes PNGs next to this file.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))


def submit(client, line: str) -> None:
    """A line typed at a client: parsed and performed as the programs do."""
    from chatfront.commands import parse, perform
    perform(parse(line), client)


def pump(roots, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for r in roots:
            r.update()
        time.sleep(0.01)


def shoot(root, name: str) -> None:
    root.update()
    subprocess.run(["import", "-window", root.wm_frame(), str(HERE / name)], check=True)


def conversation(say_alice, others, server_say, roots, join) -> None:
    """The same small conversation for every screenshot."""
    bob, = others
    submit(bob, "morning all! slides are at https://example.org/lan-party 🎉")
    pump(roots, 0.3)
    chen = join("chen")
    others.append(chen)
    pump(roots, 0.3)
    say_alice("Thanks Bob — I'll grab them now.")
    pump(roots, 0.3)
    submit(chen, "/me brings coffee ☕")
    pump(roots, 0.3)
    server_say("Welcome to the LAN party room. Pizza arrives at 19:00.")
    pump(roots, 0.3)
    submit(bob, "/msg alice can you bring the spare HDMI cable?")
    pump(roots, 0.3)
    submit(chen, "Long lines wrap neatly inside the pane, so a paragraph pasted from somewhere "
                "else stays readable without scrolling sideways.")
    pump(roots, 0.3)
    say_alice("/msg bob sure, it's in my bag")
    pump(roots, 1.5)


def scene(mode: str, which: str) -> None:
    """One window per process, as in the real programs (one Tk root each)."""
    from chatui.app import make_root
    from chatui.client_window import ClientApp
    from chatui.server_window import ServerApp
    from udpnet import start_client, start_server

    os.environ["LANCHAT_CONFIG_DIR"] = "/tmp/lanchat-screens"
    port = 5002 if port_is_free(5002) else 0      # the default port, as a person would see it
    if which == "client":              # the room exists before the window, as for a real user
        transport = start_server(None, port, stats=False)
        port = transport.address[1]
        others = [start_client(f"localhost:{port}", "bob")]
        time.sleep(0.5)
    # Build the window before pumping Tk, as the real programs do (pumping an
    # empty sv-ttk root first leaves later frames in the stock colours).
    root, palette = make_root("ChatServer" if which == "server" else "ChatClient", mode)
    if which == "connect":             # two rooms on this machine, found as on a LAN (probing loopback only)
        os.environ["LANCHAT_DISCOVERY_HOSTS"] = "127.0.0.1"
        rooms = [start_server("127.0.0.1", 0, stats=False, room=name) for name in ("Sala 3", "LAN party")]
        bob = start_client(f"127.0.0.1:{rooms[1].address[1]}", "bob")
        from udpnet import RoomFinder
        root.geometry("620x600+0+0")
        app = ClientApp(root, palette, None, None,
                        find_rooms=lambda: RoomFinder([r.address[1] for r in rooms]))
        app.form.name.set("alice")
        pump([root], 2.0)
        app.form.rooms.tree.selection_set(app.form.rooms.tree.get_children()[1])
        pump([root], 0.3)
        shoot(root, f"connect-{mode}.png")
        return
    if which == "busy":                # another program holds the port: the dialog
        import socket
        squatter = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        squatter.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        squatter.bind(("::", 0))
        root.geometry("900x520+0+0")
        ServerApp(root, palette, None, squatter.getsockname()[1])
        pump([root], 0.5)
        dialog = root.winfo_children()[-1]
        dialog.geometry("+40+40")
        pump([root], 0.5)
        shoot(dialog, f"busy-port-{mode}.png")
        squatter.close()
        return
    if which == "unreachable":         # nobody answers on the port: the real sentence, after 10 s
        import socket
        silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        silent.bind(("127.0.0.1", 0))
        os.environ["LANCHAT_DISCOVERY_HOSTS"] = "127.0.0.1"      # the rooms list probes this machine only
        root.geometry("620x560+0+0")
        app = ClientApp(root, palette, None, None)
        app.form.server.set(f"127.0.0.1:{silent.getsockname()[1]}")
        app.form.name.set("alice")
        app.form.submit()
        end = time.monotonic() + 15
        while "firewall" not in str(app.form.message.cget("text")) and time.monotonic() < end:
            pump([root], 0.1)
        shoot(root, f"unreachable-{mode}.png")
        silent.close()
        return
    if which == "firewall":            # nobody came in for 60 s: the advice box (asked for at once here)
        root.geometry("900x520+0+0")
        server = ServerApp(root, palette, None, port)
        server._firewall_hint()
        pump([root], 0.8)
        shoot(root, f"firewall-{mode}.png")
        server.transport.close()
        return
    if which == "operator":            # the To: chip and the member list's menu, under a window manager
        operator_scene(root, palette, port, mode)
        return
    if which == "locked-server":       # a room locked from the window: the bar, and the dialog that locks it
        locked_server_scene(root, palette, port, mode)
        return
    if which == "connect-passphrase":  # a locked room picked in the list, a wrong passphrase tried
        connect_passphrase_scene(root, palette, mode)
        return
    if which == "server":
        root.geometry("900x520+0+0")
        server = ServerApp(root, palette, None, port)          # every address, as by default
        transport = server.transport
        port = transport.address[1]
        others = [start_client(f"localhost:{port}", "bob")]
        pump([root], 0.5)
        alice = start_client(f"localhost:{port}", "alice")
        def say(text: str) -> None:
            submit(alice, text)
    else:
        root.geometry("760x500+0+0")
        app = ClientApp(root, palette, f"localhost:{port}", "alice")
        pump([root], 1.0)

        def say(text: str) -> None:
            app.view.entry.var.set(text)
            app.view.entry.send()
    pump([root], 1.0)

    def join(name: str):
        c = start_client(f"localhost:{port}", name)
        pump([root], 0.5)
        return c
    conversation(say, others, transport.say, [root], join)
    shoot(root, f"{which}-{mode}.png")
    for c in others:
        c.close(timeout=1)
    transport.close()


def operator_scene(root, palette, port: int, mode: str) -> None:
    """A private target chosen, a member muted, a private line to the operator,
    and the context menu open on another member. The menu is a window of its
    own, so the screen is captured (cropped to the window), not the frame."""
    from chatui.server_window import ServerApp
    from udpnet import start_client
    os.environ["LANCHAT_DATA_DIR"] = "/tmp/lanchat-screens/data"
    root.geometry("900x520+0+0")
    server = ServerApp(root, palette, None, port)
    port = server.transport.address[1]
    people = {n: start_client(f"localhost:{port}", n) for n in ("alice", "bob", "chen", "maria")}
    pump([root], 1.5)
    submit(people["alice"], "morning all! slides are at https://example.org/lan-party")
    submit(people["bob"], "/msg alice see you at lunch?")
    submit(people["maria"], "/msg server could you unmute chen after the quiz?")
    server.mute_member("chen", 15)
    pump([root], 1.5)
    server.write_privately("maria")
    server.view.entry.var.set("sure, in ten minutes")
    pump([root], 0.5)
    tree = server.view.members.tree
    x, y, w, h = tree.bbox("bob")
    menu = server.member_menu("bob")
    menu.post(tree.winfo_rootx() + x + 40, tree.winfo_rooty() + y + h)
    pump([root], 0.5)
    left, top = root.winfo_rootx(), root.winfo_rooty()
    subprocess.run(["import", "-window", "root", "-crop",
                    f"{root.winfo_width()}x{root.winfo_height()}+{left}+{top}", str(HERE / f"operator-{mode}.png")],
                   check=True)
    menu.unpost()
    for c in people.values():
        c.close(timeout=1)
    server.transport.close()


PASSPHRASE = "correct horse battery"


def locked_server_scene(root, palette, port: int, mode: str) -> None:
    """The room locked (as with LANCHAT_PASSPHRASE), two members in, one who
    came without the passphrase turned away; then, opened again, the Lock dialog."""
    from chatui.server_window import ServerApp
    from udpnet import start_client
    os.environ["LANCHAT_DATA_DIR"] = "/tmp/lanchat-screens/data"
    root.geometry("900x520+0+0")
    server = ServerApp(root, palette, None, port, room="LAN party", passphrase=PASSPHRASE)
    port = server.transport.address[1]
    people = [start_client(f"localhost:{port}", n, passphrase=PASSPHRASE) for n in ("alice", "bob")]
    start_client(f"localhost:{port}", "eve")          # no passphrase: refused, never listed
    pump([root], 1.5)
    submit(people[0], "the room is locked now, right?")
    pump([root], 0.3)
    server.transport.say("Yes: only those with tonight's passphrase get in.")
    pump([root], 1.2)
    shoot(root, f"locked-server-{mode}.png")
    server.lock_room("")
    pump([root], 0.3)
    dialog = server.lock_bar.ask()
    dialog.secret.set(PASSPHRASE)
    dialog.geometry("+60+60")
    pump([root], 0.5)
    shoot(dialog, f"lock-dialog-{mode}.png")
    for c in people:
        c.close(timeout=1)
    server.transport.close()


def connect_passphrase_scene(root, palette, mode: str) -> None:
    """The form with a locked room selected and a wrong passphrase tried: the
    sentence, the field kept (selected, to type over), Remember on this computer.
    An in-memory keychain stands in for the desktop's (this display has none)."""
    from standin import memory_keychain
    from chatui.client_window import ClientApp
    from udpnet import RoomFinder, start_server

    memory_keychain()
    os.environ["LANCHAT_DISCOVERY_HOSTS"] = "127.0.0.1"
    rooms = [start_server("127.0.0.1", 0, stats=False, room="Sala 3", passphrase=PASSPHRASE),
             start_server("127.0.0.1", 0, stats=False, room="LAN party")]
    root.geometry("620x680+0+0")
    app = ClientApp(root, palette, None, None, find_rooms=lambda: RoomFinder([r.address[1] for r in rooms]))
    app.form.name.set("alice")
    pump([root], 2.0)
    tree = app.form.rooms.tree
    item = next(i for i, r in app.form.rooms.rows.items() if r.room == "Sala 3")
    tree.selection_set(item)
    pump([root], 0.3)
    app.form.lock_row.secret.set("correct horse battery staple")
    app.form.lock_row.remember.set(True)
    app.form.submit()
    end = time.monotonic() + 10
    while "Wrong" not in str(app.form.message.cget("text")) and time.monotonic() < end:
        pump([root], 0.1)
    pump([root], 0.3)
    shoot(root, f"connect-passphrase-{mode}.png")
    for r in rooms:
        r.close()


def port_is_free(port: int) -> bool:
    import socket
    with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        try:
            s.bind(("::", port))
            return True
        except OSError:
            return False


def main() -> None:
    from tests.xvfb import Xvfb
    with Xvfb():                    # its own display, chosen by Xvfb: DISPLAY for the scenes below
        for mode in ("light", "dark"):
            for which in ("server", "client", "connect", "unreachable", "busy", "operator", "firewall",
                          "locked-server", "connect-passphrase"):
                subprocess.run([sys.executable, __file__, "--scene", mode, which], check=True, timeout=120)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--scene":
        scene(sys.argv[2], sys.argv[3])
    else:
        main()
