"""The door for guests: plain-text datagrams from programs that do not speak the
protocol (``nc -u``, the course-work client).

A guest has no handshake, so its source address may be forged and a datagram
costs an attacker nothing. Every cap here holds whatever a storm sends: at most
``max_guests`` guests at once, one line per datagram of at most
``guest_line_chars`` characters, a token bucket per guest and one for all
guests' lines together. A datagram over a cap is dropped after a dictionary
lookup and a bucket check, before it is decoded, so members never wait behind
a storm; it is counted, and the guest is not told (telling it would be traffic
towards an address that may be forged).
"""
from __future__ import annotations

from collections import Counter

from . import guests
from .addresses import format_addr
from .handshake import AMPLIFICATION
from .limits import Limits
from .moderation import Moderation
from .names import GUEST_PREFIX
from .ratelimit import TokenBucket
from .room import Room
from .roster import Addr, Member, Roster

MAX_CREDIT = AMPLIFICATION * 65_535    # what a guest may be owed at most (bytes we may send it)


class GuestDoor:
    def __init__(self, limits: Limits, now: float, roster: Roster, room: Room, moderation: Moderation,
                 counters: Counter[str]) -> None:
        self.limits = limits
        self.roster = roster
        self.room = room
        self.moderation = moderation
        self.counters = counters
        self.all_guests = TokenBucket(limits.guests_rate, max(limits.guests_rate, limits.guest_burst), now)

    def datagram(self, data: bytes, addr: Addr, now: float) -> None:
        """One plain-text datagram: at most one line for the room."""
        counters = self.counters
        if self.moderation.host_banned(addr[0]):
            counters["guest_banned"] += 1
            return
        mem = self.roster.by_addr.get(addr)
        if mem is not None and mem.peer is not None:
            counters["malformed"] += 1            # a member speaking plain text
            return
        if mem is None and self.roster.guests >= self.limits.max_guests:
            counters["guests_full"] += 1
            return
        bucket = mem.bucket if mem is not None else None
        if bucket is None:
            bucket = TokenBucket(self.limits.guest_rate, self.limits.guest_burst, now)
        if bucket.take(now) or self.all_guests.take(now):
            counters["guest_rate_limited"] += 1
            return
        line = guests.line_in(data, self.limits.guest_line_chars)
        if line is None:
            counters["malformed"] += 1            # not UTF-8
            return
        if mem is None:
            if not line or guests.is_quit(line):
                return
            mem = Member(f"{GUEST_PREFIX}{format_addr(addr)}", addr, None, now, bucket=bucket)
            self.room.join(mem)
        mem.heard(now)
        mem.credit = min(MAX_CREDIT, mem.credit + AMPLIFICATION * len(data))
        self.room.guest_said(mem, line)
