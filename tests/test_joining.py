"""The client's side of joining (udpcore/joining.py): HELLO timing, the token, the
round trips the handshake times, and (version 2) the key agreement: a fresh X25519
key per start, a SPAKE2 message for a locked room, a resume proof once a token has
come, and the checks a WELCOME must pass before its keys are believed."""
from __future__ import annotations

import dataclasses
import os

import pytest

from udpcore import joining as j
from udpcore import wire
from udpcore.errors import HandshakeError, NotLocked, PassphraseNeeded
from udpcore.keying import client_resume_proof, resume_nonce, server_handshake, server_resume_proof
from udpcore.protection import Binding, KeyShare, SessionKeys

pytestmark = pytest.mark.timeout(10)

SID = b"S" * 8
ROOM = "Sala 3"


def joiner(passphrase: str = "", jitter: int = 0) -> j.Joiner:
    """Draws of 1, 2, 3... bytes each for nonces and keys; ``jitter`` (0-65535) for every
    2-byte draw, the retry jitter's (0: none, so the retry gaps below are exact)."""
    n = iter(range(1, 100))
    return j.Joiner(lambda k: jitter.to_bytes(2, "big") if k == 2 else bytes([next(n)]) * k, passphrase)


def session_keys(seed: int = 5) -> SessionKeys:
    """The keys of some earlier session, to resume it."""
    a, b = KeyShare(bytes([seed]) * 32), KeyShare(bytes([seed + 1]) * 32)
    return SessionKeys.derive(a.shared(b.public), Binding(b"c" * 8, b"s", a.public, b.public, SID))


def public_of(byte: int) -> bytes:
    return KeyShare(bytes([byte]) * 32).public


def test_constants():
    assert (j.HELLO_MAX_RETRY, j.RECONNECT_MAX_RETRY, j.RESUME_FIRST_RETRY, wire.HELLO_FIRST_RETRY) == (2.0, 5.0, 0.5, 0.25)


def test_nothing_is_sent_before_start_nor_before_it_is_due():
    x = joiner()
    assert x.due is None and x.hello("a", 0.0, False) is None
    x.start(10.0)
    assert x.nonce == b"\1" * 8 and x.due == 10.0 and x.resume is None and x.token == b""
    assert x.hello("a", 9.999, False) is None
    # the key is the second draw: 32 bytes of 2
    assert wire.decode(x.hello("alice", 10.0, False)) == wire.Hello(b"\1" * 8, "alice", public=public_of(2))
    assert x.hello("alice", 10.1, False) is None and x.due == 10.25


def retry_gaps(x: j.Joiner, n: int, reconnecting: bool) -> tuple[list[float], list[bytes]]:
    """Send ``n`` HELLOs, each when it is due: the gaps between them, and the HELLOs."""
    gaps, sent, t = [], [], 0.0
    for _ in range(n):
        sent.append(x.hello("a", t, reconnecting))
        gaps.append(x.due - t)
        t = x.due
    return gaps, sent


def test_retries_double_up_to_their_cap():
    x = joiner()
    x.start(0.0)
    assert retry_gaps(x, 6, False)[0] == [0.25, 0.5, 1.0, 2.0, 2.0, 2.0]
    y = joiner()
    y.start(0.0, resume=(SID, session_keys()))
    gaps, sent = retry_gaps(y, 6, True)
    assert gaps == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]
    assert all(wire.decode(h).resume == b"" for h in sent)          # no token yet: no proof yet
    z = joiner()
    z.start(0.0)                                   # reconnecting afresh: 0.25 s doubling to 5 s
    assert retry_gaps(z, 7, True)[0] == [0.25, 0.5, 1.0, 2.0, 4.0, 5.0, 5.0]


def test_a_challenge_is_answered_at_once_and_times_a_hello_that_went_once():
    x = joiner()
    x.start(0.0)
    x.hello("a", 0.0, False)
    x.challenged(wire.Challenge(x.nonce, b"T"), 0.03)
    assert x.token == b"T" and x.due == 0.03 and x.rtts == [0.03]
    x.hello("a", 0.03, False)
    assert x.welcomed(0.05) == pytest.approx([0.03, 0.02]) and x.due is None


def test_a_hello_that_went_twice_times_nothing():
    x = joiner()
    x.start(0.0)
    x.hello("a", 0.0, False)
    x.hello("a", 0.25, False)
    x.challenged(wire.Challenge(x.nonce, b"T"), 0.3)
    assert x.rtts == []
    x.hello("a", 0.3, False)
    assert x.due == 1.3                            # the backoff goes on from where it was
    x.hello("a", 1.3, False)
    assert x.welcomed(1.31) == []


