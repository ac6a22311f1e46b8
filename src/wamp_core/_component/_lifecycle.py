"""A component's lifecycle, decided without I/O: hooks, declarations, and what ends a run.

Every driver (anyio, trio) runs the same loop; this module decides each step so that the
drivers only do the I/O:

1. :meth:`Lifecycle.next_attempt` -- which transport, after what delay (``None``: give up and
   raise :meth:`Lifecycle.error`);
2. connect the transport, fire ``connect``; the WAMP handshake and join; on any failure before
   the join: :meth:`Lifecycle.attempt_failed` and fire ``connectfailure``;
3. :meth:`Lifecycle.joined`, then restore every :class:`Declaration` (registrations and
   subscriptions, confirmed), fire ``join``, then ``ready``, then run ``main``;
4. leave, close the transport, fire ``leave`` and ``disconnect``;
5. :meth:`Lifecycle.session_ended` says whether the component is done, fails, or reconnects.

:data:`ORDER` is that order; ``docs/component-lifecycle.md`` documents it for users.
"""

from __future__ import annotations

import enum
import inspect
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, TypeAlias, TypeVar

from .._client._types import CloseDetails, RegisterOptions, SubscribeOptions, options_mismatch
from .._config._reconnect import Attempt, ReconnectPolicy, causes, default_is_fatal
from .._config._transports import TransportConfig
from .._errors import (
    PROTOCOL_VIOLATION,
    ApplicationError,
    ConfigurationError,
    PayloadTooLarge,
    SessionClosed,
)
from .._uri import is_valid_pattern

__all__ = [
    "HOOKS",
    "ORDER",
    "ComponentConfig",
    "Declaration",
    "Hooks",
    "Lifecycle",
    "Verdict",
]

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

#: The hooks a component fires, in lifecycle order (``connectfailure`` for a failed attempt).
HOOKS: Final = ("start", "connect", "join", "ready", "leave", "disconnect", "connectfailure")
#: One connection's steps, in the order every driver runs them.
ORDER: Final = (
    "connect",  # the transport (TCP/TLS/unix) is up; hook `connect`
    "join",  # WAMP handshake, HELLO ... WELCOME
    "restore",  # every declared registration and subscription confirmed by the router
    "on_join",  # hook `join`
    "on_ready",  # hook `ready`
    "main",
    "leave",  # GOODBYE (or the session ended otherwise), the transport closed; hook `leave`
    "disconnect",  # hook `disconnect`
)

HookName: TypeAlias = Literal[
    "start", "connect", "join", "ready", "leave", "disconnect", "connectfailure"
]


@dataclass(frozen=True, slots=True)
class ComponentConfig:
    """What a component's sessions are configured with: the realm and the user's ``extra``."""

    realm: str = "realm1"
    extra: Any = None


class Hooks:
    """The listeners of a component's lifecycle hooks, in the order they were added."""

    def __init__(self) -> None:
        self._listeners: dict[str, list[Callable[..., Any]]] = {name: [] for name in HOOKS}

    def on(self, name: str, listener: F) -> F:
        """Add ``listener`` to hook ``name`` (one of :data:`HOOKS`); returns it (a decorator)."""
        if name not in self._listeners:
            raise ConfigurationError(f"unknown hook {name!r}: one of {', '.join(HOOKS)}")
        if not callable(listener):
            raise ConfigurationError(f"a {name!r} listener must be callable: {listener!r}")
        args, keywords, text = _HOOK_ARGUMENTS[name]
        if not accepts(listener, *args, **keywords):  # (not at the first join, hours later)
            raise ConfigurationError(f"a {name!r} listener is called with {text}: {listener!r}")
        self._listeners[name].append(listener)
        return listener

    def off(self, name: str, listener: Callable[..., Any] | None = None) -> None:
        """Remove ``listener`` from hook ``name`` (every listener when ``None``)."""
        if name not in self._listeners:
            raise ConfigurationError(f"unknown hook {name!r}: one of {', '.join(HOOKS)}")
        if listener is None:
            self._listeners[name].clear()
        elif listener in self._listeners[name]:
            self._listeners[name].remove(listener)

    def listeners(self, name: HookName) -> tuple[Callable[..., Any], ...]:
        """The listeners of hook ``name`` (a snapshot: adding during a fire is safe)."""
        return tuple(self._listeners[name])


