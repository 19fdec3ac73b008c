"""The README's pictures (issue 15): a client window with a short, friendly
conversation, in English and in Portuguese, light and dark
(readme-client-{en,pt}-{light,dark}.png).

Run: ``.venv/bin/python docs/screenshots/take_readme_screenshots.py`` (needs
Xvfb and ImageMagick's ``import``). The events come from a stand-in transport
(no network); the window's own words follow ``use_language``.
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
from udpcore import events as ev          # noqa: E402

NOW = time.time() - 300                   # the window's own notices say the real time: the lines agree

LINES = {
    "en": [("bob", "morning everyone!"),
           ("maria", "hi bob — did anyone get the slides from yesterday?"),
           ("chen", "yes: https://example.org/lan-slides"),
           ("alice", "thanks chen! see you all in the lab at 10"),
           ("bob", "alice, can you bring the HDMI adapter?"),
           ("alice", "sure, it's in my bag")],
    "pt": [("bob", "bom dia, pessoal!"),
           ("maria", "oi bob — alguém pegou os slides de ontem?"),
           ("chen", "sim: https://example.org/lan-slides"),
           ("alice", "valeu, chen! nos vemos no laboratório às 10"),
           ("bob", "alice, você pode trazer o adaptador HDMI?"),
           ("alice", "claro, está na minha mochila")],
}
DRAFT = {"en": "on my way!", "pt": "já estou indo!"}
PRIVATE = {"en": "saved you a seat by the window", "pt": "guardei um lugar pra você perto da janela"}


def scene(mode: str, lang: str) -> None:
    from chatfront.i18n import use_language
    use_language([lang])
    from chatui.app import make_root
    from chatui.client_window import ClientApp
    os.environ["LANCHAT_CONFIG_DIR"] = f"/tmp/lanchat-screens-readme-{lang}-{mode}"
    short = "pt" if lang.startswith("pt") else "en"
    root, palette = make_root("ChatClient", mode)
    root.geometry("760x440+0+0")
    made: list[Stand] = []
    app = ClientApp(root, palette, "192.168.1.20:5002", "alice",
                    start=lambda s, n: made.append(Stand(s, n)) or made[-1])
    app._has_focus = lambda: True                 # alice is looking: no "new since you left" marker
    put = made[0].events.put
    put(ev.Connected("alice", "192.168.1.20:5002", ("alice", "bob", "chen", "maria", "server")))
    for i, (who, text) in enumerate(LINES[short][:4], start=1):
        put(ev.RoomLine(i, who, text, own=who == "alice", at=NOW + 25 * i))
    put(ev.RoomLine(0, "chen", PRIVATE[short], private_to="alice", at=NOW + 130))
    for i, (who, text) in enumerate(LINES[short][4:], start=5):
        put(ev.RoomLine(i, who, text, own=who == "alice", at=NOW + 25 * i + 40))
    pump(root, 0.6)
    app.view.entry.prefill(DRAFT[short])          # she is typing her answer
    pump(root, 0.3)
    shoot(root, f"readme-client-{short}-{mode}.png")


def main() -> None:
    from tests.xvfb import Xvfb
    with Xvfb():
        for lang in ("en", "pt_BR"):
            for mode in ("light", "dark"):
                subprocess.run([sys.executable, __file__, "--scene", mode, lang], check=True, timeout=60)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--scene":
        scene(sys.argv[2], sys.argv[3])
    else:
        main()
