"""Processes the benches start and measure from outside.

- :func:`spawn`: a child that dies with the bench (``PR_SET_PDEATHSIG``: the
  kernel kills it if the bench dies), run from the project folder
- :func:`stop_process`: terminate, then kill after a grace period
- :class:`ServerProcess`: the real headless server (``gui_server.py
  --headless``, or ``bench/server_runner.py`` with bench options)
- :class:`EchoProcess`: the baseline, a bare ``recvfrom``/``sendto`` loop

Both listen on 127.0.0.1 only and are stopped in ``close()``; their CPU and RSS
come from :mod:`bench.measure`.
"""
from __future__ import annotations

import ctypes
import atexit
import os
import shutil
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.loopback import LOOPBACK, Addr
from bench.measure import CpuMeter, memory

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def die_with_parent() -> None:
    """preexec_fn: the kernel sends SIGKILL to the child when the bench dies."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)           # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def bench_data_dir() -> str:
    """A data folder of the bench's own, removed when it ends: a program it starts never
    writes into the user's (history, bans), and two servers never share one's history."""
    folder = tempfile.mkdtemp(prefix="lanchat-bench-")
    atexit.register(shutil.rmtree, folder, True)
    return folder


def spawn(cmd: list[str], **kw) -> subprocess.Popen:
    kw.setdefault("cwd", ROOT)
    kw.setdefault("stdin", subprocess.DEVNULL)
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    env.update(kw.pop("env", {}) or {})
    if "LANCHAT_DATA_DIR" not in env:
        env["LANCHAT_DATA_DIR"] = bench_data_dir()
    return subprocess.Popen(cmd, preexec_fn=die_with_parent, env=env, **kw)


def stop_process(p: subprocess.Popen, grace: float = 2.0) -> None:
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(grace)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)




# The caps and rates a bench of the relay lifts (bench_abuse.py measures them):
# its members come from one address and send as fast as the server takes lines.
NO_POLICY = ["--max-members", "1000000", "--max-per-address", "1000000",
             "--line-rate", "1000000", "--line-burst", "1000000"]
# Since protocol version 2 the server also caps key agreements a second and the
# handshakes waiting for their first sealed packet (bench_handshake.py measures
# those): a room of 5,000 would otherwise take 100 s to fill.
NO_HANDSHAKE_POLICY = ["--handshake-rate", "1000000", "--handshake-burst", "1000000", "--max-pending", "1000000"]


# bench/server_runner.py's own options: a server given one of them runs through it.
RUNNER_ONLY = {"--quiet-joins", "--no-print", "--no-gc", "--no-room-events", "--switch-interval",
               "--flat-seal", "--one-per-datagram", "--one-socket", "--shared-batch",
               "--shared-share"}


def has_handshake_limits(root: Path) -> bool:
    """Does the server of ``root`` take the handshake options (version 2 and later)?"""
    try:
        return "handshake_rate" in (root / "udpcore" / "limits.py").read_text()
    except OSError:
        return False


class ServerProcess:
    """The chat server in its own process, listening on 127.0.0.1 (a free port).

    ``runner=False`` runs exactly what a user runs, ``gui_server.py --headless``;
    ``runner=True`` runs ``bench/server_runner.py`` (the same headless server with
    bench options such as ``--quiet-joins``; any of RUNNER_ONLY among ``extra`` picks it too). ``root``: the project folder whose
    server it is (default this checkout; another checkout's server runs from its
    own folder, with its own code). What it prints goes to a file (it prints
    every room line, as the real program does), read for its address.
    """

    def __init__(self, extra: list[str] | None = None, runner: bool = False, close_grace: float = 2.0,
                 policy: bool = False, root: Path | None = None, env: dict[str, str] | None = None) -> None:
        self.close_grace = close_grace
        self.root = Path(root or ROOT).resolve()
        runner = runner or any(a.split("=")[0] in RUNNER_ONLY for a in extra or ())
        script = self.root / ("bench/server_runner.py" if runner else "gui_server.py")
        if not policy:            # a bench of the relay, not of the room's caps and rates
            lift = NO_HANDSHAKE_POLICY if has_handshake_limits(self.root) else []
            extra = [*NO_POLICY, *lift, *(extra or [])]
        self._out = tempfile.NamedTemporaryFile(prefix="bench-server-", suffix=".log", delete=False)
        self.log_path = Path(self._out.name)
        self.p = spawn([PY, str(script), "--headless", "--host", LOOPBACK, "--port", "0", *(extra or [])],
                       cwd=self.root, stdout=self._out, stderr=subprocess.STDOUT, env=env)
        self.address: Addr = (LOOPBACK, self._wait_listening())

    def _wait_listening(self, timeout: float = 15.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log_path.read_text(errors="replace")
            found = re.search(r"listening on 127\.0\.0\.1:(\d+)", text)
            if found:
                return int(found.group(1))
            if self.p.poll() is not None:
                break
            time.sleep(0.01)
        said = self.log_path.read_text(errors="replace")[-2000:]       # read before close() deletes it
        self.close()
        raise RuntimeError(f"the server did not start: {said}")

    @property
    def pid(self) -> int:
        return self.p.pid

    def cpu_meter(self) -> CpuMeter:
        return CpuMeter(self.pid)

    def memory(self) -> dict[str, int]:
        return memory(self.pid)

    def alive(self) -> bool:
        return self.p.poll() is None

    def close(self) -> None:
        stop_process(self.p, self.close_grace)
        self._out.close()
        try:
            self.log_path.unlink()
        except OSError:
            pass

    def __enter__(self) -> "ServerProcess":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


ECHO_CODE = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)   # as udpnet asks for its sockets
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True)
recvfrom, sendto = s.recvfrom, s.sendto
while True:
    data, addr = recvfrom(65535)
    sendto(data, addr)
"""


class EchoProcess:
    """The baseline: a bare CPython ``recvfrom``/``sendto`` echo loop in its own
    process (blocking socket, nothing else) — the most a Python UDP server does here."""

    def __init__(self) -> None:
        self.p = spawn([PY, "-c", ECHO_CODE], stdout=subprocess.PIPE)
        line = self.p.stdout.readline()
        if not line.strip():
            raise RuntimeError("the echo process did not start")
        self.address: Addr = (LOOPBACK, int(line))

    @property
    def pid(self) -> int:
        return self.p.pid

    def cpu_meter(self) -> CpuMeter:
        return CpuMeter(self.pid)

    def close(self) -> None:
        stop_process(self.p, 0.5)
        if self.p.stdout:
            self.p.stdout.close()

    def __enter__(self) -> "EchoProcess":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def label(root: Path) -> str:
    """How a bench names the project folder whose server it ran: "this checkout
    (2a75cfb)", or the folder's name and its commit."""
    root = Path(root).resolve()
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    name = "this checkout" if root == ROOT.resolve() else root.name
    return f"{name} ({commit})" if commit else name
