"""The room's fan-out: what the server sends to whom, in one order for all.

Every public line gets the room's next sequence number and goes to every member
(guests in plain text); private lines go to their two parties; joins, leaves and
renames are announced -- by name up to ``named_joins`` a second, beyond that as
one count (CROWD), so a storm of joins cannot drown the room in notices. A
member whose backlog overflows cannot keep the room's pace and is dropped
(``too-slow``), so one slow member never slows the others.
The engine (:mod:`udpcore.server`) decides *when*; this module, *to whom*.
"""
from __future__ import annotations

from collections import Counter, deque

from . import appmsg as m
from . import events as ev
from . import guests
from .addresses import format_addr
from .appmsg import LeaveReason
from .errors import BacklogFull
from .names import SERVER_NAME
from .peer import KEEPALIVE
from .roster import Addr, Member, Roster

MEMBERS_LIST_BYTES = 100_000   # a member list longer than this is cut (it fits MAX_REASSEMBLY)
# A restarted room's gathering ends after this many seconds with nobody coming back: an
# idle member notices the restart only at its next keepalive (KEEPALIVE), then rejoins.
BACK_QUIET = int(KEEPALIVE) + 2


class Room:
    def __init__(self, roster: Roster, counters: Counter[str], *,
                 announce_joins: bool = True, named_joins: int = 5) -> None:
        self.roster = roster
        self.announce_joins = announce_joins         # off: joins are not told to the room (huge rooms)
        self.named_joins = named_joins               # joins and leaves told by name each second
        self._named = 0                              # ...told so far this second
        self._crowd = [0, 0]                         # joined, left beyond them, not told yet
        self.counters = counters
        self.out: list[tuple[bytes, Addr]] = []      # datagrams to send now
        # Replies to addresses not in the room (CHALLENGE, REFUSE, RESET, discovery): sent
        # after members' datagrams, so a burst of strangers' HELLOs delays no member's line.
        self.later: list[tuple[bytes, Addr]] = []
        # Members whose channel may have output, in the order they are to be served
        # (a dict as an ordered set: a line's sender is moved behind its readers).
        self.dirty: dict[Member, None] = {}
        self.events: deque[ev.Event] = deque()
        self.seq = 0                                 # the room's last sequence number
        self.relayed = 0
        # Lines to store before anything of this turn is sent: (seq, sender, text, flags,
        # private_to). Room lines, and the operator's own private lines (members' private
        # lines to each other are theirs: the operator learns who, never what).
        self.said: list[tuple[int, str, str, int, str, bytes, int]] = []
        self.keeping = False                         # a history is kept: collect ``said``
        # A restarted room gathers its returning members into one notice (BACK).
        self.gathering = False
        self.back = 0                                # members back so far, not told yet
        self._quiet = 0                              # ticks since the last one came back

    def join(self, mem: Member) -> None:
        """A new member or guest: told to the room (before it is in it), then in."""
        address = format_addr(mem.addr)
        if self.gathering and mem.peer is not None:
            self.back += 1
            self._quiet = 0
        elif self.announce_joins:
            if self._by_name():
                self.announce(m.Joined(mem.name, address, guest=mem.guest))
                self.events.append(ev.MemberJoined(mem.name, address, guest=mem.guest))
            else:
                self._crowd[0] += 1
        else:
            self.events.append(ev.MemberJoined(mem.name, address, guest=mem.guest))
        self.roster.add(mem)

    def _by_name(self) -> bool:
        """May one more join or leave be told by name this second?"""
        if self._named < self.named_joins:
            self._named += 1
            return True
        return False

    def tick(self) -> None:
        """Once a second: tell the room the joins and leaves it was not told by name;
        a gathering ends after BACK_QUIET quiet seconds, with one notice for all who came back."""
        if self.gathering:
            self._quiet += 1
            if self.back and self._quiet >= BACK_QUIET:
                self.end_gathering()
        joined, left = self._crowd
        if joined or left:
            self._crowd = [0, 0]
            self.announce(m.Crowd(joined, left))
            self.events.append(ev.Crowd(joined, left))
        self._named = 0

    def end_gathering(self) -> None:
        """Tell the room how many came back, once; from now on joins are told as usual."""
        self.gathering = False
        if self.back:
            self.announce(m.Back(self.back))
            self.events.append(ev.MembersBack(self.back))
        self.back = 0

    def guest_said(self, mem: Member, line: str) -> None:
        """A guest's line: relayed, or its leaving when it is one of the quit words."""
        if guests.is_quit(line):
            self.remove(mem, LeaveReason.LEFT)
        elif line:
            self.relay(mem.name, line, False, origin=mem)

    def members_msg(self) -> m.Members:
        """Everyone's name, the operator's first: members can write to it privately."""
        names, size = [SERVER_NAME], len(SERVER_NAME) + 2
        for name in self.roster.names():
            size += len(name.encode()) + 2
            if size > MEMBERS_LIST_BYTES:
                break
            names.append(name)
        return m.Members(tuple(names))

    def relay(self, sender: str, text: str, action: bool, origin: Member | None = None,
               msg_id: int = 0) -> None:
        self.seq += 1
        seq = self.seq
        flags = m.LINE_ACTION if action else 0
        if self.keeping:
            self.said.append((seq, sender, text, flags, "", origin.origin if origin is not None else b"", msg_id))
        shared = m.encode_line(seq, sender, text, flags)
        plain = None                              # for guests, built only if there are any
        dirty = self.dirty
        for mem in list(self.roster.by_addr.values()):       # the hot loop: no Roster.__iter__ call
            peer = mem.peer
            if mem is origin:
                if peer is not None:              # a guest saw what it typed; save its credit
                    self.send(mem, m.restamped_line(shared, seq, flags | m.LINE_OWN, msg_id))
            elif peer is None:
                if plain is None:
                    plain = guests.line_out(sender, text, action)
                self.plain(mem, plain)
            else:                 # queued: the turn's lines for one member go out together (FRAMES)
                try:
                    peer.channel.send(shared)
                except BacklogFull:
                    self.too_slow(mem)
                    continue
                dirty[mem] = None
        self.relayed += 1
        self.events.append(ev.RoomLine(seq, sender, text, action))

    def private(self, sender: str, origin: Member | None, msg_id: int, target: Member,
                 text: str, action: bool) -> None:
        if not text.strip():
            return
        flags = m.LINE_PRIVATE | (m.LINE_ACTION if action else 0)
        if target.peer is None:
            self.plain(target, guests.private_out(sender, text))
        elif target is not origin:
            self.send(target, m.Line(0, sender, text, flags, 0, target.name))
        if origin is None:            # the operator's own line: its window shows it
            if self.keeping:
                self.said.append((0, sender, text, flags & ~m.LINE_PRIVATE, target.name, b"", 0))
            self.events.append(ev.RoomLine(0, sender, text, action, private_to=target.name))
        else:                         # between members: the operator learns who, never what
            self.send(origin, m.Line(0, sender, text, flags | m.LINE_OWN, msg_id, target.name))
            self.events.append(ev.PrivatePassed(sender, target.name))

    def to_operator(self, origin: Member, msg_id: int, text: str, action: bool) -> None:
        """A member's private line to the person running the server."""
        if not text.strip():
            return
        flags = m.LINE_PRIVATE | m.LINE_OWN | (m.LINE_ACTION if action else 0)
        if self.keeping:
            self.said.append((0, origin.name, text, flags & m.LINE_ACTION, SERVER_NAME, b"", 0))
        self.send(origin, m.Line(0, origin.name, text, flags, msg_id, SERVER_NAME))
        self.events.append(ev.RoomLine(0, origin.name, text, action, private_to=SERVER_NAME))

    def announce(self, msg: m.AppMessage) -> None:
        """Tell every member (guests in plain text) about a join, leave, rename or closing."""
        data = m.encode_msg(msg)
        plain = guests.notice_out(msg)
        present = self.roster.present
        for mem in self.roster:
            if not present(mem):
                continue                  # dropped meanwhile: a Left announced inside this loop
            if mem.peer is None:
                self.plain(mem, plain)
            else:
                self.send(mem, data)

    def send(self, mem: Member, msg: m.AppMessage | bytes) -> None:
        assert mem.peer is not None
        try:
            mem.peer.send(msg)
        except BacklogFull:
            self.too_slow(mem)
            return
        self.dirty[mem] = None

    def too_slow(self, mem: Member) -> None:
        """Its backlog is full: it cannot take the room's pace, so it is dropped
        (counted once, however many sends found it full before the drop took)."""
        if self.remove(mem, LeaveReason.TOO_SLOW):
            self.counters["too_slow"] += 1

    def remove(self, mem: Member, reason: LeaveReason) -> bool:
        """Take ``mem`` out and tell the room; False when it was already out."""
        if not self.roster.remove(mem):
            return False
        self.dirty.pop(mem, None)
        # The operator's removals are always told by name: the room sees what was done.
        if reason in (LeaveReason.KICKED, LeaveReason.BANNED) or not self.announce_joins or self._by_name():
            self.announce(m.Left(mem.name, reason))
            self.events.append(ev.MemberLeft(mem.name, reason))
        else:
            self._crowd[1] += 1
        return True

    def plain(self, mem: Member, text: str) -> None:
        """A line to a guest, within its credit (what it sent us, times AMPLIFICATION)."""
        if not text:
            return
        size = len(text.encode()) + 1
        if size > mem.credit:
            self.counters["guest_credit_exhausted"] += 1
            return
        mem.credit -= size
        for d in guests.datagrams_out(text):
            self.out.append((d, mem.addr))
