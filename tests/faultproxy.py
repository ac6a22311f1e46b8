"""A loopback TCP proxy that injects network faults between a client and a router.

``async with fault_proxy(host, port) as proxy:`` forwards ``127.0.0.1:proxy.port`` to the
router; the switches act on the connections open at that moment:

* ``proxy.drop()``: both sides closed at once (a reset link, a crashed middlebox);
* ``proxy.stall(hold=s)``: nothing forwarded any more, no FIN either (a half-open link); when
  the client gives the link up, the router's side stays open ``hold`` seconds more (the
  router has not noticed yet);
* ``proxy.delay``: seconds added before each chunk is forwarded, both ways;
* ``proxy.cut_next()``: the next chunk from the router is forwarded half, then both sides close;
* ``proxy.corrupt_next(offset, mask)``: the next chunk from the router has byte ``offset``
  XORed with ``mask``.

New connections after a fault are forwarded normally (the client's reconnect works).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import ModuleType
from typing import Any

import anyio
from anyio.abc import SocketStream, TaskGroup

__all__ = ["FaultProxy", "fault_proxy", "rejoined_after_a_half_open_link"]


class FaultProxy:
    def __init__(self) -> None:
        self.port = 0
        #: Connections accepted so far.
        self.connections = 0
        self.delay = 0.0
        self._links: list[tuple[SocketStream, SocketStream, anyio.CancelScope]] = []
        self._stalled: set[int] = set()
        self._hold = 0.0
        self._cut = False
        self._corrupt: tuple[int, int] | None = None
        #: Faults injected so far, by kind.
        self.injected: dict[str, int] = {}

    def _count(self, kind: str) -> None:
        self.injected[kind] = self.injected.get(kind, 0) + 1

    def drop(self) -> None:
        self._count("drop")
        for _client, _upstream, scope in self._links:
            scope.cancel()

    def stall(self, hold: float = 0.0) -> None:
        self._count("stall")
        self._hold = hold
        self._stalled.update(id(scope) for _c, _u, scope in self._links)

    def cut_next(self) -> None:
        self._count("cut")
        self._cut = True

    def corrupt_next(self, offset: int = 0, mask: int = 0xFF) -> None:
        self._count("corrupt")
        self._corrupt = (offset, mask)

    async def _pipe(
        self, source: SocketStream, sink: SocketStream, scope: anyio.CancelScope, down: bool
    ) -> None:
        try:
            async for received in source:
                chunk = received
                if self.delay:
                    await anyio.sleep(self.delay)
                if id(scope) in self._stalled:
                    continue  # swallowed: the link is half-open
                if down and self._corrupt is not None:
                    offset, mask = self._corrupt
                    self._corrupt = None
                    data = bytearray(chunk)
                    data[min(offset, len(data) - 1)] ^= mask
                    chunk = bytes(data)
                if down and self._cut:
                    self._cut = False
                    await sink.send(chunk[: max(1, len(chunk) // 2)])
                    scope.cancel()
                    return
                await sink.send(chunk)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, anyio.EndOfStream):
            pass
        scope.cancel()  # one side ended: end the other

    async def _handle(self, client: SocketStream, host: str, port: int) -> None:
        self.connections += 1
        upstream: SocketStream | None = None
        scope: anyio.CancelScope | None = None
        try:
            try:
                upstream = await anyio.connect_tcp(host, port)
            except OSError:
                return
            with anyio.CancelScope() as scope:
                link = (client, upstream, scope)
                self._links.append(link)
                try:
                    async with anyio.create_task_group() as tg:
                        tg.start_soon(self._pipe, client, upstream, scope, False)
                        tg.start_soon(self._pipe, upstream, client, scope, True)
                finally:
                    self._links.remove(link)
            await anyio.aclose_forcefully(client)
            if id(scope) in self._stalled and self._hold:
                await anyio.sleep(self._hold)  # the router's side of the half-open link
        finally:  # also when the proxy closes (cancelled) meanwhile: both, shielded
            if scope is not None:  # (forgotten: a later link's scope may get its id())
                self._stalled.discard(id(scope))
            with anyio.CancelScope(shield=True):
                await anyio.aclose_forcefully(client)
                if upstream is not None:
                    await anyio.aclose_forcefully(upstream)


@asynccontextmanager
async def fault_proxy(host: str, port: int) -> AsyncIterator[FaultProxy]:
    """A fault proxy to ``host``:``port`` on a free loopback port, for the block."""
    proxy = FaultProxy()
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")

    async def handle(client: SocketStream) -> None:
        await proxy._handle(client, host, port)

    tg: TaskGroup
    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, handle)
        proxy.port = listener.extra(anyio.abc.SocketAttribute.local_port)
        yield proxy
        tg.cancel_scope.cancel()


@asynccontextmanager
async def rejoined_after_a_half_open_link(
    wamp: ModuleType, url: str, proxy: FaultProxy, procedure: str, hold: float
) -> AsyncIterator[Any]:
    """A component of driver ``wamp`` connected to ``url`` through ``proxy``, registering
    ``procedure`` (it answers ``"here"``): once ready, its link goes half-open (the router's
    side stays open ``hold`` s more) and its keepalive gives it up; the block runs once it has
    rejoined (ready a second time), the component still running."""
    component = wamp.Component(
        transports={
            "url": url,
            "options": {"auto_ping_interval": 0.3, "auto_ping_timeout": 0.3},
            "initial_retry_delay": 0.1,
            "max_retry_delay": 0.5,
        }
    )
    readies: list[Any] = []
    component.on_ready(readies.append)
    component.register(procedure)(lambda: "here")
    async with component:
        await component.wait_ready()
        proxy.stall(hold=hold)
        while len(readies) < 2:
            await anyio.sleep(0.05)
        yield component
