"""The terminal programs: ``gui_server.py --headless`` and ``gui_client.py --headless``.

Thin: they print what arrives on the transport's queue and send what is typed
on stdin. Exit status: 0 after a clean end; 1 when the name is refused, the
server cannot be reached or closed the room, the operator removed us,
anything typed was not delivered, or the history folder cannot be used (another
server holds it); 2 for a busy port or a bad option.

The room's history prints in the live form between markers scripts rely on
(:class:`HistoryPrinter`); a closed room still ends the client (``rejoin=False``):
waiting for the room to open again is the windows' way, not a script's.
"""
from __future__ import annotations

import argparse
import queue
import signal
import sys
import threading
import time

from udpcore import BacklogFull, ChatError, Muted, NoSuchMember, NotInRoom, RateLimited, events as ev, name_key
from udpnet import (HistoryInUse, HistoryUnavailable, discover, local_addresses, server_or_room, start_client,
                    start_server)

from .bans import BanFile
from .commands import Command, Help, Msg, Quit, Save, Say, Search, Usage, Who, parse, perform, saved_path
from .datadir import data_dir
from .i18n import _
from .moderation import Bans, Mute, parse_moderation, perform_moderation
from .launch import open_clients
from .options import client_history, limits_from, port_tries, server_history
from . import history_wording as hw
from .wording import describe, explain, failure, members, mistake, more_not_sent, server_help, client_help, \
    server_speaks_as_server, undelivered, no_rooms, room_listing
from .passphrase import passphrase_from
from .wording import clients_not_opened, port_moved, room_locked_note
from .wording import bans_changed, bans_list, bans_loaded, exit_again, moderation_help, muted_for, \
    operator_usage, unmuted

BUSY_PAUSE = 0.02      # seconds the headless server waits between batches when events pour in


def _setup_stdio() -> None:
    """A pipe carries UTF-8, whatever the system's code page: a Windows pipe is
    otherwise in the ANSI code page (cp1252), and PyInstaller's programs ignore
    PYTHONUTF8. A byte that is not UTF-8 becomes U+FFFD instead of ending the
    input. A terminal keeps the encoding it has (Windows consoles are Unicode)."""
    for stream in (sys.stdin, sys.stdout, sys.stderr):
        options: dict = {"errors": "replace"}
        if stream is not sys.stdin:
            options["line_buffering"] = True
        try:
            if not stream.isatty():
                options["encoding"] = "utf-8"
            stream.reconfigure(**options)  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            pass


def _stdin_lines(handle, done: threading.Event) -> threading.Thread:
    """Feed each stdin line to ``handle`` on a thread; set ``done`` when it returns False or EOF."""
    def run() -> None:
        try:
            for line in sys.stdin:
                if handle(line.rstrip("\r\n")) is False:
                    break
        except (OSError, ValueError):
            pass
        done.set()
    t = threading.Thread(target=run, name="stdin", daemon=True)
    t.start()
    return t


def _fail(program: str, sentence: str) -> None:
    """One sentence on stderr, after the program's name (a name, never translated)."""
    print(f"{program}: {sentence}", file=sys.stderr)


CONSOLE_GRACE = 4.5     # Windows ends a process 5 s after closing its console: leave within it


def _on_signals(stop: threading.Event) -> threading.Event:
    """Ctrl-C, SIGTERM and (Windows) Ctrl-Break stop the program the clean way; so
    do closing the console window, logging off and shutting down, which on Windows
    arrive as console control events, not signals. Returns the event the program
    sets once it has finished (told the room, or left it)."""
    finished = threading.Event()

    def handler(signum, frame) -> None:
        stop.set()
    for sig in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGBREAK", None)):
        if sig is None:
            continue
        try:
            signal.signal(sig, handler)
        except (ValueError, OSError):
            pass
    if sys.platform == "win32":
        _watch_console(_console_handler(stop, finished))
    return finished


def _console_handler(stop: threading.Event, finished: threading.Event):
    """What a console control event does: CTRL_C and CTRL_BREAK go on as signals;
    closing the console (2), logging off (5) and shutting down (6) stop the program
    and hold Windows off until it has finished, as long as Windows allows."""
    def on_event(event: int) -> bool:
        if event not in (2, 5, 6):
            return False                  # Ctrl-C, Ctrl-Break: Python's signal handlers
        stop.set()
        finished.wait(CONSOLE_GRACE)
        return True
    return on_event


