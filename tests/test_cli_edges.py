"""``wamp-py`` edges a mutation review found unguarded: secret and key files, a refused
publication, a command killed by a signal, its output's line break and bytes that are not
UTF-8, exact subscriptions by default, Ctrl-C, a reader that quit, results JSON has no form for
(bytes, dates, several results). Each test fails on the one-line change its docstring names."""

from __future__ import annotations

import datetime
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

import crossbar as cb
import wamp_anyio
import wamp_core as wc
from embedded import EmbeddedRouter
from test_cli import CLI, background, run


@pytest.fixture(scope="module")
def router() -> Iterator[EmbeddedRouter]:  # (one for the module)
    with EmbeddedRouter() as embedded:
        yield embedded


def test_secret_files_are_used_to_authenticate(router: EmbeddedRouter, tmp_path: Path) -> None:
    """(Mutants C5/C6: --ticket-file / --wampcra-secret-file ignored.) A wrong secret in the
    file is refused (status 3); ignoring the file joined anonymously and exited 0."""
    for option, authid, right in (("--ticket-file", cb.TICKET_AUTHID, cb.TICKET_SECRET),
                                  ("--wampcra-secret-file", cb.WAMPCRA_AUTHID,
                                   cb.WAMPCRA_SECRET)):  # fmt: skip
        for secret, status in ((right, 0), ("wrong", 3)):
            path = tmp_path / "secret"
            path.write_text(secret + "\n", encoding="utf-8")
            done = run("call", router.ws_url, "wamp.session.count", "--authid", authid,
                       option, str(path))  # fmt: skip
            assert done.returncode == status, (option, secret, done.stderr)


def test_wampcra_and_cryptosign_authenticate(router: EmbeddedRouter, tmp_path: Path) -> None:
    """(Mutants C7/C8: --wampcra-secret sent as a ticket; --cryptosign-key ignored.) The right
    secret or key joins (status 0), a wrong one is refused (status 3)."""
    done = run("call", router.ws_url, "wamp.session.count", "--authid", cb.WAMPCRA_AUTHID,
               "--wampcra-secret", cb.WAMPCRA_SECRET)  # fmt: skip
    assert done.returncode == 0, done.stderr
    done = run("call", router.ws_url, "wamp.session.count", "--authid", cb.WAMPCRA_AUTHID,
               "--wampcra-secret", "wrong")  # fmt: skip
    assert done.returncode == 3, done.stderr
    for seed, status in ((cb.CRYPTOSIGN_SEED, 0), (bytes([0x02] * 32), 3)):
        key = tmp_path / "key"
        key.write_text(seed.hex() + "\n", encoding="ascii")
        done = run("call", router.ws_url, "wamp.session.count", "--authid",
                   cb.CRYPTOSIGN_AUTHID, "--cryptosign-key", str(key))  # fmt: skip
        assert done.returncode == status, (seed, done.stderr)


def test_a_refused_publication_fails(router: EmbeddedRouter) -> None:
    """(Mutant C24: publish without acknowledge.) The router refuses a publication to a
    ``wamp.*`` topic: ``wamp-py publish`` says so with status 1; unacknowledged, it exited 0
    as if it had been published."""
    done = run("publish", router.rs_url, "wamp.my.topic", "1")
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith("wamp-py: wamp.error.invalid_uri"), done.stderr


def test_a_command_killed_by_a_signal_fails_the_call(router: EmbeddedRouter) -> None:
    """(Mutant C30: ``returncode != 0`` -> ``> 0``.) A command killed by a signal (status
    -9) is a failure: the call fails with status 1; it answered ``""``."""
    with background("register", router.rs_url, "com.mut.killed", "--", "sh", "-c",
                    "kill -9 $$", ready="registered"):  # fmt: skip
        done = run("call", router.rs_url, "com.mut.killed")
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "sh exited with status -9" in done.stderr, done.stderr


def test_a_text_answer_loses_its_line_break(router: EmbeddedRouter) -> None:
    """(Mutant C31: the command's output not stripped.) ``echo hello`` answers ``"hello"``,
    not ``"hello\\n"``."""
    with background("register", router.rs_url, "com.mut.hello", "--", "echo", "hello",
                    ready="registered"):  # fmt: skip
        done = run("call", router.rs_url, "com.mut.hello")
    assert (done.returncode, done.stdout) == (0, '"hello"\n'), done.stderr


def test_subscribe_matches_exactly_by_default(router: EmbeddedRouter) -> None:
    """(Mutant C33: --match defaults to prefix.) ``subscribe URL com.mut.t`` gets the events
    of com.mut.t only, not those of com.mut.t.more."""
    with background("subscribe", router.rs_url, "com.mut.t", ready="subscribed") as sub:
        assert run("publish", router.rs_url, "com.mut.t.more", "1").returncode == 0
        assert run("publish", router.rs_url, "com.mut.t", "2").returncode == 0
        assert sub.stdout is not None
        line = sub.stdout.readline()
    assert line == '{"topic": "com.mut.t", "args": [2], "kwargs": {}}\n'


