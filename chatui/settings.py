"""Remembered values (last server and name) in the user's config folder.

platformdirs knows where each system wants that folder; without it the same
places are worked out here. ``LANCHAT_CONFIG_DIR`` overrides both (tests,
portable installs). Remembering is a convenience: no error here stops a window.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

APP = "LanChat"
RECENT = 8              # servers the connect form offers again, newest first


def config_dir() -> Path:
    override = os.environ.get("LANCHAT_CONFIG_DIR")        # tests and portable installs
    if override:
        return Path(override)
    try:
        from platformdirs import user_config_dir
        return Path(user_config_dir(APP, appauthor=False))
    except ImportError:
        if os.name == "nt":             # where platformdirs puts it too
            return Path(os.environ.get("LOCALAPPDATA", Path.home())) / APP
        if sys.platform == "darwin":
            return Path.home() / "Library" / "Application Support" / APP
        return Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config")) / APP


def load() -> dict:
    try:
        data = json.loads((config_dir() / "settings.json").read_text("utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def save(**values) -> None:
    data = load()
    data.update(values)
    try:
        d = config_dir()
        d.mkdir(parents=True, exist_ok=True)
        tmp = d / "settings.json.tmp"
        tmp.write_text(json.dumps(data, indent=2), "utf-8")
        os.replace(tmp, d / "settings.json")
    except OSError:
        pass                    # remembering is a convenience, never a reason to fail


def recent_servers() -> list[str]:
    """The servers joined lately, newest first (what the connect form offers)."""
    found = load().get("recent", [])
    return [s for s in found if isinstance(s, str) and s.strip()][:RECENT] if isinstance(found, list) else []


def remember_join(server: str, name: str) -> None:
    """A join worked: its server goes first among the recent ones, and the name is kept."""
    server = server.strip()
    save(server=server, name=name,
         recent=[server] + [s for s in recent_servers() if s.casefold() != server.casefold()][:RECENT - 1])


NOTIFY = "notify"       # a desktop notification for private lines and lines naming you (default on)
SOUND = "sound"         # a beep with it (default off)


def option(key: str, default: bool) -> bool:
    """A yes-or-no setting; anything but true or false in the file counts as not set."""
    value = load().get(key, default)
    return value if isinstance(value, bool) else default
