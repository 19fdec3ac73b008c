"""Sessions nobody can read, replay, forge or hijack (issue 12), tried as an attacker on the LAN would.

On real sockets, through a recording proxy on loopback: after the handshake no
chat text, name or session id crosses in clear. With the engines and a fake
clock: every captured datagram replayed, from the member's own address and
from others, changes nothing; a bit flipped anywhere is dropped; a session
cannot be taken over with its id; a locked room lets in the right passphrase
only, limits online guessing per address, and a captured handshake gives no
way to test a guess offline.
"""
from __future__ import annotations

import secrets
import time

import pytest

from udpcore.versions import foreign_refuse
from udpcore import ClientEngine, NotLocked, PassphraseNeeded, TooManyGuesses, WrongPassphrase
from udpcore import events as ev
from udpcore import wire
from udpcore.pake import RoomPake
from udpcore.protection import Binding, SessionKeys, Side
from udpcore.sealing import is_sealed
from udpnet import start_client, start_server
from tests.enginepair import SERVER, UNLIMITED, Room, drain, steady
from tests.eventlog import Log, wait_until
from tests.impairment import ImpairmentProxy

pytestmark = pytest.mark.timeout(60)
SECRET_LINES = ("the exam answers are in room 12", "não conte a ninguém: 4321")
PRIVATE_LINE = "alice, meet me at the café"


class RecordingProxy(ImpairmentProxy):
    """Forwards everything unchanged and keeps a copy: what a sniffer on the path sees."""

    def __init__(self, upstream) -> None:
        self.captured: list[tuple[str, bytes]] = []        # ("up" | "down", datagram)
        super().__init__(upstream)

    def _forward(self, data, sock, dst, key, d) -> None:
        self.captured.append((d, data))
        super()._forward(data, sock, dst, key, d)


def _welcomes(captured) -> list[wire.Welcome]:
    out = []
    for d, data in captured:
        try:
            p = wire.decode(data)
        except wire.ProtocolError:
            continue
        if isinstance(p, wire.Welcome):
            out.append(p)
    return out


def test_a_capture_shows_no_line_name_or_session_id_after_the_handshake():
    srv = start_server(host="127.0.0.1", port=0, stats=False, limits=UNLIMITED)
    proxy = RecordingProxy(srv.address)
    clients = []
    try:
        slog = Log(srv.events)
        for name in ("alice", "bob"):
            clients.append(start_client(f"127.0.0.1:{proxy.port}", name))
        logs = [Log(c.events) for c in clients]
        wait_until([slog, *logs], lambda: all(log.of(ev.Connected) for log in logs)
                   and len(slog.of(ev.MemberJoined)) == 2, 15, "both to join")
        handshake_end = len(proxy.captured)
        alice, bob = clients
        for line in SECRET_LINES:
            alice.say(line)
        bob.private("alice", PRIVATE_LINE)
        wait_until(logs, lambda: len([e for e in logs[0].of(ev.RoomLine) if e.text == PRIVATE_LINE]) == 1
                   and len([e for e in logs[1].of(ev.RoomLine) if e.text == SECRET_LINES[1]]) == 1, 15,
                   "the lines to arrive")
        srv.say("the server speaks too")
        wait_until(logs, lambda: any(e.text == "the server speaks too" for e in logs[1].of(ev.RoomLine)), 15,
                   "the server's line")
        for c in clients:
            c.close(timeout=2.0)
    finally:
        for c in clients:
            c.close(timeout=0.5)
        srv.close(timeout=0.5)
        proxy.close()
    sessions = [w.session for w in _welcomes(proxy.captured)]
    assert len(sessions) == 2
    after = [data for _d, data in proxy.captured[handshake_end:]]
    assert len(after) > 10
    secrets = [s.encode() for s in (*SECRET_LINES, PRIVATE_LINE, "the server speaks too", "alice", "bob")]
    secrets += [s[:16].encode() for s in SECRET_LINES] + sessions
    for data in after:
        assert is_sealed(data), data[:6].hex()       # every datagram after the handshake is SEALED
        for s in secrets:
            assert s not in data
    # The lines were really carried (the capture is of a working room): the bytes
    # are there, only unreadable.
    assert sum(len(d) for d in after) > sum(len(s) for s in secrets)


# --- with the engines and a fake clock: exact and repeatable ----------------------------------


