"""The embedded router served by wamp_anyio, on asyncio and trio: our clients over RawSocket and
WebSocket with several serializers, a Component's whole lifecycle, and Autobahn|Python (PyPI)
as a foreign client calling and subscribing through it."""

from __future__ import annotations

import contextlib
import errno
import inspect
import json
import logging
import os
import re
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import anyio
import pytest

import wamp_anyio
import wamp_anyio as wamp
import wamp_core as wc
from embedded import router_program as _router_program
from faultproxy import fault_proxy, rejoined_after_a_half_open_link
from raw_client import RawClient
from wamp_anyio import _router, router as router_program
from wamp_core import driver
from wamp_core.events import MessageReceived

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("wamp")]

TIMEOUT = 20


def _transport(url: str, serializer: str) -> dict[str, Any]:
    if url.startswith("rs"):
        return {"type": "rawsocket", "url": url, "serializer": serializer}
    return {"type": "websocket", "url": url, "serializers": [serializer]}


@pytest.mark.parametrize("serializer", ["json", "msgpack", "cbor", "ubjson"])
@pytest.mark.parametrize("kind", ["rs", "ws", "unix"])
async def test_rpc_and_pubsub_through_the_embedded_router(
    anyio_backend: str, kind: str, serializer: str
) -> None:
    short_dir = tempfile.mkdtemp(prefix="wamp-")  # a unix socket path must stay short
    listen = {"rs": "rs://127.0.0.1:0", "ws": "ws://127.0.0.1:0/ws",
              "unix": f"rs://unix:{short_dir}/router.sock"}[kind]  # fmt: skip
    with anyio.fail_after(TIMEOUT):
        async with wamp_anyio.start_router([listen]) as router:
            (url,) = router.urls
            transport = _transport(url, serializer)
            async with wamp.connect(transport) as a, wamp.connect(transport) as b:
                await b.register(lambda x, y=1, **kw: [x * y, kw], "com.mul")
                got: list[Any] = []
                done = anyio.Event()

                def on_event(*args: Any, **kwargs: Any) -> None:
                    got.append((args, kwargs))
                    if len(got) == 3:
                        done.set()

                await b.subscribe(on_event, "com.t", wc.SubscribeOptions(match="prefix"))
                result = await a.call("com.mul", 6, y=7, options=wc.CallOptions(details=True))
                assert result.args == [[42, {}]]
                for i in range(3):
                    await a.publish("com.t.x", i, k=b"\x00bin" if serializer != "json" else "s")
                await done.wait()
                assert [args for args, _ in got] == [(0,), (1,), (2,)]
                with pytest.raises(wc.ApplicationError) as info:
                    await a.call("com.none")
                assert info.value.error == "wamp.error.no_such_procedure"


async def test_a_component_runs_its_lifecycle_on_the_embedded_router(anyio_backend: str) -> None:
    seen: list[str] = []
    async with wamp_anyio.start_router(["ws://127.0.0.1:0/ws"]) as router:

        async def main(session: wamp.Session) -> None:
            seen.append(f"main {await session.call('com.echo', 'hi')}")

        component = wamp.Component(main=main, transports=router.urls[0], realm="realm1")

        @component.register("com.echo")
        def echo(x: Any) -> Any:
            return x

        @component.on_join
        async def joined(session: wamp.Session, details: Any) -> None:
            seen.append("join")

        @component.on_leave
        async def left(session: wamp.Session, details: Any) -> None:
            seen.append("leave")

        with anyio.fail_after(TIMEOUT):
            await component.run()
    assert seen == ["join", "main hi", "leave"]


async def test_unknown_realm_and_shutdown_reach_the_client(anyio_backend: str) -> None:
    async with wamp_anyio.start_router(["rs://127.0.0.1:0"]) as router:
        transport = _transport(router.urls[0], "msgpack")
        with pytest.raises(wc.WampError, match="no_such_realm"):
            async with wamp.connect(transport, realm="nope"):
                pass
        async with wamp.connect(transport) as session:
            router.router.shutdown()  # what leaving the router's block does first
            with anyio.fail_after(TIMEOUT):
                await session.wait_closed()
            assert session.close_details is not None
            assert session.close_details.reason == "wamp.close.system_shutdown"


AUTOBAHN_CLIENT = """
import sys
from autobahn.asyncio.component import Component, run
from autobahn.wamp.types import PublishOptions

kind, url, serializer = sys.argv[1:4]
transport = {"type": kind, "url": url}
transport["serializer" if kind == "rawsocket" else "serializers"] = (
    serializer if kind == "rawsocket" else [serializer])
component = Component(transports=[transport], realm="realm1")

@component.register("com.ab.add")
def add(a, b):
    return a + b

@component.subscribe("com.ours.event")
def on_ours(*args, **kwargs):
    print("autobahn got event", args, flush=True)

@component.on_ready
async def ready(session):
    print("autobahn got result", await session.call("com.ours.mul", 6, 7), flush=True)
    await session.publish("com.ab.event", "hi", options=PublishOptions(acknowledge=True))
    print("autobahn ready", flush=True)

run([component], log_level="warn")
"""


@pytest.mark.parametrize(("kind", "serializer"), [("websocket", "json"), ("rawsocket", "msgpack")])
async def test_autobahn_is_a_peer_through_the_embedded_router(
    anyio_backend: str, kind: str, serializer: str
) -> None:
    pytest.importorskip("autobahn", reason="the bench extra installs Autobahn|Python")
    listen = "ws://127.0.0.1:0/ws" if kind == "websocket" else "rs://127.0.0.1:0"
    async with wamp_anyio.start_router([listen]) as router:
        url = router.urls[0]
        async with wamp.connect(_transport(url, serializer)) as ours:
            await ours.register(lambda a, b: a * b, "com.ours.mul")
            got = anyio.Event()
            await ours.subscribe(lambda text: got.set(), "com.ab.event")
            process = await anyio.open_process(
                [sys.executable, "-c", AUTOBAHN_CLIENT, kind, url, serializer],
                stderr=subprocess.STDOUT,
            )
            try:
                with anyio.fail_after(TIMEOUT):
                    await got.wait()
                    while await ours.call("com.ab.add", 2, 3) != 5:  # pragma: no cover
                        await anyio.sleep(0.05)
                    await ours.publish("com.ours.event", "to autobahn")
                    output = b""
                    assert process.stdout is not None
                    while b"autobahn got event" not in output:
                        output += await process.stdout.receive()
                    assert b"autobahn got result 42" in output
            finally:
                process.kill()
                await process.aclose()


