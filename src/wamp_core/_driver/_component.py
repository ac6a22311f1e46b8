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
from typing import Any, ClassVar, TypeVar

import wamp_core as wc

from ._connect import authenticators, open_session
from ._runtime import CancelScope, Event, Runtime, TaskGroup
from ._session import CLOSE_TIMEOUT, Authentication, Session

__all__ = ["DEFAULT_TRANSPORT", "Component"]

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

#: Where a component connects when given no ``transports`` (Autobahn's default).
DEFAULT_TRANSPORT = "ws://127.0.0.1:8080/ws"


class _Attempt:
    """What happened on one connection attempt."""

    __slots__ = (
        "close", "connect_error", "connected", "error", "joined", "main_returned", "result",
    )  # fmt: skip

    def __init__(self) -> None:
        self.connected = False
        self.joined = False
        self.main_returned = False
        self.result: Any = None
        self.error: Exception | None = None
        self.connect_error: Exception | None = None
        self.close: wc.CloseDetails | None = None


class Component:
    """A WAMP application component: Autobahn's ``Component``, with structured concurrency.

    ``await component.run()`` connects (trying ``transports`` round-robin with backoff), joins
    ``realm``, restores the declared registrations and subscriptions, fires ``join`` and
    ``ready``, runs ``main(session)`` (or Autobahn's ``main(reactor, session)``, see
    :func:`reactor`), leaves when it returns and returns its value. Without ``main`` it
    runs until :meth:`stop`. ``async with component:`` runs it in the background and stops it
    on exit. See ``docs/component-lifecycle.md`` for the order, the errors and reconnects.

    Each driver subclasses it with its :attr:`session_class` (which names the runtime).
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
        session_factory: Callable[[wc.ComponentConfig], Session] | None = None,
        is_fatal: Callable[[BaseException], bool] | None = None,
    ) -> None:
        if main is not None and not callable(main):
            raise wc.ConfigurationError(f"'main' must be callable: {main!r}")
        if is_fatal is not None and not callable(is_fatal):
            raise wc.ConfigurationError(f"'is_fatal' must be callable: {is_fatal!r}")
        if session_factory is not None and not callable(session_factory):
            raise wc.ConfigurationError(f"'session_factory' must be callable: {session_factory!r}")
        if not isinstance(realm, str) or not wc.is_valid_uri(realm):
            raise wc.ConfigurationError(f"'realm' must be a WAMP URI string: {realm!r}")
        if config is not None and not isinstance(config, wc.ComponentConfig):
            raise wc.ConfigurationError(
                f"'config' must be a wamp_core.ComponentConfig: {type(config).__name__}"
            )
        self.transports = wc.parse_transports(
            DEFAULT_TRANSPORT if transports is None else transports
        )
        self.config = config if config is not None else wc.ComponentConfig(realm, extra)
        authenticators(authentication)  # invalid settings fail here, not on each attempt
        self._authentication = authentication
        self._main = main
        self._rt: Runtime = self.session_class.runtime
        self._session_factory = (
            session_factory if session_factory is not None else self.session_class
        )
        self._is_fatal = is_fatal
        self._hooks = wc.Hooks()
        self._declarations: list[wc.Declaration] = []
        #: The current session while connected (``None`` otherwise).
        self.session: Session | None = None
        self._lifecycle: wc.Lifecycle | None = None
        self._scope: CancelScope | None = None
        self._run_task: int | None = None
        # Events are made inside the event loop (a component may be built at import time).
        self._stopped: Event | None = None
        self._ready_session: Session | None = None
        self._ready_changed: Event | None = None
        self._background: AbstractAsyncContextManager[TaskGroup] | None = None
        #: ``async with`` started the run, whose task has not begun yet; and a stop() for it.
        self._starting = False
        self._stop_pending = False
        #: How many runs have ended, and how the last one did (for :meth:`wait_ready`).
        self._runs_ended = 0
        self._run_error: BaseException | None = None
        self._background_error: BaseException | None = None
        self._task_status: Any = None

    def __repr__(self) -> str:
        return f"<Component realm={self.config.realm!r} transports={len(self.transports)}>"

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
        result: Any = None
        if self._stop_pending:  # (async with's body ended before this task started)
            lifecycle.stop()
        self._starting = self._stop_pending = False
        self._run_error = None
        try:
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
        the component (a hook, ``main``) it returns at once and the run ends right after."""
        lifecycle = self._lifecycle
        if lifecycle is None:
            # ``async with`` started the run, whose task has not begun: it ends at once.
            self._stop_pending = self._starting
            return
        lifecycle.stop()
        if self._scope is not None:
            self._scope.cancel()
        if self._run_task == self._rt.current_task_id():
            return  # our own task: waiting here would wait for ourselves
        assert self._stopped is not None
        await self._stopped.wait()

    async def wait_ready(self) -> Session:
        """The session once it is ready (``ready`` fired): the current one, or the next.

        When the run ends first, the error that ended it is raised here (a run that was
        stopped or returned: :class:`wamp_core.SessionClosed`)."""
        ended = self._runs_ended
        while self._ready_session is None:
            if self._runs_ended != ended:
                error = self._run_error
                if isinstance(error, Exception):
                    raise error
                raise wc.SessionClosed("the component's run ended before a session was ready")
            if self._ready_changed is None:
                self._ready_changed = self._rt.event()
            await self._ready_changed.wait()
        return self._ready_session

    def _set_ready(self, session: Session | None) -> None:
        self._ready_session = session
        if session is not None and self._task_status is not None:
            task_status, self._task_status = self._task_status, None
            task_status.started(session)
        if self._ready_changed is not None:
            self._ready_changed.set()
            self._ready_changed = None

    async def __aenter__(self) -> Component:
        manager = self._rt.task_group()
        task_group = await manager.__aenter__()
        self._background = manager
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
        try:
            await self.stop()
        finally:
            try:
                await manager.__aexit__(None, None, None)
            finally:
                self._starting = self._stop_pending = False
        error = self._background_error
        self._background_error = None
        if error is not None and exc is None:
            raise error

    async def _run_in_background(self) -> None:
        try:
            await self.run()
        except Exception as exc:  # raised from __aexit__, not as a group
            self._background_error = exc

    # ----------------------------------------------------------------------------------------
    # One connection

    async def _connection(self, attempt_to: wc.Attempt, lifecycle: wc.Lifecycle) -> _Attempt:
        attempt = _Attempt()
        session = self._session_factory(self.config)
        expected = self.session_class
        if not isinstance(session, expected):
            raise wc.ConfigurationError(
                f"session_factory must return a {expected.__module__.split('.')[0]}."
                f"{expected.__name__}, not {type(session).__name__}"
            )

        async def opened() -> None:
            attempt.connected = True
            await self._fire("connect", session, attempt_to.transport)

        with self._rt.cancel_scope() as scope:
            self._scope = scope
            if lifecycle.stopping:
                scope.cancel()
            if attempt_to.delay > 0:
                log.info("reconnecting in %.2f s (%s)", attempt_to.delay, attempt_to.transport)
                await self._rt.sleep(attempt_to.delay)
            try:
                async with open_session(
                    attempt_to.transport,
                    session,
                    authenticators=authenticators(self._authentication),
                    on_open=opened,
                ):
                    attempt.joined = True
                    lifecycle.joined()
                    self.session = session
                    try:
                        await self._serve(session, attempt)
                    except Exception as exc:
                        attempt.error = exc
                    finally:
                        with self._rt.cancel_scope(shield=True):
                            await self._leave(session, attempt)
            except Exception as exc:
                if attempt.joined:
                    attempt.error = attempt.error or exc
                else:
                    attempt.connect_error = exc
            finally:
                self.session = None
                self._set_ready(None)
                attempt.close = session.close_details
        if attempt.connected:
            with self._rt.cancel_scope(shield=True):
                try:
                    await self._fire("disconnect", session, was_clean=_was_clean(session))
                except Exception as exc:
                    attempt.error = attempt.error or exc
        return attempt

    async def _serve(self, session: Session, attempt: _Attempt) -> None:
        """Restore, fire ``join`` and ``ready``, run ``main`` (or wait for the session's end)."""
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
        await self._fire("join", session, session.details)
        await self._fire("ready", session)
        self._set_ready(session)
        if self._main is None:
            await session.wait_closed()
            return
        failure: Exception | None = None
        async with self._rt.task_group() as task_group:

            async def watch() -> None:
                await session.wait_closed()  # the session ended under main: cancel it
                task_group.cancel_scope.cancel()

            task_group.start_soon(watch)
            try:
                attempt.result = await _call_main(self._main, session, self._rt)
                attempt.main_returned = True
            except Exception as exc:  # raised below, not in a group
                failure = exc
            task_group.cancel_scope.cancel()
        if failure is not None:
            raise failure

    async def _leave(self, session: Session, attempt: _Attempt) -> None:
        """Leave (bounded), then fire ``leave`` with how the session ended."""
        if not session.closed:
            with self._rt.move_on_after(CLOSE_TIMEOUT):
                try:
                    await session.leave()
                except wc.WampError as exc:
                    log.debug("could not leave: %s", exc)
        details = session.close_details or wc.CloseDetails(wc.CloseDetails.REASON_TRANSPORT_LOST)
        try:
            await self._fire("leave", session, details)
        except Exception as exc:
            attempt.error = attempt.error or exc

    async def _verdict(self, attempt: _Attempt, lifecycle: wc.Lifecycle) -> wc.Verdict:
        if attempt.joined:
            return lifecycle.session_ended(
                error=attempt.error, close=attempt.close, main_returned=attempt.main_returned
            )
        if lifecycle.stopping:
            return wc.Verdict.DONE
        error = attempt.connect_error or attempt.error
        assert error is not None
        log.info("connection attempt failed: %s", error)
        lifecycle.attempt_failed(error)
        await self._fire("connectfailure", self, error)
        return wc.Verdict.RECONNECT

    async def _fire(self, name: wc.HookName, *args: Any, **kwargs: Any) -> None:
        """Run hook ``name``'s listeners in order; the first error is raised, not swallowed."""
        for listener in self._hooks.listeners(name):
            result = listener(*args, **kwargs)
            if inspect.isawaitable(result):
                await result


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
