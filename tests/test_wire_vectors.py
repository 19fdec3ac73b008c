"""Byte-exact test vectors: every packet type of wire.py, SEALED datagrams, and every
message type of appmsg.py.

The same vectors are listed in docs/protocol.md ("Test vectors"), and
:func:`test_the_docs_list_exactly_these_vectors` reads them there. Each is checked
both ways -- what we encode is exactly these bytes, and these bytes decode to
exactly this value -- so the magic, the version, every type code and every
field's place and width are pinned, not only "encode and decode agree".

The handshake fields are real where the vectors can make them so: RFC 7748 section
6.1's X25519 keys (Alice the client, Bob the server), the CHALLENGE's token
``aabbcc``, session ``a1..a8``, an open room. So the WELCOME's confirmation, the
resume proofs and the SEALED datagrams are what the key schedule gives for those
inputs. The SPAKE2 messages (and the locked WELCOME's confirmation) are patterns:
their layout is what is pinned here; tests/test_protection.py pins SPAKE2 itself.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from udpcore import appmsg as m
from udpcore import discovery as d
from udpcore import wire as w
from udpcore.errors import DecryptError, ProtocolError
from udpcore.frames import Frames, decode_frames, decode_session, encode_frames
from udpcore.keying import ClientKeying, client_resume_proof, server_handshake, server_resume_proof
from udpcore.protection import KeyShare, SessionKeys, Side, traffic_keys
from udpcore.sealing import Seal

pytestmark = pytest.mark.timeout(10)

NONCE = bytes.fromhex("0102030405060708")
SID = bytes.fromhex("a1a2a3a4a5a6a7a8")
DOCS = Path(__file__).resolve().parent.parent / "docs" / "protocol.md"


def hx(s: str) -> bytes:
    return bytes.fromhex(s.replace(" ", "").replace("\n", ""))


# --- the handshake the vectors come from ---------------------------------------------------

A_PRIV = hx("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")     # RFC 7748 6.1
B_PRIV = hx("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")
A_PUB = hx("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
B_PUB = hx("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
TOKEN = hx("aabbcc")                 # the CHALLENGE's token, echoed by the second HELLO
RESUME_TOKEN = hx("102030")          # the token a resuming HELLO echoes
HANDSHAKE = server_handshake(A_PUB, b"", "", "", NONCE, TOKEN, SID, KeyShare(B_PRIV))
KEYS: SessionKeys = HANDSHAKE.keys
CONFIRM = HANDSHAKE.confirm          # server_finished
PROOF = client_resume_proof(KEYS, SID, NONCE, RESUME_TOKEN)
WELCOME_PROOF = server_resume_proof(KEYS, SID, NONCE, RESUME_TOKEN)
# Layout only (see the module docstring): a side byte and 32 bytes of pattern.
PAKE_A = b"A" + bytes(range(0x80, 0xA0))
PAKE_B = b"B" + bytes(range(0xA0, 0xC0))
LOCKED_CONFIRM = bytes(range(0x60, 0x80))

# Every secret and key of that handshake, as docs/protocol.md lists them.
SECRETS = {
    "c2s": "7db74cbb4eb5de0e626039d432fad0fc9b3f757c0b7953e8cece41f6f3644c17",
    "s2c": "35e4afcafa27a65ef17aafe075f77aa0f3fbb8541eb91a2f730c3188cfdba8f7",
    "key_0 (c2s)": "efe4affa5c1e249d565f7cd280834b35ba09cd9fd0740a61856c939e8671c619",
    "iv_0 (c2s)": "e100c293dcd23e0e247f7c18",
    "key_0 (s2c)": "2e983f44dd1285ba7efd1b8393c6f5cf90ff2aedfea7addebf0c783146489d49",
    "iv_0 (s2c)": "e99bbff912f134377496e6ac",
    "server_finished": "009670ee87e5f2d34a3a4d2092b234fbd8905830a56b6f3d6601a446aa6ff3e6",
    "client resume proof": "f1313165a231260d39cb465907ef4c3aed836d0073dd66380af11255141abfac",
    "server resume proof": "85a3619f126b52c85657885729ad1238c4389d549aa068802490ea5f58aef5f8",
}

_A = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
_B = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"
_PA = "41 808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
_PB = "42 a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
_CONFIRM = SECRETS["server_finished"]
_PROOF = SECRETS["client resume proof"]
_WPROOF = SECRETS["server resume proof"]
_LOCKED_CONFIRM = "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"

# (name, packet, bytes). HELLO is shown without its zero padding up to 200 bytes.
PACKETS = [
    ("HELLO", w.Hello(NONCE, "alice", public=A_PUB),
     f"ff5543 03 01 0102030405060708 00 00 0005 616c696365 20 {_A} 00"),
    ("HELLO with token", w.Hello(NONCE, "alice", token=TOKEN, public=A_PUB),
     f"ff5543 03 01 0102030405060708 00 03 aabbcc 0005 616c696365 20 {_A} 00"),
    ("HELLO locked", w.Hello(NONCE, "alice", token=TOKEN, public=A_PUB, pake=PAKE_A),
     f"ff5543 03 01 0102030405060708 00 03 aabbcc 0005 616c696365 20 {_A} 21 {_PA}"),
    ("HELLO with resume and token", w.Hello(NONCE, "alice", token=RESUME_TOKEN, resume=PROOF, public=A_PUB),
     f"ff5543 03 01 0102030405060708 20 {_PROOF} 03 102030 0005 616c696365 20 {_A} 00"),
    ("CHALLENGE", w.Challenge(NONCE, TOKEN),
     "ff5543 03 02 0102030405060708 03 aabbcc 00 0000"),
    ("CHALLENGE locked", w.Challenge(NONCE, TOKEN, locked=True, room="Sala 3"),
     "ff5543 03 02 0102030405060708 03 aabbcc 01 0006 53616c612033"),
    ("WELCOME", w.Welcome(NONCE, SID, "alice", public=B_PUB, confirm=CONFIRM),
     f"ff5543 03 03 0102030405060708 a1a2a3a4a5a6a7a8 00 0005 616c696365 20 {_B} 00 20 {_CONFIRM}"),
    ("WELCOME locked", w.Welcome(NONCE, SID, "alice", public=B_PUB, pake=PAKE_B, confirm=LOCKED_CONFIRM),
     f"ff5543 03 03 0102030405060708 a1a2a3a4a5a6a7a8 00 0005 616c696365 20 {_B} 21 {_PB} 20 {_LOCKED_CONFIRM}"),
    ("WELCOME resumed", w.Welcome(NONCE, SID, "alice", resumed=True, confirm=WELCOME_PROOF),
     f"ff5543 03 03 0102030405060708 a1a2a3a4a5a6a7a8 01 0005 616c696365 00 00 20 {_WPROOF}"),
    ("REFUSE name taken", w.Refuse(NONCE, w.RefuseCode.NAME_TAKEN, "taken"),
     "ff5543 03 04 0102030405060708 01 0005 74616b656e"),
    ("REFUSE name invalid", w.Refuse(NONCE, w.RefuseCode.NAME_INVALID, ""),
     "ff5543 03 04 0102030405060708 02 0000"),
    ("REFUSE version", w.Refuse(NONCE, w.RefuseCode.VERSION, "3"),
     "ff5543 03 04 0102030405060708 03 0001 33"),
    ("REFUSE full", w.Refuse(NONCE, w.RefuseCode.FULL, ""),
     "ff5543 03 04 0102030405060708 04 0000"),
    ("REFUSE banned", w.Refuse(NONCE, w.RefuseCode.BANNED, ""),
     "ff5543 03 04 0102030405060708 05 0000"),
    ("REFUSE host full", w.Refuse(NONCE, w.RefuseCode.HOST_FULL, ""),
     "ff5543 03 04 0102030405060708 06 0000"),
    ("REFUSE locked", w.Refuse(NONCE, w.RefuseCode.LOCKED, "alice"),
     "ff5543 03 04 0102030405060708 07 0005 616c696365"),
    ("REFUSE too many guesses", w.Refuse(NONCE, w.RefuseCode.TOO_MANY_GUESSES, "30"),
     "ff5543 03 04 0102030405060708 08 0002 3330"),
    ("DATA", w.Data(SID, 0x11223344, 0x55667788, 0x80000001, w.FLAG_MORE, 0x01020304, 0x0A0B0C0D, b"hi"),
     "ff5543 03 05 a1a2a3a4a5a6a7a8 11223344 55667788 80000001 01 01020304 0a0b0c0d 6869"),
    ("FRAMES", Frames(SID, 0x55667788, 0x80000001, 0x01020304, 0x0A0B0C0D,
                      ((0x11223344, w.FLAG_MORE, b"hi"), (0x11223345, 0, b"!"))),
     "ff5543 03 0d a1a2a3a4a5a6a7a8 55667788 80000001 01020304 0a0b0c0d 02 11223344 01 0002 6869 11223345 00 0001 21"),
    ("ACK", w.Ack(SID, 7, 5, 0xDEADBEEF),
     "ff5543 03 06 a1a2a3a4a5a6a7a8 00000007 00000005 deadbeef"),
    ("PING", w.Ping(SID),
     "ff5543 03 07 a1a2a3a4a5a6a7a8"),
    ("BYE", w.Bye(SID, "bye"),
     "ff5543 03 08 a1a2a3a4a5a6a7a8 0003 627965"),
    ("RESET", w.Reset(bytes(8)),
     "ff5543 03 09 0000000000000000"),
]

# SEALED datagrams of the handshake above, in the order each side sends them (the
# packet number counts per direction): (name, sender, the PACKETS vector inside, bytes).
SEALED = [
    ("SEALED PING", Side.CLIENT, "PING",
     "ff5543 03 0c 00 00000000 10e754e003b48b772faf0d3013 85919a23d576c5a14295776e2f18433e"),
    ("SEALED DATA", Side.CLIENT, "DATA",
     "ff5543 03 0c 00 00000001 d031d0ee02e9685be810192116efc385eaed973142f4715af53faa46964dca1212851fd6"
     " e2479889289848a0d6119f9880d73da7"),
    ("SEALED ACK", Side.SERVER, "ACK",
     "ff5543 03 0c 00 00000000 dbc131396216f391ec93fbda04df652fe81eb24f797966f91f"
     " 432fb6ca541c8b790723de7d61f624c1"),
]

INSTANCE = bytes.fromhex("b1b2b3b4b5b6b7b8")
# Sessionless discovery (udpcore/discovery.py). DISCOVER is shown without its zero
# padding: on the wire it continues with 00 bytes up to exactly 256 bytes.
DISCOVERY = [
    ("DISCOVER", NONCE, "ff5543 03 0a 0102030405060708"),
    ("HERE", d.Here(NONCE, INSTANCE, 5002, 3, False, 3, "Sala 3"),
     "ff5543 03 0b 0102030405060708 b1b2b3b4b5b6b7b8 138a 0003 00 03 0006 53616c612033"),
    ("HERE locked", d.Here(NONCE, INSTANCE, 5011, 0, True, 3, "é"),
     "ff5543 03 0b 0102030405060708 b1b2b3b4b5b6b7b8 1393 0000 01 03 0002 c3a9"),
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
    # history (udpcore/pastmsg.py): token, after, before (0: none), limit, newest
    ("FETCH", m.Fetch(7, 100, 0, 500, True), "07 00000007 00000064 00000000 01f4 01"),
    ("ROOM", m.RoomInfo("5f0c2a9e81d34b7a", 1234), "20 0010 35663063326139653831643334623761 000004d2"),
    # token, more, wait, count; each line: seq, at (float64), flags, msg_id, sender, text
    ("HISTORY", m.History(7, (m.PastLine(101, 1764748800.5, "ana", "oi", 1),), 3),
     "21 00000007 00000003 0000 0001 00000065 41da4bfb80200000 01 00000000 0003 616e61 0002 6f69"),
    ("HISTORY own", m.History(7, (m.PastLine(102, 1764748800.5, "ana", "eu", 4, 9),)),
     "21 00000007 00000000 0000 0001 00000066 41da4bfb80200000 04 00000009 0003 616e61 0002 6575"),
    ("ORIGIN", m.Origin(bytes.fromhex("0102030405060708")), "08 0102030405060708"),
    ("HISTORY refused", m.History(8, (), 0, 2), "21 00000008 00000000 0002 0000"),
    ("BACK", m.Back(150), "22 00000096"),
    ("SYNCED", m.Synced(0xFFFFFFFE), "1b fffffffe"),
]


@pytest.mark.parametrize("name,packet,vector", PACKETS, ids=[p[0] for p in PACKETS])
def test_packet_vector(name, packet, vector):
    raw = hx(vector)
    if isinstance(packet, Frames):                     # udpcore/frames.py's, not wire.py's
        assert encode_frames(packet.session, packet.ack, packet.sack, packet.ts, packet.echo,
                             list(packet.frames)) == raw
        assert decode_session(raw) == decode_frames(raw) == packet
        with pytest.raises(ProtocolError):             # wire.decode leaves it to udpcore.frames
            w.decode(raw)
        return
    if isinstance(packet, w.Hello):
        raw += bytes(w.HELLO_MIN_SIZE - len(raw))        # zero padding up to exactly 200 bytes
        assert len(raw) == 200
    assert w.encode(packet) == raw
    back = w.decode(raw)
    assert type(back) is type(packet) and back == packet


def test_sealed_vectors_in_the_order_each_side_sends_them():
    inner = {name: hx(v) for name, _, v in PACKETS}
    senders = {Side.CLIENT: Seal(KEYS, Side.CLIENT), Side.SERVER: Seal(KEYS, Side.SERVER)}
    openers = {Side.CLIENT: Seal(KEYS, Side.SERVER), Side.SERVER: Seal(KEYS, Side.CLIENT)}
    pns = {Side.CLIENT: 0, Side.SERVER: 0}
    for name, sender, packet, vector in SEALED:
        raw = hx(vector)
        assert senders[sender].seal(inner[packet]) == raw, name
        assert raw[:10] == w.SEALED_HEADER.pack(w.MAGIC, w.VERSION, w.PacketType.SEALED, 0, pns[sender]), name
        assert len(raw) == len(inner[packet]) + w.SEAL_OVERHEAD
        assert openers[sender].open(raw) == inner[packet]
        with pytest.raises(DecryptError):                   # each direction has its own keys
            senders[sender].open(raw)
        with pytest.raises(ProtocolError):                  # never taken for a packet in clear
            w.decode(raw)
        pns[sender] += 1


def test_the_vectors_handshake_is_what_both_sides_derive():
    assert KeyShare(A_PRIV).public == A_PUB and KeyShare(B_PRIV).public == B_PUB
    assert (HANDSHAKE.public, HANDSHAKE.pake) == (B_PUB, b"")
    client = ClientKeying("", KeyShare(A_PRIV))
    assert client.challenged(False, "", NONCE, TOKEN) == b""
    theirs = client.welcomed(B_PUB, b"", CONFIRM, NONCE, TOKEN, SID)
    assert (theirs.c2s, theirs.s2c, theirs.resume_key) == (KEYS.c2s, KEYS.s2c, KEYS.resume_key)
    (c2s_key, c2s_iv), (s2c_key, s2c_iv) = traffic_keys(KEYS.c2s), traffic_keys(KEYS.s2c)
    assert {"c2s": KEYS.c2s.hex(), "s2c": KEYS.s2c.hex(), "key_0 (c2s)": c2s_key.hex(), "iv_0 (c2s)": c2s_iv.hex(),
            "key_0 (s2c)": s2c_key.hex(), "iv_0 (s2c)": s2c_iv.hex(), "server_finished": CONFIRM.hex(),
            "client resume proof": PROOF.hex(), "server resume proof": WELCOME_PROOF.hex()} == SECRETS
    assert KEYS.verify_resume(SID, NONCE + RESUME_TOKEN, PROOF)
    assert PROOF != WELCOME_PROOF                            # the server's proof is not the client's echoed


def test_the_sealed_vectors_follow_the_documented_construction():
    """What another implementation does with the listed secrets, with nothing of ours but the bytes."""
    def lp(b: bytes) -> bytes:
        return bytes([len(b)]) + b

    def resume_mac(nonce: bytes) -> bytes:
        return hmac.new(KEYS.resume_key, b"udpchat resume" + lp(SID) + lp(nonce), hashlib.sha256).digest()

    assert resume_mac(NONCE + RESUME_TOKEN) == PROOF
    assert resume_mac(b"welcome " + NONCE + RESUME_TOKEN) == WELCOME_PROOF
    inner = {name: hx(v) for name, _, v in PACKETS}
    for name, sender, packet, vector in SEALED:
        raw = hx(vector)
        way = "c2s" if sender is Side.CLIENT else "s2c"
        key, iv = bytes.fromhex(SECRETS[f"key_0 ({way})"]), bytes.fromhex(SECRETS[f"iv_0 ({way})"])
        pn = int.from_bytes(raw[6:10], "big")
        nonce = (int.from_bytes(iv, "big") ^ pn).to_bytes(12, "big")
        assert ChaCha20Poly1305(key).decrypt(nonce, raw[10:], raw[:10]) == inner[packet], name


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
    assert {type(p) for _, p, _ in PACKETS} == {w.Hello, w.Challenge, w.Welcome, w.Refuse, w.Data, Frames, w.Ack,
                                                  w.Ping, w.Bye, w.Reset}
    assert {hx(v)[4] for _, _, v in PACKETS + DISCOVERY} | {hx(v)[4] for *_, v in SEALED} == set(w.PacketType)
    assert {hx(v)[4] for *_, v in SEALED} == {w.PacketType.SEALED}
    assert {packet for _, _, packet, _ in SEALED} == {"PING", "DATA", "ACK"}
    assert {sender for _, sender, _, _ in SEALED} == set(Side)
    assert {x[0] for x in MESSAGES if x[0] in {x[0] for x in PACKETS}} == set()   # names are unique per table
    assert {hx(v)[0] for _, _, v in MESSAGES} == set(m.MsgType)
    assert {p.code for _, p, _ in PACKETS if isinstance(p, w.Refuse)} == set(w.RefuseCode)
    assert {x.code for _, x, _ in MESSAGES if isinstance(x, m.Error)} == set(m.ErrorCode)
    assert {x.reason for _, x, _ in MESSAGES if isinstance(x, m.Left)} == set(m.LeaveReason)
    # every optional handshake field is shown both present and absent
    hellos = [p for _, p, _ in PACKETS if isinstance(p, w.Hello)]
    for field in ("token", "resume", "pake"):
        assert {bool(getattr(h, field)) for h in hellos} == {True, False}, field
    assert all(h.public for h in hellos)                  # a client always sends its key
    assert {c.locked for _, c, _ in PACKETS if isinstance(c, w.Challenge)} == {True, False}
    welcomes = [p for _, p, _ in PACKETS if isinstance(p, w.Welcome)]
    for field in ("resumed", "public", "pake"):
        assert {bool(getattr(x, field)) for x in welcomes} == {True, False}, field


def test_the_named_constants_are_the_wire_values():
    assert w.MAGIC == b"\xff\x55\x43" and w.VERSION == 3
    assert [int(t) for t in w.PacketType] == list(range(1, 14)) and w.PacketType.SEALED == 12
    assert w.PacketType.FRAMES == 13
    assert [int(c) for c in w.RefuseCode] == list(range(1, 9))
    assert (w.RefuseCode.LOCKED, w.RefuseCode.TOO_MANY_GUESSES) == (7, 8)
    assert (m.LINE_ACTION, m.LINE_PRIVATE, m.LINE_OWN, w.FLAG_MORE, w.FLAG_LOCKED) == (1, 2, 4, 1, 1)
    assert (w.MAX_DATAGRAM, w.HELLO_MIN_SIZE, w.MAX_MESSAGE_TEXT, w.MAX_NAME_CHARS) == (1200, 200, 8192, 24)
    assert (w.NONCE_LEN, w.SESSION_ID_LEN, w.MAX_TOKEN_LEN, w.MAX_ROOM_BYTES) == (8, 8, 64, 160)
    assert (w.PUBLIC_LEN, w.PAKE_LEN, w.CONFIRM_LEN) == (32, 33, 32)
    assert w.DATA_HEADER.size == 29 and w.ACK_BODY.size == 20
    assert w.SEALED_HEADER.size == 10 and w.AEAD_TAG == 16 and w.SEAL_OVERHEAD == 26
    assert w.MAX_FRAGMENT == 1200 - 26 - 5 - 29 == 1140
    # the other modules agree with the wire on every length they share
    from udpcore import pake, protection
    assert (protection.PUBLIC_LEN, pake.PAKE_MESSAGE_LEN, protection.TAG_LEN) == (w.PUBLIC_LEN, w.PAKE_LEN, w.AEAD_TAG)
    assert len(KEYS.finished(Side.SERVER)) == len(PROOF) == w.CONFIRM_LEN


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


# --- the same vectors in docs/protocol.md -----------------------------------------------------


def doc_tables() -> dict[str, tuple[dict[str, str], str]]:
    """The "Test vectors" section of docs/protocol.md: for each of its subsections,
    the rows of its table (first cell -> the bytes in the last cell) and its text."""
    text = DOCS.read_text(encoding="utf-8")
    section = text[text.index("\n## Test vectors\n"):]
    out: dict[str, tuple[dict[str, str], str]] = {}
    for part in re.split(r"\n### ", section)[1:]:
        heading, _, body = part.partition("\n")
        rows: dict[str, str] = {}
        for line in body.splitlines():
            cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") else []
            if len(cells) >= 2 and re.fullmatch(r"`[0-9a-f ]+`", cells[-1]):
                assert cells[0] not in rows, f"{cells[0]} listed twice under {heading}"
                rows[cells[0]] = cells[-1].strip("`")
        out[heading.strip()] = (rows, body)
    return out


def test_the_docs_list_exactly_these_vectors():
    tables = doc_tables()
    expected = {"Datagrams": PACKETS, "Sealed datagrams": SEALED, "Finding rooms": DISCOVERY,
                "Chat messages": MESSAGES}
    assert len(tables) == len(expected), sorted(tables)
    for heading, vectors in expected.items():
        (rows,) = [rows for h, (rows, _) in tables.items() if h.split(" (")[0] == heading]
        assert rows == {x[0]: x[-1] for x in vectors}, heading


def test_the_docs_give_the_inputs_and_secrets_of_the_sealed_vectors():
    (body,) = [body for h, (_, body) in doc_tables().items() if h == "Sealed datagrams"]
    lines = body.splitlines()
    for name, value in {**SECRETS, "client private": A_PRIV.hex(), "server private": B_PRIV.hex(),
                        "client public": A_PUB.hex(), "server public": B_PUB.hex()}.items():
        assert any(line.startswith(name) and line.split()[-1] == value for line in lines), name


def test_a_restamped_line_is_the_line_encoded_with_its_new_flags_and_message_id():
    shared = m.encode_line(3, "ana", "olá", m.LINE_ACTION)
    assert m.restamped_line(shared, 3, m.LINE_ACTION | m.LINE_OWN, 77) == \
        m.encode_line(3, "ana", "olá", m.LINE_ACTION | m.LINE_OWN, 77)
    assert m.restamped_line(shared, 3, 0, 0) == m.encode_line(3, "ana", "olá")
