"""The processes of ``benchmarks/driver.py``: the measured clients, the fixed peer, the floor.

Run as ``python benchmarks/_driver_peers.py ROLE ...`` (the harness does). A measured client
prints one JSON line: its own CPU time (user + system, ``getrusage``) and wall time over the
measured operations only (connect, join and a warm-up are excluded), per operation, and the
number of operations (``ops``: N, or the events received in all, 10 N for ``events10``).

Roles:

* ``peer URL``: our client (asyncio, msgpack, RawSocket or WebSocket by the URL) registering
  ``bench.echo`` (returns its argument), ``bench.burst(n)`` (publishes ``n`` events to
  ``bench.topic``, then returns) and ``bench.drive(procedure, n)`` (calls ``procedure`` ``n``
  times, 100 in flight, then returns); prints ``ready``.
* ``ours BACKEND TRANSPORT URL MODE N`` / ``autobahn asyncio TRANSPORT URL MODE N`` /
  ``xconn asyncio TRANSPORT URL MODE N`` / ``core blocking TRANSPORT URL MODE N`` (wamp_core
  driven by hand over blocking sockets): MODE is ``seq`` (N calls one after another),
  ``inflight`` (N calls, 100 in flight), ``events`` (N events received from one burst) or
  ``events10`` (10 subscriber sessions in this process, each receiving the same burst of N:
  10 N events received; figures per received event), ``callee`` (this client registers a
  plain function returning its argument, and the peer calls it N times, 100 in flight: N
  invocations answered) or ``callee_async`` (the same with an ``async def`` handler; callee
  modes: ours and Autobahn). BACKEND ``uvloop`` is ours on asyncio with uvloop's event loop.
* ``echo``: a bare asyncio TCP echo server; prints its port.
* ``floor BACKEND PORT N [MODE]``: N round trips of a 40-byte message through it (the floor),
  one at a time (MODE ``seq``, the default) or 100 in flight (``inflight``).
* ``routerfloor BACKEND URL N``: the floor of any WAMP client through the router, on BACKEND
  (``asyncio``, ``uvloop``, ``trio``, ``blocking``): joins with wamp_core, then N sequential
  calls of ``bench.echo`` as CALL frames encoded beforehand, each waiting for any bytes back
  (nothing encoded, decoded or checked while measured). RawSocket + msgpack only.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import resource
import selectors
import signal
import socket
import sys
import time
import traceback
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

import anyio

import wamp_anyio

IN_FLIGHT = 100
WARMUP = 200
TOPIC = "bench.topic"
#: Subscriber sessions in the measured client's process, by event mode.
SUBSCRIBERS = {"events": 1, "events10": 10}
#: Modes where the measured client is the callee (the peer calls it).
CALLEE_MODES = ("callee", "callee_async")


def callee_handler(mode: str) -> Callable[[Any], Any]:
    """The measured callee's procedure: returns its argument (plain, or ``async def``)."""
    if mode == "callee":
        return lambda x: x

    async def echo(x: Any) -> Any:
        return x

    return echo


async def measure_callee(session: Any, mode: str, n: int) -> None:
    """Register this process's procedure on ``session`` (ours or Autobahn's: the same calls),
    warm up, then time the ``n`` invocations the peer makes (``bench.drive``)."""
    uri = f"bench.callee.{os.getpid()}"
    await session.register(callee_handler(mode), uri)
    await session.call("bench.drive", uri, WARMUP)
    meter = Meter()
    meter.start()
    await session.call("bench.drive", uri, n)
    meter.stop(n)


#: Seconds to wait for one burst's events (or its call's result): a lost event fails the client
#: with how many arrived, well before the :data:`DEADLINE` that ends any measured client.
WAIT = 60.0


def lost(got: int, target: int) -> TimeoutError:
    return TimeoutError(f"waited {WAIT:.0f} s: {got} of {target} events received (lost?)")


