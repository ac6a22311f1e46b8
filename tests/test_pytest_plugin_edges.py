"""The pytest plugin's options and fixtures, edges a mutation review found unguarded: a user's
test file, run by a pytest of its own (``pytester``, in a subprocess: the plugin from its entry
point), checks what the fixtures give against the options; a project's plain tests are left
alone. Each test fails on the one-line change its docstring names."""

from __future__ import annotations

import pytest

from embedded import EmbeddedRouter

pytest_plugins = ["pytester"]

USER_TESTS = """
import pytest

pytestmark = pytest.mark.anyio

@pytest.fixture
def anyio_backend():
    return "asyncio"

async def test_fixtures(wamp_router, wamp_session, wamp_component):
    assert wamp_router.realm == {realm!r}
    assert wamp_session.realm == {realm!r}
    component = wamp_component()
    async with component:
        session = await component.wait_ready()
        assert session.realm == {realm!r}
    elsewhere = wamp_component(transports="rs://127.0.0.1:9")
    assert [t.url for t in elsewhere.transports] == ["rs://127.0.0.1:9"]
    if {external!r}:
        assert (wamp_router.url, wamp_router.server) == ({external!r}, None)
    else:
        assert wamp_router.server is not None
        assert wamp_router.server.urls == [wamp_router.url]
"""


def _run(pytester: pytest.Pytester, realm: str, external: str | None, *args: str) -> None:
    pytester.makepyfile(test_user=USER_TESTS.format(realm=realm, external=external))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-W", "error", *args)
    result.assert_outcomes(passed=1)


def test_the_embedded_router_defaults_to_realm1(pytester: pytest.Pytester) -> None:
    """(Mutants P1: --wamp-realm's default realm2; P9: ``server`` None for the embedded
    router; P11: the user's ``transports`` overridden.) Without options: realm1, the
    embedded router in ``wamp_router.server``, and ``wamp_component(transports=...)`` keeps
    the user's transports."""
    _run(pytester, "realm1", None)


def test_wamp_realm_names_the_embedded_routers_realm(pytester: pytest.Pytester) -> None:
    """(Mutants P7: the embedded router made realm1 whatever --wamp-realm; P10: wamp_session
    joined realm1; P12: wamp_component's realm not set.) ``--wamp-realm other``: the
    router, the session and the component are all on ``other``."""
    _run(pytester, "other", None, "--wamp-realm", "other")


def test_wamp_router_and_wamp_realm_reach_a_real_router(
    pytester: pytest.Pytester, embedded: EmbeddedRouter
) -> None:
    """(Mutants P5: --wamp-router ignored; P6: --wamp-realm ignored with it.) With
    ``--wamp-router URL --wamp-realm realm2`` the fixtures use that router and realm."""
    _run(pytester, "realm2", embedded.rs_url, "--wamp-router", embedded.rs_url, "--wamp-realm",
         "realm2")  # fmt: skip


def test_tests_that_use_no_wamp_fixture_are_left_alone(pytester: pytest.Pytester) -> None:
    """(Mutant P2: the check for the fixtures ran on every test.) With the plugin installed, a
    project's plain tests (sync, or async without the anyio mark, using no wamp fixture) run
    as before; the check failed each of them ("make it an async def test marked ...")."""
    pytester.makepyfile(
        test_plain="def test_plain():\n    assert 1 + 1 == 2\n\n"
        "def test_with_tmp(tmp_path):\n    assert tmp_path.is_dir()\n"
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-W", "error")
    result.assert_outcomes(passed=2)


def test_a_sync_test_marked_anyio_is_told_what_to_do(pytester: pytest.Pytester) -> None:
    """(Mutants P17: only the mark checked, not ``async def``; P16: the refusal with the
    plugin's traceback.) A plain ``def`` test marked anyio that asks for ``wamp_session``
    fails with the plugin's one-line message, no traceback into the plugin."""
    pytester.makepyfile(
        test_sync_marked="import pytest\n\n@pytest.mark.anyio\n"
        "def test_sync(wamp_session):\n    pass\n"
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["*test_sync* uses wamp_router, wamp_session: make it an async*"])
    result.stdout.no_fnmatch_line("*pytest_plugin.py*")
