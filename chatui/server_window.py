"""The server window: the room as the server sees it, the server's own voice,
and the operator's tools (kick, mute, ban, the bans kept across restarts, and
locking the room with a passphrase)."""
from __future__ import annotations

import sys
import time
import tkinter as tk
from tkinter import ttk
from typing import Callable

from chatfront.bans import BanFile
from chatfront.commands import Help, Msg, Quit, Say, Usage, Who, parse
from chatfront.datadir import data_dir as default_data_dir
from chatfront.i18n import _
from chatfront.launch import open_clients
from chatfront.lock_wording import room_unlocked_note
from chatfront.options import default_room
from chatfront.reachability import reachability
from chatfront.moderation import Bans, Mute, parse_moderation, perform_moderation
from chatfront.wording import ago, explain, members, mistake, notice, server_help, server_speaks_as_server, \
    server_status
from chatfront.wording import guest_mark, room_locked_note, room_renamed
from chatfront.wording import (bans_changed, bans_loaded, close_room_button, close_room_question, close_room_title,
                               moderation_help, mute_left, muted_column, operator_usage, private_passed,
                               private_to_you, target_gone, target_hint, target_renamed, clients_not_opened,
                               port_moved)
from udpcore import room_name
from udpcore import SERVER_NAME, ChatError, PortBusyError, events as ev, format_addr, name_key, too_long
from udpnet import HistoryInUse, HistoryUnavailable, ServerTransport, local_addresses, local_networks, start_server

from . import moderation
from .chat_view import ChatView
from .firewall_box import FirewallBox
from .lock_bar import LockBar
from .keys import SERVER_COMMANDS
from .member_list import address_key
from .member_moderation import MemberModeration
from .reach_table import ReachTable
from .room_name_bar import RoomNameBar
from .history import Entry
from chatfront.history_wording import no_history
from .history_actions import HistoryTools, history_notice, history_problem
from .leaving import LeavingWindow, on_close
from .poller import QueuePoller
from .target import TargetChip
from .scaling import wrap_at
from .theme import Palette

NETWORKS_EVERY = 10.0        # seconds between two readings of this machine's interfaces
FIREWALL_HINT_AFTER = 60.0   # seconds of a room nobody reached before the firewall is suggested


def title() -> str:
    return _("LAN Chat Server")


def columns() -> tuple[tuple[str, str, int], ...]:
    return (("address", _("Address"), 170), ("heard", _("Last heard"), 90), ("muted", muted_column(), 70))


