"""wamp_core: a sans-IO WAMP client core.

No sockets, no event loop, no clock: bytes in, typed events out; commands in, bytes out.
"""

from . import auth as auth
from . import events as events
from . import serializers as serializers
from ._connection import Connection as Connection
from ._connection import ConnectionEvent as ConnectionEvent
from ._errors import (
    ApplicationError as ApplicationError,
)
from ._errors import (
    AuthenticationError as AuthenticationError,
)
from ._errors import (
    ConfigurationError as ConfigurationError,
)
from ._errors import (
    HandshakeError as HandshakeError,
)
from ._errors import (
    LocalProtocolError as LocalProtocolError,
)
from ._errors import (
    PayloadTooLarge as PayloadTooLarge,
)
from ._errors import (
    ProtocolError as ProtocolError,
)
from ._errors import (
    SerializationError as SerializationError,
)
from ._errors import (
    SessionClosed as SessionClosed,
)
from ._errors import (
    TransportError as TransportError,
)
from ._errors import (
    WampError as WampError,
)
from ._framing import Framer as Framer
from ._messages import (
    MESSAGE_CLASSES as MESSAGE_CLASSES,
)
from ._messages import (
    Abort as Abort,
)
from ._messages import (
    Authenticate as Authenticate,
)
from ._messages import (
    Call as Call,
)
from ._messages import (
    Cancel as Cancel,
)
from ._messages import (
    Challenge as Challenge,
)
from ._messages import (
    Error as Error,
)
from ._messages import (
    Event as Event,
)
from ._messages import (
    EventReceived as EventReceived,
)
from ._messages import (
    Goodbye as Goodbye,
)
from ._messages import (
    Hello as Hello,
)
from ._messages import (
    Interrupt as Interrupt,
)
from ._messages import (
    Invocation as Invocation,
)
from ._messages import (
    Message as Message,
)
from ._messages import (
    Publish as Publish,
)
from ._messages import (
    Published as Published,
)
from ._messages import (
    Register as Register,
)
from ._messages import (
    Registered as Registered,
)
from ._messages import (
    Result as Result,
)
from ._messages import (
    Subscribe as Subscribe,
)
from ._messages import (
    Subscribed as Subscribed,
)
from ._messages import (
    Unregister as Unregister,
)
from ._messages import (
    Unregistered as Unregistered,
)
from ._messages import (
    Unsubscribe as Unsubscribe,
)
from ._messages import (
    Unsubscribed as Unsubscribed,
)
from ._messages import (
    Yield as Yield,
)
from ._messages import (
    parse_message as parse_message,
)
from ._rawsocket import RawSocketClient as RawSocketClient
from ._reconnect import Attempt as Attempt
from ._reconnect import ReconnectExhausted as ReconnectExhausted
from ._reconnect import ReconnectPolicy as ReconnectPolicy
from ._reconnect import default_is_fatal as default_is_fatal
from ._session import CLIENT_ROLES as CLIENT_ROLES
from ._session import TRANSITIONS as TRANSITIONS
from ._session import ClientSession as ClientSession
from ._session import SessionState as SessionState
from ._transport_config import Endpoint as Endpoint
from ._transport_config import Proxy as Proxy
from ._transport_config import TLSConfig as TLSConfig
from ._transport_config import TransportConfig as TransportConfig
from ._transport_config import TransportSpec as TransportSpec
from ._transport_config import parse_transports as parse_transports
from ._transport_factory import make_connection as make_connection
from ._transport_factory import make_framer as make_framer
from ._types import CallDetails as CallDetails
from ._types import CallOptions as CallOptions
from ._types import CallResult as CallResult
from ._types import CloseDetails as CloseDetails
from ._types import EventDetails as EventDetails
from ._types import PublishOptions as PublishOptions
from ._types import RegisterOptions as RegisterOptions
from ._types import RouterFeatures as RouterFeatures
from ._types import SessionDetails as SessionDetails
from ._types import SubscribeOptions as SubscribeOptions
from ._uri import MAX_ID as MAX_ID
from ._uri import is_valid_id as is_valid_id
from ._uri import is_valid_uri as is_valid_uri
from ._uri import validate_uri as validate_uri
from ._websocket import WebSocketClient as WebSocketClient
from .serializers import Serializer as Serializer
from .serializers import get_serializer as get_serializer

__version__ = "0.1.0.dev0"

__all__ = [
    "auth", "events", "serializers", "Connection", "ConnectionEvent", "Framer",
    "RawSocketClient", "WebSocketClient", "Attempt", "ReconnectExhausted", "ReconnectPolicy",
    "default_is_fatal", "CLIENT_ROLES", "TRANSITIONS", "ClientSession", "SessionState",
    "Endpoint", "Proxy", "TLSConfig", "TransportConfig", "TransportSpec", "parse_transports",
    "make_connection", "make_framer", "CallDetails", "CallOptions", "CallResult", "CloseDetails",
    "EventDetails", "PublishOptions", "RegisterOptions", "RouterFeatures", "SessionDetails",
    "SubscribeOptions", "get_serializer", "Serializer",
    "MAX_ID", "MESSAGE_CLASSES", "Abort", "ApplicationError", "Authenticate",
    "AuthenticationError", "Call", "Cancel", "Challenge", "ConfigurationError", "Error", "Event",
    "EventReceived", "Goodbye", "HandshakeError", "Hello", "Interrupt", "Invocation",
    "LocalProtocolError", "Message", "PayloadTooLarge", "ProtocolError", "Publish", "Published",
    "Register", "Registered", "Result", "SerializationError", "SessionClosed", "Subscribe",
    "Subscribed", "TransportError", "Unregister", "Unregistered", "Unsubscribe", "Unsubscribed",
    "WampError", "Yield", "is_valid_id", "is_valid_uri", "parse_message", "validate_uri",
]  # fmt: skip
