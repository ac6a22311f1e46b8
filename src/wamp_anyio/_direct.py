"""A plain (TCP or unix) socket stream that skips the scheduler when the kernel is ready.

anyio's socket streams yield to the event loop on every ``send`` and ``receive`` (a checkpoint),
and on asyncio read through a transport's extra buffer. A WAMP call costs a send and a receive
on each side, so those round trips were most of the driver's CPU per call. This stream works on
the non-blocking socket itself: ``send`` hands bytes to the kernel at once and waits only when
its buffer is full; ``receive`` returns what the kernel holds and waits only when it holds
nothing. To stay fair to other tasks, it yields after :data:`_FAIR` consecutive operations that
did not wait. TLS and proxied connections keep anyio's streams.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import anyio
import anyio.lowlevel
from anyio.abc import ByteStream, SocketAttribute

_library_cvar: contextvars.ContextVar[str | None] | None
try:  # anyio finds the running library through sniffio when it is installed
    from sniffio import current_async_library_cvar as _library_cvar
except ImportError:  # pragma: no cover - then anyio asks asyncio, which works in callbacks
    _library_cvar = None

__all__ = ["DirectSocketStream", "connect_tcp", "connect_unix", "running_asyncio_loop"]

#: Consecutive operations completed without waiting before one yields to the scheduler.
_FAIR = 16


def running_asyncio_loop() -> asyncio.AbstractEventLoop | None:
    """The running asyncio loop, or ``None`` on another library (trio)."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class DirectSocketStream(ByteStream):
    """A connected non-blocking socket as an anyio :class:`ByteStream`."""

    def __init__(self, sock: socket.socket) -> None:
        sock.setblocking(False)
        self._sock = sock
        self._closed = False
        self._ready_reads = 0
        self._ready_sends = 0
        self._callback: tuple[asyncio.AbstractEventLoop, Callable[[], None]] | None = None

    def send_now(self, data: bytes) -> bytes:
        """Write what the kernel takes without waiting; the rest (``b""`` if all went)."""
        if self._closed:
            raise anyio.ClosedResourceError
        try:
            sent = self._sock.send(data)
        except BlockingIOError:
            return data
        except OSError as exc:
            raise anyio.BrokenResourceError(str(exc)) from exc
        return data[sent:]

    async def send(self, item: bytes) -> None:
        self._ready_sends += 1
        if self._ready_sends >= _FAIR:
            self._ready_sends = 0
            await anyio.lowlevel.checkpoint()
        rest = self.send_now(item)
        while rest:
            self._ready_sends = 0
            await anyio.wait_writable(self._sock)
            rest = self.send_now(rest)

    def receive_now(self, max_bytes: int = 65536) -> bytes | None:
        """What the kernel holds (at most ``max_bytes``), or ``None`` if nothing yet; raises
        :class:`anyio.EndOfStream` when the peer closed."""
        if self._closed:
            raise anyio.ClosedResourceError
        try:
            data = self._sock.recv(max_bytes)
        except BlockingIOError:
            return None
        except OSError as exc:
            raise anyio.BrokenResourceError(str(exc)) from exc
        if not data:
            raise anyio.EndOfStream
        return data

    async def receive(self, max_bytes: int = 65536) -> bytes:
        while (data := self.receive_now(max_bytes)) is None:
            self._ready_reads = 0
            await anyio.wait_readable(self._sock)
        self._ready_reads += 1
        if self._ready_reads >= _FAIR:
            self._ready_reads = 0
            await anyio.lowlevel.checkpoint()
        return data

    def has_reader_callbacks(self) -> bool:
        """Whether :meth:`reader_callback` works here (asyncio with a selector loop)."""
        return isinstance(running_asyncio_loop(), asyncio.SelectorEventLoop)

    @contextmanager
    def reader_callback(self, callback: Callable[[], None]) -> Iterator[None]:
        """Within the block, the loop calls ``callback`` whenever the socket is readable (and
        once more if the stream is closed meanwhile, so the reader sees it)."""
        loop = asyncio.get_running_loop()
        # A loop callback runs outside any task, where sniffio cannot tell the library: say
        # it, so that anyio calls made from the callback (starting a task...) work.
        context = contextvars.copy_context()
        if _library_cvar is not None:
            context.run(_library_cvar.set, "asyncio")

        def run_callback() -> None:
            context.run(callback)

        loop.add_reader(self._sock, run_callback)
        self._callback = (loop, run_callback)
        try:
            yield
        finally:
            if self._callback is not None:
                self._callback = None
                loop.remove_reader(self._sock)

    async def send_eof(self) -> None:
        try:
            self._sock.shutdown(socket.SHUT_WR)
        except OSError as exc:
            raise anyio.BrokenResourceError(str(exc)) from exc

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            if self._callback is not None:
                loop, callback = self._callback
                self._callback = None
                loop.remove_reader(self._sock)
                loop.call_soon(callback)
            anyio.notify_closing(self._sock)
            self._sock.close()
        await anyio.lowlevel.checkpoint()

    @property
    def extra_attributes(self) -> dict[Any, Any]:
        return {SocketAttribute.raw_socket: lambda: self._sock}


async def _connect(family: int, address: Any) -> DirectSocketStream:
    """Connect a non-blocking socket of ``family`` to ``address`` (waiting, never blocking)."""
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        if family != socket.AF_UNIX:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            sock.connect(address)
        except (BlockingIOError, InterruptedError):
            await anyio.wait_writable(sock)
            error = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if error:
                raise OSError(error, os.strerror(error)) from None
    except BaseException:
        sock.close()
        raise
    return DirectSocketStream(sock)


async def connect_unix(path: str) -> DirectSocketStream:
    """A stream connected to the unix socket at ``path``."""
    return await _connect(socket.AF_UNIX, path)


async def connect_tcp(host: str, port: int) -> DirectSocketStream:
    """A stream connected to ``host``:``port``: each resolved address in turn, the first
    that accepts wins; if none does, the last address's error is raised."""
    infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    error: OSError = OSError(f"{host!r} resolved to no address")
    for family, _type, _proto, _name, address in infos:
        try:
            return await _connect(family, address)
        except OSError as exc:
            error = exc
    raise error
