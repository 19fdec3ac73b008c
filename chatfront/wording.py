"""Every sentence a person reads about the chat, for the terminal and the windows alike.

Events and errors come from the pure core as data; this module turns them into
words, through the one translation function :func:`chatfront.i18n._`.
Durations come from the protocol's own constants, so the words cannot drift
from what the code does. The terminal prints room lines as ``NAME: TEXT``
(scripts can split on the first ': ') and everything else after ``* ``.
"""
from __future__ import annotations

import math
from itertools import groupby
import unicodedata

from udpcore import (GUEST_TIMEOUT, MEMBER_TIMEOUT, AddressError, AddressProblem, BacklogFull, Banned,
                     ChatError, HostFull, InvalidName, LeaveReason, LineTooLong, Muted, NameProblem, NameTaken,
                     NoSuchMember, NotBanned, NotInRoom, NotLocalAddress, NotLocked, PassphraseNeeded, PortBusyError,
                     RateLimited, RefusedByServer, RoomFull, SocketError, TooManyGuesses, UnknownHost,
                     VersionMismatch, WrongPassphrase, MAX_NAME_CHARS,
                     MAX_ROOM_CHARS, CONTINUATION, FoundRoom, NoSuchRoom, SameNameRooms, clean_text, events as ev,
                     format_addr, name_problem)

from . import history_wording
from .commands import Command, Unknown, Usage
from .i18n import _, n_
from .passphrase import ENV_VAR, MAX_CHARS, PassphraseProblem

# The address the sentences show as an example of what to type: a private LAN
# address a person recognises. One place, so tests and the form say the same.
EXAMPLE_ADDRESS = "192.168.1.20"

# What came from the network (names, lines, reasons, addresses) is shown through
# _shown, the core's clean_text: a malicious peer or server cannot send the terminal
# an escape sequence, break a line, or reorder what is printed around its text with
# bidi controls. The server cleans what it relays; this guards what is shown.
_shown = clean_text


# --- errors ----------------------------------------------------------------------------


def _name_problem(name: str, problem: NameProblem) -> str:
    suggestion = spaceless(name) if problem is NameProblem.BAD_CHARACTER else None
    name = _shown(name)
    if problem is NameProblem.BLANK:
        return _("A name cannot be blank.")
    if problem is NameProblem.TOO_LONG:
        return _("A name can have at most {limit} characters.").format(limit=MAX_NAME_CHARS)
    if problem is NameProblem.RESERVED:
        return _("The name '{name}' is reserved.").format(name=name)
    if problem is NameProblem.LOOKS_RESERVED:
        return _("The name '{name}' looks like 'server' or a guest's name (guest-…), "
                 "which are reserved.").format(name=name)
    if problem is NameProblem.MARKS:
        return _("A name cannot start with an accent or other combining mark, "
                 "nor pile many of them on one letter.")
    if suggestion is not None:
        return _("Names cannot contain spaces; try \u201c{suggestion}\u201d.").format(suggestion=suggestion)
    return _("A name cannot contain spaces, control characters or invisible characters.")


def spaceless(name: str) -> str | None:
    """A name refused only for its spaces, with each run of them made one underscore
    ("joão silva" -> "joão_silva"); None when that would still not be a name."""
    words = ["".join(run) for space, run in groupby(name, lambda ch: unicodedata.category(ch) == "Zs")
             if not space]
    if len(words) < 2:
        return None
    suggestion = "_".join(words)
    return suggestion if name_problem(suggestion) is None else None


