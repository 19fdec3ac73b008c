"""Packet protection, the building block of issue 12 (not yet on the wire).

Known answers pin the derivation documented in udpcore/protection.py and
docs/protocol.md; every boundary (window width, key-update count, overlap,
packet-number limit) is tested on both sides of it.
"""
from __future__ import annotations

import dataclasses
import hashlib
import hmac
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF, HKDFExpand
from hypothesis import given, settings
from hypothesis import strategies as st

from udpcore.errors import DecryptError, HandshakeError, ProtocolError, ReplayedPacket
from udpcore.pake import PAKE_MESSAGE_LEN, RoomPake, identities
from udpcore.protection import (KEY_UPDATE_AFTER, MAX_PN, OVERLAP_PACKETS, Binding, KeyShare, PacketKey,
                                Receiver, Sender, SessionKeys, Side, next_secret, traffic_keys)
from udpcore.replay import MIN_WIDTH, ReplayWindow
from udpcore.wire import VERSION

pytestmark = pytest.mark.timeout(60)

# RFC 7748 section 6.1
A_PRIV = bytes.fromhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
A_PUB = bytes.fromhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
B_PRIV = bytes.fromhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")
B_PUB = bytes.fromhex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
K_AB = bytes.fromhex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742")

BINDING = Binding(client_nonce=b"c" * 8, server_nonce=b"s" * 8, client_public=A_PUB, server_public=B_PUB,
                  session_id=b"i" * 8)


def keys(shared=K_AB, binding=BINDING, pake=b""):
    return SessionKeys.derive(shared, binding, pake)


def outputs(k: SessionKeys) -> list[bytes]:
    """Every secret a handshake yields, and the keys and IVs of both directions."""
    return [k.c2s, k.s2c, k.resume_key, k.finished(Side.CLIENT), k.finished(Side.SERVER),
            *traffic_keys(k.c2s), *traffic_keys(k.s2c)]


# --- key agreement ---------------------------------------------------------

def test_rfc7748_x25519_vector():
    alice, bob = KeyShare(A_PRIV), KeyShare(B_PRIV)
    assert alice.public == A_PUB and bob.public == B_PUB
    assert alice.shared(B_PUB) == K_AB == bob.shared(A_PUB)


def test_generated_shares_agree_and_differ():
    a, b = KeyShare.generate(), KeyShare.generate()
    assert a.public != b.public and len(a.public) == 32
    assert a.shared(b.public) == b.shared(a.public)


@pytest.mark.parametrize("peer", [bytes(32), (1).to_bytes(32, "little"),
                                  bytes.fromhex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
                                  bytes(31), bytes(33), b""])
def test_low_order_and_malformed_public_keys_are_refused(peer):
    with pytest.raises(HandshakeError) as caught:
        KeyShare(A_PRIV).shared(peer)
    assert isinstance(caught.value, ProtocolError)


# --- key schedule ----------------------------------------------------------

def test_schedule_known_answer_follows_the_documented_derivation():
    def lp(b):
        return bytes([len(b)]) + b

    def expand(secret, label, n):
        return HKDFExpand(hashes.SHA256(), n, b"udpchat " + label).derive(secret)

    pake = bytes(range(32))
    for pake_key, mode in ((b"", 0), (pake, 1)):
        salt = (b"udpchat session" + bytes([VERSION, mode]) + lp(b"c" * 8) + lp(b"s" * 8) + lp(A_PUB) + lp(B_PUB)
                + lp(b"i" * 8))
        master = HKDF(hashes.SHA256(), 32, salt, b"udpchat master").derive(K_AB + pake_key)
        k = keys(pake=pake_key)
        assert k.c2s == expand(master, b"c2s", 32) and k.s2c == expand(master, b"s2c", 32)
        assert k.resume_key == expand(master, b"resume", 32)
        assert k.finished(Side.CLIENT) == expand(master, b"client finished", 32)
        assert k.finished(Side.SERVER) == expand(master, b"server finished", 32)
        assert traffic_keys(k.c2s) == (expand(k.c2s, b"key", 32), expand(k.c2s, b"iv", 12))
        assert next_secret(k.c2s) == expand(k.c2s, b"key update", 32)


def test_schedule_is_deterministic_and_every_output_differs():
    assert outputs(keys()) == outputs(keys())
    out = outputs(keys())
    assert len(set(out)) == len(out) == 9
    assert [len(x) for x in out] == [32, 32, 32, 32, 32, 32, 12, 32, 12]


