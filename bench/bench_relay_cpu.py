"""The server engine's own time per relayed line, in process: no sockets, no threads.

    .venv/bin/python bench/bench_relay_cpu.py [ROOT ...] [--what-if null-seal,flat-seal] [--runs 3] [--members 10]

Ten members (``--members``) joined to one ServerEngine by hand
(tests/enginepair.py); one of them says 2,000 lines; only the server's calls are timed (receive_datagram,
datagrams_to_send, next_event, and the members' ACKs coming back). The figure
is the best of 7 rounds, in microseconds per line. Give several project
folders (a checkout of an older commit, say) to measure them side by side in
one run, alternating, since this machine's speed drifts: ratios, not absolute
times. The older code's client may take ``submit(line, now)`` instead of ``say``.

Since protocol version 2 every datagram the server takes in is opened and
every one it sends is sealed (udpcore/sealing.py). ``--what-if`` measures, in
the same alternation, the last ROOT's server with its members' seals (both
ends, after the real handshake) swapped for a stand-in, to tell where the time
goes; nothing in udpcore is changed:

- ``null-seal``: the same framing (SEALED header, 16-byte tag, a packet number
  per datagram), no cipher and no replay window: what the server costs apart
  from the packet protection;
- ``flat-seal``: the same protection (ChaCha20-Poly1305 from ``cryptography``,
  the same keys, nonce = IV XOR packet number, header as associated data, a
  64-packet replay window checked before and marked after opening, the key
  update's count) written as one function per direction instead of
  Seal -> Sender/Receiver -> PacketKey (-> ReplayWindow): what flattening the
  layers would gain.

It also counts, per line, the datagrams the server opened and sealed.
"""
from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
LINES = 2000
ROUNDS = 7
WHAT_IFS = ("null-seal", "flat-seal")       # bench/lean_crypto.py's stand-ins


