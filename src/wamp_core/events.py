"""Every event ``wamp_core`` emits: session events and transport (framing) events.

``from wamp_core import events as ev`` then ``isinstance(event, ev.Joined)``.
"""

from ._client._events import (
    Aborted as Aborted,
    CallProgress as CallProgress,
    CallSucceeded as CallSucceeded,
    ChallengeAnswered as ChallengeAnswered,
    ChallengeWork as ChallengeWork,
    EventDelivered as EventDelivered,
    InterruptReceived as InterruptReceived,
    InvocationReceived as InvocationReceived,
    Joined as Joined,
    Left as Left,
    Published as Published,
    Registered as Registered,
    RegistrationRevoked as RegistrationRevoked,
    RequestFailed as RequestFailed,
    RequestKind as RequestKind,
    SessionEvent as SessionEvent,
    Subscribed as Subscribed,
    SubscriptionRevoked as SubscriptionRevoked,
    Unregistered as Unregistered,
    Unsubscribed as Unsubscribed,
)
from ._framing._events import (
    Closed as Closed,
    FramingEvent as FramingEvent,
    MessageReceived as MessageReceived,
    Opened as Opened,
    PongReceived as PongReceived,
)

__all__ = [
    "Aborted", "CallProgress", "CallSucceeded", "ChallengeAnswered", "ChallengeWork", "Closed",
    "EventDelivered", "FramingEvent", "InterruptReceived", "InvocationReceived", "Joined", "Left",
    "MessageReceived", "Opened", "PongReceived", "Published", "Registered", "RegistrationRevoked",
    "RequestFailed", "RequestKind", "SessionEvent", "Subscribed", "SubscriptionRevoked",
    "Unregistered", "Unsubscribed",
]  # fmt: skip
