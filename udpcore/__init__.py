"""udpcore: the LAN chat protocol, pure (sans I/O, as h11 and aioquic).

Bytes, addresses and time go in; datagrams to send and typed events come out.
Nothing here opens a socket, starts a thread, reads the clock or words a
sentence for a person: the socket thread is ``udpnet``, the wording and the
terminal programs are ``chatfront``, the windows are ``chatui``.

What a program built on the chat needs is exported here (``__all__``).
"""
from __future__ import annotations

from . import events
from .addresses import format_addr, parse_server
from .appmsg import LeaveReason
from .client import CONNECT_TIMEOUT, LEAVE_TIMEOUT, ClientEngine
from .client_state import State as ClientState
from .discovery import DISCOVERY_PORTS, MAX_ROOM_CHARS, FoundRoom, RoomList, encode_discover, room_name
from .engine import Engine
from .errors import (AddressError, AddressProblem, BacklogFull, Banned, ChatError, HostFull, InvalidName,
                     LineTooLong, Muted, NameProblem, NameTaken, NoSuchMember, NotBanned, NotInRoom,
                     NoSuchRoom, NotLocalAddress, NotLocked, PassphraseNeeded, PortBusyError, ProtocolError,
                     RateLimited, RefusedByServer, RoomFull, SameNameRooms, SocketError, TooManyGuesses, UnknownHost,
                     VersionMismatch, WrongPassphrase)
from .events import Event
from .guests import CONTINUATION, GUEST_TIMEOUT
from .limits import Limits
from .names import MAX_TEXT_LINES, SERVER_NAME, check_name, clean_message, clean_text, name_key, name_problem, too_long
from .peer import MEMBER_TIMEOUT, SERVER_TIMEOUT
from .pastmsg import PAGE_LINES as HISTORY_PAGE_LINES
from .server import ServerEngine
from .wire import DEFAULT_PORT, MAX_MESSAGE_TEXT, MAX_NAME_CHARS, VERSION as PROTOCOL_VERSION

__version__ = "1.0.0"

__all__ = [
    "__version__", "events", "Event", "Engine", "ServerEngine", "ClientEngine", "ClientState", "Limits",
    "LeaveReason", "format_addr", "parse_server", "check_name", "clean_text", "clean_message", "too_long",
    "MAX_TEXT_LINES", "CONTINUATION", "name_key", "name_problem",
    "DEFAULT_PORT", "PROTOCOL_VERSION", "HISTORY_PAGE_LINES", "MAX_MESSAGE_TEXT", "MAX_NAME_CHARS", "SERVER_NAME",
    "CONNECT_TIMEOUT", "LEAVE_TIMEOUT", "MEMBER_TIMEOUT", "SERVER_TIMEOUT", "GUEST_TIMEOUT",
    "ChatError", "AddressError", "AddressProblem", "BacklogFull", "InvalidName", "LineTooLong",
    "NameProblem", "NameTaken", "NoSuchMember", "NotInRoom", "NotLocalAddress", "PortBusyError",
    "ProtocolError", "RefusedByServer", "RoomFull", "SocketError", "UnknownHost", "VersionMismatch",
    "Banned", "HostFull", "Muted", "NotBanned", "RateLimited",
    "DISCOVERY_PORTS", "MAX_ROOM_CHARS", "FoundRoom", "RoomList", "encode_discover", "room_name",
    "NoSuchRoom", "SameNameRooms", "PassphraseNeeded", "WrongPassphrase", "NotLocked", "TooManyGuesses",
]
