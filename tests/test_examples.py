"""Every program in ``examples/`` runs and prints what it should.

Each runs as a subprocess (``python -W error examples/X.py ...``), as a user would run it: the
examples that start the embedded router in their own process without a URL run that way on
asyncio and on trio, and all of them run against ``python -m wamp_anyio.router`` in a process
of its own, configured with the principals ``examples/auth.py``'s docstring gives (so that
documented config is checked too). Every line of output is compared, session IDs aside.

A new example must be added here (or to :data:`TESTED_ELSEWHERE`):
:func:`test_every_example_is_covered` fails otherwise.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
#: Seconds one example may take (each also gives up by itself, well within it).
TIMEOUT = 60

#: Examples with tests of their own: example -> the test module that runs it.
TESTED_ELSEWHERE = {
    "component_page.py": "test_component_page.py",
    "test_my_component.py": "test_pytest_plugin.py",
}

AUTH = [
    "anonymous: authid=anonymous-ID authrole=anonymous authmethod=anonymous",
    "ticket: authid=joe authrole=user authmethod=ticket",
    "wampcra: authid=peter authrole=user authmethod=wampcra",
    "wampcra-salted: authid=salty authrole=user authmethod=wampcra",
    "cryptosign: authid=alice authrole=admin authmethod=cryptosign",
    "wamp-scram: authid=carol authrole=user authmethod=wamp-scram",
    "scram: authid=dave authrole=user authmethod=scram",
    "wrong ticket: SessionClosed wamp.error.authentication_failed",
    "joe registering org.other.forbidden: ApplicationError wamp.error.not_authorized",
]
PROGRESSIVE = [
    "callee: countdown(3), caller takes progress: True",
    "on_progress: 3...", "on_progress: 2...", "on_progress: 1...", "call result: liftoff",
    "callee: countdown(2), caller takes progress: True",
    "iter_call: 2... (progress=True)", "iter_call: 1... (progress=True)",
    "iter_call: liftoff (progress=False)",
    "callee: countdown(2), caller takes progress: False", "plain call: liftoff",
    "callee: countdown(1000), caller takes progress: True", "iter_call: 1000..., enough",
    "callee: countdown interrupted",
    "open_call: 11 words in 4 lines sent in 3 chunks",
]  # fmt: skip
CANCEL_TIMEOUT = [
    "1. cancel scope", "  callee: interrupted", "  caller: cancelled_caught=True",
    "2. anyio.fail_after", "  callee: interrupted", "  caller: TimeoutError",
    "3. CallOptions(timeout=...)", "  callee: interrupted",
    "  caller: ApplicationError wamp.error.timeout",
    "caller still attached: True",
]  # fmt: skip
PATTERNS = [
    "call com.example.calc.add: 13 (exact registration)",
    "call com.example.calc.mul: 42 (prefix registration, mul)",
    "call com.example.printer.status: printer is ok (wildcard registration)",
    "call com.example.calc.status: com.example.error.unknown_operation: status",
    *(f"prefix subscription: com.example.sensor.{t}" for t in (
        "kitchen.temperature = 21.5", "kitchen.humidity = 40",
        "kitchen.oven.temperature = 180", "cellar.temperature = 12.0")),
    "wildcard subscription: com.example.sensor.kitchen.temperature = 21.5",
    "wildcard subscription: com.example.sensor.cellar.temperature = 12.0",
]  # fmt: skip
COMPONENT = [
    "joined realm1 as session ID", "2 + 3 = 5", "event on com.example.hello: 'hello from main'",
    "done",
]  # fmt: skip
SELECTORS = [
    "joined realm realm1 as session ID", "invoked: add2(2, 3)",
    "event received on com.example.hello: hello from wamp_core", "call result: 5",
    "session ended: wamp.close.normal",
]  # fmt: skip

#: (example, arguments, the lines it prints). ``{rs}``/``{ws}``: the router process's URLs;
#: without them the example starts a router in its own process.
RUNS: list[tuple[str, tuple[str, ...], list[str]]] = [
    *((name, args, lines)
      for name, lines in [("auth.py", AUTH), ("progressive.py", PROGRESSIVE),
                          ("cancel_timeout.py", CANCEL_TIMEOUT), ("patterns.py", PATTERNS)]
      for args in [(), ("--backend", "trio"), ("{rs}",)]),
    ("component.py", ("{ws}", "realm1", "asyncio"), COMPONENT),
    ("component.py", ("{rs}", "realm1", "trio"), COMPONENT),
    ("component_trio.py", ("{rs}", "realm1"), COMPONENT),
    ("selectors_client.py", ("{rs}", "realm1"), SELECTORS),
    ("selectors_client.py", ("{ws}", "realm1"), SELECTORS),
]  # fmt: skip


def auth_config() -> Any:
    """The router configuration ``examples/auth.py``'s docstring gives (JSON)."""
    source = (EXAMPLES / "auth.py").read_text(encoding="utf-8")
    doc = ast.get_docstring(ast.parse(source))
    assert doc is not None
    config, _ = json.JSONDecoder().raw_decode(doc[doc.index('{"principals"') :])
    return config


@pytest.fixture(scope="module")
def router(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """``python -m wamp_anyio.router`` on free loopback ports: ``{"rs": URL, "ws": URL}``."""
    config = tmp_path_factory.mktemp("examples") / "auth.json"
    config.write_text(json.dumps(auth_config()), encoding="utf-8")
    listen = ["rs://127.0.0.1:0", "ws://127.0.0.1:0/ws"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "wamp_anyio.router", "--config", str(config),
         *(arg for url in listen for arg in ("--listen", url))],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        urls = [proc.stdout.readline().removeprefix("listening on ").strip() for _ in listen]
        assert all(urls), "the router did not start"
        yield {"rs": urls[0], "ws": urls[1]}
    finally:
        proc.terminate()  # SIGTERM: GOODBYE to every session, exit 0
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


@pytest.mark.parametrize(
    ("example", "args", "expected"),
    RUNS,
    ids=[" ".join((name, *args)).replace("{", "<").replace("}", ">") for name, args, _ in RUNS],
)
def test_example(
    request: pytest.FixtureRequest, example: str, args: tuple[str, ...], expected: list[str]
) -> None:
    if any("{" in arg for arg in args):
        urls = request.getfixturevalue("router")
        args = tuple(arg.format(**urls) for arg in args)
    proc = subprocess.run(
        [sys.executable, "-W", "error", str(EXAMPLES / example), *args],
        cwd=REPO, capture_output=True, text=True, timeout=TIMEOUT, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stderr == ""
    # Session IDs are random: at least 6 digits (IDs are drawn from [1, 2**53]).
    lines = [re.sub(r"\b\d{6,}\b", "ID", line) for line in proc.stdout.splitlines()]
    assert lines == expected


def test_every_example_is_covered() -> None:
    """Each ``examples/*.py`` is run above or by the test module named for it."""
    on_disk = {path.name for path in EXAMPLES.glob("*.py")}
    covered = {name for name, _, _ in RUNS} | set(TESTED_ELSEWHERE)
    untested, gone = sorted(on_disk - covered), sorted(covered - on_disk)
    assert not untested, f"no test runs {untested}: add them to RUNS in {__file__}"
    assert not gone, f"RUNS or TESTED_ELSEWHERE name examples that are gone: {gone}"
    for example, module in TESTED_ELSEWHERE.items():
        assert example in (Path(__file__).parent / module).read_text(encoding="utf-8")
