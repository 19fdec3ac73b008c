"""Joins answered but not yet confirmed, and the caps on handshakes (udpcore/pending.py):
each edge where a mutant would let a flood or a guesser through."""
from __future__ import annotations

import pytest

from udpcore.keying import ClientKeying, server_handshake, server_resume_proof, client_resume_proof
from udpcore.limits import Limits
from udpcore.pending import GUESS_HOSTS, PENDING_LIFETIME, Pending, PendingJoins
from udpcore.protection import KeyShare, Side
from udpcore.errors import HandshakeError
from udpcore.sealing import Seal
from udpcore.wire import Hello

pytestmark = pytest.mark.timeout(20)
A = ("127.0.0.1", 4000)


def pending(until: float = PENDING_LIFETIME, locked: bool = False, name: str = "ana") -> Pending:
    c = KeyShare.generate()
    sk = server_handshake(c.public, b"", "", "", b"n" * 8, b"t" * 8, b"s" * 8)
    return Pending(Hello(b"n" * 8, name, b"t" * 8, public=c.public), b"s" * 8, Seal(sk.keys, Side.SERVER),
                   b"welcome", until, None, locked)


def test_one_pending_join_per_address_and_the_cap_counts_addresses():
    joins = PendingJoins(Limits(max_pending=2), 0.0)
    assert joins.room_for(A, False, 0.0) is None
    first = pending()
    assert joins.add(A, first) is None
    assert joins.add(A, pending()) is first                    # replaced, not added
    assert len(joins) == 1
    joins.add(("127.0.0.2", 1), pending())
    assert joins.room_for(("127.0.0.3", 1), False, 0.0) == "pending_full"
    assert joins.room_for(A, False, 0.0) is None               # an address already pending may start again


def test_key_agreements_and_spake2_runs_have_their_own_rates():
    joins = PendingJoins(Limits(handshake_rate=2.0, handshake_burst=3, locked_handshake_rate=1.0), 0.0)
    assert [joins.room_for(A, False, 0.0) for _ in range(4)] == [None] * 3 + ["handshake_limited"]
    assert joins.room_for(A, False, 0.49) == "handshake_limited"
    assert joins.room_for(A, False, 0.5) is None               # one more every 1/rate s
    locked = PendingJoins(Limits(handshake_rate=100.0, handshake_burst=100, locked_handshake_rate=2.0), 0.0)
    assert [locked.room_for(A, True, 0.0) for _ in range(3)] == [None, None, "handshake_limited"]
    assert locked.room_for(A, False, 0.0) is None              # an open-room handshake costs no SPAKE2


def test_guesses_per_address_burst_then_rate_and_a_confirmed_one_comes_back():
    lim = Limits(guess_burst=2, guess_rate=0.5)
    joins = PendingJoins(lim, 0.0)
    assert [joins.guess_wait("127.0.0.1", 0.0) for _ in range(2)] == [0.0, 0.0]
    assert joins.guess_wait("127.0.0.1", 0.0) == pytest.approx(2.0)
    assert joins.guess_wait("127.0.0.9", 0.0) == 0.0           # another address: its own attempts
    joins.add(A, pending(locked=True))
    assert joins.confirmed(A) is not None and len(joins) == 0
    assert joins.guess_wait("127.0.0.1", 0.0) == 0.0           # given back
    assert joins.guess_wait("127.0.0.1", 0.0) > 0
    joins.add(A, pending(locked=False))
    joins.confirmed(A)
    assert joins.guess_wait("127.0.0.1", 0.0) > 0              # an open-room join gives nothing back
    assert joins.confirmed(("127.0.0.5", 5)) is None


def test_a_confirmation_never_gives_more_than_the_burst():
    joins = PendingJoins(Limits(guess_burst=2, guess_rate=0.5), 0.0)
    joins.guess_wait("127.0.0.1", 0.0)
    for _ in range(3):
        joins.add(A, pending(locked=True))
        joins.confirmed(A)
    assert [joins.guess_wait("127.0.0.1", 0.0) for _ in range(3)][:2] == [0.0, 0.0]
    assert joins.guess_wait("127.0.0.1", 0.0) > 0