#: What each hook's listeners are called with (stand-ins, for :func:`accepts`), and its text.
_HOOK_ARGUMENTS: Final[dict[str, tuple[tuple[None, ...], dict[str, bool], str]]] = {
    "start": ((None, None), {}, "(reactor, component)"),
    "connect": ((None, None), {}, "(session, transport)"),
    "join": ((None, None), {}, "(session, details)"),
    "ready": ((None,), {}, "(session)"),
    "leave": ((None, None), {}, "(session, details)"),
    "disconnect": ((None,), {"was_clean": True}, "(session, was_clean=...)"),
    "connectfailure": ((None, None), {}, "(component, error)"),
}


def accepts(function: Callable[..., Any], *args: Any, **kwargs: Any) -> bool:
    """Whether ``function`` can be called with these arguments (``True`` when its signature
    cannot be read: some builtins). A decorated function counts by its wrapper's signature
    or its own (``functools.wraps`` shows the wrapped one, whose arguments may differ)."""
    for follow_wrapped in (True, False):
        try:
            signature = inspect.signature(function, follow_wrapped=follow_wrapped)
        except (TypeError, ValueError):  # no signature to read
            return True
        try:
            signature.bind(*args, **kwargs)
        except TypeError:
            continue
        return True
    return False


@dataclass(frozen=True, slots=True)
class Declaration:
    """A registration or subscription a component makes on every join (its decorators)."""

    kind: Literal["register", "subscribe"]
    uri: str
    handler: Callable[..., Any]
    options: RegisterOptions | SubscribeOptions | None = None
    check_types: bool = False

    def __post_init__(self) -> None:
        if not callable(self.handler):
            raise ConfigurationError(f"the handler of {self.uri!r} must be callable")
        wanted = RegisterOptions if self.kind == "register" else SubscribeOptions
        if self.options is not None and not isinstance(self.options, wanted):
            raise ConfigurationError(
                f"the options of {self.kind} {self.uri!r} {options_mismatch(wanted, self.options)}"
            )
        match = "exact" if self.options is None else self.options.match
        if not is_valid_pattern(self.uri, match):  # (not after connecting, at every join)
            what = "procedure" if self.kind == "register" else "topic"
            raise ConfigurationError(
                f"{self.kind}: {self.uri!r} is not a valid {what} URI for match {match!r}"
            )


class Verdict(enum.Enum):
    """What a driver does once a session (or an attempt) ended."""

    #: Connect again: :meth:`Lifecycle.next_attempt`.
    RECONNECT = "reconnect"
    #: The component is done: ``run()`` returns.
    DONE = "done"
    #: The component failed: ``run()`` raises :attr:`Lifecycle.error`.
    FAIL = "fail"


