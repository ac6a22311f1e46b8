"""A joined WAMP session over one anyio byte stream (asyncio or trio).

Tasks, all in one task group owned by :func:`connect`'s ``async with``:

* the reader: receives bytes and feeds the connection (``receive_data``/``receive_eof``), sends
  what that produced, then resolves waiters and routes events and invocations;
* the event deliverer: runs subscription handlers one at a time, in arrival order;
* one task per invocation: runs the procedure handler and sends its answer.

Every write (commands, invocation answers, what received data produced) holds one lock around
producing the bytes *and* sending them, so frames never interleave and bytes go out in the
order the connection made them. The send itself is shielded from the caller's cancellation
(the connection already counts the bytes as sent) and bounded by :data:`SEND_TIMEOUT`; a write
that fails, times out or is interrupted anyway ends the connection: the stream is in an
unknown state.

Which event ends which request, and how, is :class:`wamp_core.RequestTracker`'s business; when
the connection ends every pending request fails at once with :class:`wamp_core.SessionClosed`.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import math
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeAlias

import anyio
from anyio.abc import ByteStream, TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

import wamp_core as wc
from wamp_core import auth, events as ev

from ._transport import open_stream

__all__ = ["Registration", "Session", "Subscription", "connect"]

log = logging.getLogger(__name__)

#: A procedure or event handler: called with the WAMP args and kwargs; sync or async.
Handler: TypeAlias = Callable[..., Any]
#: Authentication settings: Autobahn-style ``{method: config}`` or authenticators.
Authentication: TypeAlias = Mapping[str, Mapping[str, Any]] | Sequence[auth.Authenticator]

#: Seconds :func:`connect` waits, on exit, for the session to leave and the transport to close.
CLOSE_TIMEOUT = 5.0
#: Seconds one write may take before the connection is given up (the peer stopped reading).
SEND_TIMEOUT = 30.0
_RECEIVE_SIZE = 65536
_Delivery: TypeAlias = tuple[Handler, list[Any], dict[str, Any]]


class _Waiter:
    """One request's waiter: resolved once, by the reader (or the end of the session)."""

    __slots__ = ("_event", "_outcome", "on_success")

    def __init__(self, on_success: Callable[[Any], None] | None = None) -> None:
        self._event = anyio.Event()
        self._outcome: wc.Outcome | None = None
        #: Run by the reader when the request succeeds, before any later event is handled.
        self.on_success = on_success

    def resolve(self, outcome: wc.Outcome) -> None:
        if self._outcome is None:
            self._outcome = outcome
            if outcome.ok and self.on_success is not None:
                self.on_success(outcome.value)
            self._event.set()

    async def wait(self) -> Any:
        await self._event.wait()
        assert self._outcome is not None
        return self._outcome.unwrap()


class Registration:
    """A procedure registered by :meth:`Session.register`."""

    def __init__(self, session: Session, procedure: str, handler: Handler) -> None:
        self.session = session
        self.procedure = procedure
        self.handler = handler
        self.id: int | None = None

    def __repr__(self) -> str:
        return f"<Registration {self.procedure!r} id={self.id}>"

    async def unregister(self) -> None:
        await self.session._unregister(self)


class Subscription:
    """A subscription made by :meth:`Session.subscribe`."""

    def __init__(self, session: Session, topic: str, handler: Handler) -> None:
        self.session = session
        self.topic = topic
        self.handler = handler
        self.id: int | None = None
        self.active = False

    def __repr__(self) -> str:
        return f"<Subscription {self.topic!r} id={self.id}>"

    async def unsubscribe(self) -> None:
        await self.session._unsubscribe(self)