def test_the_same_token_again_restarts_nothing_and_a_new_one_is_not_timed():
    x = joiner()
    x.start(0.0)
    x.hello("a", 0.0, False)
    x.challenged(wire.Challenge(x.nonce, b"T"), 0.01)
    x.hello("a", 0.01, False)
    x.challenged(wire.Challenge(x.nonce, b"T"), 0.02)     # the same token: the HELLO with it stays counted
    assert x.welcomed(0.03) == pytest.approx([0.01, 0.02])
    y = joiner()
    y.start(0.0)
    y.hello("a", 0.0, False)
    y.challenged(wire.Challenge(y.nonce, b"T"), 0.01)
    y.hello("a", 0.01, False)
    y.challenged(wire.Challenge(y.nonce, b"U"), 0.5)      # a fresh token (ours expired): not a first answer
    assert y.rtts == pytest.approx([0.01]) and y.token == b"U"


def test_a_welcome_without_a_token_times_nothing_and_start_forgets_the_last_attempt():
    x = joiner()
    x.start(0.0)
    x.hello("a", 0.0, False)
    assert x.welcomed(0.01) == []
    x.start(1.0)
    # each start draws a nonce and a key: the second start's are the third and fourth draws
    assert x.nonce == b"\3" * 8 and x.rtts == [] and x.token == b"" and x.due == 1.0
    assert x.keying is not None and x.keying.share.public == public_of(4)


def test_asking_again_needs_a_token():
    x = joiner()
    x.start(0.0)
    x.hello("a", 0.0, False)
    x.ask_again(0.1)
    assert x.due == 0.25
    x.challenged(wire.Challenge(x.nonce, b"T"), 0.1)
    x.hello("a", 0.1, False)
    x.ask_again(0.2)
    assert x.due == 0.2


def test_a_joiner_not_started_has_nothing_to_send_and_has_timed_nothing():
    x = joiner()
    assert (x.nonce, x.token, x.resume, x.due, x.rtts, x.keying) == (b"", b"", None, None, [], None)
    assert x.welcomed(1.0) == [] and x.due is None
    # Version 2: an answer out of turn is refused, it has no key to answer with (the engine
    # never passes one: a CHALLENGE must carry the nonce of a HELLO we sent)
    with pytest.raises(AssertionError):
        x.challenged(wire.Challenge(b"", b"T"), 2.0)
    assert (x.token, x.due, x.rtts) == (b"", None, []) and x.hello("a", 2.0, False) is None


# --- keys: one fresh X25519 key per handshake ---------------------------------------------------


def test_each_start_makes_a_fresh_key_and_every_hello_carries_it():
    x = joiner()
    x.start(0.0)
    first = x.keying
    assert first is not None and first.share.public == public_of(2)
    assert wire.decode(x.hello("a", 0.0, False)).public == public_of(2)
    x.challenged(wire.Challenge(x.nonce, b"T"), 0.01)
    assert wire.decode(x.hello("a", 0.01, False)).public == public_of(2)    # the same key for this handshake
    x.start(1.0, resume=(SID, session_keys()))
    assert x.keying is not first and x.keying.share.public == public_of(4) != public_of(2)
    h = wire.decode(x.hello("a", 1.0, True))
    assert (h.nonce, h.token, h.public, h.pake, h.resume) == (b"\3" * 8, b"", public_of(4), b"", b"")
    real = j.Joiner(os.urandom)
    real.start(0.0)
    one = real.keying.share.public
    real.start(0.0)
    assert real.keying.share.public != one


# --- locked or open, with a passphrase or without -------------------------------------------------


@pytest.mark.parametrize("locked,passphrase,problem", [
    (False, "", None),
    (True, "", PassphraseNeeded(ROOM)),
    (False, "pw", NotLocked(ROOM)),          # someone may be stripping the lock: refused, not ignored
    (True, "pw", None),
])
def test_a_challenge_is_taken_only_when_the_lock_and_our_passphrase_agree(locked, passphrase, problem):
    x = joiner(passphrase)
    x.start(0.0)
    x.hello("alice", 0.0, False)
    got = x.challenged(wire.Challenge(x.nonce, b"T", locked, ROOM), 0.03)
    if problem is not None:
        assert type(got) is type(problem) and got == problem and got.room == ROOM
        assert (x.token, x.room, x.due, x.rtts) == (b"", "", 0.25, [])      # nothing taken, nothing sent at once
        assert x.hello("alice", 0.03, False) is None
        return
    assert got is None
    assert (x.token, x.room, x.due, x.rtts) == (b"T", ROOM, 0.03, [0.03])
    h = wire.decode(x.hello("alice", 0.03, False))
    assert (h.token, h.resume, h.public) == (b"T", b"", public_of(2))
    if locked:
        assert len(h.pake) == wire.PAKE_LEN and h.pake[:1] == b"A"          # SPAKE2, side A
    else:
        assert h.pake == b""