def _address(err: AddressError) -> str:
    p = err.problem
    if p is AddressProblem.EMPTY:
        return _("Type the server's address, for example {example} or chat.local:5002.").format(
            example=EXAMPLE_ADDRESS)
    if p is AddressProblem.UNCLOSED_BRACKET:
        return _("'{text}' is missing the closing ']' of an IPv6 address.").format(text=err.text)
    if p is AddressProblem.AFTER_BRACKET:
        return _("'{text}' is not an address: expected [IPv6]:PORT.").format(text=err.text)
    if p is AddressProblem.NO_HOST:
        return _("'{text}' has no host name or address.").format(text=err.text)
    if p is AddressProblem.IPV4_PARTS:
        parts = err.text.split(".")
        if len(parts) < 4 or "" in parts:
            return _("{text} is not a complete address: an IPv4 address has four numbers, "
                     "like {example}.").format(text=err.text, example=EXAMPLE_ADDRESS)
        return _("{text} is not an address: an IPv4 address has four numbers, like {example}.").format(
            text=err.text, example=EXAMPLE_ADDRESS)
    if p is AddressProblem.IPV4_NUMBER:
        return _("{text} is not an address: each of the four numbers of an IPv4 address is "
                 "0 to 255, like {example}.").format(text=err.text, example=EXAMPLE_ADDRESS)
    return _("'{text}' is not a port number (1-65535).").format(text=err.text)


def grouped(n: int) -> str:
    """A count with its thousands grouped as the language writes them: 1,200 or 1.200."""
    from .i18n import language
    text = f"{n:,}"
    return text.replace(",", ".") if language().startswith("pt") else text


def explain(err: ChatError) -> str:
    """The one sentence a person is told for ``err``."""
    match err:
        case InvalidName(name=n, problem=p):
            return _name_problem(n, p)
        case NameTaken(name=n):
            return _("The name {name} is already taken in this room; choose another.").format(name=_shown(n))
        case NoSuchMember(name=n):
            return _("No member is called {name}.").format(name=_shown(n))
        case LineTooLong(size=s, limit=limit):
            over = err.chars_over()
            if over:        # told in characters, what a person can count and cut
                return n_("That line is too long by about {n} character; it was not sent.",
                          "That line is too long by about {n} characters; it was not sent.", over).format(
                    n=grouped(over))
            return _("That line is {size} bytes; the limit is {limit} bytes. It was not sent.").format(
                size=s, limit=limit)
        case NotInRoom():
            return _("You are not in the room any more.")
        case BacklogFull():
            return _("Too many lines are waiting to be sent; that one was not.")
        case VersionMismatch():
            return _("This server speaks another version of the chat protocol; "
                     "use the same version of the program on both sides.")
        case RoomFull():
            return _("The room is full: nobody else can join it now. Try again later.")
        case HostFull():
            return _("Too many people are already in the room from your network address; "
                     "nobody else can join from it now.")
        case Banned():
            return _("The operator has banned you from this room.")
        case RateLimited(wait=0):
            return _("Too fast: that command was not done. Wait a second and try it again.")
        case RateLimited():
            return _("Too fast: that line was not sent. Wait a second and send it again.")
        case Muted(wait=w):
            return _muted(w)
        case NotBanned(name=n):
            return _("No ban holds the name {name}.").format(name=_shown(n))
        case RefusedByServer(reason=r):
            return _shown(r)
        case AddressError():
            return _address(err)
        case NoSuchRoom(name=n):
            return _("Cannot find a server or a room called '{name}': no such host name, and no room of that "
                     "name answered on the network. Check the name, or type the server's address.").format(
                name=_shown(n))
        case SameNameRooms(name=n, addresses=a):
            return _("There are {count} rooms on the network called '{name}'; type the address of the one you "
                     "mean: {addresses}.").format(count=len(a), name=_shown(n), addresses=", ".join(a))
        case UnknownHost(host=h):
            return _("Cannot find a server called '{host}': check the name or type its IP address.").format(host=h)
        case PortBusyError(port=p, forbidden=True):
            return _("This user may not listen on port {port}; choose a port above 1023.").format(port=p)
        case PortBusyError(port=p, last=int(last)):
            return _("Ports {port} to {last} are all in use, probably by other chat servers; "
                     "choose another port.").format(port=p, last=last)
        case PortBusyError(port=p):
            return _("Port {port} is already in use, probably by another chat server; "
                     "choose another port.").format(port=p)
        case NotLocalAddress(host=h):
            return _("'{host}' is not an address of this machine.").format(host=h)
        case SocketError(detail=d, port=p) if p is not None:
            return _("Cannot listen on port {port}: {detail}.").format(port=p, detail=d)
        case SocketError(detail=d):
            return _("Cannot open a network socket: {detail}.").format(detail=d)
        case PassphraseNeeded(room=r):
            return _("Room {room} is locked: joining it needs its passphrase.").format(room=_room(r))
        case WrongPassphrase(room=r):
            return _("Wrong passphrase for room {room}.").format(room=_room(r))
        case NotLocked(room=r):
            return _("Room {room} is not locked, yet a passphrase was given: not joined, in case someone else is "
                     "answering in its place (leave the passphrase out to join an open room).").format(
                room=_room(r))
        case TooManyGuesses(wait=w):
            return _("Too many wrong passphrases from this computer: wait {seconds} s and try again.").format(
                seconds=math.ceil(w))
        case PassphraseProblem(source=src, what="unreadable", detail=d):
            return _("Cannot read the passphrase file {path}: {detail}.").format(path=src, detail=d)
        case PassphraseProblem(source=src, what="empty"):
            if src == ENV_VAR:
                return _("{var} is set but empty; unset it, or put the passphrase in it.").format(var=src)
            return _("The passphrase file {path} is empty.").format(path=src)
        case PassphraseProblem(source=src):
            return _("The passphrase in {source} is longer than {n} characters; is it the right file?").format(
                source=src, n=MAX_CHARS)
    return str(err)


