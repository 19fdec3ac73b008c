"""Every error the chat raises, in one place.

Two families, as h11 has: :class:`ProtocolError` is a peer breaking the protocol
(the engines catch it, drop the datagram and count it; a person never sees it),
and :class:`ChatError` is something a person must be told about. A ChatError
carries data, not a sentence: ``chatfront.wording.explain`` words it in the
reader's language. ``str()`` is only a short English fallback for logs.
Anything else escaping the core is a bug.
"""
from __future__ import annotations

from enum import Enum


class ProtocolError(Exception):
    """A datagram (or message) from the network that breaks the protocol."""


class VersionError(ProtocolError):
    """The magic matched but the version is one we do not speak."""

    def __init__(self, version: int) -> None:
        super().__init__(f"unsupported protocol version {version}")
        self.version = version


class DecryptError(ProtocolError):
    """A protected datagram that does not open: forged, damaged, under a key we
    do not hold, or a packet number outside what the receiver accepts. The one
    error ``udpcore.protection`` raises for anything a peer sent it."""


class ReplayedPacket(DecryptError):
    """A packet number already opened, or older than the anti-replay window."""


class HandshakeError(ProtocolError):
    """A key share or SPAKE2 message that cannot be used (wrong length, not a
    point, a low-order point, a reflected message)."""


class ChatError(Exception):
    """A failure a person must be told about (see chatfront.wording.explain).

    Two errors of one class with the same fields are equal, as the events that
    carry them are."""

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.__dict__ == self.__dict__

    def __hash__(self) -> int:
        return hash((type(self), tuple(sorted(self.__dict__.items(), key=lambda kv: kv[0]))))


class NameProblem(Enum):
    """Why a name cannot be used."""

    BLANK = "blank"
    TOO_LONG = "too-long"
    BAD_CHARACTER = "bad-character"     # spaces, line breaks, control and invisible format characters
    RESERVED = "reserved"               # "server", "guest-…"
    LOOKS_RESERVED = "looks-reserved"   # looks like "server" or "guest-…" (Cyrillic "ѕerver")
    MARKS = "marks"                     # a combining mark first, or too many stacked on one letter


class InvalidName(ChatError):
    def __init__(self, name: str, problem: NameProblem) -> None:
        super().__init__(f"invalid name {name!r}: {problem.value}")
        self.name, self.problem = name, problem


class NameTaken(ChatError):
    def __init__(self, name: str) -> None:
        super().__init__(f"name taken: {name!r}")
        self.name = name


class NoSuchMember(ChatError):
    def __init__(self, name: str) -> None:
        super().__init__(f"no member called {name!r}")
        self.name = name


