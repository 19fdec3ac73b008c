"""The headless programs typed into by a person: a real terminal (tmux) in front of the
real client and server on 127.0.0.1. The room's lines print above the line being
typed, which stays intact; Up recalls, Tab completes; Ctrl+C and Ctrl+D leave and
give the terminal back as it was. Pipes on either side get the plain lines, byte for byte."""
from __future__ import annotations

import os
import pty
import select
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chatfront.terminal import CLIENT_COMMANDS, SERVER_COMMANDS, completions, interactive
from tests.test_headless import Proc

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
pytestmark = pytest.mark.timeout(60)

needs_tmux = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
pytest.importorskip("prompt_toolkit")


# --- what Tab offers -------------------------------------------------------------------


def test_tab_offers_commands_at_the_start_of_a_line():
    assert completions("/m", CLIENT_COMMANDS, ["bruno"]) == ["/msg ", "/me "]
    assert completions("/W", CLIENT_COMMANDS, []) == ["/who "]
    assert completions("/ki", SERVER_COMMANDS, []) == ["/kick "]
    assert completions("/ki", CLIENT_COMMANDS, []) == []            # the client has no /kick
    assert completions("//m", CLIENT_COMMANDS, ["maria"]) == []     # a line that starts with a slash


def test_tab_offers_names_after_a_command_and_in_the_line_but_never_your_own():
    names = ["bruno", "Bianca", "ana", "Beatriz"]
    assert completions("/msg b", CLIENT_COMMANDS, names, me="ana") == ["Beatriz ", "Bianca ", "bruno "]
    assert completions("/msg a", CLIENT_COMMANDS, names, me="ana") == []
    assert completions("/kick br", SERVER_COMMANDS, names) == ["bruno "]
    assert completions("oi br", CLIENT_COMMANDS, names, me="ana") == ["bruno"]     # a mention: no space
    assert completions("BR", CLIENT_COMMANDS, names, me="ana") == ["bruno"]
    assert completions("/msg bruno o", CLIENT_COMMANDS, names) == []
    assert completions("/msg jo", CLIENT_COMMANDS, ["joão silva"]) == ['"joão silva" ']   # quoted as an argument
    assert completions("oi jo", CLIENT_COMMANDS, ["joão silva"]) == ["joão silva"]


def test_only_two_terminals_make_a_typing_line(tmp_path):
    master, slave = pty.openpty()
    try:
        with open(slave, "r", closefd=False) as tty_in, open(slave, "w", closefd=False) as tty_out, \
                open(tmp_path / "f", "w+") as plain:
            assert interactive(tty_in, tty_out)
            assert not interactive(plain, tty_out)
            assert not interactive(tty_in, plain)
    finally:
        os.close(master)
        os.close(slave)


# --- a real terminal -------------------------------------------------------------------


