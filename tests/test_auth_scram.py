"""WAMP-SCRAM: RFC 7677 vector, spec and Crossbar dialects, parameter checks, SASLprep."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from typing import Any

import pytest
from argon2.low_level import Type, hash_secret

from wamp_core import AuthenticationError, ConfigurationError
from wamp_core.auth import (
    ScramAuthenticator,
    _scram,
    create_authenticator,
    saslprep,
    scram_auth_message,
    scram_client_proof,
    scram_salted_password,
    scram_server_signature,
)

# RFC 7677 §3 (also the WAMP-SCRAM spec's example proof/verifier).
RFC_USER = "user"
RFC_PASSWORD = "pencil"
RFC_CLIENT_NONCE = "rOprNGfwEbeRWgbNEkqO"
RFC_NONCE = "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
RFC_SALT = "W22ZaJ0SNY7soEsUEjb6gQ=="
RFC_ITERATIONS = 4096
RFC_PROOF = "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
RFC_VERIFIER = "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
RFC_AUTH_MESSAGE = (
    b"n=user,r=rOprNGfwEbeRWgbNEkqO,"
    b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,"
    b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
)
RFC_CHALLENGE: dict[str, Any] = {
    "nonce": RFC_NONCE,
    "salt": RFC_SALT,
    "kdf": "pbkdf2",
    "iterations": RFC_ITERATIONS,
    "memory": None,
}


def fixed_nonce(monkeypatch: pytest.MonkeyPatch, nonce: str) -> None:
    monkeypatch.setattr(_scram, "_new_nonce", lambda: nonce)


def ref_scram(salted: bytes, auth_message: bytes) -> tuple[bytes, bytes]:
    """Independent RFC 5802 computation: (ClientProof, ServerSignature)."""
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    client_sig = hmac.new(stored_key, auth_message, hashlib.sha256).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    proof = bytes(a ^ b for a, b in zip(client_key, client_sig, strict=True))
    return proof, hmac.new(server_key, auth_message, hashlib.sha256).digest()


def argon2_raw(password: bytes, salt: bytes, t: int, m: int) -> bytes:
    """Raw Argon2id v1.3 hash via argon2's *encoded* API (independent of the raw path)."""
    encoded = hash_secret(
        secret=password,
        salt=salt,
        time_cost=t,
        memory_cost=m,
        parallelism=1,
        hash_len=32,
        type=Type.ID,
        version=19,
    ).decode("ascii")
    field = encoded.split("$")[-1]
    return base64.b64decode(field + "=" * (-len(field) % 4))


# -- RFC 7677 vector -------------------------------------------------------------------------


def test_rfc7677_helpers() -> None:
    salted = scram_salted_password(
        saslprep(RFC_PASSWORD).encode(), base64.b64decode(RFC_SALT), "pbkdf2", RFC_ITERATIONS
    )
    auth_message = scram_auth_message(
        RFC_USER, RFC_CLIENT_NONCE, RFC_NONCE, RFC_SALT, RFC_ITERATIONS
    )
    assert auth_message == RFC_AUTH_MESSAGE
    assert base64.b64encode(scram_client_proof(salted, auth_message)).decode() == RFC_PROOF
    assert base64.b64encode(scram_server_signature(salted, auth_message)).decode() == (RFC_VERIFIER)


def test_rfc7677_authenticator(monkeypatch: pytest.MonkeyPatch) -> None:
    fixed_nonce(monkeypatch, RFC_CLIENT_NONCE)
    auth = ScramAuthenticator(RFC_PASSWORD, RFC_USER)
    assert auth.method == "wamp-scram"
    assert auth.authextra() == {"nonce": RFC_CLIENT_NONCE}
    signature, extra = auth.on_challenge(dict(RFC_CHALLENGE), {})
    assert signature == RFC_PROOF
    assert extra == {"nonce": RFC_NONCE, "channel_binding": None, "cbind_data": None}
    auth.on_welcome({"verifier": RFC_VERIFIER})
    auth.on_welcome({"verifier": "v=" + RFC_VERIFIER})  # the spec example's form