class Lifecycle:
    """One run of a component: the reconnect policy plus the rules that end a run.

    The rules (documented for users in ``docs/component-lifecycle.md``):

    * ``stop()`` ends the run, whatever happens after it (:meth:`stop`).
    * ``main`` returned: the session leaves and the component is done.
    * ``main``, a hook or a restore raised: with ``is_fatal`` given and answering ``False`` for
      that error, the component reconnects (``main`` runs again); otherwise the error ends the
      run (a bug in ``main`` is not retried forever by default). A ``SessionClosed`` raised
      after the session had ended is the session's end, not an error of its own (below).
    * On a rejoin, a restore the router refuses with ``wamp.error.procedure_already_exists``
      is the previous session still held by the router (a link it has not seen die yet): the
      component reconnects, counted like a failed attempt, until the router lets it go.
    * The session ended otherwise (the router said GOODBYE or ABORT, the transport was lost):
      a leave (or abort) the application asked for ends the run (done); without ``is_fatal``,
      a reason retrying cannot fix (:func:`~wamp_core.default_is_fatal`: the reasons in
      :data:`~wamp_core._config._reconnect.FATAL_REASONS`) ends it with the error; anything
      else reconnects, counted like a failed attempt (the reconnect policy asks the user's
      ``is_fatal``, when given, whether the transport may be tried again).
    * A failed attempt (connect, transport handshake, join) goes to the reconnect policy; when
      it has no transport left, :meth:`error` is its :class:`ReconnectExhausted`.
    """

    def __init__(
        self,
        transports: Sequence[TransportConfig],
        *,
        is_fatal: Callable[[BaseException], bool] | None = None,
    ) -> None:
        self._user_is_fatal = is_fatal
        self.policy = ReconnectPolicy(transports, is_fatal=is_fatal)
        self.error: BaseException | None = None
        self.stopping = False
        self.joins = 0

    def stop(self) -> None:
        """The application asked to stop: whatever ends next, the run is done."""
        self.stopping = True

    def next_attempt(self) -> Attempt | None:
        """The next attempt, or ``None`` when the run is over (stopped, or no transport left:
        then :attr:`error` is set)."""
        if self.stopping:
            return None
        attempt = self.policy.next_attempt()
        if attempt is None:
            self.error = self.policy.exhausted_error()
        return attempt

    def attempt_failed(self, exc: BaseException) -> None:
        """The attempt failed before the session was joined. Without a user's ``is_fatal``, a
        join that exceeded a size limit is fatal: our HELLO larger than the transport may
        carry, the router's WELCOME or CHALLENGE larger than our ``max_message_size``
        (a configuration that can never work was retried for ever)."""
        self.policy.failed(exc, fatal=self._user_is_fatal is None and _too_large(exc))

    def joined(self) -> None:
        """The attempt's session joined (WELCOME); its registrations and subscriptions are
        restored next, then :meth:`restored`."""
        self.joins += 1

    def restored(self) -> None:
        """The joined session's registrations and subscriptions are back: the attempt
        succeeded, every failure counter starts again. (A restore the router refuses is a
        failed attempt: it counts towards ``max_retries`` and the delays grow.)"""
        self.policy.joined()

    def session_ended(
        self,
        *,
        error: BaseException | None = None,
        close: CloseDetails | None = None,
        main_returned: bool = False,
        ended_first: bool = True,
        restoring: bool = False,
    ) -> Verdict:
        """What to do after a joined session ended.

        ``error`` is what ``main``, a hook or a restore raised (``None`` when nothing did);
        ``close`` how the session ended; ``main_returned`` that ``main`` returned normally;
        ``ended_first`` that the session had already ended when ``error`` was raised (a
        ``SessionClosed`` then only says so; raised while it was open, e.g. by another
        session ``main`` opened, it is ``main``'s error); ``restoring`` that ``error`` came
        from restoring a declared registration or subscription.
        """
        if self.stopping:
            return Verdict.DONE
        if error is not None and restoring and self.joins > 1 and _held_by_old_session(error):
            log.warning("the router still holds the previous session's procedure: %s", error)
            self.policy.failed(error)
            return self._reconnect_or_fail()
        if error is not None and not (ended_first and isinstance(error, SessionClosed)):
            return self.application_failed(error)
        if main_returned:
            return Verdict.DONE
        if close is not None and close.local and close.reason not in _PEER_FAULTS:
            return Verdict.DONE  # the application left (or aborted) on purpose
        if error is not None:
            lost = error
        else:
            lost = (close or CloseDetails(CloseDetails.REASON_TRANSPORT_LOST)).error()
        if self._user_is_fatal is None and default_is_fatal(lost):  # e.g. kicked: not authorized
            self.error = lost
            return Verdict.FAIL
        # (the user's is_fatal decides in the policy: a fatal transport is not tried again)
        self.policy.failed(lost)
        return self._reconnect_or_fail()

    def application_failed(self, error: BaseException) -> Verdict:
        """``main``, a hook or a restore raised ``error`` (also a ``connect`` or
        ``disconnect`` listener around an attempt that did not join): reconnect when the
        user's ``is_fatal`` answers ``False``, otherwise the error ends the run."""
        if self.stopping:
            return Verdict.DONE
        if self._user_is_fatal is not None and not self._user_is_fatal(error):
            self.policy.failed(error)
            return self._reconnect_or_fail()
        self.error = error
        return Verdict.FAIL

    def _reconnect_or_fail(self) -> Verdict:
        if self.policy.exhausted:
            self.error = self.policy.exhausted_error()
            return Verdict.FAIL
        return Verdict.RECONNECT


#: Reasons of the ABORTs we send because of the router (what it sent broke the protocol or the
#: size limit): the session ended, the application did not leave.
_PEER_FAULTS = frozenset({PROTOCOL_VIOLATION, PayloadTooLarge.DEFAULT_REASON})


def _too_large(error: BaseException) -> bool:
    """Whether ``error`` (or what caused it) is a size limit's."""
    return any(
        getattr(cause, "reason", None) == PayloadTooLarge.DEFAULT_REASON for cause in causes(error)
    )


def _held_by_old_session(error: BaseException) -> bool:
    return (
        isinstance(error, ApplicationError)
        and error.error == ApplicationError.PROCEDURE_ALREADY_EXISTS
    )
