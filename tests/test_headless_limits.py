"""The headless client and the room's limits, as a script runs it (issue 11): a
piped flood goes at the room's pace and arrives whole (exit 0); lines the server
refuses, or that are still undelivered when the room closes, make exit status 1
with one sentence each and a count, never thousands of lines."""
from __future__ import annotations

import inspect
import socket
import threading
import time

import pytest

from udpcore import ServerEngine
from udpcore import appmsg as m
from udpcore import wire
from udpcore.frames import Frames, decode_session
from udpcore.peer import Peer
from udpcore.ratelimit import TokenBucket
from tests.sealed import ScriptKeys, is_sealed
from tests.test_headless import Proc, client, procs, server        # noqa: F401 (fixtures)

pytestmark = pytest.mark.timeout(90)
SID = b"\x5a" * 8
SERVER_PACES = "limits" in inspect.signature(ServerEngine.__init__).parameters


class ScriptedServer:
    """A server on loopback that follows a script instead of the room's rules: it
    welcomes anyone, acknowledges everything, and answers each SAY with ``answer``
    (None: never echoed). ``send`` puts a message on the session's stream.

    It speaks protocol 2: a HELLO gets a real WELCOME (no CHALLENGE: the client
    then keys with an empty token), everything after it is sealed, and, as the
    real server does, the session's stream (the member list after whatever was
    queued, such as LIMITS) starts once the client's first sealed packet opened."""

    def __init__(self, answer) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.answer = answer
        self.peer: Peer | None = None
        self.keys: ScriptKeys | None = None
        self.nonce = b""
        self.confirmed = False
        self.client: tuple[str, int] | None = None
        self.says: list[m.Say] = []
        self.arrivals: list[float] = []
        self._out: list[m.AppMessage] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def send(self, msg: m.AppMessage) -> None:
        with self._lock:
            self._out.append(msg)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            now = time.monotonic()
            try:
                data, addr = self.sock.recvfrom(65535)
                if is_sealed(data):
                    p = decode_session(self.keys.seal.open(data)) if self.keys is not None else None
                    if p is not None and not self.confirmed:
                        self.confirmed = True             # the session is the client's: it may start
                        self.send(m.Members(("script",)))
                else:
                    p = wire.decode(data)
            except (socket.timeout, ValueError, Exception):
                p = None
            if isinstance(p, wire.Hello):
                self.client = addr
                if self.keys is None or p.nonce != self.nonce:
                    self.keys, self.nonce, self.confirmed = ScriptKeys(p, SID), p.nonce, False
                    self.peer = Peer(SID, now, seal=self.keys.seal)
                self.sock.sendto(self.keys.welcome, addr)     # a repeated HELLO: the same WELCOME
            elif isinstance(p, (wire.Data, Frames, wire.Ack, wire.Ping)) and self.peer is not None:
                for msg in self.peer.receive(p, now):
                    if isinstance(msg, m.Say):
                        self.says.append(msg)
                        self.arrivals.append(now)
                        reply = self.answer(msg)
                        if reply is not None:
                            self.peer.send(reply)
                    elif isinstance(msg, m.Sync):
                        self.peer.send(m.Synced(msg.token))
                    elif isinstance(msg, m.Leave):
                        self.sock.sendto(self.peer.wrap(wire.encode(wire.Ack(SID, *self.peer.channel.ack_fields(now)))),
                                         addr)
            if self.peer is not None and self.client is not None and self.confirmed:
                with self._lock:
                    out, self._out = self._out, []
                for msg in out:
                    self.peer.send(msg)
                self.peer.channel.handle_timer(now)
                for d in self.peer.datagrams(now):
                    self.sock.sendto(d, self.client)


@pytest.fixture
def scripted():
    made: list[ScriptedServer] = []

    def start(answer) -> ScriptedServer:
        made.append(ScriptedServer(answer))
        return made[-1]
    yield start
    for s in made:
        s.close()


def test_lines_the_server_refuses_are_one_sentence_a_count_and_status_1(procs, scripted):
    srv = scripted(lambda say: m.LineRefused(say.msg_id, m.RefusalCode.MUTED, 300))
    payload = "".join(f"muted {i}\n" for i in range(40)).encode()
    c = client(procs, srv.port, "alice", stdin=payload)
    code, lines, err = c.finish(timeout=30)
    assert code == 1
    assert err.splitlines() == [
        "ChatClient: The operator has muted you for 5 more minutes; that line was not sent.",
        "ChatClient: 39 more lines were not sent.",
    ]
    assert len(srv.says) == 40 and "Traceback" not in err


