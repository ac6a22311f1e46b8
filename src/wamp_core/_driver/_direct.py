"""A plain (TCP or unix) socket stream that skips the scheduler when the kernel is ready.

Library socket streams yield to the event loop on every send and receive (a checkpoint). A WAMP
call costs a send and a receive on each side, so those round trips were most of a driver's CPU
per call. This stream works on the non-blocking socket itself: ``send`` hands bytes to the
kernel at once and waits only when its buffer is full; ``receive`` returns what the kernel holds
and waits only when it holds nothing. To stay fair to other tasks, it yields after
:data:`FAIR` consecutive operations that did not wait. The waiting is the runtime's.
"""

from __future__ import annotations

import os
import socket
import struct
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ._runtime import Runtime, SocketLike

if sys.platform != "win32":
    import fcntl
    import termios

__all__ = [
    "FAIR",
    "TAKING",
    "BrokenStream",
    "DirectSocketStream",
    "EndOfStream",
    "connect_socket",
    "connect_tcp",
    "acknowledged",
    "outstanding",
    "ping_marks",
    "taking",
]

#: Consecutive operations completed without waiting before one yields to the scheduler.
FAIR = 16


#: ``struct tcp_info``'s ``tcpi_bytes_acked`` (Linux 4.1+): where it is, and what it is.
_BYTES_ACKED = struct.Struct("=Q")
_BYTES_ACKED_AT = 120


def acknowledged(sock: SocketLike | None) -> int | None:
    """How many bytes of ours the peer has acknowledged on ``sock`` so far, or ``None``
    where the system does not tell (not Linux, not TCP, closed)."""
    if sock is None or sys.platform != "linux":
        return None
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
    except (OSError, AttributeError):  # (a unix socket; a closed one)
        return None
    if len(info) < _BYTES_ACKED_AT + _BYTES_ACKED.size:
        return None
    return int(_BYTES_ACKED.unpack_from(info, _BYTES_ACKED_AT)[0])


#: Bytes of ours the peer must acknowledge, since a keepalive's ping, to count as taking what
#: it is sent (:func:`taking`): more than a ping, so that a peer whose kernel acknowledges
#: but whose program reads nothing (hung, or a relay that stopped forwarding) is not alive.
TAKING = 4096


def outstanding(sock: SocketLike | None) -> int | None:
    """How many bytes of ours the kernel still holds for ``sock`` (sent and not acknowledged
    yet, or not sent yet), or ``None`` where the system does not tell."""
    if sock is None or sys.platform != "linux":
        return None
    try:
        raw = fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0" * 4)  # (SIOCOUTQ)
    except (OSError, AttributeError, ValueError):  # (closed)
        return None
    return int(_OUTQ.unpack(raw)[0])


_OUTQ = struct.Struct("=i")


def ping_marks(sock: SocketLike | None, backlog: int) -> tuple[int | None, int | None]:
    """Right after a keepalive's ping is queued: the bytes of ours the peer has acknowledged
    so far, and where the ping ends in what we send (those, what the kernel still holds, and
    the ``backlog`` not handed to it yet: at most there, a write in progress may be in two of
    the counts); ``None`` where the system does not tell. For :func:`taking`."""
    acked = acknowledged(sock)
    held = outstanding(sock)
    if acked is None or held is None:
        return acked, None
    return acked, acked + held + backlog


def taking(sock: SocketLike | None, acked: int | None, until: int | None = None) -> bool:
    """Whether the peer acknowledged :data:`TAKING` bytes or more of ours since
    :func:`acknowledged` said ``acked`` (``False`` where the system does not tell): it is
    taking what it is sent, say a large message its keepalive ping waits behind. With
    ``until`` (where the ping ends in what we sent), what it acknowledges beyond that does not
    count: the ping is in its hands then, and only its answer tells that it is alive (a hung
    program's kernel goes on acknowledging what we send, into its buffer)."""
    if acked is None:
        return False
    now = acknowledged(sock)
    if now is None:
        return False
    return (now if until is None else min(now, until)) >= acked + TAKING


class EndOfStream(Exception):
    """The peer closed the stream."""


class BrokenStream(Exception):
    """The stream failed (a reset, a write to a closed socket) or was closed here."""


