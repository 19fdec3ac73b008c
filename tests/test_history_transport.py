"""The room's history through real sockets on 127.0.0.1: stored, replayed, caught up, searched.

Each test gives the server and every client a data folder of its own under tmp_path.
"""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.conftest import wait_for
from tests.impairment import ImpairmentProxy
from udpcore import events as ev
from udpnet import HistoryInUse, start_client, start_server

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def made():
    """Transports to close at the end, whatever happened."""
    out: list = []
    yield out
    for t in reversed(out):
        try:
            t.close(timeout=1)
        except Exception:
            pass


def server(made, folder, **kw):
    s = start_server("127.0.0.1", kw.pop("port", 0), history_dir=str(folder), stats=False, **kw)
    s.seen = []
    made.append(s)
    return s


def client(made, port, name, folder=None, **kw):
    c = start_client(f"127.0.0.1:{port}", name, history_dir=None if folder is None else str(folder), **kw)
    c.seen = []
    made.append(c)
    wait_for(c, lambda e: isinstance(e, ev.Connected))
    return c


def say_all(c, texts):
    for t in texts:
        c.say(t)
    last = texts[-1]
    wait_for(c, lambda e: isinstance(e, ev.RoomLine) and e.own and e.text == last)


def block(c, kind, timeout=10.0):
    return wait_for(c, lambda e: isinstance(e, ev.HistoryLines) and e.kind == kind, timeout)


def lines_of(c):
    return [e.text for e in c.seen if isinstance(e, ev.RoomLine)]


def test_a_late_joiner_sees_the_last_lines_and_a_restarted_client_only_what_it_lacks(made, tmp_path):
    s = server(made, tmp_path / "s")
    port = s.address[1]
    ana = client(made, port, "ana")
    say_all(ana, [f"linha {i}" for i in range(1, 8)])
    bia = client(made, port, "bia", tmp_path / "bia", replay=3)
    earlier = block(bia, "earlier")
    assert [x.text for x in earlier.lines] == ["linha 5", "linha 6", "linha 7"] and earlier.more == 4
    say_all(ana, ["linha 8"])
    wait_for(bia, lambda e: isinstance(e, ev.RoomLine) and e.text == "linha 8")
    bia.close()
    made.remove(bia)
    say_all(ana, ["linha 9", "linha 10"])
    bia = client(made, port, "bia", tmp_path / "bia", replay=3)
    stored = next(e for e in bia.seen if isinstance(e, ev.HistoryLines))
    assert stored.kind == "stored"                       # shown before the room answered
    assert bia.seen.index(stored) < next(i for i, e in enumerate(bia.seen) if isinstance(e, ev.Connected))
    assert [x.text for x in stored.lines] == ["linha 5", "linha 6", "linha 7", "linha 8"]
    missed = block(bia, "missed")
    assert [x.text for x in missed.lines] == ["linha 9", "linha 10"] and missed.more == 0
    time.sleep(0.3)
    while not bia.events.empty():
        bia.seen.append(bia.events.get())
    assert lines_of(bia) == []                           # nothing twice: no live copy of an old line


def test_a_server_restarted_on_its_folder_continues_the_numbers_and_clients_catch_up(made, tmp_path):
    s = server(made, tmp_path / "s")
    port = s.address[1]
    ana = client(made, port, "ana", tmp_path / "ana")
    say_all(ana, ["um", "dois"])
    s.close()
    wait_for(ana, lambda e: isinstance(e, ev.ServerClosed))
    made.remove(s)
    s = server(made, tmp_path / "s", port=port)
    bia = client(made, port, "bia")
    say_all(bia, ["três"])
    assert [e.seq for e in bia.seen if isinstance(e, ev.RoomLine)] == [3]
    ana2 = client(made, port, "ana", tmp_path / "ana")
    missed = block(ana2, "missed")
    assert [(x.seq, x.text) for x in missed.lines] == [(3, "três")]