async def test_the_router_program_serves_and_shuts_down_cleanly(anyio_backend: str) -> None:
    """``python -m wamp_anyio.router``: prints where it listens; SIGTERM says GOODBYE
    system_shutdown to the joined session and exits 0."""
    async with (
        _router_program("--realm", "realm1", "--realm", "other") as (process, url),
        wamp.connect(_transport(url, "cbor"), realm="other") as session,
    ):
        process.terminate()
        with anyio.fail_after(TIMEOUT):
            await session.wait_closed()
            assert await process.wait() == 0
    assert session.close_details is not None
    assert session.close_details.reason == "wamp.close.system_shutdown"


def test_the_demo_runs_on_the_embedded_router() -> None:
    """The README's first command's job (``tools/run_demo.py`` with its default router)."""
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.run(
        [sys.executable, str(root / "tools" / "run_demo.py")],
        capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "demo: OK" in proc.stdout
    # the component: wamp_anyio on 2 backends and wamp_trio, x 3 transports
    assert proc.stdout.count("2 + 3 = 5") == 9
    assert proc.stdout.count("call result: 5") == 3  # the hand-driven client


#: Client scenarios written for Crossbar that do not apply to this router: Crossbar's refusal
#: of FlatBuffers (this router speaks it), event retention (this router has none: documented).
NOT_APPLICABLE = "not refused_transport_handshake and not retained_event"


def test_the_client_scenarios_pass_on_the_embedded_router() -> None:
    """The Crossbar test files of the anyio driver, run with the embedded router in Crossbar's
    place (``WAMP_TEST_ROUTER=embedded``): every scenario that applies passes."""
    root = Path(__file__).resolve().parent.parent
    files = ["test_anyio_session_api.py", "test_anyio_slice.py", "test_anyio_interop.py",
             "test_anyio_plain_loop.py", "test_anyio_matrix.py"]  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--no-cov",
         "-k", NOT_APPLICABLE, *(str(root / "tests" / f) for f in files)],
        cwd=root, capture_output=True, text=True, timeout=600, check=False,
        env={**os.environ, "WAMP_TEST_ROUTER": "embedded"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-5000:]
    assert " passed" in proc.stdout and "failed" not in proc.stdout


@pytest.mark.parametrize(
    "authentication",
    [
        {"ticket": {"authid": "alice", "ticket": "open sesame"}},
        {"wampcra": {"authid": "peter", "secret": "secret1"}},
        {"wampcra": {"authid": "salty", "secret": "secret1"}},
        {"cryptosign": {"authid": "carol", "privkey": "4d" * 32}},
    ],
)
async def test_ticket_wampcra_cryptosign_through_the_embedded_router(
    anyio_backend: str, authentication: dict[str, Any]
) -> None:
    principals = [
        wc.Principal("alice", role="staff", ticket="open sesame"),
        wc.Principal("peter", secret="secret1"),
        wc.Principal("salty", secret="secret1", salt="salt123", iterations=1000, keylen=32),
        wc.Principal("carol", pubkeys=(wc.auth.cryptosign_pubkey("4d" * 32),)),
    ]
    async with wamp_anyio.start_router(["ws://127.0.0.1:0/ws"], principals=principals,
                                       anonymous=False) as router:  # fmt: skip
        with anyio.fail_after(TIMEOUT):
            async with wamp.connect(router.urls[0],
                                          authentication=authentication) as session:  # fmt: skip
                assert session.details is not None
                ((method, config),) = authentication.items()
                assert session.details.authid == config["authid"]
                assert session.details.authmethod == method
            secret_key = next(k for k in config if k != "authid")
            wrong = {method: {**config, secret_key: "5e" * 32 if method == "cryptosign"
                              else "wrong"}}  # fmt: skip
            failure = "no_such_principal" if method == "cryptosign" else "authentication_failed"
            with pytest.raises(wc.WampError, match=failure):
                async with wamp.connect(router.urls[0], authentication=wrong):
                    pass


@pytest.mark.parametrize("scheme", ["rs", "ws", "unix"])
async def test_a_refused_login_is_logged_with_the_peer_address(
    anyio_backend: str, caplog: pytest.LogCaptureFixture, scheme: str, tmp_path: Path
) -> None:
    """The log line of a refused login names the client's address (an operator may block it),
    never the ticket it tried."""
    principals = [wc.Principal("alice", ticket="open sesame")]
    caplog.set_level(logging.INFO, logger="wamp_core._router")
    url = f"rs://unix:{tmp_path / 'r.sock'}" if scheme == "unix" else f"{scheme}://127.0.0.1:0"
    async with wamp_anyio.start_router([url], principals=principals,
                                       anonymous=False) as router:  # fmt: skip
        with anyio.fail_after(TIMEOUT), pytest.raises(wc.WampError, match="authentication_fail"):
            wrong = {"ticket": {"authid": "alice", "ticket": "a-guessed-one"}}
            async with wamp.connect(router.urls[0], authentication=wrong):
                pass
    (line,) = [r.getMessage() for r in caplog.records if "login refused" in r.getMessage()]
    peer = "unix socket:" if scheme == "unix" else "127.0.0.1:"
    assert rf"authmethod 'ticket', authid 'alice', peer {peer}" in line, line
    assert "a-guessed-one" not in caplog.text


async def test_the_dealer_times_out_a_call_the_callee_does_not_answer(anyio_backend: str) -> None:
    interrupted = anyio.Event()

    async def never(*_: Any) -> None:
        try:
            await anyio.sleep_forever()
        finally:
            interrupted.set()

    async with wamp_anyio.start_router(["rs://127.0.0.1:0"]) as router:
        transport = _transport(router.urls[0], "msgpack")
        async with wamp.connect(transport) as callee, wamp.connect(transport) as a:
            await callee.register(never, "com.never")
            with anyio.fail_after(TIMEOUT):
                with pytest.raises(wc.ApplicationError) as info:
                    await a.call("com.never", options=wc.CallOptions(timeout=0.2))
                assert info.value.error == "wamp.error.timeout"
                await interrupted.wait()  # the callee was told to stop


