"""Byte-exact test vectors: every packet type of wire.py and every message type of appmsg.py.

The same vectors are listed in docs/protocol.md ("Test vectors"). Each is checked
both ways -- what we encode is exactly these bytes, and these bytes decode to
exactly this value -- so the magic, the version, every type code and every
field's place and width are pinned, not only "encode and decode agree".
"""
from __future__ import annotations

import pytest

from udpcore import appmsg as m
from udpcore import discovery as d
from udpcore import wire as w

pytestmark = pytest.mark.timeout(10)

NONCE = bytes.fromhex("0102030405060708")
SID = bytes.fromhex("a1a2a3a4a5a6a7a8")


def hx(s: str) -> bytes:
    return bytes.fromhex(s.replace(" ", "").replace("\n", ""))


# (name, packet, bytes). HELLO is shown without its zero padding up to 200 bytes.
PACKETS = [
    ("HELLO", w.Hello(NONCE, "alice"),
     "ff5543 01 01 0102030405060708 00 00 0005 616c696365"),
    ("HELLO with resume and token", w.Hello(NONCE, "bob", token=hx("102030"), resume=SID),
     "ff5543 01 01 0102030405060708 08 a1a2a3a4a5a6a7a8 03 102030 0003 626f62"),
    ("CHALLENGE", w.Challenge(NONCE, hx("aabbcc")),
     "ff5543 01 02 0102030405060708 03 aabbcc"),
    ("WELCOME", w.Welcome(NONCE, SID, "alice"),
     "ff5543 01 03 0102030405060708 a1a2a3a4a5a6a7a8 00 0005 616c696365"),
    ("WELCOME resumed", w.Welcome(NONCE, SID, "alice", resumed=True),
     "ff5543 01 03 0102030405060708 a1a2a3a4a5a6a7a8 01 0005 616c696365"),
    ("REFUSE name taken", w.Refuse(NONCE, w.RefuseCode.NAME_TAKEN, "taken"),
     "ff5543 01 04 0102030405060708 01 0005 74616b656e"),
    ("REFUSE name invalid", w.Refuse(NONCE, w.RefuseCode.NAME_INVALID, ""),
     "ff5543 01 04 0102030405060708 02 0000"),
    ("REFUSE version", w.Refuse(NONCE, w.RefuseCode.VERSION, "1"),
     "ff5543 01 04 0102030405060708 03 0001 31"),
    ("REFUSE full", w.Refuse(NONCE, w.RefuseCode.FULL, ""),
     "ff5543 01 04 0102030405060708 04 0000"),
    ("REFUSE banned", w.Refuse(NONCE, w.RefuseCode.BANNED, ""),
     "ff5543 01 04 0102030405060708 05 0000"),
    ("REFUSE host full", w.Refuse(NONCE, w.RefuseCode.HOST_FULL, ""),
     "ff5543 01 04 0102030405060708 06 0000"),
    ("DATA", w.Data(SID, 0x11223344, 0x55667788, 0x80000001, w.FLAG_MORE, 0x01020304, 0x0A0B0C0D, b"hi"),
     "ff5543 01 05 a1a2a3a4a5a6a7a8 11223344 55667788 80000001 01 01020304 0a0b0c0d 6869"),
    ("ACK", w.Ack(SID, 7, 5, 0xDEADBEEF),
     "ff5543 01 06 a1a2a3a4a5a6a7a8 00000007 00000005 deadbeef"),
    ("PING", w.Ping(SID),
     "ff5543 01 07 a1a2a3a4a5a6a7a8"),
    ("BYE", w.Bye(SID, "bye"),
     "ff5543 01 08 a1a2a3a4a5a6a7a8 0003 627965"),
    ("RESET", w.Reset(SID),
     "ff5543 01 09 a1a2a3a4a5a6a7a8"),
]

INSTANCE = bytes.fromhex("b1b2b3b4b5b6b7b8")
# Sessionless discovery (udpcore/discovery.py). DISCOVER is shown without its zero
# padding: on the wire it continues with 00 bytes up to exactly 256 bytes.
DISCOVERY = [
    ("DISCOVER", NONCE, "ff5543 01 0a 0102030405060708"),
    ("HERE", d.Here(NONCE, INSTANCE, 5002, 3, False, 1, "Sala 3"),
     "ff5543 01 0b 0102030405060708 b1b2b3b4b5b6b7b8 138a 0003 00 01 0006 53616c612033"),
    ("HERE locked", d.Here(NONCE, INSTANCE, 5011, 0, True, 1, "é"),
     "ff5543 01 0b 0102030405060708 b1b2b3b4b5b6b7b8 1393 0000 01 01 0002 c3a9"),
]

