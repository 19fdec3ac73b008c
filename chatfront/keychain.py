"""A locked room's passphrase, remembered in the system's keychain (never in a file of ours).

``keyring`` picks the keychain: Windows Credential Manager, the macOS Keychain,
the Secret Service on a Linux desktop. The service is "LanChat" and the user
is the server's address as the connect form holds it, so each room has its own.
Remembering is a convenience, like chatui.settings: a machine with no keychain
(a server without a desktop session: keyring's ``fail`` backend) or a keychain
that refuses (locked, dbus gone) never stops a join. Every call here therefore
catches what any backend may raise (they raise more than KeyringError) and
turns it into "not remembered".
"""
from __future__ import annotations

SERVICE = "LanChat"


def _keyring():
    """keyring, or None when it is missing or has no usable keychain here."""
    try:
        import keyring
        from keyring.backends import fail, null
        backend = keyring.get_keyring()
    except Exception:               # not installed, or a backend that breaks while loading
        return None
    if isinstance(backend, (fail.Keyring, null.Keyring)):
        return None
    return keyring


def available() -> bool:
    """Can a passphrase be remembered on this computer?"""
    return _keyring() is not None


def _user(server: str) -> str:
    return server.strip()


def recall(server: str) -> str:
    """The passphrase remembered for ``server``, or ""."""
    keyring = _keyring()
    if keyring is None or not _user(server):
        return ""
    try:
        return keyring.get_password(SERVICE, _user(server)) or ""
    except Exception:
        return ""


def remember(server: str, passphrase: str) -> str | None:
    """Keep ``passphrase`` for ``server``; None when done, else what went wrong (for a sentence)."""
    keyring = _keyring()
    if keyring is None:
        return "no keychain"
    try:
        keyring.set_password(SERVICE, _user(server), passphrase)
    except Exception as exc:
        return str(exc) or type(exc).__name__
    return None


def forget(server: str) -> None:
    """Drop what is remembered for ``server`` (nothing remembered: nothing to do)."""
    keyring = _keyring()
    if keyring is None:
        return
    try:
        keyring.delete_password(SERVICE, _user(server))
    except Exception:               # PasswordDeleteError when there was none; a refusing keychain
        pass
