"""Testing your own component with the plugin's fixtures (installed with wamp-py): no router to
install, no socket. Run it like any test file::

    pytest examples/test_my_component.py              # an in-process router, in memory
    pytest examples/test_my_component.py --wamp-router ws://127.0.0.1:8080/ws   # a real one

It needs anyio's pytest plugin (installed with anyio) for the async tests. From a checkout of
wamp-py itself add ``-p wamp``: its own pytest configuration turns the plugin off for the
library's suite (``.venv/bin/python -m pytest -p wamp examples/test_my_component.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import pytest

import wamp_anyio
import wamp_core as wc

pytestmark = [pytest.mark.anyio, pytest.mark.wamp_router]


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> Any:
    return request.param


# -- the component under test ----------------------------------------------------------------


def build(make: Callable[..., wamp_anyio.Component]) -> wamp_anyio.Component:
    """The application's component (in an application: a module-level ``Component``)."""
    component = make()

    @component.register("com.example.add2")
    def add2(a: int, b: int) -> int:
        return a + b

    @component.subscribe("com.example.orders")
    async def order(item: str, quantity: int = 1) -> None:
        seen.append((item, quantity))

    return component


seen: list[tuple[str, int]] = []


# -- its tests ---------------------------------------------------------------------------------


async def test_add2_answers(
    wamp_component: Callable[..., wamp_anyio.Component], wamp_session: wamp_anyio.Session
) -> None:
    async with build(wamp_component) as component:
        await component.wait_ready()
        assert await wamp_session.call("com.example.add2", 2, 3) == 5


async def test_orders_arrive(
    wamp_component: Callable[..., wamp_anyio.Component], wamp_session: wamp_anyio.Session
) -> None:
    seen.clear()
    async with build(wamp_component) as component:
        await component.wait_ready()
        await wamp_session.publish(
            "com.example.orders", "tea", quantity=2, options=wc.PublishOptions(acknowledge=True)
        )
        with anyio.fail_after(10):  # the event travels through the router on its own
            while not seen:
                await anyio.sleep(0.01)
        assert seen == [("tea", 2)]