async def _raw_subscriber(
    url: str, topic: str
) -> tuple[anyio.abc.SocketStream, wc.RawSocket, wc.Serializer]:
    """A hand-driven RawSocket + msgpack session on the router at ``url`` that has sent HELLO
    and SUBSCRIBE to ``topic`` and reads nothing more until the test does."""
    host, port = url.removeprefix("rs://").rsplit(":", 1)
    raw = await anyio.connect_tcp(host, int(port))
    framer = wc.RawSocket(wc.Role.CLIENT, serializer="msgpack")
    framer.initiate()
    await raw.send(framer.data_to_send())
    framer.receive_data(await raw.receive(4))  # the router's handshake reply
    codec = wc.get_serializer("msgpack")
    hello = wc.messages.Hello(realm="realm1", details={"roles": {"subscriber": {}}})
    framer.send_message(codec.encode(hello))
    framer.send_message(codec.encode(wc.messages.Subscribe(request_id=1, topic=topic)))
    await raw.send(framer.data_to_send())
    return raw, framer, codec


async def _raw_hello(url: str, roles: dict[str, Any]) -> Any:
    """What the router at ``url`` answers a hand-made HELLO with ``roles`` (RawSocket, msgpack)."""
    host, port = url.removeprefix("rs://").rsplit(":", 1)
    async with await anyio.connect_tcp(host, int(port)) as raw:
        framer = wc.RawSocket(wc.Role.CLIENT, serializer="msgpack")
        framer.initiate()
        await raw.send(framer.data_to_send())
        framer.receive_data(await raw.receive(4))  # the router's handshake reply
        codec = wc.get_serializer("msgpack")
        framer.send_message(
            codec.encode(wc.messages.Hello(realm="realm1", details={"roles": roles}))
        )
        await raw.send(framer.data_to_send())
        while True:
            for event in framer.receive_data(await raw.receive()):
                if isinstance(event, MessageReceived):
                    return codec.decode(event.data)


