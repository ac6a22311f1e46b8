"""The embedded router as a program::

    python -m wamp_anyio.router --listen ws://127.0.0.1:8080/ws --listen rs://127.0.0.1:8081 \\
        --listen rs://unix:./wamp.sock --realm realm1

Prints ``listening on URL`` for each bound address (port 0 picks a free port), logs at INFO,
and on Ctrl-C or SIGTERM says GOODBYE ``wamp.close.system_shutdown`` to every session and exits
0. Binds only where told (loopback by default).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Sequence

import anyio

from ._router import start_router

__all__ = ["main"]


async def _serve(
    listen: Sequence[str], realms: Sequence[str], auto_realms: bool, disclose: bool
) -> None:
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with start_router(listen, realms=realms, auto_realms=auto_realms,
                                disclose=disclose) as server:  # fmt: skip
            for url in server.urls:
                sys.stdout.write(f"listening on {url}\n")  # the program's output
            sys.stdout.flush()
            async for signum in signals:
                logging.getLogger(__name__).info("%s: shutting down", signal.Signals(signum).name)
                return


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m wamp_anyio.router",
                                     description="A WAMP router (embedded engine).")  # fmt: skip
    parser.add_argument("--listen", action="append", metavar="URL",
                        help="ws://host:port/path, rs://host:port or rs://unix:/path "
                             "(repeatable; default ws://127.0.0.1:8080/ws)")  # fmt: skip
    parser.add_argument("--realm", action="append", metavar="URI", help="realm (repeatable; "
                        "default realm1)")  # fmt: skip
    parser.add_argument("--auto-realms", action="store_true",
                        help="create any realm a client asks for (tests)")  # fmt: skip
    parser.add_argument("--disclose", action="store_true",
                        help="always disclose callers and publishers")  # fmt: skip
    parser.add_argument("--backend", choices=("asyncio", "trio"), default="asyncio")
    opts = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    listen = opts.listen or ["ws://127.0.0.1:8080/ws"]
    realms = opts.realm or ["realm1"]
    anyio.run(_serve, listen, realms, opts.auto_realms, opts.disclose, backend=opts.backend)
    return 0


if __name__ == "__main__":
    sys.exit(main())
