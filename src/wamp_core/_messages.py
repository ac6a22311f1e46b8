"""All WAMP messages of the basic and advanced profile, with validating parsers.

Each message class takes keyword arguments (validated exactly like a decoded message: an invalid
value raises :class:`LocalProtocolError`). :func:`parse_message` turns a decoded WAMP array into a
message or raises :class:`ProtocolError` (reason ``wamp.error.protocol_violation``); it never raises
anything else, whatever the input.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, TypeVar

from ._errors import LocalProtocolError, ProtocolError
from ._message_base import (
    URI_OK,
    Message,
    bad_id,
    check_payload,
    check_request_id,
    check_uri,
    fail,
    field,
    local_args,
    new,
    payload_tail,
)
from ._uri import MAX_ID
from ._validation import CHECKS, brief, check_dict

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
]

_M = TypeVar("_M", bound=Message)
Payload = bytes | str | None

_CLOSE = CHECKS["CLOSE"]
_ERROR_REQUEST_TYPES = frozenset({16, 32, 34, 48, 64, 66, 68})


def _build(parser: Callable[[list[Any]], _M], wmsg: list[Any]) -> _M:
    """Run a parser on a locally built array; turn its complaint into a local error."""
    try:
        return parser(wmsg)
    except ProtocolError as exc:
        raise LocalProtocolError(exc.message, reason=exc.reason) from None


def _length(wmsg: list[Any], name: str, low: int, high: int) -> None:
    n = len(wmsg)
    if n < low or n > high:
        span = str(low) if low == high else f"{low} to {high}"
        fail(f"{name} must have {span} elements, got {n}")


def _details(value: Any, what: str, rules: Mapping[str, Any]) -> dict[str, Any]:
    # Fast path: an empty dict is always valid.
    if type(value) is dict and not value:
        return value
    return check_dict(value, what, rules)


class _PayloadMessage(Message):
    """A message ending in ``Arguments|list, ArgumentsKw|dict`` (or a transparent payload)."""

    __slots__ = ()
    _NHEAD: ClassVar[int]

    def to_list(self) -> list[Any]:
        n = self._NHEAD
        payload = self[n + 2]
        if payload is not None:
            return [self.MESSAGE_TYPE, *self[:n], payload]
        kwargs = self[n + 1]
        if kwargs:
            return [self.MESSAGE_TYPE, *self[:n], self[n] or [], kwargs]
        args = self[n]
        if args:
            return [self.MESSAGE_TYPE, *self[:n], args]
        return [self.MESSAGE_TYPE, *self[:n]]


# --------------------------------------------------------------------------------------------
# Session messages


class Hello(Message):
    """``[HELLO, Realm|uri, Details|dict]``: the client asks to join a realm."""

    __slots__ = ()
    MESSAGE_TYPE = 1
    NAME = "HELLO"
    FIELDS = ("realm", "details")
    realm: str = field(0, "Realm URI")
    details: dict[str, Any] = field(1, "Details (roles, authmethods, authid, authextra...)")

    def __new__(cls, *, realm: str, details: Mapping[str, Any]) -> Hello:
        opts, _, _ = local_args("HELLO", details)
        return _build(_parse_hello, [1, realm, opts])

    @property
    def roles(self) -> dict[str, Any]:
        return self.details["roles"]  # type: ignore[no-any-return]


def _parse_hello(w: list[Any]) -> Hello:
    _length(w, "HELLO", 3, 3)
    realm = check_uri(w[1], "HELLO.Realm")
    details = check_dict(w[2], "HELLO.Details", CHECKS["HELLO"])
    if not details.get("roles"):
        fail("HELLO.Details.roles must be a non-empty dict")
    return new(Hello, (realm, details))


class Welcome(Message):
    """``[WELCOME, Session|id, Details|dict]``: the router accepted the session."""

    __slots__ = ()
    MESSAGE_TYPE = 2
    NAME = "WELCOME"
    FIELDS = ("session_id", "details")
    session_id: int = field(0, "Session ID")
    details: dict[str, Any] = field(1, "Details (roles, authid, authrole, authmethod...)")

    def __new__(cls, *, session_id: int, details: Mapping[str, Any]) -> Welcome:
        opts, _, _ = local_args("WELCOME", details)
        return _build(_parse_welcome, [2, session_id, opts])

    @property
    def roles(self) -> dict[str, Any]:
        return self.details["roles"]  # type: ignore[no-any-return]


def _parse_welcome(w: list[Any]) -> Welcome:
    _length(w, "WELCOME", 3, 3)
    session = check_request_id(w[1], "WELCOME.Session")
    details = check_dict(w[2], "WELCOME.Details", CHECKS["WELCOME"])
    if not details.get("roles"):
        fail("WELCOME.Details.roles must be a non-empty dict")
    return new(Welcome, (session, details))


class Abort(_PayloadMessage):
    """``[ABORT, Details|dict, Reason|uri, Arguments?, ArgumentsKw?]``: session refused/ended."""

    __slots__ = ()
    MESSAGE_TYPE = 3
    NAME = "ABORT"
    FIELDS = ("details", "reason", "args", "kwargs", "payload")
    _NHEAD = 2
    details: dict[str, Any] = field(0, "Details (``message``)")
    reason: str = field(1, "Reason URI")
    args: list[Any] | None = field(2, "Arguments")
    kwargs: dict[str, Any] | None = field(3, "ArgumentsKw")
    payload: None = field(4, "always None")

    def __new__(
        cls,
        *,
        reason: str,
        details: Mapping[str, Any] | None = None,
        args: Sequence[Any] | None = None,
        kwargs: Mapping[str, Any] | None = None,
    ) -> Abort:
        opts, a, k = local_args("ABORT", details, args, kwargs)
        return _build(_parse_abort, [3, opts, reason, *payload_tail(a, k, None)])

    @property
    def message(self) -> str | None:
        """The human-readable ``Details.message``, if any."""
        return self.details.get("message")


def _parse_abort(w: list[Any]) -> Abort:
    _length(w, "ABORT", 3, 5)
    details = _details(w[1], "ABORT.Details", _CLOSE)
    reason = check_uri(w[2], "ABORT.Reason")
    args, kwargs, _ = check_payload(w, 3, "ABORT", allow_payload=False)
    return new(Abort, (details, reason, args, kwargs, None))


class Challenge(Message):
    """``[CHALLENGE, AuthMethod|string, Extra|dict]``."""

    __slots__ = ()
    MESSAGE_TYPE = 4
    NAME = "CHALLENGE"
    FIELDS = ("method", "extra")
    method: str = field(0, "Authentication method")
    extra: dict[str, Any] = field(1, "Extra")

    def __new__(cls, *, method: str, extra: Mapping[str, Any] | None = None) -> Challenge:
        opts, _, _ = local_args("CHALLENGE", extra)
        return _build(_parse_challenge, [4, method, opts])


def _parse_challenge(w: list[Any]) -> Challenge:
    _length(w, "CHALLENGE", 3, 3)
    method = w[1]
    if type(method) is not str or not method:
        fail(f"CHALLENGE.AuthMethod must be a non-empty string, got {brief(method)}")
    return new(Challenge, (method, check_dict(w[2], "CHALLENGE.Extra", CHECKS["NONE"])))


class Authenticate(Message):
    """``[AUTHENTICATE, Signature|string, Extra|dict]``."""

    __slots__ = ()
    MESSAGE_TYPE = 5
    NAME = "AUTHENTICATE"
    FIELDS = ("signature", "extra")
    signature: str = field(0, "Signature")
    extra: dict[str, Any] = field(1, "Extra")

    def __new__(cls, *, signature: str, extra: Mapping[str, Any] | None = None) -> Authenticate:
        opts, _, _ = local_args("AUTHENTICATE", extra)
        return _build(_parse_authenticate, [5, signature, opts])

    def __repr__(self) -> str:
        # The signature may be a ticket (a secret): never show it.
        return f"Authenticate(signature=<{len(self.signature)} chars>, extra={brief(self.extra)})"


def _parse_authenticate(w: list[Any]) -> Authenticate:
    _length(w, "AUTHENTICATE", 3, 3)
    signature = w[1]
    if type(signature) is not str:
        fail(f"AUTHENTICATE.Signature must be a string, got {type(signature).__name__}")
    return new(Authenticate, (signature, check_dict(w[2], "AUTHENTICATE.Extra", CHECKS["NONE"])))


class Goodbye(Message):
    """``[GOODBYE, Details|dict, Reason|uri]``: leave the session (and the reply to it)."""

    __slots__ = ()
    MESSAGE_TYPE = 6
    NAME = "GOODBYE"
    FIELDS = ("details", "reason")
    details: dict[str, Any] = field(0, "Details (``message``)")
    reason: str = field(1, "Reason URI")

    def __new__(cls, *, reason: str, details: Mapping[str, Any] | None = None) -> Goodbye:
        opts, _, _ = local_args("GOODBYE", details)
        return _build(_parse_goodbye, [6, opts, reason])

    @property
    def message(self) -> str | None:
        return self.details.get("message")


def _parse_goodbye(w: list[Any]) -> Goodbye:
    _length(w, "GOODBYE", 3, 3)
    details = _details(w[1], "GOODBYE.Details", _CLOSE)
    return new(Goodbye, (details, check_uri(w[2], "GOODBYE.Reason")))


# --------------------------------------------------------------------------------------------
# Common


class Error(_PayloadMessage):
    """``[ERROR, REQUEST.Type|int, REQUEST.Request|id, Details|dict, Error|uri, A?, K?]``."""

    __slots__ = ()
    MESSAGE_TYPE = 8
    NAME = "ERROR"
    FIELDS = ("request_type", "request_id", "details", "error", "args", "kwargs", "payload")
    _NHEAD = 4
    request_type: int = field(0, "Type code of the failed request")
    request_id: int = field(1, "Request ID of the failed request")
    details: dict[str, Any] = field(2, "Details")
    error: str = field(3, "Error URI")
    args: list[Any] | None = field(4, "Arguments")
    kwargs: dict[str, Any] | None = field(5, "ArgumentsKw")
    payload: bytes | str | None = field(6, "Transparent payload")

    def __new__(
        cls,
        *,
        request_type: int,
        request_id: int,
        error: str,
        details: Mapping[str, Any] | None = None,
        args: Sequence[Any] | None = None,
        kwargs: Mapping[str, Any] | None = None,
        payload: bytes | str | None = None,
    ) -> Error:
        opts, a, k = local_args("ERROR", details, args, kwargs)
        tail = payload_tail(a, k, payload)
        return _build(_parse_error, [8, request_type, request_id, opts, error, *tail])


_C_ERROR = CHECKS["ERROR"]


def _parse_error(w: list[Any]) -> Error:
    _length(w, "ERROR", 5, 7)
    rtype = w[1]
    if type(rtype) is not int or rtype not in _ERROR_REQUEST_TYPES:
        fail(f"ERROR.Request.Type {brief(rtype)} is not a request type that can fail")
    rid = check_request_id(w[2], "ERROR.Request")
    details = _details(w[3], "ERROR.Details", _C_ERROR)
    error = check_uri(w[4], "ERROR.Error")
    args, kwargs, payload = check_payload(w, 5, "ERROR")
    return new(Error, (rtype, rid, details, error, args, kwargs, payload))


# --------------------------------------------------------------------------------------------
# Publish & subscribe


class Publish(_PayloadMessage):
    """``[PUBLISH, Request|id, Options|dict, Topic|uri, Arguments?, ArgumentsKw?]``."""

    __slots__ = ()
    MESSAGE_TYPE = 16
    NAME = "PUBLISH"
    FIELDS = ("request_id", "options", "topic", "args", "kwargs", "payload")
    _NHEAD = 3
    request_id: int = field(0, "Request ID")
    options: dict[str, Any] = field(1, "Options")
    topic: str = field(2, "Topic URI")
    args: list[Any] | None = field(3, "Arguments")
    kwargs: dict[str, Any] | None = field(4, "ArgumentsKw")
    payload: bytes | str | None = field(5, "Transparent payload")

    def __new__(
        cls,
        *,
        request_id: int,
        topic: str,
        options: Mapping[str, Any] | None = None,
        args: Sequence[Any] | None = None,
        kwargs: Mapping[str, Any] | None = None,
        payload: bytes | str | None = None,
    ) -> Publish:
        opts, a, k = local_args("PUBLISH", options, args, kwargs)
        return _build(_parse_publish, [16, request_id, opts, topic, *payload_tail(a, k, payload)])


_C_PUBLISH = CHECKS["PUBLISH"]


def _parse_publish(w: list[Any]) -> Publish:
    n = len(w)
    if n < 4 or n > 6:
        _length(w, "PUBLISH", 4, 6)
    rid = w[1]
    if type(rid) is not int or not 0 < rid <= MAX_ID:
        bad_id("PUBLISH.Request", rid)
    options = w[2]
    if type(options) is not dict or options:
        check_dict(options, "PUBLISH.Options", _C_PUBLISH)
    topic = w[3]
    if type(topic) is not str or topic not in URI_OK:
        check_uri(topic, "PUBLISH.Topic")
    if n == 6:  # the common ending, inlined: Arguments|list, ArgumentsKw|dict
        args, kwargs = w[4], w[5]
        if type(args) is list and type(kwargs) is dict:
            for key in kwargs:
                if type(key) is not str:
                    break
            else:
                return new(Publish, (rid, options, topic, args or None, kwargs or None, None))
    elif n == 4:
        return new(Publish, (rid, options, topic, None, None, None))
    args, kwargs, payload = check_payload(w, 4, "PUBLISH")
    return new(Publish, (rid, options, topic, args, kwargs, payload))


class Published(Message):
    """``[PUBLISHED, PUBLISH.Request|id, Publication|id]``."""

    __slots__ = ()
    MESSAGE_TYPE = 17
    NAME = "PUBLISHED"
    FIELDS = ("request_id", "publication_id")
    request_id: int = field(0, "Request ID of the PUBLISH")
    publication_id: int = field(1, "Publication ID")

    def __new__(cls, *, request_id: int, publication_id: int) -> Published:
        return _build(_parse_published, [17, request_id, publication_id])


def _two_ids(w: list[Any], name: str, second: str) -> tuple[int, int]:
    _length(w, name, 3, 3)
    return check_request_id(w[1], f"{name}.Request"), check_request_id(w[2], f"{name}.{second}")


def _parse_published(w: list[Any]) -> Published:
    return new(Published, _two_ids(w, "PUBLISHED", "Publication"))


def _pattern_uri(options: dict[str, Any], value: Any, what: str) -> str:
    """Procedure/topic of REGISTER/SUBSCRIBE: empty components allowed for pattern matching."""
    match = options.get("match", "exact")
    return check_uri(value, what, allow_empty=match != "exact")


class Subscribe(Message):
    """``[SUBSCRIBE, Request|id, Options|dict, Topic|uri]``."""

    __slots__ = ()
    MESSAGE_TYPE = 32
    NAME = "SUBSCRIBE"
    FIELDS = ("request_id", "options", "topic")
    request_id: int = field(0, "Request ID")
    options: dict[str, Any] = field(1, "Options (``match``, ``get_retained``...)")
    topic: str = field(2, "Topic URI or pattern")

    def __new__(
        cls, *, request_id: int, topic: str, options: Mapping[str, Any] | None = None
    ) -> Subscribe:
        opts, _, _ = local_args("SUBSCRIBE", options)
        return _build(_parse_subscribe, [32, request_id, opts, topic])


def _parse_subscribe(w: list[Any]) -> Subscribe:
    _length(w, "SUBSCRIBE", 4, 4)
    rid = check_request_id(w[1], "SUBSCRIBE.Request")
    options = _details(w[2], "SUBSCRIBE.Options", CHECKS["SUBSCRIBE"])
    return new(Subscribe, (rid, options, _pattern_uri(options, w[3], "SUBSCRIBE.Topic")))


class Subscribed(Message):
    """``[SUBSCRIBED, SUBSCRIBE.Request|id, Subscription|id]``."""

    __slots__ = ()
    MESSAGE_TYPE = 33
    NAME = "SUBSCRIBED"
    FIELDS = ("request_id", "subscription_id")
    request_id: int = field(0, "Request ID of the SUBSCRIBE")
    subscription_id: int = field(1, "Subscription ID")

    def __new__(cls, *, request_id: int, subscription_id: int) -> Subscribed:
        return _build(_parse_subscribed, [33, request_id, subscription_id])


def _parse_subscribed(w: list[Any]) -> Subscribed:
    return new(Subscribed, _two_ids(w, "SUBSCRIBED", "Subscription"))


class Unsubscribe(Message):
    """``[UNSUBSCRIBE, Request|id, SUBSCRIBED.Subscription|id]``."""

    __slots__ = ()
    MESSAGE_TYPE = 34
    NAME = "UNSUBSCRIBE"
    FIELDS = ("request_id", "subscription_id")
    request_id: int = field(0, "Request ID")
    subscription_id: int = field(1, "Subscription ID")

    def __new__(cls, *, request_id: int, subscription_id: int) -> Unsubscribe:
        return _build(_parse_unsubscribe, [34, request_id, subscription_id])


def _parse_unsubscribe(w: list[Any]) -> Unsubscribe:
    return new(Unsubscribe, _two_ids(w, "UNSUBSCRIBE", "Subscription"))


def _parse_gone(w: list[Any], name: str, rules: Mapping[str, Any]) -> tuple[int, Any]:
    """UNSUBSCRIBED/UNREGISTERED: ``[T, Request|id]`` or the revocation ``[T, 0, Details|dict]``."""
    _length(w, name, 2, 3)
    rid = w[1]
    if len(w) == 2:
        return check_request_id(rid, f"{name}.Request"), None
    if type(rid) is not int or not 0 <= rid <= MAX_ID:
        bad_id(f"{name}.Request", rid)
    return rid, check_dict(w[2], f"{name}.Details", rules)


class Unsubscribed(Message):
    """``[UNSUBSCRIBED, UNSUBSCRIBE.Request|id]``; revoked: ``[UNSUBSCRIBED, 0, Details|dict]``."""

    __slots__ = ()
    MESSAGE_TYPE = 35
    NAME = "UNSUBSCRIBED"
    FIELDS = ("request_id", "details")
    request_id: int = field(0, "Request ID of the UNSUBSCRIBE, 0 for a router revocation")
    details: dict[str, Any] | None = field(1, "Details (revocation: ``subscription``, ``reason``)")

    def __new__(cls, *, request_id: int, details: Mapping[str, Any] | None = None) -> Unsubscribed:
        tail = [] if details is None else [local_args("UNSUBSCRIBED", details)[0]]
        return _build(_parse_unsubscribed, [35, request_id, *tail])

    def to_list(self) -> list[Any]:
        if self[1] is None:
            return [35, self[0]]
        return [35, self[0], self[1]]


def _parse_unsubscribed(w: list[Any]) -> Unsubscribed:
    return new(Unsubscribed, _parse_gone(w, "UNSUBSCRIBED", CHECKS["UNSUBSCRIBED"]))


class Event(_PayloadMessage):
    """``[EVENT, Subscription|id, Publication|id, Details|dict, Arguments?, ArgumentsKw?]``."""

    __slots__ = ()
    MESSAGE_TYPE = 36
    NAME = "EVENT"
    FIELDS = ("subscription_id", "publication_id", "details", "args", "kwargs", "payload")
    _NHEAD = 3
    subscription_id: int = field(0, "Subscription ID")
    publication_id: int = field(1, "Publication ID")
    details: dict[str, Any] = field(2, "Details (``publisher``, ``topic``...)")
    args: list[Any] | None = field(3, "Arguments")
    kwargs: dict[str, Any] | None = field(4, "ArgumentsKw")
    payload: bytes | str | None = field(5, "Transparent payload")

    def __new__(
        cls,
        *,
        subscription_id: int,
        publication_id: int,
        details: Mapping[str, Any] | None = None,
        args: Sequence[Any] | None = None,
        kwargs: Mapping[str, Any] | None = None,
        payload: bytes | str | None = None,
    ) -> Event:
        opts, a, k = local_args("EVENT", details, args, kwargs)
        tail = payload_tail(a, k, payload)
        return _build(_parse_event, [36, subscription_id, publication_id, opts, *tail])


_C_EVENT = CHECKS["EVENT"]


def _parse_event(w: list[Any]) -> Event:
    n = len(w)
    if n < 4 or n > 6:
        _length(w, "EVENT", 4, 6)
    sid = w[1]
    if type(sid) is not int or not 0 < sid <= MAX_ID:
        bad_id("EVENT.Subscription", sid)
    pid = w[2]
    if type(pid) is not int or not 0 < pid <= MAX_ID:
        bad_id("EVENT.Publication", pid)
    details = w[3]
    if type(details) is not dict or details:
        check_dict(details, "EVENT.Details", _C_EVENT)
    if n == 6:  # the common ending, inlined: Arguments|list, ArgumentsKw|dict
        args, kwargs = w[4], w[5]
        if type(args) is list and type(kwargs) is dict:
            for key in kwargs:
                if type(key) is not str:
                    break
            else:
                return new(Event, (sid, pid, details, args or None, kwargs or None, None))
    elif n == 4:
        return new(Event, (sid, pid, details, None, None, None))
    args, kwargs, payload = check_payload(w, 4, "EVENT")
    return new(Event, (sid, pid, details, args, kwargs, payload))


class EventReceived(Message):
    """``[EVENT_RECEIVED, EVENT.Publication|id]`` (Autobahn/Crossbar extension, type 337)."""

    __slots__ = ()
    MESSAGE_TYPE = 337
    NAME = "EVENT_RECEIVED"
    FIELDS = ("publication_id",)
    publication_id: int = field(0, "Publication ID")

    def __new__(cls, *, publication_id: int) -> EventReceived:
        return _build(_parse_event_received, [337, publication_id])


def _parse_event_received(w: list[Any]) -> EventReceived:
    _length(w, "EVENT_RECEIVED", 2, 2)
    return new(EventReceived, (check_request_id(w[1], "EVENT_RECEIVED.Publication"),))


# --------------------------------------------------------------------------------------------
# Remote procedure calls


class Call(_PayloadMessage):
    """``[CALL, Request|id, Options|dict, Procedure|uri, Arguments?, ArgumentsKw?]``."""

    __slots__ = ()
    MESSAGE_TYPE = 48
    NAME = "CALL"
    FIELDS = ("request_id", "options", "procedure", "args", "kwargs", "payload")
    _NHEAD = 3
    request_id: int = field(0, "Request ID")
    options: dict[str, Any] = field(1, "Options (``timeout``, ``receive_progress``...)")
    procedure: str = field(2, "Procedure URI")
    args: list[Any] | None = field(3, "Arguments")
    kwargs: dict[str, Any] | None = field(4, "ArgumentsKw")
    payload: bytes | str | None = field(5, "Transparent payload")

    def __new__(
        cls,
        *,
        request_id: int,
        procedure: str,
        options: Mapping[str, Any] | None = None,
        args: Sequence[Any] | None = None,
        kwargs: Mapping[str, Any] | None = None,
        payload: bytes | str | None = None,
    ) -> Call:
        opts, a, k = local_args("CALL", options, args, kwargs)
        return _build(_parse_call, [48, request_id, opts, procedure, *payload_tail(a, k, payload)])


_C_CALL = CHECKS["CALL"]


def _parse_call(w: list[Any]) -> Call:
    n = len(w)
    if n < 4 or n > 6:
        _length(w, "CALL", 4, 6)
    rid = w[1]
    if type(rid) is not int or not 0 < rid <= MAX_ID:
        bad_id("CALL.Request", rid)
    options = w[2]
    if type(options) is not dict or options:
        check_dict(options, "CALL.Options", _C_CALL)
    procedure = w[3]
    if type(procedure) is not str or procedure not in URI_OK:
        check_uri(procedure, "CALL.Procedure")
    if n == 6:  # the common ending, inlined: Arguments|list, ArgumentsKw|dict
        args, kwargs = w[4], w[5]
        if type(args) is list and type(kwargs) is dict:
            for key in kwargs:
                if type(key) is not str:
                    break
            else:
                return new(Call, (rid, options, procedure, args or None, kwargs or None, None))
    elif n == 4:
        return new(Call, (rid, options, procedure, None, None, None))
    args, kwargs, payload = check_payload(w, 4, "CALL")
    return new(Call, (rid, options, procedure, args, kwargs, payload))


class Cancel(Message):
    """``[CANCEL, CALL.Request|id, Options|dict]`` (``mode``: skip, kill, killnowait)."""

    __slots__ = ()
    MESSAGE_TYPE = 49
    NAME = "CANCEL"
    FIELDS = ("request_id", "options")
    request_id: int = field(0, "Request ID of the CALL")
    options: dict[str, Any] = field(1, "Options (``mode``)")

    def __new__(cls, *, request_id: int, options: Mapping[str, Any] | None = None) -> Cancel:
        opts, _, _ = local_args("CANCEL", options)
        return _build(_parse_cancel, [49, request_id, opts])


def _parse_cancel(w: list[Any]) -> Cancel:
    _length(w, "CANCEL", 3, 3)
    rid = check_request_id(w[1], "CANCEL.Request")
    return new(Cancel, (rid, _details(w[2], "CANCEL.Options", CHECKS["CANCEL"])))


class Result(_PayloadMessage):
    """``[RESULT, CALL.Request|id, Details|dict, Arguments?, ArgumentsKw?]``."""

    __slots__ = ()
    MESSAGE_TYPE = 50
    NAME = "RESULT"
    FIELDS = ("request_id", "details", "args", "kwargs", "payload")
    _NHEAD = 2
    request_id: int = field(0, "Request ID of the CALL")
    details: dict[str, Any] = field(1, "Details (``progress``...)")
    args: list[Any] | None = field(2, "Arguments")
    kwargs: dict[str, Any] | None = field(3, "ArgumentsKw")
    payload: bytes | str | None = field(4, "Transparent payload")

    def __new__(
        cls,
        *,
        request_id: int,
        details: Mapping[str, Any] | None = None,
        args: Sequence[Any] | None = None,
        kwargs: Mapping[str, Any] | None = None,
        payload: bytes | str | None = None,
    ) -> Result:
        opts, a, k = local_args("RESULT", details, args, kwargs)
        return _build(_parse_result, [50, request_id, opts, *payload_tail(a, k, payload)])


_C_RESULT = CHECKS["RESULT"]


def _parse_result(w: list[Any]) -> Result:
    n = len(w)
    if n < 3 or n > 5:
        _length(w, "RESULT", 3, 5)
    rid = w[1]
    if type(rid) is not int or not 0 < rid <= MAX_ID:
        bad_id("RESULT.Request", rid)
    details = w[2]
    if type(details) is not dict or details:
        check_dict(details, "RESULT.Details", _C_RESULT)
    if n == 5:  # the common ending, inlined: Arguments|list, ArgumentsKw|dict
        args, kwargs = w[3], w[4]
        if type(args) is list and type(kwargs) is dict:
            for key in kwargs:
                if type(key) is not str:
                    break
            else:
                return new(Result, (rid, details, args or None, kwargs or None, None))
    elif n == 3:
        return new(Result, (rid, details, None, None, None))
    args, kwargs, payload = check_payload(w, 3, "RESULT")
    return new(Result, (rid, details, args, kwargs, payload))


class Register(Message):
    """``[REGISTER, Request|id, Options|dict, Procedure|uri]``."""

    __slots__ = ()
    MESSAGE_TYPE = 64
    NAME = "REGISTER"
    FIELDS = ("request_id", "options", "procedure")
    request_id: int = field(0, "Request ID")
    options: dict[str, Any] = field(1, "Options (``match``, ``invoke``...)")
    procedure: str = field(2, "Procedure URI or pattern")

    def __new__(
        cls, *, request_id: int, procedure: str, options: Mapping[str, Any] | None = None
    ) -> Register:
        opts, _, _ = local_args("REGISTER", options)
        return _build(_parse_register, [64, request_id, opts, procedure])


def _parse_register(w: list[Any]) -> Register:
    _length(w, "REGISTER", 4, 4)
    rid = check_request_id(w[1], "REGISTER.Request")
    options = _details(w[2], "REGISTER.Options", CHECKS["REGISTER"])
    return new(Register, (rid, options, _pattern_uri(options, w[3], "REGISTER.Procedure")))


class Registered(Message):
    """``[REGISTERED, REGISTER.Request|id, Registration|id]``."""

    __slots__ = ()
    MESSAGE_TYPE = 65
    NAME = "REGISTERED"
    FIELDS = ("request_id", "registration_id")
    request_id: int = field(0, "Request ID of the REGISTER")
    registration_id: int = field(1, "Registration ID")

    def __new__(cls, *, request_id: int, registration_id: int) -> Registered:
        return _build(_parse_registered, [65, request_id, registration_id])


def _parse_registered(w: list[Any]) -> Registered:
    return new(Registered, _two_ids(w, "REGISTERED", "Registration"))


class Unregister(Message):
    """``[UNREGISTER, Request|id, REGISTERED.Registration|id]``."""

    __slots__ = ()
    MESSAGE_TYPE = 66
    NAME = "UNREGISTER"
    FIELDS = ("request_id", "registration_id")
    request_id: int = field(0, "Request ID")
    registration_id: int = field(1, "Registration ID")

    def __new__(cls, *, request_id: int, registration_id: int) -> Unregister:
        return _build(_parse_unregister, [66, request_id, registration_id])


def _parse_unregister(w: list[Any]) -> Unregister:
    return new(Unregister, _two_ids(w, "UNREGISTER", "Registration"))


class Unregistered(Message):
    """``[UNREGISTERED, UNREGISTER.Request|id]``; revocation ``[UNREGISTERED, 0, Details|dict]``."""

    __slots__ = ()
    MESSAGE_TYPE = 67
    NAME = "UNREGISTERED"
    FIELDS = ("request_id", "details")
    request_id: int = field(0, "Request ID of the UNREGISTER, 0 for a router revocation")
    details: dict[str, Any] | None = field(1, "Details (revocation: ``registration``, ``reason``)")

    def __new__(cls, *, request_id: int, details: Mapping[str, Any] | None = None) -> Unregistered:
        tail = [] if details is None else [local_args("UNREGISTERED", details)[0]]
        return _build(_parse_unregistered, [67, request_id, *tail])

    def to_list(self) -> list[Any]:
        if self[1] is None:
            return [67, self[0]]
        return [67, self[0], self[1]]


def _parse_unregistered(w: list[Any]) -> Unregistered:
    return new(Unregistered, _parse_gone(w, "UNREGISTERED", CHECKS["UNREGISTERED"]))


class Invocation(_PayloadMessage):
    """``[INVOCATION, Request|id, Registration|id, Details|dict, Arguments?, ArgumentsKw?]``."""

    __slots__ = ()
    MESSAGE_TYPE = 68
    NAME = "INVOCATION"
    FIELDS = ("request_id", "registration_id", "details", "args", "kwargs", "payload")
    _NHEAD = 3
    request_id: int = field(0, "Request ID (router scope)")
    registration_id: int = field(1, "Registration ID")
    details: dict[str, Any] = field(
        2, "Details (``caller``, ``procedure``, ``receive_progress``...)"
    )
    args: list[Any] | None = field(3, "Arguments")
    kwargs: dict[str, Any] | None = field(4, "ArgumentsKw")
    payload: bytes | str | None = field(5, "Transparent payload")

    def __new__(
        cls,
        *,
        request_id: int,
        registration_id: int,
        details: Mapping[str, Any] | None = None,
        args: Sequence[Any] | None = None,
        kwargs: Mapping[str, Any] | None = None,
        payload: bytes | str | None = None,
    ) -> Invocation:
        opts, a, k = local_args("INVOCATION", details, args, kwargs)
        tail = payload_tail(a, k, payload)
        return _build(_parse_invocation, [68, request_id, registration_id, opts, *tail])


_C_INVOCATION = CHECKS["INVOCATION"]


def _parse_invocation(w: list[Any]) -> Invocation:
    n = len(w)
    if n < 4 or n > 6:
        _length(w, "INVOCATION", 4, 6)
    rid = w[1]
    if type(rid) is not int or not 0 < rid <= MAX_ID:
        bad_id("INVOCATION.Request", rid)
    reg = w[2]
    if type(reg) is not int or not 0 < reg <= MAX_ID:
        bad_id("INVOCATION.Registration", reg)
    details = w[3]
    if type(details) is not dict or details:
        check_dict(details, "INVOCATION.Details", _C_INVOCATION)
    if n == 6:  # the common ending, inlined: Arguments|list, ArgumentsKw|dict
        args, kwargs = w[4], w[5]
        if type(args) is list and type(kwargs) is dict:
            for key in kwargs:
                if type(key) is not str:
                    break
            else:
                return new(Invocation, (rid, reg, details, args or None, kwargs or None, None))
    elif n == 4:
        return new(Invocation, (rid, reg, details, None, None, None))
    args, kwargs, payload = check_payload(w, 4, "INVOCATION")
    return new(Invocation, (rid, reg, details, args, kwargs, payload))


class Interrupt(Message):
    """``[INTERRUPT, INVOCATION.Request|id, Options|dict]`` (``mode``: kill, killnowait)."""

    __slots__ = ()
    MESSAGE_TYPE = 69
    NAME = "INTERRUPT"
    FIELDS = ("request_id", "options")
    request_id: int = field(0, "Request ID of the INVOCATION")
    options: dict[str, Any] = field(1, "Options (``mode``, ``reason``)")

    def __new__(cls, *, request_id: int, options: Mapping[str, Any] | None = None) -> Interrupt:
        opts, _, _ = local_args("INTERRUPT", options)
        return _build(_parse_interrupt, [69, request_id, opts])


def _parse_interrupt(w: list[Any]) -> Interrupt:
    _length(w, "INTERRUPT", 3, 3)
    rid = check_request_id(w[1], "INTERRUPT.Request")
    return new(Interrupt, (rid, _details(w[2], "INTERRUPT.Options", CHECKS["INTERRUPT"])))


class Yield(_PayloadMessage):
    """``[YIELD, INVOCATION.Request|id, Options|dict, Arguments?, ArgumentsKw?]``."""

    __slots__ = ()
    MESSAGE_TYPE = 70
    NAME = "YIELD"
    FIELDS = ("request_id", "options", "args", "kwargs", "payload")
    _NHEAD = 2
    request_id: int = field(0, "Request ID of the INVOCATION")
    options: dict[str, Any] = field(1, "Options (``progress``...)")
    args: list[Any] | None = field(2, "Arguments")
    kwargs: dict[str, Any] | None = field(3, "ArgumentsKw")
    payload: bytes | str | None = field(4, "Transparent payload")

    def __new__(
        cls,
        *,
        request_id: int,
        options: Mapping[str, Any] | None = None,
        args: Sequence[Any] | None = None,
        kwargs: Mapping[str, Any] | None = None,
        payload: bytes | str | None = None,
    ) -> Yield:
        opts, a, k = local_args("YIELD", options, args, kwargs)
        return _build(_parse_yield, [70, request_id, opts, *payload_tail(a, k, payload)])


_C_YIELD = CHECKS["YIELD"]


def _parse_yield(w: list[Any]) -> Yield:
    n = len(w)
    if n < 3 or n > 5:
        _length(w, "YIELD", 3, 5)
    rid = w[1]
    if type(rid) is not int or not 0 < rid <= MAX_ID:
        bad_id("YIELD.Request", rid)
    options = w[2]
    if type(options) is not dict or options:
        check_dict(options, "YIELD.Options", _C_YIELD)
    if n == 5:  # the common ending, inlined: Arguments|list, ArgumentsKw|dict
        args, kwargs = w[3], w[4]
        if type(args) is list and type(kwargs) is dict:
            for key in kwargs:
                if type(key) is not str:
                    break
            else:
                return new(Yield, (rid, options, args or None, kwargs or None, None))
    elif n == 3:
        return new(Yield, (rid, options, None, None, None))
    args, kwargs, payload = check_payload(w, 3, "YIELD")
    return new(Yield, (rid, options, args, kwargs, payload))


# --------------------------------------------------------------------------------------------
# Dispatch

_PARSERS: dict[int, Callable[[list[Any]], Message]] = {
    1: _parse_hello,
    2: _parse_welcome,
    3: _parse_abort,
    4: _parse_challenge,
    5: _parse_authenticate,
    6: _parse_goodbye,
    8: _parse_error,
    16: _parse_publish,
    17: _parse_published,
    32: _parse_subscribe,
    33: _parse_subscribed,
    34: _parse_unsubscribe,
    35: _parse_unsubscribed,
    36: _parse_event,
    337: _parse_event_received,
    48: _parse_call,
    49: _parse_cancel,
    50: _parse_result,
    64: _parse_register,
    65: _parse_registered,
    66: _parse_unregister,
    67: _parse_unregistered,
    68: _parse_invocation,
    69: _parse_interrupt,
    70: _parse_yield,
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
        raise ProtocolError(f"invalid {brief(code)} message: {type(exc).__name__}") from exc
