"""Every cap and rate the server enforces, with the defaults and why.

A classroom will try to knock the room over for fun; whatever a datagram, a
name or a line can make the server hold or relay is bounded here. Each field
is a server option (``--help`` lists them).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    # Members
    max_members: int = 500          # members (guests apart, below); a LAN room rarely passes 150
    max_per_address: int = 32       # members from one IP: a class behind one NAT still fits
    line_rate: float = 5.0          # lines a second a member may keep up (typing is ~1)...
    line_burst: int = 20            # ...with this many at once (a pasted paragraph)
    # Guests: plain-text programs (nc -u, the course-work client); no handshake, so
    # their source address may be forged: they get much less.
    max_guests: int = 16
    guest_line_chars: int = 500     # longer guest lines are cut to this many characters
    guest_rate: float = 1.0         # lines a second per guest address...
    guest_burst: int = 3            # ...with this many at once
    guests_rate: float = 5.0        # guest lines a second for the whole room, all guests together
    # Notices
    named_joins: int = 5            # joins and leaves named one by one each second; beyond,
                                    # the room is told a count ("12 people joined")
    # Discovery: a DISCOVER's source may be forged, so HEREs are few (and never larger).
    discover_rate: float = 4.0      # answers a second to one IP address (a client probes ~2 a second)...
    discover_burst: int = 8         # ...with this many at once (its first two rounds)
    discovers_rate: float = 100.0   # answers a second to everyone together: at most ~19 kB/s of HERE
    discover_hosts: int = 1024      # addresses whose rate is tracked at once; beyond, no answer
    # Handshakes: each validated HELLO costs a key agreement (~0.3 ms), in a locked
    # room also a SPAKE2 (~9 ms, pure Python): few enough that members never wait.
    handshake_rate: float = 50.0    # key agreements a second for everyone together...
    handshake_burst: int = 3        # ...with this many at once (~0.8 ms of work back to back)
    locked_handshake_rate: float = 8.0  # of those, SPAKE2 runs a second (~7 % of a core)
    max_pending: int = 256          # handshakes waiting for the client's first sealed packet
    guess_burst: int = 5            # unconfirmed passphrase attempts from one IP address...
    guess_rate: float = 0.1         # ...then one every 10 s (a confirmed join gives its attempt back)
    # History: each FETCH reads up to a page (500 lines, 60 kB) from the disk (~1 ms).
    fetch_rate: float = 10.0        # pages a second one member may ask for (a catch-up of
    fetch_burst: int = 40           # 10,000 lines is 20 pages)...
    fetches_rate: float = 200.0     # ...and the whole room together: a restart's 150 returning
    fetches_burst: int = 400        # members each catch up at once, a flood costs <= 20 % of a core

    def __post_init__(self) -> None:
        for name in ("max_members", "max_per_address", "line_burst", "max_guests", "guest_line_chars",
                     "guest_burst", "discover_burst", "discover_hosts", "handshake_burst", "max_pending",
                     "guess_burst", "fetch_burst", "fetches_burst"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        for name in ("line_rate", "guest_rate", "guests_rate", "discover_rate", "discovers_rate", "handshake_rate",
                     "locked_handshake_rate", "guess_rate", "fetch_rate", "fetches_rate"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be more than 0")
        if self.named_joins < 0:
            raise ValueError("named_joins must not be negative")
