"""Looking inside SEALED datagrams in tests, and scripted servers that speak the sealed protocol.

``peek`` decrypts with a session's keys without touching its replay window,
so a test can read what an engine sent and still deliver it. ``ScriptKeys``
is the server's half of a handshake for hand-written servers in tests: they
answer a HELLO with a real WELCOME and then seal and open like the engine.
"""
from __future__ import annotations

from udpcore import wire
from udpcore.frames import Frames, decode_session
from udpcore.keying import server_handshake
from udpcore.protection import PacketKey, SessionKeys, Side
from udpcore.sealing import SEALED_PREFIX, Seal, is_sealed

__all__ = ["peek", "peek_data", "as_data", "peek_inner", "keys_of", "ScriptKeys", "is_sealed", "SEALED_PREFIX"]


def keys_of(engine_or_peer) -> SessionKeys:
    """The session keys of a ClientEngine, a Peer or a server Member."""
    peer = getattr(engine_or_peer, "_peer", None) or getattr(engine_or_peer, "peer", None) or engine_or_peer
    return peer.seal.keys


def peek_inner(keys: SessionKeys, data: bytes, *, to: Side) -> bytes:
    """The plaintext of a SEALED datagram going to ``to`` (generation 0 keys; no replay check)."""
    assert is_sealed(data), data[:8]
    key = PacketKey.from_secret(keys.s2c if to is Side.CLIENT else keys.c2s)
    return key.open(int.from_bytes(data[6:10], "big"), data[:10], data[10:])


def peek(keys: SessionKeys, data: bytes, *, to: Side = Side.CLIENT) -> wire.Packet | Frames:
    """The packet inside a SEALED datagram (or, for one in clear, the packet itself)."""
    if not is_sealed(data):
        return wire.decode(data)
    return decode_session(peek_inner(keys, data, to=to))


def as_data(p) -> list:
    """A FRAMES as the DATA packets its frames would each have been (same ack fields and
    timestamp); any other packet as itself, alone."""
    if isinstance(p, Frames):
        return [wire.Data(p.session, seq, p.ack, p.sack, flags, p.ts, p.echo, payload)
                for seq, flags, payload in p.frames]
    return [p]


def peek_data(keys: SessionKeys, data: bytes, *, to: Side = Side.CLIENT) -> list:
    """:func:`peek`, FRAMES unbundled into DATA (:func:`as_data`)."""
    return as_data(peek(keys, data, to=to))


class ScriptKeys:
    """The server's side of one handshake, for a scripted server in a test."""

    def __init__(self, hello: wire.Hello, session: bytes, passphrase: str = "", room: str = "") -> None:
        sk = server_handshake(hello.public, hello.pake, passphrase, room, hello.nonce, hello.token, session)
        self.welcome = wire.encode(wire.Welcome(hello.nonce, session, hello.name, False, sk.public, sk.pake,
                                                sk.confirm))
        self.seal = Seal(sk.keys, Side.SERVER)
