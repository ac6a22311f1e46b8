"""Reconnect policy: which transport to try next, and how long to wait first.

Pure: no clock, no sleeping. The only randomness is each transport's noise source
(``TransportConfig.retry_delay_noise``, default :func:`random.random`, set by a callable
``retry_delay_jitter`` in the transport dict); inject a fixed one and the policy is
deterministic. A driver loops::

    while (attempt := policy.next_attempt()) is not None:
        await sleep(attempt.delay)
        try:
            session = await connect(attempt.transport)
        except Exception as exc:
            policy.failed(exc)
            continue
        policy.joined()
        ...  # when the session is later lost abnormally: policy.failed(exc)
    raise policy.exhausted_error()

Transports are tried round-robin (like Autobahn). A transport's first attempt waits 0 s; after
its n-th consecutive failure (n >= 1) it waits::

    base  = min(max_retry_delay, initial_retry_delay * retry_delay_growth ** (n - 1))
    u     = retry_delay_noise()                      # one draw per retry, must be in [0, 1]
    delay = clamp(base * (1 + retry_delay_jitter * (2 * u - 1)), 0, max_retry_delay)

so the delay lies in ``[base * (1 - jitter), base * (1 + jitter)]``, is never negative and never
above ``max_retry_delay``, and the jitter is not compounded from one retry to the next. A noise
value outside ``[0, 1]`` (or not a number) raises :class:`ConfigurationError` from
:meth:`ReconnectPolicy.next_attempt`. A join resets every counter.
"""

from __future__ import annotations

import logging
import math
import ssl
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Final

from .._errors import ConfigurationError, HandshakeError, LocalProtocolError, TransportError
from ._transports import TransportConfig

__all__ = [
    "FATAL_REASONS",
    "Attempt",
    "ReconnectExhausted",
    "ReconnectPolicy",
    "check_noise",
    "default_is_fatal",
    "retry_delay",
]

logger = logging.getLogger(__name__)

#: WAMP error/close reasons that retrying cannot fix (wrong credentials, realm or role).
FATAL_REASONS: Final = frozenset(
    {
        "wamp.error.not_authorized",
        "wamp.error.authentication_failed",
        "wamp.error.authorization_failed",
        "wamp.error.no_such_realm",
        "wamp.error.no_such_role",
        "wamp.error.no_such_principal",
        "wamp.error.no_matching_auth_method",
        "wamp.error.no_auth_method",  # (Crossbar.io's and Autobahn's name for the same refusal)
        "wamp.error.authentication_denied",
        "wamp.error.cannot_authenticate",
    }
)


def default_is_fatal(exc: BaseException) -> bool:
    """True for failures a retry cannot fix.

    Those are: an exception whose ``reason`` or ``error`` attribute is one of
    :data:`FATAL_REASONS` (authentication, authorization, unknown realm/role/principal),
    :class:`ConfigurationError`, TLS certificate verification failures, and a router that
    refuses the transport handshake for good (RawSocket codes 1-3: serializer, length or
    reserved bits refused; a WebSocket upgrade answered 4xx other than 408/429), also when they
    are the explicit ``__cause__`` of the exception. Everything else is transient.
    """
    for current in causes(exc):
        if isinstance(current, (ConfigurationError, ssl.SSLCertVerificationError)):
            return True
        if isinstance(current, HandshakeError) and _refusal_is_final(current.code):
            return True
        for attribute in ("reason", "error"):
            value = getattr(current, attribute, None)
            if isinstance(value, str) and value in FATAL_REASONS:
                return True
    return False


def causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc``, then its explicit ``__cause__``, and so on (each once: a chain may loop)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__


def _refusal_is_final(code: int | None) -> bool:
    if code is None:
        return False
    if code in (1, 2, 3):  # RawSocket: serializer / max length / reserved bits refused
        return True
    return 400 <= code < 500 and code not in (408, 429)  # WebSocket upgrade refused


