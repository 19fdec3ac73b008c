"""Every limit of the protocol tried exactly at its value and one past it, and
invalid input asserted to be refused (not merely "a value or ProtocolError").

Pure and fast: codecs, names, tokens, the handshake's decision; no engines.
"""
from __future__ import annotations

import pytest

from udpcore import appmsg as m
from udpcore import wire as w
from udpcore.errors import DecryptError, InvalidName, NameProblem, ProtocolError, VersionError
from udpcore.handshake import AMPLIFICATION, Gate, Step, within_budget
from udpcore.keying import client_resume_proof, server_resume_proof
from udpcore.protection import Binding, KeyShare, SessionKeys, Side
from udpcore.sealing import Seal
from udpcore.limits import Limits
from udpcore.moderation import Moderation
from udpcore.names import check_name, clean_text, name_key, name_problem
from udpcore.reliable import MAX_REASSEMBLY, ReliableChannel
from udpcore.roster import Member, Roster
from udpcore.peer import Peer
from udpcore.tokens import TOKEN_LIFETIME, TokenMinter

pytestmark = pytest.mark.timeout(10)

NONCE = bytes(range(1, 9))
SID = b"S" * 8
V1 = w.MAGIC + bytes([w.VERSION])      # the header of this version (3), whatever its name says
PUB = KeyShare(b"\x11" * 32).public
PAKE = b"A" + bytes(range(32))
CONFIRM = bytes(range(100, 132))


def session_keys(seed: bytes = b"k") -> SessionKeys:
    """Keys of some session (what they are does not matter here, only whose they are)."""
    return SessionKeys.derive(KeyShare(seed * 32).shared(PUB), Binding(NONCE, b"t", PUB, PUB, SID))


def refused(data: bytes, decoder=w.decode) -> bool:
    try:
        decoder(data)
    except ProtocolError:
        return True
    return False


# --- datagrams -------------------------------------------------------------------------


def test_a_datagram_of_exactly_1200_bytes_is_taken_and_1201_refused():
    # decode's own limit: a DATA of 1200 bytes (more than a sealed one carries) still decodes
    full = w.data_prefix(SID) + w.DATA_REST.pack(1, 2, 3, 0, 4, 5) + b"x" * (w.MAX_DATAGRAM - 5 - 29)
    assert len(full) == w.MAX_DATAGRAM == 1200
    assert w.decode(full).payload == b"x" * (1200 - 34)
    assert refused(full + b"x")
    # the slow path too: a BYE padded to 1201 bytes is refused for its size
    bye = w.encode(w.Bye(SID, "x" * 500))
    assert refused(bye + b"\0" * (1201 - len(bye)))


def test_a_sealed_datagram_of_exactly_1200_bytes_opens_and_1201_is_refused():
    keys = session_keys()
    inner = w.encode(w.Data(SID, 1, 2, 3, 0, 4, 5, b"x" * w.MAX_FRAGMENT))
    sealed = Seal(keys, Side.CLIENT).seal(inner)
    assert len(inner) == 1200 - w.SEAL_OVERHEAD and len(sealed) == w.MAX_DATAGRAM
    assert Seal(keys, Side.SERVER).open(sealed) == inner
    # one byte more, sealed properly (it would authenticate): refused for its size alone
    sender, receiver = Seal(keys, Side.CLIENT), Seal(keys, Side.SERVER)
    over = sender.seal(inner + b"x")
    assert len(over) == 1201
    with pytest.raises(DecryptError):
        receiver.open(over)
    assert receiver.receiver.failed == 0 and receiver.receiver.window.highest is None   # never tried


def test_a_fragment_of_max_fragment_bytes_is_encoded_and_one_more_is_our_bug():
    assert len(w.encode_data(SID, 0, 0, 0, 0, 0, 0, b"x" * w.MAX_FRAGMENT)) == 1200 - w.SEAL_OVERHEAD
    with pytest.raises(ValueError):
        w.encode_data(SID, 0, 0, 0, 0, 0, 0, b"x" * (w.MAX_FRAGMENT + 1))


def test_data_and_ack_sizes_are_exact():
    data = w.encode(w.Data(SID, 1, 2, 3, 0, 4, 5, b""))
    assert len(data) == 5 + 29 and w.decode(data) == w.Data(SID, 1, 2, 3, 0, 4, 5, b"")
    assert refused(data[:-1])
    ack = w.encode(w.Ack(SID, 1, 2, 3))
    assert len(ack) == 25 and w.decode(ack) == w.Ack(SID, 1, 2, 3)
    assert refused(ack[:-1]) and refused(ack + b"\0")


