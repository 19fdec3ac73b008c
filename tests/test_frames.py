"""FRAMES (udpcore/frames.py): several fragments in one sealed datagram.

The codec at its edges (sizes that fit exactly and one byte over, 255 frames,
every malformation), how a peer cuts what is due into datagrams, that a peer
takes a FRAMES as the DATA it stands for, and that the server's relay sends a
member one datagram per turn however many lines the turn relayed (and a lone
line as DATA, as before). Fuzzed with hypothesis.
"""
from __future__ import annotations

import os
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from udpcore import appmsg as m
from udpcore import frames as fr
from udpcore import wire
from udpcore.errors import ProtocolError
from udpcore.peer import Peer
from udpcore.protection import SessionKeys, Side
from udpcore.sealing import Seal
from tests.enginepair import SERVER, UNLIMITED, Room, drain
from tests.sealed import as_data, keys_of, peek

pytestmark = pytest.mark.timeout(60)

SID = bytes.fromhex("a1a2a3a4a5a6a7a8")
FUZZ = settings(max_examples=40 if os.environ.get("CI") else 400, deadline=None,
                suppress_health_check=[HealthCheck.too_slow], derandomize=bool(os.environ.get("CI")))


def encoded(frames, ack=1, sack=2, ts=3, echo=4) -> bytes:
    return fr.encode_frames(SID, ack, sack, ts, echo, frames)


# --- the codec ------------------------------------------------------------------------------


def test_a_frames_round_trips_with_its_fields_in_place():
    frames = [(7, wire.FLAG_MORE, b"ab"), (9, 0, b"")]
    raw = encoded(frames, 0x01020304, 0x05060708, 0x090A0B0C, 0x0D0E0F10)
    assert raw[:5] == wire.MAGIC + bytes([wire.VERSION, wire.PacketType.FRAMES]) == fr.FRAMES_PREFIX
    assert raw[5:13] == SID and raw[29] == 2
    assert raw[13:29] == bytes.fromhex("0102030405060708090a0b0c0d0e0f10")
    assert raw[30:] == bytes.fromhex("00000007 01 0002 6162 00000009 00 0000".replace(" ", ""))
    assert len(raw) == fr.HEAD_LEN + 2 * fr.FRAME_HEAD.size + 2
    assert fr.decode_frames(raw) == fr.Frames(SID, 0x01020304, 0x05060708, 0x090A0B0C, 0x0D0E0F10,
                                             ((7, 1, b"ab"), (9, 0, b"")))
    assert fr.decode_session(raw) == fr.decode_frames(raw)


def test_the_biggest_frames_fits_one_sealed_datagram_and_a_byte_more_does_not():
    room_for = fr.MAX_INNER - fr.HEAD_LEN - fr.FRAME_HEAD.size
    raw = encoded([(1, 0, b"x" * room_for)])
    assert len(raw) == fr.MAX_INNER == wire.MAX_DATAGRAM - wire.SEAL_OVERHEAD
    assert fr.decode_frames(raw).frames == ((1, 0, b"x" * room_for),)
    with pytest.raises(ValueError):
        encoded([(1, 0, b"x" * (room_for - 10)), (2, 0, b"y" * 4)])     # 10 - 7 = 3 bytes of room, not 4
    with pytest.raises(ProtocolError):
        fr.decode_frames(raw + b"\0")                                 # over the size, whatever it says
    keys = SessionKeys(bytes(32))
    sealed = Seal(keys, Side.SERVER).seal(raw)
    assert len(sealed) == wire.MAX_DATAGRAM and Seal(keys, Side.CLIENT).open(sealed) == raw


def test_a_frames_carries_1_to_255_fragments_each_at_most_a_fragments_size():
    most = (fr.MAX_INNER - fr.HEAD_LEN) // fr.FRAME_HEAD.size        # empty ones: 163 fit, not 255
    assert len(fr.decode_frames(encoded([(i, 0, b"") for i in range(most)])).frames) == most == 163
    with pytest.raises(ValueError):
        encoded([(i, 0, b"") for i in range(most + 1)])
    raw = fr.FRAMES_PREFIX + SID + bytes(16) + b"\xff" + b"\0\0\0\1\0\0\0" * 255          # decodable, too big
    assert len(raw) > fr.MAX_INNER
    with pytest.raises(ProtocolError):
        fr.decode_frames(raw)
    for bad in ([], [(i, 0, b"") for i in range(256)], [(1, 0, b"x" * (wire.MAX_FRAGMENT + 1))]):
        with pytest.raises(ValueError):
            encoded(bad)


