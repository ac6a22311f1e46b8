"""All WAMP messages of the basic and advanced profile, with validating parsers.

Each message class takes keyword arguments (validated exactly like a decoded message: an invalid
value raises :class:`LocalProtocolError`). :func:`parse_message` turns a decoded WAMP array into a
message or raises :class:`ProtocolError` (reason ``wamp.error.protocol_violation``); it never raises
anything else, whatever the input.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._errors import ProtocolError, RemoteProtocolError
from . import _pubsub, _rpc, _session
from ._base import Message, fail
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
from ._validation import brief

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

# --------------------------------------------------------------------------------------------
# Dispatch

_PARSERS: dict[int, Callable[[list[Any]], Message]] = {
    **_session.PARSERS,
    **_pubsub.PARSERS,
    **_rpc.PARSERS,
}

#: Message type code -> validating parser (``parse_message`` without the outer checks).
PARSERS = _PARSERS

#: Message type code -> message class.
MESSAGE_CLASSES: dict[int, type[Message]] = {
    cls.MESSAGE_TYPE: cls
    for cls in (
        Hello, Welcome, Abort, Challenge, Authenticate, Goodbye, Error, Publish, Published,
        Subscribe, Subscribed, Unsubscribe, Unsubscribed, Event, EventReceived, Call, Cancel,
        Result, Register, Registered, Unregister, Unregistered, Invocation, Interrupt, Yield,
    )
}  # fmt: skip


def parse_message(wmsg: Any) -> Message:
    """Validate a decoded WAMP array and return the typed message.

    Raises :class:`ProtocolError` for anything that is not a valid WAMP message; never another
    exception type.
    """
    if type(wmsg) is not list or not wmsg:
        fail(f"a WAMP message must be a non-empty list, got {brief(wmsg)}")
    code = wmsg[0]
    parser = _PARSERS.get(code) if type(code) is int else None
    if parser is None:
        fail(f"unknown WAMP message type {brief(code)}")
    try:
        return parser(wmsg)
    except ProtocolError:
        raise
    except RecursionError:
        fail("message nesting too deep")
    except Exception as exc:  # pragma: no cover - defensive: a validator bug must not leak
        raise RemoteProtocolError(f"invalid {brief(code)} message: {type(exc).__name__}") from exc
