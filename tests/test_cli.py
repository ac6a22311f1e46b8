"""The ``wamp-py`` console script, through subprocesses, against the embedded router and
Crossbar.io: call, publish, subscribe, register (answering with a shell command), auth, exit
codes and error messages."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import crossbar as cb
import wamp_anyio.cli as cli_module
from embedded import EmbeddedRouter

CLI = [sys.executable, "-m", "wamp_anyio.cli"]
ADD = [sys.executable, "-c", "import json, sys; print(sum(json.load(sys.stdin)['args']))"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=60, check=False)


@contextlib.contextmanager
def background(*args: str, ready: str) -> Iterator[subprocess.Popen[str]]:
    """A long-running wamp-py command, once it printed ``ready`` on stderr."""
    proc = subprocess.Popen([*CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)  # fmt: skip
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        assert ready in line, line
        yield proc
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


@pytest.fixture(params=["embedded", pytest.param("crossbar", marks=pytest.mark.crossbar)])
def urls(request: pytest.FixtureRequest) -> Iterator[tuple[str, str, str]]:
    """RawSocket, WebSocket and authenticated WebSocket URLs of a router."""
    if request.param == "crossbar":
        router = request.getfixturevalue("crossbar")
        yield router.rs_url, router.ws_url, router.ws_auth_url
        return
    with EmbeddedRouter() as embedded:
        yield embedded.rs_url, embedded.ws_url, embedded.ws_auth_url


def test_register_call_publish_subscribe(urls: tuple[str, str, str]) -> None:
    rs, ws, _ = urls
    with (
        background("register", rs, "com.cli.add", "--", *ADD, ready="registered com.cli.add"),
        background("subscribe", ws, "com.cli.", "--match", "prefix",
                   ready="subscribed to com.cli.") as sub,
    ):  # fmt: skip
        done = run("call", rs, "com.cli.add", "2", "3")
        assert (done.returncode, done.stdout) == (0, "5\n"), done.stderr
        done = run("publish", ws, "com.cli.news", '"hi"', "--kw", "n=3", "[1, 2]")  # intermixed
        assert done.returncode == 0, done.stderr
        assert sub.stdout is not None
        line = sub.stdout.readline()
    assert line == '{"topic": "com.cli.news", "args": ["hi", [1, 2]], "kwargs": {"n": 3}}\n'


def test_errors_have_exit_codes_and_say_what_went_wrong(urls: tuple[str, str, str]) -> None:
    rs, _, _ = urls
    done = run("call", rs, "com.cli.nobody")
    assert done.returncode == 1
    assert done.stderr.startswith("wamp-py: wamp.error.no_such_procedure")
    done = run("call", "rs://127.0.0.1:9", "com.x")
    assert done.returncode == 3 and "cannot connect" in done.stderr
    done = run("call", rs, "com.x", "--realm", "no.such.realm")
    assert done.returncode == 3 and "no_such_realm" in done.stderr
    commands: tuple[tuple[str, ...], ...] = (
        ("call", rs),
        ("call", rs, "com.x", "--ticket", "t"),  # (needs --authid)
        ("call", rs, "com.x", "--kw", "noequals"),
        ("register", rs, "com.x"),  # (no command)
    )
    for command in commands:
        done = run(*command)  # the command's own usage, not the top level's
        assert done.returncode == 2, (command, done.stderr)
        assert done.stderr.startswith(f"usage: wamp-py {command[0]} "), (command, done.stderr)
        assert f"wamp-py {command[0]}: error: " in done.stderr, (command, done.stderr)
    assert "ARG" not in run("call", rs).stderr.splitlines()[-1]  # (ARG is not required)
    for usage, says in (
        (("call", "ftp://127.0.0.1:1", "com.x"), "ws:// or wss://"),
        (("call", rs, "com.x", "--serializer", "nosuch"), "unknown serializer 'nosuch'"),
        (("call", rs, "not a uri"), "invalid procedure"),
        (("call", rs, "com.x", "--authid", "a", "--cryptosign-key", "/no/such/key"), "/no/such"),
        (("call", rs, "com.x", "--kw", "noequals"), "--kw takes KEY=VALUE"),
        (
            ("call", rs, "com.x", "--authid", "a", "--cryptosign-key", sys.executable),
            "not a hex private key seed",
        ),  # a binary file
        # checked before connecting: no router there, still a usage error
        (("call", "rs://127.0.0.1:9", "com.x", "--kw", "=1"), "--kw takes KEY=VALUE"),
    ):
        done = run(*usage)
        assert done.returncode == 2 and says in done.stderr, (usage, done.stderr)
        assert "Traceback" not in done.stderr


def test_ticket_authentication(urls: tuple[str, str, str]) -> None:
    url = urls[2]
    done = run("call", url, "wamp.session.count", "--authid", cb.TICKET_AUTHID,
               "--ticket", cb.TICKET_SECRET)  # fmt: skip
    assert done.returncode == 0, done.stderr
    done = run("call", url, "wamp.session.count", "--authid", cb.TICKET_AUTHID,
               "--ticket", "wrong")  # fmt: skip
    assert done.returncode == 3


def test_secrets_can_come_from_files(urls: tuple[str, str, str], tmp_path: Path) -> None:
    """--ticket is visible to every local user in ps; --ticket-file is not (a review)."""
    ticket = tmp_path / "ticket"
    ticket.write_text(cb.TICKET_SECRET + "\n")
    done = run("call", urls[2], "wamp.session.count", "--authid", cb.TICKET_AUTHID,
               "--ticket-file", str(ticket))  # fmt: skip
    assert done.returncode == 0, done.stderr
    done = run("call", urls[2], "wamp.session.count", "--ticket-file", str(ticket))
    assert done.returncode == 2 and "need --authid" in done.stderr


def test_help_reads_well() -> None:
    done = run("router", "--help")
    assert done.returncode == 0 and done.stdout.startswith("usage: wamp-py router")
    done = run("--help")
    assert done.returncode == 0
    for command in ("call", "publish", "subscribe", "register", "router"):
        assert command in done.stdout
    assert "Exit status" in done.stdout
    router = run("router", "--help")
    assert router.returncode == 0 and "--listen" in router.stdout


def test_a_command_that_does_not_read_its_input_still_answers() -> None:
    """(A review.) ``echo`` exits before reading the request: the broken pipe failed the call
    with "unhandled errors in a TaskGroup", and a non-zero exit lost its message."""
    with EmbeddedRouter() as router:
        rs = router.rs_url
        big = "x" * 100_000  # (larger than a pipe buffer: the write fails every time)
        with (
            background("register", rs, "com.cli.echo", "--", "echo", '"pong"',
                       ready="registered"),
            background("register", rs, "com.cli.exit3", "--", "sh", "-c", "exit 3",
                       ready="registered"),
        ):  # fmt: skip
            for arg in ("1", big):
                done = run("call", rs, "com.cli.echo", arg)
                assert (done.returncode, done.stdout) == (0, '"pong"\n'), done.stderr
                done = run("call", rs, "com.cli.exit3", arg)
                assert done.returncode == 1 and "sh exited with status 3" in done.stderr


def test_subscribe_ends_with_status_3_when_the_router_goes() -> None:
    """It returned 0, silently, as if stopped on purpose (a review)."""
    with EmbeddedRouter() as router:
        proc = subprocess.Popen(
            [*CLI, "subscribe", router.rs_url, "com.cli.t"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert proc.stderr is not None
        assert "subscribed" in proc.stderr.readline()
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 3 and "the session ended" in err, err


def test_output_is_strict_json_and_nan_is_a_string_argument() -> None:
    """NaN was printed bare (``jq`` refuses it) and parsed from the command line as a float."""
    with EmbeddedRouter() as router, background(
        "register", router.rs_url, "com.cli.same", "--", sys.executable, "-c",
        "import json, sys; print(json.dumps(json.load(sys.stdin)['args'][0]))",
        ready="registered",
    ):  # fmt: skip
        done = run("call", router.rs_url, "com.cli.same", "NaN")
        assert (done.returncode, done.stdout) == (0, '"NaN"\n'), done.stderr
    assert cli_module._value("Infinity") == "Infinity" and cli_module._value("1e400") == "1e400"
    assert cli_module._value("1.5") == 1.5
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        cli_module._print([float("nan"), float("-inf"), {"k": float("inf")}])
    assert out.getvalue() == '["NaN", "-Infinity", {"k": "Infinity"}]\n'