class Terminal:
    """One tmux server of our own (its own socket), one window 100x30 running ``command``
    in a shell that, once the program ends, prints its exit status and the terminal's
    mode (canonical, echoing: as it was before the program)."""

    def __init__(self, tmp_path: Path, command: list[str], env: dict[str, str]) -> None:
        self.sock = str(tmp_path / "tmux.sock")
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        shell = (f"env {exports} {shlex.join(command)}; echo \"EXIT=$?\"; "
                 "echo \"MODE $(stty -a | tr ' ;' '\\n\\n' | grep -E '^-?(icanon|echo)$' | tr '\\n' ' ')\"; "
                 "sleep 60")
        self.tmux("new-session", "-d", "-x", "100", "-y", "30", "-c", str(ROOT), "sh", "-c", shell)

    def tmux(self, *args: str) -> str:
        return subprocess.run(["tmux", "-S", self.sock, "-f", "/dev/null", *args], capture_output=True,
                              text=True, timeout=10, check=True).stdout

    def type(self, text: str) -> None:
        self.tmux("send-keys", "-l", text)

    def keys(self, *names: str) -> None:
        self.tmux("send-keys", *names)

    def screen(self) -> list[str]:
        return [line.rstrip() for line in self.tmux("capture-pane", "-p").splitlines()]

    def wait(self, check, what: str, timeout: float = 15.0) -> list[str]:
        deadline = time.monotonic() + timeout
        while True:
            lines = self.screen()
            if check(lines):
                return lines
            if time.monotonic() > deadline:
                raise AssertionError(f"the screen never showed {what}:\n" + "\n".join(lines))
            time.sleep(0.1)

    def wait_for(self, text: str, timeout: float = 15.0) -> list[str]:
        return self.wait(lambda lines: any(text in line for line in lines), repr(text), timeout)

    def last(self, lines: list[str] | None = None) -> str:
        """The last line that is not blank: the typing line, while the program runs."""
        return [line for line in (lines or self.screen()) if line.strip()][-1]

    def wait_above(self, shown: str, typing: str) -> list[str]:
        """Until ``shown`` is on the screen and the typing line (redrawn after it) reads ``typing``."""
        return self.wait(lambda lines: any(shown in ln for ln in lines) and self.last(lines) == typing,
                         f"{shown!r} above {typing!r}")

    def wait_last(self, text: str) -> list[str]:
        return self.wait(lambda lines: [ln for ln in lines if ln.strip()][-1:] == [text], f"{text!r} last")

    def tab_until(self, text: str, timeout: float = 10.0) -> None:
        """Tab, again while nothing is completed (as a person does), until the typing line reads ``text``."""
        deadline = time.monotonic() + timeout
        while True:
            self.keys("Tab")
            try:
                self.wait(lambda lines: [ln for ln in lines if ln.strip()][-1:] == [text], "", 0.5)
                return
            except AssertionError:
                if time.monotonic() > deadline:
                    raise AssertionError(f"Tab never made {text!r}:\n" + "\n".join(self.screen())) from None

    def ended(self) -> tuple[int, str]:
        """The program's exit status and the terminal's mode after it."""
        lines = self.wait(lambda ls: any(ln.startswith("MODE ") for ln in ls), "the program's end")
        status = next(int(ln[5:]) for ln in lines if ln.startswith("EXIT="))
        return status, next(ln[5:] for ln in lines if ln.startswith("MODE "))

    def close(self) -> None:
        try:
            self.tmux("kill-server")
        except (subprocess.SubprocessError, OSError):
            pass


