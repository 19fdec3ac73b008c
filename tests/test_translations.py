"""Portuguese (pt-BR) and English: every sentence a person reads has its Portuguese,
with the same placeholders; the system's language picks it and --lang overrides it;
the committed catalogues are what the sources and the .po give.

After new sentences land: ``.venv/bin/python tools/update_catalog.py``, translate
what it reports in chatfront/locale/pt_BR/LC_MESSAGES/lanchat.po, run it again.
"""
from __future__ import annotations

import importlib.util
import os
import re
import string
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from chatfront import history_wording, i18n, wording
from udpcore import events as ev

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
pytestmark = pytest.mark.timeout(60)

_spec = importlib.util.spec_from_file_location("update_catalog", ROOT / "tools" / "update_catalog.py")
catalog_tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(catalog_tool)

RERUN = "run: .venv/bin/python tools/update_catalog.py, translate the new entries, run it again"


@pytest.fixture
def portuguese():
    i18n.use_language(["pt_BR"])
    try:
        yield
    finally:
        i18n.use_language(["en"])
        i18n._by_option = False


@pytest.fixture(scope="module")
def po():
    from babel.messages.pofile import read_po
    with open(catalog_tool.po_path("pt_BR"), "rb") as f:
        return read_po(f, locale="pt_BR", domain="lanchat")


def _forms(message) -> tuple[str, ...]:
    return message.id if isinstance(message.id, tuple) else (message.id,)


def _strings(message) -> tuple[str, ...]:
    return message.string if isinstance(message.string, tuple) else (message.string,)


# --- the catalogue is complete and right ----------------------------------------------------

def test_every_sentence_in_the_sources_has_a_portuguese_translation(po):
    template = catalog_tool.extract()
    untranslated = []
    for message in template:
        if not message.id:
            continue
        have = po.get(message.id)
        if have is None or have.fuzzy or not all(_strings(have)):
            untranslated.append(message.id)
    assert untranslated == [], f"{len(untranslated)} without Portuguese ({RERUN}): {untranslated[:10]}"


def test_the_catalogues_are_up_to_date_with_the_sources():
    """The .pot, the .po and the .mo are what tools/update_catalog.py makes now."""
    assert catalog_tool.main(["--check"]) == 0, RERUN


def test_the_committed_mo_is_exactly_the_compiled_po():
    assert catalog_tool.mo_path("pt_BR").read_bytes() == catalog_tool.compiled_po("pt_BR"), RERUN


def _brace_fields(text: str) -> list[str]:
    """``{name}``, ``{seconds:g}``: name, conversion and format spec, sorted."""
    return sorted(f"{name}!{conv}:{spec}" for _lit, name, spec, conv in string.Formatter().parse(text)
                  if name is not None)


PERCENT = re.compile(r"%(?:\([a-z_]+\))?[sdrf%]")


def _placeholders(text: str, percent: bool) -> tuple[list[str], list[str]]:
    return _brace_fields(text) if not percent else [], sorted(PERCENT.findall(text))


def test_every_translation_keeps_the_placeholders_and_the_edges(po):
    wrong = []
    for message in po:
        if not message.id:
            continue
        percent = "python-format" in message.flags
        english = {repr(_placeholders(f, percent)) for f in _forms(message)}
        for text in _strings(message):
            if repr(_placeholders(text, percent)) not in english:
                wrong.append((message.id, text))
            first = _forms(message)[0]
            # " or ", " (guest, not encrypted)", "…\n": the spaces and newlines at the ends join sentences
            if (text[:1].isspace(), text[-1:].isspace()) != (first[:1].isspace(), first[-1:].isspace()):
                wrong.append((message.id, text))
    assert wrong == []


def test_the_placeholder_check_sees_a_wrong_one():
    assert _placeholders("{name} saiu", False) != _placeholders("{nome} saiu", False)
    assert _placeholders("{seconds:g} s", False) != _placeholders("{seconds} s", False)
    assert _placeholders("uso: %(prog)s", True) != _placeholders("uso: %s", True)


def test_portuguese_plural_forms_are_gettexts(po, portuguese):
    assert po.plural_forms == "nplurals=2; plural=(n > 1);"
    assert wording.more_not_sent(1) == "Mais 1 mensagem não foi enviada."
    assert wording.more_not_sent(2) == "Mais 2 mensagens não foram enviadas."


# --- sentences in Portuguese, dates without the system's locale -----------------------------

def test_the_words_of_the_room_in_portuguese(portuguese):
    assert wording.notice(ev.Connected("ana", "192.0.2.5:5002")) == "Conectado a 192.0.2.5:5002 como ana"
    assert wording.describe(ev.MemberLeft("bob")) == "* bob saiu"
    assert wording.notice(ev.MemberList(("ana", "bob"), answers_who=True)) == "2 na sala: ana, bob"
    assert history_wording.earlier_marker() == "* antes, nesta sala:"


def test_the_headless_markers_stay_english_in_english():
    assert history_wording.earlier_marker() == "* earlier in this room:"
    assert history_wording.missed_marker() == "* while you were away:"
    assert history_wording.live_marker() == "* (live)"


