"""``wamp-py``: WAMP from the shell (installed as a console script; it does not take the name
``wamp``, which Autobahn's package installs).

    wamp-py call URL PROCEDURE [ARG ...] [--kw KEY=VALUE ...]
    wamp-py publish URL TOPIC [ARG ...] [--kw KEY=VALUE ...]
    wamp-py subscribe URL TOPIC [--match prefix|wildcard]   # one JSON line per event
    wamp-py register URL PROCEDURE -- COMMAND [ARG ...]     # each call runs COMMAND
    wamp-py router [--listen URL ...] [...]                 # the embedded router

Arguments are JSON when they parse as JSON (``3``, ``"x"``, ``[1, 2]``), strings otherwise.
``register`` passes the call's arguments to COMMAND as one JSON line on its standard input
(``{"args": [...], "kwargs": {...}}``) and answers with its standard output (JSON if it
parses, else the text); a non-zero exit answers ``wamp.error.runtime_error``.

Common options: ``--realm`` (default realm1), ``--serializer``, and authentication: ``--authid``
with ``--ticket``, ``--wampcra-secret`` or ``--cryptosign-key FILE`` (a hex private key seed).
Exit status: 0 done, 1 the call or publication failed (the error URI on standard error),
2 usage, 3 no connection or the join was refused, 130/143 stopped by Ctrl-C/SIGTERM.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import math
import os
import sys
from collections.abc import Sequence
from typing import Any

import anyio

import wamp_core as wc

from ._session import Session

__all__ = ["main"]

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_CONNECTION = 3


def _value(text: str) -> Any:
    """JSON when ``text`` parses as JSON (``NaN``, ``Infinity`` and numbers too large for a
    float excepted: JSON has none of them), else the string."""
    try:
        return json.loads(text, parse_constant=_not_json, parse_float=_finite)
    except ValueError:
        return text


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} does not fit a float")
    return value


def _kwargs(items: Sequence[str]) -> dict[str, Any]:
    kwargs = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--kw takes KEY=VALUE, not {item!r}")
        kwargs[key] = _value(value)
    return kwargs


def _authentication(opts: argparse.Namespace) -> dict[str, dict[str, Any]] | None:
    ticket, secret = opts.ticket, opts.wampcra_secret
    if opts.ticket_file is not None:
        ticket = _secret_file(opts.ticket_file, "a ticket")
    if opts.wampcra_secret_file is not None:
        secret = _secret_file(opts.wampcra_secret_file, "a WAMP-CRA secret")
    if ticket is not None:
        return {"ticket": {"authid": opts.authid, "ticket": ticket}}
    if secret is not None:
        return {"wampcra": {"authid": opts.authid, "secret": secret}}
    if opts.cryptosign_key is not None:
        seed = _secret_file(opts.cryptosign_key, "a hex private key seed", key=True)
        return {"cryptosign": {"authid": opts.authid, "privkey": seed}}
    return None


def _secret_file(path: str, what: str, *, key: bool = False) -> str:
    """A secret read from ``path``: its first line without the line break (a key file: the
    whole file, stripped)."""
    try:
        with open(path, encoding="ascii" if key else "utf-8") as f:
            return f.read().strip() if key else f.readline().rstrip("\r\n")
    except UnicodeDecodeError:
        raise OSError(f"{path}: not {what}") from None


def _transport(opts: argparse.Namespace) -> Any:
    """The URL, with the serializer when one is asked for (the URL gives the transport type)."""
    if opts.serializer is None:
        return opts.url
    return {"url": opts.url, "serializers": [opts.serializer]}


def _print(value: Any) -> None:
    """One line of strict JSON (what ``jq`` reads): NaN and the infinities, which JSON has
    not, as the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"``."""
    if isinstance(value, wc.CallResult):  # (a tuple: JSON would write its every field)
        value = _jsonable(value)
    try:
        text = json.dumps(value, default=_jsonable, allow_nan=False)
    except ValueError:
        text = json.dumps(_finite_only(value), default=_jsonable, allow_nan=False)
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _finite_only(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {key: _finite_only(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_only(item) for item in value]
    return value


def _jsonable(value: Any) -> Any:
    """A value JSON has no form for: bytes as hex, a result as its args and kwargs, a date or
    time (CBOR) in ISO 8601, anything else as its ``str()``."""
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, wc.CallResult):
        return {"args": list(value.args), "kwargs": dict(value.kwargs)}
    isoformat = getattr(value, "isoformat", None)
    if callable(isoformat):
        return isoformat()
    if isinstance(value, (set, frozenset)):
        return list(value)
    return str(value)


async def _session_command(opts: argparse.Namespace) -> int:
    try:
        transport, auth = _transport(opts), _authentication(opts)
    except OSError as exc:  # the key file
        sys.stderr.write(f"wamp-py: {exc}\n")
        return EXIT_USAGE
    try:
        async with Session.connect(transport, realm=opts.realm, authentication=auth) as session:
            return await _run(opts, session)
    except (wc.ConfigurationError, wc.LocalProtocolError) as exc:  # the URL, a URI, an argument
        sys.stderr.write(f"wamp-py: {exc}\n")
        return EXIT_USAGE
    except wc.ApplicationError as exc:
        text = str(exc)
        sys.stderr.write(f"wamp-py: {text if text.startswith(exc.error) else exc.error}\n")
        return EXIT_FAILED
    except (wc.TransportError, wc.SessionClosed, wc.AuthenticationError) as exc:
        sys.stderr.write(f"wamp-py: {exc}\n")
        return EXIT_CONNECTION


async def _run(opts: argparse.Namespace, session: Session) -> int:
    args = [_value(a) for a in getattr(opts, "args", [])]
    kwargs = opts.kwargs
    if opts.command == "call":
        _print(await session.call(opts.procedure, *args, **kwargs))
    elif opts.command == "publish":
        await session.publish(opts.topic, *args, options=wc.PublishOptions(acknowledge=True),
                              **kwargs)  # fmt: skip
    elif opts.command == "subscribe":
        options = wc.SubscribeOptions(match=opts.match, details=True)
        reader_gone = False

        def event(*a: Any, details: wc.EventDetails, **k: Any) -> None:
            nonlocal reader_gone
            if reader_gone:
                return
            try:
                _print({"topic": details.topic, "args": list(a), "kwargs": k})
            except BrokenPipeError:  # (``| head -1``: the reader is done, so are we)
                reader_gone = True
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())  # (the interpreter's last flush)
                os.close(devnull)
                session.leave()

        await session.subscribe(event, opts.topic, options)
        sys.stderr.write(f"wamp-py: subscribed to {opts.topic}\n")
        sys.stderr.flush()
        await session.wait_closed()
        if reader_gone:
            return 0
        return _ended(session)
    else:
        await session.register(_runner(opts.run), opts.procedure)
        sys.stderr.write(f"wamp-py: registered {opts.procedure}\n")
        sys.stderr.flush()
        await session.wait_closed()
        return _ended(session)
    return 0


