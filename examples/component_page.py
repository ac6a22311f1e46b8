"""The three examples of Autobahn's ``Component`` page, verbatim but for the imports.

    python examples/component_page.py URL [asyncio|trio|wamp_trio]

(``asyncio``/``trio``: ``wamp_anyio`` on that library; ``wamp_trio``: the trio-native driver.)

Between the markers: the page's ``on_join``, ``subscribe`` and ``register`` examples, as printed
in ``autobahn.wamp.component.Component``'s docstrings. Around them: a ``main`` that calls the
procedure and publishes below the prefix-subscribed topic, so each example prints its line.
"""

import importlib
import sys
from typing import Any

url = sys.argv[1] if len(sys.argv) > 1 else "ws://127.0.0.1:8080/ws"
backend = sys.argv[2] if len(sys.argv) > 2 else "asyncio"

# The same names from either driver (and its library's sleep).
native = backend == "wamp_trio"
wamp: Any = importlib.import_module("wamp_trio" if native else "wamp_anyio")
sleep = importlib.import_module("trio" if native else "anyio").sleep
Component, PublishOptions, run = wamp.Component, wamp.PublishOptions, wamp.run
RegisterOptions, SubscribeOptions = wamp.RegisterOptions, wamp.SubscribeOptions


async def main(reactor, session):  # type: ignore[no-untyped-def]  # the page's form
    await session.call("com.example.add", 1, 2, x=3)
    await session.publish(
        "some.topic.below", "hello", options=PublishOptions(acknowledge=True, exclude_me=False)
    )
    await sleep(0.2)  # let the event handler print


component = Component(main=main, transports=url, realm="realm1")

# --- the page's examples, verbatim ------------------------------------------------------------
# fmt: off


@component.on_join
def joined(session, details):  # type: ignore[no-untyped-def]
    print("Session {} joined: {}".format(session, details))  # noqa: UP032


@component.subscribe(
    "some.topic",
    options=SubscribeOptions(match='prefix'),
)
def topic(*args, **kw):  # type: ignore[no-untyped-def]
    print("some.topic({}, {}): event received".format(args, kw))  # noqa: UP032


@component.register(
    "com.example.add",
    options=RegisterOptions(invoke='roundrobin'),
)
def add(*args, **kw):  # type: ignore[no-untyped-def]
    print("add({}, {}): event received".format(args, kw))  # noqa: UP032


# fmt: on
# --- end of the page's examples ---------------------------------------------------------------

if __name__ == "__main__":
    if backend == "wamp_trio":
        run([component])
    else:
        run([component], backend="trio" if backend == "trio" else "asyncio")
