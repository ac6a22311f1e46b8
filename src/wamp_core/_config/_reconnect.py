"""Reconnect policy: which transport to try next, and how long to wait first.

Pure and deterministic: no clock, no sleeping; randomness is injected. A driver loops::

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
its n-th consecutive failure it waits ``min(max, initial * growth**(n-1))`` times a jitter factor
in ``[1 - jitter, 1 + jitter]``, clamped to ``[0, max]``. A join resets every counter.
"""

from __future__ import annotations

import logging
import math
import random as _random
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from .._errors import ConfigurationError, HandshakeError, LocalProtocolError, TransportError
from ._transports import TransportConfig

__all__ = [
    "FATAL_REASONS",
    "Attempt",
    "ReconnectExhausted",
    "ReconnectPolicy",
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
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, (ConfigurationError, ssl.SSLCertVerificationError)):
            return True
        if isinstance(current, HandshakeError) and _refusal_is_final(current.code):
            return True
        for attribute in ("reason", "error"):
            value = getattr(current, attribute, None)
            if isinstance(value, str) and value in FATAL_REASONS:
                return True
        current = current.__cause__
    return False


def _refusal_is_final(code: int | None) -> bool:
    if code is None:
        return False
    if code in (1, 2, 3):  # RawSocket: serializer / max length / reserved bits refused
        return True
    return 400 <= code < 500 and code not in (408, 429)  # WebSocket upgrade refused


def retry_delay(transport: TransportConfig, failures: int, random_value: float = 0.5) -> float:
    """The wait before the next attempt of ``transport`` after ``failures`` consecutive failures.

    ``random_value`` in ``[0, 1]`` selects the jitter (0.5: none, 0: ``-jitter``, 1: ``+jitter``).
    """
    if failures <= 0:
        return 0.0
    cap = transport.max_retry_delay
    initial = transport.initial_retry_delay
    if initial == 0.0:
        return 0.0
    try:
        uncapped = initial * transport.retry_delay_growth ** (failures - 1)
    except OverflowError:
        uncapped = math.inf
    base = min(cap, uncapped)
    r = min(1.0, max(0.0, random_value)) if math.isfinite(random_value) else 0.5
    factor = 1.0 + transport.retry_delay_jitter * (2.0 * r - 1.0)
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

    ``failures`` holds ``(index, exception)``: the last failure of each transport.
    """

    def __init__(self, message: str, failures: list[tuple[int, BaseException]]) -> None:
        super().__init__(message)
        self.message = message
        self.failures = failures


@dataclass(slots=True)
class _State:
    consecutive_failures: int = 0
    fatal: bool = False
    last_error: BaseException | None = None


class ReconnectPolicy:
    """Round-robin transport selection with capped exponential backoff and fatal-error handling.

    Call :meth:`next_attempt`, then exactly one of :meth:`failed` or :meth:`joined` for it;
    after :meth:`joined`, :meth:`failed` may still be called once when that session is lost.
    ``random`` returns floats in ``[0, 1)``; ``is_fatal`` classifies failures (default:
    :func:`default_is_fatal`).
    """

    def __init__(
        self,
        transports: Sequence[TransportConfig],
        *,
        random: Callable[[], float] = _random.random,
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
        self._random = random
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
        """The next transport to try and the delay before it; ``None`` when all are exhausted."""
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
        delay = retry_delay(transport, failures, self._random()) if failures else 0.0
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

    def failed(self, exc: BaseException) -> None:
        """The last attempt (or the session it established) failed with ``exc``."""
        index = self._current
        if index is None or self._outcome == "failed":
            raise LocalProtocolError("failed() called without an attempt to report")
        self._outcome = "failed"
        state = self._states[index]
        state.consecutive_failures += 1
        state.last_error = exc
        self._last_failed = index
        if self._is_fatal(exc):
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
