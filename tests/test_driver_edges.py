"""Edges of the drivers' component and session that no test held (a mutation review: each
test fails when the one line it guards is changed): which error ends a run, a component's
``check_types``, a progressive call's cancel mode when its caller falls behind, a
subscription's bound on a burst, a failing event handler, ``stop()`` in a backoff,
``RegisterOptions(details_arg=...)``."""

from __future__ import annotations

import socket
from typing import Any

import anyio
import pytest

import wamp_anyio as wamp
import wamp_core as wc
from wamp_core.driver import MAX_QUEUED_RESULTS

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("wamp")]

TIMEOUT = 30


async def test_mains_error_is_the_runs_not_a_later_leave_listeners(embedded: Any) -> None:
    async def main(session: wamp.Session) -> None:
        raise ValueError("bug in main")

    component = wamp.Component(transports=embedded.rs_url, main=main)

    @component.on_leave
    def left(session: wamp.Session, details: Any) -> None:
        raise RuntimeError("bug in a leave listener")

    with anyio.fail_after(TIMEOUT), pytest.raises(ValueError, match="bug in main"):
        await component.run()


async def test_component_register_check_types_refuses_wrong_arguments(embedded: Any) -> None:
    async def main(session: wamp.Session) -> str:
        assert await session.call("com.edges.double", 4) == 8
        with pytest.raises(wc.ApplicationError) as info:
            await session.call("com.edges.double", "x")
        return info.value.error

    component = wamp.Component(transports=embedded.rs_url, main=main)

    @component.register("com.edges.double", check_types=True)
    def double(n: int) -> int:
        return n * 2

    with anyio.fail_after(TIMEOUT):
        assert await component.run() == wc.ApplicationError.INVALID_ARGUMENT


async def _until(condition: Any, timeout: float = 5) -> None:
    with anyio.fail_after(timeout):
        while not condition():
            await anyio.sleep(0.01)


async def test_a_burst_queues_at_most_five_times_the_queue_size(embedded: Any) -> None:
    """Subscription's docs: a queue of ``queue_size``, plus the rest of the read that filled
    it up to four times its size more; the handler holds one event. 100 events published in
    one go to a blocked handler with queue_size=2: at most 1 + 2 + 8 are handled."""
    topic = "com.edges.burst"
    size = 2
    got: list[int] = []
    release = anyio.Event()
    with anyio.fail_after(TIMEOUT):
        async with (
            wamp.connect(embedded.rs_url) as subscriber,
            wamp.connect(embedded.rs_url) as publisher,
        ):

            async def slow(i: int) -> None:
                await release.wait()
                got.append(i)

            subscription = await subscriber.subscribe(
                slow, topic, wc.SubscribeOptions(queue_size=size)
            )
            for i in range(100):
                publisher.publish(topic, i)  # sent at once: the subscriber reads them in bursts
            await publisher.call("wamp.session.count")  # (a round trip after the publishes)
            most = 1 + size + 4 * size
            # (held back until every event beyond the bound is dropped: a loaded machine may
            # read late, never more)
            await _until(lambda: subscription.dropped >= 100 - most, timeout=10)
            release.set()
            await _until(lambda: len(got) + subscription.dropped == 100)
            assert got == sorted(got)
            assert len(got) <= most, (len(got), subscription.dropped)


async def test_a_caller_behind_the_results_cancels_in_the_options_mode(embedded: Any) -> None:
    """Falling behind MAX_QUEUED_RESULTS cancels the call in ``options.cancel_mode``: with
    "skip" the callee is not interrupted and runs to its end."""
    proc = "com.edges.flood"
    interrupted, finished = anyio.Event(), anyio.Event()
    with anyio.fail_after(TIMEOUT):
        async with (
            wamp.connect(embedded.rs_url) as callee,
            wamp.connect(embedded.rs_url) as caller,
        ):

            async def flood() -> Any:
                try:
                    for i in range(3 * MAX_QUEUED_RESULTS):
                        yield i
                        await anyio.sleep(0)
                except BaseException:
                    interrupted.set()
                    raise
                finished.set()

            await callee.register(flood, proc)
            options = wc.CallOptions(cancel_mode="skip")
            with pytest.raises(wc.ApplicationError) as info:
                async with caller.iter_call(proc, options=options) as results:
                    async for _ in results:
                        await finished.wait()  # a consumer that reads nothing meanwhile
            assert info.value.error == wc.ApplicationError.CANCELED
            with anyio.fail_after(5):
                await finished.wait()
            assert not interrupted.is_set()


async def test_an_event_handler_error_is_logged_and_the_next_event_handled(
    embedded: Any, caplog: pytest.LogCaptureFixture
) -> None:
    topic = "com.edges.failing"
    got: list[int] = []
    with anyio.fail_after(TIMEOUT):
        async with (
            wamp.connect(embedded.rs_url) as subscriber,
            wamp.connect(embedded.rs_url) as publisher,
        ):

            def handler(i: int) -> None:
                got.append(i)
                if i == 0:
                    raise ValueError("bug in an event handler")

            await subscriber.subscribe(handler, topic)
            for i in range(3):
                await publisher.publish(topic, i, options=wc.PublishOptions(acknowledge=True))
            await _until(lambda: len(got) == 3)
    assert got == [0, 1, 2]
    assert "bug in an event handler" in caplog.text


async def test_stop_during_the_backoff_fires_no_connectfailure() -> None:
    with socket.socket() as probe:  # a port nothing listens on: connections are refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    failures: list[BaseException] = []
    component = wamp.Component(
        transports={
            "url": f"rs://127.0.0.1:{port}",
            "initial_retry_delay": 10,
            "retry_delay_jitter": 0,
        },
    )
    component.on_connectfailure(lambda comp, error: failures.append(error))
    with anyio.fail_after(TIMEOUT):
        async with anyio.create_task_group() as tg:
            tg.start_soon(component.run)
            await _until(lambda: len(failures) == 1)  # the first attempt was refused
            await anyio.sleep(0.1)  # (now in the 10 s backoff)
            await component.stop()
    assert len(failures) == 1, failures


async def test_register_options_details_arg_passes_the_call_details(embedded: Any) -> None:
    proc = "com.edges.details"
    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(embedded.rs_url) as session:

            def handler(x: int, info: Any = None) -> str:
                return type(info).__name__

            await session.register(handler, proc, wc.RegisterOptions(details_arg="info"))
            assert await session.call(proc, 1) == "CallDetails"