def test_past_the_tracked_addresses_a_new_one_waits_a_whole_period():
    joins = PendingJoins(Limits(guess_rate=0.25), 0.0)
    for i in range(GUESS_HOSTS):
        joins.guess_wait(f"127.1.{i // 256}.{i % 256}", 0.0)
    assert joins.guess_wait("127.9.9.9", 0.0) == pytest.approx(4.0)
    assert joins.guess_wait("127.1.0.0", 0.0) == 0.0             # a tracked one still has its own burst


def test_pending_joins_expire_at_their_deadline_and_full_buckets_are_forgotten():
    joins = PendingJoins(Limits(guess_burst=2, guess_rate=1.0), 0.0)
    joins.add(A, pending(until=10.0))
    joins.add(("127.0.0.2", 1), pending(until=11.0))
    joins.guess_wait("127.0.0.1", 9.9)
    assert joins.expire(9.999) == 0 and len(joins) == 2
    assert joins.expire(10.0) == 1 and joins.at(A) is None and joins.at(("127.0.0.2", 1)) is not None
    assert joins._guesses                                         # not full again yet: kept
    joins.expire(10.9)
    assert not joins._guesses
    joins.discard(("127.0.0.2", 1))
    assert len(joins) == 0


# --- keying: the handshake's cryptography for both ends --------------------------------------


def test_both_ends_agree_and_a_wrong_or_missing_passphrase_does_not():
    for server_pw, client_pw, ok in (("", "", True), ("p", "p", True), ("p", "q", False)):
        client = ClientKeying(client_pw)
        msg = client.challenged(bool(server_pw), "Sala", b"n" * 8, b"t" * 8)
        assert (len(msg) == 33) == bool(server_pw)
        sk = server_handshake(client.share.public, msg, server_pw, "Sala", b"n" * 8, b"t" * 8, b"s" * 8)
        assert (len(sk.pake) == 33) == bool(server_pw)
        if ok:
            keys = client.welcomed(sk.public, sk.pake, sk.confirm, b"n" * 8, b"t" * 8, b"s" * 8)
            assert keys.c2s == sk.keys.c2s and keys.s2c == sk.keys.s2c
        else:
            with pytest.raises(HandshakeError):
                client.welcomed(sk.public, sk.pake, sk.confirm, b"n" * 8, b"t" * 8, b"s" * 8)


@pytest.mark.parametrize("field", ["token", "session", "nonce", "room"])
def test_every_bound_input_must_match(field):
    client = ClientKeying("p")
    kw = dict(nonce=b"n" * 8, token=b"t" * 8, session=b"s" * 8, room="Sala")
    msg = client.challenged(True, kw["room"], kw["nonce"], kw["token"])
    other = dict(kw, **{field: "Sala 2" if field == "room" else b"x" * 8})
    sk = server_handshake(client.share.public, msg, "p", other["room"], other["nonce"], other["token"],
                          other["session"])
    with pytest.raises(HandshakeError):
        client.welcomed(sk.public, sk.pake, sk.confirm, kw["nonce"], kw["token"], kw["session"])


def test_the_client_makes_one_spake2_message_per_token_and_none_for_an_open_room():
    client = ClientKeying("p")
    first = client.challenged(True, "Sala", b"n" * 8, b"t" * 8)
    assert client.challenged(True, "Sala", b"n" * 8, b"t" * 8) == first      # the same HELLO again
    assert client.challenged(True, "Sala", b"n" * 8, b"u" * 8) != first      # a new token: a new exchange
    assert client.challenged(True, "Sala", b"m" * 8, b"u" * 8) != first
    assert client.challenged(False, "Sala", b"n" * 8, b"v" * 8) == b""
    assert client.challenged(True, "Sala", b"n" * 8, b"t" * 8) == first        # each token keeps its side


def test_resume_proofs_differ_by_side_nonce_and_token():
    sk = server_handshake(KeyShare.generate().public, b"", "", "", b"n" * 8, b"t" * 8, b"s" * 8)
    k = sk.keys
    proofs = {client_resume_proof(k, b"s" * 8, b"n" * 8, b"t" * 8), server_resume_proof(k, b"s" * 8, b"n" * 8, b"t" * 8),
              client_resume_proof(k, b"s" * 8, b"m" * 8, b"t" * 8), client_resume_proof(k, b"s" * 8, b"n" * 8, b"u" * 8),
              client_resume_proof(k, b"r" * 8, b"n" * 8, b"t" * 8)}
    assert len(proofs) == 5 and all(len(p) == 32 for p in proofs)


