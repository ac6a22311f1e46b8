"""The session engine's tables and records: roles announced, legal transitions, bookkeeping.

Plain data, kept apart from the engine's logic so the rules can be read (and rendered) alone.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Final, TypeAlias

from .. import _messages as m
from .._uri import MAX_ID
from .._wire import RECENT_MAX, RecentIds
from . import _events as ev
from ._record import new
from ._types import CallDetails, EventDetails

__all__ = [
    "AGENT",
    "CLIENT_ROLES",
    "SessionState",
    "States",
    "SessionCommand",
    "SessionInput",
    "TRANSITIONS",
    "IN_SESSION",
    "REQUEST_TYPE_KIND",
    "CANCELED",
    "RECENT_MAX",
    "Pending",
    "SubscriptionRecord",
    "InvocationRecord",
    "RecentIds",
    "SessionRecord",
    "event_details",
    "call_details",
]

try:
    _VERSION = version("wamp-py")
except PackageNotFoundError:  # pragma: no cover - a source tree that was never installed
    _VERSION = "0+unknown"
#: HELLO.Details.agent (the version comes from the package metadata: one version source).
AGENT = f"wamp-py-{_VERSION}"
PPT_FEATURES = {"payload_passthru_mode": True}

#: The roles and advanced features this client implements (announced in HELLO).
CLIENT_ROLES: dict[str, dict[str, Any]] = {
    "caller": {
        "features": {
            "call_canceling": True,
            "call_timeout": True,
            "caller_identification": True,
            "progressive_call_results": True,
            "progressive_call_invocations": True,
            **PPT_FEATURES,
        }
    },
    "callee": {
        "features": {
            "call_canceling": True,
            "call_timeout": True,
            "caller_identification": True,
            "pattern_based_registration": True,
            "progressive_call_results": True,
            "progressive_call_invocations": True,
            "registration_revocation": True,
            "shared_registration": True,
            **PPT_FEATURES,
        }
    },
    "publisher": {
        "features": {
            "publisher_exclusion": True,
            "publisher_identification": True,
            "subscriber_blackwhite_listing": True,
            **PPT_FEATURES,
        }
    },
    "subscriber": {
        "features": {
            "pattern_based_subscription": True,
            "publisher_identification": True,
            "subscription_revocation": True,
            **PPT_FEATURES,
        }
    },
}


class SessionState(enum.Enum):
    CLOSED = "closed"
    ESTABLISHING = "establishing"
    CHALLENGING = "challenging"
    ESTABLISHED = "established"
    SHUTTING_DOWN = "shutting_down"
    FAILED = "failed"

    # Members are singletons compared by identity: hash them by identity too, in C. Enum's
    # own __hash__ is a Python call, and every received message looks up (state, type).
    __hash__ = object.__hash__


class States:
    """:class:`SessionState`'s members as plain class attributes, for the hot paths: on
    Python 3.11 reading an enum member (``SessionState.ESTABLISHED``) goes through the enum
    metaclass's ``__getattr__`` hook, about 4x a plain attribute, and each message and
    command reads several."""

    CLOSED: Final = SessionState.CLOSED
    ESTABLISHING: Final = SessionState.ESTABLISHING
    CHALLENGING: Final = SessionState.CHALLENGING
    ESTABLISHED: Final = SessionState.ESTABLISHED
    SHUTTING_DOWN: Final = SessionState.SHUTTING_DOWN
    FAILED: Final = SessionState.FAILED


class SessionCommand(enum.Enum):
    """The inputs that are not received messages: the application's session commands and the
    loss of the transport."""

    JOIN = "join()"
    LEAVE = "leave()"
    ABORT = "abort()"
    TRANSPORT_LOST = "transport lost"


#: What moves the session: a received message (by type) or a :class:`SessionCommand`.
SessionInput: TypeAlias = "type[m.Message] | SessionCommand"

S = SessionState
C = SessionCommand
_LIVE = (S.ESTABLISHING, S.CHALLENGING, S.ESTABLISHED, S.SHUTTING_DOWN)
IN_SESSION = (
    m.Published, m.Subscribed, m.Unsubscribed, m.Event, m.Result, m.Registered,
    m.Unregistered, m.Invocation, m.Interrupt, m.Error,
)  # fmt: skip

#: (state, input) -> next state: the only place the engine takes its next state from. A message
#: missing here is a protocol violation (state FAILED), except in SHUTTING_DOWN, where other
#: messages are ignored (spec transition 14); a command missing here is refused
#: (:class:`~wamp_core.SessionClosed` or :class:`~wamp_core.LocalProtocolError`). The two escapes
#: from the table: a handler that ends the session (an authentication failure on WELCOME or
#: CHALLENGE, a router proof that does not verify) goes to CLOSED, and a protocol violation to
#: FAILED.
TRANSITIONS: dict[tuple[SessionState, SessionInput], SessionState] = {
    (S.CLOSED, C.JOIN): S.ESTABLISHING,
    (S.ESTABLISHED, C.LEAVE): S.SHUTTING_DOWN,
    **{(state, C.ABORT): S.CLOSED for state in _LIVE},
    **{(state, C.TRANSPORT_LOST): S.CLOSED for state in _LIVE},
    (S.ESTABLISHING, m.Welcome): S.ESTABLISHED,
    (S.ESTABLISHING, m.Challenge): S.CHALLENGING,
    (S.ESTABLISHING, m.Abort): S.CLOSED,
    (S.CHALLENGING, m.Welcome): S.ESTABLISHED,
    (S.CHALLENGING, m.Challenge): S.CHALLENGING,
    (S.CHALLENGING, m.Abort): S.CLOSED,
    (S.ESTABLISHED, m.Goodbye): S.CLOSED,
    (S.ESTABLISHED, m.Abort): S.CLOSED,
    (S.SHUTTING_DOWN, m.Goodbye): S.CLOSED,
    (S.SHUTTING_DOWN, m.Abort): S.CLOSED,
    **{(S.ESTABLISHED, cls): S.ESTABLISHED for cls in IN_SESSION},
}

REQUEST_TYPE_KIND: dict[int, ev.RequestKind] = {
    16: "publish",
    32: "subscribe",
    34: "unsubscribe",
    48: "call",
    64: "register",
    66: "unregister",
}
CANCELED = "wamp.error.canceled"


@dataclass(slots=True)
class Pending:
    kind: ev.RequestKind
    uri: str | None = None
    target: int | None = None
    progress: bool = False
    canceled: str | None = None
    streaming: bool = False
    continued: bool = False
    #: A subscribe or register nobody waits for any more: a success is undone at once.
    abandoned: bool = False
    #: A register's wire options (a retry of an abandoned REGISTER takes it over).
    options: dict[str, Any] | None = None


@dataclass(slots=True)
class SubscriptionRecord:
    topic: str
    count: int


@dataclass(slots=True)
class InvocationRecord:
    registration: int
    receive_progress: bool
    open_stream: bool


def event_details(sid: int, pid: int, topic: str, d: dict[str, Any]) -> EventDetails:
    """EventDetails from EVENT.Details (built without the keyword constructor: hot path)."""
    if not d:
        return new(EventDetails, (sid, pid, topic, None, None, None, False, d))
    get = d.get
    return new(
        EventDetails,
        (
            sid, pid, get("topic", topic), get("publisher"), get("publisher_authid"),
            get("publisher_authrole"), get("retained") is True, d,
        ),
    )  # fmt: skip


def call_details(reg: int, procedure: str | None, d: dict[str, Any]) -> CallDetails:
    """CallDetails from INVOCATION.Details (built without the keyword constructor: hot path)."""
    get = d.get
    timeout = get("timeout")
    return new(
        CallDetails,
        (
            reg, get("procedure", procedure), get("caller"), get("caller_authid"),
            get("caller_authrole"), get("receive_progress") is True, get("progress") is True,
            timeout / 1000 if type(timeout) is int and timeout > 0 else None, d,
        ),
    )  # fmt: skip


@dataclass(slots=True)
class SessionRecord:
    """Everything that lives and dies with one session: replaced whole on ``join()``."""

    realm: str = ""
    authenticators: dict[str, Any] = field(default_factory=dict)
    #: The next request ID: always one no pending or abandoned request holds.
    next_id: int = 1
    #: IDs up to here are fresh; once they wrap past ``MAX_ID``, :meth:`after` checks each.
    fresh_below: int = MAX_ID
    pending: dict[int, Pending] = field(default_factory=dict)
    subscriptions: dict[int, SubscriptionRecord] = field(default_factory=dict)
    #: Subscriptions whose last local use went while a SUBSCRIBE to the same topic was
    #: unanswered: their UNSUBSCRIBE waits for those answers (``ClientSession.unsubscribe``).
    lingering: set[int] = field(default_factory=set)
    registrations: dict[int, str] = field(default_factory=dict)
    invocations: dict[int, InvocationRecord] = field(default_factory=dict)
    abandoned_calls: RecentIds = field(default_factory=RecentIds)
    recent_subscriptions: RecentIds = field(default_factory=RecentIds)
    recent_registrations: RecentIds = field(default_factory=RecentIds)
    recent_invocations: RecentIds = field(default_factory=RecentIds)
    leave_reason: str | None = None
    #: We aborted a session on this transport: the router's messages for it may still be on
    #: their way, and are dropped (also by the next join's record, until the router answers
    #: its HELLO with WELCOME, CHALLENGE or ABORT).
    draining: bool = False
    #: We aborted while our HELLO was unanswered: its answer may yet come, and would be
    #: taken for the next HELLO's, so this transport can carry no further session.
    hello_given_up: bool = False
    #: The CHALLENGE whose expensive work (``ChallengeWork``) is being done elsewhere: it is
    #: answered by ``answer_challenge()``.
    challenge: Any = None

    def after(self, rid: int) -> int:
        """The request ID to use after ``rid``: ``rid + 1`` until IDs reach ``MAX_ID``, then
        from 1 again, skipping IDs a pending request or a late answer may still use.

        Callers take the fresh ID inline (``rid + 1 if rid < fresh_below``) and come here
        only at the wrap and after it (2^53 requests: never in practice, but never wrong).
        """
        self.fresh_below = 0
        pending, abandoned = self.pending, self.abandoned_calls
        n = rid + 1 if rid < MAX_ID else 1
        while n in pending or n in abandoned:  # ends: far fewer busy IDs than IDs
            n = n + 1 if n < MAX_ID else 1
        return n
