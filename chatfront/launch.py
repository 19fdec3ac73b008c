"""Starting the client programs from the server: ``--open-clients alice,bob``.

The README's one command opens a room and its first members. The server starts
them only once it listens, with the port it really got (``--port-fallback`` may
have moved it), so they never join another room on the port it wanted, and its
"Cannot listen" dialog is never behind their windows. They are separate programs
(closing the server leaves them open, told the room closed), run as this one
was: the same interpreter with gui_client.py, or the packaged ChatClient next to
this ChatServer. A locked room's passphrase reaches them in their environment
(LANCHAT_PASSPHRASE), never in their command line, which every user of the
machine can read.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from udpcore import check_name, format_addr

from .i18n import language_args
from .passphrase import ENV_VAR

ROOT = Path(__file__).resolve().parent.parent


def client_program(executable: str | None = None, frozen: bool | None = None,
                   platform: str = sys.platform) -> list[str]:
    """The command that runs the client window, as this program was run."""
    executable = executable or sys.executable
    if not (getattr(sys, "frozen", False) if frozen is None else frozen):
        return [executable, str(ROOT / "gui_client.py")]
    exe = Path(executable)
    name = "ChatClient.exe" if platform == "win32" else "ChatClient"
    candidates = [exe.with_name(name)]                          # one folder, or one file each
    if platform == "darwin" and len(exe.parents) > 3:           # dist/ChatServer.app/Contents/MacOS/ChatServer
        candidates.insert(0, exe.parents[3] / "ChatClient.app" / "Contents" / "MacOS" / "ChatClient")
    return [str(next((c for c in candidates if c.exists()), candidates[-1]))]


def local_server(address: tuple[str, int]) -> str:
    """What a client on this machine types to reach a server listening on ``address``."""
    host, port = address[0], address[1]
    if host in ("::", "0.0.0.0", ""):
        host = "127.0.0.1"          # a dual-stack "::" takes IPv4 too
    return format_addr((host, port))


def names_option(text: str) -> tuple[str, ...]:
    """``alice,bob`` -> ('alice', 'bob'); raises InvalidName for a name the room would refuse."""
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    for name in names:
        check_name(name)
    return names


def open_clients(names: tuple[str, ...], address: tuple[str, int],
                 program: list[str] | None = None, *, passphrase: str | None = None,
                 data_dir: str | None = None) -> list[subprocess.Popen]:
    """Start one client window per name, joined to the server at ``address``.
    ``passphrase``: the room's (it may come from a file, or be typed in the
    window, so the environment may not hold it); "" drops an inherited one,
    which an open room would refuse; None leaves the environment as it is.
    ``data_dir``: the server's --data-dir, handed on, so a portable setup keeps
    the clients' copies of the history beside the room's (each client's copy is
    its own, by server, room and name); None: the clients' own default.
    Raises OSError when the program cannot be started (the caller says so)."""
    program = program or client_program()
    server = local_server(address)
    env = None
    if passphrase is not None:
        env = {k: v for k, v in os.environ.items() if k != ENV_VAR}
        if passphrase:
            env[ENV_VAR] = passphrase
    # The language too, when --lang chose it (language_args). No stream of ours: a window
    # that outlives the server must not hold its pipes
    # (``gui_server.py --headless --open-clients … | tee log`` would wait for every
    # window to close); a window's own errors go to its log file and dialog.
    where = ["--data-dir", os.path.abspath(data_dir)] if data_dir else []
    return [subprocess.Popen([*program, "--server", server, "--name", name, *where, *language_args()],
                             stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
            for name in names]
