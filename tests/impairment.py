"""A real UDP impairment proxy on loopback: loss, duplication and reordering.

    proxy = ImpairmentProxy(server_address, p_drop=0.2, p_dup=0.05, p_reorder=0.1, seed=7)
    client = start_client(f"127.0.0.1:{proxy.port}", "alice")
    ...
    proxy.close()          # joins the thread; re-raises anything it raised

The proxy binds one socket on 127.0.0.1 (port 0) in front of a real server
address. Each client talks to that socket; for each client source address the
proxy opens its own upstream socket, so the server sees distinct clients. In
both directions every datagram is dropped with probability ``p_drop``, else
duplicated with probability ``p_dup``; each copy that goes on is held back with
probability ``p_reorder`` and released after 1..``hold_max`` later datagrams of
the same flow and direction have gone past it, or after a random delay of at
most ``max_delay`` seconds, whichever comes first. All decisions come from one
``random.Random(seed)``: the n-th datagram the proxy handles meets the same
fate in every run with that seed (which datagram is n-th still depends on
thread timing), so a failing seed can be replayed.

Only 127.0.0.1 is ever bound or sent to. One thread, ``select`` with a short
timeout; ``close()`` stops and joins it and closes every socket.
"""
from __future__ import annotations

import random
import select
import socket
import threading
import time
from collections import Counter

LOOPBACK = "127.0.0.1"
Addr = tuple[str, int]


class _Held:
    __slots__ = ("remaining", "release_at", "sock", "data", "dst", "key")

    def __init__(self, remaining: int, release_at: float, sock: socket.socket, data: bytes,
                 dst: Addr, key: tuple) -> None:
        self.remaining = remaining
        self.release_at = release_at
        self.sock = sock
        self.data = data
        self.dst = dst
        self.key = key


