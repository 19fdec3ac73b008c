"""udpcore/versions.py: REFUSE VERSION across protocol versions, at its edges.

Engine-level tests (test_server_engine.py, test_client_engine.py) show a client of
another version told in one sentence; these pin what counts as a foreign REFUSE."""
from __future__ import annotations

import pytest

from udpcore import wire
from udpcore.versions import foreign_refuse, refuse_version

pytestmark = pytest.mark.timeout(10)

NONCE = bytes(range(1, 9))
OTHER = wire.VERSION - 1


def refuse(version: int, code: int = wire.RefuseCode.VERSION, detail: bytes = b"9", magic: bytes = wire.MAGIC) -> bytes:
    return magic + bytes([version, wire.PacketType.REFUSE]) + NONCE + bytes([code]) + len(detail).to_bytes(2, "big") + detail


def test_a_refuse_version_of_another_version_is_read_and_nothing_else():
    assert foreign_refuse(refuse(OTHER)) == wire.Refuse(NONCE, wire.RefuseCode.VERSION, "9")
    assert foreign_refuse(refuse(wire.VERSION + 1)) is not None
    assert foreign_refuse(refuse(wire.VERSION)) is None                     # ours: wire.decode reads it
    assert foreign_refuse(refuse(OTHER, magic=b"\xffUD")) is None
    assert foreign_refuse(refuse(OTHER, code=wire.RefuseCode.FULL)) is None
    ping = bytearray(refuse(OTHER))
    ping[4] = wire.PacketType.PING
    assert foreign_refuse(bytes(ping)) is None
    assert foreign_refuse(wire.MAGIC + bytes([OTHER])) is None             # four bytes: no type
    assert foreign_refuse(refuse(OTHER)[:5]) is None
    assert foreign_refuse(refuse(OTHER)[:-1]) is None
    assert foreign_refuse(refuse(OTHER) + b"\0") is None


def test_the_detail_is_read_up_to_512_bytes():
    assert foreign_refuse(refuse(OTHER, detail=b"7" * 512)).reason == "7" * 512
    assert foreign_refuse(refuse(OTHER, detail=b"7" * 513)) is None


def test_the_answer_echoes_a_hellos_nonce_even_from_a_hello_of_just_its_nonce():
    hello = wire.MAGIC + bytes([OTHER, wire.PacketType.HELLO]) + NONCE
    answer = refuse_version(hello)
    assert answer[3] == OTHER and foreign_refuse(answer) == wire.Refuse(NONCE, wire.RefuseCode.VERSION,
                                                                         str(wire.VERSION))
    assert refuse_version(hello[:-1])[5:13] == bytes(8)                    # no whole nonce: zeros
