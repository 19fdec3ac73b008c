"""The one wording module: every event and error has its sentence, and every
sentence goes through the one translation function."""
from __future__ import annotations

import ast
import inspect
import struct
from pathlib import Path

import pytest

import udpcore
from chatfront import i18n, wording
from udpcore import errors, events as ev

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.timeout(10)

# One instance of every ChatError the core and the I/O layer raise.
SAMPLES = [
    errors.InvalidName("a b", errors.NameProblem.BAD_CHARACTER), errors.InvalidName("", errors.NameProblem.BLANK),
    errors.InvalidName("x" * 25, errors.NameProblem.TOO_LONG), errors.InvalidName("server", errors.NameProblem.RESERVED),
    errors.NameTaken("bob"), errors.NoSuchMember("zed"), errors.LineTooLong(9000, 8192), errors.NotInRoom(),
    errors.BacklogFull(), errors.VersionMismatch("1"), errors.RoomFull(), errors.RefusedByServer("Go away."),
    errors.AddressError("", errors.AddressProblem.EMPTY), errors.AddressError("[::1", errors.AddressProblem.UNCLOSED_BRACKET),
    errors.AddressError("[::1]x", errors.AddressProblem.AFTER_BRACKET), errors.AddressError(":1", errors.AddressProblem.NO_HOST),
    errors.AddressError("99999", errors.AddressProblem.BAD_PORT), errors.UnknownHost("nowhere.invalid"),
    errors.NoSuchRoom("Sala 3"), errors.SameNameRooms("Sala 3", ("192.0.2.1:5002", "192.0.2.2:5002")),
    errors.PortBusyError(5002), errors.PortBusyError(80, forbidden=True), errors.NotLocalAddress("127.9.9.9"),
    errors.SocketError("No buffer space available", 5002), errors.SocketError("No buffer space available"),
    errors.HostFull(), errors.Banned(), errors.RateLimited(1), errors.RateLimited(0), errors.Muted(300),
    errors.Muted(20), errors.NotBanned("eve"), errors.PassphraseNeeded("Sala 3"), errors.PassphraseNeeded(""),
    errors.WrongPassphrase("Sala 3"), errors.NotLocked("Sala 3"), errors.TooManyGuesses(9.2),
]


def test_every_chat_error_class_is_sampled():
    classes = {c for c in vars(errors).values()
               if inspect.isclass(c) and issubclass(c, errors.ChatError) and c is not errors.ChatError}
    assert classes == {type(e) for e in SAMPLES}


@pytest.mark.parametrize("err", SAMPLES, ids=lambda e: f"{type(e).__name__}-{e}")
def test_every_error_is_one_worded_sentence(err):
    sentence = wording.explain(err)
    assert sentence != str(err) or isinstance(err, errors.RefusedByServer)   # not the English fallback
    assert sentence.endswith(".") and "\n" not in sentence
    assert sentence[0].isupper() or sentence[0] == "'"


def test_each_sentence_says_what_is_particular_to_it():
    assert "bob" in wording.explain(errors.NameTaken("bob"))
    assert "9000" in wording.explain(errors.LineTooLong(9000, 8192))
    # 8,000 Portuguese characters are 9,359 bytes: told in characters, what a person can cut
    sentence = wording.explain(errors.LineTooLong(9359, 8192, 8000))
    assert "998 characters" in sentence and "byte" not in sentence
    assert "1,200 characters" in wording.explain(errors.LineTooLong(8192 + 1200, 8192, 8192 + 1200))
    assert "about 1 character;" in wording.explain(errors.LineTooLong(8194, 8192, 4097))
    assert "5002" in wording.explain(errors.PortBusyError(5002))
    assert "1023" in wording.explain(errors.PortBusyError(80, forbidden=True))
    assert len({wording.explain(e) for e in SAMPLES}) == len(SAMPLES)         # no two alike


def test_durations_come_from_the_protocol_constants(monkeypatch):
    assert "20 seconds" in wording.left_why(udpcore.LeaveReason.VANISHED)
    monkeypatch.setattr(wording, "MEMBER_TIMEOUT", 33.0)
    assert "33 seconds" in wording.left_why(udpcore.LeaveReason.VANISHED)
    assert "5 minutes" in wording.left_why(udpcore.LeaveReason.EXPIRED)
    unreachable = wording.unreachable(ev.Unreachable("h:6000", 6000, 10.0))
    assert unreachable == ("No answer from h:6000 after 10 seconds. If the server is running there, "
                           "a firewall may be blocking UDP port 6000 (see docs/firewall.md).")
    refused = wording.unreachable(ev.Unreachable("localhost:47999", 47999, 0.001, refused=True))
    assert refused == "Nothing is listening on localhost:47999 — is the server running?"


def test_every_leave_reason_has_its_own_words():
    words = {r: wording.left_why(r) for r in udpcore.LeaveReason}
    assert len(set(words.values())) == len(words)


