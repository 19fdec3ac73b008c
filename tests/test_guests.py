"""The plain-text format guests speak (udpcore/guests.py): it is wire format too, so
its exact bytes are pinned here."""
from __future__ import annotations

import pytest

from udpcore import appmsg as m
from udpcore import guests as g
from udpcore.wire import MAX_DATAGRAM

pytestmark = pytest.mark.timeout(10)


def test_lines_in_drops_blank_and_over_long_lines_and_cleans_the_rest():
    assert g.lines_in(b"one\r\n\n  two \x1b[1m\n\n") == ["one", "two  [1m"]
    assert g.lines_in(b"x" * 8192) == ["x" * 8192]
    assert g.lines_in(b"x" * 8193) == []
    assert g.lines_in(b"x" * 8193 + b"\nshort") == ["short"]
    assert g.lines_in("h\u00e9".encode()) == ["h\u00e9"]
    assert g.lines_in(b"\xc3\x28") is None
    assert g.lines_in(b"") == []


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
