"""Getting a person's attention while the client window is in the background,
and being honest about lines that were not delivered.

Mixed into ClientApp (it only uses root, view, me, unread, transport, state,
leaving, stopped and ``_refused``):

- a room line in the background asks the system for attention (desktop.py:
  the X11 urgency hint, a flashing taskbar button on Windows, a Dock bounce on
  macOS; nothing, and no error, where none exists);
- a private line or a line that names you is highlighted, and in the
  background also a desktop notification (setting ``notify``, on by default)
  and, if asked for, a beep (setting ``sound``, off by default);
- coming back, a "New since you left" line marks where you left off;
- a private line to nobody gets ✗ and why (the server answers it with an error
  that names the member, not the line); closing with lines still "…" asks first.
"""
from __future__ import annotations

import re
from dataclasses import replace
import tkinter as tk
from tkinter import messagebox, ttk
from typing import Any

from chatfront.i18n import _, n_
from chatfront.wording import not_sent
from udpcore import NoSuchMember, events as ev, name_key

from . import desktop, settings
from .history import Entry
from .theme import blend

MENTION_COLOUR = "#f5c400"        # a highlighter's yellow, blended into the background
LEFT_OFF = "leftoff"              # the Text mark: where the reader left off


def mentions(text: str, name: str) -> bool:
    """``text`` names ``name`` as a word of its own (any case; '@ana' counts, 'banana' does not)."""
    return bool(name) and re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text, re.IGNORECASE) is not None


