"""The server's refusals and errors, as codes on the wire, turned into the
typed errors a program words for its user (chatfront.wording.explain)."""
from __future__ import annotations

from . import appmsg as m
from .appmsg import ErrorCode, RefusalCode
from .errors import (Banned, ChatError, HostFull, InvalidName, Muted, NameProblem, NameTaken, NoSuchMember,
                     PassphraseNeeded, RateLimited, RefusedByServer, RoomFull, TooManyGuesses, VersionMismatch)
from .names import name_problem
from .wire import Refuse, RefuseCode


def refusal(p: Refuse, name: str, room: str = "") -> ChatError:
    """Why the server would not let ``name`` into ``room``."""
    if p.code is RefuseCode.NAME_TAKEN:
        return NameTaken(name)
    if p.code is RefuseCode.NAME_INVALID:
        return InvalidName(name, name_problem(name) or NameProblem.BAD_CHARACTER)
    if p.code is RefuseCode.VERSION:
        return VersionMismatch(p.reason)
    if p.code is RefuseCode.FULL:
        return RoomFull()
    if p.code is RefuseCode.BANNED:
        return Banned()
    if p.code is RefuseCode.HOST_FULL:
        return HostFull()
    if p.code is RefuseCode.LOCKED:
        return PassphraseNeeded(room)
    if p.code is RefuseCode.TOO_MANY_GUESSES:
        return TooManyGuesses(float(p.reason) if p.reason.isdigit() else 10.0)
    return RefusedByServer(p.reason)


def command_error(msg: m.Error) -> ChatError:
    """Why the server did not do a NICK, WHO or PRIVATE."""
    if msg.code is ErrorCode.NO_SUCH_MEMBER:
        return NoSuchMember(msg.detail)
    if msg.code is ErrorCode.NAME_TAKEN:
        return NameTaken(msg.detail)
    if msg.code is ErrorCode.RATE_LIMITED:
        return RateLimited(0)
    return InvalidName(msg.detail, name_problem(msg.detail) or NameProblem.BAD_CHARACTER)


def line_refusal(msg: m.LineRefused) -> ChatError:
    """Why the server did not relay a line: too fast, or muted (with the seconds to wait)."""
    if msg.code is RefusalCode.MUTED:
        return Muted(msg.wait)
    return RateLimited(msg.wait)
