"""For driver authors: the async half every driver shares, written once against a
:class:`Runtime`.

``wamp_anyio`` and ``wamp_trio`` are this code plus a runtime (how to wait, spawn, cancel and
open a socket with their library) and their transports. The session (:class:`Session`), the
component (:class:`Component`), one connection (:func:`open_session`) and the bytes of a
connection (:class:`Link`, :class:`DirectSocketStream`) import no async library; the
protocol and every lifecycle decision below them are :mod:`wamp_core`'s sans-IO code.

``import wamp_core`` does not load this module; a driver imports it.
"""

from ._driver._application import ApplicationSession as ApplicationSession
from ._driver._calls import (
    MAX_QUEUED_CHUNKS as MAX_QUEUED_CHUNKS,
    Chunk as Chunk,
    Chunks as Chunks,
    OpenCall as OpenCall,
    ProgressiveCall as ProgressiveCall,
)
from ._driver._component import DEFAULT_TRANSPORT as DEFAULT_TRANSPORT, Component as Component
from ._driver._connect import (
    authenticators as authenticators,
    cannot_connect as cannot_connect,
    check_tls_files as check_tls_files,
    connect as connect,
    connect_timed_out as connect_timed_out,
    join_timeout as join_timeout,
    open_session as open_session,
)
from ._driver._direct import (
    FAIR as FAIR,
    TAKING as TAKING,
    BrokenStream as BrokenStream,
    DirectSocketStream as DirectSocketStream,
    EndOfStream as EndOfStream,
    acknowledged as acknowledged,
    connect_socket as connect_socket,
    connect_tcp as connect_tcp,
    connect_tcp_socket as connect_tcp_socket,
    outstanding as outstanding,
    ping_marks as ping_marks,
    taking as taking,
)
from ._driver._inbox import Inbox as Inbox
from ._driver._link import (
    BATCH_FIRST as BATCH_FIRST,
    BATCH_FLUSH as BATCH_FLUSH,
    HIGH_WATER as HIGH_WATER,
    SEND_SLICE as SEND_SLICE,
    SEND_TIMEOUT as SEND_TIMEOUT,
    Link as Link,
    send_sliced as send_sliced,
)
from ._driver._memory import (
    MEMORY_BUFFER as MEMORY_BUFFER,
    MemoryStream as MemoryStream,
    connect_memory as connect_memory,
    listen_memory as listen_memory,
    memory_pair as memory_pair,
)
from ._driver._run import STOP_SIGNALS as STOP_SIGNALS, run as run, run_components as run_components
from ._driver._runner import ApplicationRunner as ApplicationRunner
from ._driver._runtime import (
    CancelScope as CancelScope,
    Event as Event,
    Runtime as Runtime,
    SocketLike as SocketLike,
    Stream as Stream,
    TaskGroup as TaskGroup,
)
from ._driver._sent import Sent as Sent
from ._driver._session import (
    CLOSE_TIMEOUT as CLOSE_TIMEOUT,
    DEFAULT_WEBSOCKET_PING_INTERVAL as DEFAULT_WEBSOCKET_PING_INTERVAL,
    Authentication as Authentication,
    Handler as Handler,
    Publication as Publication,
    Registration as Registration,
    Session as Session,
    Subscription as Subscription,
)
from ._driver._waiters import (
    MAX_QUEUED_RESULTS as MAX_QUEUED_RESULTS,
    EventWaiter as EventWaiter,
    TrioWaiter as TrioWaiter,
    Waiter as Waiter,
)

__all__ = [
    "CLOSE_TIMEOUT",
    "DEFAULT_TRANSPORT",
    "DEFAULT_WEBSOCKET_PING_INTERVAL",
    "FAIR",
    "BATCH_FIRST",
    "BATCH_FLUSH",
    "HIGH_WATER",
    "MAX_QUEUED_CHUNKS",
    "MAX_QUEUED_RESULTS",
    "MEMORY_BUFFER",
    "SEND_SLICE",
    "SEND_TIMEOUT",
    "STOP_SIGNALS",
    "TAKING",
    "ApplicationRunner",
    "ApplicationSession",
    "Authentication",
    "BrokenStream",
    "CancelScope",
    "Chunk",
    "Chunks",
    "Component",
    "DirectSocketStream",
    "EndOfStream",
    "Event",
    "EventWaiter",
    "Handler",
    "Inbox",
    "Link",
    "MemoryStream",
    "OpenCall",
    "ProgressiveCall",
    "Registration",
    "Runtime",
    "Session",
    "Sent",
    "SocketLike",
    "Publication",
    "Stream",
    "Subscription",
    "TaskGroup",
    "TrioWaiter",
    "Waiter",
    "authenticators",
    "cannot_connect",
    "check_tls_files",
    "connect",
    "connect_memory",
    "connect_timed_out",
    "connect_socket",
    "connect_tcp",
    "connect_tcp_socket",
    "join_timeout",
    "listen_memory",
    "memory_pair",
    "open_session",
    "run",
    "run_components",
    "acknowledged",
    "outstanding",
    "ping_marks",
    "send_sliced",
    "taking",
]
