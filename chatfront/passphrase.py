"""Where a room's passphrase comes from: a file, or the LANCHAT_PASSPHRASE environment variable.

Never an option's value: the command line of a running program is visible to
every user of the machine (``ps``, Task Manager). A file is read as UTF-8 (a
byte-order mark from Notepad is dropped) and only its trailing line end is
removed, so spaces inside or at the edges of the passphrase are kept.
"""
from __future__ import annotations

import os
from collections.abc import Mapping

from udpcore import ChatError

ENV_VAR = "LANCHAT_PASSPHRASE"
MAX_CHARS = 200             # a passphrase, not a file: longer is a mistake (the wrong file)


class PassphraseProblem(ChatError):
    """The passphrase file cannot be read, or what it holds cannot be a passphrase.
    ``what``: "unreadable" (with the system's ``detail``), "empty" or "too long"."""

    def __init__(self, source: str, what: str, detail: str = "") -> None:
        super().__init__(f"{source}: {what} {detail}".strip())
        self.source = source
        self.what = what
        self.detail = detail


def check(passphrase: str, source: str) -> str:
    """``passphrase`` if it can be one; PassphraseProblem otherwise."""
    if not passphrase:
        raise PassphraseProblem(source, "empty")
    if len(passphrase) > MAX_CHARS:
        raise PassphraseProblem(source, "too long")
    return passphrase


def passphrase_from(file: str | None, environ: Mapping[str, str] = os.environ) -> str:
    """The passphrase ``--passphrase-file`` or the environment gives (the file first), or ""."""
    if file:
        try:
            with open(file, encoding="utf-8-sig") as f:
                text = f.read(MAX_CHARS * 4 + 3)
        except (OSError, UnicodeDecodeError) as exc:
            raise PassphraseProblem(file, "unreadable", getattr(exc, "strerror", None) or str(exc)) from None
        return check(text.removesuffix("\n").removesuffix("\r"), file)
    value = environ.get(ENV_VAR, "")
    return check(value, ENV_VAR) if value else ""
