"""Progressive call invocations through the drivers: a caller sends its arguments in chunks
(``session.open_call``), the callee's handler reads them through its ``chunks`` parameter.

Through the embedded router (which announces ``progressive_call_invocations``) on both drivers
and backends; against Crossbar.io (which does not) the caller gets a clear error at once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest

import wamp_anyio
import wamp_anyio as wamp
import wamp_core as wc
from crossbar import CrossbarRouter
from wamp_core.driver import MAX_QUEUED_CHUNKS

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("wamp")]

TIMEOUT = 20


@pytest.fixture(params=["rs", "ws"])
async def url(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    listen = "rs://127.0.0.1:0" if request.param == "rs" else "ws://127.0.0.1:0/ws"
    async with wamp_anyio.start_router([listen]) as router:  # the router, whichever driver
        yield router.urls[0]


async def total(*first: int, chunks: wamp.Chunks, **named: int) -> list[int]:
    """The sum of every chunk's args, and how many chunks there were."""
    result, count = sum(first) + sum(named.values()), 1
    async for args, kwargs in chunks:
        result += sum(args) + sum(kwargs.values())
        count += 1
    return [result, count]


async def test_chunks_reach_the_handler_in_order_and_the_result_comes_back(url: str) -> None:
    seen: list[Any] = []

    async def record(*first: Any, chunks: wamp.Chunks) -> int:
        seen.append(list(first))
        async for chunk in chunks:
            seen.append(chunk.args)
        return len(seen)

    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(url) as callee, wamp.connect(url) as caller:
            await callee.register(total, "com.sum")
            await callee.register(record, "com.record")
            async with caller.open_call("com.sum", 1, 2) as call:
                assert await call.send(3)
                assert await call.send(b=4)
                assert await call.finish(5) == [15, 4]
            async with caller.open_call("com.record", "a") as call:
                for i in range(200):
                    await call.send(i)
                assert await call.finish("z") == 202
            assert seen == [["a"], *([i] for i in range(200)), ["z"]]
            # an ordinary call to a handler that takes chunks: no further chunks
            assert await caller.call("com.sum", 1, 2) == [3, 1]
            # a finished call takes no more chunks
            with pytest.raises(wc.LocalProtocolError, match="finished"):
                await call.send(1)


async def test_the_callee_may_answer_before_the_last_chunk(url: str) -> None:
    async def first_only(x: int, *, chunks: wamp.Chunks) -> int:
        return x * 10

    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(url) as callee, wamp.connect(url) as caller:
            await callee.register(first_only, "com.first")
            async with caller.open_call("com.first", 4) as call:
                with anyio.fail_after(5):
                    while await call.send(5):  # True until the answer has arrived
                        await anyio.sleep(0.01)
                assert await call.finish(6) == 40


async def test_a_handler_without_chunks_refuses_a_progressive_invocation(url: str) -> None:
    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(url) as callee, wamp.connect(url) as caller:
            await callee.register(lambda *a: sum(a), "com.plain")
            async with caller.open_call("com.plain", 1) as call:
                await call.send(2)  # nothing lost silently: the call fails
                with pytest.raises(wc.ApplicationError) as info:
                    await call.finish(3)
            assert info.value.error == wc.ApplicationError.INVALID_ARGUMENT
            assert "chunks" in str(info.value)
            assert await caller.call("com.plain", 1, 2) == 3  # an ordinary call still works


async def test_leaving_the_block_early_cancels_the_invocation(url: str) -> None:
    cancelled = anyio.Event()
    got: list[Any] = []

    async def slow(*first: int, chunks: wamp.Chunks) -> int:
        try:
            async for args, _ in chunks:
                got.append(args)
            return 0
        except anyio.get_cancelled_exc_class():
            cancelled.set()
            raise

    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(url) as callee, wamp.connect(url) as caller:
            await callee.register(slow, "com.slow")
            with pytest.raises(RuntimeError, match="changed my mind"):
                async with caller.open_call("com.slow", 1) as call:
                    await call.send(2)
                    raise RuntimeError("changed my mind")
            with anyio.fail_after(5):
                await cancelled.wait()  # the router sent INTERRUPT for the CANCEL
            assert got == [[2]]


