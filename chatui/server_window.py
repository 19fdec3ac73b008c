"""The server window: the room as the server sees it, and the server's own voice."""
from __future__ import annotations

import tkinter as tk
from tkinter import ttk
from typing import Callable

from chatfront.commands import Help, Msg, Quit, Say, Who, parse
from chatfront.i18n import _
from chatfront.wording import ago, explain, members, mistake, notice, server_help, server_speaks_as_server, \
    server_status
from udpcore import ChatError, PortBusyError, events as ev, format_addr
from udpnet import ServerTransport, local_addresses, start_server

from .chat_view import ChatView
from .history import Entry
from .leaving import LeavingWindow
from .poller import QueuePoller
from .theme import Palette



def title() -> str:
    return _("LAN Chat Server")


def columns() -> tuple[tuple[str, str, int], ...]:
    return (("address", _("Address"), 150), ("heard", _("Last heard"), 90))


class ServerApp(LeavingWindow):
    """Owns the server window and the server transport. ``send``, ``exit`` and
    ``handle`` are plain methods so tests drive them directly."""

    def __init__(self, root: tk.Tk, palette: Palette, host: str | None = None, port: int = 5002,
                 allow_guests: bool = True,
                 start: Callable[..., ServerTransport] = start_server) -> None:
        self.root = root
        self.host, self.allow_guests, self.start = host, allow_guests, start
        self.transport: ServerTransport | None = None
        self.poller: QueuePoller | None = None
        self.leaving = False
        self.exit_code = 0
        self.relayed = 0
        self.member_count = 0
        self.where = ""
        root.title(title())
        root.protocol("WM_DELETE_WINDOW", self.exit)
        self.view = ChatView(root, palette, on_send=self.send, on_exit=self.exit, on_pick=self.pick,
                             member_columns=columns(), members_width=390)
        self.view.pack(fill="both", expand=True)
        self.target = ttk.Label(self.view, anchor="w", foreground=palette.muted)
        self.target.grid(row=3, column=0, sticky="ew")
        self.view.members.tree.bind("<<TreeviewSelect>>", lambda e: self._show_target(), add="+")
        self.view.entry.entry.bind("<Escape>", lambda e: self.clear_target())
        self._show_target()
        self.listen(port)

    # --- listening --------------------------------------------------------------------

    def listen(self, port: int) -> bool:
        """Listen on ``port``; a busy port (or a bad --host) is a dialog, not a traceback."""
        try:
            self.transport = self.start(self.host, port, allow_guests=self.allow_guests)
        except ChatError as exc:
            PortDialog(self.root, explain(exc), port, self.listen, self._give_up,
                       can_retry=isinstance(exc, PortBusyError))
            return False
        host, real_port = self.transport.address
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
        self.poller = QueuePoller(self.root, self.transport.events, self.handle)
        self._status()
        return True

    def _give_up(self) -> None:
        self.exit_code = 2
        self.close_window()

    # --- what the person running the server does ------------------------------------------

    def send(self, text: str) -> None:
        """A line to the room (or the selected member), or one of the server's commands."""
        if self.transport is None:
            return
        cmd = parse(text)
        note: Entry | None = None
        if isinstance(cmd, Quit):
            self.exit()
        elif isinstance(cmd, Msg):
            self.transport.say_to(cmd.to, cmd.text)
        elif isinstance(cmd, Say) and not cmd.action:
            to = self.view.members.selected()
            if to is None:
                self.transport.say(cmd.text)
            else:
                self.transport.say_to(to, cmd.text)
        elif isinstance(cmd, Who):
            note = Entry("notice", members(self.view.members.names()))
        elif isinstance(cmd, Help):
            note = Entry("notice", server_help())
        elif cmd is not None:
            note = Entry("error", mistake(cmd) or server_speaks_as_server())
        if note is not None:
            self.view.history.append([note])

    def pick(self, name: str) -> None:
        self.view.members.tree.selection_set(name)
        self.view.entry.entry.focus_set()

    def clear_target(self) -> None:
        self.view.members.tree.selection_set(())
        self._show_target()

    def _show_target(self) -> None:
        to = self.view.members.selected()
        self.target.configure(text=_("Your lines go privately to {name} — Esc to answer everyone").format(name=to)
                              if to else _("Your lines go to everyone — select a member to answer privately"))

    def exit(self) -> None:
        """Tell every client the room is closing, then close the window."""
        self.leave(_("Closing the room…"), timeout=1.5)

    # --- events ----------------------------------------------------------------------------

    def handle(self, events: list[ev.Event]) -> None:
        entries: list[Entry] = []
        for e in events:
            if isinstance(e, ev.RoomLine):
                entries.append(Entry("line", e.text, e.sender, e.action,
                                     _("to {name}").format(name=e.private_to) if e.private_to else ""))
            elif isinstance(e, (ev.MemberJoined, ev.MemberLeft, ev.MemberRenamed, ev.CommandError)):
                entries.append(Entry("error" if isinstance(e, ev.CommandError) else "notice",
                                     notice(e, addresses=True) or ""))
            elif isinstance(e, ev.Stats):
                self.relayed = e.relayed
                self.member_count = len(e.members)
                self.view.members.set_members(
                    (m.name, (m.address + (_(" (guest)") if m.guest else ""), ago(m.idle))) for m in e.members)
                self._show_target()
                self._status()
            elif isinstance(e, ev.Closed):
                self.transport = None
                if self.leaving:
                    self.close_window()
                    return
        if entries:
            self.view.history.append(entries)

    def _status(self) -> None:
        if self.transport is None or self.leaving:
            return
        self.view.status.set(server_status(self.where, self.member_count, self.relayed))


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
        self.message = ttk.Label(frame, text=sentence, wraplength=340, justify="left")
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
