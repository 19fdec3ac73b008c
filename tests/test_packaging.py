"""The packaged programs: build with build.spec into a temporary folder, then run them.

The build tests are marked ``packaging`` (a PyInstaller build takes a while), so
``pytest -m "not packaging"`` leaves them out of the inner loop; CI runs them.
The built programs are moved out of the build folder and run with a bare
environment (no venv, no PYTHONPATH, cwd elsewhere), so nothing can come from
the source tree or an installed Python. The quick checks of the packaging files
at the end (version resource, .desktop files, install script) run always.
"""
from __future__ import annotations

import collections
import configparser
import os
import queue
import re
import shutil
import struct
import subprocess
import sys
import threading
import tkinter
import time
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
EXE = ".exe" if sys.platform == "win32" else ""
# Windows: a windowed program has no console, so the terminal uses go to its
# console twin (build.spec, chatfront/console.py); elsewhere the program itself.
TWINS = ("ChatServerCLI", "ChatClientCLI") if sys.platform == "win32" else ()


def in_terminal(built: dict[str, Path], name: str) -> Path:
    """The executable a person runs from a terminal (--headless, --help)."""
    return built.get(name + "CLI", built[name])


# ---------------------------------------------------------------- helpers

def bare_env(home: Path, **extra: str) -> dict[str, str]:
    """What a double-click gives a program: no Python of ours anywhere."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8",
           "LANCHAT_CONFIG_DIR": str(home / "config"), "TMPDIR": str(home / "tmp")}
    (home / "tmp").mkdir(parents=True, exist_ok=True)
    if sys.platform == "win32":
        env = dict(os.environ, **{k: v for k, v in env.items() if k != "PATH"})
        for k in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"):
            env.pop(k, None)
    env.update(extra)
    return env


class Program:
    """A built program running, its stdout read line by line on a thread."""

    def __init__(self, exe: Path, *args: str, env: dict[str, str]) -> None:
        self.p = subprocess.Popen([str(exe), *args], cwd=env["HOME"], env=env, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.lines: list[str] = []
        self._q: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for raw in iter(self.p.stdout.readline, b""):
            self._q.put(raw.decode("utf-8", "replace").rstrip("\r\n"))
        self._q.put(None)

    def expect(self, pattern: str, timeout: float = 30.0) -> re.Match:
        rx = re.compile(pattern)
        for line in self.lines:
            if (m := rx.search(line)):
                return m
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._q.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                break
            self.lines.append(line)
            if (m := rx.search(line)):
                return m
        err = self.p.stderr.read().decode(errors="replace") if self.p.poll() is not None else ""
        raise AssertionError(f"no line matching {pattern!r} within {timeout} s; got {self.lines!r} {err}")

    def send(self, line: str) -> None:
        self.p.stdin.write((line + "\n").encode())
        self.p.stdin.flush()

    def wait(self, timeout: float = 30.0) -> int:
        return self.p.wait(timeout=timeout)

    def kill(self) -> None:
        if self.p.poll() is None:
            self.p.terminate()          # the one-file bootloader passes it on to the program
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(10)
        for stream in (self.p.stdin, self.p.stdout, self.p.stderr):
            try:
                stream.close()
            except (OSError, ValueError):
                pass


def visible_windows(wm_class: str, display: str) -> list[str]:
    out = subprocess.run(["xdotool", "search", "--onlyvisible", "--class", f"^{wm_class}$"],
                         env=dict(os.environ, DISPLAY=display), capture_output=True, text=True, timeout=10)
    return out.stdout.split()


def wait_window(wm_class: str, display: str, prog: Program, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = visible_windows(wm_class, display)
        if found:
            return found[0]
        assert prog.p.poll() is None, f"exited with {prog.p.returncode}: {prog.p.stderr.read().decode()}"
        time.sleep(0.05)
    raise AssertionError(f"no visible {wm_class} window within {timeout} s")


def dominant_colour(window: str, display: str) -> str:
    """The commonest pixel colour of ``window`` (its background), read from an xwd dump."""
    data = subprocess.run(["xwd", "-silent", "-id", window], env=dict(os.environ, DISPLAY=display),
                          capture_output=True, check=True, timeout=20).stdout
    h = struct.unpack(">25I", data[:100])
    header, width, height, byte_order, bpp, bpl, ncolours = h[0], h[4], h[5], h[7], h[11], h[12], h[19]
    assert bpp == 32, f"xwd gave {bpp} bits per pixel"
    pixels = data[header + 12 * ncolours:]
    count: collections.Counter[int] = collections.Counter()
    for y in range(0, height, 3):
        row = pixels[y * bpl: y * bpl + 4 * width]
        for x in range(0, width, 3):
            count[int.from_bytes(row[4 * x: 4 * x + 4], "big" if byte_order else "little") & 0xFFFFFF] += 1
    return f"#{count.most_common(1)[0][0]:06x}"


# ---------------------------------------------------------------- the build

def program_in(dist: Path, name: str) -> Path:
    """The executable: one file on Linux and Windows, inside the .app bundle on macOS."""
    if sys.platform == "darwin":
        return dist / f"{name}.app" / "Contents" / "MacOS" / name
    return dist / f"{name}{EXE}"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    """build.spec built into a temporary folder, then moved somewhere else: name -> executable."""
    out = tmp_path_factory.mktemp("pyinstaller")
    subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
                    "--distpath", str(out / "dist"), "--workpath", str(out / "work"),
                    str(ROOT / "build.spec")],
                   cwd=ROOT, check=True, timeout=600, stdout=subprocess.DEVNULL)
    elsewhere = tmp_path_factory.mktemp("somewhere-else") / "dist"
    shutil.move(str(out / "dist"), str(elsewhere))
    shutil.rmtree(out)
    return {name: program_in(elsewhere, name) for name in ("ChatServer", "ChatClient", *TWINS)}


@pytest.fixture
def home(tmp_path) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    return h


@pytest.mark.packaging
@pytest.mark.timeout(900)
@pytest.mark.skipif(sys.platform == "darwin", reason="macOS builds .app bundles, folders by design")
@pytest.mark.parametrize("name", ["ChatServer", "ChatClient"])
def test_each_program_is_one_file_with_everything_inside(built, name):
    from PyInstaller.archive.readers import CArchiveReader
    exe = built[name]
    assert exe.is_file() and os.access(exe, os.X_OK)
    assert sorted(p.name for p in exe.parent.iterdir()) == sorted(f"{n}{EXE}" for n in ("ChatClient", "ChatServer",
                                                                                        *TWINS))
    archive = CArchiveReader(str(exe))
    files = {f.replace("\\", "/") for f in archive.toc}      # Windows names them with backslashes
    needed = {f"chatui/assets/icon-{s}.png" for s in (16, 32, 48, 64, 128)}
    needed |= {"sv_ttk/sv.tcl", "sv_ttk/theme/light.tcl", "sv_ttk/theme/dark.tcl"}
    if tkinter.TkVersion < 9:           # Tk 9 on Windows keeps its library inside its DLL
        needed |= {"_tk_data/msgs/de.msg", "_tcl_data/init.tcl"}
    assert needed <= files, f"missing from {name}: {sorted(needed - files)}"
    assert not any("tzdata" in f for f in files)
    modules = set(archive.open_embedded_archive("PYZ.pyz").toc)
    assert {"chatfront.headless", "udpnet.loop", "udpcore.server", "udpcore.confusables_data", "chatui.app",
            "chatui.client_window", "chatui.server_window", "sv_ttk", "darkdetect", "platformdirs"} <= modules
    assert not {"ssl", "unittest", "pytest"} & modules


@pytest.mark.packaging
@pytest.mark.timeout(900)
def test_packaged_programs_keep_every_option(built, home):
    from chatfront.options import client_parser, server_parser
    for name, parser in (("ChatServer", server_parser()), ("ChatClient", client_parser())):
        done = subprocess.run([str(in_terminal(built, name)), "--help"], env=bare_env(home), cwd=home,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        options = {o for action in parser._actions for o in action.option_strings}
        assert "--headless" in options
        missing = {o for o in options if not re.search(rf"(?<![\w-]){re.escape(o)}\b", done.stdout)}
        assert not missing, f"{name} --help lacks {missing}:\n{done.stdout}"
        version = subprocess.run([str(in_terminal(built, name)), "--version"], env=bare_env(home), cwd=home,
                                 capture_output=True, text=True, timeout=60)
        from udpcore import __version__
        assert version.returncode == 0 and version.stdout.strip() == f"{name} {__version__}"
    bad = subprocess.run([str(in_terminal(built, "ChatServer")), "--port", "nope"], env=bare_env(home), cwd=home,
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "invalid int value" in bad.stderr


@pytest.mark.packaging
@pytest.mark.timeout(900)
def test_packaged_headless_server_and_two_packaged_clients_exchange_lines(built, home):
    env = bare_env(home)
    started: list[Program] = []
    try:
        srv = Program(in_terminal(built, "ChatServer"), "--headless", "--host", "127.0.0.1", "--port", "0", env=env)
        started.append(srv)
        port = srv.expect(r"listening on 127\.0\.0\.1:(\d+)").group(1)
        ann = Program(in_terminal(built, "ChatClient"), "--headless", "--server", f"127.0.0.1:{port}",
                      "--name", "ann", env=env)
        started.append(ann)
        ann.expect(r"Connected to 127\.0\.0\.1:\d+ as ann$")           # an open room: no lock claimed
        ben = Program(in_terminal(built, "ChatClient"), "--headless", "--server", f"127.0.0.1:{port}",
                      "--name", "ben", env=env)
        started.append(ben)
        ben.expect(r"Connected")
        ann.expect(r"ben joined")

        ann.send("hello from a packaged client — ünïcode ✓")
        ben.expect(r"^ann: hello from a packaged client — ünïcode ✓$")
        ben.send("and back")
        ann.expect(r"^ben: and back$")
        ben.send("/msg ann psst")
        ann.expect(r"^ben \(private\): psst$")
        srv.send("the server speaks")
        ann.expect(r"^server: the server speaks$")
        ben.expect(r"^server: the server speaks$")
        srv.expect(r"^ann: hello from a packaged client")

        for c in (ann, ben):
            c.send("exit")
            assert c.wait() == 0
        srv.expect(r"ben left")
        srv.send("exit")
        assert srv.wait() == 0
        srv.expect(r"the room is closed")
    finally:
        for prog in started:
            prog.kill()


@pytest.mark.packaging
@pytest.mark.timeout(900)
def test_packaged_client_joins_a_locked_room_with_its_passphrase_only(built, home):
    """cryptography and spake2 are inside the programs: a locked room works packaged."""
    env = bare_env(home)
    (home / "pw").write_text("pão de queijo\n", encoding="utf-8")
    (home / "bad").write_text("pao de queijo\n", encoding="utf-8")
    started: list[Program] = []
    try:
        srv = Program(in_terminal(built, "ChatServer"), "--headless", "--host", "127.0.0.1", "--port", "0",
                      "--room", "Cozinha", env=dict(env, LANCHAT_PASSPHRASE="pão de queijo"))
        started.append(srv)
        port = srv.expect(r"listening on 127\.0\.0\.1:(\d+)").group(1)
        srv.expect(r"The room is locked")
        where = f"127.0.0.1:{port}"
        wrong = subprocess.run([str(in_terminal(built, "ChatClient")), "--headless", "--server", where, "--name",
                                "eve", "--passphrase-file", str(home / "bad")], env=env, input=b"", timeout=60,
                               capture_output=True)
        assert wrong.returncode == 1
        assert "Wrong passphrase for room 'Cozinha'." in wrong.stderr.decode()
        assert b"Traceback" not in wrong.stderr
        ann = Program(in_terminal(built, "ChatClient"), "--headless", "--server", where, "--name", "ann",
                      "--passphrase-file", str(home / "pw"), env=env)
        started.append(ann)
        ann.expect(r"Connected to 127\.0\.0\.1:\d+ as ann, in a locked room")
        ann.send("olá, sala trancada")
        srv.expect(r"^ann: olá, sala trancada$")
        ann.send("exit")
        assert ann.wait() == 0
        workers = _spake2_workers(srv.p.pid)
        if sys.platform.startswith("linux"):      # the program started as its own SPAKE2 worker, not a 2nd server
            assert len(workers) == 1, workers
        srv.send("exit")
        assert srv.wait() == 0
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_alive(pid) for pid in workers)      # and it ended with the server
    finally:
        for prog in started:
            prog.kill()


def _spake2_workers(root: int) -> list[int]:
    """Processes below ``root`` started by multiprocessing's spawn (Linux: read from /proc)."""
    if not sys.platform.startswith("linux"):
        return []
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        for task in Path(f"/proc/{pid}/task").glob("*"):
            for child in (task / "children").read_text().split():
                todo.append(int(child))
                if "--multiprocessing-fork" in Path(f"/proc/{child}/cmdline").read_bytes().decode(errors="replace"):
                    found.append(int(child))
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.packaging
@pytest.mark.timeout(900)
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="windows are checked under Xvfb, on Linux")
def test_packaged_windows_open_under_xvfb_with_icon_and_theme(built, home, xvfb_display):
    for tool in ("xdotool", "xprop", "xwd"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is not installed (apt-get install xdotool x11-utils x11-apps); .ci/run does it")
    env = bare_env(home, DISPLAY=xvfb_display)
    started: list[Program] = []
    try:
        srv = Program(built["ChatServer"], "--headless", "--host", "127.0.0.1", "--port", "0", env=env)
        started.append(srv)
        port = srv.expect(r"listening on 127\.0\.0\.1:(\d+)").group(1)

        win = Program(built["ChatClient"], "--server", f"127.0.0.1:{port}", "--name", "winnie",
                      "--theme", "dark", env=env)
        started.append(win)
        wid = wait_window("ChatClient", xvfb_display, win)
        srv.expect(r"winnie joined", timeout=30)          # the window's client reached the room
        props = subprocess.run(["xprop", "-id", wid, "WM_CLASS", "_NET_WM_ICON"], capture_output=True,
                               text=True, env=dict(os.environ, DISPLAY=xvfb_display), timeout=10).stdout
        assert "Icon (16 x 16)" in props and "Icon (128 x 128)" in props, props[:300]
        # sv-ttk's dark theme draws #1c1c1c; without its files it falls back to a light stock theme
        deadline = time.monotonic() + 15
        while (colour := dominant_colour(wid, xvfb_display)) != "#1c1c1c" and time.monotonic() < deadline:
            time.sleep(0.2)
        assert colour == "#1c1c1c", f"the window is {colour}: sv-ttk's theme did not load"

        server_window = Program(built["ChatServer"], "--host", "127.0.0.1", "--port", "0", env=env)
        started.append(server_window)
        wait_window("ChatServer", xvfb_display, server_window)
    finally:
        for prog in started:
            prog.kill()
    time.sleep(0.5)
    assert visible_windows("ChatClient", xvfb_display) == []


# ---------------------------------------------------------------- quick: the packaging files

def test_the_version_resource_is_valid_and_comes_from_udpcore_version(tmp_path, monkeypatch):
    """The template parses as PyInstaller's VSVersionInfo (its Windows-only imports stubbed)."""
    from udpcore import __version__ as version
    assert re.fullmatch(r"\d+\.\d+\.\d+", version)
    if sys.platform != "win32":
        monkeypatch.setitem(sys.modules, "pefile", types.ModuleType("pefile"))
        import PyInstaller.compat
        monkeypatch.setattr(PyInstaller.compat, "win32api", None, raising=False)
        monkeypatch.delitem(sys.modules, "PyInstaller.utils.win32.versioninfo", raising=False)
    from PyInstaller.utils.win32 import versioninfo
    numbers = tuple(int(x) for x in version.split(".")) + (0,)
    text = (PACKAGING / "version_info.txt").read_text().format(
        numbers=numbers, version=version, name="ChatServer", description="LAN Chat server")
    (tmp_path / "v.txt").write_text(text)
    info = versioninfo.load_version_info_from_text_file(str(tmp_path / "v.txt"))
    assert info.ffi.fileVersionMS == numbers[0] << 16 | numbers[1]
    assert len(info.toRaw()) > 500
    assert "'OriginalFilename', 'ChatServer.exe'" in str(info)
    assert "udpcore" in (ROOT / "build.spec").read_text() and "__version__" in (ROOT / "build.spec").read_text()


def test_the_mac_bundle_can_ask_for_the_local_network():
    # macOS 15 asks the user before a program may reach the LAN; a bundle without
    # NSLocalNetworkUsageDescription cannot ask, and its sends to the LAN fail.
    import ast
    spec = ast.parse((ROOT / "build.spec").read_text())
    plist_keys = [node for node in ast.walk(spec) if isinstance(node, ast.Call)
                  for kw in node.keywords if kw.arg == "info_plist"]
    assert plist_keys, "build.spec has no info_plist"
    keys = {k.value for call in plist_keys for kw in call.keywords if kw.arg == "info_plist"
            for k in kw.value.keys if isinstance(k, ast.Constant)}
    assert {"NSLocalNetworkUsageDescription", "NSHighResolutionCapable"} <= keys


@pytest.mark.parametrize("name, exec_, wm_class", [("chatserver", "ChatServer", "Chatserver"),
                                                   ("chatclient", "ChatClient", "Chatclient")])
def test_desktop_entries(name, exec_, wm_class):
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str
    entry.read(PACKAGING / f"{name}.desktop", encoding="utf-8")
    e = entry["Desktop Entry"]
    assert e["Type"] == "Application" and e["Terminal"] == "false"
    assert e["Exec"].split()[0] == exec_ and e["Icon"] == "lanchat"
    assert e["StartupWMClass"] == wm_class           # what Tk(className=...) sets: first letter up, rest down
    assert e["Categories"].endswith(";") and "Network" in e["Categories"]


@pytest.mark.skipif(sys.platform != "linux", reason="the desktop menu entries are for Linux")
def test_install_script_puts_programs_icons_and_entries_in_place_and_removes_them(tmp_path):
    dist = tmp_path / "dist"
    dist.mkdir()
    for name in ("ChatServer", "ChatClient"):
        (dist / name).write_text("#!/bin/sh\necho stub\n")
        (dist / name).chmod(0o755)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path / "home")}
    script = PACKAGING / "install-desktop.sh"
    done = subprocess.run(["sh", str(script), str(dist)], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    share = tmp_path / "home" / ".local" / "share"
    for name in ("ChatServer", "ChatClient"):
        assert os.access(tmp_path / "home" / ".local" / "bin" / name, os.X_OK)
        text = (share / "applications" / f"{name.lower()}.desktop").read_text()
        assert f"Exec={tmp_path}/home/.local/bin/{name}" in text
    for size in (16, 32, 48, 64, 128, 256):
        assert (share / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "lanchat.png").is_file()
    done = subprocess.run(["sh", str(script), "--uninstall"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert not (share / "applications" / "chatclient.desktop").exists()
    assert not (tmp_path / "home" / ".local" / "bin" / "ChatClient").exists()
    assert not list((share / "icons").rglob("lanchat.png"))
