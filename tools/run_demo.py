"""Run the main job: the examples against a router on free loopback ports.

By default the router is the embedded one (``python -m wamp_anyio.router``: nothing to
install); ``--crossbar`` starts Crossbar.io instead, ``--url URL`` uses any running router.
The main job, ``examples/component.py`` (a ``wamp_anyio.Component``), runs on asyncio and on
trio, ``examples/component_trio.py`` on the trio-native driver, then the hand-driven
``examples/selectors_client.py`` (``wamp_core`` alone), each over RawSocket (TCP), WebSocket and
RawSocket over a unix socket; exits non-zero if any run fails.
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def embedded_router() -> Iterator[list[str]]:
    """``python -m wamp_anyio.router`` on free ports; its URLs."""
    with tempfile.TemporaryDirectory(prefix="wamp-demo-") as tmp:
        listen = ["rs://127.0.0.1:0", "ws://127.0.0.1:0/ws", f"rs://unix:{tmp}/router.sock"]
        args = [arg for url in listen for arg in ("--listen", url)]
        proc = subprocess.Popen(
            [sys.executable, "-m", "wamp_anyio.router", *args], stdout=subprocess.PIPE, text=True
        )
        try:
            assert proc.stdout is not None
            urls = [proc.stdout.readline().split("listening on ", 1)[-1].strip() for _ in listen]
            if not all(urls):
                raise RuntimeError("the embedded router did not start")
            yield urls
        finally:
            proc.terminate()  # SIGTERM: GOODBYE to every session, exit 0
            proc.wait(timeout=30)
            if proc.stdout is not None:
                proc.stdout.close()


@contextlib.contextmanager
def crossbar_router() -> Iterator[list[str]]:
    sys.path.insert(0, str(REPO / "tests"))
    from crossbar import CrossbarRouter  # noqa: PLC0415 - only this mode needs the test harness

    with CrossbarRouter() as router:
        yield [router.rs_url, router.ws_url, f"rs://unix:{router.unix_path}"]


def run_examples(urls: Sequence[str]) -> int:
    runs: list[tuple[str, ...]] = [
        ("component.py", url, backend) for backend in ("asyncio", "trio") for url in urls
    ]
    runs += [("component_trio.py", url) for url in urls]
    runs += [("selectors_client.py", url) for url in urls]
    failures = 0
    for example, *args in runs:
        print(f"--- {example} {' '.join(args)}", flush=True)
        proc = subprocess.run(
            [sys.executable, str(REPO / "examples" / example), args[0], "realm1", *args[1:]],
            check=False,
            timeout=60,
        )
        failures += proc.returncode != 0
    print("demo: OK" if not failures else f"demo: {failures} run(s) FAILED")
    return failures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--crossbar", action="store_true", help="through Crossbar.io instead")
    where.add_argument("--url", action="append", help="through this router URL (repeatable)")
    opts = parser.parse_args(argv)
    if opts.url:
        return 1 if run_examples(opts.url) else 0
    with crossbar_router() if opts.crossbar else embedded_router() as urls:
        return 1 if run_examples(urls) else 0


if __name__ == "__main__":
    sys.exit(main())
