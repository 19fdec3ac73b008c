"""SPAKE2 handed out of the server engine (udpcore/pake_jobs.py): a locked room joins
the same with the run done elsewhere, and every answer that comes too late, for a
replaced handshake or under another passphrase is dropped."""
from __future__ import annotations

import pytest

from udpcore import events as ev
from udpcore.client import ClientEngine
from udpcore.errors import WrongPassphrase
from udpcore.pake_jobs import PakeDesk, PakeJob, run_pake_job
from udpcore.pake import RoomPake
from udpcore.pending import PENDING_LIFETIME
from udpcore.protection import Side
from udpcore.wire import Hello, PacketType, Welcome, decode

from tests.enginepair import SERVER, UNLIMITED, Room, drain, kind

pytestmark = pytest.mark.timeout(30)
PASS = "correct horse"


def _room(**kw) -> Room:
    room = Room(11, limits=kw.pop("limits", UNLIMITED), passphrase=PASS, room="Sala 3", **kw)
    room.server.defer_pake = True
    return room


def _client(room: Room, name: str, passphrase: str, port: int, host: str = "127.0.0.1") -> ClientEngine:
    c = ClientEngine(name, SERVER, room.now, randbytes=room.rng.randbytes, passphrase=passphrase)
    room.clients[(host, port)] = c
    c.connect(room.now)
    return c


def _run_jobs(room: Room) -> int:
    jobs = room.server.take_pake_jobs()
    for job in jobs:
        room.server.pake_done(job.ticket, run_pake_job(job), room.now)
    return len(jobs)


def _welcomes(room: Room) -> list[Welcome]:
    return [decode(d) for d, _ in room.sent_by_server if kind(d) is PacketType.WELCOME]


def test_the_engine_hands_the_run_out_and_welcomes_only_when_it_is_answered():
    room = _room()
    c = _client(room, "alice", PASS, 41000)
    room.settle()
    jobs = room.server.take_pake_jobs()
    assert len(jobs) == 1 and not _welcomes(room)          # the HELLO is waiting, nothing sent
    job = jobs[0]
    assert (job.passphrase, job.room, len(job.client_pake)) == (PASS, "Sala 3", 33)
    assert room.server.take_pake_jobs() == []              # taken once
    room.server.pake_done(job.ticket, run_pake_job(job), room.now)
    room.settle()
    assert len(_welcomes(room)) == 1
    assert any(isinstance(e, ev.Connected) for e in drain(c))
    assert [m.name for m in room.server._roster] == ["alice"]


def test_a_wrong_passphrase_is_still_told_as_wrong():
    room = _room()
    c = _client(room, "eve", "wrong horse", 41000)
    room.settle()
    assert _run_jobs(room) == 1
    room.settle()
    assert [e.error for e in drain(c) if isinstance(e, ev.JoinRefused)] == [WrongPassphrase("Sala 3")]
    assert not list(room.server._roster)


def test_a_hello_sent_again_while_its_run_is_out_starts_no_second_run_and_costs_no_attempt():
    room = _room()
    c = _client(room, "alice", PASS, 41000)
    room.settle()
    first = room.server.take_pake_jobs()
    guesses_before = room.server._pending._guesses["127.0.0.1"].tokens
    room.advance(2.5)                                       # the client's retries
    assert room.server.take_pake_jobs() == []
    assert room.server._pending._guesses["127.0.0.1"].tokens == guesses_before
    room.server.pake_done(first[0].ticket, run_pake_job(first[0]), room.now)
    room.settle()
    assert any(isinstance(e, ev.Connected) for e in drain(c))


def test_an_answer_after_the_lifetime_is_dropped_and_the_client_tries_again():
    room = _room()
    c = _client(room, "alice", PASS, 41000)
    room.settle()
    job = room.server.take_pake_jobs()[0]
    room.now += PENDING_LIFETIME                            # no timers fired: only the sweep forgets
    room.server.handle_timer(room.now)
    assert room.server.counters["pake_late"] == 1
    room.server.pake_done(job.ticket, run_pake_job(job), room.now)
    assert room.server.counters["pake_late"] == 2
    room.settle()
    assert not _welcomes(room)
    del c


def test_an_answer_just_before_the_lifetime_still_welcomes():
    room = _room()
    _client(room, "alice", PASS, 41000)
    room.settle()
    job = room.server.take_pake_jobs()[0]
    room.now += PENDING_LIFETIME - 0.01
    room.server.handle_timer(room.now)
    room.server.pake_done(job.ticket, run_pake_job(job), room.now)
    room.settle()
    welcomes = _welcomes(room)
    assert room.server.counters["pake_late"] == 0 and welcomes
    assert all(w == welcomes[0] for w in welcomes)          # a repeated HELLO gets the same one again


def test_an_answer_under_a_passphrase_since_changed_or_a_closing_room_is_dropped():
    for change in ("lock", "close"):
        room = _room()
        _client(room, "alice", PASS, 41000)
        room.settle()
        job = room.server.take_pake_jobs()[0]
        if change == "lock":
            room.server.lock("another one")
        else:
            room.server.close(room.now)
        room.server.pake_done(job.ticket, run_pake_job(job), room.now)
        room.settle()
        assert room.server.counters["pake_late"] == 1, change
        assert not _welcomes(room), change


def test_an_unusable_client_message_counts_as_a_bad_handshake():
    room = _room()
    _client(room, "alice", PASS, 41000)
    room.settle()
    job = room.server.take_pake_jobs()[0]
    assert run_pake_job(job._replace(client_pake=b"B" + job.client_pake[1:])) is None   # our own side reflected
    room.server.pake_done(job.ticket, None, room.now)
    room.settle()
    assert room.server.counters["bad_handshake"] == 1 and not _welcomes(room)