class Attention:
    root: tk.Tk
    view: Any
    me: str
    unread: int
    transport: Any
    leaving: bool
    stopped: bool

    def init_attention(self) -> None:
        self.urgency = desktop.Urgency(self.root)
        self._alerts: list[tuple[str, str, bool]] = []    # (sender, text, private) of this batch
        self._private_to: dict[int, str] = {}             # our private lines' msg_id -> recipient
        self.root.bind("<FocusOut>", self._left, add="+")

    def make_view(self) -> None:
        super().make_view()                                # type: ignore[misc]
        self.alerts_menu()

    # --- lines as they arrive ----------------------------------------------------------------

    def highlight(self, entry: Entry, e: ev.RoomLine) -> Entry:
        """A live line to us alone, or naming us, is marked (and remembered for the
        batch's notification); anything else goes by unchanged."""
        if e.own:
            if e.msg_id is not None:
                self._private_to.pop(e.msg_id, None)
            return entry
        if entry.private:
            self._alerts.append((e.sender, e.text, True))
            return entry                                   # already tinted: the private colours
        if mentions(e.text, self.me):
            self._alerts.append((e.sender, e.text, False))
            return replace(entry, style="mention")
        return entry

    def attend(self, lines: int, entries: list[Entry]) -> None:
        """After a batch: our own new line brings the reader to the bottom; in the
        background, room lines count, ask for attention and may notify."""
        alerts, self._alerts = self._alerts, []
        if self.view is None:
            return
        history = self.view.history
        if any(x.kind == "line" and (x.msg_id is not None or x.delivered or x.failed) for x in entries):
            history.scroll_to_end()                        # you sent it: you want to see it
        if self._has_focus():                              # type: ignore[attr-defined]
            self._left()
            return
        if not lines:
            return
        self.unread += lines
        self._title()                                      # type: ignore[attr-defined]
        self.urgency.request()
        if not alerts:
            return
        if settings.option(settings.NOTIFY, True):
            sender, text, private = alerts[-1]
            if len(alerts) > 1:
                title = n_("{n} line for you", "{n} lines for you", len(alerts)).format(n=len(alerts))
            elif private:
                title = _("{name} (private)").format(name=sender)
            else:
                title = _("{name} mentioned you").format(name=sender)
            desktop.notify(title, f"{sender}: {text}" if len(alerts) > 1 else text, self.root)
        if settings.option(settings.SOUND, False):
            try:
                self.root.bell()
            except tk.TclError:
                pass

    def _alive(self) -> bool:
        """A chat view to mark (the window may have gone back to the connect form meanwhile)."""
        return self.view is not None and bool(self.view.history.text.winfo_exists())

    def came_back(self) -> None:
        """The window has focus again after lines came: the marker goes where the reader left off."""
        self.urgency.cancel()
        if not self._alive():
            return
        t = self.view.history.text
        follow = self.view.history.at_bottom()
        old = t.tag_ranges("unreadline")
        t.configure(state="normal")
        if old:
            t.delete(old[0], old[1])
            self.view.history.lines -= 1
        where = LEFT_OFF if LEFT_OFF in t.mark_names() else "1.0"
        t.insert(f"{where} linestart", _("New since you left") + "\n", ("unreadline",))
        t.configure(state="disabled")
        self.view.history.lines += 1
        if follow:                                         # a line put above must not unpin the view
            t.see("end")

    def _left(self, _e=None) -> None:
        """Focus moved (or a batch came while focused): nothing is unread up to here."""
        if self._alive() and not self.unread:
            t = self.view.history.text              # type: ignore[union-attr]
            t.mark_set(LEFT_OFF, "end-1c")
            t.mark_gravity(LEFT_OFF, "left")                # lines put after it do not move it

    def style_history(self) -> None:
        """The highlight and the marker's look, in the pane's colours (again after a theme change)."""
        if self.view is None:
            return
        p = self.view.history.palette
        t = self.view.history.text
        t.tag_configure("mention", background=blend(MENTION_COLOUR, p.bg, 0.8 if p.dark else 0.72))
        t.tag_configure("unreadline", foreground=p.error, justify="center", spacing1=6, spacing3=6,
                        font=self.view.history._bold, overstrike=False)
        t.tag_lower("mention")

    # --- honest marks ------------------------------------------------------------------------

    def track(self, e: ev.Event, out: list[Entry]) -> bool:
        """Before the window's own handling of an event: True when it was taken here.
        A private line's recipient is remembered; the server's "no such member"
        (which names the member, not the line) turns that line's … into ✗."""
        if isinstance(e, ev.LinePending) and e.private_to:
            if len(self._private_to) > 64:                 # forget the ones delivered by now
                pending = set(self.pending_ids()) | {x.msg_id for x in out}
                self._private_to = {k: v for k, v in self._private_to.items() if k in pending}
            self._private_to[e.msg_id] = name_key(e.private_to)
            return False
        if isinstance(e, ev.CommandError) and isinstance(e.error, NoSuchMember):
            key = name_key(e.error.name)
            for msg_id, to in sorted(self._private_to.items()):
                if to == key:
                    del self._private_to[msg_id]
                    self._refused(ev.LineRefused(msg_id, e.error), out)   # type: ignore[attr-defined]
                    return True
            return False
        if isinstance(e, (ev.Removed, ev.JoinRefused, ev.Unreachable)) or isinstance(e, ev.Closed) and not self.leaving:
            self._never_delivered(out)
        return False

    def _never_delivered(self, out: list[Entry]) -> None:
        """The room is gone for good: every line still … becomes ✗ not delivered."""
        why = _("not delivered")
        for i, x in enumerate(out):
            if x.msg_id is not None:
                out[i] = x.as_failed(why)
        if self.view is not None:
            for msg_id in self.pending_ids():
                self.view.history.mark_failed(msg_id, why)
        self._private_to.clear()

    def pending_ids(self) -> list[int]:
        """Our lines shown with … (sent, not yet echoed by the server)."""
        if self.view is None:
            return []
        t = self.view.history.text
        return sorted(int(tag[3:]) for tag in t.tag_names()
                      if tag.startswith("msg") and tag[3:].isdigit() and t.tag_ranges(tag))

    def may_leave(self) -> bool:
        """Closing while lines are still …: ask first (Yes leaves, No stays)."""
        if self.leaving or self.stopped or self.transport is None:
            return True
        waiting = len(self.pending_ids())
        if not waiting:
            return True
        question = n_("{n} line is not delivered yet. Leave anyway?",
                      "{n} lines are not delivered yet. Leave anyway?", waiting).format(n=waiting)
        return bool(messagebox.askyesno(_("Leave the room?"), question, icon="warning", default="no",
                                        parent=self.root))

    # --- the settings, in the footer ---------------------------------------------------------

    def alerts_menu(self) -> None:
        """An "Alerts" button at the footer's right: notifications on or off, a sound on or off."""
        if self.view is None:
            return
        footer = self.view.search_button.master
        button = ttk.Menubutton(footer, text=_("Alerts"), takefocus=False)
        menu = tk.Menu(button, tearoff=False)
        self._notify_var = tk.BooleanVar(button, settings.option(settings.NOTIFY, True))
        self._sound_var = tk.BooleanVar(button, settings.option(settings.SOUND, False))
        menu.add_checkbutton(label=_("Notify me of private lines and my name"), variable=self._notify_var,
                             command=lambda: settings.save(**{settings.NOTIFY: self._notify_var.get()}))
        menu.add_checkbutton(label=_("Play a sound too"), variable=self._sound_var,
                             command=lambda: settings.save(**{settings.SOUND: self._sound_var.get()}))
        button.configure(menu=menu)
        button.grid(row=0, column=9, padx=(6, 0), pady=(4, 0))
        self.view.alerts_button = button
        self.style_history()
