"""xconn-python's router (PyPI ``xconn``, WebSocket only) as a process, for the benchmarks:
``python benchmarks/_xconn_router.py`` serves realm ``realm1`` on a free loopback port and
prints ``listening on ws://127.0.0.1:PORT/ws``, then runs until killed."""

from __future__ import annotations

import asyncio
import importlib
import socket


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def main() -> None:
    router_module = importlib.import_module("xconn.router")  # optional peer (bench extra)
    server_module = importlib.import_module("xconn.server")
    router = router_module.Router()
    router.add_realm("realm1")
    server = server_module.Server(router)
    port = _free_port()
    await server.start("127.0.0.1", port)
    print(f"listening on ws://127.0.0.1:{port}/ws", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
