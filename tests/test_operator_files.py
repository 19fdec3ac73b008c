"""The operator's options and files: every limit is an option with its default,
a bad value is one sentence; the bans file survives, is written atomically, and
an unreadable one is kept aside, never lost and never a crash."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from udpcore import Limits, events as ev
from chatfront import bans as bans_module
from chatfront.bans import BanFile
from chatfront.datadir import data_dir
from chatfront.moderation import Ban, Bans, Kick, Mute, Unban, parse_moderation
from chatfront.commands import Usage
from chatfront.options import limits_from, server_parser

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.timeout(30)
FIELDS = ("max_members", "max_per_address", "line_rate", "line_burst", "max_guests", "guest_line_chars",
          "guest_rate", "guest_burst", "guests_rate", "named_joins", "discover_rate", "discover_burst",
          "discovers_rate", "discover_hosts", "handshake_rate", "handshake_burst", "locked_handshake_rate",
          "max_pending", "guess_burst", "guess_rate", "fetch_rate", "fetch_burst", "fetches_rate", "fetches_burst")


def test_every_limit_is_an_option_whose_default_is_the_engines():
    from dataclasses import fields
    assert {f.name for f in fields(Limits)} == set(FIELDS)
    args = server_parser().parse_args([])
    assert limits_from(args) == Limits()
    text = server_parser().format_help()
    for name in FIELDS:
        option = "--" + name.replace("_", "-")
        assert option in text
    assert "(default 500)" in text and "(default 32)" in text and "(default 5)" in text


def test_options_set_the_limits_and_the_data_folder():
    args = server_parser().parse_args(["--max-members", "40", "--line-rate", "0.5", "--guest-burst", "1",
                                       "--named-joins", "0", "--data-dir", "/tmp/x"])
    assert limits_from(args) == Limits(max_members=40, line_rate=0.5, guest_burst=1, named_joins=0)
    assert args.data_dir == "/tmp/x"


@pytest.mark.parametrize("argv, sentence", [
    (["--max-members", "0"], "--max-members takes a whole number of 1 or more, not '0'."),
    (["--max-per-address", "many"], "--max-per-address takes a whole number of 1 or more, not 'many'."),
    (["--line-rate", "0"], "--line-rate takes a number above 0, not '0'."),
    (["--guests-rate", "nan"], "--guests-rate takes a number above 0, not 'nan'."),
    (["--guest-line-chars", "2.5"], "--guest-line-chars takes a whole number of 1 or more, not '2.5'."),
    (["--named-joins", "-1"], "--named-joins takes a whole number of 0 or more, not '-1'."),
])
def test_a_bad_limit_is_one_sentence_and_status_2(argv, sentence):
    done = subprocess.run([sys.executable, "gui_server.py", "--headless", *argv], cwd=ROOT, capture_output=True,
                          text=True, timeout=20, stdin=subprocess.DEVNULL)
    assert done.returncode == 2
    assert done.stderr == f"ChatServer: {sentence}\n" and done.stdout == ""


def test_the_data_folder_follows_the_option_then_the_environment_then_the_system(monkeypatch, tmp_path):
    assert data_dir(str(tmp_path / "mine")) == str(tmp_path / "mine")
    monkeypatch.setenv("LANCHAT_DATA_DIR", str(tmp_path / "env"))
    assert data_dir(None) == str(tmp_path / "env")
    monkeypatch.delenv("LANCHAT_DATA_DIR")
    from platformdirs import user_data_dir
    assert data_dir(None) == user_data_dir("LanChat", appauthor=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert data_dir(None) == user_data_dir("LanChat", appauthor=False) == str(tmp_path / "xdg" / "LanChat")


def test_moderation_commands_parse_once():
    assert parse_moderation("/kick bob") == Kick("bob", "")
    assert parse_moderation("/KICK bob  stop spamming ") == Kick("bob", "stop spamming")
    assert parse_moderation("/mute bob 15") == Mute("bob", 15)
    assert parse_moderation("/mute bob 0") == Mute("bob", 0)
    assert parse_moderation("/ban eve") == Ban("eve", "")
    assert parse_moderation("/unban eve") == Unban("eve")
    assert parse_moderation("/bans") == Bans()
    for bad in ("/kick", "/mute bob", "/mute bob soon", "/mute bob -3", "/ban", "/unban", "/unban a b"):
        assert isinstance(parse_moderation(bad), Usage), bad
    for other in ("hello", "/msg bob hi", "/kicks", "kick bob", ""):
        assert parse_moderation(other) is None


# --- the bans file ------------------------------------------------------------------------


def test_bans_round_trip_in_a_folder_made_on_the_first_write(tmp_path):
    folder = tmp_path / "not" / "yet"
    store = BanFile(str(folder))
    assert store.load() == ((), None) and not folder.exists()         # starting makes nothing
    bans = (ev.Ban("eve", "127.0.0.5"), ev.Ban("zoë", ""))
    assert store.save(bans) is None
    assert json.loads((folder / "bans.json").read_text("utf-8")) == {
        "version": 1, "bans": [{"name": "eve", "address": "127.0.0.5"}, {"name": "zoë", "address": ""}]}
    assert BanFile(str(folder)).load() == (bans, None)
    assert sorted(os.listdir(folder)) == ["bans.json"]                 # no temporary file left


def test_a_failed_write_leaves_the_old_list_whole(tmp_path, monkeypatch):
    store = BanFile(str(tmp_path))
    store.save((ev.Ban("eve", ""),))

    def full_disk(fd):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(bans_module.os, "fsync", full_disk)
    sentence = store.save((ev.Ban("eve", ""), ev.Ban("mallory", "")))
    assert sentence == (f"The bans could not be saved in {store.path} (No space left on device); they hold "
                        "until the room closes.")
    monkeypatch.undo()
    assert BanFile(str(tmp_path)).load() == ((ev.Ban("eve", ""),), None)
    assert os.listdir(tmp_path) == ["bans.json"]


@pytest.mark.parametrize("content", [b"{not json", b"\xff\xfe garbage", b'{"version": 1}', b"[]",
                                     b'{"version": 1, "bans": [{"name": ""}]}',
                                     b'{"version": 1, "bans": [{"name": "a", "address": 5}]}',
                                     b'{"version": 9, "bans": []}'])
def test_a_corrupt_file_is_kept_aside_said_and_the_room_starts_with_no_bans(tmp_path, content):
    (tmp_path / "bans.json").write_bytes(content)
    store = BanFile(str(tmp_path))
    bans, sentence = store.load()
    assert bans == ()
    kept = [p for p in tmp_path.iterdir() if p.name.startswith("bans.json.corrupt-")]
    assert len(kept) == 1 and kept[0].read_bytes() == content          # nothing lost
    assert sentence == (f"The bans file {store.path} could not be read; it was kept as {kept[0]} and the room "
                        "starts with no bans.")
    assert store.save((ev.Ban("eve", ""),)) is None                     # and a new list is kept from now on
    (tmp_path / "bans.json").write_bytes(content)
    BanFile(str(tmp_path)).load()                                       # set aside twice: two names
    assert len([p for p in tmp_path.iterdir() if p.name.startswith("bans.json.corrupt-")]) == 2


def test_a_file_that_can_neither_be_read_nor_set_aside_is_left_alone(tmp_path, monkeypatch):
    (tmp_path / "bans.json").write_bytes(b"{broken")
    store = BanFile(str(tmp_path))

    def refuse(a, b):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr(bans_module.os, "replace", refuse)
    bans, sentence = store.load()
    assert bans == () and "could not be read (Permission denied)" in sentence and "will not write over it" in sentence
    monkeypatch.undo()
    assert store.save((ev.Ban("eve", ""),)) == (f"The bans were not saved in {store.path}; they hold until the "
                                                "room closes.")
    assert (tmp_path / "bans.json").read_bytes() == b"{broken"