def _watch_console(on_event) -> None:
    import ctypes
    routine = ctypes.WINFUNCTYPE(ctypes.c_bool, ctypes.c_uint)(on_event)   # type: ignore[attr-defined]
    _watch_console.keep = routine         # type: ignore[attr-defined]   # alive as long as the process
    ctypes.windll.kernel32.SetConsoleCtrlHandler(routine, True)            # type: ignore[attr-defined]


class _Room:
    """Who is in the room, as the headless server's events tell it (it asks for no Stats):
    the names told one by one, and how many more a crowd brought (joins beyond
    --named-joins a second are counted, not named). For /who, /mute and exit."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.unnamed = 0

    def __len__(self) -> int:
        return len(self.names) + self.unnamed

    def track(self, e: ev.Event) -> None:
        if isinstance(e, ev.MemberJoined):
            self.names.append(e.name)
        elif isinstance(e, ev.MemberLeft):
            if e.name in self.names:
                self.names.remove(e.name)
            else:
                self.unnamed = max(0, self.unnamed - 1)
        elif isinstance(e, ev.MemberRenamed):
            self.names[:] = [e.new if n == e.old else n for n in self.names]
        elif isinstance(e, ev.Crowd):
            self.unnamed = max(0, self.unnamed + e.joined - e.left)


class HistoryPrinter:
    """The terminal's lines for the history's events: the contract scripts rely on.

    A replay for a new member ("earlier") or a catch-up ("missed") prints its lines
    in the live form (``NAME: TEXT``) between ``* earlier in this room:`` (or
    ``* while you were away:``) and ``* (live)``; a block of several pages has one
    marker before its first page and ``* (live)`` after its last (``done``).
    ``more`` (lines beyond the block that were not sent) is said before its lines.
    A block with nothing in it prints nothing, markers included. The client's own
    copy ("stored") was printed when it was received, so it is not printed again;
    "older" pages are the windows' scrolling back, never asked for here."""

    BLOCKS = {"earlier": hw.earlier_marker, "missed": hw.missed_marker}

    def __init__(self, history_path: str | None = None) -> None:
        self.open: str | None = None        # the kind of the block being printed, until done
        self.history_path = history_path    # the server's history file, for "damaged"

    def lines(self, e: ev.Event, me: str = "") -> list[str] | None:
        """The lines to print for ``e`` (maybe none), or None when ``e`` is no history event."""
        if isinstance(e, ev.HistoryLines):
            return self._block(e, me)
        if isinstance(e, ev.SearchResults):
            # Newest last: a terminal is read from the top down, and the summary ends it.
            return [hw.search_line(line, me) for line in reversed(e.lines)] + ["* " + hw.search_summary(e)]
        if isinstance(e, ev.MembersBack):
            return ["* " + hw.members_back(e)]
        if isinstance(e, ev.HistoryProblem):
            return ["* " + hw.problem(e, self.history_path)]
        if isinstance(e, ev.HistorySaved):
            return ["* " + hw.saved(e)]
        return None

    def _block(self, e: ev.HistoryLines, me: str) -> list[str]:
        marker = self.BLOCKS.get(e.kind)
        if marker is None:
            return []
        out: list[str] = []
        if (e.lines or e.more) and self.open != e.kind:
            out.append(marker())
            self.open = e.kind
        if e.more and self.open:
            out.append(hw.more_lines_headless(e.more))
        out += [hw.room_line(line, me) for line in e.lines]
        if e.done and self.open:
            out.append(hw.live_marker())
            self.open = None
        return out


def history_usage(cmd: Command | None) -> str | None:
    """The usage sentence for ``/search`` or ``/save`` typed without what they need."""
    if isinstance(cmd, Usage) and cmd.command == "/search":
        return hw.search_usage()
    if isinstance(cmd, Usage) and cmd.command == "/save":
        return hw.save_usage()
    return None


def _load_bans(args: argparse.Namespace) -> tuple[BanFile, tuple[ev.Ban, ...], list[str]]:
    """The bans kept from the last run, and the notices to print about them."""
    store = BanFile(data_dir(getattr(args, "data_dir", None)))
    bans, problem = store.load()
    notes = [problem] if problem else []
    if bans:
        notes.append(bans_loaded(len(bans), store.path))
    return store, bans, notes


