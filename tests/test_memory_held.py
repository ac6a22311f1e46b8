"""What stays in memory after one large message, with each driver and the embedded router in
the same process: nothing, once it is handled and sent. The writers (client and router) kept
the part of a large write the kernel did not take at once, the event and plain-procedure loops
the last payload they handled, each until the next message through them (which may never
come). Measured with tracemalloc around the large message and some small traffic after it."""

from __future__ import annotations

import gc
import tracemalloc
from typing import Any

import anyio
import pytest

import wamp_anyio as wamp
import wamp_core as wc
from wamp_anyio import start_router

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("wamp")]

BIG = 8 << 20
#: What may stay of a BIG message: a quarter of it (caches, buffers of small messages).
HELD_AT_MOST = 2 << 20


async def test_nothing_of_a_large_message_stays_once_it_is_handled() -> None:
    # (TCP on loopback: the kernel takes a large write in parts, as on a network)
    async with start_router(["rs://127.0.0.1:0"]) as router:
        url = router.urls[0]
        async with wamp.connect(url) as a, wamp.connect(url) as b:
            tracemalloc.start()
            try:
                with anyio.fail_after(20):
                    await _large_then_small(a, b)
            finally:
                tracemalloc.stop()


async def _large_then_small(a: Any, b: Any) -> None:
    sizes: list[int] = []
    await a.subscribe(lambda text: sizes.append(len(text)), "com.memory.big")
    await a.register(lambda n: "y" * n, "com.memory.make")  # a plain function

    async def echo(value: int) -> int:
        return value

    await a.register(echo, "com.memory.echo")

    async def check(step: str) -> None:
        for i in range(20):  # small traffic afterwards, on the same connections
            assert await b.call("com.memory.echo", i) == i
        await anyio.sleep(0.1)
        gc.collect()
        held = tracemalloc.get_traced_memory()[0]
        assert held < HELD_AT_MOST, f"{held >> 10} KiB held after {step}"

    await b.publish("com.memory.big", "x" * BIG, options=wc.PublishOptions(acknowledge=True))
    while not sizes:
        await anyio.sleep(0.01)
    await check("a large event")
    assert len(await b.call("com.memory.make", BIG)) == BIG
    await check("a large result")
    assert sizes == [BIG]
