"""The headless programs' typing line, when a person types into a real terminal.

Piped or redirected, the programs read stdin line by line and print as they
always have: scripts rely on that, byte for byte. When stdin and stdout are both
a terminal, and prompt_toolkit is there, lines are typed on an input line that
stays intact at the bottom while the room's lines print above it (prompt_toolkit's
``StdoutProxy``: whatever the program prints goes above the input line), with the
Up arrow recalling what was typed and Tab completing /commands and members' names.

Threads: the program's main thread prints what arrives, as before; the typing
line runs on the reader's thread (prompt_toolkit's own event loop there), so the
main thread needs no change but the proxy taking ``sys.stdout``. Ctrl+C on the
typing line stops the program the way SIGINT does; Ctrl+D on an empty line is the
end of input, as in a terminal without it. No colour: the lines look as they do
in a pipe.
"""
from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from typing import Iterator

from udpcore import events as ev, name_key

CLIENT_COMMANDS = ("/msg", "/me", "/nick", "/who", "/help", "/search", "/save", "/quit")
SERVER_COMMANDS = ("/msg", "/who", "/help", "/search", "/save", "/kick", "/mute", "/ban", "/unban", "/bans",
                   "/quit")
NAME_COMMANDS = ("/msg", "/kick", "/mute", "/ban", "/unban")     # their first word is a member's name
CLOSE_WAIT = 2.0        # seconds close() waits for the typing line to give the terminal back


def interactive(stdin=None, stdout=None) -> bool:
    """A person at a terminal: stdin and stdout both terminals, and prompt_toolkit installed."""
    stdin = sys.stdin if stdin is None else stdin
    stdout = sys.stdout if stdout is None else stdout
    try:
        if not (stdin.isatty() and stdout.isatty()):
            return False
    except (AttributeError, ValueError, OSError):
        return False
    try:
        import prompt_toolkit  # noqa: F401
    except ImportError:                      # run from source without it: the plain way
        return False
    return True


def completions(before: str, commands: Iterable[str], names: Iterable[str], me: str = "") -> list[str]:
    """What Tab may put in place of the word being typed (the text left of the cursor
    is ``before``): a /command at the start of the line, else a member's name (not
    ``me``), followed by a space where a command's word ends."""
    words = before.split(" ")
    word = words[-1]
    if len(words) == 1 and word.startswith("/") and not word.startswith("//"):
        low = word.lower()
        return [c + " " for c in commands if c.startswith(low)]
    key = word.casefold()
    own = name_key(me) if me else None
    found = sorted({n for n in names if n.casefold().startswith(key) and name_key(n) != own}, key=str.casefold)
    first = before.lstrip().split(" ", 1)[0].lower()
    if len(words) == 2 and first in NAME_COMMANDS and first in commands:
        # A command's word: a name with a space in it goes in quotes (/msg "joão silva" oi).
        return [(f'"{n}"' if any(c.isspace() for c in n) else n) + " " for n in found]
    return found


