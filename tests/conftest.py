"""Shared fixtures: the Crossbar.io router, the spec test vectors, hypothesis profiles."""

from __future__ import annotations

import importlib
import inspect
import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import settings

from crossbar import REPO_ROOT, CrossbarError, CrossbarRouter, crossbar_executable

settings.register_profile("default", max_examples=100, deadline=None)
settings.register_profile(
    "ci", max_examples=100, deadline=None, derandomize=True, print_blob=True, database=None
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

CROSSBAR_FIXTURE = "crossbar"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test that uses the ``crossbar`` fixture (or ``router`` as Crossbar) with
    ``@pytest.mark.crossbar``;
    deselect the trio-native driver on asyncio (it is trio only), and a plain (not async)
    test in a driver module runs once, not once per driver and backend."""
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        driver, backend = params.get("wamp"), params.get("anyio_backend")
        plain = not inspect.iscoroutinefunction(getattr(item, "function", None))
        if (driver == "wamp_trio" and backend == "asyncio") or (
            driver is not None and plain and (driver, backend) != ("wamp_anyio", "asyncio")
        ):
            dropped.append(item)
            continue
        kept.append(item)
        if CROSSBAR_FIXTURE in getattr(item, "fixturenames", ()) or params.get("router") == (
            CROSSBAR_FIXTURE  # (the ``router`` fixture's Crossbar half)
        ):
            item.add_marker(pytest.mark.crossbar)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Every ``@pytest.mark.anyio`` test runs on asyncio and on trio."""
    backend = request.param
    assert isinstance(backend, str)
    return backend


#: The drivers a driver test runs with: ``wamp_anyio`` on each backend, ``wamp_trio`` on trio.
DRIVER_MODULES = ("wamp_anyio", "wamp_trio")


@pytest.fixture(params=DRIVER_MODULES)
def wamp(
    request: pytest.FixtureRequest, anyio_backend: str, monkeypatch: pytest.MonkeyPatch
) -> ModuleType:
    """The driver under test. A test module written against ``import wamp_anyio as wamp``
    sees this driver under its name ``wamp`` (for its helpers too), so one scenario runs with
    ``wamp_anyio`` on asyncio and on trio and with ``wamp_trio`` (trio only: the
    asyncio/wamp_trio pairs are deselected at collection)."""
    module = importlib.import_module(request.param)
    if getattr(request.module, "wamp", None) is not None:
        monkeypatch.setattr(request.module, "wamp", module)
    return module


@pytest.fixture(scope="session")
def crossbar() -> Iterator[CrossbarRouter]:
    """One running Crossbar.io router shared by the whole test session.

    ``WAMP_TEST_ROUTER=embedded`` puts the embedded router in its place (to see which client
    scenarios it passes; not how CI runs)."""
    if os.environ.get("WAMP_TEST_ROUTER") == "embedded":
        from embedded import EmbeddedRouter

        with EmbeddedRouter() as embedded:
            yield embedded  # type: ignore[misc]
        return
    skip = os.environ.get("WAMP_SKIP_CROSSBAR") == "1"
    router = CrossbarRouter()
    if not router.available():
        msg = (
            f"Crossbar.io is not installed (looked for {crossbar_executable()}): "
            "run tools/setup.sh, or set WAMP_CROSSBAR=/path/to/crossbar"
        )
        if skip:
            pytest.skip(msg + " [skipped: WAMP_SKIP_CROSSBAR=1]")
        pytest.fail(msg + " (or set WAMP_SKIP_CROSSBAR=1 to skip these tests)", pytrace=False)
    try:
        router.start()
    except CrossbarError as exc:
        pytest.fail(f"could not start Crossbar.io: {exc}", pytrace=False)
    try:
        yield router
    finally:
        router.stop()


@pytest.fixture(scope="session")
def embedded() -> Iterator[Any]:
    """One embedded router (its own process, as Crossbar runs) shared by the test session."""
    from embedded import EmbeddedRouter

    with EmbeddedRouter() as router:
        yield router


@pytest.fixture(params=["crossbar", "embedded"])
def router(request: pytest.FixtureRequest) -> Any:
    """Crossbar.io, then the embedded router: a client scenario run against both."""
    return request.getfixturevalue(request.param)


@pytest.fixture(scope="session")
def testsuite_dir() -> Path:
    """The official WAMP test vectors (env ``WAMP_TESTSUITE_DIR``, default ../shared/...)."""
    env = os.environ.get("WAMP_TESTSUITE_DIR")
    path = Path(env) if env else REPO_ROOT.parent / "shared" / "wamp-testsuite"
    if not path.is_dir():
        pytest.skip(
            f"WAMP test vectors not found at {path}: set WAMP_TESTSUITE_DIR or place "
            "wamp-testsuite at ../shared/wamp-testsuite relative to the repo"
        )
    return path.resolve()


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port that accepts connections and never answers (a hung router)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    try:
        yield server.getsockname()[1]
    finally:
        server.close()


@pytest.fixture
def silent_transport(silent_server: int) -> Callable[[int], dict[str, Any]]:
    """``silent_transport(max_retries)``: a RawSocket transport to :func:`silent_server` whose
    join times out after 0.3 s, retried after 0.01 s."""

    def transport(max_retries: int) -> dict[str, Any]:
        return {
            "url": f"rs://127.0.0.1:{silent_server}",
            "endpoint": {"type": "tcp", "host": "127.0.0.1", "port": silent_server, "timeout": 0.3},
            "max_retries": max_retries,
            "initial_retry_delay": 0.01,
        }

    return transport