def test_a_newer_handshake_from_the_same_address_voids_the_older_run():
    room = _room()
    _client(room, "alice", PASS, 41000)
    room.settle()
    old = room.server.take_pake_jobs()[0]
    c = _client(room, "alice", PASS, 41000)                 # the program restarted: a new nonce
    room.settle()
    new = room.server.take_pake_jobs()
    assert len(new) == 1 and new[0].hello_nonce != old.hello_nonce
    room.server.pake_done(old.ticket, run_pake_job(old), room.now)
    assert room.server.counters["pake_late"] == 1
    room.server.pake_done(new[0].ticket, run_pake_job(new[0]), room.now)
    room.settle()
    assert any(isinstance(e, ev.Connected) for e in drain(c))


def test_runs_out_are_capped_by_max_pending():
    from udpcore.limits import Limits
    room = _room(limits=Limits(max_pending=2, line_rate=1e9, line_burst=10**9, locked_handshake_rate=100.0))
    room.server._pending._pakes.burst = room.server._pending._pakes.tokens = 10
    for i in range(3):
        _client(room, f"m{i}", PASS, 41000 + i, host=f"127.0.0.{i + 1}")
    room.settle()
    assert len(room.server.take_pake_jobs()) == 2
    assert room.server.counters["pending_full"] >= 1


def test_an_open_room_runs_no_job():
    room = Room(12, limits=UNLIMITED, room="Aberta")
    room.server.defer_pake = True
    c = room.add("alice")
    room.settle()
    assert room.server.take_pake_jobs() == []
    assert any(isinstance(e, ev.Connected) for e in drain(c))


def test_the_desk_replaces_per_address_and_expires_at_the_deadline():
    desk = PakeDesk(cap=2, lifetime=10.0)
    a, b = ("127.0.0.1", 1), ("127.0.0.2", 1)
    h1, h2 = Hello(b"n" * 8, "ana", b"t" * 8, pake=b"A" * 33), Hello(b"m" * 8, "ana", b"u" * 8, pake=b"A" * 33)
    desk.post(a, h1, None, PASS, "r", 0.0)
    assert desk.waiting(a, h1.nonce) and not desk.waiting(a, h2.nonce) and not desk.waiting(b, h1.nonce)
    desk.post(a, h2, 0.1, PASS, "r", 1.0)
    assert len(desk) == 1 and not desk.waiting(a, h1.nonce)
    desk.post(b, h1, None, PASS, "r", 2.0)
    assert desk.full(("127.0.0.3", 1)) and not desk.full(a)
    t1, t2, t3 = (j.ticket for j in desk.take_jobs())
    assert desk.done(t1) is None                           # replaced
    assert desk.expire(10.99) == 0 and desk.expire(11.0) == 1
    assert desk.done(t2) is None and desk.done(t3).addr == b and len(desk) == 0


def test_a_job_agrees_with_the_client_on_the_right_passphrase_only():
    for theirs, agree in ((PASS, True), ("wrong horse", False)):
        client = RoomPake(Side.CLIENT, theirs, "Sala 3", b"n" * 8, b"t" * 8)
        message, key = run_pake_job(PakeJob(1, PASS, "Sala 3", b"n" * 8, b"t" * 8, client.message))
        assert message[:1] == b"B" and (client.finish(message) == key) is agree


def _join_through_a_job(seed: int = 11) -> tuple[Room, ClientEngine]:
    room = _room()
    room.rng.seed(seed)
    c = _client(room, "alice", PASS, 41000)
    room.settle()
    assert _run_jobs(room) == 1
    room.settle()
    return room, c


def test_a_joined_member_keeps_the_handshakes_round_trip_and_gets_its_attempt_back():
    room = _room()
    c = _client(room, "alice", PASS, 41000)
    room.now += 0.01
    room.step()                                   # HELLO -> CHALLENGE
    room.now += 0.02
    room.step()                                   # HELLO with the token: its run goes out, 20 ms after
    guesses = room.server._pending._guesses["127.0.0.1"]
    spent = guesses.tokens
    assert _run_jobs(room) == 1
    room.settle()
    assert any(isinstance(e, ev.Connected) for e in drain(c))
    mem = room.server._roster.named("alice")
    assert mem.peer.channel.rtt.srtt == pytest.approx(0.02, abs=0.005)     # the judged round trip, kept
    assert guesses.tokens == pytest.approx(spent + 1.0)                      # a locked join that confirmed


def test_the_welcome_comes_from_the_engines_own_randomness():
    """The server's key share is drawn from the engine's randbytes, as in the inline run."""
    def welcome() -> tuple[bytes, bytes]:
        w = next(decode(d) for d, _ in _join_through_a_job()[0].sent_by_server if kind(d) is PacketType.WELCOME)
        return w.session, w.public                  # (SPAKE2 draws its own scalar: its message differs)
    assert welcome() == welcome()


def test_every_late_or_unusable_answer_is_counted():
    room = _room()
    for port in (41000, 41001):
        _client(room, f"m{port}", PASS, port, host=f"127.0.0.{port - 40999}")
    room.settle()
    jobs = room.server.take_pake_jobs()
    assert len(jobs) == 2
    for job in jobs:
        room.server.pake_done(job.ticket, None, room.now)
    assert room.server.counters["bad_handshake"] == 2
    for job in jobs:
        room.server.pake_done(job.ticket, run_pake_job(job), room.now)
    assert room.server.counters["pake_late"] == 2
