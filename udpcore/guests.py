"""Guests: plain UTF-8 datagrams from programs that do not speak the protocol.

``nc -u HOST 5002`` and the original course-work client send lines of text and
read lines of text. This module is that plain-text format, both ways: lines in,
and the room's lines and notices out, in datagrams of at most MAX_DATAGRAM
bytes. The text out is part of the wire format (guests parse it as they like),
so it stays in English and never goes through the translation function.
"""
from __future__ import annotations

from . import appmsg as m
from .names import clean_text
from .wire import MAX_DATAGRAM, MAX_MESSAGE_TEXT

GUEST_TIMEOUT = 300.0            # a guest silent this long is forgotten
QUIT_WORDS = ("exit", "/quit")   # a guest leaves by sending one of these alone on a line


def lines_in(data: bytes) -> list[str] | None:
    """The chat lines a guest datagram holds (blank and over-long lines dropped),
    or None when it is not UTF-8."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    lines = [clean_text(x).strip() for x in text.splitlines()]
    return [x for x in lines if x and len(x.encode()) <= MAX_MESSAGE_TEXT]


def is_quit(line: str) -> bool:
    return line.lower() in QUIT_WORDS


def line_out(sender: str, text: str, action: bool) -> str:
    return f"* {sender} {text}" if action else f"{sender}: {text}"


def private_out(sender: str, text: str) -> str:
    return f"[private] {sender}: {text}"


def notice_out(msg: m.AppMessage) -> str:
    """A join, leave, rename or closing as a guest reads it ('' for anything else)."""
    if isinstance(msg, m.Joined):
        return f"* {msg.name} joined"
    if isinstance(msg, m.Left):
        return f"* {msg.name} {msg.reason.value}"
    if isinstance(msg, m.Renamed):
        return f"* {msg.old} is now known as {msg.new}"
    if isinstance(msg, m.Closing):
        return f"* {msg.reason or 'The server closed the room.'}"
    return ""


def datagrams_out(text: str) -> list[bytes]:
    """One line as datagrams of at most MAX_DATAGRAM bytes, never splitting a character."""
    raw = (text + "\n").encode()
    out = []
    while raw:
        cut = min(len(raw), MAX_DATAGRAM)
        while cut < len(raw) and (raw[cut] & 0xC0) == 0x80:
            cut -= 1
        out.append(raw[:cut])
        raw = raw[cut:]
    return out
