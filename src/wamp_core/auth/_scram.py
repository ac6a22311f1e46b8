"""WAMP-SCRAM authentication (spec: advanced/authentication_scram.md, RFC 5802/7677).

Two dialects:

* ``"spec"``: authmethod ``"wamp-scram"``, kdf ``"argon2id13"`` or ``"pbkdf2"``, RFC 5802
  ``AuthMessage`` (``c=biws``), server signature in ``WELCOME.Details.authextra.verifier``.
* ``"crossbar"``: what Crossbar.io and Autobahn implement: authmethod ``"scram"``, kdf
  ``"argon2id-13"``, empty ``c=``, no escaping of the authid, the un-normalized password, the
  *unpadded base64 text* of the Argon2 hash as ``SaltedPassword``, server nonce
  ``base64(client_nonce_bytes + random)`` and the server signature in
  ``WELCOME.Details.authextra.scram_server_signature``.

Argon2 needs the optional ``argon2-cffi`` package; PBKDF2 uses the standard library.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable, Mapping
from typing import Any, Final, Literal

from .._errors import AuthenticationError, ConfigurationError
from ._base import Authenticator
from ._saslprep import saslprep

__all__ = [
    "ScramAuthenticator",
    "scram_auth_message",
    "scram_client_proof",
    "scram_crossbar_auth_message",
    "scram_salted_password",
    "scram_server_keys",
    "scram_server_signature",
    "scram_verify_proof",
]

logger = logging.getLogger(__name__)

KDF_PBKDF2: Final = "pbkdf2"
KDF_ARGON2ID13: Final = "argon2id13"
CROSSBAR_KDF_ARGON2ID13: Final = "argon2id-13"

#: Defaults for rejecting suspiciously cheap KDF parameters (a rogue router asking for a
#: weak hash): PBKDF2 iterations (RFC 7677 §4), Argon2 time cost x memory (KiB).
DEFAULT_MIN_ITERATIONS: Final = 4096
DEFAULT_MIN_ARGON2_COST: Final = 65536
#: Upper bounds that keep a rogue router from making the client spin or allocate: nothing
#: stops the KDF once it runs (the drivers run it in a worker thread, which a timeout abandons
#: but does not stop). PBKDF2-SHA256 at the maximum takes about 0.25 s here; Argon2 at the
#: default ``max_argon2_cost`` (time cost x memory in KiB, 2^24) about 7 s and at most 256 MiB
#: (Crossbar's usual 4096 x 512 KiB: 0.9 s).
MAX_PBKDF2_ITERATIONS: Final = 1_000_000
MAX_ARGON2_ITERATIONS: Final = 65536
MAX_ARGON2_MEMORY: Final = 1 << 18  # KiB = 256 MiB
DEFAULT_MAX_ARGON2_COST: Final = 1 << 24
MIN_ARGON2_MEMORY: Final = 8  # KiB, the Argon2 minimum for parallelism 1

_NONCE_BYTES: Final = 18  # >= 16 (spec), multiple of 3: the base64 text has no padding


def _new_nonce() -> str:
    return base64.b64encode(secrets.token_bytes(_NONCE_BYTES)).decode("ascii")


def _b64decode(value: str) -> bytes:
    return base64.b64decode(value.encode("ascii"), validate=True)


def _escape(name: str) -> str:
    return name.replace("=", "=3D").replace(",", "=2C")


def _hmac(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def _argon2id13(password: bytes, salt: bytes, iterations: int, memory: int) -> bytes:
    try:
        from argon2.low_level import Type, hash_secret_raw
    except ImportError as exc:
        raise AuthenticationError(
            "the router asked for Argon2 (SCRAM), which needs the 'argon2-cffi' package: "
            "pip install 'wamp-py[scram]'"
        ) from exc
    try:
        raw: bytes = hash_secret_raw(
            secret=password,
            salt=salt,
            time_cost=iterations,
            memory_cost=memory,
            parallelism=1,
            hash_len=32,
            type=Type.ID,
            version=19,
        )
    except Exception as exc:  # argon2.exceptions.HashingError and friends
        raise AuthenticationError(
            f"Argon2 rejected the router's SCRAM parameters ({type(exc).__name__})"
        ) from None
    return raw


def scram_salted_password(
    password: bytes, salt: bytes, kdf: str, iterations: int, memory: int | None = None
) -> bytes:
    """``SaltedPassword`` of spec WAMP-SCRAM (32 raw bytes).

    ``password`` must already be SASLprep-normalized and UTF-8 encoded; ``salt`` is the
    base64-decoded salt; ``kdf`` is ``"pbkdf2"`` or ``"argon2id13"`` (``memory`` in KiB).
    """
    if kdf == KDF_PBKDF2:
        return hashlib.pbkdf2_hmac("sha256", password, salt, iterations, 32)
    if kdf == KDF_ARGON2ID13:
        if memory is None:
            raise ValueError("argon2id13 needs memory")
        return _argon2id13(password, salt, iterations, memory)
    raise ValueError(f"unknown SCRAM kdf {kdf!r}")


def scram_auth_message(
    authid: str,
    client_nonce: str,
    nonce: str,
    salt: str,
    iterations: int,
    *,
    channel_binding: str | None = None,
    cbind_data: bytes | None = None,
) -> bytes:
    """The RFC 5802 ``AuthMessage`` of spec WAMP-SCRAM (ASCII/UTF-8 bytes).

    ``nonce`` is the combined client+server nonce, ``salt`` the base64 text from CHALLENGE.
    """
    cbind_flag = "n" if channel_binding is None else f"p={channel_binding}"
    cbind_input = f"{cbind_flag},,".encode("ascii") + (cbind_data or b"")
    parts = (
        f"n={_escape(authid)}",
        f"r={client_nonce}",
        f"r={nonce}",
        f"s={salt}",
        f"i={iterations}",
        f"c={base64.b64encode(cbind_input).decode('ascii')}",
        f"r={nonce}",
    )
    return ",".join(parts).encode("utf-8")


def scram_client_proof(salted_password: bytes, auth_message: bytes) -> bytes:
    """``ClientProof = ClientKey XOR HMAC(SHA256(ClientKey), AuthMessage)``."""
    client_key = _hmac(salted_password, b"Client Key")
    stored_key = hashlib.sha256(client_key).digest()
    signature = _hmac(stored_key, auth_message)
    return bytes(a ^ b for a, b in zip(client_key, signature, strict=True))


def scram_server_signature(salted_password: bytes, auth_message: bytes) -> bytes:
    """``ServerSignature = HMAC(HMAC(SaltedPassword, "Server Key"), AuthMessage)``."""
    return _hmac(_hmac(salted_password, b"Server Key"), auth_message)


def _int_field(extra: Mapping[str, Any], name: str) -> int:
    value = extra.get(name)
    if type(value) is not int:
        raise AuthenticationError(f"SCRAM CHALLENGE needs an integer {name!r}")
    return value


class ScramAuthenticator(Authenticator):
    """WAMP-SCRAM password authentication (``dialect="spec"`` or ``"crossbar"``).

    The router's KDF parameters are checked: PBKDF2 below ``min_iterations`` and Argon2 with
    ``iterations * memory`` below ``min_argon2_cost`` are refused as suspiciously cheap, and
    Argon2 above ``max_argon2_cost`` (or PBKDF2 above :data:`MAX_PBKDF2_ITERATIONS`) as too
    costly: nothing stops the hash once it runs (the drivers run it in a worker thread), so a
    router could otherwise keep a core busy for hours.
    """

    def __init__(
        self,
        password: str | bytes,
        authid: str,
        authrole: str | None = None,
        authextra: Mapping[str, Any] | None = None,
        *,
        dialect: Literal["spec", "crossbar"] = "spec",
        min_iterations: int = DEFAULT_MIN_ITERATIONS,
        min_argon2_cost: int = DEFAULT_MIN_ARGON2_COST,
        max_argon2_cost: int = DEFAULT_MAX_ARGON2_COST,
    ) -> None:
        if dialect not in ("spec", "crossbar"):
            raise ConfigurationError(f"SCRAM dialect must be 'spec' or 'crossbar', not {dialect!r}")
        if not isinstance(authid, str) or not authid:
            raise ConfigurationError("SCRAM needs an authid (a non-empty str)")
        try:
            authid = saslprep(authid, allow_unassigned=True)
        except ValueError as exc:
            raise ConfigurationError(f"SCRAM authid is not valid: {exc}") from None
        if not authid:
            raise ConfigurationError("SCRAM authid is empty after SASLprep")
        self._password = self._prepare_password(password, dialect)
        for name, value in (
            ("min_iterations", min_iterations),
            ("min_argon2_cost", min_argon2_cost),
            ("max_argon2_cost", max_argon2_cost),
        ):
            if type(value) is not int or value < 1:
                raise ConfigurationError(f"{name} must be a positive int")
        if min_argon2_cost > max_argon2_cost:  # (every Argon2 challenge would be refused)
            raise ConfigurationError(
                f"min_argon2_cost {min_argon2_cost} is above max_argon2_cost {max_argon2_cost}"
            )
        super().__init__(authid=authid, authrole=authrole, authextra=authextra)
        for key in ("nonce", "channel_binding"):
            if key in self._authextra:
                raise ConfigurationError(f"authextra.{key} is managed by the SCRAM authenticator")
        self.dialect = dialect
        self.method = "wamp-scram" if dialect == "spec" else "scram"
        self.min_iterations = min_iterations
        self.min_argon2_cost = min_argon2_cost
        self.max_argon2_cost = max_argon2_cost
        self._client_nonce: str | None = None
        self._answered = False
        self._server_signature: bytes | None = None
        self._salted: tuple[tuple[str, bytes, int, int | None], bytes] | None = None

    @staticmethod
    def _prepare_password(password: object, dialect: str) -> bytes:
        if isinstance(password, bytes):
            try:
                password = password.decode("utf-8")
            except UnicodeDecodeError:
                raise ConfigurationError("the SCRAM password bytes are not UTF-8") from None
        if not isinstance(password, str):
            raise ConfigurationError(
                f"the SCRAM password must be str or bytes, not {type(password).__name__}"
            )
        if not password:
            raise ConfigurationError("the SCRAM password must not be empty")
        if dialect == "crossbar":  # Crossbar/Autobahn hash the raw UTF-8 password
            return password.encode("utf-8")
        try:
            prepared = saslprep(password)
        except ValueError:
            raise ConfigurationError("the SCRAM password is not valid under SASLprep") from None
        if not prepared:
            raise ConfigurationError("the SCRAM password is empty after SASLprep")
        return prepared.encode("utf-8")

    def _repr_fields(self) -> list[str]:
        return [*super()._repr_fields(), f"dialect={self.dialect!r}"]

    def authextra(self) -> dict[str, Any]:
        extra = super().authextra()
        self._client_nonce = _new_nonce()
        self._answered = False
        self._server_signature = None
        extra["nonce"] = self._client_nonce
        return extra

    # -- CHALLENGE -------------------------------------------------------------------------

    def _check_nonce(self, nonce: object) -> str:
        client_nonce = self._client_nonce
        assert client_nonce is not None
        if not isinstance(nonce, str) or "," in nonce:
            raise AuthenticationError("SCRAM CHALLENGE has no valid 'nonce'")
        if self.dialect == "spec":
            ok = nonce.startswith(client_nonce) and len(nonce) > len(client_nonce)
        else:
            try:
                server, client = _b64decode(nonce), _b64decode(client_nonce)
            except (binascii.Error, ValueError):
                raise AuthenticationError("SCRAM CHALLENGE 'nonce' is not base64") from None
            ok = server.startswith(client) and len(server) > len(client)
        if not ok:
            raise AuthenticationError(
                "SCRAM CHALLENGE 'nonce' does not extend the client nonce sent in HELLO"
            )
        return nonce

    def _check_kdf(self, extra: Mapping[str, Any]) -> tuple[str, int, int | None]:
        kdf = extra.get("kdf")
        iterations = _int_field(extra, "iterations")
        known: tuple[str, ...] = (
            (KDF_PBKDF2, KDF_ARGON2ID13) if self.dialect == "spec" else (CROSSBAR_KDF_ARGON2ID13,)
        )
        if kdf not in known:
            raise AuthenticationError(
                f"SCRAM CHALLENGE asks for kdf {kdf!r}; the {self.dialect!r} dialect "
                f"supports {', '.join(known)}"
            )
        if kdf == KDF_PBKDF2:
            if not 1 <= iterations <= MAX_PBKDF2_ITERATIONS:
                raise AuthenticationError(f"SCRAM pbkdf2 iterations {iterations} out of range")
            if iterations < self.min_iterations:
                raise AuthenticationError(
                    f"SCRAM pbkdf2 iterations {iterations} is below the minimum "
                    f"{self.min_iterations} (suspiciously cheap; lower min_iterations to accept)"
                )
            return KDF_PBKDF2, iterations, None
        memory = _int_field(extra, "memory")
        if not 1 <= iterations <= MAX_ARGON2_ITERATIONS:
            raise AuthenticationError(f"SCRAM argon2 iterations {iterations} out of range")
        if not MIN_ARGON2_MEMORY <= memory <= MAX_ARGON2_MEMORY:
            raise AuthenticationError(f"SCRAM argon2 memory {memory} KiB out of range")
        if iterations * memory > self.max_argon2_cost:
            raise AuthenticationError(
                f"SCRAM argon2 cost iterations={iterations} x memory={memory} KiB is above "
                f"the maximum {self.max_argon2_cost} (raise max_argon2_cost to accept)"
            )
        if iterations * memory < self.min_argon2_cost:
            raise AuthenticationError(
                f"SCRAM argon2 cost iterations={iterations} x memory={memory} KiB is below "
                f"the minimum {self.min_argon2_cost} (suspiciously cheap; lower "
                "min_argon2_cost to accept)"
            )
        return KDF_ARGON2ID13, iterations, memory

    def _salted_password(self, kdf: str, salt: bytes, iterations: int, memory: int | None) -> bytes:
        params = (kdf, salt, iterations, memory)
        cached = self._salted  # (one read: prepare() may run this in another thread)
        if cached is not None and cached[0] == params:
            return cached[1]
        if kdf == KDF_PBKDF2:
            salted = hashlib.pbkdf2_hmac("sha256", self._password, salt, iterations, 32)
        else:
            assert memory is not None
            salted = _argon2id13(self._password, salt, iterations, memory)
            if self.dialect == "crossbar":
                # Crossbar/Autobahn use the hash field of Argon2's encoded string.
                salted = base64.b64encode(salted).rstrip(b"=")
        self._salted = (params, salted)
        return salted

    def _checked(self, extra: Mapping[str, Any]) -> tuple[str, str, bytes, str, int, int | None]:
        """A CHALLENGE this authenticator answers: its nonce, salt (text and bytes), kdf,
        iterations and memory."""
        if self._client_nonce is None:
            raise AuthenticationError("SCRAM CHALLENGE before a HELLO nonce was generated")
        if self._answered:
            raise AuthenticationError("SCRAM allows a single CHALLENGE per HELLO")
        nonce = self._check_nonce(extra.get("nonce"))
        salt_text = extra.get("salt")
        if not isinstance(salt_text, str):
            raise AuthenticationError("SCRAM CHALLENGE has no 'salt' string")
        try:
            salt = _b64decode(salt_text)
        except (binascii.Error, ValueError):
            raise AuthenticationError("SCRAM CHALLENGE 'salt' is not base64") from None
        if not salt:
            raise AuthenticationError("SCRAM CHALLENGE 'salt' is empty")
        if extra.get("channel_binding") not in (None, ""):
            raise AuthenticationError(
                "SCRAM CHALLENGE asks for channel binding, which this client does not request"
            )
        kdf, iterations, memory = self._check_kdf(extra)
        return nonce, salt_text, salt, kdf, iterations, memory

    def prepare(self, extra: dict[str, Any]) -> Callable[[], object] | None:
        _, _, salt, kdf, iterations, memory = self._checked(extra)
        cached = self._salted
        if cached is not None and cached[0] == (kdf, salt, iterations, memory):
            return None
        return functools.partial(self._salted_password, kdf, salt, iterations, memory)

    def on_challenge(
        self, extra: dict[str, Any], channel_ids: Mapping[str, bytes]
    ) -> tuple[str, dict[str, Any]]:
        nonce, salt_text, salt, kdf, iterations, memory = self._checked(extra)
        salted = self._salted_password(kdf, salt, iterations, memory)
        assert self.authid is not None
        assert self._client_nonce is not None
        if self.dialect == "spec":
            auth_message = scram_auth_message(
                self.authid, self._client_nonce, nonce, salt_text, iterations
            )
        else:
            auth_message = scram_crossbar_auth_message(
                self.authid, self._client_nonce, nonce, salt_text, iterations
            )
        proof = base64.b64encode(scram_client_proof(salted, auth_message)).decode("ascii")
        self._server_signature = scram_server_signature(salted, auth_message)
        self._answered = True
        logger.debug("answering %s challenge for authid %r (kdf %s)", self.method, self.authid, kdf)
        if self.dialect == "spec":
            return proof, {"nonce": nonce, "channel_binding": None, "cbind_data": None}
        return proof, {}

    # -- WELCOME ---------------------------------------------------------------------------

    def on_welcome(self, authextra: dict[str, Any]) -> None:
        key = "verifier" if self.dialect == "spec" else "scram_server_signature"
        expected = self._server_signature
        if expected is None:
            raise AuthenticationError("WELCOME for SCRAM without an answered CHALLENGE")
        value = authextra.get(key) if isinstance(authextra, Mapping) else None
        if not isinstance(value, str):
            raise AuthenticationError(
                f"the router sent no SCRAM server signature (WELCOME authextra.{key})"
            )
        if self.dialect == "spec" and value.startswith("v="):
            value = value[2:]  # the spec's example carries RFC 5802's "v=" prefix
        try:
            received = _b64decode(value)
        except (binascii.Error, ValueError):
            raise AuthenticationError(f"WELCOME authextra.{key} is not base64") from None
        if not hmac.compare_digest(received, expected):
            raise AuthenticationError(
                "the router's SCRAM server signature is wrong: it does not know this "
                "password's keys"
            )


# -- the router's side ---------------------------------------------------------------------


def scram_server_keys(
    password: str,
    salt: bytes,
    *,
    kdf: str = KDF_PBKDF2,
    iterations: int = DEFAULT_MIN_ITERATIONS,
    memory: int | None = None,
) -> tuple[bytes, bytes]:
    """``(StoredKey, ServerKey)`` a router keeps for a SCRAM principal instead of its password.

    ``kdf`` ``"pbkdf2"`` or ``"argon2id13"`` (spec WAMP-SCRAM, SASLprep'd password), or
    ``"argon2id-13"`` (Crossbar's dialect: the raw UTF-8 password, and the unpadded base64 text
    of the Argon2 hash as ``SaltedPassword``).
    """
    if kdf == CROSSBAR_KDF_ARGON2ID13:
        if memory is None:
            raise ConfigurationError("argon2id-13 needs memory (KiB)")
        raw = _argon2id13(password.encode("utf-8"), salt, iterations, memory)
        salted = base64.b64encode(raw).rstrip(b"=")
    else:
        salted = scram_salted_password(saslprep(password).encode("utf-8"), salt, kdf, iterations,
                                       memory)  # fmt: skip
    client_key = _hmac(salted, b"Client Key")
    return hashlib.sha256(client_key).digest(), _hmac(salted, b"Server Key")


def scram_verify_proof(stored_key: bytes, auth_message: bytes, proof: str) -> bool:
    """Whether the client's base64 ``proof`` answers ``auth_message`` for ``stored_key``:
    ``ClientKey = proof XOR HMAC(StoredKey, AuthMessage)`` and ``SHA256(ClientKey)`` must be
    ``StoredKey`` (compared in constant time)."""
    try:
        raw = _b64decode(proof)
    except (binascii.Error, ValueError):
        return False
    signature = _hmac(stored_key, auth_message)
    if len(raw) != len(signature):
        return False
    client_key = bytes(a ^ b for a, b in zip(raw, signature, strict=True))
    return hmac.compare_digest(hashlib.sha256(client_key).digest(), stored_key)


def scram_crossbar_auth_message(authid: str, client_nonce: str, nonce: str, salt: str,
                                iterations: int) -> bytes:  # fmt: skip
    """The ``AuthMessage`` of Crossbar's dialect (empty ``c=``, the authid unescaped)."""
    return f"n={authid},r={client_nonce},r={nonce},s={salt},i={iterations},c=,r={nonce}".encode()
