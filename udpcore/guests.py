"""Guests: plain UTF-8 datagrams from programs that do not speak the protocol.

``nc -u HOST 5002`` and the original course-work client send lines of text and
read lines of text. This module is that plain-text format, both ways: lines in,
and the room's lines and notices out, in datagrams of at most MAX_DATAGRAM
bytes. The text out is part of the wire format (guests parse it as they like),
so it stays in English and never goes through the translation function.
"""
from __future__ import annotations

import codecs

from . import appmsg as m
from .names import clean_text
from .wire import MAX_DATAGRAM

GUEST_TIMEOUT = 300.0            # a guest silent this long is forgotten
QUIT_WORDS = ("exit", "/quit")   # a guest leaves by sending one of these alone on a line
_utf8 = codecs.getincrementaldecoder("utf-8")


def line_in(data: bytes, max_chars: int) -> str | None:
    """The one chat line a guest datagram carries: its first line, cleaned and cut
    to ``max_chars`` characters ('' when blank), or None when it is not UTF-8.

    One line per datagram: a 64 KB datagram of ``a\n`` x 32,000 is one line, not
    32,000 on every screen. Only the bytes that can matter are decoded."""
    head = data.split(b"\n", 1)[0]
    cut = len(head) > 4 * max_chars + 4          # 4 bytes per character at most
    if cut:
        head = head[:4 * max_chars + 4]
    try:
        text = _utf8().decode(head, final=not cut)   # a character cut in two at the end is no error
    except UnicodeDecodeError:
        return None
    lines = text.splitlines()
    return clean_text(lines[0]).strip()[:max_chars] if lines else ""


def is_quit(line: str) -> bool:
    return line.lower() in QUIT_WORDS


CONTINUATION = "    | "     # before each further line of a message (as the terminal client prints it)


def indented(text: str) -> str:
    """A message's further lines behind CONTINUATION: none can pose as ``NAME: TEXT``."""
    return text.replace("\n", "\n" + CONTINUATION)


def line_out(sender: str, text: str, action: bool) -> str:
    text = indented(text)
    return f"* {sender} {text}" if action else f"{sender}: {text}"


def removed_out(reason: str, banned: bool) -> str:
    what = "banned you from the room" if banned else "removed you from the room"
    return f"* The operator {what}" + (f": {reason}" if reason else ".")


def private_out(sender: str, text: str) -> str:
    return f"[private] {sender}: {indented(text)}"


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
