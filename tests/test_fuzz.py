"""Property and fuzz tests of the codecs and of the server engine (hypothesis).

* ``wire.decode`` and ``appmsg.decode_msg`` take any bytes and either return a
  value or raise ``ProtocolError`` -- never anything else;
* every valid packet and message survives ``decode(encode(x)) == x``;
* valid encodings that are flipped, cut or extended still only raise
  ``ProtocolError``, and whatever does decode can be encoded again;
* the handshake's fields (HELLO's resume proof, public key and SPAKE2 message,
  CHALLENGE's lock and room, WELCOME's public key, SPAKE2 message and
  confirmation) are taken exactly at their sizes, whatever surrounds them;
* ``Seal.open`` takes any bytes and raises only ``DecryptError``; a real SEALED
  datagram with any bit flipped, or cut, or extended, is refused and changes nothing;
* a ``ServerEngine`` fed arbitrary datagrams from arbitrary addresses, in between
  the traffic of real ``ClientEngine``s (moved by hand, fake clock, no sockets),
  never raises, counts what it dropped, never sends an unvalidated address more
  than three times what it received from it, and still lets the real clients
  join and talk.
"""
from __future__ import annotations

import os
import random
from collections import Counter

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from udpcore import appmsg as m
from udpcore import discovery
from udpcore import events as ev
from udpcore import wire
from tests.typing_ import typed
from udpcore.client import ClientEngine, State
from udpcore.errors import DecryptError, ReplayedPacket
from udpcore.handshake import AMPLIFICATION
from udpcore.limits import Limits
from udpcore.protection import Binding, KeyShare, SessionKeys, Side
from udpcore.sealing import SEALED_PREFIX, Seal
from udpcore.server import ServerEngine

pytestmark = pytest.mark.timeout(120)

_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example,
          HealthCheck.filter_too_much]
FUZZ = settings(max_examples=1000, deadline=None, suppress_health_check=_QUIET)
ENGINE = settings(max_examples=150, deadline=None, suppress_health_check=_QUIET)
if "MUTANT_UNDER_TEST" in os.environ:
    # Under mutmut (docs/mutation.md) every test runs once per mutant it covers: a few
    # fixed examples each, the same for every mutant, and no example database to replay.
    # The normal suite keeps the figures above.
    FUZZ = settings(FUZZ, max_examples=40, derandomize=True, database=None)
    ENGINE = settings(ENGINE, max_examples=8, derandomize=True, database=None)


# --- strategies -------------------------------------------------------------------------------


def clip_utf8(s: str, limit: int) -> str:
    """``s`` cut to at most ``limit`` bytes of UTF-8, at a character boundary."""
    return s.encode("utf-8")[:limit].decode("utf-8", "ignore")


def texts(limit: int) -> st.SearchStrategy[str]:
    """Any text (no surrogates) of at most ``limit`` UTF-8 bytes, often near the limit."""
    return st.one_of(
        st.text(max_size=40).map(lambda s: clip_utf8(s, limit)),
        st.text(max_size=limit).map(lambda s: clip_utf8(s, limit)),
        st.tuples(st.characters(codec="utf-8"), st.integers(0, 8)).map(
            lambda t: clip_utf8(t[0] * limit, limit - t[1])),          # at and just under the limit
    )


names = st.text(min_size=1, max_size=wire.MAX_NAME_CHARS)
u32 = st.integers(0, 0xFFFFFFFF)
u8 = st.integers(0, 0xFF)
nonces = st.binary(min_size=wire.NONCE_LEN, max_size=wire.NONCE_LEN)
sessions = st.binary(min_size=wire.SESSION_ID_LEN, max_size=wire.SESSION_ID_LEN)



def exactly(n: int) -> st.SearchStrategy[bytes]:
    return st.binary(min_size=n, max_size=n)


def maybe(n: int) -> st.SearchStrategy[bytes]:
    """An optional fixed-size field: empty, or exactly ``n`` bytes."""
    return st.one_of(st.just(b""), exactly(n))


hellos = st.builds(wire.Hello, nonces, names, st.binary(max_size=wire.MAX_TOKEN_LEN), maybe(wire.CONFIRM_LEN),
                   maybe(wire.PUBLIC_LEN), maybe(wire.PAKE_LEN))
challenges = st.builds(wire.Challenge, nonces, st.binary(max_size=255), st.booleans(), texts(wire.MAX_ROOM_BYTES))
welcomes = st.builds(wire.Welcome, nonces, sessions, names, st.booleans(), maybe(wire.PUBLIC_LEN),
                     maybe(wire.PAKE_LEN), exactly(wire.CONFIRM_LEN))
