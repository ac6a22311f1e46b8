"""The router program (``python -m wamp_anyio.router``, ``wamp-py router``): options and
``--config`` edges a mutation review found unguarded, seen from a client on loopback or in the
program's exit status and message. Each test fails on the one-line change its docstring names."""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest

import wamp_anyio
import wamp_core as wc
from embedded import router_program as _router_program

ROUTER = [sys.executable, "-m", "wamp_anyio.router"]
TIMEOUT = 30


@contextlib.asynccontextmanager
async def router_program(*options: str) -> AsyncIterator[str]:
    """The router program's URL (:func:`embedded.router_program`)."""
    async with _router_program(*options) as (_, url):
        yield url


def program(*options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*ROUTER, *options], capture_output=True, text=True, timeout=60,
                          check=False)  # fmt: skip


def _write(tmp_path: Path, config: Any) -> str:
    path = tmp_path / "router.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    return str(path)


@pytest.mark.anyio
async def test_a_scram_password_gets_the_documented_defaults(tmp_path: Path) -> None:
    """(Mutants R3: scram iterations default 1000; R4: the kdf defaults swapped.) A principal
    with only ``salt`` and ``password`` is wamp-scram, pbkdf2, 4096 iterations: a wamp-py
    client (which refuses fewer than 4096) logs in. With 1000 iterations the client refused
    the router; with the kdfs swapped the program refused its own config."""
    config = {"principals": [{"authid": "carol", "scram": {"salt": "00ff00ff", "password": "pw"}}]}
    async with router_program("--config", _write(tmp_path, config)) as url:
        with anyio.fail_after(TIMEOUT):
            async with wamp_anyio.Session.connect(
                url, authentication={"wamp-scram": {"authid": "carol", "password": "pw"}}
            ) as session:  # fmt: skip
                assert (session.authid, session.authmethod) == ("carol", "wamp-scram")


def test_a_missing_config_file_is_named_in_one_line(tmp_path: Path) -> None:
    """(Mutant R5: OSError not caught when reading --config.) A config file that is not there
    stops the program with ``FILE: No such file...``, not a traceback."""
    missing = tmp_path / "nosuch.json"
    done = program("--config", str(missing), "--listen", "rs://127.0.0.1:0")
    assert done.returncode != 0 and done.stdout == ""
    assert done.stderr.startswith(f"{missing}: ") and "No such file" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.anyio
async def test_a_rule_without_actions_allows_every_action(tmp_path: Path) -> None:
    """(Mutant R14: a rule's ``actions`` default to none.) docs: a rule without ``actions``
    covers every action: an anonymous session may register and call under ``com.open.``."""
    config = {"permissions": {"anonymous": [{"uri": "com.open.", "match": "prefix"}]}}
    async with router_program("--config", _write(tmp_path, config)) as url:
        with anyio.fail_after(TIMEOUT):
            async with wamp_anyio.Session.connect(url) as session:
                await session.register(lambda: 7, "com.open.seven")
                assert await session.call("com.open.seven") == 7


@pytest.mark.anyio
async def test_auto_realms_lets_a_client_make_a_realm() -> None:
    """(Mutant R18: --auto-realms ignored.) With ``--auto-realms`` a client joins a realm the
    router was not told of; without it, the join was refused (no_such_realm)."""
    async with router_program("--auto-realms") as url:
        with anyio.fail_after(TIMEOUT):
            async with wamp_anyio.Session.connect(url, realm="com.made.up") as session:
                assert session.realm == "com.made.up"


@pytest.mark.anyio
async def test_disclose_tells_callees_who_calls() -> None:
    """(Mutant R19: --disclose ignored.) With ``--disclose`` a callee learns the caller's
    session ID though the caller did not ask to be disclosed."""

    def who(details: wc.CallDetails) -> int | None:
        return details.caller

    async with router_program("--disclose") as url:
        with anyio.fail_after(TIMEOUT):
            async with (
                wamp_anyio.Session.connect(url) as callee,
                wamp_anyio.Session.connect(url) as caller,
            ):
                await callee.register(who, "com.who", wc.RegisterOptions(details=True))
                assert await caller.call("com.who") == caller.session_id


@pytest.mark.anyio
async def test_handshake_timeout_option_closes_a_silent_connection() -> None:
    """(Mutant R20: --handshake-timeout ignored, 10 s.) ``--handshake-timeout 0.5``: a
    connection that sends nothing is closed within a few seconds."""
    async with router_program("--handshake-timeout", "0.5") as url:
        port = int(url.rsplit(":", 1)[1])
        started = anyio.current_time()
        async with await anyio.connect_tcp("127.0.0.1", port) as silent:
            with anyio.fail_after(5), pytest.raises((anyio.EndOfStream, anyio.BrokenResourceError)):
                await silent.receive()
        assert anyio.current_time() - started < 5


@pytest.mark.anyio
async def test_idle_timeout_option_closes_an_idle_session() -> None:
    """(Mutant R21: --idle-timeout ignored.) ``--idle-timeout 0.5``: a joined session that
    sends nothing loses its connection."""
    async with router_program("--idle-timeout", "0.5") as url:
        async with wamp_anyio.Session.connect(url) as session:
            with anyio.fail_after(5):
                await session.wait_closed()
        assert session.close_details is not None
        assert session.close_details.reason == wc.CloseDetails.REASON_TRANSPORT_LOST


def test_a_certificate_without_its_key_is_a_usage_error(tmp_path: Path) -> None:
    """(Mutant R25: the --tls-cert/--tls-key pairing not checked.) ``--tls-cert`` alone is a
    usage error (status 2) saying they go together."""
    done = program("--listen", "rss://127.0.0.1:0", "--tls-cert", str(tmp_path / "x.crt"))
    assert done.returncode == 2, done.stderr
    assert "--tls-cert and --tls-key go together" in done.stderr