SILENT = {ev.Event, ev.RoomLine, ev.LinePending, ev.Closed, ev.Stats,    # shown otherwise, or not at all
          ev.HistoryLines, ev.InRoom}


def test_every_event_the_core_emits_has_words_or_is_known_to_be_silent():
    samples = {
        ev.MemberJoined: ev.MemberJoined("bob", "127.0.0.1:9"), ev.MemberLeft: ev.MemberLeft("bob"),
        ev.MemberRenamed: ev.MemberRenamed("a", "b"), ev.Connected: ev.Connected("a", "h:1"),
        ev.JoinRefused: ev.JoinRefused(errors.NameTaken("a")), ev.Unreachable: ev.Unreachable("h:1", 1, 10.0),
        ev.ConnectionLost: ev.ConnectionLost(), ev.Reconnected: ev.Reconnected(True),
        ev.ServerClosed: ev.ServerClosed(), ev.MemberList: ev.MemberList(("a",), answers_who=True),
        ev.CommandError: ev.CommandError(errors.NotInRoom()), ev.Listening: ev.Listening("::", 5002),
        ev.LineRefused: ev.LineRefused(3, errors.RateLimited(1)), ev.Removed: ev.Removed("spam"),
        ev.Crowd: ev.Crowd(12, 3), ev.PrivatePassed: ev.PrivatePassed("alice", "bob"),
        ev.BansChanged: ev.BansChanged((ev.Ban("eve"),)),
        ev.MembersBack: ev.MembersBack(150), ev.HistoryProblem: ev.HistoryProblem("paused"),
        ev.HistorySaved: ev.HistorySaved("/tmp/sala.txt", 3),
        ev.SearchResults: ev.SearchResults("cafe", ()), ev.PortFlooded: ev.PortFlooded(True),
    }
    classes = {c for c in vars(ev).values() if inspect.isclass(c) and issubclass(c, ev.Event)}
    assert classes == set(samples) | SILENT
    for cls, e in samples.items():
        assert wording.notice(e), cls
        assert wording.describe(e), cls
    assert wording.describe(ev.ServerClosed()) == "* The server closed the room."
    assert wording.describe(ev.ServerClosed("Lunch break.")) == "* Lunch break."


def _write_mo(path: Path, catalogue: dict[str, str]) -> None:
    """A GNU .mo file (the format gettext reads), written by hand for the test."""
    keys = sorted(catalogue)
    ids = b"".join(k.encode() + b"\0" for k in keys)
    strs = b"".join(catalogue[k].encode() + b"\0" for k in keys)
    n = len(keys)
    start = 7 * 4 + 16 * n
    offsets, o = [], 0
    for k in keys:
        offsets.append((len(k.encode()), start + o))
        o += len(k.encode()) + 1
    toffsets, o = [], 0
    for k in keys:
        toffsets.append((len(catalogue[k].encode()), start + len(ids) + o))
        o += len(catalogue[k].encode()) + 1
    head = struct.pack("<7I", 0x950412DE, 0, n, 7 * 4, 7 * 4 + 8 * n, 0, 0)
    table = b"".join(struct.pack("<2I", *x) for x in offsets) + b"".join(struct.pack("<2I", *x) for x in toffsets)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(head + table + ids + strs)


def test_a_catalogue_translates_terminal_and_window_words_alike(tmp_path, monkeypatch):
    _write_mo(tmp_path / "pt_BR" / "LC_MESSAGES" / "lanchat.mo",
              {"": "Content-Type: text/plain; charset=UTF-8\n", "left": "saiu",
               "No member is called {name}.": "Ninguém se chama {name}."})
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    try:
        i18n.use_language(["pt_BR"])
        assert wording.describe(ev.MemberLeft("bob")) == "* bob saiu"
        assert wording.notice(ev.CommandError(errors.NoSuchMember("zé"))) == "Ninguém se chama zé."
        assert wording.explain(errors.NameTaken("x")).startswith("The name x")     # untranslated: English
    finally:
        i18n.use_language(["en"])
    assert wording.describe(ev.MemberLeft("bob")) == "* bob left"


# Calls whose string arguments a person reads.
SHOWN = {"Label", "Button", "Checkbutton", "Radiobutton", "showerror", "showinfo", "showwarning",
         "askyesno", "askokcancel", "title", "print", "error", "set", "show_error",
         "show_progress"}


def _untranslated(path: Path) -> list[str]:
    """String literals with letters handed straight to something a person reads."""
    out = []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        owner = getattr(getattr(node.func, "value", None), "id", "")
        args = list(node.args) if func in SHOWN and owner != "log" else []     # log lines are for us
        args += [k.value for k in node.keywords if k.arg in ("text", "title", "message", "help", "description")]
        for a in args:
            literal = [a] if isinstance(a, ast.Constant) else a.values if isinstance(a, ast.JoinedStr) else []
            if any(isinstance(x, ast.Constant) and isinstance(x.value, str) and any(ch.isalpha() for ch in x.value)
                   for x in literal):
                out.append(f"{path.relative_to(ROOT)}:{a.lineno}")
    return out


