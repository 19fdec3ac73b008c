"""A private X display for the window tests, the benches and the screenshots.

    with Xvfb() as x:          # DISPLAY is x.display (":N") while open
        ...

Race-free: Xvfb is started with ``-displayfd``, so **Xvfb itself** picks the
display number. It takes the first number whose lock file (``/tmp/.XN-lock``)
it can create exclusively and whose socket it can bind, and only then writes
the number to the pipe we gave it, once it accepts connections. Two Xvfb
started at the same moment (tests run in parallel, a bench beside a test run)
therefore never get the same number, and there is no polling for a socket to
appear. (Scanning ``/tmp/.X11-unix`` for a free number ourselves, as before,
let two starters pick the same one.)

Started from the main thread, Xvfb dies with the process that started it
(``PR_SET_PDEATHSIG``; the kernel ties that signal to the *thread* that
forked, so from any other thread it is not asked for: the display would die
with that thread, not with the program). It is always stopped (terminated,
killed after 2 s, reaped) in ``close()``, which also puts back the DISPLAY
that was set before, unless DISPLAY was changed in the meantime (several
displays open at once: close them in reverse order, as nested ``with`` blocks do).
"""
from __future__ import annotations

import ctypes
import os
import select
import shutil
import signal
import subprocess
import tempfile
import threading


class XvfbError(RuntimeError):
    """Xvfb is missing or did not start."""


def _die_with_parent() -> None:
    """preexec_fn: the kernel kills Xvfb if the process that started it dies."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)       # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Xvfb:
    """A private Xvfb display; sets DISPLAY while open (``set_display=False``: leaves it alone)."""

    def __init__(self, size: str = "1280x800x24", timeout: float = 15.0, set_display: bool = True,
                 dpi: int | None = None) -> None:
        if shutil.which("Xvfb") is None:
            raise XvfbError("Xvfb is not installed (apt-get install xvfb; .ci/run installs it)")
        on_main = threading.current_thread() is threading.main_thread()
        r, w = os.pipe()
        with tempfile.TemporaryFile() as log:          # what Xvfb says, read only if it fails
            try:
                extra = ["-dpi", str(dpi)] if dpi else []          # the screen's DPI, as a 4K laptop's
                self.p = subprocess.Popen(["Xvfb", "-displayfd", str(w), "-screen", "0", size, "-nolisten", "tcp",
                                           *extra],
                                          pass_fds=(w,), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                          stderr=log, preexec_fn=_die_with_parent if on_main else None)
            finally:
                os.close(w)         # ours; Xvfb's copy is the only writer now: EOF if it dies
            try:
                number = self._read_number(r, timeout)
            finally:
                os.close(r)
            if number is None:
                self._stop()
                log.seek(0)
                err = log.read().decode(errors="replace").strip()
                raise XvfbError(f"Xvfb did not start within {timeout:.0f} s" + (f": {err[-500:]}" if err else ""))
        self.display = f":{number}"
        self._old: str | None = None
        self._set = set_display
        if set_display:
            self._old = os.environ.get("DISPLAY")
            os.environ["DISPLAY"] = self.display

    @staticmethod
    def _read_number(fd: int, timeout: float) -> str | None:
        """The display number Xvfb writes (``N\\n``) once it is ready; None on EOF or timeout."""
        got = b""
        while not got.endswith(b"\n"):
            ready, _, _ = select.select([fd], [], [], timeout)
            if not ready:
                return None
            chunk = os.read(fd, 64)
            if not chunk:
                return None
            got += chunk
        number = got.strip().decode()
        return number if number.isdigit() else None

    @property
    def pid(self) -> int:
        return self.p.pid

    def _stop(self) -> None:
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(2)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(5)

    def close(self) -> None:
        if self._set and os.environ.get("DISPLAY") == self.display:
            if self._old is None:
                os.environ.pop("DISPLAY", None)
            else:
                os.environ["DISPLAY"] = self._old
        self._set = False
        self._stop()

    def __enter__(self) -> "Xvfb":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