def run_server(args: argparse.Namespace, **start_options) -> int:
    """``start_options`` go to udpnet.start_server (benchmarks' what-ifs)."""
    _setup_stdio()
    try:
        start_options.setdefault("passphrase", passphrase_from(getattr(args, "passphrase_file", None)))
    except ChatError as exc:
        _fail("ChatServer", explain(exc))
        return 2
    store, bans, first = _load_bans(args)
    if start_options["passphrase"]:
        first.append(room_locked_note())
    start_options.setdefault("limits", limits_from(args))
    if port_tries(args) > 1:
        start_options.setdefault("tries", port_tries(args))
    for option, value in server_history(args).items():
        start_options.setdefault(option, value)
    if not start_options["keep_history"]:
        first.append(hw.no_history())
    try:
        srv = start_server(args.host, args.port, allow_guests=not args.no_guests, stats=False, bans=bans,
                           room=getattr(args, "room", ""), **start_options)
    except ChatError as exc:
        _fail("ChatServer", explain(exc))
        return 2
    except (HistoryInUse, HistoryUnavailable) as exc:      # another server on the folder, or no folder
        _fail("ChatServer", hw.cannot_start(exc))
        return 1
    stop = threading.Event()
    finished = _on_signals(stop)
    room = _Room()
    notes: queue.SimpleQueue[str] = queue.SimpleQueue()
    if args.port and srv.address[1] != args.port:
        first.append(port_moved(args.port, srv.address[1]))
    if getattr(args, "open_clients", ()):
        try:
            open_clients(args.open_clients, srv.address, passphrase=start_options["passphrase"],
                         data_dir=getattr(args, "data_dir", None))
        except OSError as exc:
            first.append(clients_not_opened(exc.strerror or str(exc)))
    for sentence in first:
        notes.put("* " + sentence)
    exit_asked = False              # ``exit`` with members in asks once; the next ``exit`` closes
    bans_now: tuple[ev.Ban, ...] = bans
    history = HistoryPrinter(getattr(srv, "history_path", None))

    def typed(line: str) -> bool:
        nonlocal exit_asked
        mod = parse_moderation(line)
        cmd = parse(line) if mod is None else None
        if isinstance(cmd, Quit):
            if len(room) and not exit_asked:
                exit_asked = True
                notes.put("* " + exit_again(len(room)))
                return True
            stop.set()
            return False
        if mod is not None or cmd is not None:
            exit_asked = False
        if (usage := history_usage(cmd)) is not None:
            notes.put("* " + usage)
        elif isinstance(cmd, Search):
            srv.search(cmd.words)
        elif isinstance(cmd, Save):
            srv.save_history(saved_path(cmd.path))
        elif isinstance(mod, Usage):
            notes.put("* " + operator_usage(mod.command))
        elif isinstance(mod, Bans):
            notes.put("* " + bans_list(bans_now))
        elif mod is not None:
            if isinstance(mod, Mute) and name_key(mod.name) in {name_key(n) for n in room.names}:
                notes.put("* " + (muted_for(mod.name, mod.minutes) if mod.minutes > 0 else unmuted(mod.name)))
            perform_moderation(mod, srv)
        elif isinstance(cmd, Msg):
            srv.say_to(cmd.to, cmd.text)
        elif isinstance(cmd, Say) and not cmd.action:
            srv.say(cmd.text)
        elif isinstance(cmd, Who):
            notes.put("* " + members(list(room.names)))
        elif isinstance(cmd, Help):
            notes.put(server_help() + "\n" + hw.history_help() + "\n" + moderation_help())
        elif cmd is not None:
            notes.put("* " + (mistake(cmd) or server_speaks_as_server()))
        return True

    eof = threading.Event()            # end of input only stops reading: a room started by a script stays up
    _stdin_lines(typed, eof)
    while not stop.is_set():
        try:
            batch = [srv.events.get(timeout=0.2)]
        except queue.Empty:
            batch = []
        batch += srv.events.get_all()
        lines = []
        for e in batch:
            if type(e) is not ev.RoomLine:        # the commonest event needs no tracking
                room.track(e)
                if (shown := history.lines(e)) is not None:
                    lines += shown
                    continue
                if isinstance(e, ev.BansChanged):
                    lines += ["* " + s for s in bans_changed(bans_now, e.bans)]
                    bans_now = e.bans
                    if (problem := store.save(e.bans)) is not None:
                        lines.append("* " + problem)
                    continue
                if isinstance(e, ev.CommandError):
                    lines.append("* " + explain(e.error))
                    continue
            if (text := describe(e)):
                lines.append(text)
            if isinstance(e, ev.Listening) and args.host is None:
                others = ", ".join(f"{a}:{srv.address[1]}" if ":" not in a else f"[{a}]:{srv.address[1]}"
                                   for a in local_addresses())
                if others:
                    lines.append("* " + _("clients on the network can connect to: {addresses}").format(
                        addresses=others))
        while not notes.empty():
            lines.append(notes.get())
        if lines:
            print("\n".join(lines))                # one write for the whole batch
        if len(batch) > 1:
            # A busy room: pause, so the socket thread runs without this thread
            # taking the GIL from it after every line (CPython's convoy effect);
            # a lone event is still printed at once.
            stop.wait(BUSY_PAUSE)
    srv.close()
    while True:
        e = srv.events.get()
        if isinstance(e, ev.Closed):
            break
        text = describe(e)
        if text:
            print(text)
    print("* " + _("the room is closed"))
    finished.set()
    return 0


