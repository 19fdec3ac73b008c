"""What the client does with each message the server sends inside the session.

A part of :class:`~udpcore.client.ClientEngine` kept in its own module: every
message becomes an event for the program (or changes the engine's state:
LIMITS, SYNCED, CLOSING, REMOVED).
"""
from __future__ import annotations

from collections import deque

from . import appmsg as m
from . import events as ev
from .answers import command_error, line_refusal
from .client_state import State
from .pacing import Pacer
from .peer import Peer


class ServerMessages:
    name: str
    state: State
    ignored: int
    _peer: Peer | None
    _pacer: Pacer
    _events: deque[ev.Event]
    _join_list_due: bool
    _whos: int

    def _set_state(self, new: State) -> None:
        raise NotImplementedError

    def _emit(self, e: ev.Event) -> None:
        raise NotImplementedError

    def _past_message(self, msg: m.RoomInfo | m.History | m.Back, now: float) -> None:
        raise NotImplementedError

    def _server_message(self, msg: m.AppMessage, now: float) -> None:
        e: ev.Event
        if isinstance(msg, (m.RoomInfo, m.History, m.Back)):
            self._past_message(msg, now)
            return
        if isinstance(msg, m.Limits):
            self._pacer.limits(msg.lines_per_minute, msg.burst, now)
            return
        if self._pacer.holding is not None:
            self._pacer.unhold()                  # an older server: it paces nobody
        if isinstance(msg, m.Line):
            own = bool(msg.flags & m.LINE_OWN)
            e = ev.RoomLine(msg.seq, msg.sender, msg.text, bool(msg.flags & m.LINE_ACTION),
                            msg.to or None, own, msg.msg_id if own else None)
        elif isinstance(msg, m.Joined):
            e = ev.MemberJoined(msg.name, msg.address, msg.guest)
        elif isinstance(msg, m.Left):
            e = ev.MemberLeft(msg.name, msg.reason)
        elif isinstance(msg, m.Renamed):
            you = msg.old == self.name
            if you:
                self.name = msg.new
            e = ev.MemberRenamed(msg.old, msg.new, you)
        elif isinstance(msg, m.Members):
            # The member list is never held back behind a catch-up: it is state, not a line.
            answers = not self._join_list_due and self._whos > 0
            if self._join_list_due:
                self._join_list_due = False
            elif answers:
                self._whos -= 1
            e = ev.MemberList(msg.names, answers_who=answers)
        elif isinstance(msg, m.Synced):
            if self.state is State.DRAINING:
                self._peer.send(m.Leave(), capped=False)      # type: ignore[union-attr]
                self._set_state(State.LEAVING)
            return
        elif isinstance(msg, m.Error):
            e = ev.CommandError(command_error(msg))
        elif isinstance(msg, m.Closing):
            if self.state is not State.SERVER_CLOSING:
                self._events.append(ev.ServerClosed(msg.reason))
                self._set_state(State.SERVER_CLOSING)    # acknowledge it, then stop
            return
        elif isinstance(msg, m.LineRefused):
            too_fast = msg.code is m.RefusalCode.RATE_LIMITED
            if too_fast:
                self._pacer.refused()
            e = ev.LineRefused(msg.msg_id, line_refusal(msg))
        elif isinstance(msg, m.Removed):
            if self.state is State.SERVER_CLOSING:
                return                            # the room is closing anyway
            self._pacer.waiting.clear()
            self._events.append(ev.Removed(msg.reason, msg.banned))
            self._set_state(State.REMOVED)        # acknowledge it, then stop
            return
        elif isinstance(msg, m.Crowd):
            e = ev.Crowd(msg.joined, msg.left)
        else:
            self.ignored += 1
            return
        if isinstance(e, ev.MemberList):
            self._events.append(e)
        else:
            self._emit(e)

