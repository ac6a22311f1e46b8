"""A joined WAMP session over one byte stream, for any :class:`~wamp_core.driver.Runtime`.

Tasks, all in the task group of the connection that owns the session:

* the reader: receives bytes and feeds the connection (``receive_data``/``receive_eof``), sends
  what that produced, then resolves waiters and routes events and invocations;
* per subscription, ``concurrency`` (default 1) deliverers running its handler over a bounded
  queue, in arrival order;
* one task per invocation: runs the procedure handler and sends its answer;
* the keepalive (WebSocket pings), when enabled.

* the writer: drains what the kernel did not take at once (see :mod:`._link`: commands never
  wait for the network and bytes go out in the order the connection made them; a write that
  fails or stalls for :data:`SEND_TIMEOUT` s ends the connection).

On asyncio over a plain socket there is no reader task: the event loop's readiness callback
feeds the connection.

Which event ends which request, and how, is :class:`wamp_core.RequestTracker`'s business; how a
handler is called, :class:`wamp_core.HandlerSpec`'s; when the connection ends every pending
request fails at once with :class:`wamp_core.SessionClosed`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from contextvars import copy_context
from types import AsyncGeneratorType
from typing import Any, ClassVar, Generic, Literal, TypeAlias, TypeVar, cast, overload

import wamp_core as wc
from wamp_core import auth, events as ev

from .._client._types import check_options as _check_options
from .._component._defined import DefinedErrors
from .._component._marks import marked
from .._component._requests import is_answer, sole_error
from ._calls import MAX_QUEUED_CHUNKS, Chunk, Chunks, OpenCall, ProgressiveCall, to_on_progress
from ._inbox import Inbox
from ._link import Link
from ._runtime import CancelScope, Event, Runtime, Stream, TaskGroup
from ._sent import Sent
from ._waiters import MAX_QUEUED_RESULTS, Waiter

__all__ = ["Publication", "Registration", "Session", "Subscription"]

log = logging.getLogger("wamp_core.driver")  # the public name, stable to configure

#: A procedure or event handler: called with the WAMP args and kwargs; sync or async.
Handler: TypeAlias = Callable[..., Any]
#: Authentication settings: Autobahn-style ``{method: config}`` or authenticators.
Authentication: TypeAlias = (
    Mapping[str, Mapping[str, Any] | auth.Authenticator] | Sequence[auth.Authenticator]
)

#: Seconds a session waits, when it is closed, for the leave and the transport's close.
CLOSE_TIMEOUT = 5.0
#: Events a deliverer handles between looks at the clock (a slow handler's: every event; and
#: an invocation runner before it yields to other tasks).
_FAIR_EVENTS = 64
#: Seconds per event (two turns in a row) at which a handler is slow (50,000 events/s), not
#: one a burst of events made fall behind: the reader does not wait for it (it would read too
#: little to keep the session going).
_SLOW_EVENT = 20e-6
#: A subscription's queue takes up to this many times its size more, from the read that
#: fills it (the events of one read, at most).
_BURST_FACTOR = 4
#: Seconds a deliverer handles events in a row before it yields to other tasks: long enough
#: to take what one read of the reader brought (a burst of small events: thousands), so a
#: quick handler keeps up with the reader instead of falling behind it by scheduling alone.
_FAIR_TIME = 0.005
#: Invocations of plain-function handlers queued for their task; beyond that each gets a task.
MAX_QUEUED_INVOCATIONS = 1 << 16
#: Result types that are plainly not awaitable (``inspect.isawaitable`` costs ~0.2 us, an ABC
#: check included, on every plain function's answer).
_PLAIN_RESULTS = frozenset({type(None), int, float, str, bytes, bool, list, dict, tuple})
S = TypeVar("S", bound="Session")
T = TypeVar("T")
_Delivery: TypeAlias = tuple[list[Any], dict[str, Any], wc.EventDetails]


class _Joined(Generic[T]):
    """A session attribute Autobahn has, read from the join's details (``None`` unless
    joined): ``session.realm`` is ``session.details.realm``."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @overload
    def __get__(self, session: None, owner: type) -> _Joined[T]: ...
    @overload
    def __get__(self, session: Session, owner: type) -> T | None: ...
    def __get__(self, session: Session | None, owner: type) -> _Joined[T] | T | None:
        if session is None:
            return self
        details = session.session_details
        return None if details is None else cast(T, getattr(details, self._name))


class Publication(int):
    """An acknowledged publication: its ID, an ``int`` (``.id`` too, as Autobahn's
    ``Publication`` has it)."""

    __slots__ = ()

    @property
    def id(self) -> int:
        return int(self)

    def __repr__(self) -> str:
        return f"Publication(id={int(self)})"


class Registration:
    """A procedure registered by :meth:`Session.register`."""

    def __init__(self, session: Session, procedure: str, spec: wc.HandlerSpec) -> None:
        self.session = session
        self.procedure = procedure
        self.spec = spec
        #: The router's registration ID (0 until the router confirms the registration).
        self.id = 0
        self.active = False
        #: A plain function (no coroutine function, async generator or ``chunks``): its
        #: invocations run one after another in the session's one task for them (it cannot
        #: overlap with anything anyway), without a task and a cancel scope each.
        self.plain = (
            spec.chunks_arg is None
            and not spec.is_async_generator
            and not inspect.iscoroutinefunction(spec.handler)
        )

    @property
    def handler(self) -> Handler:
        return self.spec.handler

    def __repr__(self) -> str:
        return f"<Registration {self.procedure!r} id={self.id}>"

    def unregister(self) -> Sent[None]:
        """End the registration: the UNREGISTER goes out now, as in Autobahn (a ported
        ``registration.unregister()`` without ``await`` still unregisters); awaiting the
        result waits until the router confirms (invocations that arrive meanwhile still
        run)."""
        return self.session._unregister(self)


class Subscription:
    """A subscription made by :meth:`Session.subscribe`.

    Its events wait in a queue of ``SubscribeOptions.queue_size``; when the handler falls that
    far behind, newer events are dropped (counted in :attr:`dropped`, logged as a warning)
    instead of memory growing or the whole session stalling. Beyond that size the queue takes
    the rest of the read that filled it (one read from the network may bring more events than
    the queue holds), up to four times its size more: a handler that keeps up loses none to a
    burst.
    """

    def __init__(
        self, session: Session, topic: str, spec: wc.HandlerSpec, options: wc.SubscribeOptions
    ) -> None:
        self.session = session
        self.topic = topic
        self.spec = spec
        self.options = options
        #: The router's subscription ID (0 until the router confirms the subscription).
        self.id = 0
        self.active = False
        #: Events dropped because the queue was full.
        self.dropped = 0
        self._inbox: Inbox[_Delivery] | None = None
        # Retained events are this subscription's (get_retained, and the router's newest
        # SUBSCRIBED on its ID): the router sends them after that SUBSCRIBED, on the ID other
        # local subscriptions share.
        self._retained_due = False

    @property
    def handler(self) -> Handler:
        return self.spec.handler

    def __repr__(self) -> str:
        return f"<Subscription {self.topic!r} id={self.id}>"

    def unsubscribe(self) -> Sent[None]:
        """End the subscription: from the call on, its handler is not called again (events
        queued for it are dropped; one it is handling finishes). The UNSUBSCRIBE goes out
        now, as in Autobahn (a ported ``subscription.unsubscribe()`` without ``await`` still
        unsubscribes); awaiting the result waits until the router confirms."""
        return self.session._unsubscribe(self)

    def _deliver(self, delivery: _Delivery) -> None:
        inbox = self._inbox
        if inbox is None or inbox.put(delivery):
            return
        session = self.session
        if not inbox.slow:  # (the reader lets a quick handler take some first)
            session._link.crowded.add(inbox)
        if not inbox.put(delivery, min(session._burst, _BURST_FACTOR * self.options.queue_size)):
            self.dropped += 1
            if self.dropped & (self.dropped - 1) == 0:  # 1, 2, 4, 8...: say it, not flood
                log.warning(
                    "%r: the handler is %d events behind; %d event(s) dropped so far",
                    self,
                    self.options.queue_size,
                    self.dropped,
                )

    def _stop(self, *, discard: bool = False) -> None:
        """No more events for this subscription; the queued ones are still handled unless
        ``discard`` (the application unsubscribed: its handler is not called again)."""
        self.active = False
        if self._inbox is not None:
            discarded = self._inbox.close(discard=discard)
            self._inbox = None
            if discarded:
                log.debug("%r: %d queued event(s) discarded on unsubscribe", self, discarded)


