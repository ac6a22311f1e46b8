"""Start Crossbar on free loopback ports and run the examples against it.

The main job, ``examples/component.py`` (a ``wamp_anyio.Component``), on asyncio and on trio,
then the hand-driven ``examples/selectors_client.py`` (``wamp_core`` alone), each over RawSocket
(TCP), WebSocket and RawSocket over a unix socket; exits non-zero if any run fails.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from crossbar import CrossbarRouter  # noqa: E402


def main() -> int:
    failures = 0
    with CrossbarRouter() as router:
        urls = (router.rs_url, router.ws_url, f"rs://unix:{router.unix_path}")
        runs: list[tuple[str, ...]] = [
            ("component.py", url, backend) for backend in ("asyncio", "trio") for url in urls
        ]
        runs += [("selectors_client.py", url) for url in urls]
        for example, *args in runs:
            print(f"--- {example} {' '.join(args)}", flush=True)
            proc = subprocess.run(
                [sys.executable, str(REPO / "examples" / example), args[0], "realm1", *args[1:]],
                check=False,
                timeout=60,
            )
            failures += proc.returncode != 0
    print("demo: OK" if not failures else f"demo: {failures} run(s) FAILED")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