handshake_packets = st.one_of(hellos, challenges, welcomes)

packets = st.one_of(
    hellos,
    challenges,
    welcomes,
    st.builds(wire.Refuse, nonces, st.sampled_from(wire.RefuseCode), texts(512)),
    st.builds(wire.Data, sessions, u32, u32, u32, u8, u32, u32, st.binary(max_size=wire.MAX_FRAGMENT)),
    st.builds(wire.Ack, sessions, u32, u32, u32),
    st.builds(wire.Ping, sessions),
    st.builds(wire.Bye, sessions, texts(512)),
    st.builds(wire.Reset, sessions),
)

messages = st.one_of(
    st.builds(m.Say, u32, texts(wire.MAX_MESSAGE_TEXT), st.booleans()),
    st.builds(m.Private, u32, names, texts(wire.MAX_MESSAGE_TEXT), st.booleans()),
    st.builds(m.Nick, names),
    st.just(m.Who()),
    st.just(m.Leave()),
    st.builds(m.Sync, u32),
    st.builds(m.Synced, u32),
    st.builds(m.Line, u32, names, texts(wire.MAX_MESSAGE_TEXT), u8, u32, st.one_of(st.just(""), names)),
    st.builds(m.Joined, names, texts(128), st.booleans()),
    st.builds(m.Left, names, st.sampled_from(m.LeaveReason)),
    st.builds(m.Renamed, names, names),
    st.builds(m.Members, st.lists(names, max_size=40).map(tuple)),
    st.builds(m.Error, st.sampled_from(m.ErrorCode), st.one_of(st.just(""), names)),
    st.builds(m.Closing, texts(512)),
)


@st.composite
def mutated(draw, valid: st.SearchStrategy[bytes]) -> bytes:
    """A valid encoding with bytes flipped, cut, inserted, deleted or appended."""
    b = bytearray(draw(valid))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "set", "truncate", "extend", "insert", "delete"]))
        if op in ("flip", "set") and b:
            i = draw(st.integers(0, len(b) - 1))
            b[i] = b[i] ^ (1 << draw(st.integers(0, 7))) if op == "flip" else draw(u8)
        elif op == "truncate":
            del b[draw(st.integers(0, len(b))):]
        elif op == "extend":
            b += draw(st.binary(min_size=1, max_size=64))
        elif op == "insert":
            i = draw(st.integers(0, len(b)))
            b[i:i] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete" and b:
            i = draw(st.integers(0, len(b) - 1))
            del b[i:i + draw(st.integers(1, 8))]
    return bytes(b)


encoded_packets = packets.map(wire.encode)
encoded_messages = messages.map(m.encode_msg)
V1 = wire.MAGIC + bytes([wire.VERSION])


# --- wire ----------------------------------------------------------------------------------------


def decode_or_protocol_error(data: bytes):
    try:
        return wire.decode(data)
    except wire.ProtocolError:
        return None


def test_the_bare_magic_and_version_is_a_protocol_error():
    # Four bytes: the v1 prefix and nothing else. decode() indexes data[4] before
    # it checks the length.
    for data in (V1, V1[:3], V1[:1], b""):
        with pytest.raises(wire.ProtocolError):
            wire.decode(data)


@FUZZ
@given(st.one_of(st.binary(max_size=1300),
                 st.binary(max_size=64).map(lambda b: V1 + b),
                 st.tuples(st.integers(0, 255), st.binary(max_size=64)).map(
                     lambda t: wire.MAGIC + bytes([t[0]]) + t[1])))
@example(V1)
@example(V1 + bytes([wire.PacketType.HELLO]))
@example(wire.MAGIC + b"\x02")
@example(wire.MAGIC + b"\x01")
@example(SEALED_PREFIX + bytes(21))
def test_wire_decode_returns_a_packet_or_raises_protocol_error(data):
    p = decode_or_protocol_error(data)
    if p is not None:
        assert isinstance(p, (wire.Hello, wire.Challenge, wire.Welcome, wire.Refuse, wire.Data,
                              wire.Ack, wire.Ping, wire.Bye, wire.Reset))
        assert len(data) <= wire.MAX_DATAGRAM and wire.is_protocol(data)


@FUZZ
@given(packets)
def test_every_packet_round_trips(p):
    data = wire.encode(p)
    assert len(data) <= wire.MAX_DATAGRAM
    assert wire.is_protocol(data)
    back = wire.decode(data)
    assert type(back) is type(p) and back == p
    if isinstance(p, wire.Hello):
        assert len(data) >= wire.HELLO_MIN_SIZE


