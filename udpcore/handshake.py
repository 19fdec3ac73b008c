"""The server's side of joining: who gets a CHALLENGE, who is let in, who is refused.

A pure decision: :meth:`Gate.judge` looks at a HELLO and the roster and says
what to do; the engine does it. No state is kept for an address until it has
echoed a fresh token (stateless, like QUIC Retry and DTLS cookies), and before
that nothing is sent that is larger than ``AMPLIFICATION`` times what it sent.
A token admits once: a HELLO replayed within the token's life cannot bring back
a member who left (it gets a fresh CHALLENGE, which goes to the address the
token was made for). A session is resumed only with a proof made with its keys
(:func:`udpcore.keying.client_resume_proof`), never with its id. The room's caps and the operator's bans are checked here.
"""
from __future__ import annotations

from enum import Enum
from typing import NamedTuple

from .keying import resume_nonce
from .limits import Limits
from .moderation import Moderation
from .names import name_problem
from .roster import Addr, Member, Roster
from .tokens import TOKEN_LIFETIME, TokenMinter
from .wire import HELLO_FIRST_RETRY, HELLO_MIN_SIZE, Hello, RefuseCode

AMPLIFICATION = 3        # RFC 9000 8.1: at most 3x the bytes received before validation


class Step(Enum):
    DROP = "drop"                # too short to answer within the amplification budget
    CHALLENGE = "challenge"      # no valid token yet: send one (stateless)
    RESUME = "resume"            # a known session comes back (maybe from a new address)
    REWELCOME = "rewelcome"      # our WELCOME was lost: send it again
    REFUSE = "refuse"            # the name is invalid or taken, banned, or the room is full
    ADMIT = "admit"              # a new member


class Verdict(NamedTuple):
    step: Step
    member: Member | None = None         # RESUME, REWELCOME: who; ADMIT, REFUSE: who to replace first
    refuse: RefuseCode | None = None
    rtt: float | None = None             # ADMIT: the CHALLENGE -> HELLO round trip, when unambiguous


class Gate:
    def __init__(self, key: bytes, limits: Limits, moderation: Moderation) -> None:
        self.tokens = TokenMinter(key)
        self.limits = limits
        self.moderation = moderation
        self._spent: dict[bytes, float] = {}        # tokens that admitted someone -> when they expire

    def spend(self, token: bytes, now: float) -> None:
        """``token`` admitted (or resumed) a member: it admits no one again."""
        self._spent[token] = now + TOKEN_LIFETIME

    def forget_spent(self, now: float) -> None:
        """Drop the tokens too old to be accepted anyway."""
        for token in [t for t, until in self._spent.items() if now > until]:
            del self._spent[token]

    def judge(self, h: Hello, addr: Addr, now: float, size: int, roster: Roster) -> Verdict:
        if size < HELLO_MIN_SIZE:        # clients pad HELLO (as QUIC pads Initial): answers stay smaller
            return Verdict(Step.DROP)
        if not self.tokens.check(h.token, addr, now):
            return Verdict(Step.CHALLENGE)
        # The address is validated from here on.
        existing = roster.at(addr)
        if existing is not None and existing.peer is not None and existing.nonce == h.nonce:
            return Verdict(Step.REWELCOME, existing)
        if h.token in self._spent:       # a replay, or a client that lost its WELCOME and left since
            return Verdict(Step.CHALLENGE)
        if h.resume:                     # a proof that the sender holds that member's session keys
            mem = roster.named(h.name)
            peer = mem.peer if mem is not None else None
            if peer is not None and peer.seal is not None and peer.seal.keys.verify_resume(
                    peer.session, resume_nonce(h.nonce, h.token), h.resume):
                return Verdict(Step.RESUME, mem)
        # Anyone else at this address is a previous program (or a guest) on the same port.
        if name_problem(h.name) is not None:
            return Verdict(Step.REFUSE, existing, RefuseCode.NAME_INVALID)
        if self.moderation.banned(h.name, addr[0]):
            return Verdict(Step.REFUSE, existing, RefuseCode.BANNED)
        holder = roster.named(h.name)
        if holder is not None and holder is not existing:
            return Verdict(Step.REFUSE, existing, RefuseCode.NAME_TAKEN)
        replaced = existing is not None and existing.peer is not None     # its place is freed first
        if len(roster.by_sid) - replaced >= self.limits.max_members:
            return Verdict(Step.REFUSE, existing, RefuseCode.FULL)
        if roster.per_host[addr[0]] - replaced >= self.limits.max_per_address:
            return Verdict(Step.REFUSE, existing, RefuseCode.HOST_FULL)
        rtt = self.tokens.age(h.token, now)
        # The client answers a CHALLENGE at once and never retries sooner than
        # HELLO_FIRST_RETRY, so a shorter age is one clean round trip.
        return Verdict(Step.ADMIT, existing, rtt=rtt if rtt < HELLO_FIRST_RETRY else None)


def within_budget(reply_size: int, received: int) -> bool:
    """May an unvalidated address be sent ``reply_size`` bytes for ``received``?"""
    return reply_size <= AMPLIFICATION * received