def test_no_sentence_bypasses_the_translation_function():
    files = [*sorted((ROOT / "chatui").glob("*.py")), *sorted((ROOT / "chatfront").glob("*.py")),
             ROOT / "gui_server.py", ROOT / "gui_client.py"]
    found = [hit for f in files for hit in _untranslated(f)]
    assert found == []


def test_the_bypass_check_can_see_a_bypass(tmp_path):
    probe = ROOT / "chatui" / "_probe_untranslated.py"
    probe.write_text('import tkinter\ntkinter.ttk.Label(None, text="Hello there")\nprint(f"x {1}")\n')
    try:
        assert len(_untranslated(probe)) == 2
    finally:
        probe.unlink()


def test_the_rooms_limits_are_told_in_one_sentence_each():
    assert wording.explain(errors.RateLimited(1)) == ("Too fast: that line was not sent. "
                                                      "Wait a second and send it again.")
    assert "5 more minutes" in wording.explain(errors.Muted(300))
    assert "1 more minute;" in wording.explain(errors.Muted(45 + 15))
    assert "20 more seconds" in wording.explain(errors.Muted(20))
    assert "full" in wording.explain(errors.RoomFull())
    assert wording.notice(ev.LineRefused(1, errors.Muted(90))) == wording.explain(errors.Muted(90))
    assert wording.not_sent(errors.RateLimited(2)) == "not sent: too fast"


def test_a_removal_says_why_and_whether_for_good():
    assert wording.removed(ev.Removed("spam")) == "The operator removed you from the room: spam."
    assert wording.removed(ev.Removed("Enough!")) == "The operator removed you from the room: Enough!"
    assert wording.removed(ev.Removed()) == "The operator removed you from the room."
    assert wording.removed(ev.Removed("", True)) == "The operator removed you from the room and banned you."
    assert "banned you: flood." in wording.removed(ev.Removed("flood", True))
    assert wording.failure(ev.Removed("spam")) == wording.removed(ev.Removed("spam"))


def test_a_crowd_is_counted_not_named():
    assert wording.describe(ev.Crowd(12, 0)) == "* 12 people joined"
    assert wording.describe(ev.Crowd(0, 3)) == "* 3 people left"
    assert wording.describe(ev.Crowd(1, 2)) == "* 1 person joined, 2 people left"
    assert wording.describe(ev.MemberLeft("eve", udpcore.LeaveReason.BANNED)) == "* eve was removed and banned by the operator"


def test_the_summaries_count_lines():
    assert wording.more_not_sent(37) == "37 more lines were not sent."
    assert wording.more_not_sent(1) == "1 more line was not sent."
    assert wording.undelivered(2) == "2 lines you typed were not delivered."


def test_help_says_private_lines_pass_through_the_server():
    text = wording.client_help()
    assert "/msg server TEXT" in text and "pass through the server" in text


def test_a_guest_is_marked_as_not_encrypted_and_a_member_is_not():
    guest = wording.notice(ev.MemberJoined("guest-127.0.0.1:5000", "127.0.0.1:5000", True), addresses=True)
    member = wording.notice(ev.MemberJoined("ana", "127.0.0.1:5001", False), addresses=True)
    assert guest == "guest-127.0.0.1:5000 joined (guest, not encrypted)"
    assert member == "ana joined from 127.0.0.1:5001"


def test_a_flood_at_the_port_is_told_when_it_begins_and_when_it_ends_in_both_languages():
    assert "being flooded" in wording.describe(ev.PortFlooded(True))
    assert wording.describe(ev.PortFlooded(False)) == "* the flood at the room's port is over"
    try:
        i18n.use_language(["pt_BR"])
        assert "sendo inundada" in wording.describe(ev.PortFlooded(True))
        assert wording.describe(ev.PortFlooded(False)) == "* a inundação na porta da sala acabou"
    finally:
        i18n.use_language(["en"])


def test_a_locked_rooms_member_is_told_so_when_it_joins_in_both_languages():
    assert wording.notice(ev.Connected("ana", "127.0.0.5:5002", locked=True)) == \
        "Connected to 127.0.0.5:5002 as ana, in a locked room"
    assert wording.notice(ev.Connected("ana", "127.0.0.5:5002")) == "Connected to 127.0.0.5:5002 as ana"
    try:
        i18n.use_language(["pt_BR"])
        assert wording.notice(ev.Connected("ana", "127.0.0.5:5002", locked=True)) == \
            "Conectado a 127.0.0.5:5002 como ana, numa sala trancada"
    finally:
        i18n.use_language(["en"])
