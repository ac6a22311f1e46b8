"""Router-side authentication from a static list of principals: anonymous, ticket, WAMP-CRA
(plain and salted) and WAMP-Cryptosign (Ed25519; needs the ``cryptography`` package). Pure: the
engine supplies the session ID and the randomness (nonces, cryptosign challenges).

``choose`` picks the first method of the client's ``authmethods`` that the principal (or the
router, for anonymous) supports and says what to do: welcome at once, or send a CHALLENGE and
later ``verify`` the AUTHENTICATE signature. Secrets are compared in constant time.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from typing import Any

from ..auth import compute_wcs, derive_key, verify_challenge_signature

__all__ = [
    "ACTIONS", "Challenge", "Permission", "Principal", "Refusal", "Welcome", "authorized",
    "choose", "verify",
]  # fmt: skip


@dataclass(frozen=True)
class Principal:
    """A user the router knows: ``authid``, its ``role``, and its ``ticket``, WAMP-CRA
    ``secret`` (salted when ``salt`` is given: PBKDF2 with ``iterations`` and ``keylen``) and/or
    WAMP-Cryptosign public keys (``pubkeys``, hex)."""

    authid: str
    role: str = "user"
    ticket: str | None = None
    secret: str | None = None
    salt: str | None = None
    iterations: int = 1000
    keylen: int = 32
    pubkeys: tuple[str, ...] = ()


@dataclass(frozen=True)
class Welcome:
    authid: str
    role: str
    method: str


@dataclass(frozen=True)
class Challenge:
    method: str
    extra: dict[str, Any]
    principal: Principal
    challenge: str = ""  # the WAMP-CRA challenge string, signed byte for byte
    pubkey: str = ""  # cryptosign: the key the client announced
    message: bytes = b""  # cryptosign: the 32 challenge bytes


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
) -> Welcome | Challenge | Refusal:
    """What to answer a HELLO with these ``details`` (``random32``: 32 random bytes for a
    cryptosign challenge)."""
    methods = details.get("authmethods") or ["anonymous"]
    authid = details.get("authid")
    principal = principals.get(authid) if isinstance(authid, str) else None
    for method in methods:
        if method == "cryptosign":
            return _cryptosign(details, principals, authid, random32)
        if method == "anonymous" and anonymous:
            return Welcome(str(authid or f"anonymous-{session_id}"), "anonymous", "anonymous")
        if method in ("ticket", "wampcra") and principal is None:
            return Refusal("wamp.error.no_such_principal", f"no principal {authid!r}")
        assert principal is not None or method not in ("ticket", "wampcra")
        if method == "ticket" and principal is not None and principal.ticket is not None:
            return Challenge("ticket", {}, principal)
        if method == "wampcra" and principal is not None and principal.secret is not None:
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


def _cryptosign(
    details: dict[str, Any], principals: dict[str, Principal], authid: Any, random32: bytes
) -> Challenge | Refusal:
    extra = details.get("authextra") or {}
    pubkey = str(extra.get("pubkey", "")).lower()
    candidates = [principals[authid]] if isinstance(authid, str) and authid in principals else (
        list(principals.values()) if authid is None else []
    )  # fmt: skip
    for principal in candidates:
        if pubkey and pubkey in (k.lower() for k in principal.pubkeys):
            if extra.get("channel_binding"):
                return Refusal(
                    "wamp.error.authentication_failed",
                    "channel binding needs TLS, which this router does not serve",
                )
            return Challenge("cryptosign", {"challenge": random32.hex()}, principal,
                             pubkey=pubkey, message=random32)  # fmt: skip
    return Refusal("wamp.error.no_such_principal", "no principal with that public key")


def verify(challenge: Challenge, signature: str) -> bool:
    """Whether AUTHENTICATE's ``signature`` answers ``challenge``."""
    principal = challenge.principal
    if challenge.method == "cryptosign":
        return verify_challenge_signature(challenge.pubkey, signature, challenge.message)
    if challenge.method == "ticket":
        assert principal.ticket is not None
        return hmac.compare_digest(signature.encode(), principal.ticket.encode())
    assert principal.secret is not None
    key: bytes | str = principal.secret
    if principal.salt is not None:
        key = derive_key(principal.secret, principal.salt, principal.iterations, principal.keylen)
    expected = compute_wcs(key, challenge.challenge)
    return hmac.compare_digest(signature.encode(), expected.encode())


ACTIONS = ("call", "register", "publish", "subscribe")


@dataclass(frozen=True)
class Permission:
    """What a role may do on URIs equal to (``match="exact"``) or starting with
    (``match="prefix"``) ``uri``: any of ``actions`` (call, register, publish, subscribe)."""

    uri: str
    actions: tuple[str, ...] = ACTIONS
    match: str = "prefix"

    def __post_init__(self) -> None:
        unknown = set(self.actions) - set(ACTIONS)
        if unknown or self.match not in ("exact", "prefix"):
            raise ValueError(f"bad permission: actions {sorted(unknown)}, match {self.match!r}")

    def allows(self, action: str, uri: str) -> bool:
        if action not in self.actions:
            return False
        return uri == self.uri if self.match == "exact" else uri.startswith(self.uri)


def authorized(
    permissions: dict[str, tuple[Permission, ...]], role: str, action: str, uri: str
) -> bool:
    """Whether ``role`` may ``action`` on ``uri``: a role without a permission list may do
    anything if it is ``anonymous`` (the demo's role) and nothing otherwise (default deny)."""
    rules = permissions.get(role)
    if rules is None:
        return role == "anonymous"
    return any(rule.allows(action, uri) for rule in rules)
