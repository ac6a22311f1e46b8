"""Hypothesis strategies for valid WAMP messages of every type (shared by the test modules).

``messages()`` draws any message; ``message_of(cls)`` one class. Options/Details get known keys
with values of the right type plus unknown (``_custom``) keys; args/kwargs get nested values
every serializer carries losslessly: ``None``, bools, 64-bit integers, finite floats, text that
does not start with U+0000 (JSON would read it as binary), ``bytes``, lists and str-keyed dicts.
Payload messages also come in the transparent-payload variant (``payload`` bytes or str).
"""

from __future__ import annotations

import string
from typing import Any

from hypothesis import strategies as st

from wamp_core import MAX_ID, is_valid_uri
from wamp_core.messages import (
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

__all__ = [
    "ALL_MESSAGE_CLASSES",
    "ids",
    "json_values",
    "message_of",
    "messages",
    "texts",
    "uris",
]

# -- scalars ---------------------------------------------------------------------------------

ids = st.integers(min_value=1, max_value=MAX_ID)

#: Any text except strings starting with U+0000 (the JSON binary marker).
texts = st.text(max_size=20).filter(lambda s: not s.startswith("\x00"))

_SIMPLE_COMPONENT = st.text(
    alphabet=string.ascii_lowercase + string.digits + "_", min_size=1, max_size=8
)
_ANY_COMPONENT = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp"), blacklist_characters=".#"
    ),
    min_size=1,
    max_size=6,
)
_COMPONENT = st.one_of(_SIMPLE_COMPONENT, _ANY_COMPONENT)

#: Valid (loose, non-empty components) URIs.
uris = st.lists(_COMPONENT, min_size=1, max_size=4).map(".".join).filter(is_valid_uri)
#: URIs with possibly empty components (wildcard patterns).
pattern_uris = (
    st.lists(st.one_of(_COMPONENT, st.just("")), min_size=1, max_size=4)
    .map(".".join)
    .filter(lambda u: is_valid_uri(u, allow_empty=True))
)

_int64 = st.integers(min_value=-(2**63), max_value=2**64 - 1)
_floats = st.floats(allow_nan=False, allow_infinity=False)

_scalars = st.one_of(st.none(), st.booleans(), _int64, _floats, texts, st.binary(max_size=24))

#: Nested values every serializer round-trips exactly (bytes included).
json_values: st.SearchStrategy[Any] = st.recursive(
    _scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(texts, children, max_size=4)
    ),
    max_leaves=12,
)

_custom_keys = st.text(
    alphabet=string.ascii_lowercase + string.digits + "_", min_size=3, max_size=10
).map(lambda s: "_" + s)
_unknown = st.dictionaries(_custom_keys, json_values, max_size=2)
_str_lists = st.lists(texts, max_size=3)
_id_lists = st.lists(ids, max_size=3)
_forward_for = st.lists(
    st.fixed_dictionaries({"session": ids, "authid": texts, "authrole": texts}), max_size=2
)
_str_dicts = st.dictionaries(texts, json_values, max_size=3)


