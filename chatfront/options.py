"""Command-line options shared by the windows and the headless programs.

Both entry scripts parse with these parsers first and only then decide whether
to import Tk, so ``--headless`` never needs a display.
"""
from __future__ import annotations

import argparse
import os
import platform

from udpcore import DEFAULT_PORT, DISCOVERY_PORTS, ChatError, Limits, __version__, room_name

from udpcore import HISTORY_PAGE_LINES as PAGE_LINES

from .datadir import data_dir
from .history_wording import whole_number_between
from .i18n import _, language_code
from .launch import names_option
from .passphrase import ENV_VAR
from .wording import passphrase_not_on_command_line
from .wording import bad_option, default_room_name, explain, number_above_zero, room_name_wanted, \
    whole_number_from

def default_room() -> str:
    """The room's name when the operator gave none: "HOSTNAME's room"."""
    return room_name(default_room_name(platform.node()))


# --port-fallback: the ports a room may move to, from --port on (5002-5011 by default;
# LAN discovery asks exactly these, so a moved room is still found).
FALLBACK_PORTS = 10


class _Parser(argparse.ArgumentParser):
    """A mistake in the options is one sentence after the program's name, status 2:
    no usage block, never a traceback."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"{self.prog}: {message}\n")


def _whole(option: str, minimum: int, maximum: int | None = None):
    """argparse type: a whole number of at least ``minimum`` (and at most ``maximum``),
    else one sentence naming ``option``."""
    def convert(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum or (maximum is not None and value > maximum):
            wanted = whole_number_from(minimum) if maximum is None else whole_number_between(minimum, maximum)
            raise argparse.ArgumentError(None, bad_option(option, text, wanted))
        return value
    return convert


def _names(text: str) -> tuple[str, ...]:
    """argparse type of --open-clients: names the room would take, else one sentence."""
    try:
        return names_option(text)
    except ChatError as exc:
        raise argparse.ArgumentError(None, "--open-clients: " + explain(exc)) from None


def port_tries(args: argparse.Namespace) -> int:
    """How many ports from --port the server may try."""
    return FALLBACK_PORTS if getattr(args, "port_fallback", False) else 1


def _positive(option: str):
    """argparse type: a number above 0 (rates: lines a second)."""
    def convert(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = 0.0
        if not 0 < value < float("inf"):          # also refuses nan
            raise argparse.ArgumentError(None, bad_option(option, text, number_above_zero()))
        return value
    return convert


# Every field of udpcore.Limits is an option: (field, minimum for a count or None for a rate, help).
def _limit_options() -> tuple[tuple[str, int | None, str], ...]:
    return (
        ("max_members", 1, _("members the room holds at most (guests apart)")),
        ("max_per_address", 1, _("members from one IP address at most (a class behind one router shares one)")),
        ("line_rate", None, _("lines a second a member may keep up")),
        ("line_burst", 1, _("lines a member may send at once on top of that rate")),
        ("max_guests", 1, _("plain-text guests (nc -u) at most")),
        ("guest_line_chars", 1, _("longer guest lines are cut to this many characters")),
        ("guest_rate", None, _("lines a second one guest address may keep up")),
        ("guest_burst", 1, _("lines a guest may send at once on top of that rate")),
        ("guests_rate", None, _("guest lines a second for the whole room, all guests together")),
        ("named_joins", 0, _("joins and leaves named one by one each second; beyond, the room is told a count")),
        ("discover_rate", None, _("answers a second to one address looking for rooms")),
        ("discover_burst", 1, _("answers to one address looking for rooms at once on top of that rate")),
        ("discovers_rate", None, _("answers a second to everyone looking for rooms together")),
        ("discover_hosts", 1, _("addresses looking for rooms that are answered at once")),
        ("handshake_rate", None, _("key agreements a second for everyone joining together")),
        ("handshake_burst", 1, _("key agreements at once on top of that rate")),
        ("locked_handshake_rate", None, _("passphrase checks (SPAKE2) a second, when the room is locked")),
        ("max_pending", 1, _("joins waiting for the newcomer's first sealed packet at most")),
        ("guess_burst", 1, _("unconfirmed passphrase attempts one IP address may make at once")),
        ("guess_rate", None, _("then attempts a second one IP address may keep up")),
        ("fetch_rate", None, _("pages of past lines a second one member may ask for")),
        ("fetch_burst", 1, _("pages of past lines a member may ask for at once on top of that rate")),
        ("fetches_rate", None, _("pages of past lines a second for the whole room together")),
        ("fetches_burst", 1, _("pages of past lines the whole room may ask for at once")),
    )


HISTORY_DAYS = 30       # --history-days: how long the server keeps room lines
REPLAY = 100            # --replay: the room's last lines a new member is shown
HISTORY_FOLDER = "history"     # below the data folder; the transports choose what goes inside


def history_folder(args: argparse.Namespace) -> str:
    """Where the history lives: ``<data folder>/history`` (``--data-dir``, else the user's)."""
    return os.path.join(data_dir(getattr(args, "data_dir", None)), HISTORY_FOLDER)


def server_history(args: argparse.Namespace) -> dict:
    """The history keywords of udpnet.start_server the parsed server options ask for
    (the headless server and the window pass the same). ``--no-history``: no folder at all,
    so nothing is opened or locked on disk."""
    keep = not getattr(args, "no_history", False)
    return {"history_dir": history_folder(args) if keep else None,
            "history_days": getattr(args, "history_days", HISTORY_DAYS), "keep_history": keep}


def client_history(args: argparse.Namespace) -> dict:
    """The history keywords of udpnet.start_client the parsed client options ask for;
    the caller adds ``catch_up`` (the terminal: None, every missed line; a window: a cap)."""
    return {"history_dir": history_folder(args), "replay": getattr(args, "replay", REPLAY)}


def limits_from(args: argparse.Namespace) -> Limits:
    """The Limits record the parsed server options ask for."""
    return Limits(**{field: getattr(args, field) for field, _m, _h in _limit_options()})


def _room(option: str):
    """argparse type: a room's name, cleaned and cut as it will be announced; not blank."""
    def convert(text: str) -> str:
        name = room_name(text)
        if not name:
            raise argparse.ArgumentError(None, bad_option(option, text, room_name_wanted()))
        return name
    return convert


def _ports(option: str):
    """argparse type: ports to look for rooms on, as ``5002``, ``5002-5011`` or ``5002,6000``."""
    def convert(text: str) -> tuple[int, ...]:
        out: list[int] = []
        try:
            for part in text.split(","):
                low, _sep, high = part.strip().partition("-")
                out += range(int(low), int(high or low) + 1)
        except ValueError:
            out = []
        if not out or len(out) > 100 or not all(0 < p < 65536 for p in out):
            raise argparse.ArgumentError(None, bad_option(option, text, _("ports such as 5002, 5002-5011 or "
                                                                          "5002,6000 (at most 100)")))
        return tuple(dict.fromkeys(out))
    return convert


def server_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="ChatServer",
        description=_("LAN chat server over UDP. Opens a window unless --headless is given."),
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}",
                   help=_("show the version number and exit"))   # argparse 3.11 does not translate its own
    p.add_argument("--headless", action="store_true",
                   help=_("run without a window: print room events, read lines to send from stdin"))
    p.add_argument("--host", default=None,
                   help=_("address to listen on (default: all IPv6 and IPv4 addresses)"))
    p.add_argument("--port", type=int, default=DEFAULT_PORT,
                   help=_("UDP port to listen on (default {port}; 0 picks a free one)").format(port=DEFAULT_PORT))
    p.add_argument("--room", metavar="NAME", type=_room("--room"), default=default_room(),
                   help=_("the room's name, as clients looking for rooms on the network see it "
                          "(at most 40 characters; default: %(default)s)"))
    p.add_argument("--port-fallback", action="store_true",
                   help=_("if the port is taken, listen on the next free one of the {n} from it "
                          "({first}-{last} by default)").format(n=FALLBACK_PORTS, first=DEFAULT_PORT,
                                                                last=DEFAULT_PORT + FALLBACK_PORTS - 1))
    p.add_argument("--open-clients", metavar="NAMES", type=_names, default=(),
                   help=_("once listening, open a client window for each of these comma-separated "
                          "names, joined to this server's real port"))
    p.add_argument("--no-guests", action="store_true",
                   help=_("ignore plain-text datagrams instead of treating them as guest lines"))
    p.add_argument("--data-dir", metavar="DIR", default=None,
                   help=_("folder for what the server keeps across restarts: the bans and the room's history "
                          "(default: the user's data folder for LanChat)"))
    p.add_argument("--history-days", metavar="N", type=_positive("--history-days"), default=HISTORY_DAYS,
                   help=_("keep the room's lines this many days (default {days})").format(days=HISTORY_DAYS))
    p.add_argument("--no-history", action="store_true",
                   help=_("keep no history on disk: recent lines are held in memory only while the server runs"))
    _passphrase(p, _("lock the room: joining needs the passphrase in FILE (or in the {var} environment "
                     "variable); never typed on the command line, where others can see it"))
    _theme(p)
    _language(p)
    limits = p.add_argument_group(_("limits"), _("what one room accepts; the defaults suit a class or a LAN party"))
    defaults = Limits()
    for field, minimum, text in _limit_options():
        option = "--" + field.replace("_", "-")
        default = getattr(defaults, field)
        limits.add_argument(option, metavar="N", default=default,
                            type=_positive(option) if minimum is None else _whole(option, minimum),
                            help=_("{what} (default {default})").format(what=text, default=f"{default:g}"))
    return p


