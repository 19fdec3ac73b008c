"""The bans, kept across restarts in the data folder as ``bans.json``.

The file is small JSON with a version, so a later program can change it
knowingly: ``{"version": 1, "bans": [{"name": "bob", "address": "127.0.0.5"}]}``.
It is written whole and atomically (a temporary file in the same folder,
flushed to disk, then renamed over the old one), so a crash or a full disk
leaves either the old list or the new one, never half of one.

A file that cannot be read never stops the room and is never lost quietly:
it is renamed aside (``bans.json.corrupt-<time>``), the room starts with no
bans, and the one sentence that says so is handed back to be shown. If it
cannot even be renamed, it is left alone and this run does not write over it.
"""
from __future__ import annotations

import json
import os
import time

from udpcore import events as ev

from .wording import bans_kept_aside, bans_left_alone, bans_not_saved

FILE_NAME = "bans.json"
VERSION = 1


class BanFile:
    """``load()`` once at start, ``save(bans)`` after every change."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self.path = os.path.join(folder, FILE_NAME)
        self.writable = True          # False: a file we could not read or set aside is left as it is

    def load(self) -> tuple[tuple[ev.Ban, ...], str | None]:
        """The bans in the file, and a sentence when the file had to be set aside."""
        try:
            with open(self.path, "rb") as f:
                raw = f.read()
        except FileNotFoundError:
            return (), None
        except OSError as exc:
            return (), self._set_aside(exc.strerror or str(exc))
        try:
            data = json.loads(raw.decode("utf-8"))
            if not isinstance(data, dict) or data.get("version") != VERSION:
                raise ValueError("not a version 1 bans file")
            bans = tuple(_ban(item) for item in data["bans"])
        except (ValueError, KeyError, TypeError) as exc:      # UnicodeDecodeError is a ValueError
            return (), self._set_aside(str(exc))
        return bans, None

    def _set_aside(self, detail: str) -> str:
        kept = f"{self.path}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}"
        n = 1
        while os.path.exists(kept):
            kept = f"{self.path}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}-{n}"
            n += 1
        try:
            os.replace(self.path, kept)
        except OSError as exc:
            self.writable = False
            return bans_left_alone(self.path, exc.strerror or detail)
        return bans_kept_aside(self.path, kept)

    def save(self, bans: tuple[ev.Ban, ...]) -> str | None:
        """Write the whole list; None when done, else the sentence saying it was not."""
        if not self.writable:
            return bans_not_saved(self.path, "")
        data = {"version": VERSION, "bans": [{"name": b.name, "address": b.address} for b in bans]}
        import tempfile          # here, not at the top: the headless server's start-up does not pay for it
        tmp = None
        try:
            os.makedirs(self.folder, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=FILE_NAME + ".", suffix=".tmp", dir=self.folder)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(data, f, indent=1, ensure_ascii=False)
                f.write("\n")
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
            tmp = None
            _sync_folder(self.folder)
        except OSError as exc:
            return bans_not_saved(self.path, exc.strerror or str(exc))
        finally:
            if tmp is not None:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
        return None


def _ban(item: object) -> ev.Ban:
    if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
        raise ValueError(f"not a ban: {item!r}")
    address = item.get("address", "")
    if not isinstance(address, str):
        raise ValueError(f"not an address: {address!r}")
    return ev.Ban(item["name"], address)


def _sync_folder(folder: str) -> None:
    """The rename itself reaches the disk only when the folder is synced (POSIX)."""
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
