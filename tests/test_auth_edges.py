"""Authentication edges a mutation review found unguarded (each test fails when the one line
it guards is changed): a ticket or WAMP-CRA signature compared in full, a SCRAM login that
cannot be replayed, an authenticator reused on a reconnect that authenticates the router
again, cryptosign keys and authids, salted WAMP-CRA iterations, SCRAM nonces and proofs.
Sans-IO: the router engine and the client session driven with messages."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import wamp_core as wc
from test_router_engine import CLIENT_ROLES, Client
from wamp_core import ClientSession, SessionState, events as ev, messages as m
from wamp_core.auth import CryptosignAuthenticator, sign_challenge

SEED = "4d" * 32
PUBKEY = wc.auth.cryptosign_pubkey(SEED)


def hello(realm: str = "realm1", **details: Any) -> m.Hello:
    return m.Hello(realm=realm, details={"roles": CLIENT_ROLES, **details})


def router_welcome(**details: Any) -> m.Welcome:
    roles: dict[str, Any] = {"broker": {"features": {}}, "dealer": {"features": {}}}
    return m.Welcome(session_id=1234, details={"roles": roles, **details})


def test_router_refuses_cryptosign_signature_with_wrong_message_part() -> None:
    router = wc.Router(
        ["realm1"], principals=[wc.Principal("carol", pubkeys=(PUBKEY,))], anonymous=False
    )
    client = Client(router)
    (challenge,) = client.send(
        hello(authid="carol", authmethods=["cryptosign"], authextra={"pubkey": PUBKEY})
    )
    assert isinstance(challenge, m.Challenge)
    good = sign_challenge(SEED, challenge.extra["challenge"], None)
    forged = good[:128] + "00" * 32  # valid Ed25519 signature, but another message appended
    (abort,) = client.send(m.Authenticate(signature=forged))
    assert isinstance(abort, m.Abort) and abort.reason == "wamp.error.authentication_failed"


def test_cryptosign_unknown_authid_is_refused_even_with_a_known_key() -> None:
    router = wc.Router(
        ["realm1"], principals=[wc.Principal("carol", pubkeys=(PUBKEY,))], anonymous=False
    )
    (reply,) = Client(router).send(
        hello(authid="mallory", authmethods=["cryptosign"], authextra={"pubkey": PUBKEY})
    )
    assert isinstance(reply, m.Abort) and reply.reason == "wamp.error.no_such_principal"


def test_ticket_prefix_or_empty_ticket_is_refused() -> None:
    router = wc.Router(
        ["realm1"], principals=[wc.Principal("alice", ticket="open sesame")], anonymous=False
    )
    for attempt in ("", "open", "open sesam"):
        client = Client(router)
        (challenge,) = client.send(hello(authid="alice", authmethods=["ticket"]))
        assert isinstance(challenge, m.Challenge)
        (abort,) = client.send(m.Authenticate(signature=attempt))
        assert isinstance(abort, m.Abort), attempt
        assert abort.reason == "wamp.error.authentication_failed"
    assert not router.sessions


def test_router_authentication_is_required_again_on_every_join() -> None:
    router_seed = b"\x02" * 32
    router_key = Ed25519PrivateKey.from_private_bytes(router_seed)
    auth = CryptosignAuthenticator(
        b"\x01" * 32, "alice", router_pubkey=router_key.public_key().public_bytes_raw()
    )
    first = ClientSession()
    first.join("realm1", [auth])
    (hello_msg,) = first.messages_to_send()
    assert isinstance(hello_msg, m.Hello)
    client_challenge = bytes.fromhex(hello_msg.details["authextra"]["challenge"])
    signature = (router_key.sign(client_challenge) + client_challenge).hex()
    events = first.receive_message(
        m.Challenge(
            method="cryptosign",
            extra={"challenge": "ab" * 32, "channel_binding": None, "signature": signature},
        )
    )
    assert events == [ev.ChallengeAnswered("cryptosign")]
    events = first.receive_message(router_welcome(authmethod="cryptosign"))
    assert [type(e) for e in events] == [ev.Joined]
    # reconnect (same authenticator) to an impostor that WELCOMEs at once
    second = ClientSession()
    second.join("realm1", [auth])
    second.messages_to_send()
    second.receive_message(router_welcome(authmethod="cryptosign"))
    assert second.state is not SessionState.ESTABLISHED
    assert second.auth_error is not None
    assert "without authenticating itself" in second.auth_error.message


def test_salted_wampcra_with_non_default_iterations_logs_in() -> None:
    router = wc.Router(
        ["realm1"],
        principals=[
            wc.Principal("salty", secret="secret1", salt="salt123", iterations=2000, keylen=20)
        ],
        anonymous=False,
    )
    client = Client(router)
    (challenge,) = client.send(hello(authid="salty", authmethods=["wampcra"]))
    assert isinstance(challenge, m.Challenge)
    assert (challenge.extra["iterations"], challenge.extra["keylen"]) == (2000, 20)
    signature, _ = wc.auth.WampCraAuthenticator("secret1", "salty").on_challenge(
        challenge.extra, {}
    )
    (welcome,) = client.send(m.Authenticate(signature=signature))
    assert isinstance(welcome, m.Welcome) and welcome.details["authid"] == "salty"


def _scram_router() -> wc.Router:
    scram = wc.ScramCredential.from_password("pencil", b"salt" * 4)
    return wc.Router(["realm1"], principals=[wc.Principal("user", scram=scram)], anonymous=False)


@pytest.mark.parametrize("nonce", ["", "abc,s=AAAA"], ids=["empty", "with-a-comma"])
def test_scram_client_nonce_empty_or_with_a_comma_is_refused(nonce: str) -> None:
    (reply,) = Client(_scram_router()).send(
        hello(authid="user", authmethods=["wamp-scram"], authextra={"nonce": nonce})
    )
    assert isinstance(reply, m.Abort) and reply.reason == "wamp.error.authentication_failed"


def test_scram_short_proof_is_refused_not_raised() -> None:
    client = Client(_scram_router())
    (challenge,) = client.send(
        hello(
            authid="user", authmethods=["wamp-scram"], authextra={"nonce": "rOprNGfwEbeRWgbNEkqO"}
        )
    )
    assert isinstance(challenge, m.Challenge)
    (abort,) = client.send(m.Authenticate(signature="AAAA"))  # 3 bytes, valid base64
    assert isinstance(abort, m.Abort) and abort.reason == "wamp.error.authentication_failed"


def test_crossbar_scram_login_cannot_be_replayed() -> None:
    scram = wc.ScramCredential.from_password(
        "pencil", b"salt" * 4, method="scram", iterations=1, memory=8
    )
    router = wc.Router(["realm1"], principals=[wc.Principal("user", scram=scram)], anonymous=False)
    auth = wc.auth.ScramAuthenticator("pencil", "user", dialect="crossbar", min_argon2_cost=1)
    details: dict[str, Any] = {
        "authid": "user",
        "authmethods": ["scram"],
        "authextra": auth.authextra(),
    }
    victim = Client(router)
    (challenge,) = victim.send(hello(**details))
    assert isinstance(challenge, m.Challenge)
    proof, extra = auth.on_challenge(challenge.extra, {})
    (welcome,) = victim.send(m.Authenticate(signature=proof, extra=extra))
    assert isinstance(welcome, m.Welcome)
    attacker = Client(router)  # replays the recorded messages
    (challenge2,) = attacker.send(hello(**details))
    (reply,) = attacker.send(m.Authenticate(signature=proof, extra=extra))
    assert isinstance(reply, m.Abort) and reply.reason == "wamp.error.authentication_failed"
    assert challenge2.extra["nonce"] != challenge.extra["nonce"]


def test_cryptosign_principal_with_two_keys_logs_in_with_the_second() -> None:
    other_seed = "5e" * 32
    router = wc.Router(
        ["realm1"],
        principals=[wc.Principal("carol", pubkeys=(wc.auth.cryptosign_pubkey(other_seed), PUBKEY))],
        anonymous=False,
    )
    client = Client(router)
    (challenge,) = client.send(
        hello(authid="carol", authmethods=["cryptosign"], authextra={"pubkey": PUBKEY})
    )
    assert isinstance(challenge, m.Challenge)
    (welcome,) = client.send(
        m.Authenticate(signature=sign_challenge(SEED, challenge.extra["challenge"], None))
    )
    assert isinstance(welcome, m.Welcome) and welcome.details["authid"] == "carol"


def test_scram_verifier_of_a_previous_join_is_not_accepted_again() -> None:
    router = _scram_router()
    auth = wc.auth.ScramAuthenticator("pencil", "user")
    first = ClientSession()
    first.join("realm1", [auth])
    client = Client(router)
    (challenge,) = client.send(first.messages_to_send()[0])
    assert isinstance(challenge, m.Challenge)
    first.receive_message(challenge)
    (welcome,) = client.send(first.messages_to_send()[0])
    assert isinstance(welcome, m.Welcome)
    assert [type(e) for e in first.receive_message(welcome)] == [ev.Joined]
    second = ClientSession()  # reconnect; an impostor replays the recorded WELCOME
    second.join("realm1", [auth])
    second.messages_to_send()
    second.receive_message(welcome)
    assert second.state is not SessionState.ESTABLISHED
    assert second.auth_error is not None


def test_wampcra_empty_or_prefix_signature_is_refused() -> None:
    router = wc.Router(
        ["realm1"], principals=[wc.Principal("peter", secret="secret1")], anonymous=False
    )
    for cut in (0, 1, 20):
        client = Client(router)
        (challenge,) = client.send(hello(authid="peter", authmethods=["wampcra"]))
        assert isinstance(challenge, m.Challenge)
        right = wc.auth.compute_wcs("secret1", challenge.extra["challenge"])
        (abort,) = client.send(m.Authenticate(signature=right[:cut]))
        assert isinstance(abort, m.Abort), cut
        assert abort.reason == "wamp.error.authentication_failed"
    assert not router.sessions
