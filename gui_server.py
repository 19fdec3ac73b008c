"""ChatServer: the chat server, in a window or headless (``--headless``)."""
from __future__ import annotations

import sys

from chatfront.console import prepare_stdio
from chatfront.i18n import choose_language
from chatfront.options import server_parser


def main(argv: list[str] | None = None) -> int:
    choose_language(sys.argv[1:] if argv is None else argv)     # before any sentence: --lang pt_BR --help
    if (stop := prepare_stdio(sys.argv[1:] if argv is None else argv)) is not None:
        return stop
    args = server_parser().parse_args(argv)
    if args.headless:
        from chatfront.headless import run_server
        return run_server(args)
    from chatui.app import run_server_window  # Tk is imported only here
    return run_server_window(args)


if __name__ == "__main__":
    # A locked room runs SPAKE2 in a child process (udpnet/pake_worker.py); a packaged
    # program started as that child must become the worker, not open another server.
    import multiprocessing
    multiprocessing.freeze_support()
    sys.exit(main())
