"""The plain-text format guests speak (udpcore/guests.py): it is wire format too, so
its exact bytes are pinned here."""
from __future__ import annotations

import pytest

from udpcore import appmsg as m
from udpcore import guests as g
from udpcore.wire import MAX_DATAGRAM

pytestmark = pytest.mark.timeout(10)


def test_a_guest_datagram_is_its_first_line_cleaned_and_cut():
    assert g.line_in(b"one\r\n\n  two \x1b[1m\n\n", 500) == "one"
    assert g.line_in(b"  two \x1b[1m\nthree", 500) == "two  [1m"
    assert g.line_in(b"a\n" * 32_000, 500) == "a"             # 64 KB of lines: one line
    assert g.line_in(b"x" * 500, 500) == "x" * 500
    assert g.line_in(b"x" * 501, 500) == "x" * 500            # cut, not dropped
    assert g.line_in(b"x" * 65_000, 500) == "x" * 500
    assert g.line_in("h\u00e9".encode(), 500) == "h\u00e9"
    assert g.line_in("\u00e9".encode() * 600, 500) == "\u00e9" * 500
    assert g.line_in("\u00e9".encode() * 1100 + b"\xff", 500) == "\u00e9" * 500   # past what is decoded
    assert g.line_in(("\u00e9" + "\u20ac" * 700).encode(), 500) == "\u00e9" + "\u20ac" * 499   # cut mid-character
    assert g.line_in("\u20ac".encode() * 503 + b"\x82", 500) is None      # a bad byte within what is read
    assert g.line_in(b"\xc3\x28", 500) is None
    assert g.line_in(b"ok\n\xc3\x28", 500) == "ok"            # what follows the first line is never read
    assert g.line_in(b"", 500) == "" and g.line_in(b"\n\nlater", 500) == ""
    assert g.line_in(b"\rx", 500) == ""                       # \r ends a line too
    assert g.line_in(b"abc", 1) == "a"


@pytest.mark.parametrize("line,quits", [("exit", True), ("EXIT", True), ("/quit", True), ("/QUIT", True),
                                        ("exit now", False), ("quit", False), ("", False)])
def test_quit_words(line, quits):
    assert g.is_quit(line) is quits


def test_lines_out():
    assert g.line_out("bob", "hi", False) == "bob: hi"
    assert g.line_out("bob", "waves", True) == "* bob waves"
    assert g.private_out("bob", "psst") == "[private] bob: psst"


def test_notices_out():
    assert g.notice_out(m.Joined("bob", "1.2.3.4:5")) == "* bob joined"
    assert g.notice_out(m.Left("bob", m.LeaveReason.TOO_SLOW)) == "* bob too-slow"
    assert g.notice_out(m.Renamed("bob", "rob")) == "* bob is now known as rob"
    assert g.notice_out(m.Closing("")) == "* The server closed the room."
    assert g.notice_out(m.Closing("bye")) == "* bye"
    assert g.notice_out(m.Who()) == "" and g.notice_out(m.Members(("a",))) == ""


def test_datagrams_out_fit_1200_bytes_and_never_split_a_character():
    assert g.datagrams_out("hi") == [b"hi\n"]
    exact = "x" * (MAX_DATAGRAM - 1)
    assert g.datagrams_out(exact) == [exact.encode() + b"\n"]
    assert g.datagrams_out(exact + "y") == [b"x" * 1199 + b"y", b"\n"]
    text = "a" + "\u00e9" * 700                    # 1 + 1400 bytes: byte 1200 is inside a character
    out = g.datagrams_out(text)
    assert [len(d) for d in out] == [1199, 203]
    assert b"".join(out) == (text + "\n").encode()
    for d in out:
        d.decode("utf-8")                         # each datagram is whole UTF-8
    four = "\U0001F600" * 400                     # 1600 bytes of 4-byte characters
    out = g.datagrams_out(four)
    assert [len(d) for d in out] == [1200, 401]
    assert all(d.decode() for d in out)


def test_constants():
    assert g.GUEST_TIMEOUT == 300.0 and g.QUIT_WORDS == ("exit", "/quit")