class Session:
    """A joined WAMP session; made by :func:`connect`, valid inside its ``async with``."""

    def __init__(self, conn: wc.Connection, stream: ByteStream, task_group: TaskGroup) -> None:
        self._conn = conn
        self._stream = stream
        self._tg = task_group
        self._write_lock = anyio.Lock()
        self._tracker: wc.RequestTracker[_Waiter] = wc.RequestTracker()
        self._join = _Waiter()
        self._done = anyio.Event()
        self._broken = False
        # Shielded: only the session stops its reader (it must outlive an outer cancellation
        # long enough to read the router's GOODBYE while leaving).
        self._reader_scope = anyio.CancelScope(shield=True)
        self._registrations: dict[int, Registration] = {}
        #: Running invocations (request ID -> the handler's cancel scope), for INTERRUPT.
        self._invocations: dict[int, anyio.CancelScope] = {}
        self._subscriptions: dict[int, list[Subscription]] = {}
        self._deliveries: MemoryObjectSendStream[_Delivery]
        self._delivery_queue: MemoryObjectReceiveStream[_Delivery]
        self._deliveries, self._delivery_queue = anyio.create_memory_object_stream[_Delivery](
            math.inf
        )
        #: Why the reader stopped early (a refused transport handshake, a bug), if it did.
        self.failure: Exception | None = None
        self.details: wc.SessionDetails | None = None

    def __repr__(self) -> str:
        return f"<Session {self._conn!r}>"

    @property
    def closed(self) -> bool:
        """The connection has ended: every further command raises SessionClosed."""
        return self._done.is_set() or self._broken

    # ----------------------------------------------------------------------------------------
    # The API

    async def call(self, procedure: str, /, *args: Any, **kwargs: Any) -> Any:
        """Call ``procedure``; return its single result, or a :class:`wamp_core.CallResult`
        when it has several or keyword results (``CallResult.value``).

        Raises :class:`wamp_core.ApplicationError` for the callee's (or router's) error and
        :class:`wamp_core.SessionClosed` when the session ends first.
        """
        return await self._request(
            "call", lambda: self._conn.session.call(procedure, args, kwargs or None)
        )

    async def publish(
        self, topic: str, /, *args: Any, acknowledge: bool = False, **kwargs: Any
    ) -> int | None:
        """Publish to ``topic``; with ``acknowledge`` wait for the broker and return the
        publication ID (``None`` otherwise)."""
        if not acknowledge:
            async with self._write_lock:
                self._conn.session.publish(topic, args, kwargs or None)
                await self._flush()
            return None
        options = wc.PublishOptions(acknowledge=True)
        result = await self._request(
            "publish", lambda: self._conn.session.publish(topic, args, kwargs or None, options)
        )
        assert isinstance(result, int)
        return result

    async def register(self, handler: Handler, procedure: str) -> Registration:
        """Register ``handler`` (sync or async, called with the call's args and kwargs) as
        ``procedure``. Its return value is the result (a :class:`wamp_core.CallResult` for
        several or keyword results); an :class:`wamp_core.ApplicationError` it raises reaches
        the caller as is; any other exception as ``wamp.error.runtime_error`` with its message.
        """
        registration = Registration(self, procedure, handler)

        def registered(registration_id: int) -> None:
            registration.id = registration_id
            self._registrations[registration_id] = registration

        await self._request(
            "register", lambda: self._conn.session.register(procedure), on_success=registered
        )
        return registration

    async def subscribe(self, handler: Handler, topic: str) -> Subscription:
        """Subscribe ``handler`` (sync or async, called with the event's args and kwargs) to
        ``topic``. Handlers run one at a time, in the order events arrive."""
        subscription = Subscription(self, topic, handler)

        def subscribed(subscription_id: int) -> None:
            subscription.id = subscription_id
            subscription.active = True
            self._subscriptions.setdefault(subscription_id, []).append(subscription)

        await self._request(
            "subscribe", lambda: self._conn.session.subscribe(topic), on_success=subscribed
        )
        return subscription

    async def leave(self, reason: str = "wamp.close.normal", message: str | None = None) -> None:
        """Leave the session (GOODBYE) and wait until the router answered and the transport
        closed."""
        async with self._write_lock:
            if self._conn.session.state is wc.SessionState.ESTABLISHED:
                self._conn.session.leave(reason, message)
                await self._flush()
        await self._done.wait()

    async def disconnect(self) -> None:
        """Close the transport at once, without leaving: pending requests fail with
        :class:`wamp_core.SessionClosed`."""
        self._lost("disconnected")
        await anyio.aclose_forcefully(self._stream)

    # ----------------------------------------------------------------------------------------
    # Requests

    async def _request(
        self,
        kind: ev.RequestKind,
        issue: Callable[[], int | None],
        on_success: Callable[[Any], None] | None = None,
    ) -> Any:
        waiter = _Waiter(on_success)
        async with self._write_lock:
            # A command the transport cannot carry raises here, and nothing was sent.
            request_id = issue()
            if request_id is None:
                return None
            self._tracker.add(request_id, kind, waiter)
            await self._flush()
        try:
            return await waiter.wait()
        except anyio.get_cancelled_exc_class():
            # The caller gave up: a late answer is dropped, and a call is canceled.
            if self._tracker.discard(request_id) is not None and kind == "call":
                await self._cancel_call(request_id)
            raise

    async def _cancel_call(self, request_id: int) -> None:
        """CANCEL (mode ``kill``) an abandoned call, shielded and bounded."""
        with anyio.move_on_after(CLOSE_TIMEOUT, shield=True):
            async with self._write_lock:
                try:
                    self._conn.session.cancel(request_id, "kill")
                except wc.WampError as exc:
                    log.debug("call %d not canceled: %s", request_id, exc)
                self._dispatch(self._conn.take_events())
                await self._flush()

    async def _unregister(self, registration: Registration) -> None:
        registration_id = registration.id
        if registration_id is None or self._registrations.get(registration_id) is not registration:
            raise wc.LocalProtocolError(f"{registration!r} is not registered")

        def unregistered(_: int) -> None:
            self._registrations.pop(registration_id, None)

        await self._request(
            "unregister",
            lambda: self._conn.session.unregister(registration_id),
            on_success=unregistered,
        )

    async def _unsubscribe(self, subscription: Subscription) -> None:
        subscription_id = subscription.id
        if subscription_id is None or not subscription.active:
            raise wc.LocalProtocolError(f"{subscription!r} is not subscribed")
        # No more events for this handler from now on, whatever the router answers.
        subscription.active = False
        users = self._subscriptions.get(subscription_id, [])
        if subscription in users:
            users.remove(subscription)
        if not users:
            self._subscriptions.pop(subscription_id, None)
        await self._request("unsubscribe", lambda: self._conn.session.unsubscribe(subscription_id))

    # ----------------------------------------------------------------------------------------
    # Writing (always with the write lock held)

    async def _flush(self) -> None:
        data = self._conn.data_to_send()
        if not data or self._broken:
            return
        try:
            # The connection already counts these bytes as sent: a caller's cancellation must
            # not drop or cut them, so the write is shielded, and bounded instead.
            with anyio.move_on_after(SEND_TIMEOUT, shield=True) as scope:
                await self._stream.send(data)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError) as exc:
            self._lost(f"write failed: {exc or type(exc).__name__}")
        except BaseException:
            self._lost("write interrupted")  # part of a frame may have gone: fatal
            raise
        else:
            if scope.cancelled_caught:
                self._lost(f"write timed out after {SEND_TIMEOUT} s")

    def _lost(self, reason: str) -> None:
        """The transport is unusable: end the connection, fail everything, stop reading."""
        if self._broken:
            return
        self._broken = True
        self._dispatch(self._conn.connection_lost(reason))
        self._finish()
        self._reader_scope.cancel()

    # ----------------------------------------------------------------------------------------
    # Reading

    async def _start(self) -> None:
        """Send the opening handshake, start the tasks, wait for the session to be joined."""
        self._tg.start_soon(self._deliver_events)
        async with self._write_lock:
            self._conn.initiate()
            await self._flush()
        self._tg.start_soon(self._read)
        self.details = await self._join.wait()

    async def _read(self) -> None:
        conn = self._conn
        with self._reader_scope:
            try:
                while not conn.closed:
                    try:
                        data = await self._stream.receive(_RECEIVE_SIZE)
                    except anyio.EndOfStream:
                        async with self._write_lock:
                            events = conn.receive_eof()
                            await self._flush()
                    except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError) as exc:
                        events = conn.connection_lost(str(exc) or type(exc).__name__)
                    else:
                        async with self._write_lock:
                            events = conn.receive_data(data)
                            await self._flush()
                    self._dispatch(events)
            except Exception as exc:
                # HandshakeError (the router refused the transport), or a bug: never hang.
                if not isinstance(exc, wc.HandshakeError):
                    log.exception("the WAMP reader failed")
                self.failure = exc
                self._dispatch(conn.connection_lost(str(exc)))
            finally:
                self._finish()

    def _finish(self) -> None:
        """Nothing more will arrive: fail whatever still waits (idempotent)."""
        error = self.failure if isinstance(self.failure, wc.WampError) else None
        closed = wc.SessionClosed(
            f"the connection ended{f': {error}' if error else ''}",
            reason=wc.CloseDetails.REASON_TRANSPORT_LOST,
        )
        self._join.resolve(wc.Outcome(error=closed))
        for waiter, outcome in self._tracker.close(closed):
            waiter.resolve(outcome)
        self._deliveries.close()
        self._done.set()

    def _dispatch(self, events: list[wc.ConnectionEvent]) -> None:
        for event in events:
            for waiter, outcome in self._tracker.feed(event):
                waiter.resolve(outcome)
            if isinstance(event, ev.EventDelivered):
                for subscription in self._subscriptions.get(event.subscription_id, ()):
                    # The deliverer is gone only while the session shuts down: drop the event.
                    with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
                        self._deliveries.send_nowait(
                            (subscription.handler, event.args, event.kwargs)
                        )
            elif isinstance(event, ev.InvocationReceived):
                if event.continuation:  # progressive call invocations: not in this driver yet
                    log.debug("dropping a further chunk of invocation %d", event.request_id)
                else:
                    self._tg.start_soon(self._invoke, event)
            elif isinstance(event, ev.InterruptReceived):
                scope = self._invocations.get(event.request_id)
                if scope is not None:
                    scope.cancel()
            elif isinstance(event, ev.Joined):
                self._join.resolve(wc.Outcome(value=event.details))
            elif isinstance(event, (ev.Aborted, ev.Left)):
                details = event.details
                error = wc.SessionClosed(
                    f"the session ended ({details.reason}): {details.message or ''}",
                    reason=details.reason,
                )
                self._join.resolve(wc.Outcome(error=error))

    async def _deliver_events(self) -> None:
        async with self._delivery_queue:
            async for handler, args, kwargs in self._delivery_queue:
                try:
                    result = handler(*args, **kwargs)
                    if inspect.isawaitable(result):
                        await result
                except Exception:
                    log.exception("event handler %r failed", handler)

    async def _invoke(self, event: ev.InvocationReceived) -> None:
        registration = self._registrations.get(event.registration_id)
        value: Any = None
        error: Exception | None = None
        with anyio.CancelScope() as scope:
            self._invocations[event.request_id] = scope
            try:
                if registration is None:
                    raise wc.ApplicationError(wc.ApplicationError.NO_SUCH_REGISTRATION)
                value = registration.handler(*event.args, **event.kwargs)
                if inspect.isawaitable(value):
                    value = await value
            except Exception as exc:
                error = exc
            finally:
                self._invocations.pop(event.request_id, None)
        if scope.cancelled_caught:  # INTERRUPT: answer canceled (moot after killnowait)
            error = wc.ApplicationError(wc.ApplicationError.CANCELED)
        async with self._write_lock:
            try:
                wc.answer_invocation(self._conn.session, event.request_id, value=value, error=error)
            except wc.SessionClosed:
                return
            await self._flush()

    async def _shutdown(self) -> None:
        """Leave (bounded by :data:`CLOSE_TIMEOUT`, even when cancelled) and stop reading."""
        try:
            with anyio.move_on_after(CLOSE_TIMEOUT, shield=True):
                if not self.closed:
                    await self.leave()
        except wc.WampError as exc:  # GOODBYE could not go: just close
            log.debug("could not leave: %s", exc)
        finally:
            self._reader_scope.cancel()
            self._finish()


