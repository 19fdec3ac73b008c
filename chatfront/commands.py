"""What a typed line means, parsed once, at the edge: a chat line or a slash command.

The windows and the terminal programs parse with :func:`parse`, then a client
does what the command asks with :func:`perform` (typed calls on the transport);
what is for the program itself (help, quit, a mistake) comes back to it.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Protocol


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
class Search:
    """``/search WORDS``: the history's lines that hold every word (accents and case apart)."""

    words: str


@dataclass(frozen=True)
class Save:
    """``/save FILE``: the history written to a text file."""

    path: str


@dataclass(frozen=True)
class Usage:
    """A known command used wrongly; ``command`` is its word (``/msg``)."""

    command: str


@dataclass(frozen=True)
class Unknown:
    """A slash word that is no command."""

    word: str


Command = Say | Msg | Nick | Who | Help | Quit | Search | Save | Usage | Unknown
QUIT_WORDS = ("exit", "/quit", "/exit")


def parse(line: str) -> Command | None:
    """The command a typed line asks for, or None for a blank line.

    ``//text`` sends ``/text`` literally, for lines that start with a slash.
    """
    text = line.rstrip("\r\n")
    stripped = text.strip()
    if not stripped:
        return None
    if stripped.lower() in QUIT_WORDS:
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
            return Usage(word)
        return Msg(to, body.strip())
    if word == "/me":
        return Say(rest, action=True) if rest else Usage(word)
    if word == "/nick":
        return Nick(rest) if rest else Usage(word)
    if word == "/who":
        return Who()
    if word == "/help":
        return Help()
    if word == "/search":
        return Search(rest) if rest else Usage(word)
    if word == "/save":
        return Save(rest) if rest else Usage(word)
    return Unknown(word)


class ChatClient(Protocol):
    """What :func:`perform` needs of a client (udpnet.ClientTransport is one)."""

    def say(self, text: str, *, action: bool = False) -> None: ...
    def private(self, to: str, text: str, *, action: bool = False) -> None: ...
    def nick(self, name: str) -> None: ...
    def who(self) -> None: ...
    def search(self, words: str) -> None: ...
    def save_history(self, path: str) -> None: ...


def perform(cmd: Command, client: ChatClient) -> Command | None:
    """Do what ``cmd`` asks of the room; return it when it is the program's to
    handle instead (Help, Quit, Usage, Unknown), else None."""
    if isinstance(cmd, Say):
        client.say(cmd.text, action=cmd.action)
    elif isinstance(cmd, Msg):
        client.private(cmd.to, cmd.text)
    elif isinstance(cmd, Nick):
        client.nick(cmd.name)
    elif isinstance(cmd, Who):
        client.who()
    elif isinstance(cmd, Search):
        client.search(cmd.words)
    elif isinstance(cmd, Save):
        client.save_history(saved_path(cmd.path))
    else:
        return cmd
    return None


def saved_path(typed: str) -> str:
    """Where ``/save FILE`` writes: ``~`` expanded, relative to the program's folder,
    made absolute so the sentence that confirms it names the file wherever it is read.
    Quotes around it (a name with spaces, as a shell would want it) are dropped."""
    if len(typed) > 1 and typed[0] == typed[-1] and typed[0] in "'\"":
        typed = typed[1:-1]
    return os.path.abspath(os.path.expanduser(typed))
