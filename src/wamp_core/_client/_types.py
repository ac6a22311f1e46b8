"""Typed options and details, with Autobahn's names.

Options objects turn themselves into the wire dict given the features the router announced
(:meth:`to_options`): a feature the router lacks is never put on the wire. Details objects are
built from what the router sent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field as dc_field
from typing import Any, Final, Literal

from .._errors import LocalProtocolError, SessionClosed
from .._uri import is_valid_id
from ._record import Record, field, new

__all__ = [
    "CallOptions",
    "RegisterOptions",
    "SubscribeOptions",
    "PublishOptions",
    "SessionDetails",
    "CloseDetails",
    "EventDetails",
    "CallDetails",
    "CallResult",
    "RouterFeatures",
    "MAX_TIMEOUT",
    "options_mismatch",
    "check_options",
]

Match = Literal["exact", "prefix", "wildcard"]
Invoke = Literal["single", "roundrobin", "random", "first", "last"]
CancelMode = Literal["skip", "kill", "killnowait"]

_MATCHES = ("exact", "prefix", "wildcard")
#: Largest call timeout in seconds (the wire carries milliseconds; 2**32 - 1 ms, about 49 days).
MAX_TIMEOUT = (2**32 - 1) / 1000
_INVOKES = ("single", "roundrobin", "random", "first", "last")


def options_mismatch(wanted: type, value: object) -> str:
    """Why ``value`` is not a ``wanted`` options object (the text of the error raised).

    A porting user's ``autobahn.wamp.types`` object is named as such, with the import to change:
    a look-alike class from another library would otherwise read "must be X, not X".
    """
    kind = type(value)
    name = wanted.__name__
    text = f"must be {name} (wamp_core.{name}), not {kind.__module__}.{kind.__qualname__}"
    if kind.__module__.split(".")[0] == "autobahn":
        text += (
            f": Autobahn's options objects are not accepted, import {name} from "
            "wamp_anyio, wamp_trio or wamp_core instead"
        )
    return text


def check_options(wanted: type, value: object, where: str) -> None:
    """Raise :class:`TypeError` unless ``value`` is ``None`` or a ``wanted`` options object."""
    # (the exact class first: the drivers check before the session does, on every call)
    if value is not None and type(value) is not wanted and not isinstance(value, wanted):
        raise TypeError(f"{where}: options {options_mismatch(wanted, value)}")


def _unsupported(what: str, feature: str) -> LocalProtocolError:
    return LocalProtocolError(
        f"{what} needs the router feature {feature!r}, which the router did not announce",
        reason="wamp.error.feature_not_supported",
    )


def _check_details_arg(owner: str, name: str | None) -> None:
    if name is not None and (not isinstance(name, str) or not name.isidentifier()):
        raise LocalProtocolError(f"{owner}.details_arg must be a Python identifier: {name!r}")


def _check_flags(options: object, *names: str) -> None:
    """Each of ``names`` (options that go on the wire as they are) is a bool or None: a
    router may drop the whole connection for anything else (Crossbar does)."""
    for name in names:
        value = getattr(options, name)
        if value is not None and type(value) is not bool:
            raise LocalProtocolError(
                f"{type(options).__name__}.{name} must be a bool or None: {value!r}"
            )


def _check_bools(options: object, *names: str) -> None:
    """Each of ``names`` is a bool (a truthy string would have read as true)."""
    for name in names:
        value = getattr(options, name)
        if type(value) is not bool:
            raise LocalProtocolError(f"{type(options).__name__}.{name} must be a bool: {value!r}")


@dataclass(frozen=True, slots=True)
class RouterFeatures:
    """What the router announced in ``WELCOME.Details.roles``."""

    broker: frozenset[str] = frozenset()
    dealer: frozenset[str] = frozenset()
    has_broker: bool = False
    has_dealer: bool = False

    @classmethod
    def from_roles(cls, roles: Mapping[str, Any]) -> RouterFeatures:
        def features(role: str) -> frozenset[str]:
            info = roles.get(role)
            feats = info.get("features") if isinstance(info, dict) else None
            if not isinstance(feats, dict):
                return frozenset()
            names = {k for k, v in feats.items() if v is True}
            # The spec spells it both ways.
            if "call_cancelling" in names:
                names.add("call_canceling")
            return frozenset(names)

        return cls(
            broker=features("broker"),
            dealer=features("dealer"),
            has_broker=isinstance(roles.get("broker"), dict),
            has_dealer=isinstance(roles.get("dealer"), dict),
        )


def _ppt(options: dict[str, Any], ppt: Mapping[str, Any] | None, feats: frozenset[str]) -> None:
    if not ppt:
        return
    if "payload_passthru_mode" not in feats:
        raise _unsupported("payload passthru (ppt_*) options", "payload_passthru_mode")
    for key, value in ppt.items():
        if not key.startswith("ppt_") or not isinstance(value, str):
            raise LocalProtocolError(f"invalid payload passthru option {key!r}={value!r}")
        options[key] = value


@dataclass(frozen=True, slots=True, kw_only=True)
class CallOptions:
    """Options of a call.

    ``timeout`` is in seconds (float). It goes on the wire as integer milliseconds only when the
    dealer announces ``call_timeout`` and ``cancel_mode`` is not ``skip`` (a dealer's deadline
    interrupts the callee, which ``skip`` promises not to do); drivers also enforce it locally.
    ``on_progress`` asks for progressive results (``receive_progress``). ``cancel_mode`` is the
    CANCEL mode a driver uses when the caller gives up (cancellation, local timeout); it is not
    sent with the CALL.
    """

    timeout: float | None = None
    on_progress: Callable[..., Any] | None = None
    receive_progress: bool = False
    disclose_me: bool | None = None
    ppt: Mapping[str, str] | None = None
    details: bool = False
    cancel_mode: CancelMode = "kill"

    def __post_init__(self) -> None:
        _check_flags(self, "disclose_me")
        _check_bools(self, "receive_progress", "details")
        if self.on_progress is not None and not callable(self.on_progress):
            raise LocalProtocolError(
                f"CallOptions.on_progress must be callable: {self.on_progress!r}"
            )
        if self.cancel_mode not in ("skip", "kill", "killnowait"):
            raise LocalProtocolError(
                f"CallOptions.cancel_mode must be skip, kill or killnowait: {self.cancel_mode!r}"
            )
        if self.timeout is not None and (
            isinstance(self.timeout, bool)
            or not isinstance(self.timeout, (int, float))
            or not 0 < self.timeout <= MAX_TIMEOUT
        ):
            raise LocalProtocolError(
                f"CallOptions.timeout must be > 0 and <= {MAX_TIMEOUT} seconds: {self.timeout!r}"
            )

    @property
    def wants_progress(self) -> bool:
        return self.receive_progress or self.on_progress is not None

    def to_options(self, dealer: frozenset[str]) -> dict[str, Any]:
        options: dict[str, Any] = {}
        if self.timeout is not None and "call_timeout" in dealer and self.cancel_mode != "skip":
            options["timeout"] = max(1, round(self.timeout * 1000))
        if self.wants_progress and "progressive_call_results" in dealer:
            options["receive_progress"] = True
        if self.disclose_me is not None and "caller_identification" in dealer:
            options["disclose_me"] = self.disclose_me
        _ppt(options, self.ppt, dealer)
        return options


@dataclass(frozen=True, slots=True, kw_only=True)
class RegisterOptions:
    """Options of a registration (``match``, ``invoke``, ``concurrency``...).

    ``details=True`` passes the handler a :class:`CallDetails` as keyword ``details``;
    ``details_arg="name"`` (Autobahn's spelling) as keyword ``name``. Neither goes on the wire.
    """

    match: Match = "exact"
    invoke: Invoke = "single"
    concurrency: int | None = None
    force_reregister: bool = False
    disclose_caller: bool | None = None
    details: bool = False
    details_arg: str | None = None

    def __post_init__(self) -> None:
        _check_details_arg("RegisterOptions", self.details_arg)
        _check_flags(self, "disclose_caller")
        if self.match not in _MATCHES:
            raise LocalProtocolError(f"RegisterOptions.match must be one of {_MATCHES}")
        if self.invoke not in _INVOKES:
            raise LocalProtocolError(f"RegisterOptions.invoke must be one of {_INVOKES}")
        if self.concurrency is not None and (
            type(self.concurrency) is not int or self.concurrency < 1
        ):
            raise LocalProtocolError("RegisterOptions.concurrency must be an int >= 1")

    def to_options(self, dealer: frozenset[str]) -> dict[str, Any]:
        options: dict[str, Any] = {}
        if self.match != "exact":
            if "pattern_based_registration" not in dealer:
                raise _unsupported(f"match={self.match!r}", "pattern_based_registration")
            options["match"] = self.match
        if self.invoke != "single":
            if "shared_registration" not in dealer:
                raise _unsupported(f"invoke={self.invoke!r}", "shared_registration")
            options["invoke"] = self.invoke
        if self.concurrency is not None:
            options["concurrency"] = self.concurrency
        if self.force_reregister:
            options["force_reregister"] = True
        if self.disclose_caller is not None:
            options["disclose_caller"] = self.disclose_caller
        return options


@dataclass(frozen=True, slots=True, kw_only=True)
class SubscribeOptions:
    """Options of a subscription (``match``, ``get_retained``).

    Local, not on the wire: ``details``/``details_arg`` as for :class:`RegisterOptions` (an
    :class:`EventDetails`); ``queue_size``, how many received events may wait for the handler
    (a driver drops newer ones beyond it, and says so; the rest of the read from the network
    that fills it is kept, up to four times the size more); ``concurrency``, how many events the
    handler may process at once (1: one at a time, in publication order).
    """

    match: Match = "exact"
    get_retained: bool | None = None
    details: bool = False
    details_arg: str | None = None
    queue_size: int = 1024
    concurrency: int = 1

    def __post_init__(self) -> None:
        _check_details_arg("SubscribeOptions", self.details_arg)
        _check_flags(self, "get_retained")
        for name in ("queue_size", "concurrency"):
            value = getattr(self, name)
            if type(value) is not int or value < 1:
                raise LocalProtocolError(f"SubscribeOptions.{name} must be an int >= 1: {value!r}")
        if self.match not in _MATCHES:
            raise LocalProtocolError(f"SubscribeOptions.match must be one of {_MATCHES}")

    def to_options(self, broker: frozenset[str]) -> dict[str, Any]:
        options: dict[str, Any] = {}
        if self.match != "exact":
            if "pattern_based_subscription" not in broker:
                raise _unsupported(f"match={self.match!r}", "pattern_based_subscription")
            options["match"] = self.match
        if self.get_retained is not None:
            if "event_retention" not in broker:
                raise _unsupported("get_retained", "event_retention")
            options["get_retained"] = self.get_retained
        return options


def _ids(name: str, value: int | Sequence[int] | None) -> list[int] | None:
    if value is None:
        return None
    items = [value] if isinstance(value, int) else _listed(value)
    if items is None or not all(is_valid_id(i) for i in items):
        raise LocalProtocolError(f"PublishOptions.{name} must be session IDs: {value!r}")
    return items


def _strs(name: str, value: str | Sequence[str] | None) -> list[str] | None:
    if value is None:
        return None
    items = [value] if isinstance(value, str) else _listed(value)
    if items is None or not all(isinstance(i, str) for i in items):
        raise LocalProtocolError(f"PublishOptions.{name} must be strings: {value!r}")
    return items


def _listed(value: object) -> list[Any] | None:
    """A list or tuple's items; ``None`` for anything else (a float, a set, a dict)."""
    return list(value) if isinstance(value, list | tuple) else None


_LISTS = ("exclude", "eligible")
_STR_LISTS = ("exclude_authid", "exclude_authrole", "eligible_authid", "eligible_authrole")


@dataclass(frozen=True, slots=True, kw_only=True)
class PublishOptions:
    """Options of a publication. Scalars for the list options are accepted and normalized."""

    acknowledge: bool = False
    exclude_me: bool | None = None
    exclude: int | Sequence[int] | None = None
    exclude_authid: str | Sequence[str] | None = None
    exclude_authrole: str | Sequence[str] | None = None
    eligible: int | Sequence[int] | None = None
    eligible_authid: str | Sequence[str] | None = None
    eligible_authrole: str | Sequence[str] | None = None
    retain: bool | None = None
    disclose_me: bool | None = None
    ppt: Mapping[str, str] | None = None

    def __post_init__(self) -> None:
        _check_flags(self, "exclude_me", "retain", "disclose_me")
        _check_bools(self, "acknowledge")  # ("no" would have asked for an acknowledgement)
        for name in _LISTS:  # here, not at publish()
            _ids(name, getattr(self, name))
        for name in _STR_LISTS:
            _strs(name, getattr(self, name))

    def to_options(self, broker: frozenset[str]) -> dict[str, Any]:
        options: dict[str, Any] = {}
        if self.acknowledge:
            options["acknowledge"] = True
        if self.exclude_me is not None:
            if not self.exclude_me and "publisher_exclusion" not in broker:
                raise _unsupported("exclude_me=False", "publisher_exclusion")
            options["exclude_me"] = self.exclude_me
        lists = {
            "exclude": _ids("exclude", self.exclude),
            "eligible": _ids("eligible", self.eligible),
            "exclude_authid": _strs("exclude_authid", self.exclude_authid),
            "exclude_authrole": _strs("exclude_authrole", self.exclude_authrole),
            "eligible_authid": _strs("eligible_authid", self.eligible_authid),
            "eligible_authrole": _strs("eligible_authrole", self.eligible_authrole),
        }
        for key, value in lists.items():
            if value is not None:
                if "subscriber_blackwhite_listing" not in broker:
                    raise _unsupported(key, "subscriber_blackwhite_listing")
                options[key] = value
        if self.retain is not None:
            if "event_retention" not in broker:
                raise _unsupported("retain", "event_retention")
            options["retain"] = self.retain
        if self.disclose_me is not None and "publisher_identification" in broker:
            options["disclose_me"] = self.disclose_me
        _ppt(options, self.ppt, broker)
        return options


@dataclass(frozen=True, slots=True)
class SessionDetails:
    """What the router told us when the session joined."""

    realm: str
    session: int
    authid: str | None = None
    authrole: str | None = None
    authmethod: str | None = None
    authprovider: str | None = None
    authextra: dict[str, Any] = dc_field(default_factory=dict)
    serializer: str | None = None
    resumed: bool = False
    resumable: bool = False
    resume_token: str | None = None
    router_roles: dict[str, Any] = dc_field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CloseDetails:
    """Why a session ended. ``local`` is True when this side ended it."""

    REASON_DEFAULT = "wamp.close.normal"
    REASON_TRANSPORT_LOST = "wamp.close.transport_lost"

    reason: str
    message: str | None = None
    local: bool = False

    #: Characters of the peer's message quoted in an error's text (an ABORT or GOODBYE
    #: message can be as large as a message may be); ``message`` itself is kept whole.
    QUOTE_LIMIT = 200

    def error(self) -> SessionClosed:
        """The error every request and waiter of the ended session gets: the reason, and the
        message cut to :attr:`QUOTE_LIMIT` characters."""
        text = f": {quote(self.message, self.QUOTE_LIMIT)}" if self.message else ""
        return SessionClosed(f"the session ended ({self.reason}){text}", reason=self.reason)


def quote(text: str, limit: int) -> str:
    """``text``, cut to ``limit`` characters (a peer's text in one of our messages)."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _transaction_hash(extra: dict[str, Any]) -> str | None:
    value = extra.get("transaction_hash")
    return value if isinstance(value, str) else None


class EventDetails(Record):
    """Details of a received event; ``topic`` is the concrete topic (even for pattern matches).

    ``extra`` holds EVENT.Details as the router sent them."""

    __slots__ = ()
    _fields = (
        "subscription", "publication", "topic", "publisher", "publisher_authid",
        "publisher_authrole", "retained", "extra",
    )  # fmt: skip
    subscription: Final[int] = field(0, "Subscription ID")
    publication: Final[int] = field(1, "Publication ID")
    topic: Final[str | None] = field(2, "The concrete topic")
    publisher: Final[int | None] = field(3, "Publisher session ID (when disclosed)")
    publisher_authid: Final[str | None] = field(4, "Publisher authid (when disclosed)")
    publisher_authrole: Final[str | None] = field(5, "Publisher authrole (when disclosed)")
    retained: Final[bool] = field(6, "A retained event")
    extra: Final[dict[str, Any]] = field(7, "EVENT.Details")

    def __new__(  # noqa: PLR0917 - positional, as the dataclass it replaced
        cls,
        subscription: int,
        publication: int,
        topic: str | None = None,
        publisher: int | None = None,
        publisher_authid: str | None = None,
        publisher_authrole: str | None = None,
        retained: bool = False,
        extra: dict[str, Any] | None = None,
    ) -> EventDetails:
        return new(
            cls,
            (
                subscription, publication, topic, publisher, publisher_authid,
                publisher_authrole, retained, {} if extra is None else extra,
            ),
        )  # fmt: skip

    @property
    def transaction_hash(self) -> str | None:
        """Autobahn's ``details.transaction_hash``: the publisher's, as the router forwards it."""
        return _transaction_hash(self.extra)


class CallDetails(Record):
    """Details of an invocation. ``procedure`` is the concrete URI (also for pattern registrations).

    ``receive_progress``: the caller accepts progressive results. ``progress``: more chunks of a
    progressive call invocation follow. ``timeout`` in seconds when the dealer forwarded one.
    ``extra`` holds INVOCATION.Details as the router sent them.
    """

    __slots__ = ()
    _fields = (
        "registration", "procedure", "caller", "caller_authid", "caller_authrole",
        "receive_progress", "progress", "timeout", "extra",
    )  # fmt: skip
    registration: Final[int] = field(0, "Registration ID")
    procedure: Final[str | None] = field(1, "The concrete procedure URI")
    caller: Final[int | None] = field(2, "Caller session ID (when disclosed)")
    caller_authid: Final[str | None] = field(3, "Caller authid (when disclosed)")
    caller_authrole: Final[str | None] = field(4, "Caller authrole (when disclosed)")
    receive_progress: Final[bool] = field(5, "The caller accepts progressive results")
    progress: Final[bool] = field(6, "More chunks of a progressive call invocation follow")
    timeout: Final[float | None] = field(7, "Timeout in seconds, when the dealer forwarded one")
    extra: Final[dict[str, Any]] = field(8, "INVOCATION.Details")

    def __new__(  # noqa: PLR0917 - positional, as the dataclass it replaced
        cls,
        registration: int,
        procedure: str | None = None,
        caller: int | None = None,
        caller_authid: str | None = None,
        caller_authrole: str | None = None,
        receive_progress: bool = False,
        progress: bool = False,
        timeout: float | None = None,
        extra: dict[str, Any] | None = None,
    ) -> CallDetails:
        return new(
            cls,
            (
                registration, procedure, caller, caller_authid, caller_authrole,
                receive_progress, progress, timeout, {} if extra is None else extra,
            ),
        )  # fmt: skip

    @property
    def transaction_hash(self) -> str | None:
        """Autobahn's ``details.transaction_hash``: the caller's, as the router forwards it."""
        return _transaction_hash(self.extra)


class CallResult(Record):
    """A call result: positional and keyword results plus the RESULT details.

    Built as Autobahn builds it, ``CallResult(*results, **kwresults)`` (what a procedure
    returns for several or keyword results: ``return CallResult(1, 2, unit="m")``; every
    keyword is a keyword result); :meth:`build` sets every field. Autobahn's attribute names
    ``results``, ``kwresults`` and ``callee``... read the same values.
    """

    __slots__ = ()
    _fields = ("args", "kwargs", "progress", "details", "payload")
    args: Final[list[Any]] = field(0, "Positional results")
    kwargs: Final[dict[str, Any]] = field(1, "Keyword results")
    progress: Final[bool] = field(2, "A progressive (intermediate) result")
    details: Final[dict[str, Any]] = field(3, "RESULT.Details")
    #: A transparent (passthru/E2E) payload, in place of args/kwargs.
    payload: Final[bytes | str | None] = field(4, "A transparent (passthru/E2E) payload")

    def __new__(cls, *results: Any, **kwresults: Any) -> CallResult:
        return new(cls, (list(results), kwresults, False, {}, None))

    @classmethod
    def build(
        cls,
        args: Sequence[Any] | None = None,
        kwargs: Mapping[str, Any] | None = None,
        *,
        progress: bool = False,
        details: Mapping[str, Any] | None = None,
        payload: bytes | str | None = None,
    ) -> CallResult:
        """A result with every field given (as the session builds the ones it receives)."""
        return new(
            cls,
            (
                [] if args is None else list(args),
                {} if kwargs is None else dict(kwargs),
                progress,
                {} if details is None else dict(details),
                payload,
            ),
        )

    @property
    def results(self) -> tuple[Any, ...]:
        """Autobahn's name for :attr:`args` (a tuple there)."""
        return tuple(self.args)

    @property
    def kwresults(self) -> dict[str, Any]:
        """Autobahn's name for :attr:`kwargs`."""
        return self.kwargs

    @property
    def callee(self) -> int | None:
        """The callee's session ID, when the router disclosed it (``details["callee"]``)."""
        return self.details.get("callee")

    @property
    def callee_authid(self) -> str | None:
        return self.details.get("callee_authid")

    @property
    def callee_authrole(self) -> str | None:
        return self.details.get("callee_authrole")

    @property
    def value(self) -> Any:
        """The single positional result (or None), the common case for procedures."""
        if self.kwargs or len(self.args) > 1:
            return self
        return self.args[0] if self.args else None
