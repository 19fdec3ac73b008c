"""Issue 14 in the client window, under Xvfb: the connect form says at once that
nothing listens, refuses an incomplete address, and can cancel an attempt."""
from __future__ import annotations

import socket
import time

import pytest

from chatfront.wording import EXAMPLE_ADDRESS

from tests.conftest import pump

pytestmark = [pytest.mark.gui, pytest.mark.timeout(60)]


def free_port(host: str = "127.0.0.1") -> int:
    """A UDP port on loopback with nothing behind it (bound, then let go)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def state(widget) -> str:
    return str(widget.cget("state"))


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_nothing_listening_is_said_on_the_form_at_once(tk_root, config_dir, host):
    from chatui.client_window import ClientApp
    port = free_port()
    start = time.monotonic()
    app = ClientApp(tk_root, tk_root._palette, f"{host}:{port}", "alice")
    pump(tk_root, lambda: "Nothing is listening" in app.form.message.cget("text"), timeout=5, what="refusal")
    elapsed = time.monotonic() - start
    assert app.form.message.cget("text") == f"Nothing is listening on {host}:{port} — is the server running?"
    from udpcore.client_joining import CONNECT_TIMEOUT
    assert elapsed < CONNECT_TIMEOUT / 4, f"took {elapsed:.3f} s"     # the refusal, not a silent server's 10 s
    assert state(app.form.server_entry) == "normal" and not app.form.cancel_button.winfo_ismapped()
    assert app.transport is None and app.view is None


@pytest.mark.parametrize("typed", ["127.0.1", "127.1", "127.0.0.1.5", "127.0.0.300"])
def test_an_incomplete_address_is_refused_on_the_form(tk_root, config_dir, typed):
    from chatui.client_window import ClientApp
    app = ClientApp(tk_root, tk_root._palette)          # the real start_client: it refuses before any socket
    app.form.server.set(typed)
    app.form.name.set("alice")
    app.form.button.invoke()
    text = app.form.message.cget("text")
    assert text.startswith(f"{typed} is not ") and "four numbers" in text and EXAMPLE_ADDRESS in text
    assert app.form.server.get() == typed and state(app.form.button) == "normal" and app.transport is None


def test_cancel_stops_an_attempt_to_a_silent_host_and_gives_the_fields_back(tk_root, config_dir):
    from chatui.client_window import ClientApp
    from udpcore import events as ev
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:   # bound, never answers
        silent.bind(("127.0.0.1", 0))
        port = silent.getsockname()[1]
        app = ClientApp(tk_root, tk_root._palette, f"127.0.0.1:{port}", "alice")
        form = app.form
        tk_root.update()
        assert "Connecting to" in form.message.cget("text") and state(form.server_entry) == "disabled"
        assert form.cancel_button.winfo_ismapped()
        pump(tk_root, lambda: _has_data(silent), timeout=5, what="a HELLO at the silent host")
        transport = app.transport
        form.cancel_button.invoke()
        assert state(form.server_entry) == "normal" and state(form.name_entry) == "normal"
        assert state(form.button) == "normal" and not form.cancel_button.winfo_ismapped()
        assert form.message.cget("text") == "Not connected: you cancelled."
        assert app.transport is None and app.poller is None
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and not transport.events.queue or \
                not isinstance(transport.events.queue[-1], ev.Closed):
            time.sleep(0.01)
        assert isinstance(transport.events.queue[-1], ev.Closed)      # the socket thread is done
        while _has_data(silent):
            silent.recv(2048)
        end = time.monotonic() + 1.5                               # nothing later touches the form
        while time.monotonic() < end:
            tk_root.update()
            time.sleep(0.02)
        assert form.message.cget("text") == "Not connected: you cancelled." and app.view is None
        assert not _has_data(silent)                                # and no HELLO went after it
        form.server.set(f"127.0.0.1:{port}x")                       # the fields are usable again
        form.server.set(f"127.0.0.1:{port}")
        form.button.invoke()                                        # and a new attempt starts
        assert app.transport is not None and app.transport is not transport
        app.cancel()


def _has_data(sock: socket.socket) -> bool:
    import select
    return bool(select.select([sock], [], [], 0)[0])