def challenged(x: j.Joiner, token: bytes, now: float, locked: bool = False) -> wire.Hello:
    """Answer a CHALLENGE with ``token``; the HELLO that goes at once."""
    assert x.challenged(wire.Challenge(x.nonce, token, locked, ROOM if locked else ""), now) is None
    return wire.decode(x.hello("alice", now, False))


def started(passphrase: str = "", resume=None) -> j.Joiner:
    x = joiner(passphrase)
    x.start(0.0, resume=resume)
    x.hello("alice", 0.0, resume is not None)
    return x


def welcome_from(h: wire.Hello, passphrase: str = "", room: str = "", token: bytes | None = None,
                 session: bytes = SID):
    """What a server (udpcore.keying, as the engine uses it) answers to ``h``; and its keys."""
    sk = server_handshake(h.public, h.pake, passphrase, room, h.nonce, h.token if token is None else token, session)
    return wire.Welcome(h.nonce, session, h.name, False, sk.public, sk.pake, sk.confirm), sk.keys


@pytest.mark.parametrize("server_passphrase,server_room,agree", [
    ("pw", ROOM, True), ("px", ROOM, False), ("pw", "Sala 4", False), ("PW", ROOM, False)])
def test_the_pake_message_is_spake2_of_our_passphrase_for_this_room(server_passphrase, server_room, agree):
    x = started("pw")
    h = challenged(x, b"T", 0.01, locked=True)
    welcome, server_keys = welcome_from(h, server_passphrase, server_room)
    if agree:
        keys = x.keys_for(welcome)
        assert (keys.c2s, keys.s2c, keys.resume_key) == (server_keys.c2s, server_keys.s2c, server_keys.resume_key)
    else:
        with pytest.raises(HandshakeError):             # the wrong passphrase (or room) shows here
            x.keys_for(welcome)


def test_an_open_room_agrees_keys_without_a_pake():
    x = started()
    h = challenged(x, b"T", 0.01)
    assert h.pake == b""
    welcome, server_keys = welcome_from(h)
    assert x.keys_for(welcome).c2s == server_keys.c2s
    # the other way round: we ran SPAKE2, the WELCOME comes from an open-room handshake
    # (someone stripping the lock after the CHALLENGE): not believed
    y = started("pw")
    h = challenged(y, b"T", 0.01, locked=True)
    sk = server_handshake(h.public, b"", "", "", h.nonce, h.token, SID)
    with pytest.raises(HandshakeError):
        y.keys_for(wire.Welcome(h.nonce, SID, "alice", False, sk.public, b"", sk.confirm))


def test_a_new_token_rebuilds_the_pake_message_and_the_same_token_keeps_it():
    x = started("pw")
    first = challenged(x, b"T", 0.01, locked=True).pake
    again = challenged(x, b"T", 0.02, locked=True).pake
    assert again == first             # the same HELLO again: the server answers it with the same WELCOME
    fresh = challenged(x, b"U", 0.5, locked=True)
    assert fresh.pake != first and len(fresh.pake) == wire.PAKE_LEN
    welcome, server_keys = welcome_from(fresh, "pw", ROOM)          # bound to the new token: agrees
    assert x.keys_for(welcome).c2s == server_keys.c2s
    y = started("pw")
    challenged(y, b"T", 0.01, locked=True)
    stale = challenged(y, b"U", 0.5, locked=True)
    welcome, _ = welcome_from(stale, "pw", ROOM, token=b"T")        # a server still on the old token: no
    with pytest.raises(HandshakeError):
        y.keys_for(welcome)


def test_a_new_start_forgets_the_pake_message_until_the_next_challenge():
    x = started("pw")
    old = challenged(x, b"T", 0.01, locked=True).pake
    x.start(1.0)
    assert wire.decode(x.hello("alice", 1.0, True)).pake == b""
    assert challenged(x, b"T", 1.01, locked=True).pake not in (b"", old)     # new nonce: a new message


# --- resuming: the proof -------------------------------------------------------------------------