def test_beyond_the_handshake_rate_and_its_queue_a_hello_is_dropped_before_it_is_judged(monkeypatch):
    from udpcore import ServerEngine, wire
    from udpcore import pending as pending_module
    monkeypatch.setattr(pending_module, "HELD_MAX", 0)       # no queue: what a full one does
    s = ServerEngine(0.0, limits=Limits(handshake_rate=0.1, handshake_burst=1))
    key = KeyShare.generate().public

    def hello(port: int, name: str, now: float, resume: bytes = b"") -> list:
        addr = ("127.0.0.1", port)
        tok = s._gate.tokens.mint(addr, now)
        s.receive_datagram(wire.encode(Hello(bytes([port % 256]) * 8, name, tok, resume, key)), addr, now)
        return [wire.decode(d) for d, _ in s.datagrams_to_send(now)]
    assert isinstance(hello(5000, "ana", 0.0)[0], wire.Welcome)
    assert hello(5001, "a b", 0.0) == []                   # not even refused: no agreement could run
    assert s.counters["handshake_limited"] == 1
    assert isinstance(hello(5002, "a b", 0.0, resume=b"r" * 32)[0], wire.Refuse)   # a resume needs no agreement
    assert isinstance(hello(5003, "bia", 10.0)[0], wire.Welcome)   # one more every 1/rate s


def test_may_run_looks_at_the_refill_without_taking():
    joins = PendingJoins(Limits(handshake_rate=0.1, handshake_burst=1), 0.0)
    assert joins.may_run(0.0, False) and joins.may_run(0.0, False)    # looking takes nothing
    assert joins.room_for(A, False, 0.0) is None
    assert not joins.may_run(0.0, False) and not joins.may_run(5.0, False)    # 0.5 of a token after 5 s
    assert joins.may_run(10.0, False)                                 # a whole one after 1/rate
    fast = PendingJoins(Limits(handshake_rate=2.0, handshake_burst=1), 0.0)
    fast.room_for(A, False, 0.0)
    assert not fast.may_run(0.1, False) and fast.may_run(0.5, False)


def test_discarding_an_address_with_nothing_pending_is_harmless():
    joins = PendingJoins(Limits(), 0.0)
    joins.discard(A)
    assert len(joins) == 0


def test_may_run_measures_time_from_the_last_take_not_from_zero():
    joins = PendingJoins(Limits(handshake_rate=1.0, handshake_burst=1), 100.0)
    assert joins.room_for(A, False, 100.0) is None
    assert not joins.may_run(100.5, False) and joins.may_run(101.0, False)


def test_the_client_keeps_the_spake2_sides_of_its_last_four_tokens_only():
    from udpcore.keying import MAX_TOKENS
    client = ClientKeying("p")
    tokens = [bytes([i]) * 8 for i in range(MAX_TOKENS + 1)]
    for t in tokens:
        client.challenged(True, "Sala", b"n" * 8, t)
    assert len(client._pakes) == MAX_TOKENS and (b"n" * 8, tokens[0]) not in client._pakes

    def welcome(token):                        # the server answering the HELLO that carried ``token``
        return server_handshake(client.share.public, client._pakes[(b"n" * 8, token)].message, "p", "Sala",
                                b"n" * 8, token, b"s" * 8)
    sk = welcome(tokens[1])                    # the oldest token still kept: its WELCOME checks
    keys, token = client.welcomed_any(sk.public, sk.pake, sk.confirm, b"n" * 8, b"s" * 8)
    assert token == tokens[1] and keys.c2s == sk.keys.c2s



# --- HELLOs held for the handshake rate, answered in turn -----------------------------------

def test_held_hellos_go_on_in_arrival_order_as_the_rate_allows_and_keep_their_place():
    joins = PendingJoins(Limits(handshake_rate=10.0, handshake_burst=1), 0.0)
    assert joins.room_for(A, False, 0.0) is None                  # the burst is spent
    b, c = ("127.0.0.2", 1), ("127.0.0.3", 1)
    assert joins.hold(A, "a", 0.0) and joins.hold(b, "b", 0.01) and joins.hold(c, "c", 0.02)
    assert joins.hold(A, "a again", 0.03)                         # asked again: same place
    assert joins.next_release(False) == pytest.approx(0.1)         # one token every 1/rate s
    assert joins.release(0.099, False) == []
    assert joins.release(0.1, False) == [(A, "a again")]
    joins.room_for(A, False, 0.1)                                 # what the handshake takes
    assert joins.release(0.3, False) == [(b, "b"), (c, "c")][:1]   # the burst (1) caps a release
    assert list(joins.held) == [c]


