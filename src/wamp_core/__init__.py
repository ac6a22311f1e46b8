"""wamp_core: a sans-IO WAMP client core.

No sockets, no event loop, no clock: bytes in, typed events out; commands in, bytes out.
"""

from . import auth as auth, events as events, serializers as serializers
from ._connection import Connection as Connection, ConnectionEvent as ConnectionEvent
from ._errors import (
    ApplicationError as ApplicationError,
    AuthenticationError as AuthenticationError,
    ConfigurationError as ConfigurationError,
    HandshakeError as HandshakeError,
    LocalProtocolError as LocalProtocolError,
    PayloadTooLarge as PayloadTooLarge,
    ProtocolError as ProtocolError,
    SerializationError as SerializationError,
    SessionClosed as SessionClosed,
    TransportError as TransportError,
    WampError as WampError,
)
from ._framing import Framer as Framer
from ._messages import (
    MESSAGE_CLASSES as MESSAGE_CLASSES,
    Abort as Abort,
    Authenticate as Authenticate,
    Call as Call,
    Cancel as Cancel,
    Challenge as Challenge,
    Error as Error,
    Event as Event,
    EventReceived as EventReceived,
    Goodbye as Goodbye,
    Hello as Hello,
    Interrupt as Interrupt,
    Invocation as Invocation,
    Message as Message,
    Publish as Publish,
    Published as Published,
    Register as Register,
    Registered as Registered,
    Result as Result,
    Subscribe as Subscribe,
    Subscribed as Subscribed,
    Unregister as Unregister,
    Unregistered as Unregistered,
    Unsubscribe as Unsubscribe,
    Unsubscribed as Unsubscribed,
    Welcome as Welcome,
    Yield as Yield,
    parse_message as parse_message,
)
from ._rawsocket import RawSocketClient as RawSocketClient
from ._reconnect import (
    Attempt as Attempt,
    ReconnectExhausted as ReconnectExhausted,
    ReconnectPolicy as ReconnectPolicy,
    default_is_fatal as default_is_fatal,
)
from ._session import (
    CLIENT_ROLES as CLIENT_ROLES,
    TRANSITIONS as TRANSITIONS,
    ClientSession as ClientSession,
    SessionState as SessionState,
)
from ._transport_config import (
    Endpoint as Endpoint,
    Proxy as Proxy,
    TLSConfig as TLSConfig,
    TransportConfig as TransportConfig,
    TransportSpec as TransportSpec,
    parse_transports as parse_transports,
)
from ._transport_factory import make_connection as make_connection, make_framer as make_framer
from ._types import (
    CallDetails as CallDetails,
    CallOptions as CallOptions,
    CallResult as CallResult,
    CloseDetails as CloseDetails,
    EventDetails as EventDetails,
    PublishOptions as PublishOptions,
    RegisterOptions as RegisterOptions,
    RouterFeatures as RouterFeatures,
    SessionDetails as SessionDetails,
    SubscribeOptions as SubscribeOptions,
)
from ._uri import (
    MAX_ID as MAX_ID,
    is_valid_id as is_valid_id,
    is_valid_uri as is_valid_uri,
    validate_uri as validate_uri,
)
from ._websocket import WebSocketClient as WebSocketClient
from .serializers import (
    SERIALIZER_NAMES as SERIALIZER_NAMES,
    Serializer as Serializer,
    get_serializer as get_serializer,
)

__version__ = "0.1.0.dev0"

__all__ = [
    "auth", "events", "serializers", "Connection", "ConnectionEvent", "Framer",
    "RawSocketClient", "WebSocketClient", "Attempt", "ReconnectExhausted", "ReconnectPolicy",
    "default_is_fatal", "CLIENT_ROLES", "TRANSITIONS", "ClientSession", "SessionState",
    "Endpoint", "Proxy", "TLSConfig", "TransportConfig", "TransportSpec", "parse_transports",
    "make_connection", "make_framer", "CallDetails", "CallOptions", "CallResult", "CloseDetails",
    "EventDetails", "PublishOptions", "RegisterOptions", "RouterFeatures", "SessionDetails",
    "SubscribeOptions", "get_serializer", "Serializer", "SERIALIZER_NAMES",
    "MAX_ID", "MESSAGE_CLASSES", "Abort", "ApplicationError", "Authenticate",
    "AuthenticationError", "Call", "Cancel", "Challenge", "ConfigurationError", "Error", "Event",
    "EventReceived", "Goodbye", "HandshakeError", "Hello", "Interrupt", "Invocation",
    "LocalProtocolError", "Message", "PayloadTooLarge", "ProtocolError", "Publish", "Published",
    "Register", "Registered", "Result", "SerializationError", "SessionClosed", "Subscribe",
    "Subscribed", "TransportError", "Unregister", "Unregistered", "Unsubscribe", "Unsubscribed",
    "WampError", "Welcome", "Yield", "is_valid_id", "is_valid_uri", "parse_message", "validate_uri",
]  # fmt: skip
