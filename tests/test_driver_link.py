"""The drivers' byte path in isolation, on each driver's runtime: the ordered outgoing buffer,
its writer and backpressure, the direct socket stream, and a request whose completion step
fails (it must fail, not hang).

A socket pair stands for the router; a stub stands for the core's connection (only its
``data_to_send`` is used by the writer side).
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any, cast

import anyio
import pytest

import wamp_anyio as wamp
import wamp_core as wc
from wamp_anyio import HIGH_WATER
from wamp_core.driver import (
    BATCH_FIRST,
    BATCH_FLUSH,
    MEMORY_BUFFER,
    BrokenStream,
    DirectSocketStream,
    EndOfStream,
    Link,
    memory_pair,
)

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("wamp")]


class _Producer:
    """What the connection would have produced: chunks handed out by ``data_to_send``."""

    def __init__(self) -> None:
        self.pending = bytearray()

    def data_to_send(self) -> bytes:
        data = bytes(self.pending)
        self.pending.clear()
        return data


def _pair() -> tuple[DirectSocketStream, socket.socket]:
    ours, theirs = socket.socketpair()
    ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    theirs.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    return DirectSocketStream(ours, wamp.Session.runtime), theirs


def _link(
    producer: _Producer, stream: DirectSocketStream, on_lost: Callable[[str], None] | None = None
) -> Link:
    """A link writing what ``producer`` made to ``stream`` (received events are not used)."""
    return Link(
        wamp.Session.runtime, cast(wc.Connection, producer), stream, lambda events: None,
        on_lost or (lambda reason: None),
    )  # fmt: skip


async def _drain(peer: socket.socket, size: int, step: int = 1 << 16) -> bytes:
    peer.setblocking(False)
    got = bytearray()
    while len(got) < size:
        await anyio.wait_readable(peer)
        got += peer.recv(step)
    return bytes(got)


async def test_bytes_leave_in_order_through_a_slow_peer_and_producers_wait() -> None:
    stream, peer = _pair()
    producer = _Producer()
    lost: list[str] = []
    link = _link(producer, stream, lost.append)
    chunks = [bytes([i % 251]) * 50_000 for i in range(60)]  # 3 MB: more than HIGH_WATER
    waited = 0
    received: list[bytes] = []
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(link.write)

            async def read_all() -> None:
                await anyio.sleep(0.2)  # the peer is slow to start reading: the queue fills
                received.append(await _drain(peer, sum(map(len, chunks))))

            tg.start_soon(read_all)
            for chunk in chunks:
                producer.pending += chunk
                link.push()
                before = anyio.current_time()
                await link.backpressure()
                waited += anyio.current_time() - before > 0.05
                assert len(link._out) < HIGH_WATER + len(chunk)  # bounded
            # An empty queue means the kernel holds the tail; the reader may still be
            # draining it, so the writer is stopped only once everything arrived.
            with anyio.fail_after(10):
                while not received or link._out or link._sending:
                    await anyio.sleep(0.01)
            tg.cancel_scope.cancel()
    finally:
        await stream.aclose()
        peer.close()
    assert received[0] == b"".join(chunks)
    assert waited >= 1  # a producer was held back while the peer did not read
    assert lost == []


async def test_a_broken_peer_is_reported_once_and_releases_waiting_producers() -> None:
    stream, peer = _pair()
    producer = _Producer()
    lost: list[str] = []
    link = _link(producer, stream, lost.append)
    async with anyio.create_task_group() as tg:
        tg.start_soon(link.write)
        producer.pending += b"x" * (2 * HIGH_WATER)
        link.push()
        peer.close()  # the peer goes away without reading
        with anyio.fail_after(10):
            await link.backpressure()  # returns: the link broke
        link.push()  # harmless now
        tg.cancel_scope.cancel()
    assert len(lost) == 1 and "write failed" in lost[0]
    await stream.aclose()


async def test_a_cancelled_writer_releases_waiting_producers() -> None:
    """The session's end cancels the writer while the peer does not read: a producer waiting
    for space (an invocation's answer) must return, not wait for a writer that is gone (the
    session's close waited for it for ever); nothing is reported lost."""
    stream, peer = _pair()
    producer = _Producer()
    lost: list[str] = []
    link = _link(producer, stream, lost.append)
    released = anyio.Event()

    async def produce() -> None:
        producer.pending += b"x" * (2 * HIGH_WATER)
        link.push()
        await link.backpressure()
        released.set()

    async with anyio.create_task_group() as tg:
        with anyio.CancelScope() as writer:
            tg.start_soon(produce)
            await anyio.sleep(0.1)
            assert not released.is_set()  # the peer does not read: the producer waits
            writer.cancel()
            await link.write()
        with anyio.fail_after(5):
            await released.wait()
        link.push()  # harmless now
    assert lost == []
    await stream.aclose()
    peer.close()


async def test_a_peer_that_stops_reading_ends_the_link_after_the_send_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What the kernel takes at once leaves without a deadline; the rest waits at most
    ``SEND_TIMEOUT`` for the peer to read, then the link is lost (nothing hangs)."""
    monkeypatch.setattr("wamp_core._driver._link.SEND_TIMEOUT", 0.3)
    stream, peer = _pair()
    producer = _Producer()
    lost: list[str] = []
    link = _link(producer, stream, lost.append)
    async with anyio.create_task_group() as tg:
        tg.start_soon(link.write)
        producer.pending += b"x" * 10
        link.push(batch=True)  # left to the writer, which the kernel serves at once
        with anyio.fail_after(10):
            while link._out:
                await anyio.sleep(0.01)
        assert lost == [] and peer.recv(100) == b"x" * 10
        producer.pending += b"y" * (HIGH_WATER // 2)  # far more than the socket buffers
        link.push(batch=True)
        with anyio.fail_after(10):
            while not lost:
                await anyio.sleep(0.05)
        tg.cancel_scope.cancel()
    assert lost == ["write made no progress for 0.3 s"]
    await stream.aclose()
    peer.close()


async def test_order_holds_while_the_peer_reads_between_pushes() -> None:
    """Pushes interleaved with a peer that frees kernel space bit by bit: a push must never
    jump ahead of bytes the writer still holds."""
    stream, peer = _pair()
    producer = _Producer()
    link = _link(producer, stream)
    chunks = [i.to_bytes(4, "big") * 1500 for i in range(400)]
    received: list[bytes] = []
    async with anyio.create_task_group() as tg:
        tg.start_soon(link.write)

        async def read_all() -> None:
            received.append(await _drain(peer, sum(map(len, chunks)), step=3000))

        tg.start_soon(read_all)
        for chunk in chunks:
            producer.pending += chunk
            link.push()
            await anyio.sleep(0)
        with anyio.fail_after(10):
            while not received:
                await anyio.sleep(0.01)
        tg.cancel_scope.cancel()
    assert received[0] == b"".join(chunks)
    await stream.aclose()
    peer.close()


async def test_a_long_burst_leaves_in_growing_slices_in_order() -> None:
    """Pushes of a burst (``batch``) wait for the writer task, but no longer than a slice:
    ``BATCH_FIRST`` bytes, then twice that up to ``BATCH_FLUSH``; the router gets the first
    requests while the rest are made. Once the writer has drained the burst, the next one
    starts small again. Nothing is reordered."""
    stream, peer = _pair()
    producer = _Producer()
    link = _link(producer, stream)
    peer.setblocking(False)
    sent = bytearray()
    received = bytearray()

    def burst(first: int, count: int) -> list[int]:
        """Push ``count`` 32-byte calls as one burst (no task runs meanwhile); the sizes of
        the slices that reached the peer."""
        slices = []
        for i in range(first, first + count):
            producer.pending += i.to_bytes(2, "big") * 16
            sent.extend(producer.pending)
            link.push(batch=True)
            try:
                data = peer.recv(1 << 16)
            except BlockingIOError:
                continue
            slices.append(len(data))
            received.extend(data)
        return slices

    assert burst(0, 7) == []  # 224 bytes: held for the writer task
    sizes = [BATCH_FIRST, 2 * BATCH_FIRST, BATCH_FLUSH, BATCH_FLUSH]
    assert burst(7, sum(sizes) // 32 - 7 + 3) == sizes  # then 96 bytes held
    async with anyio.create_task_group() as tg:
        tg.start_soon(link.write)  # the writer sends the rest, then waits
        received.extend(await _drain(peer, 96))
        await anyio.sleep(0.01)
        assert burst(1000, 8) == [BATCH_FIRST]  # the next burst starts small again
        tg.cancel_scope.cancel()
    assert received == sent
    await stream.aclose()
    peer.close()


class _CountingStream(DirectSocketStream):
    """Counts the bytes handed to the kernel without waiting (``send_now``)."""

    handed = 0

    def send_now(self, data: bytes) -> bytes:
        self.handed += len(data)
        return super().send_now(data)


async def test_a_burst_into_a_full_kernel_buffer_is_not_copied_again_per_push() -> None:
    """(A review.) Once the kernel left part of a burst's slice behind, the rest of the burst
    waits for the writer task: each further push handed the whole queue to the kernel again
    (a copy of everything queued per call: 2000 calls of 10 kB to a router that stopped
    reading held the event loop for 1.5-15 s). Then the writer sends it all, in order."""
    ours, peer = socket.socketpair()
    ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    peer.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stream = _CountingStream(ours, wamp.Session.runtime)
    producer = _Producer()
    link = _link(producer, stream)
    chunks = [i.to_bytes(4, "big") * 250 for i in range(500)]  # 500 pushes of 1000 bytes
    for chunk in chunks:
        producer.pending += chunk
        link.push(batch=True)
    # What the kernel could take at most, plus the slices before it was full (the quadratic
    # path handed over ~125 MB here).
    assert stream.handed < 64 * 1024
    async with anyio.create_task_group() as tg:
        tg.start_soon(link.write)
        with anyio.fail_after(10):
            received = await _drain(peer, sum(map(len, chunks)))
        tg.cancel_scope.cancel()
    assert received == b"".join(chunks)
    await stream.aclose()
    peer.close()


async def test_direct_stream_end_of_stream_and_close() -> None:
    stream, peer = _pair()
    peer.sendall(b"abc")
    assert await stream.receive() == b"abc"
    assert stream.receive_now() is None
    peer.close()
    with pytest.raises(EndOfStream):
        await stream.receive()
    await stream.aclose()
    with pytest.raises(BrokenStream):
        await stream.receive()
    with pytest.raises(BrokenStream):
        stream.send_now(b"x")


async def test_a_failing_completion_step_fails_the_request_instead_of_hanging() -> None:
    def on_success(_value: Any) -> None:
        raise RuntimeError("could not start the handler")

    waiter = wamp.Session.runtime.plain_waiter()(on_success)
    waiter.resolve(wc.Outcome(value=1))
    waiter.resolve(wc.Outcome(error=wc.SessionClosed("later")))  # ignored: resolved once
    with anyio.fail_after(1), pytest.raises(RuntimeError, match="could not start"):
        await waiter.wait()


async def test_memory_pair_delivers_in_order_bounds_its_buffer_and_ends_cleanly() -> None:
    runtime = wamp.Session.runtime
    client, server = memory_pair(runtime, runtime)
    sent = False

    async def send_big() -> None:
        nonlocal sent
        await client.send(b"a" * MEMORY_BUFFER)  # fills the server's buffer
        await client.send(b"b")  # waits until the server reads
        sent = True

    async with anyio.create_task_group() as tg:
        tg.start_soon(send_big)
        await anyio.sleep(0.05)
        assert not sent
        got = bytearray()
        with anyio.fail_after(5):
            while len(got) < MEMORY_BUFFER + 1:
                got += await server.receive()
        assert bytes(got) == b"a" * MEMORY_BUFFER + b"b"
    await client.send(b"last")
    await client.aclose()
    assert await server.receive() == b"last"  # what was sent before the close still arrives
    with pytest.raises(EndOfStream):
        await server.receive()
    with pytest.raises(BrokenStream):
        await server.send(b"x")
    with pytest.raises(BrokenStream):
        await client.receive()


async def test_a_lone_push_does_not_jump_ahead_of_a_queued_burst() -> None:
    """(A mutation review.) A
    request made right after a burst's requests (held for the writer task) must not reach the
    router before them."""
    stream, peer = _pair()
    producer = _Producer()
    link = _link(producer, stream)
    producer.pending += b"A" * 100  # a burst's request: held for the writer task
    link.push(batch=True)
    producer.pending += b"B" * 100  # a lone request right after it
    link.push()
    async with anyio.create_task_group() as tg:
        tg.start_soon(link.write)
        with anyio.fail_after(10):
            received = await _drain(peer, 200)
        tg.cancel_scope.cancel()
    assert received == b"A" * 100 + b"B" * 100
    await stream.aclose()
    peer.close()


class _FillingStream(DirectSocketStream):
    """A kernel buffer that is full at first, then takes everything at once (a large TCP send
    buffer that the peer emptied meanwhile)."""

    full = True
    taken = 0

    def send_now(self, data: bytes) -> bytes:
        if self.full:
            return data
        self.taken += len(data)
        return b""


async def test_a_producer_waiting_for_space_is_released_when_the_kernel_takes_it_all() -> None:
    """(A mutation review.) A
    producer waiting in backpressure while the queue is over HIGH_WATER must be released once
    the writer hands the whole queue to the kernel at once; it waited for ever."""
    ours, peer = socket.socketpair()
    stream = _FillingStream(ours, wamp.Session.runtime)
    producer = _Producer()
    link = _link(producer, stream)
    producer.pending += b"x" * (2 * HIGH_WATER)
    link.push()  # the kernel takes nothing yet: queued
    assert link.congested
    stream.full = False
    async with anyio.create_task_group() as tg:
        tg.start_soon(link.write)
        with anyio.fail_after(5):
            await link.backpressure()
        tg.cancel_scope.cancel()
    assert stream.taken == 2 * HIGH_WATER
    await stream.aclose()
    peer.close()


async def test_backpressure_returns_only_below_high_water_with_several_producers() -> None:
    """(A mutation review.) Two producers wait
    for space; the first one released queues HIGH_WATER bytes again before the second one
    runs: the second must wait on (the documented bound), not return with the queue full."""
    stream, peer = _pair()
    producer = _Producer()
    link = _link(producer, stream)
    congested_on_return: list[bool] = []

    async def produce(size: int) -> None:
        await link.backpressure()
        congested_on_return.append(link.congested)
        producer.pending += b"y" * size
        link.push()

    producer.pending += b"x" * (2 * HIGH_WATER)
    link.push()  # far more than the socket buffers: queued
    async with anyio.create_task_group() as tg:
        tg.start_soon(produce, 2 * HIGH_WATER)
        tg.start_soon(produce, 10)
        await anyio.sleep(0.05)
        assert congested_on_return == []  # both wait
        tg.start_soon(link.write)
        with anyio.fail_after(20):
            await _drain(peer, 4 * HIGH_WATER + 10)
        tg.cancel_scope.cancel()
    assert congested_on_return == [False, False]
    await stream.aclose()
    peer.close()