def _not_cancelled() -> None:
    return None


class Session:
    """A WAMP session; joined by :func:`connect` or a :class:`Component` (one per connection).

    ``session_factory(config)`` may build a subclass; the driver attaches it to a connection.
    """

    #: The async library this session runs on (set by each driver's subclass).
    runtime: ClassVar[Runtime]
    transport: wc.TransportConfig
    _conn: wc.Connection
    _stream: Stream
    _tg: TaskGroup

    def __init__(self, config: wc.ComponentConfig | None = None) -> None:
        rt = self._rt = self.runtime
        self.config = config if config is not None else wc.ComponentConfig()
        self._tracker: wc.RequestTracker[Waiter] = wc.RequestTracker()
        self._defined = self._tracker.defined = DefinedErrors()
        self._join = rt.progressive_waiter()
        self._waiter: type[Waiter] = rt.progressive_waiter
        self._done = rt.event()
        self._broken = False
        self._disconnecting = False
        self._yielded: Sent[None] = Sent(rt.checkpoint)
        # Shielded: only the session stops its reader and writer (they must outlive an outer
        # cancellation long enough to say and read GOODBYE while leaving).
        self._reader_scope = rt.cancel_scope(shield=True)
        self._writer_scope = rt.cancel_scope(shield=True)
        self._registrations: dict[int, Registration] = {}
        # Registrations the router ended lately (UNREGISTERED, revoked): the invocations it
        # sent before still run (their handler's turn may come after the end was read).
        self._ended_registrations: dict[int, Registration] = {}
        #: Running invocations (request ID -> the handler's cancel scope), for INTERRUPT.
        self._invocations: dict[int, CancelScope] = {}
        #: The runtime's cheaper start for invocations' tasks (``None``: the task group's),
        #: the tasks it started that still run (their cancel scope -> the task: held here, as
        #: the loop holds its tasks weakly), and the event that says none do.
        self._spawn: Callable[[Coroutine[Any, Any, None]], object] | None = None
        #: Before a call: ``None``, or what raises the caller's cancellation (see _attach;
        #: before a connection nothing can be sent: the request fails with SessionClosed).
        self._cancel_point: Callable[[], Awaitable[None] | None] = _not_cancelled
        self._detached: dict[CancelScope, object] = {}
        self._idle: Event | None = None
        #: Running progressive call invocations' further chunks (request ID -> chunks).
        self._chunks: dict[int, Chunks] = {}
        #: Invocations of plain-function handlers, for the task that runs them (made with the
        #: first one).
        self._plain: Inbox[ev.InvocationReceived] | None = None
        self._subscriptions: dict[int, list[Subscription]] = {}
        #: Event deliverer tasks running, and the event set when the last one returns.
        self._delivering = 0
        self._delivered: Event | None = None
        #: Events of the read being dispatched: a subscription's queue takes that many more
        #: (see Subscription).
        self._burst = 0
        #: Why the reader stopped early (a refused transport handshake, a bug), if it did.
        self.failure: Exception | None = None
        #: The ``SystemExit`` or ``KeyboardInterrupt`` a handler raised: the session leaves,
        #: then ``connect()`` (and a Component's ``run()``) raises it as itself.
        self.exit: BaseException | None = None
        #: The joined session's details (``None`` until joined).
        self.details: wc.SessionDetails | None = None
        self._pong = rt.event()
        #: How the session ended (``None`` while it has not).
        self.close_details: wc.CloseDetails | None = None

    @classmethod
    def connect(
        cls: type[S],
        transport: wc.TransportSpec | Sequence[wc.TransportSpec],
        *,
        realm: str = "realm1",
        authentication: Authentication | None = None,
    ) -> AbstractAsyncContextManager[S]:
        """Connect, join ``realm`` and yield the session; leave and close on exit (each
        driver's ``connect``)::

            async with wamp_trio.connect("rs://127.0.0.1:8080", realm="realm1") as session:
                ...

        ``transport`` is anything :func:`wamp_core.parse_transports` takes; several are tried
        once each, in order, until one joins, as a :class:`Component` tries them with
        ``max_retries`` 0 (no retries, no delays). ``authentication`` is Autobahn-style
        ``{method: config}`` or a list of :class:`wamp_core.auth.Authenticator`.

        With one transport, raises :class:`wamp_core.TransportError` when the connection
        cannot be made (:class:`wamp_core.HandshakeError` when the router refuses the
        transport), :class:`wamp_core.SessionClosed` when the join is refused
        (:class:`wamp_core.AuthenticationError` when authentication fails). With several,
        when none joined: :class:`wamp_core.ReconnectExhausted` (a ``TransportError``), which
        names each one's failure (``failures``; the last one is its ``__cause__``).
        """
        from ._connect import connect  # noqa: PLC0415 - the connection module uses sessions

        return connect(cls, transport, realm=realm, authentication=authentication)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} id={self.session_id} realm={self.config.realm!r}>"

    def _attach(
        self, transport: wc.TransportConfig, conn: wc.Connection, stream: Stream,
        task_group: TaskGroup,
    ) -> None:  # fmt: skip
        self.transport = transport
        self._conn = conn
        self._stream = stream
        self._tg = task_group
        self._link = Link(self._rt, conn, stream, self._dispatch, self._transport_lost)
        conn.session.defer_auth_work = True  # a key derivation runs in a worker thread
        self._waiter = self._rt.plain_waiter()
        self._spawn = self._rt.detached_spawner()
        self._cancel_point = self._rt.cancel_point()

    @property
    def closed(self) -> bool:
        """The connection has ended: every further command raises SessionClosed."""
        return self._done.is_set() or self._broken

    @property
    def session_id(self) -> int | None:
        """The WAMP session ID while joined."""
        return self.details.session if self.details is not None and not self.closed else None

    def is_attached(self) -> bool:
        """True while the session is joined (Autobahn's name)."""
        return self.session_id is not None and self._conn.session.is_joined

    def is_connected(self) -> bool:
        """True while the transport is open (Autobahn's name)."""
        return not self.closed

    # Autobahn's session attributes, read from the join's details (``None`` unless joined).

    @property
    def session_details(self) -> wc.SessionDetails | None:
        """The join's details (Autobahn's name for :attr:`details`), while joined."""
        return self.details if self.session_id is not None else None

    realm: _Joined[str] = _Joined()
    authid: _Joined[str | None] = _Joined()
    authrole: _Joined[str | None] = _Joined()
    authmethod: _Joined[str | None] = _Joined()
    authprovider: _Joined[str | None] = _Joined()
    authextra: _Joined[dict[str, Any]] = _Joined()

    # ----------------------------------------------------------------------------------------
    # Calls

    async def call(
        self, procedure: str, /, *args: Any, options: wc.CallOptions | None = None, **kwargs: Any
    ) -> Any:
        """Call ``procedure``; return its single result, or a :class:`wamp_core.CallResult`
        when it has several or keyword results (always with ``CallOptions(details=True)``).

        ``options.on_progress`` receives progressive results (``*args, **kwargs``, or the
        :class:`~wamp_core.CallResult` with ``details=True``; sync or async) in the caller's
        task, in order (an exception it raises cancels the call and is raised here; a callback
        :data:`~wamp_core.driver.MAX_QUEUED_RESULTS` results behind cancels it too, see
        :class:`ProgressiveCall`). ``options.timeout`` is enforced here too: the call is canceled
        (``options.cancel_mode``) and :class:`~wamp_core.ApplicationError`
        ``wamp.error.timeout`` raised. Cancelling the caller cancels the call the same way.
        Raises :class:`~wamp_core.ApplicationError` for the callee's (or router's) error and
        :class:`~wamp_core.SessionClosed` when the session ends first.
        """
        # A caller cancelled already sends nothing (trio's rule: a cancelled operation did
        # not happen; the callee would have run, whatever CANCEL followed).
        if (cancelled := self._cancel_point()) is not None:
            await cancelled
        if options is None:
            try:
                request_id, waiter = self._issue_call(procedure, args, kwargs, None)
            except wc.SessionClosed:
                await self._rt.checkpoint()  # (see _request)
                raise
            try:
                return await waiter.wait()
            except self._rt.cancelled:
                self._abandon_call(request_id, "kill")
                raise
        _check_options(wc.CallOptions, options, "call")
        try:
            request_id, waiter = self._issue_call(
                procedure, args, kwargs, options, progressive=options.on_progress is not None,
                whole_result=options.details,
            )  # fmt: skip
        except wc.SessionClosed:
            await self._rt.checkpoint()  # (see _request)
            raise
        return await self._await_call(request_id, waiter, options)

    async def _await_call(self, request_id: int, waiter: Waiter, options: wc.CallOptions) -> Any:
        """The call's result under its local deadline, progressive results to ``on_progress``."""
        on_progress = options.on_progress
        if on_progress is None:
            return await self._within_deadline(request_id, waiter, options, waiter.wait)

        async def results() -> Any:
            while (chunk := await waiter.next_chunk()) is not None:
                await to_on_progress(options, chunk)
            return waiter.unwrap()

        return await self._within_deadline(request_id, waiter, options, results)

    def iter_call(
        self, procedure: str, /, *args: Any, options: wc.CallOptions | None = None, **kwargs: Any
    ) -> ProgressiveCall:
        """Call ``procedure`` asking for progressive results, iterated as they arrive::

        async with session.iter_call("com.example.count", 3) as results:
            async for result in results:  # CallResult; the last has progress=False
                ...
        """
        _check_options(wc.CallOptions, options, "iter_call")
        base = options if options is not None else wc.CallOptions()
        if not base.wants_progress:
            base = _with_progress(base)
        return ProgressiveCall(self, procedure, args, kwargs, base)

    def open_call(
        self, procedure: str, /, *args: Any, options: wc.CallOptions | None = None, **kwargs: Any
    ) -> OpenCall:
        """Call ``procedure`` with arguments sent in chunks (a progressive call invocation);
        ``args``/``kwargs`` are the first chunk::

            async with session.open_call("com.example.sum", 1, 2) as call:
                await call.send(3)
                total = await call.finish(4)

        See :class:`OpenCall`; the callee receives the chunks through its ``chunks``
        parameter (:class:`Chunks`).
        """
        _check_options(wc.CallOptions, options, "open_call")
        return OpenCall(self, procedure, args, kwargs, options or wc.CallOptions())

    def _issue_call(
        self, procedure: str, args: Sequence[Any], kwargs: Mapping[str, Any],
        options: wc.CallOptions | None, *, progressive: bool = False, whole_result: bool = False,
        streaming: bool = False,
    ) -> tuple[int, Waiter]:  # fmt: skip
        # A plain function (no coroutine to build and await on every call).
        if progressive:
            waiter = self._rt.progressive_waiter(progressive=True)
            waiter.cancel_mode = "kill" if options is None else options.cancel_mode
        else:
            waiter = self._waiter()
        # A command the transport cannot carry raises here, and nothing was sent.
        request_id = self._conn.session.call(
            procedure, args, kwargs or None, options, progress=streaming
        )
        self._tracker.add(request_id, "call", waiter, whole_result=whole_result)
        self._link.push(batch=len(self._tracker) > 1)
        return request_id, waiter

    async def _send_chunk(
        self, request_id: int, args: Sequence[Any], kwargs: Mapping[str, Any], *, final: bool
    ) -> bool:
        """Send a further chunk of an open call; ``False`` if the call has ended."""
        if self._tracker.get(request_id) is None:
            return False
        try:
            self._conn.session.call_progress(request_id, args, kwargs or None, final=final)
        except (wc.EncodingError, wc.MessageTooLarge):
            raise  # this chunk cannot go (nothing was sent: the call is still open)
        except wc.LocalProtocolError:  # the core knows the call has ended
            return False
        self._link.push()
        await self._link.backpressure()
        return True

    async def _within_deadline(
        self, request_id: int, waiter: Waiter, options: wc.CallOptions,
        wait: Callable[[], Any], deadline: float | None = None,
    ) -> Any:  # fmt: skip
        """Run ``wait`` under the call's local deadline; give the call up on timeout,
        cancellation or an error of ``wait``'s own (``on_progress`` raised) with CANCEL in the
        options' mode (a call that ended with its error needs none).

        The deadline is ``options.timeout`` from now, or ``deadline`` (the runtime's clock) for
        a call awaited in parts (:class:`ProgressiveCall`: the timeout is the whole call's; once
        the call has ended, what it left is handed out whenever it is read)."""
        timeout = options.timeout
        if deadline is not None:
            ended = request_id not in self._tracker
            timeout = None if ended else max(deadline - self._rt.current_time(), 0.0)
        try:
            with self._rt.move_on_after(timeout):
                if timeout != 0:  # (0: the deadline has passed)
                    return await wait()
        except BaseException:
            self._abandon_call(request_id, options.cancel_mode)
            raise
        finally:
            del waiter  # (the tracker holds it while pending)
        # The deadline cancelled the wait (or had passed).
        self._abandon_call(request_id, options.cancel_mode)
        raise wc.ApplicationError(
            wc.ApplicationError.TIMEOUT,
            f"the call did not end within {options.timeout} s (local deadline)",
        )

    def _abandon_call(self, request_id: int, mode: wc.CancelMode) -> None:
        """Stop waiting for a call (its caller gave up, or fell behind): a late answer is
        dropped; CANCEL in ``mode`` goes out when the dealer supports it. Never waits."""
        if self._tracker.discard(request_id) is None:
            return
        try:
            self._conn.session.cancel(request_id, mode)
        except wc.WampError as exc:
            log.debug("call %d not canceled: %s", request_id, exc)
        self._dispatch(self._conn.take_events())
        self._link.push()

    # ----------------------------------------------------------------------------------------
    # Publish, register, subscribe, leave

    def publish(
        self,
        topic: str,
        /,
        *args: Any,
        options: wc.PublishOptions | None = None,
        **kwargs: Any,
    ) -> Sent[Publication | None]:
        """Publish to ``topic``: the PUBLISH goes out now, as in Autobahn (so a ported
        ``session.publish(...)`` without ``await`` still publishes; an invalid one raises
        here). Awaiting the result waits, with ``PublishOptions(acknowledge=True)``, for the
        broker and returns the :class:`Publication` (its ID; an error raises); otherwise ``None``
        after one scheduling point (other tasks run), or once fewer than :data:`HIGH_WATER`
        bytes are queued for a slow link."""
        _check_options(wc.PublishOptions, options, "publish")
        if options is None or not options.acknowledge:
            self._conn.session.publish(topic, args, kwargs or None, options)
            self._link.push()
            # Awaited, it yields once (trio's rule: a loop of awaited publishes lets the other
            # tasks run, its cancel scope too); not awaited, it has been sent all the same.
            return Sent(self._link.backpressure) if self._link.congested else self._yielded
        request_id, waiter = self._issue(
            "publish", lambda: self._conn.session.publish(topic, args, kwargs or None, options)
        )
        return Sent(lambda: self._publication(request_id, waiter))

    async def _publication(self, request_id: int | None, waiter: Waiter) -> Publication:
        return Publication(await self._outcome("publish", request_id, waiter))

    @overload
    async def register(
        self,
        handler: Handler,
        procedure: str,
        options: wc.RegisterOptions | None = None,
        *,
        prefix: str | None = None,
        check_types: bool = False,
    ) -> Registration: ...

    @overload
    async def register(
        self,
        handler: object,
        procedure: None = None,
        options: wc.RegisterOptions | None = None,
        *,
        prefix: str | None = None,
        check_types: bool = False,
    ) -> list[Registration]: ...

    async def register(
        self,
        handler: Any,
        procedure: str | None = None,
        options: wc.RegisterOptions | None = None,
        *,
        prefix: str | None = None,
        check_types: bool = False,
    ) -> Registration | list[Registration]:
        """Register ``handler`` (sync or async function, or async generator for progressive
        results) as ``procedure`` (after ``prefix``, when given).

        Without ``procedure``: register every method of the object ``handler`` marked with
        ``@wamp.register(uri)`` (:mod:`wamp_core.wamp`, or Autobahn's), each bound to it and
        with its own options (else ``options``), and return the list of registrations (in
        the order of the methods' names). They are made one after another; when one fails,
        those made are unregistered and the error is raised.

        It is called with the call's args and kwargs (and :class:`wamp_core.CallDetails` when
        asked, see :class:`wamp_core.HandlerSpec`). Its return value is the result (a
        :class:`wamp_core.CallResult` for several or keyword results); an async generator's
        values are progressive results, the last one final. An
        :class:`wamp_core.ApplicationError` it raises reaches the caller as is; any other
        exception as ``wamp.error.runtime_error`` with its message (no traceback).
        ``check_types`` answers ``wamp.error.invalid_argument`` for arguments that do not fit
        the handler's signature and annotations. A plain function's invocations run one after
        another in one task of the session (arrival order, each in a copy of the context); a
        coroutine function's each get a task, which INTERRUPT cancels.
        """
        _check_options(wc.RegisterOptions, options, "register")
        if procedure is None:
            return await self._marked("register", handler, prefix, options, check_types)
        if prefix is not None:
            procedure = prefix + procedure
        spec = wc.HandlerSpec(
            handler, details=_details_of(options), check_types=check_types, chunks=True
        )
        registration = Registration(self, procedure, spec)

        def registered(registration_id: int) -> None:
            registration.id = registration_id
            registration.active = True
            self._registrations[registration_id] = registration

        def undo() -> int | None:
            if not registration.active:
                return None
            registration.active = False
            self._registrations.pop(registration.id, None)
            return self._conn.session.unregister(registration.id)

        await self._request(
            "register",
            lambda: self._conn.session.register(procedure, options),
            on_success=registered,
            undo=undo,
        )
        return registration

    @overload
    async def subscribe(
        self,
        handler: Handler,
        topic: str,
        options: wc.SubscribeOptions | None = None,
        *,
        prefix: str | None = None,
        check_types: bool = False,
    ) -> Subscription: ...

    @overload
    async def subscribe(
        self,
        handler: object,
        topic: None = None,
        options: wc.SubscribeOptions | None = None,
        *,
        prefix: str | None = None,
        check_types: bool = False,
    ) -> list[Subscription]: ...

    async def subscribe(
        self,
        handler: Any,
        topic: str | None = None,
        options: wc.SubscribeOptions | None = None,
        *,
        prefix: str | None = None,
        check_types: bool = False,
    ) -> Subscription | list[Subscription]:
        """Subscribe ``handler`` (sync or async, called with the event's args and kwargs, and
        :class:`wamp_core.EventDetails` when asked) to ``topic`` (after ``prefix``, when
        given).

        Without ``topic``: subscribe every method of the object ``handler`` marked with
        ``@wamp.subscribe(topic)``, as :meth:`register` does with its marks.

        Events reach the handler in publication order, one at a time
        (``SubscribeOptions.concurrency`` allows more); see :class:`Subscription` for what
        happens when it falls behind. An exception in the handler is logged (``ERROR``, with
        its traceback, logger ``wamp_core.driver``) and the next event is handled.
        """
        _check_options(wc.SubscribeOptions, options, "subscribe")
        if topic is None:
            return await self._marked("subscribe", handler, prefix, options, check_types)
        if prefix is not None:
            topic = prefix + topic
        opts = options if options is not None else wc.SubscribeOptions()
        spec = wc.HandlerSpec(handler, details=_details_of(opts), check_types=check_types)
        subscription = Subscription(self, topic, spec, opts)

        def subscribed(subscription_id: int) -> None:
            subscription.id = subscription_id
            subscription.active = True
            inbox = Inbox[_Delivery](self._rt, opts.queue_size)
            subscription._inbox = inbox
            for _ in range(opts.concurrency):
                self._tg.start_soon(self._deliver_events, subscription, inbox)
            sharing = self._subscriptions.setdefault(subscription_id, [])
            for other in sharing:  # their retained events came before this SUBSCRIBED
                other._retained_due = False
            subscription._retained_due = bool(opts.get_retained)
            sharing.append(subscription)

        def undo() -> int | None:
            if not subscription.active:
                return None
            self._detach(subscription, subscription.id)
            return self._conn.session.unsubscribe(subscription.id)

        await self._request(
            "subscribe",
            lambda: self._conn.session.subscribe(topic, opts),
            on_success=subscribed,
            undo=undo,
        )
        return subscription

    def define(self, exception: type[Exception], error: str | None = None) -> None:
        """Map the exception class ``exception`` to the error URI ``error`` (or to its
        ``@wamp.error(uri)`` mark, ours from :mod:`wamp_core.wamp` or Autobahn's), both ways,
        for this session: a handler raising it (or a subclass) answers with that URI, its
        ``args`` and its ``kwargs`` attribute (a dict) when it has one, and is not logged as a
        failure; a call (or other request) failing with that URI raises the class built from
        the error's args and kwargs (the :class:`~wamp_core.ApplicationError` as its
        ``__cause__``; when the class cannot be built from them, the ApplicationError, with a
        warning logged). A class or URI defined again is redefined."""
        self._defined.define(exception, error)

    async def _marked(
        self,
        kind: Literal["register", "subscribe"],
        target: object,
        prefix: str | None,
        options: wc.RegisterOptions | wc.SubscribeOptions | None,
        check_types: bool,
    ) -> list[Any]:
        """Register or subscribe every ``kind`` mark of ``target``: all or nothing (on any
        error, cancellation too, those made are ended again and the error is raised)."""
        make = cast(
            "Callable[..., Coroutine[Any, Any, Registration | Subscription]]",
            self.register if kind == "register" else self.subscribe,
        )
        marks = marked(target, kind, prefix=prefix, options=options, check_types=check_types)
        made: list[Registration | Subscription] = []
        try:
            for mark in marks:
                made.append(
                    await make(mark.handler, mark.uri, mark.options, check_types=mark.check_types)
                )
        except BaseException:
            for request in made:
                try:  # (sent at once; the answer is not awaited)
                    if isinstance(request, Registration):
                        request.unregister()
                    else:
                        request.unsubscribe()
                except wc.WampError as exc:  # the session ended: nothing is left to end
                    log.debug("%r not ended: %s", request, exc)
            raise
        return made

    def leave(self, reason: str = "wamp.close.normal", message: str | None = None) -> Sent[None]:
        """Leave the session: the GOODBYE goes out now, as in Autobahn (a ported
        ``session.leave()`` without ``await`` still leaves); awaiting the result waits until
        the router answered and the transport closed, at most the close timeout (the
        transport's ``close_handshake_timeout``, else :data:`CLOSE_TIMEOUT`): then the
        transport is given up."""
        if self._conn.session.state is wc.SessionState.ESTABLISHED:
            self._conn.session.leave(reason, message)
            self._link.push()
        return Sent(self._left)

    async def _left(self) -> None:
        timeout = self._close_timeout
        with self._rt.move_on_after(timeout):
            await self._done.wait()
            return
        log.warning("no answer to GOODBYE within %s s: closing the connection", timeout)
        self._lost(f"no answer to GOODBYE within {timeout} s")
        await self._rt.aclose_forcefully(self._stream)

    def disconnect(self) -> Sent[None]:
        """Close the transport at once, without leaving: pending requests fail with
        :class:`wamp_core.SessionClosed` (``wamp.close.transport_lost``); a component's run is
        then done, as after :meth:`leave`. It is given up now, as in Autobahn (a ported
        ``self.disconnect()`` in ``onLeave`` needs no ``await``); awaiting the result waits
        until the socket is closed."""
        self._disconnecting = True  # (a local end: the run is done, as after leave())
        self._lost("disconnected")
        task_group = getattr(self, "_tg", None)
        if task_group is not None:
            # The socket closes now, whether or not the result is awaited (a RuntimeError: the
            # session's tasks have ended, it is closed already).
            with contextlib.suppress(RuntimeError):
                task_group.start_soon(self._close_stream)
        return Sent(self._close_stream)

    async def _close_stream(self) -> None:
        await self._rt.aclose_forcefully(self._stream)

    async def wait_closed(self) -> None:
        """Return once the session and its transport have ended."""
        await self._done.wait()

    # ----------------------------------------------------------------------------------------
    # Requests

    async def _request(
        self,
        kind: ev.RequestKind,
        issue: Callable[[], int | None],
        on_success: Callable[[Any], None] | None = None,
        undo: Callable[[], int | None] | None = None,
    ) -> Any:
        """Issue a request and wait for its value. When the caller is cancelled first, a late
        answer is dropped, and a subscribe's or register's late success undone by the core
        (no subscription or registration left at the router without its handler). ``undo``
        (issuing what undoes it) runs when ``on_success`` had run already: the answer came
        just as the caller gave up."""
        try:
            request_id, waiter = self._issue(kind, issue, on_success)
        except wc.SessionClosed:
            # Refused at once, it still yields (trio's rule for async calls): an application
            # retrying in a loop lets the reader end the session and the Component reconnect.
            await self._rt.checkpoint()
            raise
        return await self._outcome(kind, request_id, waiter, undo)

    def _issue(
        self,
        kind: ev.RequestKind,
        issue: Callable[[], int | None],
        on_success: Callable[[Any], None] | None = None,
    ) -> tuple[int | None, Waiter]:
        """Send a request now: its ID (``None``: it needs no answer) and its waiter."""
        waiter = self._waiter(on_success)
        # A command the transport cannot carry raises here, and nothing was sent.
        request_id = issue()
        if request_id is not None:
            self._tracker.add(request_id, kind, waiter)
            self._link.push()
        return request_id, waiter

    async def _outcome(
        self,
        kind: ev.RequestKind,
        request_id: int | None,
        waiter: Waiter,
        undo: Callable[[], int | None] | None = None,
    ) -> Any:
        """Wait for an issued request's value (see :meth:`_request`)."""
        if request_id is None:
            return None
        try:
            return await waiter.wait()
        except self._rt.cancelled:
            if self._tracker.discard(request_id) is not None:
                self._conn.session.abandon(request_id)
            elif undo is not None:
                try:
                    undo()
                except wc.WampError as exc:  # (the session has ended: nothing left to undo)
                    log.debug("%s %d not undone: %s", kind, request_id, exc)
                self._link.push()
            raise

    def _unregister(self, registration: Registration) -> Sent[None]:
        self._conn.session._require_joined("unregister")  # (ended: SessionClosed, as call())
        registration_id = registration.id
        if registration_id is None or self._registrations.get(registration_id) is not registration:
            raise wc.LocalProtocolError(f"{registration!r} is not registered")
        # UNREGISTERED ends the registration here (_route_other), even when this caller is
        # cancelled before it comes; until then its invocations are still answered.
        return self._sent("unregister", lambda: self._conn.session.unregister(registration_id))

    def _unsubscribe(self, subscription: Subscription) -> Sent[None]:
        self._conn.session._require_joined("unsubscribe")  # (ended: SessionClosed, as call())
        subscription_id = subscription.id
        if subscription_id is None or not subscription.active:
            raise wc.LocalProtocolError(f"{subscription!r} is not subscribed")
        # The handler is not called again from now on (events queued for it are dropped; one
        # it is handling finishes), whatever the router answers.
        self._detach(subscription, subscription_id)
        return self._sent("unsubscribe", lambda: self._conn.session.unsubscribe(subscription_id))

    def _sent(self, kind: ev.RequestKind, issue: Callable[[], int | None]) -> Sent[None]:
        """Send a request now; the result awaits its answer (see :meth:`_request`)."""
        request_id, waiter = self._issue(kind, issue)

        async def answered() -> None:  # (the router's answer carries nothing for the caller)
            await self._outcome(kind, request_id, waiter)

        return Sent(answered)

    def _detach(self, subscription: Subscription, subscription_id: int) -> None:
        """No more events for ``subscription``'s handler, nor the ones queued for it."""
        subscription._stop(discard=True)
        users = self._subscriptions.get(subscription_id, [])
        if subscription in users:
            users.remove(subscription)
        if not users:
            self._subscriptions.pop(subscription_id, None)

    def _lost(self, reason: str) -> None:
        """Give the transport up (the link reports it once, to :meth:`_transport_lost`)."""
        self._link.lost(reason)

    def _transport_lost(self, reason: str) -> None:
        """The transport is unusable: end the connection, fail everything, stop reading."""
        self._broken = True
        if self.failure is None:  # (a write failing in the opening handshake: as a read's)
            self.failure = self._link.handshake_failure(reason)
        self._dispatch(self._conn.connection_lost(reason, local=self._disconnecting))
        self._finish()
        self._reader_scope.cancel()

    # ----------------------------------------------------------------------------------------
    # Reading

    async def _start(self, realm: str, authenticators: Sequence[auth.Authenticator]) -> None:
        """Send the opening handshake and HELLO, start the reader, wait until joined."""
        self._conn.join(realm, authenticators)
        self._conn.initiate()
        self._link.push()
        if self._spawn is not None:  # first: it must be running before any invocation is
            self._tg.start_soon(self._guard_detached)
        self._tg.start_soon(self._write)
        self._tg.start_soon(self._read)
        self.details = await self._join.wait()
        interval, timeout = _keepalive(self.transport)
        if interval:
            self._tg.start_soon(self._keepalive, interval, timeout)

    @property
    def _close_timeout(self) -> float:
        """How long leaving may take: the transport's ``close_handshake_timeout`` option, else
        :data:`CLOSE_TIMEOUT`."""
        return float(self.transport.options.get("close_handshake_timeout", CLOSE_TIMEOUT))

    async def _write(self) -> None:
        with self._writer_scope:
            await self._link.write()

    async def _read(self) -> None:
        with self._reader_scope:
            try:
                await self._link.read()
            except Exception as exc:
                # HandshakeError (the router refused the transport), or a bug: never hang.
                if not isinstance(exc, wc.HandshakeError):
                    log.exception("the WAMP reader failed")
                self.failure = exc
                self._dispatch(self._conn.connection_lost(str(exc)))
            finally:
                self._finish()

    async def _keepalive(self, interval: float, timeout: float) -> None:
        """Ping every ``interval`` s; a peer that does not answer within ``timeout`` s, and
        showed no other life meanwhile, is dead: the connection is given up (pending requests
        fail at once). Bytes arriving are a sign of life (on a slow link the pong waits
        behind a large message), and so are bytes of ours it acknowledges (our ping waits
        behind a large message we send; where the system tells, see :meth:`Link.moved_since`)."""
        size = self.transport.options.get("auto_ping_size")
        while not self.closed:
            await self._rt.sleep(interval)
            self._pong = self._rt.event()
            if self.closed:
                return
            try:
                self._conn.ping(b"wamp-py" if size is None else os.urandom(size))
            except wc.LocalProtocolError:  # closing (we left): the close wait is bounded
                return
            self._link.push()
            mark = self._link.mark()
            with self._rt.move_on_after(timeout):
                await self._pong.wait()
                continue
            if not self.closed and not self._link.moved_since(mark):
                log.warning("no answer to a ping within %s s: the connection is dead", timeout)
                self._lost(f"keepalive: no pong within {timeout} s")
                await self._rt.aclose_forcefully(self._stream)

    def _finish(self) -> None:
        """Nothing more will arrive: fail whatever still waits (idempotent)."""
        if self.close_details is None:
            self.close_details = wc.CloseDetails(wc.CloseDetails.REASON_TRANSPORT_LOST)
        error = self.failure if isinstance(self.failure, wc.WampError) else None
        closed = wc.SessionClosed(
            f"the connection ended{f': {error}' if error else ''}",
            reason=wc.CloseDetails.REASON_TRANSPORT_LOST,
        )
        self._join.resolve(wc.Outcome(error=closed))
        for waiter, outcome in self._tracker.close(closed):
            waiter.resolve(outcome)
        for users in self._subscriptions.values():
            for subscription in users:
                subscription._stop()
        self._subscriptions.clear()
        for registration in self._registrations.values():
            registration.active = False
        self._registrations.clear()
        self._ended_registrations.clear()
        # A handler reading a caller's chunks would wait for chunks that can no longer come
        # (and its answer cannot go out): cancel it rather than let it see a short stream.
        for request_id in self._chunks:
            scope = self._invocations.get(request_id)
            if scope is not None:
                scope.cancel()
        if self._plain is not None:
            self._plain.close()
        self._done.set()

    def _dispatch(self, events: list[wc.ConnectionEvent]) -> None:
        self._burst = len(events)
        for event in events:
            if type(event) is ev.EventDelivered:
                delivery = (event.args, event.kwargs, event.details)
                subscriptions = self._subscriptions.get(event.subscription_id, ())
                if len(subscriptions) == 1:
                    subscriptions[0]._deliver(delivery)
                    continue
                retained = event.details.retained  # only for the subscription that asked
                for subscription in subscriptions:
                    if not retained or subscription._retained_due:
                        subscription._deliver(delivery)
                continue
            if type(event) is ev.InvocationReceived:
                if event.continuation:
                    self._continue_invocation(event)
                    continue
                registration = self._registrations.get(event.registration_id)
                if (
                    registration is not None
                    and registration.plain
                    and not event.details.progress
                    and self._queue_plain(event)
                ):
                    continue
                # Before the handler's task runs: INTERRUPT or further chunks may come first.
                scope = self._invocations[event.request_id] = self._rt.cancel_scope()
                if event.details.progress:
                    self._open_chunks(event)
                self._start_invocation(event, scope)
                continue
            if type(event) is ev.CallProgress:
                waiter = self._tracker.get(event.request_id)
                if waiter is not None and not waiter.progress(event.result):
                    self._fell_behind(event.request_id, waiter)
                continue
            for waiter, outcome in self._tracker.feed(event):
                waiter.resolve(outcome)
            if type(event) is not ev.CallSucceeded:  # a call's result has nothing else to route
                self._route_other(event)

    def _fell_behind(self, request_id: int, waiter: Waiter) -> None:
        """A caller left :data:`MAX_QUEUED_RESULTS` progressive results unread: rather than
        let the callee grow its memory (or drop results), cancel the call (its options'
        mode); the caller still gets the queued results, then ``wamp.error.canceled``."""
        log.warning(
            "call %d: more than %d progressive results unread; canceling it",
            request_id, MAX_QUEUED_RESULTS,
        )  # fmt: skip
        waiter.resolve(wc.Outcome(error=wc.ApplicationError(
            wc.ApplicationError.CANCELED,
            f"the caller fell behind: more than {MAX_QUEUED_RESULTS} progressive results unread",
        )))  # fmt: skip
        self._abandon_call(request_id, waiter.cancel_mode)

    def _queue_plain(self, event: ev.InvocationReceived) -> bool:
        """Hand a plain function's invocation to the task that runs them; ``False`` when its
        queue is full (the invocation then gets a task of its own)."""
        plain = self._plain
        if plain is None:
            plain = self._plain = Inbox(self._rt, MAX_QUEUED_INVOCATIONS)
            self._tg.start_soon(self._run_plain, plain)
        return plain.put(event)

    async def _run_plain(self, inbox: Inbox[ev.InvocationReceived]) -> None:
        """Run plain-function handlers in the order their invocations arrived and answer
        each; the answers of a batch leave together. A spawned task and a cancel scope per
        invocation cost about three times the rest of it, and nothing in a plain function can
        wait or be interrupted."""
        ready = 0
        value: Any = None
        positional: Any = None
        keywords: Any = None
        is_open = self._conn.session.is_open_invocation
        while True:
            event = inbox.get_nowait()
            if event is None:
                ready = 0
                # The last invocation and its answer are not held while none comes.
                value = positional = keywords = None
                self._link.push()
                await self._link.backpressure()
                event = await inbox.get()
                if event is None:
                    return
            else:
                ready += 1
                if ready >= _FAIR_EVENTS:  # let the reader (and everyone else) run
                    ready = 0
                    self._link.push()
                    await self._rt.checkpoint()
            if self.closed or not is_open(event.request_id):
                # The answer could not go (the session ended, or an INTERRUPT came while the
                # invocation was queued: its caller has its answer): skip the work, as a task
                # is cancelled before it starts.
                continue
            # (one that ended since still runs the invocations that came before its end)
            registration = self._registrations.get(
                event.registration_id
            ) or self._ended_registrations.get(event.registration_id)
            if registration is None:  # (undone meanwhile: its caller gave up)
                self._answer(event.request_id, None, wc.ApplicationError(
                    wc.ApplicationError.NO_SUCH_REGISTRATION
                ))  # fmt: skip
                continue
            spec = registration.spec
            try:
                positional, keywords = spec.arguments(event.args, event.kwargs, event.details)
                # In a copy of the context, as in a task of its own: a context variable one
                # invocation sets does not leak into the next.
                value = copy_context().run(spec.handler, *positional, **keywords)
            except Exception as exc:
                _log_failure(registration, exc, self._defined)
                self._answer(event.request_id, None, exc)
                continue
            except (KeyboardInterrupt, SystemExit) as exc:
                self._answer(event.request_id, None, _STOPPING)
                self._exit_with(exc)
                continue
            except BaseException as exc:  # (a cancellation exception the function raised: it
                # cannot wait, so nothing cancelled it; it must not end this task)
                log.error("procedure %s failed", registration.procedure, exc_info=exc)
                self._answer(event.request_id, None, wc.ApplicationError(
                    wc.ApplicationError.RUNTIME_ERROR, f"{type(exc).__name__}: {exc}"
                ))  # fmt: skip
                continue
            if type(value) not in _PLAIN_RESULTS and (
                inspect.isawaitable(value) or isinstance(value, AsyncGeneratorType)
            ):
                # A plain function returning a coroutine or an async generator: its task.
                scope = self._invocations[event.request_id] = self._rt.cancel_scope()
                self._start_invocation(event, scope, value)
                continue
            self._answer(event.request_id, value, None)

    def _answer(self, request_id: int, value: Any, error: Exception | None) -> bool:
        """Queue an invocation's answer; ``False`` when the session has ended."""
        try:
            wc.answer_invocation(
                self._conn.session, request_id, value=value, error=error, logger=log,
                defined=self._defined,
            )  # fmt: skip
        except wc.SessionClosed:
            return False
        return True

    def _route_other(self, event: wc.ConnectionEvent) -> None:
        if isinstance(event, ev.InterruptReceived):
            scope = self._invocations.get(event.request_id)
            if scope is not None:
                scope.cancel()
        elif isinstance(event, ev.PongReceived):
            self._pong.set()
        elif isinstance(event, ev.SubscriptionRevoked):
            for subscription in self._subscriptions.pop(event.subscription_id, ()):
                log.warning("%r revoked by the router: %s", subscription, event.reason)
                subscription._stop()
        elif isinstance(event, ev.Unregistered):
            # Also the answer to an unregister() whose caller was cancelled meanwhile.
            self._end_registration(event.registration_id)
        elif isinstance(event, ev.RegistrationRevoked):
            registration = self._end_registration(event.registration_id)
            if registration is not None:
                log.warning("%r revoked by the router: %s", registration, event.reason)
        elif isinstance(event, ev.Joined):
            self._join.resolve(wc.Outcome(value=event.details))
        elif isinstance(event, ev.ChallengeWork):
            self._tg.start_soon(self._answer_challenge, event.work)
        elif isinstance(event, (ev.Aborted, ev.Left)):
            details = event.details
            self.close_details = details
            self._join.resolve(wc.Outcome(error=details.error()))

    def _exit_with(self, exc: BaseException) -> None:
        """A handler raised ``SystemExit`` or ``KeyboardInterrupt``: the application is
        stopping. Leave (bounded), then end the connection's task group, whose owner
        (:func:`open_session`) raises ``exc`` as itself, not in an exception group."""
        if self.exit is None:
            self.exit = exc
            self._tg.start_soon(self._leave_and_end)

    async def _leave_and_end(self) -> None:
        with self._rt.move_on_after(self._close_timeout):
            if not self.closed and self._conn.session.is_joined:
                try:
                    await self.leave("wamp.close.system_shutdown")
                except wc.WampError as exc:
                    log.debug("could not leave: %s", exc)
        self._tg.cancel_scope.cancel()

    async def _answer_challenge(self, work: Callable[[], object]) -> None:
        """Run a CHALLENGE's key derivation in a worker thread (seconds of CPU, at most as
        long as the authenticator's bounds allow), the loop going on meanwhile; then answer.
        The join's timeout abandons the thread."""
        failure: Exception | None = None
        try:
            await self._rt.run_in_thread(work)
        except Exception as exc:  # the join fails with it (not run again in the loop)
            failure = exc
        self._dispatch(self._conn.answer_challenge(failure))
        self._link.push()

    def _end_registration(self, registration_id: int) -> Registration | None:
        """The router ended a registration: no more invocations come for it, and those that
        came before are still run (:meth:`_run_plain`, :meth:`_invoke`)."""
        registration = self._registrations.pop(registration_id, None)
        if registration is not None:
            registration.active = False
            ended = self._ended_registrations
            ended[registration_id] = registration
            if len(ended) > _ENDED_REGISTRATIONS:
                del ended[next(iter(ended))]
        return registration

    async def _deliver_events(self, subscription: Subscription, inbox: Inbox[_Delivery]) -> None:
        self._delivering += 1
        try:
            await self._deliver(subscription, inbox)
        finally:
            self._delivering -= 1
            if not self._delivering and self._delivered is not None:
                self._delivered.set()

    async def _drain_events(self) -> None:
        """Once the session ended: let the handlers take the events queued before the end
        (their subscriptions are stopped, so the deliverers return when the queues are empty),
        for at most :data:`CLOSE_TIMEOUT`; a cancel stops the wait at once."""
        if self._delivering:
            self._delivered = done = self._rt.event()
            with self._rt.move_on_after(CLOSE_TIMEOUT):
                await done.wait()

    async def _deliver(self, subscription: Subscription, inbox: Inbox[_Delivery]) -> None:
        spec = subscription.spec
        clock = self._rt.current_time
        ready = taken = slow_turns = 0
        fair = _FAIR_EVENTS  # events between looks at the clock: 1 for a slow handler
        turn = clock()
        args: Any = None
        kwargs: Any = None
        details: Any = None
        positional: Any = None
        keywords: Any = None
        result: Any = None
        while True:
            # Take what is queued without a scheduling round trip per event; every
            # _FAIR_EVENTS events, yield if _FAIR_TIME has passed, so other tasks (the reader
            # among them) keep running, before taking the next (an unsubscribe meanwhile
            # empties the queue).
            if ready >= fair:
                taken += ready
                ready = 0
                spent = clock() - turn
                if spent >= _FAIR_TIME:
                    # Slow: two turns in a row (one the system preempted is no slow handler's;
                    # one that blocks is, though it spends no CPU: wall time, not CPU time).
                    # A slow handler's turn ends once it has had _FAIR_TIME, not after 64
                    # events (a 2 ms handler held the loop for 128 ms a turn).
                    slow_turns = slow_turns + 1 if spent >= _SLOW_EVENT * taken else 0
                    slow = inbox.slow = slow_turns >= 2
                    fair = 1 if slow else _FAIR_EVENTS
                    await self._rt.checkpoint()
                    turn = clock()
                    taken = 0
            delivery = inbox.get_nowait()
            if delivery is None:
                ready = 0
                inbox.slow, slow_turns, fair = False, 0, _FAIR_EVENTS  # (it keeps up)
                # The last event's payload is not held while no event comes (it may be large).
                args = kwargs = details = positional = keywords = result = None
                delivery = await inbox.get()
                if delivery is None:
                    return
                turn = clock()
                taken = 0
            else:
                ready += 1
            args, kwargs, details = delivery
            try:
                positional, keywords = spec.arguments(args, kwargs, details)
                result = spec.handler(*positional, **keywords)
                if result is not None and inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("event handler of %r failed", subscription)
            except (KeyboardInterrupt, SystemExit) as exc:
                self._exit_with(exc)

    def _open_chunks(self, event: ev.InvocationReceived) -> None:
        """Queue a progressive call invocation's further chunks for a handler that takes them."""
        registration = self._registrations.get(event.registration_id)
        if registration is not None and registration.spec.chunks_arg is not None:
            self._chunks[event.request_id] = Chunks(self._rt, more=True)

    def _continue_invocation(self, event: ev.InvocationReceived) -> None:
        """A further chunk of a progressive call invocation: to its handler's chunks."""
        request_id = event.request_id
        chunks = self._chunks.get(request_id)
        if chunks is None or chunks.overflowed:  # answered already, refused, or canceled
            log.debug("dropping a further chunk of invocation %d", request_id)
            return
        if not chunks._put(Chunk(event.args, event.kwargs), last=not event.details.progress):
            log.warning(
                "invocation %d: more than %d chunks unread; canceling it",
                request_id, MAX_QUEUED_CHUNKS,
            )  # fmt: skip
            scope = self._invocations.get(request_id)
            if scope is not None:
                scope.cancel()

    def _start_invocation(
        self, event: ev.InvocationReceived, scope: CancelScope,
        started: Any = None,
    ) -> None:  # fmt: skip
        """Start the task of an invocation (:meth:`_invoke`)."""
        spawn = self._spawn
        if spawn is None:
            self._tg.start_soon(self._invoke, event, scope, started)
            return
        self._detached[scope] = spawn(self._invoke_detached(event, scope, started))

    async def _invoke_detached(
        self, event: ev.InvocationReceived, scope: CancelScope, started: Any
    ) -> None:
        """:meth:`_invoke` in a task the runtime started outside the task group: what would
        escape it goes to the task group (which then ends the connection and raises it, as
        for its own tasks), and :meth:`_guard_detached` learns when the last one ends."""
        try:
            await self._invoke(event, scope, started)
        except self._rt.cancelled:
            raise  # not by its scope (that one _invoke catches): the loop is closing
        except BaseException as exc:
            self._tg.start_soon(_reraise, exc)
        finally:
            del self._detached[scope]
            if not self._detached and self._idle is not None:
                self._idle.set()

    async def _guard_detached(self) -> None:
        """Hold the task group open for the invocations' detached tasks: when it is
        cancelled (the connection's end), cancel them through their scopes, as the group
        would, and wait until the last has ended; later invocations get the group's tasks."""
        try:
            await self._rt.event().wait()  # (never set: until the task group is cancelled)
        finally:
            self._spawn = None
            with self._rt.cancel_scope(shield=True):
                while self._detached:
                    for scope in list(self._invocations.values()):
                        scope.cancel()
                    self._idle = self._rt.event()
                    await self._idle.wait()

    async def _invoke(
        self, event: ev.InvocationReceived, scope: CancelScope,
        started: Any = None,
    ) -> None:  # fmt: skip
        """Run an invocation's handler under ``scope`` and answer it; ``started``: what a
        plain function already returned for it (an awaitable or an async generator: see
        :meth:`_run_plain`)."""
        registration = self._registrations.get(
            event.registration_id
        ) or self._ended_registrations.get(event.registration_id)  # (see _run_plain)
        request_id = event.request_id
        value: Any = None
        error: Exception | None = None
        chunks: Chunks | None = None
        with scope:
            try:
                if started is not None:
                    value = started
                else:
                    if registration is None:
                        raise wc.ApplicationError(wc.ApplicationError.NO_SUCH_REGISTRATION)
                    spec = registration.spec
                    if spec.chunks_arg is not None:
                        chunks = self._chunks.get(request_id) or Chunks(self._rt, more=False)
                        if chunks.overflowed:  # before the handler even started
                            scope.cancel()
                    elif event.details.progress:
                        raise wc.ApplicationError(
                            wc.ApplicationError.INVALID_ARGUMENT,
                            f"{registration.procedure} takes no progressive call invocations (its "
                            "handler has no keyword-only parameter 'chunks')",
                        )
                    positional, keywords = spec.arguments(
                        event.args, event.kwargs, event.details, chunks
                    )
                    value = spec.handler(*positional, **keywords)
                # Awaited, or streamed when it is an async generator (or a coroutine's result
                # is one: a handler that returns one, such as a decorated async generator).
                if inspect.isawaitable(value):
                    value = await value
                if isinstance(value, AsyncGeneratorType):
                    value = await self._stream_results(request_id, value, event.details)
            except Exception as exc:
                _log_failure(registration, exc, self._defined)
                error = exc
            except (KeyboardInterrupt, SystemExit) as exc:
                error = _STOPPING
                self._exit_with(exc)
            except self._rt.cancelled as exc:
                ours = self._rt.cancelling()
                if ours is None:  # (asyncio on Python 3.10: the session's own scopes tell)
                    ours = scope.cancel_called or self._tg.cancel_scope.cancel_called
                if ours:
                    raise  # INTERRUPT (this scope catches it), or the session is ending
                # Raised by something the handler awaited (asyncio: a future another
                # library cancelled): a failure of the procedure, answered as one.
                log.error(
                    "procedure %s was cancelled by what it awaited",
                    registration.procedure if registration else "?",
                    exc_info=exc,
                )
                error = wc.ApplicationError(
                    wc.ApplicationError.RUNTIME_ERROR,
                    "the procedure was cancelled by what it awaited (not by its caller)",
                )  # fmt: skip
            finally:
                self._invocations.pop(request_id, None)
                self._chunks.pop(request_id, None)  # (also one made for a since-gone handler)
        if scope.cancelled_caught:  # INTERRUPT: answer canceled (moot after killnowait)
            error = wc.ApplicationError(wc.ApplicationError.CANCELED)
            if chunks is not None and chunks.overflowed:
                error = wc.ApplicationError(
                    wc.ApplicationError.CANCELED, "the callee fell behind the caller's chunks"
                )
        if not self._answer(request_id, value, error):
            return
        self._link.push(batch=bool(self._invocations))
        await self._link.backpressure()

    async def _stream_results(
        self, request_id: int, results: AsyncIterator[Any], details: wc.CallDetails
    ) -> Any:
        """Send an async generator's values as progressive results; return the last (final).

        When the caller did not ask for progressive results, only the last value goes out.
        When the generator raises, the value it yielded last still goes out (progressive)
        before the error, as Autobahn's ``details.progress()`` had sent it.
        """
        previous: Any = None
        held = False  # ``previous`` is a value yielded and not sent yet
        progressive = details.receive_progress
        try:
            async for value in results:
                if held and progressive:
                    held = False
                    if not await self._progress(request_id, previous):
                        break  # the invocation is closed (killnowait, session ended)
                previous, held = value, True
        except Exception:
            if held and progressive:  # (raised by the generator, not by sending)
                await self._progress(request_id, previous)
            raise
        finally:
            aclose = getattr(results, "aclose", None)
            if aclose is not None:
                await aclose()
        return previous

    async def _progress(self, request_id: int, value: Any) -> bool:
        """Send ``value`` as a progressive result; ``False`` when the invocation is closed."""
        args, kwargs = wc.invocation_result(value)
        try:
            sent = self._conn.session.yield_result(request_id, args, kwargs, progress=True)
        except (wc.EncodingError, wc.MessageTooLarge) as exc:  # as for a final result: the
            # caller gets that URI, the callee's log the cause
            log.error("a progressive result of invocation %d cannot go out", request_id,
                      exc_info=exc)  # fmt: skip
            raise wc.ApplicationError(wc.refusal_uri(exc), exc.message) from exc
        except wc.LocalProtocolError:  # the invocation is closed (its ID long forgotten)
            return False
        if sent:
            self._link.push()
            await self._link.backpressure()
        return sent

    async def _shutdown(self) -> None:
        """Leave (bounded by :attr:`_close_timeout`, even when cancelled) and stop reading."""
        try:
            with self._rt.move_on_after(self._close_timeout, shield=True):
                # Joined: say goodbye and wait for the answer. Not joined (the handshake or the
                # join was interrupted): nothing to wait for, close at once.
                if not self.closed and self._conn.session.is_joined:
                    await self.leave()
        except wc.WampError as exc:  # GOODBYE could not go: just close
            log.debug("could not leave: %s", exc)
        finally:
            self._reader_scope.cancel()
            self._writer_scope.cancel()
            self._finish()


