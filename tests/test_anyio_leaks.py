"""No task, socket or memory leak across many connect/leave cycles of a Component, under both
anyio backends, against a real Crossbar.io."""

from __future__ import annotations

import gc
import os
import tracemalloc

import anyio
import pytest

import wamp_anyio as wamp
import wamp_core as wc
from crossbar import CrossbarRouter

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("wamp")]

CYCLES = 100


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def _cycle(url: str) -> None:
    async def main(session: wamp.Session) -> None:
        assert await session.call("com.leak.echo", 1) == 1
        await session.publish("com.leak.topic", 1, options=wc.PublishOptions(acknowledge=True))

    component = wamp.Component(main=main, transports=url)
    component.register("com.leak.echo", wc.RegisterOptions(force_reregister=True))(lambda x: x)
    component.subscribe("com.leak.topic")(lambda x: None)
    await component.run()


@pytest.mark.parametrize("kind", ["websocket", "rawsocket"])
async def test_connect_leave_cycles_leak_nothing(crossbar: CrossbarRouter, kind: str) -> None:
    url = crossbar.ws_url if kind == "websocket" else crossbar.rs_url
    with anyio.fail_after(120):
        for _ in range(5):  # warm up caches, imports, the event loop's own state
            await _cycle(url)
        gc.collect()
        tasks, fds = len(anyio.get_running_tasks()), _open_fds()
        tracemalloc.start()
        try:
            before = tracemalloc.take_snapshot()
            for _ in range(CYCLES):
                await _cycle(url)
            gc.collect()
            after = tracemalloc.take_snapshot()
        finally:
            tracemalloc.stop()
    assert len(anyio.get_running_tasks()) == tasks
    assert _open_fds() == fds
    growth = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    # A leaked session (its connection, buffers, tables) costs well over 10 kB a cycle.
    assert growth < CYCLES * 2_000, f"{growth} bytes more after {CYCLES} cycles"
