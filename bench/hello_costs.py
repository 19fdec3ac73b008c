"""What one HELLO costs a server engine, in process: a child of bench/bench_handshake.py.

    .venv/bin/python bench/hello_costs.py ROOT

Prints, as JSON, the microseconds of ``ServerEngine.receive_datagram`` +
``datagrams_to_send`` per HELLO of ROOT's udpcore (this folder's lean_wire
writes the HELLOs), by what the HELLO leads to: a CHALLENGE (no token); since
version 2, with a token but over the handshake limit (dropped); within the
limits, a key agreement, a WELCOME and a pending handshake (open room, and
locked room with SPAKE2); in a locked room an address out of passphrase
attempts (a REFUSE); a retry from each of 40 clients held for the rate (the
queue has room); and, with ``--handshake-burst 50``, 50 HELLOs at once: the
longest turn (ms, a turn being what comes in between two sends) and how many
turns they took. A version-1 server (the previous release) only has the
first row: it has no key agreement and no handshake limit.
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
if __name__ == "__main__":
    sys.path.insert(0, str(Path(sys.argv[1]).resolve()))      # ROOT's udpcore, imported first
    import udpcore  # noqa: F401,E402
    sys.path.pop(0)
sys.path.insert(0, str(HERE))
from bench import lean_wire as lw  # noqa: E402

PASSPHRASE = "correct horse battery staple"
ROOM = "bench"


def costs(root: str) -> dict:
    """Microseconds of ServerEngine time (receive_datagram + datagrams_to_send) per HELLO, by what it
    leads to; ``root``'s udpcore, this folder's lean_wire; in a fresh process per root."""
    from udpcore import Limits, ServerEngine
    assert Path(udpcore.__file__).resolve().is_relative_to(Path(root).resolve()), udpcore.__file__
    version = udpcore.PROTOCOL_VERSION
    lifted = dict(handshake_rate=1e9, handshake_burst=10**9, max_pending=10**7, locked_handshake_rate=1e9,
                  guess_burst=10**9, guess_rate=1e9, max_members=10**6, max_per_address=10**6) if version >= 2 \
        else dict(max_members=10**6, max_per_address=10**6)
    public = pake = b""
    if version >= 2:
        from bench.lean_crypto import ClientKeying, KeyShare      # root's udpcore, already imported
        public = KeyShare.generate().public
        pake = ClientKeying(PASSPHRASE).challenged(True, ROOM, os.urandom(8), os.urandom(16))
    out: dict = {"version": version}

    def engine(limits: dict, locked: bool) -> "ServerEngine":
        kw = {"passphrase": PASSPHRASE} if locked else {}
        return ServerEngine(1000.0, limits=Limits(**limits), room=ROOM, **kw)

    def token(srv, addr, now) -> bytes:
        srv.receive_datagram(lw.hello(os.urandom(8), "t", b"", public, b"", version), addr, now)
        for data, _ in srv.datagrams_to_send(now):
            reply = lw.handshake_reply(data, version)
            if reply is not None and reply[0] == lw.CHALLENGE:
                return reply[2].token
        raise RuntimeError("no CHALLENGE")

    def timed(srv, items, now0: float) -> float:
        spent = 0.0
        for i, (data, addr) in enumerate(items):
            now = now0 + i * 1e-6
            t0 = time.perf_counter()
            srv.receive_datagram(data, addr, now)
            srv.datagrams_to_send(now)
            spent += time.perf_counter() - t0
        return spent / len(items) * 1e6

    n = 3000
    # a) no token: a CHALLENGE (a token minted, nothing kept)
    srv = engine({}, False)
    out["challenge"] = timed(srv, [(lw.hello(os.urandom(8), f"c{i}", b"", public, b"", version), ("127.0.0.9", 40000 + i))
                                   for i in range(n)], 1000.0)
    if version >= 2:
        # b) a token, over the handshake limit: dropped (handshake_limited)
        srv = engine(dict(handshake_rate=1e-6, handshake_burst=1), False)
        addr = ("127.0.0.9", 40000)
        tok = token(srv, addr, 1000.0)
        srv.receive_datagram(lw.hello(os.urandom(8), "first", tok, public, b"", version), addr, 1000.0)
        srv.datagrams_to_send(1000.0)                      # the burst's one handshake
        tok = token(srv, addr, 1000.002)
        limited = [(lw.hello(os.urandom(8), f"l{i}", tok, public, b"", version), addr) for i in range(n)]
        out["limited"] = timed(srv, limited, 1000.003)
        # What-ifs for the same HELLOs (a change proposed for udpcore, tried on this engine object only):
        # look at the key-agreement budget before judging the HELLO (names, token, bans), or even before
        # decoding it (its bytes say whether it carries a token).
        bucket = srv._pending._agreements

        def empty(now: float) -> bool:
            return bucket.tokens + (now - bucket.stamp) * bucket.rate < 1.0
        judge_first = srv._hello

        def budget_first(h, addr, now, size):
            if h.token and not h.resume and empty(now):
                srv.counters["handshake_limited"] += 1
                return
            judge_first(h, addr, now, size)
        srv._hello = budget_first
        out["limited_budget_first"] = timed(srv, limited, 1000.004)
        srv._hello = judge_first
        hello_prefix = lw.prefix(version) + bytes([lw.HELLO])
        decode_first = srv.receive_datagram

        def raw_first(data, addr, now):
            if data[:5] == hello_prefix and len(data) > 14 and not data[13] and data[14] and empty(now):
                srv.counters["handshake_limited"] += 1
                return
            decode_first(data, addr, now)
        srv.receive_datagram = raw_first
        out["limited_raw_first"] = timed(srv, limited, 1000.005)
        srv.receive_datagram = decode_first
        # c) within the limits: the key agreement, a WELCOME, a pending handshake (open room)
        for locked, key, count in ((False, "handshake", 1000), (True, "locked_handshake", 60)):
            srv = engine(lifted, locked)
            items = []
            for i in range(count):
                addr = ("127.0.0.9", 40000 + i)
                tok = token(srv, addr, 1000.0 + i * 0.002)
                items.append((lw.hello(os.urandom(8), f"h{i}", tok, public, pake if locked else b"", version), addr))
            out[key] = timed(srv, items, 1000.0 + count * 0.002)
        # e) 40 clients held for the rate (the queue has room for 64) each retrying once: the round's cost
        srv = engine({}, False)
        held = []
        for i in range(43):
            addr = ("127.0.0.9", 41000 + i)
            held.append((lw.hello(os.urandom(8), f"r{i}", token(srv, addr, 1000.0), public, b"", version), addr))
        for data, addr in held:
            srv.receive_datagram(data, addr, 1000.0)
        srv.datagrams_to_send(1000.0)                      # the burst's handshakes; the rest held
        out["held_retry"] = timed(srv, held[3:], 1000.01)
        # f) 50 HELLOs at once with the burst raised to 50 (--handshake-burst 50): the longest turn, ms
        srv = engine(dict(handshake_burst=50), False)
        burst = [(lw.hello(os.urandom(8), f"b{i}", token(srv, ("127.0.0.9", 42000 + i), 1000.0), public, b"", version),
                  ("127.0.0.9", 42000 + i)) for i in range(50)]
        turns, now = [], 1000.001
        t0 = time.perf_counter()
        for data, addr in burst:
            srv.receive_datagram(data, addr, now)
        srv.datagrams_to_send(now)
        turns.append(time.perf_counter() - t0)
        for _ in range(60):
            timer = srv.get_timer()
            if not srv._pending.held or timer is None or timer > now:
                break
            t0 = time.perf_counter()
            srv.handle_timer(now)
            srv.datagrams_to_send(now)
            turns.append(time.perf_counter() - t0)
        out["burst_longest_ms"] = max(turns) * 1e3
        out["burst_turns"] = len(turns)
        # d) locked room, the address out of passphrase attempts: TOO_MANY_GUESSES (a REFUSE)
        srv = engine(dict(handshake_rate=1e-6, handshake_burst=1), True)
        addr = ("127.0.0.9", 40000)
        tok = token(srv, addr, 1000.0)
        out["guesses"] = timed(srv, [(lw.hello(os.urandom(8), f"g{i}", tok, public, pake, version), addr)
                                     for i in range(n)], 1000.001)
    return out


if __name__ == "__main__":
    print(json.dumps(costs(sys.argv[1])))
