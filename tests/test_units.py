"""Small pure pieces: names, commands, addresses, tokens, the text view, the wire layout."""
from __future__ import annotations

import pytest

from chatfront import commands as c
from udpcore import events as ev
from udpcore import wire
from udpcore import AddressError, format_addr, parse_server
from udpcore.names import name_key, name_problem
from chatfront.wording import describe
from udpcore.tokens import TokenMinter

pytestmark = pytest.mark.timeout(10)


def test_name_rules():
    assert name_problem("alice") is None
    assert name_problem("Zoë_42") is None
    assert name_problem("😀") is None
    assert name_problem("") and name_problem("a b") and name_problem("x" * 25)
    assert name_key("ＡＬＩＣＥ") == name_key("alice") == name_key("Alice")


@pytest.mark.parametrize("line,cmd", [
    ("hello", c.Say("hello")),
    ("  exit ", c.Quit()),
    ("/QUIT", c.Quit()),
    ("/me waves", c.Say("waves", action=True)),
    ("/msg bob hi there", c.Msg("bob", "hi there")),
    ("/msg bob", c.Usage("/msg")),
    ("/msg bob   ", c.Usage("/msg")),
    ("/me", c.Usage("/me")),
    ("/nick", c.Usage("/nick")),
    ("/nick zed", c.Nick("zed")),
    ("/who", c.Who()),
    ("/help", c.Help()),
    ("//etc/passwd is a path", c.Say("/etc/passwd is a path")),
    ("   ", None),
])
def test_command_parsing(line, cmd):
    assert c.parse(line) == cmd


def test_unknown_command_says_so():
    from chatfront.wording import mistake
    cmd = c.parse("/frobnicate")
    assert cmd == c.Unknown("/frobnicate") and "/help" in (mistake(cmd) or "")
    assert mistake(c.Usage("/msg")) == "Usage: /msg NAME TEXT"


def test_perform_makes_one_typed_call_and_returns_what_is_the_programs():
    calls = []

    class Client:
        def say(self, text, *, action=False): calls.append(("say", text, action))
        def private(self, to, text, *, action=False): calls.append(("private", to, text, action))
        def nick(self, name): calls.append(("nick", name))
        def who(self): calls.append(("who",))

    for line in ("hi", "/me waves", "/msg bob psst", "/nick zed", "/who"):
        assert c.perform(c.parse(line), Client()) is None
    assert calls == [("say", "hi", False), ("say", "waves", True), ("private", "bob", "psst", False),
                     ("nick", "zed"), ("who",)]
    for line in ("/help", "exit", "/frob", "/msg bob"):
        assert c.perform(c.parse(line), Client()) == c.parse(line)
    assert len(calls) == 5


@pytest.mark.parametrize("text,expected", [
    ("chat.local", ("chat.local", 5002)),
    ("127.1.2.3:6000", ("127.1.2.3", 6000)),
    ("[::1]:7000", ("::1", 7000)),
    ("[::1]", ("::1", 5002)),
    ("::1", ("::1", 5002)),
])
def test_server_address_forms(text, expected):
    assert parse_server(text) == expected


@pytest.mark.parametrize("bad,problem", [("", "EMPTY"), ("host:99999", "BAD_PORT"), ("host:0", "BAD_PORT"),
                                         ("host:abc", "BAD_PORT"), ("[::1", "UNCLOSED_BRACKET"),
                                         ("[::1]x", "AFTER_BRACKET"), (":5002", "NO_HOST")])
def test_bad_server_addresses_get_one_sentence(bad, problem):
    from chatfront.wording import explain
    with pytest.raises(AddressError) as info:
        parse_server(bad)
    assert info.value.problem.name == problem
    sentence = explain(info.value)
    assert sentence.endswith(".") and sentence.count(". ") == 0 and sentence[0].isupper() or sentence[0] == "'"


def test_the_highest_port_is_a_port():
    assert parse_server("h:65535") == ("h", 65535) and parse_server("h:1") == ("h", 1)


def test_format_addr_shows_mapped_ipv4_as_ipv4():
    assert format_addr(("::ffff:127.0.0.7", 5002, 0, 0)) == "127.0.0.7:5002"
    assert format_addr(("::1", 5)) == "[::1]:5"


def test_tokens_are_bound_to_address_and_time():
    t = TokenMinter(b"k" * 32)
    tok = t.mint(("127.0.0.1", 1), 100.0)
    assert t.check(tok, ("127.0.0.1", 1), 100.0)
    assert t.check(tok, ("127.0.0.1", 1), 129.0)
    assert not t.check(tok, ("127.0.0.1", 1), 131.0)
    assert not t.check(tok, ("127.0.0.1", 2), 100.0)
    assert not TokenMinter(b"j" * 32).check(tok, ("127.0.0.1", 1), 100.0)


def test_plain_text_is_never_this_protocol_and_vice_versa():
    for text in ("hello", "ÿUC", "\u00ffUC\x01"):
        raw = text.encode("utf-8")
        assert not wire.is_protocol(raw)
    packet = wire.encode(wire.Ping(b"s" * 8))
    assert wire.is_protocol(packet)
    with pytest.raises(UnicodeDecodeError):
        packet.decode("utf-8")
    from udpcore.sealing import SEALED_PREFIX
    sealed = SEALED_PREFIX + bytes(5) + bytes(16)            # a SEALED header and tag, of zeros
    assert wire.is_protocol(sealed)
    with pytest.raises(UnicodeDecodeError):
        sealed.decode("utf-8")