def test_a_window_rejoins_by_itself_when_its_room_opens_again(made, tmp_path):
    s = server(made, tmp_path / "s")
    port = s.address[1]
    ana = client(made, port, "ana", tmp_path / "ana", rejoin=True)
    bia = client(made, port, "bia")
    say_all(bia, ["antes"])
    s.close()
    wait_for(ana, lambda e: isinstance(e, ev.ServerClosed))
    made.remove(s)
    s = server(made, tmp_path / "s", port=port)
    caio = client(made, port, "caio")
    say_all(caio, ["enquanto fechada"])
    wait_for(ana, lambda e: e == ev.Reconnected(resumed=False), timeout=15)
    missed = block(ana, "missed")
    assert [x.text for x in missed.lines] == ["enquanto fechada"]


def test_the_room_is_told_once_how_many_came_back(made, tmp_path):
    s = server(made, tmp_path / "s")
    port = s.address[1]
    people = [client(made, port, f"p{i}", rejoin=True) for i in range(5)]
    say_all(people[0], ["oi"])
    s.close()
    for p in people:
        wait_for(p, lambda e: isinstance(e, ev.ServerClosed))
    made.remove(s)
    s = server(made, tmp_path / "s", port=port)
    for p in people:
        p.rejoin()
    back = wait_for(people[0], lambda e: isinstance(e, ev.MembersBack), timeout=15)
    assert back.count == 5
    seen = people[0].seen
    closed = max(i for i, e in enumerate(seen) if isinstance(e, ev.ServerClosed))
    assert not any(isinstance(e, ev.MemberJoined) for e in seen[closed:])      # nobody named one by one


def test_one_folder_one_server(made, tmp_path):
    server(made, tmp_path / "s")
    with pytest.raises(HistoryInUse):
        start_server("127.0.0.1", 0, history_dir=str(tmp_path / "s"), stats=False)


def test_a_damaged_history_is_moved_aside_and_the_room_starts(made, tmp_path):
    folder = tmp_path / "s" / "room"
    folder.mkdir(parents=True)
    (folder / "history.sqlite3").write_bytes(b"this is not a database" * 100)
    s = server(made, tmp_path / "s")
    problem = wait_for(s, lambda e: isinstance(e, ev.HistoryProblem))
    assert problem.kind == "damaged"
    assert any(p.name.startswith("history.sqlite3.corrupt-") for p in folder.iterdir())
    ana = client(made, s.address[1], "ana")
    say_all(ana, ["a sala funciona"])


def test_private_lines_never_reach_a_third_member(made, tmp_path):
    s = server(made, tmp_path / "s")
    port = s.address[1]
    ana, bia = client(made, port, "ana"), client(made, port, "bia")
    ana.private("bia", "só para a bia")
    wait_for(bia, lambda e: isinstance(e, ev.RoomLine) and e.private_to == "bia")
    say_all(ana, ["para todos"])
    caio = client(made, port, "caio", replay=50)
    earlier = block(caio, "earlier")
    assert [x.text for x in earlier.lines] == ["para todos"]
    with sqlite3.connect(tmp_path / "s" / "room" / "history.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM privates").fetchone()[0] == 0
        assert "só para a bia" not in str(db.execute("SELECT text FROM lines").fetchall())


def test_search_ignores_accents_and_case_in_both_programs(made, tmp_path):
    s = server(made, tmp_path / "s")
    ana = client(made, s.address[1], "ana", tmp_path / "ana")
    say_all(ana, ["Vamos tomar um CAFÉ", "ação rápida", "nada a ver"])
    s.search("cafe")
    found = wait_for(s, lambda e: isinstance(e, ev.SearchResults))
    assert [x.text for x in found.lines] == ["Vamos tomar um CAFÉ"]
    ana.search("acao")
    found = wait_for(ana, lambda e: isinstance(e, ev.SearchResults))
    assert [x.text for x in found.lines] == ["ação rápida"] and found.fts


