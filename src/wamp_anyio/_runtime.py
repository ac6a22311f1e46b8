"""The anyio runtime: how the shared driver code waits, spawns and cancels, on asyncio or trio
(whichever anyio runs on)."""

from __future__ import annotations

import asyncio
import importlib
import socket
import sys
import threading
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import Any, Literal, cast

import anyio
import anyio.abc
import anyio.lowlevel
import anyio.to_thread

import wamp_core as wc
from wamp_core import driver

from ._direct import on_trio, running_asyncio_loop

__all__ = ["RUNTIME", "AnyioRuntime"]


async def _trio_wait(wait: Any, sock: socket.socket, action: str) -> None:
    """trio's readiness wait with anyio's errors (as anyio.wait_readable raises them)."""
    trio = sys.modules["trio"]
    try:
        await wait(sock)
    except trio.ClosedResourceError as exc:
        raise anyio.ClosedResourceError().with_traceback(exc.__traceback__) from None
    except trio.BusyResourceError:
        raise anyio.BusyResourceError(action) from None


class _AsyncioEvent(asyncio.Event):
    """asyncio's event, waiting like anyio's: a set event still yields to the loop (a
    cancellation point), where asyncio's returns at once."""

    async def wait(self) -> Literal[True]:
        if self.is_set():
            await asyncio.sleep(0)
            return True
        return await super().wait()


class _FutureWaiter(driver.Waiter):
    """A plain waiter on asyncio: a bare future of the loop its class was made for
    (:func:`_future_waiter`)."""

    __slots__ = ("_future",)
    _new_future: Callable[[], asyncio.Future[None]]  # (set on the subclass, see below)

    def _arm(self) -> None:
        self._future = self._new_future()

    def _wake(self) -> None:
        if not self._future.done():  # (done: its waiter was cancelled)
            self._future.set_result(None)

    async def wait(self) -> Any:
        await self._future
        return self.unwrap()


def _future_waiter(loop: asyncio.AbstractEventLoop) -> type[_FutureWaiter]:
    """The plain waiter for a session on ``loop``: bound to it once, because
    ``asyncio.get_running_loop()`` costs a system call (``getpid``), ~0.5 us per request."""
    return type(
        "_FutureWaiter", (_FutureWaiter,), {"__slots__": (), "_new_future": loop.create_future}
    )


class _EventWaiter(driver.EventWaiter):
    __slots__ = ()
    new_event = anyio.Event


class _TrioWaiter(driver.TrioWaiter):
    __slots__ = ()


