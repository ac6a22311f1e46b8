"""trio's rule for async calls, on every driver through Crossbar.io: an await yields to the
scheduler (an awaited plain publish, a progressive result already here), and a caller whose
scope is already cancelled sends nothing (its callee ran, whatever CANCEL followed). From a
review of wamp_trio against wamp_anyio."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import anyio
import pytest

import wamp_anyio as wamp
import wamp_core as wc
from crossbar import CrossbarRouter

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("wamp")]

TIMEOUT = 20


def _transport(crossbar: CrossbarRouter) -> Any:
    return {"type": "rawsocket", "url": crossbar.rs_url, "serializer": "msgpack"}


async def test_a_loop_of_awaited_publishes_lets_other_tasks_run(crossbar: CrossbarRouter) -> None:
    ticks = 0
    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(_transport(crossbar)) as session:

            async def ticker() -> None:
                nonlocal ticks
                while True:
                    ticks += 1
                    await anyio.sleep(0)

            async with anyio.create_task_group() as tg:
                tg.start_soon(ticker)
                await anyio.sleep(0)
                before = ticks
                for i in range(200):
                    await session.publish("com.test.checkpoints.topic", i)
                assert ticks - before >= 100  # (it ran 0 times: the loop never yielded)
                with anyio.move_on_after(0.05) as scope:  # a deadline is seen too
                    while True:
                        await session.publish("com.test.checkpoints.topic", 0)
                assert scope.cancelled_caught
                tg.cancel_scope.cancel()


async def test_a_call_in_a_cancelled_scope_sends_nothing(crossbar: CrossbarRouter) -> None:
    ran: list[str] = []
    proc = "com.test.checkpoints.pay"
    with anyio.fail_after(TIMEOUT):
        async with (
            wamp.connect(_transport(crossbar)) as callee,
            wamp.connect(_transport(crossbar)) as caller,
        ):
            await callee.register(ran.append, proc)
            with anyio.CancelScope() as scope:
                scope.cancel()
                await caller.call(proc, "100 EUR")
            with anyio.CancelScope() as scope:
                scope.cancel()
                async with caller.iter_call(proc, "200 EUR") as results:
                    async for _ in results:
                        pass
            with anyio.CancelScope() as outer:
                outer.cancel()
                with anyio.CancelScope():  # (an inner scope of a cancelled one)
                    await caller.call(proc, "300 EUR")
            with anyio.move_on_after(0):  # (a deadline already past)
                await caller.call(proc, "400 EUR")
            assert await caller.call(proc, "check") is None  # (the one that should run)
            with anyio.CancelScope() as outer:
                outer.cancel()
                with anyio.CancelScope(shield=True):  # (the shield: this one goes)
                    await caller.call(proc, "shielded")
            assert ran == ["check", "shielded"]


async def test_progressive_results_already_here_still_yield(crossbar: CrossbarRouter) -> None:
    proc = "com.test.checkpoints.count"
    ticks = 0

    async def count(n: int) -> Any:
        for i in range(n):
            yield i

    with anyio.fail_after(TIMEOUT):
        async with (
            wamp.connect(_transport(crossbar)) as callee,
            wamp.connect(_transport(crossbar)) as caller,
        ):
            await callee.register(count, proc)

            async def ticker() -> None:
                nonlocal ticks
                while True:
                    ticks += 1
                    await anyio.sleep(0)

            got = []
            async with caller.iter_call(proc, 50) as results:
                # let every result arrive first
                await anyio.sleep(0.5)
                async with anyio.create_task_group() as tg:
                    tg.start_soon(ticker)
                    await anyio.sleep(0)
                    before = ticks
                    async for result in results:
                        got.append(result.args)
                    assert ticks - before >= 25
                    tg.cancel_scope.cancel()
            assert len(got) == 50 and got[-1] == [49]
            assert all(isinstance(x, list) for x in got)


async def test_a_tls_connect_timeout_chains_a_timeout_error() -> None:
    """The same cause on every driver (``wamp_trio`` chained ``trio.TooSlowError``)."""
    with socket.socket() as mute:
        mute.bind(("127.0.0.1", 0))
        mute.listen(8)
        port = mute.getsockname()[1]
        transport = {
            "url": f"rss://127.0.0.1:{port}",
            "endpoint": {"type": "tcp", "host": "127.0.0.1", "port": port, "timeout": 0.3},
        }
        with anyio.fail_after(TIMEOUT), pytest.raises(wc.TransportError, match="timed out") as info:
            async with wamp.connect(transport):
                raise AssertionError("connected")
        assert isinstance(info.value.__cause__, TimeoutError)


async def test_a_call_from_another_threads_loop_is_refused_unsent(
    crossbar: CrossbarRouter, anyio_backend: str
) -> None:
    """(A review.) A session is its loop's: called from a task of another thread's loop, it
    sent the CALL (the callee ran), then failed on a future of the wrong loop, or not; a
    cancelled caller there sent it too. Refused now, before anything is sent."""
    if anyio_backend != "asyncio" or wamp.__name__ != "wamp_anyio":
        pytest.skip("asyncio: a loop per thread")
    ran: list[str] = []
    proc = "com.test.checkpoints.other_loop"

    def from_another_loop(caller: Any, cancelled: bool) -> BaseException | None:
        async def call() -> None:
            with anyio.CancelScope() as scope:
                if cancelled:
                    scope.cancel()
                await caller.call(proc, f"cancelled={cancelled}")

        try:
            asyncio.run(call())
        except RuntimeError as exc:
            return exc
        return None

    with anyio.fail_after(TIMEOUT):
        async with (
            wamp.connect(_transport(crossbar)) as callee,
            wamp.connect(_transport(crossbar)) as caller,
        ):
            await callee.register(ran.append, proc)
            for cancelled in (False, True):
                refused = await anyio.to_thread.run_sync(from_another_loop, caller, cancelled)
                assert "another thread's event loop" in str(refused), refused
            assert await caller.call(proc, "check") is None  # (its own loop: it goes)
            assert ran == ["check"]
