"""The authenticator interface shared by every WAMP authentication method."""

from __future__ import annotations

import abc
import copy
from collections.abc import Callable, Mapping
from typing import Any

from .._errors import AuthenticationError, ConfigurationError

__all__ = ["Authenticator", "AnonymousAuthenticator"]


def _optional_str(name: str, value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise ConfigurationError(f"{name} must be a str or None, not {type(value).__name__}")


def _authextra_dict(value: object) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigurationError(f"authextra must be a dict, not {type(value).__name__}")
    for key in value:
        if not isinstance(key, str):
            raise ConfigurationError(f"authextra keys must be str, got {key!r}")
    return copy.deepcopy(dict(value))


class Authenticator(abc.ABC):
    """One WAMP authentication method as seen by a client (pure: no I/O, no clock).

    The session engine puts ``method``, ``authid``, ``authrole`` and :meth:`authextra` into
    ``HELLO.Details``, answers each ``CHALLENGE`` with :meth:`on_challenge` and lets
    :meth:`on_welcome` check the router's proof in ``WELCOME.Details.authextra``.
    """

    method: str
    authid: str | None
    authrole: str | None

    def __init__(
        self,
        *,
        authid: str | None = None,
        authrole: str | None = None,
        authextra: Mapping[str, Any] | None = None,
    ) -> None:
        self.authid = _optional_str("authid", authid)
        self.authrole = _optional_str("authrole", authrole)
        self._authextra = _authextra_dict(authextra)

    def authextra(self) -> dict[str, Any]:
        """The ``HELLO.Details.authextra`` entries of this method (a fresh copy).

        Methods with nonces create new ones on every call: call it exactly once per HELLO.
        """
        return copy.deepcopy(self._authextra)

    @abc.abstractmethod
    def on_challenge(
        self, extra: dict[str, Any], channel_ids: Mapping[str, bytes]
    ) -> tuple[str, dict[str, Any]]:
        """Answer a CHALLENGE: return (signature, authenticate_extra).

        ``channel_ids`` maps ``"tls-unique"``/``"tls-exporter"`` to the 32-byte channel id
        of the TLS connection (empty without TLS). Raises :class:`AuthenticationError` on
        anything wrong.
        """

    def prepare(self, extra: dict[str, Any]) -> Callable[[], object] | None:
        """The expensive part of answering this CHALLENGE (a key derivation), as a function
        that may run in another thread before :meth:`on_challenge`, which then finds its
        result; ``None`` when there is none (the default) or it is done already.

        A driver runs it in a worker thread so that the event loop goes on meanwhile. Raises
        :class:`AuthenticationError` for a CHALLENGE refused before any work.
        """
        return None

    def on_welcome(self, authextra: dict[str, Any]) -> None:  # noqa: B027 - optional hook
        """Verify the router's proof in ``WELCOME.Details.authextra`` (default: nothing).

        Raises :class:`AuthenticationError` when the proof is missing or wrong.
        """

    def _repr_fields(self) -> list[str]:
        return [f"authid={self.authid!r}", f"authrole={self.authrole!r}"]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(self._repr_fields())})"


class AnonymousAuthenticator(Authenticator):
    """``anonymous`` authentication: no secret, no CHALLENGE expected."""

    method = "anonymous"

    def __init__(
        self,
        authid: str | None = None,
        authrole: str | None = None,
        authextra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(authid=authid, authrole=authrole, authextra=authextra)

    def on_challenge(
        self, extra: dict[str, Any], channel_ids: Mapping[str, bytes]
    ) -> tuple[str, dict[str, Any]]:
        raise AuthenticationError("the router sent a CHALLENGE for anonymous authentication")
