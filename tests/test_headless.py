"""The headless programs end to end, as processes, as a user or a script runs them."""
from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
pytestmark = pytest.mark.timeout(60)


class Proc:
    """A program under test, with its output read line by line."""

    def __init__(self, *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONIOENCODING": "utf-8", **(env or {})}
        self.p = subprocess.Popen([PY, *args], cwd=ROOT, env=env, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.lines: list[str] = []
        self._start_reader()
        if stdin is not None:
            self.p.stdin.write(stdin)
            self.p.stdin.close()
            self.p.stdin = None

    def _start_reader(self) -> None:
        """Read stdout on a thread, so expect() can give up on time."""
        self._q: queue.Queue[str | None] = queue.Queue()
        self._eof = False

        def read() -> None:
            for raw in iter(self.p.stdout.readline, b""):
                self._q.put(raw.decode("utf-8", "replace").rstrip("\r\n"))     # Windows ends lines with \r\n
            self._q.put(None)
        self._reader = threading.Thread(target=read, daemon=True)
        self._reader.start()

    def expect(self, pattern: str, timeout: float = 10.0) -> re.Match:
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern)
        for line in self.lines:
            if (mt := rx.search(line)):
                return mt
        while not self._eof and (left := deadline - time.monotonic()) > 0:
            try:
                line = self._q.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                self._eof = True
                break
            self.lines.append(line)
            if (mt := rx.search(line)):
                return mt
        raise AssertionError(f"no line matching {pattern!r} within {timeout} s; got {self.lines!r}")

    def send(self, line: str) -> None:
        self.p.stdin.write((line + "\n").encode())
        self.p.stdin.flush()

    def finish(self, timeout: float = 20.0) -> tuple[int, list[str], str]:
        """Close stdin, wait for the exit, and return (status, all lines, stderr)."""
        if self.p.stdin is not None:
            self.p.stdin.close()
            self.p.stdin = None
        self.p.wait(timeout=timeout)
        self._reader.join(timeout=5)
        while not self._eof:
            line = self._q.get(timeout=5)
            if line is None:
                self._eof = True
            else:
                self.lines.append(line)
        return self.p.returncode, self.lines, self.p.stderr.read().decode("utf-8")

    def kill(self) -> None:
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()
        for f in (self.p.stdin, self.p.stdout, self.p.stderr):
            if f is None:
                continue
            try:
                f.close()
            except (OSError, ValueError):
                pass


@pytest.fixture
def procs():
    started: list[Proc] = []

    def start(*args: str, stdin: bytes | None = None, env: dict[str, str] | None = None) -> Proc:
        p = Proc(*args, stdin=stdin, env=env)
        started.append(p)
        return p
    yield start
    for p in started:
        p.kill()


FAST = ("--line-rate", "100000", "--line-burst", "100000")


@pytest.fixture
def server(procs):
    # These tests are about delivery: a rate that pipes of thousands of lines never reach.
    srv = procs("gui_server.py", "--headless", "--host", "127.0.0.1", "--port", "0", *FAST)
    port = int(srv.expect(r"listening on 127\.0\.0\.1:(\d+)").group(1))
    srv.port = port
    return srv


def client(procs, port: int, name: str, stdin: bytes | None = None, host: str = "127.0.0.1",
           env: dict[str, str] | None = None) -> Proc:
    return procs("gui_client.py", "--headless", "--server", f"{host}:{port}", "--name", name, stdin=stdin, env=env)


def test_two_clients_talk_and_the_server_answers(procs, server):
    bob = client(procs, server.port, "bob")
    bob.expect(r"Connected to 127\.0\.0\.1:\d+ as bob")
    alice = client(procs, server.port, "alice")
    alice.expect("Connected")
    bob.expect(r"^\* alice joined")
    alice.send("hello bob 👋")
    bob.expect(r"^alice: hello bob 👋$")
    alice.expect(r"^alice: hello bob 👋$")          # echoed to the sender as delivered
    server.expect(r"^alice: hello bob 👋$")
    server.send("hi from the server")
    alice.expect(r"^server: hi from the server$")
    bob.expect(r"^server: hi from the server$")
    server.send("/msg bob only you")
    bob.expect(r"^server \(private\): only you$")
    alice.send("/msg bob psst")
    bob.expect(r"^alice \(private\): psst$")
    alice.send("exit")
    code, _, err = alice.finish()
    assert code == 0, err
    bob.expect(r"^\* alice left$")
    server.send("exit")                    # bob is still in: the server asks once...
    server.expect(r"^\* 1 member is in the room\. Type exit again to close it\.$")
    server.send("exit")                    # ...and closes on the second
    bob.p.wait(timeout=10)                 # bob ends by himself: the room closed
    code, lines, err = bob.finish()
    assert code == 1 and "The server closed the room." in err
    code, lines, _ = server.finish()
    assert code == 0


def test_a_script_piping_a_thousand_lines_loses_none(procs, server):
    watcher = client(procs, server.port, "watcher")
    watcher.expect("Connected")
    payload = "".join(f"line {i}\n" for i in range(1000)).encode()
    script = client(procs, server.port, "script", stdin=payload)
    code, lines, err = script.finish(timeout=40)
    assert code == 0, err
    assert [ln for ln in lines if ln.startswith("script: ")] == [f"script: line {i}" for i in range(1000)]
    watcher.expect(r"^script: line 999$", timeout=20)
    got = [ln for ln in watcher.lines if ln.startswith("script: ")]
    assert got == [f"script: line {i}" for i in range(1000)]


def test_taken_name_is_one_sentence_and_nonzero(procs, server):
    a = client(procs, server.port, "alice")
    a.expect("Connected")
    b = client(procs, server.port, "ALICE", stdin=b"")
    code, lines, err = b.finish()
    assert code == 1
    assert err.strip() == "ChatClient: The name ALICE is already taken in this room; choose another."


def test_invalid_name_is_refused_before_sending(procs):
    b = procs("gui_client.py", "--headless", "--server", "127.0.0.1:1", "--name", "two words", stdin=b"")
    code, _, err = b.finish()
    assert code == 1 and err.strip() == "ChatClient: Names cannot contain spaces; try \u201ctwo_words\u201d."


def test_unreachable_server_is_reported_in_about_ten_seconds(procs):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]          # a port where nothing answers (we never read it)
        start = time.monotonic()
        c = client(procs, port, "alice")
        code, _, err = c.finish(timeout=30)
    elapsed = time.monotonic() - start
    assert code == 1 and 9 <= elapsed <= 20
    assert "No answer from 127.0.0.1:" in err and "firewall" in err and "Traceback" not in err


