"""Publish & subscribe messages.

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
    "Publish",
    "Published",
    "Subscribe",
    "Subscribed",
    "Unsubscribe",
    "Unsubscribed",
    "Event",
    "EventReceived",
]

# --------------------------------------------------------------------------------------------
# Publish & subscribe


class Publish(PayloadMessage):
    """``[PUBLISH, Request|id, Options|dict, Topic|uri, Arguments?, ArgumentsKw?]``."""

    __slots__ = ()
    MESSAGE_TYPE = 16
    NAME = "PUBLISH"
    FIELDS = ("request_id", "options", "topic", "args", "kwargs", "payload")
    _NHEAD = 3
    request_id: Final[int] = field(0, "Request ID")
    options: Final[dict[str, Any]] = field(1, "Options")
    topic: Final[str] = field(2, "Topic URI")
    args: Final[list[Any] | None] = field(3, "Arguments")
    kwargs: Final[dict[str, Any] | None] = field(4, "ArgumentsKw")
    payload: Final[bytes | str | None] = field(5, "Transparent payload")

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
        return build_local(
            _parse_publish, [16, request_id, opts, topic, *payload_tail(a, k, payload)]
        )


_C_PUBLISH = CHECKS["PUBLISH"]


@parses(Publish)
def _parse_publish(w: list[Any]) -> Publish:
    n = len(w)
    if n < 4 or n > 6:
        check_length(w, "PUBLISH", 4, 6)
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
    elif n == 5 and type(w[4]) is list:  # Arguments alone
        return new(Publish, (rid, options, topic, w[4] or None, None, None))
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
    request_id: Final[int] = field(0, "Request ID of the PUBLISH")
    publication_id: Final[int] = field(1, "Publication ID")

    def __new__(cls, *, request_id: int, publication_id: int) -> Published:
        return build_local(_parse_published, [17, request_id, publication_id])


@parses(Published)
def _parse_published(w: list[Any]) -> Published:
    return new(Published, two_ids(w, "PUBLISHED", "Publication"))


class Subscribe(Message):
    """``[SUBSCRIBE, Request|id, Options|dict, Topic|uri]``."""

    __slots__ = ()
    MESSAGE_TYPE = 32
    NAME = "SUBSCRIBE"
    FIELDS = ("request_id", "options", "topic")
    request_id: Final[int] = field(0, "Request ID")
    options: Final[dict[str, Any]] = field(1, "Options (``match``, ``get_retained``...)")
    topic: Final[str] = field(2, "Topic URI or pattern")

    def __new__(
        cls, *, request_id: int, topic: str, options: Mapping[str, Any] | None = None
    ) -> Subscribe:
        opts, _, _ = local_args("SUBSCRIBE", options)
        return build_local(_parse_subscribe, [32, request_id, opts, topic])


@parses(Subscribe)
def _parse_subscribe(w: list[Any]) -> Subscribe:
    check_length(w, "SUBSCRIBE", 4, 4)
    rid = check_request_id(w[1], "SUBSCRIBE.Request")
    options = check_opts(w[2], "SUBSCRIBE.Options", CHECKS["SUBSCRIBE"])
    return new(Subscribe, (rid, options, pattern_uri(options, w[3], "SUBSCRIBE.Topic")))


class Subscribed(Message):
    """``[SUBSCRIBED, SUBSCRIBE.Request|id, Subscription|id]``."""

    __slots__ = ()
    MESSAGE_TYPE = 33
    NAME = "SUBSCRIBED"
    FIELDS = ("request_id", "subscription_id")
    request_id: Final[int] = field(0, "Request ID of the SUBSCRIBE")
    subscription_id: Final[int] = field(1, "Subscription ID")

    def __new__(cls, *, request_id: int, subscription_id: int) -> Subscribed:
        return build_local(_parse_subscribed, [33, request_id, subscription_id])


@parses(Subscribed)
def _parse_subscribed(w: list[Any]) -> Subscribed:
    return new(Subscribed, two_ids(w, "SUBSCRIBED", "Subscription"))


class Unsubscribe(Message):
    """``[UNSUBSCRIBE, Request|id, SUBSCRIBED.Subscription|id]``."""

    __slots__ = ()
    MESSAGE_TYPE = 34
    NAME = "UNSUBSCRIBE"
    FIELDS = ("request_id", "subscription_id")
    request_id: Final[int] = field(0, "Request ID")
    subscription_id: Final[int] = field(1, "Subscription ID")

    def __new__(cls, *, request_id: int, subscription_id: int) -> Unsubscribe:
        return build_local(_parse_unsubscribe, [34, request_id, subscription_id])


@parses(Unsubscribe)
def _parse_unsubscribe(w: list[Any]) -> Unsubscribe:
    return new(Unsubscribe, two_ids(w, "UNSUBSCRIBE", "Subscription"))


class Unsubscribed(Message):
    """``[UNSUBSCRIBED, UNSUBSCRIBE.Request|id]``; revoked: ``[UNSUBSCRIBED, 0, Details|dict]``."""

    __slots__ = ()
    MESSAGE_TYPE = 35
    NAME = "UNSUBSCRIBED"
    FIELDS = ("request_id", "details")
    request_id: Final[int] = field(0, "Request ID of the UNSUBSCRIBE, 0 for a router revocation")
    details: Final[dict[str, Any] | None] = field(
        1, "Details (revocation: ``subscription``, ``reason``)"
    )

    def __new__(cls, *, request_id: int, details: Mapping[str, Any] | None = None) -> Unsubscribed:
        tail = [] if details is None else [local_args("UNSUBSCRIBED", details)[0]]
        return build_local(_parse_unsubscribed, [35, request_id, *tail])

    def to_list(self) -> list[Any]:
        if self[1] is None:
            return [35, self[0]]
        return [35, self[0], self[1]]


@parses(Unsubscribed)
def _parse_unsubscribed(w: list[Any]) -> Unsubscribed:
    return new(Unsubscribed, parse_gone(w, "UNSUBSCRIBED", CHECKS["UNSUBSCRIBED"]))


class Event(PayloadMessage):
    """``[EVENT, Subscription|id, Publication|id, Details|dict, Arguments?, ArgumentsKw?]``."""

    __slots__ = ()
    MESSAGE_TYPE = 36
    NAME = "EVENT"
    FIELDS = ("subscription_id", "publication_id", "details", "args", "kwargs", "payload")
    _NHEAD = 3
    subscription_id: Final[int] = field(0, "Subscription ID")
    publication_id: Final[int] = field(1, "Publication ID")
    details: Final[dict[str, Any]] = field(2, "Details (``publisher``, ``topic``...)")
    args: Final[list[Any] | None] = field(3, "Arguments")
    kwargs: Final[dict[str, Any] | None] = field(4, "ArgumentsKw")
    payload: Final[bytes | str | None] = field(5, "Transparent payload")

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
        return build_local(_parse_event, [36, subscription_id, publication_id, opts, *tail])


_C_EVENT = CHECKS["EVENT"]


@parses(Event)
def _parse_event(w: list[Any]) -> Event:
    # The common shapes, each checked in one pass (the hot path: every EVENT); anything else,
    # or a failing check, takes the general path below, which names what is wrong.
    n = len(w)
    if n == 5:  # Arguments alone: what most publishers send
        _, sid, pid, details, args = w
        if (
            type(sid) is int and 0 < sid <= MAX_ID and type(pid) is int and 0 < pid <= MAX_ID
            and type(details) is dict and type(args) is list
        ):  # fmt: skip
            if details and not disclosed(
                details, "publisher", "publisher_authid", "publisher_authrole"
            ):
                check_dict(details, "EVENT.Details", _C_EVENT)
            return new(Event, (sid, pid, details, args or None, None, None))
    elif n == 6:
        _, sid, pid, details, args, kwargs = w
        if (
            type(sid) is int and 0 < sid <= MAX_ID and type(pid) is int and 0 < pid <= MAX_ID
            and type(details) is dict and type(args) is list and type(kwargs) is dict
        ):  # fmt: skip
            if details and not disclosed(
                details, "publisher", "publisher_authid", "publisher_authrole"
            ):
                check_dict(details, "EVENT.Details", _C_EVENT)
            for key in kwargs:
                if type(key) is not str:
                    break
            else:
                return new(Event, (sid, pid, details, args or None, kwargs or None, None))
    if n < 4 or n > 6:
        check_length(w, "EVENT", 4, 6)
    sid, pid, details = w[1], w[2], w[3]
    if type(sid) is not int or not 0 < sid <= MAX_ID:
        bad_id("EVENT.Subscription", sid)
    if type(pid) is not int or not 0 < pid <= MAX_ID:
        bad_id("EVENT.Publication", pid)
    if type(details) is not dict or details:
        check_dict(details, "EVENT.Details", _C_EVENT)
    if n == 4:
        return new(Event, (sid, pid, details, None, None, None))
    args, kwargs, payload = check_payload(w, 4, "EVENT")
    return new(Event, (sid, pid, details, args, kwargs, payload))


class EventReceived(Message):
    """``[EVENT_RECEIVED, EVENT.Publication|id]`` (Autobahn/Crossbar extension, type 337)."""

    __slots__ = ()
    MESSAGE_TYPE = 337
    NAME = "EVENT_RECEIVED"
    FIELDS = ("publication_id",)
    publication_id: Final[int] = field(0, "Publication ID")

    def __new__(cls, *, publication_id: int) -> EventReceived:
        return build_local(_parse_event_received, [337, publication_id])


@parses(EventReceived)
def _parse_event_received(w: list[Any]) -> EventReceived:
    check_length(w, "EVENT_RECEIVED", 2, 2)
    return new(EventReceived, (check_request_id(w[1], "EVENT_RECEIVED.Publication"),))
