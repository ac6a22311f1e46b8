"""xconn-python's router (PyPI ``xconn``, WebSocket only) as a process, for the benchmarks:
``python benchmarks/_xconn_router.py`` serves realm ``realm1`` on a free loopback port and
prints ``listening on ws://127.0.0.1:PORT/ws``, then runs until killed.

:func:`xconn_router` starts it from another script and yields ``(URL, pid)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator

__all__ = ["xconn_router"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def xconn_router(start_timeout: float = 30.0) -> Iterator[tuple[str, int]]:
    """This script as a process: ``(ws URL, pid)``; killed on exit. Raises
    :class:`RuntimeError` when it does not say it listens within ``start_timeout`` s."""
    proc = subprocess.Popen(
        [sys.executable, __file__], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        assert proc.stdout is not None
        stdout = proc.stdout
        lines: list[str] = []

        done = threading.Event()

        def first_lines() -> None:  # in a thread: a router that never starts must not hang us
            for line in stdout:
                lines.append(line)
                if line.startswith("listening on "):
                    break
            done.set()

        threading.Thread(target=first_lines, daemon=True).start()
        done.wait(start_timeout)
        if not lines or not lines[-1].startswith("listening on "):
            raise RuntimeError(f"xconn's router did not start: {''.join(lines)[-500:]!r}")
        yield lines[-1].removeprefix("listening on ").strip(), proc.pid
    finally:
        proc.kill()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


async def main() -> None:
    router_module = importlib.import_module("xconn.router")  # optional peer (bench extra)
    server_module = importlib.import_module("xconn.server")
    router = router_module.Router()
    router.add_realm("realm1")
    server = server_module.Server(router)
    port = _free_port()
    await server.start("127.0.0.1", port)  # (prints "starting server on ...")
    print(f"listening on ws://127.0.0.1:{port}/ws", flush=True)
    # xconn prints a line per disconnecting client (and its errors) on stdout: nobody reads
    # the pipe after the line above, and a full pipe would stall the router.
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - for the rest of the process
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
