"""The socket thread's turn (udpnet/loop.py): what runs before the turn's datagrams go
out, what runs after, and a server's datagrams sent as they are built. Loopback only."""
from __future__ import annotations

import socket
import threading

import pytest

from udpnet.loop import SocketLoop
from tests.stub_engine import StubEngine

pytestmark = pytest.mark.timeout(20)


class TwoCopies(StubEngine):
    """An engine whose every datagram in makes two out, to ``reader``; it notes what the
    reader's socket already held at each step."""

    def __init__(self, reader: socket.socket) -> None:
        self.reader = reader
        self.dst = reader.getsockname()
        self.came: list[bytes] = []
        self.got: list[bytes] = []
        self.log: list[str] = []
        self.done = threading.Event()

    def waiting(self) -> int:
        """How many datagrams have reached the reader so far."""
        while True:
            try:
                self.got.append(self.reader.recv(100))
            except BlockingIOError:
                return len(self.got)

    def receive_datagram(self, data, addr, now):
        self.came.append(data)

    def each_datagram(self, now):
        for data in self.came:
            self.log.append(f"building {data.decode()} 1")
            yield data + b" 1", self.dst
            self.log.append(f"building {data.decode()} 2 after {self.waiting()} sent")
            yield data + b" 2", self.dst
        self.came = []

    def datagrams_to_send(self, now):
        raise AssertionError("a server's loop takes each_datagram")



def test_before_send_runs_before_the_first_datagram_and_after_send_after_the_last():
    reader = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    reader.bind(("127.0.0.1", 0))
    reader.setblocking(False)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.setblocking(False)
    eng = TwoCopies(reader)

    def before(now):
        if eng.came:
            eng.log.append(f"before_send, {eng.waiting()} sent")

    def after(now):
        if eng.log and not eng.log[-1].startswith("after"):
            eng.log.append(f"after_send, {eng.waiting()} sent")
            eng.done.set()
    loop = SocketLoop(eng, sock, "test-loop", before_send=before, after_send=after)   # type: ignore[arg-type]
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as member:
            member.sendto(b"oi", sock.getsockname())
            assert eng.done.wait(5)
    finally:
        eng.closed = True
        loop.call(lambda now: None)
        loop.join(5)
        reader.close()
    assert eng.log == ["before_send, 0 sent", "building oi 1", "building oi 2 after 1 sent", "after_send, 2 sent"]
    assert eng.got == [b"oi 1", b"oi 2"]
