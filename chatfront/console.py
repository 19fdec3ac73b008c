"""Where a windowed program's terminal output goes on Windows.

PyInstaller's one-file bootloader runs the program in a child process. In a
windowed (GUI-subsystem) build neither has a console: ``AttachConsole(ATTACH_
PARENT_PROCESS)`` in the child finds the bootloader, which has none, and even
where attaching works (one-folder builds) ``cmd.exe`` does not wait for a GUI
program, so its prompt and its reading of the keyboard mix with ours. The
terminal uses (``--headless``, ``--help``, ``--list``, ``--version``) are
therefore served by a console twin built beside each program (``ChatServerCLI.exe``,
``ChatClientCLI.exe``: build.spec), and the windowed program, asked for one of
them, says so in a message box instead of running invisibly.

Elsewhere (Linux, macOS, a console build, ``python gui_server.py``) the program
has its terminal, and nothing here changes anything.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence

from .i18n import _

TERMINAL_OPTIONS = ("--headless", "--help", "--list", "--version")
TWIN_SUFFIX = "CLI"


def wants_terminal(argv: Sequence[str]) -> bool:
    """True when the options ask for something only a terminal can show. argparse
    takes unambiguous prefixes (``--head``), so a prefix counts too."""
    for arg in argv:
        if arg == "--":
            return False
        if arg == "-h":
            return True
        word = arg.split("=", 1)[0]
        if len(word) > 3 and word.startswith("--") and any(o.startswith(word) for o in TERMINAL_OPTIONS):
            return True
    return False


def _file_name(executable: str) -> str:
    return executable.replace("\\", "/").rsplit("/", 1)[-1]      # either separator, on any system


def console_twin(executable: str) -> str:
    """The console build beside a windowed program: ChatServer.exe → ChatServerCLI.exe."""
    stem, ext = os.path.splitext(_file_name(executable))
    return f"{stem}{TWIN_SUFFIX}{ext}"


def windowed_message(executable: str) -> str:
    return _("{program} is the windowed program, so it cannot print in a terminal. For --headless, "
             "--help or --list, run {twin} from the same folder.").format(
        program=_file_name(executable), twin=console_twin(executable))


def prepare_stdio(argv: Sequence[str], *, platform: str | None = None, has_stdout: bool | None = None,
                  executable: str | None = None, tell: Callable[[str, str], None] | None = None) -> int | None:
    """Call first thing. Returns an exit status when the program must stop here.

    With no console (a windowed Windows build) the standard streams are None: they
    become devnull, UTF-8 and replacing, because a strict cp1252 stderr would raise
    on a traceback's non-Latin text and the error dialog would never show."""
    platform = sys.platform if platform is None else platform
    has_stdout = sys.stdout is not None if has_stdout is None else has_stdout
    if platform != "win32" or has_stdout:
        return None
    sys.stdout = sys.stderr = open(os.devnull, "w", encoding="utf-8", errors="replace")
    sys.stdin = open(os.devnull, encoding="utf-8")
    if not wants_terminal(argv):
        return None
    executable = sys.executable if executable is None else executable
    (tell or _message_box)(os.path.splitext(_file_name(executable))[0], windowed_message(executable))
    return 2


def _message_box(title: str, text: str) -> None:  # pragma: no cover - Windows only
    import ctypes
    MB_ICONINFORMATION, MB_SETFOREGROUND = 0x40, 0x10000
    try:
        ctypes.windll.user32.MessageBoxW(None, text, title, MB_ICONINFORMATION | MB_SETFOREGROUND)
    except (AttributeError, OSError):
        pass