THURSDAY = time.mktime((2026, 12, 3, 10, 48, 0, 0, 0, -1))


def test_dates_are_in_the_readers_language_without_the_systems_locale(portuguese):
    assert history_wording.day(THURSDAY) == "Quinta-feira, 3 de dezembro de 2026"
    assert history_wording.stamp(THURSDAY) == "03/12/2026 10:48"
    assert history_wording.clock(THURSDAY) == "10:48"


def test_english_dates_are_as_before():
    assert history_wording.day(THURSDAY) == "Thursday, 3 December 2026"
    assert history_wording.stamp(THURSDAY) == "2026-12-03 10:48"


# --- which language ---------------------------------------------------------------------------

@pytest.mark.parametrize("environ, expected", [
    ({"LANG": "pt_BR.UTF-8"}, "pt_BR"),
    ({"LANG": "pt_PT.UTF-8"}, "pt_BR"),             # the only Portuguese we have
    ({"LANG": "en_US.UTF-8"}, "en"),
    ({"LANG": "de_DE.UTF-8"}, "en"),                # one we do not have: English
    ({"LANG": "C.UTF-8"}, "en"),
    ({"LC_MESSAGES": "pt_BR.UTF-8", "LANG": "en_US.UTF-8"}, "pt_BR"),
    ({"LC_ALL": "C", "LC_MESSAGES": "pt_BR.UTF-8"}, "en"),
    ({"LANGUAGE": "pt_BR:pt:en", "LANG": "en_US.UTF-8"}, "pt_BR"),
    ({"LANGUAGE": "de:pt", "LANG": "en_US.UTF-8"}, "pt_BR"),
    ({"LANGUAGE": "", "LANG": "pt_BR"}, "pt_BR"),     # an empty variable counts as unset
])
def test_the_system_language_is_read_as_gettext_reads_it(environ, expected):
    assert i18n.system_language(environ, "linux") == expected


@pytest.mark.parametrize("platform", ["win32", "darwin", "linux"])
def test_no_language_setting_anywhere_is_english_never_a_crash(platform):
    assert i18n.system_language({}, platform) in i18n.LANGUAGES


def test_windows_and_macos_settings_are_asked_when_no_variable_is_set(monkeypatch):
    monkeypatch.setattr(i18n, "_windows_languages", lambda: ["pt_BR"])
    monkeypatch.setattr(i18n, "_mac_languages", lambda: ["pt-BR", "en-US"])
    assert i18n.system_language({}, "win32") == "pt_BR"
    assert i18n.system_language({}, "darwin") == "pt_BR"
    assert i18n.system_language({"LANG": "en_US.UTF-8"}, "win32") == "en"     # a variable still comes first

    def broken():
        raise OSError("no such function")
    monkeypatch.setattr(i18n, "_windows_languages", broken)
    assert i18n.system_language({}, "win32") in i18n.LANGUAGES


@pytest.mark.parametrize("argv, expected", [
    (["--lang", "pt_BR"], "pt_BR"), (["--lang=pt-BR"], "pt_BR"), (["--lan", "en"], "en"),
    (["--name", "x", "--lang", "en"], "en"), (["--lang", "fr"], None), (["--lang"], None),
    (["--", "--lang", "pt_BR"], None), (["--list"], None),
])
def test_lang_is_read_before_argparse(argv, expected):
    assert i18n.option_language(argv) == expected


def test_clients_the_server_opens_get_the_language_given_on_its_command_line(portuguese):
    i18n.choose_language(["--lang", "pt_BR"])
    assert i18n.language_args() == ["--lang", "pt_BR"] and i18n.tk_locale() == "pt"
    i18n.choose_language([])                # from the system: the clients find it themselves
    assert i18n.language_args() == []


