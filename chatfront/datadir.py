"""The server's data folder: where what must outlive a run is kept (the bans).

platformdirs knows where each system wants per-user data; without it the same
places are worked out here, as chatui/settings.py does for the config folder
(same application name, ``LanChat``). ``--data-dir`` overrides it, and so does
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
    try:
        from platformdirs import user_data_dir
        return user_data_dir(APP, appauthor=False)
    except ImportError:
        home = os.path.expanduser("~")
        if os.name == "nt":             # where platformdirs puts it too
            return os.path.join(os.environ.get("LOCALAPPDATA", home), APP)
        if sys.platform == "darwin":
            return os.path.join(home, "Library", "Application Support", APP)
        return os.path.join(os.environ.get("XDG_DATA_HOME") or os.path.join(home, ".local", "share"), APP)