def client_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="ChatClient",
        description=_("LAN chat client over UDP. Opens a window unless --headless is given."),
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}",
                   help=_("show the version number and exit"))   # argparse 3.11 does not translate its own
    p.add_argument("--headless", action="store_true",
                   help=_("run in the terminal: lines typed are sent, room lines are printed"))
    p.add_argument("--server", default=None,
                   help=_("server as HOST, HOST:PORT or [IPv6]:PORT (default port {port}), or the name of a room on "
                          "the network (see --list)").format(port=DEFAULT_PORT))
    p.add_argument("--name", default=None, help=_("your name in the room"))
    p.add_argument("--list", action="store_true",
                   help=_("print the rooms that answer on the network within 2 s, one a line "
                          "(name, address, members), and exit; status 1 when none did"))
    p.add_argument("--ports", metavar="PORTS", type=_ports("--ports"), default=DISCOVERY_PORTS,
                   help=_("ports to look for rooms on, for --list and for a room's name given as --server "
                          "(default {low}-{high})").format(low=DISCOVERY_PORTS[0], high=DISCOVERY_PORTS[-1]))
    p.add_argument("--data-dir", metavar="DIR", default=None,
                   help=_("folder for this computer's copy of the rooms' history, one per server, room and name "
                          "(default: the user's data folder for LanChat)"))
    p.add_argument("--replay", metavar="N", type=_whole("--replay", 0, PAGE_LINES), default=REPLAY,
                   help=_("on joining a room for the first time, show its last N lines (at most {most}; "
                          "default {n}; 0: none)").format(n=REPLAY, most=PAGE_LINES))
    _passphrase(p, _("a locked room's passphrase, read from FILE (or from the {var} environment variable)"))
    _theme(p)
    _language(p)
    return p


