"""The windows' sentences for locked rooms (issue 12): the operator's Lock… and
Unlock, the connect form's Passphrase row and its "Remember" box.

Kept apart from wording.py, which is the terminal's and the windows' shared
vocabulary and already long; the sentences about a refused join (wrong
passphrase, locked room, too many guesses) stay there, in explain(), since
both front ends say them.
"""
from __future__ import annotations

from .i18n import _


def lock_button() -> str:
    return _("Lock…")


def unlock_button() -> str:
    return _("Unlock")


def locked_badge() -> str:
    """Next to a drawn padlock (chatui/padlock.py): the 🔒 character is an empty box without an emoji font."""
    return _("Locked")


def lock_title() -> str:
    return _("Lock the room")


def lock_prompt() -> str:
    return _("Whoever joins from now on needs this passphrase; the members already in the room stay. "
             "Tell it to people face to face, not in the chat.")


def lock_confirm() -> str:
    return _("Lock")


def passphrase_label() -> str:
    return _("Passphrase")


def show_passphrase() -> str:
    return _("Show")


def passphrase_missing() -> str:
    return _("Type a passphrase first.")


def passphrase_too_long(n: int) -> str:
    return _("A passphrase has at most {n} characters.").format(n=n)


def room_unlocked_note() -> str:
    return _("The room is open again: anyone who finds it can join, guests too if they are allowed.")


def cannot_lock_title() -> str:
    """The title of the dialog when --passphrase-file or LANCHAT_PASSPHRASE cannot be used."""
    return _("Cannot lock the room")


def passphrase_unusable_title() -> str:
    """The client's dialog title for the same problem (it goes on without one)."""
    return _("Passphrase not used")


def remember_box() -> str:
    return _("Remember on this computer")


def no_keychain() -> str:
    return _("This computer has no keychain to keep it in.")


def not_remembered(detail: str) -> str:
    return _("The passphrase was not remembered: {detail}.").format(detail=detail)


def forgotten() -> str:
    return _("The remembered passphrase was forgotten.")