def check_noise(value: object) -> float:
    """A value drawn from a noise source: a number in ``[0, 1]``, else :class:`ConfigurationError`.

    Out-of-range values are refused rather than clamped: a callable returning seconds (the
    meaning of Twisted's ``backoffPolicy(jitter=...)``, whose wording the ``Component`` page
    copies) would otherwise silently pin the delay to one end of its range.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigurationError(
            "the 'retry_delay_jitter' noise source must return a float in [0, 1] "
            f"(like random.random()), but returned a {type(value).__name__}"
        )
    number = float(value)
    if not 0.0 <= number <= 1.0:  # also refuses NaN
        raise ConfigurationError(
            "the 'retry_delay_jitter' noise source must return a float in [0, 1] "
            f"(like random.random()), but returned {value!r}"
        )
    return number


def retry_delay(transport: TransportConfig, failures: int, noise: float | None = None) -> float:
    """The wait before the next attempt of ``transport`` after ``failures`` consecutive failures.

    ``noise`` in ``[0, 1]`` places the delay within the jitter range (0: ``-jitter``, 0.5: none,
    1: ``+jitter``); ``None`` draws it from ``transport.retry_delay_noise`` (only when
    ``failures > 0``). See the module docstring for the formula.
    """
    if failures <= 0:
        return 0.0
    u = check_noise(transport.retry_delay_noise() if noise is None else noise)
    cap = transport.max_retry_delay
    initial = transport.initial_retry_delay
    if initial == 0.0:
        return 0.0
    try:
        uncapped = initial * transport.retry_delay_growth ** (failures - 1)
    except OverflowError:
        uncapped = math.inf
    base = min(cap, uncapped)
    factor = 1.0 + transport.retry_delay_jitter * (2.0 * u - 1.0)
    return min(cap, max(0.0, base * factor))


@dataclass(frozen=True, slots=True)
class Attempt:
    """The next connection attempt: wait ``delay`` seconds, then connect to ``transport``.

    ``index`` is the transport's position in the configured list; ``attempt`` counts this
    transport's attempts since its last success (1 = first try, 2 = first retry, ...).
    """

    transport: TransportConfig
    index: int
    delay: float
    attempt: int


class ReconnectExhausted(TransportError):
    """No transport may be tried any more.

    ``failures`` holds ``(index, exception)``: the last failure of each transport; the last
    failure of all is the ``__cause__`` (an :class:`AuthenticationError`, a refused join's
    :class:`SessionClosed`, a :class:`TransportError`...), and its ``reason``, when it has one,
    is :attr:`reason`.
    """

    def __init__(self, message: str, failures: list[tuple[int, BaseException]]) -> None:
        super().__init__(message)
        self.message = message
        self.failures = failures

    @property
    def reason(self) -> str | None:
        """The WAMP reason URI of the last failure (``wamp.error.not_authorized``,
        ``wamp.error.cannot_authenticate``...), ``None`` when it had none (a refused
        connection)."""
        for error in (self.__cause__, *(e for _, e in reversed(self.failures))):
            reason = getattr(error, "reason", None)
            if isinstance(reason, str):
                return reason
            if error is not None:
                return None
        return None


@dataclass(slots=True)
class _State:
    consecutive_failures: int = 0
    fatal: bool = False
    last_error: BaseException | None = None


class ReconnectPolicy:
    """Round-robin transport selection with capped exponential backoff and fatal-error handling.

    Call :meth:`next_attempt`, then exactly one of :meth:`failed` or :meth:`joined` for it;
    after :meth:`joined`, :meth:`failed` may still be called once when that session is lost.
    ``is_fatal`` classifies failures (default: :func:`default_is_fatal`). The jitter of each
    delay comes from the transport's own noise source (``TransportConfig.retry_delay_noise``),
    so the transport configuration is the one place that decides it.
    """

    def __init__(
        self,
        transports: Sequence[TransportConfig],
        *,
        is_fatal: Callable[[BaseException], bool] | None = None,
    ) -> None:
        self._transports: tuple[TransportConfig, ...] = tuple(transports)
        if not self._transports:
            raise ConfigurationError("ReconnectPolicy needs at least one transport")
        for index, transport in enumerate(self._transports):
            if not isinstance(transport, TransportConfig):
                raise ConfigurationError(
                    f"transport {index} must be a TransportConfig "
                    f"(see parse_transports), not {type(transport).__name__}"
                )
        self._is_fatal = default_is_fatal if is_fatal is None else is_fatal
        self._states = [_State() for _ in self._transports]
        self._cursor = 0
        self._attempts = 0
        self._current: int | None = None  # index of the last attempt
        self._outcome: str | None = None  # None (pending), "joined" or "failed"
        self._last_failed: int | None = None

    @property
    def transports(self) -> tuple[TransportConfig, ...]:
        """The configured transports."""
        return self._transports

    @property
    def attempts(self) -> int:
        """Total number of attempts handed out by :meth:`next_attempt`."""
        return self._attempts

    def consecutive_failures(self, index: int) -> int:
        """Failures of transport ``index`` since the last join."""
        return self._states[index].consecutive_failures

    def is_fatal(self, index: int) -> bool:
        """True when transport ``index`` was marked permanently failed."""
        return self._states[index].fatal

    def can_try(self, index: int) -> bool:
        """True when transport ``index`` may be attempted again."""
        state = self._states[index]
        if state.fatal:
            return False
        max_retries = self._transports[index].max_retries
        return max_retries < 0 or state.consecutive_failures <= max_retries

    @property
    def exhausted(self) -> bool:
        """True when no transport may be tried any more."""
        return not any(self.can_try(i) for i in range(len(self._transports)))

    def next_attempt(self) -> Attempt | None:
        """The next transport to try and the delay before it; ``None`` when all are exhausted.

        Raises :class:`ConfigurationError` (naming the transport) when the transport's noise
        source returns something other than a number in ``[0, 1]``; nothing changes then.
        """
        if self._current is not None and self._outcome is None:
            raise LocalProtocolError(
                "next_attempt() called before failed() or joined() reported the previous attempt"
            )
        count = len(self._transports)
        for offset in range(count):
            index = (self._cursor + offset) % count
            if self.can_try(index):
                break
        else:
            logger.debug("all %d transports exhausted", count)
            return None
        transport = self._transports[index]
        failures = self._states[index].consecutive_failures
        try:
            delay = retry_delay(transport, failures)
        except ConfigurationError as exc:
            raise ConfigurationError(f"transport {index} ({transport.describe()}): {exc}") from exc
        self._cursor = (index + 1) % count
        self._current = index
        self._outcome = None
        self._attempts += 1
        attempt = Attempt(transport=transport, index=index, delay=delay, attempt=failures + 1)
        logger.debug(
            "attempt %d on transport %d (%s) after %.3f s",
            attempt.attempt,
            index,
            transport.describe(),
            delay,
        )
        return attempt

    def failed(self, exc: BaseException, *, fatal: bool = False) -> None:
        """The last attempt (or the session it established) failed with ``exc``; ``fatal``:
        whatever ``is_fatal`` says, retrying this transport cannot help."""
        index = self._current
        if index is None or self._outcome == "failed":
            raise LocalProtocolError("failed() called without an attempt to report")
        self._outcome = "failed"
        state = self._states[index]
        state.consecutive_failures += 1
        state.last_error = exc
        self._last_failed = index
        if fatal or self._is_fatal(exc):
            state.fatal = True
            logger.info(
                "transport %d (%s) failed permanently: %r",
                index,
                self._transports[index].describe(),
                exc,
            )
        else:
            logger.debug(
                "transport %d (%s) failure %d: %r",
                index,
                self._transports[index].describe(),
                state.consecutive_failures,
                exc,
            )

    def joined(self) -> None:
        """A session joined on the last attempt's transport: reset every failure counter."""
        if self._current is None or self._outcome is not None:
            raise LocalProtocolError("joined() called without a pending attempt")
        self._outcome = "joined"
        for state in self._states:
            state.consecutive_failures = 0

    def exhausted_error(self) -> ReconnectExhausted:
        """The error to raise once :meth:`next_attempt` returned ``None``."""
        if not self.exhausted:
            raise LocalProtocolError("exhausted_error() called while transports remain")
        failures: list[tuple[int, BaseException]] = []
        parts: list[str] = []
        for index, (transport, state) in enumerate(
            zip(self._transports, self._states, strict=True)
        ):
            error = state.last_error
            if error is not None:
                failures.append((index, error))
            if state.fatal:
                how = "fatal error"
            else:
                n = state.consecutive_failures
                how = f"{n} attempt{'s' if n != 1 else ''}"
            detail = f"{type(error).__name__}: {error}" if error is not None else "no error"
            parts.append(f"[{index}] {transport.describe()} ({how}): {detail}")
        message = "all transports exhausted: " + "; ".join(parts)
        result = ReconnectExhausted(message, failures)
        if self._last_failed is not None:
            result.__cause__ = self._states[self._last_failed].last_error
        return result
