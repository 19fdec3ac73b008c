"""Who is in the room: members and guests, found by session, by name and by address.

The three indexes change together only here, so a member is never half-added,
half-renamed or half-moved.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from .names import name_key
from .peer import Peer
from .ratelimit import TokenBucket

Addr = tuple[str, int]


class Member:
    """One person in the room: a member with a :class:`Peer` (its reliable
    session), or a guest (plain text, no peer). A member's ``last_heard`` is its
    peer's, so the two can never drift apart."""

    __slots__ = ("name", "addr", "peer", "nonce", "credit", "timer_at", "bucket", "fetches", "origin", "_heard")

    def __init__(self, name: str, addr: Addr, peer: Peer | None, now: float, nonce: bytes = b"",
                 bucket: TokenBucket | None = None) -> None:
        self.name = name
        self.addr = addr
        self.peer = peer
        self.nonce = nonce            # of the HELLO that made (or resumed) this session
        self.credit = 0               # guests: bytes we may still send (anti-amplification)
        self.timer_at: float | None = None
        self.bucket = bucket          # its line rate (None: unlimited, the operator's tests)
        self.fetches: TokenBucket | None = None   # its rate of history pages (members only)
        self.origin = b""             # its program's id (pastmsg.Origin), once it said it
        self._heard = now

    @property
    def guest(self) -> bool:
        return self.peer is None

    @property
    def last_heard(self) -> float:
        return self._heard if self.peer is None else self.peer.last_heard

    def heard(self, now: float) -> None:
        if self.peer is None:
            self._heard = now
        else:
            self.peer.last_heard = now


class Roster:
    def __init__(self) -> None:
        self.by_sid: dict[bytes, Member] = {}
        self.by_key: dict[str, Member] = {}
        self.by_addr: dict[Addr, Member] = {}
        self.per_host: Counter[str] = Counter()    # members (not guests) by IP address
        self.guests = 0
        # Changes whenever an address comes or goes (add, remove, move): the transport
        # follows the members' addresses (a socket of its own for each) without a diff a turn.
        self.version = 0

    def __len__(self) -> int:
        return len(self.by_addr)

    def __iter__(self) -> Iterator[Member]:
        """Everyone, in join order (a copy: callers may remove as they go)."""
        return iter(list(self.by_addr.values()))

    def sessions(self) -> Iterator[Member]:
        return iter(self.by_sid.values())

    def names(self) -> list[str]:
        return [x.name for x in self.by_key.values()]

    def named(self, name: str) -> Member | None:
        return self.by_key.get(name_key(name))

    def at(self, addr: Addr) -> Member | None:
        return self.by_addr.get(addr)

    def session(self, sid: bytes) -> Member | None:
        return self.by_sid.get(sid)

    def present(self, mem: Member) -> bool:
        """Still in the room (not removed, not replaced at its address)."""
        return self.by_addr.get(mem.addr) is mem

    def add(self, mem: Member) -> None:
        self.version += 1
        self.by_addr[mem.addr] = mem
        self.by_key[name_key(mem.name)] = mem
        if mem.peer is not None:
            self.by_sid[mem.peer.session] = mem
            self.per_host[mem.addr[0]] += 1
        else:
            self.guests += 1

    def remove(self, mem: Member) -> bool:
        """Take ``mem`` out; False when it was already gone."""
        if not self.present(mem):
            return False
        self.version += 1
        del self.by_addr[mem.addr]
        self.by_key.pop(name_key(mem.name), None)
        if mem.peer is not None:
            self.by_sid.pop(mem.peer.session, None)
            self._uncount(mem.addr[0])
        else:
            self.guests -= 1
        return True

    def _uncount(self, host: str) -> None:
        n = self.per_host[host] - 1
        if n:
            self.per_host[host] = n
        else:
            del self.per_host[host]         # a storm of hosts leaves no trace

    def rename(self, mem: Member, new: str) -> None:
        del self.by_key[name_key(mem.name)]
        mem.name = new
        self.by_key[name_key(new)] = mem

    def move(self, mem: Member, addr: Addr) -> None:
        """``mem`` now speaks from ``addr`` (whoever was there must be removed first)."""
        self.version += 1
        self.by_addr.pop(mem.addr, None)
        if mem.peer is not None:
            self._uncount(mem.addr[0])
            self.per_host[addr[0]] += 1
        mem.addr = addr
        self.by_addr[addr] = mem