class ServerApp(MemberModeration, HistoryTools, LeavingWindow):
    """Owns the server window and the server transport. ``send``, ``exit``,
    ``handle`` and the moderation actions (``MemberModeration``) are plain methods so tests drive them directly.

    The private target (``to``) is a value of its own, not the list's
    selection: it stays when its member leaves or renames, and a line to a
    member no longer in the room is refused with a sentence, never sent to
    everyone instead.

    ``passphrase`` (from --passphrase-file or LANCHAT_PASSPHRASE) starts the
    room locked; the operator locks and unlocks it from the bar at the top."""

    def __init__(self, root: tk.Tk, palette: Palette, host: str | None = None, port: int = 5002,
                 allow_guests: bool = True,
                 start: Callable[..., ServerTransport] = start_server, *,
                 limits=None, data_dir: str | None = None, tries: int = 1, open_names: tuple[str, ...] = (),
                 launch: Callable[..., list] = open_clients, room: str = "", passphrase: str = "",
                 history_dir: str | None = None, history_days: float = 30, keep_history: bool = True) -> None:
        self.root = root
        self.passphrase = passphrase          # the room's, while it is locked; "" when open
        self.lock_bar: LockBar | None = None
        self.room = room or default_room()    # --room, else "HOSTNAME's room"
        self.room_bar: RoomNameBar | None = None
        self.reach: ReachTable | None = None
        self.networks: list[tuple[str, str, int]] = []
        self.networks_read = -NETWORKS_EVERY  # when the interface list was last read (monotonic)
        self.host, self.allow_guests, self.start, self.limits = host, allow_guests, start, limits
        self.tries = tries                    # --port-fallback: ports from the asked one it may take
        self.open_names = open_names          # --open-clients: started once it listens, on its real port
        self.launch = launch
        # The room's history (None and keep_history: none at all, as tests that do not care want it).
        self.history = {"history_dir": history_dir, "history_days": history_days, "keep_history": keep_history}
        self.children: list = []              # the client programs it started
        self.transport: ServerTransport | None = None
        self.poller: QueuePoller | None = None
        self.leaving = False
        self.exit_code = 0
        self.relayed = 0
        self.flooded = False          # between PortFlooded(True) and PortFlooded(False)
        self.where = ""
        self.passed = 0                       # members' private lines to each other: counted, never shown
        self.reached = False                  # has anyone (member or guest) come in since it opened?
        self.present: dict[str, str] = {}     # name key -> name: who is in the room now
        self.member_rows: dict[str, ev.MemberInfo] = {}
        self.to: str | None = None            # the private target, or None: everyone
        self.gone: str | None = None          # why the target cannot be written to (a sentence), or None
        self.last_private: str | None = None  # the last member who wrote to the operator privately
        self.bans_window: moderation.BansWindow | None = None
        self.firewall_box: FirewallBox | None = None
        self.palette = palette
        self.store = BanFile(default_data_dir(data_dir))
        self.bans, problem = self.store.load()
        root.title(title())
        on_close(root, self.exit)
        self.view = ChatView(root, palette, on_send=self.send, on_exit=self.exit, on_pick=self.write_privately,
                             member_columns=columns(), members_width=490,
                             on_search=self.search_history, on_save=self.save_history)
        self.view.pack(fill="both", expand=True)
        self.view.history.tag_of = self._private_tag
        # The chip sits right above the line being typed (the view's row 1).
        self.view.entry.grid_configure(pady=(4, 0))
        self.chip = TargetChip(self.view, palette, on_clear=self.clear_target)
        self.chip.grid(row=1, column=0, sticky="ew", pady=(8, 0))
        self.view.members.tree.bind("<<TreeviewSelect>>", lambda e: self._selected(), add="+")
        self._bind_member_menu()
        entry = self.view.entry.entry
        entry.bind("<Escape>", lambda e: self.clear_target(), add="+")   # after the view's own (search, /msg)
        self.view.keys.completer.commands = SERVER_COMMANDS
        entry.bind("<Control-r>", lambda e: (self.answer_last(), "break")[1])
        self._show_target()
        if problem:
            self.view.history.append([Entry("error", problem)])
        if self.bans:
            self.view.history.append([Entry("notice", bans_loaded(len(self.bans), self.store.path))])
        if not keep_history:
            self.view.history.append([Entry("notice", no_history())])
        self.listen(port)

    # --- listening --------------------------------------------------------------------

    def listen(self, port: int) -> bool:
        """Listen on ``port``; a busy port (or a bad --host) is a dialog, not a traceback."""
        options = {"allow_guests": self.allow_guests, "bans": self.bans}
        if self.limits is not None:
            options["limits"] = self.limits
        if self.tries > 1:
            options["tries"] = self.tries
        if self.room:
            options["room"] = self.room
        if self.passphrase:
            options["passphrase"] = self.passphrase
        if self.history["history_dir"] is not None or not self.history["keep_history"]:
            options.update(self.history)
        try:
            self.transport = self.start(self.host, port, **options)
        except HistoryUnavailable as exc:          # the room goes on, its history in memory only
            self.view.history.append([Entry("error", history_problem("unavailable", exc.reason))])
            self.history.update(history_dir=None, keep_history=False)
            return self.listen(port)
        except HistoryInUse as exc:                # another server has this folder: one sentence, and Quit
            PortDialog(self.root, history_problem("in-use", str(exc.path)), port, self.listen, self._give_up,
                       can_retry=False)
            return False
        except ChatError as exc:
            tried = exc.last if isinstance(exc, PortBusyError) and exc.last else port   # suggest the one after
            PortDialog(self.root, explain(exc), tried, self.listen, self._give_up,
                       can_retry=isinstance(exc, PortBusyError))
            return False
        host, real_port = self.transport.address
        if port and real_port != port:             # first: why the address below is not the one asked for
            self.view.history.append([Entry("notice", port_moved(port, real_port))])
        if host in ("::", "0.0.0.0"):
            everywhere = [format_addr((a, real_port)) for a in local_addresses()]
            if not everywhere:
                everywhere = [_("localhost:{port} (this machine has no network address)").format(port=real_port)]
            more = len(everywhere) - 3
            self.where = ", ".join(everywhere[:3]) + (_(" (+{n} more)").format(n=more) if more > 0 else "")
            self.view.history.append([Entry("notice", _("Listening on every address of this machine; "
                                                      "others connect to {addresses}").format(
                addresses=_(" or ").join(everywhere)))])
        else:
            self.where = format_addr((host, real_port))
            self.view.history.append([Entry("notice", _("Listening on {where}").format(where=self.where))])
        self.root.title(_("{title} — port {port}").format(title=title(), port=real_port))
        self._room_tools(host)
        self.poller = QueuePoller(self.root, self.transport.events, self.handle)
        self._status()
        self._open_clients()
        if not host.startswith("127.") and host != "::1":      # others can only come over the network
            self.root.after(int(FIREWALL_HINT_AFTER * 1000), self._firewall_hint)
        return True

    def _room_tools(self, host: str) -> None:
        """The room's name, editable, over everything; and, listening on the network,
        the reachability self-test under the member list."""
        name = getattr(self.transport, "room", "")
        if self.room_bar is None and hasattr(self.transport, "rename_room"):
            self.room_bar = RoomNameBar(self.root, name, self.rename_room)
            self.room_bar.pack(before=self.view, fill="x")
            if hasattr(self.transport, "lock"):
                self.lock_bar = LockBar(self.room_bar, self.palette, self.lock_room, locked=bool(self.passphrase))
                self.lock_bar.pack(side="left", padx=(16, 0))
        if self.passphrase:
            self.view.history.append([Entry("notice", room_locked_note())])
        if self.reach is None and not host.startswith("127.") and host != "::1":
            self.reach = ReachTable(self.view.side, self.palette)
            self.reach.pack(fill="x", side="bottom", before=self.view.members)   # its space first
            self._reach([], [])

    def rename_room(self, name: str) -> str:
        """The operator renamed the room: clients looking for rooms see it in their next listing."""
        if self.transport is None:
            return name
        announced = room_name(name)               # as the engine will clean and cut it
        self.transport.rename_room(announced)
        self.view.history.append([Entry("notice", room_renamed(announced))])
        return announced

    def lock_room(self, passphrase: str) -> None:
        """Lock the room with ``passphrase`` ("": open it). Members already in stay;
        whoever joins next needs it."""
        if self.transport is None:
            return
        self.transport.lock(passphrase)
        self.passphrase = passphrase
        if self.lock_bar is not None:
            self.lock_bar.show(bool(passphrase))
        self.view.history.append([Entry("notice", room_locked_note() if passphrase else room_unlocked_note())])

    def _reach(self, looked, members) -> None:
        if self.reach is None or self.transport is None:
            return
        now = time.monotonic()
        if now - self.networks_read >= NETWORKS_EVERY:       # interfaces come and go (Wi-Fi, VPN)
            self.networks_read = now
            host = self.transport.address[0]
            self.networks = [n for n in local_networks() if host in ("::", "0.0.0.0") or n[1] == host]
        self.reach.show(reachability(self.networks, self.transport.address[1], looked, members))

    def _open_clients(self) -> None:
        """--open-clients: only now, listening, so they join this room's real port
        and never a stranger's, and no dialog of ours can be hidden behind them."""
        names, self.open_names = self.open_names, ()
        if not names or self.transport is None:
            return
        # A locked room's passphrase goes to them in their environment, never in their command line.
        secret = {"passphrase": self.passphrase} if self.passphrase else {}
        try:
            self.children = self.launch(names, self.transport.address, **secret)
        except OSError as exc:
            self.view.history.append([Entry("error", clients_not_opened(exc.strerror or str(exc)))])

    def _firewall_hint(self) -> None:
        """Still nobody after FIREWALL_HINT_AFTER: say what usually keeps them out."""
        if self.reached or self.transport is None or self.leaving:
            return
        port = self.transport.address[1]
        self.firewall_box = FirewallBox(self.root, self.palette, port, sys.platform)
        self.firewall_box.pack(before=self.view, fill="x")

    def _give_up(self) -> None:
        self.exit_code = 2
        self.close_window()

    # --- what the person running the server types -------------------------------------------

    def send(self, text: str) -> bool | None:
        """A line to the room (or the private target), or one of the server's commands.
        False: refused before it went (too long), so the entry keeps it."""
        if self.transport is None:
            return None
        mod = parse_moderation(text)
        cmd = parse(text) if mod is None else None
        note: Entry | None = None
        refused = too_long(cmd.text) if isinstance(cmd, (Say, Msg)) else None
        if refused is not None:
            self.view.history.append([Entry("error", explain(refused))])
            return False
        if isinstance(mod, Usage):
            note = Entry("error", operator_usage(mod.command))
        elif isinstance(mod, Bans):
            self.show_bans()
        elif isinstance(mod, Mute):
            self.mute_member(mod.name, mod.minutes)
        elif mod is not None:
            perform_moderation(mod, self.transport)
        elif isinstance(cmd, Quit):
            self.exit()
        elif isinstance(cmd, Msg):
            self.transport.say_to(cmd.to, cmd.text)
        elif isinstance(cmd, Say) and not cmd.action:
            if self.to is None:
                self.transport.say(cmd.text)
            elif self.gone is not None:
                note = Entry("error", self.gone)          # never re-addressed: refused, and kept to edit
                self.view.entry.prefill(text)
            else:
                self.transport.say_to(self.to, cmd.text)
        elif isinstance(cmd, Who):
            note = Entry("notice", members(self.view.members.names()))
        elif isinstance(cmd, Help):
            note = Entry("notice", server_help() + "\n" + moderation_help())
        elif cmd is not None:
            note = Entry("error", mistake(cmd) or server_speaks_as_server())
        if note is not None:
            self.view.history.append([note])

    # --- the private target ----------------------------------------------------------------

    def write_privately(self, name: str) -> None:
        """Make ``name`` the target of the next lines (double-click, the menu, Ctrl+R)."""
        self.to = self.present.get(name_key(name), name)
        self.gone = None if name_key(name) in self.present else target_gone(name)
        tree = self.view.members.tree
        if tree.exists(self.to) and tuple(tree.selection()) != (self.to,):
            tree.selection_set(self.to)
        self._show_target()
        self.view.entry.entry.focus_set()

    pick = write_privately

    def answer_last(self) -> None:
        if self.last_private:
            self.write_privately(self.last_private)

    def clear_target(self) -> None:
        self.to = self.gone = None
        self.view.members.tree.selection_set(())
        self._show_target()

    def _selected(self) -> None:
        """A member chosen in the list becomes the target; a selection that merely
        disappears (the member left) changes nothing."""
        name = self.view.members.selected()
        if name is not None and name != self.to:
            self.write_privately(name)

    def _show_target(self) -> None:
        self.chip.show(self.to, gone=self.gone is not None)
        self.chip.set_hint(target_hint(self.last_private, private=self.to is not None))

    # --- the room's history ------------------------------------------------------------------

    @staticmethod
    def _private_tag(line: ev.HistoryLine) -> str:
        if line.private_to and name_key(line.private_to) == name_key(SERVER_NAME):
            return private_to_you()
        return _("to {name}").format(name=line.private_to) if line.private_to else ""

    # --- closing -----------------------------------------------------------------------------

    def exit(self) -> None:
        """Tell every client the room is closing, then close the window; with
        people in the room, only once the operator has said so."""
        n = len(self.present)
        if n and not self.leaving and self.transport is not None and not moderation.confirm(
                self.root, close_room_title(), close_room_question(n), close_room_button()):
            return
        self.leave(_("Closing the room…"), timeout=1.5)

    # --- events ----------------------------------------------------------------------------

    def handle(self, events: list[ev.Event]) -> None:
        entries: list[Entry] = []
        for e in events:
            if isinstance(e, ev.RoomLine):
                if e.private_to is not None and name_key(e.private_to) == name_key(SERVER_NAME):
                    tag = private_to_you()
                    self.last_private = e.sender
                    self._show_target()
                else:
                    tag = _("to {name}").format(name=e.private_to) if e.private_to else ""
                entries.append(Entry("line", e.text, e.sender, e.action, tag, when=e.at or None, seq=e.seq))
            elif isinstance(e, ev.HistoryLines):
                self.view.history.append(entries)
                entries = []
                self.view.history.show_block(e)
            elif isinstance(e, ev.SearchResults):
                self.view.show_results(e)
            elif (note := history_notice(e)) is not None:
                entries.append(note)
            elif isinstance(e, ev.PrivatePassed):
                self.passed += 1
                self._status()
            elif isinstance(e, ev.CommandError):
                entries.append(Entry("error", explain(e.error)))
            elif isinstance(e, ev.BansChanged):
                entries += [Entry("notice", s) for s in bans_changed(self.bans, e.bans)]
                self.bans = e.bans
                if (problem := self.store.save(e.bans)) is not None:
                    entries.append(Entry("error", problem))
                if self.bans_window is not None and self.bans_window.winfo_exists():
                    self.bans_window.refresh(e.bans)
            elif isinstance(e, ev.Stats):
                self._stats(e)
            elif isinstance(e, ev.PortFlooded):
                self.flooded = e.on                   # kept in the status line while it lasts
                entries.append(Entry("notice", notice(e)))
                self._status()
            elif isinstance(e, ev.Closed):
                self.transport = None
                if self.leaving:
                    self.close_window()
                    return
            elif not isinstance(e, ev.Listening):           # said once already, with every address
                self._track(e)
                if (text := notice(e, addresses=True)):
                    entries.append(Entry("notice", text))
        if entries:
            self.view.history.append(entries)

    def _track(self, e: ev.Event) -> None:
        """Who is in the room, between two Stats, and whether the target still is."""
        if isinstance(e, (ev.MemberJoined, ev.Crowd)):
            self.reached = True
            if self.firewall_box is not None:          # someone got through: the advice is moot
                self.firewall_box.destroy()
                self.firewall_box = None
        if isinstance(e, ev.MemberJoined):
            self.present[name_key(e.name)] = e.name
        elif isinstance(e, ev.MemberLeft):
            self.present.pop(name_key(e.name), None)
            if self._is_target(e.name):
                self.gone = target_gone(self.to or e.name)
                self._show_target()
        elif isinstance(e, ev.MemberRenamed):
            self.present.pop(name_key(e.old), None)
            self.present[name_key(e.new)] = e.new
            if self._is_target(e.old):
                self.gone = target_renamed(self.to or e.old, e.new)
                self._show_target()

    def _is_target(self, name: str) -> bool:
        return self.to is not None and self.gone is None and name_key(name) == name_key(self.to)

    def _stats(self, e: ev.Stats) -> None:
        self.relayed = e.relayed
        self._reach(e.looked, [(m.address, m.idle) for m in e.members])
        self.member_rows = {name_key(m.name): m for m in e.members}
        self.present = {k: m.name for k, m in self.member_rows.items()}
        if self.to is not None and self.gone is None and name_key(self.to) not in self.present:
            self.gone = target_gone(self.to)      # left unnamed (in a crowd, say): still refused
        self.view.members.set_members(
            (m.name, (m.address + (guest_mark() if m.guest else ""), ago(m.idle), mute_left(m.muted)),
             (address_key(m.address), m.idle, m.muted)) for m in e.members)
        self._show_target()
        self._status()

    def _status(self) -> None:
        if self.transport is None or self.leaving:
            return
        text = server_status(self.where, len(self.present), self.relayed, self.flooded)
        if self.passed:
            text += "  ·  " + private_passed(self.passed)
        self.view.status.set(text)