def _room(name: str) -> str:
    """A room's name in a sentence: quoted, or (unnamed) a word that says so."""
    return f"'{_shown(name)}'" if name else _("(unnamed)")


def passphrase_hint() -> str:
    """How the terminal client is given a passphrase (after the sentence that asks for it)."""
    return _("Give it with --passphrase-file FILE or the {var} environment variable.").format(var=ENV_VAR)


def passphrase_not_on_command_line() -> str:
    return _("A passphrase is never given on the command line, where others can see it: put it in a file "
             "and give --passphrase-file FILE, or set the {var} environment variable.").format(var=ENV_VAR)


def room_locked_note() -> str:
    return _("The room is locked: joining it needs its passphrase, and plain-text guests are turned away.")


def _muted(seconds: float) -> str:
    if seconds < 60:
        n = max(1, math.ceil(seconds))
        return n_("The operator has muted you for {n} more second; that line was not sent.",
                  "The operator has muted you for {n} more seconds; that line was not sent.", n).format(n=n)
    n = math.ceil(seconds / 60)
    return n_("The operator has muted you for {n} more minute; that line was not sent.",
              "The operator has muted you for {n} more minutes; that line was not sent.", n).format(n=n)


def not_sent(err: ChatError) -> str:
    """The short mark a window puts after a line the server did not relay."""
    if isinstance(err, RateLimited):
        return _("not sent: too fast")
    if isinstance(err, Muted):
        return _("not sent: you are muted")
    if isinstance(err, NoSuchMember):
        return _("not sent: no such member")
    return _("not sent")


def removed(e: ev.Removed) -> str:
    """What a member the operator took out of the room is told."""
    reason = _shown(e.reason).strip()
    if reason and reason[-1] not in ".!?":
        reason += "."
    if e.banned:
        if reason:
            return _("The operator removed you from the room and banned you: {reason}").format(reason=reason)
        return _("The operator removed you from the room and banned you.")
    if reason:
        return _("The operator removed you from the room: {reason}").format(reason=reason)
    return _("The operator removed you from the room.")


def crowd(e: ev.Crowd) -> str:
    """Many joins or leaves at once, counted: '12 people joined'."""
    parts = []
    if e.joined:
        parts.append(n_("{n} person joined", "{n} people joined", e.joined).format(n=e.joined))
    if e.left:
        parts.append(n_("{n} person left", "{n} people left", e.left).format(n=e.left))
    return ", ".join(parts) or _("nobody joined or left")


def more_not_sent(n: int) -> str:
    """The summary after the first refused line: how many more were refused too."""
    return n_("{n} more line was not sent.", "{n} more lines were not sent.", n).format(n=n)


