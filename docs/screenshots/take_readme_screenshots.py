"""The README's pictures (issue 15): a client window with a short, friendly
conversation, and the server window of the same room with the operator
answering one member privately; in English and in Portuguese, light and dark
(readme-{client,server}-{en,pt}-{light,dark}.png).

Run: ``.venv/bin/python docs/screenshots/take_readme_screenshots.py`` (needs
Xvfb and ImageMagick's ``import``). The events come from a stand-in transport
(no network); the window's own words follow ``use_language`` (and the
Portuguese ones run with LANG=pt_BR.UTF-8 too).
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


ROOM = {"en": "Lab 3", "pt": "Laboratório 3"}
MEMBERS = (("alice", "192.168.1.31:50112", 2.0), ("bob", "192.168.1.44:50931", 9.0),
           ("chen", "192.168.1.52:51003", 31.0), ("maria", "192.168.1.60:49876", 1.0))
SERVER_LINES = {
    "en": [("server", "welcome to Lab 3! the slides are on the projector"),
           ("bob", "morning everyone!"),
           ("maria", "hi bob — did anyone get the slides from yesterday?"),
           ("chen", "yes: https://example.org/lan-slides")],
    "pt": [("server", "bem-vindos ao Laboratório 3! os slides estão no projetor"),
           ("bob", "bom dia, pessoal!"),
           ("maria", "oi bob — alguém pegou os slides de ontem?"),
           ("chen", "sim: https://example.org/lan-slides")],
}
ASKED = {"en": "can I show my project on the projector after the break?",
         "pt": "posso mostrar meu projeto no projetor depois do intervalo?"}
ANSWER = {"en": "sure, you're first after the break", "pt": "claro, você é a primeira depois do intervalo"}


class ServerStand(Stand):
    """A server transport that does nothing, listening on a LAN address."""

    def __init__(self, room: str) -> None:
        super().__init__("", "server")
        self.address, self.room = ("192.168.1.20", 5002), room


def server_scene(mode: str, lang: str) -> None:
    """Four members, a few lines, a private question to the operator and the answer
    being typed to her (the To: chip), this machine's network under the list."""
    from chatfront.i18n import use_language
    use_language([lang])
    from chatui import server_window
    from chatui.app import SERVER_WINDOW, make_root
    short = "pt" if lang.startswith("pt") else "en"
    server_window.local_networks = lambda: [("wlan0", "192.168.1.20", 24)]
    root, palette = make_root("ChatServer", mode)
    root.geometry("{}x{}+0+0".format(*SERVER_WINDOW[:2]))      # the size it opens at
    stand = ServerStand(ROOM[short])
    app = server_window.ServerApp(root, palette, "192.168.1.20", 5002, room=ROOM[short],
                                  data_dir=f"/tmp/lanchat-screens-readme-server-{lang}-{mode}",
                                  start=lambda *a, **kw: stand)
    put = stand.events.put
    soon = time.time()                            # after the joins, which the window times itself
    for name, address, _idle in MEMBERS:
        put(ev.MemberJoined(name, address))
    for i, (who, text) in enumerate(SERVER_LINES[short], start=1):
        put(ev.RoomLine(i, who, text, at=soon + 25 * i))
    put(ev.PrivatePassed("bob", "alice"))
    put(ev.RoomLine(0, "maria", ASKED[short], private_to="server", at=soon + 150))
    members = tuple(ev.MemberInfo(n, a, idle) for n, a, idle in MEMBERS)
    put(ev.Stats(members, relayed=5, looked=(("192.168.1.77", 4.0),)))
    pump(root, 0.6)
    app.answer_last()                             # Ctrl+R: the operator answers maria
    app.view.entry.prefill(ANSWER[short])
    pump(root, 0.3)
    shoot(root, f"readme-server-{short}-{mode}.png")


def main() -> None:
    from tests.xvfb import Xvfb
    with Xvfb():
        for lang in ("en", "pt_BR"):
            env = dict(os.environ, LANG="pt_BR.UTF-8" if lang == "pt_BR" else "en_US.UTF-8")
            for what in ("--scene", "--server-scene"):
                for mode in ("light", "dark"):
                    subprocess.run([sys.executable, __file__, what, mode, lang], check=True, timeout=60, env=env)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--scene":
        scene(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 4 and sys.argv[1] == "--server-scene":
        server_scene(sys.argv[2], sys.argv[3])
    else:
        main()
