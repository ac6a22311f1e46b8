"""autobahn-js (npm, on Node) as a foreign client of the embedded router.

Each test runs ``tests/peers/autobahn_js/peer.js`` (autobahn 26.3.1 with ws 8, pinned in the
``package.json`` beside it) against one module-scoped :class:`embedded.EmbeddedRouter` and
compares the JSON lines it prints, one per observed outcome, exactly:

- ``rpc``: args/kwargs both ways with caller disclosure, a single result, no result, the
  callee's ``autobahn.Error`` with args/kwargs, a thrown non-error (``wamp.error.runtime_error``),
  ``no_such_procedure``, progressive results (the callee's ``details.progress`` to a caller that
  asked with ``receive_progress``; a caller that did not is offered none): over WebSocket with
  json, msgpack and cbor, and over RawSocket (TCP and unix) with json;
- ``pubsub``: exact, prefix and wildcard subscriptions (``details.topic``), ``acknowledge``, and a
  publication to an invalid URI answered ERROR ``wamp.error.invalid_uri``: the same transports;
- ``shared``: two callees with ``invoke: 'roundrobin'`` alternate; a third asking for another
  policy, or for a single registration, gets
  ``procedure_exists_with_different_invocation_policy``;
- ``filter``: ``exclude_me``, ``exclude``/``eligible`` by session ID, authid and authrole (and
  ``eligible: []`` means nobody);
- ``auth``: ticket, WAMP-CRA (plain and salted), WAMP-Cryptosign with the principals of
  ``crossbar.py``; a wrong ticket, a wrong WAMP-CRA secret and an unknown authid are refused;
- ``kill``: ``wamp.session.kill`` from another session: the victim gets GOODBYE with the reason
  and is gone from the realm;
- ``mixed``: a Python client (``wamp_anyio.connect``) and autobahn-js call each other's
  procedures (results, errors with args/kwargs; ``bytes`` both ways with msgpack) and receive each
  other's events, over WebSocket with json and msgpack, and over RawSocket (autobahn-js json,
  Python msgpack: the router translates).

The npm packages are installed on first use into ``$WAMP_CACHE_DIR/autobahn-js-<version>/``
(default ``~/.cache/wamp-py``; ``npm ci`` from the committed lock file, a few seconds) and reused
while ``package.json`` and ``package-lock.json`` are unchanged. Without node or npm, or when the
install fails, the tests fail in CI (``CI=true``) and skip elsewhere.

autobahn-js on this machine (see ``/work/shared/reference/foreign-clients.md``):

- autobahn 26 declares ``node >= 22`` and uses Node 22's ``WebSocket`` global: on Node 20 npm
  warns ``EBADENGINE`` and installs the pin; ``peer.js`` sets ``globalThis.WebSocket`` to a ``ws``
  subclass with an ``'error'`` listener (without it a refused connection kills node with an
  unhandled ``'error'`` event).
- Its RawSocket transport speaks json only (``peer.js`` refuses other serializers there), and its
  json serializer has no binary convention: ``bytes`` are exchanged with msgpack only.
- It answers a router's GOODBYE with ``wamp.error.goodbye_and_out`` (spec:
  ``wamp.close.goodbye_and_out``); no scenario here has the router close a session.
- Its callee announces no ``call_canceling`` (a cancel to it is ``skip`` without INTERRUPT), and
  ``promise.cancel()`` for ``skip``/``killnowait`` forgets the request so the router's ERROR makes
  it drop its transport: cancellation is left to the Python clients' tests.
- An event handler gets ``details.topic`` from the router only for pattern subscriptions; for an
  exact one autobahn-js fills in the subscribed topic itself.

- An ABORT after WELCOME (a router ending a joined session for a protocol violation) is not
  handled: autobahn-js fails its own transport ("unexpected message type 3"), so ``onclose`` has
  no reason, and its report of that reads "Unhandled exception raised: undefined" (session.js
  builds it with ``Error(...)``, which there is its own WAMP error class, not JavaScript's).

The embedded router, seen from autobahn-js: everything above holds. The refused logins carry
``wamp.error.authentication_failed`` / ``wamp.error.no_such_principal`` (Crossbar says
``wamp.error.not_authorized`` for a wrong ticket; all are spec URIs), and the router's own ERROR
texts (``no callee for ...``) appear as error args. This peer found one router bug, fixed since
(``test_kill_reason_and_message_as_the_spec_says``): ``wamp.session.kill`` dropped its
``message`` keyword, and a ``reason`` that is no URI aborted the caller instead of an ERROR and
left the victim unkillable.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple, NoReturn

import anyio
import pytest
from anyio.streams.buffered import BufferedByteReceiveStream

import crossbar as cb
import wamp_anyio
import wamp_core as wc
from embedded import EmbeddedRouter

PEER_DIR = Path(__file__).resolve().parent / "peers" / "autobahn_js"
PEER = PEER_DIR / "peer.js"
#: What npm installs from (copied into the cache directory).
NPM_FILES = ("package.json", "package-lock.json")
AUTOBAHN_VERSION: str = json.loads((PEER_DIR / "package.json").read_text(encoding="utf-8"))[
    "dependencies"
]["autobahn"]
NPM_TIMEOUT = 300.0
PEER_TIMEOUT = 30.0


def _cache_dir() -> Path:
    """Where the npm packages live: as ``tools/setup.sh`` caches Crossbar."""
    base = os.environ.get("WAMP_CACHE_DIR") or str(Path.home() / ".cache" / "wamp-py")
    return Path(base) / f"autobahn-js-{AUTOBAHN_VERSION}"


def _unavailable(reason: str) -> NoReturn:
    """Fail in CI (``CI=true``), skip elsewhere."""
    if os.environ.get("CI", "").lower() in ("true", "1"):
        pytest.fail(f"autobahn-js is unavailable: {reason} (CI=true: required)", pytrace=False)
    pytest.skip(f"autobahn-js is unavailable: {reason} (fails instead when CI=true)")


def _install(node: str, npm: str) -> Path:
    """``node_modules`` of the pinned packages, installed into the cache on first use (one
    installer at a time: a lock file in the cache directory)."""
    target = _cache_dir()
    target.mkdir(parents=True, exist_ok=True)
    with (target / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _install_locked(node, npm, target)


def _install_locked(node: str, npm: str, target: Path) -> Path:
    sources = [(PEER_DIR / name).read_bytes() for name in NPM_FILES]
    stamp_value = hashlib.sha256(b"\0".join(sources)).hexdigest()
    stamp = target / ".installed"
    modules = target / "node_modules"
    if stamp.is_file() and stamp.read_text(encoding="utf-8") == stamp_value:
        return modules
    stamp.unlink(missing_ok=True)
    for name, data in zip(NPM_FILES, sources, strict=True):
        (target / name).write_bytes(data)
    try:
        proc = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=target,
            capture_output=True, text=True, timeout=NPM_TIMEOUT, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        _unavailable(f"npm ci in {target} took longer than {NPM_TIMEOUT:.0f} s")
    if proc.returncode != 0:
        _unavailable(f"npm ci in {target} failed:\n{(proc.stdout + proc.stderr)[-3000:]}")
    check = subprocess.run(
        [node, "-e", "require('autobahn'); require('ws')"], env=_node_env(modules),
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    if check.returncode != 0:
        _unavailable(f"the installed autobahn-js does not load:\n{check.stderr[-3000:]}")
    stamp.write_text(stamp_value, encoding="utf-8")
    return modules


def _node_env(modules: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("AUTOBAHN_")}
    env["NODE_PATH"] = str(modules)
    return env


class Node(NamedTuple):
    """How to run ``peer.js``: the node executable and its environment (``NODE_PATH`` to the
    cached packages)."""

    executable: str
    env: dict[str, str]


@pytest.fixture(scope="module")
def node() -> Node:
    executable, npm = shutil.which("node"), shutil.which("npm")
    if executable is None or npm is None:
        _unavailable("node and npm must be on PATH (Node >= 20)")
    return Node(executable, _node_env(_install(executable, npm)))


@pytest.fixture(scope="module")
def router() -> Iterator[EmbeddedRouter]:
    with EmbeddedRouter() as embedded:
        yield embedded


def _url(router: EmbeddedRouter, transport: str) -> str:
    return {
        "websocket": router.ws_url,
        "rawsocket": router.rs_url,
        "rawsocket-unix": f"rs://unix:{router.unix_path}",
    }[transport]


def run_peer(
    node: Node, scenario: str, url: str, serializer: str = "json", *extra: str
) -> list[dict[str, Any]]:
    """Run one scenario of ``peer.js``; its outcomes, one dict per printed line."""
    proc = subprocess.run(
        [node.executable, str(PEER), scenario, url, serializer, *extra], env=node.env,
        capture_output=True, text=True, timeout=PEER_TIMEOUT, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    return [json.loads(line) for line in proc.stdout.splitlines()]


TRANSPORTS = [
    ("websocket", "json"),
    ("websocket", "msgpack"),
    ("websocket", "cbor"),
    ("rawsocket", "json"),
    ("rawsocket-unix", "json"),
]


@pytest.mark.parametrize(("transport", "serializer"), TRANSPORTS)
def test_rpc(node: Node, router: EmbeddedRouter, transport: str, serializer: str) -> None:
    lines = run_peer(node, "rpc", _url(router, transport), serializer)
    progress = [{"args": [n], "kwargs": {"left": n}} for n in (3, 2, 1)]
    assert lines == [
        {"check": "call", "args": [50],
         "kwargs": {"sum": 5, "procedure": "com.js.add", "caller": True}},
        {"check": "single result", "result": {"nested": [1, "two", None, True, 2.5]}},
        {"check": "no result", "result": None},
        {"check": "application error", "error": "com.js.failed", "args": ["no", 7],
         "kwargs": {"why": "because"}},
        {"check": "runtime error", "error": "wamp.error.runtime_error", "args": ["boom"],
         "kwargs": {}},
        {"check": "no_such_procedure", "error": "wamp.error.no_such_procedure",
         "args": ["no callee for 'com.js.nobody'"], "kwargs": {}},
        {"check": "progressive results", "progress": progress,
         "final": {"args": ["liftoff"], "kwargs": {"progress_offered": True}}},
        {"check": "no progress asked", "args": ["liftoff"],
         "kwargs": {"progress_offered": False}},
        {"check": "left"},
    ]  # fmt: skip


@pytest.mark.parametrize(("transport", "serializer"), TRANSPORTS)
def test_pubsub(node: Node, router: EmbeddedRouter, transport: str, serializer: str) -> None:
    lines = run_peer(node, "pubsub", _url(router, transport), serializer)

    def event(sub: str, topic: str, args: list[Any], kwargs: dict[str, Any]) -> dict[str, Any]:
        # "publisher": disclosed, as the router runs with --disclose
        return {"check": "event", "sub": sub, "topic": topic, "args": args, "kwargs": kwargs,
                "publisher": True}  # fmt: skip

    first = ([1, "x"], {"k": {"v": [True]}})
    assert lines == [
        {"check": "acknowledge", "publication": "number", "id_is_integer": True},
        {"check": "invalid topic", "error": "wamp.error.invalid_uri"},
        event("wildcard", "com.js.other.a", [], {"only": "wildcard"}),
        event("exact", "com.js.topic.a", *first),
        event("prefix", "com.js.topic.a", *first),
        event("wildcard", "com.js.topic.a", *first),
        event("prefix", "com.js.topic.a.deep", ["prefix again"], {}),
        event("prefix", "com.js.topic.b", ["prefix only"], {}),
    ]


def test_shared_registration_round_robin(node: Node, router: EmbeddedRouter) -> None:
    assert run_peer(node, "shared", router.ws_url) == [
        {"check": "roundrobin", "picks": ["first", "second", "first", "second"]},
        # another policy: its own URI, as Crossbar.io answers
        {"check": "register refused", "options": {"invoke": "first"},
         "error": "wamp.error.procedure_exists_with_different_invocation_policy"},
        {"check": "register refused", "options": {},
         "error": "wamp.error.procedure_exists_with_different_invocation_policy"},
    ]  # fmt: skip


def test_publisher_exclusion_and_black_white_lists(node: Node, router: EmbeddedRouter) -> None:
    # A publishes each label; B and C subscribe too (all anonymous, authrole "anonymous").
    assert run_peer(node, "filter", router.ws_url) == [
        {"check": "received",
         "A": ["exclude_me false", "exclude B", "eligible A B, exclude B", "exclude_authid C"],
         "B": ["default", "exclude_me false", "eligible B", "exclude_authid C",
               "eligible_authrole anonymous"],
         "C": ["default", "exclude_me false", "exclude B", "eligible_authid C",
               "eligible_authrole anonymous"]},
    ]  # fmt: skip


@pytest.mark.parametrize("transport", ["websocket", "rawsocket"])
def test_authentication(node: Node, router: EmbeddedRouter, transport: str) -> None:
    credentials = [
        cb.TICKET_AUTHID, cb.TICKET_SECRET, cb.WAMPCRA_AUTHID, cb.WAMPCRA_SECRET,
        cb.WAMPCRA_SALTED_AUTHID, cb.WAMPCRA_SALTED_SECRET, cb.CRYPTOSIGN_AUTHID,
        cb.CRYPTOSIGN_SEED.hex(),
    ]  # fmt: skip
    lines = run_peer(node, "auth", _url(router, transport), "json", *credentials)

    def joined(label: str, authid: str, method: str) -> dict[str, Any]:
        return {"check": "joined", "label": label, "authid": authid, "authrole": "user",
                "authmethod": method, "meta_authid": authid}  # fmt: skip

    def refused(label: str, error: str) -> dict[str, Any]:
        return {"check": "refused", "label": label, "reason": "closed", "error": error}

    assert lines == [
        joined("ticket", cb.TICKET_AUTHID, "ticket"),
        joined("wampcra", cb.WAMPCRA_AUTHID, "wampcra"),
        joined("wampcra salted", cb.WAMPCRA_SALTED_AUTHID, "wampcra"),
        joined("cryptosign", cb.CRYPTOSIGN_AUTHID, "cryptosign"),
        refused("wrong ticket", "wamp.error.authentication_failed"),
        refused("wrong wampcra secret", "wamp.error.authentication_failed"),
        refused("unknown authid", "wamp.error.no_such_principal"),
    ]


def test_router_kills_a_session(node: Node, router: EmbeddedRouter) -> None:
    # wamp.session.kill: the router's GOODBYE reaches autobahn-js with the reason, and its
    # (misnamed) 'wamp.error.goodbye_and_out' answer ends the session.
    lines = run_peer(node, "kill", router.ws_url)
    assert [line for line in lines if line["check"] != "goodbye message"] == [
        {"check": "kill", "result": None},
        {"check": "killed", "reason": "com.js.kicked"},
        {"check": "victim gone", "error": "wamp.error.no_such_session",
         "args": [lines[-1]["args"][0]], "kwargs": {}},
    ]  # fmt: skip
    assert lines[-1]["args"][0].startswith("no session ")


def test_kill_reason_and_message_as_the_spec_says(node: Node, router: EmbeddedRouter) -> None:
    lines = run_peer(node, "kill-invalid-reason", router.ws_url)
    assert lines[0]["check"] == "kill with an invalid reason"
    assert lines[0].get("error") in ("wamp.error.invalid_uri", "wamp.error.invalid_argument")
    assert lines[1:4] == [
        {"check": "kill", "result": None},
        {"check": "killed", "reason": "com.js.kicked"},
        {"check": "goodbye message", "message": "bye"},
    ]  # fmt: skip


# ------------------------------------------------------------------------------------------------
# The Python client and autobahn-js together


async def _python_side(
    transport: dict[str, Any], command: list[str], env: dict[str, str], binary: bool
) -> tuple[list[dict[str, Any]], list[Any], str]:
    """Serve and subscribe, run ``peer.js mixed``, then call and publish to it once it says
    ``ready``: what it printed, what the Python side saw, and its stderr."""
    seen: list[Any] = []
    event_arrived = anyio.Event()
    lines: list[dict[str, Any]] = []
    errors: list[bytes] = []

    def add(a: int, b: int, unit: str = "") -> wc.CallResult:
        return wc.CallResult(a + b, by="py", unit=unit)

    def fail(n: int) -> None:
        raise wc.ApplicationError("com.mixed.py.failed", "py says no", n, code=7)

    def on_event(*args: Any, details: wc.EventDetails, **kwargs: Any) -> None:
        seen.append(("event", details.topic, list(args), kwargs))
        event_arrived.set()

    async def its_turn(session: wamp_anyio.Session) -> None:
        await event_arrived.wait()
        result = await session.call("com.mixed.js.add", 1, 2, unit="y")
        seen.append(("call js", result.args, result.kwargs))
        try:
            await session.call("com.mixed.js.fail")
        except wc.ApplicationError as exc:
            seen.append(("call js error", exc.error, list(exc.args), exc.kwargs))
        if binary:
            seen.append(("call js bytes", await session.call("com.mixed.js.bytes", b"\0\1")))
        ack = wc.PublishOptions(acknowledge=True)
        await session.publish("com.mixed.py.hello", "from py", n=2, options=ack)
        await session.publish("com.mixed.py.done", options=ack)

    async with wamp_anyio.connect(transport, realm="realm1") as session:
        await session.register(add, "com.mixed.py.add")
        await session.register(fail, "com.mixed.py.fail")
        await session.register(lambda data: data[::-1], "com.mixed.py.bytes")
        await session.subscribe(
            on_event, "com.mixed.js.", wc.SubscribeOptions(match="prefix", details_arg="details")
        )
        async with await anyio.open_process(command, env=env, stdin=subprocess.DEVNULL) as proc:
            assert proc.stdout is not None and proc.stderr is not None
            stdout = BufferedByteReceiveStream(proc.stdout)
            stderr = proc.stderr

            async def read_line() -> dict[str, Any] | None:
                try:
                    line = await stdout.receive_until(b"\n", 1 << 20)
                except (anyio.EndOfStream, anyio.IncompleteRead):
                    return None
                parsed: dict[str, Any] = json.loads(line)
                lines.append(parsed)
                return parsed

            async def drain_stderr() -> None:
                async for chunk in stderr:
                    errors.append(chunk)

            try:
                with anyio.fail_after(PEER_TIMEOUT):
                    async with anyio.create_task_group() as tg:
                        tg.start_soon(drain_stderr)
                        while (line := await read_line()) is not None and line["check"] != "ready":
                            pass
                        if line is not None:
                            await its_turn(session)
                        while await read_line() is not None:
                            pass
                        await proc.wait()
            except BaseException:
                if proc.returncode is None:  # not left waiting for an event that will not come
                    proc.kill()
                raise
    return lines, seen, b"".join(errors).decode(errors="replace")


@pytest.mark.parametrize(
    ("transport", "serializer", "python_serializer"),
    [("websocket", "json", "json"), ("websocket", "msgpack", "msgpack"),
     ("rawsocket", "json", "msgpack")],
)  # fmt: skip
def test_python_and_autobahn_js_together(
    node: Node, router: EmbeddedRouter, transport: str, serializer: str, python_serializer: str,
) -> None:  # fmt: skip
    url = _url(router, transport)
    key = "serializers" if transport == "websocket" else "serializer"
    value: Any = [python_serializer] if transport == "websocket" else python_serializer
    python_transport = {"type": transport, "url": url, key: value}
    binary = serializer != "json"
    command = [node.executable, str(PEER), "mixed", url, serializer]
    lines, seen, stderr = anyio.run(_python_side, python_transport, command, node.env, binary)
    assert lines[-1:] == [{"check": "left"}], (lines, stderr)
    assert lines == [
        {"check": "call py", "args": [42], "kwargs": {"by": "py", "unit": "x"}},
        {"check": "call py error", "error": "com.mixed.py.failed", "args": ["py says no", 1],
         "kwargs": {"code": 7}},
        *([{"check": "call py bytes", "buffer": True, "hex": "ff0100"}] if binary else []),
        {"check": "published", "acknowledged": True},
        {"check": "ready"},
        {"check": "invoked", "args": [1, 2], "kwargs": {"unit": "y"}, "caller_known": True},
        *([{"check": "bytes in", "buffer": True, "hex": "0001"}] if binary else []),
        {"check": "events from py",
         "events": [{"topic": "com.mixed.py.hello", "args": ["from py"], "kwargs": {"n": 2}}]},
        {"check": "left"},
    ], stderr  # fmt: skip
    assert seen == [
        ("event", "com.mixed.js.event", ["from js"], {"n": 1}),
        ("call js", [3], {"by": "js"}),
        ("call js error", "com.mixed.js.failed", ["js says no"], {"code": 42}),
        *([("call js bytes", b"\0\1\xfe")] if binary else []),
    ]
