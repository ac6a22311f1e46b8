"""pytest fixtures for testing WAMP components: on by installing the package (entry point
``wamp``), for tests that run under anyio's pytest plugin (``@pytest.mark.anyio``, asyncio and
trio through the ``anyio_backend`` fixture).

* ``wamp_router``: a router for the test. By default an embedded router in the test's own
  event loop, reached through memory (``rs://memory/...``): no socket, no Crossbar, nothing to
  install. With ``pytest --wamp-router URL`` the fixtures use that router instead.
* ``wamp_session``: a :class:`wamp_anyio.Session` joined to it.
* ``wamp_component``: a factory: ``wamp_component(main=..., ...)`` builds a
  :class:`wamp_anyio.Component` whose transports point at the test's router (every other
  argument is the Component's).

Mark tests that need a router with ``@pytest.mark.wamp_router`` to find them with
``-m wamp_router``::

    @pytest.mark.anyio
    async def test_add(wamp_router, wamp_session):
        await wamp_session.register(lambda a, b: a + b, "com.example.add")
        assert await wamp_session.call("com.example.add", 2, 3) == 5
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from ._component import Component
from ._router import RouterServer, start_router
from ._session import Session

__all__ = ["WampRouter"]

_names = itertools.count(1)


@dataclass(frozen=True)
class WampRouter:
    """The router a test talks to: its ``url`` and ``realm``; ``server`` is the embedded
    router (``None`` for ``--wamp-router``)."""

    url: str
    realm: str = "realm1"
    server: RouterServer | None = None


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("wamp", "WAMP fixtures (wamp_anyio)")
    group.addoption(
        "--wamp-router",
        metavar="URL",
        default=None,
        help="run the wamp_router fixtures against this router (default: an embedded router "
        "in the test's event loop, no socket)",
    )
    group.addoption(
        "--wamp-realm", metavar="URI", default="realm1", help="the realm (default realm1)"
    )


#: The fixtures that need the test's event loop (``wamp_component`` through ``wamp_router``).
_LOOP_FIXTURES = frozenset({"wamp_router", "wamp_session", "wamp_component"})


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """A test asking for the fixtures outside anyio fails here, saying what to do, before any
    fixture is set up: pytest's own refusal left the fixtures broken for every later test
    (pytest 9: a bare ``AssertionError`` at their setup)."""
    wanted = _LOOP_FIXTURES.intersection(getattr(item, "fixturenames", ()))
    if not wanted:
        return
    function = getattr(item, "obj", None)
    if not inspect.iscoroutinefunction(function) or item.get_closest_marker("anyio") is None:
        pytest.fail(
            f"{item.name} uses {', '.join(sorted(wanted))}: make it an async def test marked "
            "@pytest.mark.anyio (docs/testing.md)",
            pytrace=False,
        )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "wamp_router: the test needs a WAMP router")


@pytest.fixture
async def wamp_router(request: pytest.FixtureRequest) -> AsyncIterator[WampRouter]:
    """The test's router: embedded and in memory, or ``--wamp-router URL``."""
    realm = request.config.getoption("--wamp-realm")
    url = request.config.getoption("--wamp-router")
    if url:
        yield WampRouter(url, realm)
        return
    listen = f"rs://memory/pytest-{next(_names)}"
    async with start_router([listen], realms=[realm]) as server:
        yield WampRouter(server.urls[0], realm, server)


@pytest.fixture
async def wamp_session(wamp_router: WampRouter) -> AsyncIterator[Session]:
    """A session joined to the test's router; it leaves after the test."""
    async with Session.connect(wamp_router.url, realm=wamp_router.realm) as session:
        yield session


@pytest.fixture
def wamp_component(wamp_router: WampRouter) -> Callable[..., Component]:
    """Build a :class:`wamp_anyio.Component` for the test's router: ``wamp_component(main=...,
    authentication=...)``; ``transports`` and ``realm`` default to the router's."""

    def make(**kwargs: Any) -> Component:
        kwargs.setdefault("transports", wamp_router.url)
        kwargs.setdefault("realm", wamp_router.realm)
        return Component(**kwargs)

    return make