def test_search_without_fts5_falls_back(made, tmp_path, monkeypatch):
    import udpnet.history as history
    monkeypatch.setattr(history, "_probe_fts5", lambda conn: False)
    s = server(made, tmp_path / "s")
    ana = client(made, s.address[1], "ana")
    say_all(ana, ["um café, por favor"])
    s.search("CAFE")
    found = wait_for(s, lambda e: isinstance(e, ev.SearchResults))
    assert [x.text for x in found.lines] == ["um café, por favor"] and not found.fts


def test_save_history_writes_the_conversation(made, tmp_path):
    s = server(made, tmp_path / "s")
    ana = client(made, s.address[1], "ana")
    say_all(ana, ["primeira", "segunda"])
    ana.say("/me acena")
    s.save_history(str(tmp_path / "out.txt"))
    saved = wait_for(s, lambda e: isinstance(e, (ev.HistorySaved, ev.HistoryProblem)))
    assert saved == ev.HistorySaved(str(tmp_path / "out.txt"), 3) or saved.count >= 2
    text = (tmp_path / "out.txt").read_text(encoding="utf-8").splitlines()
    assert text[0].endswith("] ana: primeira") and text[1].endswith("] ana: segunda")
    s.save_history(str(tmp_path / "no-such-folder" / "out.txt"))
    failed = wait_for(s, lambda e: isinstance(e, (ev.HistorySaved, ev.HistoryProblem)))
    assert failed.kind == "save-failed"


def test_memory_only_keeps_nothing_on_disk_but_still_replays(made, tmp_path):
    s = start_server("127.0.0.1", 0, stats=False, keep_history=False)
    s.seen = []
    made.append(s)
    assert s.history_path == ":memory:"
    ana = client(made, s.address[1], "ana")
    say_all(ana, ["efêmera"])
    bia = client(made, s.address[1], "bia")
    assert [x.text for x in block(bia, "earlier").lines] == ["efêmera"]


def test_two_names_on_one_folder_keep_apart(made, tmp_path):
    s = server(made, tmp_path / "s")
    port = s.address[1]
    ana = client(made, port, "ana", tmp_path / "shared")
    bia = client(made, port, "bia", tmp_path / "shared")
    say_all(ana, ["da ana"])
    wait_for(bia, lambda e: isinstance(e, ev.RoomLine) and e.text == "da ana")
    bia.private("ana", "segredo da bia")
    wait_for(ana, lambda e: isinstance(e, ev.RoomLine) and e.private_to == "ana")
    folders = sorted(p.name for p in (tmp_path / "shared" / "client").iterdir())
    assert len(folders) == 1
    names = sorted(p.name for p in (tmp_path / "shared" / "client" / folders[0]).iterdir())
    assert names == ["ana", "bia"]


_KILLABLE = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {root!r})
    from udpnet import start_server
    s = start_server("127.0.0.1", {port}, history_dir={folder!r}, stats=False)
    print("ready", s.address[1], flush=True)
    time.sleep(120)