async def test_a_malformed_hello_or_an_engine_failure_does_not_stop_the_router(
    anyio_backend: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HELLO roles the engine cannot read (``features: 1``) are refused with ABORT, and should
    the engine fail while it passes call deadlines, the failure is logged and the router goes
    on: one client never stops it for the others."""
    caplog.set_level(logging.ERROR, logger="wamp_anyio")
    failures: list[Exception] = []

    async with (
        wamp_anyio.start_router(["rs://127.0.0.1:0"]) as router,
        wamp.connect(_transport(router.urls[0], "msgpack")) as good,
    ):
        tick = router.router.tick

        def failing_tick(now: float) -> None:
            if failures:
                raise failures.pop()
            tick(now)

        await good.register(lambda: 42, "com.good")
        with anyio.fail_after(TIMEOUT):
            abort = await _raw_hello(router.urls[0], {"caller": {}, "callee": {"features": 1}})
            assert isinstance(abort, wc.messages.Abort)
            assert abort.reason == "wamp.error.protocol_violation"
            monkeypatch.setattr(router.router, "tick", failing_tick)
            failures += [RuntimeError("the engine failed")] * 3
            while failures:  # the router's clock task fails (nothing is read meanwhile)
                await anyio.sleep(0.05)
            assert await good.call("com.good") == 42
            failures.append(RuntimeError("the engine failed"))
            assert await good.call("com.good") == 42  # (failing from a read or the clock task)
    logged = [r.getMessage() for r in caplog.records]
    assert "the router engine failed passing call deadlines" in logged


async def test_a_client_vanishing_mid_burst_does_not_stop_the_router(anyio_backend: str) -> None:
    """A subscriber's socket is reset while the router writes a burst to it: its session ends
    as if it left, and the router goes on serving everyone else."""

    async with wamp_anyio.start_router(["rs://127.0.0.1:0"]) as router:
        transport = _transport(router.urls[0], "msgpack")
        async with wamp.connect(transport) as publisher:
            raw, _, _ = await _raw_subscriber(router.urls[0], "burst")
            with anyio.fail_after(TIMEOUT):
                while await publisher.call("wamp.session.count") < 2:
                    await anyio.sleep(0.01)
                await anyio.sleep(0.1)
                for i in range(3000):
                    await publisher.publish("burst", "x" * 500, i)
                    if i == 100:  # reset the subscriber's socket mid-burst
                        sock = raw.extra(anyio.abc.SocketAttribute.raw_socket)
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                        struct.pack("ii", 1, 0))  # fmt: skip
                        await raw.aclose()
                while await publisher.call("wamp.session.count") != 1:
                    await anyio.sleep(0.01)
                async with wamp.connect(transport) as late:  # still serving
                    assert await late.call("wamp.session.count") == 2


async def test_a_subscriber_that_reads_late_gets_every_event_in_order(anyio_backend: str) -> None:
    """Events for a subscriber that does not read fill the kernel's buffers; what the router
    could not hand over waits, and it and what is published meanwhile arrive in order once
    the subscriber reads."""
    async with (
        wamp_anyio.start_router(["rs://127.0.0.1:0"]) as router,
        wamp.connect(_transport(router.urls[0], "msgpack")) as publisher,
    ):
        raw, framer, codec = await _raw_subscriber(router.urls[0], "late")
        count, size = 300, 65536  # 19.7 MB: far more than the sockets buffer
        seen: list[int] = []
        with anyio.fail_after(TIMEOUT):
            while await publisher.call("wamp.session.count") < 2:
                await anyio.sleep(0.01)
            await anyio.sleep(0.1)  # (SUBSCRIBED is on its way: unread, like the rest)
            options = wc.PublishOptions(acknowledge=True)
            for i in range(count // 2):  # the buffers fill up
                await publisher.publish("late", i, "x" * size, options=options)

            async def read() -> None:  # then the subscriber reads while more are published
                while len(seen) < count:
                    for event in framer.receive_data(await raw.receive()):
                        if isinstance(event, wc.events.MessageReceived):
                            message = codec.decode(event.data)
                            if isinstance(message, wc.messages.Event):
                                assert message.args is not None
                                seen.append(message.args[0])

            async with anyio.create_task_group() as tg:
                tg.start_soon(read)
                for i in range(count // 2, count):
                    await publisher.publish("late", i, "x" * size, options=options)
        await raw.aclose()
        assert seen == list(range(count))


async def test_a_subscriber_that_stops_reading_is_closed_after_the_send_timeout(
    anyio_backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Events for a subscriber that never reads fill the kernel's buffers and the router's
    write stalls (below the queue limit that would cut the session off): after the send
    timeout the router closes the connection and the session ends."""
    monkeypatch.setattr(driver, "SEND_TIMEOUT", 0.5)
    async with (
        wamp_anyio.start_router(["rs://127.0.0.1:0"]) as router,
        wamp.connect(_transport(router.urls[0], "msgpack")) as publisher,
    ):
        raw, _, _ = await _raw_subscriber(router.urls[0], "stalled")
        with anyio.fail_after(TIMEOUT):
            while await publisher.call("wamp.session.count") < 2:
                await anyio.sleep(0.01)
            await anyio.sleep(0.1)
            options = wc.PublishOptions(acknowledge=True)
            for i in range(150):  # 9.8 MB: more than the buffers, less than MAX_QUEUED
                await publisher.publish("stalled", i, "x" * 65536, options=options)
            while await publisher.call("wamp.session.count") != 1:
                await anyio.sleep(0.05)
        await raw.aclose()


async def test_a_subscriber_that_stops_reading_is_cut_off_at_the_queue_limit(
    anyio_backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    """While a write to a client is pending, what more the router produces for it stays in the
    engine's connection, so the engine's limit (MAX_QUEUED, 16 MiB) cuts off a subscriber that
    does not read, long before the send timeout (30 s) would: the router's memory for one
    client stays bounded however fast others publish."""
    caplog.set_level(logging.WARNING, logger="wamp_core")
    async with (
        wamp_anyio.start_router(["rs://127.0.0.1:0"]) as router,
        wamp.connect(_transport(router.urls[0], "msgpack")) as publisher,
    ):
        raw, _, _ = await _raw_subscriber(router.urls[0], "flood")
        with anyio.fail_after(TIMEOUT):  # (20 s: less than driver.SEND_TIMEOUT)
            while await publisher.call("wamp.session.count") < 2:
                await anyio.sleep(0.01)
            await anyio.sleep(0.1)
            options = wc.PublishOptions(acknowledge=True)
            for i in range(48):  # 24 MiB: the kernel's buffers and MAX_QUEUED, and more
                await publisher.publish("flood", i, "x" * (1 << 19), options=options)
            while await publisher.call("wamp.session.count") != 1:
                await anyio.sleep(0.05)
        await raw.aclose()
    assert driver.SEND_TIMEOUT > TIMEOUT
    assert any("does not read what it is sent" in r.getMessage() for r in caplog.records)


async def test_the_queue_limit_is_the_routers_option(anyio_backend: str) -> None:
    """``--max-queued`` (``start_router(max_queued=...)``): a subscriber that does not read is
    cut off once that many bytes wait for it, not 16 MiB; a limit that is no positive number
    of bytes is refused."""
    limit = 1 << 20
    async with _router_program("--max-queued", str(limit)) as (process, url):
        async with wamp.connect(_transport(url, "msgpack")) as publisher:
            raw, _, _ = await _raw_subscriber(url, "capped")
            with anyio.fail_after(TIMEOUT):
                while await publisher.call("wamp.session.count") < 2:
                    await anyio.sleep(0.01)
                await anyio.sleep(0.1)
                options = wc.PublishOptions(acknowledge=True)
                for i in range(48):  # 24 MiB at most: cut off long before
                    await publisher.publish("capped", i, "x" * (1 << 19), options=options)
                    if await publisher.call("wamp.session.count") == 1:
                        break
                assert await publisher.call("wamp.session.count") == 1
            await raw.aclose()
        process.terminate()
        assert process.stderr is not None
        log = b"".join([chunk async for chunk in process.stderr]).decode()
    cut = re.search(r"does not read what it is sent \((\d+) bytes queued\)", log)
    assert cut is not None, log
    assert limit < int(cut.group(1)) <= limit + (1 << 19) + 1024  # one event past the limit
    for bad in (0, -1, 1.5, True):
        with pytest.raises(wc.ConfigurationError, match="max_queued must be a positive"):
            async with wamp_anyio.start_router(["rs://127.0.0.1:0"], max_queued=bad):  # type: ignore[arg-type]
                pass


async def test_a_component_reaches_an_in_process_router_without_a_socket(
    anyio_backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``rs://memory/NAME``: the router and the component in one loop, bytes through memory."""

    def no_sockets(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a socket was opened")

    got: list[Any] = []
    async with wamp_anyio.start_router(["rs://memory/unit-test"]) as router:
        assert router.urls == ["rs://memory/unit-test"]
        monkeypatch.setattr(socket, "socket", no_sockets)

        async def main(session: wamp.Session) -> Any:
            await session.publish(
                "com.mem.topic", 1, options=wc.PublishOptions(acknowledge=True, exclude_me=False)
            )
            big = "x" * 3_000_000  # more than the in-memory buffer: the sender waits, no loss
            assert await session.call("com.mem.echo", big) == big
            with anyio.fail_after(5):
                while not got:
                    await anyio.sleep(0.01)
            return await session.call("com.mem.echo", "hi")

        component = wamp.Component(main=main, transports=router.urls[0])
        component.register("com.mem.echo")(lambda x: x)
        component.subscribe("com.mem.topic")(got.append)
        with anyio.fail_after(TIMEOUT):
            assert await component.run() == "hi"
        assert got == [1]
    with pytest.raises(wc.TransportError, match="nothing listens on rs://memory/unit-test"):
        async with wamp.connect("rs://memory/unit-test"):
            pass


async def test_a_silent_or_trickling_connection_is_closed_after_the_handshake_timeout(
    anyio_backend: str,
) -> None:
    async with wamp_anyio.start_router(["rs://127.0.0.1:0"], handshake_timeout=0.5) as router:
        port = int(router.urls[0].rsplit(":", 1)[1])
        started = anyio.current_time()
        async with await anyio.connect_tcp("127.0.0.1", port) as silent:
            with anyio.fail_after(5), pytest.raises((anyio.EndOfStream, anyio.BrokenResourceError)):
                await silent.receive()
        assert 0.4 < anyio.current_time() - started < 3
        # one byte at a time, never finishing the handshake: the deadline is for the whole
        started = anyio.current_time()
        async with await anyio.connect_tcp("127.0.0.1", port) as trickle:
            with anyio.fail_after(5), pytest.raises((anyio.EndOfStream, anyio.BrokenResourceError)):
                for byte in b"\x7f\xf2\x00":
                    await trickle.send(bytes([byte]))
                    await anyio.sleep(0.2)
                while True:
                    await trickle.receive()
        assert anyio.current_time() - started < 3
        # a joined session is not bound by it
        async with wamp.connect(router.urls[0]) as session:
            await anyio.sleep(1.0)
            assert await session.call("wamp.session.count") >= 1


async def test_idle_timeout_closes_a_connection_that_sends_nothing(anyio_backend: str) -> None:
    async with wamp_anyio.start_router(["rs://127.0.0.1:0"], idle_timeout=0.5) as router:
        async with wamp.connect(router.urls[0]) as session:
            with anyio.fail_after(5):
                await session.wait_closed()
        assert session.close_details is not None
        assert session.close_details.reason == wc.CloseDetails.REASON_TRANSPORT_LOST


@pytest.mark.parametrize("scheme", ["ws", "rs"])
async def test_keepalive_frees_the_session_of_a_client_whose_link_died(
    anyio_backend: str, scheme: str
) -> None:
    """A half-open link (the client gave it up, the router's side stays open): without
    pings the old session held its procedure for ever and the component's rejoin was refused
    again and again; with ``ping_interval`` the router drops it and the restore succeeds."""
    suffix = "/ws" if scheme == "ws" else ""
    async with wamp_anyio.start_router(
        [f"{scheme}://127.0.0.1:0{suffix}"], ping_interval=0.3
    ) as router:
        port = int(router.urls[0].split(":")[2].split("/")[0])
        # the router's side stays open 60 s: only its pings find the link dead
        url = f"{scheme}://127.0.0.1:{{}}{suffix}"
        with anyio.fail_after(20):
            async with (
                fault_proxy("127.0.0.1", port) as proxy,
                rejoined_after_a_half_open_link(
                    wamp, url.format(proxy.port), proxy, "com.keepalive.here", 60
                ),
                wamp.connect(router.urls[0]) as caller,
            ):
                assert await caller.call("com.keepalive.here") == "here"
                assert await caller.call("wamp.session.count") == 2


@pytest.mark.parametrize("scheme", ["ws", "rs"])
async def test_keepalive_keeps_an_idle_client_that_answers(anyio_backend: str, scheme: str) -> None:
    suffix = "/ws" if scheme == "ws" else ""
    async with wamp_anyio.start_router(
        [f"{scheme}://127.0.0.1:0{suffix}"], ping_interval=0.2, ping_timeout=0.2
    ) as router:
        # no client-side pings: only the router's, which the client answers
        transport = {"url": router.urls[0], "options": {"auto_ping_interval": 0}}
        async with wamp.connect(transport) as session:
            await anyio.sleep(1.5)
            assert not session.closed
            assert await session.call("wamp.session.count") == 1


async def _burst_to_a_raw_subscriber(
    url: str, events: int, read: Any, size: int = 50_000, tls: ssl.SSLContext | None = None
) -> list[Any]:
    """A hand-written subscriber (small receive buffer) subscribes to ``com.burst``; then a
    publisher sends it ``events`` events of ``size`` bytes, acknowledged; ``read(client,
    messages)`` is what the subscriber does next (in a thread). What it returned."""
    port = int(url.rsplit(":", 1)[1])
    subscribed = threading.Event()
    returned: list[Any] = []
    clients: list[RawClient] = []

    def subscriber() -> Any:
        client = RawClient(port, rcvbuf=16384, tls=tls)
        clients.append(client)
        try:
            client.join()
            client.send([32, client.request_id(), {}, "com.burst"])
            messages = client.messages()
            assert next(messages)[0] == 33
            subscribed.set()
            return read(client, messages)
        finally:
            client.close()

    async def run_subscriber() -> None:
        returned.append(await anyio.to_thread.run_sync(subscriber))

    endpoint = {"type": "tcp", "host": "127.0.0.1", "port": port, "tls": tls}
    async with anyio.create_task_group() as tg:
        tg.start_soon(run_subscriber)
        try:
            assert await anyio.to_thread.run_sync(subscribed.wait, 10)
            async with wamp.connect({"url": url, "endpoint": endpoint} if tls else url) as pub:
                for _ in range(events):
                    await pub.publish(
                        "com.burst", "x" * size, options=wc.PublishOptions(acknowledge=True)
                    )
        except BaseException:
            for client in clients:  # (its thread would read the router's pings for ever)
                with contextlib.suppress(OSError):
                    client.sock.shutdown(socket.SHUT_RDWR)
            raise
    return returned


@pytest.fixture(params=["rs", "rss"])
def burst_router(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    """``start_router`` arguments for one listener, plain or TLS, and the client's context."""
    if request.param == "rs":
        return {"listen": ["rs://127.0.0.1:0"], "tls": None}
    from crossbar import write_test_pki

    write_test_pki(tmp_path, tmp_path / "ca.crt")
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(tmp_path / "server.crt", tmp_path / "server.key")
    client = ssl.create_default_context(cafile=str(tmp_path / "ca.crt"))
    return {"listen": ["rss://127.0.0.1:0"], "ssl_context": server, "tls": client}


@pytest.mark.skipif(sys.platform != "linux", reason="only Linux tells what the client took")
async def test_keepalive_keeps_a_client_that_takes_a_large_burst(
    anyio_backend: str, burst_router: dict[str, Any]
) -> None:
    """A subscriber reading a 2 MB burst at about 1 MB/s and answering each PING when it
    comes to it: the PING waits behind the burst (in the kernel's buffers), and so does its
    PONG. The router cut it after ``ping_interval + ping_timeout`` (a review); the bytes the
    client acknowledges meanwhile show it alive (over TLS too: the first fix saw no socket
    under asyncio's TLS streams)."""
    tls = burst_router.pop("tls")

    def read_slowly(client: RawClient, messages: Any) -> Any:
        for _ in range(40):
            assert next(messages)[0] == 36
            time.sleep(0.05)
        client.send([32, client.request_id(), {}, "com.after"])
        return next(messages)

    async with wamp_anyio.start_router(
        **burst_router, ping_interval=0.3, ping_timeout=0.3
    ) as router:
        with anyio.fail_after(TIMEOUT):
            (answer,) = await _burst_to_a_raw_subscriber(router.urls[0], 40, read_slowly, tls=tls)
    assert answer[0] == 33, answer  # SUBSCRIBED: its session is still there


async def test_keepalive_cuts_a_client_that_stops_reading_a_burst(anyio_backend: str) -> None:
    """The converse: a subscriber that takes nothing more (its kernel acknowledges what fits
    in its receive buffer, then nothing) is closed by the keepalive, not only after
    SEND_TIMEOUT (30 s)."""
    gone = threading.Event()

    def stop_reading(client: RawClient, messages: Any) -> None:
        gone.wait(10)  # (the socket stays open, unread, until the router closed the session)

    async with wamp_anyio.start_router(
        ["rs://127.0.0.1:0"], ping_interval=0.3, ping_timeout=0.3
    ) as router:
        with anyio.fail_after(TIMEOUT):
            async with anyio.create_task_group() as tg:
                tg.start_soon(_burst_to_a_raw_subscriber, router.urls[0], 40, stop_reading)
                started = time.monotonic()
                async with wamp.connect(router.urls[0]) as observer:
                    while await observer.call("wamp.session.count") > 1:
                        await anyio.sleep(0.1)
                gone.set()
    assert time.monotonic() - started < 5


@pytest.mark.skipif(sys.platform != "linux", reason="only Linux tells what the client took")
async def test_keepalive_cuts_a_hung_client_it_goes_on_sending_to(anyio_backend: str) -> None:
    """(The client's keepalive had this flaw, found by a review; the router's too.) A hung
    client's kernel goes on acknowledging what the router sends it, into its buffer: that
    counted as life, so while events kept coming the session stayed until the buffer was
    full. What is acknowledged beyond the ping no longer counts."""
    async with wamp_anyio.start_router(
        ["rs://127.0.0.1:0"], ping_interval=0.3, ping_timeout=0.3
    ) as router:

        def subscribe() -> RawClient:
            client = RawClient(int(router.urls[0].rsplit(":", 1)[1]), rcvbuf=1 << 20)
            client.join()
            client.send([32, client.request_id(), {}, "com.hung"])
            assert next(client.messages())[0] == 33  # then it reads nothing more
            return client

        hung = await anyio.to_thread.run_sync(subscribe)
        try:
            async with wamp.connect(router.urls[0]) as publisher:
                started = time.monotonic()
                with anyio.move_on_after(8):
                    while await publisher.call("wamp.session.count") > 1:
                        await publisher.publish("com.hung", "x" * 10_000)  # 50 KB/s
                        await anyio.sleep(0.2)
                took = time.monotonic() - started
        finally:
            hung.close()
    assert took < 3, took  # (ping interval + timeout, and a round of the watch)


async def test_keepalive_waits_ping_timeout_for_an_answer(anyio_backend: str) -> None:
    """``ping_timeout`` longer than ``ping_interval``: a client that does not answer keeps
    its session for the timeout, then loses it (every other test set both alike: the interval
    in place of the timeout went unseen, a mutation review)."""
    async with wamp_anyio.start_router(
        ["rs://127.0.0.1:0"], ping_interval=0.2, ping_timeout=2.5
    ) as router:

        def silent() -> RawClient:
            client = RawClient(int(router.urls[0].rsplit(":", 1)[1]))
            client.join()  # then it reads nothing: its PINGs go unanswered
            return client

        client = await anyio.to_thread.run_sync(silent)
        try:
            started = time.monotonic()
            async with wamp.connect(router.urls[0]) as watcher:
                await anyio.sleep(1.2)
                assert await watcher.call("wamp.session.count") == 2
                with anyio.fail_after(10):
                    while await watcher.call("wamp.session.count") > 1:
                        await anyio.sleep(0.1)
            assert time.monotonic() - started > 2.5
        finally:
            client.close()


def test_the_handshake_timeout_is_10_s_unless_set(capsys: pytest.CaptureFixture[str]) -> None:
    """docs/router.md: ten seconds to join, from the API and the program (every other test
    sets its own)."""
    default = inspect.signature(wamp_anyio.start_router).parameters["handshake_timeout"].default
    assert default == wamp_anyio.RouterServer.handshake_timeout == 10.0
    with pytest.raises(SystemExit):
        router_program.main(["--help"])
    assert "within S seconds (default 10)" in " ".join(capsys.readouterr().out.split())


async def test_the_router_program_closes_a_client_that_does_not_answer_pings(
    anyio_backend: str,
) -> None:
    """``--ping-interval``: a joined RawSocket client (by hand, here) that ignores the
    router's PING is closed; the PING came first."""
    async with _router_program("--ping-interval", "0.2") as (_process, url):
        port = int(url.rsplit(":", 1)[1])
        with anyio.fail_after(TIMEOUT):
            async with await anyio.connect_tcp("127.0.0.1", port) as client:
                await client.send(bytes([0x7F, 0xF1, 0, 0]))  # JSON, 16 MiB
                hello = b'[1,"realm1",{"roles":{"caller":{}}}]'
                await client.send(struct.pack(">I", len(hello)) + hello)  # type 0: message
                received = b""
                with contextlib.suppress(anyio.EndOfStream, anyio.BrokenResourceError):
                    while True:
                        received += await client.receive()
    assert received[:4] == bytes([0x7F, 0xF1, 0, 0])
    frames = []
    rest = received[4:]
    while rest:
        kind, length = rest[0], int.from_bytes(rest[1:4], "big")
        frames.append((kind, rest[4 : 4 + length]))
        rest = rest[4 + length :]
    assert frames[0][0] == 0 and frames[0][1].startswith(b"[2,")  # WELCOME
    assert frames[1] == (1, b"wamp-router")  # PING, unanswered: then the close


@pytest.mark.parametrize(
    ("option", "value"),
    [("ping_interval", 0), ("ping_timeout", -1.0), ("handshake_timeout", -1.0),
     ("handshake_timeout", float("nan")), ("idle_timeout", 0)],
)  # fmt: skip
def test_timeout_settings_are_checked(option: str, value: float) -> None:
    """A negative handshake timeout closed every connection at once; NaN made each one fail
    with a traceback in the log."""
    with pytest.raises(wc.ConfigurationError, match=option):
        anyio.run(_start_with, {option: value})


async def _start_with(options: dict[str, Any]) -> None:
    async with wamp_anyio.start_router(["rs://127.0.0.1:0"], **options):
        pass


async def test_a_testament_reaches_subscribers_when_its_session_is_lost(anyio_backend: str) -> None:
    async with wamp_anyio.start_router(["rs://127.0.0.1:0"]) as router:
        got: list[Any] = []
        async with wamp.connect(router.urls[0]) as watcher:
            await watcher.subscribe(lambda *a, **k: got.append((a, k)), "com.will")
            async with wamp.connect(router.urls[0]) as dying:
                await dying.call("wamp.session.add_testament", "com.will", ["gone"], {"id": 7})
                await dying.disconnect()  # no GOODBYE: the transport is just gone
            with anyio.fail_after(5):
                while not got:
                    await anyio.sleep(0.01)
        assert got == [(("gone",), {"id": 7})]


async def test_waiting_on_an_ended_session_is_still_a_cancellation_point(
    anyio_backend: str,
) -> None:
    """``wait_closed()``/``leave()`` after the end yield to the loop and see cancellation, on
    every backend (asyncio's own event returns at once when set; the driver's does not)."""
    async with wamp_anyio.start_router(["rs://memory/ended-session"]) as router:
        async with wamp.connect(router.urls[0]) as session:
            await session.leave()
        ran: list[int] = []

        async def other() -> None:
            for i in range(5):
                ran.append(i)
                await anyio.lowlevel.checkpoint()

        async with anyio.create_task_group() as tg:
            tg.start_soon(other)
            for _ in range(5):
                await session.wait_closed()  # each a checkpoint: the other task runs too
        assert ran == [0, 1, 2, 3, 4]
        with anyio.CancelScope() as scope:
            scope.cancel()
            await session.wait_closed()
            await session.leave()
            raise AssertionError("not cancelled at wait_closed()")  # pragma: no cover
        assert scope.cancelled_caught


class _FailingAccepts:
    """A listening socket whose first accepts fail: out of file descriptors, then a client
    that gave up before it was accepted; then it accepts for real."""

    def __init__(self, listener: socket.socket) -> None:
        self.family = listener.family
        self._listener = listener
        self.failures = [
            OSError(errno.EMFILE, "Too many open files"),
            OSError(errno.ECONNABORTED, "Software caused connection abort"),
        ]

    def fileno(self) -> int:
        return self._listener.fileno()

    def accept(self) -> tuple[socket.socket, Any]:
        if self.failures:
            raise self.failures.pop(0)
        return self._listener.accept()


async def test_the_router_keeps_accepting_when_an_accept_fails(
    anyio_backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    listener.setblocking(False)
    flaky = _FailingAccepts(listener)
    client = socket.create_connection(listener.getsockname())
    served: list[Any] = []

    async def handle(stream: Any) -> None:
        served.append(stream)
        await stream.aclose()

    try:
        with caplog.at_level(logging.DEBUG, logger="wamp_anyio._router"):
            async with anyio.create_task_group() as tg:
                tg.start_soon(_router._accept, cast(socket.socket, flaky), handle, tg)
                with anyio.fail_after(5):
                    while not served:
                        await anyio.sleep(0.01)
                tg.cancel_scope.cancel()
    finally:
        client.close()
        listener.close()
    assert not flaky.failures and len(served) == 1
    assert isinstance(served[0], driver.DirectSocketStream)  # served as a direct stream
    levels = {r.getMessage().split(":")[0]: r.levelno for r in caplog.records}
    assert levels == {
        "cannot accept a connection now": logging.WARNING,  # after which it paused
        "accepting a connection failed": logging.DEBUG,
    }


@pytest.mark.parametrize("router_kind", ["embedded", "crossbar"])
async def test_registrations_and_subscriptions_are_dated_as_crossbar_dates_them(
    request: pytest.FixtureRequest, router_kind: str
) -> None:
    """The meta API's ``created``: ISO 8601 in UTC to the millisecond, from the router's wall
    clock, in the same form through Crossbar and through the embedded router."""
    url = request.getfixturevalue("crossbar").rs_url if router_kind == "crossbar" else ""
    with anyio.fail_after(TIMEOUT):
        async with contextlib.AsyncExitStack() as stack:
            if not url:
                server = await stack.enter_async_context(
                    wamp_anyio.start_router(["rs://127.0.0.1:0"])
                )
                (url,) = server.urls
            session = await stack.enter_async_context(wamp.connect(_transport(url, "json")))
            before = time.time()
            reg = await session.register(lambda: None, "com.dated.p")
            sub = await session.subscribe(lambda: None, "com.dated.t")
            after = time.time()
            dates = [
                (await session.call("wamp.registration.get", reg.id))["created"],
                (await session.call("wamp.subscription.get", sub.id))["created"],
            ]
    for created in dates:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", created), created
        stamp = datetime.strptime(created, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()
        assert before - 1 <= stamp <= after + 1


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"anonymous": "false"}, "anonymous must be true or false"),
        ({"principals": [{"authid": "a", "pubkeys": "ab" * 32}]}, "pubkeys must be a list"),
        ({"principals": [{"authid": "a", "pubkeys": ["ab"]}]}, "64 hex digits"),
        ({"principals": [{"authid": "a", "ticket": 1234}]}, "ticket must be a string"),
        (
            {"principals": [{"authid": "a", "tickets": "x"}]},
            "principal 'a': unknown keys ['tickets']",
        ),
        ({"principals": {"authid": "a"}}, "principals must be a list"),
        ({"principals": [{"authid": "a"}]}, "has no credential"),
        ({"principals": [{"authid": "a", "ticket": ""}]}, "an empty ticket"),
        ({"principals": [{"authid": "a", "ticket": "x", "realms": "r"}]}, "realms must be a list"),
        ({"principals": [{"authid": "a", "scram": "pw"}]}, "scram must be an object"),
        (
            {"principals": [{"authid": "a", "scram": {"salt": "zz", "password": "pw"}}]},
            "principal 'a': scram salt must be hex",
        ),
        (
            {
                "principals": [
                    {
                        "authid": "a",
                        "scram": {"salt": "00ff", "password": "pw", "iteratons": 600000},
                    }
                ]
            },
            "unknown scram keys ['iteratons']",
        ),
        (
            {
                "principals": [
                    {"authid": "a", "scram": {"salt": "00ff", "password": "pw", "iterations": True}}
                ]
            },
            "iterations must be an integer",
        ),
        (
            {
                "principals": [
                    {
                        "authid": "a",
                        "scram": {
                            "salt": "00ff",
                            "password": "pw",
                            "method": "scram",
                            "memory": "x",
                        },
                    }
                ]
            },
            "memory must be an integer",
        ),
        (
            {"principals": [{"authid": "a", "ticket": "x"}, {"authid": "a", "secret": "y"}]},
            "principals given twice: ['a']",
        ),
        (
            {"permissions": {"user": [{"uri": "com.", "action": ["call"]}]}},
            "unknown rule keys ['action']",
        ),
        (
            {"permissions": {"user": [{"uri": "com.", "matches": "exact"}]}},
            "unknown rule keys ['matches']",
        ),
        ({"permissions": {"user": [{"uri": "com.", "actions": "call"}]}}, "must be a list"),
        # without "match", "com.add" would also have covered "com.addUser" (Crossbar: exact)
        ({"permissions": {"user": [{"uri": "com.add", "actions": ["call"]}]}}, 'needs "match"'),
        ({"permissions": {"user": [{"actions": ["call"]}]}}, "missing key 'uri'"),
        ({"permissions": {"user": [{"uri": 5}]}}, "bad permission"),
        ({"permissions": {"user": [{"uri": "", "actions": ["read"]}]}}, "bad permission"),
        (  # (it said "actions [], match 'prefx'", for a rule that gave no actions)
            {"permissions": {"user": [{"uri": "com.", "match": "prefx"}]}},
            "bad permission 'com.': match 'prefx' (exact or prefix)",
        ),
        # an exact rule on a URI no client may send, as URI or wildcard pattern, never matched
        (
            {"permissions": {"user": [{"uri": "com.a b", "match": "exact"}]}},
            "role 'user': bad permission 'com.a b': match exact needs a URI or a wildcard",
        ),
        (
            {"permissions": {"user": [{"uri": "com."}, {"uri": "com.#", "match": "exact"}]}},
            "role 'user': bad permission 'com.#': match exact needs a URI or a wildcard",
        ),
        ([], "must be a JSON object"),
    ],
)
def test_the_router_program_refuses_a_bad_config_file(
    tmp_path: Path, config: Any, message: str
) -> None:
    """A mistake in ``--config`` stops the program with a message naming the file: never a
    router that fails open (``"anonymous": "false"`` read as true) or one whose engine raises at
    the first login (a numeric ticket, a public key given as a string)."""
    path = tmp_path / "router.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "wamp_anyio.router", "--config", str(path),
         "--listen", "rs://127.0.0.1:0"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode != 0
    assert proc.stdout == ""  # it never listened
    assert f"{path}: " in proc.stderr and message in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


def test_the_router_program_names_a_config_file_that_is_not_json(tmp_path: Path) -> None:
    path = tmp_path / "router.json"
    path.write_text('{"anonymous": tru', encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "wamp_anyio.router", "--config", str(path),
         "--listen", "rs://127.0.0.1:0"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode != 0 and proc.stdout == ""
    assert proc.stderr.startswith(f"{path}: Expecting value"), proc.stderr


async def test_a_tls_context_no_client_could_connect_through_is_refused(tmp_path: Path) -> None:
    """A client-side context, or a server one without its certificate, would fail every TLS
    handshake (clients retrying for ever) behind a router that says it listens."""
    from crossbar import write_test_pki

    write_test_pki(tmp_path, tmp_path / "ca.crt")
    client_side = ssl.create_default_context()
    client_side.load_cert_chain(tmp_path / "server.crt", tmp_path / "server.key")
    no_certificate = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    for context, says in ((client_side, "client-side"), (no_certificate, "no certificate")):
        with pytest.raises(wc.ConfigurationError, match=says):
            async with wamp_anyio.start_router(["wss://127.0.0.1:0/ws"], ssl_context=context):
                raise AssertionError("listening")
    good = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    good.load_cert_chain(tmp_path / "server.crt", tmp_path / "server.key")
    good.verify_mode = ssl.CERT_REQUIRED  # (asking for client certificates is fine)
    good.load_verify_locations(tmp_path / "ca.crt")
    async with wamp_anyio.start_router(["rss://127.0.0.1:0"], ssl_context=good) as router:
        assert router.urls[0].startswith("rss://127.0.0.1:")


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        (
            ["--tls-cert", "{tmp}/missing.crt", "--tls-key", "{tmp}/server.key"],
            "--tls-cert '{tmp}/missing.crt' / --tls-key '{tmp}/server.key': No such file",
        ),
        (
            ["--tls-cert", "{tmp}/server.crt", "--tls-key", "{tmp}/ca.crt"],
            "--tls-cert '{tmp}/server.crt' / --tls-key '{tmp}/ca.crt': ",
        ),
        ([], "wss://127.0.0.1:0/ws needs --tls-cert and --tls-key"),
        (  # (it prompted for a passphrase on a terminal, or failed with "Invalid argument")
            ["--tls-cert", "{tmp}/server.crt", "--tls-key", "{tmp}/encrypted.key"],
            "the key is encrypted: give an unencrypted --tls-key",
        ),
    ],
    ids=["missing-file", "no-key-in-key-file", "no-certificate", "encrypted-key"],
)
def test_the_router_program_names_the_tls_option_at_fault(
    tmp_path: Path, arguments: list[str], says: str
) -> None:
    from cryptography.hazmat.primitives import serialization

    from crossbar import write_test_pki

    write_test_pki(tmp_path, tmp_path / "ca.crt")
    key = serialization.load_pem_private_key((tmp_path / "server.key").read_bytes(), None)
    (tmp_path / "encrypted.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"passphrase"),
        )
    )
    proc = subprocess.run(
        [sys.executable, "-m", "wamp_anyio.router", "--listen", "wss://127.0.0.1:0/ws",
         *(a.format(tmp=tmp_path) for a in arguments)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode != 0 and proc.stdout == ""
    assert says.format(tmp=tmp_path) in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
