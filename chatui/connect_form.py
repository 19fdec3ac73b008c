"""The first thing a client shows: the rooms found on the LAN, and where to
connect and under which name (and, for a locked room only, its passphrase)."""
from __future__ import annotations

from chatfront.i18n import _

import queue
import tkinter as tk
from tkinter import ttk
from typing import Callable

from chatfront import keychain
from chatfront.wording import EXAMPLE_ADDRESS, explain, or_type_address, room_help_link, rooms_found, rooms_heading, \
    rooms_looking, rooms_none
from udpcore import DEFAULT_PORT, PassphraseNeeded

from .passphrase_row import PassphraseRow
from .room_help import RoomHelp
from .room_list import RoomList, Row
from .scaling import wrap_at
from .theme import LIGHT, Palette, ui_font

POLL_MS = 200             # how often the form looks at what the room finder found...
FIRST_POLL_MS = 40        # ...and in its first LOOKING_FOR seconds, when the first answers come in
LOOKING_FOR = 2.0         # seconds of "Looking for rooms…" before "No room has answered yet"


class ConnectForm(ttk.Frame):
    """The rooms found on the LAN (double-click joins), then Server and name
    fields and a Connect button; problems are shown under the fields in one
    sentence and the fields are kept as typed. While an attempt is under way a
    Cancel button stands next to Connect: nobody has to wait for an answer that
    may never come. A Passphrase row comes up for a locked room (picked in the
    list, or one that refused a join for want of it) and goes when the Server
    field is changed to another address.

    ``finder``: a started udpnet.RoomFinder (or anything with ``rooms``, a queue
    of room tuples, and ``stop``), stopped when the form goes; None: no list.
    ``passphrase``: the one the program was given, for a locked room the
    keychain knows nothing of."""

    def __init__(self, master: tk.Misc, server: str, name: str,
                 on_connect: Callable[[str, str], None], palette: Palette = LIGHT,
                 on_cancel: Callable[[], None] | None = None, *, finder=None,
                 recent: list[str] | None = None, passphrase: str = "") -> None:
        super().__init__(master, padding=(28, 20))
        self.on_connect = on_connect
        self.on_cancel = on_cancel
        self.busy = False                 # a connection attempt is under way
        self.palette = palette
        self.finder = finder
        self._looked = 0.0                # seconds the finder has been looking
        self._poll_id: str | None = None
        self._heading = ui_font(self, 1.6, "bold")
        self._bold = ui_font(self, 1.0, "bold")
        ttk.Label(self, text=_("Join a chat room"), font=self._heading).grid(
            row=0, column=0, columnspan=2, sticky="w", pady=(0, 10))
        ttk.Label(self, text=rooms_heading(), font=self._bold).grid(row=1, column=0, columnspan=2, sticky="w")
        self.rooms = RoomList(self, palette, on_join=self.join_room, on_pick=self.pick_room, height=4)
        self.rooms.grid(row=2, column=0, columnspan=2, sticky="nsew", pady=(4, 2))
        under = ttk.Frame(self)
        under.grid(row=3, column=0, columnspan=2, sticky="ew")
        under.columnconfigure(0, weight=1)
        self.rooms_status = wrap_at(ttk.Label(under, text=rooms_looking(), foreground=palette.muted,
                                              justify="left"), 330)
        self.rooms_status.grid(row=0, column=0, sticky="w")
        self.help_link = ttk.Label(under, text=room_help_link(), foreground=palette.accent, cursor="hand2",
                                   takefocus=True)
        self.help_link.grid(row=0, column=1, sticky="ne", padx=(12, 0))
        self.help_link.bind("<Button-1>", lambda e: self.open_help())
        self.help_link.bind("<Return>", lambda e: self.open_help())
        ttk.Label(self, text=or_type_address(), foreground=palette.muted).grid(
            row=4, column=0, columnspan=2, sticky="w", pady=(14, 0))
        self.server = tk.StringVar(self, server)
        self.name = tk.StringVar(self, name)
        ttk.Label(self, text=_("Server")).grid(row=5, column=0, sticky="w", padx=(0, 12), pady=(6, 0))
        self.server_entry = ttk.Combobox(self, textvariable=self.server, width=32, values=recent or [])
        self.server_entry.grid(row=5, column=1, sticky="ew", pady=(6, 0))
        ttk.Label(self, text=_("host or host:port (port {port} by default)").format(port=DEFAULT_PORT),
                  foreground=palette.muted).grid(row=6, column=1, sticky="w", pady=(2, 8))
        ttk.Label(self, text=_("Your name")).grid(row=7, column=0, sticky="w", padx=(0, 12), pady=6)
        self.name_entry = ttk.Entry(self, textvariable=self.name, width=32)
        self.name_entry.grid(row=7, column=1, sticky="ew", pady=6)
        self.lock_row = PassphraseRow(self, 8, palette, self.submit)     # rows 8 and 9, for a locked room
        self.given = passphrase
        self.locked_room = ""             # the name of the room the row was asked for
        self._row_text = ""               # the Server field as it was when the row came up
        self.message = wrap_at(ttk.Label(self, text="", justify="left"), 440)
        self.message.grid(row=10, column=0, columnspan=2, sticky="ew", pady=(10, 6))
        buttons = ttk.Frame(self)
        buttons.grid(row=11, column=1, sticky="e", pady=(6, 0))
        self.button = ttk.Button(buttons, text=_("Connect"), command=self.submit, style="Accent.TButton")
        self.button.grid(row=0, column=1)
        self.cancel_button = ttk.Button(buttons, text=_("Cancel"), command=self.cancel)
        self.cancel_button.grid(row=0, column=0, padx=(0, 8))
        self.cancel_button.grid_remove()  # only while connecting
        self.cancel_button.bind("<Escape>", lambda e: self.cancel())
        self.columnconfigure(1, weight=1)
        self.rowconfigure(2, weight=1)
        for w in (self.server_entry, self.name_entry):
            w.bind("<Return>", lambda e: self.submit())
        self.server.trace_add("write", lambda *a: self._server_changed())
        self.server_entry.bind("<<ComboboxSelected>>", lambda e: self.offer_remembered(self.server.get()))
        (self.name_entry if server and not name else self.server_entry).focus_set()
        if finder is None:
            self.rooms_status.configure(text="")
        else:
            self._poll_id = self.after(FIRST_POLL_MS, self._poll)

    # --- the rooms found ----------------------------------------------------------------

    def _poll(self) -> None:
        """What the finder found since the last look; the list shows the newest whole set."""
        self._poll_id = None
        latest = None
        try:
            while True:
                latest = self.finder.rooms.get_nowait()
        except queue.Empty:
            pass
        self._looked += (FIRST_POLL_MS if self._looked < LOOKING_FOR else POLL_MS) / 1000
        if latest is not None:
            self.rooms.show(Row(r.instance, r.name, r.label, r.members, r.locked) for r in latest)
        n = len(self.rooms.rows)
        self.rooms_status.configure(text=rooms_found(n) if n else rooms_looking() if self._looked < LOOKING_FOR
                                    else rooms_none())
        self._poll_id = self.after(FIRST_POLL_MS if self._looked < LOOKING_FOR else POLL_MS, self._poll)

    def address_of(self, typed: str) -> str:
        """The address of the one listed room called ``typed`` (case aside), else
        ``typed`` as it is. Two listed rooms of that name: as typed (the address
        is needed, and the error for it says so)."""
        rows = [r for r in self.rooms.rows.values() if r.room.casefold() == typed.strip().casefold()]
        return rows[0].where if len(rows) == 1 else typed

    def pick_room(self, row: Row) -> None:
        """A room selected: its address goes into the Server field; a locked
        one brings the Passphrase row, filled in if this computer remembers it."""
        if not self.busy:
            self.server.set(row.where)
            if row.locked:
                self.offer_passphrase(row.where, row.room)

    def join_room(self, row: Row) -> None:
        """A room double-clicked: join it (asking for a name, or a locked room's
        passphrase, first if there is none)."""
        if self.busy:
            return
        self.pick_room(row)
        self.submit()
        if not self.name.get().strip():
            self.name_entry.focus_set()

    # --- a locked room's passphrase --------------------------------------------------

    def secret(self) -> str:
        """The passphrase to join with: "" unless the Passphrase row is on the form."""
        return self.lock_row.get()

    def offer_passphrase(self, server: str, room: str = "", passphrase: str | None = None) -> None:
        """Show the Passphrase row for ``server`` (its address: what the keychain
        knows it by); ``passphrase`` None: filled in from the keychain, if it has it."""
        same = server == self.lock_row.for_server
        self.lock_row.show(server, passphrase)
        if passphrase is None and self.given and not self.lock_row.get():
            self.lock_row.secret.set(self.given)
        self.locked_room = room or (self.locked_room if same else "")
        self._row_text = self.server.get().strip()
        self._fit()

    def _fit(self) -> None:
        """The row takes room: a window too short for the fields and Connect
        (the list shrinks first, to nothing) grows by what is missing rather than
        hide Connect. Only when that is needed, and never past the screen."""
        top = self.winfo_toplevel()
        self.update_idletasks()
        need = self.winfo_reqheight() - self.rooms.winfo_reqheight()
        have = top.winfo_height()
        if have > 1 and need > have:                 # 1: not drawn yet, its size unknown
            height = min(need, top.winfo_screenheight() - 80)
            top.geometry(f"{top.winfo_width()}x{height}")

    def offer_remembered(self, typed: str) -> bool:
        """An address picked among the recent ones: the row, filled in, if its
        passphrase is remembered (the room may be locked; a listed room says so itself)."""
        server = self.address_of(typed).strip()
        if self.busy or not server or not keychain.available():
            return False
        self.offer_passphrase(server)
        if not self.lock_row.recalled:
            self.lock_row.hide()
        return bool(self.lock_row.recalled)

    def ask_passphrase(self, sentence: str, server: str, room: str = "", select: bool = False) -> None:
        """A join refused for the passphrase: say why, keep what was typed, and
        put the cursor in the field (``select``: its text selected, to type over)."""
        self.show_error(sentence)
        self.offer_passphrase(server, room)
        self.lock_row.focus(select)

    def _server_changed(self) -> None:
        """Another address typed: the row asked for the previous one goes."""
        if self.lock_row.visible and self.server.get().strip() != self._row_text:
            self.lock_row.hide()

    def open_help(self) -> RoomHelp:
        return RoomHelp(self, self.palette)

    def destroy(self) -> None:
        if self._poll_id is not None:
            self.after_cancel(self._poll_id)
            self._poll_id = None
        if self.finder is not None:
            self.finder.stop(wait=False)       # its thread ends on its own; no window waits for it
            self.finder = None
        super().destroy()

    def submit(self) -> None:
        if self.busy:
            return          # disabled entries still get <Return>: one connection attempt at a time
        server, name = self.server.get().strip(), self.name.get().strip()
        if not server:
            self.show_error(_("Type the server's address, for example {example}.").format(example=EXAMPLE_ADDRESS))
        elif not name:
            self.show_error(_("Type the name the others will see."))
        elif self.lock_row.visible and not self.lock_row.get():
            self.show_error(explain(PassphraseNeeded(self.locked_room)))
            self.lock_row.focus()
        else:
            self.on_connect(server, name)

    def cancel(self) -> None:
        """Stop the attempt under way; the fields come back as typed."""
        if not self.busy:
            return
        self.message.configure(text=_("Not connected: you cancelled."), foreground="")
        self.set_busy(False)
        if self.on_cancel is not None:
            self.on_cancel()

    def show_error(self, sentence: str) -> None:
        self.message.configure(text=sentence, foreground=self.palette.error)
        self.set_busy(False)

    def show_progress(self, sentence: str) -> None:
        self.message.configure(text=sentence, foreground="")
        self.set_busy(True)

    def set_busy(self, busy: bool) -> None:
        self.busy = busy
        state = "disabled" if busy else "normal"
        for w in (self.server_entry, self.name_entry, self.button):
            w.configure(state=state)
        self.lock_row.set_enabled(not busy)
        self.rooms.set_enabled(not busy)
        if busy and self.on_cancel is not None:
            self.cancel_button.grid()
            self.cancel_button.focus_set()      # Escape or Space cancels; Tab gets nowhere else now
        else:
            self.cancel_button.grid_remove()
            if not busy and self.focus_get() in (self.cancel_button, None):
                self.server_entry.focus_set()