MESSAGES = [
    ("SAY", m.Say(0x01020304, "hi"), "01 00 01020304 0002 6869"),
    ("SAY action", m.Say(5, "waves", action=True), "01 01 00000005 0005 7761766573"),
    ("PRIVATE", m.Private(9, "bob", "psst"), "02 00 00000009 0003 626f62 0004 70737374"),
    ("PRIVATE action", m.Private(9, "bob", "nods", action=True), "02 01 00000009 0003 626f62 0004 6e6f6473"),
    ("NICK", m.Nick("carol"), "03 0005 6361726f6c"),
    ("WHO", m.Who(), "04"),
    ("LEAVE", m.Leave(), "05"),
    ("SYNC", m.Sync(1), "06 00000001"),
    ("LINE", m.Line(seq=3, sender="alice", text="hi", flags=m.LINE_OWN | m.LINE_PRIVATE, msg_id=9, to="bob"),
     "14 06 00000003 00000009 0005 616c696365 0003 626f62 0002 6869"),
    ("LINE action", m.Line(seq=0x01000000, sender="a", text="x", flags=m.LINE_ACTION),
     "14 01 01000000 00000000 0001 61 0000 0001 78"),
    ("JOINED", m.Joined("bob", "127.0.0.2:4000", guest=True),
     "15 01 0003 626f62 000e 3132372e302e302e323a34303030"),
    ("JOINED member", m.Joined("bob"), "15 00 0003 626f62 0000"),
    ("LEFT left", m.Left("bob"), "16 0003 626f62 0004 6c656674"),
    ("LEFT vanished", m.Left("bob", m.LeaveReason.VANISHED), "16 0003 626f62 0008 76616e6973686564"),
    ("LEFT expired", m.Left("bob", m.LeaveReason.EXPIRED), "16 0003 626f62 0007 65787069726564"),
    ("LEFT too-slow", m.Left("bob", m.LeaveReason.TOO_SLOW), "16 0003 626f62 0008 746f6f2d736c6f77"),
    ("RENAMED", m.Renamed("bob", "rob"), "17 0003 626f62 0003 726f62"),
    ("MEMBERS", m.Members(("a", "bc")), "18 0002 0001 61 0002 6263"),
    ("MEMBERS empty", m.Members(()), "18 0000"),
    ("ERROR no such member", m.Error(m.ErrorCode.NO_SUCH_MEMBER, "eve"), "19 01 0003 657665"),
    ("ERROR name taken", m.Error(m.ErrorCode.NAME_TAKEN, "bob"), "19 02 0003 626f62"),
    ("ERROR name invalid", m.Error(m.ErrorCode.NAME_INVALID, "a b"), "19 03 0003 612062"),
    ("CLOSING", m.Closing("bye"), "1a 0003 627965"),
    ("LEFT kicked", m.Left("bob", m.LeaveReason.KICKED), "16 0003 626f62 0006 6b69636b6564"),
    ("LEFT banned", m.Left("bob", m.LeaveReason.BANNED), "16 0003 626f62 0006 62616e6e6564"),
    ("ERROR rate limited", m.Error(m.ErrorCode.RATE_LIMITED, ""), "19 04 0000"),
    ("LINE_REFUSED rate", m.LineRefused(9, m.RefusalCode.RATE_LIMITED, 1), "1c 00000009 01 0001"),
    ("LINE_REFUSED muted", m.LineRefused(9, m.RefusalCode.MUTED, 300), "1c 00000009 02 012c"),
    ("REMOVED", m.Removed("spam", banned=False), "1d 00 0004 7370616d"),
    ("REMOVED banned", m.Removed("", banned=True), "1d 01 0000"),
    ("CROWD", m.Crowd(12, 3), "1e 0000000c 00000003"),
    ("LIMITS", m.Limits(300, 20), "1f 012c 0014"),
    ("SYNCED", m.Synced(0xFFFFFFFE), "1b fffffffe"),
]


