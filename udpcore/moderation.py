"""What the operator decided about people: bans (kept across restarts by the
program, as :class:`~udpcore.events.Ban` records) and mutes (until a time).

Pure records the engine consults at its doors. A ban holds a name (compared as
names are, so a look-alike is banned too) and the IP address the member had:
behind one NAT that address is the whole class, which the operator is told.
"""
from __future__ import annotations

from collections.abc import Iterable

from .errors import NotBanned
from .events import Ban
from .names import name_key


class Moderation:
    def __init__(self, bans: Iterable[Ban] = ()) -> None:
        self._bans: dict[str, Ban] = {name_key(b.name): b for b in bans}
        self._hosts = {b.address for b in self._bans.values() if b.address}
        self.mutes: dict[str, float] = {}         # name key -> until (empty: the relay's fast path)

    @property
    def bans(self) -> tuple[Ban, ...]:
        return tuple(self._bans.values())

    def banned(self, name: str, host: str) -> bool:
        return host in self._hosts or name_key(name) in self._bans

    def host_banned(self, host: str) -> bool:
        return host in self._hosts

    def ban(self, name: str, host: str = "") -> Ban:
        ban = Ban(name, host)
        self._bans[name_key(name)] = ban
        if host:
            self._hosts.add(host)
        return ban

    def unban(self, name: str) -> Ban:
        """Lift the ban on ``name`` (and on the address it was banned with)."""
        ban = self._bans.pop(name_key(name), None)
        if ban is None:
            raise NotBanned(name)
        self._hosts = {b.address for b in self._bans.values() if b.address}
        return ban

    def mute(self, name: str, until: float) -> None:
        self.mutes[name_key(name)] = until

    def unmute(self, name: str) -> None:
        self.mutes.pop(name_key(name), None)

    def muted_for(self, name: str, now: float) -> float:
        """Seconds of ``name``'s mute left (0.0: may speak)."""
        if not self.mutes:
            return 0.0                            # nobody muted: no name to compare
        until = self.mutes.get(name_key(name))
        if until is None:
            return 0.0
        if now >= until:
            del self.mutes[name_key(name)]
            return 0.0
        return until - now

    def renamed(self, old: str, new: str) -> None:
        """A mute follows its member to a new name."""
        until = self.mutes.pop(name_key(old), None)
        if until is not None:
            self.mutes[name_key(new)] = until
