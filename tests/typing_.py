"""Typing a line as a person does: parsed once (chatfront.commands), then one typed call.

Works on an engine and on a transport alike: both have say, private, nick and who.
"""
from __future__ import annotations

from chatfront.commands import parse, perform


def typed(client, line: str) -> None:
    cmd = parse(line)
    assert cmd is not None, f"{line!r} is blank"
    left = perform(cmd, client)
    assert left is None, f"{line!r} is not for the room: {left}"
