"""build.spec read as PyInstaller reads it, for each system, with PyInstaller's
build steps replaced by recorders: which executables come out, windowed or
console, and how they are grouped. This checks the Windows and macOS layouts
here, where only the Linux build can run (test_packaging builds that one)."""
from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

pytest.importorskip("PyInstaller")

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.timeout(60)


def read_spec(monkeypatch, tmp_path: Path, platform: str, *options: str) -> dict[str, list]:
    made: dict[str, list] = {"EXE": [], "COLLECT": [], "BUNDLE": []}

    def recorder(kind: str):
        def record(*args, **kwargs):
            thing = SimpleNamespace(args=args, **kwargs)
            made[kind].append(thing)
            return thing
        return record

    def analysis(scripts, **kwargs):
        return SimpleNamespace(scripts=scripts, pure=[], binaries=[], datas=[("sv.tcl", "sv_ttk", "DATA")])

    monkeypatch.setattr(sys, "argv", ["build.spec", *options])
    monkeypatch.setattr(sys, "platform", platform)
    spec = {"SPECPATH": str(ROOT), "workpath": str(tmp_path), "Analysis": analysis, "PYZ": lambda pure: "pyz",
            "EXE": recorder("EXE"), "COLLECT": recorder("COLLECT"), "BUNDLE": recorder("BUNDLE")}
    exec(compile((ROOT / "build.spec").read_text(encoding="utf-8"), "build.spec", "exec"), spec)
    return made


def programs(made) -> dict[str, bool]:
    return {exe.name: exe.console for exe in made["EXE"]}


def test_windows_gets_a_console_twin_beside_each_windowed_program(monkeypatch, tmp_path):
    made = read_spec(monkeypatch, tmp_path, "win32")
    assert programs(made) == {"ChatServer": False, "ChatServerCLI": True, "ChatClient": False, "ChatClientCLI": True}
    assert all(exe.version and Path(exe.version).exists() for exe in made["EXE"])   # a version resource each
    assert not made["COLLECT"]                                                       # one file each


def test_windows_one_folder_build_holds_all_four_in_one_folder(monkeypatch, tmp_path):
    made = read_spec(monkeypatch, tmp_path, "win32", "--onedir")
    (folder,) = made["COLLECT"]
    assert folder.name == "LanChat"
    assert {a.name for a in folder.args if hasattr(a, "name")} == {"ChatServer", "ChatServerCLI", "ChatClient",
                                                                   "ChatClientCLI"}


def test_a_console_build_has_no_twins(monkeypatch, tmp_path):
    assert programs(read_spec(monkeypatch, tmp_path, "win32", "--console")) == {"ChatServer": True,
                                                                                "ChatClient": True}


@pytest.mark.parametrize("platform", ["linux", "darwin"])
def test_macos_and_linux_programs_need_no_twin(monkeypatch, tmp_path, platform):
    made = read_spec(monkeypatch, tmp_path, platform)
    assert programs(made) == {"ChatServer": False, "ChatClient": False}
    if platform == "darwin":
        assert [b.name for b in made["BUNDLE"]] == ["ChatServer.app", "ChatClient.app"]
        assert all("NSLocalNetworkUsageDescription" in b.info_plist for b in made["BUNDLE"])
