"""Options and Details dicts of each message type, and the typed option classes.

Each dict strategy draws any subset of the keys the message type knows (WAMP spec, basic and
advanced profile, as :mod:`wamp_core.messages` checks them), each with a value of the right
type, plus custom keys (``_xyz``) that the core must carry along unchanged. The dicts are valid
in the message they belong to: ``Call(request_id=1, procedure="p", options=drawn)`` never
raises.
"""

from __future__ import annotations

import keyword
from collections.abc import Sequence
from typing import Any, TypeVar

from hypothesis import strategies as st

from .._client._types import (
    MAX_TIMEOUT,
    CallOptions,
    PublishOptions,
    RegisterOptions,
    SubscribeOptions,
)
from ._payloads import payload_values
from ._scalars import custom_keys, dict_with, ids, texts, uris

__all__ = [
    "hello_details", "welcome_details", "close_details", "auth_extra", "error_details",
    "publish_options", "subscribe_options", "event_details", "revocation_details",
    "call_options", "cancel_options", "result_details", "register_options",
    "invocation_details", "interrupt_options", "yield_options", "typed_options",
    "MATCHES", "INVOKE_POLICIES", "CANCEL_MODES",
]  # fmt: skip

#: ``Options.match`` of SUBSCRIBE and REGISTER.
MATCHES = ("exact", "prefix", "wildcard")
#: ``Options.invoke`` of REGISTER (shared registrations).
INVOKE_POLICIES = ("single", "roundrobin", "random", "first", "last")
#: ``Options.mode`` of CANCEL.
CANCEL_MODES = ("skip", "kill", "killnowait")
_SERIALIZER_NAMES = ("json", "msgpack", "cbor", "ubjson", "flatbuffers")


def _custom() -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(custom_keys(), payload_values(), max_size=2)