class PortDialog(tk.Toplevel):
    """A busy port: one sentence, a field for another port, Listen or Quit.
    Without ``can_retry`` (a bad --host) only the sentence and Quit."""

    def __init__(self, master: tk.Tk, sentence: str, port: int,
                 retry: Callable[[int], bool], quit_: Callable[[], None], can_retry: bool = True) -> None:
        super().__init__(master)
        self.title(_("Cannot listen"))
        self.transient(master)
        self.resizable(False, False)
        self.retry, self.quit_ = retry, quit_
        frame = ttk.Frame(self, padding=20)
        frame.pack(fill="both", expand=True)
        self.message = wrap_at(ttk.Label(frame, text=sentence, justify="left"), 340)
        self.message.grid(row=0, column=0, columnspan=3, sticky="w", pady=(0, 12))
        buttons = ttk.Frame(frame)
        buttons.grid(row=2, column=0, columnspan=3, sticky="e", pady=(16, 0))
        self.quit_button = ttk.Button(buttons, text=_("Quit"), command=self._quit)
        self.quit_button.pack(side="right")
        self.port = tk.StringVar(self, str(port + 1 if 0 < port < 65535 else 5003))
        self.entry = ttk.Entry(frame, textvariable=self.port, width=8)
        if can_retry:
            ttk.Label(frame, text=_("Port")).grid(row=1, column=0, sticky="w", padx=(0, 8))
            self.entry.grid(row=1, column=1, sticky="w")
            ttk.Button(buttons, text=_("Listen"), command=self.listen,
                       style="Accent.TButton").pack(side="right", padx=(0, 8))
            self.entry.bind("<Return>", lambda e: self.listen())
            self.entry.select_range(0, "end")
            self.entry.focus_set()
        self.protocol("WM_DELETE_WINDOW", self._quit)
        self.bind("<Escape>", lambda e: self._quit())

    def listen(self) -> None:
        text = self.port.get().strip()
        if not text.isdigit() or not 0 <= int(text) < 65536:
            self.message.configure(text=_("'{text}' is not a port number (0-65535).").format(text=text))
            return
        self.destroy()
        self.retry(int(text))

    def _quit(self) -> None:
        self.destroy()
        self.quit_()
