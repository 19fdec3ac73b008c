"""The first thing a client shows: the rooms found on the LAN, and where to
connect and under which name."""
from __future__ import annotations

from chatfront.i18n import _

import queue
import tkinter as tk
from tkinter import ttk
from typing import Callable

from chatfront.wording import EXAMPLE_ADDRESS, or_type_address, room_help_link, rooms_found, rooms_heading, rooms_looking, rooms_none
from udpcore import DEFAULT_PORT

from .room_help import RoomHelp
from .room_list import RoomList, Row
from .theme import LIGHT, Palette, ui_font

POLL_MS = 200             # how often the form looks at what the room finder found...
FIRST_POLL_MS = 40        # ...and in its first LOOKING_FOR seconds, when the first answers come in
LOOKING_FOR = 2.0         # seconds of "Looking for rooms…" before "No room has answered yet"


class ConnectForm(ttk.Frame):
    """The rooms found on the LAN (double-click joins), then Server and name
    fields and a Connect button; problems are shown under the fields in one
    sentence and the fields are kept as typed. While an attempt is under way a
    Cancel button stands next to Connect: nobody has to wait for an answer that
    may never come.

    ``finder``: a started udpnet.RoomFinder (or anything with ``rooms``, a queue
    of room tuples, and ``stop``), stopped when the form goes; None: no list."""

    def __init__(self, master: tk.Misc, server: str, name: str,
                 on_connect: Callable[[str, str], None], palette: Palette = LIGHT,
                 on_cancel: Callable[[], None] | None = None, *, finder=None,
                 recent: list[str] | None = None) -> None:
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
        self.rooms_status = ttk.Label(under, text=rooms_looking(), foreground=palette.muted, wraplength=330,
                                      justify="left")
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
        self.message = ttk.Label(self, text="", wraplength=440, justify="left")
        self.message.grid(row=8, column=0, columnspan=2, sticky="ew", pady=(10, 6))
        buttons = ttk.Frame(self)
        buttons.grid(row=9, column=1, sticky="e", pady=(6, 0))
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
        """A room selected: its address goes into the Server field."""
        if not self.busy:
            self.server.set(row.where)

    def join_room(self, row: Row) -> None:
        """A room double-clicked: join it (asking for a name first if there is none)."""
        if self.busy:
            return
        self.server.set(row.where)
        self.submit()
        if not self.name.get().strip():
            self.name_entry.focus_set()

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
        self.rooms.set_enabled(not busy)
        if busy and self.on_cancel is not None:
            self.cancel_button.grid()
            self.cancel_button.focus_set()      # Escape or Space cancels; Tab gets nowhere else now
        else:
            self.cancel_button.grid_remove()
            if not busy and self.focus_get() in (self.cancel_button, None):
                self.server_entry.focus_set()