def _room_with_talk(seed: int = 5, **server_kw) -> tuple[Room, list[tuple[bytes, tuple, tuple]]]:
    """alice and bob in a room; everything sent, with source and destination, recorded."""
    room = Room(seed, limits=UNLIMITED, **server_kw)
    a, b = room.add("alice"), room.add("bob")
    log: list[tuple[bytes, tuple, tuple]] = []
    room.drop = lambda data, src, dst: log.append((data, src, dst)) or False
    room.settle()
    room.advance(0.5)
    a.say("first line")
    b.private("alice", "a private one")
    room.advance(0.5)
    a.say("second line")
    room.advance(0.5)
    drain(a), drain(b), drain(room.server)
    return room, log


def _state(room: Room) -> tuple:
    s = room.server
    return (sorted(m.name for m in s._roster), s.relayed, {m.name: m.addr for m in s._roster})


def test_replaying_every_captured_datagram_changes_nothing_from_any_address():
    room, log = _room_with_talk()
    a, b = room.clients.values()
    before = _state(room)
    counters = room.server.counters.copy()
    sealed_up = [(data, src) for data, src, dst in log if dst == SERVER and is_sealed(data)]
    sealed_down = [(data, dst) for data, src, dst in log if src == SERVER and is_sealed(data)]
    assert len(sealed_up) > 5 and len(sealed_down) > 5
    stranger = ("127.0.0.99", 40999)
    for data, src in sealed_up:
        room.server.receive_datagram(data, src, room.now)             # the member's own address
        room.server.receive_datagram(data, stranger, room.now)        # anyone else's
    for data, dst in sealed_down:
        room.clients[dst].receive_datagram(data, SERVER, room.now)    # replayed to the client
    out = room.server.datagrams_to_send(room.now)
    assert _state(room) == before
    assert not drain(room.server) and not drain(a) and not drain(b)
    grew = room.server.counters - counters
    assert grew["replayed"] == len(sealed_up)                          # every one seen, none taken
    assert grew["unknown_session"] == len(sealed_up)                   # the stranger holds no session
    assert {dst for _d, dst in out} == {stranger}                      # it is told RESET, nothing more
    assert all(wire.decode(d) == wire.Reset(bytes(8)) for d, _ in out)
    # The room still works afterwards.
    a.say("still here")
    room.advance(0.3)
    assert [e.text for e in drain(b) if isinstance(e, ev.RoomLine)] == ["still here"]


def test_a_bit_flipped_anywhere_in_a_sealed_datagram_is_dropped_and_counted():
    room, _log = _room_with_talk()
    a, b = room.clients.values()
    src = room.addr_of(a)
    mid = a.say("the real line")
    data = next(d for d, _ in a.datagrams_to_send(room.now) if is_sealed(d))    # sealed, not yet delivered
    before = _state(room)
    n = 0
    for i in range(len(data)):
        for bit in (0x01, 0x80):
            forged = bytearray(data)
            forged[i] ^= bit
            room.server.receive_datagram(bytes(forged), src, room.now)
            n += 1
    assert _state(room) == before and not drain(room.server)
    replies = [foreign_refuse(d) for d, _ in room.server.datagrams_to_send(room.now)]      # the version byte:
    assert replies == [wire.Refuse(bytes(8), wire.RefuseCode.VERSION, str(wire.VERSION))] * 2   # in its framing
    c = room.server.counters
    # A flip in the first five bytes makes it another protocol, version or packet type
    # (malformed, or refused as another version); every other flip leaves a SEALED
    # datagram that does not open (or, a flip in the packet number landing on one already
    # taken, is dropped as a replay before it is even tried).
    assert (c["undecryptable"] + c["replayed"], c["malformed"], c["version"]) == (n - 10, 8, 2)
    room.server.receive_datagram(data, src, room.now)        # the flips burned nothing: the real one opens
    room.advance(0.3)
    assert [e.text for e in drain(b) if isinstance(e, ev.RoomLine)] == ["the real line"]
    assert any(isinstance(e, ev.RoomLine) and e.own and e.msg_id == mid for e in drain(a))


