"""One connection: open the stream, join, yield the session; leave and close on exit."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager

import anyio

import wamp_core as wc
from wamp_core import auth

from ._session import Authentication, Session
from ._transport import open_stream

__all__ = ["connect", "open_session"]

log = logging.getLogger(__name__)


def authenticators(authentication: Authentication | None) -> list[auth.Authenticator]:
    """Autobahn-style ``{method: config}`` (or authenticators) as authenticators."""
    if authentication is None:
        return []
    if isinstance(authentication, Mapping):
        return [auth.create_authenticator(name, cfg) for name, cfg in authentication.items()]
    return list(authentication)


def join_timeout(transport: wc.TransportConfig) -> float:
    """Seconds for the WAMP transport handshake plus the join: the transport's
    ``open_handshake_timeout`` option, else its endpoint's ``timeout``."""
    value = transport.options.get("open_handshake_timeout")
    return float(value) if value else transport.endpoint.timeout


def _join_failure(session: Session, exc: Exception, transport: wc.TransportConfig) -> Exception:
    """What is raised when the session could not be joined."""
    if session.failure is not None:
        return session.failure  # a refused transport handshake (or a bug) says more
    if isinstance(exc, TimeoutError):
        error = wc.TransportError(
            f"no session within {join_timeout(transport)} s on {transport.describe()}"
        )
        error.__cause__ = exc
        return error
    if isinstance(exc, wc.SessionClosed) and exc.reason == wc.CloseDetails.REASON_TRANSPORT_LOST:
        error = wc.TransportError(f"the connection ended before the session was joined: {exc}")
        error.__cause__ = exc
        return error
    if isinstance(exc, wc.SessionClosed):  # the router refused the join: say which realm
        refused = wc.SessionClosed(
            f"joining realm {session.config.realm!r} failed: {exc}", reason=exc.reason
        )
        refused.__cause__ = exc
        return refused
    return exc


@asynccontextmanager
async def open_session(
    transport: wc.TransportConfig,
    session: Session,
    *,
    authenticators: Sequence[auth.Authenticator] = (),
    on_open: Callable[[], Awaitable[None]] | None = None,
) -> AsyncIterator[Session]:
    """Connect ``session`` over ``transport``, join its realm, yield it; leave and close on
    exit (bounded, even when cancelled). ``on_open`` runs once the stream is open, before the
    WAMP handshake. Errors are raised as they are, never wrapped in an exception group."""
    stream, channel_ids = await open_stream(transport)
    failure: BaseException | None = None
    async with stream:
        conn = wc.make_connection(transport, channel_ids=channel_ids)
        async with anyio.create_task_group() as tg:
            session._attach(transport, conn, stream, tg)
            try:
                try:
                    if on_open is not None:
                        await on_open()
                    with anyio.fail_after(join_timeout(transport)):
                        await session._start(session.config.realm, authenticators)
                except Exception as exc:  # the join failed; raised below, not in a group
                    failure = _join_failure(session, exc, transport)
                else:
                    try:
                        yield session
                    except anyio.get_cancelled_exc_class():
                        raise  # the task group's business
                    except BaseException as exc:  # re-raised below, not wrapped in a group
                        failure = exc
            finally:
                await session._shutdown()
                tg.cancel_scope.cancel()
    if failure is not None:
        raise failure


@asynccontextmanager
async def connect(
    transport: wc.TransportSpec | Sequence[wc.TransportSpec],
    *,
    realm: str = "realm1",
    authentication: Authentication | None = None,
) -> AsyncIterator[Session]:
    """Connect, join ``realm`` and yield the :class:`Session`; leave and close on exit.

    ``transport`` is anything :func:`wamp_core.parse_transports` takes (the first transport is
    used). ``authentication`` is Autobahn-style ``{method: config}`` or a list of
    :class:`wamp_core.auth.Authenticator`. Raises :class:`wamp_core.TransportError` when the
    connection cannot be made (:class:`wamp_core.HandshakeError` when the router refuses the
    transport) and :class:`wamp_core.SessionClosed` when the join is refused.
    """
    config = wc.parse_transports(transport)[0]
    session = Session(wc.ComponentConfig(realm=realm))
    async with open_session(
        config, session, authenticators=authenticators(authentication)
    ) as joined:
        yield joined
