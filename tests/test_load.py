"""Load (issue 11): 200 sessions in one process against Crossbar.io, each registering,
subscribing, calling another session's procedure and receiving a broadcast, with each driver;
afterwards the process's tasks and file descriptors are back to where they were. And a burst
of events larger than a subscription's queue, published by another process as fast as it can,
reaches a quick handler whole."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import time
from typing import Any

import anyio
import pytest

import wamp_anyio as wamp
import wamp_core as wc
from crossbar import CrossbarRouter

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("wamp")]

SESSIONS = 200


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def test_two_hundred_sessions_in_one_process(crossbar: CrossbarRouter) -> None:
    gc.collect()
    tasks, fds = len(anyio.get_running_tasks()), _open_fds()
    got: list[list[Any]] = [[] for _ in range(SESSIONS)]
    sessions: dict[int, Any] = {}
    all_joined, done = anyio.Event(), anyio.Event()

    async def one(i: int) -> None:  # each session lives in its own task, start to end
        async with wamp.connect(crossbar.rs_url) as session:
            await session.register(lambda x, i=i: (i, x), f"com.load.p{i}")
            await session.subscribe(got[i].append, "com.load.all")
            sessions[i] = session
            if len(sessions) == SESSIONS:
                all_joined.set()
            await done.wait()

    with anyio.fail_after(90):
        async with anyio.create_task_group() as tg:
            for i in range(SESSIONS):
                tg.start_soon(one, i)
            await all_joined.wait()
            answers: dict[int, Any] = {}

            async def call_next(i: int) -> None:
                answers[i] = await sessions[i].call(f"com.load.p{(i + 1) % SESSIONS}", i)

            async with anyio.create_task_group() as calls:
                for i in range(SESSIONS):
                    calls.start_soon(call_next, i)
            assert answers == {i: [(i + 1) % SESSIONS, i] for i in range(SESSIONS)}
            options = wc.PublishOptions(acknowledge=True, exclude_me=False)
            await sessions[0].publish("com.load.all", "hi", options=options)
            while sum(map(len, got)) < SESSIONS:
                await anyio.sleep(0.05)
            assert all(g == ["hi"] for g in got)
            done.set()
    gc.collect()
    await anyio.sleep(0.1)
    assert len(anyio.get_running_tasks()) == tasks
    assert _open_fds() == fds


_PUBLISHER = """
import sys, anyio, wamp_anyio
async def main():
    async with wamp_anyio.connect(sys.argv[1]) as session:
        for i in range(int(sys.argv[3])):
            session.publish(sys.argv[2], i)  # (not awaited: as fast as the link takes them)
        await session.publish(sys.argv[2], -1, options=wamp_anyio.PublishOptions(acknowledge=True))
anyio.run(main)
"""


@pytest.mark.parametrize("subscriptions", [1, 3])
async def test_a_burst_larger_than_the_queue_reaches_a_quick_handler_whole(
    router: Any, subscriptions: int
) -> None:
    """(A review of the benchmarks, which had raised the queue for theirs.) With the default
    queue (1024 events) a burst of 2000 lost a quarter to scheduling alone: one read brings
    hundreds of events or thousands, and the handler's task took 64 per turn. The reader
    lets quick handlers catch up (each crowded one: several subscriptions on one session), and
    the rest of a read that fills a queue is kept."""
    count = 10_000
    topic = f"com.load.burst.{os.getpid()}.{subscriptions}"
    got: list[list[int]] = [[] for _ in range(subscriptions)]
    with anyio.fail_after(60):
        async with wamp.connect(router.rs_url) as subscriber:
            subs = [await subscriber.subscribe(each.append, topic) for each in got]
            assert subs[0].options.queue_size == 1024
            publisher = await anyio.run_process(
                [sys.executable, "-c", _PUBLISHER, router.rs_url, topic, str(count)],
                check=False, stderr=subprocess.STDOUT,
            )  # fmt: skip
            assert publisher.returncode == 0, publisher.stdout.decode()
            pairs = list(zip(got, subs, strict=True))
            while any(len(each) + sub.dropped < count + 1 for each, sub in pairs):
                await anyio.sleep(0.05)
    assert [sub.dropped for sub in subs] == [0] * subscriptions
    assert all(each == [*range(count), -1] for each in got)


# The callee has a session of its own: a YIELD sent on the flooding session would wait behind
# every PUBLISH before it (one connection keeps its order), seconds of them once the router
# falls behind (CI once: a call unanswered for 2 s). The flood awaits every 20th publish, so
# it slows down to what the router takes instead of queueing without end.
_FLOOD = """
import sys, anyio, wamp_anyio
async def main():
    url, topic = sys.argv[1], sys.argv[2]
    async with wamp_anyio.connect(url) as session, wamp_anyio.connect(url) as callee:
        await callee.register(lambda: "here", topic + ".proc")
        print("ready", flush=True)
        until, i = anyio.current_time() + float(sys.argv[3]), 0
        while anyio.current_time() < until:
            for _ in range(19):
                session.publish(topic, i, "x" * 20)
                i += 1
            await session.publish(topic, i, "x" * 20)
            i += 1
            await anyio.sleep(0.001)