class _Problems:
    """Lines typed and not delivered: the first sentence is printed, the rest counted,
    so a refused flood costs one line on stderr, not thousands."""

    def __init__(self) -> None:
        self.pending: dict[int, str | None] = {}     # msg_id -> recipient, until echoed
        self.told = False
        self.more = 0

    def line_failed(self, sentence: str) -> None:
        if self.told:
            self.more += 1
        else:
            self.told = True
            _fail("ChatClient", sentence)

    def private_failed(self, to: str) -> None:
        """ERROR no such member: the oldest private line to ``to`` still pending."""
        for msg_id, name in self.pending.items():
            if name == to:
                del self.pending[msg_id]
                return

    def finish(self, not_taken: int) -> bool:
        """Say what was never delivered; True when anything was not."""
        if self.more:
            _fail("ChatClient", more_not_sent(self.more))
        lost = len(self.pending) + not_taken
        if lost:
            _fail("ChatClient", undelivered(lost))
        return self.told or lost > 0


_LINE_ERRORS = (BacklogFull, NotInRoom, RateLimited, Muted, NoSuchMember)   # a typed line or command not done


ANSWER_WAIT = 10.0     # seconds the client, its input ended, waits for /search and /save to be answered
# After joining, the room's replay or catch-up starts within a round trip; a session that
# has none shows none: /search waits this long for one to start (the engine does not say
# "nothing to catch up"), then searches the copy as it is.
SETTLE = 1.0
LIST_TIME = 2.0        # seconds --list (and a room's name given as --server) waits for rooms to answer


def run_list(args: argparse.Namespace) -> int:
    """``--list``: one line per room that answered, status 0; none: a sentence, status 1."""
    _setup_stdio()
    rooms = discover(LIST_TIME, getattr(args, "ports", None))
    if not rooms:
        _fail("ChatClient", no_rooms(LIST_TIME))
        return 1
    print("\n".join(room_listing(r) for r in rooms))
    return 0