@pytest.mark.parametrize("change", [*[f.name for f in dataclasses.fields(Binding)], "shared", "pake", "pake-value"])
def test_changing_any_bound_input_changes_every_output(change):
    base_pake = b"\x07" * 32 if change == "pake-value" else b""
    base = outputs(keys(pake=base_pake))
    if change == "shared":
        other = keys(shared=bytes(a ^ 1 for a in K_AB))
    elif change == "pake":
        other = keys(pake=b"\x07" * 32)
    elif change == "pake-value":
        other = keys(pake=b"\x08" * 32)
    elif change == "version":
        other = keys(binding=dataclasses.replace(BINDING, version=VERSION + 1))
    else:
        value = getattr(BINDING, change)
        other = keys(binding=dataclasses.replace(BINDING, **{change: value[:-1] + bytes([value[-1] ^ 1])}))
    assert all(a != b for a, b in zip(base, outputs(other)))


def test_fields_are_length_prefixed_so_moving_a_byte_between_them_changes_the_keys():
    moved = dataclasses.replace(BINDING, client_nonce=b"c" * 8 + b"s", server_nonce=b"s" * 7)
    assert keys(binding=moved).c2s != keys().c2s


@pytest.mark.parametrize("shared,pake", [(bytes(31), b""), (K_AB, bytes(31)), (K_AB, bytes(33))])
def test_schedule_refuses_wrong_lengths(shared, pake):
    with pytest.raises(ValueError):
        keys(shared=shared, pake=pake)


def test_finished_confirms_each_side_and_not_the_other():
    k, same, other = keys(), keys(), keys(pake=bytes(32))
    assert k.check_finished(Side.SERVER, same.finished(Side.SERVER))
    assert k.check_finished(Side.CLIENT, same.finished(Side.CLIENT))
    assert not k.check_finished(Side.CLIENT, same.finished(Side.SERVER))      # no reflection
    assert not k.check_finished(Side.SERVER, other.finished(Side.SERVER))
    assert not k.check_finished(Side.SERVER, same.finished(Side.SERVER)[:-1])
    assert not k.check_finished(Side.SERVER, None)


# --- packet protection -----------------------------------------------------

HEADER = bytes.fromhex("ff5543030c00") + (7).to_bytes(4, "big")     # a SEALED header: phase 0, packet 7
PLAIN = b"hello, room"


def pair(update_after=KEY_UPDATE_AFTER, window=MIN_WIDTH, overlap=OVERLAP_PACKETS):
    k = keys()
    return k.sender(Side.CLIENT, update_after), k.receiver(Side.SERVER, window, overlap)


def test_seal_open_round_trip_both_directions():
    k = keys()
    for side, peer in ((Side.CLIENT, Side.SERVER), (Side.SERVER, Side.CLIENT)):
        sealed = k.sender(side).seal(7, HEADER, PLAIN)
        assert len(sealed) == len(PLAIN) + 16 and PLAIN not in sealed
        assert k.receiver(peer).open(7, 0, HEADER, sealed) == PLAIN


def test_the_aead_is_chacha20_poly1305_with_iv_xor_pn_and_the_header_as_aad():
    key, iv = traffic_keys(keys().c2s)
    nonce = (int.from_bytes(iv, "big") ^ 7).to_bytes(12, "big")
    assert keys().sender(Side.CLIENT).seal(7, HEADER, PLAIN) == ChaCha20Poly1305(key).encrypt(nonce, PLAIN, HEADER)