def _ended(session: Session) -> int:
    """``subscribe`` and ``register`` run until stopped: a session that ended otherwise (the
    router went away, or ended it) is a lost connection, said on stderr (status 3)."""
    details = session.close_details
    reason = details.reason if details is not None else "the connection ended"
    message = f": {details.message}" if details is not None and details.message else ""
    sys.stderr.write(f"wamp-py: the session ended ({reason}){message}\n")
    return EXIT_CONNECTION


def _runner(command: Sequence[str]) -> Any:
    async def answer(*args: Any, **kwargs: Any) -> Any:
        request = json.dumps({"args": list(args), "kwargs": kwargs}, default=_jsonable) + "\n"
        output = bytearray()
        # (stderr is the command's own: it goes where wamp-py's goes)
        async with await anyio.open_process(list(command), stderr=None) as process:
            assert process.stdin is not None and process.stdout is not None
            stdin, stdout = process.stdin, process.stdout

            async def feed() -> None:
                # A command that does not read its input (echo, date) may exit first: a broken
                # pipe is not its failure (its exit status says that).
                with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
                    await stdin.send(request.encode())
                with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
                    await stdin.aclose()

            async with anyio.create_task_group() as tg:
                tg.start_soon(feed)
                async for chunk in stdout:
                    output += chunk
            returncode = await process.wait()
        if returncode != 0:
            raise wc.ApplicationError(
                wc.ApplicationError.RUNTIME_ERROR, f"{command[0]} exited with status {returncode}"
            )
        return _value(output.decode(errors="replace").strip())

    return answer


