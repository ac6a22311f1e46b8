"""The exception hierarchy of the library.

Everything the library raises on purpose derives from :class:`WampError`. Protocol errors split
by direction (h11's shape): :class:`RemoteProtocolError` (the peer sent something wrong) and
:class:`LocalProtocolError` (the application asked for something the protocol forbids, or for a
message that cannot be sent), both under :class:`ProtocolError`; then
transport-level failures and application errors carried by WAMP ``ERROR``/``ABORT`` messages.

Each protocol error carries ``reason``: the WAMP URI to send back to the peer (for example in an
``ABORT``), in the spirit of h11's ``error_status_hint``.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "WampError",
    "ProtocolError",
    "RemoteProtocolError",
    "LocalProtocolError",
    "EncodingError",
    "MessageTooLarge",
    "PayloadTooLarge",
    "TransportError",
    "HandshakeError",
    "SerializationError",
    "ApplicationError",
    "SessionClosed",
    "AuthenticationError",
    "ConfigurationError",
]

PROTOCOL_VIOLATION = "wamp.error.protocol_violation"


class WampError(Exception):
    """Base class of every exception this library raises on purpose."""


class ProtocolError(WampError):
    """Base class of protocol errors; catch :class:`RemoteProtocolError` or
    :class:`LocalProtocolError` to tell who broke the protocol (h11's split).

    ``reason`` is the WAMP URI that best describes the problem (for a remote error: the URI to
    report to the peer, e.g. in an ``ABORT``); ``str(exc)`` says what exactly was wrong.
    """

    DEFAULT_REASON = PROTOCOL_VIOLATION

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason if reason is not None else self.DEFAULT_REASON


class RemoteProtocolError(ProtocolError):
    """The peer violated the WAMP protocol (or its transport framing).

    ``reason`` is ``wamp.error.protocol_violation`` unless a more specific URI applies.
    """


class SerializationError(RemoteProtocolError):
    """Bytes from the peer that could not be decoded by the negotiated serializer."""


class PayloadTooLarge(RemoteProtocolError):
    """A received message or frame exceeds the negotiated maximum size."""

    DEFAULT_REASON = "wamp.error.payload_size_exceeded"


class LocalProtocolError(ProtocolError):
    """The local application asked for something the protocol (or current state) forbids.

    Nothing was sent and no request ID was used. ``reason`` is the WAMP URI that best describes
    the problem (``wamp.error.invalid_argument`` by default).
    """

    DEFAULT_REASON = "wamp.error.invalid_argument"


class EncodingError(LocalProtocolError):
    """A message we were asked to send holds a value the serializer cannot represent."""


class MessageTooLarge(LocalProtocolError):
    """A message we were asked to send exceeds the peer's (or our configured) size limit."""

    DEFAULT_REASON = "wamp.error.payload_size_exceeded"


class TransportError(WampError):
    """The transport failed or was closed (connection refused, reset, closed by the peer...)."""


class HandshakeError(TransportError):
    """The RawSocket or WebSocket opening handshake was refused or malformed.

    ``code`` is the RawSocket error code (1-4) or the HTTP status of a refused WebSocket upgrade,
    when there is one.
    """

    def __init__(self, message: str, *, code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class SessionClosed(WampError):
    """The WAMP session is not (or no longer) established, so the request cannot proceed.

    ``reason`` is the close reason URI (e.g. ``wamp.close.transport_lost``) when known.
    """

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason


class AuthenticationError(WampError):
    """Local authentication failure: a challenge could not be answered or a router proof failed.

    Secrets are never part of the message.
    """

    def __init__(self, message: str, *, reason: str = "wamp.error.cannot_authenticate") -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason


class ConfigurationError(WampError, ValueError):
    """Invalid configuration (transport dicts, component arguments, authenticator settings)."""


class ApplicationError(WampError):
    """An application-level error carried by a WAMP ``ERROR`` (or raised by a callee handler).

    ``error`` is the error URI; ``args``/``kwargs`` the error payload. Raising it from a procedure
    handler sends exactly that URI and payload to the caller.
    """

    # Frequently used URIs, as class attributes for convenience.
    INVALID_URI = "wamp.error.invalid_uri"
    INVALID_ARGUMENT = "wamp.error.invalid_argument"
    NO_SUCH_PROCEDURE = "wamp.error.no_such_procedure"
    PROCEDURE_ALREADY_EXISTS = "wamp.error.procedure_already_exists"
    NO_SUCH_REGISTRATION = "wamp.error.no_such_registration"
    NO_SUCH_SUBSCRIPTION = "wamp.error.no_such_subscription"
    CANCELED = "wamp.error.canceled"
    TIMEOUT = "wamp.error.timeout"
    NOT_AUTHORIZED = "wamp.error.not_authorized"
    RUNTIME_ERROR = "wamp.error.runtime_error"
    PAYLOAD_SIZE_EXCEEDED = "wamp.error.payload_size_exceeded"
    PROTOCOL_VIOLATION = PROTOCOL_VIOLATION
    # Autobahn's other names, so that ported comparisons (``is_fatal``, ``on_leave``) work.
    AUTHENTICATION_FAILED = "wamp.error.authentication_failed"
    AUTHORIZATION_FAILED = "wamp.error.authorization_failed"
    CLOSE_REALM = "wamp.error.close_realm"
    ENC_DECRYPT_ERROR = "wamp.error.encryption.decrypt_error"
    ENC_NO_PAYLOAD_CODEC = "wamp.error.no_payload_codec"
    ENC_TRUSTED_URI_MISMATCH = "wamp.error.encryption.trusted_uri_mismatch"
    GOODBYE_AND_OUT = "wamp.error.goodbye_and_out"
    INVALID_PAYLOAD = "wamp.error.invalid_payload"
    NO_AUTH_METHOD = "wamp.error.no_auth_method"
    NO_ELIGIBLE_CALLEE = "wamp.error.no_eligible_callee"
    NO_SUCH_PRINCIPAL = "wamp.error.no_such_principal"
    NO_SUCH_REALM = "wamp.error.no_such_realm"
    NO_SUCH_ROLE = "wamp.error.no_such_role"
    NO_SUCH_SESSION = "wamp.error.no_such_session"
    PROCEDURE_EXISTS_INVOCATION_POLICY_CONFLICT = (
        "wamp.error.procedure_exists_with_different_invocation_policy"
    )
    SYSTEM_SHUTDOWN = "wamp.error.system_shutdown"
    TYPE_CHECK_ERROR = "wamp.error.type_check_error"

    def __init__(self, error: str, *args: Any, **kwargs: Any) -> None:
        # As in Autobahn: positional error arguments are ``exc.args``, keyword arguments
        # ``exc.kwargs``; the URI is ``exc.error``.
        super().__init__(*args)
        self.error = error
        self.kwargs: dict[str, Any] = kwargs
        #: ERROR.Details as the router sent them (empty for a locally raised error).
        self.details: dict[str, Any] = {}
        #: A transparent (passthru/E2E) payload carried by the ERROR, if any.
        self.payload: bytes | str | None = None

    def error_message(self) -> str:
        """``"<uri>: <arg1> <arg2>..."`` (Autobahn's format)."""
        return f"{self.error}: {' '.join(str(a) for a in self.args)}"

    def __str__(self) -> str:
        text = str(self.error)  # (a URI that is no string is refused when sent, not here)
        if self.args:
            text += ": " + " ".join(str(a) for a in self.args)
        if self.kwargs:
            text += f" {self.kwargs!r}"
        return text

    def __repr__(self) -> str:
        return f"ApplicationError({self.error!r}, args={list(self.args)!r}, kwargs={self.kwargs!r})"
