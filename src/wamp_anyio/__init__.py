"""anyio driver for :mod:`wamp_core` (asyncio and trio).

A first slice: :func:`connect` joins a realm and yields a :class:`Session` (call, publish,
register, subscribe, leave). ``async with wamp_anyio.connect("rs://127.0.0.1:8080",
realm="realm1") as session: ...``
"""

from ._session import (
    CLOSE_TIMEOUT as CLOSE_TIMEOUT,
    SEND_TIMEOUT as SEND_TIMEOUT,
    Authentication as Authentication,
    Handler as Handler,
    Registration as Registration,
    Session as Session,
    Subscription as Subscription,
    connect as connect,
)
from ._transport import open_stream as open_stream

__all__ = [
    "CLOSE_TIMEOUT",
    "SEND_TIMEOUT",
    "Authentication",
    "Handler",
    "Registration",
    "Session",
    "Subscription",
    "connect",
    "open_stream",
]
