"""What the screenshot scripts share: a stand-in transport, the Tk pump, the camera.

The windows are shown with events put on the stand-in's queue by hand: no network,
so each picture is the same every time. Run the scripts under Xvfb (see each script).
"""
from __future__ import annotations

import queue
import subprocess
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


class Stand:
    """A client transport that does nothing: the script feeds ``events`` itself."""

    def __init__(self, server: str, name: str) -> None:
        self.events: queue.Queue = queue.Queue()
        self.server_label, self.name = server, name

    def __getattr__(self, method):
        return lambda *a, **kw: None


def memory_keychain() -> None:
    """An in-memory keychain in place of the desktop's, which this display has none of:
    what the connect form's "Remember on this computer" keeps lives for the script."""
    import keyring
    import keyring.backend

    class Memory(keyring.backend.KeyringBackend):
        priority = 1
        kept: dict = {}

        def get_password(self, service, user):
            return self.kept.get((service, user))

        def set_password(self, service, user, password):
            self.kept[(service, user)] = password

        def delete_password(self, service, user):
            self.kept.pop((service, user), None)
    keyring.set_keyring(Memory())


def pump(root, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        root.update()
        time.sleep(0.01)


def shoot(root, name: str, screen: bool = False) -> None:
    """The window (with its frame) as ``HERE/name``; ``screen``: the screen's part where the
    window is, for a posted menu, which is a window of its own."""
    root.update()
    if screen:
        w, h = root.winfo_width(), root.winfo_height()
        subprocess.run(["import", "-window", "root", "-crop", f"{w}x{h}+0+0", "+repage", str(HERE / name)],
                       check=True)
    else:
        subprocess.run(["import", "-window", root.wm_frame(), str(HERE / name)], check=True)
