"""Authentication through the session engine, with the real authenticators and spec vectors."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import wamp_core
from session_helpers import (
    REALM,
    SESSION_ID,
    make_session,
    router_roles,
    state_of,
    welcome,
    wire,
)
from wamp_core import (
    CLIENT_ROLES,
    AuthenticationError,
    ClientSession,
    CloseDetails,
    ConfigurationError,
    SessionClosed,
    SessionDetails,
    SessionState,
    events as ev,
    messages as m,
)
from wamp_core.auth import (
    AnonymousAuthenticator,
    Authenticator,
    CryptosignAuthenticator,
    ScramAuthenticator,
    TicketAuthenticator,
    WampCraAuthenticator,
    _scram,
)

AGENT = f"wamp-py-{wamp_core.__version__}"  # HELLO.Details.agent

S = SessionState
CANNOT = "wamp.error.cannot_authenticate"
VIOLATION = "wamp.error.protocol_violation"

# The spec's WAMP-CRA example (exact json.dumps spacing) and its signatures (secret "secret1").
CRA_CHALLENGE = json.dumps(
    {
        "nonce": "LHRTC9zeOIrt_9U3",
        "authprovider": "userdb",
        "authid": "peter",
        "timestamp": "2014-06-22T16:36:25.448Z",
        "authrole": "user",
        "authmethod": "wampcra",
        "session": 3251278072152162,
    }
)
CRA_SALTED_SIGNATURE = "gir1mSx+deCDUV7wRM5SGIn/+R/ClqLZuH4m7FJeBVI="
CRA_PLAIN_SIGNATURE = "vb/MUq65p6Xs4P09HfsDI4VmI8HWO3whf0vNe4IdogQ="

# Crossbar's test principal: seed 32 x 0x01.
ALICE_SEED = b"\x01" * 32
ALICE_PUBKEY = "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c"
ROUTER_SEED = b"\x02" * 32
CHALLENGE_HEX = "ab" * 32

# RFC 7677 vector (= the WAMP-SCRAM spec example).
SCRAM_CLIENT_NONCE = "rOprNGfwEbeRWgbNEkqO"
SCRAM_NONCE = "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
SCRAM_CHALLENGE: dict[str, Any] = {
    "nonce": SCRAM_NONCE,
    "salt": "W22ZaJ0SNY7soEsUEjb6gQ==",
    "kdf": "pbkdf2",
    "iterations": 4096,
    "memory": None,
}
SCRAM_PROOF = "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
SCRAM_VERIFIER = "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="


def hello_details(**auth: Any) -> dict[str, Any]:
    return {"roles": CLIENT_ROLES, "agent": AGENT, **auth}


def start(*authenticators: Authenticator) -> ClientSession:
    session = ClientSession()
    session.join(REALM, list(authenticators))
    return session


def assert_auth_abort(
    session: ClientSession, events: list[ev.SessionEvent], reason: str = CANNOT
) -> str:
    """The engine aborted locally with ``reason``: ABORT on the wire, Aborted(local=True)."""
    out = wire(session)
    assert len(out) == 1
    assert out[0][0] == 3
    assert out[0][2] == reason
    message = out[0][1]["message"]
    assert isinstance(message, str)
    assert events == [ev.Aborted(CloseDetails(reason, message, local=True))]
    assert session.state is S.CLOSED
    assert not session.is_joined
    with pytest.raises(SessionClosed):
        session.call("com.example.p")
    return message


def ed25519_signature(seed: bytes, message: bytes) -> str:
    """Independent reference: hex(Ed25519 signature + signed message)."""
    return (Ed25519PrivateKey.from_private_bytes(seed).sign(message) + message).hex()


# -- ticket ----------------------------------------------------------------------------------


def test_ticket_flow() -> None:
    session = start(TicketAuthenticator("s3cr3t", "joe", "admin", authextra={"x_a": 1}))
    assert wire(session) == [
        [
            1,
            REALM,
            hello_details(
                authmethods=["ticket"], authid="joe", authrole="admin", authextra={"x_a": 1}
            ),
        ]
    ]
    events = session.receive_message(m.Challenge(method="ticket", extra={}))
    assert events == [ev.ChallengeAnswered("ticket")]
    assert wire(session) == [[5, "s3cr3t", {}]]
    assert session.state is S.CHALLENGING
    roles = router_roles()
    events = session.receive_message(
        m.Welcome(
            session_id=SESSION_ID,
            details={
                "roles": roles,
                "authid": "joe",
                "authrole": "admin",
                "authmethod": "ticket",
                "authprovider": "static",
            },
        )
    )
    assert events == [
        ev.Joined(
            SessionDetails(
                REALM, SESSION_ID, "joe", "admin", "ticket", "static", router_roles=roles
            )
        )
    ]
    assert state_of(session) is S.ESTABLISHED


def test_ticket_multi_round_challenge() -> None:
    tickets = iter(["first", "second"])
    session = start(TicketAuthenticator(lambda: next(tickets), "joe"))
    session.messages_to_send()
    for expected in ("first", "second"):
        assert session.receive_message(m.Challenge(method="ticket", extra={})) == [
            ev.ChallengeAnswered("ticket")
        ]
        assert wire(session) == [[5, expected, {}]]
        assert session.state is S.CHALLENGING
    assert [type(e) for e in session.receive_message(welcome(authmethod="ticket"))] == [ev.Joined]


def test_ticket_callable_failure_aborts() -> None:
    def broken() -> str:
        raise RuntimeError("token service down")

    session = start(TicketAuthenticator(broken, "joe"))
    session.messages_to_send()
    events = session.receive_message(m.Challenge(method="ticket", extra={}))
    message = assert_auth_abort(session, events)
    assert "RuntimeError" in message
    # the transport is still usable: a new HELLO may follow
    session.join(REALM)
    assert wire(session)[0][0] == 1


class _Refusing(Authenticator):
    """An authenticator failing with a custom reason."""

    method = "x-custom"

    def on_challenge(
        self, extra: dict[str, Any], channel_ids: Mapping[str, bytes]
    ) -> tuple[str, dict[str, Any]]:
        raise AuthenticationError("no way", reason="wamp.error.authentication_failed")


def test_authenticator_failure_reason_goes_on_the_wire() -> None:
    session = start(_Refusing())
    session.messages_to_send()
    events = session.receive_message(m.Challenge(method="x-custom", extra={}))
    assert assert_auth_abort(session, events, "wamp.error.authentication_failed") == "no way"


# -- WAMP-CRA --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "signature"),
    [
        (
            {"challenge": CRA_CHALLENGE, "salt": "salt123", "iterations": 1000, "keylen": 32},
            CRA_SALTED_SIGNATURE,
        ),
        ({"challenge": CRA_CHALLENGE}, CRA_PLAIN_SIGNATURE),
    ],
    ids=["salted", "unsalted"],
)
def test_wampcra_spec_vector(extra: dict[str, Any], signature: str) -> None:
    session = start(WampCraAuthenticator("secret1", "peter"))
    assert wire(session) == [[1, REALM, hello_details(authmethods=["wampcra"], authid="peter")]]
    events = session.receive_message(m.Challenge(method="wampcra", extra=extra))
    assert events == [ev.ChallengeAnswered("wampcra")]
    assert wire(session) == [[5, signature, {}]]
    events = session.receive_message(welcome(authmethod="wampcra", authid="peter"))
    assert [type(e) for e in events] == [ev.Joined]


def test_wampcra_bad_challenge_aborts() -> None:
    session = start(WampCraAuthenticator("secret1", "peter"))
    session.messages_to_send()
    events = session.receive_message(m.Challenge(method="wampcra", extra={"challenge": 5}))
    assert "challenge" in assert_auth_abort(session, events)


# -- WAMP-Cryptosign -------------------------------------------------------------------------


def test_cryptosign_flow() -> None:
    session = start(CryptosignAuthenticator(ALICE_SEED, "alice"))
    assert wire(session) == [
        [
            1,
            REALM,
            hello_details(
                authmethods=["cryptosign"], authid="alice", authextra={"pubkey": ALICE_PUBKEY}
            ),
        ]
    ]
    events = session.receive_message(
        m.Challenge(
            method="cryptosign", extra={"challenge": CHALLENGE_HEX, "channel_binding": None}
        )
    )
    assert events == [ev.ChallengeAnswered("cryptosign")]
    expected = ed25519_signature(ALICE_SEED, bytes.fromhex(CHALLENGE_HEX))
    assert wire(session) == [[5, expected, {}]]
    assert len(expected) == 192
    events = session.receive_message(welcome(authmethod="cryptosign", authid="alice"))
    assert [type(e) for e in events] == [ev.Joined]


def test_cryptosign_channel_binding_uses_the_drivers_channel_id() -> None:
    channel_id = bytes(range(32))
    session = ClientSession()
    session.channel_ids = {"tls-unique": channel_id}
    session.join(REALM, [CryptosignAuthenticator(ALICE_SEED, channel_binding="tls-unique")])
    hello = wire(session)[0]
    assert hello[2]["authextra"] == {"pubkey": ALICE_PUBKEY, "channel_binding": "tls-unique"}
    session.receive_message(
        m.Challenge(
            method="cryptosign",
            extra={"challenge": CHALLENGE_HEX, "channel_binding": "tls-unique"},
        )
    )
    bound = bytes(a ^ b for a, b in zip(bytes.fromhex(CHALLENGE_HEX), channel_id, strict=True))
    assert wire(session) == [[5, ed25519_signature(ALICE_SEED, bound), {}]]


def test_cryptosign_channel_binding_without_tls_aborts() -> None:
    session = start(CryptosignAuthenticator(ALICE_SEED, channel_binding="tls-unique"))
    session.messages_to_send()
    events = session.receive_message(
        m.Challenge(
            method="cryptosign",
            extra={"challenge": CHALLENGE_HEX, "channel_binding": "tls-unique"},
        )
    )
    assert "channel id" in assert_auth_abort(session, events)


def _router_auth_session() -> tuple[ClientSession, bytes]:
    router_pubkey = Ed25519PrivateKey.from_private_bytes(ROUTER_SEED).public_key()
    session = start(
        CryptosignAuthenticator(ALICE_SEED, "alice", router_pubkey=router_pubkey.public_bytes_raw())
    )
    hello = wire(session)[0]
    client_challenge = bytes.fromhex(hello[2]["authextra"]["challenge"])
    assert len(client_challenge) == 32
    return session, client_challenge


def _router_challenge(client_challenge: bytes, *, seed: bytes = ROUTER_SEED) -> m.Challenge:
    router_key = Ed25519PrivateKey.from_private_bytes(seed)
    return m.Challenge(
        method="cryptosign",
        extra={
            "challenge": CHALLENGE_HEX,
            "channel_binding": None,
            "pubkey": router_key.public_key().public_bytes_raw().hex(),
            "signature": ed25519_signature(seed, client_challenge),
        },
    )


def test_cryptosign_router_authentication() -> None:
    session, client_challenge = _router_auth_session()
    assert session.receive_message(_router_challenge(client_challenge)) == [
        ev.ChallengeAnswered("cryptosign")
    ]
    assert wire(session) == [[5, ed25519_signature(ALICE_SEED, bytes.fromhex(CHALLENGE_HEX)), {}]]
    events = session.receive_message(welcome(authmethod="cryptosign"))
    assert [type(e) for e in events] == [ev.Joined]


def test_cryptosign_router_signature_wrong_aborts_without_answering() -> None:
    session, client_challenge = _router_auth_session()
    # signed by some other key, presenting the right pubkey is impossible: present it anyway
    challenge = _router_challenge(client_challenge, seed=b"\x03" * 32)
    pinned = Ed25519PrivateKey.from_private_bytes(ROUTER_SEED).public_key().public_bytes_raw()
    challenge = m.Challenge(method="cryptosign", extra={**challenge.extra, "pubkey": pinned.hex()})
    events = session.receive_message(challenge)
    assert "router authentication failed" in assert_auth_abort(session, events)


@pytest.mark.parametrize(
    "authmethod",
    [{"authmethod": "cryptosign"}, {}, {"authmethod": "anonymous"}],
    ids=["cryptosign", "no-authmethod", "not-offered"],
)
def test_cryptosign_welcome_without_router_proof_aborts(authmethod: dict[str, Any]) -> None:
    """A router that skips the CHALLENGE (or names another method) is not authenticated."""
    session, _ = _router_auth_session()
    events = session.receive_message(welcome(**authmethod))
    assert "without authenticating itself" in assert_auth_abort(session, events)


# -- WAMP-SCRAM ------------------------------------------------------------------------------


@pytest.fixture
def scram_session(monkeypatch: pytest.MonkeyPatch) -> ClientSession:
    monkeypatch.setattr(_scram, "_new_nonce", lambda: SCRAM_CLIENT_NONCE)
    session = start(ScramAuthenticator("pencil", "user"))
    assert wire(session) == [
        [
            1,
            REALM,
            hello_details(
                authmethods=["wamp-scram"],
                authid="user",
                authextra={"nonce": SCRAM_CLIENT_NONCE},
            ),
        ]
    ]
    events = session.receive_message(m.Challenge(method="wamp-scram", extra=SCRAM_CHALLENGE))
    assert events == [ev.ChallengeAnswered("wamp-scram")]
    assert wire(session) == [
        [5, SCRAM_PROOF, {"nonce": SCRAM_NONCE, "channel_binding": None, "cbind_data": None}]
    ]
    return session


def test_scram_spec_vector(scram_session: ClientSession) -> None:
    events = scram_session.receive_message(
        welcome(authmethod="wamp-scram", authid="user", authextra={"verifier": SCRAM_VERIFIER})
    )
    assert [type(e) for e in events] == [ev.Joined]
    assert scram_session.details is not None
    assert scram_session.details.authextra == {"verifier": SCRAM_VERIFIER}


@pytest.mark.parametrize(
    "details",
    [
        {"authmethod": "wamp-scram", "authextra": {"verifier": "AAAA" + SCRAM_VERIFIER[4:]}},
        {"authmethod": "wamp-scram"},
        {},  # no authmethod: the offered SCRAM still insists on the verifier
    ],
    ids=["wrong-verifier", "no-verifier", "no-authmethod"],
)
def test_scram_bad_router_proof_aborts(
    scram_session: ClientSession, details: dict[str, Any]
) -> None:
    events = scram_session.receive_message(welcome(**details))
    assert "SCRAM" in assert_auth_abort(scram_session, events)


# -- violations and failures in the handshake ------------------------------------------------


@pytest.mark.parametrize(
    "authenticators",
    [[], [TicketAuthenticator("t", "joe")]],
    ids=["anonymous", "ticket"],
)
def test_challenge_for_a_method_not_offered_is_an_authentication_failure(
    authenticators: list[Authenticator],
) -> None:
    """(A review.) It was a protocol violation, which the reconnect policy retries for ever
    (a join that cannot succeed): now an AuthenticationError, cannot_authenticate, fatal."""
    session = start(*authenticators)
    session.messages_to_send()
    events = session.receive_message(m.Challenge(method="wampcra", extra={"challenge": "x"}))
    out = wire(session)
    assert [(msg[0], msg[2]) for msg in out] == [(3, "wamp.error.cannot_authenticate")]
    assert "'wampcra', which we did not offer" in out[0][1]["message"]
    assert [type(e) for e in events] == [ev.Aborted]
    assert isinstance(session.auth_error, wamp_core.AuthenticationError)
    assert wamp_core.default_is_fatal(session.auth_error)


def test_challenge_for_offered_anonymous_aborts() -> None:
    session = start(AnonymousAuthenticator())
    assert wire(session)[0][2]["authmethods"] == ["anonymous"]
    events = session.receive_message(m.Challenge(method="anonymous", extra={}))
    assert_auth_abort(session, events)


def test_several_methods_offered() -> None:
    session = start(CryptosignAuthenticator(ALICE_SEED, "alice"), TicketAuthenticator("t", "alice"))
    assert wire(session) == [
        [
            1,
            REALM,
            hello_details(
                authmethods=["cryptosign", "ticket"],
                authid="alice",
                authextra={"pubkey": ALICE_PUBKEY},
            ),
        ]
    ]
    assert session.receive_message(m.Challenge(method="ticket", extra={})) == [
        ev.ChallengeAnswered("ticket")
    ]
    assert wire(session) == [[5, "t", {}]]
    events = session.receive_message(welcome(authmethod="ticket"))
    assert [type(e) for e in events] == [ev.Joined]


def test_conflicting_authenticators_refused_before_anything_is_sent() -> None:
    session = ClientSession()
    with pytest.raises(ConfigurationError):
        session.join(REALM, [TicketAuthenticator("t", "joe"), WampCraAuthenticator("s", "bob")])
    assert session.state is S.CLOSED
    assert wire(session) == []


def test_router_rejects_authentication() -> None:
    session, _ = make_session(S.CHALLENGING)
    events = session.receive_message(
        m.Abort(reason="wamp.error.not_authorized", details={"message": "bad ticket"})
    )
    assert events == [ev.Aborted(CloseDetails("wamp.error.not_authorized", "bad ticket"))]
    assert wire(session) == []
    assert session.state is S.CLOSED
    session.join(REALM)  # the transport may carry a new attempt
    assert state_of(session) is S.ESTABLISHING


def test_in_session_message_while_challenging_is_a_violation() -> None:
    session, _ = make_session(S.CHALLENGING)
    events = session.receive_message(m.Result(request_id=1))
    assert [type(e) for e in events] == [ev.Aborted]
    assert [(msg[0], msg[2]) for msg in wire(session)] == [(3, VIOLATION)]
    assert session.state is S.FAILED


def test_connection_lost_while_challenging() -> None:
    session, _ = make_session(S.CHALLENGING)
    assert session.connection_lost() == [
        ev.Aborted(CloseDetails("wamp.close.transport_lost", "transport lost", local=True))
    ]
    with pytest.raises(SessionClosed) as exc_info:
        session.join(REALM)
    assert exc_info.value.reason == "wamp.close.transport_lost"


# -- the key derivation handed out (defer_auth_work: what the drivers set) -------------------


def _deferred(authenticator: Authenticator) -> ClientSession:
    session = ClientSession()
    session.defer_auth_work = True
    session.join(REALM, [authenticator])
    session.messages_to_send()
    return session


@pytest.mark.parametrize("run_work", [True, False], ids=["work-run", "work-skipped"])
def test_scram_key_derivation_is_handed_out_then_answered(
    monkeypatch: pytest.MonkeyPatch, run_work: bool
) -> None:
    """The CHALLENGE is not answered until answer_challenge(); the answer is the spec's
    proof whether or not the work ran first (skipped: it runs there and then)."""
    monkeypatch.setattr(_scram, "_new_nonce", lambda: SCRAM_CLIENT_NONCE)
    session = _deferred(ScramAuthenticator("pencil", "user"))
    events = session.receive_message(m.Challenge(method="wamp-scram", extra=SCRAM_CHALLENGE))
    assert [type(e) for e in events] == [ev.ChallengeWork]
    work = events[0]
    assert isinstance(work, ev.ChallengeWork) and work.method == "wamp-scram"
    assert wire(session) == []  # nothing answered yet
    assert session.challenge_waiting and session.state is S.CHALLENGING
    if run_work:
        work.work()
    session.answer_challenge()
    assert session.take_events() == [ev.ChallengeAnswered("wamp-scram")]
    assert wire(session) == [
        [5, SCRAM_PROOF, {"nonce": SCRAM_NONCE, "channel_binding": None, "cbind_data": None}]
    ]
    assert not session.challenge_waiting
    events = session.receive_message(
        welcome(authmethod="wamp-scram", authid="user", authextra={"verifier": SCRAM_VERIFIER})
    )
    assert [type(e) for e in events] == [ev.Joined]


def test_salted_wampcra_key_derivation_is_handed_out_once() -> None:
    """Salted WAMP-CRA hands out its PBKDF2; the next join with the same salt has nothing
    to hand out (the key is kept); unsalted has no work at all."""
    authenticator = WampCraAuthenticator("secret1", "peter")
    salted = {"challenge": CRA_CHALLENGE, "salt": "salt123", "iterations": 1000, "keylen": 32}
    for expected in ([ev.ChallengeWork], [ev.ChallengeAnswered]):
        session = _deferred(authenticator)
        events = session.receive_message(m.Challenge(method="wampcra", extra=salted))
        assert [type(e) for e in events] == expected
        if expected == [ev.ChallengeWork]:
            assert isinstance(events[0], ev.ChallengeWork)
            events[0].work()
            session.answer_challenge()
        assert wire(session) == [[5, CRA_SALTED_SIGNATURE, {}]]
    session = _deferred(WampCraAuthenticator("secret1", "peter"))
    events = session.receive_message(m.Challenge(method="wampcra", extra={"challenge": "c"}))
    assert events == [ev.ChallengeAnswered("wampcra")]


def test_a_refused_challenge_aborts_before_any_work_is_handed_out() -> None:
    """The checks run before the work: a CHALLENGE asking for too costly a KDF aborts at once."""
    session = _deferred(ScramAuthenticator("pencil", "user"))
    extra = dict(SCRAM_CHALLENGE, iterations=_scram.MAX_PBKDF2_ITERATIONS + 1)
    extra["nonce"] = session._s.authenticators["wamp-scram"]._client_nonce + "x"
    events = session.receive_message(m.Challenge(method="wamp-scram", extra=extra))
    assert "out of range" in assert_auth_abort(session, events)


def test_answer_challenge_misuse_and_races() -> None:
    """No CHALLENGE waiting: LocalProtocolError while the session lives, nothing once it
    ended (the work finished after an abort); a second CHALLENGE or a WELCOME before the
    answer are protocol violations."""
    session = _deferred(WampCraAuthenticator("secret1", "peter"))
    with pytest.raises(wamp_core.LocalProtocolError, match="no CHALLENGE"):
        session.answer_challenge()
    salted = {"challenge": "c", "salt": "s", "iterations": 1000}
    events = session.receive_message(m.Challenge(method="wampcra", extra=salted))
    assert [type(e) for e in events] == [ev.ChallengeWork]
    session.abort()
    session.take_events()
    session.messages_to_send()
    session.answer_challenge()  # the session ended: nothing
    assert session.take_events() == [] and wire(session) == []
    for late in (m.Challenge(method="wampcra", extra=salted), welcome(authmethod="wampcra")):
        session = _deferred(WampCraAuthenticator("secret1", "peter2"))
        session.receive_message(m.Challenge(method="wampcra", extra=salted))
        events = session.receive_message(late)
        assert [type(e) for e in events] == [ev.Aborted]
        assert session.state is S.FAILED
        assert [msg[2] for msg in wire(session)] == [VIOLATION]
        session.answer_challenge()  # (the work finishing later: nothing)
        assert wire(session) == []


def test_a_failed_work_aborts_the_join_without_running_it_again() -> None:
    """The work failed in its thread: answering with that failure aborts the join; the
    authenticator's on_challenge is not called (it would run the work again, in the loop)."""

    class Slow(WampCraAuthenticator):
        answered = 0

        def on_challenge(
            self, extra: dict[str, Any], channel_ids: Mapping[str, bytes]
        ) -> tuple[str, dict[str, Any]]:
            Slow.answered += 1
            return super().on_challenge(extra, channel_ids)

    session = _deferred(Slow("secret1", "peter"))
    salted = {"challenge": "c", "salt": "s", "iterations": 1000}
    events = session.receive_message(m.Challenge(method="wampcra", extra=salted))
    assert [type(e) for e in events] == [ev.ChallengeWork]
    session.answer_challenge(MemoryError())
    assert "MemoryError in wampcra authenticator" in assert_auth_abort(
        session, session.take_events()
    )
    assert Slow.answered == 0