class AnyioRuntime:
    """:class:`wamp_core.driver.Runtime` with anyio."""

    name = "anyio"
    end_of_stream: tuple[type[BaseException], ...] = (driver.EndOfStream, anyio.EndOfStream)
    broken: tuple[type[BaseException], ...] = (
        driver.BrokenStream, anyio.BrokenResourceError, anyio.ClosedResourceError,
    )  # fmt: skip
    progressive_waiter: type[driver.Waiter] = _EventWaiter

    @property
    def cancelled(self) -> type[BaseException]:
        return anyio.get_cancelled_exc_class()

    def plain_waiter(self) -> type[driver.Waiter]:
        if not on_trio() and (loop := running_asyncio_loop()) is not None:
            return _future_waiter(loop)
        _TrioWaiter.lowlevel = importlib.import_module("trio.lowlevel")
        return _TrioWaiter

    def detached_spawner(self) -> Callable[[Coroutine[Any, Any, None]], object] | None:
        # On asyncio a bare task: anyio 4.16's start_soon builds a task handle, its cancel scope
        # and an event per task, ~25 us more per invocation of an async handler. trio's
        # nursery (this runtime's task group on trio) is already the bare thing.
        if on_trio() or (loop := running_asyncio_loop()) is None:
            return None
        # (The session holds the tasks until they end: no done callback per task.) The task
        # keeps its anyio cancel scope: only a real one is seen by anyio's own code in the
        # handler (its checkpoints, its deadlines, its delivery to the handler's task groups,
        # its shields); a native task.cancel() pierces shields.
        return loop.create_task

    def cancelling(self) -> bool | None:
        if on_trio():
            return True  # (trio's Cancelled comes from scopes only)
        if sys.version_info < (3, 11):  # pragma: no cover - CI runs 3.11
            return None  # (3.10 keeps no count)
        task = asyncio.current_task()
        return task is None or task.cancelling() > 0

    def event(self) -> driver.Event:
        # The running library's own event: anyio.Event() finds the library on every call
        # (about 1.3 us against 0.3), and a subscription's queue makes one per wake-up.
        if on_trio():
            return cast("driver.Event", sys.modules["trio"].Event())
        if running_asyncio_loop() is not None:
            return cast("driver.Event", _AsyncioEvent())
        return anyio.Event()

    # On trio, the session's nurseries and cancel scopes are trio's own, as wamp_trio's: anyio's
    # wrappers around them cost a spawn ~2.4x (23 us against 9.5 with the task's run) and a
    # scope ~1.5x, once per invocation of an async handler.

    def cancel_scope(self, *, shield: bool = False) -> driver.CancelScope:
        if on_trio():
            return cast("driver.CancelScope", sys.modules["trio"].CancelScope(shield=shield))
        return anyio.CancelScope(shield=shield)

    def move_on_after(self, seconds: float | None, *, shield: bool = False) -> driver.CancelScope:
        if on_trio():
            trio = sys.modules["trio"]
            if seconds is None:
                return cast("driver.CancelScope", trio.CancelScope(shield=shield))
            return cast("driver.CancelScope", trio.move_on_after(seconds, shield=shield))
        return anyio.move_on_after(seconds, shield=shield)

    def task_group(self) -> AbstractAsyncContextManager[driver.TaskGroup]:
        if on_trio():
            nursery = sys.modules["trio"].open_nursery()
            return cast("AbstractAsyncContextManager[driver.TaskGroup]", nursery)
        return cast("AbstractAsyncContextManager[driver.TaskGroup]", anyio.create_task_group())

    def current_task_id(self) -> int:
        return anyio.get_current_task().id

    def current_time(self) -> float:
        return anyio.current_time()

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(seconds)

    async def run_in_thread(self, work: Callable[[], object]) -> object:
        return await anyio.to_thread.run_sync(work, abandon_on_cancel=True)

    # The hot waits go to the running library directly, like event(): anyio's functions look
    # the library up on every call (checkpoint: 5.7 us on trio against ~2).

    async def checkpoint(self) -> None:
        if on_trio():
            await sys.modules["trio"].lowlevel.checkpoint()
        else:
            await anyio.lowlevel.checkpoint()

    def cancel_point(self) -> Callable[[], Awaitable[None] | None]:
        if on_trio():
            return cast(
                "Callable[[], Awaitable[None]]",
                sys.modules["trio"].lowlevel.checkpoint_if_cancelled,
            )  # fmt: skip
        loop = running_asyncio_loop()
        if loop is None:  # pragma: no cover - asked in the connection's loop
            return anyio.lowlevel.checkpoint_if_cancelled
        return _asyncio_cancel_point(loop)

    async def wait_readable(self, sock: socket.socket) -> None:
        if on_trio():
            await _trio_wait(sys.modules["trio"].lowlevel.wait_readable, sock, "reading from")
        else:
            await anyio.wait_readable(sock)

    async def wait_writable(self, sock: socket.socket) -> None:
        if on_trio():
            await _trio_wait(sys.modules["trio"].lowlevel.wait_writable, sock, "writing to")
        else:
            await anyio.wait_writable(sock)

    def notify_closing(self, sock: socket.socket) -> None:
        anyio.notify_closing(sock)

    async def getaddrinfo(self, host: str, port: int, family: int = 0) -> list[tuple[Any, ...]]:
        return list(await anyio.getaddrinfo(host, port, family=family, type=socket.SOCK_STREAM))

    async def aclose_forcefully(self, stream: driver.Stream) -> None:
        await anyio.aclose_forcefully(cast(Any, stream))

    def raw_socket(self, stream: driver.Stream) -> driver.SocketLike | None:
        if isinstance(stream, driver.DirectSocketStream):
            return stream.socket
        if isinstance(stream, anyio.abc.ByteStream):
            # (on asyncio a TLS stream's is the transport's socket view: not a socket.socket,
            # but it has fileno, getsockopt and setsockopt)
            sock = stream.extra(anyio.abc.SocketAttribute.raw_socket, None)
            return sock if hasattr(sock, "setsockopt") else None
        return None  # (an in-process stream)

    def open_signal_receiver(self, *signals: int) -> AbstractContextManager[AsyncIterator[int]]:
        receiver = anyio.open_signal_receiver(*signals)  # type: ignore[arg-type]
        return cast("AbstractContextManager[AsyncIterator[int]]", receiver)

    async def open_stream(
        self, transport: wc.TransportConfig
    ) -> tuple[driver.Stream, dict[str, bytes]]:
        from ._transport import open_stream  # noqa: PLC0415 - the transports need the runtime

        return await open_stream(transport)

    def reactor(self) -> Any:
        """On asyncio the running event loop; on trio (no loop object) the ``trio`` module."""
        loop = None if on_trio() else running_asyncio_loop()
        return loop if loop is not None else importlib.import_module("trio")