@FUZZ
@given(mutated(encoded_packets))
def test_mutated_packets_decode_or_raise_protocol_error_and_re_encode(data):
    p = decode_or_protocol_error(data)
    if p is not None:
        # Whatever the server accepts it must be able to encode again (it echoes
        # names and sessions back); and the result means the same packet.
        again = wire.decode(wire.encode(p))
        assert type(again) is type(p) and again == p


@FUZZ
@given(st.sampled_from(wire.PacketType), st.binary(max_size=80))
def test_every_packet_type_with_a_junk_body_is_a_packet_or_a_protocol_error(ptype, body):
    decode_or_protocol_error(V1 + bytes([ptype]) + body)


def test_decode_rejects_what_the_docs_promise_it_rejects():
    big = wire.data_prefix(b"s" * 8) + wire.DATA_REST.pack(1, 2, 3, 0, 4, 5) + b"x" * (wire.MAX_DATAGRAM - 34)
    assert isinstance(wire.decode(big), wire.Data) and len(big) == wire.MAX_DATAGRAM
    cases = {
        "too large": big + b"x",
        "wrong version": wire.MAGIC + b"\x01" + bytes([wire.PacketType.PING]) + b"s" * 8,   # version 1
        "truncated DATA": big[:5 + wire.DATA_HEADER.size - 1],
        "ACK too long": wire.encode(wire.Ack(b"s" * 8, 1, 2, 3)) + b"\0",
        "trailing bytes": wire.encode(wire.Ping(b"s" * 8)) + b"\0",
        "non-zero padding": wire.encode(wire.Hello(b"n" * 8, "alice"))[:-1] + b"\1",
        "HELLO resume not a proof": wire.encode(wire.Hello(b"n" * 8, "alice", resume=b"s" * 8)),
        "HELLO key not 32 bytes": wire.encode(wire.Hello(b"n" * 8, "alice", public=b"p" * 31)),
        "HELLO pake not 33 bytes": wire.encode(wire.Hello(b"n" * 8, "alice", pake=b"A" * 32)),
        "WELCOME without confirmation": wire.encode(wire.Welcome(b"n" * 8, b"s" * 8, "alice")),
        "WELCOME key not 32 bytes": wire.encode(wire.Welcome(b"n" * 8, b"s" * 8, "a", public=b"p", confirm=b"c" * 32)),
        "CHALLENGE room too long": wire.encode(wire.Challenge(b"n" * 8, b"t"))[:-2] + (161).to_bytes(2, "big")
        + b"r" * 161,
        "SEALED": SEALED_PREFIX + bytes(5 + 16),
        "unknown type": V1 + b"\x63" + b"s" * 8,
        "bad UTF-8": (wire.encode(wire.Bye(b"s" * 8, ""))[:-2] + b"\x00\x02\xc3\x28"),
        "unknown refuse code": V1 + bytes([wire.PacketType.REFUSE]) + b"n" * 8 + b"\x09\x00\x00",
    }
    for why, data in cases.items():
        with pytest.raises(wire.ProtocolError):
            wire.decode(data)
            pytest.fail(why)
    with pytest.raises(wire.VersionError):
        wire.decode(cases["wrong version"])


# --- the handshake's fields (version 2) -------------------------------------------------------------

HANDSHAKE_TYPES = (wire.PacketType.HELLO, wire.PacketType.CHALLENGE, wire.PacketType.WELCOME)


def legal(p) -> bool:
    """Every field of a decoded handshake packet within what the docs allow."""
    if isinstance(p, wire.Hello):
        return (len(p.nonce) == 8 and len(p.resume) in (0, 32) and len(p.token) <= 64
                and len(p.public) in (0, 32) and len(p.pake) in (0, 33)
                and len(p.name.encode()) <= wire.NAME_LIMIT)
    if isinstance(p, wire.Challenge):
        return len(p.nonce) == 8 and len(p.token) <= 255 and len(p.room.encode()) <= wire.MAX_ROOM_BYTES
    if isinstance(p, wire.Welcome):
        return (len(p.nonce) == 8 and len(p.session) == 8 and len(p.public) in (0, 32)
                and len(p.pake) in (0, 33) and len(p.confirm) == 32 and len(p.name.encode()) <= wire.NAME_LIMIT)
    return False


