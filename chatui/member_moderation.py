"""What the server's operator does to one member from the member list: the
context menu (right click, the Menu key, Shift+F10), kick, mute, ban, unban
and the Bans window. A mixin of the server window, like ``HistoryTools``.

The dialogs and the menu live in :mod:`chatui.moderation`; the questions are
looked up there at call time (``moderation.ask``, ``moderation.confirm``) so
tests answer them without a person clicking."""
from __future__ import annotations

import tkinter as tk
from typing import TYPE_CHECKING

from chatfront.wording import (ban_button, ban_question, ban_title, kick_button, kick_prompt, kick_title,
                               muted_for, unmuted)
from udpcore import events as ev, name_key

from . import moderation
from .history import Entry

if TYPE_CHECKING:
    from udpnet import ServerTransport

    from .chat_view import ChatView


def host_of(address: str) -> str:
    """'127.0.0.1' of '127.0.0.1:5555', '::1' of '[::1]:5555': what a ban holds."""
    host = address.rsplit(":", 1)[0] if address.count(":") == 1 or address.startswith("[") else address
    return host.strip("[]")


class MemberModeration:
    """Needs from the window: ``root``, ``view``, ``transport``, ``present``
    (name key -> name), ``member_rows`` (name key -> MemberInfo), ``bans``,
    ``bans_window`` and ``write_privately``."""

    root: tk.Tk
    view: ChatView
    transport: ServerTransport | None
    present: dict[str, str]
    member_rows: dict[str, ev.MemberInfo]
    bans: list
    bans_window: moderation.BansWindow | None

    def _bind_member_menu(self) -> None:
        """The context menu on the member list, by mouse and by keyboard."""
        tree = self.view.members.tree
        for sequence in ("<Button-3>", "<Shift-F10>", "<KeyPress-Menu>", "<KeyPress-App>"):
            try:
                tree.bind(sequence, self._open_menu, add="+")
            except tk.TclError:              # a key this system's Tk does not know
                pass
        if self.root.tk.call("tk", "windowingsystem") == "aqua":
            tree.bind("<Button-2>", self._open_menu, add="+")

    def _open_menu(self, event: tk.Event) -> str:
        tree = self.view.members.tree
        if event.type == tk.EventType.ButtonPress:
            name = tree.identify_row(event.y) or None
            x, y = event.x_root, event.y_root
        else:                                             # the keyboard: the focused (or selected) row
            name = tree.focus() or self.view.members.selected()
            box = tree.bbox(name) if name else ""
            x = tree.winfo_rootx() + (box[0] + 20 if box else 20)
            y = tree.winfo_rooty() + (box[1] + box[3] if box else 20)
        self.member_menu(name).popup(x, y)
        return "break"

    def member_menu(self, name: str | None) -> moderation.MemberMenu:
        """The context menu for ``name`` (None: the list's background: only Bans…)."""
        info = self.member_rows.get(name_key(name)) if name else None
        return moderation.MemberMenu(self.root, name, write=self.write_privately, kick=self.kick_member,
                                     mute=self.mute_member, ban=self.ban_member, bans=self.show_bans,
                                     muted=bool(info and info.muted > 0))

    def kick_member(self, name: str) -> None:
        reason = moderation.ask(self.root, kick_title(name), kick_prompt(name), kick_button())
        if reason is not None and self.transport is not None:
            self.transport.kick(name, reason)

    def mute_member(self, name: str, minutes: int) -> None:
        if self.transport is None:
            return
        if name_key(name) in self.present:
            self.view.history.append([Entry("notice", muted_for(name, minutes) if minutes > 0 else unmuted(name))])
        self.transport.mute(name, minutes)

    def ban_member(self, name: str) -> None:
        info = self.member_rows.get(name_key(name))
        question = ban_question(name, host_of(info.address) if info and not info.guest else "")
        if moderation.confirm(self.root, ban_title(name), question, ban_button()) and self.transport is not None:
            self.transport.ban(name)

    def unban(self, name: str) -> None:
        if self.transport is not None:
            self.transport.unban(name)

    def show_bans(self) -> None:
        if self.bans_window is not None and self.bans_window.winfo_exists():
            self.bans_window.refresh(self.bans)
            self.bans_window.lift()
            return
        self.bans_window = moderation.BansWindow(self.root, self.bans, self.unban)