class Meter:
    """CPU and wall time of this process between :meth:`start` and :meth:`stop`.

    ``cpu_us`` (user + system) is the figure the reports use. Its split into ``user_us`` and
    ``sys_us`` is the kernel's estimate (it samples which mode a tick found the process in):
    for cells this short it moves by run and is only a hint.
    """

    def start(self) -> None:
        print("start", flush=True)  # the harness samples the router's CPU here
        self._usage = resource.getrusage(resource.RUSAGE_SELF)
        self._wall = time.perf_counter()

    def stop(self, n: int) -> None:
        wall = time.perf_counter() - self._wall
        usage = resource.getrusage(resource.RUSAGE_SELF)
        user = usage.ru_utime - self._usage.ru_utime
        system = usage.ru_stime - self._usage.ru_stime
        print(
            json.dumps(
                {
                    "cpu_us": 1e6 * (user + system) / n,
                    "user_us": 1e6 * user / n,
                    "sys_us": 1e6 * system / n,
                    "rate": n / wall,
                    "ops": n,
                }
            ),
            flush=True,
        )


def transport_dict(transport: str, url: str) -> dict[str, Any]:
    if transport == "rawsocket":
        return {"type": "rawsocket", "url": url, "serializer": "msgpack"}
    return {"type": "websocket", "url": url, "serializers": ["msgpack"]}


