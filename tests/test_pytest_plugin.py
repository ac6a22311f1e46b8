"""The pytest plugin (entry point ``wamp``): its fixtures run a user's test file against an
in-process router with no socket, on asyncio and trio, and against a real router with
``--wamp-router``. The user's file is ``examples/test_my_component.py``, run by a pytest of its
own (``pytester``, in a subprocess: the plugin comes from the installed entry point)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from crossbar import CrossbarRouter

pytest_plugins = ["pytester"]

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "test_my_component.py"


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    pytester.makepyfile(test_my_component=EXAMPLE.read_text(encoding="utf-8"))
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "-W", "error", *args)


def test_the_fixtures_need_no_router_to_install(pytester: pytest.Pytester) -> None:
    result = _run(pytester, "-v")
    result.assert_outcomes(passed=4)  # 2 tests x (asyncio, trio)


def test_the_fixtures_run_against_crossbar(
    pytester: pytest.Pytester, crossbar: CrossbarRouter
) -> None:
    result = _run(pytester, "--wamp-router", crossbar.rs_url)
    result.assert_outcomes(passed=4)


def test_the_marker_and_the_option_are_documented(pytester: pytest.Pytester) -> None:
    assert "--wamp-router=URL" in "".join(pytester.runpytest_subprocess("--help").outlines)
    markers = "\n".join(pytester.runpytest_subprocess("--markers").outlines)
    assert "@pytest.mark.wamp_router" in markers


def test_the_example_runs_from_the_checkout_as_its_docstring_says() -> None:
    """The checkout's pytest configuration turns the plugin off (``-p no:wamp``): the
    example's docstring says to add ``-p wamp`` there, and that works."""
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "wamp",
         str(EXAMPLE)],
        cwd=EXAMPLE.parent.parent, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "-p wamp" in EXAMPLE.read_text(encoding="utf-8")


def test_a_test_without_the_anyio_mark_fails_alone_and_says_why(
    pytester: pytest.Pytester,
) -> None:
    """(A review.) pytest's own refusal of one such test made every later user of the
    fixtures fail at setup with a bare AssertionError, in every module."""
    pytester.makepyfile(
        test_forgot="""
import pytest

async def test_forgot_the_mark(wamp_session):
    pass

def test_sync(wamp_router):
    pass

@pytest.mark.anyio
async def test_good(wamp_session):
    await wamp_session.register(lambda: 1, "com.example.x")
    assert await wamp_session.call("com.example.x") == 1
""",
        test_later="""
import pytest

@pytest.mark.anyio
async def test_good_elsewhere(wamp_router):
    pass
""",
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4, errors=2)  # the good ones on asyncio and trio
    result.stdout.fnmatch_lines(["*test_forgot_the_mark uses *make it an async def test*"])


def test_a_project_with_options_of_the_same_names_turns_the_plugin_off(
    pytester: pytest.Pytester,
) -> None:
    """docs/testing.md: a conftest defining ``--wamp-router`` clashes with the plugin's option;
    ``-p no:wamp`` in ``addopts`` lets the project's own option work."""
    pytester.makeconftest(
        "def pytest_addoption(parser):\n    parser.addoption('--wamp-router', default=None)\n"
    )
    pytester.makepyfile(
        "def test_mine(request):\n    assert request.config.getoption('--wamp-router') == 'mine'\n"
    )
    clash = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--wamp-router", "mine")
    assert clash.ret != 0
    assert "already used" in clash.stderr.str() + clash.stdout.str()
    pytester.makeini("[pytest]\naddopts = -p no:wamp\n")
    fine = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--wamp-router", "mine")
    fine.assert_outcomes(passed=1)