def test_the_queue_is_capped_and_a_held_hello_is_forgotten_after_hold_for(monkeypatch):
    from udpcore import pending as pending_module
    monkeypatch.setattr(pending_module, "HELD_MAX", 2)
    joins = PendingJoins(Limits(handshake_rate=1.0, handshake_burst=1), 0.0)
    joins.room_for(A, False, 0.0)
    assert joins.hold(("127.0.0.1", 1), 1, 0.0) and joins.hold(("127.0.0.1", 2), 2, 0.0)
    assert not joins.may_hold() and not joins.hold(("127.0.0.1", 3), 3, 0.0)
    assert joins.hold(("127.0.0.1", 2), 2, 1.0)                   # one already held may refresh
    assert joins.release(pending_module.HOLD_FOR - 0.01, False) == [(("127.0.0.1", 1), 1)]
    assert joins.release(pending_module.HOLD_FOR, False) == []     # its deadline came from the first hold
    assert not joins.held


def test_a_locked_room_releases_only_when_a_spake2_run_may_go_too():
    joins = PendingJoins(Limits(handshake_rate=100.0, handshake_burst=10, locked_handshake_rate=1.0), 0.0)
    assert joins.room_for(A, True, 0.0) is None and joins.room_for(A, True, 0.0) is None   # PAKE_BURST
    assert joins.room_for(A, True, 0.0) == "handshake_limited"
    agreements = joins._agreements.tokens
    assert agreements == pytest.approx(8.0)                       # the refused one took no agreement
    joins.hold(A, "x", 0.0)
    assert joins.next_release(True) == pytest.approx(1.0) and joins.next_release(False) == pytest.approx(0.0)
    assert joins.release(0.5, True) == [] and joins.release(1.0, True) == [(A, "x")]


def test_a_server_answers_a_held_hello_on_its_own_timer():
    from udpcore import ServerEngine, wire
    s = ServerEngine(0.0, limits=Limits(handshake_rate=2.0, handshake_burst=1))
    key = KeyShare.generate().public
    for port, name in ((5000, "ana"), (5001, "bia")):
        addr = ("127.0.0.1", port)
        s.receive_datagram(wire.encode(Hello(bytes([port % 256]) * 8, name, s._gate.tokens.mint(addr, 0.0), b"", key)),
                           addr, 0.0)
    first = [wire.decode(d) for d, _ in s.datagrams_to_send(0.0)]
    assert [type(p) for p in first] == [wire.Welcome] and s.counters["handshake_held"] == 1
    assert s.get_timer() == pytest.approx(0.5)                    # bia's turn, not the next sweep
    s.handle_timer(0.5)
    later = [(wire.decode(d), a) for d, a in s.datagrams_to_send(0.5)]
    assert [(type(p), a) for p, a in later] == [(wire.Welcome, ("127.0.0.1", 5001))]


def test_a_locked_rooms_flood_is_dropped_before_it_is_decoded_once_spake2_runs_are_spent(monkeypatch):
    """The SPAKE2 rate, not the key agreements', holds a locked room's flood back: with
    agreements to spare, every HELLO of it was decoded and judged (~50 µs each)."""
    from udpcore import ServerEngine, wire
    from udpcore import pending as pending_module
    from udpcore.pake import RoomPake
    monkeypatch.setattr(pending_module, "HELD_MAX", 0)
    s = ServerEngine(0.0, passphrase="tulipa", room="Sala 3",
                     limits=Limits(handshake_rate=100.0, handshake_burst=10, locked_handshake_rate=0.1))
    key = KeyShare.generate().public

    def hello(port: int, name: str) -> list:
        addr = ("127.0.0.1", port)
        nonce, tok = bytes([port % 256]) * 8, s._gate.tokens.mint(addr, 0.0)
        pake = RoomPake(Side.CLIENT, "tulipa", "Sala 3", nonce, tok).message
        s.receive_datagram(wire.encode(Hello(nonce, name, tok, b"", key, pake)), addr, 0.0)
        return [wire.decode(d) for d, _ in s.datagrams_to_send(0.0)]
    assert [type(p) for p in hello(5000, "ana") + hello(5001, "bia")] == [wire.Welcome] * 2   # PAKE_BURST
    assert s._pending.may_run(0.0, False)                 # key agreements to spare...
    assert hello(5002, "a b") == []                       # ...yet not even refused: not decoded
    assert s.counters["handshake_limited"] == 1


