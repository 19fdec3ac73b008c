"""Screenshots of the client window's history (issue 13), light and dark:
an earlier block, a missed block, the search bar, a closed room.

Run: ``.venv/bin/python docs/screenshots/take_history_screenshots.py`` (needs
Xvfb and ImageMagick's ``import``). The events come from a stand-in transport
(no network), with times a few minutes and a few days before the picture.
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

NOW = time.time() - 600                   # the window's own notices say the real time: the lines agree
MON = NOW - 3 * 86400 + 7 * 3600           # three days ago, two days ago
TUE = NOW - 2 * 86400 - 3600

PAST = [(MON, "chen", "anyone bringing a switch tomorrow?"), (MON + 50, "bob", "I have an 8-port one"),
        (MON + 95, "chen", "great, bring it please"), (TUE, "maria", "slides from yesterday: https://example.org/lan"),
        (TUE + 40, "bob", "thanks! the café downstairs opens at 8 by the way"),
        (TUE + 130, "chen", "see you all on Thursday")]
MISSED = [(NOW + 120, "chen", "the projector is in room 3 now"), (NOW + 160, "bob", "brings coffee ☕", True),
          (NOW + 220, "maria", "quiz starts at 11")]


def lines(rows, first_seq: int) -> tuple[ev.HistoryLine, ...]:
    return tuple(ev.HistoryLine(first_seq + i, r[0], r[1], r[2], len(r) > 3) for i, r in enumerate(rows))


def scene(mode: str, which: str) -> None:
    from chatui.app import make_root
    from chatui.client_window import ClientApp
    os.environ["LANCHAT_CONFIG_DIR"] = "/tmp/lanchat-screens"
    root, palette = make_root("ChatClient", mode)
    root.geometry("760x520+0+0")
    made: list[Stand] = []
    app = ClientApp(root, palette, "192.168.1.20:5002", "alice",
                    start=lambda s, n: made.append(Stand(s, n)) or made[-1])
    put = made[0].events.put
    members = ("alice", "bob", "chen", "maria", "server")
    if which == "earlier":                  # alice joins for the first time: the room's last lines, dimmed
        put(ev.Connected("alice", "192.168.1.20:5002", members))
        put(ev.HistoryLines("earlier", lines(PAST, 95), more=94))
        put(ev.RoomLine(101, "bob", "welcome alice!", at=NOW + 5))
        put(ev.RoomLine(102, "maria", "hi alice, the slides are above", at=NOW + 30))
    else:                                   # alice comes back: her own copy, then what she missed
        put(ev.HistoryLines("stored", lines(PAST, 95)))
        put(ev.Connected("alice", "192.168.1.20:5002", members))
        put(ev.RoomLine(101, "alice", "morning! back in 10 minutes", own=False, at=NOW))
        put(ev.HistoryLines("missed", lines(MISSED, 102)))
        put(ev.RoomLine(105, "bob", "welcome back alice", at=NOW + 300))
    pump(root, 0.8)
    if which == "search":
        app.view.open_search()
        app.view.search.var.set("cafe")
        put(ev.SearchResults("cafe", (ev.HistoryLine(99, TUE + 40, "bob", PAST[4][2]),
                                      ev.HistoryLine(12, TUE - 86400 * 6, "chen", "café or tea after the match?"))))
        pump(root, 0.5)
        app.view.search.choose(0)
        app.view.search.list.focus_set()
        pump(root, 0.3)
    if which == "closed":
        put(ev.ServerClosed("The server closed the room."))
        pump(root, 0.5)
    shoot(root, f"history-{which}-{mode}.png")


def main() -> None:
    from tests.xvfb import Xvfb
    with Xvfb():
        for mode in ("light", "dark"):
            for which in ("earlier", "missed", "search", "closed"):
                subprocess.run([sys.executable, __file__, "--scene", mode, which], check=True, timeout=60)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--scene":
        scene(sys.argv[2], sys.argv[3])
    else:
        main()