@pytest.mark.parametrize("code", [0, 10, 11, 12, 13, 99, 255])
def test_unknown_packet_types_are_refused(code):
    # 10 and 11 (DISCOVER, HERE) are udpcore.discovery's, 12 (SEALED) udpcore.sealing's, 13 (FRAMES)
    # udpcore.frames': never a packet here
    assert refused(V1 + bytes([code]) + SID)


@pytest.mark.parametrize("version", [0, 1, 2, 4, 255])
def test_another_version_is_a_version_error_carrying_it(version):
    with pytest.raises(VersionError) as info:
        w.decode(w.MAGIC + bytes([version, w.PacketType.PING]) + SID)
    assert info.value.version == version


@pytest.mark.parametrize("magic", [b"\xffUD", b"\xfeUC", b"\xffVC", b"UC\xff"])
def test_a_wrong_magic_is_refused(magic):
    assert refused(magic + bytes([w.VERSION, w.PacketType.PING]) + SID)
    assert refused(magic + bytes([w.VERSION, w.PacketType.DATA]) + bytes(29))


def test_is_protocol_looks_at_the_first_byte_only():
    assert w.is_protocol(b"\xff") and w.is_protocol(b"\xffjunk")
    assert not w.is_protocol(b"") and not w.is_protocol(b"U") and not w.is_protocol(b"\xfe\xff")


def hello_bytes(name=b"\x00\x05alice", token=b"", resume=b"", public=PUB, pake=b"") -> bytes:
    raw = (V1 + bytes([w.PacketType.HELLO]) + NONCE + bytes([len(resume)]) + resume + bytes([len(token)]) + token
           + name + bytes([len(public)]) + public + bytes([len(pake)]) + pake)
    return raw + bytes(max(0, 200 - len(raw)))


def test_hello_token_of_64_bytes_is_taken_and_65_refused():
    assert w.decode(hello_bytes(token=b"t" * 64)).token == b"t" * 64
    assert refused(hello_bytes(token=b"t" * 65))
    with pytest.raises(ValueError):         # and we never encode what we would refuse... for names
        w.encode(w.Hello(NONCE, "x" * 97))


@pytest.mark.parametrize("n", [1, 8, 31, 33, 64])
def test_hello_resume_must_be_a_whole_proof_or_nothing(n):
    assert refused(hello_bytes(resume=b"r" * n))


def test_hello_resume_of_32_bytes_or_none_is_taken():
    assert w.decode(hello_bytes(resume=b"r" * 32)).resume == b"r" * 32
    assert w.decode(hello_bytes()).resume == b""
    assert w.decode(hello_bytes()).name == "alice"


@pytest.mark.parametrize("n", [1, 31, 33, 64])
def test_hello_public_key_must_be_32_bytes_or_nothing(n):
    assert refused(hello_bytes(public=b"p" * n))


@pytest.mark.parametrize("n", [1, 32, 34, 64])
def test_hello_pake_message_must_be_33_bytes_or_nothing(n):
    assert refused(hello_bytes(pake=b"A" * n))


def test_hello_public_key_and_pake_message_of_their_size_or_none_are_taken():
    assert w.decode(hello_bytes(public=PUB, pake=PAKE)) == w.Hello(NONCE, "alice", public=PUB, pake=PAKE)
    assert w.decode(hello_bytes(public=b"", pake=PAKE)) == w.Hello(NONCE, "alice", pake=PAKE)
    assert w.decode(hello_bytes(public=b"")) == w.Hello(NONCE, "alice")


def test_hello_padding_must_be_zero_but_may_be_absent():
    good = hello_bytes(pake=PAKE)
    end = 5 + 8 + 1 + 1 + 7 + 1 + 32 + 1 + 33               # the last field's last byte
    assert good[end:] == bytes(200 - end)
    assert refused(good[:-1] + b"\x01")
    assert refused(good[:end] + b"\x80" + good[end + 1:])     # the first byte of padding
    assert w.decode(good[:end]) == w.Hello(NONCE, "alice", public=PUB, pake=PAKE)   # short: decodes (the server drops it)
    bare = hello_bytes(public=b"")
    assert w.decode(bare[:5 + 8 + 1 + 1 + 7 + 2]) == w.Hello(NONCE, "alice")
    # Version 2: the padding starts after the public and pake length bytes, which must be there
    assert refused(bare[:5 + 8 + 1 + 1 + 7]) and refused(bare[:5 + 8 + 1 + 1 + 7 + 1])


