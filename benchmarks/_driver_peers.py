"""The processes of ``benchmarks/driver.py``: the measured clients, the fixed peer, the floor.

Run as ``python benchmarks/_driver_peers.py ROLE ...`` (the harness does). A measured client
prints one JSON line: its own CPU time (user + system, ``getrusage``) and wall time over the
measured operations only (connect, join and a warm-up are excluded).

Roles:

* ``peer URL``: our client (asyncio, msgpack, RawSocket or WebSocket by the URL) registering
  ``bench.echo`` (returns its argument) and ``bench.burst(n)`` (publishes ``n`` events to
  ``bench.topic``, then returns); prints ``ready``.
* ``ours BACKEND TRANSPORT URL MODE N`` / ``autobahn asyncio TRANSPORT URL MODE N`` /
  ``xconn asyncio TRANSPORT URL MODE N`` / ``core blocking TRANSPORT URL MODE N`` (wamp_core
  driven by hand over a blocking socket): MODE is ``seq`` (N calls one after another),
  ``inflight`` (N calls, 100 in flight) or ``events`` (N events received from one burst).
  BACKEND ``uvloop`` is ours on asyncio with uvloop's event loop.
* ``echo``: a bare asyncio TCP echo server; prints its port.
* ``floor BACKEND PORT N``: N round trips of a 40-byte message through it (the floor).
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import resource
import signal
import socket
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio

import wamp_anyio
from wamp_core import SubscribeOptions

IN_FLIGHT = 100
WARMUP = 200
TOPIC = "bench.topic"


class Meter:
    """CPU and wall time of this process between :meth:`start` and :meth:`stop`."""

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


async def ours(transport: str, url: str, mode: str, n: int, driver: Any = wamp_anyio) -> None:
    async with driver.connect(transport_dict(transport, url)) as session:
        if mode == "events":
            got = 0
            done = anyio.Event()
            target = WARMUP

            def on_event(_i: int) -> None:
                nonlocal got
                got += 1
                if got == target:
                    done.set()

            await session.subscribe(on_event, TOPIC, SubscribeOptions(queue_size=WARMUP + n + 1))
            await session.call("bench.burst", WARMUP)
            await done.wait()
            got, target, done = 0, n, anyio.Event()
            meter = Meter()
            meter.start()
            await session.call("bench.burst", n)
            await done.wait()
            meter.stop(n)
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

        await session.register(lambda x: x, "bench.echo")
        await session.register(burst, "bench.burst")
        print("ready", flush=True)
        await anyio.sleep_forever()


# ---------------------------------------------------------------------------------------------
# Autobahn|Python (asyncio), the peer to beat


def autobahn(transport: str, url: str, mode: str, n: int) -> None:
    component = importlib.import_module("autobahn.asyncio.component")  # optional peer

    async def main(_reactor: Any, session: Any) -> None:
        try:
            if mode == "events":
                got = 0
                done = asyncio.get_running_loop().create_future()
                target = WARMUP

                def on_event(_i: int) -> None:
                    nonlocal got
                    got += 1
                    if got == target:
                        done.set_result(None)

                await session.subscribe(on_event, TOPIC)
                await session.call("bench.burst", WARMUP)
                await done
                got, target = 0, n
                done = asyncio.get_running_loop().create_future()
                meter = Meter()
                meter.start()
                await session.call("bench.burst", n)
                await done
                meter.stop(n)
            else:
                await measure_calls(lambda: session.call("bench.echo", 1), mode, n)
        finally:
            # Autobahn's Component reconnects after main returns: leave the process instead.
            sys.stdout.flush()
            os._exit(0)

    transports = [transport_dict(transport, url)]
    app = component.Component(transports=transports, realm="realm1", main=main)
    component.run([app], log_level="error")


# ---------------------------------------------------------------------------------------------
# wamp_core driven by hand: a blocking socket, no event loop (what the drivers add is the rest)


def core(transport: str, url: str, mode: str, n: int) -> None:
    import wamp_core as wc  # noqa: PLC0415 - only this client drives the core itself
    from wamp_core import events as ev  # noqa: PLC0415

    config = wc.parse_transports(transport_dict(transport, url))[0]
    endpoint = config.endpoint
    assert isinstance(endpoint, wc.TcpEndpoint)
    conn = wc.make_connection(config, realm="realm1")
    sock = socket.create_connection((endpoint.host, endpoint.port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    counts = {"joined": 0, "subscribed": 0, "results": 0, "events": 0}
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
                elif kind is ev.EventDelivered:
                    counts["events"] += 1
                elif kind is ev.Joined:
                    counts["joined"] += 1
                elif kind is ev.Subscribed:
                    counts["subscribed"] += 1
                elif kind is ev.RequestFailed or conn.closed:
                    raise SystemExit(f"core client: {event!r}")
            out = conn.data_to_send()
            if out:
                sock.sendall(out)

    def results(at_least: int) -> Callable[[], bool]:
        return lambda: counts["results"] >= at_least

    def burst(size: int) -> Callable[[], bool]:
        return lambda: counts["events"] >= size and counts["results"] > 0

    issue_more: Callable[[], None] | None = None
    conn.initiate()
    sock.sendall(conn.data_to_send())
    pump(lambda: counts["joined"] > 0)
    if mode == "events":
        session.subscribe(TOPIC)
        sock.sendall(conn.data_to_send())
        pump(lambda: counts["subscribed"] > 0)
        for size in (WARMUP, n):
            if size == n:
                meter = Meter()
                meter.start()
            counts["events"] = counts["results"] = 0
            session.call("bench.burst", [size])
            sock.sendall(conn.data_to_send())
            pump(burst(size))
        meter.stop(n)
    else:
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


# ---------------------------------------------------------------------------------------------
# xconn-python (asyncio), the other Python client on PyPI


def xconn(transport: str, url: str, mode: str, n: int) -> None:
    client = importlib.import_module("xconn.async_client")  # optional peer
    serializers = importlib.import_module("wampproto.serializers")

    async def main() -> None:
        session = await client.connect(url, "realm1", serializer=serializers.MsgPackSerializer())
        if mode == "events":
            got = 0
            done = asyncio.get_running_loop().create_future()
            target = WARMUP

            async def on_event(_event: Any) -> None:
                nonlocal got
                got += 1
                if got == target:
                    done.set_result(None)

            await session.subscribe(TOPIC, on_event)
            await session.call("bench.burst", [WARMUP])
            await done
            got, target = 0, n
            done = asyncio.get_running_loop().create_future()
            meter = Meter()
            meter.start()
            await session.call("bench.burst", [n])
            await done
            meter.stop(n)
        else:
            await measure_calls(lambda: session.call("bench.echo", [1]), mode, n)
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


def floor(backend: str, port: int, n: int) -> None:
    message = b"x" * 40

    async def main() -> None:
        if backend == "asyncio":
            loop = asyncio.get_running_loop()
            waiter: asyncio.Future[None] = loop.create_future()

            class Client(asyncio.Protocol):
                def data_received(self, data: bytes) -> None:
                    waiter.set_result(None)

            transport, _ = await loop.create_connection(Client, "127.0.0.1", port)
            transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            async def roundtrip() -> None:
                nonlocal waiter
                waiter = loop.create_future()
                transport.write(message)
                await waiter

            await measure_calls(roundtrip, "seq", n)
            transport.close()
            return
        stream = await anyio.connect_tcp("127.0.0.1", port)  # trio's own socket stream

        async def trio_roundtrip() -> None:
            await stream.send(message)
            await stream.receive()

        for _ in range(WARMUP):
            await trio_roundtrip()
        meter = Meter()
        meter.start()
        for _ in range(n):
            await trio_roundtrip()
        meter.stop(n)
        await stream.aclose()

    anyio.run(main, backend=backend)


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
    elif role == "echo":
        echo_server()
    elif role == "floor":
        floor(argv[1], int(argv[2]), int(argv[3]))
    else:
        raise SystemExit(f"unknown role {role!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