class DirectSocketStream:
    """A connected non-blocking socket as a :class:`~wamp_core.driver.Stream`."""

    def __init__(self, sock: socket.socket, runtime: Runtime) -> None:
        sock.setblocking(False)
        self._sock = sock
        self._rt = runtime
        self._closed = False
        self._ready_reads = 0
        self._ready_sends = 0
        self._drained = False  # the last read took less than asked: the kernel had no more

    @property
    def socket(self) -> socket.socket:
        return self._sock

    def send_now(self, data: bytes) -> bytes:
        """Write what the kernel takes without waiting; the rest (``b""`` if all went)."""
        if self._closed:
            raise BrokenStream("the stream is closed")
        try:
            sent = self._sock.send(data)
        except BlockingIOError:
            return data
        except OSError as exc:
            raise BrokenStream(str(exc)) from exc
        return data[sent:]

    async def send(self, item: bytes) -> None:
        self._ready_sends += 1
        if self._ready_sends >= FAIR:
            self._ready_sends = 0
            await self._rt.checkpoint()
        rest = self.send_now(item)
        while rest:
            self._ready_sends = 0
            await self._rt.wait_writable(self._sock)
            rest = self.send_now(rest)

    def receive_now(self, max_bytes: int = 65536) -> bytes | None:
        """What the kernel holds (at most ``max_bytes``), or ``None`` if nothing yet; raises
        :class:`EndOfStream` when the peer closed."""
        if self._closed:
            raise BrokenStream("the stream is closed")
        try:
            data = self._sock.recv(max_bytes)
        except BlockingIOError:
            return None
        except OSError as exc:
            raise BrokenStream(str(exc)) from exc
        if not data:
            raise EndOfStream
        return data

    async def receive(self, max_bytes: int = 65536) -> bytes:
        if self._drained:
            # Wait first: trying again at once would almost always cost a failed recv (a
            # system call and a BlockingIOError) before the same wait.
            self._drained = False
            self._ready_reads = 0
            await self._rt.wait_readable(self._sock)
        while (data := self.receive_now(max_bytes)) is None:
            self._ready_reads = 0
            await self._rt.wait_readable(self._sock)
        self._drained = len(data) < max_bytes
        self._ready_reads += 1
        if self._ready_reads >= FAIR:
            self._ready_reads = 0
            await self._rt.checkpoint()
        return data

    def has_reader_callbacks(self) -> bool:
        """Whether :meth:`reader_callback` works here (a subclass's business)."""
        return False

    @contextmanager
    def reader_callback(self, callback: Callable[[], None]) -> Iterator[None]:
        """Within the block, ``callback`` runs whenever the socket is readable."""
        raise NotImplementedError
        yield  # pragma: no cover

    async def send_eof(self) -> None:
        try:
            self._sock.shutdown(socket.SHUT_WR)
        except OSError as exc:
            raise BrokenStream(str(exc)) from exc

    def _closing(self) -> None:
        """Called once, before the socket closes (a subclass stops its callbacks)."""

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            self._closing()
            self._rt.notify_closing(self._sock)
            self._sock.close()
        await self._rt.checkpoint()


async def connect_socket(
    runtime: Runtime, family: int, address: Any, stream: type[DirectSocketStream]
) -> DirectSocketStream:
    """Connect a non-blocking socket of ``family`` to ``address`` (waiting, never blocking)."""
    return stream(await _connected(runtime, family, address), runtime)


async def _connected(runtime: Runtime, family: int, address: Any) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        if family != socket.AF_UNIX:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            sock.connect(address)
        except (BlockingIOError, InterruptedError):
            await runtime.wait_writable(sock)
            error = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if error:
                raise OSError(error, os.strerror(error)) from None
    except BaseException:
        sock.close()
        raise
    return sock


#: Seconds before the next resolved address is tried while the one before is still
#: connecting (RFC 8305's "Connection Attempt Delay").
ATTEMPT_DELAY = 0.25
#: The address family of an endpoint's ``version`` (none: any).
FAMILIES = {None: socket.AF_UNSPEC, 4: socket.AF_INET, 6: socket.AF_INET6}


async def connect_tcp_socket(
    runtime: Runtime, host: str, port: int, *, version: int | None = None
) -> socket.socket:
    """A non-blocking TCP socket connected to ``host``:``port`` (``TCP_NODELAY`` set), over
    IPv``version`` only when given. The resolved addresses are tried in order, each
    :data:`ATTEMPT_DELAY` s after the one before unless that one failed first, the attempts
    overlapping (RFC 8305): the first to connect wins and the others are given up, so an
    address that never answers does not use up the whole connect timeout. If none connects,
    the first error is raised."""
    infos = await runtime.getaddrinfo(host, port, FAMILIES[version])
    if not infos:
        raise OSError(f"{host!r} has no IPv{version} address")
    if len(infos) == 1:
        family, _type, _proto, _name, address = infos[0]
        return await _connected(runtime, family, address)
    won: list[socket.socket] = []
    errors: list[OSError] = []
    try:
        async with runtime.task_group() as attempts:

            async def attempt(family: int, address: Any, failed: Any) -> None:
                try:
                    sock = await _connected(runtime, family, address)
                except OSError as exc:
                    errors.append(exc)
                    failed.set()
                    return
                won.append(sock)
                attempts.cancel_scope.cancel()

            for family, _type, _proto, _name, address in infos:
                failed = runtime.event()
                attempts.start_soon(attempt, family, address, failed)
                with runtime.move_on_after(ATTEMPT_DELAY):
                    await failed.wait()
    except BaseException:
        for sock in won:
            sock.close()
        raise
    for sock in won[1:]:  # (two connected in the same moment)
        sock.close()
    if won:
        return won[0]
    raise errors[0]


async def connect_tcp(
    runtime: Runtime,
    host: str,
    port: int,
    stream: type[DirectSocketStream] = DirectSocketStream,
    *,
    version: int | None = None,
) -> DirectSocketStream:
    """A stream connected to ``host``:``port``: :func:`connect_tcp_socket`."""
    return stream(await connect_tcp_socket(runtime, host, port, version=version), runtime)
