"""Events the client session engine emits (frozen, slotted, keyword-friendly)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Literal

from .._errors import ApplicationError, SessionClosed
from ._record import Record, field, new
from ._types import CallDetails, CallResult, CloseDetails, EventDetails, SessionDetails

__all__ = [
    "SessionEvent",
    "Joined",
    "ChallengeAnswered",
    "ChallengeWork",
    "Left",
    "Aborted",
    "CallSucceeded",
    "CallProgress",
    "RequestFailed",
    "EventDelivered",
    "InvocationReceived",
    "InterruptReceived",
    "Subscribed",
    "Unsubscribed",
    "Registered",
    "Unregistered",
    "Published",
    "SubscriptionRevoked",
    "RegistrationRevoked",
    "RequestKind",
]

RequestKind = Literal["call", "publish", "subscribe", "unsubscribe", "register", "unregister"]


class SessionEvent:
    """Base class of session events."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Joined(SessionEvent):
    """WELCOME received (and any router proof verified): the session is established."""

    details: SessionDetails


@dataclass(frozen=True, slots=True)
class ChallengeAnswered(SessionEvent):
    """A CHALLENGE arrived and AUTHENTICATE was sent."""

    method: str


@dataclass(frozen=True, slots=True)
class ChallengeWork(SessionEvent):
    """A CHALLENGE whose answer needs expensive work first (a key derivation: SCRAM, salted
    WAMP-CRA), on a session with :attr:`~wamp_core.ClientSession.defer_auth_work` set.

    Call ``work()`` where it does not hold up the event loop (a worker thread: it touches only
    its authenticator), then :meth:`Connection.answer_challenge
    <wamp_core.Connection.answer_challenge>`. Answering without running it first runs it
    there and then.
    """

    method: str
    work: Callable[[], object]


@dataclass(frozen=True, slots=True)
class Left(SessionEvent):
    """The session ended: GOODBYE exchanged, or the transport was lost while joined."""

    details: CloseDetails


@dataclass(frozen=True, slots=True)
class Aborted(SessionEvent):
    """The session was aborted: ABORT received, or sent by us (protocol violation, auth failure).

    ``details.local`` tells which side aborted.
    """

    details: CloseDetails
    args: list[Any] | None = None
    kwargs: dict[str, Any] | None = None


class CallSucceeded(Record, SessionEvent):
    """The final RESULT of a call."""

    __slots__ = ()
    _fields = ("request_id", "result")
    request_id: Final[int] = field(0, "Request ID of the call")
    result: Final[CallResult] = field(1, "The result")

    def __new__(cls, request_id: int, result: CallResult) -> CallSucceeded:
        return new(cls, (request_id, result))


class CallProgress(Record, SessionEvent):
    """A progressive (intermediate) RESULT of a call; the call is still open."""

    __slots__ = ()
    _fields = ("request_id", "result")
    request_id: Final[int] = field(0, "Request ID of the call")
    result: Final[CallResult] = field(1, "The intermediate result")

    def __new__(cls, request_id: int, result: CallResult) -> CallProgress:
        return new(cls, (request_id, result))


@dataclass(frozen=True, slots=True)
class RequestFailed(SessionEvent):
    """A request ended without success.

    ``error`` is an :class:`ApplicationError` for an ERROR from the router (or a call canceled
    locally: ``wamp.error.canceled``), or :class:`SessionClosed` when the session ended while
    the request was pending. :attr:`uri` is the error or close reason URI either way.
    """

    request_id: int
    kind: RequestKind
    error: ApplicationError | SessionClosed

    @property
    def uri(self) -> str:
        """The error URI (ApplicationError) or the session's close reason (SessionClosed)."""
        error = self.error
        if isinstance(error, ApplicationError):
            return error.error
        return error.reason or "wamp.close.transport_lost"


class EventDelivered(Record, SessionEvent):
    """An EVENT for one of our subscriptions."""

    __slots__ = ()
    _fields = ("subscription_id", "args", "kwargs", "details", "payload")
    subscription_id: Final[int] = field(0, "Subscription ID")
    args: Final[list[Any]] = field(1, "Positional arguments")
    kwargs: Final[dict[str, Any]] = field(2, "Keyword arguments")
    details: Final[EventDetails] = field(3, "Event details")
    payload: Final[bytes | str | None] = field(4, "A transparent (passthru/E2E) payload")

    def __new__(
        cls,
        subscription_id: int,
        args: list[Any],
        kwargs: dict[str, Any],
        details: EventDetails,
        payload: bytes | str | None = None,
    ) -> EventDelivered:
        return new(cls, (subscription_id, args, kwargs, details, payload))


class InvocationReceived(Record, SessionEvent):
    """An INVOCATION of one of our registrations: answer with ``yield_result``/``yield_error``.

    ``continuation`` is True for a further chunk of a progressive call invocation that is
    already open (same ``request_id``).
    """

    __slots__ = ()
    _fields = (
        "request_id",
        "registration_id",
        "args",
        "kwargs",
        "details",
        "continuation",
        "payload",
    )
    request_id: Final[int] = field(0, "Request ID of the invocation")
    registration_id: Final[int] = field(1, "Registration ID")
    args: Final[list[Any]] = field(2, "Positional arguments")
    kwargs: Final[dict[str, Any]] = field(3, "Keyword arguments")
    details: Final[CallDetails] = field(4, "Call details")
    continuation: Final[bool] = field(5, "A further chunk of an open progressive call invocation")
    payload: Final[bytes | str | None] = field(6, "A transparent (passthru/E2E) payload")

    def __new__(  # noqa: PLR0917 - positional, as the dataclass it replaced
        cls,
        request_id: int,
        registration_id: int,
        args: list[Any],
        kwargs: dict[str, Any],
        details: CallDetails,
        continuation: bool = False,
        payload: bytes | str | None = None,
    ) -> InvocationReceived:
        return new(cls, (request_id, registration_id, args, kwargs, details, continuation, payload))


@dataclass(frozen=True, slots=True)
class InterruptReceived(SessionEvent):
    """The caller canceled an invocation we are running.

    ``mode`` ``"kill"``: stop and answer (the engine's ``yield_error`` with
    ``wamp.error.canceled``); ``"killnowait"``: stop; the engine has already closed the
    invocation and will not send any answer.
    """

    request_id: int
    mode: str
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Subscribed(SessionEvent):
    request_id: int
    subscription_id: int
    topic: str


@dataclass(frozen=True, slots=True)
class Unsubscribed(SessionEvent):
    request_id: int
    subscription_id: int


@dataclass(frozen=True, slots=True)
class Registered(SessionEvent):
    request_id: int
    registration_id: int
    procedure: str


@dataclass(frozen=True, slots=True)
class Unregistered(SessionEvent):
    request_id: int
    registration_id: int


@dataclass(frozen=True, slots=True)
class Published(SessionEvent):
    """PUBLISHED for an acknowledged publication."""

    request_id: int
    publication_id: int


@dataclass(frozen=True, slots=True)
class SubscriptionRevoked(SessionEvent):
    """The router revoked a subscription (``UNSUBSCRIBED`` with request 0)."""

    subscription_id: int
    reason: str | None


@dataclass(frozen=True, slots=True)
class RegistrationRevoked(SessionEvent):
    """The router revoked a registration (``UNREGISTERED`` with request 0)."""

    registration_id: int
    reason: str | None