@pytest.fixture
def env(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    return {"LANCHAT_DATA_DIR": str(data), "PYTHONIOENCODING": "utf-8", "LANG": "C.UTF-8"}


@pytest.fixture
def started(env):
    """Processes on pipes (the other members, the server) and terminals, all ended after the test."""
    procs: list[Proc] = []
    terminals: list[Terminal] = []

    def proc(*args: str, stdin: bytes | None = None) -> Proc:
        p = Proc(*args, stdin=stdin, env=env)
        procs.append(p)
        return p

    def terminal(tmp_path: Path, *args: str) -> Terminal:
        t = Terminal(tmp_path, [PY, *args], env)
        terminals.append(t)
        return t
    yield proc, terminal
    for t in terminals:
        t.close()
    for p in procs:
        p.kill()


def piped_server(proc) -> Proc:
    srv = proc("gui_server.py", "--headless", "--host", "127.0.0.1", "--port", "0", "--lang", "en")
    srv.port = int(srv.expect(r"listening on 127\.0\.0\.1:(\d+)").group(1))
    return srv


def client_args(port: int, name: str) -> list[str]:
    return ["gui_client.py", "--headless", "--server", f"127.0.0.1:{port}", "--name", name, "--lang", "en"]


@needs_tmux
def test_a_line_arriving_prints_above_the_half_typed_line_which_stays_intact(started, tmp_path):
    proc, terminal = started
    srv = piped_server(proc)
    ana = terminal(tmp_path, *client_args(srv.port, "ana"))
    ana.wait_for("Connected to 127.0.0.1")
    ana.wait_last("ana>")
    ana.type("estou digitando uma frase longa")
    ana.wait_last("ana> estou digitando uma frase longa")
    bruno = proc(*client_args(srv.port, "bruno"), stdin="linha 3 do bruno\n".encode())
    lines = ana.wait_for("bruno: linha 3 do bruno")
    code, _, err = bruno.finish()
    assert code == 0, err
    lines = ana.wait_above("* bruno left", "ana> estou digitando uma frase longa")      # intact, below
    said = lines.index("bruno: linha 3 do bruno")
    assert said < lines.index("ana> estou digitando uma frase longa")
    assert not any("longabruno" in line for line in lines)
    assert "\x1b" not in ana.tmux("capture-pane", "-p", "-e")       # no colour, no attribute: plain lines
    ana.type(" e termino aqui")
    ana.keys("Enter")
    srv.expect(r"^ana: estou digitando uma frase longa e termino aqui$")
    ana.wait_for("ana: estou digitando uma frase longa e termino aqui")
    ana.keys("C-d")                                                             # end of input: leave
    srv.expect(r"^\* ana left$")
    status, mode = ana.ended()
    assert status == 0
    assert mode.split() == ["icanon", "echo"]                                  # the terminal as it was


@needs_tmux
def test_up_recalls_the_last_line_and_tab_completes_a_members_name(started, tmp_path):
    proc, terminal = started
    srv = piped_server(proc)
    bruno = proc(*client_args(srv.port, "bruno"))          # stays in: its stdin is kept open
    bruno.expect("Connected")
    ana = terminal(tmp_path, *client_args(srv.port, "ana"))
    ana.wait_last("ana>")
    ana.type("/msg br")
    ana.tab_until("ana> /msg bruno")          # the member list comes a moment after "Connected"
    ana.type("oi, só pra você")
    ana.keys("Enter")
    bruno.expect(r"^ana \(private\): oi, só pra você$")
    ana.wait_last("ana>")
    ana.keys("Up")
    ana.wait_last("ana> /msg bruno oi, só pra você")
    ana.keys("BSpace", "BSpace", "BSpace", "BSpace")          # "você" out
    ana.type("mim")
    ana.keys("Enter")
    bruno.expect(r"^ana \(private\): oi, só pra mim$")
    ana.type("/w")
    ana.keys("Tab")
    ana.wait_last("ana> /who")
    ana.keys("Enter")
    ana.wait_for("* 3 in the room: server, bruno, ana")
    ana.type("/msg ninguem oi")
    ana.keys("Enter")                                      # its sentence (stderr) prints above the typing line too
    ana.wait_above("ChatClient: No member is called ninguem.", "ana>")
    ana.tmux("set-buffer", "colado um\ncolado dois")
    ana.tmux("paste-buffer", "-p")                         # a bracketed paste of two lines, then Enter
    ana.keys("Enter")
    bruno.expect(r"^ana: colado um$")
    bruno.expect(r"^ana: colado dois$")
    ana.type("meio escrito")
    ana.keys("C-c")                                        # Ctrl+C: leave, as SIGINT does
    bruno.expect(r"^\* ana left$")
    status, mode = ana.ended()
    assert status == 1                                     # the line to ninguem was not delivered, as ever
    assert mode.split() == ["icanon", "echo"]


@needs_tmux
def test_ctrl_c_on_a_half_typed_line_leaves_cleanly(started, tmp_path):
    proc, terminal = started
    srv = piped_server(proc)
    ana = terminal(tmp_path, *client_args(srv.port, "ana"))
    ana.wait_last("ana>")
    ana.type("pela metade")
    ana.wait_last("ana> pela metade")
    ana.keys("C-c")
    srv.expect(r"^\* ana left$")
    assert not any("pela metade" in line for line in srv.lines)     # the half line is not sent
    status, mode = ana.ended()
    assert status == 0
    assert mode.split() == ["icanon", "echo"]


@needs_tmux
def test_the_headless_server_types_on_its_own_line_too(started, tmp_path):
    proc, terminal = started
    srv = terminal(tmp_path, "gui_server.py", "--headless", "--host", "127.0.0.1", "--port", "0", "--lang", "en")
    lines = srv.wait_for("listening on 127.0.0.1:")
    port = int(next(ln for ln in lines if "listening on" in ln).rsplit(":", 1)[1])
    srv.wait_last("server>")
    srv.type("olá a todos")
    bob = proc(*client_args(port, "bob"))
    bob.expect("Connected")
    lines = srv.wait_above("* bob joined", "server> olá a todos")
    assert lines.index(srv.last(lines)) > next(i for i, ln in enumerate(lines) if "* bob joined" in ln)
    srv.keys("Enter")
    bob.expect(r"^server: olá a todos$")
    srv.type("/kick b")
    srv.tab_until("server> /kick bob")
    srv.type("chega")
    srv.keys("Enter")
    bob.p.wait(timeout=10)                                 # removed: the client ends by itself
    assert bob.finish()[0] == 1
    srv.keys("C-c")                                        # closes the room
    srv.wait_for("* the room is closed")
    status, mode = srv.ended()
    assert status == 0
    assert mode.split() == ["icanon", "echo"]


# --- pipes: as before, byte for byte ---------------------------------------------------


SCRIPT = b"hello\nsecond line\n"


def expected(port: int) -> bytes:
    return f"* Connected to 127.0.0.1:{port} as script\nscript: hello\nscript: second line\n".encode()


def test_piped_stdin_and_stdout_get_the_same_bytes_as_ever(started, env):
    proc, _ = started
    srv = piped_server(proc)
    p = subprocess.run([PY, *client_args(srv.port, "script")], cwd=ROOT, input=SCRIPT, capture_output=True,
                       timeout=30, env={**os.environ, **env})
    assert (p.returncode, p.stdout, p.stderr) == (0, expected(srv.port), b"")


def _read_all(fd: int, proc: subprocess.Popen, timeout: float = 30.0) -> bytes:
    out = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:                    # the other side closed: the program ended
                break
            if not chunk:
                break
            out += chunk
        elif proc.poll() is not None:
            break
    return out


def test_a_terminal_on_one_side_only_changes_nothing(started, env):
    """stdin a terminal, stdout a pipe (``| tee log``); stdin a pipe, stdout a terminal:
    the plain lines, no prompt, no escape code."""
    proc, _ = started
    srv = piped_server(proc)
    master, slave = pty.openpty()
    try:
        p = subprocess.Popen([PY, *client_args(srv.port, "script")], cwd=ROOT, stdin=slave,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, **env})
        try:
            srv.expect(r"^\* script joined")
            os.write(master, SCRIPT + b"\x04")       # typed, then Ctrl+D: the end of input
            out, err = p.communicate(timeout=30)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        assert (p.returncode, out, err) == (0, expected(srv.port), b"")
    finally:
        os.close(master)
        os.close(slave)
    srv.expect(r"^\* script left")

    master, slave = pty.openpty()
    try:
        p = subprocess.Popen([PY, *client_args(srv.port, "script")], cwd=ROOT, stdin=subprocess.PIPE,
                             stdout=slave, stderr=slave, env={**os.environ, **env})
        os.close(slave)
        slave = -1
        try:
            p.stdin.write(SCRIPT)
            p.stdin.close()
            out = _read_all(master, p)
            p.wait(timeout=30)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        assert p.returncode == 0
        assert out == expected(srv.port).replace(b"\n", b"\r\n")      # the terminal's own line ends
        assert b"\x1b" not in out
    finally:
        os.close(master)
        if slave != -1:
            os.close(slave)