def test_a_held_hello_whose_retry_got_in_first_is_not_answered_twice():
    from udpcore import ServerEngine, wire
    s = ServerEngine(0.0, limits=Limits(handshake_rate=2.0, handshake_burst=1))
    key = KeyShare.generate().public
    a, b = ("127.0.0.1", 5000), ("127.0.0.1", 5001)

    def hello(addr, name: str, now: float) -> list:
        s.receive_datagram(wire.encode(Hello(bytes([addr[1] % 256]) * 8, name, s._gate.tokens.mint(addr, 0.0), b"",
                                             key)), addr, now)
        return [wire.decode(d) for d, _ in s.datagrams_to_send(now)]
    assert [type(p) for p in hello(a, "ana", 0.0)] == [wire.Welcome]
    assert hello(b, "bia", 0.0) == [] and b in s._pending.held            # held for the rate
    first = [p for p in hello(b, "bia", 0.5) if isinstance(p, wire.Welcome)]   # its retry, a token free
    assert len(first) == 1 and b not in s._pending.held
    session = s._pending.at(b).session
    s.handle_timer(1.0)
    assert [p for p in (wire.decode(d) for d, _ in s.datagrams_to_send(1.0)) if isinstance(p, wire.Welcome)] == []
    assert s._pending.at(b).session == session                            # the first keys still stand


def test_the_pending_session_ids_follow_every_change():
    """``sessions`` (what a new session id must not be) is always the pending handshakes' ids."""
    joins = PendingJoins(Limits(), 0.0)

    def with_session(sid: bytes, until: float = PENDING_LIFETIME) -> Pending:
        return pending(until)._replace(session=sid)
    B, C = ("127.0.0.2", 1), ("127.0.0.3", 1)
    joins.add(A, with_session(b"a" * 8))
    joins.add(B, with_session(b"b" * 8, until=1.0))
    joins.add(C, with_session(b"c" * 8))
    assert joins.sessions == {b"a" * 8, b"b" * 8, b"c" * 8}
    joins.add(A, with_session(b"A" * 8))                  # the same address again: the old id goes
    assert joins.sessions == {b"A" * 8, b"b" * 8, b"c" * 8}
    joins.confirmed(C)
    joins.discard(("127.0.0.9", 9))                       # nothing there: nothing changes
    assert joins.sessions == {b"A" * 8, b"b" * 8}
    assert joins.expire(1.0) == 1                         # B's time is up
    assert joins.sessions == {b"A" * 8}
    joins.discard(A)
    assert joins.sessions == set() and not joins.by_addr


def test_key_agreements_between_two_sends_are_capped_and_the_next_turn_may_run_its_own():
    """A burst the operator allows (--handshake-burst 50; ~0.3 ms each) run back to back held the
    socket thread ~15 ms while members' lines waited: at most AGREEMENTS_PER_TURN between sends."""
    from udpcore import pending as pending_module
    n = pending_module.AGREEMENTS_PER_TURN
    joins = PendingJoins(Limits(handshake_rate=100.0, handshake_burst=50), 0.0)
    assert joins.may_run(0.0, False) and joins.may_run(0.0, True)
    assert [joins.room_for(("127.0.0.1", i), False, 0.0) for i in range(n + 1)] == [None] * n + ["handshake_limited"]
    assert not joins.may_run(0.0, False) and not joins.may_run(0.0, True)    # a SPAKE2 run to spare, yet
    assert joins._agreements.tokens == pytest.approx(50 - n)       # the one turned away took no token
    joins.turn_over()
    assert joins.may_run(0.0, False) and joins.room_for(("127.0.0.1", 99), False, 0.0) is None


