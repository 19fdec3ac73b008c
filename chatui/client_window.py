"""The client window: the connect form, then the chat."""
from __future__ import annotations

import tkinter as tk
from typing import Callable

from udpcore import events as ev
from udpcore.transport import ChatError, ClientTransport, start_client

from . import settings
from .chat_view import ChatView
from .connect_form import ConnectForm
from .poller import QueuePoller
from .history import Entry
from .leaving import LeavingWindow
from .theme import Palette

TITLE = "LAN Chat"
LEFT = {"left": "left", "vanished": "vanished (no answer for 20 s)", "expired": "left (silent guest)",
        "too-slow": "was dropped (too slow to keep up)"}


def left_why(reason: str) -> str:
    return LEFT.get(reason, f"was dropped ({reason})")


class ClientApp(LeavingWindow):
    """Owns the window's content and the transport. Handlers are plain methods
    (``connect``, ``send``, ``exit``, ``handle``) so tests drive them directly."""

    def __init__(self, root: tk.Tk, palette: Palette, server: str | None = None, name: str | None = None,
                 start: Callable[[str, str], ClientTransport] = start_client) -> None:
        self.root = root
        self.palette = palette
        self.start = start
        self.transport: ClientTransport | None = None
        self.poller: QueuePoller | None = None
        self.view: ChatView | None = None
        self.me = ""
        self.members: list[str] = []
        self.unread = 0
        self.leaving = False
        self.stopped = False               # the transport's Closed event has come
        self.show_who = False
        self.state = "connecting"          # connected / reconnecting / closed / stopped
        root.title(TITLE)
        root.protocol("WM_DELETE_WINDOW", self.exit)
        root.bind("<FocusIn>", self._focused, add="+")
        remembered = settings.load()
        self.form: ConnectForm | None = ConnectForm(
            root, server or remembered.get("server", "localhost"), name or remembered.get("name", ""),
            self.connect, palette)
        self.form.pack(expand=True)          # centred in the window
        if server and name:
            self.connect(server, name)

    # --- connecting ------------------------------------------------------------------

    def connect(self, server: str, name: str) -> None:
        assert self.form is not None
        if self.transport is not None:
            return                            # already connecting
        try:
            self.transport = self.start(server, name)
        except ChatError as exc:
            self.form.show_error(str(exc))
            return
        self.me = name
        self.stopped = False
        self.form.show_progress(f"Connecting to {self.transport.server_label}…")
        self.poller = QueuePoller(self.root, self.transport.events, self.handle)

    def _connected(self, e: ev.Connected) -> None:
        settings.save(server=self.form.server.get().strip() if self.form else e.server, name=e.name)
        if self.form is not None:
            self.form.destroy()
            self.form = None
        self.me = e.name
        self.members = list(e.members) or [e.name]
        self.state = "connected"
        self.view = ChatView(self.root, self.palette, on_send=self.send, on_exit=self.exit,
                             on_pick=self.pick)
        self.view.pack(fill="both", expand=True)
        self._status()
        self._title()

    def _failed(self, sentence: str) -> None:
        """The join did not happen: back to the form, fields kept."""
        if self.poller:
            self.poller.stop()
        self.transport = None
        if self.form is not None:
            self.form.show_error(sentence)

    # --- what the user does -------------------------------------------------------------

    def send(self, text: str) -> None:
        if self.transport is None:
            return
        stripped = text.strip().lower()
        if stripped == "/who":
            self.show_who = True
        if not self.transport.submit(text):
            self.exit()

    def pick(self, name: str) -> None:
        """Double-clicking a member starts a private line to it."""
        if self.view is not None and name != self.me:
            self.view.entry.prefill(f"/msg {name} ")

    def exit(self) -> None:
        """Leave cleanly (what was typed is delivered first), then close the window."""
        self.leave("Leaving…", timeout=5.0)

    # --- events from the transport ---------------------------------------------------------

    def handle(self, events: list[ev.Event]) -> None:
        """One batch from the poller: one history insert, one list and status update."""
        entries: list[Entry] = []
        lines = 0
        changed = False
        for e in events:
            if isinstance(e, ev.Closed):
                self.stopped = True
                if self.leaving:
                    self.close_window()
                    return
            if self.view is None:
                if isinstance(e, ev.Connected):
                    self._connected(e)
                    changed = True
                elif isinstance(e, (ev.JoinRefused, ev.Unreachable)):
                    self._failed(e.reason)
                    return
                continue
            if isinstance(e, ev.RoomLine):
                lines += self._room_line(e, entries)
            else:
                self._event(e, entries)
                changed = True
        if self.view is None:
            return
        if entries:
            self.view.history.append(entries)
        if changed:
            self.view.members.set_members(((n, ()) for n in self.members), me=self.me)
            self._status()
        if lines and not self._has_focus():
            self.unread += lines
            self._title()

    def _room_line(self, e: ev.RoomLine, out: list[Entry]) -> int:
        """A room line, or the echo that marks our pending line delivered; returns lines added."""
        if e.own and e.msg_id is not None:
            if out and self._deliver_pending(out, e.msg_id):
                return 0
            if self.view is not None and self.view.history.mark_delivered(e.msg_id):
                return 0
        private = ""
        if e.private_to:
            private = f"to {e.private_to}" if e.sender == self.me else "private"
        out.append(Entry("line", e.text, e.sender, e.action, private))
        return 0 if e.own else 1

    def _event(self, e: ev.Event, out: list[Entry]) -> None:
        """Any other event: history notices and member-list or state changes."""
        if isinstance(e, ev.LinePending):
            private = f"to {e.private_to}" if e.private_to else ""
            out.append(Entry("line", e.text, self.me, e.action, private, msg_id=e.msg_id))
        elif isinstance(e, ev.MemberList):
            self.members = list(e.names)
            if self.show_who:
                self.show_who = False
                out.append(Entry("notice", f"{len(e.names)} in the room: " + ", ".join(e.names)))
        elif isinstance(e, ev.MemberJoined):
            if e.name not in self.members:
                self.members.append(e.name)
            out.append(Entry("notice", f"{e.name} joined" + (" (guest)" if e.guest else "")))
        elif isinstance(e, ev.MemberLeft):
            if e.name in self.members:
                self.members.remove(e.name)
            out.append(Entry("notice", f"{e.name} {left_why(e.reason)}"))
        elif isinstance(e, ev.MemberRenamed):
            self.members = [e.new if n == e.old else n for n in self.members]
            if e.you:
                self.me = e.new
                self._title()
                out.append(Entry("notice", f"You are now known as {e.new}"))
            else:
                out.append(Entry("notice", f"{e.old} is now known as {e.new}"))
        elif isinstance(e, ev.ConnectionLost):
            self.state = "reconnecting"
            out.append(Entry("notice", "Lost contact with the server; reconnecting…"))
        elif isinstance(e, ev.Reconnected):
            self.state = "connected"
            out.append(Entry("notice", "Reconnected" if e.resumed else "Reconnected and joined the room again"))
        elif isinstance(e, ev.Connected):           # a reconnect that needed a fresh join
            self.state = "connected"
            self.me = e.name
            self.members = list(e.members) or self.members
        elif isinstance(e, ev.ServerClosed):
            self.state = "closed"
            out.append(Entry("notice", e.reason))
            assert self.view is not None
            self.view.set_input_enabled(False)
        elif isinstance(e, (ev.JoinRefused, ev.Unreachable)):  # a rejoin after a server restart
            self.state = "stopped"
            out.append(Entry("error", e.reason))
            assert self.view is not None
            self.view.set_input_enabled(False)
        elif isinstance(e, ev.CommandError):
            out.append(Entry("error", e.text))
        elif isinstance(e, ev.Info):
            out.append(Entry("notice", e.text))
        elif isinstance(e, ev.Closed) and self.state != "closed":
            self.state = "stopped"

    @staticmethod
    def _deliver_pending(out: list[Entry], msg_id: int) -> bool:
        """The echo came in the same batch as the pending line: mark it there."""
        for i in range(len(out) - 1, -1, -1):
            if out[i].msg_id == msg_id:
                out[i] = out[i].as_delivered()
                return True
        return False

    def _status(self) -> None:
        if self.view is None or self.transport is None or self.leaving:
            return
        label = self.transport.server_label
        text = {"reconnecting": f"Reconnecting to {label}…",
                "closed": f"Server closed — {label} is no longer serving this room",
                "stopped": f"Disconnected from {label}"}.get(
            self.state, f"Connected to {label} as {self.me}")
        self.view.status.set(text)

    def _has_focus(self) -> bool:
        try:
            return self.root.focus_displayof() is not None
        except (tk.TclError, KeyError):
            return False

    def _focused(self, _e=None) -> None:
        if self.unread:
            self.unread = 0
            self._title()

    def _title(self) -> None:
        base = f"{self.me} — {TITLE}" if self.me and self.view else TITLE
        self.root.title(f"({self.unread}) {base}" if self.unread else base)