def test_nothing_listening_is_said_at_once(procs):
    """The system's ICMP port unreachable ends the join: no ten-second wait, no firewall."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    c = client(procs, port, "alice", stdin=b"hello\n")
    code, _, err = c.finish(timeout=20)
    assert code == 1 and "Traceback" not in err
    assert f"ChatClient: Nothing is listening on 127.0.0.1:{port} — is the server running?" in err.splitlines()
    c2 = procs("-c", "import time, runpy, sys; t = time.monotonic(); sys.argv = ['gui_client.py', '--headless', "
               f"'--server', '127.0.0.1:{port}', '--name', 'bob']; sys.stdin.close()\n"
               "try:\n    runpy.run_path('gui_client.py', run_name='__main__')\nexcept SystemExit as e:\n"
               "    print(f'status {e.code} after {time.monotonic() - t:.3f} s')", stdin=b"")
    took = float(c2.expect(r"status 1 after ([\d.]+) s").group(1))
    # The refusal, not the silence: a silent server is given CONNECT_TIMEOUT (10 s). The
    # span includes importing the program (0.3-0.6 s on a loaded CI machine), so the bound
    # is what tells the two apart, not a speed promise.
    from udpcore.client_joining import CONNECT_TIMEOUT
    assert took < CONNECT_TIMEOUT / 4, f"the refusal took {took} s"


@pytest.mark.parametrize("typed", ["192.0.2", "198.51", "1.2.3.4.5", "192.0.2.300:5002"])
def test_incomplete_address_is_one_sentence_and_status_1(procs, typed):
    c = procs("gui_client.py", "--headless", "--server", typed, "--name", "alice", stdin=b"")
    code, _, err = c.finish()
    host = typed.split(":")[0]
    assert code == 1 and err.startswith(f"ChatClient: {host} is not ") and "four numbers" in err
    assert len(err.strip().splitlines()) == 1


def test_busy_port_is_one_sentence_and_exit_status_2(procs, server):
    again = procs("gui_server.py", "--headless", "--host", "127.0.0.1", "--port", str(server.port), stdin=b"")
    code, _, err = again.finish()
    assert code == 2
    assert err.strip() == (f"ChatServer: Port {server.port} is already in use, probably by another chat "
                           f"server; choose another port.")


def test_unknown_host_is_one_sentence(procs):
    c = procs("gui_client.py", "--headless", "--server", "no-such-host.invalid", "--name", "a", stdin=b"")
    code, _, err = c.finish()
    # Not a host name that resolves: looked for as a room's name (on loopback only, in tests), then told.
    assert code == 1 and "Cannot find a server or a room called 'no-such-host.invalid'" in err


def test_server_keeps_serving_after_end_of_input_and_stops_on_sigterm(procs):
    srv = procs("gui_server.py", "--headless", "--host", "127.0.0.1", "--port", "0", stdin=b"")
    port = int(srv.expect(r"listening on 127\.0\.0\.1:(\d+)").group(1))
    a = client(procs, port, "alice")
    a.expect("Connected")
    a.send("still there?")
    srv.expect(r"^alice: still there\?$")
    srv.p.send_signal(signal.SIGTERM)
    code, _, err = srv.finish()
    assert code == 0 and "Traceback" not in err
    a.p.wait(timeout=10)
    code, _, err = a.finish()
    assert code == 1 and "closed the room" in err


def test_dual_stack_default_serves_ipv4_and_ipv6_clients(procs):
    if not socket.has_dualstack_ipv6():
        pytest.skip("this machine has no dual-stack IPv6")
    with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
        s.bind(("::1", 0))
        port = s.getsockname()[1]
    srv = procs("gui_server.py", "--headless", "--port", str(port))
    srv.expect(rf"listening on \[::\]:{port}")
    v6 = client(procs, port, "six", host="[::1]")
    v6.expect(r"Connected to \[::1\]:\d+ as six")
    v4 = client(procs, port, "four")
    v4.expect("Connected")
    v4.send("over ipv4")
    v6.expect("^four: over ipv4$")
    srv.expect(r"four joined from 127\.0\.0\.1:\d+")      # shown as IPv4, not ::ffff:


def test_plain_text_guest_takes_part(procs, server):
    a = client(procs, server.port, "alice")
    a.expect("Connected")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as g:
        g.settimeout(5)
        g.sendto("hello from a plain UDP client\n".encode(), ("127.0.0.1", server.port))
        port = g.getsockname()[1]
        a.expect(rf"^guest-127\.0\.0\.1:{port}: hello from a plain UDP client$")
        a.send("welcome guest")
        data, _ = g.recvfrom(2048)
        assert data.decode() == "alice: welcome guest\n"


def test_help_is_printed_by_every_program(procs):
    for script in ("gui_server.py", "gui_client.py"):
        p = procs(script, "--help", stdin=b"")
        code, lines, _ = p.finish()
        assert code == 0 and any("--headless" in ln for ln in lines)


def test_a_pipe_faster_than_a_late_server_waits_and_loses_nothing(procs):
    """3,000 piped lines while the server is not up yet: more than the client
    will hold unsent (udpnet.SEND_AHEAD, udpcore's MAX_QUEUED). The pipe waits
    for room instead of having lines refused; all arrive, and the exit is 0.
    Until the server is up its port is held by a socket that never answers: a port
    nothing holds is refused at once (ICMP), which ends a join. It is let go just
    after a HELLO that came 1.5 s in: the next comes 2 s later (HELLO_MAX_RETRY)."""
    payload = "".join(f"early {i}\n" for i in range(3000)).encode()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        port = silent.getsockname()[1]
        script = client(procs, port, "script", stdin=payload)
        start = time.monotonic()
        silent.settimeout(10)
        while True:                                  # the client is connecting, the pipe is full
            silent.recv(2048)
            if time.monotonic() - start >= 1.5:
                break
    srv = procs("gui_server.py", "--headless", "--host", "127.0.0.1", "--port", str(port), *FAST)
    srv.expect(r"listening on")
    code, lines, err = script.finish(timeout=50)
    assert code == 0 and err == "", err
    assert [ln for ln in lines if ln.startswith("script: ")] == [f"script: early {i}" for i in range(3000)]
    srv.expect(r"^script: early 2999$", timeout=20)


def test_the_headless_server_runs_its_own_commands(procs, server):
    """The operator's line is parsed once: /who and /help are answered locally,
    /msg goes to one member, /me is refused with a sentence, a plain line is said."""
    a = client(procs, server.port, "alice")
    a.expect("Connected")
    server.expect(r"^\* alice joined from 127\.0\.0\.1:\d+$")
    server.send("/who")
    server.expect(r"^\* 1 in the room: alice$")
    server.send("/help")
    server.expect(r"/msg NAME TEXT")
    server.send("/me dances")
    server.expect(r"^\* The server speaks as 'server'")
    server.send("/msg nobody hi")
    server.expect(r"^\* No member is called nobody\.$")
    server.send("/msg alice psst")
    a.expect(r"^server \(private\): psst$")
    server.send("/who is there")               # /who with words is still /who, never sent as a line
    server.send("to everyone")
    a.expect(r"^server: to everyone$")
    assert not any("/who" in ln for ln in a.lines)


def test_pipes_carry_utf8_whatever_the_systems_code_page(procs, server):
    # A Windows pipe is in the ANSI code page (cp1252) and PyInstaller ignores
    # PYTHONUTF8; PYTHONIOENCODING=cp1252 makes the same here. Before, 'café' went
    # out as 'cafÃ©', and 'Á' (0xC3 0x81: 0x81 is no cp1252 character) ended the
    # input, so the client left with status 0 having lost the rest.
    cp1252 = {"PYTHONIOENCODING": "cp1252"}
    watcher = client(procs, server.port, "watcher", env=cp1252)
    watcher.expect(r"Connected")
    script = client(procs, server.port, "script", env=cp1252,
                    stdin="café\nÁ ok\n".encode() + b"bad \xff byte\n" + "last ✓\n".encode())
    status, _, err = script.finish()
    assert status == 0, err
    for line in ("script: café", "script: Á ok", "script: bad \ufffd byte", "script: last ✓"):
        watcher.expect(re.escape(line))
    server.expect(re.escape("script: last ✓"))


def test_closing_the_console_on_windows_stops_the_program_and_waits_for_it():
    # Closing the console window, logging off and shutting down arrive on Windows
    # as console control events (2, 5, 6), not signals; the handler stops the
    # program the clean way and holds Windows off until it has finished.
    from chatfront import headless
    stop, finished = threading.Event(), threading.Event()
    on_event = headless._console_handler(stop, finished)
    assert on_event(0) is False and on_event(1) is False and not stop.is_set()   # Ctrl-C, Ctrl-Break: signals
    threading.Timer(0.2, finished.set).start()
    started = time.monotonic()
    assert on_event(2) is True and stop.is_set()
    assert 0.15 < time.monotonic() - started < headless.CONSOLE_GRACE
    assert headless.CONSOLE_GRACE < 5.0                   # Windows' own limit


def test_ctrl_break_is_a_stop_where_it_exists(monkeypatch):
    import signal as signal_
    from chatfront import headless
    seen: dict = {}
    monkeypatch.setattr(signal_, "SIGBREAK", 21, raising=False)
    monkeypatch.setattr(signal_, "signal", lambda sig, handler: seen.setdefault(sig, handler))
    stop = threading.Event()
    finished = headless._on_signals(stop)
    assert set(seen) == {signal_.SIGINT, signal_.SIGTERM, 21} and not finished.is_set()
    seen[21](21, None)
    assert stop.is_set()


def test_a_message_of_several_lines_prints_its_further_lines_indented(procs, server):
    """A message's line breaks reach the terminal client, each further line behind
    "    | ": a text "x\\nbob: fake" can never print a line that starts with "bob: "."""
    from udpnet import start_client
    alice = client(procs, server.port, "alice")
    alice.expect("Connected")
    mallory = start_client(f"127.0.0.1:{server.port}", "mallory")
    try:
        alice.expect(r"^\* mallory joined")
        mallory.say("x\nbob: fake\r\n* bob left")
        alice.expect(r"^    \| \* bob left$")
        at = alice.lines.index("mallory: x")
        assert alice.lines[at:at + 3] == ["mallory: x", "    | bob: fake", "    | * bob left"]
        assert not any(line.startswith(("bob: ", "* bob")) for line in alice.lines)
    finally:
        mallory.close(timeout=1)
