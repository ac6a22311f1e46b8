"""Request outcomes and invocation answers, shared by every driver (pure, no I/O).

A driver keeps one :class:`RequestTracker` per session. When a command returns a request ID it
:meth:`~RequestTracker.add`\\ s a waiter of its own kind (an ``anyio.Event``, a trio event, a
future...); it passes every event the connection emits to :meth:`~RequestTracker.feed`, which
returns the waiters that are now resolved with their :class:`Outcome`. The driver only wakes
them: which event ends which request, and with what value or exception, is decided here.

:func:`answer_invocation` is the rule for answering an INVOCATION from a handler's return value
or exception.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, Final, Generic, TypeVar

from .._client import _events as ev
from .._client._record import Record, field, new
from .._client._session import ClientSession
from .._client._types import CallResult, CloseDetails
from .._errors import ApplicationError, EncodingError, LocalProtocolError, SessionClosed
from .._framing._events import Closed
from ._defined import DefinedErrors

__all__ = [
    "Outcome",
    "RequestTracker",
    "answer_invocation",
    "invocation_error",
    "invocation_result",
    "is_answer",
    "refusal_uri",
    "sole_error",
]

W = TypeVar("W")

log = logging.getLogger(__name__)

_RUNTIME_ERROR = ApplicationError.RUNTIME_ERROR


class Outcome(Record):
    """How one request ended: ``value`` on success, else ``error``.

    The value is what the driver's API returns: a call's :attr:`CallResult.value` (the single
    positional result, or the whole :class:`CallResult`), a publication, subscription or
    registration ID for the others. Immutable and tuple-backed like the core's events (one is
    built per call result).
    """

    __slots__ = ()
    _fields = ("value", "error")
    value: Final[Any] = field(0, "The request's value (on success)")
    error: Final[BaseException | None] = field(
        1,
        "What ended it otherwise: an ApplicationError (or the class defined for its URI), "
        "SessionClosed",
    )

    def __new__(cls, value: Any = None, error: BaseException | None = None) -> Outcome:
        return new(cls, (value, error))

    @property
    def ok(self) -> bool:
        return self.error is None

    def unwrap(self) -> Any:
        """The value, or raise the error."""
        if self.error is not None:
            raise self.error
        return self.value


def _success_value(event: ev.SessionEvent) -> tuple[int, Any] | None:
    """(request ID, value) for an event that ends a request successfully (a call's value is
    its whole :class:`CallResult` here; :meth:`RequestTracker.feed` narrows it)."""
    if isinstance(event, ev.CallSucceeded):
        return event.request_id, event.result
    if isinstance(event, ev.Published):
        return event.request_id, event.publication_id
    if isinstance(event, (ev.Subscribed, ev.Unsubscribed)):
        return event.request_id, event.subscription_id
    if isinstance(event, (ev.Registered, ev.Unregistered)):
        return event.request_id, event.registration_id
    return None


def _close_error(event: object) -> SessionClosed | None:
    """The error pending requests get when ``event`` ends the session (or transport)."""
    details: CloseDetails | None = None
    if isinstance(event, (ev.Left, ev.Aborted)):
        details = event.details
    elif isinstance(event, Closed):
        return SessionClosed(
            f"the transport closed: {event.reason or 'connection closed'}",
            reason=CloseDetails.REASON_TRANSPORT_LOST,
        )
    else:
        return None
    return details.error()


class RequestTracker(Generic[W]):
    """Pending requests of one session and the waiter of each.

    Every request ends exactly once: with the core's success event, its ``RequestFailed``, or,
    as a safety net, with :class:`SessionClosed` when the session or the transport ends while
    it is still here (the core fails pending requests itself; the tracker never lets a waiter
    outlive the session). After that, :meth:`add` refuses with the same error.
    """

    def __init__(self) -> None:
        self._pending: dict[int, tuple[ev.RequestKind, W, bool]] = {}
        self.closed: SessionClosed | None = None
        #: The session's exception classes defined for error URIs: an error with such a URI
        #: ends its request with the class instead of the ApplicationError.
        self.defined: DefinedErrors | None = None

    def __len__(self) -> int:
        return len(self._pending)

    def __contains__(self, request_id: object) -> bool:
        return request_id in self._pending

    def add(
        self, request_id: int, kind: ev.RequestKind, waiter: W, *, whole_result: bool = False
    ) -> None:
        """Track ``waiter`` for the request the core just issued as ``request_id``.

        A call's outcome value is :attr:`CallResult.value` (the single result, or the whole
        :class:`CallResult`); with ``whole_result`` always the :class:`CallResult` (Autobahn's
        ``CallOptions(details=True)``, and progressive calls).
        """
        if self.closed is not None:
            raise self.closed
        if request_id in self._pending:
            raise LocalProtocolError(f"request {request_id} is already pending")
        self._pending[request_id] = (kind, waiter, whole_result)

    def get(self, request_id: int) -> W | None:
        """The waiter of a pending request (e.g. for a call's progressive results)."""
        entry = self._pending.get(request_id)
        return None if entry is None else entry[1]

    def discard(self, request_id: int) -> W | None:
        """Stop tracking a request (its waiter gave up); a late answer is then ignored."""
        entry = self._pending.pop(request_id, None)
        return None if entry is None else entry[1]

    def feed(self, event: object) -> list[tuple[W, Outcome]]:
        """The waiters ``event`` resolves (none for events that end no request)."""
        if type(event) is ev.CallSucceeded:  # the hot path (every call's result) first
            entry = self._pending.pop(event.request_id, None)
            if entry is None:
                return []
            result = event.result
            return [(entry[1], new(Outcome, (result if entry[2] else result.value, None)))]
        if isinstance(event, ev.RequestFailed):
            entry = self._pending.pop(event.request_id, None)
            if entry is None:
                return []
            failure: BaseException = event.error
            if self.defined and isinstance(failure, ApplicationError):
                failure = self.defined.exception(failure)
            return [(entry[1], Outcome(error=failure))]
        if isinstance(event, ev.SessionEvent):
            done = _success_value(event)
            if done is not None:
                entry = self._pending.pop(done[0], None)
                if entry is None:
                    return []
                value = done[1]
                if isinstance(value, CallResult) and not entry[2]:
                    value = value.value
                return [(entry[1], Outcome(value=value))]
        error = _close_error(event)
        if error is not None:
            return self.close(error)
        return []

    def feed_all(self, events: Iterable[object]) -> list[tuple[W, Outcome]]:
        """:meth:`feed` for each event, in order."""
        resolved: list[tuple[W, Outcome]] = []
        for event in events:
            resolved.extend(self.feed(event))
        return resolved

    def close(self, error: SessionClosed | None = None) -> list[tuple[W, Outcome]]:
        """The session is over: fail every request still pending; refuse new ones."""
        if self.closed is None:
            self.closed = error or SessionClosed(
                "the session ended", reason=CloseDetails.REASON_TRANSPORT_LOST
            )
        failed = [(entry[1], Outcome(error=self.closed)) for entry in self._pending.values()]
        self._pending.clear()
        return failed


# --------------------------------------------------------------------------------------------
# Answering invocations


def _autobahns(cls: type, module: str, name: str) -> bool:
    """Whether ``cls`` is (or derives from) Autobahn|Python's ``module.name``: a porting
    user's handler may still return or raise Autobahn's objects, whose meaning is plain."""
    return any(c.__name__ == name and c.__module__ == module for c in cls.__mro__)


def invocation_result(value: Any) -> tuple[list[Any], dict[str, Any]]:
    """YIELD args/kwargs for a handler's return value.

    ``None`` -> no arguments; a :class:`CallResult` (or Autobahn's
    ``autobahn.wamp.types.CallResult``) -> its args and kwargs; anything else -> one positional
    result.
    """
    if value is None:
        return [], {}
    if isinstance(value, CallResult):
        return list(value.args), dict(value.kwargs)
    if type(value).__name__ == "CallResult" and _autobahns(
        type(value), "autobahn.wamp.types", "CallResult"
    ):
        return list(getattr(value, "results", ()) or ()), dict(
            getattr(value, "kwresults", {}) or {}
        )
    return [value], {}


def sole_error(exc: BaseException) -> BaseException:
    """The one exception an exception group of one holds (through nested groups of one), else
    ``exc``: an ``ApplicationError`` raised in a handler's task group (anyio and trio put a
    child's error in a group) is the handler's answer, as if raised by the handler."""
    while True:  # (read by shape: Python 3.10 has only the backport's class)
        inner = getattr(exc, "exceptions", None)
        if type(inner) is not tuple or len(inner) != 1 or not hasattr(exc, "split"):
            return exc
        if not isinstance(inner[0], BaseException):
            return exc
        exc = inner[0]


def is_answer(exc: BaseException) -> bool:
    """Whether a handler's exception is an answer (an :class:`ApplicationError`, ours or
    Autobahn's, with its error URI) rather than a failure to report."""
    if not isinstance(getattr(exc, "error", None), str):
        return False  # (also a subclass whose __init__ skipped ours: it has no URI)
    return isinstance(exc, ApplicationError) or _autobahns(
        type(exc), "autobahn.wamp.exception", "ApplicationError"
    )


def invocation_error(
    exc: BaseException, defined: DefinedErrors | None = None
) -> tuple[str, list[Any], dict[str, Any]]:
    """ERROR URI, args and kwargs for an exception a handler raised.

    An :class:`ApplicationError` (or Autobahn's ``autobahn.wamp.exception.ApplicationError``)
    goes out as it is (URI, args, kwargs); an exception of a class ``defined`` for an error URI
    as that URI with its args (and ``kwargs`` attribute); any other exception becomes
    ``wamp.error.runtime_error`` with its message only (never a traceback or repr). An
    exception group holding one exception answers as that exception (:func:`sole_error`).
    """
    exc = sole_error(exc)
    if is_answer(exc):
        answer: Any = exc
        return answer.error, list(answer.args), dict(getattr(answer, "kwargs", None) or {})
    if defined:
        mapped = defined.answer(exc)
        if mapped is not None:
            return mapped
    try:
        text = str(exc)
    except Exception:  # a broken __str__ must not take the session down
        text = type(exc).__name__
    return _RUNTIME_ERROR, [text], {}


def refusal_uri(exc: LocalProtocolError) -> str:
    """The error URI a caller gets for an answer that could not go: ``invalid_payload`` when
    it cannot be encoded (as Autobahn answers), else the refusal's own (``payload_size_exceeded``,
    ``invalid_uri``)."""
    if isinstance(exc, EncodingError):
        return ApplicationError.INVALID_PAYLOAD
    return exc.reason or _RUNTIME_ERROR


def answer_invocation(
    session: ClientSession,
    request_id: int,
    *,
    value: Any = None,
    error: BaseException | None = None,
    logger: logging.Logger | None = None,
    defined: DefinedErrors | None = None,
) -> bool:
    """Answer invocation ``request_id`` with a handler's return ``value`` or its ``error``.

    Returns True when an answer was queued, False when the invocation is already closed (the
    session ended, or the caller's ``killnowait``). An answer that cannot go is replaced by an
    ERROR, logged here: too large, ``wamp.error.payload_size_exceeded``; not encodable,
    ``wamp.error.invalid_payload`` (as Autobahn answers); an invalid error URI,
    ``wamp.error.invalid_uri``; a value or error that fails while it is read (a broken
    sequence, an exception without its attributes), ``wamp.error.runtime_error``. If even that
    cannot go, nothing is sent and False is returned. The replacement is logged on
    ``logger`` (the drivers pass ``wamp_core.driver``), at ERROR.
    """
    failure: Exception
    try:
        if error is None:
            args, kwargs = invocation_result(value)
            return session.yield_result(request_id, args, kwargs)
        uri, args, kwargs = invocation_error(error, defined)
        return session.yield_error(request_id, uri, args, kwargs)
    except SessionClosed:
        raise
    except LocalProtocolError as exc:
        if not session.is_open_invocation(request_id):
            return False  # closed (its ID long forgotten): nothing to answer, nothing wrong
        uri, text, failure = refusal_uri(exc), exc.message, exc
    except Exception as exc:
        uri, text = _RUNTIME_ERROR, f"the procedure's answer failed: {type(exc).__name__}"
        failure = exc
    (logger or log).error(
        "the answer to invocation %d could not go out; the caller gets %s", request_id, uri,
        exc_info=failure,
    )  # fmt: skip
    try:
        return session.yield_error(request_id, uri, [text])
    except LocalProtocolError:
        return False