async def measure_calls(call: Callable[[], Awaitable[Any]], mode: str, n: int) -> None:
    """Warm up, then time ``n`` calls, sequential or :data:`IN_FLIGHT` at a time (asyncio)."""
    for _ in range(WARMUP):
        await call()
    meter = Meter()
    meter.start()
    if mode == "seq":
        for _ in range(n):
            await call()
    else:

        async def worker(count: int) -> None:
            for _ in range(count):
                await call()

        await asyncio.gather(*(worker(n // IN_FLIGHT) for _ in range(IN_FLIGHT)))
    meter.stop(n)


# ---------------------------------------------------------------------------------------------
# Our drivers: wamp_anyio (asyncio or trio), wamp_trio (trio; the harness's anyio calls are trio's)


async def ours_events(transport: str, url: str, subscribers: int, n: int, driver: Any) -> None:
    """``subscribers`` sessions subscribe; the first calls the burst; all count its events."""
    async with AsyncExitStack() as stack:
        sessions = [
            await stack.enter_async_context(driver.connect(transport_dict(transport, url)))
            for _ in range(subscribers)
        ]
        got = 0
        done = anyio.Event()
        target = subscribers * WARMUP

        def on_event(_i: int) -> None:
            nonlocal got
            got += 1
            if got == target:
                done.set()

        # The default options, as the other clients' (a dropped event shows as a lost one).
        for session in sessions:
            await session.subscribe(on_event, TOPIC)

        async def burst(size: int) -> None:
            with anyio.move_on_after(WAIT) as scope:
                await sessions[0].call("bench.burst", size)
                await done.wait()
            if scope.cancelled_caught:
                raise lost(got, target)

        await burst(WARMUP)
        got, target, done = 0, subscribers * n, anyio.Event()
        meter = Meter()
        meter.start()
        await burst(n)
        meter.stop(subscribers * n)


async def ours(transport: str, url: str, mode: str, n: int, driver: Any = wamp_anyio) -> None:
    if mode in SUBSCRIBERS:
        await ours_events(transport, url, SUBSCRIBERS[mode], n, driver)
        return
    async with driver.connect(transport_dict(transport, url)) as session:
        if mode in CALLEE_MODES:
            await measure_callee(session, mode, n)
            return
        for _ in range(WARMUP):
            await session.call("bench.echo", 1)
        meter = Meter()
        meter.start()
        if mode == "seq":
            for _ in range(n):
                await session.call("bench.echo", 1)
        else:

            async def worker(count: int) -> None:
                for _ in range(count):
                    await session.call("bench.echo", 1)

            async with anyio.create_task_group() as tg:
                for _ in range(IN_FLIGHT):
                    tg.start_soon(worker, n // IN_FLIGHT)
        meter.stop(n)


async def peer(url: str) -> None:
    transport = "websocket" if url.startswith(("ws://", "wss://")) else "rawsocket"
    async with wamp_anyio.connect(transport_dict(transport, url)) as session:

        async def burst(n: int) -> int:
            for i in range(n):
                await session.publish(TOPIC, i)
            return n

        async def drive(procedure: str, n: int) -> int:
            async def worker(count: int) -> None:
                for _ in range(count):
                    await session.call(procedure, 1)

            async with anyio.create_task_group() as tg:
                for _ in range(IN_FLIGHT):
                    tg.start_soon(worker, n // IN_FLIGHT)
            return n

        await session.register(lambda x: x, "bench.echo")
        await session.register(burst, "bench.burst")
        await session.register(drive, "bench.drive")
        print("ready", flush=True)
        await anyio.sleep_forever()


# ---------------------------------------------------------------------------------------------
# Autobahn|Python (asyncio), the peer to beat


def autobahn(transport: str, url: str, mode: str, n: int) -> None:
    component = importlib.import_module("autobahn.asyncio.component")  # optional peer
    subscribers = SUBSCRIBERS.get(mode, 1)  # one Component (session) per subscriber
    joined: list[Any] = []
    parked: list[asyncio.Future[None]] = []
    got = 0
    target = subscribers * WARMUP
    done: asyncio.Future[None]  # (made when the last subscriber has joined)

    def on_event(_i: int) -> None:
        nonlocal got
        got += 1
        if got == target:
            done.set_result(None)

    async def burst(size: int) -> None:
        try:
            await asyncio.wait_for(joined[0].call("bench.burst", size), WAIT)
            await asyncio.wait_for(done, WAIT)
        except TimeoutError:
            raise lost(got, target) from None

    async def main(_reactor: Any, session: Any) -> None:
        nonlocal got, target, done
        try:
            if mode in SUBSCRIBERS:
                await session.subscribe(on_event, TOPIC)
                joined.append(session)
                if len(joined) < subscribers:  # the last one to join measures; the others
                    parked.append(asyncio.get_running_loop().create_future())  # (held: a
                    await parked[-1]  # future no one holds is collected, with its task)
                done = asyncio.get_running_loop().create_future()
                await burst(WARMUP)
                got, target = 0, subscribers * n
                done = asyncio.get_running_loop().create_future()
                meter = Meter()
                meter.start()
                await burst(n)
                meter.stop(subscribers * n)
            elif mode in CALLEE_MODES:
                await measure_callee(session, mode, n)
            else:
                await measure_calls(lambda: session.call("bench.echo", 1), mode, n)
        except BaseException:  # (also a session lost while parked: cancelled)
            traceback.print_exc()
            sys.stderr.flush()
            os._exit(1)
        finally:
            # Autobahn's Component reconnects after main returns: leave the process instead.
            sys.stdout.flush()
            os._exit(0)

    transports = [transport_dict(transport, url)]
    apps = [
        component.Component(transports=transports, realm="realm1", main=main)
        for _ in range(subscribers)
    ]
    component.run(apps, log_level="error")


# ---------------------------------------------------------------------------------------------
# wamp_core driven by hand: a blocking socket, no event loop (what the drivers add is the rest)


def core(transport: str, url: str, mode: str, n: int) -> None:
    if mode in SUBSCRIBERS:
        core_events(transport, url, SUBSCRIBERS[mode], n)
        return
    import wamp_core as wc  # noqa: PLC0415 - only this client drives the core itself
    from wamp_core import events as ev  # noqa: PLC0415

    config = wc.parse_transports(transport_dict(transport, url))[0]
    endpoint = config.endpoint
    assert isinstance(endpoint, wc.TcpEndpoint)
    conn = wc.make_connection(config, realm="realm1")
    sock = socket.create_connection((endpoint.host, endpoint.port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    counts = {"joined": 0, "results": 0}
    session = conn.session

    def pump(done: Callable[[], bool]) -> None:
        while not done():
            data = sock.recv(1 << 16)
            for event in conn.receive_data(data) if data else conn.receive_eof():
                kind = type(event)
                if kind is ev.CallSucceeded:
                    counts["results"] += 1
                    if issue_more:  # in flight: each result issues the next call
                        issue_more()
                elif kind is ev.Joined:
                    counts["joined"] += 1
                elif kind is ev.RequestFailed or conn.closed:
                    raise SystemExit(f"core client: {event!r}")
            out = conn.data_to_send()
            if out:
                sock.sendall(out)

    def results(at_least: int) -> Callable[[], bool]:
        return lambda: counts["results"] >= at_least

    issue_more: Callable[[], None] | None = None
    conn.initiate()
    sock.sendall(conn.data_to_send())
    pump(lambda: counts["joined"] > 0)
    for total in (WARMUP, n):
        if total == n:
            meter = Meter()
            meter.start()
        counts["results"] = 0
        if mode == "seq":
            for i in range(total):
                session.call("bench.echo", [1])
                sock.sendall(conn.data_to_send())
                pump(results(i + 1))
            continue
        issued = min(IN_FLIGHT, total)

        def more(total: int = total) -> None:
            nonlocal issued
            if issued < total:
                issued += 1
                session.call("bench.echo", [1])

        issue_more = more
        for _ in range(issued):
            session.call("bench.echo", [1])
        sock.sendall(conn.data_to_send())
        pump(results(total))
        issue_more = None
    meter.stop(n)
    session.leave()
    sock.sendall(conn.data_to_send())
    sock.close()


def core_events(transport: str, url: str, subscribers: int, n: int) -> None:
    """``subscribers`` connections (blocking sockets, read when a selector says they are ready,
    so none waits for ever); the first calls the burst; all count its events."""
    import wamp_core as wc  # noqa: PLC0415 - only this client drives the core itself
    from wamp_core import events as ev  # noqa: PLC0415

    config = wc.parse_transports(transport_dict(transport, url))[0]
    endpoint = config.endpoint
    assert isinstance(endpoint, wc.TcpEndpoint)
    counts = {"joined": 0, "subscribed": 0, "results": 0, "events": 0}
    selector = selectors.DefaultSelector()
    conns: list[tuple[Any, socket.socket]] = []
    for _ in range(subscribers):
        conn = wc.make_connection(config, realm="realm1")
        sock = socket.create_connection((endpoint.host, endpoint.port), timeout=WAIT)
        sock.settimeout(None)  # blocking again: the selector bounds the waits
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        selector.register(sock, selectors.EVENT_READ, (conn, sock))
        conns.append((conn, sock))

    def pump(done: Callable[[], bool]) -> None:
        while not done():
            ready = selector.select(WAIT)
            if not ready:
                raise lost(counts["events"], target)
            for key, _ in ready:
                conn, sock = key.data
                data = sock.recv(1 << 16)
                for event in conn.receive_data(data) if data else conn.receive_eof():
                    kind = type(event)
                    if kind is ev.EventDelivered:
                        counts["events"] += 1
                    elif kind is ev.CallSucceeded:
                        counts["results"] += 1
                    elif kind is ev.Joined:
                        counts["joined"] += 1
                    elif kind is ev.Subscribed:
                        counts["subscribed"] += 1
                    elif kind is ev.RequestFailed or conn.closed:
                        raise SystemExit(f"core client: {event!r}")
                out = conn.data_to_send()
                if out:
                    sock.sendall(out)

    def flush() -> None:
        for conn, sock in conns:
            out = conn.data_to_send()
            if out:
                sock.sendall(out)

    target = 0
    for conn, _ in conns:
        conn.initiate()
    flush()
    pump(lambda: counts["joined"] == subscribers)
    for conn, _ in conns:
        conn.session.subscribe(TOPIC)
    flush()
    pump(lambda: counts["subscribed"] == subscribers)
    caller, sock = conns[0]

    def received() -> bool:  # the burst's events, by every subscriber, and its call's result
        return counts["events"] >= target and counts["results"] > 0

    for size in (WARMUP, n):
        if size == n:
            meter = Meter()
            meter.start()
        counts["events"] = counts["results"] = 0
        target = subscribers * size
        caller.session.call("bench.burst", [size])
        sock.sendall(caller.data_to_send())
        pump(received)
    meter.stop(subscribers * n)
    for conn, sock in conns:
        conn.session.leave()
        sock.sendall(conn.data_to_send())
        sock.close()
    selector.close()


# ---------------------------------------------------------------------------------------------
# xconn-python (asyncio), the other Python client on PyPI


def xconn(transport: str, url: str, mode: str, n: int) -> None:
    client = importlib.import_module("xconn.async_client")  # optional peer
    serializers = importlib.import_module("wampproto.serializers")

    async def connect() -> Any:
        return await client.connect(url, "realm1", serializer=serializers.MsgPackSerializer())

    async def main() -> None:
        if mode in SUBSCRIBERS:
            subscribers = SUBSCRIBERS[mode]
            sessions = [await connect() for _ in range(subscribers)]
            got = 0
            done = asyncio.get_running_loop().create_future()
            target = subscribers * WARMUP

            async def on_event(_event: Any) -> None:
                nonlocal got
                got += 1
                if got == target:
                    done.set_result(None)

            for session in sessions:
                await session.subscribe(TOPIC, on_event)

            async def burst(size: int) -> None:
                try:
                    await asyncio.wait_for(sessions[0].call("bench.burst", [size]), WAIT)
                    await asyncio.wait_for(done, WAIT)
                except TimeoutError:
                    raise lost(got, target) from None

            await burst(WARMUP)
            got, target = 0, subscribers * n
            done = asyncio.get_running_loop().create_future()
            meter = Meter()
            meter.start()
            await burst(n)
            meter.stop(subscribers * n)
        else:
            sessions = [await connect()]
            await measure_calls(lambda: sessions[0].call("bench.echo", [1]), mode, n)
        for session in sessions:
            await session.leave()

    del transport  # (the URL's scheme says it)
    asyncio.run(main())


# ---------------------------------------------------------------------------------------------
# The floor: a bare TCP echo, no WAMP


def echo_server() -> None:
    class Echo(asyncio.Protocol):
        def connection_made(self, transport: Any) -> None:
            self.transport = transport

        def data_received(self, data: bytes) -> None:
            self.transport.write(data)

    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(Echo, "127.0.0.1", 0)
        print(server.sockets[0].getsockname()[1], flush=True)
        await asyncio.sleep(3600)

    asyncio.run(main())


def floor(backend: str, port: int, n: int, mode: str = "seq") -> None:
    """N echo round trips of a 40-byte message: one at a time (``seq``: a coroutine awaits each
    echo), or :data:`IN_FLIGHT` at a time (``inflight``: one reader, the loop's protocol
    callback or one trio task, replaces every read's completed messages in one write: no task
    per message, the least any client can spend per message with that many outstanding)."""
    message = b"x" * 40
    size = len(message)

    async def trio_inflight(stream: Any, count: int) -> None:
        issued = min(IN_FLIGHT, count)
        await stream.send(message * issued)
        received = 0
        while received < count * size:
            received += len(await stream.receive())
            more = min(received // size + IN_FLIGHT, count) - issued
            if more > 0:
                issued += more
                await stream.send(message * more)

    async def main() -> None:
        if backend == "asyncio":
            await asyncio_floor()
            return
        stream = await anyio.connect_tcp("127.0.0.1", port)  # trio's own socket stream

        async def trio_roundtrip() -> None:
            await stream.send(message)
            await stream.receive()

        if mode == "seq":
            for _ in range(WARMUP):
                await trio_roundtrip()
        else:
            await trio_inflight(stream, WARMUP)
        meter = Meter()
        meter.start()
        if mode == "seq":
            for _ in range(n):
                await trio_roundtrip()
        else:
            await trio_inflight(stream, n)
        meter.stop(n)
        await stream.aclose()

    async def asyncio_floor() -> None:
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        flight = {"received": 0, "issued": 0, "count": 0}

        class Client(asyncio.Protocol):
            def data_received(self, data: bytes) -> None:
                if mode == "seq":
                    waiter.set_result(None)
                    return
                flight["received"] += len(data)
                completed = flight["received"] // size
                if completed >= flight["count"]:
                    waiter.set_result(None)
                    return
                more = min(completed + IN_FLIGHT, flight["count"]) - flight["issued"]
                if more > 0:
                    flight["issued"] += more
                    transport.write(message * more)

        transport, _ = await loop.create_connection(Client, "127.0.0.1", port)
        transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        async def roundtrip() -> None:
            nonlocal waiter
            waiter = loop.create_future()
            transport.write(message)
            await waiter

        async def inflight(count: int) -> None:
            nonlocal waiter
            waiter = loop.create_future()
            first = min(IN_FLIGHT, count)
            flight.update(received=0, issued=first, count=count)
            transport.write(message * first)
            await waiter

        if mode == "seq":
            await measure_calls(roundtrip, "seq", n)
        else:
            await inflight(WARMUP)
            meter = Meter()
            meter.start()
            await inflight(n)
            meter.stop(n)
        transport.close()

    anyio.run(main, backend=backend)


def router_floor(backend: str, url: str, n: int) -> None:
    """The least a client on ``backend`` can spend per sequential call through the router:
    the event loop's wake-ups and the system calls, no WAMP work (see the module's doc)."""
    import msgpack  # noqa: PLC0415

    import wamp_core as wc  # noqa: PLC0415
    from wamp_core import events as ev  # noqa: PLC0415

    config = wc.parse_transports(transport_dict("rawsocket", url))[0]
    endpoint = config.endpoint
    assert isinstance(endpoint, wc.TcpEndpoint)
    conn = wc.make_connection(config, realm="realm1")
    sock = socket.create_connection((endpoint.host, endpoint.port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    conn.initiate()
    sock.sendall(conn.data_to_send())
    joined = False
    while not joined:
        data = sock.recv(1 << 16)
        if not data:
            raise SystemExit("router floor: the router closed the connection")
        joined = any(type(event) is ev.Joined for event in conn.receive_data(data))
        sock.sendall(conn.data_to_send())

    def frame(request_id: int) -> bytes:
        payload: bytes = msgpack.packb([48, request_id, {}, "bench.echo", [1]])
        return b"\x00" + len(payload).to_bytes(3, "big") + payload

    # Request IDs go on from the join's (none): 1, 2, 3... as the spec wants (ours checks).
    frames = iter([frame(i) for i in range(1, WARMUP + n + 2)])
    if backend == "blocking":

        def blocking_call() -> None:
            sock.sendall(next(frames))
            if not sock.recv(1 << 16):
                raise SystemExit("router floor: the router closed the connection")

        for _ in range(WARMUP):
            blocking_call()
        meter = Meter()
        meter.start()
        for _ in range(n):
            blocking_call()
        meter.stop(n)
        return
    if backend == "trio":
        import trio  # noqa: PLC0415

        async def trio_main() -> None:
            tsock = trio.socket.from_stdlib_socket(sock)

            async def trio_call() -> None:
                await tsock.send(next(frames))
                if not await tsock.recv(1 << 16):
                    raise SystemExit("router floor: the router closed the connection")

            for _ in range(WARMUP):
                await trio_call()
            meter = Meter()
            meter.start()
            for _ in range(n):
                await trio_call()
            meter.stop(n)

        trio.run(trio_main)
        return

    async def asyncio_main() -> None:  # a bare Protocol, as Autobahn reads
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()

        class Client(asyncio.Protocol):
            def data_received(self, data: bytes) -> None:
                if not waiter.done():
                    waiter.set_result(None)

            def connection_lost(self, exc: Exception | None) -> None:
                if not waiter.done():
                    waiter.set_exception(ConnectionError("the router closed the connection"))

        sock.setblocking(False)
        transport, _ = await loop.create_connection(Client, sock=sock)

        async def asyncio_call() -> None:
            nonlocal waiter
            waiter = loop.create_future()
            transport.write(next(frames))
            await waiter

        await measure_calls(asyncio_call, "seq", n)
        transport.close()

    if backend == "uvloop":
        importlib.import_module("uvloop").run(asyncio_main())
    else:
        asyncio.run(asyncio_main())


#: Seconds a measured client may run at all: one that stalls (an event that never comes) dies
#: and the harness reports it, instead of waiting for ever.
DEADLINE = 150


def main(argv: list[str]) -> None:
    role = argv[0]
    if role not in ("peer", "echo"):
        signal.alarm(DEADLINE)
    if role == "peer":
        asyncio.run(peer(argv[1]))
    elif role == "ours":
        backend, transport, url, mode, n = argv[1:6]
        if backend == "wamp_trio":
            import wamp_trio  # noqa: PLC0415 - only this client loads it

            anyio.run(ours, transport, url, mode, int(n), wamp_trio, backend="trio")
        elif backend == "uvloop":
            options = {"use_uvloop": True}
            anyio.run(
                ours, transport, url, mode, int(n), backend="asyncio", backend_options=options
            )
        else:
            anyio.run(ours, transport, url, mode, int(n), backend=backend)
    elif role == "autobahn":
        _backend, transport, url, mode, n = argv[1:6]
        autobahn(transport, url, mode, int(n))
    elif role == "core":
        _backend, transport, url, mode, n = argv[1:6]
        core(transport, url, mode, int(n))
    elif role == "xconn":
        _backend, transport, url, mode, n = argv[1:6]
        xconn(transport, url, mode, int(n))
    elif role == "routerfloor":
        router_floor(argv[1], argv[2], int(argv[3]))
    elif role == "echo":
        echo_server()
    elif role == "floor":
        floor(argv[1], int(argv[2]), int(argv[3]), *argv[4:5])
    else:
        raise SystemExit(f"unknown role {role!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