@pytest.mark.parametrize("raw", [
    fr.FRAMES_PREFIX + SID + bytes(16) + b"\x00",                                  # no frame
    fr.FRAMES_PREFIX + SID + bytes(16),                                            # no count
    fr.FRAMES_PREFIX + SID + bytes(16) + b"\x01" + bytes(6),                       # frame head cut
    fr.FRAMES_PREFIX + SID + bytes(16) + b"\x01" + bytes(5) + b"\x00\x03ab",       # fragment cut
    fr.FRAMES_PREFIX + SID + bytes(16) + b"\x02" + bytes(5) + b"\x00\x01a",        # second frame missing
    fr.FRAMES_PREFIX + SID + bytes(16) + b"\x01" + bytes(5) + b"\x00\x01ab",       # trailing byte
    wire.MAGIC + bytes([wire.VERSION, wire.PacketType.DATA]) + SID + bytes(17),    # not a FRAMES
    wire.MAGIC + bytes([wire.VERSION - 1, wire.PacketType.FRAMES]) + SID + bytes(16) + b"\x01" + bytes(7),
])
def test_a_malformed_frames_is_a_protocol_error(raw):
    with pytest.raises(ProtocolError):
        fr.decode_frames(raw)


def test_the_session_decoder_reads_frames_and_leaves_the_rest_to_wire():
    ack = wire.encode(wire.Ack(SID, 1, 2, 3))
    assert fr.decode_session(ack) == wire.Ack(SID, 1, 2, 3)
    with pytest.raises(ProtocolError):
        wire.decode(encoded([(1, 0, b"a")]))


@FUZZ
@given(st.binary(max_size=1300))
def test_decoding_any_bytes_returns_frames_or_raises_protocol_error(data):
    for raw in (data, fr.FRAMES_PREFIX + data):
        try:
            got = fr.decode_frames(raw)
        except ProtocolError:
            continue
        assert fr.encode_frames(got.session, got.ack, got.sack, got.ts, got.echo, list(got.frames)) == raw


_frame = st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 255), st.binary(max_size=60))


@FUZZ
@given(st.lists(_frame, min_size=1, max_size=40), st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1))
def test_any_frames_that_fit_round_trip_and_every_cut_or_flip_raises_only_protocol_error(frames, ack, ts):
    try:
        raw = encoded(frames, ack, 0, ts, 0)
    except ValueError:
        return                                                          # too big for one datagram
    assert fr.decode_frames(raw) == fr.Frames(SID, ack, 0, ts, 0, tuple(frames))
    for cut in (1, 3, 7, len(raw) - fr.HEAD_LEN):
        try:
            fr.decode_frames(raw[:-cut])
        except ProtocolError:
            pass
    flipped = bytearray(raw)
    flipped[fr.HEAD_LEN + 5] ^= 0xFF                                   # the first frame's length
    try:
        fr.decode_frames(bytes(flipped))
    except ProtocolError:
        pass


# --- cutting what is due into datagrams --------------------------------------------------------


def sizes_of(frames) -> list[int]:
    return [len(run) for run in fr.groups(frames)]


def test_runs_fill_a_datagram_exactly_and_cut_one_byte_over():
    per = fr.FRAME_HEAD.size
    room = fr.MAX_INNER - fr.HEAD_LEN                  # bytes for frames in one FRAMES
    a = room - 2 * per - 100
    exact = [(0, 0, b"x" * a), (1, 0, b"y" * 100)]
    assert sizes_of(exact) == [2]
    assert sizes_of([(0, 0, b"x" * (a + 1)), (1, 0, b"y" * 100)]) == [1, 1]
    assert sizes_of([(0, 0, b"x" * a), (1, 0, b"y" * 100), (2, 0, b"z")]) == [2, 1]


