"""A windowed Windows program asked for the terminal points to its console twin;
with no console its streams are safe UTF-8 sinks (chatfront/console.py)."""
from __future__ import annotations

import sys

import pytest

from chatfront.console import console_twin, prepare_stdio, wants_terminal

pytestmark = pytest.mark.timeout(10)


@pytest.mark.parametrize("argv, terminal", [
    ([], False),
    (["--theme", "dark"], False),
    (["--port", "5003"], False),
    (["--headless"], True),
    (["--port", "5003", "--headless"], True),
    (["--head"], True),                 # argparse takes unambiguous prefixes
    (["-h"], True),
    (["--help"], True),
    (["--version"], True),
    (["--list"], True),
    (["--", "--headless"], False),      # after "--" nothing is an option
    (["--he"], True),                   # ambiguous for argparse, but it would print its error
    (["--name", "alice"], False),
    (["--h"], False),                   # too short to be a prefix worth a message box
    (["--headlessly"], False),
    (["--server=--help"], False),
])
def test_which_options_need_a_terminal(argv, terminal):
    assert wants_terminal(argv) is terminal


@pytest.mark.parametrize("exe, twin", [
    (r"C:\Users\ana\Downloads\ChatServer.exe", "ChatServerCLI.exe"),
    ("/opt/lanchat/ChatClient", "ChatClientCLI"),
])
def test_the_console_twin_is_named_beside_the_program(exe, twin):
    assert console_twin(exe) == twin


@pytest.fixture
def streams(monkeypatch):
    before = {name: getattr(sys, name) for name in ("stdin", "stdout", "stderr")}
    for name, stream in before.items():
        monkeypatch.setattr(sys, name, stream)
    yield
    for name, stream in before.items():
        if getattr(sys, name) is not stream:
            getattr(sys, name).close()      # the devnull files opened by the test


def test_windowed_windows_program_asked_for_help_says_where_the_terminal_program_is(streams):
    told = []
    exe = r"C:\LanChat\ChatServer.exe"
    status = prepare_stdio(["--headless"], platform="win32", has_stdout=False, executable=exe,
                           tell=lambda title, text: told.append((title, text)))
    assert status == 2
    assert told and told[0][0] == "ChatServer"
    assert "ChatServerCLI.exe" in told[0][1] and "--headless" in told[0][1]


def test_windowed_windows_program_opens_its_window_with_safe_streams(streams):
    told = []
    status = prepare_stdio([], platform="win32", has_stdout=False, executable="ChatClient.exe",
                           tell=lambda *a: told.append(a))
    assert status is None and not told
    assert sys.stdout is sys.stderr and sys.stderr.encoding == "utf-8" and sys.stderr.errors == "replace"
    print("ação 日本 😀", file=sys.stderr)       # a strict cp1252 stream would raise here
    assert sys.stdin.read() == ""


@pytest.mark.parametrize("platform, has_stdout", [("linux", True), ("darwin", True), ("win32", True)])
def test_a_program_with_a_terminal_is_left_alone(streams, platform, has_stdout):
    before = sys.stdout, sys.stderr, sys.stdin
    assert prepare_stdio(["--help"], platform=platform, has_stdout=has_stdout,
                         tell=lambda *a: pytest.fail("no message box")) is None
    assert (sys.stdout, sys.stderr, sys.stdin) == before
