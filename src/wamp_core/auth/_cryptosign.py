"""WAMP-Cryptosign (Ed25519) authentication (spec: advanced/authentication_cryptosign.md).

Needs the optional ``cryptography`` package.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import string
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from .._errors import AuthenticationError, ConfigurationError
from ._base import Authenticator

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

__all__ = [
    "CHANNEL_BINDINGS",
    "CryptosignAuthenticator",
    "cryptosign_pubkey",
    "sign_challenge",
    "verify_challenge_signature",
]

logger = logging.getLogger(__name__)

#: Channel binding types WAMP-Cryptosign knows.
CHANNEL_BINDINGS: Final = ("tls-unique", "tls-exporter")

_HEX: Final = frozenset(string.hexdigits)
_MISSING_CRYPTOGRAPHY: Final = (
    "WAMP-Cryptosign needs the 'cryptography' package: pip install 'wamp-py[crypto]'"
)


def _ed25519() -> tuple[type[Ed25519PrivateKey], type[Ed25519PublicKey]]:
    try:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import (
            Ed25519PrivateKey,
            Ed25519PublicKey,
        )
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(_MISSING_CRYPTOGRAPHY) from exc
    return Ed25519PrivateKey, Ed25519PublicKey


def _is_hex(value: str, length: int) -> bool:
    return len(value) == length and all(c in _HEX for c in value)


def _key_bytes(value: object, what: str) -> bytes:
    """32 key bytes from 64 hex chars or 32 raw bytes; the message never shows the value."""
    if isinstance(value, str):
        if not _is_hex(value, 64):
            raise ConfigurationError(f"{what} must be 64 hex characters or 32 bytes")
        return bytes.fromhex(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
        if len(raw) != 32:
            raise ConfigurationError(f"{what} must be 64 hex characters or 32 bytes")
        return raw
    raise ConfigurationError(
        f"{what} must be 64 hex characters or 32 bytes, not {type(value).__name__}"
    )


def _private_key(seed: object) -> Ed25519PrivateKey:
    private_cls, _ = _ed25519()
    return private_cls.from_private_bytes(_key_bytes(seed, "the Ed25519 private key"))


def _public_key(pubkey: object, what: str) -> Ed25519PublicKey:
    _, public_cls = _ed25519()
    try:
        return public_cls.from_public_bytes(_key_bytes(pubkey, what))
    except ValueError as exc:
        if isinstance(exc, ConfigurationError):
            raise
        raise ConfigurationError(f"{what} is not a valid Ed25519 public key") from None


def _pubkey_hex(key: Ed25519PrivateKey) -> str:
    return key.public_key().public_bytes_raw().hex()


def _challenge_bytes(value: object) -> bytes:
    if not isinstance(value, str) or not _is_hex(value, 64):
        raise AuthenticationError(
            "WAMP-Cryptosign CHALLENGE 'challenge' must be 64 hex characters (32 bytes)"
        )
    return bytes.fromhex(value)


def _xor(data: bytes, channel_id: bytes | None) -> bytes:
    if channel_id is None:
        return data
    if len(channel_id) != 32:
        raise AuthenticationError(
            f"the TLS channel id must be 32 bytes, got {len(channel_id)} bytes"
        )
    return bytes(a ^ b for a, b in zip(data, channel_id, strict=True))


def cryptosign_pubkey(seed: bytes | str) -> str:
    """The lower-case hex Ed25519 public key for a 32-byte seed (bytes or 64 hex chars)."""
    return _pubkey_hex(_private_key(seed))


def sign_challenge(seed: bytes | str, challenge_hex: str, channel_id: bytes | None) -> str:
    """The WAMP-Cryptosign AUTHENTICATE signature: ``hex(sig + msg)`` (192 hex chars).

    ``msg`` is the 32-byte challenge, XORed with ``channel_id`` when one is given.
    """
    message = _xor(_challenge_bytes(challenge_hex), channel_id)
    return (_private_key(seed).sign(message) + message).hex()


def verify_challenge_signature(pubkey: bytes | str, signature_hex: str, message: bytes) -> bool:
    """True when ``signature_hex`` is ``hex(sig + message)`` with ``sig`` valid under ``pubkey``."""
    public = _public_key(pubkey, "pubkey")
    from cryptography.exceptions import InvalidSignature

    if not isinstance(signature_hex, str) or not _is_hex(signature_hex, 192):
        return False
    raw = bytes.fromhex(signature_hex)
    if not hmac.compare_digest(raw[64:], message):
        return False
    try:
        public.verify(raw[:64], message)
    except InvalidSignature:
        return False
    return True


class CryptosignAuthenticator(Authenticator):
    """``cryptosign`` authentication with an Ed25519 key.

    ``privkey`` is the 32-byte seed (raw or 64 hex chars). ``channel_binding``
    (``"tls-unique"``/``"tls-exporter"``) binds the signature to the TLS connection; the
    driver must then supply that channel id. ``router_pubkey`` pins the router's key and
    turns on router authentication (a random ``challenge`` in HELLO, verified in CHALLENGE).
    """

    method = "cryptosign"

    def __init__(
        self,
        privkey: bytes | str,
        authid: str | None = None,
        authrole: str | None = None,
        authextra: Mapping[str, Any] | None = None,
        *,
        channel_binding: str | None = None,
        router_pubkey: bytes | str | None = None,
    ) -> None:
        super().__init__(authid=authid, authrole=authrole, authextra=authextra)
        self._key = _private_key(privkey)
        #: The client's public key, lower-case hex (announced as ``authextra.pubkey``).
        self.pubkey = _pubkey_hex(self._key)
        extra = self._authextra
        announced = extra.pop("pubkey", None)
        if announced is not None and (
            not isinstance(announced, str) or announced.lower() != self.pubkey
        ):
            raise ConfigurationError("authextra.pubkey does not match the private key")
        if "challenge" in extra:
            raise ConfigurationError(
                "authextra.challenge is generated per HELLO: pass router_pubkey instead"
            )
        extra_binding = extra.pop("channel_binding", None)
        if channel_binding is None:
            channel_binding = extra_binding
        elif extra_binding is not None and extra_binding != channel_binding:
            raise ConfigurationError(
                f"channel_binding {channel_binding!r} conflicts with "
                f"authextra.channel_binding {extra_binding!r}"
            )
        if channel_binding is not None and channel_binding not in CHANNEL_BINDINGS:
            raise ConfigurationError(
                f"channel_binding must be one of {CHANNEL_BINDINGS} or None, "
                f"not {channel_binding!r}"
            )
        self.channel_binding: str | None = channel_binding
        self._router_key: Ed25519PublicKey | None = None
        #: The pinned router public key, lower-case hex (router authentication), or None.
        self.router_pubkey: str | None = None
        if router_pubkey is not None:
            self._router_key = _public_key(router_pubkey, "router_pubkey")
            self.router_pubkey = self._router_key.public_bytes_raw().hex()
        self._router_challenge: bytes | None = None
        self._router_verified = False

    def _repr_fields(self) -> list[str]:
        fields = [*super()._repr_fields(), f"pubkey={self.pubkey!r}"]
        if self.channel_binding is not None:
            fields.append(f"channel_binding={self.channel_binding!r}")
        if self.router_pubkey is not None:
            fields.append(f"router_pubkey={self.router_pubkey!r}")
        return fields

    def authextra(self) -> dict[str, Any]:
        extra: dict[str, Any] = {"pubkey": self.pubkey, **super().authextra()}
        if self.channel_binding is not None:
            extra["channel_binding"] = self.channel_binding
        self._router_verified = False
        if self._router_key is not None:
            self._router_challenge = secrets.token_bytes(32)
            extra["challenge"] = self._router_challenge.hex()
        return extra

    def _channel_id(
        self, extra: Mapping[str, Any], channel_ids: Mapping[str, bytes]
    ) -> bytes | None:
        offered = extra.get("channel_binding")
        if offered != self.channel_binding:
            raise AuthenticationError(
                f"the router answered with channel_binding {offered!r}, "
                f"but {self.channel_binding!r} was requested"
            )
        if self.channel_binding is None:
            return None
        channel_id = channel_ids.get(self.channel_binding)
        if channel_id is None:
            raise AuthenticationError(
                f"channel binding {self.channel_binding!r} was requested, but the transport "
                f"provides no {self.channel_binding!r} channel id (TLS needed)"
            )
        channel_id = bytes(channel_id)
        if len(channel_id) != 32:
            raise AuthenticationError(
                f"the {self.channel_binding!r} channel id must be 32 bytes, "
                f"got {len(channel_id)} bytes"
            )
        return channel_id

    def _verify_router(self, extra: Mapping[str, Any], channel_id: bytes | None) -> None:
        from cryptography.exceptions import InvalidSignature

        assert self._router_key is not None
        if self._router_challenge is None:
            raise AuthenticationError(
                "router authentication needs authextra() to be sent in HELLO first"
            )
        announced = extra.get("pubkey")
        if announced is not None and (
            not isinstance(announced, str) or announced.lower() != self.router_pubkey
        ):
            raise AuthenticationError(
                f"the router presented public key {announced!r}, "
                f"not the pinned {self.router_pubkey!r}"
            )
        signature = extra.get("signature")
        if not isinstance(signature, str) or not _is_hex(signature, 192):
            raise AuthenticationError(
                "router authentication failed: CHALLENGE has no 'signature' of 192 hex characters"
            )
        raw = bytes.fromhex(signature)
        expected = _xor(self._router_challenge, channel_id)
        if not hmac.compare_digest(raw[64:], expected):
            raise AuthenticationError(
                "router authentication failed: the router signed a different challenge"
            )
        try:
            self._router_key.verify(raw[:64], expected)
        except InvalidSignature:
            raise AuthenticationError(
                "router authentication failed: invalid signature for the pinned router key"
            ) from None
        self._router_verified = True

    def on_challenge(
        self, extra: dict[str, Any], channel_ids: Mapping[str, bytes]
    ) -> tuple[str, dict[str, Any]]:
        challenge = _challenge_bytes(extra.get("challenge"))
        channel_id = self._channel_id(extra, channel_ids)
        if self._router_key is not None:
            self._verify_router(extra, channel_id)
        message = _xor(challenge, channel_id)
        signature = self._key.sign(message) + message
        logger.debug(
            "answering cryptosign challenge for pubkey %s (channel binding %s)",
            self.pubkey,
            self.channel_binding,
        )
        return signature.hex(), {}

    def on_welcome(self, authextra: dict[str, Any]) -> None:
        if self._router_key is not None and not self._router_verified:
            raise AuthenticationError(
                "the router welcomed the session without authenticating itself "
                "(no verified CHALLENGE signature)"
            )