def test_every_bit_of_header_ciphertext_tag_and_pn_matters():
    tx, _ = pair()
    sealed = tx.seal(7, HEADER, PLAIN)
    key = PacketKey(*traffic_keys(keys().c2s))
    assert key.open(7, HEADER, sealed) == PLAIN
    for i in range(len(HEADER) * 8):
        bad = bytearray(HEADER)
        bad[i // 8] ^= 1 << (i % 8)
        with pytest.raises(DecryptError):
            key.open(7, bytes(bad), sealed)
    for i in range(len(sealed) * 8):      # the ciphertext, then the 16-byte tag
        bad = bytearray(sealed)
        bad[i // 8] ^= 1 << (i % 8)
        with pytest.raises(DecryptError):
            key.open(7, HEADER, bytes(bad))
    for pn in [7 ^ (1 << b) for b in range(32)]:
        with pytest.raises(DecryptError):
            key.open(pn, HEADER, sealed)
    for cut in (sealed[:-1], sealed[1:], sealed + b"\0", b"", sealed[:16]):
        with pytest.raises(DecryptError):
            key.open(7, HEADER, cut)


def test_wrong_direction_key_fails():
    k = keys()
    sealed = k.sender(Side.CLIENT).seal(0, HEADER, PLAIN)
    with pytest.raises(DecryptError):
        k.receiver(Side.CLIENT).open(0, 0, HEADER, sealed)      # the server->client key
    with pytest.raises(DecryptError):
        keys(pake=bytes(32)).receiver(Side.SERVER).open(0, 0, HEADER, sealed)     # another session's key


def test_nonce_is_iv_xor_left_padded_pn():
    iv = bytes(range(100, 112))
    key = PacketKey(bytes(32), iv)
    assert key.nonce(0) == iv
    assert key.nonce(1) == iv[:11] + bytes([iv[11] ^ 1])
    assert key.nonce(MAX_PN) == iv[:8] + bytes(b ^ 0xFF for b in iv[8:])
    assert key.nonce(0x01020304) == iv[:8] + bytes(a ^ b for a, b in zip(iv[8:], b"\x01\x02\x03\x04"))
    assert MAX_PN == 2**32 - 1
    for pn in (MAX_PN + 1, -1):
        with pytest.raises(ValueError):
            key.nonce(pn)
        with pytest.raises(ValueError):
            key.seal(pn, HEADER, PLAIN)
        with pytest.raises(DecryptError):
            key.open(pn, HEADER, bytes(32))


def test_packet_key_lengths_are_checked():
    for k, iv in ((bytes(31), bytes(12)), (bytes(32), bytes(11)), (bytes(32), bytes(13))):
        with pytest.raises(ValueError):
            PacketKey(k, iv)


def test_sender_never_reuses_a_packet_number_and_stops_at_the_last():
    tx, rx = pair(update_after=2**40)
    tx.seal(5, HEADER, PLAIN)
    for pn in (5, 4, 0):
        with pytest.raises(ValueError):
            tx.seal(pn, HEADER, PLAIN)
    tx.seal(7, HEADER, PLAIN)                     # gaps are allowed: the number stays unique
    assert not tx.exhausted
    last = tx.seal(MAX_PN, HEADER, PLAIN)
    assert rx.open(MAX_PN, 0, HEADER, last) == PLAIN and tx.exhausted and tx.next_pn == MAX_PN + 1
    with pytest.raises(ValueError, match="new handshake"):
        tx.seal(MAX_PN + 1, HEADER, PLAIN)
    with pytest.raises(DecryptError):
        rx.open(MAX_PN + 1, 0, HEADER, last)


def test_sender_one_below_the_last_number_is_not_exhausted():
    tx, _ = pair(update_after=2**40)
    tx.seal(MAX_PN - 1, HEADER, PLAIN)
    assert not tx.exhausted and tx.next_pn == MAX_PN


# --- the replay window -----------------------------------------------------

def test_window_width_is_at_least_64_and_configurable():
    assert MIN_WIDTH == 64
    with pytest.raises(ValueError):
        ReplayWindow(63)
    assert ReplayWindow(64).width == 64 and ReplayWindow(1000).width == 1000


@pytest.mark.parametrize("first", [0, 1, 500, MAX_PN])
def test_window_accepts_any_first_packet_then_not_again(first):
    w = ReplayWindow()
    assert w.check(first) and w.highest is None
    w.mark(first)
    assert not w.check(first) and w.highest == first
    assert not w.check(-1)


@pytest.mark.parametrize("width", [64, 65, 128, 200])
def test_window_edges(width):
    w = ReplayWindow(width)
    w.mark(1000)
    assert w.check(1000 - (width - 1))            # the oldest still in the window, once
    w.mark(1000 - (width - 1))
    assert not w.check(1000 - (width - 1))
    assert not w.check(1000 - width)              # just out of the window
    assert w.check(1001) and w.check(999)
    assert w.highest == 1000                      # an older number does not move the window


@pytest.mark.parametrize("width", [64, 100])
def test_window_moves_bits_with_the_highest(width):
    w = ReplayWindow(width)
    w.mark(10)
    w.mark(12)
    assert not w.check(10) and w.check(11) and not w.check(12)
    w.mark(10 + width - 1)                        # 10 is now exactly width-1 behind: still remembered
    assert not w.check(10) and w.check(11) and not w.check(12)
    w.mark(12 + width)                            # 12 exactly width behind, 13.. remembered (none seen)
    assert not w.check(12) and not w.check(11)
    assert all(w.check(n) for n in range(13, 12 + width) if n != 10 + width - 1)
    assert not w.check(10 + width - 1)


@pytest.mark.parametrize("width", [64, 100])
def test_a_jump_of_width_minus_one_keeps_the_old_highest(width):
    w = ReplayWindow(width)
    w.mark(100)
    w.mark(100 + width - 1)
    assert not w.check(100) and w.check(101)
    w.mark(100 + width)
    assert not w.check(100) and w.check(101)      # 100 is out of the window now, 101 still in


def test_the_window_state_stays_width_bits():
    w = ReplayWindow()
    for pn in range(0, 400, 3):
        w.mark(pn)
        w.mark(pn - 64)                           # exactly out of the window: must set nothing
    assert w._bits.bit_length() <= 64


def test_a_far_jump_clears_the_window():
    w = ReplayWindow()
    for n in range(64):
        w.mark(n)
    w.mark(10_000)
    assert all(w.check(n) for n in range(10_000 - 63, 10_000)) and not w.check(10_000)
    assert not w.check(63) and not w.check(10_000 - 64)


def test_marking_an_out_of_window_number_changes_nothing():
    w = ReplayWindow()
    w.mark(200)
    w.mark(100)
    assert w.highest == 200 and w.check(199) and w.check(137)


def test_replays_raise_replayed_and_forgeries_do_not_poison_the_window():
    tx, rx = pair()
    sealed = [tx.seal(pn, HEADER, b"%d" % pn) for pn in range(10)]
    assert rx.open(0, 0, HEADER, sealed[0]) == b"0"
    with pytest.raises(ReplayedPacket):
        rx.open(0, 0, HEADER, sealed[0])
    for pn in (5, 1000, MAX_PN):                  # forged: no key, any number
        with pytest.raises(DecryptError) as caught:
            rx.open(pn, 0, HEADER, bytes(40))
        assert type(caught.value) is DecryptError
    assert rx.window.highest == 0
    assert [rx.open(pn, 0, HEADER, sealed[pn]) for pn in (5, 1, 9)] == [b"5", b"1", b"9"]
    assert (rx.opened, rx.failed, rx.replayed) == (4, 3, 1)


def test_receiver_refuses_a_packet_behind_the_window():
    tx, rx = pair(window=64)
    sealed = [tx.seal(pn, HEADER, PLAIN) for pn in range(66)]
    rx.open(65, 0, HEADER, sealed[65])
    assert rx.open(2, 0, HEADER, sealed[2]) == PLAIN        # 63 behind
    with pytest.raises(ReplayedPacket):
        rx.open(1, 0, HEADER, sealed[1])                     # 64 behind


@pytest.mark.parametrize("phase", [-1, 2, 255])
def test_receiver_refuses_a_phase_that_is_not_a_bit(phase):
    tx, rx = pair()
    with pytest.raises(DecryptError):
        rx.open(0, phase, HEADER, tx.seal(0, HEADER, PLAIN))


# --- key update ------------------------------------------------------------

def test_key_update_constants():
    assert KEY_UPDATE_AFTER == 2**20 and OVERLAP_PACKETS == 64


def hdr(pn, phase):
    return HEADER + bytes([phase]) + pn.to_bytes(4, "big")


@pytest.mark.parametrize("limit", [1, 2, 5])
def test_sender_updates_at_exactly_the_limit(limit):
    k = keys()
    tx = k.sender(Side.CLIENT, update_after=limit)
    old, new = PacketKey.from_secret(k.c2s), PacketKey.from_secret(next_secret(k.c2s))
    for pn in range(limit):
        assert tx.phase == 0 and tx.generation == 0
        assert old.open(pn, hdr(pn, 0), tx.seal(pn, hdr(pn, 0), PLAIN)) == PLAIN
    assert tx.phase == 1 and tx.generation == 1
    assert new.open(limit, hdr(limit, 1), tx.seal(limit, hdr(limit, 1), PLAIN)) == PLAIN
    for pn in range(limit + 1, 2 * limit):
        assert tx.phase == 1
        tx.seal(pn, hdr(pn, 1), PLAIN)
    assert tx.phase == 0 and tx.generation == 2


def test_sender_update_after_must_be_positive():
    with pytest.raises(ValueError):
        keys().sender(Side.CLIENT, update_after=0)
    with pytest.raises(ValueError):
        keys().receiver(Side.SERVER, overlap=-1)


def run(limit, overlap, count):
    """A sender updating every ``limit`` packets, its packets sealed (not yet delivered)."""
    tx, rx = pair(update_after=limit, overlap=overlap)
    packets = {}
    for pn in range(count):
        packets[pn] = (tx.phase, hdr(pn, tx.phase), tx.seal(pn, hdr(pn, tx.phase), b"%d" % pn))
    return rx, packets


def deliver(rx, packets, pn):
    phase, header, sealed = packets[pn]
    return rx.open(pn, phase, header, sealed)


def test_receiver_follows_updates_in_order():
    rx, packets = run(limit=3, overlap=2, count=20)
    assert [deliver(rx, packets, pn) for pn in range(20)] == [b"%d" % pn for pn in range(20)]
    assert rx.generation == 6


@pytest.mark.parametrize("overlap", [1, 2, 3])
def test_old_phase_late_packets_open_within_the_overlap_only(overlap):
    rx, packets = run(limit=10, overlap=overlap, count=20)
    for pn in range(8):
        deliver(rx, packets, pn)
    deliver(rx, packets, 10)                       # first of the new phase: 8 and 9 held back
    assert rx.generation == 1
    for pn in range(11, 11 + overlap - 1):         # all but the last packet of the overlap
        deliver(rx, packets, pn)
    assert deliver(rx, packets, 8) == b"8"        # still within it
    deliver(rx, packets, 11 + overlap - 1)         # the overlap's last packet: the old key goes
    with pytest.raises(DecryptError):
        deliver(rx, packets, 9)
    assert rx.generation == 1


def test_a_phase_that_is_not_a_bit_never_reaches_the_old_key():
    rx, packets = run(limit=4, overlap=8, count=8)
    for pn in (0, 1, 2, 4):
        deliver(rx, packets, pn)
    _, header, sealed = packets[3]
    for phase in (2, -2):
        with pytest.raises(DecryptError):
            rx.open(3, phase, header, sealed)
    assert deliver(rx, packets, 3) == b"3"


def test_overlap_zero_drops_the_old_key_at_the_first_new_packet():
    rx, packets = run(limit=4, overlap=0, count=8)
    for pn in (0, 1, 2, 4):
        deliver(rx, packets, pn)
    with pytest.raises(DecryptError):
        deliver(rx, packets, 3)


def test_new_phase_packets_reordered_among_themselves():
    rx, packets = run(limit=4, overlap=8, count=12)
    for pn in (0, 1, 2, 5, 4, 3, 6, 7, 9, 8):
        assert deliver(rx, packets, pn) == b"%d" % pn
    assert rx.generation == 2


def test_a_forged_packet_of_the_other_phase_does_not_update_the_receiver():
    rx, packets = run(limit=100, overlap=8, count=3)
    deliver(rx, packets, 0)
    with pytest.raises(DecryptError):
        rx.open(1, 1, hdr(1, 1), bytes(30))
    assert rx.generation == 0 and deliver(rx, packets, 1) == b"1"
    with pytest.raises(DecryptError):              # the phase is authenticated too (it is in the header)
        rx.open(2, 1, packets[2][1], packets[2][2])


# --- resumption ------------------------------------------------------------

def test_resume_proof_verifies_and_binds_session_nonce_and_keys():
    k = keys()
    proof = k.resume_proof(b"i" * 8, b"n" * 24)
    expected = hmac.new(k.resume_key, b"udpchat resume" + b"\x08" + b"i" * 8 + b"\x18" + b"n" * 24,
                        hashlib.sha256).digest()
    assert proof == expected and len(proof) == 32
    assert keys().verify_resume(b"i" * 8, b"n" * 24, proof)
    assert not k.verify_resume(b"j" * 8, b"n" * 24, proof)
    assert not k.verify_resume(b"i" * 8, b"m" * 24, proof)
    assert not keys(pake=bytes(32)).verify_resume(b"i" * 8, b"n" * 24, proof)
    assert not k.verify_resume(b"i" * 8, b"n" * 24, proof[:-1])
    assert not k.verify_resume(b"i" * 8, b"n" * 24, b"")
    assert not k.verify_resume(b"i" * 8, b"n" * 24, None)
    assert not k.verify_resume(b"i" * 8, b"n" * 256, proof)
    assert not k.verify_resume(b"i" * 256, b"n" * 24, proof)


# --- SPAKE2 for locked rooms -----------------------------------------------

def handshake(client_pw, server_pw, client_room="den", server_room="den", server_nonce=b"s" * 8):
    """Both sides of a locked-room handshake; (client's keys, server's keys)."""
    c_share, s_share = KeyShare(A_PRIV), KeyShare(B_PRIV)
    c_pake = RoomPake(Side.CLIENT, client_pw, client_room, b"c" * 8, b"s" * 8)
    s_pake = RoomPake(Side.SERVER, server_pw, server_room, b"c" * 8, server_nonce)
    assert len(c_pake.message) == len(s_pake.message) == PAKE_MESSAGE_LEN == 33
    c_key, s_key = c_pake.finish(s_pake.message), s_pake.finish(c_pake.message)
    return (SessionKeys.derive(c_share.shared(B_PUB), BINDING, c_key),
            SessionKeys.derive(s_share.shared(A_PUB), BINDING, s_key)), (c_key, s_key)


def test_same_passphrase_same_key_and_both_confirmations_verify():
    (ck, sk), (c_key, s_key) = handshake("correct horse", "correct horse")
    assert c_key == s_key and len(c_key) == 32
    assert ck.check_finished(Side.SERVER, sk.finished(Side.SERVER))
    assert sk.check_finished(Side.CLIENT, ck.finished(Side.CLIENT))
    sealed = ck.sender(Side.CLIENT).seal(0, HEADER, PLAIN)
    assert sk.receiver(Side.SERVER).open(0, 0, HEADER, sealed) == PLAIN


@pytest.mark.parametrize("kwargs", [dict(client_pw="correct horse", server_pw="correct hors"),
                                    dict(client_pw="pw", server_pw="pw", client_room="den", server_room="Den"),
                                    dict(client_pw="pw", server_pw="pw", server_nonce=b"t" * 8)])
def test_wrong_passphrase_room_or_handshake_fails_confirmation_on_both_sides(kwargs):
    (ck, sk), (c_key, s_key) = handshake(**kwargs)
    assert c_key != s_key
    assert not ck.check_finished(Side.SERVER, sk.finished(Side.SERVER))
    assert not sk.check_finished(Side.CLIENT, ck.finished(Side.CLIENT))


def test_passphrase_and_room_are_compared_after_nfc():
    (ck, sk), _ = handshake("caf\u00e9", "cafe\u0301", client_room="caf\u00e9", server_room="cafe\u0301")
    assert sk.check_finished(Side.CLIENT, ck.finished(Side.CLIENT))


def test_identities_bind_version_room_and_both_nonces():
    a, b = identities("den", b"c" * 8, b"s" * 8)
    assert a.startswith(b"udpchat client") and b.startswith(b"udpchat server")
    assert a[14:] == b[14:] == bytes([VERSION]) + b"\x03den\x08" + b"c" * 8 + b"\x08" + b"s" * 8
    assert identities("den", b"c" * 8, b"s" * 8, version=VERSION + 1)[0] != a


def test_pake_entropy_is_injectable():
    def fixed(n):
        return bytes([7]) * n

    m1 = RoomPake(Side.CLIENT, "pw", "den", b"c", b"s", entropy=fixed).message
    m2 = RoomPake(Side.CLIENT, "pw", "den", b"c", b"s", entropy=fixed).message
    m3 = RoomPake(Side.CLIENT, "pw", "den", b"c", b"s").message
    assert m1 == m2 != m3 and m1[:1] == b"A"


@pytest.mark.parametrize("message", [b"", b"B" + bytes(31), b"B" + bytes(33), b"A" + bytes(32), b"X" + bytes(32),
                                     b"B" + b"\xff" * 32, b"B" + bytes(32)])
def test_unusable_pake_messages_are_handshake_errors(message):
    with pytest.raises(HandshakeError):
        RoomPake(Side.CLIENT, "pw", "den", b"c", b"s").finish(message)


def test_a_reflected_pake_message_is_refused():
    side = RoomPake(Side.CLIENT, "pw", "den", b"c", b"s")
    with pytest.raises(HandshakeError):
        side.finish(side.message)
    server = RoomPake(Side.SERVER, "pw", "den", b"c", b"s")
    with pytest.raises(HandshakeError):
        server.finish(b"A" + server.message[1:])


# --- nothing from the network raises anything else -------------------------

@settings(max_examples=300, deadline=None)
@given(pn=st.integers(min_value=-2**40, max_value=2**40), phase=st.integers(-3, 3),
       header=st.binary(max_size=64), data=st.binary(max_size=200))
def test_open_of_random_bytes_raises_only_decrypt_error(pn, phase, header, data):
    key = PacketKey(*traffic_keys(keys().c2s))
    with pytest.raises(DecryptError):
        key.open(pn, header, data)
    with pytest.raises(DecryptError):
        keys().receiver(Side.SERVER).open(pn, phase, header, data)


@settings(max_examples=40, deadline=None)
@given(message=st.binary(min_size=0, max_size=40))
def test_pake_finish_of_random_bytes_raises_only_handshake_error(message):
    try:
        key = RoomPake(Side.SERVER, "pw", "den", b"c", b"s").finish(message)
    except HandshakeError:
        return
    assert len(key) == 32


@settings(max_examples=100, deadline=None)
@given(peer=st.binary(min_size=0, max_size=40))
def test_shared_of_random_bytes_raises_only_handshake_error(peer):
    try:
        secret = KeyShare(A_PRIV).shared(peer)
    except HandshakeError:
        return
    assert len(secret) == 32 and any(secret)


def test_the_vector_in_docs_protocol_md():
    """docs/protocol.md lists these for other implementations; they must stay true."""
    k = keys()
    doc = (Path(__file__).resolve().parent.parent / "docs" / "protocol.md").read_text(encoding="utf-8")
    key, iv = traffic_keys(k.c2s)
    sealed = k.sender(Side.CLIENT).seal(7, HEADER, PLAIN)
    assert HEADER.hex() == "ff5543030c0000000007"
    for value in (k.c2s, k.s2c, k.resume_key, k.finished(Side.CLIENT), k.finished(Side.SERVER), key, iv,
                  next_secret(k.c2s), sealed):
        assert value.hex() in doc


# --- edges the mutation run showed untested ----------------------------------

@pytest.mark.parametrize("peer", [None, "x" * 32, bytearray(A_PUB), 7])
def test_shared_refuses_a_peer_key_that_is_not_bytes(peer):
    with pytest.raises(HandshakeError):
        KeyShare(A_PRIV).shared(peer)


@pytest.mark.parametrize("message", [None, "B" * 33, 33])
def test_pake_finish_refuses_a_message_that_is_not_bytes(message):
    with pytest.raises(HandshakeError):
        RoomPake(Side.CLIENT, "pw", "den", b"c", b"s").finish(message)


@pytest.mark.parametrize("pn", [None, "7", 7.5])
def test_packet_key_open_refuses_a_packet_number_that_is_not_an_int(pn):
    key = PacketKey(*traffic_keys(keys().c2s))
    with pytest.raises(DecryptError):
        key.open(pn, HEADER, bytes(32))


def test_receiver_counts_every_refusal_once_and_by_kind():
    tx, rx = pair()
    sealed = tx.seal(0, HEADER, PLAIN)
    for pn, phase in ((-1, 0), (MAX_PN + 1, 0), (None, 0), ("0", 0), (0, 2)):
        with pytest.raises(DecryptError) as caught:
            rx.open(pn, phase, HEADER, sealed)
        assert type(caught.value) is DecryptError           # out of range, not a replay
    assert (rx.opened, rx.failed, rx.replayed) == (0, 5, 0)
    assert rx.open(0, 0, HEADER, sealed) == PLAIN
    for _ in range(3):
        with pytest.raises(ReplayedPacket):
            rx.open(0, 0, HEADER, sealed)
    assert (rx.opened, rx.failed, rx.replayed) == (1, 5, 3)
    assert rx.window.highest == 0


def test_late_old_phase_packets_do_not_use_up_the_overlap():
    rx, packets = run(limit=10, overlap=2, count=20)
    for pn in range(5):
        deliver(rx, packets, pn)
    deliver(rx, packets, 10)                       # the new phase starts; 5..9 are late
    assert [deliver(rx, packets, pn) for pn in range(5, 10)] == [b"%d" % pn for pn in range(5, 10)]
    assert rx.generation == 1
    deliver(rx, packets, 11)                       # only new-phase packets count: one left
    deliver(rx, packets, 12)                       # the second: the old key is dropped
    assert rx.generation == 1 and rx.opened == 13


def test_old_key_dropped_then_a_further_update_is_followed():
    rx, packets = run(limit=4, overlap=1, count=16)
    for pn in (0, 1, 2, 4):                        # 3 is late; the overlap ends at the first new packet
        deliver(rx, packets, pn)
    deliver(rx, packets, 5)
    with pytest.raises(DecryptError):
        deliver(rx, packets, 3)
    for pn in range(6, 16):
        assert deliver(rx, packets, pn) == b"%d" % pn
    assert rx.generation == 3


def test_marking_an_older_number_keeps_the_others():
    w = ReplayWindow()
    w.mark(10)
    w.mark(8)
    w.mark(5)
    assert not w.check(10) and not w.check(8) and not w.check(5)
    assert w.check(9) and w.check(7) and w.check(6) and w.check(11)
    w.mark(9)
    assert [w.check(n) for n in range(4, 12)] == [True, False, True, True, False, False, False, True]


@pytest.mark.parametrize("width", [64, 65, 100])
def test_consecutive_marks_keep_the_state_width_bits(width):
    w = ReplayWindow(width)
    for pn in range(3 * width):
        w.mark(pn)
        assert w._bits.bit_length() <= width
    assert w._bits == (1 << width) - 1
    assert not w.check(3 * width - width) and not w.check(3 * width - 1) and w.check(3 * width)


def test_derive_without_a_pake_key_is_the_open_room_schedule():
    assert outputs(SessionKeys.derive(K_AB, BINDING)) == outputs(keys(pake=b""))
    assert outputs(SessionKeys.derive(K_AB, BINDING)) != outputs(keys(pake=bytes(32)))


@pytest.mark.parametrize("sid_len,nonce_len", [(255, 24), (8, 255), (255, 255), (0, 0)])
def test_resume_proof_fields_up_to_255_bytes(sid_len, nonce_len):
    k = keys()
    sid, nonce = b"i" * sid_len, b"n" * nonce_len
    proof = k.resume_proof(sid, nonce)
    expected = hmac.new(k.resume_key, b"udpchat resume" + bytes([sid_len]) + sid + bytes([nonce_len]) + nonce,
                        hashlib.sha256).digest()
    assert proof == expected and k.verify_resume(sid, nonce, proof)
    with pytest.raises(ValueError):
        k.resume_proof(b"i" * 256, nonce)


def test_bound_fields_of_255_bytes_are_allowed_and_256_are_not():
    long = dataclasses.replace(BINDING, session_id=b"i" * 255)
    assert long.salt(False).endswith(b"\xff" + b"i" * 255)
    assert keys(binding=long).c2s != keys().c2s
    with pytest.raises(ValueError):
        keys(binding=dataclasses.replace(BINDING, session_id=b"i" * 256))
    a, b = identities("den", b"c" * 255, b"s" * 8)
    assert a[14:] == b[14:] == bytes([VERSION]) + b"\x03den\xff" + b"c" * 255 + b"\x08" + b"s" * 8
    assert identities("r" * 255, b"c", b"s")[0] == b"udpchat client" + bytes([VERSION]) + b"\xff" + b"r" * 255 \
        + b"\x01c\x01s"
    for args in (("den", b"c" * 256, b"s"), ("den", b"c", b"s" * 256), ("r" * 256, b"c", b"s")):
        with pytest.raises(ValueError):
            identities(*args)


def test_room_pake_is_plain_spake2_with_both_identities():
    """Another implementation must get the same key from spake2 given idA and idB as documented."""
    import spake2

    id_a, id_b = identities("den", b"c" * 8, b"s" * 8)
    client = RoomPake(Side.CLIENT, "pw", "den", b"c" * 8, b"s" * 8)
    plain_b = spake2.SPAKE2_B(b"pw", idA=id_a, idB=id_b)
    b_message = plain_b.start()
    assert client.finish(b_message) == plain_b.finish(client.message)
    server = RoomPake(Side.SERVER, "pw", "den", b"c" * 8, b"s" * 8)
    plain_a = spake2.SPAKE2_A(b"pw", idA=id_a, idB=id_b)
    a_message = plain_a.start()
    assert server.finish(a_message) == plain_a.finish(server.message)
