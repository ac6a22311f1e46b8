"""Shared fixtures: the Crossbar.io router, the spec test vectors, hypothesis profiles."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

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
    """Mark every test that uses the ``crossbar`` fixture with ``@pytest.mark.crossbar``."""
    for item in items:
        if CROSSBAR_FIXTURE in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.crossbar)


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Every ``@pytest.mark.anyio`` test runs on asyncio and on trio."""
    backend = request.param
    assert isinstance(backend, str)
    return backend


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