class LineTooLong(ChatError):
    """``size`` and ``limit`` in bytes of UTF-8 (what the wire counts); ``chars``: the
    line's length in characters, so a person can be told how much to cut (0: unknown)."""

    def __init__(self, size: int, limit: int, chars: int = 0) -> None:
        super().__init__(f"line of {size} bytes; the limit is {limit}")
        self.size, self.limit, self.chars = size, limit, chars

    def chars_over(self) -> int:
        """About how many characters to cut: the bytes over the limit, at this line's
        own bytes per character (Portuguese about 1.1, Chinese 3, emoji 4)."""
        if not self.chars or self.size <= self.limit:
            return 0
        return -(-(self.size - self.limit) * self.chars // self.size)


class NotInRoom(ChatError):
    """A line or command after leaving, or after the room closed."""

    def __init__(self) -> None:
        super().__init__("not in the room")


class BacklogFull(ChatError):
    """Too much is waiting to be sent to one peer; the message was not queued.

    The server drops a member whose backlog fills (it cannot take the room's
    pace); the client refuses the line and says so, never silently."""

    def __init__(self) -> None:
        super().__init__("send backlog full")


class VersionMismatch(ChatError):
    """The server speaks another protocol version."""

    def __init__(self, detail: str = "") -> None:
        super().__init__(f"protocol version mismatch {detail}".strip())
        self.detail = detail


class RoomFull(ChatError):
    def __init__(self) -> None:
        super().__init__("room full")


class HostFull(ChatError):
    """The server already holds as many members from this IP address as it allows."""

    def __init__(self) -> None:
        super().__init__("too many members from this address")


class Banned(ChatError):
    """The operator banned this name or address; joining is refused."""

    def __init__(self) -> None:
        super().__init__("banned from this room")


class RateLimited(ChatError):
    """A line or command over the member's rate; ``wait``: seconds until one may go."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"too fast: wait {wait:g} s")
        self.wait = wait


class Muted(ChatError):
    """The operator muted us; ``wait``: seconds of the mute left."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"muted for {wait:g} s more")
        self.wait = wait


class NotBanned(ChatError):
    """``unban`` of a name no ban holds."""

    def __init__(self, name: str) -> None:
        super().__init__(f"no ban for {name!r}")
        self.name = name


class PassphraseNeeded(ChatError):
    """The room is locked and we were given no passphrase for it."""

    def __init__(self, room: str) -> None:
        super().__init__(f"room {room!r} is locked")
        self.room = room


class WrongPassphrase(ChatError):
    """The server's key confirmation did not check: our passphrase is not the room's."""

    def __init__(self, room: str) -> None:
        super().__init__(f"wrong passphrase for room {room!r}")
        self.room = room


class NotLocked(ChatError):
    """We hold a passphrase, but the room says it is open: refused, since whoever
    answers for the server could be stripping the lock."""

    def __init__(self, room: str) -> None:
        super().__init__(f"room {room!r} is not locked")
        self.room = room


class TooManyGuesses(ChatError):
    """Too many unconfirmed passphrase attempts from our IP address; ``wait`` seconds."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"too many passphrase attempts: wait {wait:g} s")
        self.wait = wait


class RefusedByServer(ChatError):
    """A refusal this client does not know the code of; the server's own sentence."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class AddressProblem(Enum):
    EMPTY = "empty"
    UNCLOSED_BRACKET = "unclosed-bracket"
    AFTER_BRACKET = "after-bracket"
    NO_HOST = "no-host"
    BAD_PORT = "bad-port"
    IPV4_PARTS = "ipv4-parts"         # only digits and dots, but not four numbers: 192.168.1
    IPV4_NUMBER = "ipv4-number"       # four numbers, one above 255: 192.168.1.300


class AddressError(ChatError):
    """A server address the user typed that cannot be parsed."""

    def __init__(self, text: str, problem: AddressProblem) -> None:
        super().__init__(f"bad address {text!r}: {problem.value}")
        self.text, self.problem = text, problem


# --- raised by the I/O layer (udpnet), defined here so every program can catch them ---


class UnknownHost(ChatError):
    def __init__(self, host: str) -> None:
        super().__init__(f"cannot resolve {host!r}")
        self.host = host


class PortBusyError(ChatError):
    """The port is taken (or, with ``forbidden``, this user may not use it);
    ``last``: every port from ``port`` to ``last`` was tried and taken."""

    def __init__(self, port: int, forbidden: bool = False, last: int | None = None) -> None:
        super().__init__(f"port {port}{f'-{last}' if last else ''} {'forbidden' if forbidden else 'busy'}")
        self.port, self.forbidden, self.last = port, forbidden, last


class NotLocalAddress(ChatError):
    def __init__(self, host: str) -> None:
        super().__init__(f"{host!r} is not an address of this machine")
        self.host = host


class SocketError(ChatError):
    """The system refused a socket operation; ``detail`` is its own message."""

    def __init__(self, detail: str, port: int | None = None) -> None:
        super().__init__(f"socket error: {detail}")
        self.detail, self.port = detail, port


class NoSuchRoom(ChatError):
    """What was typed as the server is neither an address nor the name of a room that answered."""

    def __init__(self, name: str) -> None:
        super().__init__(f"no server or room called {name!r}")
        self.name = name


class SameNameRooms(ChatError):
    """Several rooms on the network answer to the name typed: the address must be given."""

    def __init__(self, name: str, addresses: tuple[str, ...]) -> None:
        super().__init__(f"{len(addresses)} rooms called {name!r}")
        self.name, self.addresses = name, addresses
