"""The client window on a 192-dpi screen (a 4K laptop panel at 200 %): client-192dpi-light.png.

    .venv/bin/python docs/screenshots/take_scaling_screenshots.py [light|dark] [DPI] [client|connect]

Its own Xvfb started with ``-dpi DPI`` (192 unless told); the window made as gui_client.py
makes it, so its size, fonts, paddings and the theme's scroll bars and check boxes are
what such a screen gets. ``client``: the conversation shows a message of several lines,
Portuguese, Hebrew and Arabic in their reading order. ``connect``: the connect form with a
locked room picked, its passphrase field and "Remember on this computer" (an in-memory
keychain stands in for the desktop's). Pictures: client-DPIdpi-MODE.png,
connect-DPIdpi-MODE.png, in this folder or $SHOTS_DIR.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = Path(os.environ.get("SHOTS_DIR", HERE))
sys.path.insert(0, str(HERE.parent.parent))


def pump(root, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        root.update()
        time.sleep(0.01)


def main(mode: str = "light", dpi: int = 192, which: str = "client") -> None:
    from tests.xvfb import Xvfb
    os.environ["LANCHAT_CONFIG_DIR"] = tempfile.mkdtemp()        # no remembered zoom of the user's
    with Xvfb(size="3840x2160x24", dpi=dpi):
        if which == "connect":
            connect_form(mode, dpi)
            return
        from chatfront.commands import parse, perform
        from chatui.app import make_root
        from chatui.client_window import ClientApp
        from chatui.scaling import scaler
        from udpnet import start_client, start_server
        server = start_server("127.0.0.1", 0, stats=False)
        port = server.address[1]
        root, palette = make_root("ChatClient", mode)
        scaler(root).fit_window(root, 760, 520, 480, 340)
        root.geometry("+0+0")
        app = ClientApp(root, palette, f"127.0.0.1:{port}", "alice", find_rooms=None)
        pump(root, 1.0)
        bob = start_client(f"127.0.0.1:{port}", "bob")
        noa = start_client(f"127.0.0.1:{port}", "noa")
        pump(root, 0.5)
        for who, line in ((bob, "bom dia! the slides are at https://example.org/lan-party 🎉"),
                          (noa, "שלום לכולם! (hello everyone)"),
                          (bob, "agenda for today:\n1. pizza at 19:00 ☕\n2. the LAN tournament\n3. prizes")):
            perform(parse(line), who)
            pump(root, 0.3)
        app.view.entry.var.set("مرحبا بكم — welcome, I'll bring the HDMI cable")
        app.view.entry.send()
        pump(root, 0.6)
        perform(parse("/me waves from the back row"), noa)
        pump(root, 0.6)
        app.view.entry.var.set("a second line comes with Shift+Enter:\nlike this")
        pump(root, 1.0)
        subprocess.run(["import", "-window", root.wm_frame(), str(OUT / f"client-{dpi}dpi-{mode}.png")], check=True)
        for c in (bob, noa):
            c.close(timeout=1)
        root.destroy()
        server.close()


def connect_form(mode: str, dpi: int) -> None:
    from standin import memory_keychain
    from chatui.app import make_root
    from chatui.client_window import ClientApp
    from chatui.scaling import scaler
    from udpnet import RoomFinder, start_server

    memory_keychain()
    os.environ["LANCHAT_DISCOVERY_HOSTS"] = "127.0.0.1"
    rooms = [start_server("127.0.0.1", 0, stats=False, room="Sala 3", passphrase="correct horse battery staple"),
             start_server("127.0.0.1", 0, stats=False, room="LAN party")]
    root, palette = make_root("ChatClient", mode)
    scaler(root).fit_window(root, 620, 680, 480, 340)
    root.geometry("+0+0")
    app = ClientApp(root, palette, None, None, find_rooms=lambda: RoomFinder([r.address[1] for r in rooms]))
    app.form.name.set("alice")
    pump(root, 2.0)
    item = next(i for i, r in app.form.rooms.rows.items() if r.room == "Sala 3")
    app.form.rooms.tree.selection_set(item)
    pump(root, 0.3)
    app.form.lock_row.secret.set("correct horse battery staple")
    app.form.lock_row.remember.set(True)
    pump(root, 0.5)
    subprocess.run(["import", "-window", root.wm_frame(), str(OUT / f"connect-{dpi}dpi-{mode}.png")], check=True)
    root.destroy()
    for r in rooms:
        r.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "light", int(sys.argv[2]) if len(sys.argv) > 2 else 192,
         sys.argv[3] if len(sys.argv) > 3 else "client")