def test_a_room_closed_with_lines_undelivered_says_how_many_and_exits_1(procs, scripted):
    srv = scripted(lambda say: None)                   # acknowledged, never relayed
    c = client(procs, srv.port, "alice")
    c.expect("Connected")
    for i in range(5):
        c.send(f"into the void {i}")
    deadline = time.monotonic() + 10
    while len(srv.says) < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    srv.send(m.Closing("Closing time."))
    c.p.wait(timeout=15)
    code, lines, err = c.finish()
    assert code == 1
    assert err.splitlines() == ["ChatClient: Closing time.", "ChatClient: 5 lines you typed were not delivered."]


def test_removed_by_the_operator_prints_the_reason_and_exits_1(procs, scripted):
    srv = scripted(lambda say: None)
    c = client(procs, srv.port, "alice")
    c.expect("Connected")
    srv.send(m.Removed("spam", False))
    c.p.wait(timeout=15)
    code, lines, err = c.finish()
    assert code == 1 and err.splitlines() == ["ChatClient: The operator removed you from the room: spam."]


def test_a_server_that_paces_nobody_still_gets_every_line_at_once(procs, scripted):
    """No LIMITS (an older server): nothing is held back, the exit is 0."""
    srv = scripted(lambda say: m.Line(len(srv.says), "alice", say.text, m.LINE_OWN, say.msg_id))
    payload = "".join(f"fast {i}\n" for i in range(300)).encode()
    started = time.monotonic()
    code, lines, err = client(procs, srv.port, "alice", stdin=payload).finish(timeout=50)
    assert code == 0, err
    assert [x.text for x in srv.says] == [f"fast {i}" for i in range(300)]
    # Paced at the default 5 a second, 300 lines would take about a minute; unpaced
    # they take a second or two. 30 s tells the two apart on a loaded machine too
    # (a 10 s bound failed once with three test runs sharing two cores).
    assert time.monotonic() - started < 30


def test_the_clients_pace_follows_the_limits_it_is_told(procs, scripted):
    """LIMITS of 120 lines a minute, burst 8: 40 piped lines take (40 - 6) / 1.9 s,
    all arrive in order, and the exit is 0."""
    srv = scripted(lambda say: m.Line(len(srv.says), "alice", say.text, m.LINE_OWN, say.msg_id))
    srv.send(m.Limits(120, 8))
    payload = "".join(f"paced {i}\n" for i in range(40)).encode()
    c = client(procs, srv.port, "alice", stdin=payload)
    code, lines, err = c.finish(timeout=60)
    assert code == 0, err
    assert [x.text for x in srv.says] == [f"paced {i}" for i in range(40)]
    bucket = TokenBucket(2.0, 8, srv.arrivals[0])
    assert [bucket.take(t) for t in srv.arrivals] == [0.0] * 40      # the server's bucket: none over
    assert 15 < srv.arrivals[-1] - srv.arrivals[0] < 35      # ~18 s; the upper bound leaves room for load
    assert [ln for ln in lines if ln.startswith("alice: ")] == [f"alice: paced {i}" for i in range(40)]


def paced_server(procs, *options: str) -> Proc:
    srv = procs("gui_server.py", "--headless", "--host", "127.0.0.1", "--port", "0", *options)
    srv.port = int(srv.expect(r"listening on 127\.0\.0\.1:(\d+)").group(1))
    return srv


def flood(procs, srv: Proc, n: int) -> tuple[int, list[str], str, float, Proc]:
    """``n`` lines piped into a headless client while a watcher listens: (status,
    the flooder's lines, its stderr, seconds from start to exit, the watcher)."""
    watcher = client(procs, srv.port, "watcher")
    watcher.expect("Connected")
    payload = "".join(f"flood {i}\n" for i in range(n)).encode()
    started = time.monotonic()
    code, lines, err = client(procs, srv.port, "flood", stdin=payload).finish(timeout=60)
    return code, lines, err, time.monotonic() - started, watcher


@pytest.mark.skipif(not SERVER_PACES, reason="the server side of the room's limits has not landed")
@pytest.mark.parametrize("options,n,rate,burst", [
    ((), 60, 5.0, 20),                                            # the defaults: 5 a second, 20 at once
    (("--line-rate", "20", "--line-burst", "20"), 200, 20.0, 20),
])
def test_a_piped_flood_goes_at_the_rooms_pace_and_arrives_whole(procs, options, n, rate, burst):
    """The real server: every piped line relayed in order, none refused, exit 0,
    in about the time the room's rate allows (the client keeps 5 % under it)."""
    srv = paced_server(procs, *options)
    code, lines, err, elapsed, watcher = flood(procs, srv, n)
    assert code == 0 and err == "", err
    want = [f"flood: flood {i}" for i in range(n)]
    assert [ln for ln in lines if ln.startswith("flood: ")] == want
    watcher.expect(rf"^flood: flood {n - 1}$", timeout=10)
    assert [ln for ln in watcher.lines if ln.startswith("flood: ")] == want
    assert (n - burst) / rate <= elapsed < (n - burst * 0.75) / (rate * 0.95) + 8