def _parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The command line's parser, and its commands' own parsers by name."""
    parser = argparse.ArgumentParser(
        prog="wamp-py", description="WAMP from the shell: call, publish, subscribe, register, "
        "or run the embedded router.", epilog="Arguments are JSON when they parse as JSON, "
        "strings otherwise. Exit status: 0 done, 1 the call failed, 2 usage, 3 no connection.",
    )  # fmt: skip
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def session_command(name: str, help: str, target: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help)
        sub.set_defaults(command=name, usage_of=sub)  # (usage errors print this command's)
        sub.add_argument("url", metavar="URL", help="router URL (ws://, wss://, rs://, rss://)")
        sub.add_argument(target, metavar=target.upper(), help=f"the {target} URI")
        sub.add_argument("--realm", default="realm1", help="realm (default realm1)")
        sub.add_argument("--serializer", help="json, msgpack, cbor, ... (default: the URL's)")
        sub.add_argument("--authid", help="who to authenticate as")
        auth = sub.add_mutually_exclusive_group()
        auth.add_argument(
            "--ticket", help="authenticate with this ticket (other users see it in ps)"
        )
        auth.add_argument(
            "--ticket-file", metavar="FILE", help="authenticate with the ticket in FILE"
        )
        auth.add_argument(
            "--wampcra-secret", metavar="SECRET",
            help="authenticate with WAMP-CRA (other users see it in ps)",
        )  # fmt: skip
        auth.add_argument(
            "--wampcra-secret-file", metavar="FILE", help="WAMP-CRA with the secret in FILE"
        )
        auth.add_argument(
            "--cryptosign-key",
            metavar="FILE",
            help="authenticate with WAMP-Cryptosign (file: hex private key)",
        )
        return sub

    for name, help in (("call", "call a procedure and print its result as JSON"),
                       ("publish", "publish an event (acknowledged)")):  # fmt: skip
        sub = session_command(name, help, "procedure" if name == "call" else "topic")
        sub.add_argument("args", nargs="*", default=[], metavar="ARG", help="positional arguments")
        sub.add_argument("--kw", action="append", metavar="KEY=VALUE", help="keyword argument")
    sub = session_command("subscribe", "print each event as a JSON line until stopped", "topic")
    sub.add_argument("--match", choices=("exact", "prefix", "wildcard"), default="exact")
    sub = session_command("register", "answer each call by running COMMAND", "procedure")
    sub.add_argument(
        "run",
        nargs=argparse.REMAINDER,
        metavar="-- COMMAND",
        help="the command (after --); it reads the call as JSON on stdin",
    )
    commands.add_parser("router", help="run the embedded router (see: wamp-py router --help)",
                        add_help=False)  # fmt: skip
    return parser, commands.choices


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["router"]:
        from .router import main as router_main  # noqa: PLC0415 - its own parser

        return router_main(argv[1:], prog="wamp-py router")
    parser, commands = _parser()
    if argv[:1] in (["call"], ["publish"]):  # --kw among the arguments: "--kw a=1 2"
        opts = commands[argv[0]].parse_intermixed_args(argv[1:])
    else:  # (register's "-- COMMAND" cannot be parsed intermixed)
        opts = parser.parse_args(argv)
    parser = opts.usage_of
    if opts.command == "register":
        opts.run = opts.run[1:] if opts.run[:1] == ["--"] else opts.run
        if not opts.run:
            parser.error("register needs a command after --")
    secrets = (opts.ticket, opts.ticket_file, opts.wampcra_secret, opts.wampcra_secret_file,
               opts.cryptosign_key)  # fmt: skip
    if any(secret is not None for secret in secrets) and not opts.authid:
        parser.error("--ticket, --wampcra-secret and --cryptosign-key (and their files) "
                     "need --authid")  # fmt: skip
    try:  # checked before connecting: a usage error is one whether a router is up or not
        opts.kwargs = _kwargs(getattr(opts, "kw", None) or [])
    except ValueError as exc:
        parser.error(str(exc))
    logging.basicConfig(level=logging.WARNING, format="wamp-py: %(message)s")
    try:
        return int(anyio.run(_session_command, opts))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