anyio.run(main)
"""


@pytest.mark.parametrize("seconds", [0.0002, 0.002])
async def test_a_slow_handler_falling_behind_leaves_the_sessions_calls_answered(
    embedded: Any, seconds: float
) -> None:
    """(A review of the burst change.) A plain handler of 0.2 ms or 2 ms per event, flooded
    with up to 20,000 events/s: it drops the newer events, and the same session's calls are
    answered meanwhile (within 20 ms here). The first form of the burst change made the reader
    wait for it after every read: calls took up to 2.6 s. Then (CI, twice) the asyncio reader
    took one read per turn of the loop while the handler held each turn for 64 events: the
    2 ms handler's calls went unanswered for 8 s and more, the 0.2 ms one's on a loaded
    machine. Through the embedded router only: Crossbar.io, at 20,000 events/s, is itself too
    busy to answer a call soon."""
    topic = f"com.load.slow.{os.getpid()}"
    handled = [0]

    def slow(_i: int, _text: str) -> None:
        handled[0] += 1
        time.sleep(seconds)

    with anyio.fail_after(60):
        async with (
            wamp.connect(embedded.rs_url) as session,
            await anyio.open_process(
                [sys.executable, "-c", _FLOOD, embedded.rs_url, topic, "20"]
            ) as flood,
        ):
            subscription = await session.subscribe(slow, topic)
            assert flood.stdout is not None
            assert (await flood.stdout.receive()).startswith(b"ready")
            for _ in range(10):
                with anyio.fail_after(2):
                    assert await session.call(topic + ".proc") == "here"
                await anyio.sleep(0.1)
            assert subscription.dropped > 0 and handled[0] > 0
            flood.terminate()


async def test_a_slow_handler_holds_the_loop_for_short_turns(embedded: Any) -> None:
    """A handler of 2 ms per event takes its turns of about 5 ms once it is seen to be slow,
    not 64 events (128 ms: every other task of the process, its session's reader among them,
    waited that long each turn)."""
    topic = f"com.load.turns.{os.getpid()}"
    handled = [0]
    runs: list[int] = []  # events handled between two turns of another task

    def slow(_i: int) -> None:
        handled[0] += 1
        time.sleep(0.002)

    async def watch() -> None:
        seen = handled[0]
        while handled[0] < 400:
            await anyio.sleep(0)
            runs.append(handled[0] - seen)
            seen = handled[0]

    with anyio.fail_after(30):
        async with (
            wamp.connect(embedded.rs_url) as subscriber,
            wamp.connect(embedded.rs_url) as publisher,
        ):
            await subscriber.subscribe(slow, topic)
            for i in range(400):
                publisher.publish(topic, i)
            await publisher.publish(topic, -1, options=wc.PublishOptions(acknowledge=True))
            await watch()
    assert handled[0] >= 400
    assert max(runs[len(runs) // 2 :]) <= 8, runs
