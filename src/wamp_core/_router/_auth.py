"""Router-side authentication from a static list of principals: anonymous, ticket, WAMP-CRA
(plain and salted), WAMP-Cryptosign (Ed25519; needs the ``cryptography`` package) and WAMP-SCRAM
(spec ``wamp-scram`` with PBKDF2 or Argon2id, and Crossbar's ``scram``; the router keeps only
the StoredKey and ServerKey). Pure: the engine supplies the session ID and the randomness
(nonces, challenges).

``choose`` picks the first method of the client's ``authmethods`` that the principal (or the
router, for anonymous) supports and says what to do: welcome at once, or send a CHALLENGE and
later ``verify`` the AUTHENTICATE signature. Secrets are compared in constant time.
"""

from __future__ import annotations

import base64
import hmac
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .._errors import ConfigurationError
from .._uri import is_valid_uri
from ..auth import (
    compute_wcs,
    derive_key,
    saslprep,
    scram_auth_message,
    scram_crossbar_auth_message,
    scram_server_keys,
    scram_verify_proof,
    verify_challenge_signature,
)
from ..auth._scram import (
    CROSSBAR_KDF_ARGON2ID13,
    DEFAULT_MIN_ARGON2_COST,
    DEFAULT_MIN_ITERATIONS,
    KDF_ARGON2ID13,
    KDF_PBKDF2,
    MAX_ARGON2_ITERATIONS,
    MAX_ARGON2_MEMORY,
    MAX_PBKDF2_ITERATIONS,
    MIN_ARGON2_MEMORY,
)

log = logging.getLogger(__name__)

__all__ = [
    "ACTIONS", "Challenge", "Permission", "Principal", "Refusal", "ScramCredential", "Welcome",
    "authorized", "choose", "verify", "welcome_extra",
]  # fmt: skip

#: WAMP-SCRAM's authmethods: the spec's and Crossbar's dialect.
SCRAM_METHODS = ("wamp-scram", "scram")
#: The key derivation functions of each.
_SCRAM_KDFS = {"wamp-scram": (KDF_PBKDF2, KDF_ARGON2ID13), "scram": (CROSSBAR_KDF_ARGON2ID13,)}


