"""Load (issue 11): 200 sessions in one process against Crossbar.io, each registering,
subscribing, calling another session's procedure and receiving a broadcast, with each driver;
afterwards the process's tasks and file descriptors are back to where they were."""

from __future__ import annotations

import gc
import os
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
