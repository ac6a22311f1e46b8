"""What the drivers' shared async code needs from an async library: :class:`Runtime`.

The session, the component and the byte path (:mod:`wamp_core.driver`) are written once,
against this protocol; ``wamp_anyio`` implements it with anyio (asyncio and trio), ``wamp_trio``
with trio alone. Its members follow trio's names and meaning (anyio's are the same), so an
implementation is mostly a table of references.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .._config._transports import TransportConfig
    from ._waiters import Waiter

__all__ = ["CancelScope", "Event", "Runtime", "SocketLike", "Stream", "TaskGroup"]


class Event(Protocol):
    def set(self) -> None: ...
    def is_set(self) -> bool: ...
    async def wait(self) -> None: ...


class CancelScope(Protocol):
    @property
    def cancelled_caught(self) -> bool: ...
    @property
    def cancel_called(self) -> bool: ...
    def cancel(self) -> None: ...
    def __enter__(self) -> Any: ...
    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None: ...  # fmt: skip


class TaskGroup(Protocol):
    """An anyio task group or a trio nursery."""

    @property
    def cancel_scope(self) -> Any: ...
    def start_soon(self, func: Callable[..., Awaitable[Any]], *args: Any) -> None: ...


class Stream(Protocol):
    """A connected byte stream: ``receive`` raises one of :attr:`Runtime.end_of_stream` when the
    peer closed, one of :attr:`Runtime.broken` when the stream failed."""

    async def send(self, item: bytes, /) -> None: ...
    async def receive(self, max_bytes: int = 65536, /) -> bytes: ...
    async def aclose(self) -> None: ...


class SocketLike(Protocol):
    """A socket, as the standard library's and trio's are."""

    def fileno(self) -> int: ...
    def getsockopt(self, level: int, option: int, size: int, /) -> bytes: ...
    def setsockopt(self, level: int, option: int, value: bytes, /) -> None: ...


class Runtime(Protocol):
    """One async library, as the shared driver code uses it."""

    @property
    def name(self) -> str:
        """The library's name, for messages."""
        ...

    @property
    def cancelled(self) -> type[BaseException]:
        """The exception a cancelled task receives."""
        ...

    @property
    def end_of_stream(self) -> tuple[type[BaseException], ...]:
        """What a stream raises when the peer closed it."""
        ...

    @property
    def broken(self) -> tuple[type[BaseException], ...]:
        """What a stream raises when it is broken or closed."""
        ...

    @property
    def progressive_waiter(self) -> type[Waiter]:
        """The waiter for a request with progressive results (wakes its task more than once)."""
        ...

    def plain_waiter(self) -> type[Waiter]:
        """The cheapest waiter for a request resolved once; asked once per connection, in
        its event loop (the class may be bound to that loop)."""
        ...

    def detached_spawner(self) -> Callable[[Coroutine[Any, Any, None]], object] | None:
        """A cheaper start than a task group's for the tasks of invocation handlers, on the
        running loop (asked once per connection, in its loop), or ``None``: the session's task
        group starts them. The session tracks such tasks itself: it holds what the spawner
        returns until the task ends (the loop may hold tasks weakly), cancels them through
        their cancel scopes and waits for them before its task group ends (see
        :meth:`Session._guard_detached`)."""
        ...

    def cancelling(self) -> bool | None:
        """Whether the running task is being cancelled (a cancel scope, or a cancel of the
        task), as against a cancellation exception that something it awaited raised (asyncio:
        a future another library cancelled). ``None`` when the library cannot tell (asyncio
        before Python 3.11 keeps no count of a task's cancellations)."""
        ...

    def event(self) -> Event: ...
    def cancel_scope(self, *, shield: bool = False) -> CancelScope: ...
    def move_on_after(self, seconds: float | None, *, shield: bool = False) -> CancelScope: ...
    def task_group(self) -> AbstractAsyncContextManager[TaskGroup]: ...
    def current_task_id(self) -> int: ...
    def current_time(self) -> float: ...
    async def sleep(self, seconds: float) -> None: ...
    async def run_in_thread(self, work: Callable[[], object]) -> object:
        """``work()`` in a worker thread, the loop running meanwhile; a cancel abandons the
        thread (it runs on to its end) rather than waiting for it."""
        ...

    async def checkpoint(self) -> None: ...
    def cancel_point(self) -> Callable[[], Awaitable[None] | None]:
        """Asked once per connection, in its loop: a function run before a request goes out
        (so a cancelled caller sends nothing) that returns ``None`` when the calling task is
        certainly not cancelled, else an awaitable that raises the cancellation if it is (no
        yield otherwise: trio's ``checkpoint_if_cancelled``). As cheap as it can be: anyio's
        own check on asyncio costs ~15 % of a call in flight. It may raise ``RuntimeError``
        for a call from a loop the connection does not belong to."""
        ...

    async def wait_readable(self, sock: socket.socket) -> None: ...
    async def wait_writable(self, sock: socket.socket) -> None: ...
    def notify_closing(self, sock: socket.socket) -> None: ...
    async def getaddrinfo(self, host: str, port: int, family: int = 0) -> list[tuple[Any, ...]]: ...
    async def aclose_forcefully(self, stream: Stream) -> None: ...
    def raw_socket(self, stream: Stream) -> SocketLike | None:
        """The socket under ``stream`` (TLS included), if it has one."""
        ...

    def open_signal_receiver(self, *signals: int) -> AbstractContextManager[AsyncIterator[int]]: ...

    async def open_stream(self, transport: TransportConfig) -> tuple[Stream, dict[str, bytes]]:
        """Connect to ``transport``'s endpoint (bounded by its ``timeout``); the stream and its
        TLS channel ids. Failures raise :class:`wamp_core.TransportError`."""
        ...

    def reactor(self) -> Any:
        """What Autobahn's ``main(reactor, session)`` receives as ``reactor``."""
        ...