def test_held_hellos_are_released_a_turn_at_a_time():
    from udpcore import pending as pending_module
    n = pending_module.AGREEMENTS_PER_TURN
    joins = PendingJoins(Limits(handshake_rate=100.0, handshake_burst=50), 0.0)
    for i in range(n + 2):
        assert joins.hold(("127.0.0.1", i), i, 0.0)
    joins.room_for(("127.0.0.1", 100), False, 0.0)                  # one agreement already ran this turn
    first = joins.release(0.0, False)
    assert [item for _, item in first] == list(range(n - 1))         # the rest of this turn's share
    for addr, _ in first:
        assert joins.room_for(addr, False, 0.0) is None              # what their handshakes take
    assert joins.release(0.0, False) == [] and joins.next_release(False) <= 0.0   # due at once: the next turn
    joins.turn_over()
    assert [item for _, item in joins.release(0.0, False)] == [n - 1, n, n + 1]


def test_a_server_spreads_a_burst_of_joins_over_turns_reading_between():
    from udpcore import ServerEngine, wire
    from udpcore import pending as pending_module
    n = pending_module.AGREEMENTS_PER_TURN
    s = ServerEngine(0.0, limits=Limits(handshake_rate=100.0, handshake_burst=50))
    key = KeyShare.generate().public
    for port in range(5000, 5000 + 2 * n + 1):
        addr = ("127.0.0.1", port)
        s.receive_datagram(wire.encode(Hello(bytes([port % 256]) * 8, f"m{port}", s._gate.tokens.mint(addr, 0.0), b"",
                                             key)), addr, 0.0)
    welcomed = []
    for turn in range(3):
        if turn:
            assert s.get_timer() <= 0.0                            # the held ones are due at once...
            s.handle_timer(0.0)                                    # ...after a read of the socket
        welcomed.append(sum(isinstance(wire.decode(d), wire.Welcome) for d, _ in s.datagrams_to_send(0.0)))
    assert welcomed == [n, n, 1] and not s._pending.held


def test_a_held_clients_retries_keep_its_place_and_are_dropped_before_they_are_judged():
    """A class joining at once retries every 0.25 s while held: each retry judged again cost
    ~40 µs (64 of them at once ~2.5 ms of the socket thread); an address held keeps its place."""
    from udpcore import ServerEngine, wire
    from udpcore import pending as pending_module
    s = ServerEngine(0.0, limits=Limits(handshake_rate=2.0, handshake_burst=1))
    key = KeyShare.generate().public
    ana, bia = ("127.0.0.1", 5000), ("127.0.0.1", 5001)
    hello_bia = wire.encode(Hello(b"b" * 8, "bia", s._gate.tokens.mint(bia, 0.0), b"", key))

    def send(data, addr, now) -> list:
        s.receive_datagram(data, addr, now)
        return [(wire.decode(d), a) for d, a in s.datagrams_to_send(now)]
    assert [type(p) for p, _ in send(wire.encode(Hello(b"a" * 8, "ana", s._gate.tokens.mint(ana, 0.0), b"", key)),
                                     ana, 0.0)] == [wire.Welcome]
    assert send(hello_bia, bia, 0.0) == [] and s.counters["handshake_held"] == 1
    for t in (0.1, 0.2, 0.3, 0.4):                                 # her retries while she waits
        assert send(hello_bia, bia, t) == []
    assert s.counters["handshake_held"] == 1 and s.counters["handshake_limited"] == 4   # not judged again
    assert s.get_timer() == pytest.approx(0.5)
    s.handle_timer(0.5)
    assert [(type(wire.decode(d)), a) for d, a in s.datagrams_to_send(0.5)] == [(wire.Welcome, bia)]   # her place was kept
    joins = PendingJoins(Limits(), 0.0)
    joins.hold(bia, "x", 0.0)
    until = pending_module.HOLD_FOR
    assert joins.holds(bia, until - 0.01) and not joins.holds(bia, until) and not joins.holds(ana, 0.0)


def test_a_retry_is_judged_when_an_agreement_may_run_or_nothing_is_held_for_it(monkeypatch):
    from udpcore import ServerEngine, wire
    s = ServerEngine(0.0, limits=Limits(handshake_rate=2.0, handshake_burst=1))
    key = KeyShare.generate().public
    ana, bia, cid = ("127.0.0.1", 5000), ("127.0.0.1", 5001), ("127.0.0.1", 5002)

    def hello(addr, name, now) -> list:
        s.receive_datagram(wire.encode(Hello(bytes([addr[1] % 256]) * 8, name, s._gate.tokens.mint(addr, 0.0), b"",
                                             key)), addr, now)
        return [type(wire.decode(d)) for d, _ in s.datagrams_to_send(now)]
    assert hello(ana, "ana", 0.0) == [wire.Welcome]
    assert hello(bia, "bia", 0.0) == []                           # held
    assert hello(cid, "cid", 0.1) == [] and s.counters["handshake_held"] == 2   # another address: judged and held
    assert hello(bia, "bia", 0.5) == [wire.Welcome]               # a token is free: her retry goes on at once


