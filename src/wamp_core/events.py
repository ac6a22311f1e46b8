"""Every event ``wamp_core`` emits: session events and transport (framing) events.

``from wamp_core import events as ev`` then ``isinstance(event, ev.Joined)``.
"""

from ._framing import Closed as Closed
from ._framing import FramingEvent as FramingEvent
from ._framing import MessageReceived as MessageReceived
from ._framing import Opened as Opened
from ._framing import PongReceived as PongReceived
from ._session_events import Aborted as Aborted
from ._session_events import CallProgress as CallProgress
from ._session_events import CallSucceeded as CallSucceeded
from ._session_events import ChallengeAnswered as ChallengeAnswered
from ._session_events import EventDelivered as EventDelivered
from ._session_events import InterruptReceived as InterruptReceived
from ._session_events import InvocationReceived as InvocationReceived
from ._session_events import Joined as Joined
from ._session_events import Left as Left
from ._session_events import Published as Published
from ._session_events import Registered as Registered
from ._session_events import RegistrationRevoked as RegistrationRevoked
from ._session_events import RequestFailed as RequestFailed
from ._session_events import RequestKind as RequestKind
from ._session_events import SessionEvent as SessionEvent
from ._session_events import Subscribed as Subscribed
from ._session_events import SubscriptionRevoked as SubscriptionRevoked
from ._session_events import Unregistered as Unregistered
from ._session_events import Unsubscribed as Unsubscribed

__all__ = [
    "Aborted", "CallProgress", "CallSucceeded", "ChallengeAnswered", "Closed", "EventDelivered",
    "FramingEvent", "InterruptReceived", "InvocationReceived", "Joined", "Left",
    "MessageReceived", "Opened", "PongReceived", "Published", "Registered", "RegistrationRevoked",
    "RequestFailed", "RequestKind", "SessionEvent", "Subscribed", "SubscriptionRevoked",
    "Unregistered", "Unsubscribed",
]  # fmt: skip
