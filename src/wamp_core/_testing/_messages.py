"""Valid messages of every WAMP message type.

:func:`messages` draws any message, :func:`message_of` one class. Options/Details come from
:mod:`._options` (known keys with valid values, plus custom keys); Arguments/ArgumentsKw from
:mod:`._payloads`. The message types with a payload (ABORT aside) also come in the transparent
variant (``payload`` bytes or str, in place of Arguments/ArgumentsKw).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from .._messages import (
    MESSAGE_CLASSES,
    Abort,
    Authenticate,
    Call,
    Cancel,
    Challenge,
    Error,
    Event,
    EventReceived,
    Goodbye,
    Hello,
    Interrupt,
    Invocation,
    Message,
    Publish,
    Published,
    Register,
    Registered,
    Result,
    Subscribe,
    Subscribed,
    Unregister,
    Unregistered,
    Unsubscribe,
    Unsubscribed,
    Welcome,
    Yield,
)
from .._messages._base import ERROR_REQUEST_TYPES
from . import _options as o
from ._payloads import args as args_of, base_serializer, kwargs as kwargs_of
from ._scalars import ids, pattern_uris, texts, uris

__all__ = ["ALL_MESSAGE_CLASSES", "ERROR_REQUEST_TYPES", "messages", "message_of"]

#: Every message class, in type-code order (the 24 spec types plus EVENT_RECEIVED).
ALL_MESSAGE_CLASSES: tuple[type[Message], ...] = tuple(
    MESSAGE_CLASSES[code] for code in sorted(MESSAGE_CLASSES)
)


@st.composite
def _payload(draw: st.DrawFn, serializer: str | None, transparent: bool) -> dict[str, Any]:
    """Keyword arguments for the payload part: ``args``/``kwargs`` (either may be None), or a
    transparent ``payload`` (one draw in five, when allowed)."""
    if transparent and draw(st.integers(0, 4)) == 0:
        return {"payload": draw(st.one_of(st.binary(max_size=40), texts(max_size=40)))}
    return {
        "args": draw(st.one_of(st.none(), args_of(serializer))),
        "kwargs": draw(st.one_of(st.none(), kwargs_of(serializer))),
    }


def _with_payload(
    build: Callable[..., Message],
    serializer: str | None,
    *fields: st.SearchStrategy[Any],
    transparent: bool = True,
) -> st.SearchStrategy[Message]:
    return st.builds(
        lambda payload, *values: build(*values, **payload),
        _payload(serializer, transparent),
        *fields,
    )


@st.composite
def _pattern(
    draw: st.DrawFn, options: st.SearchStrategy[dict[str, Any]]
) -> tuple[dict[str, Any], str]:
    """Options with ``match`` and a URI that suits it (a prefix may end empty, a wildcard may
    have empty components anywhere)."""
    opts = draw(options)
    match = opts.get("match", "exact")
    if match in ("exact", "prefix", "wildcard"):
        return opts, draw(pattern_uris(match))
    return opts, draw(st.one_of(pattern_uris("prefix"), pattern_uris("wildcard")))


def _subscribe() -> st.SearchStrategy[Message]:
    return st.builds(
        lambda rid, pair: Subscribe(request_id=rid, options=pair[0], topic=pair[1]),
        ids(),
        _pattern(o.subscribe_options()),
    )


def _register() -> st.SearchStrategy[Message]:
    return st.builds(
        lambda rid, pair: Register(request_id=rid, options=pair[0], procedure=pair[1]),
        ids(),
        _pattern(o.register_options()),
    )


def _gone(cls: type[Unsubscribed] | type[Unregistered], what: str) -> st.SearchStrategy[Message]:
    """The reply to UNSUBSCRIBE/UNREGISTER, or a revocation (request 0 or an ID, Details)."""
    plain = st.builds(lambda rid: cls(request_id=rid), ids())
    revoked = st.builds(
        lambda rid, details: cls(request_id=rid, details=details),
        st.one_of(st.just(0), ids()),
        o.revocation_details(what),
    )
    return st.one_of(plain, revoked)


@functools.lru_cache(maxsize=16)
def _builders(serializer: str | None) -> dict[type[Message], st.SearchStrategy[Message]]:
    """The strategy of each message class (built once per serializer: strategies are
    immutable, and :mod:`._invalid` asks for one per draw)."""
    base_serializer(serializer)  # an unknown name fails here, not at the first draw
    s = serializer
    return {
        Hello: st.builds(lambda r, d: Hello(realm=r, details=d), uris(), o.hello_details()),
        Welcome: st.builds(
            lambda i, d: Welcome(session_id=i, details=d), ids(), o.welcome_details()
        ),
        Abort: _with_payload(
            lambda d, r, **p: Abort(details=d, reason=r, **p),
            s,
            o.close_details(),
            uris(),
            transparent=False,
        ),
        Challenge: st.builds(
            lambda m, e: Challenge(method=m, extra=e), texts().filter(bool), o.auth_extra()
        ),
        Authenticate: st.builds(
            lambda sig, e: Authenticate(signature=sig, extra=e), texts(), o.auth_extra()
        ),
        Goodbye: st.builds(lambda d, r: Goodbye(details=d, reason=r), o.close_details(), uris()),
        Error: _with_payload(
            lambda t, i, d, e, **p: Error(request_type=t, request_id=i, details=d, error=e, **p),
            s,
            st.sampled_from(sorted(ERROR_REQUEST_TYPES)),
            ids(),
            o.error_details(),
            uris(),
        ),
        Publish: _with_payload(
            lambda i, opts, t, **p: Publish(request_id=i, options=opts, topic=t, **p),
            s,
            ids(),
            o.publish_options(),
            uris(),
        ),
        Published: st.builds(lambda i, p: Published(request_id=i, publication_id=p), ids(), ids()),
        Subscribe: _subscribe(),
        Subscribed: st.builds(
            lambda i, sub: Subscribed(request_id=i, subscription_id=sub), ids(), ids()
        ),
        Unsubscribe: st.builds(
            lambda i, sub: Unsubscribe(request_id=i, subscription_id=sub), ids(), ids()
        ),
        Unsubscribed: _gone(Unsubscribed, "subscription"),
        Event: _with_payload(
            lambda sub, pub, d, **p: Event(subscription_id=sub, publication_id=pub, details=d, **p),
            s,
            ids(),
            ids(),
            o.event_details(),
        ),
        EventReceived: st.builds(lambda p: EventReceived(publication_id=p), ids()),
        Call: _with_payload(
            lambda i, opts, proc, **p: Call(request_id=i, options=opts, procedure=proc, **p),
            s,
            ids(),
            o.call_options(),
            uris(),
        ),
        Cancel: st.builds(
            lambda i, opts: Cancel(request_id=i, options=opts), ids(), o.cancel_options()
        ),
        Result: _with_payload(
            lambda i, d, **p: Result(request_id=i, details=d, **p), s, ids(), o.result_details()
        ),
        Register: _register(),
        Registered: st.builds(
            lambda i, r: Registered(request_id=i, registration_id=r), ids(), ids()
        ),
        Unregister: st.builds(
            lambda i, r: Unregister(request_id=i, registration_id=r), ids(), ids()
        ),
        Unregistered: _gone(Unregistered, "registration"),
        Invocation: _with_payload(
            lambda i, r, d, **p: Invocation(request_id=i, registration_id=r, details=d, **p),
            s,
            ids(),
            ids(),
            o.invocation_details(),
        ),
        Interrupt: st.builds(
            lambda i, opts: Interrupt(request_id=i, options=opts), ids(), o.interrupt_options()
        ),
        Yield: _with_payload(
            lambda i, opts, **p: Yield(request_id=i, options=opts, **p),
            s,
            ids(),
            o.yield_options(),
        ),
    }


def message_of(cls: type[Message], serializer: str | None = None) -> st.SearchStrategy[Message]:
    """Valid instances of message class ``cls`` (e.g. ``message_of(Call)``).

    ``serializer`` widens Arguments/ArgumentsKw to the values that serializer carries
    (:func:`~wamp_core.testing.payload_values`); by default they hold values every serializer
    carries, so every drawn message round-trips through every serializer but ``flatbuffers``
    (schema-bound: it drops Options/Details keys without a schema field and refuses some
    values).
    """
    strategies = _builders(serializer)
    if cls not in strategies:
        raise TypeError(f"not a WAMP message class: {cls!r}")
    return strategies[cls]


def messages(serializer: str | None = None) -> st.SearchStrategy[Message]:
    """Valid instances of any message class (see :func:`message_of`)."""
    strategies = _builders(serializer)
    return st.one_of([strategies[cls] for cls in ALL_MESSAGE_CLASSES])
