"""The client window's side of the room's history (mixed into ClientApp):
blocks of past lines, loading older pages at the top, and the
room that closes and opens again.

Kept apart from client_window.py so each stays small; it only uses what
ClientApp has (root, transport, view, state, members, me)."""
from __future__ import annotations

import tkinter as tk
from typing import Any

from udpcore import events as ev

from .history import Entry
from .history_actions import ClosedBar, HistoryTools, history_notice

OLDER_WAIT_MS = 10_000       # no answer to load_older() in this time: it may be asked again


class ClientHistory(HistoryTools):
    root: tk.Tk
    transport: Any
    view: Any
    stopped: bool

    def init_history(self) -> None:
        self.joined = False                      # Connected has come (the view may be up before)
        self.early: list[ev.Event] = []          # history events that came before the chat view
        self.older_asked = False                 # a load_older() waits for its page
        self._older_timer: str | None = None
        self.closed_bar: ClosedBar | None = None

    # --- before the room answers -------------------------------------------------------------

    def make_view(self) -> None:
        from .chat_view import ChatView
        self.view = ChatView(self.root, self.palette, on_send=self.send, on_exit=self.exit,  # type: ignore
                             on_pick=self.pick, on_search=self.search_history,            # type: ignore
                             on_save=self.save_history)
        self.view.pack(fill="both", expand=True)
        self.history_ready()

    def before_joining(self, e: ev.Event) -> None:
        """Our stored copy came before the room answered: the last conversation is shown at
        once (the issue's "before it connects"), greyed names and no entry until the join."""
        form = self.form                                                    # type: ignore[attr-defined]
        if self.view is None and isinstance(e, ev.HistoryLines) and e.lines and form is not None:
            form.pack_forget()                   # kept: a join that fails goes back to it
            self.make_view()
            self.view.set_input_enabled(False)
            self.view.members.set_enabled(False)
            self._status()                                                  # type: ignore[attr-defined]
        if self.view is None:
            self.early.append(e)
            return
        out: list[Entry] = []
        self.history_event(e, out)
        self.flush(out)

    def early_view_gone(self) -> None:
        """The join failed: the stored conversation goes, the form comes back as it was."""
        self.early = []
        self.joined = False
        if self.view is not None:
            self.view.destroy()
            self.view = None
            self.closed_bar = None
            if self.form is not None:                                       # type: ignore[attr-defined]
                self.form.pack(expand=True)                                 # type: ignore[attr-defined]

    def history_ready(self) -> None:
        """The chat view exists: it loads older pages at the top, and shows what came before it."""
        self.view.history.on_top = self.load_older
        self.view.history.me = self.me           # type: ignore[attr-defined]
        early, self.early = self.early, []
        out: list[Entry] = []
        for e in early:
            self.history_event(e, out)
        self.flush(out)

    def flush(self, out: list[Entry]) -> None:
        if out and self.view is not None:
            self.view.history.append(out)
        out.clear()

    def history_event(self, e: ev.Event, out: list[Entry]) -> bool:
        """Handle a history event; False if ``e`` is none of them."""
        if isinstance(e, ev.HistoryLines):
            self.flush(out)                      # in order: what came before the block goes above it
            if e.kind == "older":
                self._older_came()
            self.view.history.show_block(e)
            return True
        if isinstance(e, ev.SearchResults):
            self.view.show_results(e)
            return True
        if isinstance(e, ev.MembersBack):        # joins were not named: the list is asked for again
            self._refresh_members_soon()         # type: ignore[attr-defined]
        note = history_notice(e)
        if note is not None:
            out.append(note)
            return True
        return False

    # --- what the reader does ---------------------------------------------------------------

    def load_older(self) -> None:
        """The reader reached the top: ask for the page before it, once, until it comes."""
        if (self.transport is None or self.stopped or self.older_asked or self.view is None
                or not self.view.history.may_have_older() or not hasattr(self.transport, "load_older")):
            return
        self.older_asked = True
        self._older_timer = self.root.after(OLDER_WAIT_MS, self._older_came)
        self.transport.load_older()

    def _older_came(self) -> None:
        self.older_asked = False
        if self._older_timer is not None:
            try:
                self.root.after_cancel(self._older_timer)
            except tk.TclError:
                pass
            self._older_timer = None

    # --- the room closes, and opens again -----------------------------------------------------

    def room_closed(self) -> None:
        """Greyed names, the history kept, the entry off, and Join again over it."""
        self.view.set_input_enabled(False)
        self.view.members.set_enabled(False)
        if self.closed_bar is None:             # the sentence lives in the bar while it is true
            rejoin = self.rejoin if hasattr(self.transport, "rejoin") else None
            self.closed_bar = ClosedBar(self.view, rejoin)
            self.closed_bar.grid(row=1, column=0, sticky="ew", pady=(10, 0))

    def rejoin(self) -> None:
        if self.transport is not None and not self.stopped:
            self.transport.rejoin()

    def room_back(self) -> None:
        """In the room again: the bar goes, names and entry come back."""
        self.room_back_off()
        if self.view is not None:
            self.view.members.set_enabled(True)
            self.view.set_input_enabled(True)

    def room_back_off(self) -> None:
        """Out for good (refused, removed, or the transport stopped): nothing will join
        again by itself, so Join again goes; the names stay grey."""
        if self.closed_bar is not None:
            self.closed_bar.destroy()
            self.closed_bar = None
