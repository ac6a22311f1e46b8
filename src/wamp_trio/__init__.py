"""trio-native driver for :mod:`wamp_core`: the same :class:`Component` and session API as
``wamp_anyio``, on trio itself (neither anyio nor asyncio is imported).

:class:`Component` is Autobahn's component (connect, join, restore, ``main``, reconnect):
``async with Component(...)``, ``await component.run()``, or ``await nursery.start(component.run)``
(returns the session once it is ready). :func:`run` runs components with ``trio.run`` until
done or Ctrl-C. :func:`connect` gives one joined :class:`Session` for an ``async with``:
``async with wamp_trio.connect("rs://127.0.0.1:8080", realm="realm1") as session: ...``
"""

# Autobahn's names, importable from the driver as from ``autobahn.wamp.types``.
from wamp_core import (
    ApplicationError as ApplicationError,
    CallDetails as CallDetails,
    CallOptions as CallOptions,
    CallResult as CallResult,
    CloseDetails as CloseDetails,
    ComponentConfig as ComponentConfig,
    ConfigurationError as ConfigurationError,
    EventDetails as EventDetails,
    PublishOptions as PublishOptions,
    RegisterOptions as RegisterOptions,
    SessionClosed as SessionClosed,
    SessionDetails as SessionDetails,
    SubscribeOptions as SubscribeOptions,
    TransportError as TransportError,
    WampError as WampError,
)
from wamp_core.driver import (
    CLOSE_TIMEOUT as CLOSE_TIMEOUT,
    DEFAULT_TRANSPORT as DEFAULT_TRANSPORT,
    DEFAULT_WEBSOCKET_PING_INTERVAL as DEFAULT_WEBSOCKET_PING_INTERVAL,
    HIGH_WATER as HIGH_WATER,
    SEND_SLICE as SEND_SLICE,
    SEND_TIMEOUT as SEND_TIMEOUT,
    Authentication as Authentication,
    Chunk as Chunk,
    Chunks as Chunks,
    Handler as Handler,
    OpenCall as OpenCall,
    ProgressiveCall as ProgressiveCall,
    Publication as Publication,
    Registration as Registration,
    Sent as Sent,
    Subscription as Subscription,
)

from . import wamp as wamp
from ._application import (
    ApplicationRunner as ApplicationRunner,
    ApplicationSession as ApplicationSession,
)
from ._component import Component as Component
from ._run import run as run
from ._session import Session as Session
from ._transport import open_stream as open_stream

#: Connect, join and yield one session (:meth:`Session.connect`).
connect = Session.connect

__all__ = [
    "ApplicationError",
    "CallDetails",
    "CallOptions",
    "CallResult",
    "CloseDetails",
    "ComponentConfig",
    "ConfigurationError",
    "EventDetails",
    "PublishOptions",
    "RegisterOptions",
    "SessionClosed",
    "SessionDetails",
    "SubscribeOptions",
    "TransportError",
    "WampError",
    "CLOSE_TIMEOUT",
    "DEFAULT_TRANSPORT",
    "DEFAULT_WEBSOCKET_PING_INTERVAL",
    "HIGH_WATER",
    "SEND_SLICE",
    "SEND_TIMEOUT",
    "ApplicationRunner",
    "ApplicationSession",
    "Authentication",
    "Component",
    "Chunk",
    "Chunks",
    "Handler",
    "OpenCall",
    "ProgressiveCall",
    "Publication",
    "Registration",
    "Sent",
    "Session",
    "Subscription",
    "connect",
    "open_stream",
    "run",
    "wamp",
]