@FUZZ
@given(st.sampled_from(HANDSHAKE_TYPES), st.binary(max_size=400))
@example(wire.PacketType.HELLO, b"")
@example(wire.PacketType.WELCOME, bytes(8 + 8 + 1 + 2 + 1 + 1) + b"\x20" + bytes(32))
def test_handshake_decoders_take_any_body_and_raise_only_protocol_error(ptype, body):
    p = decode_or_protocol_error(V1 + bytes([ptype]) + body)
    if p is not None:
        assert type(p) is {wire.PacketType.HELLO: wire.Hello, wire.PacketType.CHALLENGE: wire.Challenge,
                           wire.PacketType.WELCOME: wire.Welcome}[ptype]
        assert legal(p), p
        assert wire.decode(wire.encode(p)) == p


@FUZZ
@given(handshake_packets)
def test_every_handshake_packet_round_trips_with_all_its_fields(p):
    data = wire.encode(p)
    back = wire.decode(data)
    assert type(back) is type(p) and back == p and legal(back)
    if isinstance(p, wire.Hello):
        assert len(data) == max(wire.HELLO_MIN_SIZE, 5 + 8 + 1 + len(p.resume) + 1 + len(p.token) + 2
                                + len(p.name.encode()) + 1 + len(p.public) + 1 + len(p.pake))


@FUZZ
@given(mutated(handshake_packets.map(wire.encode)))
def test_mutated_handshake_packets_decode_to_legal_fields_or_raise_protocol_error(data):
    p = decode_or_protocol_error(data)
    if p is not None and isinstance(p, (wire.Hello, wire.Challenge, wire.Welcome)):
        assert legal(p), p
        assert wire.decode(wire.encode(p)) == p


@FUZZ
@given(token=st.integers(0, 70), resume=st.integers(0, 40), public=st.integers(0, 40), pake=st.integers(0, 40),
       fill=st.integers(1, 255))
@example(token=64, resume=32, public=32, pake=33, fill=1)
@example(token=65, resume=0, public=0, pake=0, fill=1)
def test_hello_fields_are_taken_exactly_at_their_sizes(token, resume, public, pake, fill):
    f = bytes([fill])
    raw = (V1 + bytes([wire.PacketType.HELLO]) + b"n" * 8 + bytes([resume]) + f * resume + bytes([token])
           + b"t" * token + b"\x00\x01a" + bytes([public]) + f * public + bytes([pake]) + f * pake)
    raw += bytes(max(0, wire.HELLO_MIN_SIZE - len(raw)))
    ok = token <= 64 and resume in (0, 32) and public in (0, 32) and pake in (0, 33)
    p = decode_or_protocol_error(raw)
    if ok:
        assert p == wire.Hello(b"n" * 8, "a", b"t" * token, f * resume, f * public, f * pake)
    else:
        assert p is None


@FUZZ
@given(public=st.integers(0, 40), pake=st.integers(0, 40), confirm=st.integers(0, 40), resumed=st.integers(0, 255),
       trailing=st.binary(max_size=3))
@example(public=32, pake=33, confirm=32, resumed=1, trailing=b"")
@example(public=0, pake=0, confirm=32, resumed=0, trailing=b"\0")
def test_welcome_fields_are_taken_exactly_at_their_sizes(public, pake, confirm, resumed, trailing):
    raw = (V1 + bytes([wire.PacketType.WELCOME]) + b"n" * 8 + b"s" * 8 + bytes([resumed]) + b"\x00\x01a"
           + bytes([public]) + b"p" * public + bytes([pake]) + b"A" * pake + bytes([confirm]) + b"c" * confirm
           + trailing)
    ok = public in (0, 32) and pake in (0, 33) and confirm == 32 and not trailing
    p = decode_or_protocol_error(raw)
    if ok:
        assert p == wire.Welcome(b"n" * 8, b"s" * 8, "a", bool(resumed), b"p" * public, b"A" * pake, b"c" * 32)
    else:
        assert p is None


@FUZZ
@given(token=st.binary(max_size=255), flags=u8, room=st.integers(0, 200), trailing=st.binary(max_size=3))
@example(token=b"", flags=1, room=160, trailing=b"")
@example(token=b"", flags=0, room=161, trailing=b"")
def test_challenge_takes_its_lock_bit_and_a_room_of_at_most_160_bytes(token, flags, room, trailing):
    raw = (V1 + bytes([wire.PacketType.CHALLENGE]) + b"n" * 8 + bytes([len(token)]) + token + bytes([flags])
           + room.to_bytes(2, "big") + b"r" * room + trailing)
    p = decode_or_protocol_error(raw)
    if room <= wire.MAX_ROOM_BYTES and not trailing:
        assert p == wire.Challenge(b"n" * 8, token, bool(flags & wire.FLAG_LOCKED), "r" * room)
    else:
        assert p is None