def test_every_datagram_fits_1200_bytes():
    from udpcore.protection import Binding, KeyShare, SessionKeys, Side
    from udpcore.sealing import Seal
    share = KeyShare(b"\x07" * 32)
    keys = SessionKeys.derive(share.shared(share.public), Binding(b"n" * 8, b"t", share.public, share.public, b"s" * 8))
    # The biggest DATA goes sealed: exactly 1200 bytes on the wire.
    inner = wire.encode(wire.Data(b"s" * 8, 1, 2, 3, 0, 4, 5, b"x" * wire.MAX_FRAGMENT))
    biggest = Seal(keys, Side.CLIENT).seal(inner)
    assert len(biggest) == wire.MAX_DATAGRAM and len(inner) == wire.MAX_DATAGRAM - wire.SEAL_OVERHEAD
    with pytest.raises(ValueError):
        wire.encode(wire.Data(b"s" * 8, 1, 2, 3, 0, 4, 5, b"x" * (wire.MAX_FRAGMENT + 1)))
    with pytest.raises(wire.ProtocolError):
        Seal(keys, Side.SERVER).open(biggest + b"x")
    with pytest.raises(wire.ProtocolError):
        wire.decode(inner + bytes(wire.SEAL_OVERHEAD) + b"x")
    # The handshake packets with every field at its largest fit too (in clear).
    name = "\U0001F600" * wire.MAX_NAME_CHARS
    largest = [
        wire.Hello(b"n" * 8, name, b"t" * wire.MAX_TOKEN_LEN, b"r" * wire.CONFIRM_LEN, b"p" * wire.PUBLIC_LEN,
                   b"A" * wire.PAKE_LEN),
        wire.Challenge(b"n" * 8, b"t" * 255, True, "r" * wire.MAX_ROOM_BYTES),
        wire.Welcome(b"n" * 8, b"s" * 8, name, False, b"p" * wire.PUBLIC_LEN, b"B" * wire.PAKE_LEN,
                     b"c" * wire.CONFIRM_LEN),
        wire.Refuse(b"n" * 8, wire.RefuseCode.TOO_MANY_GUESSES, "r" * 512),
    ]
    for p in largest:
        assert len(wire.encode(p)) <= wire.MAX_DATAGRAM and wire.decode(wire.encode(p)) == p


def test_text_view_lines():
    assert describe(ev.RoomLine(1, "bob", "hi")) == "bob: hi"
    assert describe(ev.RoomLine(1, "bob", "waves", action=True)) == "* bob waves"
    assert describe(ev.RoomLine(0, "bob", "psst", private_to="me"), me="me") == "bob (private): psst"
    assert describe(ev.MemberJoined("bob")) == "* bob joined"
    assert describe(ev.MemberLeft("bob")) == "* bob left"
    assert describe(ev.MemberJoined("bob", "127.0.0.1:9")) == "* bob joined from 127.0.0.1:9"
    assert describe(ev.MemberList(("a", "b"))) is None                  # the join's list: kept, not shown
    assert describe(ev.MemberList(("a", "b"), answers_who=True)) == "* 2 in the room: a, b"
    assert describe(ev.Listening("::", 5002)) == "listening on [::]:5002"
    assert describe(ev.Closed()) is None


def test_the_relays_data_prefix_builds_the_same_bytes_as_encode_data():
    from udpcore.wire import DATA_REST, data_prefix, decode, encode_data
    sid = bytes(range(8))
    built = data_prefix(sid) + DATA_REST.pack(7, 3, 0b101, 1, 123456, 654321) + b"payload"
    assert built == encode_data(sid, 7, 3, 0b101, 1, 123456, 654321, b"payload")
    p = decode(built)
    assert (p.seq, p.ts, p.echo, p.payload) == (7, 123456, 654321, b"payload")


def test_timestamps_wrap_and_their_age_survives_the_wrap():
    from udpcore.wire import STAMP_MASK, stamp, stamp_age
    wrap = (STAMP_MASK + 1) / 1_000_000            # about 71.6 minutes
    sent = wrap - 0.001                            # 1 ms before the wrap
    assert stamp(sent) > stamp(sent + 0.003)       # the stamp wrapped...
    assert stamp_age(stamp(sent), sent + 0.003) == pytest.approx(0.003, abs=2e-6)   # ...its age did not


def test_event_queue_moves_batches_in_order_and_wakes_a_waiting_reader():
    import threading
    from udpnet import EventQueue
    q = EventQueue()
    got = []
    reader = threading.Thread(target=lambda: got.append(q.get(timeout=5)))
    reader.start()
    q.put_many([1, 2, 3])                 # one hand-over wakes the blocked get
    reader.join(5)
    assert got == [1]
    q.put(4)
    q.put_many([])
    assert q.get_all() == [2, 3, 4] and q.get_all() == [] and q.empty()


@pytest.mark.parametrize("bad,problem,text", [
    ("  ", "EMPTY", ""), ("[::1", "UNCLOSED_BRACKET", "[::1"), ("[::1]x", "AFTER_BRACKET", "[::1]x"),
    (":5", "NO_HOST", ":5"), ("[]:5", "NO_HOST", "[]:5"), ("h:65536", "BAD_PORT", "65536"),
    ("[::1]:5]", "BAD_PORT", "5]"), ("h:-1", "BAD_PORT", "-1"), ("h:x1", "BAD_PORT", "x1"),
])
def test_address_errors_carry_what_was_wrong(bad, problem, text):
    with pytest.raises(AddressError) as info:
        parse_server(bad)
    assert info.value.problem.name == problem and info.value.text == text


def test_an_empty_port_after_a_colon_means_the_default_port():
    assert parse_server(" h: ") == ("h", 5002) and parse_server("[::1]:") == ("::1", 5002)
    assert parse_server("h", default_port=7) == ("h", 7)
    assert format_addr(("127.0.10.1", 5)) == "127.0.10.1:5" and format_addr(("::ffff:1:2", 5)) == "[::ffff:1:2]:5"
