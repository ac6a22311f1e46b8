"""A TCP server on loopback for the length of a block, running a handler per connection."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import anyio
from anyio.abc import SocketAttribute, SocketStream

__all__ = ["serving"]


@asynccontextmanager
async def serving(handle: Callable[[SocketStream], Awaitable[None]]) -> AsyncIterator[int]:
    """Serve ``handle`` on a free loopback port (yielded); stopped, connections too, on exit."""
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, handle)
        yield listener.extra(SocketAttribute.local_port)
        tg.cancel_scope.cancel()
