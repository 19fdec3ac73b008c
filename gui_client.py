"""ChatClient: the chat client, in a window or in the terminal (``--headless``)."""
from __future__ import annotations

import sys

from chatfront.i18n import _, choose_language
from chatfront.console import prepare_stdio
from chatfront.options import client_parser


def main(argv: list[str] | None = None) -> int:
    choose_language(sys.argv[1:] if argv is None else argv)     # before any sentence: --lang pt_BR --help
    if (stop := prepare_stdio(sys.argv[1:] if argv is None else argv)) is not None:
        return stop
    parser = client_parser()
    args = parser.parse_args(argv)
    if args.list:                      # the rooms on the LAN, printed; no window, no name needed
        from chatfront.headless import run_list
        return run_list(args)
    if args.headless:
        if not args.server or not args.name:
            parser.error(_("--headless needs --server and --name"))
        from chatfront.headless import run_client
        return run_client(args)
    from chatui.app import run_client_window  # Tk is imported only here
    return run_client_window(args)


if __name__ == "__main__":
    sys.exit(main())