def _known(known: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    return dict_with(known, _custom())


def _str_lists() -> st.SearchStrategy[list[str]]:
    return st.lists(texts(), max_size=3)


def _forward_for() -> st.SearchStrategy[list[dict[str, Any]]]:
    hop = st.fixed_dictionaries({"session": ids(), "authid": texts(), "authrole": texts()})
    return st.lists(hop, max_size=2)


def _str_dicts() -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(texts(), payload_values(), max_size=3)


def _payload_keys() -> dict[str, st.SearchStrategy[Any]]:
    """Payload transparency / passthru keys, shared by every message with a payload."""
    return {
        "enc_algo": st.sampled_from(["cryptobox", "mqtt", "xbr", "x_custom"]),
        "enc_serializer": st.sampled_from(_SERIALIZER_NAMES),
        "enc_key": st.one_of(st.binary(max_size=32), texts()),
        "ppt_scheme": texts(),
        "ppt_serializer": texts(),
        "ppt_cipher": texts(),
        "ppt_keyid": texts(),
        "forward_for": _forward_for(),
        "transaction_hash": texts(),
    }


def _callee_keys() -> dict[str, st.SearchStrategy[Any]]:
    return {"callee": ids(), "callee_authid": texts(), "callee_authrole": texts()}


def _roles(names: Sequence[str]) -> st.SearchStrategy[dict[str, Any]]:
    features = st.dictionaries(custom_keys(), st.booleans(), max_size=3)
    return st.dictionaries(
        st.sampled_from(list(names)),
        st.fixed_dictionaries({}, optional={"features": features}),
        min_size=1,
    )


def _with_roles(
    roles: st.SearchStrategy[dict[str, Any]], rest: st.SearchStrategy[dict[str, Any]]
) -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(lambda r, d: {**d, "roles": r}, roles, rest)


def hello_details() -> st.SearchStrategy[dict[str, Any]]:
    """HELLO.Details: ``roles`` (always, non-empty), ``agent``, ``authmethods``, ``authid``,
    ``authrole``, ``authextra``, ``resumable``."""
    return _with_roles(
        _roles(["caller", "callee", "publisher", "subscriber"]),
        _known(
            {
                "agent": texts(),
                "authmethods": _str_lists(),
                "authid": texts(),
                "authrole": texts(),
                "authextra": _str_dicts(),
                "resumable": st.booleans(),
            }
        ),
    )


def welcome_details() -> st.SearchStrategy[dict[str, Any]]:
    """WELCOME.Details: ``roles`` (always, ``broker``/``dealer``), ``agent``, ``realm``, the
    ``auth*`` keys, ``resumed``, ``resumable``."""
    return _with_roles(
        _roles(["broker", "dealer"]),
        _known(
            {
                "agent": texts(),
                "realm": texts(),
                "authid": texts(),
                "authrole": texts(),
                "authmethod": texts(),
                "authprovider": texts(),
                "authextra": _str_dicts(),
                "resumed": st.booleans(),
                "resumable": st.booleans(),
            }
        ),
    )


def close_details() -> st.SearchStrategy[dict[str, Any]]:
    """ABORT.Details and GOODBYE.Details: ``message``."""
    return _known({"message": texts()})


def auth_extra() -> st.SearchStrategy[dict[str, Any]]:
    """CHALLENGE.Extra and AUTHENTICATE.Extra: str keys, any values (method specific)."""
    return _str_dicts()


def error_details() -> st.SearchStrategy[dict[str, Any]]:
    """ERROR.Details: payload transparency keys, callee disclosure."""
    return _known({**_payload_keys(), **_callee_keys()})


def publish_options() -> st.SearchStrategy[dict[str, Any]]:
    """PUBLISH.Options: ``acknowledge``, exclusion and eligibility lists, ``retain``,
    ``disclose_me``, ``rkey``, payload transparency keys."""
    return _known(
        {
            **_payload_keys(),
            "acknowledge": st.booleans(),
            "exclude_me": st.booleans(),
            "exclude": st.lists(ids(), max_size=3),
            "exclude_authid": _str_lists(),
            "exclude_authrole": _str_lists(),
            "eligible": st.lists(ids(), max_size=3),
            "eligible_authid": _str_lists(),
            "eligible_authrole": _str_lists(),
            "retain": st.booleans(),
            "disclose_me": st.booleans(),
            "rkey": texts(),
        }
    )


def subscribe_options() -> st.SearchStrategy[dict[str, Any]]:
    """SUBSCRIBE.Options: ``match``, ``get_retained``, ``nkey``, ``forward_for``. The topic
    must suit ``match`` (:func:`~wamp_core.testing.pattern_uris`)."""
    return _known(
        {
            "match": st.sampled_from(MATCHES),
            "get_retained": st.booleans(),
            "nkey": texts(),
            "forward_for": _forward_for(),
        }
    )


def event_details() -> st.SearchStrategy[dict[str, Any]]:
    """EVENT.Details: publisher disclosure, the concrete ``topic``, ``retained``,
    ``trustlevel``, payload transparency keys."""
    return _known(
        {
            **_payload_keys(),
            "publisher": ids(),
            "publisher_authid": texts(),
            "publisher_authrole": texts(),
            "topic": uris(),
            "retained": st.booleans(),
            "trustlevel": st.integers(0, 2**31),
            "x_acknowledged_delivery": st.booleans(),
        }
    )


def revocation_details(what: str) -> st.SearchStrategy[dict[str, Any]]:
    """UNSUBSCRIBED.Details (``what="subscription"``) or UNREGISTERED.Details
    (``what="registration"``) of a revocation by the router: the ID and a ``reason``."""
    if what not in ("subscription", "registration"):
        raise ValueError(f"what must be 'subscription' or 'registration', not {what!r}")
    return _known({what: ids(), "reason": texts()})


def call_options() -> st.SearchStrategy[dict[str, Any]]:
    """CALL.Options: ``receive_progress``, ``progress``, ``timeout`` (ms), ``disclose_me``,
    ``runmode``, ``rkey``, caller disclosure, payload transparency keys."""
    return _known(
        {
            **_payload_keys(),
            "receive_progress": st.booleans(),
            "progress": st.booleans(),
            "timeout": st.integers(0, 2**31),
            "disclose_me": st.booleans(),
            "runmode": texts(),
            "rkey": texts(),
            "caller": ids(),
            "caller_authid": texts(),
            "caller_authrole": texts(),
        }
    )


def cancel_options() -> st.SearchStrategy[dict[str, Any]]:
    """CANCEL.Options: ``mode`` (skip, kill, killnowait), ``forward_for``."""
    return _known({"mode": st.sampled_from(CANCEL_MODES), "forward_for": _forward_for()})


def result_details() -> st.SearchStrategy[dict[str, Any]]:
    """RESULT.Details: ``progress``, callee disclosure, payload transparency keys."""
    return _known({**_payload_keys(), **_callee_keys(), "progress": st.booleans()})


def register_options() -> st.SearchStrategy[dict[str, Any]]:
    """REGISTER.Options: ``match``, ``invoke``, ``disclose_caller``, ``concurrency``,
    ``force_reregister``, ``forward_for``. The procedure must suit ``match``."""
    return _known(
        {
            "match": st.sampled_from(MATCHES),
            "invoke": st.sampled_from(INVOKE_POLICIES),
            "disclose_caller": st.booleans(),
            "concurrency": st.integers(1, 2**31),
            "force_reregister": st.booleans(),
            "forward_for": _forward_for(),
        }
    )


def invocation_details() -> st.SearchStrategy[dict[str, Any]]:
    """INVOCATION.Details: caller disclosure, the concrete ``procedure``, ``receive_progress``,
    ``progress``, ``timeout``, ``trustlevel``, payload transparency keys."""
    return _known(
        {
            **_payload_keys(),
            "caller": ids(),
            "caller_authid": texts(),
            "caller_authrole": texts(),
            "procedure": uris(),
            "receive_progress": st.booleans(),
            "progress": st.booleans(),
            "timeout": st.integers(0, 2**31),
            "trustlevel": st.integers(0, 2**31),
        }
    )


def interrupt_options() -> st.SearchStrategy[dict[str, Any]]:
    """INTERRUPT.Options: ``mode`` (kill, killnowait), ``reason``, ``forward_for``."""
    return _known(
        {
            "mode": st.sampled_from(["kill", "killnowait"]),
            "reason": texts(),
            "forward_for": _forward_for(),
        }
    )


def yield_options() -> st.SearchStrategy[dict[str, Any]]:
    """YIELD.Options: ``progress``, callee disclosure, payload transparency keys."""
    return result_details()


# --------------------------------------------------------------------------------------------
# Typed option classes (what the session commands take)

_O = TypeVar("_O", CallOptions, PublishOptions, SubscribeOptions, RegisterOptions)


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


def _ppt() -> st.SearchStrategy[dict[str, str]]:
    keys = st.sampled_from(["ppt_scheme", "ppt_serializer", "ppt_cipher", "ppt_keyid"])
    return st.dictionaries(keys, texts(max_size=8), max_size=2)


def _identifiers() -> st.SearchStrategy[str]:
    return st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True).filter(
        lambda s: not keyword.iskeyword(s)
    )