def test_a_hello_without_a_token_still_gets_its_challenge_when_no_handshake_may_run(monkeypatch):
    """Only HELLOs that bring a token are dropped undecoded for the limits: a newcomer's
    first HELLO is answered with a CHALLENGE (no state kept) whatever the queue holds."""
    from udpcore import ServerEngine, wire
    from udpcore import pending as pending_module
    monkeypatch.setattr(pending_module, "HELD_MAX", 0)       # the queue full
    s = ServerEngine(0.0, limits=Limits(handshake_rate=0.1, handshake_burst=1))
    key = KeyShare.generate().public
    ana = ("127.0.0.1", 5000)
    s.receive_datagram(wire.encode(Hello(b"a" * 8, "ana", s._gate.tokens.mint(ana, 0.0), b"", key)), ana, 0.0)
    assert [type(wire.decode(d)) for d, _ in s.datagrams_to_send(0.0)] == [wire.Welcome]   # the burst spent
    bia = ("127.0.0.1", 5001)
    s.receive_datagram(wire.encode(Hello(b"b" * 8, "bia", b"", b"", key)), bia, 0.0)
    assert [type(wire.decode(d)) for d, _ in s.datagrams_to_send(0.0)] == [wire.Challenge]
    assert s.counters["handshake_limited"] == 0


def pending_joins(n: int):
    """A room (tests.enginepair) with ``n`` clients each WELCOMEd but whose first sealed
    packets are held back: (room, {address: [sealed datagrams, in order]})."""
    from tests.enginepair import Room, SERVER
    room = Room(limits=Limits(handshake_rate=1000.0, handshake_burst=1000))
    clients = [room.add(f"c{i}", port=46000 + i) for i in range(n)]
    kept: dict = {}
    for _ in range(20):
        s = room.server
        for c in clients:
            addr = room.addr_of(c)
            for data, _ in c.datagrams_to_send(room.now):
                if data[4] == 12:                                   # SEALED: kept back
                    kept.setdefault(addr, []).append(data)
                else:
                    s.receive_datagram(data, addr, room.now)
        if s.get_timer() <= room.now:
            s.handle_timer(room.now)
        for data, dst in s.datagrams_to_send(room.now):
            room.clients[dst].receive_datagram(data, SERVER, room.now)
        if len(s._pending) == n and len(kept) == n:
            return room, kept
    raise AssertionError("the joins did not all reach their WELCOME")


def test_a_burst_of_joins_confirmed_at_once_is_spread_over_turns_and_nothing_is_lost():
    """64 clients sending their first sealed packets at once held the socket thread ~2.6 ms:
    at most CONFIRMS_PER_TURN are let in between two sends, the rest kept, unopened, for the
    next turns, due at once."""
    from udpcore import pending as pending_module
    n = pending_module.CONFIRMS_PER_TURN
    room, kept = pending_joins(2 * n + 1)
    s, now = room.server, room.now
    for addr, datas in kept.items():
        for data in datas:
            s.receive_datagram(data, addr, now)
    admitted = []
    for turn in range(3):
        if turn:
            assert s.get_timer() <= now                             # the kept ones are due at once
            s.handle_timer(now)
        admitted.append(len(s.member_names))
        s.datagrams_to_send(now)                                    # a send: the next turn may confirm its own
    assert admitted == [n, 2 * n, 2 * n + 1]
    assert not s._pending.deferred and not s._pending.by_addr and s.get_timer() > now
    assert sorted(s.member_names) == sorted(f"c{i}" for i in range(2 * n + 1))
    assert s.counters["join_deferred_dropped"] == 0
    room.advance(2.0)                                               # the late ones are members like the rest
    assert len(s.member_names) == 2 * n + 1 and all(c.state.name == "JOINED" for c in room.clients.values())
    from tests.enginepair import drain
    from udpcore import events as ev
    for c in room.clients.values():
        drain(c)
    late = next(c for c in room.clients.values() if c.name == f"c{2 * n}")     # let in at the third turn
    late.say("late, but in")
    room.settle()
    first = next(c for c in room.clients.values() if c.name == "c0")
    assert [e.text for e in drain(first) if isinstance(e, ev.RoomLine)] == ["late, but in"]


