"""Router-side authentication from a static list of principals: anonymous, ticket and WAMP-CRA
(plain and salted). Pure: the engine supplies the session ID and the nonce's randomness.

``choose`` picks the first method of the client's ``authmethods`` that the principal (or the
router, for anonymous) supports and says what to do: welcome at once, or send a CHALLENGE and
later ``verify`` the AUTHENTICATE signature. Secrets are compared in constant time.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from typing import Any

from ..auth import compute_wcs, derive_key

__all__ = ["Challenge", "Principal", "Refusal", "Welcome", "choose", "verify"]


@dataclass(frozen=True)
class Principal:
    """A user the router knows: ``authid``, its ``role``, and its ``ticket`` and/or WAMP-CRA
    ``secret`` (salted when ``salt`` is given: PBKDF2 with ``iterations`` and ``keylen``)."""

    authid: str
    role: str = "user"
    ticket: str | None = None
    secret: str | None = None
    salt: str | None = None
    iterations: int = 1000
    keylen: int = 32


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


@dataclass(frozen=True)
class Refusal:
    reason: str
    message: str


def choose(
    details: dict[str, Any],
    principals: dict[str, Principal],
    anonymous: bool,
    session_id: int,
    nonce: str,
) -> Welcome | Challenge | Refusal:
    """What to answer a HELLO with these ``details``."""
    methods = details.get("authmethods") or ["anonymous"]
    authid = details.get("authid")
    principal = principals.get(authid) if isinstance(authid, str) else None
    for method in methods:
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


def verify(challenge: Challenge, signature: str) -> bool:
    """Whether AUTHENTICATE's ``signature`` answers ``challenge``."""
    principal = challenge.principal
    if challenge.method == "ticket":
        assert principal.ticket is not None
        return hmac.compare_digest(signature.encode(), principal.ticket.encode())
    assert principal.secret is not None
    key: bytes | str = principal.secret
    if principal.salt is not None:
        key = derive_key(principal.secret, principal.salt, principal.iterations, principal.keylen)
    expected = compute_wcs(key, challenge.challenge)
    return hmac.compare_digest(signature.encode(), expected.encode())