def _backend_checkpoint_if_cancelled() -> Callable[[], Awaitable[None]]:
    try:  # anyio 4's asyncio backend: 0.7 us against 1.3 through anyio.lowlevel
        from anyio._backends._asyncio import AsyncIOBackend  # noqa: PLC0415 - private, guarded
    except ImportError:  # pragma: no cover - another anyio layout
        return anyio.lowlevel.checkpoint_if_cancelled
    return AsyncIOBackend.checkpoint_if_cancelled


_asyncio_checkpoint_if_cancelled = _backend_checkpoint_if_cancelled()


def _anyio_task_scopes() -> dict[Any, Any] | None:
    """anyio 4's cancel scopes per asyncio task (``weakref.ref(task)`` -> its state), if this
    anyio keeps them as :func:`_asyncio_cancel_point` reads them."""
    try:
        from anyio._backends._asyncio import CancelScope, _task_states  # noqa: PLC0415
    except ImportError:  # pragma: no cover - another anyio layout
        return None
    states = getattr(_task_states, "data", None)
    scope = CancelScope()
    names = ("_cancel_called", "_shield", "_parent_scope")
    if not isinstance(states, dict) or not all(hasattr(scope, name) for name in names):
        return None  # pragma: no cover - another anyio layout
    return states


_TASK_SCOPES = _anyio_task_scopes()


def _asyncio_cancel_point(
    loop: asyncio.AbstractEventLoop,
) -> Callable[[], Awaitable[None] | None]:
    """:meth:`AnyioRuntime.cancel_point` on asyncio: anyio's check without its coroutine and
    property calls (0.2 us against 0.8; ~1.5 us of a call in flight). Another anyio layout
    gets anyio's own check every time. Made in ``loop``'s thread: a call from another thread
    (another loop) is refused before anything is sent (it sent the CALL, then failed on the
    loop's future, or not)."""
    states = _TASK_SCOPES
    if states is None:  # pragma: no cover - another anyio layout
        return _asyncio_checkpoint_if_cancelled
    current_task = asyncio.current_task  # (with the loop: without, 0.2 us more per call)
    ref = weakref.ref
    get_ident = threading.get_ident
    thread = get_ident()

    def cancel_point() -> Awaitable[None] | None:
        if get_ident() != thread:
            raise RuntimeError(
                "this session belongs to another thread's event loop: call it from that loop "
                "(asyncio.run_coroutine_threadsafe, anyio.from_thread.run)"
            )
        task = current_task(loop)
        if task is None:  # (the loop runs no task of ours: its own check, on the running one)
            return _asyncio_checkpoint_if_cancelled()
        state = states.get(ref(task))
        scope = state.cancel_scope if state is not None else None
        while scope is not None:  # (the walk of anyio's checkpoint_if_cancelled)
            if scope._cancel_called:
                return _asyncio_checkpoint_if_cancelled()
            if scope._shield:
                return None
            scope = scope._parent_scope
        return None

    return cancel_point


#: The one instance every anyio session uses.
RUNTIME = AnyioRuntime()