def test_a_deferred_joins_datagrams_keep_their_order_and_their_number_is_capped():
    """Once a join's datagram is kept, its next ones are kept behind it, even in a turn
    that may confirm (none is opened ahead of it); past DEFERRED_EACH they are dropped."""
    from udpcore import pending as pending_module
    n, each = pending_module.CONFIRMS_PER_TURN, pending_module.DEFERRED_EACH
    room, kept = pending_joins(n + 1)
    s, now = room.server, room.now
    addrs = list(kept)
    for addr in addrs[:n]:
        s.receive_datagram(kept[addr][0], addr, now)
    last = addrs[n]
    s.receive_datagram(kept[last][0], last, now)                     # past the turn's cap: kept
    assert s._pending.deferred[last] == kept[last][:1] and f"c{n}" not in s.member_names
    s.datagrams_to_send(now)                                          # a new turn: it may confirm...
    late, retries = room.clients[last], []
    for i in range(1, 20):                                            # ...but the client's retries
        late.handle_timer(now + i)                                    # queue behind the first
        retries += [d for d, _ in late.datagrams_to_send(now + i) if d[4] == 12]     # SEALED
    retries = retries[:each + 1]
    assert len(retries) == each + 1
    for data in retries:
        s.receive_datagram(data, last, now)
    assert s._pending.deferred[last] == kept[last][:1] + retries[:each - 1]
    assert s.counters["join_deferred_dropped"] == len(retries) - (each - 1)
    assert f"c{n}" not in s.member_names
    s.handle_timer(now)
    assert f"c{n}" in s.member_names and not s._pending.deferred
    assert s.counters["undecryptable"] == 0 and s.counters["replayed"] == 0


def test_the_kept_datagrams_go_with_a_join_that_expires_is_replaced_or_is_discarded():
    joins = PendingJoins(Limits(), 0.0)
    a, b, c = ("127.0.0.1", 5000), ("127.0.0.1", 5001), ("127.0.0.1", 5002)
    joins.add(c, pending(name="cid"))
    assert joins.defer(c, b"0")
    joins.add(c, pending(name="cid again"))                         # a new handshake: new keys
    assert c not in joins.deferred
    joins.discard(c)
    joins.add(a, pending(until=1.0))
    joins.add(b, pending(until=2.0, name="bia"))
    assert joins.defer(a, b"1") and joins.defer(b, b"2")
    assert joins.next_release(False) == 0.0
    assert joins.expire(1.0) == 1 and a not in joins.deferred and joins.deferred[b] == [b"2"]
    joins.discard(b)
    assert not joins.deferred and joins.next_release(False) is None


def test_take_deferred_gives_only_what_the_turn_may_still_confirm():
    from udpcore import pending as pending_module
    joins = PendingJoins(Limits(), 0.0)
    n = pending_module.CONFIRMS_PER_TURN
    addrs = [("127.0.0.1", 5000 + i) for i in range(n + 2)]
    for i, addr in enumerate(addrs):
        joins.add(addr, pending(name=f"m{i}"))
        assert joins.defer(addr, bytes([i]))
    for _ in range(pending_module.DEFERRED_EACH - 1):
        assert joins.defer(addrs[0], b"x")
    assert not joins.defer(addrs[0], b"y")                          # DEFERRED_EACH per address
    other = ("127.0.0.1", 6000)
    joins.add(other, pending(name="other"))
    joins.confirmed(other)                                          # one confirmed this turn already
    assert joins.may_confirm()
    taken = joins.take_deferred()
    assert [a for a, _ in taken] == addrs[:n - 1]                   # oldest first, n - 1 of them
    assert taken[0][1] == [b"\x00"] + [b"x"] * (pending_module.DEFERRED_EACH - 1)
    for addr in addrs[:n - 1]:
        joins.confirmed(addr)
    assert not joins.may_confirm() and joins.take_deferred() == []
    joins.turn_over()
    assert joins.may_confirm() and [a for a, _ in joins.take_deferred()] == addrs[n - 1:]