def _dict_with(known: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """A dict with any subset of ``known`` keys plus unknown custom keys."""
    return st.builds(lambda a, b: {**b, **a}, st.fixed_dictionaries({}, optional=known), _unknown)


_PAYLOAD_KEYS: dict[str, st.SearchStrategy[Any]] = {
    "enc_algo": st.sampled_from(["cryptobox", "mqtt", "xbr", "x_custom"]),
    "enc_serializer": st.sampled_from(["json", "msgpack", "cbor", "ubjson", "flatbuffers"]),
    "enc_key": st.one_of(st.binary(max_size=32), texts),
    "ppt_scheme": texts,
    "ppt_serializer": texts,
    "ppt_cipher": texts,
    "ppt_keyid": texts,
    "forward_for": _forward_for,
    "transaction_hash": texts,
}
_CALLEE_KEYS: dict[str, st.SearchStrategy[Any]] = {
    "callee": ids,
    "callee_authid": texts,
    "callee_authrole": texts,
}

# -- payload (args/kwargs or transparent payload) --------------------------------------------

_args = st.one_of(st.none(), st.lists(json_values, max_size=4))
_kwargs = st.one_of(st.none(), st.dictionaries(texts, json_values, max_size=4))


@st.composite
def _payload(draw: st.DrawFn, transparent: bool = True) -> dict[str, Any]:
    if transparent and draw(st.integers(0, 4)) == 0:
        return {"payload": draw(st.one_of(st.binary(max_size=40), texts))}
    return {"args": draw(_args), "kwargs": draw(_kwargs)}


# -- per message type ------------------------------------------------------------------------


def _roles(names: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(
        st.sampled_from(names),
        st.fixed_dictionaries(
            {}, optional={"features": st.dictionaries(_custom_keys, st.booleans(), max_size=3)}
        ),
        min_size=1,
    )


_hello_details = st.builds(
    lambda roles, rest: {**rest, "roles": roles},
    _roles(["caller", "callee", "publisher", "subscriber"]),
    _dict_with(
        {
            "agent": texts,
            "authmethods": _str_lists,
            "authid": texts,
            "authrole": texts,
            "authextra": _str_dicts,
            "resumable": st.booleans(),
        }
    ),
)
_welcome_details = st.builds(
    lambda roles, rest: {**rest, "roles": roles},
    _roles(["broker", "dealer"]),
    _dict_with(
        {
            "agent": texts,
            "realm": texts,
            "authid": texts,
            "authrole": texts,
            "authmethod": texts,
            "authprovider": texts,
            "authextra": _str_dicts,
            "resumed": st.booleans(),
            "resumable": st.booleans(),
        }
    ),
)
_close_details = _dict_with({"message": texts})
_match = st.sampled_from(["exact", "prefix", "wildcard"])


@st.composite
def _pattern_options(
    draw: st.DrawFn, known: dict[str, st.SearchStrategy[Any]]
) -> tuple[dict[str, Any], str]:
    options = draw(_dict_with(known))
    match = options.get("match", "exact")
    uri = draw(uris if match == "exact" else pattern_uris)
    return options, uri


@st.composite
def _subscribe(draw: st.DrawFn) -> Subscribe:
    options, topic = draw(
        _pattern_options(
            {
                "match": _match,
                "get_retained": st.booleans(),
                "nkey": texts,
                "forward_for": _forward_for,
            }
        )
    )
    return Subscribe(request_id=draw(ids), options=options, topic=topic)


@st.composite
def _register(draw: st.DrawFn) -> Register:
    options, procedure = draw(
        _pattern_options(
            {
                "match": _match,
                "invoke": st.sampled_from(["single", "roundrobin", "random", "first", "last"]),
                "disclose_caller": st.booleans(),
                "concurrency": st.integers(1, 2**31),
                "force_reregister": st.booleans(),
                "forward_for": _forward_for,
            }
        )
    )
    return Register(request_id=draw(ids), options=options, procedure=procedure)


def _gone(cls: type[Unsubscribed] | type[Unregistered], key: str) -> st.SearchStrategy[Message]:
    plain = st.builds(lambda rid: cls(request_id=rid), ids)
    revoked = st.builds(
        lambda rid, details: cls(request_id=rid, details=details),
        st.one_of(st.just(0), ids),
        _dict_with({key: ids, "reason": texts}),
    )
    return st.one_of(plain, revoked)


_publish_options = _dict_with(
    {
        **_PAYLOAD_KEYS,
        "acknowledge": st.booleans(),
        "exclude_me": st.booleans(),
        "exclude": _id_lists,
        "exclude_authid": _str_lists,
        "exclude_authrole": _str_lists,
        "eligible": _id_lists,
        "eligible_authid": _str_lists,
        "eligible_authrole": _str_lists,
        "retain": st.booleans(),
        "disclose_me": st.booleans(),
        "rkey": texts,
    }
)
_event_details = _dict_with(
    {
        **_PAYLOAD_KEYS,
        "publisher": ids,
        "publisher_authid": texts,
        "publisher_authrole": texts,
        "topic": uris,
        "retained": st.booleans(),
        "trustlevel": st.integers(0, 2**31),
        "x_acknowledged_delivery": st.booleans(),
    }
)
_call_options = _dict_with(
    {
        **_PAYLOAD_KEYS,
        "receive_progress": st.booleans(),
        "progress": st.booleans(),
        "timeout": st.integers(0, 2**31),
        "disclose_me": st.booleans(),
        "runmode": texts,
        "rkey": texts,
        "caller": ids,
        "caller_authid": texts,
        "caller_authrole": texts,
    }
)
_result_details = _dict_with({**_PAYLOAD_KEYS, **_CALLEE_KEYS, "progress": st.booleans()})
_invocation_details = _dict_with(
    {
        **_PAYLOAD_KEYS,
        "caller": ids,
        "caller_authid": texts,
        "caller_authrole": texts,
        "procedure": uris,
        "receive_progress": st.booleans(),
        "progress": st.booleans(),
        "timeout": st.integers(0, 2**31),
        "trustlevel": st.integers(0, 2**31),
    }
)
_error_details = _dict_with({**_PAYLOAD_KEYS, **_CALLEE_KEYS})


def _with_payload(build: Any, *fields: st.SearchStrategy[Any], transparent: bool = True) -> Any:
    return st.builds(lambda p, *f: build(*f, **p), _payload(transparent), *fields)


_STRATEGIES: dict[type[Message], st.SearchStrategy[Any]] = {
    Hello: st.builds(lambda r, d: Hello(realm=r, details=d), uris, _hello_details),
    Welcome: st.builds(lambda s, d: Welcome(session_id=s, details=d), ids, _welcome_details),
    Abort: _with_payload(
        lambda d, r, **p: Abort(details=d, reason=r, **p), _close_details, uris, transparent=False
    ),
    Challenge: st.builds(lambda m, e: Challenge(method=m, extra=e), texts.filter(bool), _str_dicts),
    Authenticate: st.builds(lambda s, e: Authenticate(signature=s, extra=e), texts, _str_dicts),
    Goodbye: st.builds(lambda d, r: Goodbye(details=d, reason=r), _close_details, uris),
    Error: _with_payload(
        lambda t, i, d, e, **p: Error(request_type=t, request_id=i, details=d, error=e, **p),
        st.sampled_from([16, 32, 34, 48, 64, 66, 68]),
        ids,
        _error_details,
        uris,
    ),
    Publish: _with_payload(
        lambda i, o, t, **p: Publish(request_id=i, options=o, topic=t, **p),
        ids,
        _publish_options,
        uris,
    ),
    Published: st.builds(lambda i, p: Published(request_id=i, publication_id=p), ids, ids),
    Subscribe: _subscribe(),
    Subscribed: st.builds(lambda i, s: Subscribed(request_id=i, subscription_id=s), ids, ids),
    Unsubscribe: st.builds(lambda i, s: Unsubscribe(request_id=i, subscription_id=s), ids, ids),
    Unsubscribed: _gone(Unsubscribed, "subscription"),
    Event: _with_payload(
        lambda s, p, d, **pl: Event(subscription_id=s, publication_id=p, details=d, **pl),
        ids,
        ids,
        _event_details,
    ),
    EventReceived: st.builds(lambda p: EventReceived(publication_id=p), ids),
    Call: _with_payload(
        lambda i, o, pr, **p: Call(request_id=i, options=o, procedure=pr, **p),
        ids,
        _call_options,
        uris,
    ),
    Cancel: st.builds(
        lambda i, o: Cancel(request_id=i, options=o),
        ids,
        _dict_with(
            {"mode": st.sampled_from(["skip", "kill", "killnowait"]), "forward_for": _forward_for}
        ),
    ),
    Result: _with_payload(
        lambda i, d, **p: Result(request_id=i, details=d, **p), ids, _result_details
    ),
    Register: _register(),
    Registered: st.builds(lambda i, r: Registered(request_id=i, registration_id=r), ids, ids),
    Unregister: st.builds(lambda i, r: Unregister(request_id=i, registration_id=r), ids, ids),
    Unregistered: _gone(Unregistered, "registration"),
    Invocation: _with_payload(
        lambda i, r, d, **p: Invocation(request_id=i, registration_id=r, details=d, **p),
        ids,
        ids,
        _invocation_details,
    ),
    Interrupt: st.builds(
        lambda i, o: Interrupt(request_id=i, options=o),
        ids,
        _dict_with(
            {
                "mode": st.sampled_from(["kill", "killnowait"]),
                "reason": texts,
                "forward_for": _forward_for,
            }
        ),
    ),
    Yield: _with_payload(
        lambda i, o, **p: Yield(request_id=i, options=o, **p),
        ids,
        _result_details,
    ),
}

#: Every message class, in type-code order.
ALL_MESSAGE_CLASSES: tuple[type[Message], ...] = tuple(
    sorted(_STRATEGIES, key=lambda cls: cls.MESSAGE_TYPE)
)


def message_of(cls: type[Message]) -> st.SearchStrategy[Message]:
    """Valid instances of message class ``cls``."""
    return _STRATEGIES[cls]


def messages() -> st.SearchStrategy[Message]:
    """Valid instances of any message class."""
    return st.one_of([_STRATEGIES[cls] for cls in ALL_MESSAGE_CLASSES])
