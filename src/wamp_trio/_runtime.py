"""The trio runtime: how the shared driver code waits, spawns and cancels, with trio alone."""

from __future__ import annotations

import math
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import Any, ClassVar, cast

import trio
import trio.lowlevel

import wamp_core as wc
from wamp_core import driver

__all__ = ["RUNTIME", "TrioRuntime"]


class _EventWaiter(driver.EventWaiter):
    __slots__ = ()
    new_event = trio.Event


class _PlainWaiter(driver.TrioWaiter):
    __slots__ = ()
    lowlevel: ClassVar[Any] = trio.lowlevel


class TrioRuntime:
    """:class:`wamp_core.driver.Runtime` with trio."""

    name = "trio"
    cancelled: type[BaseException] = trio.Cancelled
    end_of_stream: tuple[type[BaseException], ...] = (driver.EndOfStream,)
    broken: tuple[type[BaseException], ...] = (
        driver.BrokenStream, trio.BrokenResourceError, trio.ClosedResourceError,
    )  # fmt: skip
    progressive_waiter: type[driver.Waiter] = _EventWaiter

    def plain_waiter(self) -> type[driver.Waiter]:
        return _PlainWaiter

    def detached_spawner(self) -> Callable[[Coroutine[Any, Any, None]], object] | None:
        return None  # the nursery's start_soon is trio's own: nothing cheaper to use

    def cancelling(self) -> bool:
        return True  # trio's Cancelled comes from cancel scopes only

    def event(self) -> driver.Event:
        return trio.Event()

    def cancel_scope(self, *, shield: bool = False) -> driver.CancelScope:
        return trio.CancelScope(shield=shield)

    def move_on_after(self, seconds: float | None, *, shield: bool = False) -> driver.CancelScope:
        return trio.move_on_after(math.inf if seconds is None else seconds, shield=shield)

    def task_group(self) -> AbstractAsyncContextManager[driver.TaskGroup]:
        return cast("AbstractAsyncContextManager[driver.TaskGroup]", trio.open_nursery())

    def current_task_id(self) -> int:
        return id(trio.lowlevel.current_task())

    def current_time(self) -> float:
        return trio.current_time()

    async def sleep(self, seconds: float) -> None:
        await trio.sleep(seconds)

    async def run_in_thread(self, work: Callable[[], object]) -> object:
        return await trio.to_thread.run_sync(work, abandon_on_cancel=True)

    async def checkpoint(self) -> None:
        await trio.lowlevel.checkpoint()

    def cancel_point(self) -> Callable[[], Awaitable[None] | None]:
        return trio.lowlevel.checkpoint_if_cancelled  # (0.2 us: already the cheapest)

    async def wait_readable(self, sock: socket.socket) -> None:
        await trio.lowlevel.wait_readable(sock)

    async def wait_writable(self, sock: socket.socket) -> None:
        await trio.lowlevel.wait_writable(sock)

    def notify_closing(self, sock: socket.socket) -> None:
        trio.lowlevel.notify_closing(sock)

    async def getaddrinfo(self, host: str, port: int, family: int = 0) -> list[tuple[Any, ...]]:
        return list(await trio.socket.getaddrinfo(host, port, family, socket.SOCK_STREAM))

    async def aclose_forcefully(self, stream: driver.Stream) -> None:
        await trio.aclose_forcefully(cast(Any, stream))

    def raw_socket(self, stream: driver.Stream) -> driver.SocketLike | None:
        if isinstance(stream, driver.DirectSocketStream):
            return stream.socket
        inner = getattr(stream, "stream", None)  # (a trio stream as ours: TrioStream)
        transport = getattr(inner, "transport_stream", None)  # (trio.SSLStream)
        while isinstance(transport, trio.SSLStream):  # (TLS through a TLS proxy tunnel)
            transport = transport.transport_stream
        if isinstance(transport, trio.SocketStream):
            return transport.socket
        return None  # (an in-process stream)

    def open_signal_receiver(self, *signals: int) -> AbstractContextManager[AsyncIterator[int]]:
        return trio.open_signal_receiver(*signals)

    async def open_stream(
        self, transport: wc.TransportConfig
    ) -> tuple[driver.Stream, dict[str, bytes]]:
        from ._transport import open_stream  # noqa: PLC0415 - the transports need the runtime

        return await open_stream(transport)

    def reactor(self) -> Any:
        """trio has no loop object: Autobahn's ``main(reactor, session)`` gets ``trio``."""
        return trio


#: The one instance every trio session uses.
RUNTIME = TrioRuntime()