def undelivered(n: int) -> str:
    """Lines typed that the program ended without seeing delivered."""
    return n_("{n} line you typed was not delivered.", "{n} lines you typed were not delivered.", n).format(n=n)


def unreachable(e: ev.Unreachable) -> str:
    """Why the join failed: nothing listening (the system said so at once), or
    silence, which only then suggests the firewall."""
    if e.refused:
        return _("Nothing is listening on {server} — is the server running?").format(server=_shown(e.server))
    n = round(e.waited)
    return n_("No answer from {server} after {n} second. If the server is running there, a firewall "
              "may be blocking UDP port {port} (see docs/firewall.md).",
              "No answer from {server} after {n} seconds. If the server is running there, a firewall "
              "may be blocking UDP port {port} (see docs/firewall.md).", n).format(
        server=_shown(e.server), n=n, port=e.port)


def port_moved(wanted: int, port: int) -> str:
    """--port-fallback took another port: the room is not where the person asked."""
    return _("Port {wanted} is taken (another chat server or program has it), so this room "
             "listens on port {port}.").format(wanted=wanted, port=port)


def clients_not_opened(detail: str) -> str:
    return _("The client windows could not be started: {detail}.").format(detail=detail)


def server_closed(e: ev.ServerClosed) -> str:
    return _shown(e.reason) or _("The server closed the room.")


def failure(e: ev.Event) -> str | None:
    """The sentence for an event that ends a client's stay, or None."""
    if isinstance(e, ev.JoinRefused):
        if isinstance(e.error, PassphraseNeeded):
            return explain(e.error) + " " + passphrase_hint()
        return explain(e.error)
    if isinstance(e, ev.Unreachable):
        return unreachable(e)
    if isinstance(e, ev.ServerClosed):
        return server_closed(e)
    if isinstance(e, ev.Removed):
        return removed(e)
    return None


def mistake(cmd: Command) -> str | None:
    """A typed command that is wrong: the sentence that says how it is right."""
    if isinstance(cmd, Usage):
        usage = {"/msg": "/msg NAME TEXT", "/me": "/me ACTION", "/nick": "/nick NEWNAME"}.get(cmd.command, cmd.command)
        return _("Usage: {usage}").format(usage=usage)
    if isinstance(cmd, Unknown):
        return _("Unknown command {word}; type /help for the list.").format(word=cmd.word)
    return None


def client_help() -> str:
    return _("""Commands:
  /msg NAME TEXT   a private line to one member
  /msg server TEXT a private line to the person running the server
  /me ACTION       an action line (* alice waves)
  /nick NEWNAME    change your name
  /who             list the members
  /help            this help
  exit or /quit    leave the room
Private lines pass through the server: its operator sees who writes to whom.""")


def server_help() -> str:
    return _("""Lines you type go to everyone, or privately to the member selected in the list.
  /msg NAME TEXT   a private line to one member
  /who             list the members
  exit or /quit    tell everyone the room is closing, then close""")


def server_speaks_as_server() -> str:
    return _("The server speaks as 'server'; /me and /nick are for the members.")


# --- room events ---------------------------------------------------------------------------


def left_why(reason: LeaveReason) -> str:
    """What follows a name when it leaves: 'alice vanished (…)'."""
    if reason is LeaveReason.VANISHED:
        return _("vanished (no answer for {seconds} seconds)").format(seconds=f"{MEMBER_TIMEOUT:.0f}")
    if reason is LeaveReason.EXPIRED:
        return _("left (a guest silent for {minutes} minutes)").format(minutes=f"{GUEST_TIMEOUT / 60:.0f}")
    if reason is LeaveReason.TOO_SLOW:
        return _("was dropped (too slow to keep up)")
    if reason is LeaveReason.KICKED:
        return _("was removed by the operator")
    if reason is LeaveReason.BANNED:
        return _("was removed and banned by the operator")
    return _("left")


def members(names: tuple[str, ...] | list[str]) -> str:
    return n_("{n} in the room: {names}", "{n} in the room: {names}", len(names)).format(
        n=len(names), names=", ".join(map(_shown, names)) or _("nobody yet"))


