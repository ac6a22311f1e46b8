"""In-process connections: a router listens under a name, a client connects to
``rs://memory/NAME``, and the bytes go through memory in the same event loop (no socket).

:func:`listen_memory` registers an acceptor for a name; :func:`connect_memory` makes a
:func:`memory_pair` and hands one end to that acceptor. Each end is a
:class:`~wamp_core.driver.Stream` whose waiting goes through the runtime of the task that waits,
so a router served by one driver and a client of another meet in one loop. Like a socket, an
end holds at most :data:`MEMORY_BUFFER` unread bytes; a sender waits beyond that.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from .._errors import TransportError
from ._direct import BrokenStream, EndOfStream
from ._runtime import Event, Runtime

__all__ = ["MEMORY_BUFFER", "MemoryStream", "connect_memory", "listen_memory", "memory_pair"]

#: Unread bytes one end holds before its peer's ``send`` waits (a socket buffer's role).
MEMORY_BUFFER = 1 << 20

#: Name -> (acceptor, the runtime its server ends wait with, the listening thread).
_listeners: dict[str, tuple[Callable[[MemoryStream], None], Runtime, int]] = {}


class MemoryStream:
    """One end of an in-memory byte pipe (see :func:`memory_pair`)."""

    def __init__(self, runtime: Runtime) -> None:
        self._rt = runtime
        self._buffer = bytearray()
        self._closed = False  # this end was closed
        self._eof = False  # the peer closed: nothing more will arrive
        self._readable: Event | None = None
        self._writable: Event | None = None
        self.peer: MemoryStream = self

    async def send(self, item: bytes) -> None:
        peer = self.peer
        while True:
            if self._closed or peer._closed:
                raise BrokenStream("the in-memory stream is closed")
            if len(peer._buffer) < MEMORY_BUFFER:
                break
            if peer._writable is None:
                peer._writable = self._rt.event()
            await peer._writable.wait()
        peer._buffer += item
        peer._wake_reader()
        await self._rt.checkpoint()

    async def receive(self, max_bytes: int = 65536) -> bytes:
        while not self._buffer:
            if self._closed:
                raise BrokenStream("the in-memory stream is closed")
            if self._eof:
                raise EndOfStream
            if self._readable is None:
                self._readable = self._rt.event()
            await self._readable.wait()
        data = bytes(self._buffer[:max_bytes])
        del self._buffer[:max_bytes]
        if self._writable is not None and len(self._buffer) < MEMORY_BUFFER:
            self._writable.set()
            self._writable = None
        return data

    async def aclose(self) -> None:
        self.close()
        await self._rt.checkpoint()

    def close(self) -> None:
        """Close this end: its peer reads what is left, then the end of the stream."""
        if self._closed:
            return
        self._closed = True
        self._buffer.clear()
        self._wake_reader()
        if self._writable is not None:
            self._writable.set()
            self._writable = None
        peer = self.peer
        peer._eof = True
        peer._wake_reader()
        if peer._writable is not None:
            peer._writable.set()
            peer._writable = None

    def _wake_reader(self) -> None:
        if self._readable is not None:
            self._readable.set()
            self._readable = None


def memory_pair(client: Runtime, server: Runtime) -> tuple[MemoryStream, MemoryStream]:
    """Two connected ends: the first waits with ``client``'s runtime, the second ``server``'s."""
    a, b = MemoryStream(client), MemoryStream(server)
    a.peer, b.peer = b, a
    return a, b


@contextmanager
def listen_memory(
    name: str, accept: Callable[[MemoryStream], None], runtime: Runtime
) -> Iterator[str]:
    """Within the block, connections to ``rs://memory/NAME`` reach ``accept`` (called at once
    with the server end, in the connecting task: it should start a task that serves it, whose
    waits use ``runtime``). Yields the URL; a name can have one listener at a time."""
    if name in _listeners:
        raise TransportError(f"something already listens on rs://memory/{name}")
    entry = (accept, runtime, threading.get_ident())
    _listeners[name] = entry
    try:
        yield f"rs://memory/{name}"
    finally:
        if _listeners.get(name) is entry:
            del _listeners[name]


def connect_memory(name: str, runtime: Runtime) -> MemoryStream:
    """The client end of a new connection to the router listening under ``name``."""
    entry = _listeners.get(name)
    if entry is None:
        raise TransportError(f"nothing listens on rs://memory/{name} in this process")
    accept, server_runtime, thread = entry
    if thread != threading.get_ident():  # its events would be set across threads
        raise TransportError(f"rs://memory/{name} listens in another thread's event loop")
    client, server = memory_pair(runtime, server_runtime)
    accept(server)
    return client
