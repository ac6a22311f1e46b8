"""Router restarts with traffic in flight (issue 11), with each driver: a component calls in a
loop and publishes in a loop through its own Crossbar.io while a second component serves the
procedure and receives the events; the router is killed (SIGKILL) or shut down (SIGTERM) and
started again on the same ports. Every call either returns the right value or fails with
``SessionClosed`` (none hangs, none is reported as success without a value), both components
come back within their backoff, restore their registration and subscription, and the traffic
resumes."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

import wamp_anyio as wamp
import wamp_core as wc
from crossbar import CrossbarRouter, free_tcp_ports

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("wamp"), pytest.mark.crossbar]


@pytest.mark.parametrize("how", ["kill", "stop"])
async def test_traffic_survives_a_router_restart(how: str) -> None:
    router = CrossbarRouter()
    router.rs_port, router.ws_port, router.wss_port, router.rss_port = free_tcp_ports(4)
    await anyio.to_thread.run_sync(router.start)
    retry = {"initial_retry_delay": 0.2, "max_retry_delay": 0.5, "retry_delay_jitter": 0}
    transport = {"url": router.rs_url, **retry}
    events: list[int] = []
    outcomes = {"ok": 0, "closed": 0}
    server = wamp.Component(transports=transport)
    server.register("com.restart.echo")(lambda x: x)
    server.subscribe("com.restart.tick")(events.append)
    client = wamp.Component(transports=transport)
    stop = anyio.Event()

    async def traffic(session: Any) -> None:
        i = 0
        while not stop.is_set() and not session.closed:
            i += 1
            try:
                assert await session.call("com.restart.echo", i) == i
                await session.publish("com.restart.tick", i)
                outcomes["ok"] += 1
            except wc.SessionClosed:
                outcomes["closed"] += 1
                return
            except wc.ApplicationError as exc:  # the server not (re)registered yet
                assert exc.error == wc.ApplicationError.NO_SUCH_PROCEDURE
                await anyio.sleep(0.02)

    try:
        with anyio.fail_after(120):
            async with server, client, anyio.create_task_group() as tg:
                first = await client.wait_ready()
                await server.wait_ready()
                tg.start_soon(traffic, first)
                while outcomes["ok"] < 20:
                    await anyio.sleep(0.01)
                await anyio.to_thread.run_sync(router.kill if how == "kill" else router.stop)
                await anyio.to_thread.run_sync(lambda: router.start(same_ports=True))
                while (second := await client.wait_ready()) is first:
                    await anyio.sleep(0.02)
                before, seen = outcomes["ok"], len(events)
                tg.start_soon(traffic, second)
                while outcomes["ok"] < before + 20 or len(events) <= seen:
                    await anyio.sleep(0.01)
                stop.set()
        assert outcomes["closed"] <= 1  # the one call in flight at the restart, if any
    finally:
        await anyio.to_thread.run_sync(router.stop)
