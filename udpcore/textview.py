"""One line of text for each event, as the terminal programs print them.

Room lines are ``NAME: TEXT`` (scripts can split on the first ': '); notices
start with ``*``. Kept apart from the programs so both print alike.
"""
from __future__ import annotations

from . import events as ev


def describe(e: ev.Event, me: str = "") -> str | None:
    """The line to print for ``e``, or None for events that print nothing."""
    match e:
        case ev.RoomLine(sender=s, text=t, action=True, private_to=None):
            return f"* {s} {t}"
        case ev.RoomLine(sender=s, text=t, private_to=None):
            return f"{s}: {t}"
        case ev.RoomLine(sender=s, text=t, action=a, private_to=to):
            where = f"(private to {to})" if s == me or not me else "(private)"
            return f"* {s} {where} {t}" if a else f"{s} {where}: {t}"
        case ev.MemberJoined(name=n, address=addr, guest=g):
            who = "guest " if g else ""
            return f"* {who}{n} joined" + (f" from {addr}" if addr and not g else "")
        case ev.MemberLeft(name=n, reason="left"):
            return f"* {n} left"
        case ev.MemberLeft(name=n, reason="vanished"):
            return f"* {n} vanished (no answer for 20 seconds)"
        case ev.MemberLeft(name=n, reason="expired"):
            return f"* {n} left (silent for 5 minutes)"
        case ev.MemberLeft(name=n, reason=r):
            return f"* {n} was dropped ({r})"
        case ev.MemberRenamed(old=o, new=n, you=True):
            return f"* you are now known as {n}"
        case ev.MemberRenamed(old=o, new=n):
            return f"* {o} is now known as {n}"
        case ev.MemberList(names=names):
            return f"* {len(names)} in the room: " + ", ".join(names)
        case ev.Connected(name=n, server=s):
            return f"* connected to {s} as {n}"
        case ev.ConnectionLost():
            return "* lost contact with the server; reconnecting..."
        case ev.Reconnected():
            return "* reconnected"
        case ev.Info(text=t):
            return t
        case ev.CommandError(text=t):
            return f"* {t}"
        case ev.Listening(host=h, port=p):
            from .addresses import format_addr
            return f"listening on {format_addr((h, p))}"
    return None
