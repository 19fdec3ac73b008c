"""Locked handshakes whose SPAKE2 runs elsewhere: off the socket thread, in a worker.

A server's SPAKE2 is ~9 ms of pure Python. Run where the datagrams are read, it
holds back every member's line that arrives meanwhile (a handshake flood at the
limits made members' p99 ~20× slower). With ``ServerEngine.defer_pake`` the
engine does not run it: it hands out a :class:`PakeJob`
(:meth:`~udpcore.server.ServerEngine.take_pake_jobs`), the transport runs
:func:`run_pake_job` wherever it likes (a child process) and gives the answer
back with :meth:`~udpcore.server.ServerEngine.pake_done`; the WELCOME goes out
then. Everything the HELLO was judged on stays as judged; what the answer
needs (the address, the HELLO, the judgement) waits here, capped and timed.
"""
from __future__ import annotations

from typing import NamedTuple

from .errors import HandshakeError
from .pake import RoomPake
from .protection import Side
from .wire import Hello

Addr = tuple[str, int]


class PakeJob(NamedTuple):
    """What a worker needs for the server's side of one SPAKE2 exchange (picklable)."""
    ticket: int
    passphrase: str
    room: str
    hello_nonce: bytes
    token: bytes
    client_pake: bytes


def run_pake_job(job: PakeJob) -> tuple[bytes, bytes] | None:
    """The server's SPAKE2 message and the PAKE key; None for a client message that
    cannot be used (malformed, or its own side reflected). Pure: runs anywhere."""
    pake = RoomPake(Side.SERVER, job.passphrase, job.room, job.hello_nonce, job.token)
    try:
        return pake.message, pake.finish(job.client_pake)
    except HandshakeError:
        return None


class Waiting(NamedTuple):
    addr: Addr
    hello: Hello
    rtt: float | None          # the judged CHALLENGE -> HELLO round trip
    passphrase: str            # the one the job runs with: a lock changed meanwhile voids the answer
    until: float


class PakeDesk:
    """The handshakes whose SPAKE2 is out: one per address, at most ``cap``, each
    for ``lifetime`` seconds (a job whose answer never comes is forgotten)."""

    def __init__(self, cap: int, lifetime: float) -> None:
        self.cap = cap
        self.lifetime = lifetime
        self.jobs: list[PakeJob] = []          # posted, not yet taken by the transport
        self._by_ticket: dict[int, Waiting] = {}
        self._ticket_at: dict[Addr, int] = {}
        self._next = 1

    def __len__(self) -> int:
        return len(self._by_ticket)

    def waiting(self, addr: Addr, nonce: bytes) -> bool:
        """Is this very handshake (a HELLO sent again) already being answered?"""
        t = self._ticket_at.get(addr)
        return t is not None and self._by_ticket[t].hello.nonce == nonce

    def full(self, addr: Addr) -> bool:
        return addr not in self._ticket_at and len(self._by_ticket) >= self.cap

    def post(self, addr: Addr, hello: Hello, rtt: float | None, passphrase: str, room: str, now: float) -> None:
        """Ask for a SPAKE2 run; a newer handshake from the same address replaces the older."""
        old = self._ticket_at.pop(addr, None)
        if old is not None:
            del self._by_ticket[old]
        ticket, self._next = self._next, self._next + 1
        self._by_ticket[ticket] = Waiting(addr, hello, rtt, passphrase, now + self.lifetime)
        self._ticket_at[addr] = ticket
        self.jobs.append(PakeJob(ticket, passphrase, room, hello.nonce, hello.token, hello.pake))

    def take_jobs(self) -> list[PakeJob]:
        jobs, self.jobs = self.jobs, []
        return jobs

    def done(self, ticket: int) -> Waiting | None:
        """The handshake this answer is for, or None (replaced, or too late)."""
        w = self._by_ticket.pop(ticket, None)
        if w is not None:
            del self._ticket_at[w.addr]
        return w

    def expire(self, now: float) -> int:
        """Forget the jobs whose answer is overdue; how many."""
        late = [t for t, w in self._by_ticket.items() if now >= w.until]
        for t in late:
            self.done(t)
        return len(late)