def _join_failure(session: Session, exc: Exception) -> Exception:
    """What :func:`connect` raises when the session could not be joined."""
    if session.failure is not None:
        return session.failure  # a refused transport handshake (or a bug) says more
    if isinstance(exc, wc.SessionClosed) and exc.reason == wc.CloseDetails.REASON_TRANSPORT_LOST:
        error = wc.TransportError(f"the connection ended before the session was joined: {exc}")
        error.__cause__ = exc
        return error
    return exc


def _authenticators(authentication: Authentication | None) -> list[auth.Authenticator]:
    if authentication is None:
        return []
    if isinstance(authentication, Mapping):
        return [auth.create_authenticator(name, cfg) for name, cfg in authentication.items()]
    return list(authentication)


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
    authenticators = _authenticators(authentication)
    stream, channel_ids = await open_stream(config)
    failure: Exception | None = None
    async with stream:
        conn = wc.make_connection(
            config, realm=realm, authenticators=authenticators, channel_ids=channel_ids
        )
        async with anyio.create_task_group() as tg:
            session = Session(conn, stream, tg)
            try:
                try:
                    await session._start()
                except Exception as exc:  # the join failed; raised below, not in a group
                    failure = _join_failure(session, exc)
                else:
                    try:
                        yield session
                    except Exception as exc:  # re-raised below, not wrapped in a group
                        failure = exc
            finally:
                await session._shutdown()
                tg.cancel_scope.cancel()
    if failure is not None:
        raise failure
