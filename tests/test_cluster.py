"""Failover across a two-node Crossbar.io cluster (issue 11; ``cluster.py``), with each driver: a
component with transports [A, B] serves a procedure and a subscription through node A and is
used from node B across the router link; node A is killed (SIGKILL), or shut down gracefully
(SIGTERM: Crossbar 26 closes its connections without a GOODBYE, so the pending call ends with
``wamp.close.transport_lost`` here too); the component's pending call
fails at once, it rejoins through B within its backoff, its registration and subscription come
back there, and B's sessions use them again. The failover time is printed (``-s``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import anyio
import pytest

import wamp_anyio as wamp
import wamp_core as wc
from cluster import CrossbarCluster
from crossbar import crossbar_executable

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.usefixtures("wamp"),
    pytest.mark.crossbar,
    pytest.mark.skipif(not crossbar_executable().exists(), reason="crossbar is not installed"),
]


async def _until(check: Callable[[], Any], timeout: float = 15) -> Any:
    """``check()``'s value once it stops raising ApplicationError (the link forwards a new
    registration after tens of milliseconds, a new link after a second or two)."""
    with anyio.fail_after(timeout):
        while True:
            try:
                return await check()
            except wc.ApplicationError:
                await anyio.sleep(0.05)


@pytest.mark.parametrize("how", ["killed", "shut down"])
async def test_a_component_fails_over_to_the_second_node(how: str) -> None:
    cluster = CrossbarCluster()
    await anyio.to_thread.run_sync(cluster.start)
    try:
        retry = {"initial_retry_delay": 0.2, "max_retry_delay": 1.0, "retry_delay_jitter": 0}
        component = wamp.Component(transports=[{"url": cluster.a.rs_url, **retry},
                                               {"url": cluster.b.rs_url, **retry}])  # fmt: skip
        news: list[Any] = []
        component.register("com.cluster.work")(lambda x: ["served", x])
        component.subscribe("com.cluster.news")(news.append)
        with anyio.fail_after(90):
            async with wamp.connect(cluster.b.rs_url) as on_b, component:
                first = await component.wait_ready()
                assert first.transport.url == cluster.a.rs_url
                # across the link: B's session calls the component on A, and publishes to it
                assert await _until(lambda: on_b.call("com.cluster.work", 1)) == ["served", 1]
                await on_b.register(anyio.sleep_forever, "com.cluster.slow")
                with anyio.fail_after(15):  # forwarded to A after some tens of milliseconds
                    while await first.call("wamp.registration.lookup", "com.cluster.slow") is None:
                        await anyio.sleep(0.05)
                pending: list[BaseException] = []

                async def slow_call() -> None:
                    try:
                        await first.call("com.cluster.slow")
                    except wc.SessionClosed as exc:
                        pending.append(exc)

                async with anyio.create_task_group() as tg:
                    tg.start_soon(slow_call)
                    await anyio.sleep(0.5)  # the call is at B's callee by now
                    killed = time.monotonic()
                    if how == "killed":
                        cluster.a.kill()
                    else:  # SIGTERM, then waits for the node to exit
                        tg.start_soon(anyio.to_thread.run_sync, cluster.a.stop)
                        with anyio.fail_after(3):
                            while not pending:
                                await anyio.sleep(0.01)
                assert len(pending) == 1, pending  # reported to the caller, at once
                assert time.monotonic() - killed < 3 or how == "shut down"  # (the stop waits)
                while (second := await component.wait_ready()) is first:
                    await anyio.sleep(0.02)
                assert second.transport.url == cluster.b.rs_url
                assert await _until(lambda: on_b.call("com.cluster.work", 2)) == ["served", 2]
                failover = time.monotonic() - killed
                await on_b.publish("com.cluster.news", "after",
                                   options=wc.PublishOptions(acknowledge=True))  # fmt: skip
                while "after" not in news:
                    await anyio.sleep(0.02)
        print(f"failover: {failover:.2f} s from node A {how} to a call served through node B")
        assert failover < 10
    finally:
        await anyio.to_thread.run_sync(cluster.stop)
