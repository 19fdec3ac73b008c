"""A guest storm from 400 loopback addresses against a real server (real sockets,
the default limits): what reaches members' screens stays within the guests'
caps, and members' own lines keep arriving promptly. All of 127.0.0.0/8 routes to
loopback on Linux; each storm socket binds its own 127.1.x.y address.
"""
from __future__ import annotations

import socket
import sys
import threading
import time

import pytest

from udpcore import events as ev
from udpnet import start_client, start_server
from tests.eventlog import Log, wait_until
from tests.typing_ import typed

pytestmark = [pytest.mark.timeout(60),
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="127.0.0.0/8 beyond .1 is Linux's")]

ADDRESSES = 400
STORM_SECONDS = 3.0


class Storm(threading.Thread):
    """Plain-text datagrams (64 KB of lines, and single lines) from ADDRESSES addresses."""

    def __init__(self, target: tuple[str, int]) -> None:
        super().__init__(name="guest-storm", daemon=True)
        self.target = target
        self.socks = []
        for i in range(ADDRESSES):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((f"127.1.{i // 200}.{i % 200 + 1}", 0))
            s.setblocking(False)
            self.socks.append(s)
        self.sent = 0

    def run(self) -> None:
        big, small = b"junk line\n" * 6000, b"hello everyone, junk here"
        end = time.monotonic() + STORM_SECONDS
        i = 0
        while time.monotonic() < end:
            s = self.socks[i % len(self.socks)]
            try:
                s.sendto(big if i % 10 == 0 else small, self.target)
                self.sent += 1
            except (BlockingIOError, OSError):
                time.sleep(0.0005)
            i += 1

    def close(self) -> None:
        for s in self.socks:
            s.close()


def test_a_guest_storm_from_400_addresses_stays_within_the_guest_caps_and_members_keep_talking():
    srv = start_server("127.0.0.1", 0, stats=False)
    port = srv.address[1]
    alice = start_client(f"127.0.0.1:{port}", "alice")
    bob = start_client(f"127.0.0.1:{port}", "bob")
    logs = {"server": Log(srv.events), "alice": Log(alice.events), "bob": Log(bob.events)}
    storm = Storm(srv.address)
    try:
        wait_until(logs.values(), lambda: logs["alice"].of(ev.Connected) and logs["bob"].of(ev.Connected), 10,
                   "both to join")
        started = time.monotonic()
        storm.start()
        said = []
        while storm.is_alive():
            said.append(f"line {len(said)}")
            typed(alice, said[-1])          # 4 lines a second: within a member's rate
            for log in logs.values():
                log.pump()
            time.sleep(0.25)
        lasted = time.monotonic() - started
        wait_until(logs.values(), lambda: [e.text for e in logs["bob"].of(ev.RoomLine) if e.sender == "alice"]
                   == said, 10, "bob to get every line alice said during the storm")
        assert storm.sent > 5000, storm.sent
        guest_lines = [e for e in logs["bob"].of(ev.RoomLine) if e.sender.startswith("guest-")]
        guests = {e.name for e in logs["server"].of(ev.MemberJoined) if e.guest}
        # The room's guest bucket: a burst of 5, then 5 lines a second.
        assert len(guest_lines) <= 5 + 5 * (lasted + 1), len(guest_lines)
        assert all(len(e.text) <= 500 for e in guest_lines)
        assert len(guests) <= 16
        assert not [e for e in logs["bob"].of(ev.MemberLeft) if e.name in ("alice", "bob")]
    finally:
        storm.join(STORM_SECONDS + 2)
        storm.close()
        for c in (alice, bob):
            c.close(timeout=1.0)
        srv.close(timeout=1.0)
