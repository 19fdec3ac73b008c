"""Members the operator removed, kept a moment so they learn why.

A kicked member is out of the room at once (no line reaches it, its name is
free), but its session lingers up to ``PARTING_LINGER`` seconds so REMOVED is
retransmitted until acknowledged; then a BYE ("removed") ends it. Without this,
a lost REMOVED would leave the client to reconnect as if nothing happened.
"""
from __future__ import annotations

from .roster import Addr, Member
from .frames import Frames
from .wire import Ack, Bye, Data, Ping, encode

PARTING_LINGER = 2.0
BYE_REASON = "removed"


class Parting:
    def __init__(self) -> None:
        # session -> (member, deadline); empty nearly always, which the engine checks
        # on its hot paths as a plain dict (no call)
        self.sessions: dict[bytes, tuple[Member, float]] = {}

    def __len__(self) -> int:
        return len(self.sessions)

    def add(self, mem: Member, now: float) -> None:
        assert mem.peer is not None
        self.sessions[mem.peer.session] = (mem, now + PARTING_LINGER)

    def at(self, addr: Addr) -> Member | None:
        """The parting member at ``addr`` (there are rarely more than a few)."""
        for mem, _ in self.sessions.values():
            if mem.addr == addr:
                return mem
        return None

    def packet(self, p: Data | Frames | Ack | Ping, addr: Addr, now: float) -> bool:
        """A session packet for a parting member: its acks count, nothing else it
        says does. False when the session is not one of ours."""
        entry = self.sessions.get(p.session)
        if entry is None:
            return False
        mem = entry[0]
        if mem.addr == addr:
            mem.peer.receive(p, now)              # type: ignore[union-attr]
        return True

    def flush(self, now: float, out: list[tuple[bytes, Addr]]) -> None:
        """Retransmit what is due; end the sessions that acknowledged or ran out of time."""
        for sid, (mem, deadline) in list(self.sessions.items()):
            peer = mem.peer
            assert peer is not None
            if now >= deadline or peer.channel.idle:
                out.append((peer.wrap(encode(Bye(sid, BYE_REASON))), mem.addr))
                del self.sessions[sid]
                continue
            peer.channel.handle_timer(now)
            for d in peer.datagrams(now):
                out.append((d, mem.addr))

    def next_at(self) -> float | None:
        """When :meth:`flush` has something to do next."""
        t = None
        for mem, deadline in self.sessions.values():
            rto = mem.peer.channel.get_timer()    # type: ignore[union-attr]
            for x in (deadline, rto):
                if x is not None and (t is None or x < t):
                    t = x
        return t

    def bye_all(self, out: list[tuple[bytes, Addr]]) -> None:
        """The room is closing: end every parting session now."""
        for sid, (mem, _) in self.sessions.items():
            out.append((mem.peer.wrap(encode(Bye(sid, BYE_REASON))), mem.addr))   # type: ignore[union-attr]
        self.sessions.clear()