@pytest.mark.parametrize("name,packet,vector", PACKETS, ids=[p[0] for p in PACKETS])
def test_packet_vector(name, packet, vector):
    raw = hx(vector)
    if isinstance(packet, w.Hello):
        raw += bytes(w.HELLO_MIN_SIZE - len(raw))        # zero padding up to exactly 200 bytes
        assert len(raw) == 200
    assert w.encode(packet) == raw
    back = w.decode(raw)
    assert type(back) is type(packet) and back == packet


@pytest.mark.parametrize("name,value,vector", DISCOVERY, ids=[x[0] for x in DISCOVERY])
def test_discovery_vector(name, value, vector):
    raw = hx(vector)
    if isinstance(value, bytes):
        raw += bytes(d.DISCOVER_SIZE - len(raw))        # zero padding up to exactly 256 bytes
        assert len(raw) == 256
        assert d.encode_discover(value) == raw and d.decode_discover(raw) == value
    else:
        assert d.encode_here(value) == raw and d.decode_here(raw) == value
    with pytest.raises(w.ProtocolError):                  # never taken for a session packet
        w.decode(raw)


@pytest.mark.parametrize("name,msg,vector", MESSAGES, ids=[x[0] for x in MESSAGES])
def test_message_vector(name, msg, vector):
    raw = hx(vector)
    assert m.encode_msg(msg) == raw
    back = m.decode_msg(raw)
    assert type(back) is type(msg) and back == msg


def test_every_packet_and_message_type_has_a_vector():
    assert {type(p) for _, p, _ in PACKETS} == {w.Hello, w.Challenge, w.Welcome, w.Refuse, w.Data, w.Ack,
                                                  w.Ping, w.Bye, w.Reset}
    assert {hx(v)[4] for _, _, v in PACKETS + DISCOVERY} == set(w.PacketType)
    assert {hx(v)[0] for _, _, v in MESSAGES} == set(m.MsgType)
    assert {p.code for _, p, _ in PACKETS if isinstance(p, w.Refuse)} == set(w.RefuseCode)
    assert {x.code for _, x, _ in MESSAGES if isinstance(x, m.Error)} == set(m.ErrorCode)
    assert {x.reason for _, x, _ in MESSAGES if isinstance(x, m.Left)} == set(m.LeaveReason)


def test_the_named_constants_are_the_wire_values():
    assert w.MAGIC == b"\xff\x55\x43" and w.VERSION == 1
    assert [int(t) for t in w.PacketType] == list(range(1, 12))
    assert (m.LINE_ACTION, m.LINE_PRIVATE, m.LINE_OWN, w.FLAG_MORE) == (1, 2, 4, 1)
    assert (w.MAX_DATAGRAM, w.HELLO_MIN_SIZE, w.MAX_MESSAGE_TEXT, w.MAX_NAME_CHARS) == (1200, 200, 8192, 24)
    assert w.DATA_HEADER.size == 29 and w.ACK_BODY.size == 20
    assert w.MAX_FRAGMENT == 1200 - 5 - 29 == 1166


def test_the_relays_shortcuts_build_the_vectors_bytes():
    data = dict((n, (p, hx(v))) for n, p, v in PACKETS)["DATA"]
    p, raw = data
    assert w.encode_data(p.session, p.seq, p.ack, p.sack, p.flags, p.ts, p.echo, p.payload) == raw
    assert w.data_prefix(SID) + w.DATA_REST.pack(p.seq, p.ack, p.sack, p.flags, p.ts, p.echo) + p.payload == raw
    ack, raw = dict((n, (p, hx(v))) for n, p, v in PACKETS)["ACK"]
    assert w.encode_ack(ack.session, ack.ack, ack.sack, ack.echo) == raw
    line = dict((n, (x, hx(v))) for n, x, v in MESSAGES)["LINE"]
    x, raw = line
    assert m.encode_line(x.seq, x.sender, x.text, x.flags, x.msg_id, x.to) == raw


def test_encode_line_defaults_to_no_flags_no_message_id_and_nobody():
    assert m.encode_line(3, "a", "x") == hx("14 00 00000003 00000000 0001 61 0000 0001 78")
