"""The server engine's own time per relayed line, in process: no sockets, no threads.

    .venv/bin/python bench/bench_relay_cpu.py [ROOT ...]

Ten members joined to one ServerEngine by hand (tests/enginepair.py); one of
them says 2,000 lines; only the server's calls are timed (receive_datagram,
datagrams_to_send, next_event, and the members' ACKs coming back). The figure
is the best of 7 rounds, in microseconds per line. Give several project
folders (a checkout of an older commit, say) to measure them side by side in
one run, alternating, since this machine's speed drifts: ratios, not absolute
times. The older code's client may take ``submit(line, now)`` instead of ``say``.
"""
from __future__ import annotations

import gc
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
LINES = 2000
ROUNDS = 7


def measure(root: str) -> float:
    sys.path.insert(0, root)
    from tests import enginepair
    from tests.enginepair import SERVER, Room, drain
    # The engine's cost per line, not the room's line rate (which older code lacks).
    unlimited = getattr(enginepair, "UNLIMITED", None)
    room = Room(limits=unlimited) if unlimited else Room()
    members = [room.add(f"m{i}") for i in range(10)]
    room.settle()
    for c in members:
        drain(c)
    drain(room.server)
    a, srv = members[0], room.server
    say = (lambda t: a.submit(t, room.now)) if hasattr(a, "submit") else a.say
    where = {c: addr for addr, c in room.clients.items()}

    def one_round() -> float:
        spent = 0.0
        for i in range(LINES):
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
                    spent += time.perf_counter() - t0
                drain(c)
            room.now += 0.001
        return spent / LINES

    gc.disable()
    return min(one_round() for _ in range(ROUNDS)) * 1e6


def main() -> int:
    roots = sys.argv[1:] or [str(HERE)]
    if len(roots) == 1 and roots[0] != "--child":
        print(f"{roots[0]}: {measure(roots[0]):.1f} us of server time per line among 10 members")
        return 0
    results: dict[str, list[float]] = {r: [] for r in roots}
    for _ in range(3):                      # alternate, each in a fresh process
        for r in roots:
            out = subprocess.run([sys.executable, __file__, r], capture_output=True, text=True, check=True).stdout
            results[r].append(float(out.split(": ")[1].split()[0]))
    base = sorted(results[roots[-1]])[1]
    for r, xs in results.items():
        med = sorted(xs)[1]
        print(f"{r}: median {med:.1f} us per line (runs {', '.join(f'{x:.1f}' for x in xs)}), {med / base:.2f}x the last")
    return 0


if __name__ == "__main__":
    sys.exit(main())
