"""Session messages (HELLO ... GOODBYE) and ERROR.

Repeated on purpose (``duplicates`` lists it): each class spells out its typed fields and
keyword constructor, as in the pub/sub and RPC modules.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from ._base import (
    CLOSE_RULES,
    ERROR_REQUEST_TYPES,
    Message,
    PayloadMessage,
    build_local,
    check_length,
    check_opts,
    check_payload,
    check_request_id,
    check_uri,
    fail,
    field,
    local_args,
    new,
    parses,
    payload_tail,
)
from ._validation import CHECKS, brief, check_dict

__all__ = [
    "Hello",
    "Welcome",
    "Abort",
    "Challenge",
    "Authenticate",
    "Goodbye",
    "Error",
]

# --------------------------------------------------------------------------------------------
# Session messages


class Hello(Message):
    """``[HELLO, Realm|uri, Details|dict]``: the client asks to join a realm."""

    __slots__ = ()
    MESSAGE_TYPE = 1
    NAME = "HELLO"
    FIELDS = ("realm", "details")
    realm: Final[str] = field(0, "Realm URI")
    details: Final[dict[str, Any]] = field(1, "Details (roles, authmethods, authid, authextra...)")

    def __new__(cls, *, realm: str, details: Mapping[str, Any]) -> Hello:
        opts, _, _ = local_args("HELLO", details)
        return build_local(_parse_hello, [1, realm, opts])

    @property
    def roles(self) -> dict[str, Any]:
        return self.details["roles"]  # type: ignore[no-any-return]


@parses(Hello)
def _parse_hello(w: list[Any]) -> Hello:
    check_length(w, "HELLO", 3, 3)
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
    session_id: Final[int] = field(0, "Session ID")
    details: Final[dict[str, Any]] = field(1, "Details (roles, authid, authrole, authmethod...)")

    def __new__(cls, *, session_id: int, details: Mapping[str, Any]) -> Welcome:
        opts, _, _ = local_args("WELCOME", details)
        return build_local(_parse_welcome, [2, session_id, opts])

    @property
    def roles(self) -> dict[str, Any]:
        return self.details["roles"]  # type: ignore[no-any-return]


@parses(Welcome)
def _parse_welcome(w: list[Any]) -> Welcome:
    check_length(w, "WELCOME", 3, 3)
    session = check_request_id(w[1], "WELCOME.Session")
    details = check_dict(w[2], "WELCOME.Details", CHECKS["WELCOME"])
    if not details.get("roles"):
        fail("WELCOME.Details.roles must be a non-empty dict")
    return new(Welcome, (session, details))


class Abort(PayloadMessage):
    """``[ABORT, Details|dict, Reason|uri, Arguments?, ArgumentsKw?]``: session refused/ended."""

    __slots__ = ()
    MESSAGE_TYPE = 3
    NAME = "ABORT"
    FIELDS = ("details", "reason", "args", "kwargs", "payload")
    _NHEAD = 2
    details: Final[dict[str, Any]] = field(0, "Details (``message``)")
    reason: Final[str] = field(1, "Reason URI")
    args: Final[list[Any] | None] = field(2, "Arguments")
    kwargs: Final[dict[str, Any] | None] = field(3, "ArgumentsKw")
    payload: Final[None] = field(4, "always None")

    def __new__(
        cls,
        *,
        reason: str,
        details: Mapping[str, Any] | None = None,
        args: Sequence[Any] | None = None,
        kwargs: Mapping[str, Any] | None = None,
    ) -> Abort:
        opts, a, k = local_args("ABORT", details, args, kwargs)
        return build_local(_parse_abort, [3, opts, reason, *payload_tail(a, k, None)])

    @property
    def message(self) -> str | None:
        """The human-readable ``Details.message``, if any."""
        return self.details.get("message")


@parses(Abort)
def _parse_abort(w: list[Any]) -> Abort:
    check_length(w, "ABORT", 3, 5)
    details = check_opts(w[1], "ABORT.Details", CLOSE_RULES)
    reason = check_uri(w[2], "ABORT.Reason")
    args, kwargs, _ = check_payload(w, 3, "ABORT", allow_payload=False)
    return new(Abort, (details, reason, args, kwargs, None))


class Challenge(Message):
    """``[CHALLENGE, AuthMethod|string, Extra|dict]``."""

    __slots__ = ()
    MESSAGE_TYPE = 4
    NAME = "CHALLENGE"
    FIELDS = ("method", "extra")
    method: Final[str] = field(0, "Authentication method")
    extra: Final[dict[str, Any]] = field(1, "Extra")

    def __new__(cls, *, method: str, extra: Mapping[str, Any] | None = None) -> Challenge:
        opts, _, _ = local_args("CHALLENGE", extra)
        return build_local(_parse_challenge, [4, method, opts])


@parses(Challenge)
def _parse_challenge(w: list[Any]) -> Challenge:
    check_length(w, "CHALLENGE", 3, 3)
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
    signature: Final[str] = field(0, "Signature")
    extra: Final[dict[str, Any]] = field(1, "Extra")

    def __new__(cls, *, signature: str, extra: Mapping[str, Any] | None = None) -> Authenticate:
        opts, _, _ = local_args("AUTHENTICATE", extra)
        return build_local(_parse_authenticate, [5, signature, opts])

    def __repr__(self) -> str:
        # The signature may be a ticket (a secret): never show it.
        return f"Authenticate(signature=<{len(self.signature)} chars>, extra={brief(self.extra)})"


@parses(Authenticate)
def _parse_authenticate(w: list[Any]) -> Authenticate:
    check_length(w, "AUTHENTICATE", 3, 3)
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
    details: Final[dict[str, Any]] = field(0, "Details (``message``)")
    reason: Final[str] = field(1, "Reason URI")

    def __new__(cls, *, reason: str, details: Mapping[str, Any] | None = None) -> Goodbye:
        opts, _, _ = local_args("GOODBYE", details)
        return build_local(_parse_goodbye, [6, opts, reason])

    @property
    def message(self) -> str | None:
        return self.details.get("message")


@parses(Goodbye)
def _parse_goodbye(w: list[Any]) -> Goodbye:
    check_length(w, "GOODBYE", 3, 3)
    details = check_opts(w[1], "GOODBYE.Details", CLOSE_RULES)
    return new(Goodbye, (details, check_uri(w[2], "GOODBYE.Reason")))


# --------------------------------------------------------------------------------------------
# Common


class Error(PayloadMessage):
    """``[ERROR, REQUEST.Type|int, REQUEST.Request|id, Details|dict, Error|uri, A?, K?]``."""

    __slots__ = ()
    MESSAGE_TYPE = 8
    NAME = "ERROR"
    FIELDS = ("request_type", "request_id", "details", "error", "args", "kwargs", "payload")
    _NHEAD = 4
    request_type: Final[int] = field(0, "Type code of the failed request")
    request_id: Final[int] = field(1, "Request ID of the failed request")
    details: Final[dict[str, Any]] = field(2, "Details")
    error: Final[str] = field(3, "Error URI")
    args: Final[list[Any] | None] = field(4, "Arguments")
    kwargs: Final[dict[str, Any] | None] = field(5, "ArgumentsKw")
    payload: Final[bytes | str | None] = field(6, "Transparent payload")

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
        return build_local(_parse_error, [8, request_type, request_id, opts, error, *tail])


_C_ERROR = CHECKS["ERROR"]


@parses(Error)
def _parse_error(w: list[Any]) -> Error:
    check_length(w, "ERROR", 5, 7)
    rtype = w[1]
    if type(rtype) is not int or rtype not in ERROR_REQUEST_TYPES:
        fail(f"ERROR.Request.Type {brief(rtype)} is not a request type that can fail")
    rid = check_request_id(w[2], "ERROR.Request")
    details = check_opts(w[3], "ERROR.Details", _C_ERROR)
    error = check_uri(w[4], "ERROR.Error")
    args, kwargs, payload = check_payload(w, 5, "ERROR")
    return new(Error, (rtype, rid, details, error, args, kwargs, payload))