def test_a_port_in_use_is_said_in_one_line() -> None:
    """(Mutant R26: OSError not caught around the router.) A port another program holds:
    status 1 and one line saying so, not a traceback."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = program("--listen", f"rs://127.0.0.1:{port}")
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1, done.stderr


def test_a_misspelt_top_level_config_key_is_refused(tmp_path: Path) -> None:
    """(Mutant R6: unknown top-level keys let through.) ``"principal"`` for ``"principals"``
    would have started a router with no principals at all: the program names the key."""
    path = _write(tmp_path, {"principal": [{"authid": "joe", "ticket": "x"}]})
    done = program("--config", path, "--listen", "rs://127.0.0.1:0")
    assert done.returncode != 0 and done.stdout == ""
    assert f"{path}: unknown keys ['principal']" in done.stderr, done.stderr


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"principals": ["joe"]}, "principals must be a list of objects"),
        ({"permissions": {"anonymous": {"uri": "com."}}},
         "permissions must map each role to a list of rules"),
    ],
)  # fmt: skip
def test_a_config_of_the_wrong_shape_is_named_in_one_line(
    tmp_path: Path, config: Any, message: str
) -> None:
    """(Mutants R8/R9: the shape checks of ``principals`` and ``permissions`` dropped.) A
    principal that is not an object, a role whose rules are not a list: one line naming the
    file and what is wrong (R8 ended in a traceback, R9 in a message about something else)."""
    path = _write(tmp_path, config)
    done = program("--config", path, "--listen", "rs://127.0.0.1:0")
    assert done.returncode != 0 and done.stdout == ""
    assert done.stderr == f"{path}: {message}\n", done.stderr


@pytest.mark.anyio
async def test_a_rule_ending_in_a_dot_without_match_is_a_prefix(tmp_path: Path) -> None:
    """(Mutant R13: a rule without ``match`` read as exact.) docs: without ``match`` a URI
    ending in ``.`` is a prefix: an anonymous session may register and call under it."""
    config = {"permissions": {"anonymous": [{"uri": "com.open."}]}}
    async with router_program("--config", _write(tmp_path, config)) as url:
        with anyio.fail_after(TIMEOUT):
            async with wamp_anyio.Session.connect(url) as session:
                await session.register(lambda: 7, "com.open.seven")
                assert await session.call("com.open.seven") == 7


#: The program, run so that it says at exit whether trio was ever imported.
_REPORTS_TRIO = [
    sys.executable,
    "-c",
    "import atexit, runpy, sys;"
    " atexit.register(lambda: print('trio imported:', 'trio' in sys.modules, flush=True));"
    " runpy.run_module('wamp_anyio.router', run_name='__main__', alter_sys=True)",
]


@pytest.mark.parametrize(
    ("options", "on_trio"), [(["--backend", "trio"], True), ([], False)], ids=["trio", "default"]
)
def test_the_backend_option_picks_the_event_loop(options: list[str], on_trio: bool) -> None:
    """(Mutant R28: ``--backend`` ignored, always asyncio.) ``--backend trio`` serves on trio
    (asyncio is the default): with the option ignored, trio was never even imported."""
    with subprocess.Popen(
        [*_REPORTS_TRIO, "--listen", "rs://127.0.0.1:0", *options],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    ) as process:  # fmt: skip
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            assert line.startswith("listening on rs://127.0.0.1:"), line
            process.send_signal(signal.SIGTERM)
            out, err = process.communicate(timeout=TIMEOUT)
        finally:
            if process.returncode is None:
                process.kill()
    assert process.returncode == 0, err
    assert out == f"trio imported: {on_trio}\n", (out, err)


@pytest.mark.anyio
async def test_a_principal_pinned_to_a_realm_in_the_config_joins_only_there(
    tmp_path: Path,
) -> None:
    """(Mutant R29: the config's ``realms`` passed to Principal as the JSON list.) docs: a
    principal's ``realms`` are the only realms it may join. ``"realms": ["other"]`` logs in
    to ``other`` and not to ``realm1``; with the list passed on as is, the program refused
    its own valid config ("realms must be a tuple of realm names") and never listened."""
    config = {"principals": [{"authid": "joe", "ticket": "pw", "realms": ["other"]}]}
    auth = {"ticket": {"authid": "joe", "ticket": "pw"}}
    async with router_program(
        "--realm", "realm1", "--realm", "other", "--config", _write(tmp_path, config)
    ) as url:  # fmt: skip
        with anyio.fail_after(TIMEOUT):
            async with wamp_anyio.Session.connect(url, realm="other", authentication=auth) as s:
                assert (s.realm, s.authid) == ("other", "joe")
            with pytest.raises(wc.SessionClosed):
                async with wamp_anyio.Session.connect(url, realm="realm1", authentication=auth):
                    raise AssertionError("joe joined a realm his principal is not pinned to")


@pytest.mark.anyio
async def test_ctrl_c_says_goodbye_and_exits_0() -> None:
    """(Mutant M13: only SIGTERM caught, not SIGINT.) docs: on Ctrl-C (SIGINT) the program
    says GOODBYE ``wamp.close.system_shutdown`` to every session and exits 0; with SIGINT not
    caught it died of the KeyboardInterrupt (status -2)."""
    async with _router_program() as (process, url), wamp_anyio.Session.connect(url) as session:
        process.send_signal(signal.SIGINT)
        with anyio.fail_after(TIMEOUT):
            await session.wait_closed()
            assert await process.wait() == 0
    assert session.close_details is not None
    assert session.close_details.reason == "wamp.close.system_shutdown"
