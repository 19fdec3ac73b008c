"""The client window: the connect form, then the chat."""
from __future__ import annotations

import tkinter as tk
from dataclasses import replace
from enum import Enum
from typing import Callable

from chatfront import keychain
from chatfront.commands import Help, Msg, Quit, Say, parse, perform
from chatfront.i18n import _
from chatfront.lock_wording import forgotten, not_remembered
from chatfront.wording import client_help, connected_locked, explain, failure, mistake, not_sent, notice, \
    private_tag
from udpcore import ChatError, NotLocked, PassphraseNeeded, WrongPassphrase, events as ev, too_long
from udpnet import ClientTransport, RoomFinder, start_client

from . import settings
from .chat_view import ChatView
from .client_history import ClientHistory
from .connect_form import ConnectForm
from .poller import QueuePoller
from .history import Entry
from .attention import Attention
from .leaving import LeavingWindow, on_close
from .padlock import padlock
from .theme import Palette


class Link(Enum):
    """What the status line says about the connection."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    CLOSED = "closed"            # the server closed the room
    REMOVED = "removed"          # the operator took us out of the room
    STOPPED = "stopped"          # we are out: refused after a restart, or the transport stopped


WHO_REFRESH_MS = 3000           # after a crowd joined or left, the member list is asked for at most this often


def title() -> str:
    return _("LAN Chat")


class ClientApp(Attention, ClientHistory, LeavingWindow):
    """Owns the window's content and the transport. Handlers are plain methods
    (``connect``, ``send``, ``exit``, ``handle``) so tests drive them directly.

    ``passphrase``: given with --passphrase-file or LANCHAT_PASSPHRASE (the
    clients a server opens get its own that way); used for a locked room when
    the keychain has none for it, never sent to an open one."""

    def __init__(self, root: tk.Tk, palette: Palette, server: str | None = None, name: str | None = None,
                 start: Callable[..., ClientTransport] = start_client,
                 find_rooms: Callable[[], RoomFinder] | None = RoomFinder, passphrase: str = "") -> None:
        self.root = root
        self.palette = palette
        self.start = start
        self.attempt = ("", "")            # the address and passphrase of the join under way
        self.transport: ClientTransport | None = None
        self.poller: QueuePoller | None = None
        self.view: ChatView | None = None
        self.me = ""
        self.locked = False                # joined a locked room with its passphrase
        self._padlock_image: tk.PhotoImage | None = None
        self.members: list[str] = []
        self.unread = 0
        self.leaving = False
        self.stopped = False               # the transport's Closed event has come
        self._refresh_id: str | None = None  # an after() that will ask for the member list
        self._quiet_whos = 0               # member lists asked for by the window, not shown as notices
        self.state = Link.CONNECTING
        self.init_history()
        self.init_attention()
        root.title(title())
        on_close(root, self.exit)
        root.bind("<FocusIn>", self._focused, add="+")
        remembered = settings.load()
        # Rooms on the LAN are looked for while the form is up (not when the
        # command line already says where to go).
        finder = None
        if find_rooms is not None and not (server and name):
            try:
                finder = find_rooms()
            except (OSError, ChatError):       # no socket for looking: the form still takes an address
                finder = None
        self.form: ConnectForm | None = ConnectForm(
            root, server or remembered.get("server", "localhost"), name or remembered.get("name", ""),
            self.connect, palette, on_cancel=self.cancel, finder=finder, recent=settings.recent_servers(),
            passphrase=passphrase)
        self.form.pack(expand=True)          # centred in the window
        if server and name:
            self.connect(server, name)

    # --- connecting ------------------------------------------------------------------

    def connect(self, server: str, name: str) -> None:
        assert self.form is not None
        if self.transport is not None:
            return                            # already connecting
        server = self.form.address_of(server)  # a room's name, as listed, is as good as its address
        secret = self.form.secret()            # only a locked room's row has one
        try:
            # Only with one: an open room's join is the two-argument call it always was.
            self.transport = self.start(server, name, passphrase=secret) if secret else self.start(server, name)
        except ChatError as exc:
            self.form.show_error(explain(exc))
            return
        self.attempt = (server, secret)
        self.me = name
        self.stopped = False
        self.form.show_progress(_("Connecting to {server}…").format(server=self.transport.server_label))
        self.poller = QueuePoller(self.root, self.transport.events, self.handle)

    def cancel(self) -> None:
        """The form's Cancel: stop polling first (no later event can touch the
        form), then stop the attempt; its socket closes on its own thread."""
        transport, self.transport = self.transport, None
        if self.poller:
            self.poller.stop()
            self.poller = None
        if transport is not None and self.view is None:
            transport.cancel()

    def _connected(self, e: ev.Connected) -> None:
        settings.remember_join(self.form.server.get().strip() if self.form else e.server, e.name)
        problem = self._keep_passphrase()
        if self.form is not None:
            self.form.destroy()
            self.form = None
        self.me = e.name
        self.locked = e.locked
        self.members = list(e.members) or [e.name]
        self.state = Link.CONNECTED
        self.joined = True
        if self.view is None:
            self.make_view()
        else:                                 # the stored conversation was up while it joined
            self.room_back()
            self.view.entry.entry.focus_set()
        if problem:
            self._show(Entry("error", not_remembered(problem)))
        self._status()
        self._title()

    def _keep_passphrase(self) -> str | None:
        """The join worked: remember its passphrase if the box is ticked, forget a
        remembered one if it was unticked. Returns what kept it from being remembered."""
        server, secret = self.attempt
        if not secret or self.form is None:
            return None
        row = self.form.lock_row
        if row.remember.get():
            return keychain.remember(server, secret) if secret != row.recalled else None
        if row.recalled:
            keychain.forget(server)
        return None

    def _failed(self, e: ev.Event) -> None:
        """The join did not happen: back to the form, fields kept. A locked room
        asks for its passphrase (or is tried again at once with a remembered or
        given one); a remembered one that is wrong is forgotten."""
        if self.poller:
            self.poller.stop()
        self.transport = None
        self.early_view_gone()                # the stored lines of a join that did not happen
        if self.form is None:
            return
        error = e.error if isinstance(e, ev.JoinRefused) else None
        server, secret = self.attempt
        row = self.form.lock_row
        if isinstance(error, PassphraseNeeded):
            if not secret:                  # the room is locked after all: a passphrase we have, at once
                self.form.offer_passphrase(server, error.room)
                if self.form.secret():
                    self.connect(server, self.me)       # once: with a passphrase it cannot be refused for want of one
                    return
            # failure() would add how the terminal takes it: the window's field is right here.
            self.form.ask_passphrase(explain(error), server, error.room)
        elif isinstance(error, WrongPassphrase):
            sentence = explain(error)
            if row.recalled and secret == row.recalled:
                keychain.forget(server)
                row.recalled = ""
                row.remember.set(False)
                sentence += " " + forgotten()
            self.form.ask_passphrase(sentence, server, error.room, select=True)
        elif isinstance(error, NotLocked):
            row.hide()                      # the sentence says to join without one, if it is meant to be open
            self.form.show_error(explain(error))
        else:
            self.form.show_error(failure(e) or "")

    # --- what the user does -------------------------------------------------------------

    def send(self, text: str) -> bool | None:
        """A typed line: parsed here, once; the room's commands go to the transport.
        False: refused before it went (too long), so the entry keeps it."""
        if self.transport is None:
            return None
        cmd = parse(text)
        if cmd is None:
            return None
        refused = too_long(cmd.text) if isinstance(cmd, (Say, Msg)) else None
        if refused is not None:
            self._show(Entry("error", explain(refused)))
            return False
        if isinstance(cmd, Quit):
            self.exit()
            return
        left = perform(cmd, self.transport)
        if isinstance(left, Help):
            self._show(Entry("notice", client_help()))
        elif left is not None:
            self._show(Entry("error", mistake(left) or ""))

    def _show(self, entry: Entry) -> None:
        if self.view is not None:
            self.view.history.append([entry])

    def pick(self, name: str) -> None:
        """Double-clicking a member starts a private line to it."""
        if self.view is not None and name != self.me:
            self.view.entry.prefill(f"/msg {name} ")

    def exit(self) -> None:
        """Leave cleanly (what was typed is delivered first), then close the window.
        A closed room has nobody to tell: the window goes at once. Lines still … ask first."""
        if not self.may_leave():
            return
        self.leave(_("Leaving…"), timeout=0.5 if self.state is Link.CLOSED else 5.0)

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
            if not self.joined:
                if isinstance(e, ev.Connected):
                    self._connected(e)
                    changed = True
                elif isinstance(e, (ev.JoinRefused, ev.Unreachable)):
                    self._failed(e)
                    return
                elif isinstance(e, (ev.HistoryLines, ev.HistoryProblem)):
                    self.before_joining(e)      # our stored copy comes before the room answers
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
        self.attend(lines, entries)

    def _room_line(self, e: ev.RoomLine, out: list[Entry]) -> int:
        """A room line, or the echo that marks our pending line delivered; returns lines added."""
        assert self.view is not None
        if e.own and e.msg_id is not None:
            if out and self._deliver_pending(out, e.msg_id, e.seq):
                return 0
            if self.view.history.mark_delivered(e.msg_id, e.seq):
                return 0
        if self.view.history.shown(e.seq):
            return 0                                    # a room line is shown once, however often it came
        out.append(self.highlight(Entry("line", e.text, e.sender, e.action, private_tag(e, self.me),
                                        when=e.at or None, seq=e.seq), e))
        return 0 if e.own else 1

    def _event(self, e: ev.Event, out: list[Entry]) -> None:
        """Any other event: history notices and member-list or state changes."""
        if self.track(e, out):
            return
        if isinstance(e, ev.LinePending):
            out.append(Entry("line", e.text, self.me, e.action, private_tag(e, self.me), msg_id=e.msg_id))
            return
        if isinstance(e, ev.LineRefused):
            self._refused(e, out)
            return
        if self.history_event(e, out):
            return
        if isinstance(e, ev.MemberList):
            self.members = list(e.names)
            if e.answers_who and self._quiet_whos:
                self._quiet_whos -= 1
                return                                  # the window's own refresh: no notice
        elif isinstance(e, ev.Crowd):
            self._refresh_members_soon()
        elif isinstance(e, ev.MemberJoined):
            if e.name not in self.members:
                self.members.append(e.name)
        elif isinstance(e, ev.MemberLeft):
            if e.name in self.members:
                self.members.remove(e.name)
        elif isinstance(e, ev.MemberRenamed):
            self.members = [e.new if n == e.old else n for n in self.members]
            if e.you:
                self.me = e.new
                self._title()
        elif isinstance(e, ev.ConnectionLost):
            self.state = Link.RECONNECTING
        elif isinstance(e, ev.Reconnected):
            self.state = Link.CONNECTED
            self.room_back()
        elif isinstance(e, ev.Connected):           # a reconnect that needed a fresh join
            self.state = Link.CONNECTED
            self.me = e.name
            self.locked = e.locked
            self.members = list(e.members) or self.members
            self.room_back()
            return                                  # the status line says it
        elif isinstance(e, (ev.ServerClosed, ev.JoinRefused, ev.Unreachable, ev.Removed)):
            # closed by the server, removed by its operator, or refused on a rejoin after a restart
            self.state = (Link.CLOSED if isinstance(e, ev.ServerClosed)
                          else Link.REMOVED if isinstance(e, ev.Removed) else Link.STOPPED)
            assert self.view is not None
            self.view.set_input_enabled(False)
            if isinstance(e, ev.ServerClosed):      # it comes back by itself: the notice, then the wait
                out.append(Entry("notice", notice(e) or ""))
                self.room_closed()
                return
            self.room_back_off()
        elif isinstance(e, ev.Closed):
            self.room_back_off()
            if self.state not in (Link.CLOSED, Link.REMOVED):
                self.state = Link.STOPPED
        text = notice(e)
        if text is not None:
            error = isinstance(e, (ev.CommandError, ev.JoinRefused, ev.Unreachable, ev.Removed))
            out.append(Entry("error" if error else "notice", text))

    def _refused(self, e: ev.LineRefused, out: list[Entry]) -> None:
        """A line the server did not relay: its … becomes ✗ and why; the full
        sentence is told once per batch (a refused paste is one notice, not fifty)."""
        why = not_sent(e.error)
        for i in range(len(out) - 1, -1, -1):
            if out[i].msg_id == e.msg_id:
                out[i] = out[i].as_failed(why)
                break
        else:
            if self.view is not None:
                self.view.history.mark_failed(e.msg_id, why)
        sentence = explain(e.error)
        if not any(x.kind == "error" and x.text == sentence for x in out):
            out.append(Entry("error", sentence))

    def _refresh_members_soon(self) -> None:
        """Many joined or left, unnamed: ask for the member list, at most once every few seconds."""
        if self._refresh_id is None:
            self._refresh_id = self.root.after(WHO_REFRESH_MS, self._refresh_members)

    def _refresh_members(self) -> None:
        self._refresh_id = None
        if self.transport is not None and self.state is Link.CONNECTED and not self.leaving:
            self._quiet_whos += 1
            self.transport.who()

    @staticmethod
    def _deliver_pending(out: list[Entry], msg_id: int, seq: int = 0) -> bool:
        """The echo came in the same batch as the pending line: mark it there."""
        for i in range(len(out) - 1, -1, -1):
            if out[i].msg_id == msg_id:
                out[i] = replace(out[i].as_delivered(), seq=seq)
                return True
        return False

    def _status(self) -> None:
        if self.view is None or self.transport is None or self.leaving:
            return
        label = self.transport.server_label
        mark: tk.PhotoImage | None = None      # the padlock, in a locked room once joined
        if self.state is Link.CONNECTING:     # the stored conversation shown while it joins
            text = _("Connecting to {server}…").format(server=label)
        elif self.state is Link.RECONNECTING:
            text = _("Reconnecting to {server}…").format(server=label)
        elif self.state is Link.CLOSED:
            text = _("Server closed — {server} is no longer serving this room").format(server=label)
        elif self.state is Link.REMOVED:
            text = _("Removed from the room by the operator of {server}").format(server=label)
        elif self.state is Link.STOPPED:
            text = _("Disconnected from {server}").format(server=label)
        elif self.locked:
            text, mark = connected_locked(label, self.me), self._padlock()
        else:
            text = _("Connected to {server} as {name}").format(server=label, name=self.me)
        self.view.status.set(text, mark)

    def _padlock(self) -> tk.PhotoImage:
        """The status line's padlock (drawn: no emoji font needed), made once and kept."""
        if self._padlock_image is None:
            self._padlock_image = padlock(self.root, self.palette.fg, self.palette.bg)
        return self._padlock_image

    def _has_focus(self) -> bool:
        try:
            return self.root.focus_displayof() is not None
        except (tk.TclError, KeyError):
            return False

    def _focused(self, _e=None) -> None:
        if self.unread:
            self.came_back()
            self.unread = 0
            self._title()

    def _title(self) -> None:
        base = f"{self.me} — {title()}" if self.me and self.view else title()
        self.root.title(f"({self.unread}) {base}" if self.unread else base)