def lean_crypto():
    """bench/lean_crypto.py of this folder, importing the udpcore already on sys.path (ROOT's)."""
    spec = importlib.util.spec_from_file_location("lean_crypto", Path(__file__).resolve().parent / "lean_crypto.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Counting:
    """Counts a Seal's seal/open calls (used once, outside the timed rounds)."""

    def __init__(self, seal, counts: dict) -> None:
        self._seal, self.keys, self.counts = seal, seal.keys, counts

    def seal(self, inner: bytes) -> bytes:
        self.counts["sealed"] += 1
        return self._seal.seal(inner)

    def open(self, datagram: bytes) -> bytes:
        self.counts["opened"] += 1
        return self._seal.open(datagram)


def measure(root: str, what_if: str = "", n: int = 10) -> tuple[float, dict]:
    sys.path.insert(0, root)
    from tests import enginepair
    from tests.enginepair import SERVER, Room, drain
    # The engine's cost per line, not the room's line rate (which older code lacks).
    unlimited = getattr(enginepair, "UNLIMITED", None)
    room = Room(limits=unlimited) if unlimited else Room()
    members = [room.add(f"m{i}") for i in range(n)]
    room.settle()
    for c in members:
        drain(c)
    drain(room.server)
    a, srv = members[0], room.server
    say = (lambda t: a.submit(t, room.now)) if hasattr(a, "submit") else a.say
    where = {c: addr for addr, c in room.clients.items()}
    server_peers = [m.peer for m in srv._roster.sessions()] if hasattr(srv, "_roster") else []
    sealed = [p for p in server_peers if getattr(p, "seal", None) is not None]
    if what_if:
        if len(sealed) != len(members):
            raise SystemExit(f"{root}: --what-if {what_if} needs a server that seals (protocol version 2)")
        stand_in = lean_crypto().stand_in
        for c in members:                     # both ends of every session, after the real handshake
            c._peer.seal = stand_in(what_if, c._peer.seal, True)
        for p in sealed:
            p.seal = stand_in(what_if, p.seal, False)

    def one_round(lines: int) -> float:
        spent = 0.0
        on_acks = 0.0
        for i in range(lines):
            say(f"line {i} of the benchmark, a typical chat line")
            out = []
            for data, _ in a.datagrams_to_send(room.now):
                t0 = time.perf_counter()
                srv.receive_datagram(data, where[a], room.now)
                out = srv.datagrams_to_send(room.now)
                while srv.next_event() is not None:
                    pass
                spent += time.perf_counter() - t0
            for data, dst in out:
                c = room.clients.get(dst)
                if c is not None:
                    c.receive_datagram(data, SERVER, room.now)
            for c in members:
                for data, _ in c.datagrams_to_send(room.now):
                    t0 = time.perf_counter()
                    srv.receive_datagram(data, where[c], room.now)
                    srv.datagrams_to_send(room.now)
                    dt = time.perf_counter() - t0
                    spent += dt
                    on_acks += dt
                drain(c)
            room.now += 0.001
        acks.append(on_acks / lines)
        return spent / lines

    acks: list[float] = []
    counts = {"sealed": 0, "opened": 0}
    if sealed:                                # what the server seals and opens per line (not timed)
        for p in sealed:
            p.seal = Counting(p.seal, counts)
        one_round(200)
        for p in sealed:
            p.seal = p.seal._seal
        counts = {k: v / 200 for k, v in counts.items()}
    gc.disable()
    acks.clear()
    rounds = [one_round(LINES) for _ in range(ROUNDS)]
    best = min(range(ROUNDS), key=rounds.__getitem__)
    counts["acks_us"] = acks[best] * 1e6
    return rounds[best] * 1e6, counts


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("roots", nargs="*", metavar="ROOT", help="project folders (default: this one)")
    ap.add_argument("--what-if", default="", help=f"comma-separated, of {', '.join(WHAT_IFS)}: the last ROOT "
                                                  f"with its seals swapped (see the docstring)")
    ap.add_argument("--runs", type=int, default=3, help="runs of each, alternating (default 3)")
    ap.add_argument("--members", type=int, default=10, help="members in the room (default 10)")
    ap.add_argument("--quick", action="store_true", help="accepted for run_all.py; changes nothing")
    ap.add_argument("--json", type=Path, help="also write the result as JSON here (for run_all.py)")
    ap.add_argument("--child", nargs=2, metavar=("ROOT", "WHAT_IF"), help=argparse.SUPPRESS)
    opts = ap.parse_args()
    if opts.child:
        us, counts = measure(opts.child[0], opts.child[1], opts.members)
        print(f"{us:.2f} {counts['sealed']:.2f} {counts['opened']:.2f} {counts['acks_us']:.2f}")
        return 0
    sys.path.insert(0, str(HERE))
    from bench.processes import label
    from bench.results import Result, load_average, machine
    t0 = time.monotonic()
    roots = opts.roots or [str(HERE)]
    what_ifs = [w for w in opts.what_if.split(",") if w]
    for w in what_ifs:
        if w not in WHAT_IFS:
            ap.error(f"--what-if: {w}? ({', '.join(WHAT_IFS)})")
    variants = [(r, "") for r in roots] + [(roots[-1], w) for w in what_ifs]
    results: dict[tuple[str, str], list[tuple[float, ...]]] = {v: [] for v in variants}
    for _ in range(opts.runs):                # alternate, each in a fresh process
        for r, w in variants:
            out = subprocess.run([sys.executable, __file__, "--child", r, w, "--members", str(opts.members)],
                                 capture_output=True, text=True, check=True).stdout.split()
            results[(r, w)].append(tuple(float(x) for x in out))
    base = sorted(x[0] for x in results[(roots[-1], "")])[len(results[(roots[-1], "")]) // 2]
    command = "python bench/bench_relay_cpu.py" + "".join(f" {r}" for r in opts.roots) \
        + (f" --what-if {opts.what_if}" if what_ifs else "") + (f" --members {opts.members}" if opts.members != 10 else "")
    res = Result("Server CPU per line", command)
    rows = []
    for (r, w), xs in results.items():
        us = sorted(x[0] for x in xs)
        med = us[len(us) // 2]
        acks = sorted(x[3] for x in xs)[len(xs) // 2]
        rows.append((label(Path(r)) + (f", what-if {w}" if w else ""), f"{med:.1f} µs",
                     ", ".join(f"{x[0]:.1f}" for x in xs), f"{med / base:.2f}", f"{med - acks:.1f} µs",
                     f"{acks:.1f} µs", f"{xs[0][1]:.1f} / {xs[0][2]:.1f}" if xs[0][1] else "-"))
    res.add_table(f"The server engine's own time per relayed line among {opts.members} members, in process (no "
                  f"sockets; best of {ROUNDS} rounds of {LINES:,} lines per run, median of {opts.runs} runs, "
                  f"each in a fresh process, the variants alternating)",
                  ("server", "per line", "runs", f"vs {label(Path(roots[-1]))}",
                   "the line: its DATA in, its copies out", f"the members' {opts.members} ACKs in",
                   "datagrams sealed / opened per line"), rows)
    if what_ifs:
        res.notes.append("what-if null-seal: the seals of both ends swapped, after the real handshake, for the same "
                         "framing without cipher or replay window; flat-seal: the same protection written as one "
                         "function per direction (bench/lean_crypto.py). Nothing in udpcore is changed.")
    res.seconds = time.monotonic() - t0
    print(f"Server CPU per line — {machine()} — load average {load_average()}")
    print()
    print(res.text())
    if opts.json:
        opts.json.write_text(json.dumps(res.to_json(), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
