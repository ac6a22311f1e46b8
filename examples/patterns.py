"""Pattern-based subscriptions and registrations: one handler for many URIs.

    python examples/patterns.py [URL] [--realm REALM] [--backend asyncio|trio]

``match="prefix"``: the pattern matches every URI starting with it (``com.example.sensor.``).
``match="wildcard"``: an empty component matches any one component (``com.example..status``
matches ``com.example.printer.status``, not ``com.example.printer.tray.status``).
The handler learns the concrete URI from its details: ``EventDetails.topic``,
``CallDetails.procedure``. When several registrations match a call, an exact one wins over a
prefix one, which wins over a wildcard one. Without URL the embedded router runs in this
process; any router with pattern-based subscriptions and registrations will do.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import anyio

import wamp_anyio
import wamp_core as wc

PUBLISHED = [  # topic, value
    ("com.example.sensor.kitchen.temperature", 21.5),
    ("com.example.sensor.kitchen.humidity", 40),
    ("com.example.sensor.kitchen.oven.temperature", 180),
    ("com.example.sensor.cellar.temperature", 12.0),
]
CALLS: list[tuple[str, tuple[int, ...]]] = [  # procedure, arguments
    ("com.example.calc.add", (6, 7)),  # the exact registration, not the prefix one
    ("com.example.calc.mul", (6, 7)),  # the prefix registration
    ("com.example.printer.status", ()),  # the wildcard registration
    ("com.example.calc.status", (6, 7)),  # the prefix and the wildcard match: the prefix wins
]


async def demo(url: str, realm: str) -> None:
    received: dict[str, list[str]] = {"prefix": [], "wildcard": []}

    def on_event(kind: str) -> Callable[..., None]:
        def handler(value: float, *, details: wc.EventDetails) -> None:
            received[kind].append(f"{details.topic} = {value}")  # the concrete topic

        return handler

    async with wamp_anyio.connect(url, realm=realm) as session:
        prefix = wc.SubscribeOptions(match="prefix")
        await session.subscribe(on_event("prefix"), "com.example.sensor.", prefix)
        wildcard = wc.SubscribeOptions(match="wildcard")
        await session.subscribe(on_event("wildcard"), "com.example.sensor..temperature", wildcard)

        def add(a: int, b: int) -> str:
            return f"{a + b} (exact registration)"

        # A keyword-only parameter ``details`` is passed the CallDetails without asking.
        def calc(a: int, b: int, *, details: wc.CallDetails) -> str:
            operation = str(details.procedure).rsplit(".", 1)[1]  # the concrete procedure
            results = {"mul": a * b, "sub": a - b}
            if operation not in results:
                raise wc.ApplicationError("com.example.error.unknown_operation", operation)
            return f"{results[operation]} (prefix registration, {operation})"

        def status(*, details: wc.CallDetails) -> str:
            device = str(details.procedure).split(".")[2]
            return f"{device} is ok (wildcard registration)"

        await session.register(add, "com.example.calc.add")
        await session.register(calc, "com.example.calc.", wc.RegisterOptions(match="prefix"))
        await session.register(status, "com.example..status", wc.RegisterOptions(match="wildcard"))

        for procedure, arguments in CALLS:
            try:
                print(f"call {procedure}: {await session.call(procedure, *arguments)}")
            except wc.ApplicationError as exc:
                print(f"call {procedure}: {exc}")

        # The router delivers our own events to us only when asked (exclude_me=False).
        options = wc.PublishOptions(acknowledge=True, exclude_me=False)
        for topic, value in PUBLISHED:
            await session.publish(topic, value, options=options)
        while sum(map(len, received.values())) < 6:  # 4 match the prefix, 2 the wildcard
            await anyio.sleep(0.01)
        # Each subscription's handler runs in a task of its own, in publication order: print
        # them once all arrived, one subscription after the other.
        for kind, events in received.items():
            for event in events:
                print(f"{kind} subscription: {event}")


async def main(url: str | None, realm: str) -> None:
    with anyio.fail_after(30):  # a hang is a failure too
        if url is not None:
            await demo(url, realm)
            return
        # rs://memory/NAME: clients in this process and loop reach the router with no socket
        async with wamp_anyio.start_router(["rs://memory/patterns"], realms=[realm]) as router:
            await demo(router.urls[0], realm)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="WAMP pattern subscriptions and registrations")
    parser.add_argument("url", nargs="?", help="a router (default: one in this process)")
    parser.add_argument("--realm", default="realm1")
    parser.add_argument("--backend", choices=["asyncio", "trio"], default="asyncio")
    args = parser.parse_args()
    anyio.run(main, args.url, args.realm, backend=args.backend)
