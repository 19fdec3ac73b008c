"""Screenshots of the member lists with a class of 150 and of the history's
right-click menu, light and dark.

Run: ``.venv/bin/python docs/screenshots/take_lists_screenshots.py`` (needs
Xvfb and ImageMagick's ``import``). The events come from a stand-in transport,
so the lists hold exactly the class below. Writes PNGs next to this file.
"""
from __future__ import annotations

import os
import queue
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from standin import pump, shoot  # noqa: E402
from udpcore import events as ev          # noqa: E402

FIRST = ["ana", "Álvaro", "beatriz", "Bruno", "caio", "Camila", "daniel", "Débora", "eduardo", "Élida",
         "felipe", "Fernanda", "gabriel", "Giovana", "heitor", "Helena", "igor", "Isabela", "joão", "Júlia",
         "lucas", "Larissa", "mateus", "Mariana", "nicolas", "Natália", "otávio", "Olívia", "pedro", "Paula",
         "rafael", "Renata", "samuel", "Sofia", "thiago", "Tainá", "vinícius", "Valentina", "yuri", "Zoë"]
LAST = ["silva", "souza", "santos", "oliveira"]
ME = "luísa"


def classroom() -> list[str]:
    names = [ME, "server"] + [f"{f}_{s}" if i % 3 else f for i, f in enumerate(FIRST) for s in LAST[:1]]
    i = 0
    while len(names) < 150:
        f, s = FIRST[i % len(FIRST)], LAST[1 + (i // len(FIRST)) % 3]
        names.append(f"{f}_{s}")
        i += 1
    return list(dict.fromkeys(names))[:150]


class Stand:
    def __init__(self, *args) -> None:
        self.events: queue.Queue = queue.Queue()
        self.server_label = "192.168.1.20:5002"
        self.address = ("0.0.0.0", 5002)
        self.label = "192.168.1.20:5002"
        self.room = "Sala 3"

    def __getattr__(self, method):
        return lambda *a, **kw: None


def client_scene(mode: str, which: str) -> None:
    from chatui.app import make_root
    from chatui.client_window import ClientApp
    os.environ["LANCHAT_CONFIG_DIR"] = "/tmp/lanchat-screens"
    root, palette = make_root("ChatClient", mode)
    root.geometry("760x520+0+0")
    made: list[Stand] = []
    app = ClientApp(root, palette, "192.168.1.20:5002", ME, start=lambda s, n: made.append(Stand()) or made[-1])
    put = made[0].events.put
    now = time.time() - 300
    put(ev.Connected(ME, "192.168.1.20:5002", tuple(classroom())))
    put(ev.RoomLine(1, "Mariana_silva", "bom dia! a prova começa às 10h", at=now))
    put(ev.RoomLine(2, "joão", "alguém sabe o endereço do servidor da sala 3?", at=now + 20))
    put(ev.RoomLine(3, "Bruno_silva", "é 192.168.1.20:5002, o mesmo de ontem", at=now + 45))
    put(ev.RoomLine(4, "Álvaro", "valeu!", at=now + 60))
    put(ev.RoomLine(5, "server", "Lembrete: celulares no silencioso durante a prova.", at=now + 90))
    put(ev.RoomLine(6, "Débora_silva", "luísa, você trouxe o carregador?", at=now + 120))
    pump(root, 0.8)
    if which == "filter":
        members = app.view.members
        members.tree.focus_set()
        members.filter_var.set("mar")
        members.filter.focus_set()
        members.filter.icursor("end")
        pump(root, 0.3)
        shoot(root, f"members-filter-{mode}.png")
    elif which == "menu":
        text = app.view.history.text
        index = text.search("carregador", "1.0")
        x, y, _w, h = text.bbox(index)
        text.focus_set()
        menu = app.view.keys.menu(index)
        menu.post(text.winfo_rootx() + x, text.winfo_rooty() + y + h)
        menu.activate(3)
        pump(root, 0.4)
        shoot(root, f"history-menu-{mode}.png", screen=True)
        menu.unpost()
    else:
        app.view.entry.var.set("oi Dé")
        app.view.entry.entry.icursor("end")
        app.view.keys.completer.tab()              # Tab: "oi Débora_silva "
        pump(root, 0.3)
        shoot(root, f"members-150-{mode}.png")


def server_scene(mode: str) -> None:
    from chatui.app import make_root
    from chatui.server_window import ServerApp
    os.environ["LANCHAT_CONFIG_DIR"] = "/tmp/lanchat-screens"
    os.environ["LANCHAT_DATA_DIR"] = "/tmp/lanchat-screens-data"
    root, palette = make_root("ChatServer", mode)
    root.geometry("1000x720+0+0")
    app = ServerApp(root, palette, "127.0.0.1", 5002, start=lambda *a, **kw: Stand(), keep_history=False)
    rows = tuple(ev.MemberInfo(n, f"192.168.1.{10 + i}:{40000 + i * 7}", float((i * 37) % 600), False,
                               300.0 if n == "caio" else 0.0)
                 for i, n in enumerate(n for n in classroom() if n != "server"))
    app.handle([ev.Stats(rows)])
    app.view.members.sort_by("heard")
    pump(root, 0.8)
    shoot(root, f"server-members-150-{mode}.png")


def main() -> None:
    from tests.xvfb import Xvfb
    with Xvfb():
        for mode in ("light", "dark"):
            for which in ("members", "filter", "menu", "server"):
                subprocess.run([sys.executable, __file__, "--scene", mode, which], check=True, timeout=60)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--scene":
        if sys.argv[3] == "server":
            server_scene(sys.argv[2])
        else:
            client_scene(sys.argv[2], sys.argv[3])
    else:
        main()
