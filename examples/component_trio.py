"""The same component as ``component.py`` on the trio-native driver (no anyio, no asyncio).

    python examples/component_trio.py [URL] [REALM]

It registers ``com.example.add2`` and subscribes to ``com.example.hello`` (restored on every
join), then ``main`` calls the procedure, publishes an event it receives itself, and returns:
the component leaves and :func:`wamp_trio.run` returns. Ctrl-C stops it cleanly.
"""

from __future__ import annotations

import logging
import sys

import trio

import wamp_core as wc
import wamp_trio

url = sys.argv[1] if len(sys.argv) > 1 else "ws://127.0.0.1:8080/ws"
realm = sys.argv[2] if len(sys.argv) > 2 else "realm1"

received = trio.Event()


async def main(session: wamp_trio.Session) -> None:
    print("2 + 3 =", await session.call("com.example.add2", 2, 3))
    await session.publish(
        "com.example.hello",
        "hello from main",
        options=wc.PublishOptions(acknowledge=True, exclude_me=False),
    )
    with trio.fail_after(10):
        await received.wait()  # the event comes back to our own subscription


component = wamp_trio.Component(main=main, transports=url, realm=realm)


@component.register("com.example.add2")
def add2(a: int, b: int) -> int:
    return a + b


@component.subscribe("com.example.hello", wc.SubscribeOptions(details=True))
def hello(text: str, details: wc.EventDetails) -> None:
    print(f"event on {details.topic}: {text!r}")
    received.set()


@component.on_join
def joined(session: wamp_trio.Session, details: wc.SessionDetails) -> None:
    print(f"joined {details.realm} as session {details.session}")


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    wamp_trio.run(component)
    print("done")