@dataclass(frozen=True)
class ScramCredential:
    """What a router keeps for a WAMP-SCRAM principal (never the password): ``method``
    ``"wamp-scram"`` (the spec: ``kdf`` ``"pbkdf2"`` or ``"argon2id13"``) or ``"scram"``
    (Crossbar/Autobahn: ``kdf`` ``"argon2id-13"``), the ``salt``, the KDF cost (``memory`` in
    KiB for Argon2) and the derived ``stored_key`` and ``server_key``. :meth:`from_password`
    derives them."""

    salt: bytes
    stored_key: bytes = field(repr=False)
    server_key: bytes = field(repr=False)
    kdf: str = "pbkdf2"
    iterations: int = 4096
    memory: int | None = None
    method: str = "wamp-scram"

    def below_client_minimum(self) -> str | None:
        """Why wamp-py's clients refuse this cost by default (they take it as suspiciously
        cheap: ``min_iterations``, ``min_argon2_cost``), else ``None``."""
        if self.kdf == KDF_PBKDF2:
            if self.iterations < DEFAULT_MIN_ITERATIONS:
                return (f"SCRAM pbkdf2 iterations {self.iterations} are below "
                        f"{DEFAULT_MIN_ITERATIONS}, which wamp-py clients refuse by default "
                        "(their min_iterations)")  # fmt: skip
            return None
        cost = self.iterations * (self.memory or 0)
        if cost < DEFAULT_MIN_ARGON2_COST:
            return (f"SCRAM argon2 cost iterations x memory = {cost} is below "
                    f"{DEFAULT_MIN_ARGON2_COST}, which wamp-py clients refuse by default "
                    "(their min_argon2_cost)")  # fmt: skip
        return None

    def __post_init__(self) -> None:
        kdfs = _SCRAM_KDFS.get(self.method)
        if kdfs is None:
            raise ConfigurationError(
                f"SCRAM method must be one of {list(_SCRAM_KDFS)}, not {self.method!r}"
            )
        if self.kdf not in kdfs:
            raise ConfigurationError(
                f"SCRAM method {self.method!r} takes kdf {' or '.join(kdfs)}, not {self.kdf!r}"
            )
        argon = self.kdf != KDF_PBKDF2
        top = MAX_ARGON2_ITERATIONS if argon else MAX_PBKDF2_ITERATIONS
        if type(self.iterations) is not int or not 1 <= self.iterations <= top:
            raise ConfigurationError(
                f"SCRAM iterations must be an integer from 1 to {top}, not {self.iterations!r}"
            )
        if argon and (type(self.memory) is not int
                      or not MIN_ARGON2_MEMORY <= self.memory <= MAX_ARGON2_MEMORY):  # fmt: skip
            raise ConfigurationError(
                f"SCRAM {self.kdf} memory must be an integer from {MIN_ARGON2_MEMORY} to "
                f"{MAX_ARGON2_MEMORY} (KiB), not {self.memory!r}"
            )
        if not argon and self.memory is not None:
            raise ConfigurationError("SCRAM pbkdf2 takes no memory")
        if not isinstance(self.salt, bytes) or not self.salt:
            raise ConfigurationError("SCRAM salt must be non-empty bytes")
        for name in ("stored_key", "server_key"):
            key = getattr(self, name)
            if not isinstance(key, bytes) or len(key) != 32:
                raise ConfigurationError(f"SCRAM {name} must be 32 bytes (SHA-256)")

    @classmethod
    def from_password(
        cls, password: str, salt: bytes, *, method: str = "wamp-scram", kdf: str | None = None,
        iterations: int = 4096, memory: int | None = None,
    ) -> ScramCredential:  # fmt: skip
        kdf = kdf or ("pbkdf2" if method == "wamp-scram" else "argon2id-13")
        cls(salt, bytes(32), bytes(32), kdf, iterations, memory, method)  # (checked first)
        stored, server = scram_server_keys(password, salt, kdf=kdf, iterations=iterations,
                                           memory=memory)  # fmt: skip
        return cls(salt, stored, server, kdf, iterations, memory, method)


