"""What a type checker sees of the public API: ``mypy --strict`` checks this module with the
rest of the tests (``tools/test.sh``), so a type that turns vaguer fails the check. The
functions also run, against the in-memory router, so they stay true at run time."""

from __future__ import annotations

import sys

import anyio
import pytest

import wamp_anyio
import wamp_trio

if sys.version_info >= (3, 11):
    from typing import assert_type
else:  # pragma: no cover
    from typing_extensions import assert_type

pytestmark = pytest.mark.anyio


async def _anyio_component_session_types(component: wamp_anyio.Component) -> None:
    session = await component.wait_ready()
    assert_type(session, wamp_anyio.Session)
    current = component.session
    assert_type(current, wamp_anyio.Session | None)


async def _trio_component_session_types(component: wamp_trio.Component) -> None:
    async with component as running:
        assert_type(running, wamp_trio.Component)
        assert_type(await running.wait_ready(), wamp_trio.Session)


async def test_a_components_session_is_the_drivers_session() -> None:
    async with wamp_anyio.start_router(["rs://memory/typing"]) as router:
        component = wamp_anyio.Component(transports=router.urls[0])
        async with component as running:
            assert_type(running, wamp_anyio.Component)
            with anyio.fail_after(10):
                await _anyio_component_session_types(running)
            assert isinstance(await running.wait_ready(), wamp_anyio.Session)


async def test_a_trio_components_session_is_the_drivers_session(anyio_backend: str) -> None:
    if anyio_backend != "trio":
        pytest.skip("wamp_trio runs on trio")
    async with wamp_anyio.start_router(["rs://127.0.0.1:0"]) as router:
        with anyio.fail_after(10):
            await _trio_component_session_types(wamp_trio.Component(transports=router.urls[0]))
