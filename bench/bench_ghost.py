"""Ghost time: how long a member who vanishes (no BYE: a cut cable, a closed lid)
stays in a real server's room. The promise is 20 s at most.

    .venv/bin/python bench/bench_ghost.py [RUNS]

A real ``start_server`` on 127.0.0.1; a client engine joins over a real socket,
then sends nothing more; the time from its last datagram to the server's
MemberLeft is printed for each run.
"""
from __future__ import annotations

import socket
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from udpcore import ClientEngine, events as ev  # noqa: E402
from udpnet import start_server  # noqa: E402


def one_run() -> float | None:
    srv = start_server("127.0.0.1", 0, stats=False)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(0.05)
        c = ClientEngine("ghost", srv.address, time.monotonic())
        c.connect(time.monotonic())
        last_tx = time.monotonic()
        end = time.monotonic() + 2.0
        while time.monotonic() < end:            # join, and take the member list
            now = time.monotonic()
            for d, dst in c.datagrams_to_send(now):
                sock.sendto(d, dst)
                last_tx = time.monotonic()
            t = c.get_timer()
            if t is not None and t <= now:
                c.handle_timer(now)
            try:
                d, a = sock.recvfrom(65535)
                c.receive_datagram(d, a[:2], time.monotonic())
            except socket.timeout:
                pass
        while time.monotonic() < last_tx + 30:  # from here on the member says nothing
            for e in srv.events.get_all():
                if isinstance(e, ev.MemberLeft) and e.name == "ghost":
                    return time.monotonic() - last_tx
            time.sleep(0.01)
        return None
    finally:
        sock.close()
        srv.close()


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    times = [one_run() for _ in range(runs)]
    for t in times:
        print("not gone within 30 s" if t is None else f"ghost gone {t:.2f} s after its last datagram")
    ok = all(t is not None and t <= 20.0 for t in times)
    print(f"goal: gone within 20 s: {'holds' if ok else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