# --- SEALED datagrams: udpcore.sealing.Seal.open -----------------------------------------------------

_SHARE = KeyShare(b"\x05" * 32)
SEAL_KEYS = SessionKeys.derive(_SHARE.shared(KeyShare(b"\x06" * 32).public),
                               Binding(b"c" * 8, b"t", _SHARE.public, KeyShare(b"\x06" * 32).public, b"s" * 8))


def sealed_pair() -> tuple[Seal, Seal]:
    """The client's sealing side and the server's opening side of one session."""
    return Seal(SEAL_KEYS, Side.CLIENT), Seal(SEAL_KEYS, Side.SERVER)


session_inner = st.one_of(
    st.builds(wire.Data, st.just(b"s" * 8), u32, u32, u32, u8, u32, u32, st.binary(max_size=wire.MAX_FRAGMENT)),
    st.builds(wire.Ack, st.just(b"s" * 8), u32, u32, u32),
    st.builds(wire.Ping, st.just(b"s" * 8)),
    st.builds(wire.Bye, st.just(b"s" * 8), texts(512)),
).map(wire.encode)


@FUZZ
@given(st.one_of(st.binary(max_size=1300),
                 st.binary(max_size=120).map(lambda b: SEALED_PREFIX + b),
                 st.tuples(st.integers(0, 3), u32, st.binary(min_size=16, max_size=200)).map(
                     lambda t: SEALED_PREFIX + bytes([t[0]]) + t[1].to_bytes(4, "big") + t[2])))
@example(b"")
@example(SEALED_PREFIX)
@example(SEALED_PREFIX + bytes(5 + 16))
@example(SEALED_PREFIX + b"\x01" + bytes(4 + 16))
def test_seal_open_of_any_bytes_raises_only_decrypt_error_and_changes_nothing(data):
    _, receiver = sealed_pair()
    with pytest.raises(DecryptError):
        receiver.open(data)
    assert (receiver.receiver.opened, receiver.receiver.window.highest, receiver.receiver.generation) == (0, None, 0)


