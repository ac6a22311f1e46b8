"""wamp_core: a sans-IO WAMP client core.

No sockets, no event loop, no clock: bytes in, typed events out; commands in, bytes out.

Public namespaces: ``wamp_core`` (the client API, configuration, errors), ``wamp_core.events``
(everything a connection emits), ``wamp_core.messages`` (the WAMP message classes),
``wamp_core.serializers`` and ``wamp_core.auth``.
"""

from . import auth as auth, events as events, messages as messages, serializers as serializers
from ._client._connection import Connection as Connection, ConnectionEvent as ConnectionEvent
from ._client._factory import make_connection as make_connection, make_framer as make_framer
from ._client._session import ClientSession as ClientSession
from ._client._tables import (
    _VERSION,
    CLIENT_ROLES as CLIENT_ROLES,
    TRANSITIONS as TRANSITIONS,
    SessionCommand as SessionCommand,
    SessionState as SessionState,
)
from ._client._types import (
    CallDetails as CallDetails,
    CallOptions as CallOptions,
    CallResult as CallResult,
    CancelMode as CancelMode,
    CloseDetails as CloseDetails,
    EventDetails as EventDetails,
    PublishOptions as PublishOptions,
    RegisterOptions as RegisterOptions,
    RouterFeatures as RouterFeatures,
    SessionDetails as SessionDetails,
    SubscribeOptions as SubscribeOptions,
)
from ._component import (
    HOOKS as HOOKS,
    ORDER as ORDER,
    ComponentConfig as ComponentConfig,
    Declaration as Declaration,
    HandlerSpec as HandlerSpec,
    HookName as HookName,
    Hooks as Hooks,
    Lifecycle as Lifecycle,
    Outcome as Outcome,
    RequestTracker as RequestTracker,
    Verdict as Verdict,
    answer_invocation as answer_invocation,
    invocation_error as invocation_error,
    invocation_result as invocation_result,
    refusal_uri as refusal_uri,
)
from ._config._reconnect import (
    FATAL_REASONS as FATAL_REASONS,
    Attempt as Attempt,
    ReconnectExhausted as ReconnectExhausted,
    ReconnectPolicy as ReconnectPolicy,
    default_is_fatal as default_is_fatal,
)
from ._config._tls import (
    channel_ids as channel_ids,
    server_hostname_for as server_hostname_for,
    ssl_context_for as ssl_context_for,
)
from ._config._transports import (
    Endpoint as Endpoint,
    MemoryEndpoint as MemoryEndpoint,
    Proxy as Proxy,
    TcpEndpoint as TcpEndpoint,
    TLSConfig as TLSConfig,
    TransportConfig as TransportConfig,
    TransportSpec as TransportSpec,
    UnixEndpoint as UnixEndpoint,
    parse_transports as parse_transports,
)
from ._errors import (
    ApplicationError as ApplicationError,
    AuthenticationError as AuthenticationError,
    ConfigurationError as ConfigurationError,
    EncodingError as EncodingError,
    HandshakeError as HandshakeError,
    LocalProtocolError as LocalProtocolError,
    MessageTooLarge as MessageTooLarge,
    PayloadTooLarge as PayloadTooLarge,
    ProtocolError as ProtocolError,
    RemoteProtocolError as RemoteProtocolError,
    SerializationError as SerializationError,
    SessionClosed as SessionClosed,
    TransportError as TransportError,
    WampError as WampError,
)
from ._framing import (
    Framer as Framer,
    ProxyTunnel as ProxyTunnel,
    RawSocket as RawSocket,
    Role as Role,
    WebSocket as WebSocket,
)
from ._messages._base import MAX_NESTING as MAX_NESTING
from ._router import (
    ROUTER_ROLES as ROUTER_ROLES,
    Permission as Permission,
    Principal as Principal,
    Router as Router,
    RouterConnection as RouterConnection,
    RouterSession as RouterSession,
    ScramCredential as ScramCredential,
)
from ._uri import (
    MAX_ID as MAX_ID,
    is_valid_id as is_valid_id,
    is_valid_pattern as is_valid_pattern,
    is_valid_uri as is_valid_uri,
    validate_pattern as validate_pattern,
    validate_uri as validate_uri,
)
from ._wire import SERIALIZER_NAMES as SERIALIZER_NAMES
from .serializers import Serializer as Serializer, get_serializer as get_serializer

__version__ = _VERSION

__all__ = [
    "auth", "events", "messages", "serializers", "Connection", "ConnectionEvent", "Framer",
    "RawSocket", "WebSocket", "Role", "Attempt", "ReconnectExhausted", "ReconnectPolicy",
    "default_is_fatal", "FATAL_REASONS", "CLIENT_ROLES", "TRANSITIONS", "ClientSession",
    "SessionCommand",
    "SessionState", "Endpoint", "TcpEndpoint", "UnixEndpoint", "MemoryEndpoint", "Proxy",
    "TLSConfig",
    "TransportConfig", "TransportSpec", "parse_transports",
    "channel_ids", "server_hostname_for", "ssl_context_for",
    "make_connection", "make_framer", "CallDetails", "CallOptions", "CallResult", "CloseDetails",
    "EventDetails", "PublishOptions", "RegisterOptions", "RouterFeatures", "SessionDetails",
    "SubscribeOptions", "get_serializer", "Serializer", "SERIALIZER_NAMES", "MAX_ID",
    "MAX_NESTING",
    "ApplicationError", "AuthenticationError", "ConfigurationError", "EncodingError",
    "HandshakeError", "LocalProtocolError", "MessageTooLarge", "PayloadTooLarge", "ProtocolError",
    "RemoteProtocolError", "SerializationError", "SessionClosed", "TransportError", "WampError",
    "is_valid_id", "is_valid_pattern", "is_valid_uri", "validate_pattern", "validate_uri",
    "ROUTER_ROLES", "Permission", "Principal", "Router", "RouterConnection", "RouterSession",
    "ScramCredential",
    "Outcome", "RequestTracker", "answer_invocation", "invocation_error", "invocation_result",
    "refusal_uri",
    "HOOKS", "ORDER", "ComponentConfig", "Declaration", "HandlerSpec", "HookName", "Hooks",
    "Lifecycle", "Verdict", "CancelMode", "ProxyTunnel",
]  # fmt: skip