@pytest.mark.parametrize(
    "welcome",
    [
        {},
        {"verifier": None},
        {"verifier": RFC_PROOF},
        {"verifier": "not base64!"},
        {"scram_server_signature": RFC_VERIFIER},  # crossbar key, wrong dialect
    ],
)
def test_rfc7677_bad_verifier(monkeypatch: pytest.MonkeyPatch, welcome: dict[str, Any]) -> None:
    fixed_nonce(monkeypatch, RFC_CLIENT_NONCE)
    auth = ScramAuthenticator(RFC_PASSWORD, RFC_USER)
    auth.authextra()
    auth.on_challenge(dict(RFC_CHALLENGE), {})
    with pytest.raises(AuthenticationError, match=r"server signature|verifier"):
        auth.on_welcome(welcome)


def test_welcome_without_challenge() -> None:
    auth = ScramAuthenticator(RFC_PASSWORD, RFC_USER)
    auth.authextra()
    with pytest.raises(AuthenticationError, match="without an answered CHALLENGE"):
        auth.on_welcome({"verifier": RFC_VERIFIER})


def test_wrong_password_gives_other_proof(monkeypatch: pytest.MonkeyPatch) -> None:
    fixed_nonce(monkeypatch, RFC_CLIENT_NONCE)
    auth = ScramAuthenticator("pencil2", RFC_USER)
    auth.authextra()
    signature, _ = auth.on_challenge(dict(RFC_CHALLENGE), {})
    assert signature != RFC_PROOF
    with pytest.raises(AuthenticationError, match="server signature is wrong"):
        auth.on_welcome({"verifier": RFC_VERIFIER})


# -- nonce and parameter checks --------------------------------------------------------------


def test_client_nonce_fresh_and_random() -> None:
    auth = ScramAuthenticator(RFC_PASSWORD, RFC_USER)
    nonces = {auth.authextra()["nonce"] for _ in range(5)}
    assert len(nonces) == 5
    for nonce in nonces:
        assert len(base64.b64decode(nonce, validate=True)) >= 16


@pytest.mark.parametrize(
    "nonce",
    [None, 12, RFC_CLIENT_NONCE, "x" + RFC_NONCE, "rOprNGfwEbeRWgbNEkq" + "Xabc", RFC_NONCE + ","],
)
def test_nonce_must_extend_client_nonce(monkeypatch: pytest.MonkeyPatch, nonce: object) -> None:
    fixed_nonce(monkeypatch, RFC_CLIENT_NONCE)
    auth = ScramAuthenticator(RFC_PASSWORD, RFC_USER)
    auth.authextra()
    with pytest.raises(AuthenticationError, match="nonce"):
        auth.on_challenge({**RFC_CHALLENGE, "nonce": nonce}, {})


def test_challenge_before_hello() -> None:
    auth = ScramAuthenticator(RFC_PASSWORD, RFC_USER)
    with pytest.raises(AuthenticationError, match="nonce"):
        auth.on_challenge(dict(RFC_CHALLENGE), {})


def test_single_challenge_per_hello(monkeypatch: pytest.MonkeyPatch) -> None:
    fixed_nonce(monkeypatch, RFC_CLIENT_NONCE)
    auth = ScramAuthenticator(RFC_PASSWORD, RFC_USER)
    auth.authextra()
    auth.on_challenge(dict(RFC_CHALLENGE), {})
    with pytest.raises(AuthenticationError, match="single CHALLENGE"):
        auth.on_challenge(dict(RFC_CHALLENGE), {})
    auth.authextra()  # a new HELLO allows a new challenge
    assert auth.on_challenge(dict(RFC_CHALLENGE), {})[0] == RFC_PROOF


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"iterations": 4095}, "below the minimum 4096"),
        ({"iterations": 0}, "out of range"),
        ({"iterations": True}, "integer 'iterations'"),
        ({"iterations": "4096"}, "integer 'iterations'"),
        ({"iterations": 10**9}, "out of range"),
        ({"kdf": "sha1"}, "kdf 'sha1'"),
        ({"kdf": "argon2id-13"}, "kdf 'argon2id-13'"),
        ({"salt": None}, "salt"),
        ({"salt": "%%%"}, "salt"),
        ({"salt": ""}, "salt"),
        ({"channel_binding": "tls-unique"}, "channel binding"),
        ({"kdf": "argon2id13", "iterations": 2, "memory": 64}, "suspiciously cheap"),
        ({"kdf": "argon2id13", "iterations": 4, "memory": None}, "integer 'memory'"),
        ({"kdf": "argon2id13", "iterations": 4, "memory": 4}, "out of range"),
        ({"kdf": "argon2id13", "iterations": 4, "memory": 1 << 30}, "out of range"),
        ({"kdf": "argon2id13", "iterations": 4, "memory": (1 << 18) + 1}, "out of range"),
        # within each bound, hours of hashing together (in the event loop: no timeout fires)
        ({"kdf": "argon2id13", "iterations": 256, "memory": 1 << 18}, "above the maximum"),
        ({"iterations": 1_000_001}, "out of range"),
    ],
)
def test_bad_challenge_parameters(
    monkeypatch: pytest.MonkeyPatch, change: dict[str, Any], match: str
) -> None:
    fixed_nonce(monkeypatch, RFC_CLIENT_NONCE)
    auth = ScramAuthenticator(RFC_PASSWORD, RFC_USER)
    auth.authextra()
    with pytest.raises(AuthenticationError, match=match):
        auth.on_challenge({**RFC_CHALLENGE, **change}, {})