def test_name_fields_take_96_bytes_and_refuse_97():
    at = "\U0001F600" * 24                          # 24 characters of 4 bytes: 96 bytes
    assert w.decode(w.encode(w.Hello(NONCE, at))).name == at
    assert w.decode(w.encode(w.Welcome(NONCE, SID, at, confirm=CONFIRM))).name == at
    tail = b"\x00\x00\x20" + CONFIRM                          # no public key, no pake, a confirmation
    raw = V1 + bytes([w.PacketType.WELCOME]) + NONCE + SID + b"\x00" + (96).to_bytes(2, "big") + b"x" * 96 + tail
    assert w.decode(raw).name == "x" * 96
    raw = V1 + bytes([w.PacketType.WELCOME]) + NONCE + SID + b"\x00" + (97).to_bytes(2, "big") + b"x" * 97 + tail
    assert refused(raw)
    assert refused(hello_bytes(name=(97).to_bytes(2, "big") + b"x" * 97))


def test_reasons_take_512_bytes_and_refuse_513():
    assert w.decode(w.encode(w.Bye(SID, "r" * 512))).reason == "r" * 512
    assert w.decode(w.encode(w.Refuse(NONCE, w.RefuseCode.FULL, "r" * 512))).reason == "r" * 512
    with pytest.raises(ValueError):
        w.encode(w.Bye(SID, "r" * 513))
    with pytest.raises(ValueError):
        w.encode(w.Refuse(NONCE, w.RefuseCode.FULL, "r" * 513))
    assert refused(V1 + bytes([w.PacketType.BYE]) + SID + (513).to_bytes(2, "big") + b"r" * 513)
    assert refused(V1 + bytes([w.PacketType.REFUSE]) + NONCE + b"\x04" + (513).to_bytes(2, "big") + b"r" * 513)


@pytest.mark.parametrize("code", [0, 9, 255])
def test_unknown_refuse_codes_are_refused(code):
    assert refused(V1 + bytes([w.PacketType.REFUSE]) + NONCE + bytes([code]) + b"\x00\x00")


@pytest.mark.parametrize("code", list(range(1, 9)))
def test_every_known_refuse_code_is_taken(code):
    assert w.decode(V1 + bytes([w.PacketType.REFUSE]) + NONCE + bytes([code]) + b"\x00\x00") == \
        w.Refuse(NONCE, w.RefuseCode(code), "")


@pytest.mark.parametrize("ptype,body", [
    (w.PacketType.CHALLENGE, NONCE + b"\x03ab"),           # token shorter than its length
    (w.PacketType.CHALLENGE, NONCE[:7]),
    (w.PacketType.WELCOME, NONCE + SID),                    # no resumed byte, no name
    (w.PacketType.PING, SID[:7]),
    (w.PacketType.PING, SID + b"\0"),                       # trailing byte
    (w.PacketType.RESET, SID + b"\0"),
    (w.PacketType.RESET, SID[:7]),
    (w.PacketType.BYE, SID + b"\x00\x03ab"),
    (w.PacketType.BYE, SID + b"\x00\x02\xc3\x28"),          # bad UTF-8
    (w.PacketType.CHALLENGE, NONCE + b"\x01a\x00\x00\x00\x00"),  # trailing byte
    (w.PacketType.CHALLENGE, NONCE + b"\x01a"),              # no flags, no room
    (w.PacketType.CHALLENGE, NONCE + b"\x01a\x01"),          # no room
    (w.PacketType.CHALLENGE, NONCE + b"\x01a\x00\x00\x02\xc3\x28"),   # a room of bad UTF-8
    (w.PacketType.WELCOME, NONCE + SID + b"\x00\x00\x01a\x00\x00"),          # no confirmation
    (w.PacketType.WELCOME, NONCE + SID + b"\x00\x00\x01a\x00\x00\x00"),      # an empty one
    (w.PacketType.WELCOME, NONCE + SID + b"\x00\x00\x01a\x00\x00\x1f" + bytes(31)),   # 31 bytes
    (w.PacketType.WELCOME, NONCE + SID + b"\x00\x00\x01a\x00\x00\x21" + bytes(33)),   # 33 bytes
    (w.PacketType.WELCOME, NONCE + SID + b"\x00\x00\x01a\x00\x00\x20" + bytes(33)),   # trailing byte
    (w.PacketType.WELCOME, NONCE + SID + b"\x00\x00\x01a\x1f" + bytes(31) + b"\x00\x20" + bytes(32)),  # public 31
    (w.PacketType.WELCOME, NONCE + SID + b"\x00\x00\x01a\x00\x20" + bytes(32) + b"\x20" + bytes(32)),  # pake 32
    (w.PacketType.DATA, SID + bytes(20)),                   # too short for its header
    (w.PacketType.ACK, SID + bytes(11)),
])
def test_malformed_bodies_are_refused(ptype, body):
    assert refused(V1 + bytes([ptype]) + body)