def _one_or_many(item: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return _maybe(st.one_of(item, st.lists(item, max_size=3)))


def typed_options(cls: type[_O]) -> st.SearchStrategy[_O]:
    """Valid instances of :class:`~wamp_core.CallOptions`, :class:`~wamp_core.PublishOptions`,
    :class:`~wamp_core.SubscribeOptions` or :class:`~wamp_core.RegisterOptions`.

    Valid to construct; their ``to_options(features)`` still refuses an option whose router
    feature is missing from ``features`` (``wamp.error.feature_not_supported``), as the session
    does with what the router announced. ``CallOptions.on_progress`` is never drawn (use
    ``receive_progress``). A ``ppt`` mapping needs the feature ``payload_passthru_mode``.
    """
    strategy: st.SearchStrategy[Any]
    if cls is CallOptions:
        strategy = st.builds(
            CallOptions,
            timeout=_maybe(st.floats(min_value=0.001, max_value=MAX_TIMEOUT, allow_nan=False)),
            receive_progress=st.booleans(),
            disclose_me=_maybe(st.booleans()),
            ppt=_maybe(_ppt()),
            details=st.booleans(),
            cancel_mode=st.sampled_from(CANCEL_MODES),
        )
    elif cls is PublishOptions:
        strategy = st.builds(
            PublishOptions,
            acknowledge=st.booleans(),
            exclude_me=_maybe(st.booleans()),
            exclude=_one_or_many(ids()),
            exclude_authid=_one_or_many(texts(max_size=8)),
            exclude_authrole=_one_or_many(texts(max_size=8)),
            eligible=_one_or_many(ids()),
            eligible_authid=_one_or_many(texts(max_size=8)),
            eligible_authrole=_one_or_many(texts(max_size=8)),
            retain=_maybe(st.booleans()),
            disclose_me=_maybe(st.booleans()),
            ppt=_maybe(_ppt()),
        )
    elif cls is SubscribeOptions:
        strategy = st.builds(
            SubscribeOptions,
            match=st.sampled_from(MATCHES),
            get_retained=_maybe(st.booleans()),
            details=st.booleans(),
            details_arg=_maybe(_identifiers()),
            queue_size=st.integers(1, 4096),
            concurrency=st.integers(1, 64),
        )
    elif cls is RegisterOptions:
        strategy = st.builds(
            RegisterOptions,
            match=st.sampled_from(MATCHES),
            invoke=st.sampled_from(INVOKE_POLICIES),
            concurrency=_maybe(st.integers(1, 2**31)),
            force_reregister=st.booleans(),
            disclose_caller=_maybe(st.booleans()),
            details=st.booleans(),
            details_arg=_maybe(_identifiers()),
        )
    else:
        raise TypeError(
            "typed_options takes CallOptions, PublishOptions, SubscribeOptions or "
            f"RegisterOptions, not {cls!r}"
        )
    return strategy