def test_min_iterations_can_be_lowered(monkeypatch: pytest.MonkeyPatch) -> None:
    fixed_nonce(monkeypatch, RFC_CLIENT_NONCE)
    auth = ScramAuthenticator(RFC_PASSWORD, RFC_USER, min_iterations=1000)
    auth.authextra()
    signature, _ = auth.on_challenge({**RFC_CHALLENGE, "iterations": 1000}, {})
    salted = hashlib.pbkdf2_hmac("sha256", b"pencil", base64.b64decode(RFC_SALT), 1000, 32)
    message = RFC_AUTH_MESSAGE.replace(b"i=4096", b"i=1000")
    assert base64.b64decode(signature) == ref_scram(salted, message)[0]


def test_bad_min_parameters() -> None:
    with pytest.raises(ConfigurationError, match="min_iterations"):
        ScramAuthenticator("pw", "u", min_iterations=0)
    with pytest.raises(ConfigurationError, match="min_argon2_cost"):
        ScramAuthenticator("pw", "u", min_argon2_cost=-1)
    with pytest.raises(ConfigurationError, match="max_argon2_cost"):
        ScramAuthenticator("pw", "u", max_argon2_cost=0)
    with pytest.raises(ConfigurationError, match="above max_argon2_cost"):  # refuses all
        ScramAuthenticator("pw", "u", min_argon2_cost=1 << 20, max_argon2_cost=1 << 10)
    with pytest.raises(ConfigurationError, match="dialect"):
        ScramAuthenticator("pw", "u", dialect="autobahn")  # type: ignore[arg-type]


# -- Argon2 (spec dialect) -------------------------------------------------------------------


def test_argon2id13_spec_dialect() -> None:
    salt = bytes(range(16))
    auth = ScramAuthenticator("pässword", "joe", min_argon2_cost=1)
    client_nonce = auth.authextra()["nonce"]
    nonce = client_nonce + base64.b64encode(os.urandom(16)).decode()
    salt_b64 = base64.b64encode(salt).decode()
    challenge = {
        "nonce": nonce,
        "salt": salt_b64,
        "kdf": "argon2id13",
        "iterations": 2,
        "memory": 64,
    }
    signature, extra = auth.on_challenge(challenge, {})
    assert extra["nonce"] == nonce
    salted = argon2_raw("pässword".encode(), salt, 2, 64)
    message = f"n=joe,r={client_nonce},r={nonce},s={salt_b64},i=2,c=biws,r={nonce}".encode()
    proof, server_sig = ref_scram(salted, message)
    assert base64.b64decode(signature) == proof
    auth.on_welcome({"verifier": base64.b64encode(server_sig).decode()})
    assert scram_salted_password("pässword".encode(), salt, "argon2id13", 2, 64) == salted


def test_argon2_short_salt_is_authentication_error() -> None:
    auth = ScramAuthenticator("pw", "joe", min_argon2_cost=1)
    client_nonce = auth.authextra()["nonce"]
    challenge = {
        "nonce": client_nonce + "AAAA",
        "salt": base64.b64encode(b"abc").decode(),
        "kdf": "argon2id13",
        "iterations": 1,
        "memory": 8,
    }
    with pytest.raises(AuthenticationError, match="Argon2"):
        auth.on_challenge(challenge, {})


