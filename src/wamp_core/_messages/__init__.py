"""All WAMP messages of the basic and advanced profile, with validating parsers.

Each message class takes keyword arguments (validated exactly like a decoded message: an invalid
value raises :class:`LocalProtocolError`). :func:`parse_message` turns a decoded WAMP array into a
message or raises :class:`ProtocolError` (reason ``wamp.error.protocol_violation``); it never raises
anything else, whatever the input.
"""

from __future__ import annotations

# Importing the message modules fills PARSERS and MESSAGE_CLASSES (see ``_base.parses``).
from ._base import MESSAGE_CLASSES, PARSERS, Message, parse_message
from ._pubsub import (
    Event,
    EventReceived,
    Publish,
    Published,
    Subscribe,
    Subscribed,
    Unsubscribe,
    Unsubscribed,
)
from ._rpc import (
    Call,
    Cancel,
    Interrupt,
    Invocation,
    Register,
    Registered,
    Result,
    Unregister,
    Unregistered,
    Yield,
)
from ._session import Abort, Authenticate, Challenge, Error, Goodbye, Hello, Welcome

__all__ = [
    "Message",
    "Hello",
    "Welcome",
    "Abort",
    "Challenge",
    "Authenticate",
    "Goodbye",
    "Error",
    "Publish",
    "Published",
    "Subscribe",
    "Subscribed",
    "Unsubscribe",
    "Unsubscribed",
    "Event",
    "EventReceived",
    "Call",
    "Cancel",
    "Result",
    "Register",
    "Registered",
    "Unregister",
    "Unregistered",
    "Invocation",
    "Interrupt",
    "Yield",
    "parse_message",
    "MESSAGE_CLASSES",
    "PARSERS",
]