def test_text16_reads_exactly_its_length():
    r = w.Reader(b"\x00\x02hi!")
    assert r.text() == "hi" and r.pos == 4
    with pytest.raises(ProtocolError):
        r.end()
    assert r.rest() == b"!" and r.pos == 5
    r.end()
    assert w.Reader(b"\x01\x02").u16() == 258 and w.Reader(b"\x01\x02\x03\x04").u32() == 0x01020304
    assert w.Reader(b"\x02ab").blob8() == b"ab"
    with pytest.raises(ProtocolError):
        w.Reader(b"\x03ab").blob8()


def test_pack_text_at_and_past_its_limit():
    assert w.pack_text("x" * 8192) == b"\x20\x00" + b"x" * 8192
    with pytest.raises(ValueError):
        w.pack_text("x" * 8193)
    assert w.pack_text("é", 2) == b"\x00\x02\xc3\xa9"
    with pytest.raises(ValueError):
        w.pack_text("é", 1)                        # the limit counts bytes, not characters


def test_stamps_are_microseconds_modulo_2_to_the_32():
    assert w.stamp(1.0) == 1_000_000 and w.stamp(0.0000015) == 1
    assert w.stamp(4294.967296) == 0 and w.stamp(4294.967297) == 1
    assert w.stamp_age(w.stamp(10.0), 10.25) == 0.25
    assert w.stamp_age(w.stamp(10.0), 10.0) == 0.0


# --- chat messages ---------------------------------------------------------------------


def test_say_of_8192_bytes_is_taken_and_8193_refused():
    at = m.encode_msg(m.Say(1, "x" * 8192))
    assert m.decode_msg(at) == m.Say(1, "x" * 8192)
    past = b"\x01\x00" + b"\0\0\0\1" + (8193).to_bytes(2, "big") + b"x" * 8193
    assert refused(past, m.decode_msg)
    with pytest.raises(ValueError):
        m.encode_msg(m.Say(1, "x" * 8193))


def test_say_fast_path_refuses_a_length_that_does_not_match():
    raw = m.encode_msg(m.Say(7, "hi", True))
    assert m.decode_msg(raw) == m.Say(7, "hi", True)
    assert m.decode_msg(b"\x01\x00\0\0\0\7\0\0") == m.Say(7, "")      # exactly eight bytes
    assert refused(raw + b"!", m.decode_msg)
    assert refused(raw[:-1], m.decode_msg)
    assert refused(b"\x01\x00\0\0\0\7\0", m.decode_msg)                # seven bytes: truncated
    assert refused(b"\x01\x00\0\0\0\1\0\2\xc3\x28", m.decode_msg)      # bad UTF-8


@pytest.mark.parametrize("msg,limit_field", [
    (m.Private(1, "bob", "x" * 8192), None), (m.Line(1, "a", "x" * 8192), None)])
def test_private_and_line_texts_take_8192_bytes(msg, limit_field):
    assert m.decode_msg(m.encode_msg(msg)) == msg


def test_private_and_line_texts_refuse_8193_bytes():
    private = b"\x02\x00" + b"\0\0\0\1" + b"\x00\x03bob" + (8193).to_bytes(2, "big") + b"x" * 8193
    line = b"\x14\x00" + bytes(8) + b"\x00\x01a\x00\x00" + (8193).to_bytes(2, "big") + b"x" * 8193
    assert refused(private, m.decode_msg) and refused(line, m.decode_msg)


def test_joined_address_takes_128_bytes_and_leave_reasons_are_a_closed_set():
    assert m.decode_msg(m.encode_msg(m.Joined("a", "x" * 128))).address == "x" * 128
    with pytest.raises(ValueError):
        m.encode_msg(m.Joined("a", "x" * 129))
    assert refused(b"\x15\x00\x00\x01a" + (129).to_bytes(2, "big") + b"x" * 129, m.decode_msg)
    assert refused(b"\x16\x00\x01a\x00\x04gone", m.decode_msg)
    assert refused(b"\x16\x00\x01a" + (65).to_bytes(2, "big") + b"x" * 65, m.decode_msg)


@pytest.mark.parametrize("code", [0, 5, 255])
def test_unknown_error_codes_are_refused(code):
    assert refused(bytes([m.MsgType.ERROR, code]) + b"\x00\x00", m.decode_msg)