class ImpairmentProxy:
    """Sits between clients and ``upstream``; see the module docstring."""

    def __init__(self, upstream: Addr, *, p_drop: float = 0.0, p_dup: float = 0.0,
                 p_reorder: float = 0.0, max_delay: float = 0.02, hold_max: int = 4,
                 seed: int = 0, name: str = "impairment-proxy") -> None:
        if upstream[0] != LOOPBACK:
            raise ValueError("the impairment proxy only forwards to 127.0.0.1")
        for p in (p_drop, p_dup, p_reorder):
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"probability out of range: {p}")
        self.upstream = (LOOPBACK, int(upstream[1]))
        self.p_drop, self.p_dup, self.p_reorder = p_drop, p_dup, p_reorder
        self.max_delay = max_delay
        self.hold_max = max(1, hold_max)
        self.seed = seed
        self._rng = random.Random(seed)
        # "<what>_up" (client->server) / "<what>_down"; every key exists from the
        # start, so reading the counts from another thread never sees the dict grow.
        self.counts: Counter[str] = Counter({f"{what}_{d}": 0 for d in ("up", "down") for what in (
            "received", "dropped", "duplicated", "reordered", "forwarded", "send_errors", "ignored")})
        self._lock = threading.Lock()           # guards the two client tables
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind((LOOPBACK, 0))
        self._sock.setblocking(False)
        self._tune(self._sock)
        self.address: Addr = self._sock.getsockname()[:2]
        self._up_by_client: dict[Addr, socket.socket] = {}
        self._client_by_up: dict[socket.socket, Addr] = {}
        self._held: list[_Held] = []
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    # --- public ----------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self.address[1]

    @property
    def dropped(self) -> int:
        return self.counts["dropped_up"] + self.counts["dropped_down"]

    @property
    def duplicated(self) -> int:
        return self.counts["duplicated_up"] + self.counts["duplicated_down"]

    @property
    def reordered(self) -> int:
        return self.counts["reordered_up"] + self.counts["reordered_down"]

    @property
    def clients(self) -> list[Addr]:
        """Client source addresses seen so far."""
        with self._lock:
            return list(self._up_by_client)

    def upstream_address_of(self, client: Addr) -> Addr:
        """The address the server sees for ``client``."""
        with self._lock:
            return self._up_by_client[client].getsockname()[:2]

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def close(self, timeout: float = 5.0) -> None:
        """Stop forwarding (held datagrams are discarded), join the thread, close
        every socket; re-raise whatever the thread died of."""
        self._stop.set()
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise RuntimeError("impairment proxy thread did not stop")
        if self._error is not None:
            raise RuntimeError("impairment proxy thread failed") from self._error

    def __enter__(self) -> "ImpairmentProxy":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"ImpairmentProxy({self.address} -> {self.upstream}, seed={self.seed}, "
                f"counts={dict(self.counts)})")

    # --- the thread --------------------------------------------------------------------

    @staticmethod
    def _tune(sock: socket.socket) -> None:
        for opt in (socket.SO_RCVBUF, socket.SO_SNDBUF):
            try:
                sock.setsockopt(socket.SOL_SOCKET, opt, 1 << 20)
            except OSError:
                pass

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                now = time.monotonic()
                wait = 0.05
                if self._held:
                    wait = max(0.0, min(wait, min(h.release_at for h in self._held) - now))
                with self._lock:
                    socks = [self._sock, *self._client_by_up]
                readable, _, _ = select.select(socks, (), (), wait)
                for s in readable:
                    self._drain(s)
                self._release_due(time.monotonic())
        except BaseException as exc:          # surfaced by close()
            self._error = exc
        finally:
            with self._lock:
                socks = [self._sock, *self._client_by_up]
            for s in socks:
                s.close()
            self._held.clear()

    def _drain(self, s: socket.socket) -> None:
        for _ in range(256):
            try:
                data, src = s.recvfrom(65535)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:                   # e.g. ICMP port unreachable reported late
                return
            src = src[:2]
            if s is self._sock:               # client -> server
                if src[0] != LOOPBACK:
                    self.counts["ignored_up"] += 1
                    continue
                up = self._up_by_client.get(src)
                if up is None:
                    up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    up.bind((LOOPBACK, 0))
                    up.setblocking(False)
                    self._tune(up)
                    with self._lock:
                        self._up_by_client[src] = up
                        self._client_by_up[up] = src
                self._forward(data, up, self.upstream, (src, "up"), "up")
            else:                             # server -> client
                if src != self.upstream:
                    self.counts["ignored_down"] += 1
                    continue
                client = self._client_by_up[s]
                self._forward(data, self._sock, client, (client, "down"), "down")

    def _forward(self, data: bytes, sock: socket.socket, dst: Addr, key: tuple, d: str) -> None:
        rng = self._rng
        self.counts[f"received_{d}"] += 1
        if rng.random() < self.p_drop:
            self.counts[f"dropped_{d}"] += 1
            return
        copies = 1
        if rng.random() < self.p_dup:
            copies = 2
            self.counts[f"duplicated_{d}"] += 1
        sent_now = 0
        for _ in range(copies):
            if rng.random() < self.p_reorder:
                self.counts[f"reordered_{d}"] += 1
                self._held.append(_Held(rng.randint(1, self.hold_max),
                                        time.monotonic() + rng.uniform(0.0, self.max_delay),
                                        sock, data, dst, key))
            else:
                self._send(sock, data, dst, d)
                sent_now += 1
        if sent_now and self._held:
            # Datagrams held on this flow were overtaken by ``sent_now`` later ones.
            release = []
            for h in self._held:
                if h.key == key:
                    h.remaining -= sent_now
                    if h.remaining <= 0:
                        release.append(h)
            for h in release:
                self._held.remove(h)
                self._send(h.sock, h.data, h.dst, d)

    def _release_due(self, now: float) -> None:
        if not self._held:
            return
        due = [h for h in self._held if h.release_at <= now]
        for h in due:
            self._held.remove(h)
            self._send(h.sock, h.data, h.dst, h.key[1])

    def _send(self, sock: socket.socket, data: bytes, dst: Addr, d: str) -> None:
        assert dst[0] == LOOPBACK
        try:
            sock.sendto(data, dst)
            self.counts[f"forwarded_{d}"] += 1
        except OSError:
            self.counts[f"send_errors_{d}"] += 1
