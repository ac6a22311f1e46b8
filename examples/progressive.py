"""Progressive calls both ways: a procedure that sends partial results before its final one,
and a caller that sends its arguments in chunks (progressive call invocations).

    python examples/progressive.py [URL] [--realm REALM] [--backend asyncio|trio]

The procedure is an async generator: every value it yields is a progressive result, except
the last, which is the call's result. The caller takes the partial results with a callback
(``CallOptions(on_progress=...)``; ``call`` returns the final result) or iterates them all
(``session.iter_call``). A caller that does not ask for them gets only the final result, and
a caller that stops iterating early cancels the call. The other way, ``session.open_call``
sends the arguments in chunks and the procedure reads them through its keyword-only ``chunks``
parameter. Without URL the embedded router runs in this process; any router with progressive
call results, call canceling and progressive call invocations will do (Crossbar.io 26 has no
progressive call invocations: the last step then fails with ``LocalProtocolError``).
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator

import anyio

import wamp_anyio
import wamp_core as wc

PROCEDURE = "com.example.countdown"


async def demo(url: str, realm: str) -> None:
    interrupted = anyio.Event()

    async def countdown(n: int, *, details: wc.CallDetails) -> AsyncIterator[str]:
        # ``details`` (a keyword-only parameter named so) is passed without asking;
        # details.receive_progress says whether the caller takes progressive results.
        print(f"callee: countdown({n}), caller takes progress: {details.receive_progress}")
        try:
            for i in range(n, 0, -1):
                yield f"{i}..."  # a progressive result
                await anyio.sleep(0.01)  # (some work between results)
        except anyio.get_cancelled_exc_class():  # the caller gave up: the router interrupted us
            print("callee: countdown interrupted")
            interrupted.set()
            raise  # always let a cancellation propagate
        yield "liftoff"  # the last value: the final result

    async with wamp_anyio.connect(url, realm=realm) as callee:
        await callee.register(countdown, PROCEDURE)
        async with wamp_anyio.connect(url, realm=realm) as caller:
            # 1. A callback for the partial results (sync or async); call() returns the last.
            def on_progress(value: str) -> None:
                print(f"on_progress: {value}")

            options = wc.CallOptions(on_progress=on_progress)
            result = await caller.call(PROCEDURE, 3, options=options)
            print(f"call result: {result}")

            # 2. Iterate: every item is a CallResult, the final one with progress=False.
            async with caller.iter_call(PROCEDURE, 2) as results:
                async for item in results:
                    print(f"iter_call: {item.value} (progress={item.progress})")

            # 3. Not asking for progress: only the final result comes back.
            print(f"plain call: {await caller.call(PROCEDURE, 2)}")

            # 4. Leaving the iteration early cancels the call (the callee is interrupted).
            async with caller.iter_call(PROCEDURE, 1000) as results:
                async for item in results:
                    print(f"iter_call: {item.value}, enough")
                    break
            await interrupted.wait()

            # 5. The other way: the caller streams its arguments in chunks to a procedure
            #    with a keyword-only ``chunks`` parameter (progressive call invocations).
            async def word_count(*first: str, chunks: wamp_anyio.Chunks) -> int:
                words = sum(len(line.split()) for line in first)
                async for args, _kwargs in chunks:  # ends after the caller's last chunk
                    words += sum(len(line.split()) for line in args)
                return words

            await callee.register(word_count, "com.example.word_count")
            async with caller.open_call("com.example.word_count", "the first line") as call:
                await call.send("a second line", "and a third")
                total = await call.finish("the end")
            print(f"open_call: {total} words in 4 lines sent in 3 chunks")


async def main(url: str | None, realm: str) -> None:
    with anyio.fail_after(30):  # a hang is a failure too
        if url is not None:
            await demo(url, realm)
            return
        # rs://memory/NAME: clients in this process and loop reach the router with no socket
        async with wamp_anyio.start_router(["rs://memory/progressive"], realms=[realm]) as router:
            await demo(router.urls[0], realm)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="WAMP progressive calls, both ways")
    parser.add_argument("url", nargs="?", help="a router (default: one in this process)")
    parser.add_argument("--realm", default="realm1")
    parser.add_argument("--backend", choices=["asyncio", "trio"], default="asyncio")
    args = parser.parse_args()
    anyio.run(main, args.url, args.realm, backend=args.backend)