def test_the_resume_proof_is_made_only_once_a_token_came_and_for_that_token():
    keys = session_keys()
    x = started(resume=(SID, keys))
    before = wire.decode(x.hello("alice", 0.5, True))
    assert (before.token, before.resume) == (b"", b"")              # no token: nothing to bind a proof to
    h = challenged(x, b"T", 0.6)
    assert h.resume == client_resume_proof(keys, SID, x.nonce, b"T")
    assert len(h.resume) == wire.CONFIRM_LEN and keys.verify_resume(SID, resume_nonce(x.nonce, b"T"), h.resume)
    assert not session_keys(7).verify_resume(SID, resume_nonce(x.nonce, b"T"), h.resume)   # another session's keys
    again = challenged(x, b"U", 1.0)                                 # a new token: a new proof
    assert again.resume == client_resume_proof(keys, SID, x.nonce, b"U") != h.resume
    x.start(2.0)                                                     # a fresh join: no proof, even with a token
    assert challenged(x, b"V", 2.0).resume == b""


def test_a_fresh_join_never_sends_a_proof():
    x = started()
    assert challenged(x, b"T", 0.01).resume == b""
    assert challenged(x, b"U", 0.5).resume == b""


# --- what a WELCOME must prove before its keys are believed ---------------------------------------


def test_keys_for_a_fresh_welcome_checks_the_servers_confirmation():
    x = started()
    h = challenged(x, b"T", 0.01)
    replace = dataclasses.replace
    good, server_keys = welcome_from(h)
    other_token, _ = welcome_from(h, token=b"U")
    other_session, _ = welcome_from(h, session=b"X" * 8)
    forged = {
        "a flipped confirmation": replace(good, confirm=bytes([good.confirm[0] ^ 1]) + good.confirm[1:]),
        "another session id than the one confirmed": replace(good, session=b"X" * 8),
        "confirmed for another token": other_token,
        "another server key, the same confirmation": replace(good, public=public_of(9)),
        "a low-order server key": replace(good, public=bytes(32)),
        "no server key": replace(good, public=b""),
        "our own key reflected": replace(good, public=h.public),
    }
    for why, welcome in forged.items():
        with pytest.raises(HandshakeError):
            x.keys_for(welcome)
            pytest.fail(why)
    keys = x.keys_for(other_session)                 # a real answer naming another session is fine:
    assert keys.c2s != server_keys.c2s               # the id is bound into other keys
    assert x.keys_for(good).c2s == server_keys.c2s


def test_keys_for_a_resumed_welcome_checks_the_session_and_the_servers_proof():
    keys = session_keys()
    x = started(resume=(SID, keys))
    h = challenged(x, b"T", 0.6)

    def resumed(session=SID, confirm=None) -> wire.Welcome:
        return wire.Welcome(h.nonce, session, "alice", resumed=True,
                            confirm=server_resume_proof(keys, SID, h.nonce, b"T") if confirm is None else confirm)

    refused = {
        "another session": resumed(b"X" * 8, server_resume_proof(keys, b"X" * 8, h.nonce, b"T")),
        "a bad proof": resumed(confirm=bytes(32)),
        "our own proof reflected": resumed(confirm=h.resume),
        "a proof for another token": resumed(confirm=server_resume_proof(keys, SID, h.nonce, b"U")),
        "a proof for another nonce": resumed(confirm=server_resume_proof(keys, SID, b"n" * 8, b"T")),
        "a proof made with other keys": resumed(confirm=server_resume_proof(session_keys(7), SID, h.nonce, b"T")),
    }
    for why, welcome in refused.items():
        with pytest.raises(HandshakeError):
            x.keys_for(welcome)
            pytest.fail(why)
    assert x.keys_for(resumed()) is keys             # the session's own keys, unchanged
    # the server no longer holds the session: a fresh WELCOME brings a new session and its keys
    fresh, server_keys = welcome_from(h, session=b"N" * 8)
    assert x.keys_for(fresh).c2s == server_keys.c2s != keys.c2s


def test_a_resumed_welcome_when_we_asked_nothing_back_is_refused():
    x = started()
    h = challenged(x, b"T", 0.01)
    keys = session_keys()
    with pytest.raises(HandshakeError):
        x.keys_for(wire.Welcome(h.nonce, SID, "alice", resumed=True,
                                confirm=server_resume_proof(keys, SID, h.nonce, b"T")))


def test_retries_are_jittered_from_one_to_one_and_a_half_times_never_sooner():
    """Clients that all started at one instant must not retry at one instant: the
    handshake burst lets only a few in per instant, and the rest gave up."""
    for jitter, factor in ((0, 1.0), (32768, 1.25), (65535, 1.5 - 0.5 / 65536)):
        x = joiner(jitter=jitter)
        x.start(0.0)
        gaps = retry_gaps(x, 5, False)[0]
        assert gaps == pytest.approx([b * factor for b in (0.25, 0.5, 1.0, 2.0, 2.0)], abs=1e-12), jitter
    assert min(gaps) >= wire.HELLO_FIRST_RETRY          # the server's RTT sample relies on it