@pytest.mark.parametrize("t", [0, 7, 19, 32, 255])
def test_unknown_message_types_are_refused(t):
    assert refused(bytes([t]) + bytes(8), m.decode_msg)
    assert refused(b"", m.decode_msg)


@pytest.mark.parametrize("raw", [b"\x04\x00", b"\x05\x00", b"\x06\0\0\0\1\0", b"\x1b\0\0\0", b"\x03\x00\x01ab",
                                 b"\x18\x00\x02\x00\x01a", b"\x1a\x00\x01ab", b"\x17\x00\x01a"])
def test_trailing_or_missing_bytes_in_a_message_are_refused(raw):
    assert refused(raw, m.decode_msg)


def test_members_lists_count_their_names():
    assert m.decode_msg(b"\x18\x00\x00") == m.Members(())
    assert m.decode_msg(b"\x18\x00\x01\x00\x01a") == m.Members(("a",))
    many = tuple(f"n{i}" for i in range(300))
    assert m.decode_msg(m.encode_msg(m.Members(many))) == m.Members(many)


def test_the_largest_message_is_8400_bytes():
    assert m.MAX_MESSAGE_BYTES == 2 + 8 + 6 + 2 * 96 + 8192 == 8400


def test_a_message_of_exactly_max_reassembly_is_taken_and_one_byte_more_refused():
    a, b = ReliableChannel(), ReliableChannel()
    a.send(b"x" * MAX_REASSEMBLY)
    got = []
    while True:
        frames = a.poll(0.0)
        if not frames:
            break
        for f in frames:
            got += b.on_data(*f)
        a.on_ack(*b.ack_fields(0.0), 0.0)
    assert got == [b"x" * MAX_REASSEMBLY] and MAX_REASSEMBLY == 131072
    a, b = ReliableChannel(), ReliableChannel()
    a.send(b"x" * (MAX_REASSEMBLY + 1))
    with pytest.raises(ProtocolError):
        while True:
            frames = a.poll(0.0)
            assert frames, "the whole message went through"
            for f in frames:
                b.on_data(*f)
            a.on_ack(*b.ack_fields(0.0), 0.0)
    # after the refusal the receiver starts afresh: the next message is whole
    b2 = ReliableChannel()
    b2.on_data(0, w.FLAG_MORE, b"x" * MAX_REASSEMBLY)
    with pytest.raises(ProtocolError):
        b2.on_data(1, 0, b"y")
    assert b2.on_data(2, 0, b"next") == [b"next"]


# --- names ------------------------------------------------------------------------------


def test_a_name_of_24_characters_is_taken_and_25_refused():
    assert name_problem("x" * 24) is None
    assert name_problem("\U0001F600" * 24) is None
    assert name_problem("x" * 25) is NameProblem.TOO_LONG
    assert name_problem("\U0001F600" * 25) is NameProblem.TOO_LONG


@pytest.mark.parametrize("name,problem", [
    ("", NameProblem.BLANK), (" ", NameProblem.BLANK), ("\t\n", NameProblem.BLANK),
    ("a b", NameProblem.BAD_CHARACTER), ("a\tb", NameProblem.BAD_CHARACTER),
    ("a\x1b[31m", NameProblem.BAD_CHARACTER),          # ESC: a terminal escape
    ("bell\x07", NameProblem.BAD_CHARACTER),           # BEL
    ("nul\x00", NameProblem.BAD_CHARACTER), ("del\x7f", NameProblem.BAD_CHARACTER),
    ("c1\x85", NameProblem.BAD_CHARACTER),             # NEL, a C1 control
    ("a\u2028b", NameProblem.BAD_CHARACTER),           # line separator (Zl)
    ("a\u2029b", NameProblem.BAD_CHARACTER),           # paragraph separator (Zp)
    ("a\u00a0b", NameProblem.BAD_CHARACTER),           # no-break space
    ("a\u3000b", NameProblem.BAD_CHARACTER),           # ideographic space
    (" alice", NameProblem.BAD_CHARACTER), ("alice ", NameProblem.BAD_CHARACTER),
    ("server", NameProblem.RESERVED), ("SERVER", NameProblem.RESERVED), ("ｓｅｒｖｅｒ", NameProblem.RESERVED),
    ("guest-1", NameProblem.RESERVED), ("Guest-x", NameProblem.RESERVED), ("guest-", NameProblem.RESERVED),
])
def test_invalid_names_are_refused_for_their_reason(name, problem):
    assert name_problem(name) is problem
    with pytest.raises(InvalidName) as info:
        check_name(name)
    assert info.value.problem is problem and info.value.name == name