# -- Crossbar dialect (checked against Crossbar's server algorithm) --------------------------


class CrossbarScramServer:
    """Crossbar's PendingAuthScram + Autobahn's derive_scram_credential, re-stated."""

    def __init__(self, authid: str, password: str, t: int = 2, m: int = 64) -> None:
        self.authid, self.t, self.m = authid, t, m
        self.salt = hashlib.sha256(authid.encode()).digest()[:16]
        field = hash_secret(
            secret=password.encode(),
            salt=self.salt,
            time_cost=t,
            memory_cost=m,
            parallelism=1,
            hash_len=32,
            type=Type.ID,
            version=19,
        ).split(b"$")[-1]
        client_key = hmac.new(field, b"Client Key", hashlib.sha256).digest()
        self.stored_key = hashlib.sha256(client_key).digest()
        self.server_key = hmac.new(field, b"Server Key", hashlib.sha256).digest()

    def challenge(self, hello_authextra: dict[str, Any]) -> dict[str, Any]:
        self.client_nonce = base64.b64decode(hello_authextra["nonce"])
        self.server_nonce = self.client_nonce + os.urandom(16)
        return {
            "nonce": base64.b64encode(self.server_nonce).decode(),
            "kdf": "argon2id-13",
            "salt": base64.b64encode(self.salt).decode(),
            "iterations": self.t,
            "memory": self.m,
        }

    def authenticate(self, signature: str) -> dict[str, Any] | None:
        server_nonce = base64.b64encode(self.server_nonce).decode()
        auth_message = (
            f"n={self.authid},r={base64.b64encode(self.client_nonce).decode()},"
            f"r={server_nonce},s={base64.b64encode(self.salt).decode()},i={self.t},"
            f"c=,r={server_nonce}"
        ).encode()
        client_sig = hmac.new(self.stored_key, auth_message, hashlib.sha256).digest()
        recovered = bytes(
            a ^ b for a, b in zip(client_sig, base64.b64decode(signature), strict=True)
        )
        if hashlib.sha256(recovered).digest() != self.stored_key:
            return None
        server_sig = hmac.new(self.server_key, auth_message, hashlib.sha256).digest()
        return {"scram_server_signature": base64.b64encode(server_sig).decode()}


def test_autobahns_kdf_key_is_taken_for_porting() -> None:
    """(A review.) Autobahn's scram example passes kdf="argon2id13", which its AuthScram
    ignores; refused here as an unknown key, it is now taken (and checked to be a name)."""
    auth = create_authenticator(
        "scram", {"authid": "alice@example.com", "password": "s3cret", "kdf": "argon2id13"}
    )
    assert auth.method == "scram"
    with pytest.raises(ConfigurationError, match="kdf must be a KDF name"):
        create_authenticator("scram", {"authid": "a", "password": "p", "kdf": 13})


@pytest.mark.parametrize("nonce_bytes", [16, 18])
def test_crossbar_dialect_against_crossbar_algorithm(
    monkeypatch: pytest.MonkeyPatch, nonce_bytes: int
) -> None:
    # 16 bytes: the padded client nonce is not a string prefix of the server nonce
    nonce = base64.b64encode(os.urandom(nonce_bytes)).decode()
    fixed_nonce(monkeypatch, nonce)
    server = CrossbarScramServer("alice@example.com", "s3cret")
    auth = create_authenticator(
        "scram", {"authid": "alice@example.com", "password": "s3cret", "min_argon2_cost": 1}
    )
    assert auth.method == "scram"
    challenge = server.challenge(auth.authextra())
    signature, extra = auth.on_challenge(challenge, {})
    assert extra == {}
    welcome = server.authenticate(signature)
    assert welcome is not None
    auth.on_welcome(welcome)
    with pytest.raises(AuthenticationError, match="server signature"):
        auth.on_welcome({"verifier": welcome["scram_server_signature"]})


def test_crossbar_dialect_wrong_password_rejected_by_server() -> None:
    server = CrossbarScramServer("bob", "right")
    auth = ScramAuthenticator("wrong", "bob", dialect="crossbar", min_argon2_cost=1)
    signature, _ = auth.on_challenge(server.challenge(auth.authextra()), {})
    assert server.authenticate(signature) is None