def connected_locked(server: str, name: str) -> str:
    """Joined a locked room with its passphrase (the window draws a padlock before it)."""
    return _("Connected to {server} as {name}, in a locked room").format(server=server, name=name)


def guest_mark() -> str:
    """After a guest's name or address: plain text crosses the network unencrypted."""
    return _(" (guest, not encrypted)")


def notice(e: ev.Event, *, addresses: bool = False) -> str | None:
    """The notice a window or terminal shows for a non-line event, or None.
    ``addresses``: say where members joined from (the terminal, the server's window)."""
    match e:
        case ev.MemberJoined(name=n, address=a, guest=g):
            n, a = _shown(n), _shown(a)
            if addresses and a and not (g and n.endswith(a)):
                text = _("{name} joined from {address}").format(name=n, address=a)
            else:
                text = _("{name} joined").format(name=n)
            return text + (guest_mark() if g else "")
        case ev.MemberLeft(name=n, reason=r):
            return f"{_shown(n)} {left_why(r)}"
        case ev.MemberRenamed(new=n, you=True):
            return _("You are now known as {name}").format(name=_shown(n))
        case ev.MemberRenamed(old=o, new=n):
            return _("{old} is now known as {new}").format(old=_shown(o), new=_shown(n))
        case ev.MemberList(names=names, answers_who=True):
            return members(names)
        case ev.Connected(name=n, server=s, locked=True):
            return connected_locked(_shown(s), _shown(n))
        case ev.Connected(name=n, server=s):
            return _("Connected to {server} as {name}").format(server=_shown(s), name=_shown(n))
        case ev.ConnectionLost():
            return _("Lost contact with the server; reconnecting…")
        case ev.Reconnected(resumed=True):
            return _("Reconnected")
        case ev.Reconnected():
            return _("Reconnected and joined the room again")
        case ev.CommandError(error=err) | ev.LineRefused(error=err):
            return explain(err)
        case ev.JoinRefused() | ev.Unreachable() | ev.ServerClosed() | ev.Removed():
            return failure(e)
        case ev.Crowd():
            return crowd(e)
        case ev.PortFlooded(on=True):
            return _("the room's port is being flooded; members' lines are kept apart from the flood")
        case ev.PortFlooded():
            return _("the flood at the room's port is over")
        case ev.PrivatePassed(sender=f, to=t):
            return _("{sender} wrote privately to {to}").format(sender=_shown(f), to=_shown(t))
        case ev.BansChanged(bans=b):
            return n_("{n} ban in force", "{n} bans in force", len(b)).format(n=len(b))
        case ev.Listening(host=h, port=p):
            return _("listening on {address}").format(address=format_addr((h, p)))
        case ev.MembersBack():
            return history_wording.members_back(e)
        case ev.HistoryProblem():
            return history_wording.problem(e)
        case ev.HistorySaved():
            return history_wording.saved(e)
        case ev.SearchResults():
            return history_wording.search_summary(e)
    return None


def private_tag(e: ev.RoomLine | ev.LinePending, me: str) -> str:
    """'to bob' on the sender's side of a private line, 'private' on the recipient's."""
    sender = me if isinstance(e, ev.LinePending) else e.sender
    if not e.private_to:
        return ""
    return _("to {name}").format(name=_shown(e.private_to)) if sender == me or not me else _("private")


# CONTINUATION (udpcore.guests): before each further line of a message; no name starts with a space.


def shown_message(text: str) -> str:
    """A message for the terminal: its first line as is, each further line indented
    behind CONTINUATION, so that no line of it can pose as another member's
    ``NAME: TEXT`` line (whatever a server sent, each line is cleaned again)."""
    return ("\n" + CONTINUATION).join(_shown(part) for part in text.split("\n"))


