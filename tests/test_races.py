"""Races a stress review found (seeded stress scripts, every driver): each scenario here
replays one deterministically, through Crossbar.io and through the embedded router."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest

import wamp_anyio
import wamp_anyio as wamp
import wamp_core as wc
from crossbar import CrossbarRouter

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("wamp")]

TIMEOUT = 20
_counter = iter(range(1_000_000))


def _uri(name: str) -> str:
    return f"com.test.races.{name}.{next(_counter)}"


@pytest.fixture(params=["crossbar", "embedded"])
async def url(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    if request.param == "crossbar":
        crossbar = request.getfixturevalue("crossbar")
        assert isinstance(crossbar, CrossbarRouter)
        yield crossbar.ws_url
        return
    async with wamp_anyio.start_router(["ws://127.0.0.1:0/ws"]) as router:
        yield router.urls[0]


async def test_a_retry_loop_over_wait_ready_gets_the_next_session(url: str) -> None:
    """The router ends the Component's session (here wamp.session.kill); on WebSocket the
    transport closes a little later. A loop of wait_ready() and call() that retries on
    SessionClosed spun on the dead session without yielding (the reader never ran, so the
    session never closed and the component never reconnected): it gets the next session."""
    procedure = _uri("echo")
    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(url) as admin:
            await admin.register(lambda x: x, procedure)
            transport = {"url": url, "initial_retry_delay": 0.05, "retry_delay_jitter": 0,
                         "options": {"auto_ping_interval": 0}}  # fmt: skip
            async with wamp.Component(transports=transport) as component:
                session = await component.wait_ready()
                assert await session.call(procedure, 1) == 1
                await admin.call("wamp.session.kill", session.session_id)
                refused = 0
                for _ in range(1000):  # (a deadline cannot fire while nothing yields)
                    ready = await component.wait_ready()
                    try:
                        assert await ready.call(procedure, 2) == 2
                        break
                    except wc.SessionClosed:
                        refused += 1
                else:
                    raise AssertionError("1000 SessionClosed in a row: the loop never yielded")
                assert ready is not session and refused < 10


@pytest.mark.parametrize("kind", ["plain", "async"])
async def test_an_invocation_that_came_before_unregistered_still_runs(kind: str) -> None:
    """The CALL goes out, the callee's UNREGISTER right behind it: the router may route the
    call first (then its INVOCATION reaches the callee before UNREGISTERED and runs, as
    ``unregister()`` promises) or refuse it (``no_such_procedure``); the callee itself never
    answers ``no_such_registration`` (it looked the registration up only when the handler's
    turn came, after the UNREGISTERED in the same read)."""

    def plain(x: int) -> int:
        return x

    async def coro(x: int) -> int:
        return x

    outcomes: list[Any] = []
    with anyio.fail_after(TIMEOUT):
        async with (
            wamp_anyio.start_router(["rs://127.0.0.1:0"]) as router,
            wamp.connect(router.urls[0]) as callee,
            wamp.connect(router.urls[0]) as caller,
        ):
            for i in range(50):
                procedure = _uri("unreg")
                registration = await callee.register(plain if kind == "plain" else coro, procedure)

                async def call(procedure: str = procedure, i: int = i) -> None:
                    try:
                        outcomes.append(await caller.call(procedure, i))
                    except wc.ApplicationError as exc:
                        outcomes.append(exc.error)

                async with anyio.create_task_group() as tg:
                    tg.start_soon(call)
                    await anyio.sleep(0)  # the CALL goes out
                    await registration.unregister()  # the UNREGISTER right behind it
    assert "wamp.error.no_such_registration" not in outcomes, outcomes
    assert set(outcomes) <= set(range(50)) | {"wamp.error.no_such_procedure"}
