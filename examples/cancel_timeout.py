"""Giving up on a call: cancelling it, and call timeouts.

    python examples/cancel_timeout.py [URL] [--realm REALM] [--backend asyncio|trio]

A call is an ordinary ``await``: cancel it like any other (a cancel scope, a task group), and
the driver sends CANCEL; the router then interrupts the callee (INTERRUPT), whose handler sees
its event loop's cancellation at the ``await`` it is in. What the caller gets:

1. ``anyio.move_on_after(s)`` (or any cancel scope): nothing raised, ``scope.cancelled_caught``;
2. ``anyio.fail_after(s)``: the same, then the built-in ``TimeoutError``;
3. ``CallOptions(timeout=s)``: the router ends the call, and the driver does too (alone, when the
   router has no call timeouts): :class:`wamp_core.ApplicationError` ``wamp.error.timeout``.

(A call whose session ends first raises :class:`wamp_core.SessionClosed`; every exception the
library raises is a :class:`wamp_core.WampError`.) Without URL the embedded router runs in this
process; any router with call canceling will do.
"""

from __future__ import annotations

import argparse

import anyio

import wamp_anyio
import wamp_core as wc

PROCEDURE = "com.example.slow"
PATIENCE = 0.5  # seconds the caller waits


async def demo(url: str, realm: str) -> None:
    interrupted = anyio.Event()

    async def slow() -> str:
        try:
            await anyio.sleep(60)  # a long job
        except anyio.get_cancelled_exc_class():  # INTERRUPT: the caller gave up
            print("  callee: interrupted")
            interrupted.set()
            raise  # always let a cancellation propagate (the router is told "canceled")
        return "done"

    async def callee_was_interrupted() -> None:
        nonlocal interrupted
        await interrupted.wait()
        interrupted = anyio.Event()  # for the next case

    async with wamp_anyio.connect(url, realm=realm) as callee:
        await callee.register(slow, PROCEDURE)
        async with wamp_anyio.connect(url, realm=realm) as caller:
            print("1. cancel scope")
            with anyio.move_on_after(PATIENCE) as scope:
                await caller.call(PROCEDURE)
            await callee_was_interrupted()
            print(f"  caller: cancelled_caught={scope.cancelled_caught}")

            print("2. anyio.fail_after")
            try:
                with anyio.fail_after(PATIENCE):
                    await caller.call(PROCEDURE)
            except TimeoutError:
                await callee_was_interrupted()
                print("  caller: TimeoutError")

            print("3. CallOptions(timeout=...)")
            try:
                await caller.call(PROCEDURE, options=wc.CallOptions(timeout=PATIENCE))
            except wc.ApplicationError as exc:
                if exc.error != wc.ApplicationError.TIMEOUT:
                    raise  # another error: from the callee, or the router
                await callee_was_interrupted()
                print(f"  caller: ApplicationError {exc.error}")

            # The session is fine after all that.
            print(f"caller still attached: {caller.is_attached()}")


async def main(url: str | None, realm: str) -> None:
    with anyio.fail_after(30):  # a hang is a failure too
        if url is not None:
            await demo(url, realm)
            return
        # rs://memory/NAME: clients in this process and loop reach the router with no socket
        async with wamp_anyio.start_router(["rs://memory/cancel"], realms=[realm]) as router:
            await demo(router.urls[0], realm)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="cancelling WAMP calls, and call timeouts")
    parser.add_argument("url", nargs="?", help="a router (default: one in this process)")
    parser.add_argument("--realm", default="realm1")
    parser.add_argument("--backend", choices=["asyncio", "trio"], default="asyncio")
    args = parser.parse_args()
    anyio.run(main, args.url, args.realm, backend=args.backend)
