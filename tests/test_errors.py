"""Typed errors carry data (what chatfront words), and compare by it."""
from __future__ import annotations

import pytest

from udpcore import errors as e

pytestmark = pytest.mark.timeout(10)


def test_errors_compare_and_hash_by_class_and_fields():
    assert e.NameTaken("bob") == e.NameTaken("bob") and hash(e.NameTaken("bob")) == hash(e.NameTaken("bob"))
    assert e.NameTaken("bob") != e.NameTaken("rob") and e.NameTaken("bob") != e.NoSuchMember("bob")
    assert len({e.NameTaken("bob"), e.NameTaken("bob"), e.NoSuchMember("bob"), e.NameTaken("rob")}) == 3
    assert hash(e.PortBusyError(5, True)) == hash(e.PortBusyError(5, True))
    assert hash(e.PortBusyError(5, True)) != hash(e.PortBusyError(5, False))
    assert hash(e.InvalidName("a", e.NameProblem.BLANK)) != hash(e.NoSuchMember("a"))
    assert e.NotInRoom() == e.NotInRoom() and e.NotInRoom() != e.BacklogFull()
    assert hash(e.NameTaken("bob")) != hash(e.NoSuchMember("bob"))     # the class is part of the hash


# Built inside the test (not at collection), so mutation testing sees which test builds which error.
@pytest.mark.parametrize("make,fields", [
    (lambda: e.InvalidName("a b", e.NameProblem.BAD_CHARACTER), {"name": "a b", "problem": e.NameProblem.BAD_CHARACTER}),
    (lambda: e.NameTaken("bob"), {"name": "bob"}),
    (lambda: e.NoSuchMember("eve"), {"name": "eve"}),
    (lambda: e.LineTooLong(9000, 8192), {"size": 9000, "limit": 8192, "chars": 0}),
    (lambda: e.LineTooLong(9359, 8192, 8000), {"size": 9359, "limit": 8192, "chars": 8000}),
    (lambda: e.VersionMismatch("2"), {"detail": "2"}),
    (lambda: e.VersionMismatch(), {"detail": ""}),
    (lambda: e.RefusedByServer("no"), {"reason": "no"}),
    (lambda: e.AddressError("x:y", e.AddressProblem.BAD_PORT), {"text": "x:y", "problem": e.AddressProblem.BAD_PORT}),
    (lambda: e.UnknownHost("nowhere"), {"host": "nowhere"}),
    (lambda: e.PortBusyError(5002, True), {"port": 5002, "forbidden": True, "last": None}),
    (lambda: e.PortBusyError(5002), {"port": 5002, "forbidden": False, "last": None}),
    (lambda: e.PortBusyError(5002, last=5011), {"port": 5002, "forbidden": False, "last": 5011}),
    (lambda: e.NotLocalAddress("1.2.3.4"), {"host": "1.2.3.4"}),
    (lambda: e.SocketError("boom", 7), {"detail": "boom", "port": 7}),
    (lambda: e.SocketError("boom"), {"detail": "boom", "port": None}),
])
def test_each_error_carries_its_fields(make, fields):
    err = make()
    assert err.__dict__ == fields
    assert isinstance(err, e.ChatError) and not isinstance(err, e.ProtocolError)


def test_a_version_error_is_a_protocol_error_carrying_the_version():
    err = e.VersionError(7)
    assert isinstance(err, e.ProtocolError) and err.version == 7
