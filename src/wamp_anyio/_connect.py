"""One joined session for an ``async with``."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import cast

import wamp_core as wc
from wamp_core import driver

from ._session import Session

__all__ = ["connect"]


def connect(
    transport: wc.TransportSpec | Sequence[wc.TransportSpec],
    *,
    realm: str = "realm1",
    authentication: driver.Authentication | None = None,
) -> AbstractAsyncContextManager[Session]:
    """Connect, join ``realm`` and yield the :class:`Session`; leave and close on exit.

    ``transport`` is anything :func:`wamp_core.parse_transports` takes (the first transport is
    used). ``authentication`` is Autobahn-style ``{method: config}`` or a list of
    :class:`wamp_core.auth.Authenticator`. Raises :class:`wamp_core.TransportError` when the
    connection cannot be made (:class:`wamp_core.HandshakeError` when the router refuses the
    transport) and :class:`wamp_core.SessionClosed` when the join is refused.
    """
    joined = driver.connect(Session, transport, realm=realm, authentication=authentication)
    return cast("AbstractAsyncContextManager[Session]", joined)
