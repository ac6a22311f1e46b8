"""wamp_anyio in a plain program (``anyio.run``/``asyncio.run``, no pytest plugin), on Crossbar.

The pytest plugin runs tests in a context that names the async library; a plain program's
event-loop callbacks have none. On asyncio over a plain socket the session is read from the
loop's readiness callback, which starts invocation tasks and hands events over: this proves
that path works where users run it, for every transport kind that takes it (TCP, unix) and the
one that does not (WebSocket over TCP goes the same way; TLS keeps the reader task), on
asyncio's own loop and on uvloop's.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from crossbar import CrossbarRouter

PROGRAM = textwrap.dedent(
    """
    import sys, anyio, asyncio, wamp_anyio

    async def main(transport):
        async with wamp_anyio.connect(transport) as session:
            got = []
            done = anyio.Event()

            def on_event(x):
                got.append(x)
                if len(got) == 50:
                    done.set()

            async def slow_add(a, b):
                await anyio.sleep(0.01)
                return a + b

            await session.register(lambda a, b: a * b, "plain.mul")
            await session.register(slow_add, "plain.add")
            await session.subscribe(on_event, "plain.topic")
            results = [await session.call("plain.mul", i, 2) for i in range(20)]
            async with anyio.create_task_group() as tg:
                sums = []
                async def add(i):
                    sums.append(await session.call("plain.add", i, 1))
                for i in range(30):
                    tg.start_soon(add, i)
            for i in range(50):
                await session.publish("plain.topic", i, options=wamp_anyio.PublishOptions(
                    exclude_me=False))
            with anyio.fail_after(10):
                await done.wait()
            assert results == [2 * i for i in range(20)], results
            assert sorted(sums) == [i + 1 for i in range(30)], sums
            assert got == list(range(50)), got
            print("ok", flush=True)

    kind, url, backend = sys.argv[1:4]
    key = "serializer" if kind == "rawsocket" else "serializers"
    value = "msgpack" if kind == "rawsocket" else ["msgpack"]
    if backend == "asyncio-run":
        asyncio.run(main({"type": kind, "url": url, key: value}))
    elif backend == "uvloop":
        import uvloop
        uvloop.run(main({"type": kind, "url": url, key: value}))
    else:
        anyio.run(main, {"type": kind, "url": url, key: value}, backend=backend)
    """
)


@pytest.mark.parametrize("backend", ["asyncio", "asyncio-run", "uvloop", "trio"])
@pytest.mark.parametrize("kind", ["rawsocket", "rawsocket-unix", "websocket"])
def test_plain_program_calls_registers_and_receives(
    crossbar: CrossbarRouter, kind: str, backend: str
) -> None:
    if backend == "uvloop":  # (its loop takes the readiness-callback path too)
        pytest.importorskip("uvloop")
    url = {
        "rawsocket": crossbar.rs_url,
        "rawsocket-unix": f"rs://unix:{crossbar.unix_path}",
        "websocket": crossbar.ws_url,
    }[kind]
    proc = subprocess.run(
        [sys.executable, "-c", PROGRAM, kind.split("-", maxsplit=1)[0], url, backend],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip() == "ok"
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
