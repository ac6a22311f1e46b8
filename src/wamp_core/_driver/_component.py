"""Autobahn's ``Component``, for any runtime: connect, join, restore, run ``main``, reconnect.
The decisions (hooks, declarations, what ends a run, the backoff) are
:class:`~wamp_core.Lifecycle`'s; this module does the waiting, through the runtime of its
driver's session class."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import Any, ClassVar, Generic, TypeVar, cast

import wamp_core as wc

from .._component._lifecycle import accepts
from ._application import ApplicationSession, run_application, session_hook
from ._connect import authenticators, check_tls_files, open_session
from ._runtime import CancelScope, Event, Runtime, TaskGroup
from ._session import Authentication, Session

__all__ = ["DEFAULT_TRANSPORT", "Component"]

log = logging.getLogger("wamp_core.driver")  # the public name, stable to configure

F = TypeVar("F", bound=Callable[..., Any])
#: The driver's session class (or the ``session_factory``'s subclass of it).
S = TypeVar("S", bound=Session)
C = TypeVar("C", bound="Component[Any]")

#: Where a component connects when given no ``transports`` (Autobahn's default).
DEFAULT_TRANSPORT = "ws://127.0.0.1:8080/ws"


class _Attempt:
    """What happened on one connection attempt."""

    __slots__ = (
        "close", "connect_error", "connected", "ended_first", "error", "joined",
        "main_returned", "restoring", "result",
    )  # fmt: skip

    def __init__(self) -> None:
        self.connected = False
        self.joined = False
        self.main_returned = False
        self.result: Any = None
        #: What ``main``, a listener or a restore raised (the first of them).
        self.error: Exception | None = None
        #: ... whether the session had ended by then, and whether it came from a restore.
        self.ended_first = False
        self.restoring = False
        #: Why the connection or the join failed.
        self.connect_error: Exception | None = None
        self.close: wc.CloseDetails | None = None

    def failed(self, error: Exception, session: Session | None = None) -> None:
        """Keep the first error raised by the application."""
        if self.error is None:
            self.error = error
            self.ended_first = session is not None and session.close_details is not None


class Component(Generic[S]):
    """A WAMP application component: Autobahn's ``Component``, with structured concurrency.

    ``await component.run()`` connects (trying ``transports`` round-robin with backoff), joins
    ``realm``, restores the declared registrations and subscriptions, fires ``join`` and
    ``ready``, runs ``main(session)`` (or Autobahn's ``main(reactor, session)``, see
    :func:`reactor`), leaves when it returns and returns its value. Without ``main`` it
    runs until :meth:`stop`. ``async with component:`` runs it in the background and stops it
    on exit. See ``docs/component-lifecycle.md`` for the order, the errors and reconnects.

    Each driver subclasses it with its :attr:`session_class` (which names the runtime), as
    ``Component[ItsSession]``: :attr:`session` and :meth:`wait_ready` are typed with it.
    """

    #: The driver's session class: what ``session_factory`` must build (or a subclass).
    session_class: ClassVar[type[Session]]

    def __init__(  # noqa: PLR0917 - Autobahn's positional signature, for porting
        self,
        main: Callable[..., Any] | None = None,
        transports: wc.TransportSpec | Sequence[wc.TransportSpec] | None = None,
        config: wc.ComponentConfig | None = None,
        realm: str = "realm1",
        extra: Any = None,
        authentication: Authentication | None = None,
        session_factory: Callable[[wc.ComponentConfig], S] | None = None,
        is_fatal: Callable[[BaseException], bool] | None = None,
    ) -> None:
        if main is not None and not callable(main):
            raise wc.ConfigurationError(f"'main' must be callable: {main!r}")
        if main is not None and not (accepts(main, None) or accepts(main, None, None)):
            raise wc.ConfigurationError(
                f"'main' is called with (session) or (reactor, session): {main!r}"
            )
        if is_fatal is not None and not callable(is_fatal):
            raise wc.ConfigurationError(f"'is_fatal' must be callable: {is_fatal!r}")
        if is_fatal is not None and not accepts(is_fatal, None):  # (not at the first failure)
            raise wc.ConfigurationError(f"'is_fatal' is called with (exception): {is_fatal!r}")
        if session_factory is not None and not callable(session_factory):
            raise wc.ConfigurationError(f"'session_factory' must be callable: {session_factory!r}")
        if isinstance(session_factory, type):  # (a factory function is checked per session)
            _no_session_hooks(session_factory)
            if main is not None and issubclass(session_factory, ApplicationSession):
                raise wc.ConfigurationError(
                    f"main and {session_factory.__name__}.onJoin would both be the "
                    "application: give one of them"
                )
        if not isinstance(realm, str) or not wc.is_valid_uri(realm):
            raise wc.ConfigurationError(f"'realm' must be a WAMP URI string: {realm!r}")
        if config is not None and not isinstance(config, wc.ComponentConfig):
            raise wc.ConfigurationError(
                f"'config' must be a wamp_core.ComponentConfig: {type(config).__name__}"
            )
        self.transports = wc.parse_transports(
            DEFAULT_TRANSPORT if transports is None else transports
        )
        check_tls_files(self.transports)
        self.config = config if config is not None else wc.ComponentConfig(realm, extra)
        # Built once (invalid settings fail here, not on each attempt) and kept: a key that an
        # attempt derived (SCRAM, salted WAMP-CRA; in a worker thread that a join timeout
        # abandons) serves the next attempts, which would otherwise derive it again each time.
        self._authenticators = authenticators(authentication)
        self._main = main
        self._rt: Runtime = self.session_class.runtime
        self._session_factory: Callable[[wc.ComponentConfig], S] = (
            session_factory if session_factory is not None
            else cast("Callable[[wc.ComponentConfig], S]", self.session_class)
        )  # fmt: skip
        self._is_fatal = is_fatal
        self._hooks = wc.Hooks()
        self._declarations: list[wc.Declaration] = []
        #: The current session while connected (``None`` otherwise).
        self.session: S | None = None
        self._lifecycle: wc.Lifecycle | None = None
        self._scope: CancelScope | None = None
        #: What :meth:`_abort` cancels besides ``_scope``: the GOODBYE, listeners after it.
        self._leaving: CancelScope | None = None
        self._listening: CancelScope | None = None
        self._aborted = False  # ... and the ones this run opens after
        self._run_task: int | None = None
        # Events are made inside the event loop (a component may be built at import time).
        self._stopped: Event | None = None
        self._ready_session: S | None = None
        self._ready_changed: Event | None = None
        self._background: AbstractAsyncContextManager[TaskGroup] | None = None
        self._background_scope: Any = None  # (the background task group's cancel scope)
        #: ``async with`` started the run, whose task has not begun yet; and a stop() for it.
        self._starting = False
        self._stop_pending = False
        #: How many runs have begun and ended, and how the last one did (:meth:`wait_ready`).
        self._runs_started = self._runs_ended = 0
        self._run_error: BaseException | None = None
        self._background_error: BaseException | None = None
        self._task_status: Any = None

    def __repr__(self) -> str:
        config, transports = getattr(self, "config", None), getattr(self, "transports", ())
        realm = config.realm if config is not None else None  # (None: __init__ failed early)
        return f"<Component realm={realm!r} transports={len(transports)}>"

    # ----------------------------------------------------------------------------------------
    # Hooks and declarations

    def on(self, event: str, listener: F) -> F:
        """Add a listener to hook ``event`` (``connect``, ``join``, ``ready``, ``leave``,
        ``disconnect``, ``connectfailure``)."""
        return self._hooks.on(event, listener)

    def off(self, event: str, listener: Callable[..., Any] | None = None) -> None:
        self._hooks.off(event, listener)

    def on_connect(self, listener: F) -> F:
        """``listener(session, transport)``: the transport is up, before the WAMP handshake."""
        return self._hooks.on("connect", listener)

    def on_join(self, listener: F) -> F:
        """``listener(session, details)``: joined, registrations and subscriptions restored."""
        return self._hooks.on("join", listener)

    def on_ready(self, listener: F) -> F:
        """``listener(session)``: after every ``join`` listener, before ``main``."""
        return self._hooks.on("ready", listener)

    def on_leave(self, listener: F) -> F:
        """``listener(session, details)``: the session ended (details: a ``CloseDetails``)."""
        return self._hooks.on("leave", listener)

    def on_disconnect(self, listener: F) -> F:
        """``listener(session, was_clean=...)``: the transport is closed."""
        return self._hooks.on("disconnect", listener)

    def on_connectfailure(self, listener: F) -> F:
        """``listener(component, error)``: an attempt failed before the session was joined."""
        return self._hooks.on("connectfailure", listener)

    def register(
        self, uri: str, options: wc.RegisterOptions | None = None, check_types: bool = False
    ) -> Callable[[F], F]:
        """Decorator: register the function as ``uri`` on every join, before ``join`` fires."""

        _not_bare("register", uri)

        def decorate(handler: F) -> F:
            self._declarations.append(
                wc.Declaration("register", uri, handler, options, check_types)
            )
            return handler

        return decorate

    def subscribe(
        self, topic: str, options: wc.SubscribeOptions | None = None, check_types: bool = False
    ) -> Callable[[F], F]:
        """Decorator: subscribe the function to ``topic`` on every join, before ``join``."""

        _not_bare("subscribe", topic)

        def decorate(handler: F) -> F:
            self._declarations.append(
                wc.Declaration("subscribe", topic, handler, options, check_types)
            )
            return handler

        return decorate

    # ----------------------------------------------------------------------------------------
    # Running

    async def run(self, *, task_status: Any = None) -> Any:
        """Run until done: return what ``main`` returned (``None`` without ``main`` or when
        stopped); raise the error that ended the run (never wrapped in an exception group).

        Under ``await nursery.start(component.run)`` (trio; anyio's ``TaskGroup.start`` alike)
        ``start`` returns the session once it is first ready (``ready`` fired, before ``main``),
        and raises what ended the run if it ended before that with an error; a run that ended
        without error and without ever being ready (stopped first) makes ``start`` raise the
        library's ``RuntimeError`` (the task never reported it started).
        """
        if self._lifecycle is not None:
            raise RuntimeError(f"{self!r} is already running")
        self._task_status = task_status
        lifecycle = wc.Lifecycle(self.transports, is_fatal=self._is_fatal)
        self._lifecycle = lifecycle
        self._stopped = self._rt.event()
        self._run_task = self._rt.current_task_id()
        self._runs_started += 1
        result: Any = None
        if self._stop_pending:  # stop() came before this task began
            lifecycle.stop()
        self._starting = self._stop_pending = self._aborted = False
        self._run_error = None
        try:
            # Autobahn's "start" (component.on("start", ...)): once per run, before connecting;
            # its error ends the run (stop() meanwhile lets it finish).
            await self._fire("start", self._rt.reactor(), self)
            while (attempt_to := lifecycle.next_attempt()) is not None:
                attempt = await self._connection(attempt_to, lifecycle)
                verdict = await self._verdict(attempt, lifecycle)
                if verdict is wc.Verdict.DONE:
                    result = attempt.result
                    break
                if verdict is wc.Verdict.FAIL:
                    break
            if lifecycle.error is not None and not lifecycle.stopping:
                raise lifecycle.error
            return result
        except BaseException as exc:
            self._run_error = exc
            raise
        finally:
            self._runs_ended += 1
            self._lifecycle = None
            self._scope = None
            self._run_task = None
            self._stopped.set()
            self._task_status = None
            self._set_ready(None)

    async def stop(self) -> None:
        """Stop: cancel a pending connect, backoff, join or ``main``; leave cleanly when
        joined; return once every task and the connection are closed. Idempotent; from inside
        the component (a hook, ``main``) it returns at once and the run ends right after.

        A run whose task was started but has not begun yet (``start_soon(component.run)``
        just before) is stopped too: it ends as it begins."""
        if self._lifecycle is None:
            started = self._runs_started
            self._stop_pending = True
            # Let a run that was just started begin (two checkpoints: one scheduler round
            # on asyncio, a round in either order of trio's batch); it takes the stop over.
            for _ in range(2):
                if self._runs_started != started:
                    break
                await self._rt.checkpoint()
            if self._runs_started == started:
                self._stop_pending = self._starting  # no run is coming (async with's is)
                return
        lifecycle = self._lifecycle
        if lifecycle is not None:
            lifecycle.stop()
            if self._scope is not None:
                self._scope.cancel()
        if self._run_task == self._rt.current_task_id():
            return  # our own task: waiting here would wait for ourselves
        if lifecycle is not None:
            assert self._stopped is not None
            await self._stopped.wait()

    async def wait_ready(self) -> S:
        """The session once it is ready (``ready`` fired): the current one, or the next.

        When the run ends first, the error that ended it is raised here (a run that was
        stopped or returned: :class:`wamp_core.SessionClosed`)."""
        ended = self._runs_ended
        # (a session the router has ended is not ready, even while its transport closes)
        while self._ready_session is None or not self._ready_session.is_attached():
            if self._background is not None and self._lifecycle is None and not self._starting:
                ended = -1  # the run of ``async with component:`` is over: none comes next
            if self._runs_ended != ended:
                error = self._run_error
                if isinstance(error, Exception):
                    raise error
                raise wc.SessionClosed("the component's run ended before a session was ready")
            if self._ready_changed is None:
                self._ready_changed = self._rt.event()
            await self._ready_changed.wait()
        return self._ready_session

    def _set_ready(self, session: S | None) -> None:
        self._ready_session = session
        if session is not None and self._task_status is not None:
            task_status, self._task_status = self._task_status, None
            task_status.started(session)
        if self._ready_changed is not None:
            self._ready_changed.set()
            self._ready_changed = None

    def _unready(self, session: Session) -> None:
        """``session`` ended: :meth:`wait_ready` waits for the next one (not for the end of
        the attempt, which may take a while: leave listeners, queued events)."""
        if self._ready_session is session:
            self._set_ready(None)

    async def __aenter__(self: C) -> C:
        if self._background is not None or self._lifecycle is not None or self._starting:
            raise RuntimeError(f"{self!r} is already running")
        manager = self._rt.task_group()
        task_group = await manager.__aenter__()
        self._background = manager
        self._background_scope = task_group.cancel_scope
        self._starting = True
        self._background_error = None
        task_group.start_soon(self._run_in_background)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:  # fmt: skip
        assert self._background is not None
        manager, self._background = self._background, None
        error = self._background_error
        try:
            if error is None or isinstance(error, Exception):  # (else the run has ended and
                await self.stop()  # this block's scope is cancelled: see _run_in_background)
        finally:
            try:
                await manager.__aexit__(None, None, None)
            finally:
                self._starting = self._stop_pending = False
        error = self._background_error  # (an error stop() met is the run's too)
        self._background_error = None
        if error is not None and (exc is None or (
            not isinstance(error, Exception) and isinstance(exc, self._rt.cancelled)
        )):  # fmt: skip
            raise error

    async def _run_in_background(self) -> None:
        # What ends the run is raised from __aexit__, itself, not in an exception group.
        try:
            await self.run()
        except self._rt.cancelled:
            raise
        except Exception as exc:
            self._background_error = exc
        except BaseException as exc:  # SystemExit, KeyboardInterrupt: the block ends now
            self._background_error = exc
            self._background_scope.cancel()

    # ----------------------------------------------------------------------------------------
    # One connection

    async def _connection(self, attempt_to: wc.Attempt, lifecycle: wc.Lifecycle) -> _Attempt:
        """One attempt: connect, join, serve, leave; then the ``leave`` and ``disconnect``
        listeners, outside the scope :meth:`stop` cancels (a stop lets them finish; cancelling
        the task running :meth:`run` cancels them)."""
        attempt = _Attempt()
        session = self._session_factory(self.config)
        expected = self.session_class
        if not isinstance(session, expected):
            raise wc.ConfigurationError(
                f"session_factory must return a {expected.__module__.split('.')[0]}."
                f"{expected.__name__}, not {type(session).__name__}"
            )
        _no_session_hooks(type(session))
        if self._main is not None and _overrides_on_join(session):
            raise wc.ConfigurationError(
                f"main and {type(session).__name__}.onJoin would both be the application: "
                "give one of them"
            )

        async def opened() -> None:
            attempt.connected = True
            try:
                await self._fire("connect", session, attempt_to.transport)
            except Exception as exc:
                attempt.failed(exc)
                raise

        try:
            with self._rt.cancel_scope() as scope:
                self._scope = scope
                if lifecycle.stopping:
                    scope.cancel()
                if attempt_to.delay > 0:
                    log.info(
                        "reconnecting in %.2f s (%s)", attempt_to.delay,
                        attempt_to.transport.describe(),
                    )  # fmt: skip
                    await self._rt.sleep(attempt_to.delay)
                try:
                    async with open_session(
                        attempt_to.transport,
                        session,
                        authenticators=self._authenticators,
                        on_open=opened,
                    ):
                        attempt.joined = True
                        lifecycle.joined()
                        self.session = session
                        try:
                            await self._serve(session, attempt, lifecycle)
                        except Exception as exc:
                            attempt.failed(exc, session)
                        finally:
                            await self._leave(session)
                except Exception as exc:
                    if attempt.joined:
                        attempt.failed(exc, session)
                    else:
                        attempt.connect_error = exc
                finally:
                    self._scope = None
                    self.session = None
                    self._set_ready(None)
                    attempt.close = session.close_details
        finally:
            try:
                if attempt.joined:
                    details = attempt.close or wc.CloseDetails(
                        wc.CloseDetails.REASON_TRANSPORT_LOST
                    )
                    await self._fire_after("leave", attempt, session, details)
                elif (
                    attempt.close is not None and isinstance(session, ApplicationSession)
                    and attempt.close.reason != wc.CloseDetails.REASON_TRANSPORT_LOST
                ):  # fmt: skip
                    # A refused join (ABORT): Autobahn's session hears of it in onLeave; the
                    # component's ``leave`` fires only after a join (and a connection lost
                    # before the join reaches onDisconnect only, as in Autobahn).
                    try:
                        await session_hook("leave", session, attempt.close)
                    except Exception as exc:
                        attempt.failed(exc)
            finally:
                if attempt.connected:
                    was_clean = _was_clean(session)
                    await self._fire_after("disconnect", attempt, session, was_clean=was_clean)
        return attempt

    async def _serve(self, session: S, attempt: _Attempt, lifecycle: wc.Lifecycle) -> None:
        """Restore, fire ``join`` and ``ready``, run ``main`` (or wait for the session's end).
        A stop (sync listeners and ``main`` may call it without a checkpoint after) ends it
        between the steps."""
        attempt.restoring = True
        for declaration in self._declarations:
            if declaration.kind == "register":
                await session.register(
                    declaration.handler, declaration.uri, _register_options(declaration),
                    check_types=declaration.check_types,
                )  # fmt: skip
            else:
                await session.subscribe(
                    declaration.handler, declaration.uri, _subscribe_options(declaration),
                    check_types=declaration.check_types,
                )  # fmt: skip
        attempt.restoring = False
        lifecycle.restored()
        await self._fire("join", session, session.details)
        if lifecycle.stopping or session.closed:
            return
        await self._fire("ready", session)
        if lifecycle.stopping or session.closed:
            return
        self._set_ready(session)
        main = self._main
        if main is None and isinstance(session, ApplicationSession):
            main = run_application  # (onJoin, then joined until the session ends)
        if main is None:
            await session.wait_closed()
            self._unready(session)
            return
        failure: BaseException | None = None
        async with self._rt.task_group() as task_group:

            async def watch() -> None:
                await session.wait_closed()  # the session ended under main: cancel it
                self._unready(session)
                task_group.cancel_scope.cancel()

            task_group.start_soon(watch)
            try:
                result = await _call_main(main, session, self._rt)
                attempt.main_returned = True
                if not lifecycle.stopping:  # stopped first: run() returns None
                    attempt.result = result
            except self._rt.cancelled:
                raise
            except BaseException as exc:  # raised below, not in a group (SystemExit too)
                failure = exc
            task_group.cancel_scope.cancel()
        if failure is not None:
            raise failure

    async def _leave(self, session: Session) -> None:
        """Leave, bounded and shielded: a stop or a cancel still says GOODBYE."""
        if session.closed:
            return
        with self._rt.move_on_after(session._close_timeout, shield=True) as self._leaving:
            if self._aborted:
                self._leaving.cancel()
            try:
                await session.leave()
            except wc.WampError as exc:
                log.debug("could not leave: %s", exc)
        self._leaving = None

    def _abort(self) -> None:
        """Stop without waiting for the GOODBYE (a second Ctrl-C): with :meth:`stop` or a
        cancel of the task running :meth:`run`."""
        if self._lifecycle is not None:
            self._lifecycle.stop()
        self._aborted = True
        for scope in (self._scope, self._leaving, self._listening):
            if scope is not None:
                scope.cancel()

    async def _verdict(self, attempt: _Attempt, lifecycle: wc.Lifecycle) -> wc.Verdict:
        if attempt.joined:
            return lifecycle.session_ended(
                error=attempt.error, close=attempt.close, main_returned=attempt.main_returned,
                ended_first=attempt.ended_first, restoring=attempt.restoring,
            )  # fmt: skip
        if lifecycle.stopping:
            return wc.Verdict.DONE
        if attempt.error is not None:  # a connect or disconnect listener raised
            verdict = lifecycle.application_failed(attempt.error)
            if verdict is not wc.Verdict.RECONNECT:
                return verdict
            error = attempt.error
        else:
            error = attempt.connect_error or wc.TransportError("the connection attempt failed")
            log.info("connection attempt failed: %s", error)
            lifecycle.attempt_failed(error)
        await self._fire_abortable("connectfailure", self, error)
        return wc.Verdict.RECONNECT

    async def _fire_after(self, name: wc.HookName, attempt: _Attempt, *args: Any,
                          **kwargs: Any) -> None:  # fmt: skip
        """Fire ``leave`` or ``disconnect`` (an :class:`ApplicationSession`'s ``onLeave`` /
        ``onDisconnect`` first): an error is the attempt's (the first one wins)."""
        try:
            await self._fire_abortable(name, *args, **kwargs)
        except Exception as exc:
            attempt.failed(exc)

    async def _fire_abortable(self, name: wc.HookName, *args: Any, **kwargs: Any) -> None:
        """Fire a hook outside the scope :meth:`stop` cancels (stop lets its listeners
        finish), inside one :meth:`_abort` cancels."""
        with self._rt.cancel_scope() as self._listening:
            if self._aborted:
                self._listening.cancel()  # (sync listeners still run)
            await self._fire(name, *args, **kwargs)
        self._listening = None

    async def _fire(self, name: wc.HookName, *args: Any, **kwargs: Any) -> None:
        """Run hook ``name``'s listeners in order; the first error is raised, not swallowed.
        An :class:`ApplicationSession`'s own ``onLeave`` / ``onDisconnect`` run first."""
        if name in {"leave", "disconnect"}:  # (first, as Autobahn's session fires them)
            await session_hook(name, *args)
        for listener in self._hooks.listeners(name):
            result = listener(*args, **kwargs)
            if inspect.isawaitable(result):
                await result


#: Autobahn's session methods a subclass overrides to hook in (``ApplicationSession`` and the
#: ``Session`` shim); no session of ours calls them.
_AUTOBAHN_SESSION_HOOKS = (
    "onConnect", "onChallenge", "onJoin", "onLeave", "onDisconnect", "onUserError",
    "on_connect", "on_challenge", "on_join", "on_ready", "on_leave", "on_disconnect",
)  # fmt: skip


#: The hooks an :class:`ApplicationSession` has run (``onJoin`` as ``main``).
_APPLICATION_HOOKS = ("onJoin", "onLeave", "onDisconnect")


def _overrides_on_join(session: Session) -> bool:
    """Whether ``session`` is an :class:`ApplicationSession` with an ``onJoin`` of its own."""
    return (
        isinstance(session, ApplicationSession)
        and type(session).onJoin is not ApplicationSession.onJoin
    )


def _no_session_hooks(session_class: type) -> None:
    """A ported session class overriding Autobahn's hook methods would join with none of them
    run (an ``onChallenge`` skipped: an anonymous session instead of the user's)."""
    run_here = _APPLICATION_HOOKS if issubclass(session_class, ApplicationSession) else ()
    defined = [
        name for name in _AUTOBAHN_SESSION_HOOKS
        if hasattr(session_class, name) and name not in run_here
    ]  # fmt: skip
    if defined:
        raise wc.ConfigurationError(
            f"session_factory {session_class.__name__} defines {', '.join(defined)}, which no "
            "session here calls: use the component's decorators (@component.on_join...) and "
            "its 'authentication' (see docs/porting.md, ApplicationSession)"
        )


def _not_bare(kind: str, uri: object) -> None:
    """``@component.register`` without its URI would hand the function over as the URI and
    put the decorator in the function's place."""
    if callable(uri):
        raise wc.ConfigurationError(
            f"@component.{kind} takes the URI first: @component.{kind}('com.example.name')"
        )


def _was_clean(session: Session) -> bool:
    details = session.close_details
    return details is not None and details.reason != wc.CloseDetails.REASON_TRANSPORT_LOST


def _register_options(declaration: wc.Declaration) -> wc.RegisterOptions | None:
    options = declaration.options
    assert options is None or isinstance(options, wc.RegisterOptions)
    return options


def _subscribe_options(declaration: wc.Declaration) -> wc.SubscribeOptions | None:
    options = declaration.options
    assert options is None or isinstance(options, wc.SubscribeOptions)
    return options


async def _call_main(main: Callable[..., Any], session: Session, runtime: Runtime) -> Any:
    """``main(session)``, or Autobahn's ``main(reactor, session)`` (see
    :meth:`~wamp_core.driver.Runtime.reactor`)."""
    result = main(runtime.reactor(), session) if _wants_reactor(main) else main(session)
    if inspect.isawaitable(result):
        result = await result
    return result


def _wants_reactor(main: Callable[..., Any]) -> bool:
    try:
        parameters = inspect.signature(main).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = [
        p for p in parameters
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
    ]  # fmt: skip
    return len(positional) >= 2
