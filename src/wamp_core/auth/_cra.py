"""WAMP-CRA challenge-response authentication (spec: advanced/authentication_cra.md)."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import logging
from collections.abc import Callable, Mapping
from typing import Any, Final

from .._errors import AuthenticationError, ConfigurationError
from ._base import Authenticator

__all__ = ["WampCraAuthenticator", "compute_wcs", "derive_key"]

logger = logging.getLogger(__name__)

#: PBKDF2 parameters used when a salted CHALLENGE omits them (spec defaults).
DEFAULT_ITERATIONS: Final = 1000
DEFAULT_KEYLEN: Final = 32
#: Upper bounds that keep a rogue router from making the client spin or allocate (10^6
#: PBKDF2-SHA256 iterations take about 0.25 s here; the drivers run the KDF in a worker thread).
MAX_ITERATIONS: Final = 1_000_000
MAX_KEYLEN: Final = 1024


def _utf8(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


def derive_key(
    secret: str | bytes,
    salt: str | bytes,
    iterations: int = DEFAULT_ITERATIONS,
    keylen: int = DEFAULT_KEYLEN,
) -> bytes:
    """The salted WAMP-CRA key: ``base64(PBKDF2-HMAC-SHA256(secret, salt, iterations, keylen))``.

    ``salt`` is used as UTF-8 text (not base64-decoded). The result is the base64 *text* (ASCII
    bytes, padded), which is what WAMP-CRA uses as the HMAC key.
    """
    derived = hashlib.pbkdf2_hmac("sha256", _utf8(secret), _utf8(salt), iterations, keylen)
    return base64.b64encode(derived)


def compute_wcs(key: bytes | str, challenge: str) -> str:
    """The WAMP-CRA signature: ``base64(HMAC-SHA256(key, challenge_utf8))`` as str."""
    digest = hmac.new(_utf8(key), challenge.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def _int_param(extra: Mapping[str, Any], name: str, default: int, maximum: int) -> int:
    value = extra.get(name)
    if value is None:
        return default
    if type(value) is not int or not 1 <= value <= maximum:
        raise AuthenticationError(
            f"WAMP-CRA CHALLENGE has an invalid {name!r}: expected an int in [1, {maximum}]"
        )
    return value


class WampCraAuthenticator(Authenticator):
    """``wampcra`` authentication with a shared secret (plain or salted/derived)."""

    method = "wampcra"

    def __init__(
        self,
        secret: str | bytes,
        authid: str,
        authrole: str | None = None,
        authextra: Mapping[str, Any] | None = None,
    ) -> None:
        if not isinstance(secret, (str, bytes)):
            raise ConfigurationError(f"secret must be str or bytes, not {type(secret).__name__}")
        if not secret:
            raise ConfigurationError("secret must not be empty")
        if not isinstance(authid, str) or not authid:
            raise ConfigurationError("WAMP-CRA needs an authid (a non-empty str)")
        super().__init__(authid=authid, authrole=authrole, authextra=authextra)
        self._secret = _utf8(secret)
        self._derived: tuple[tuple[str, int, int], bytes] | None = None

    def _params(self, extra: Mapping[str, Any]) -> tuple[str, int, int] | None:
        """The key derivation's (salt, iterations, keylen); ``None``: the plain secret."""
        salt = extra.get("salt")
        if salt is None:
            return None
        if not isinstance(salt, str):
            raise AuthenticationError("WAMP-CRA CHALLENGE has a non-string 'salt'")
        iterations = _int_param(extra, "iterations", DEFAULT_ITERATIONS, MAX_ITERATIONS)
        keylen = _int_param(extra, "keylen", DEFAULT_KEYLEN, MAX_KEYLEN)
        return salt, iterations, keylen

    def _derive(self, params: tuple[str, int, int]) -> bytes:
        derived = self._derived  # (one read: prepare() may run this in another thread)
        if derived is None or derived[0] != params:
            derived = self._derived = (params, derive_key(self._secret, *params))
        return derived[1]

    def prepare(self, extra: dict[str, Any]) -> Callable[[], object] | None:
        params = self._params(extra)
        if params is None or (self._derived is not None and self._derived[0] == params):
            return None
        return functools.partial(self._derive, params)

    def _key(self, extra: Mapping[str, Any]) -> bytes:
        params = self._params(extra)
        return self._secret if params is None else self._derive(params)

    def on_challenge(
        self, extra: dict[str, Any], channel_ids: Mapping[str, bytes]
    ) -> tuple[str, dict[str, Any]]:
        challenge = extra.get("challenge")
        if not isinstance(challenge, str):
            raise AuthenticationError("WAMP-CRA CHALLENGE has no 'challenge' string")
        key = self._key(extra)
        try:
            signature = compute_wcs(key, challenge)
        except UnicodeEncodeError:
            raise AuthenticationError(
                "WAMP-CRA challenge string is not encodable as UTF-8"
            ) from None
        logger.debug(
            "answering wampcra challenge for authid %r (%s)",
            self.authid,
            "salted" if "salt" in extra and extra["salt"] is not None else "plain",
        )
        return signature, {}