@pytest.mark.parametrize("name", ["alice", "x", "servers", "server1", "guest", "guests-x", "guest_1", "a-b",
                                  "Zoë", "李", "😀"])
def test_names_that_merely_resemble_reserved_ones_are_fine(name):
    assert name_problem(name) is None
    check_name(name)


def test_name_keys_fold_case_and_width():
    assert name_key("ALICE") == name_key("ａｌｉｃｅ") == name_key("alice")
    assert name_key("Straße") == name_key("STRASSE")
    assert name_key("bob") != name_key("alice")


def test_clean_text_turns_controls_into_spaces_and_keeps_tabs():
    assert clean_text("plain") == "plain"
    assert clean_text("a\nb\rc\x1bd\x07e") == "a b c d e"
    assert clean_text("a\tb\n") == "a\tb "
    assert clean_text("a\u2028b") == "a b"


# --- tokens ------------------------------------------------------------------------------


ADDR = ("192.0.2.1", 40000)


def test_a_token_is_good_for_exactly_30_seconds():
    t = TokenMinter(b"k" * 32)
    tok = t.mint(ADDR, 1000.0)
    assert TOKEN_LIFETIME == 30.0
    assert t.check(tok, ADDR, 1000.0)
    assert t.check(tok, ADDR, 1030.0)
    assert not t.check(tok, ADDR, 1030.002)
    assert t.age(tok, 1000.25) == 0.25


def test_a_token_is_bound_to_host_port_key_and_its_own_bytes():
    t = TokenMinter(b"k" * 32)
    tok = t.mint(ADDR, 1000.0)
    assert len(tok) == 20 and tok[:4] == (1_000_000).to_bytes(4, "big")
    assert not t.check(tok, ("192.0.2.2", 40000), 1000.0)
    assert not t.check(tok, ("192.0.2.1", 40001), 1000.0)
    assert not t.check(tok, ("192.0.2.14", 0), 1000.0)       # "1|40000" must not read as "14|0"
    assert not TokenMinter(b"j" * 32).check(tok, ADDR, 1000.0)
    assert not t.check(tok[:-1], ADDR, 1000.0) and not t.check(tok + b"\0", ADDR, 1000.0)
    assert not t.check(tok[:-1] + bytes([tok[-1] ^ 1]), ADDR, 1000.0)
    assert not t.check(tok[:4] + bytes(16), ADDR, 1000.0)
    older = (999_000).to_bytes(4, "big") + tok[4:]                 # its time changed: its MAC no longer fits
    assert not t.check(older, ADDR, 1000.0)
    assert t.mint(ADDR, 1000.0) == tok and t.mint(ADDR, 1000.001) != tok


def test_token_time_wraps_with_the_millisecond_clock():
    t = TokenMinter(b"k" * 32)
    wrap = 2 ** 32 / 1000
    tok = t.mint(ADDR, wrap - 1.0)
    assert t.check(tok, ADDR, wrap + 1.0) and t.age(tok, wrap + 1.0) == pytest.approx(2.0)


# --- the handshake's decision ----------------------------------------------------------------


def new_gate() -> Gate:
    return Gate(b"k" * 32, Limits(), Moderation())


def judge(h: w.Hello, now: float, size: int = 200, roster: Roster | None = None, gate: Gate | None = None,
          addr=ADDR):
    return (gate or new_gate()).judge(h, addr, now, size, roster or Roster())


def test_a_hello_of_199_bytes_is_dropped_and_200_challenged():
    h = w.Hello(NONCE, "alice")
    assert judge(h, 1.0, size=199).step is Step.DROP
    assert judge(h, 1.0, size=200).step is Step.CHALLENGE


def test_amplification_allows_three_times_and_not_a_byte_more():
    assert AMPLIFICATION == 3
    assert within_budget(600, 200) and within_budget(0, 0)
    assert not within_budget(601, 200) and not within_budget(1, 0)


def test_a_fresh_token_admits_and_times_the_round_trip_only_under_250_ms():
    gate = new_gate()
    tok = gate.tokens.mint(ADDR, 10.0)
    v = judge(w.Hello(NONCE, "alice", tok), 10.1, gate=gate)
    assert v.step is Step.ADMIT and v.member is None and v.rtt == pytest.approx(0.1)
    assert judge(w.Hello(NONCE, "alice", tok), 10.249, gate=gate).rtt == pytest.approx(0.249)
    assert judge(w.Hello(NONCE, "alice", tok), 10.25, gate=gate).rtt is None
    assert judge(w.Hello(NONCE, "alice", tok), 40.0, gate=gate).step is Step.ADMIT
    assert judge(w.Hello(NONCE, "alice", tok), 40.002, gate=gate).step is Step.CHALLENGE
    assert judge(w.Hello(NONCE, "alice", tok), 10.1, gate=gate, addr=("192.0.2.1", 40001)).step is Step.CHALLENGE