def test_runs_keep_the_order_and_fit_one_datagram_each():
    frames = [(i, 0, b"") for i in range(600)]
    runs = fr.groups(frames)
    assert [len(r) for r in runs] == [163, 163, 163, 111]
    assert [f for r in runs for f in r] == frames
    assert fr.groups([]) == []
    big = (9, 0, b"x" * wire.MAX_FRAGMENT)                 # a full fragment always goes alone
    assert sizes_of([(1, 0, b"a"), big, (2, 0, b"b")]) == [1, 1, 1]


def sealed_pair() -> tuple[Peer, Peer]:
    keys = SessionKeys(bytes(range(32)))
    return (Peer(SID, 0.0, seal=Seal(keys, Side.SERVER)), Peer(SID, 0.0, seal=Seal(keys, Side.CLIENT)))


def test_a_peer_sends_a_lone_fragment_as_data_and_several_as_one_frames():
    server, client = sealed_pair()
    server.send(m.Line(1, "ana", "one", 0))
    (lone,) = server.datagrams(1.0)
    assert peek(server.seal.keys, lone).__class__ is wire.Data
    for i in range(2, 12):
        server.send(m.Line(i, "ana", f"line {i}", 0))
    (together,) = server.datagrams(1.5)
    p = peek(server.seal.keys, together)
    assert isinstance(p, fr.Frames) and [f[0] for f in p.frames] == list(range(1, 11))
    assert p.ts == wire.stamp(1.5)
    inner = client.seal.open(together)
    got = client.receive(wire.decode(client.seal.open(lone)), 1.6)
    got += client.receive(fr.decode_session(inner), 1.6)
    assert [x.text for x in got] == ["one"] + [f"line {i}" for i in range(2, 12)]
    assert client.channel.ack_fields(1.6)[0] == 11 and client.channel.ack_needed
    client.channel.ack_needed = False
    again = client.receive(fr.decode_session(inner), 1.7)       # a duplicate (past the replay window)
    assert again == [] and client.channel.duplicates == 10 and client.channel.ack_needed


def test_a_frames_acknowledges_like_a_data():
    server, client = sealed_pair()
    for i in range(3):
        client.send(m.Say(i + 1, f"hi {i}"))
    (out,) = client.datagrams(1.0)
    server.receive(fr.decode_session(server.seal.open(out)), 1.1)
    server.send(m.Line(1, "ana", "a", 0))
    server.send(m.Line(2, "ana", "b", 0))
    (back,) = server.datagrams(1.2)
    assert client.channel.backlog == 3
    client.receive(fr.decode_session(client.seal.open(back)), 1.4)
    assert client.channel.backlog == 0 and client.channel.rtt.srtt == pytest.approx(0.3, abs=1e-5)   # 0.4 less the 0.1 s held


def test_more_than_one_datagram_of_fragments_goes_as_several_datagrams_in_order():
    server, client = sealed_pair()
    server.send(m.Line(1, "ana", "é" * 2000, 0))          # 4,000 bytes: four fragments
    for i in range(2, 6):
        server.send(m.Line(i, "ana", f"after {i}", 0))
    out = server.datagrams(1.0)
    kinds = [type(peek(server.seal.keys, d)).__name__ for d in out]
    assert len(out) == 4 and kinds[-1] == "Frames"
    got = []
    for d in out:
        got += client.receive(fr.decode_session(client.seal.open(d)), 1.1)
    assert [x.text for x in got] == ["é" * 2000] + [f"after {i}" for i in range(2, 6)]


# --- the relay ------------------------------------------------------------------------------------