def _run(*args: str, lang: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES")}
    env.update(LANG=lang, PYTHONIOENCODING="utf-8")
    return subprocess.run([PY, *args], cwd=ROOT, env=env, capture_output=True, text=True, encoding="utf-8",
                          timeout=30)


def test_lang_pt_br_in_the_environment_gives_portuguese_help_and_lang_en_overrides_it():
    pt = _run("gui_client.py", "--headless", "--help", lang="pt_BR.UTF-8")
    assert pt.returncode == 0
    assert pt.stdout.startswith("uso: ChatClient") and "opções:" in pt.stdout and "seu nome na sala" in pt.stdout
    en = _run("gui_client.py", "--headless", "--help", "--lang", "en", lang="pt_BR.UTF-8")
    assert en.returncode == 0 and en.stdout.startswith("usage: ChatClient") and "your name in the room" in en.stdout


def test_lang_pt_br_on_the_command_line_gives_portuguese_help_on_an_english_system():
    out = _run("gui_server.py", "--lang", "pt_BR", "--help", lang="C.UTF-8")
    assert out.returncode == 0 and "limites:" in out.stdout and "trancar a sala" in out.stdout


@pytest.mark.parametrize("program", ["gui_server.py", "gui_client.py"])
def test_an_unknown_language_is_refused_with_one_sentence_and_status_2(program):
    out = _run(program, "--lang", "fr", "--headless", lang="C.UTF-8")
    assert out.returncode == 2
    assert out.stderr.strip().splitlines()[-1].endswith("--lang takes en or pt_BR, not 'fr'.")
    pt = _run(program, "--lang", "fr", "--headless", lang="pt_BR.UTF-8")       # in the system's language
    assert pt.returncode == 2 and pt.stderr.strip().endswith("--lang aceita en ou pt_BR, não 'fr'.")


# --- the packaged programs carry the catalogues -----------------------------------------------

@pytest.mark.parametrize("platform", ["win32", "darwin", "linux"])
def test_the_packaged_programs_carry_the_compiled_catalogues(monkeypatch, tmp_path, platform):
    pytest.importorskip("PyInstaller")
    seen: list = []

    def analysis(scripts, datas=(), **kwargs):
        seen.append(list(datas))
        return SimpleNamespace(scripts=scripts, pure=[], binaries=[], datas=[])

    monkeypatch.setattr(sys, "argv", ["build.spec"])
    monkeypatch.setattr(sys, "platform", platform)
    record = lambda *a, **k: SimpleNamespace(args=a, **k)     # noqa: E731
    spec = {"SPECPATH": str(ROOT), "workpath": str(tmp_path), "Analysis": analysis, "PYZ": lambda pure: "pyz",
            "EXE": record, "COLLECT": record, "BUNDLE": record}
    exec(compile((ROOT / "build.spec").read_text(encoding="utf-8"), "build.spec", "exec"), spec)
    mo = catalog_tool.mo_path("pt_BR")
    assert seen and all((str(mo), "chatfront/locale/pt_BR/LC_MESSAGES") in
                        [(src, dest.replace("\\", "/")) for src, dest in datas] for datas in seen)


def test_a_translation_made_ahead_or_of_a_returning_sentence_comes_back(monkeypatch, tmp_path):
    """Obsolete (#~) entries: one whose sentence is in the sources again is a
    translation again, not fuzzy; one still absent stays obsolete."""
    from babel.messages.catalog import Message
    monkeypatch.setattr(catalog_tool, "LOCALE", tmp_path)
    po = catalog_tool._new_catalog("pt_BR")
    po.add("Send", "Enviar")
    po.obsolete["Search…"] = Message("Search…", "Buscar…")
    po.obsolete["{n} day"] = Message(("{n} day", "{n} days"), ("{n} dia", "{n} dias"))
    po.obsolete["Gone"] = Message("Gone", "Sumiu")
    path = catalog_tool.po_path("pt_BR")
    path.parent.mkdir(parents=True)
    path.write_bytes(catalog_tool._po_text(po))
    template = catalog_tool._new_catalog()
    for msgid in ("Send", "Search…", ("{n} day", "{n} days")):
        template.add(msgid)
    updated = catalog_tool.updated_po(template, "pt_BR")
    assert {m.id: (m.string, m.fuzzy) for m in updated if m.id} == {
        "Send": ("Enviar", False), "Search…": ("Buscar…", False),
        ("{n} day", "{n} days"): (("{n} dia", "{n} dias"), False)}
    assert list(updated.obsolete) == ["Gone"]


# --- the windows --------------------------------------------------------------------------------

@pytest.mark.gui
def test_the_connect_form_and_tks_own_dialogs_speak_portuguese(tk_root, portuguese, config_dir):
    from chatui.client_window import ClientApp
    app = ClientApp(tk_root, tk_root._palette)
    assert app.form.button.cget("text") == "Conectar"
    tk_root.tk.call("::msgcat::mclocale", i18n.tk_locale())      # as chatui.app.make_root does
    try:
        assert tk_root.tk.eval('namespace eval ::tk {::msgcat::mc "&Yes"}') == "&Sim"
    finally:
        tk_root.tk.call("::msgcat::mclocale", "en")


def _window_named(pattern: str, timeout: float = 20.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", pattern],
                             capture_output=True, text=True).stdout.split()
        if out:
            return subprocess.run(["xdotool", "getwindowname", out[0]], capture_output=True, text=True).stdout.strip()
        time.sleep(0.1)
    raise AssertionError(f"no window named {pattern!r}")


@pytest.mark.gui
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="xdotool reads X11 window titles, on Linux")
@pytest.mark.parametrize("extra, title", [((), "Servidor do LAN Chat — porta"), (("--lang", "en"), "LAN Chat Server — port")])
def test_the_server_window_follows_lang_pt_br_and_lang_en_overrides_it(xvfb_display, config_dir, extra, title):
    env = {k: v for k, v in os.environ.items() if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES")}
    env.update(LANG="pt_BR.UTF-8", DISPLAY=xvfb_display)
    p = subprocess.Popen([PY, "gui_server.py", "--port", "0", *extra], cwd=ROOT, env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        pattern = title.replace(" — ", " .* ")     # xdotool's regex, in the C locale, takes no "—"
        assert _window_named(f"^{pattern} [0-9]+$").startswith(title)
    finally:
        p.terminate()
        p.wait(timeout=10)
