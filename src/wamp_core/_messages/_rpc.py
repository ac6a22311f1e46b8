"""Remote procedure call messages.

Repeated on purpose (``duplicates`` lists it): each class spells out its typed fields and
keyword constructor (what mypy and users see), and each parser inlines the common checks
(IDs, the args/kwargs tail): calling shared helpers costs a measurable part of decode time
(``benchmarks/codec.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from .._uri import MAX_ID
from ._base import (
    URI_OK,
    Message,
    PayloadMessage,
    bad_id,
    build_local,
    check_length,
    check_opts,
    check_payload,
    check_request_id,
    check_uri,
    field,
    local_args,
    new,
    parse_gone,
    parses,
    pattern_uri,
    payload_tail,
    two_ids,
)
from ._validation import CHECKS, check_dict, disclosed

__all__ = [
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
]

# --------------------------------------------------------------------------------------------
# Remote procedure calls


class Call(PayloadMessage):
    """``[CALL, Request|id, Options|dict, Procedure|uri, Arguments?, ArgumentsKw?]``."""

    __slots__ = ()
    MESSAGE_TYPE = 48
    NAME = "CALL"
    FIELDS = ("request_id", "options", "procedure", "args", "kwargs", "payload")
    _NHEAD = 3
    request_id: Final[int] = field(0, "Request ID")
    options: Final[dict[str, Any]] = field(1, "Options (``timeout``, ``receive_progress``...)")
    procedure: Final[str] = field(2, "Procedure URI")
    args: Final[list[Any] | None] = field(3, "Arguments")
    kwargs: Final[dict[str, Any] | None] = field(4, "ArgumentsKw")
    payload: Final[bytes | str | None] = field(5, "Transparent payload")

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
        return build_local(
            _parse_call, [48, request_id, opts, procedure, *payload_tail(a, k, payload)]
        )


_C_CALL = CHECKS["CALL"]


@parses(Call)
def _parse_call(w: list[Any]) -> Call:
    n = len(w)
    if n < 4 or n > 6:
        check_length(w, "CALL", 4, 6)
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
    elif n == 5 and type(w[4]) is list:  # Arguments alone
        return new(Call, (rid, options, procedure, w[4] or None, None, None))
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
    request_id: Final[int] = field(0, "Request ID of the CALL")
    options: Final[dict[str, Any]] = field(1, "Options (``mode``)")

    def __new__(cls, *, request_id: int, options: Mapping[str, Any] | None = None) -> Cancel:
        opts, _, _ = local_args("CANCEL", options)
        return build_local(_parse_cancel, [49, request_id, opts])


@parses(Cancel)
def _parse_cancel(w: list[Any]) -> Cancel:
    check_length(w, "CANCEL", 3, 3)
    rid = check_request_id(w[1], "CANCEL.Request")
    return new(Cancel, (rid, check_opts(w[2], "CANCEL.Options", CHECKS["CANCEL"])))


class Result(PayloadMessage):
    """``[RESULT, CALL.Request|id, Details|dict, Arguments?, ArgumentsKw?]``."""

    __slots__ = ()
    MESSAGE_TYPE = 50
    NAME = "RESULT"
    FIELDS = ("request_id", "details", "args", "kwargs", "payload")
    _NHEAD = 2
    request_id: Final[int] = field(0, "Request ID of the CALL")
    details: Final[dict[str, Any]] = field(1, "Details (``progress``...)")
    args: Final[list[Any] | None] = field(2, "Arguments")
    kwargs: Final[dict[str, Any] | None] = field(3, "ArgumentsKw")
    payload: Final[bytes | str | None] = field(4, "Transparent payload")

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
        return build_local(_parse_result, [50, request_id, opts, *payload_tail(a, k, payload)])


_C_RESULT = CHECKS["RESULT"]


@parses(Result)
def _parse_result(w: list[Any]) -> Result:
    # The common shapes, each checked in one pass (the hot path: every call's answer); anything
    # else, or a failing check, takes the general path below, which names what is wrong.
    n = len(w)
    if n == 4:  # Arguments alone: what most procedures return
        _, rid, details, args = w
        if type(rid) is int and 0 < rid <= MAX_ID and type(details) is dict and type(args) is list:
            if details and not disclosed(details, "callee", "callee_authid", "callee_authrole"):
                check_dict(details, "RESULT.Details", _C_RESULT)
            return new(Result, (rid, details, args or None, None, None))
    elif n == 5:
        _, rid, details, args, kwargs = w
        if (
            type(rid) is int and 0 < rid <= MAX_ID
            and type(details) is dict and type(args) is list and type(kwargs) is dict
        ):  # fmt: skip
            if details and not disclosed(details, "callee", "callee_authid", "callee_authrole"):
                check_dict(details, "RESULT.Details", _C_RESULT)
            for key in kwargs:
                if type(key) is not str:
                    break
            else:
                return new(Result, (rid, details, args or None, kwargs or None, None))
    if n < 3 or n > 5:
        check_length(w, "RESULT", 3, 5)
    rid, details = w[1], w[2]
    if type(rid) is not int or not 0 < rid <= MAX_ID:
        bad_id("RESULT.Request", rid)
    if type(details) is not dict or details:
        check_dict(details, "RESULT.Details", _C_RESULT)
    if n == 3:
        return new(Result, (rid, details, None, None, None))
    args, kwargs, payload = check_payload(w, 3, "RESULT")
    return new(Result, (rid, details, args, kwargs, payload))


class Register(Message):
    """``[REGISTER, Request|id, Options|dict, Procedure|uri]``."""

    __slots__ = ()
    MESSAGE_TYPE = 64
    NAME = "REGISTER"
    FIELDS = ("request_id", "options", "procedure")
    request_id: Final[int] = field(0, "Request ID")
    options: Final[dict[str, Any]] = field(1, "Options (``match``, ``invoke``...)")
    procedure: Final[str] = field(2, "Procedure URI or pattern")

    def __new__(
        cls, *, request_id: int, procedure: str, options: Mapping[str, Any] | None = None
    ) -> Register:
        opts, _, _ = local_args("REGISTER", options)
        return build_local(_parse_register, [64, request_id, opts, procedure])


@parses(Register)
def _parse_register(w: list[Any]) -> Register:
    check_length(w, "REGISTER", 4, 4)
    rid = check_request_id(w[1], "REGISTER.Request")
    options = check_opts(w[2], "REGISTER.Options", CHECKS["REGISTER"])
    return new(Register, (rid, options, pattern_uri(options, w[3], "REGISTER.Procedure")))


class Registered(Message):
    """``[REGISTERED, REGISTER.Request|id, Registration|id]``."""

    __slots__ = ()
    MESSAGE_TYPE = 65
    NAME = "REGISTERED"
    FIELDS = ("request_id", "registration_id")
    request_id: Final[int] = field(0, "Request ID of the REGISTER")
    registration_id: Final[int] = field(1, "Registration ID")

    def __new__(cls, *, request_id: int, registration_id: int) -> Registered:
        return build_local(_parse_registered, [65, request_id, registration_id])


@parses(Registered)
def _parse_registered(w: list[Any]) -> Registered:
    return new(Registered, two_ids(w, "REGISTERED", "Registration"))


class Unregister(Message):
    """``[UNREGISTER, Request|id, REGISTERED.Registration|id]``."""

    __slots__ = ()
    MESSAGE_TYPE = 66
    NAME = "UNREGISTER"
    FIELDS = ("request_id", "registration_id")
    request_id: Final[int] = field(0, "Request ID")
    registration_id: Final[int] = field(1, "Registration ID")

    def __new__(cls, *, request_id: int, registration_id: int) -> Unregister:
        return build_local(_parse_unregister, [66, request_id, registration_id])


@parses(Unregister)
def _parse_unregister(w: list[Any]) -> Unregister:
    return new(Unregister, two_ids(w, "UNREGISTER", "Registration"))


class Unregistered(Message):
    """``[UNREGISTERED, UNREGISTER.Request|id]``; revocation ``[UNREGISTERED, 0, Details|dict]``."""

    __slots__ = ()
    MESSAGE_TYPE = 67
    NAME = "UNREGISTERED"
    FIELDS = ("request_id", "details")
    request_id: Final[int] = field(0, "Request ID of the UNREGISTER, 0 for a router revocation")
    details: Final[dict[str, Any] | None] = field(
        1, "Details (revocation: ``registration``, ``reason``)"
    )

    def __new__(cls, *, request_id: int, details: Mapping[str, Any] | None = None) -> Unregistered:
        tail = [] if details is None else [local_args("UNREGISTERED", details)[0]]
        return build_local(_parse_unregistered, [67, request_id, *tail])

    def to_list(self) -> list[Any]:
        if self[1] is None:
            return [67, self[0]]
        return [67, self[0], self[1]]


@parses(Unregistered)
def _parse_unregistered(w: list[Any]) -> Unregistered:
    return new(Unregistered, parse_gone(w, "UNREGISTERED", CHECKS["UNREGISTERED"]))


class Invocation(PayloadMessage):
    """``[INVOCATION, Request|id, Registration|id, Details|dict, Arguments?, ArgumentsKw?]``."""

    __slots__ = ()
    MESSAGE_TYPE = 68
    NAME = "INVOCATION"
    FIELDS = ("request_id", "registration_id", "details", "args", "kwargs", "payload")
    _NHEAD = 3
    request_id: Final[int] = field(0, "Request ID (router scope)")
    registration_id: Final[int] = field(1, "Registration ID")
    details: Final[dict[str, Any]] = field(
        2, "Details (``caller``, ``procedure``, ``receive_progress``...)"
    )
    args: Final[list[Any] | None] = field(3, "Arguments")
    kwargs: Final[dict[str, Any] | None] = field(4, "ArgumentsKw")
    payload: Final[bytes | str | None] = field(5, "Transparent payload")

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
        return build_local(_parse_invocation, [68, request_id, registration_id, opts, *tail])


_C_INVOCATION = CHECKS["INVOCATION"]


@parses(Invocation)
def _parse_invocation(w: list[Any]) -> Invocation:
    # The common shapes, each checked in one pass (the hot path: every invocation); anything
    # else, or a failing check, takes the general path below, which names what is wrong.
    n = len(w)
    if n == 5:  # Arguments alone: what most callers send
        _, rid, reg, details, args = w
        if (
            type(rid) is int and 0 < rid <= MAX_ID and type(reg) is int and 0 < reg <= MAX_ID
            and type(details) is dict and type(args) is list
        ):  # fmt: skip
            if details and not disclosed(details, "caller", "caller_authid", "caller_authrole"):
                check_dict(details, "INVOCATION.Details", _C_INVOCATION)
            return new(Invocation, (rid, reg, details, args or None, None, None))
    elif n == 6:
        _, rid, reg, details, args, kwargs = w
        if (
            type(rid) is int and 0 < rid <= MAX_ID and type(reg) is int and 0 < reg <= MAX_ID
            and type(details) is dict and type(args) is list and type(kwargs) is dict
        ):  # fmt: skip
            if details and not disclosed(details, "caller", "caller_authid", "caller_authrole"):
                check_dict(details, "INVOCATION.Details", _C_INVOCATION)
            for key in kwargs:
                if type(key) is not str:
                    break
            else:
                return new(Invocation, (rid, reg, details, args or None, kwargs or None, None))
    if n < 4 or n > 6:
        check_length(w, "INVOCATION", 4, 6)
    rid, reg, details = w[1], w[2], w[3]
    if type(rid) is not int or not 0 < rid <= MAX_ID:
        bad_id("INVOCATION.Request", rid)
    if type(reg) is not int or not 0 < reg <= MAX_ID:
        bad_id("INVOCATION.Registration", reg)
    if type(details) is not dict or details:
        check_dict(details, "INVOCATION.Details", _C_INVOCATION)
    if n == 4:
        return new(Invocation, (rid, reg, details, None, None, None))
    args, kwargs, payload = check_payload(w, 4, "INVOCATION")
    return new(Invocation, (rid, reg, details, args, kwargs, payload))


class Interrupt(Message):
    """``[INTERRUPT, INVOCATION.Request|id, Options|dict]`` (``mode``: kill, killnowait)."""

    __slots__ = ()
    MESSAGE_TYPE = 69
    NAME = "INTERRUPT"
    FIELDS = ("request_id", "options")
    request_id: Final[int] = field(0, "Request ID of the INVOCATION")
    options: Final[dict[str, Any]] = field(1, "Options (``mode``, ``reason``)")

    def __new__(cls, *, request_id: int, options: Mapping[str, Any] | None = None) -> Interrupt:
        opts, _, _ = local_args("INTERRUPT", options)
        return build_local(_parse_interrupt, [69, request_id, opts])


@parses(Interrupt)
def _parse_interrupt(w: list[Any]) -> Interrupt:
    check_length(w, "INTERRUPT", 3, 3)
    rid = check_request_id(w[1], "INTERRUPT.Request")
    return new(Interrupt, (rid, check_opts(w[2], "INTERRUPT.Options", CHECKS["INTERRUPT"])))


class Yield(PayloadMessage):
    """``[YIELD, INVOCATION.Request|id, Options|dict, Arguments?, ArgumentsKw?]``."""

    __slots__ = ()
    MESSAGE_TYPE = 70
    NAME = "YIELD"
    FIELDS = ("request_id", "options", "args", "kwargs", "payload")
    _NHEAD = 2
    request_id: Final[int] = field(0, "Request ID of the INVOCATION")
    options: Final[dict[str, Any]] = field(1, "Options (``progress``...)")
    args: Final[list[Any] | None] = field(2, "Arguments")
    kwargs: Final[dict[str, Any] | None] = field(3, "ArgumentsKw")
    payload: Final[bytes | str | None] = field(4, "Transparent payload")

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
        return build_local(_parse_yield, [70, request_id, opts, *payload_tail(a, k, payload)])


_C_YIELD = CHECKS["YIELD"]


@parses(Yield)
def _parse_yield(w: list[Any]) -> Yield:
    n = len(w)
    if n < 3 or n > 5:
        check_length(w, "YIELD", 3, 5)
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