""")


def _spawn(folder, port=0):
    p = subprocess.Popen([sys.executable, "-c", _KILLABLE.format(root=str(ROOT), port=port, folder=str(folder))],
                         stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline().split()
    assert line[0] == "ready", line
    return p, int(line[1])


def test_kill_9_mid_burst_loses_no_acknowledged_line(made, tmp_path):
    proc, port = _spawn(tmp_path / "s")
    try:
        ana = client(made, port, "ana")
        bia = client(made, port, "bia", tmp_path / "bia")       # a reader who must catch up afterwards
        for i in range(400):
            ana.say(f"rajada {i}")
        wait_for(ana, lambda e: isinstance(e, ev.RoomLine) and e.own and e.text == "rajada 60")
        proc.send_signal(signal.SIGKILL)
        proc.wait(5)
        acked = [e for e in ana.seen if isinstance(e, ev.RoomLine) and e.own]
        time.sleep(0.2)
        while not ana.events.empty():
            e = ana.events.get()
            if isinstance(e, ev.RoomLine) and e.own:
                acked.append(e)
        assert len(acked) >= 61
        proc, port = _spawn(tmp_path / "s", port)
        db = sqlite3.connect(tmp_path / "s" / "room" / "history.sqlite3")
        stored = dict(db.execute("SELECT seq, text FROM lines").fetchall())
        db.close()
        assert all(stored.get(e.seq) == e.text for e in acked)
        caio = client(made, port, "caio")
        say_all(caio, ["depois"])
        after = [e.seq for e in caio.seen if isinstance(e, ev.RoomLine) and e.text == "depois"]
        assert after and after[0] > max(stored)          # numbering continues past every stored line
        # bia, cut off by the crash, comes back by herself and gets exactly what she lacks, once.
        wait_for(bia, lambda e: e == ev.Reconnected(resumed=False), timeout=30)
        block(bia, "missed")
        wait_for(bia, lambda e: isinstance(e, ev.RoomLine))      # live again after the catch-up
        got = [x.seq for e in bia.seen for x in ((e,) if isinstance(e, ev.RoomLine) else
                                                 e.lines if isinstance(e, ev.HistoryLines) else ())]
        assert got == list(range(1, len(got) + 1)) and len(got) > after[0]   # every line once, in order
    finally:
        proc.kill()
        proc.wait(5)


@pytest.mark.timeout(120)
def test_a_member_cut_off_for_45_s_gets_every_missed_line_once_in_order(made, tmp_path):
    s = server(made, tmp_path / "s")
    port = s.address[1]
    proxy = ImpairmentProxy(("127.0.0.1", port))
    made.append(type("P", (), {"close": lambda self, timeout=1: proxy.close()})())
    ana = client(made, proxy.port, "ana", tmp_path / "ana")
    bia = client(made, port, "bia")
    say_all(bia, ["antes"])
    wait_for(ana, lambda e: isinstance(e, ev.RoomLine) and e.text == "antes")
    proxy.p_drop = 1.0
    said = []
    deadline = time.monotonic() + 45
    i = 0
    while time.monotonic() < deadline:
        said.append(f"durante {i}")
        bia.say(said[-1])
        i += 1
        time.sleep(0.5)
    wait_for(bia, lambda e: isinstance(e, ev.RoomLine) and e.own and e.text == said[-1])
    proxy.p_drop = 0.0
    missed = block(ana, "missed", timeout=20)
    got = [x.text for x in missed.lines]
    assert got == said and missed.more == 0
    say_all(bia, ["depois"])
    wait_for(ana, lambda e: isinstance(e, ev.RoomLine) and e.text == "depois")
    live = lines_of(ana)
    assert live.count("antes") == 1 and not set(live) & set(said)


def test_history_folder_errors_let_the_port_go(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    from udpnet import HistoryUnavailable
    import socket
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    with pytest.raises(HistoryUnavailable):
        start_server("127.0.0.1", port, history_dir=str(blocker), stats=False)
    assert os.path.isfile(blocker)
    again = start_server("127.0.0.1", port, stats=False)     # the port was let go
    again.close()


def test_a_full_disk_pauses_the_history_and_the_room_goes_on(made, tmp_path):
    s = server(made, tmp_path / "s")
    ana = client(made, s.address[1], "ana")
    say_all(ana, ["guardada"])
    conn = s._store._conn            # SQLITE_FULL, as a full disk gives it: no page beyond the current ones
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")
    say_all(ana, ["longa " * 1000, "ainda relayed"])          # relayed and acknowledged all the same
    assert wait_for(s, lambda e: isinstance(e, ev.HistoryProblem)).kind == "paused"
    conn.execute("PRAGMA max_page_count = 1073741823")
    say_all(ana, ["de volta"])
    assert wait_for(s, lambda e: isinstance(e, ev.HistoryProblem)).kind == "resumed"
    bia = client(made, s.address[1], "bia", replay=10)
    kept = [(x.seq, x.text) for x in block(bia, "earlier").lines]
    assert kept[0] == (1, "guardada") and kept[-1] == (4, "de volta")      # numbering went on through the gap