def test_subscribe_stopped_by_ctrl_c_exits_130(router: EmbeddedRouter) -> None:
    """(Mutant C37: KeyboardInterrupt -> 1.) The module docstring: 130 when stopped by
    Ctrl-C."""
    with background("subscribe", router.rs_url, "com.mut.c", ready="subscribed") as sub:
        sub.send_signal(signal.SIGINT)
        _, err = sub.communicate(timeout=30)
    assert sub.returncode == 130, err
    assert "Traceback" not in err


def test_subscribe_into_a_reader_that_quit_ends_quietly_with_status_0(
    router: EmbeddedRouter,
) -> None:
    """(Mutants C27/C40: the broken pipe's end.) ``wamp-py subscribe ... | head -1``: once the
    reader is gone the next event ends the subscriber, quietly, with status 0 (it ran on for
    ever, or ended with status 3 and "the session ended")."""
    with background("subscribe", router.rs_url, "com.mut.h", ready="subscribed") as sub:
        assert sub.stdout is not None
        assert run("publish", router.rs_url, "com.mut.h", "1").returncode == 0
        assert sub.stdout.readline() == '{"topic": "com.mut.h", "args": [1], "kwargs": {}}\n'
        sub.stdout.close()  # (head -1 is done)
        deadline = time.monotonic() + 30
        while sub.poll() is None and time.monotonic() < deadline:
            run("publish", router.rs_url, "com.mut.h", "2")
            time.sleep(0.2)
        assert sub.returncode == 0, sub.returncode
        assert sub.stderr is not None
        err = sub.stderr.read()
    assert "session ended" not in err and "Traceback" not in err, err


@pytest.mark.anyio
async def test_bytes_and_dates_print_as_hex_and_iso_8601(router: EmbeddedRouter) -> None:
    """(Mutants C16/C18: bytes as ``str()``, dates without isoformat.) Over CBOR a result of
    bytes prints as hex (``"0102"``, not ``"b'\\\\x01\\\\x02'"``) and a date in ISO 8601
    (``2020-01-02T03:04:05+00:00``, not ``2020-01-02 03:04:05+00:00``)."""
    date = datetime.datetime(2020, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    transport = {"url": router.rs_url, "serializers": ["cbor"]}
    async with wamp_anyio.Session.connect(transport, realm="realm1") as callee:
        await callee.register(lambda: b"\x01\x02", "com.mut.bytes")
        await callee.register(lambda: date, "com.mut.date")
        printed = []
        for procedure in ("com.mut.bytes", "com.mut.date"):
            with anyio.fail_after(60):
                done = await anyio.run_process(
                    [*CLI, "call", router.rs_url, procedure, "--serializer", "cbor"], check=False
                )
            assert done.returncode == 0, done.stderr
            printed.append(done.stdout.decode())
    assert printed == ['"0102"\n', '"2020-01-02T03:04:05+00:00"\n']


def test_an_answer_that_is_not_utf8_still_answers(router: EmbeddedRouter) -> None:
    """(Mutant C32: the command's output decoded strictly.) A command writing a byte that is not
    UTF-8 answers with U+FFFD in its place; strictly decoded, the call failed."""
    with background("register", router.rs_url, "com.mut.latin", "--", "sh", "-c",
                    "printf 'caf\\351'", ready="registered"):  # fmt: skip
        done = run("call", router.rs_url, "com.mut.latin")
    assert (done.returncode, done.stdout) == (0, '"caf\\ufffd"\n'), done.stderr


@pytest.mark.anyio
async def test_several_results_print_as_args_and_kwargs(router: EmbeddedRouter) -> None:
    """(A review: ``CallResult`` is a tuple, so JSON wrote the whole record,
    ``[[1, 2], {"k": 3}, false, {}, null]``, where the documented form is its args and kwargs.)
    A procedure answering with several results or keyword results prints
    ``{"args": [...], "kwargs": {...}}``, NaN in it as the string "NaN"."""
    async with wamp_anyio.Session.connect(router.rs_url, realm="realm1") as callee:
        await callee.register(lambda: wc.CallResult(1, 2, k=3), "com.mut.multi")
        await callee.register(lambda: wc.CallResult(1, float("nan")), "com.mut.multinan")
        printed = []
        for procedure in ("com.mut.multi", "com.mut.multinan"):
            with anyio.fail_after(60):
                command = [*CLI, "call", router.rs_url, procedure]
                done = await anyio.run_process(command, check=False)
            assert done.returncode == 0, done.stderr
            printed.append(done.stdout.decode())
    assert printed == [
        '{"args": [1, 2], "kwargs": {"k": 3}}\n',
        '{"args": [1, "NaN"], "kwargs": {}}\n',
    ]