@FUZZ
@given(inner=session_inner, packets_before=st.integers(0, 3), data=st.data())
def test_a_sealed_datagram_with_any_bit_flipped_is_refused_and_the_real_one_still_opens(inner, packets_before, data):
    sender, receiver = sealed_pair()
    for i in range(packets_before):                    # the flip need not hit packet number 0
        assert receiver.open(sender.seal(b"before %d" % i)) == b"before %d" % i
    real = sender.seal(inner)
    assert len(real) == len(inner) + wire.SEAL_OVERHEAD <= wire.MAX_DATAGRAM
    bit = data.draw(st.integers(0, len(real) * 8 - 1), label="bit")
    flipped = bytearray(real)
    flipped[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(DecryptError) as caught:
        receiver.open(bytes(flipped))
    # a replay only when the flip turned the packet number into one already opened
    replay = flipped[:6] == real[:6] and int.from_bytes(flipped[6:10], "big") < packets_before
    assert type(caught.value) is (ReplayedPacket if replay else DecryptError)
    assert receiver.open(real) == inner                # the refused one changed nothing
    with pytest.raises(ReplayedPacket):
        receiver.open(real)


@FUZZ
@given(inner=session_inner, data=st.data())
def test_a_sealed_datagram_cut_extended_or_otherwise_changed_is_refused(inner, data):
    sender, receiver = sealed_pair()
    real = sender.seal(inner)
    changed = data.draw(mutated(st.just(real)), label="changed")
    assume(changed != real)
    with pytest.raises(DecryptError):
        receiver.open(changed)
    assert receiver.open(real) == inner


# --- application messages -------------------------------------------------------------------------


def decode_msg_or_protocol_error(data: bytes):
    try:
        return m.decode_msg(data)
    except wire.ProtocolError:
        return None


@FUZZ
@given(st.one_of(st.binary(max_size=600),
                 st.tuples(st.sampled_from(m.MsgType), st.binary(max_size=120)).map(
                     lambda t: bytes([t[0]]) + t[1])))
@example(b"")
def test_decode_msg_returns_a_message_or_raises_protocol_error(data):
    decode_msg_or_protocol_error(data)


@FUZZ
@given(messages)
def test_every_message_round_trips(msg):
    data = m.encode_msg(msg)
    back = m.decode_msg(data)
    assert type(back) is type(msg) and back == msg
    if isinstance(msg, (m.Say, m.Private, m.Line)):
        assert len(data) <= m.MAX_MESSAGE_BYTES


@FUZZ
@given(mutated(encoded_messages))
def test_mutated_messages_decode_or_raise_protocol_error_and_re_encode(data):
    msg = decode_msg_or_protocol_error(data)
    if msg is not None:
        again = m.decode_msg(m.encode_msg(msg))
        assert type(again) is type(msg) and again == msg


def test_largest_message_is_within_reassembly_limit():
    from udpcore.reliable import MAX_REASSEMBLY
    longest = m.Line(1, "\U0001F600" * 24, "\U0001F600" * 2048, 0xFF, 7, "\U0001F600" * 24)
    assert len(m.encode_msg(longest)) == m.MAX_MESSAGE_BYTES <= MAX_REASSEMBLY


# --- the server engine under junk -----------------------------------------------------------------

SERVER = ("127.0.0.1", 5002)
REAL = [("127.0.0.1", 40000), ("127.0.0.1", 40001)]
JUNK_ADDRS = [("127.0.0.1", 50000), ("127.0.0.1", 50001), ("127.1.2.3", 5002), ("::1", 50000),
              ("::1", 1), ("::ffff:127.0.0.9", 65535), ("127.0.0.1", 40002)]

junk_datagrams = st.one_of(
    st.binary(max_size=1400),
    st.binary(max_size=120).map(lambda b: V1 + b),
    st.binary(max_size=120).map(lambda b: SEALED_PREFIX + b),     # sealed under no key anyone holds
    mutated(encoded_packets),
    encoded_packets,                                           # valid, but from a stranger
    st.text(max_size=60).map(lambda s: s.encode("utf-8")),     # plain text: a guest
    st.binary(min_size=1, max_size=40).map(lambda b: b"\x80" + b),   # invalid UTF-8
)


def expected_counter(data: bytes, from_member: bool) -> str | None:
    """Which counter a datagram from a stranger (or a member address) should move.
    ("undecryptable" stands for "undecryptable" or "replayed": which one depends on the
    packet number junk happens to carry.)"""
    if data[:5] == SEALED_PREFIX:                       # opened with the keys of the address, if any
        return "undecryptable" if from_member else "unknown_session"
    if not wire.is_protocol(data):
        if from_member:
            return "malformed"
        try:
            data.split(b"\n", 1)[0].decode("utf-8")      # a guest's datagram is its first line
        except UnicodeDecodeError:
            return "malformed"
        return None
    if data[:5] == discovery.DISCOVER_PREFIX:          # sessionless: answered, or dropped and counted
        if len(data) < discovery.DISCOVER_SIZE:
            return "discover_short"
        try:
            discovery.decode_discover(data)
        except wire.ProtocolError:
            return "malformed"
        return None
    try:
        p = wire.decode(data)
    except wire.VersionError:
        return "version"
    except wire.ProtocolError:
        return "malformed"
    except Exception:                     # a decoder bug: still malformed as far as the room goes
        return "malformed"
    if isinstance(p, wire.Hello):
        return "short_hello" if len(data) < wire.HELLO_MIN_SIZE else None
    if isinstance(p, (wire.Data, wire.Ack, wire.Ping, wire.Bye)):
        return "unsealed"                 # version 2: a session packet in clear is never a member's
    return "unexpected"


# Junk is classified here as the decoders see it; the guests' caps (tested in
# test_abuse.py) would otherwise count it as over a rate first.
NO_GUEST_LIMITS = Limits(max_guests=10**6, guest_line_chars=10**6, guest_rate=1e9, guest_burst=10**9,
                         guests_rate=1e9)


class Net:
    """One ServerEngine and real ClientEngines, datagrams moved by hand (aioquic style)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.now = 1000.0
        self.server = ServerEngine(self.now, randbytes=self.rng.randbytes, limits=NO_GUEST_LIMITS)
        self.clients = {a: ClientEngine(n, SERVER, self.now, randbytes=self.rng.randbytes)
                        for a, n in zip(REAL, ("alice", "bob"))}
        self.events = {a: [] for a in REAL}
        self.server_events: list[ev.Event] = []
        self.received_from: Counter = Counter()    # bytes the server got from each junk address
        self.sent_to: Counter = Counter()          # bytes the server sent to each junk address

    def junk(self, data: bytes, addr) -> None:
        self.received_from[addr] += len(data)
        self.server.receive_datagram(data, addr, self.now)

    def join_both(self):
        """alice and bob connect and are in the room; returns them."""
        alice, bob = self.clients.values()
        alice.connect(self.now)
        bob.connect(self.now)
        for _ in range(10):
            self.step()
        assert alice.state is State.JOINED and bob.state is State.JOINED
        return alice, bob

    def step(self, dt: float = 0.01) -> None:
        self.now += dt
        for e in (self.server, *self.clients.values()):
            t = e.get_timer()
            if t is not None and t <= self.now:
                e.handle_timer(self.now)
        for _ in range(20):
            moved = 0
            for a, c in self.clients.items():
                for data, dst in c.datagrams_to_send(self.now):
                    assert dst == SERVER
                    moved += 1
                    self.server.receive_datagram(data, a, self.now)
            for data, dst in self.server.datagrams_to_send(self.now):
                assert len(data) <= wire.MAX_DATAGRAM
                moved += 1
                if dst in self.clients:
                    self.clients[dst].receive_datagram(data, SERVER, self.now)
                else:
                    self.sent_to[dst] += len(data)
            if not moved:
                break
        for a, c in self.clients.items():
            while (e := c.next_event()) is not None:
                self.events[a].append(e)
        while (e := self.server.next_event()) is not None:
            self.server_events.append(e)


@ENGINE
@given(seed=st.integers(0, 2**32 - 1),
       junk=st.lists(st.tuples(st.integers(0, 60), junk_datagrams, st.sampled_from(JUNK_ADDRS)),
                     max_size=60))
@example(seed=0, junk=[(0, V1, JUNK_ADDRS[0])])
@example(seed=0, junk=[(3, V1, JUNK_ADDRS[1]), (5, b"\x80", JUNK_ADDRS[0])])
def test_server_engine_survives_junk_between_real_clients(seed, junk):
    net = Net(seed)
    alice, bob = net.clients.values()
    schedule: dict[int, list] = {}
    for at, data, addr in junk:
        schedule.setdefault(at, []).append((data, addr))
    expected: Counter = Counter()

    alice.connect(net.now)
    for i in range(61):
        if i == 5:
            bob.connect(net.now)
        if i == 30:
            assert alice.state is State.JOINED and bob.state is State.JOINED
            typed(alice, "hello from alice")
            typed(bob, "/me waves")
            typed(alice, "é" * 4000)             # 8000 bytes: seven fragments
        for data, addr in schedule.get(i, []):
            what = expected_counter(data, from_member=False)
            if what:
                expected[what] += 1
            net.junk(data, addr)                          # must not raise
        net.step()
    for _ in range(100):
        net.step()
        if sum(isinstance(e, ev.RoomLine) for e in net.events[REAL[1]]) >= 3:
            break

    # The real clients joined and their lines were relayed, in one order for all.
    a_ev, b_ev = net.events[REAL[0]], net.events[REAL[1]]
    assert ev.Connected("alice", "127.0.0.1:5002") in a_ev
    assert ev.Connected("bob", "127.0.0.1:5002") in b_ev
    a_lines = [(e.seq, e.sender, e.text) for e in a_ev if isinstance(e, ev.RoomLine) and e.sender in ("alice", "bob")]
    b_lines = [(e.seq, e.sender, e.text) for e in b_ev if isinstance(e, ev.RoomLine) and e.sender in ("alice", "bob")]
    assert sorted(t for _, _, t in a_lines) == sorted(["hello from alice", "waves", "é" * 4000])
    assert a_lines == b_lines
    assert [e.own for e in a_ev if isinstance(e, ev.RoomLine) and e.sender == "alice"] == [True, True]
    assert set(net.server.member_names) >= {"alice", "bob"}

    # Every junk datagram was counted where it belongs; nothing else was.
    counters = net.server.counters
    for key in ("malformed", "version", "short_hello", "unknown_session", "unsealed", "unexpected"):
        assert counters[key] == expected[key], (key, dict(counters), dict(expected))
    for key in ("wrong_address", "too_slow", "undecryptable", "replayed", "bad_handshake", "unconfirmed",
                "handshake_limited", "pending_full"):
        assert counters[key] == 0, (key, dict(counters))
    snap = net.server.snapshot(net.now)
    assert snap.counters == dict(counters) and snap.dropped == sum(counters.values())

    # Anti-amplification: no stranger got more than 3x what it sent.
    for addr, n in net.sent_to.items():
        assert n <= AMPLIFICATION * net.received_from[addr], (addr, n, net.received_from[addr])


@ENGINE
@given(seed=st.integers(0, 2**32 - 1), junk=st.lists(junk_datagrams, max_size=40))
def test_junk_from_a_members_own_address_does_not_break_its_session(seed, junk):
    # Junk that cannot know the session id, sent from alice's own address after
    # she joined: plain text, malformed packets, stray sessions. She stays in,
    # and her next line is relayed.
    net = Net(seed)
    alice, bob = net.join_both()
    expected: Counter = Counter()
    for data in junk:
        what = expected_counter(data, from_member=True)
        if what:
            expected[what] += 1
        net.server.receive_datagram(data, REAL[0], net.now)
        net.step(0.001)
    typed(alice, "still here")
    for _ in range(50):
        net.step()
    assert ("alice", "still here") in [(e.sender, e.text) for e in net.events[REAL[1]]
                                       if isinstance(e, ev.RoomLine)]
    assert sorted(net.server.member_names) == ["alice", "bob"]
    assert not any(isinstance(e, (ev.MemberLeft, ev.ConnectionLost)) for e in net.events[REAL[0]])
    counters = net.server.counters
    for key in ("malformed", "version", "short_hello", "unsealed", "unexpected"):
        assert counters[key] == expected[key], (key, dict(counters), dict(expected))
    # junk sealed from her address is opened with her keys, and refused
    assert counters["undecryptable"] + counters["replayed"] == expected["undecryptable"], dict(counters)
    assert counters["unknown_session"] == 0, dict(counters)


@ENGINE
@given(seed=st.integers(0, 2**32 - 1),
       text=st.text(min_size=1, max_size=40).filter(lambda s: s.strip() and s.strip().lower() not in ("exit", "/quit")))
@example(seed=0, text="hello from nc")
def test_plain_text_before_joining_from_the_same_address_leaves_no_ghost_member(seed, text):
    # Plain text from an address makes it a guest (``nc -u``); when a real client
    # then joins from that very address, the guest is gone: the address has one
    # owner, and the member list must not keep a guest nobody can remove (guests
    # expire through the address table, which now points at the member).
    net = Net(seed)
    net.server.receive_datagram(text.encode(), REAL[0], net.now)
    guests = [n for n in net.server.member_names if n.startswith("guest-")]
    assume(guests)                                    # the text had a printable line
    alice, bob = net.join_both()
    members = [e for e in net.events[REAL[1]] if isinstance(e, ev.MemberList)][-1].names
    assert sorted(members) == ["alice", "bob", "server"], members
    assert sorted(net.server.member_names) == ["alice", "bob"]


def forged_reset(data: bytes) -> bool:
    """A RESET naming no session: what the server sends an address it holds nothing
    for. It travels in clear and unauthenticated (a sealed packet carries no session id
    in clear to name), so anyone who sends from the server's address can send one."""
    try:
        p = wire.decode(data)
    except wire.ProtocolError:
        return False
    return isinstance(p, wire.Reset) and p.session == bytes(wire.SESSION_ID_LEN)


@ENGINE
@given(seed=st.integers(0, 2**32 - 1), junk=st.lists(junk_datagrams, min_size=1, max_size=40))
@example(seed=0, junk=[wire.encode(wire.Hello(b"n" * 8, "mallory"))])
@example(seed=0, junk=[wire.encode(wire.Reset(bytes(8))), SEALED_PREFIX + bytes(21)])
def test_client_engine_ignores_junk_from_the_server_address(seed, junk):
    # Junk with the server's source address (spoofed, or a confused server):
    # each datagram is dropped and counted in ``ignored``; the client stays in.
    # Version 2: except a RESET naming no session (see forged_reset), which the
    # client must believe; it then resumes its session with a proof, and nobody
    # in the room sees it leave.
    net = Net(seed)
    alice, bob = net.join_both()
    resets = 0
    for data in junk:
        before = alice.ignored
        alice.receive_datagram(data, SERVER, net.now)     # must not raise
        if forged_reset(data):
            resets += 1
            assert alice.ignored == before and alice.state is State.RECONNECTING, data
        else:
            assert alice.ignored == before + 1, data
        net.step(0.001)
    for _ in range(50):
        if alice.state is State.JOINED:
            break
        net.step()
    assert alice.state is State.JOINED
    typed(bob, "hi alice")
    for _ in range(50):
        net.step()
    assert ("bob", "hi alice") in [(e.sender, e.text) for e in net.events[REAL[0]] if isinstance(e, ev.RoomLine)]
    a_ev, b_ev = net.events[REAL[0]], net.events[REAL[1]]
    assert not any(isinstance(e, ev.MemberLeft) for e in b_ev)
    assert [e for e in a_ev if isinstance(e, ev.Reconnected)] == [ev.Reconnected(resumed=True)] * (
        [isinstance(e, ev.ConnectionLost) for e in a_ev].count(True))
    assert (resets == 0) == (not any(isinstance(e, ev.ConnectionLost) for e in a_ev))