#: How many ended registrations a session remembers for the invocations still queued for them.
_ENDED_REGISTRATIONS = 64

#: What the caller gets when the callee's handler stops the application.
_STOPPING = wc.ApplicationError(wc.ApplicationError.RUNTIME_ERROR, "the callee is stopping")


async def _reraise(exc: BaseException) -> None:
    raise exc


def _log_failure(registration: Registration | None, exc: Exception, defined: DefinedErrors) -> None:
    """A procedure raised: the caller gets ``wamp.error.runtime_error`` with the message only,
    so whoever runs the callee sees the traceback here (an ApplicationError, ours or
    Autobahn's, or an exception of a class defined for an error URI, is an answer)."""
    sole = sole_error(exc)
    if not is_answer(sole) and not (defined and defined.answer(sole)):
        procedure = registration.procedure if registration is not None else "?"
        log.error("procedure %s failed", procedure, exc_info=exc)


def _details_of(options: wc.RegisterOptions | wc.SubscribeOptions | None) -> bool | str:
    if options is None:
        return False
    return options.details_arg or options.details


def _with_progress(options: wc.CallOptions) -> wc.CallOptions:
    return dataclasses.replace(options, receive_progress=True)


#: Seconds between WebSocket keepalive pings unless the transport's options say otherwise.
DEFAULT_WEBSOCKET_PING_INTERVAL = 10.0


def _keepalive(transport: wc.TransportConfig) -> tuple[float, float]:
    """Keepalive ping interval and pong timeout (seconds; interval 0: off).

    The transport's ``auto_ping_interval``/``auto_ping_timeout`` options; by default every
    :data:`DEFAULT_WEBSOCKET_PING_INTERVAL` s on WebSocket, and off on RawSocket (Crossbar does
    not answer RawSocket pings). The timeout defaults to the interval.
    """
    default = DEFAULT_WEBSOCKET_PING_INTERVAL if transport.type == "websocket" else 0.0
    interval = float(transport.options.get("auto_ping_interval", default))
    timeout = float(transport.options.get("auto_ping_timeout", 0)) or interval
    return interval, timeout