def test_a_session_id_seen_on_the_air_takes_over_nothing():
    room, log = _room_with_talk()
    a, b = room.clients.values()
    welcome = next(wire.decode(d) for d, src, dst in log if src == SERVER and d[4] == wire.PacketType.WELCOME
                   and dst == room.addr_of(a))
    attacker = ("127.0.0.66", 4444)
    s = room.server
    hello = wire.Hello(b"E" * 8, "alice", public=bytes(range(1, 33)))
    s.receive_datagram(wire.encode(hello), attacker, room.now)
    (challenge, _), = s.datagrams_to_send(room.now)
    token = wire.decode(challenge).token
    for proof in (welcome.session * 4, bytes(32), welcome.confirm):     # the id, zeros, a captured MAC
        s.receive_datagram(wire.encode(wire.Hello(b"E" * 8, "alice", token, proof, bytes(range(1, 33)))),
                           attacker, room.now)
        out = [wire.decode(d) for d, dst in s.datagrams_to_send(room.now)]
        assert all(not isinstance(p, wire.Welcome) for p in out)
        assert s._roster.named("alice").addr == room.addr_of(a)          # alice stays where she is
    a.say("it is still me")
    room.advance(0.3)
    assert [(e.sender, e.text) for e in drain(b) if isinstance(e, ev.RoomLine)] == [("alice", "it is still me")]


def test_a_member_with_its_keys_resumes_from_a_new_address_without_a_leave():
    room, _log = _room_with_talk()
    a, b = room.clients.values()
    old = room.addr_of(a)
    new = ("127.0.0.1", 45555)
    room.clients[new] = room.clients.pop(old)            # the laptop roamed to another address
    a.say("from the new address")
    room.advance(20.0)                                   # RESET, then a resume with the proof
    assert room.server._roster.named("alice").addr == new
    lines = [e.text for e in drain(b) if isinstance(e, ev.RoomLine)]
    assert lines == ["from the new address"]
    assert not [e for e in drain(room.server) if isinstance(e, (ev.MemberLeft, ev.MemberJoined))]
    assert any(isinstance(e, ev.Reconnected) and e.resumed for e in drain(a))


# --- locked rooms ------------------------------------------------------------------------------


def _locked_room(passphrase: str = "correct horse") -> Room:
    return Room(7, limits=UNLIMITED, passphrase=passphrase, room="Sala 3")


def _join(room: Room, name: str, passphrase: str, port: int) -> ClientEngine:
    addr = ("127.0.0.1", port)
    c = ClientEngine(name, SERVER, room.now, randbytes=steady(room.rng.randbytes), passphrase=passphrase)
    room.clients[addr] = c
    c.connect(room.now)
    room.advance(1.0)
    return c


def test_a_locked_room_takes_the_right_passphrase_only():
    room = _locked_room()
    wrong = _join(room, "eve", "wrong horse", 41000)
    none = _join(room, "mallory", "", 41001)
    right = _join(room, "alice", "correct horse", 41002)
    second = _join(room, "bob", "correct horse", 41003)
    refused = {c.name: [e.error for e in drain(c) if isinstance(e, ev.JoinRefused)] for c in (wrong, none)}
    assert refused == {"eve": [WrongPassphrase("Sala 3")], "mallory": [PassphraseNeeded("Sala 3")]}
    assert wrong.closed and none.closed
    for c in (right, second):
        greeting = drain(c)[0]
        assert isinstance(greeting, ev.Connected) and greeting.locked      # the window shows a padlock
    assert sorted(m.name for m in room.server._roster) == ["alice", "bob"]
    joined = [e.name for e in drain(room.server) if isinstance(e, ev.MemberJoined)]
    assert joined == ["alice", "bob"]                     # eve was never seen by anyone
    assert room.server.counters["guest_refused"] == 0
    room.server.receive_datagram(b"hello from nc\n", ("127.0.0.1", 41009), room.now)
    assert room.server.counters["guest_refused"] == 1      # no plain-text guests in a locked room


def test_an_open_rooms_member_is_not_told_it_is_in_a_locked_room():
    room = Room(3, limits=UNLIMITED, room="Aberta")
    c = _join(room, "bob", "", 41001)
    assert [e.locked for e in drain(c) if isinstance(e, ev.Connected)] == [False]


def test_a_client_with_a_passphrase_refuses_an_open_room():
    room = Room(3, limits=UNLIMITED, room="Aberta")
    c = _join(room, "alice", "sesame", 41000)
    assert [e.error for e in drain(c) if isinstance(e, ev.JoinRefused)] == [NotLocked("Aberta")]
    assert not list(room.server._roster)


