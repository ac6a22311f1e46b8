"""One connection: open the stream, join, yield the session; leave and close on exit.

The stream comes from the session's runtime (:meth:`~wamp_core.driver.Runtime.open_stream`)."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TypeVar

import wamp_core as wc
from wamp_core import auth

from ._session import Authentication, Session

S = TypeVar("S", bound=Session)

__all__ = [
    "cannot_connect", "check_tls_files", "connect", "connect_timed_out", "open_session",
]  # fmt: skip

log = logging.getLogger("wamp_core.driver")  # the public name, stable to configure


def authenticators(authentication: Authentication | None) -> list[auth.Authenticator]:
    """Autobahn-style ``{method: config}`` (a value may also be an authenticator, as
    Autobahn takes it), or authenticators, as authenticators; checked to be offered together
    (:func:`wamp_core.auth.check_authenticators`). Raises :class:`wamp_core.ConfigurationError`
    for anything else."""
    if authentication is None:
        return []
    if isinstance(authentication, Mapping):
        auths = [
            cfg if isinstance(cfg, auth.Authenticator) else auth.create_authenticator(name, cfg)
            for name, cfg in authentication.items()
        ]
    elif isinstance(authentication, str | bytes) or not isinstance(authentication, Iterable):
        raise wc.ConfigurationError(
            "authentication must be {method: config} or a list of authenticators, not "
            f"{type(authentication).__name__}"
        )
    else:
        auths = list(authentication)
    auth.check_authenticators(auths)
    return auths


def check_tls_files(transports: Sequence[wc.TransportConfig]) -> None:
    """Load the TLS files each transport names (``trust_root``, ``client_cert``,
    ``client_key``) once, so one that cannot be read fails when the component is built
    (:class:`~wamp_core.ConfigurationError` naming the transport), not at its first connect.
    Each connect loads them again (rotated certificates are picked up)."""
    for index, transport in enumerate(transports):
        endpoint = transport.endpoint
        if isinstance(endpoint, wc.TcpEndpoint) and isinstance(endpoint.tls, wc.TLSConfig):
            try:
                wc.ssl_context_for(endpoint.tls)
            except wc.ConfigurationError as exc:
                raise wc.ConfigurationError(f"transport {index}: {exc}") from exc.__cause__


def _target(transport: wc.TransportConfig) -> str:
    """What a connect went to: the endpoint, and the proxy it went through."""
    proxy = transport.proxy
    where = transport.endpoint.describe()
    return where if proxy is None else f"{where} through the proxy {proxy.host}:{proxy.port}"


def connect_timed_out(transport: wc.TransportConfig) -> wc.TransportError:
    """The error for a connect to ``transport`` that its endpoint's timeout ended (its cause:
    a ``TimeoutError`` saying so); raise it ``from`` its ``__cause__``."""
    error = wc.TransportError(f"connecting to {_target(transport)} timed out")
    error.__cause__ = TimeoutError(f"no connection within {transport.endpoint.timeout} s")
    return error


def cannot_connect(transport: wc.TransportConfig, exc: BaseException) -> wc.TransportError:
    """The error for a failed connect to ``transport``, naming the reason at the bottom of
    ``exc``'s causes: the event loops wrap the socket's or TLS's own error in exceptions of
    their own, some without a message (trio's ``BrokenResourceError``, its "all attempts to
    connect failed"), so every driver reports e.g. ``[Errno 111] Connection refused`` or
    ``[SSL: CERTIFICATE_VERIFY_FAILED] ...`` alike. Its ``__cause__`` is that reason: raise
    it ``from`` its ``__cause__``."""
    reason = exc
    for _ in range(8):  # (causes can be chained on and on: a bound)
        cause = reason.__cause__
        inner = getattr(cause, "exceptions", None)  # an exception group: its first
        if inner and isinstance(inner[0], BaseException):
            cause = inner[0]
        wrapper = not str(reason) or (isinstance(reason, OSError) and reason.errno is None)
        if cause is None or not wrapper:
            break
        reason = cause
    text = str(reason) or _WORDLESS.get(type(reason).__name__, type(reason).__name__)
    error = wc.TransportError(f"cannot connect to {_target(transport)}: {text}")
    error.__cause__ = reason
    return error


#: What an exception without a message means, by class name (the loops' own classes).
_WORDLESS = {
    "EndOfStream": "the peer closed the connection",
    "BrokenResourceError": "the connection broke",
    "ClosedResourceError": "the connection was closed",
}


#: A ``max_message_size`` below this is named when a join times out: a WELCOME with the
#: router's roles and an authentication's extra takes 1-2 KB.
_SMALL_LIMIT = 4096


def join_timeout(transport: wc.TransportConfig) -> float:
    """Seconds for the WAMP transport handshake plus the join: the transport's
    ``open_handshake_timeout`` option, else its endpoint's ``timeout``."""
    value = transport.options.get("open_handshake_timeout")
    return float(value) if value else transport.endpoint.timeout


def _join_failure(session: Session, exc: Exception, transport: wc.TransportConfig) -> Exception:
    """What is raised when the session could not be joined."""
    if session.failure is not None:
        return session.failure  # a refused transport handshake (or a bug) says more
    auth_error = session._conn.session.auth_error
    if auth_error is not None and isinstance(exc, wc.SessionClosed):
        return auth_error  # we gave the join up: no answer to the challenge, or an impostor
    if isinstance(exc, TimeoutError):
        limit = transport.options.get("max_message_size")
        hint = (  # (Crossbar.io drops a WELCOME larger than a RawSocket client's limit)
            f" (max_message_size {limit} may be too small for the router's answer)"
            if isinstance(limit, int) and limit < _SMALL_LIMIT
            else ""
        )
        error = wc.TransportError(
            f"no session within {join_timeout(transport)} s on {transport.describe()}{hint}"
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
    rt = session.runtime
    stream, channel_ids = await rt.open_stream(transport)
    failure: BaseException | None = None
    try:
        conn = wc.make_connection(transport, channel_ids=channel_ids)
        async with rt.task_group() as tg:
            session._attach(transport, conn, stream, tg)
            try:
                try:
                    if on_open is not None:
                        await on_open()
                    await _join(session, authenticators, join_timeout(transport))
                except Exception as exc:  # the join failed; raised below, not in a group
                    failure = _join_failure(session, exc, transport)
                else:
                    try:
                        yield session
                    except rt.cancelled:
                        raise  # the task group's business
                    except BaseException as exc:  # re-raised below, not wrapped in a group
                        failure = exc
            finally:
                # Ended by the router or the link (not by leaving): the events that arrived
                # before the end are still handled. Leaving does not wait for them.
                ended = session.closed or session.close_details is not None
                try:
                    await session._shutdown()
                    if ended:
                        await session._drain_events()
                finally:
                    tg.cancel_scope.cancel()
    finally:
        await stream.aclose()
    if session.exit is not None:  # a handler's SystemExit or KeyboardInterrupt
        raise session.exit
    if failure is not None:
        raise failure


async def _join(
    session: Session, authenticators: Sequence[auth.Authenticator], timeout: float
) -> None:
    """Open the WAMP transport and join; :class:`TimeoutError` after ``timeout`` s."""
    with session.runtime.move_on_after(timeout) as scope:
        await session._start(session.config.realm, authenticators)
        return
    if scope.cancelled_caught:
        raise TimeoutError
    raise AssertionError("unreachable")  # pragma: no cover


@asynccontextmanager
async def connect(
    session_class: type[S],
    transport: wc.TransportSpec | Sequence[wc.TransportSpec],
    *,
    realm: str = "realm1",
    authentication: Authentication | None = None,
) -> AsyncIterator[S]:
    """Connect, join ``realm`` and yield a ``session_class`` session; leave and close on exit
    (see :meth:`Session.connect`). Several transports are tried once each, in order, as a
    component with ``max_retries`` 0 tries them (the core's :class:`~wamp_core.ReconnectPolicy`)."""
    configs = wc.parse_transports(transport)
    authn = authenticators(authentication)
    policy = wc.ReconnectPolicy([dataclasses.replace(c, max_retries=0) for c in configs])
    async with AsyncExitStack() as stack:
        while (attempt := policy.next_attempt()) is not None:
            session = session_class(wc.ComponentConfig(realm=realm))
            try:
                # (the user's transport, not the policy's copy without retries)
                config = configs[attempt.index]
                await stack.enter_async_context(open_session(config, session, authenticators=authn))
            except Exception as exc:
                if len(configs) == 1:
                    raise
                policy.failed(exc)
                log.info("no session on %s: %s", config.describe(), exc)
                continue
            break
        else:
            raise policy.exhausted_error()
        yield session
