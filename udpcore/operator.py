"""What the person running the server does: speak, answer one member, kick,
mute, ban, close the room, and look at it (:meth:`snapshot`).

A part of :class:`~udpcore.server.ServerEngine` kept in its own module; these
calls come from the operator's window or terminal, never from the network.
"""
from __future__ import annotations

from collections import Counter

from . import appmsg as m
from . import events as ev
from . import guests
from .addresses import format_addr
from .appmsg import LeaveReason
from .discovery import Answerer
from .errors import LineTooLong, NoSuchMember
from .limits import Limits
from .moderation import Moderation
from .names import SERVER_NAME, clean_message, clean_text
from .parting import Parting
from .room import Room
from .roster import Member, Roster
from .wire import MAX_MESSAGE_TEXT

CLOSE_LINGER = 1.0       # how long close() waits for clients to acknowledge it
MAX_REASON = 200         # characters of the operator's reason sent with a kick


class OperatorActions:
    limits: Limits
    counters: Counter[str]
    closing_deadline: float | None
    _roster: Roster
    _room: Room
    _mod: Moderation
    _parting: Parting
    discovery: Answerer

    def say(self, text: str, now: float) -> None:
        """The server's own line to the room. Raises LineTooLong."""
        text = self._operator_text(text)
        if text:
            self._room.relay(SERVER_NAME, text, False)

    def say_to(self, name: str, text: str, now: float) -> None:
        """The server's own private line to one member. Raises NoSuchMember, LineTooLong."""
        text = self._operator_text(text)
        if not text:
            return
        self._room.private(SERVER_NAME, None, 0, self._present(name), text, False)

    def _present(self, name: str) -> Member:
        mem = self._roster.named(name)
        if mem is None:
            raise NoSuchMember(name)
        return mem

    def kick(self, name: str, now: float, reason: str = "") -> None:
        """Take a member (or guest) out of the room, telling it why. Raises NoSuchMember."""
        self._take_out(self._present(name), now, reason, banned=False)

    def mute(self, name: str, minutes: float, now: float) -> None:
        """Refuse a member's lines for ``minutes`` (0 or less: lift the mute). Raises NoSuchMember."""
        mem = self._present(name)
        if minutes > 0:
            self._mod.mute(mem.name, now + minutes * 60)
        else:
            self._mod.unmute(mem.name)

    def ban(self, name: str, now: float, reason: str = "") -> ev.Ban:
        """Ban a name, and the address of the member who has it (taken out, told why)."""
        mem = self._roster.named(name)
        ban = self._mod.ban(mem.name if mem else name, mem.addr[0] if mem else "")
        if mem is not None:
            self._take_out(mem, now, reason, banned=True)
        self._room.events.append(ev.BansChanged(self._mod.bans))
        return ban

    def unban(self, name: str) -> None:
        """Lift a ban. Raises NotBanned."""
        self._mod.unban(name)
        self._room.events.append(ev.BansChanged(self._mod.bans))

    @property
    def bans(self) -> tuple[ev.Ban, ...]:
        return self._mod.bans

    def _take_out(self, mem: Member, now: float, reason: str, banned: bool) -> None:
        reason = clean_text(reason).strip()[:MAX_REASON]
        if mem.peer is None:
            self._room.plain(mem, guests.removed_out(reason, banned))
        else:
            self._room.send(mem, m.Removed(reason, banned))
            self._parting.add(mem, now)
        self._room.remove(mem, LeaveReason.BANNED if banned else LeaveReason.KICKED)

    def _operator_text(self, text: str) -> str:
        text = clean_message(text)
        if not text.strip() or self.closing_deadline is not None:
            return ""
        size = len(text.encode())
        if size > MAX_MESSAGE_TEXT:
            raise LineTooLong(size, MAX_MESSAGE_TEXT, len(text))
        return text

    def close(self, now: float, reason: str = "") -> None:
        """Tell every member the room is closing (``reason``: the operator's own
        words, if any); ``closed`` turns true once they acknowledged it or
        CLOSE_LINGER passed."""
        if self.closing_deadline is not None:
            return
        self.closing_deadline = now + CLOSE_LINGER
        self._room.announce(m.Closing(reason))

    @property
    def room_name(self) -> str:
        """The room's name, as DISCOVER is answered with it."""
        return self.discovery.room

    def rename_room(self, name: str) -> str:
        """The room is called ``name`` from now on (cleaned, at most 40 characters:
        the name as announced is returned). Clients see it in their next listing."""
        return self.discovery.rename(name)

    def snapshot(self, now: float) -> ev.Stats:
        muted = self._mod.muted_for
        members = tuple(ev.MemberInfo(x.name, format_addr(x.addr), max(0.0, now - x.last_heard), x.guest,
                                      muted(x.name, now))
                        for x in self._roster.by_key.values())
        return ev.Stats(members, self._room.relayed, sum(self.counters.values()), dict(self.counters),
                        self.discovery.looked(now))

    @property
    def member_names(self) -> list[str]:
        return self._roster.names()

    @property
    def members_version(self) -> int:
        """Changes whenever an address comes into the room or leaves it (join, leave, move)."""
        return self._roster.version

    def member_addresses(self) -> list[tuple[str, int]]:
        """Everyone's address, members and guests (the transport gives each a socket of its own)."""
        return list(self._roster.by_addr)