class _NoPassphraseValue(argparse.Action):
    """``--passphrase X`` is refused with a sentence (argparse would otherwise take
    it as an abbreviation of --passphrase-file and look for a file called X)."""

    def __call__(self, parser, namespace, values, option_string=None):
        parser.error(passphrase_not_on_command_line())


def _passphrase(p: argparse.ArgumentParser, text: str) -> None:
    p.add_argument("--passphrase-file", metavar="FILE", default=None, help=text.format(var=ENV_VAR))
    p.add_argument("--passphrase", nargs="?", action=_NoPassphraseValue, help=argparse.SUPPRESS)


def _theme(p: argparse.ArgumentParser) -> None:
    p.add_argument("--theme", choices=("auto", "light", "dark"), default="auto",
                   help=_("window colours (default: follow the system)"))


def _language(p: argparse.ArgumentParser) -> None:
    """--lang: read before any parser is built (chatfront.i18n.choose_language, first
    thing in main), so --help is already in it; here it is checked and shown in --help."""
    def convert(text: str) -> str:
        if (code := language_code(text)) is None:
            raise argparse.ArgumentError(None, bad_option("--lang", text, _("en or pt_BR")))
        return code
    p.add_argument("--lang", metavar="LANG", type=convert, default=None,
                   help=_("language of the windows and messages: en or pt_BR "
                          "(default: the system's language)"))
