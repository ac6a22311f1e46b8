"""The WAMP messages: the 24 message types of the basic and advanced profile (plus
``EventReceived``) and :func:`parse_message`.

``from wamp_core import messages as m`` then ``m.Call(request_id=1, procedure="com.x")``. Message
classes live here, apart from the session events of :mod:`wamp_core.events`, because several
share a name with an event (``Subscribed``, ``Published``, ``Registered``...).
"""

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

__all__ = [
    "MESSAGE_CLASSES", "Abort", "Authenticate", "Call", "Cancel", "Challenge", "Error", "Event",
    "EventReceived", "Goodbye", "Hello", "Interrupt", "Invocation", "Message", "Publish",
    "Published", "Register", "Registered", "Result", "Subscribe", "Subscribed", "Unregister",
    "Unregistered", "Unsubscribe", "Unsubscribed", "Welcome", "Yield", "parse_message",
]  # fmt: skip
