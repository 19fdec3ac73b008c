"""The headless chat server for benchmarks: ``gui_server.py --headless`` with bench options.

    python bench/server_runner.py --headless --host 127.0.0.1 --port 0 [--quiet-joins] [...]

It runs ``chatfront.headless.run_server`` itself — the same code a user runs —
with the options below, each a documented stand-in used only where a bench says
so. Each goes through a public option of the transport or the engine, the
interpreter or the process's own stdout; nothing in the program is patched:

--quiet-joins      joins are not announced to the members already in the room
                   (the engine's ``announce_joins=False``). Announcing every join
                   to everyone costs N²/2 datagrams to fill a room of N (12.5
                   million for 5,000), which no machine does in a bench's two
                   minutes; the scale bench measures the room *after* it filled,
                   and reports the cost of real announcements separately.
--no-print         room lines are worded but not written: stdout passes on only the
                   "listening on" line the bench reads the port from (what-if:
                   the cost of the terminal output)
--no-gc            the cyclic garbage collector is off (what-if: its pauses)
--switch-interval S  sys.setswitchinterval(S) (what-if: GIL hand-over between the threads)
--no-room-events   room lines are not put on the transport's event queue at all
                   (the transport's ``keep`` filter; what-if: the whole cost of
                   handing each line to the program)

Three more what-ifs measure changes proposed for udpcore and udpnet (issue 12). They are
the exception to the above: each replaces one piece of the engine *in this
process only*, before the server starts (no file of the program is changed):

--flat-seal        the server seals and opens with bench/lean_crypto.py's
                   FlatSeal: the same protection, bytes for bytes (same keys,
                   nonces, associated data, replay window; a key update, after
                   2**20 packets, is not done), in one function per direction
                   instead of Seal -> Sender/Receiver -> PacketKey
--one-per-datagram every fragment goes in a datagram of its own (a DATA each), as
                   before version 3: what FRAMES saves (udpcore.peer's
                   grouping replaced by one run per fragment)
--one-socket       every datagram through the listening socket, none through
                   sockets connected to each member (udpnet.member_sockets off):
                   what the members' own sockets change under a flood
--shared-batch N   datagrams read from the shared socket each turn while
                   members have sockets of their own (udpnet.loop.SHARED_BATCH, 64)
--shared-share F   share of the loop's time the shared socket gets while members
                   have sockets of their own (udpnet.loop.SHARED_SHARE, 0.5; 1:
                   read it whenever it is ready, as before)

Nothing else differs. Only benchmarks use this file.
"""
from __future__ import annotations

import io
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chatfront import headless  # noqa: E402
from chatfront.options import server_parser  # noqa: E402
from udpcore import events  # noqa: E402


class OnlyListening(io.TextIOBase):
    """stdout for ``--no-print``: writes the "listening on" line, drops every other."""

    def __init__(self, out) -> None:
        self.out = out

    def write(self, s: str) -> int:
        if "listening on" in s:
            self.out.write("".join(x + "\n" for x in s.splitlines() if "listening on" in x))
            self.out.flush()
        return len(s)


def one_per_datagram() -> None:
    """--one-per-datagram: every fragment in a datagram of its own, as before FRAMES (version 3)."""
    from udpcore import peer
    peer.groups = lambda frames: [[f] for f in frames]


def main() -> int:
    p = server_parser()
    p.add_argument("--quiet-joins", action="store_true")
    p.add_argument("--no-print", action="store_true")
    p.add_argument("--no-gc", action="store_true")
    p.add_argument("--no-room-events", action="store_true")
    p.add_argument("--switch-interval", type=float)
    p.add_argument("--flat-seal", action="store_true")
    p.add_argument("--one-per-datagram", action="store_true")
    p.add_argument("--one-socket", action="store_true")
    p.add_argument("--shared-batch", type=int, help="datagrams read from the shared socket a turn during a flood")
    p.add_argument("--shared-share", type=float,
                   help="share of the thread's time the shared socket gets during a flood (1: no rest)")
    args = p.parse_args()
    if args.shared_share:
        from udpnet import loop
        loop.SHARED_SHARE = args.shared_share
    if args.shared_batch:
        from udpnet import loop
        loop.SHARED_BATCH = args.shared_batch
    if args.one_socket:
        from udpnet import member_sockets
        member_sockets.ENABLED = False
    if args.flat_seal:
        from bench.lean_crypto import server_flat_seal
        server_flat_seal()
    if args.one_per_datagram:
        one_per_datagram()
    options: dict = {"announce_joins": not args.quiet_joins}
    if args.no_room_events:
        options["keep"] = lambda e: not isinstance(e, events.RoomLine)
    if args.switch_interval:
        sys.setswitchinterval(args.switch_interval)
    if args.no_gc:
        import gc
        gc.disable()
    if args.no_print:
        sys.stdout = OnlyListening(sys.stdout)
    return headless.run_server(args, **options)


if __name__ == "__main__":
    sys.exit(main())
