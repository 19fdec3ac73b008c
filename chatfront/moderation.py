"""The operator's own commands, parsed once, at the edge, like chatfront.commands.

``/kick NAME [REASON]``, ``/mute NAME MINUTES`` (0 unmutes), ``/ban NAME [REASON]``,
``/unban NAME`` and ``/bans``. The headless server and the server window both
try :func:`parse_moderation` first, then :func:`chatfront.commands.parse`; the
window's context menu makes the same typed calls through :func:`perform_moderation`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from .commands import Usage

MUTE_CHOICES = (5, 15, 60)        # minutes, as the window's Mute menu offers them


@dataclass(frozen=True)
class Kick:
    name: str
    reason: str = ""


@dataclass(frozen=True)
class Mute:
    name: str
    minutes: int              # 0: unmute


@dataclass(frozen=True)
class Ban:
    name: str
    reason: str = ""


@dataclass(frozen=True)
class Unban:
    name: str


@dataclass(frozen=True)
class Bans:
    pass


Moderation = Kick | Mute | Ban | Unban | Bans
WORDS = ("/kick", "/mute", "/ban", "/unban", "/bans")


def parse_moderation(line: str) -> Moderation | Usage | None:
    """The operator command ``line`` asks for, a Usage when one is used wrongly,
    or None when the line is no operator command (then chatfront.commands.parse)."""
    stripped = line.strip()
    word, _, rest = stripped.partition(" ")
    word, rest = word.lower(), rest.strip()
    if word not in WORDS:
        return None
    name, _, more = rest.partition(" ")
    more = more.strip()
    if word == "/bans":
        return Bans()
    if not name:
        return Usage(word)
    if word == "/kick":
        return Kick(name, more)
    if word == "/ban":
        return Ban(name, more)
    if word == "/unban":
        return Unban(name) if not more else Usage(word)
    if not more.isdigit():                     # /mute: whole minutes, 0 to unmute
        return Usage(word)
    return Mute(name, int(more))


class Operator(Protocol):
    """What :func:`perform_moderation` needs (udpnet.ServerTransport is one)."""

    def kick(self, name: str, reason: str = "") -> None: ...
    def mute(self, name: str, minutes: float) -> None: ...
    def ban(self, name: str, reason: str = "") -> None: ...
    def unban(self, name: str) -> None: ...


def perform_moderation(cmd: Moderation, server: Operator) -> Moderation | None:
    """Make the typed call ``cmd`` asks for; hand back what is the program's own (Bans)."""
    if isinstance(cmd, Kick):
        server.kick(cmd.name, cmd.reason)
    elif isinstance(cmd, Mute):
        server.mute(cmd.name, cmd.minutes)
    elif isinstance(cmd, Ban):
        server.ban(cmd.name, cmd.reason)
    elif isinstance(cmd, Unban):
        server.unban(cmd.name)
    else:
        return cmd
    return None
