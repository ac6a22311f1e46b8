"""The bytes of one connection: an ordered outgoing buffer with its writer, and the reader.

Writing never takes a lock and never makes a command wait for the network: :meth:`Link.push`
takes what the connection produced and, when nothing is queued before it and the stream is a
plain socket, hands it to the kernel at once (a lone request: no scheduling round trip). What
the kernel does not take, what is pushed as part of a batch (many requests in flight), and
everything after it wait in one buffer that the writer task drains in order, so frames never
interleave or reorder and a burst leaves in a few system calls (slices that grow from
:data:`BATCH_FIRST` to :data:`BATCH_FLUSH` bytes, the rest when the writer task runs).
:meth:`Link.backpressure` lets a producer wait while that buffer holds :data:`HIGH_WATER` bytes
or more (bounded memory). A send that fails or stalls for :data:`SEND_TIMEOUT` s ends the
connection.

Reading feeds the connection and sends what that produced before reporting the events. On
asyncio a plain socket is read from the event loop's readiness callback (no task wake-up per
message); otherwise a task receives from the stream. The waiting is the runtime's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import wamp_core as wc

from ._direct import (
    FAIR,
    BrokenStream,
    DirectSocketStream,
    EndOfStream,
    ping_marks,
    taking,
)
from ._inbox import Inbox
from ._runtime import CancelScope, Event, Runtime, Stream

__all__ = [
    "BATCH_FIRST", "BATCH_FLUSH", "HIGH_WATER", "SEND_SLICE", "SEND_TIMEOUT", "Link", "send_sliced",
]  # fmt: skip

#: Seconds a write may go without progress (:data:`SEND_SLICE` bytes taken) before the
#: connection is given up: the peer stopped reading.
SEND_TIMEOUT = 30.0
#: A large write goes out in slices of this many bytes, each under its own
#: :data:`SEND_TIMEOUT`: a slow link that moves is not cut (16 MiB at 256 KiB/s takes 64 s).
SEND_SLICE = 1 << 18
#: Queued outgoing bytes at which producers that respect backpressure wait.
HIGH_WATER = 1 << 20
_RECEIVE_SIZE = 65536
#: Queued bytes of a burst (requests in flight) at which its first slice goes out without
#: waiting for the rest of it (about 5 small calls); each further slice is twice as large, up
#: to :data:`BATCH_FLUSH` (about 20 calls): the router starts on the first requests at once,
#: and a long burst still costs few system calls.
BATCH_FIRST = 256
#: Turns at most that the reader gives quick subscription handlers whose queues a read
#: filled, before it reads on: until the queues are back within their sizes.
CROWDED_TURNS = 4
#: Largest slice of a burst held back for the writer task.
BATCH_FLUSH = 1024
#: ``_flush_at`` once the kernel left part of a burst's slice behind: no more early slices
#: until the writer task has drained the queue (each one would copy all that is queued).
_WRITER_ONLY = 1 << 62


def _caught_up(waiting: list[Inbox[Any]]) -> bool:
    """Whether each crowded queue is back within its size."""
    return not any(inbox.over() for inbox in waiting)


async def send_sliced(
    move_on_after: Callable[[float], CancelScope],
    send: Callable[[bytes], Awaitable[None]],
    data: bytes,
    timeout: float | None = None,
) -> bool:
    """``send(data)`` in slices of :data:`SEND_SLICE`, each bounded by ``timeout`` (default
    :data:`SEND_TIMEOUT`); ``False`` when one made no progress in time (the rest is not
    sent)."""
    deadline = SEND_TIMEOUT if timeout is None else timeout
    for start in range(0, len(data), SEND_SLICE):
        with move_on_after(deadline) as scope:
            await send(data[start : start + SEND_SLICE] if len(data) > SEND_SLICE else data)
        if scope.cancelled_caught:
            return False
    return True


class Link:
    """Moves ``conn``'s bytes over ``stream``; reports events to ``on_events`` and a broken
    transport to ``on_lost(reason)`` (once; the link is unusable afterwards)."""

    def __init__(
        self,
        runtime: Runtime,
        conn: wc.Connection,
        stream: Stream,
        on_events: Callable[[list[wc.ConnectionEvent]], None],
        on_lost: Callable[[str], None],
    ) -> None:
        self._rt = runtime
        self._conn = conn
        self.stream = stream
        self._direct = stream if isinstance(stream, DirectSocketStream) else None
        self._broken_errors: tuple[type[BaseException], ...] = (*runtime.broken, OSError)
        self._on_events = on_events
        self._on_lost = on_lost
        self._out = bytearray()
        self._sending = False
        self._writing = 0  # bytes of the write in progress (see mark())
        self._broken = False
        self._wakeup = runtime.event()
        self._space: Event | None = None
        self._flush_at = BATCH_FIRST  # queued bytes at which the burst's next slice goes out
        #: Counts reads: the peer is alive while its bytes arrive (a keepalive's pong may
        #: wait behind a large message on a slow link). Not writes: bytes the kernel takes
        #: prove nothing of the peer (over TLS the ping's own write would count); bytes the
        #: peer acknowledges do (see moved_since()).
        self.activity = 0
        #: Filled by the session with the queues of quick handlers that a read filled: the
        #: reader lets the other tasks run, those handlers among them, until each queue is
        #: back within its size, for at most :data:`CROWDED_TURNS` turns, before it reads
        #: again. (A slow handler's queue is not waited for: see ``Inbox.slow``.)
        self.crowded: set[Inbox[Any]] = set()
        self._socket = runtime.raw_socket(stream)

    # ----------------------------------------------------------------------------------------
    # Writing

    def push(self, *, batch: bool = False) -> None:
        """Send (or queue, in order) everything the connection has produced.

        ``batch``: more is likely to follow at once (other requests are in flight): leave the
        bytes to the writer task, which runs after the tasks already ready and sends their
        bytes together instead of one system call each (a long burst leaves in growing slices
        before that, from :data:`BATCH_FIRST` to :data:`BATCH_FLUSH` bytes).
        """
        data = self._conn.data_to_send()
        if not data or self._broken:
            return
        direct = self._direct
        if direct is not None and not batch and not self._out and not self._sending:
            rest = self._send_now(direct, data)
            if not rest:  # all of it went, or the link broke
                return
            data = rest
        self._out += data
        if batch and direct is not None and not self._sending and len(self._out) >= self._flush_at:
            # A long burst goes out in growing slices, not all at the end: the router starts
            # on the first calls while the rest are made (a batch of 100 calls waited for all
            # 100; fixed 1 KiB slices still left the router idle for the first 20).
            self._flush_at = min(2 * self._flush_at, BATCH_FLUSH)
            chunk = bytes(self._out)
            self._out.clear()
            rest = self._send_now(direct, chunk)
            if rest is None:
                return
            if rest:  # the kernel is full: the writer task sends the rest of the burst
                self._flush_at = _WRITER_ONLY
                self._out += rest
        self._wakeup.set()

    def _send_now(self, direct: DirectSocketStream, data: bytes) -> bytes | None:
        """Hand ``data`` to the kernel at once: what it did not take, or ``None`` if the link
        broke (reported)."""
        try:
            return direct.send_now(data)
        except self._broken_errors as exc:
            self.lost(f"write failed: {exc or type(exc).__name__}")
            return None

    @property
    def congested(self) -> bool:
        """Whether :meth:`backpressure` would wait."""
        return len(self._out) >= HIGH_WATER and not self._broken

    async def backpressure(self) -> None:
        """Wait while :data:`HIGH_WATER` bytes or more are queued (returns if the link broke)."""
        while len(self._out) >= HIGH_WATER and not self._broken:
            if self._space is None:
                self._space = self._rt.event()
            await self._space.wait()

    async def write(self) -> None:
        """The writer task: drain the queue in order until the link breaks or the task is
        cancelled (the connection's end), which makes the link unusable too: nothing waits in
        :meth:`backpressure` for a writer that is gone."""
        try:
            await self._write()
        finally:
            if not self._broken:  # (cancelled: the session ends, no loss to report)
                self._broken = True
                self._out.clear()
                self._make_space()

    async def _write(self) -> None:
        while not self._broken:
            if not self._out:
                self._flush_at = BATCH_FIRST  # the burst is over: the next one starts small
                self._wakeup = self._rt.event()
                await self._wakeup.wait()
                continue
            chunk = bytes(self._out)
            self._out.clear()
            direct = self._direct
            if direct is not None:
                # What the kernel takes at once needs no deadline: a timer costs ~10 us per
                # write (once per burst of calls in flight), more than the write itself.
                rest = self._send_now(direct, chunk)
                if not rest:  # all of it went, or the link broke
                    self._make_space()
                    continue
                chunk = rest
            self._sending = True
            self._writing = len(chunk)
            moved = True
            try:
                moved = await send_sliced(self._rt.move_on_after, self.stream.send, chunk)
            except self._broken_errors as exc:
                self.lost(f"write failed: {exc or type(exc).__name__}")
            finally:
                self._sending = False
                self._writing = 0
                chunk = rest = b""  # not held while waiting for the next burst
            if not moved:
                self.lost(f"write made no progress for {SEND_TIMEOUT} s")
            self._make_space()

    def _make_space(self) -> None:
        if self._space is not None and (len(self._out) < HIGH_WATER or self._broken):
            self._space.set()
            self._space = None

    def lost(self, reason: str) -> None:
        """The transport is unusable: stop writing and report it (idempotent)."""
        if self._broken:
            return
        self._broken = True
        self._out.clear()
        self._wakeup.set()
        self._make_space()
        self._on_lost(reason)

    def mark(self) -> tuple[int, int | None, int | None]:
        """Where the peer's signs of life stand now, for :meth:`moved_since`: right after a
        keepalive's ping is queued (where it ends in what we send, when the system tells)."""
        acked, end = ping_marks(self._socket, len(self._out) + self._writing)
        return self.activity, acked, end

    def moved_since(self, mark: tuple[int, int | None, int | None]) -> bool:
        """Whether the peer showed life since ``mark``: bytes from it arrived, or it
        acknowledged :data:`~wamp_core.driver.TAKING` bytes of ours sent before the ping (it
        is taking a large message the ping waits behind; where the system tells, see
        :func:`~wamp_core.driver.taking`)."""
        reads, acked, end = mark
        return self.activity != reads or taking(self._socket, acked, end)

    # ----------------------------------------------------------------------------------------
    # Reading

    def _received(self, data: bytes) -> None:
        self.activity += 1
        events = self._conn.receive_data(data)
        self.push()
        self._on_events(events)

    def _ended(self) -> None:
        events = self._conn.receive_eof()
        self.push()
        self._on_events(events)

    def handshake_failure(self, reason: str) -> wc.HandshakeError | None:
        """What the link's failure (``reason``) is when the transport's opening handshake has
        not completed: a HandshakeError, as an end of stream there is; else ``None``."""
        conn = self._conn
        if conn.serializer is not None or conn.framer.closed:
            return None
        kind = type(conn.framer).__name__
        return wc.HandshakeError(f"the connection failed during the {kind} opening handshake: "
                                 f"{reason}")  # fmt: skip

    def _failed(self, exc: BaseException) -> None:
        reason = str(exc) or str(exc.__cause__ or "") or type(exc).__name__
        failure = self.handshake_failure(reason)
        if failure is not None:
            raise failure from exc
        self._on_events(self._conn.connection_lost(reason))

    async def read(self) -> None:
        """Feed the connection until it is closed; raises what feeding raised (a refused
        transport handshake, a bug)."""
        direct = self._direct
        if direct is not None and direct.has_reader_callbacks():
            await self._read_by_callback(direct)
            return
        conn = self._conn
        end_of_stream: tuple[type[BaseException], ...] = self._rt.end_of_stream
        while not conn.closed:
            try:
                data = await self.stream.receive(_RECEIVE_SIZE)
            except end_of_stream:
                self._ended()
            except self._broken_errors as exc:
                self._failed(exc)
            else:
                self._received(data)
                if self.crowded:
                    waiting = self._waiting()
                    for _ in range(CROWDED_TURNS):
                        await self._rt.checkpoint()
                        if _caught_up(waiting):
                            break

    def _waiting(self) -> list[Inbox[Any]]:
        """The crowded queues (and none crowded any more)."""
        waiting = list(self.crowded)
        self.crowded.clear()
        return waiting

    async def _read_by_callback(self, direct: DirectSocketStream) -> None:
        conn = self._conn
        done = self._rt.event()
        failure: list[Exception] = []
        waiting: list[Inbox[Any]] = []
        turns = 0

        def readable() -> None:
            nonlocal turns, waiting
            if self.crowded or waiting:  # (see read(); the loop calls again while data waits)
                if turns == 0:
                    waiting = self._waiting()
                if turns < CROWDED_TURNS and not _caught_up(waiting):
                    turns += 1
                    return
                waiting, turns = [], 0
            try:
                try:
                    # Full reads follow one another, up to FAIR of them, as the task reader's
                    # do (DirectSocketStream.receive): one read per loop turn fell behind a
                    # flood of events while a slow handler held each turn (its events are
                    # dropped, but the session's results waited behind them for seconds).
                    data, reads = direct.receive_now(_RECEIVE_SIZE), 1
                    while data is not None:
                        self._received(data)
                        if len(data) < _RECEIVE_SIZE or reads == FAIR or conn.closed:
                            break
                        if self.crowded:  # quick handlers take their share first
                            break
                        data, reads = direct.receive_now(_RECEIVE_SIZE), reads + 1
                except EndOfStream:
                    self._ended()
                except BrokenStream as exc:
                    self._failed(exc)
            except Exception as exc:  # reported by read(), like the task reader's
                failure.append(exc)
                done.set()
            if conn.closed:
                done.set()

        with direct.reader_callback(readable):
            await done.wait()
        if failure:
            raise failure[0]
