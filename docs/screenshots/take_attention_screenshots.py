"""Screenshots of the client window's attention (issue 15), light and dark:
a line naming you highlighted, a private line, the "New since you left"
marker where you left off, and a private line to nobody with its ✗.

Run: ``.venv/bin/python docs/screenshots/take_attention_screenshots.py`` (needs
Xvfb and ImageMagick's ``import``). The events come from a stand-in transport
(no network). ``--lang pt_BR`` takes the Portuguese ones (attention-pt-*.png).
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from standin import Stand, pump, shoot  # noqa: E402
from udpcore import NoSuchMember, events as ev          # noqa: E402

NOW = time.time() - 60          # the pending line and the notice say the real time: the lines agree


def scene(mode: str, lang: str, which: str = "marks") -> None:
    from chatfront.i18n import use_language
    use_language([lang])
    from chatui.app import make_root
    from chatui.client_window import ClientApp
    os.environ["LANCHAT_CONFIG_DIR"] = "/tmp/lanchat-screens-attention"
    root, palette = make_root("ChatClient", mode)
    root.geometry("760x520+0+0")
    made: list[Stand] = []
    app = ClientApp(root, palette, "192.168.1.20:5002", "alice",
                    start=lambda s, n: made.append(Stand(s, n)) or made[-1])
    put = made[0].events.put
    put(ev.Connected("alice", "192.168.1.20:5002", ("alice", "bob", "chen", "maria", "server")))
    pt = lang.startswith("pt")
    if which == "newlines":                       # scrolled up to read: lines below raise "↓ N new"
        for i in range(1, 60):
            put(ev.RoomLine(i, ("bob", "chen", "maria")[i % 3], f"{'mensagem' if pt else 'line'} {i}", at=NOW))
        pump(root, 0.6)
        app.view.history.text.yview_moveto(0.4)
        pump(root, 0.2)
        for i in range(60, 63):
            put(ev.RoomLine(i, "maria", f"{'mensagem' if pt else 'line'} {i}", at=NOW))
        pump(root, 0.5)
        shoot(root, f"attention-newlines-{'pt-' if pt else ''}{mode}.png")
        return
    put(ev.RoomLine(1, "bob", "bom dia, turma" if pt else "morning everyone", at=NOW))
    put(ev.RoomLine(2, "chen", "o laboratório abre às 9" if pt else "the lab opens at 9", at=NOW + 40))
    put(ev.LinePending(7, "oi, tudo certo com a entrega?" if pt else "hi, are we still on for the demo?",
                       private_to="ninguem"))
    put(ev.CommandError(NoSuchMember("ninguem")))
    put(ev.RoomLine(3, "alice", "vou buscar café" if pt else "getting coffee, back soon", own=True, at=NOW + 90))
    pump(root, 0.6)
    app._left()                                   # alice goes for coffee: the window is in the background
    app._has_focus = lambda: False
    put(ev.RoomLine(4, "maria", "a apresentação mudou para a sala 3" if pt else "the talk moved to room 3",
                    at=NOW + 300))
    put(ev.RoomLine(5, "bob", "alice, você pode trazer o adaptador HDMI?" if pt
                    else "alice, can you bring the HDMI adapter?", at=NOW + 360))
    put(ev.RoomLine(0, "chen", "guardei um lugar pra você" if pt else "saved you a seat", private_to="alice",
                    at=NOW + 420))
    pump(root, 0.6)
    del app._has_focus
    app._focused()                                # back: the marker where she left off
    pump(root, 0.4)
    shoot(root, f"attention-{'pt-' if pt else ''}{mode}.png")


def main() -> None:
    from tests.xvfb import Xvfb
    with Xvfb():
        for lang in ("en", "pt_BR"):
            for mode in ("light", "dark"):
                for which in ("marks", "newlines"):
                    subprocess.run([sys.executable, __file__, "--scene", mode, lang, which], check=True, timeout=60)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--scene":
        scene(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        main()