async def test_a_callee_that_falls_behind_cancels_instead_of_growing(url: str) -> None:
    release = anyio.Event()

    async def stuck(*first: int, chunks: wamp.Chunks) -> int:
        await release.wait()  # never reads the chunks
        return 0

    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(url) as callee, wamp.connect(url) as caller:
            await callee.register(stuck, "com.stuck")
            async with caller.open_call("com.stuck", 0) as call:
                sent = 0
                while sent <= MAX_QUEUED_CHUNKS + 1 and await call.send(sent):
                    sent += 1
                with pytest.raises(wc.ApplicationError) as info:
                    await call.finish()
            assert info.value.error == wc.ApplicationError.CANCELED
            assert "fell behind" in str(info.value)


async def test_progressive_results_while_sending_chunks(url: str) -> None:
    async def running_total(*first: int, chunks: wamp.Chunks) -> AsyncIterator[int]:
        result = sum(first)
        yield result
        async for args, _ in chunks:
            result += sum(args)
            yield result

    progress: list[int] = []
    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(url) as callee, wamp.connect(url) as caller:
            await callee.register(running_total, "com.running")
            options = wc.CallOptions(on_progress=progress.append)
            async with caller.open_call("com.running", 1, options=options) as call:
                await call.send(2)
                await call.send(3)
                assert await call.finish(4) == 10
            assert progress == [1, 3, 6]


async def test_crossbar_does_not_announce_the_feature_the_caller_learns_at_once(
    crossbar: CrossbarRouter,
) -> None:
    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(crossbar.rs_url) as caller:
            with pytest.raises(wc.LocalProtocolError, match="progressive_call_invocations"):
                async with caller.open_call("com.sum", 1):
                    pass  # pragma: no cover
            assert await caller.call("wamp.session.count") >= 1  # the session is fine


async def test_a_callee_that_loses_its_session_mid_stream_is_cancelled_at_once(url: str) -> None:
    """Its chunks can no longer come (nor its answer go): the handler is cancelled then, rather
    than seeing the stream end as if complete or waiting until its connection block exits."""
    seen: list[Any] = []
    cancelled = anyio.Event()

    async def reader(*first: int, chunks: wamp.Chunks) -> int:
        try:
            async for args, _ in chunks:
                seen.append(args)
        except anyio.get_cancelled_exc_class():
            cancelled.set()
            raise
        seen.append("complete")  # never: the stream was cut, not finished
        return 0

    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(url) as caller, wamp.connect(url) as callee:
            await callee.register(reader, "com.reader")
            async with caller.open_call("com.reader", 1) as call:
                await call.send(2)
                with anyio.fail_after(5):
                    while not seen:
                        await anyio.sleep(0.01)
                await callee.disconnect()
                with anyio.fail_after(5):
                    await cancelled.wait()  # while the callee's connection block still runs
                await call.send(3)  # (True or False: the router may not know yet)
                with pytest.raises(wc.ApplicationError) as info:
                    await call.finish(4)
            assert info.value.error == wc.ApplicationError.CANCELED
            assert seen == [[2]]


async def test_a_chunk_that_cannot_go_raises_and_the_call_stays_open(url: str) -> None:
    """It was dropped with ``send() -> False`` (the callee then summed a stream with a chunk
    missing), and ``finish()`` of one hung for ever."""
    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(url) as callee, wamp.connect(url) as caller:
            await callee.register(total, "com.chunks.strict")
            async with caller.open_call("com.chunks.strict", 1) as call:
                with pytest.raises(wc.EncodingError):
                    await call.send(object())
                assert await call.send(2)
                with pytest.raises(wc.EncodingError):
                    await call.finish(object())
                assert await call.finish(3) == [6, 3]  # (sum, chunks: none lost)


async def test_results_streamed_back_per_chunk_reach_on_progress_while_sending(url: str) -> None:
    """A callee that answers every chunk with a running total: ``on_progress`` ran only in
    ``finish()``, so past 1024 results the call was cancelled as if the caller fell behind."""

    async def running(first: int, *, chunks: wamp.Chunks) -> AsyncIterator[int]:
        so_far = first
        yield so_far
        async for chunk in chunks:
            so_far += chunk.args[0]
            yield so_far

    seen: list[int] = []
    count = 1500
    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(url) as callee, wamp.connect(url) as caller:
            await callee.register(running, "com.chunks.running")
            options = wc.CallOptions(on_progress=seen.append)
            async with caller.open_call("com.chunks.running", 1, options=options) as call:
                for i in range(count - 2):
                    assert await call.send(1), i
                    if i % 100 == 0:
                        await anyio.sleep(0.01)  # (the results come back meanwhile)
                assert await call.finish(1) == count
    assert seen == list(range(1, count))