def test_online_guessing_is_limited_per_address_and_a_right_guess_gives_its_attempt_back():
    room = _locked_room()
    lim = room.server.limits
    errors = []
    for i in range(lim.guess_burst + 2):
        c = _join(room, f"eve{i}", "guess %d" % i, 41000 + i % 3)      # one IP address, several ports
        errors += [e.error for e in drain(c) if isinstance(e, ev.JoinRefused)]
    assert errors[:lim.guess_burst] == [WrongPassphrase("Sala 3")] * lim.guess_burst
    assert all(isinstance(e, TooManyGuesses) and 1 <= e.wait <= 1 / lim.guess_rate for e in errors[lim.guess_burst:])
    assert room.server.counters["guesses_limited"] == 2
    other = ClientEngine("alice", SERVER, room.now, randbytes=steady(room.rng.randbytes), passphrase="correct horse")
    room.clients[("127.0.0.2", 41000)] = other                         # another address is not held back
    other.connect(room.now)
    room.advance(1.0)
    assert any(isinstance(e, ev.Connected) for e in drain(other))
    room.advance(1 / lim.guess_rate + 1)                               # one attempt earned back by time
    c = _join(room, "bob", "correct horse", 41005)
    assert any(isinstance(e, ev.Connected) for e in drain(c))
    c2 = _join(room, "carol", "correct horse", 41006)                  # bob's attempt was given back
    assert any(isinstance(e, ev.Connected) for e in drain(c2))


def test_a_captured_locked_handshake_gives_no_way_to_test_a_guess_offline():
    room = _locked_room("tulipa")
    log: list[tuple[bytes, tuple, tuple]] = []
    room.drop = lambda data, src, dst: log.append((data, src, dst)) or False
    c = _join(room, "alice", "tulipa", 41000)
    assert any(isinstance(e, ev.Connected) for e in drain(c))
    packets = [wire.decode(d) for d, _s, _d in log if not is_sealed(d)]
    hello = next(p for p in packets if isinstance(p, wire.Hello) and p.pake)
    welcome = next(p for p in packets if isinstance(p, wire.Welcome))
    # Even handing the attacker the X25519 secret (which a sniffer does not have),
    # no guess reproduces the server's confirmation, the right one included: the
    # SPAKE2 key also needs a secret scalar of one side. Only a live exchange
    # (one guess per handshake, rate-limited) can test a passphrase.
    shared = c._join.keying.share.shared(welcome.public)
    binding = Binding(hello.nonce, hello.token, hello.public, welcome.public, welcome.session)
    for guess in ("tulipa", "rosa", "", "Tulipa"):
        for side, peer_msg in ((Side.CLIENT, welcome.pake), (Side.SERVER, hello.pake)):
            pake = RoomPake(side, guess, "Sala 3", hello.nonce, hello.token)
            keys = SessionKeys.derive(shared, binding, pake.finish(peer_msg))
            assert not keys.check_finished(Side.SERVER, welcome.confirm)
    # The live exchange does confirm: the real client's keys check.
    assert c._peer.seal.keys.check_finished(Side.SERVER, welcome.confirm)


def test_a_locked_room_on_real_sockets_says_which_passphrase_is_wrong():
    srv = start_server(host="127.0.0.1", port=0, stats=False, passphrase="pão de queijo", room="Cozinha")
    clients = []
    try:
        where = f"127.0.0.1:{srv.address[1]}"
        wrong = start_client(where, "eve", passphrase="pao de queijo")
        right = start_client(where, "ana", passphrase="pão de queijo")
        clients += [wrong, right]
        logs = [Log(wrong.events), Log(right.events)]
        wait_until(logs, lambda: logs[0].of(ev.JoinRefused) and logs[1].of(ev.Connected), 15, "the answers")
        assert logs[0].of(ev.JoinRefused)[0].error == WrongPassphrase("Cozinha")
        assert srv.locked
        srv.lock("")                                   # opened: a client without a passphrase gets in
        time.sleep(0.1)
        late = start_client(where, "bia")
        clients.append(late)
        log = Log(late.events)
        wait_until([log], lambda: log.of(ev.Connected), 15, "bia to join the opened room")
    finally:
        for c in clients:
            c.close(timeout=0.5)
        srv.close(timeout=0.5)


def test_sealed_datagrams_cross_key_updates_even_reordered():
    """Key update on the wire: the header's phase bit flips every ``update_after``
    packets and the receiver follows, late packets of the old phase included."""
    from udpcore.protection import KeyShare
    from udpcore.sealing import Seal
    from udpcore.keying import server_handshake
    from udpcore.errors import DecryptError
    client = KeyShare.generate()
    sk = server_handshake(client.public, b"", "", "", b"n" * 8, b"t" * 8, b"s" * 8)
    sender, receiver = Seal(sk.keys, Side.SERVER), Seal(sk.keys, Side.CLIENT)
    sender.sender = sk.keys.sender(Side.SERVER, update_after=3)
    out = [sender.seal(b"packet %d" % i) for i in range(10)]
    assert [d[5] for d in out] == [0, 0, 0, 1, 1, 1, 0, 0, 0, 1]           # the key phase, in clear
    order = [0, 1, 3, 2, 4, 6, 5, 7, 9, 8]                                   # each update overtaken once
    assert [receiver.open(out[i]) for i in order] == [b"packet %d" % i for i in order]
    assert receiver.receiver.generation == 3
    with pytest.raises(DecryptError):
        receiver.open(out[4])                                                 # and nothing twice


