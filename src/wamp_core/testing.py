"""Testing helpers for code that speaks WAMP: hypothesis strategies and an in-memory pair.

Needs `hypothesis <https://hypothesis.readthedocs.io>`_: ``pip install wamp-py[testing]``.
``import wamp_core`` never imports this module; import it yourself::

    from hypothesis import given
    from wamp_core import get_serializer
    from wamp_core.testing import messages

    @given(messages())
    def test_round_trip(message):
        codec = get_serializer("cbor")
        assert codec.decode(codec.encode(message)) == message

Strategies (each a function returning a hypothesis strategy):

* scalars: :func:`ids`, :func:`uris` (loose or ``strict``), :func:`pattern_uris` (for
  ``match="prefix"`` / ``"wildcard"``);
* values: :func:`payload_values` (what a given serializer carries losslessly), :func:`args`,
  :func:`kwargs`;
* Options/Details of each message type (:func:`call_options`, :func:`hello_details`...) and
  :func:`typed_options` (instances of :class:`~wamp_core.CallOptions` and friends);
* messages: :func:`messages`, :func:`message_of`, and :func:`invalid_messages` (raw lists the
  core must refuse, with the reason, one of :data:`INVALID_REASONS`).

In-memory peers: :func:`connection_pair` joins a client :class:`~wamp_core.Connection` to the
embedded router engine, with no socket and no event loop::

    pair = connection_pair(realm="realm1")
    pair.join()
    pair.session.call("wamp.session.count")
    events = pair.pump()          # [CallSucceeded(...)]

:class:`MemoryRouter` holds the router engine and any number of such clients.

See ``docs/testing-strategies.md``.
"""

from ._testing._invalid import (
    ID_OUT_OF_RANGE as ID_OUT_OF_RANGE,
    INVALID_ARGUMENTS as INVALID_ARGUMENTS,
    INVALID_OPTION as INVALID_OPTION,
    INVALID_REASONS as INVALID_REASONS,
    INVALID_URI as INVALID_URI,
    INVALID_VALUE as INVALID_VALUE,
    NON_STRING_KEY as NON_STRING_KEY,
    NOT_A_MESSAGE as NOT_A_MESSAGE,
    UNKNOWN_TYPE as UNKNOWN_TYPE,
    WRONG_LENGTH as WRONG_LENGTH,
    WRONG_TYPE as WRONG_TYPE,
    arity as arity,
    invalid_messages as invalid_messages,
)
from ._testing._messages import (
    ALL_MESSAGE_CLASSES as ALL_MESSAGE_CLASSES,
    message_of as message_of,
    messages as messages,
)
from ._testing._options import (
    auth_extra as auth_extra,
    call_options as call_options,
    cancel_options as cancel_options,
    close_details as close_details,
    error_details as error_details,
    event_details as event_details,
    hello_details as hello_details,
    interrupt_options as interrupt_options,
    invocation_details as invocation_details,
    publish_options as publish_options,
    register_options as register_options,
    result_details as result_details,
    revocation_details as revocation_details,
    subscribe_options as subscribe_options,
    typed_options as typed_options,
    welcome_details as welcome_details,
    yield_options as yield_options,
)
from ._testing._pair import (
    ConnectionPair as ConnectionPair,
    MemoryRouter as MemoryRouter,
    connection_pair as connection_pair,
)
from ._testing._payloads import (
    SERIALIZERS as SERIALIZERS,
    args as args,
    kwargs as kwargs,
    payload_values as payload_values,
)
from ._testing._scalars import ids as ids, pattern_uris as pattern_uris, uris as uris

__all__ = [
    # scalars and values
    "ids", "uris", "pattern_uris", "payload_values", "args", "kwargs", "SERIALIZERS",
    # Options/Details
    "hello_details", "welcome_details", "close_details", "auth_extra", "error_details",
    "publish_options", "subscribe_options", "event_details", "revocation_details",
    "call_options", "cancel_options", "result_details", "register_options",
    "invocation_details", "interrupt_options", "yield_options", "typed_options",
    # messages
    "ALL_MESSAGE_CLASSES", "messages", "message_of", "arity",
    # invalid messages
    "invalid_messages", "INVALID_REASONS", "NOT_A_MESSAGE", "UNKNOWN_TYPE", "WRONG_LENGTH",
    "WRONG_TYPE", "ID_OUT_OF_RANGE", "INVALID_URI", "INVALID_OPTION", "NON_STRING_KEY",
    "INVALID_ARGUMENTS", "INVALID_VALUE",
    # in-memory peers
    "connection_pair", "ConnectionPair", "MemoryRouter",
]  # fmt: skip
