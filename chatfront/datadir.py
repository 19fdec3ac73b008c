"""The server's data folder: where what must outlive a run is kept (the bans).

platformdirs knows where each system wants per-user data (same application
name as chatui/settings.py's config folder, ``LanChat``); on Linux and the BSDs
its XDG rule is worked out here instead, and without platformdirs the other
systems' places too. ``--data-dir`` overrides it, and so does
``LANCHAT_DATA_DIR`` (tests, portable installs). The folder is made on the
first write, never just by starting. os.path, not pathlib: this is on the
headless server's start-up path (see chatfront/i18n.py).
"""
from __future__ import annotations

import os
import sys

APP = "LanChat"


def data_dir(override: str | None = None) -> str:
    """The folder to keep the server's data in: ``override`` (``--data-dir``) first."""
    if override:
        return os.path.abspath(os.path.expanduser(override))
    env = os.environ.get("LANCHAT_DATA_DIR")
    if env:
        return os.path.abspath(env)
    home = os.path.expanduser("~")
    if os.name == "posix" and sys.platform != "darwin":
        # The XDG rule, as platformdirs has it, in one line: importing
        # platformdirs (and tempfile behind it) would cost the headless
        # server's start-up some 10-20 ms.
        return os.path.join(os.environ.get("XDG_DATA_HOME", "").strip() or os.path.join(home, ".local", "share"), APP)
    try:
        from platformdirs import user_data_dir
        return user_data_dir(APP, appauthor=False)
    except ImportError:
        if os.name == "nt":             # where platformdirs puts it too
            return os.path.join(os.environ.get("LOCALAPPDATA", home), APP)
        return os.path.join(home, "Library", "Application Support", APP)