def test_the_relay_sends_each_member_one_datagram_for_a_turns_lines_and_a_lone_line_as_data():
    room = Room(limits=UNLIMITED)
    a, b, c = (room.add(n) for n in ("ana", "bia", "caio"))
    room.settle()
    for x in (a, b, c):
        drain(x)
    s = room.server
    mem = s._roster.named("ana")
    for i in range(5):
        s._member_message(mem, m.Say(100 + i, f"burst {i}"), room.now)
    out = s.datagrams_to_send(room.now)
    to_b = [d for d, dst in out if dst == room.addr_of(b)]
    assert len(to_b) == 1
    p = peek(keys_of(b), to_b[0])
    assert isinstance(p, fr.Frames) and len(p.frames) == 5
    assert [m.decode_msg(x.payload).text for x in as_data(p)] == [f"burst {i}" for i in range(5)]
    for d, dst in out:
        room.clients[dst].receive_datagram(d, SERVER, room.now)
    assert [e.text for e in drain(c) if hasattr(e, "text")] == [f"burst {i}" for i in range(5)]
    room.settle()
    s._member_message(mem, m.Say(200, "alone"), room.now)
    (to_c,) = [d for d, dst in s.datagrams_to_send(room.now) if dst == room.addr_of(c)]
    assert isinstance(peek(keys_of(c), to_c), wire.Data)


def test_bursts_in_frames_arrive_once_and_in_order_through_loss_duplication_and_reordering():
    """Each turn's datagrams each way: a fifth dropped, some duplicated, all shuffled. The
    relay's bursts go as FRAMES, and a lost FRAMES loses several lines at once."""
    rng = random.Random(12)
    room = Room(limits=UNLIMITED)
    names = ["ana", "bia", "caio", "davi"]
    clients = [room.add(n) for n in names]
    room.settle()
    for c in clients:
        drain(c)
    where = {c: room.addr_of(c) for c in clients}
    seen: dict[str, list[tuple[int, str]]] = {n: [] for n in names}
    kinds: dict[str, int] = {"Data": 0, "Frames": 0}

    def impaired(batch):
        out = [x for x in batch if rng.random() >= 0.2]
        out += [x for x in out if rng.random() < 0.05]
        rng.shuffle(out)
        return out

    for i in range(60):
        for n, c in zip(names[:2], clients[:2]):
            c.say(f"{n} {i}")
        for _ in range(3):
            up = [(d, where[c]) for c in clients for d, _ in c.datagrams_to_send(room.now)]
            for d, addr in impaired(up):
                room.server.receive_datagram(d, addr, room.now)
            down = room.server.datagrams_to_send(room.now)
            for d, dst in down:
                c = room.clients[dst]
                p = peek(keys_of(c), d)
                kinds[type(p).__name__] = kinds.get(type(p).__name__, 0) + 1
            for d, dst in impaired(down):
                room.clients[dst].receive_datagram(d, SERVER, room.now)
            for n, c in zip(names, clients):
                seen[n] += [(e.seq, e.text) for e in drain(c) if type(e).__name__ == "RoomLine"]
        room.now += 0.01
        for e in [room.server, *clients]:
            t = e.get_timer()
            if t is not None and t <= room.now:
                e.handle_timer(room.now)
    room.drop = lambda *x: False
    room.advance(10.0)
    for n, c in zip(names, clients):
        seen[n] += [(e.seq, e.text) for e in drain(c) if type(e).__name__ == "RoomLine"]
    want = sorted(set(seen["caio"]))
    assert len(want) == 120 and [s for s, _ in want] == list(range(want[0][0], want[0][0] + 120))
    for n in names:
        assert seen[n] == want, n                  # every line once, in the server's order
    assert kinds["Frames"] > 20 and kinds["Data"] > 20, kinds


def test_a_frames_brings_its_sack_and_a_hole_it_leaves_is_timed():
    server, client = sealed_pair()
    for i in range(4):
        client.send(m.Say(i + 1, f"hi {i}"))
    client.datagrams(1.0)                                  # seq 0-3 in flight
    hole = fr.Frames(SID, 0, 0b10, 0, wire.stamp(1.0), ((1, 0, m.encode_msg(m.Who())),))
    assert client.receive(hole, 1.5) == []                 # seq 0 missing: held back
    assert [f.seq for f in client.channel._inflight.values() if f.sacked] == [2]
    assert client.holding_since == 1.5 and not client.stalled(6.49, 5.0) and client.stalled(6.5, 5.0)
    client.receive(fr.Frames(SID, 0, 0, 0, 0, ((0, 0, m.encode_msg(m.Who())),)), 2.0)
    assert client.holding_since is None and not client.stalled(100.0, 5.0)