def test_crossbar_dialect_bad_server_signature() -> None:
    server = CrossbarScramServer("bob", "right")
    auth = ScramAuthenticator("right", "bob", dialect="crossbar", min_argon2_cost=1)
    auth.on_challenge(server.challenge(auth.authextra()), {})
    with pytest.raises(AuthenticationError, match="server signature is wrong"):
        auth.on_welcome({"scram_server_signature": base64.b64encode(b"x" * 32).decode()})


def test_crossbar_dialect_rejects_spec_kdfs_and_foreign_nonce() -> None:
    auth = ScramAuthenticator("pw", "bob", dialect="crossbar", min_argon2_cost=1)
    hello = auth.authextra()
    good_nonce = base64.b64encode(base64.b64decode(hello["nonce"]) + b"x" * 16).decode()
    base = {"nonce": good_nonce, "salt": "AAAAAAAAAAAAAAAAAAAAAA==", "iterations": 4096}
    for kdf in ("pbkdf2", "argon2id13"):
        with pytest.raises(AuthenticationError, match=f"kdf '{kdf}'"):
            auth.on_challenge({**base, "kdf": kdf, "memory": 512}, {})
    foreign = base64.b64encode(b"y" * 34).decode()
    with pytest.raises(AuthenticationError, match="nonce"):
        auth.on_challenge({**base, "nonce": foreign, "kdf": "argon2id-13", "memory": 512}, {})


# -- SASLprep --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "prepared"),
    [
        ("I\u00adX", "IX"),  # RFC 4013 §3 examples
        ("user", "user"),
        ("USER", "USER"),
        ("\u00aa", "a"),
        ("\u2168", "IX"),
        ("a\u00a0b", "a b"),  # non-ASCII space maps to SPACE
        ("\u0627\u0628", "\u0627\u0628"),
    ],
)
def test_saslprep(raw: str, prepared: str) -> None:
    assert saslprep(raw) == prepared


@pytest.mark.parametrize("raw", ["\u0007", "\u0627\u0031", "a\ue000", "\u0627a\u0628"])
def test_saslprep_prohibited(raw: str) -> None:
    with pytest.raises(ValueError, match="SASLprep"):
        saslprep(raw)


def test_saslprep_unassigned() -> None:
    unassigned = "\u0221"  # unassigned in Unicode 3.2
    with pytest.raises(ValueError, match="unassigned"):
        saslprep(unassigned)
    assert saslprep(unassigned, allow_unassigned=True) == unassigned


def test_password_is_saslprepped(monkeypatch: pytest.MonkeyPatch) -> None:
    fixed_nonce(monkeypatch, RFC_CLIENT_NONCE)
    auth = ScramAuthenticator("pen\u00adcil", RFC_USER)  # soft hyphen maps to nothing
    auth.authextra()
    assert auth.on_challenge(dict(RFC_CHALLENGE), {})[0] == RFC_PROOF


def test_authid_is_escaped_in_auth_message(monkeypatch: pytest.MonkeyPatch) -> None:
    fixed_nonce(monkeypatch, RFC_CLIENT_NONCE)
    auth = ScramAuthenticator(RFC_PASSWORD, "a,b=c")
    assert auth.authid == "a,b=c"  # HELLO carries it unescaped
    auth.authextra()
    signature, _ = auth.on_challenge(dict(RFC_CHALLENGE), {})
    salted = hashlib.pbkdf2_hmac("sha256", b"pencil", base64.b64decode(RFC_SALT), 4096, 32)
    message = RFC_AUTH_MESSAGE.replace(b"n=user,", b"n=a=2Cb=3Dc,")
    assert base64.b64decode(signature) == ref_scram(salted, message)[0]


def test_bad_scram_config() -> None:
    with pytest.raises(ConfigurationError, match="password"):
        ScramAuthenticator("", "u")
    with pytest.raises(ConfigurationError, match="password"):
        ScramAuthenticator("bad\u0007", "u")
    with pytest.raises(ConfigurationError, match="authid"):
        ScramAuthenticator("pw", "")
    with pytest.raises(ConfigurationError, match="nonce"):
        ScramAuthenticator("pw", "u", authextra={"nonce": "x"})
    with pytest.raises(ConfigurationError, match="password"):
        ScramAuthenticator(b"\xff", "u")
