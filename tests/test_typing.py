"""What a type checker sees of the public API: ``mypy --strict`` checks this module with the
rest of the tests (``tools/test.sh``), so a type that turns vaguer fails the check. The
functions also run, against the in-memory router, so they stay true at run time."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
    subscription = await session.subscribe(lambda: None, "com.typing.topic")
    assert_type(subscription.id, int)  # (set: the router confirmed it)
    assert subscription.id > 0
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


_READ_ONLY = """
import wamp_core as wc
from wamp_core import messages as m


def change(
    result: wc.CallResult,
    event: m.Event,
    details: wc.EventDetails,
    invocation: m.Invocation,
    outcome: wc.Outcome,
) -> None:
    result.progress = True
    event.args = []
    details.topic = "com.other"
    invocation.details = {}
    outcome.error = None
"""


def test_records_and_messages_are_read_only_to_a_type_checker(tmp_path: Path) -> None:
    """(A review.) Their fields raise on assignment at run time; mypy says so beforehand."""
    program = tmp_path / "user.py"
    program.write_text(_READ_ONLY, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / ".cache"),
         str(program)],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    errors = [line for line in proc.stdout.splitlines() if ": error:" in line]
    assert [line.split(": error: ")[1] for line in errors] == [
        f'Cannot assign to final attribute "{name}"  [misc]'
        for name in ("progress", "args", "topic", "details", "error")
    ], proc.stdout


class _GreetingSession(wamp_anyio.Session):
    def greet(self) -> str:
        return f"hello from {self.session_id}"


async def test_a_session_factorys_class_is_the_components_session() -> None:
    """(A review.) ``session_factory=MySession`` types ``wait_ready()`` and ``session`` as
    ``MySession``: its own methods type-check."""
    async with wamp_anyio.start_router(["rs://memory/typing-factory"]) as router:
        component = wamp_anyio.Component(
            transports=router.urls[0], session_factory=_GreetingSession
        )
        async with component as running:
            assert_type(running, wamp_anyio.Component[_GreetingSession])
            with anyio.fail_after(10):
                session = await running.wait_ready()
            assert_type(session, _GreetingSession)
            assert session.greet().startswith("hello from ")
