"""What a typed line means: a chat line or a slash command. Pure parsing."""
from __future__ import annotations

from dataclasses import dataclass

HELP = """Commands:
  /msg NAME TEXT   a private line to one member
  /me ACTION       an action line (* alice waves)
  /nick NEWNAME    change your name
  /who             list the members
  /help            this help
  exit or /quit    leave the room"""


@dataclass(frozen=True)
class Say:
    text: str
    action: bool = False


@dataclass(frozen=True)
class Msg:
    to: str
    text: str


@dataclass(frozen=True)
class Nick:
    name: str


@dataclass(frozen=True)
class Who:
    pass


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class Quit:
    pass


@dataclass(frozen=True)
class Invalid:
    """A line that looks like a command but is not one; ``reason`` says why."""

    reason: str


Command = Say | Msg | Nick | Who | Help | Quit | Invalid


def parse(line: str) -> Command | None:
    """The command a typed line asks for, or None for a blank line.

    ``//text`` sends ``/text`` literally, for lines that start with a slash.
    """
    text = line.rstrip("\r\n")
    stripped = text.strip()
    if not stripped:
        return None
    if stripped.lower() in ("exit", "/quit", "/exit"):
        return Quit()
    if not stripped.startswith("/"):
        return Say(text)
    if stripped.startswith("//"):
        return Say(stripped[1:])
    word, _, rest = stripped.partition(" ")
    word, rest = word.lower(), rest.strip()
    if word == "/msg":
        to, _, body = rest.partition(" ")
        if not to or not body.strip():
            return Invalid("Usage: /msg NAME TEXT")
        return Msg(to, body.strip())
    if word == "/me":
        return Say(rest, action=True) if rest else Invalid("Usage: /me ACTION")
    if word == "/nick":
        return Nick(rest) if rest else Invalid("Usage: /nick NEWNAME")
    if word == "/who":
        return Who()
    if word == "/help":
        return Help()
    return Invalid(f"Unknown command {word}; type /help for the list.")