def describe(e: ev.Event, me: str = "") -> str | None:
    """The terminal's line for ``e``, or None for events that print nothing."""
    if isinstance(e, ev.RoomLine):
        sender, text = _shown(e.sender), shown_message(e.text)
        if e.private_to is None:
            return f"* {sender} {text}" if e.action else f"{sender}: {text}"
        where = f"({private_tag(e, me)})"
        return f"* {sender} {where} {text}" if e.action else f"{sender} {where}: {text}"
    if isinstance(e, ev.MemberList) and not e.answers_who:
        return None
    text = notice(e, addresses=True)
    if text is None or isinstance(e, ev.Listening):
        return text
    return f"* {text}"


# --- the windows' status lines and titles ------------------------------------------------


def ago(seconds: float) -> str:
    if seconds < 5:
        return _("now")
    if seconds < 60:
        return _("{n} s ago").format(n=int(seconds))
    return _("{n} min ago").format(n=int(seconds // 60))


def server_status(where: str, members_online: int, relayed: int, flooded: bool = False) -> str:
    """``flooded``: the port is being flooded (udpnet/member_sockets.py keeps members apart)."""
    text = _("Listening on {where}  ·  {members} online  ·  {relayed}").format(
        where=where, members=n_("{n} member", "{n} members", members_online).format(n=members_online),
        relayed=n_("{n} line relayed", "{n} lines relayed", relayed).format(n=relayed))
    if flooded:
        text += "  ·  " + _("the port is flooded; members are kept apart")
    return text


# --- the operator --------------------------------------------------------------------------
# The person running the server: moderation, bans, the private target, closing a room.


def moderation_help() -> str:
    return _("""  /kick NAME [REASON]   remove a member (they are told the reason)
  /mute NAME MINUTES    the member's lines are refused for that long (0 unmutes)
  /ban NAME [REASON]    remove a member and keep them out, by name and address
  /unban NAME           lift a ban
  /bans                 list the bans""")


def operator_usage(word: str) -> str:
    usage = {"/kick": _("/kick NAME [REASON]"), "/mute": _("/mute NAME MINUTES"), "/ban": _("/ban NAME [REASON]"),
             "/unban": _("/unban NAME")}.get(word, word)
    return _("Usage: {usage}").format(usage=usage)


def muted_for(name: str, minutes: int) -> str:
    if minutes % 60 == 0:
        hours = minutes // 60
        return n_("{name} is muted for {n} hour.", "{name} is muted for {n} hours.", hours).format(
            name=name, n=hours)
    return n_("{name} is muted for {n} minute.", "{name} is muted for {n} minutes.", minutes).format(
        name=name, n=minutes)


def unmuted(name: str) -> str:
    return _("{name} may speak again.").format(name=name)


def mute_left(seconds: float) -> str:
    """The member list's Muted column: how much of a mute is left."""
    if seconds <= 0:
        return ""
    if seconds < 60:
        return _("{n} s").format(n=int(seconds + 0.999))
    return _("{n} min").format(n=int(seconds / 60 + 0.999))


def bans_list(bans: tuple[ev.Ban, ...] | list[ev.Ban]) -> str:
    if not bans:
        return _("No one is banned.")
    return n_("{n} ban: {names}", "{n} bans: {names}", len(bans)).format(
        n=len(bans), names=", ".join(f"{b.name} ({b.address})" if b.address else b.name for b in bans))


def bans_changed(old: tuple[ev.Ban, ...], new: tuple[ev.Ban, ...]) -> list[str]:
    """What the operator is told when the list of bans changes: each ban made or lifted."""
    from udpcore import name_key
    before = {name_key(b.name): b for b in old}
    after = {name_key(b.name): b for b in new}
    said = []
    for key, b in after.items():
        if key not in before:
            said.append(_("{name} is banned, and so is the address {address}.").format(name=b.name, address=b.address)
                        if b.address else _("{name} is banned.").format(name=b.name))
    for key, b in before.items():
        if key not in after:
            said.append(_("The ban on {name} is lifted.").format(name=b.name))
    return said


def bans_loaded(n: int, path: str) -> str:
    return n_("{n} ban kept from before ({path})", "{n} bans kept from before ({path})", n).format(n=n, path=path)


def bans_kept_aside(path: str, kept: str) -> str:
    return _("The bans file {path} could not be read; it was kept as {kept} and the room starts "
             "with no bans.").format(path=path, kept=kept)


def bans_left_alone(path: str, detail: str) -> str:
    return _("The bans file {path} could not be read ({detail}); the room starts with no bans "
             "and will not write over it.").format(path=path, detail=detail)


def bans_not_saved(path: str, detail: str) -> str:
    if not detail:
        return _("The bans were not saved in {path}; they hold until the room closes.").format(path=path)
    return _("The bans could not be saved in {path} ({detail}); they hold until the room "
             "closes.").format(path=path, detail=detail)


def exit_again(n: int) -> str:
    """The headless server's answer to ``exit`` while members are in."""
    return n_("{n} member is in the room. Type exit again to close it.",
              "{n} members are in the room. Type exit again to close it.", n).format(n=n)


def close_room_title() -> str:
    return _("Closing the room")


def close_room_question(n: int) -> str:
    return n_("Close the room? {n} person is in it.", "Close the room? {n} people are in it.", n).format(n=n)


def close_room_button() -> str:
    return _("Close the room")


def bad_option(option: str, value: str, wanted: str) -> str:
    """A server option with a value it cannot take: one sentence, said before anything starts."""
    return _("{option} takes {wanted}, not '{value}'.").format(option=option, wanted=wanted, value=value)


def whole_number_from(minimum: int) -> str:
    return _("a whole number of {minimum} or more").format(minimum=minimum)


def number_above_zero() -> str:
    return _("a number above 0")


# The server window.

def to_everyone() -> str:
    return _("To: everyone")


def to_member(name: str) -> str:
    return _("To: {name}").format(name=name)


def to_member_gone(name: str) -> str:
    return _("To: {name} (not in the room)").format(name=name)


def target_hint(last_private: str | None, private: bool = False) -> str:
    if private:
        return _("Esc or \u2715 writes to everyone again")
    if last_private:
        return _("Ctrl+R answers {name} privately").format(name=last_private)
    return _("right-click a member to write privately, kick, mute or ban")


def target_gone(name: str) -> str:
    return _("{name} is no longer in the room; your line was not sent.").format(name=name)


def target_renamed(old: str, new: str) -> str:
    return _("{old} is now known as {new}; your line was not sent.").format(old=old, new=new)


def private_to_you() -> str:
    return _("privately to you")


def private_passed(n: int) -> str:
    """The status line's count of members' private lines to each other (never their text)."""
    return n_("{n} private line between members", "{n} private lines between members", n).format(n=n)


def menu_write_privately() -> str:
    return _("Write privately")


def menu_kick() -> str:
    return _("Kick…")


def menu_mute() -> str:
    return _("Mute")


def menu_minutes(minutes: int) -> str:
    if minutes % 60 == 0:
        return n_("{n} hour", "{n} hours", minutes // 60).format(n=minutes // 60)
    return n_("{n} minute", "{n} minutes", minutes).format(n=minutes)


def menu_unmute() -> str:
    return _("Unmute")


def menu_ban() -> str:
    return _("Ban…")


def menu_bans() -> str:
    return _("Bans…")


def muted_column() -> str:
    return _("Muted")


def kick_title(name: str) -> str:
    return _("Kick {name}").format(name=name)


def kick_prompt(name: str) -> str:
    return _("Why? {name} is told this (you may leave it empty).").format(name=name)


def kick_button() -> str:
    return _("Kick")


def ban_title(name: str) -> str:
    return _("Ban {name}?").format(name=name)


def ban_question(name: str, address: str) -> str:
    if address:
        return _("{name} is removed and kept out, and so is everyone joining from {address} (behind one "
                 "router, that can be a whole class), until you lift the ban.").format(name=name, address=address)
    return _("{name} is removed and cannot come back by that name until you lift the ban.").format(name=name)


def ban_button() -> str:
    return _("Ban")


def cancel_button() -> str:
    return _("Cancel")


def bans_title() -> str:
    return _("Bans")


def name_heading() -> str:
    return _("Name")


def address_heading() -> str:
    return _("Address")


def unban_button() -> str:
    return _("Unban")


def close_button() -> str:
    return _("Close")


def firewall_commands(port: int, system: str) -> list[tuple[str, str]]:
    """The commands that allow the chat port on this system, each with what it is
    for. The commands are commands, not sentences: never translated."""
    if system == "win32":
        return [(_("In PowerShell or cmd opened as administrator:"),
                 f'netsh advfirewall firewall add rule name="LAN Chat" dir=in action=allow protocol=UDP localport={port}')]
    if system == "darwin":
        return [(_("In Terminal:"),
                 "sudo /usr/libexec/ApplicationFirewall/socketfilterfw --unblockapp /Applications/ChatServer.app")]
    return [(_("In a terminal (ufw):"), f"sudo ufw allow {port}/udp"),
            (_("Or, with firewalld:"), f"sudo firewall-cmd --add-port={port}/udp")]


def firewall_hint(port: int) -> str:
    """Nobody reached a room listening on the network: the likely cause."""
    return _("Nobody has reached this room yet. If others get no answer, this machine's firewall may be "
             "blocking UDP port {port}. To allow it:").format(port=port)


def firewall_more() -> str:
    return _("More, for every system: docs/firewall.md")


def copy_button() -> str:
    return _("Copy")


def copied() -> str:
    return _("Copied")


# Rooms on the LAN (discovery).

def default_room_name(host: str) -> str:
    """The room's name when the operator gave none: the machine's name, as others know it."""
    return _("{host}'s room").format(host=host)


def room_name_wanted() -> str:
    return _("a name of 1 to {n} characters").format(n=MAX_ROOM_CHARS)


def room_listing(room: FoundRoom) -> str:
    """One line of ``--list``: NAME, ADDRESS, how many are in, and "locked" when it is
    (tab-separated, so a script can cut the columns)."""
    count = n_("{n} member", "{n} members", room.members).format(n=room.members)
    return "\t".join([_shown(room.name), room.label, count] + ([_("locked")] if room.locked else []))


def no_rooms(seconds: float) -> str:
    return _("No room answered on the network within {seconds:g} s. Is a server running, and does its "
             "firewall let UDP in? Give its address with --server instead.").format(seconds=seconds)


# The server window's room name and reachability self-test.

def room_label() -> str:
    return _("Room")


def rename_room_button() -> str:
    return _("Rename")


def room_renamed(name: str) -> str:
    return _("The room is now called “{name}”; clients looking for rooms see the new name.").format(name=name)


def networks_heading(short: bool = False) -> str:
    return _("Address to give out") if short else _("This machine's networks")


def reached_column() -> str:
    return _("Heard from")


def nobody_reached_yet() -> str:
    return _("not yet")


def reach_hint(addresses: list[str]) -> str:
    """Networks where nobody has looked for or joined the room yet: a plain hint, not an alarm."""
    return _("Nobody on the network of {addresses} has looked for this room yet; if people there cannot "
             "find it, see docs/firewall.md.").format(addresses=_(" or ").join(addresses))


# The connect form's list of rooms, and its help.

def rooms_heading() -> str:
    return _("Rooms on this network")


def rooms_looking() -> str:
    return _("Looking for rooms on this network…")


def rooms_none() -> str:
    return _("No room has answered yet. Type the server's address below.")


def rooms_found(n: int) -> str:
    return n_("{n} room found: double-click it to join.", "{n} rooms found: double-click one to join.", n).format(n=n)


def room_help_link() -> str:
    return _("Room not listed?")


def or_type_address() -> str:
    return _("Or type the server's address:")


def room_help_title() -> str:
    return _("Room not listed")


def room_help_text(port: int) -> str:
    return _("Ask the person running ChatServer for the address its window shows (for example "
             "{example}) and type it in Server. The list only shows rooms on your own network: "
             "across a router or a VPN, type the address. If the address gets no answer either, the "
             "firewall of the server's machine must let UDP port {port} in; on that machine, as an "
             "administrator:").format(port=port, example=EXAMPLE_ADDRESS)


def system_name(system: str) -> str:
    return {"win32": "Windows", "darwin": "macOS"}.get(system, "Linux")