def test_a_slow_server_answering_two_challenges_still_lets_the_right_passphrase_in():
    """The client retries before the CHALLENGE comes, so it gets two tokens and answers
    both; the server's WELCOME answers one of them, and must still check out."""
    from udpcore import ServerEngine
    s = ServerEngine(0.0, passphrase="tulipa", room="Sala 3", limits=UNLIMITED)
    c = ClientEngine("ana", SERVER, 0.0, passphrase="tulipa", randbytes=steady(secrets.token_bytes))
    me = ("127.0.0.1", 41000)
    c.connect(0.0)

    def to_server(now):
        for d, _ in c.datagrams_to_send(now):
            s.receive_datagram(d, me, now)
        return [d for d, _ in s.datagrams_to_send(now)]
    first = to_server(0.0)                 # CHALLENGE 1, held back (the path is slow)
    c.handle_timer(0.3)
    second = to_server(0.3)                # the retry: CHALLENGE 2, another token
    assert wire.decode(first[0]).token != wire.decode(second[0]).token
    back = []
    for t, held in ((0.31, first), (0.32, second)):
        for d in held:
            c.receive_datagram(d, SERVER, t)
        back += to_server(t)               # each answered: one WELCOME, then the same again
    assert len(back) == 2 and back[0] == back[1] and wire.decode(back[0]).session
    for d in back:
        c.receive_datagram(d, SERVER, 0.4)
    for _ in range(3):
        for d in to_server(0.5):
            c.receive_datagram(d, SERVER, 0.5)
    assert [type(e) for e in drain(c)][:1] == [ev.Connected]
    assert [m.name for m in s._roster] == ["ana"]


def test_retries_held_back_by_the_handshake_rate_use_up_no_passphrase_attempts():
    from udpcore import Limits
    room = Room(11, limits=Limits(locked_handshake_rate=0.5, guess_burst=2, guess_rate=0.01,
                                  line_rate=1e9, line_burst=10**9), passphrase="tulipa", room="Sala 3")
    clients = []
    for i in range(4):                      # four people behind one address, joining at once
        c = ClientEngine(f"p{i}", SERVER, room.now, randbytes=steady(room.rng.randbytes), passphrase="tulipa")
        room.clients[("127.0.0.1", 41000 + i)] = c
        c.connect(room.now)
        clients.append(c)
    room.advance(9.5)
    got = {c.name: [type(e).__name__ for e in drain(c) if isinstance(e, (ev.Connected, ev.JoinRefused))]
           for c in clients}
    assert got == {f"p{i}": ["Connected"] for i in range(4)}
    assert room.server.counters["handshake_held"] > 0 and room.server.counters["guesses_limited"] == 0


def test_packet_numbers_past_16_bits_and_empty_and_largest_plaintexts_open():
    """Every byte of the 32-bit packet number counts, and the length bounds are exact."""
    from udpcore.protection import KeyShare
    from udpcore.sealing import Seal
    from udpcore.keying import server_handshake
    from udpcore.errors import DecryptError
    sk = server_handshake(KeyShare.generate().public, b"", "", "", b"n" * 8, b"t" * 8, b"s" * 8)
    sender, receiver = Seal(sk.keys, Side.SERVER), Seal(sk.keys, Side.CLIENT)
    sender.sender.next_pn = 2**24 + 5                     # a long session
    d = sender.seal(b"late in the session")
    assert d[6:10] == (2**24 + 5).to_bytes(4, "big") and receiver.open(d) == b"late in the session"
    assert receiver.open(sender.seal(b"")) == b""        # 26 bytes: header and tag only
    biggest = sender.seal(b"x" * (wire.MAX_DATAGRAM - wire.SEAL_OVERHEAD))
    assert len(biggest) == wire.MAX_DATAGRAM and receiver.open(biggest) == b"x" * (wire.MAX_DATAGRAM - 26)
    too_big = sender.seal(b"x" * (wire.MAX_DATAGRAM - wire.SEAL_OVERHEAD + 1))
    with pytest.raises(DecryptError):
        receiver.open(too_big)