class Members:
    """The names in the room, as a client's events tell them, for Tab."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def track(self, e: ev.Event) -> None:
        if isinstance(e, ev.Connected):
            self.names = list(e.members) or self.names
        elif isinstance(e, ev.MemberList):
            self.names = list(e.names)
        elif isinstance(e, ev.MemberJoined):
            if e.name not in self.names:
                self.names.append(e.name)
        elif isinstance(e, ev.MemberLeft):
            if e.name in self.names:
                self.names.remove(e.name)
        elif isinstance(e, ev.MemberRenamed):
            self.names = [e.new if n == e.old else n for n in self.names]


class Screen:
    """The terminal while the program runs: printing goes above the typing line,
    and :meth:`read` feeds each typed line to the program on a thread."""

    def __init__(self) -> None:
        self._proxy = None
        self._saved: tuple = ()
        self._session = None
        self._thread: threading.Thread | None = None
        self._closing = threading.Event()
        self.members = Members()

    def open(self) -> None:
        from prompt_toolkit.patch_stdout import StdoutProxy
        self._proxy = StdoutProxy()
        self._saved = (sys.stdout, sys.stderr)
        sys.stdout = self._proxy                  # type: ignore[assignment]
        try:
            stderr_here = sys.stderr.isatty()
        except (AttributeError, ValueError, OSError):
            stderr_here = False
        if stderr_here:                           # a stderr sent elsewhere (2>log) stays there
            sys.stderr = self._proxy              # type: ignore[assignment]

    def read(self, handle: Callable[[str], object], done: threading.Event, *, interrupt: Callable[[], None],
             prompt: Callable[[], str], commands: Iterable[str], names: Callable[[], Iterable[str]],
             me: Callable[[], str] = lambda: "") -> threading.Thread:
        """Like reading stdin: ``handle`` each line typed, until it returns False or
        Ctrl+D; then set ``done``. Ctrl+C calls ``interrupt`` (the program's stop)."""
        from prompt_toolkit import PromptSession
        from prompt_toolkit.completion import Completer, Completion
        from prompt_toolkit.shortcuts import CompleteStyle
        from prompt_toolkit.application.current import get_app_session
        commands = tuple(commands)
        output = get_app_session().output        # the one the typing line and the printing share
        if hasattr(output, "enable_cpr"):
            # No cursor-position questions: an answer that comes back while the terminal is not
            # ours (suspended, leaving) would be echoed as ^[[9;1R; the readline-like list needs none.
            output.enable_cpr = False

        class Words(Completer):
            def get_completions(self, document, complete_event):
                before = document.text_before_cursor
                word = before.split(" ")[-1]
                for text in completions(before, commands, names(), me()):
                    yield Completion(text, start_position=-len(word), display=text.rstrip())

        self._session = session = PromptSession(completer=Words(), complete_while_typing=False, enable_suspend=True,
                                                complete_style=CompleteStyle.READLINE_LIKE)

        def typed() -> Iterator[str]:
            while not self._closing.is_set():
                try:
                    text = session.prompt(prompt)
                except KeyboardInterrupt:
                    interrupt()
                    return
                except EOFError:
                    return
                except (OSError, ValueError):
                    raise
                except Exception:                     # the typing line cannot run here: plain lines, as before
                    yield from (line.rstrip("\r\n") for line in sys.stdin)
                    return
                yield from text.split("\n")          # pasted lines are lines, as in a pipe

        def run() -> None:
            try:
                for line in typed():
                    if self._closing.is_set() or handle(line) is False:
                        break
            except (OSError, ValueError):
                pass
            finally:
                done.set()
        self._thread = threading.Thread(target=run, name="stdin", daemon=True)
        self._thread.start()
        return self._thread

    def close(self) -> None:
        """Take the typing line away (its text is dropped) and give the terminal back as it was."""
        self._closing.set()
        if self._thread is not None and self._session is not None:
            app = self._session.app

            def end() -> None:
                if app.is_running and app.future is not None and not app.future.done():
                    app.erase_when_done = True
                    app.exit(exception=EOFError)
            waited = 0.0
            while self._thread.is_alive() and waited < CLOSE_WAIT:
                loop = app.loop if app.is_running else None
                if loop is not None:
                    try:
                        loop.call_soon_threadsafe(end)
                    except RuntimeError:          # the loop closed meanwhile
                        pass
                self._thread.join(0.05)
                waited += 0.05
        if self._proxy is not None:
            self._proxy.close()                   # everything printed is out
            sys.stdout, sys.stderr = self._saved
            self._proxy = None


@contextmanager
def screen() -> Iterator[Screen | None]:
    """A :class:`Screen` while the block runs when a person is at the terminal, else None."""
    if not interactive():
        yield None
        return
    s = Screen()
    s.open()
    try:
        yield s
    finally:
        s.close()
