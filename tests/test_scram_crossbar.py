"""WAMP-SCRAM (Crossbar dialect) against the real Crossbar.io 26.10.1.

The template carries a static ``scram`` principal (``carol``) on ``ws_auth_url`` and on the
TLS twins. Its credential is what Autobahn's ``derive_scram_credential`` produces and
Crossbar's ``crossbar/router/auth/scram.py`` reads: ``kdf "argon2id-13"``, ``iterations``
(Argon2 time cost), ``memory`` (KiB), ``salt``/``stored-key``/``server-key`` as hex;
``SaltedPassword`` is the unpadded base64 *text* of the 32-byte Argon2id hash of the UTF-8
password, ``StoredKey = SHA256(HMAC(SaltedPassword, "Client Key"))`` and
``ServerKey = HMAC(SaltedPassword, "Server Key")``. The router sends
``{nonce, kdf, salt (base64), iterations, memory}`` in CHALLENGE and
``authextra.scram_server_signature`` (base64) in WELCOME, over the AuthMessage
``n=<authid>,r=<client nonce>,r=<nonce>,s=<salt>,i=<iterations>,c=,r=<nonce>``.

Each Argon2 derivation (t=4096, m=512 KiB) costs about 0.8 s here, so the tests are few.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Mapping
from typing import Any

import pytest

from crossbar import (
    SCRAM_AUTHID,
    SCRAM_ITERATIONS,
    SCRAM_MEMORY,
    SCRAM_PASSWORD,
    SCRAM_SALT,
    SCRAM_SERVER_KEY_HEX,
    SCRAM_STORED_KEY_HEX,
    TEMPLATE_PATH,
    CrossbarRouter,
)
from wamp_client import BlockingClient
from wamp_core import AuthenticationError, auth, events as ev


class RecordingScram(auth.ScramAuthenticator):
    """Keeps what crossed the wire: the HELLO nonce and the CHALLENGE extra."""

    def __init__(self, password: str) -> None:
        super().__init__(password, SCRAM_AUTHID, dialect="crossbar")
        self.hello_extra: dict[str, Any] = {}
        self.challenge_extra: dict[str, Any] = {}
        self.welcome_checks = 0

    def authextra(self) -> dict[str, Any]:
        self.hello_extra = super().authextra()
        return self.hello_extra

    def on_challenge(
        self, extra: dict[str, Any], channel_ids: Mapping[str, bytes]
    ) -> tuple[str, dict[str, Any]]:
        self.challenge_extra = dict(extra)
        return super().on_challenge(extra, channel_ids)

    def on_welcome(self, authextra: dict[str, Any]) -> None:
        self.welcome_checks += 1
        super().on_welcome(authextra)


def _hmac(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def _scram_principals() -> list[dict[str, Any]]:
    """Every ``scram`` principal ``carol`` in the template (plain and TLS transports)."""
    config = json.loads(TEMPLATE_PATH.read_text(encoding="utf-8"))
    found: list[dict[str, Any]] = []
    for transport in config["workers"][0]["transports"]:
        auths = [transport.get("auth", {})]
        auths += [path.get("auth", {}) for path in transport.get("paths", {}).values()]
        found += [a["scram"]["principals"][SCRAM_AUTHID] for a in auths if "scram" in a]
    return found


def test_template_credential_matches_the_test_password() -> None:
    """The hard-coded credential derives from ``SCRAM_PASSWORD`` (no router involved)."""
    from argon2.low_level import Type, hash_secret_raw

    principals = _scram_principals()
    assert len(principals) == 3  # ws /auth, rss://, wss /auth
    raw = hash_secret_raw(
        secret=SCRAM_PASSWORD.encode(),
        salt=SCRAM_SALT,
        time_cost=SCRAM_ITERATIONS,
        memory_cost=SCRAM_MEMORY,
        parallelism=1,
        hash_len=32,
        type=Type.ID,
        version=19,
    )
    salted = base64.b64encode(raw).rstrip(b"=")
    stored_key = hashlib.sha256(_hmac(salted, b"Client Key")).hexdigest()
    server_key = _hmac(salted, b"Server Key").hex()
    assert (stored_key, server_key) == (SCRAM_STORED_KEY_HEX, SCRAM_SERVER_KEY_HEX)
    for principal in principals:
        assert principal == {
            "kdf": "argon2id-13",
            "iterations": SCRAM_ITERATIONS,
            "memory": SCRAM_MEMORY,
            "salt": SCRAM_SALT.hex(),
            "stored-key": SCRAM_STORED_KEY_HEX,
            "server-key": SCRAM_SERVER_KEY_HEX,
            "role": "user",
        }


def test_scram_join_and_server_signature(crossbar: CrossbarRouter) -> None:
    """Join as ``carol``; the router's signature is the one its ServerKey gives."""
    authenticator = RecordingScram(SCRAM_PASSWORD)
    with BlockingClient(crossbar.ws_auth_url, authenticators=[authenticator]) as client:
        joined = client.join()
        assert isinstance(joined, ev.Joined), joined
        details = joined.details
        assert (details.authmethod, details.authid, details.authrole) == (
            "scram",
            SCRAM_AUTHID,
            "user",
        )
        assert authenticator.welcome_checks == 1

        # What Crossbar sent, field by field.
        challenge = authenticator.challenge_extra
        assert set(challenge) == {"nonce", "kdf", "salt", "iterations", "memory"}
        assert challenge["kdf"] == "argon2id-13"
        assert (challenge["iterations"], challenge["memory"]) == (SCRAM_ITERATIONS, SCRAM_MEMORY)
        assert base64.b64decode(challenge["salt"]) == SCRAM_SALT
        client_nonce = authenticator.hello_extra["nonce"]
        server_nonce = base64.b64decode(challenge["nonce"])
        assert server_nonce.startswith(base64.b64decode(client_nonce))
        assert len(server_nonce) == len(base64.b64decode(client_nonce)) + 16

        # Recompute the server signature from the configured ServerKey alone.
        nonce, salt = challenge["nonce"], challenge["salt"]
        auth_message = (
            f"n={SCRAM_AUTHID},r={client_nonce},r={nonce},s={salt},"
            f"i={SCRAM_ITERATIONS},c=,r={nonce}"
        ).encode()
        expected = _hmac(bytes.fromhex(SCRAM_SERVER_KEY_HEX), auth_message)
        signature = details.authextra["scram_server_signature"]
        assert base64.b64decode(signature) == expected

        # The check that accepted it rejects a single flipped bit.
        forged = bytearray(expected)
        forged[0] ^= 1
        with pytest.raises(AuthenticationError, match="server signature"):
            authenticator.on_welcome(
                {"scram_server_signature": base64.b64encode(bytes(forged)).decode()}
            )
        with pytest.raises(AuthenticationError, match="no SCRAM server signature"):
            authenticator.on_welcome({})

        rid = client.session.call("wamp.session.count")
        assert isinstance(client.request(rid), ev.CallSucceeded)