@dataclass(frozen=True)
class Principal:
    """A user the router knows: ``authid``, its ``role``, and its ``ticket``, WAMP-CRA
    ``secret`` (salted when ``salt`` is given: PBKDF2 with ``iterations`` and ``keylen``, derived
    once, here), WAMP-Cryptosign public keys (``pubkeys``, 64 hex digits each) and/or WAMP-SCRAM
    credential (``scram``); ``realms``: the only realms it may join (default: any).
    ``channel_binding`` (``"tls-unique"``): a cryptosign HELLO for
    this principal must bind its signature to the TLS channel, so that a relay that strips the
    client's request for binding is refused. Invalid settings raise
    :class:`~wamp_core.ConfigurationError`."""

    authid: str
    role: str = "user"
    ticket: str | None = field(default=None, repr=False)
    secret: str | None = field(default=None, repr=False)
    salt: str | None = None
    iterations: int = 1000
    keylen: int = 32
    pubkeys: tuple[str, ...] = ()
    scram: ScramCredential | None = None
    channel_binding: str | None = None
    #: The realms this principal may join (empty: every realm the router serves).
    realms: tuple[str, ...] = ()
    #: The WAMP-CRA signing key: the secret, or the key derived from it when salted.
    cra_key: bytes | str | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("authid", "role"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise ConfigurationError(f"principal {name} must be a non-empty string")
        for name in ("ticket", "secret", "salt"):
            if getattr(self, name) is not None and not isinstance(getattr(self, name), str):
                raise ConfigurationError(f"principal {self.authid!r}: {name} must be a string")
        for name in ("iterations", "keylen"):
            value = getattr(self, name)
            if type(value) is not int or value < 1:
                raise ConfigurationError(
                    f"principal {self.authid!r}: {name} must be a positive integer, not {value!r}"
                )
        if not isinstance(self.pubkeys, tuple) or not all(
            isinstance(k, str) and len(k) == 64 and all(c in _HEX for c in k.lower())
            for k in self.pubkeys
        ):
            raise ConfigurationError(
                f"principal {self.authid!r}: pubkeys must be a tuple of Ed25519 public keys"
                " (64 hex digits each)"
            )
        if not isinstance(self.realms, tuple) or not all(
            isinstance(r, str) and r for r in self.realms
        ):
            raise ConfigurationError(
                f"principal {self.authid!r}: realms must be a tuple of realm names"
            )
        if self.scram is not None and not isinstance(self.scram, ScramCredential):
            raise ConfigurationError(f"principal {self.authid!r}: scram must be a ScramCredential")
        if self.channel_binding not in (None, "tls-unique"):
            raise ConfigurationError(
                f"principal {self.authid!r}: channel_binding must be None or 'tls-unique'"
            )
        for name in ("ticket", "secret"):
            if getattr(self, name) == "":  # (AUTHENTICATE "" would log in)
                raise ConfigurationError(f"principal {self.authid!r}: an empty {name}")
        if self.channel_binding is not None and not self.pubkeys:
            raise ConfigurationError(
                f"principal {self.authid!r}: channel_binding binds cryptosign signatures, and "
                "the principal has no pubkeys"
            )
        if self.ticket is None and self.secret is None and not self.pubkeys and not self.scram:
            raise ConfigurationError(
                f"principal {self.authid!r} has no credential (ticket, secret, pubkeys or "
                "scram): it could never log in"
            )
        if self.scram is not None and (cheap := self.scram.below_client_minimum()):
            log.warning("principal %r: %s", self.authid, cheap)
        key: bytes | str | None = self.secret
        if self.secret is not None and self.salt is not None:
            key = derive_key(self.secret, self.salt, self.iterations, self.keylen)
        object.__setattr__(self, "cra_key", key)


_HEX = frozenset("0123456789abcdef")


@dataclass(frozen=True)
class Welcome:
    authid: str
    role: str
    method: str
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Challenge:
    method: str
    extra: dict[str, Any]
    principal: Principal
    challenge: str = ""  # the WAMP-CRA challenge string, signed byte for byte
    pubkey: str = ""  # cryptosign: the key the client announced
    message: bytes = b""  # cryptosign: the 32 challenge bytes; SCRAM: the AuthMessage


@dataclass(frozen=True)
class Refusal:
    reason: str
    message: str


def choose(
    details: dict[str, Any],
    principals: dict[str, Principal],
    anonymous: bool,
    session_id: int,
    *,
    nonce: str,
    random32: bytes,
    channel_ids: Mapping[str, bytes] | None = None,
) -> Welcome | Challenge | Refusal:
    """What to answer a HELLO with these ``details`` (``random32``: 32 random bytes for a
    cryptosign challenge; ``channel_ids``: the connection's TLS channel ids, see
    :func:`wamp_core.channel_ids`, for a client that binds its signature to the channel).

    As Crossbar.io chooses: the client's first offered method that the router serves on this
    realm (one of ``principals``, those that may join it, has a credential of it;
    ``anonymous`` when allowed); a principal without that credential is refused there, as one
    that does not exist (the next method is not tried)."""
    methods = details.get("authmethods") or ["anonymous"]
    authid = details.get("authid")
    principal = principals.get(authid) if isinstance(authid, str) else None
    for method in methods:
        if not _served(method, principals, anonymous):
            continue
        if method == "cryptosign":
            return _cryptosign(details, principals, authid, random32, channel_ids or {})
        if method == "anonymous":  # the router names it (as Crossbar.io does): an authid of
            # the client's choice would pass for another's (eligible_authid...)
            return Welcome(f"anonymous-{session_id}", "anonymous", "anonymous")
        if principal is None or not _served(method, {principal.authid: principal}, False):
            return Refusal("wamp.error.no_such_principal", f"no principal {authid!r}")
        if principal.scram is not None and method in SCRAM_METHODS:
            return _scram(details, principal, principal.scram, random32)
        if method == "ticket":
            return Challenge("ticket", {}, principal)
        if principal.secret is not None:  # (wampcra: what _served leaves)
            challenge = json.dumps({
                "authid": principal.authid, "authrole": principal.role, "authmethod": "wampcra",
                "authprovider": "static", "nonce": nonce, "session": session_id,
            })  # fmt: skip
            extra: dict[str, Any] = {"challenge": challenge}
            if principal.salt is not None:
                extra.update(salt=principal.salt, iterations=principal.iterations,
                             keylen=principal.keylen)  # fmt: skip
            return Challenge("wampcra", extra, principal, challenge)
    return Refusal("wamp.error.no_matching_auth_method",
                   f"none of {list(methods)} is available here")  # fmt: skip


def _served(method: object, principals: Mapping[str, Principal], anonymous: bool) -> bool:
    """Whether the router serves ``method``: some principal has a credential of it."""
    if method == "anonymous":
        return anonymous
    if method == "cryptosign":
        return any(p.pubkeys for p in principals.values())
    if method == "ticket":
        return any(p.ticket is not None for p in principals.values())
    if method == "wampcra":
        return any(p.secret is not None for p in principals.values())
    if method in SCRAM_METHODS:
        return any(p.scram is not None and p.scram.method == method for p in principals.values())
    return False


def _cryptosign(
    details: dict[str, Any],
    principals: dict[str, Principal],
    authid: Any,
    random32: bytes,
    channel_ids: Mapping[str, bytes],
) -> Challenge | Refusal:
    extra = details.get("authextra") or {}
    pubkey = str(extra.get("pubkey", "")).lower()
    candidates = [principals[authid]] if isinstance(authid, str) and authid in principals else (
        list(principals.values()) if authid is None else []
    )  # fmt: skip
    for principal in candidates:
        if pubkey and pubkey in (k.lower() for k in principal.pubkeys):
            message, challenge = random32, {"challenge": random32.hex()}
            binding = extra.get("channel_binding")
            if principal.channel_binding is not None and binding != principal.channel_binding:
                return Refusal(
                    "wamp.error.authentication_failed",
                    f"{principal.authid!r} must bind to the channel ({principal.channel_binding})",
                )
            if binding is not None:
                channel_id = channel_ids.get(binding) if isinstance(binding, str) else None
                if channel_id is None:
                    return Refusal("wamp.error.authentication_failed", f"channel binding "
                                   f"{binding!r} is not available on this connection")  # fmt: skip
                # The client signs the challenge XORed with the channel id it sees: a
                # signature relayed over another TLS connection does not verify here.
                message = bytes(a ^ b for a, b in zip(random32, channel_id, strict=True))
                challenge["channel_binding"] = binding
            return Challenge("cryptosign", challenge, principal, pubkey=pubkey,
                             message=message)  # fmt: skip
    return Refusal("wamp.error.no_such_principal", "no principal with that public key")


def _scram(
    details: dict[str, Any], principal: Principal, credential: ScramCredential, random: bytes
) -> Challenge | Refusal:
    extra = details.get("authextra") or {}
    client_nonce = extra.get("nonce")
    if (
        not isinstance(client_nonce, str) or not 0 < len(client_nonce) <= 256
        or not (client_nonce.isascii() and client_nonce.isprintable()) or "," in client_nonce
    ):  # fmt: skip
        return Refusal("wamp.error.authentication_failed",
                       "SCRAM needs authextra.nonce: printable ASCII without ','")  # fmt: skip
    if extra.get("channel_binding"):
        return Refusal("wamp.error.authentication_failed",
                       "channel binding needs TLS, which this router does not serve")  # fmt: skip
    salt = base64.b64encode(credential.salt).decode("ascii")
    if credential.method == "scram":  # Crossbar: base64(client nonce bytes + server bytes)
        try:
            client_bytes = base64.b64decode(client_nonce, validate=True)
        except ValueError:
            return Refusal("wamp.error.authentication_failed", "the SCRAM nonce is not base64")
        nonce = base64.b64encode(client_bytes + random[:18]).decode("ascii")
        message = scram_crossbar_auth_message(principal.authid, client_nonce, nonce, salt,
                                              credential.iterations)  # fmt: skip
    else:
        nonce = client_nonce + base64.b64encode(random[:18]).decode("ascii")
        message = scram_auth_message(saslprep(principal.authid, allow_unassigned=True),
                                     client_nonce, nonce, salt, credential.iterations)  # fmt: skip
    challenge: dict[str, Any] = {"nonce": nonce, "salt": salt, "kdf": credential.kdf,
                                 "iterations": credential.iterations}  # fmt: skip
    if credential.memory is not None:
        challenge["memory"] = credential.memory
    if credential.method == "wamp-scram":
        challenge["channel_binding"] = None
    return Challenge(credential.method, challenge, principal, message=message)


def welcome_extra(challenge: Challenge) -> dict[str, Any]:
    """WELCOME's authextra after ``challenge`` was answered (SCRAM: the server signature)."""
    credential = challenge.principal.scram
    if challenge.method not in SCRAM_METHODS or credential is None:
        return {}
    signature = hmac.new(credential.server_key, challenge.message, "sha256").digest()
    text = base64.b64encode(signature).decode("ascii")
    return {"verifier" if challenge.method == "wamp-scram" else "scram_server_signature": text}


def verify(challenge: Challenge, signature: str) -> bool:
    """Whether AUTHENTICATE's ``signature`` answers ``challenge``."""
    principal = challenge.principal
    if challenge.method in SCRAM_METHODS:
        assert principal.scram is not None
        return scram_verify_proof(principal.scram.stored_key, challenge.message, signature)
    if challenge.method == "cryptosign":
        return verify_challenge_signature(challenge.pubkey, signature, challenge.message)
    if challenge.method == "ticket":
        assert principal.ticket is not None
        return hmac.compare_digest(_utf8(signature), _utf8(principal.ticket))
    assert principal.cra_key is not None
    expected = compute_wcs(principal.cra_key, challenge.challenge)
    return hmac.compare_digest(_utf8(signature), _utf8(expected))


def _utf8(text: str) -> bytes:
    """``text`` as bytes for a comparison, a lone surrogate included (JSON can carry one)."""
    return text.encode("utf-8", "surrogatepass")


ACTIONS = ("call", "register", "publish", "subscribe")


@dataclass(frozen=True)
class Permission:
    """What a role may do on URIs equal to (``match="exact"``) or starting with
    (``match="prefix"``) ``uri``: any of ``actions`` (call, register, publish, subscribe)."""

    uri: str
    actions: tuple[str, ...] = ACTIONS
    match: str = "prefix"

    def __post_init__(self) -> None:
        if not isinstance(self.uri, str) or not isinstance(self.actions, tuple):
            raise ConfigurationError(f"bad permission: uri {self.uri!r}, actions {self.actions!r}")
        unknown = set(self.actions) - set(ACTIONS)
        if unknown:
            raise ConfigurationError(
                f"bad permission {self.uri!r}: unknown actions {sorted(unknown)} "
                f"(of {', '.join(ACTIONS)})"
            )
        if self.match not in ("exact", "prefix"):
            raise ConfigurationError(
                f"bad permission {self.uri!r}: match {self.match!r} (exact or prefix)"
            )
        if self.match == "exact" and not is_valid_uri(self.uri, allow_empty=True):
            # (it never matched: no client may send such a URI, nor such a wildcard pattern)
            raise ConfigurationError(
                f"bad permission {self.uri!r}: match exact needs a URI or a wildcard pattern "
                "(no whitespace or '#', not empty)"
            )

    def covers(self, uri: str) -> bool:
        """Whether this rule is about ``uri`` (whatever it allows there)."""
        return uri == self.uri if self.match == "exact" else uri.startswith(self.uri)


def authorized(
    permissions: dict[str, tuple[Permission, ...]],
    role: str,
    action: str,
    uri: str,
    match: str = "exact",
) -> bool:
    """Whether ``role`` may ``action`` on ``uri``: a role without a permission list may do
    anything if it is ``anonymous`` and nothing otherwise (default deny); the :class:`Router`
    gives ``anonymous`` an empty list when it has principals or permissions.

    The most specific rule matching ``uri`` decides (Crossbar.io's longest match, without its
    quirks: docs/router.md): an exact rule, else the longest prefix; so a narrower rule
    restricts a broader one (``com.app.`` with every action and ``com.app.admin.`` with none
    keep the role out of ``com.app.admin.*``).

    A pattern (a ``prefix`` or ``wildcard`` subscription or registration) is allowed only when
    every URI it can match is: the most specific prefix rule covering its fixed start allows
    ``action`` and no narrower rule inside its reach refuses it (an exact permission on
    ``com.a`` does not let ``com.a`` as a prefix pattern reach ``com.admin.reset``).
    """
    rules = permissions.get(role)
    if rules is None:
        return role == "anonymous"
    if match != "exact":
        covered = _fixed_start(uri, match)
        if covered is not None:
            base = _most_specific(
                rule for rule in rules if rule.match == "prefix" and covered.startswith(rule.uri)
            )
            return (base is not None and action in base.actions and all(
                action in rule.actions for rule in rules
                if rule.uri.startswith(covered)
                and (len(rule.uri) > len(covered) or rule.match == "exact")
                and (match == "prefix" or _reaches(uri, rule))
            ))  # fmt: skip
    decisive = _most_specific(rule for rule in rules if rule.covers(uri))
    return decisive is not None and action in decisive.actions


def _reaches(pattern: str, rule: Permission) -> bool:
    """Whether a URI the wildcard ``pattern`` matches is one ``rule`` is about: its exact URI,
    or a URI starting with its prefix (``com..status`` never reaches ``com.app.secret``)."""
    wanted = pattern.split(".")
    given = rule.uri.split(".")
    if rule.match == "exact" and len(given) != len(wanted):
        return False
    if len(given) > len(wanted):
        return False
    *whole, last = given  # (a prefix's last component may be cut short, or empty)
    if not all(w in ("", g) for g, w in zip(whole, wanted, strict=False)):
        return False
    at = wanted[len(whole)]
    if rule.match == "exact":
        return at in ("", last)
    return at == "" or at.startswith(last)


def _most_specific(rules: Iterable[Permission]) -> Permission | None:
    """The exact rule, else the longest prefix rule, of ``rules`` (all matching one URI)."""
    best: Permission | None = None
    for rule in rules:
        if rule.match == "exact":
            return rule
        if best is None or len(rule.uri) > len(best.uri):
            best = rule
    return best


def _fixed_start(uri: str, match: str) -> str | None:
    """What every URI a pattern matches starts with; ``None`` for a wildcard without empty
    components (it matches ``uri`` alone)."""
    if match == "prefix":
        return uri
    components = uri.split(".")
    if "" not in components:
        return None
    return "".join(f"{component}." for component in components[: components.index("")])