def member(name, addr, sid=SID, nonce=NONCE, now=0.0):
    return Member(name, addr, Peer(sid, now), now, nonce=nonce)


def test_the_gate_refuses_invalid_and_taken_names_and_resumes_by_proof_and_name():
    # Version 2: a resume is a proof made with the session's keys (HMAC over the session id,
    # the HELLO's nonce and its token), checked against the member the HELLO names.
    gate = new_gate()
    tok = gate.tokens.mint(ADDR, 10.0)
    roster = Roster()
    keys = session_keys(b"b")
    bob = Member("Bob", ("192.0.2.9", 1), Peer(b"B" * 8, 0.0, seal=Seal(keys, Side.SERVER)), 0.0, nonce=b"n" * 8)
    roster.add(bob)
    guest = Member("guest-x", ("192.0.2.7", 7), None, 0.0, nonce=b"")
    roster.add(guest)
    proof = client_resume_proof(keys, b"B" * 8, NONCE, tok)

    def j(h):
        return judge(h, 10.0, roster=roster, gate=gate)

    v = j(w.Hello(NONCE, "a b", tok, public=PUB))
    assert (v.step, v.refuse) == (Step.REFUSE, w.RefuseCode.NAME_INVALID)
    v = j(w.Hello(NONCE, "BOB", tok, public=PUB))
    assert (v.step, v.refuse, v.member) == (Step.REFUSE, w.RefuseCode.NAME_TAKEN, None)
    v = j(w.Hello(NONCE, "bob", tok, resume=proof, public=PUB))          # the name as names compare
    assert (v.step, v.member) == (Step.RESUME, bob)
    v = j(w.Hello(NONCE, "carol", tok, resume=proof, public=PUB))        # someone else's session: no resume
    assert (v.step, v.member) == (Step.ADMIT, None)
    wrong = {
        "other keys": client_resume_proof(session_keys(b"x"), b"B" * 8, NONCE, tok),
        "another session id": client_resume_proof(keys, b"X" * 8, NONCE, tok),
        "another nonce": client_resume_proof(keys, b"B" * 8, b"m" * 8, tok),
        "another token (a recorded proof)": client_resume_proof(keys, b"B" * 8, NONCE, tok[:-1] + bytes([tok[-1] ^ 1])),
        "the server's proof echoed": server_resume_proof(keys, b"B" * 8, NONCE, tok),
        "the session id itself (version 1)": b"B" * 8,
        "zeros": bytes(32),
    }
    for why, bad in wrong.items():
        v = j(w.Hello(NONCE, "bob", tok, resume=bad, public=PUB))      # no resume: a taken name
        assert (v.step, v.refuse, v.member) == (Step.REFUSE, w.RefuseCode.NAME_TAKEN, None), why
    v = j(w.Hello(NONCE, "guest-x", tok, resume=proof, public=PUB))    # a guest has no keys to prove
    assert (v.step, v.refuse) == (Step.REFUSE, w.RefuseCode.NAME_INVALID)


def test_the_gate_rewelcomes_the_same_nonce_and_replaces_a_new_program_at_the_address():
    gate = new_gate()
    tok = gate.tokens.mint(ADDR, 10.0)
    roster = Roster()
    old = member("alice", ADDR, nonce=NONCE)
    roster.add(old)
    v = judge(w.Hello(NONCE, "alice", tok), 10.0, roster=roster, gate=gate)
    assert (v.step, v.member) == (Step.REWELCOME, old)
    v = judge(w.Hello(b"m" * 8, "alice", tok), 10.0, roster=roster, gate=gate)     # a new program, same name
    assert (v.step, v.member) == (Step.ADMIT, old)
    v = judge(w.Hello(b"m" * 8, "a b", tok), 10.0, roster=roster, gate=gate)
    assert (v.step, v.member, v.refuse) == (Step.REFUSE, old, w.RefuseCode.NAME_INVALID)
    guest = Member("guest-x", ("192.0.2.7", 7), None, 0.0, nonce=b"")
    roster.add(guest)
    v = judge(w.Hello(b"", "dave", gate.tokens.mint(("192.0.2.7", 7), 10.0)), 10.0, roster=roster, gate=gate,
              addr=("192.0.2.7", 7))
    assert (v.step, v.member) == (Step.ADMIT, guest)             # a guest's empty nonce is no rewelcome