def test_scram_over_tls(crossbar: CrossbarRouter) -> None:
    authenticator = RecordingScram(SCRAM_PASSWORD)
    with BlockingClient(
        crossbar.rss_url, authenticators=[authenticator], ssl_context=crossbar.ssl_context()
    ) as client:
        joined = client.join()
        assert isinstance(joined, ev.Joined), joined
        assert joined.details.authmethod == "scram"
        assert authenticator.welcome_checks == 1


def test_scram_wrong_password_is_refused(crossbar: CrossbarRouter) -> None:
    authenticator = RecordingScram("not-the-password")
    with BlockingClient(crossbar.ws_auth_url, authenticators=[authenticator]) as client:
        aborted = client.join()
        assert isinstance(aborted, ev.Aborted), aborted
        assert not aborted.details.local
        assert aborted.details.reason == "wamp.error.not_authorized"
        assert "SCRAM authentication failed" in (aborted.details.message or "")
        assert any(isinstance(e, ev.ChallengeAnswered) for e in client.events)
        assert authenticator.welcome_checks == 0


def test_scram_unknown_authid_is_refused_at_hello(crossbar: CrossbarRouter) -> None:
    scram = auth.ScramAuthenticator(SCRAM_PASSWORD, "mallory", dialect="crossbar")
    with BlockingClient(crossbar.ws_auth_url, authenticators=[scram]) as client:
        aborted = client.join()
        assert isinstance(aborted, ev.Aborted), aborted
        assert not aborted.details.local
        assert "mallory" in (aborted.details.message or "")
        assert not any(isinstance(e, ev.ChallengeAnswered) for e in client.events)


def test_spec_dialect_is_not_what_crossbar_speaks(crossbar: CrossbarRouter) -> None:
    """Crossbar offers ``scram``, not the spec's ``wamp-scram``: the router aborts the HELLO."""
    scram = auth.ScramAuthenticator(SCRAM_PASSWORD, SCRAM_AUTHID, dialect="spec")
    assert scram.method == "wamp-scram"
    with BlockingClient(crossbar.ws_auth_url, authenticators=[scram]) as client:
        aborted = client.join()
        assert isinstance(aborted, ev.Aborted), aborted
        assert not aborted.details.local
        assert not any(isinstance(e, ev.ChallengeAnswered) for e in client.events)


def test_scram_join_by_hand_with_the_key_derived_in_a_thread(crossbar: CrossbarRouter) -> None:
    """``defer_auth_work`` by hand: the CHALLENGE comes out as ``ChallengeWork``, nothing is
    answered until ``answer_challenge()``; its work runs in a thread while the socket's owner
    goes on; Crossbar then welcomes the session (its server signature checked)."""
    with BlockingClient(
        crossbar.ws_auth_url, authenticators=[RecordingScram(SCRAM_PASSWORD)]
    ) as client:
        client.session.defer_auth_work = True
        work = client.wait_type(ev.ChallengeWork, method="scram")
        assert not any(isinstance(e, ev.ChallengeAnswered) for e in client.events)
        thread = threading.Thread(target=work.work)
        thread.start()
        assert client.step(0.05) == []  # nothing comes meanwhile; the owner is free
        thread.join()
        assert client._deliver(client.conn.answer_challenge()) == [ev.ChallengeAnswered("scram")]
        joined = client.wait_type(ev.Joined)
        assert joined.details.authid == SCRAM_AUTHID