def run_client(args: argparse.Namespace) -> int:
    """Exit status 1 when anything typed was not delivered (refused, a full backlog,
    still unsent at the end, removed, the room closed or lost), else 0."""
    _setup_stdio()
    try:
        # An address or host name first; else a room of that name on the LAN (2 s at most).
        passphrase = passphrase_from(getattr(args, "passphrase_file", None))
        # catch_up=None: every line missed is printed (paged by the transport), however many.
        # rejoin=False: when the room closes the terminal ends (status 1); only windows wait for it.
        cli = start_client(server_or_room(args.server, LIST_TIME, getattr(args, "ports", None)), args.name,
                           passphrase=passphrase, catch_up=None, rejoin=False, **client_history(args))
    except ChatError as exc:
        _fail("ChatClient", explain(exc))
        return 1
    except (HistoryInUse, HistoryUnavailable) as exc:
        _fail("ChatClient", hw.cannot_start(exc, server=False))
        return 1
    stop = threading.Event()
    finished = _on_signals(stop)
    notes: queue.SimpleQueue[str] = queue.SimpleQueue()
    asked = [0]                        # /search and /save sent (the stdin thread counts them) ...
    answered = 0                       # ... and answered: the end of input waits for the answers
    caught_up = threading.Event()      # in the room, and what it sends on joining is here
    in_room_at: float | None = None    # when the session began (InRoom), while no block has come yet

    def typed(line: str) -> bool:
        if stop.is_set():
            return False                   # leaving: the rest of the input is not read
        cmd = parse(line)
        if cmd is None:
            return True
        if isinstance(cmd, Quit):
            return False
        if isinstance(cmd, (Say, Msg)):
            cli.wait_for_room()            # a pipe waits for the server rather than overrun it
            if stop.is_set():
                return False
        if isinstance(cmd, (Search, Save)):
            # The client searches its own copy: first let it hold what the room sends on
            # joining (a newcomer's replay, a catch-up), so a script's first /search finds it.
            by = time.monotonic() + ANSWER_WAIT
            while not caught_up.wait(0.05) and not stop.is_set() and time.monotonic() < by:
                pass
            if stop.is_set():
                return False
            asked[0] += 1
        if (usage := history_usage(cmd)) is not None:
            notes.put("* " + usage)
            return True
        cmd = perform(cmd, cli)
        if isinstance(cmd, Help):
            notes.put(client_help() + "\n" + hw.history_help())
        elif cmd is not None:
            notes.put("* " + (mistake(cmd) or ""))
        return True

    typed_all = threading.Event()
    _stdin_lines(typed, typed_all)     # exit, /quit or end of input: leave, once searches are answered
    answers_by: float | None = None
    status = 0
    leaving = False
    problems = _Problems()
    pending = problems.pending
    history = HistoryPrinter()
    while True:
        if in_room_at is not None and time.monotonic() - in_room_at > SETTLE:
            caught_up.set()                # nothing to catch up: no block came
            in_room_at = None
        if typed_all.is_set() and not stop.is_set():
            answers_by = answers_by or time.monotonic() + ANSWER_WAIT
            if answered >= asked[0] or time.monotonic() > answers_by:
                stop.set()
        if stop.is_set() and not leaving:
            leaving = True
            threading.Thread(target=cli.close, kwargs={"timeout": 15.0}, daemon=True).start()
        while not notes.empty():
            print(notes.get())
        try:
            e = cli.events.get(timeout=0.1)
        except queue.Empty:
            continue
        if isinstance(e, ev.Closed):
            break
        if isinstance(e, ev.InRoom):       # a fresh session: a replay or a catch-up may follow
            caught_up.clear()
            in_room_at = time.monotonic()
            continue
        if isinstance(e, ev.HistoryLines) and e.kind in HistoryPrinter.BLOCKS:
            in_room_at = None
            if e.done:
                caught_up.set()
        if (shown := history.lines(e, cli.name)) is not None:
            if isinstance(e, (ev.SearchResults, ev.HistorySaved)) or (
                    isinstance(e, ev.HistoryProblem) and e.kind == "save-failed"):
                answered += 1
            if shown:
                print("\n".join(shown))
            continue
        if isinstance(e, ev.LinePending):
            pending[e.msg_id] = e.private_to
            continue
        if isinstance(e, ev.RoomLine) and e.own and e.msg_id is not None:
            pending.pop(e.msg_id, None)
        elif isinstance(e, ev.LineRefused):
            pending.pop(e.msg_id, None)
            problems.line_failed(explain(e.error))
            continue
        elif isinstance(e, ev.CommandError) and isinstance(e.error, _LINE_ERRORS):
            if isinstance(e.error, NoSuchMember):
                problems.private_failed(e.error.name)
            problems.line_failed(explain(e.error))
            continue
        sentence = failure(e)
        if sentence is not None:
            _fail("ChatClient", sentence)
            status = 1
            stop.set()                     # nothing more can be sent: stop reading
            continue
        text = describe(e, cli.name)
        if text:
            print(text)
    while not notes.empty():
        print(notes.get())
    if problems.finish(cli.not_taken):
        status = 1
    finished.set()
    return status