@pytest.mark.parametrize("name", [
    "alice\u200b",          # zero-width space: looks exactly like "alice"
    "al\u200cice", "al\u200dice", "\u2060alice", "\ufeffalice",     # ZWNJ, ZWJ, word joiner, BOM
    "\u202eecila",          # right-to-left override: shows as "alice" and reorders the line after it
    "a\u202ab", "a\u202bb", "a\u202cb", "a\u202db", "a\u2066b", "a\u2067b", "a\u2068b", "a\u2069b",
    "a\u200eb", "a\u200fb", "a\u061cb",                              # LRM, RLM, ALM
    "ali\u00adce",          # soft hyphen: invisible
])
def test_invisible_and_bidi_format_characters_are_refused_in_names(name):
    assert name_problem(name) is NameProblem.BAD_CHARACTER


def test_the_server_refuses_a_zero_width_lookalike_of_a_member():
    from tests.enginepair import Room, drain
    from udpcore import events as ev
    room = Room()
    room.add("alice")
    room.settle()
    c = room.add("alice\u200b")
    room.settle()
    (e,) = drain(c)
    assert isinstance(e, ev.JoinRefused) and e.error.problem is NameProblem.BAD_CHARACTER
    assert room.server.member_names == ["alice"]


def test_names_are_encoded_to_96_bytes_and_refused_past_them_in_every_message():
    at, past = "é" * 48, "é" * 48 + "x"                  # 96 and 97 bytes
    for make in (lambda n: m.Nick(n), lambda n: m.Renamed(n, "b"), lambda n: m.Renamed("a", n),
                 lambda n: m.Members(("a", n)), lambda n: m.Private(1, n, "t"), lambda n: m.Line(1, n, "t"),
                 lambda n: m.Line(1, "a", "t", to=n), lambda n: m.Joined(n), lambda n: m.Left(n),
                 lambda n: m.Error(m.ErrorCode.NAME_TAKEN, n)):
        assert m.decode_msg(m.encode_msg(make(at))) == make(at)
        with pytest.raises(ValueError):
            m.encode_msg(make(past))
    with pytest.raises(ValueError):
        w.encode(w.Welcome(NONCE, SID, past))
    with pytest.raises(ValueError):
        w.encode(w.Hello(NONCE, past))


def test_closing_reasons_take_512_bytes_and_refuse_513():
    assert m.decode_msg(m.encode_msg(m.Closing("r" * 512))) == m.Closing("r" * 512)
    with pytest.raises(ValueError):
        m.encode_msg(m.Closing("r" * 513))
    assert refused(b"\x1a" + (513).to_bytes(2, "big") + b"r" * 513, m.decode_msg)


def test_a_hello_already_200_bytes_long_gets_no_padding():
    h = w.Hello(NONCE, "a", token=b"t" * 123, public=PUB, pake=PAKE)   # 5+8+1+1+123+2+1+1+32+1+33 = 208 bytes
    assert len(w.encode(h)) == 208
    h = w.Hello(NONCE, "a", token=b"t" * 115, public=PUB, pake=PAKE)   # exactly 200 without padding
    assert len(w.encode(h)) == 200 and w.encode(h)[-34:] == b"\x21" + PAKE
    h = w.Hello(NONCE, "a", token=b"t" * 114, public=PUB, pake=PAKE)   # 199: one byte of padding
    assert len(w.encode(h)) == 200 and w.encode(h)[-35:] == b"\x21" + PAKE + b"\0"


def test_the_gate_refuses_a_taken_name_and_names_the_program_it_replaces():
    gate = new_gate()
    tok = gate.tokens.mint(ADDR, 10.0)
    roster = Roster()
    old = member("old", ADDR, sid=b"O" * 8, nonce=b"o" * 8)
    roster.add(old)
    roster.add(member("bob", ("192.0.2.9", 1), sid=b"B" * 8))
    v = judge(w.Hello(NONCE, "bob", tok), 10.0, roster=roster, gate=gate)
    assert (v.step, v.refuse, v.member) == (Step.REFUSE, w.RefuseCode.NAME_TAKEN, old)


def test_a_refused_oversized_message_leaves_room_for_a_full_one_after_it():
    b = ReliableChannel()
    b.on_data(0, w.FLAG_MORE, b"x" * MAX_REASSEMBLY)
    with pytest.raises(ProtocolError):
        b.on_data(1, 0, b"y")
    assert b.on_data(2, 0, b"z" * MAX_REASSEMBLY) == [b"z" * MAX_REASSEMBLY]
