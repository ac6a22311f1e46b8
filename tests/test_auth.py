"""Authentication: WAMP-CRA vectors, ticket, anonymous, combining, configuration, secrecy."""

from __future__ import annotations

import base64
import dataclasses
import gc
import hashlib
import hmac
import json
import logging
import warnings
from collections.abc import Callable
from typing import Any

import pytest

from wamp_core import AuthenticationError, ConfigurationError, WampError
from wamp_core.auth import (
    AnonymousAuthenticator,
    Authenticator,
    CryptosignAuthenticator,
    HelloAuth,
    ScramAuthenticator,
    TicketAuthenticator,
    WampCraAuthenticator,
    combine_authenticators,
    compute_wcs,
    create_authenticator,
    derive_key,
)

# The spec's WAMP-CRA example challenge (exact Python json.dumps spacing).
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
CRA_SALTED_KEY = b"64xfzBvZhGDT7PB0bQwDeI8/WR1M9x6Cw5dt0yP9koc="
CRA_SALTED_SIGNATURE = "gir1mSx+deCDUV7wRM5SGIn/+R/ClqLZuH4m7FJeBVI="
CRA_PLAIN_SIGNATURE = "vb/MUq65p6Xs4P09HfsDI4VmI8HWO3whf0vNe4IdogQ="


def ref_wcs(key: bytes, challenge: bytes) -> str:
    return base64.b64encode(hmac.new(key, challenge, hashlib.sha256).digest()).decode()


# -- WAMP-CRA --------------------------------------------------------------------------------


def test_cra_challenge_text_is_the_spec_one() -> None:
    assert CRA_CHALLENGE.startswith('{"nonce": "LHRTC9zeOIrt_9U3", "authprovider": "userdb"')


def test_cra_salted_spec_vector() -> None:
    assert derive_key("secret1", "salt123", 1000, 32) == CRA_SALTED_KEY
    assert compute_wcs(CRA_SALTED_KEY, CRA_CHALLENGE) == CRA_SALTED_SIGNATURE
    auth = WampCraAuthenticator("secret1", "peter")
    extra = {"challenge": CRA_CHALLENGE, "salt": "salt123", "iterations": 1000, "keylen": 32}
    assert auth.on_challenge(extra, {}) == (CRA_SALTED_SIGNATURE, {})


def test_cra_unsalted_spec_vector() -> None:
    assert compute_wcs(b"secret1", CRA_CHALLENGE) == CRA_PLAIN_SIGNATURE
    auth = WampCraAuthenticator(b"secret1", "peter")
    assert auth.on_challenge({"challenge": CRA_CHALLENGE}, {}) == (CRA_PLAIN_SIGNATURE, {})
    assert auth.on_challenge({"challenge": CRA_CHALLENGE, "salt": None}, {})[0] == (
        CRA_PLAIN_SIGNATURE
    )


def test_cra_autobahn_derive_key_example() -> None:
    assert derive_key(b"secret", "salt123", 1000, 32) == (
        b"MDS8Yxpu4J/vkHJ8dNEgqECYsI0uRDh2oZ5eN0vYPvo="
    )


def test_cra_defaults_when_router_omits_parameters() -> None:
    auth = WampCraAuthenticator("secret1", "peter")
    signature, _ = auth.on_challenge({"challenge": CRA_CHALLENGE, "salt": "salt123"}, {})
    assert signature == CRA_SALTED_SIGNATURE


def test_cra_crossbar_salted_principal() -> None:
    # Crossbar test principal "salty": secret2, salt123, 100 iterations, keylen 16
    challenge = '{"authid": "salty", "nonce": "x"}'
    auth = create_authenticator("wampcra", {"authid": "salty", "secret": "secret2"})
    extra = {"challenge": challenge, "salt": "salt123", "iterations": 100, "keylen": 16}
    key = base64.b64encode(hashlib.pbkdf2_hmac("sha256", b"secret2", b"salt123", 100, 16))
    assert auth.on_challenge(extra, {})[0] == ref_wcs(key, challenge.encode())


def test_cra_signs_challenge_byte_exactly() -> None:
    # odd spacing, key order and non-ASCII text: signed as received, never re-serialized
    challenge = '{ "session":1,"authid" : "p\u00e9ter\u2603","nonce":"a\\u0041"}'
    auth = WampCraAuthenticator("s\u00e9cret", "p\u00e9ter")
    signature, _ = auth.on_challenge({"challenge": challenge}, {})
    assert signature == ref_wcs("s\u00e9cret".encode(), challenge.encode())
    assert signature != ref_wcs("s\u00e9cret".encode(), json.dumps(json.loads(challenge)).encode())


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"challenge": None},
        {"challenge": b"bytes"},
        {"challenge": "{}", "salt": 5},
        {"challenge": "{}", "salt": "s", "iterations": True},
        {"challenge": "{}", "salt": "s", "iterations": "1000"},
        {"challenge": "{}", "salt": "s", "iterations": 0},
        {"challenge": "{}", "salt": "s", "iterations": 10**9},
        {"challenge": "{}", "salt": "s", "iterations": 1_000_001},  # seconds in the loop
        {"challenge": "{}", "salt": "s", "keylen": 10**6},
        {"challenge": "\ud800"},
    ],
)
def test_cra_bad_challenge(extra: dict[str, Any]) -> None:
    auth = WampCraAuthenticator("secret1", "peter")
    with pytest.raises(AuthenticationError):
        auth.on_challenge(extra, {})


def test_cra_config_errors() -> None:
    with pytest.raises(ConfigurationError, match="authid"):
        WampCraAuthenticator("secret1", None)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="secret"):
        WampCraAuthenticator("", "peter")
    with pytest.raises(ConfigurationError, match="secret"):
        WampCraAuthenticator(12, "peter")  # type: ignore[arg-type]


# -- ticket and anonymous --------------------------------------------------------------------


def test_ticket_static() -> None:
    auth = TicketAuthenticator("secret!!!", "joe", authextra={"x_app": 1})
    assert (auth.method, auth.authid, auth.authrole) == ("ticket", "joe", None)
    assert auth.authextra() == {"x_app": 1}
    assert auth.on_challenge({}, {}) == ("secret!!!", {})


def test_ticket_callable_called_per_challenge() -> None:
    tokens = iter(["tok-1", "tok-2"])
    auth = TicketAuthenticator(lambda: next(tokens), "joe")
    assert auth.on_challenge({}, {})[0] == "tok-1"
    assert auth.on_challenge({}, {})[0] == "tok-2"


@pytest.mark.parametrize(
    ("ticket", "match"),
    [(lambda: 5, "must return a str"), (lambda: "", "empty"), (lambda: 1 / 0, "raised")],
)
def test_ticket_callable_errors(ticket: Callable[[], str], match: str) -> None:
    auth = TicketAuthenticator(ticket, "joe")
    with pytest.raises(AuthenticationError, match=match):
        auth.on_challenge({}, {})


def test_ticket_config_errors() -> None:
    with pytest.raises(ConfigurationError):
        TicketAuthenticator("", "joe")
    with pytest.raises(ConfigurationError):
        TicketAuthenticator(42, "joe")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="authid"):
        TicketAuthenticator("t", 42)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="authextra"):
        TicketAuthenticator("t", "joe", authextra=[1])  # type: ignore[arg-type]


def test_an_async_ticket_source_is_refused_when_built_and_never_left_unawaited() -> None:
    """(A review.) The challenge is answered inside receive_data, with no await: an async
    ticket function failed at the challenge, leaving "coroutine was never awaited"."""

    async def ticket() -> str:
        return "t"

    with pytest.raises(ConfigurationError, match="not an async function"):
        TicketAuthenticator(ticket, "joe")  # type: ignore[arg-type]

    class Source:  # (an object with an async __call__: not caught when built)
        async def __call__(self) -> str:
            return "t"

    auth = TicketAuthenticator(Source(), "joe")  # type: ignore[arg-type]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a coroutine never awaited would warn
        with pytest.raises(AuthenticationError, match="must return a str, not coroutine"):
            auth.on_challenge({}, {})
        gc.collect()


def test_anonymous() -> None:
    auth = AnonymousAuthenticator(authrole="guest")
    assert (auth.method, auth.authid, auth.authrole) == ("anonymous", None, "guest")
    assert auth.authextra() == {}
    with pytest.raises(AuthenticationError, match="anonymous"):
        auth.on_challenge({}, {})
    auth.on_welcome({})


def test_authextra_is_a_copy() -> None:
    nested = {"a": [1]}
    auth = TicketAuthenticator("t", "joe", authextra={"x": nested})
    nested["a"].append(2)
    auth.authextra()["x"]["a"].append(3)
    assert auth.authextra() == {"x": {"a": [1]}}


# -- combine_authenticators ------------------------------------------------------------------


def test_combine_empty_is_anonymous() -> None:
    hello = combine_authenticators([])
    assert hello == HelloAuth(authmethods=["anonymous"], authid=None, authrole=None, authextra={})
    assert hello.details() == {"authmethods": ["anonymous"]}


def test_combine_keeps_order_and_the_one_authid() -> None:
    # Autobahn sends no authid here (last authenticator wins, even None)
    hello = combine_authenticators(
        [WampCraAuthenticator("s", "joe", authrole="user"), AnonymousAuthenticator()]
    )
    assert hello.authmethods == ["wampcra", "anonymous"]
    assert (hello.authid, hello.authrole) == ("joe", "user")
    hello = combine_authenticators(
        [AnonymousAuthenticator(), WampCraAuthenticator("s", "joe", authrole="user")]
    )
    assert hello.authmethods == ["anonymous", "wampcra"]
    assert (hello.authid, hello.authrole) == ("joe", "user")
    assert hello.details() == {
        "authmethods": ["anonymous", "wampcra"],
        "authid": "joe",
        "authrole": "user",
    }


def test_combine_same_authid_is_fine() -> None:
    hello = combine_authenticators(
        [TicketAuthenticator("t", "joe"), WampCraAuthenticator("s", "joe")]
    )
    assert hello.authid == "joe"


def test_combine_conflicting_authid_or_authrole() -> None:
    with pytest.raises(ConfigurationError, match="authid"):
        combine_authenticators([TicketAuthenticator("t", "joe"), WampCraAuthenticator("s", "ann")])
    with pytest.raises(ConfigurationError, match="authrole"):
        combine_authenticators(
            [AnonymousAuthenticator(authrole="a"), TicketAuthenticator("t", "joe", authrole="b")]
        )


def test_combine_merges_authextra() -> None:
    crypto = CryptosignAuthenticator("01" * 32, authextra={"x_app": "v"})
    hello = combine_authenticators(
        [crypto, TicketAuthenticator("t", None, authextra={"x_app": "v"})]
    )
    assert hello.authextra == {"pubkey": crypto.pubkey, "x_app": "v"}
    with pytest.raises(ConfigurationError, match="'x_app'"):
        combine_authenticators(
            [crypto, TicketAuthenticator("t", None, authextra={"x_app": "other"})]
        )


def test_combine_scram_nonce_usable(monkeypatch: pytest.MonkeyPatch) -> None:
    scram = ScramAuthenticator("pencil", "user")
    hello = combine_authenticators([scram, AnonymousAuthenticator()])
    nonce = hello.authextra["nonce"]
    challenge = {
        "nonce": nonce + "srv",
        "salt": "W22ZaJ0SNY7soEsUEjb6gQ==",
        "kdf": "pbkdf2",
        "iterations": 4096,
    }
    _, extra = scram.on_challenge(challenge, {})
    assert extra["nonce"] == nonce + "srv"


def test_combine_duplicate_method() -> None:
    with pytest.raises(ConfigurationError, match="'ticket'"):
        combine_authenticators([TicketAuthenticator("a", "joe"), TicketAuthenticator("b", "joe")])


def test_combine_rejects_non_authenticators() -> None:
    with pytest.raises(ConfigurationError, match="Authenticator"):
        combine_authenticators(["ticket"])  # type: ignore[list-item]


def test_hello_auth_is_frozen() -> None:
    hello = combine_authenticators([])
    with pytest.raises(dataclasses.FrozenInstanceError):
        hello.authid = "x"  # type: ignore[misc]


# -- create_authenticator --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "config", "cls", "method"),
    [
        ("anonymous", {}, AnonymousAuthenticator, "anonymous"),
        ("anonymous", {"authid": "a", "authrole": "r"}, AnonymousAuthenticator, "anonymous"),
        ("ticket", {"ticket": "t", "authid": "joe"}, TicketAuthenticator, "ticket"),
        ("ticket", {"ticket": "t"}, TicketAuthenticator, "ticket"),
        ("wampcra", {"secret": "s", "authid": "peter"}, WampCraAuthenticator, "wampcra"),
        ("cryptosign", {"privkey": "01" * 32}, CryptosignAuthenticator, "cryptosign"),
        ("scram", {"password": "p", "authid": "u"}, ScramAuthenticator, "scram"),
        ("wamp-scram", {"password": "p", "authid": "u"}, ScramAuthenticator, "wamp-scram"),
    ],
)
def test_create_authenticator(
    name: str, config: dict[str, Any], cls: type[Authenticator], method: str
) -> None:
    auth = create_authenticator(name, config)
    assert type(auth) is cls
    assert auth.method == method
    assert auth.authid == config.get("authid")
    assert auth.authrole == config.get("authrole")


def test_create_authenticator_passes_everything() -> None:
    auth = create_authenticator(
        "cryptosign",
        {
            "privkey": "01" * 32,
            "authid": "alice",
            "authrole": "user",
            "authextra": {"channel_binding": "tls-unique", "x": 1},
            "router_pubkey": "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c",
        },
    )
    assert isinstance(auth, CryptosignAuthenticator)
    assert auth.channel_binding == "tls-unique"
    extra = auth.authextra()
    assert extra["channel_binding"] == "tls-unique"
    assert extra["x"] == 1
    assert len(extra["challenge"]) == 64
    cra = create_authenticator(
        "wampcra", {"secret": "secret1", "authid": "peter", "authextra": {"k": "v"}}
    )
    assert cra.authextra() == {"k": "v"}
    assert cra.on_challenge({"challenge": CRA_CHALLENGE}, {})[0] == CRA_PLAIN_SIGNATURE
    ticket = create_authenticator("ticket", {"ticket": "t", "authid": "joe", "authrole": "r"})
    assert ticket.authrole == "r"


@pytest.mark.parametrize(
    ("name", "config", "match"),
    [
        ("kerberos", {}, "unknown authentication method 'kerberos'"),
        ("cryptosign-proxy", {}, "'cryptosign-proxy'"),
        ("ticket", {"ticket": "t", "tiket": "x"}, "tiket"),
        ("wampcra", {"secret": "s", "authid": "a", "salt": "x"}, "salt"),
        ("anonymous", {"secret": "x"}, "secret"),
        ("wampcra", {"secret": "s"}, "needs authid"),
        ("ticket", {"authid": "joe"}, "needs ticket"),
        ("cryptosign", {}, "needs privkey"),
        ("scram", {"authid": "u"}, "needs password"),
        ("ticket", ["ticket"], "must be a dict"),
        ("cryptosign", {"privkey": "zz"}, "private key"),
    ],
)
def test_create_authenticator_errors(name: str, config: Any, match: str) -> None:
    with pytest.raises(ConfigurationError, match=match) as info:
        create_authenticator(name, config)
    assert isinstance(info.value, ValueError)  # ConfigurationError is also a ValueError


# -- secrets stay secret ---------------------------------------------------------------------

SEED_HEX = "4d57d97a68f555696620a6d849c0ce582568518d729eb753dc7c732de2804510"
SECRETS = [
    "TICKET-s3cr3t-value",
    "CRA-s3cr3t-value",
    "SCRAM-s3cr3t-value",
    SEED_HEX,
    SEED_HEX.upper(),
    repr(bytes.fromhex(SEED_HEX)),
    base64.b64encode(bytes.fromhex(SEED_HEX)).decode(),
]


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


def exception_texts(exc: BaseException) -> str:
    parts = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        parts += [str(current), repr(current), repr(current.args)]
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    return "\n".join(parts)


def all_authenticators() -> list[Authenticator]:
    return [
        TicketAuthenticator("TICKET-s3cr3t-value", "joe"),
        TicketAuthenticator(lambda: "TICKET-s3cr3t-value", "joe"),
        WampCraAuthenticator("CRA-s3cr3t-value", "peter"),
        CryptosignAuthenticator(SEED_HEX, authid="dev", channel_binding="tls-unique"),
        CryptosignAuthenticator(bytes.fromhex(SEED_HEX), router_pubkey="11" * 32),
        ScramAuthenticator("SCRAM-s3cr3t-value", "user"),
        ScramAuthenticator("SCRAM-s3cr3t-value", "user", dialect="crossbar"),
        AnonymousAuthenticator(),
    ]


def test_repr_and_str_hide_secrets() -> None:
    for auth in all_authenticators():
        assert_no_secret(repr(auth))
        assert_no_secret(str(auth))
        assert type(auth).__name__ in repr(auth)
        assert "authid=" in repr(auth)


def failing_calls() -> list[Callable[[], object]]:
    def bad_ticket() -> str:
        raise RuntimeError("no")

    return [
        lambda: TicketAuthenticator(lambda: 5, "joe").on_challenge({}, {}),  # type: ignore[arg-type, return-value]
        lambda: TicketAuthenticator(bad_ticket, "joe").on_challenge({}, {}),
        lambda: WampCraAuthenticator("CRA-s3cr3t-value", "p").on_challenge({}, {}),
        lambda: WampCraAuthenticator("CRA-s3cr3t-value", "p").on_challenge(
            {"challenge": "x", "salt": "s", "iterations": -1}, {}
        ),
        lambda: WampCraAuthenticator("CRA-s3cr3t-value", None),  # type: ignore[arg-type]
        lambda: CryptosignAuthenticator(SEED_HEX[:-2]),
        lambda: CryptosignAuthenticator(SEED_HEX + "00"),
        lambda: CryptosignAuthenticator(SEED_HEX.replace("4", "g")),
        lambda: CryptosignAuthenticator(bytes.fromhex(SEED_HEX)[:31]),
        lambda: CryptosignAuthenticator(SEED_HEX, authextra={"pubkey": "00" * 32}),
        lambda: CryptosignAuthenticator(SEED_HEX, channel_binding="x"),
        lambda: CryptosignAuthenticator(SEED_HEX, channel_binding="tls-unique").on_challenge(
            {"challenge": "00" * 32, "channel_binding": "tls-unique"}, {}
        ),
        lambda: CryptosignAuthenticator(SEED_HEX).on_challenge({"challenge": SEED_HEX[:10]}, {}),
        lambda: ScramAuthenticator("SCRAM-s3cr3t-value\u0007", "u"),
        lambda: ScramAuthenticator("SCRAM-s3cr3t-value", "u").on_challenge({}, {}),
        lambda: ScramAuthenticator("SCRAM-s3cr3t-value", "u").on_welcome({}),
        lambda: create_authenticator("ticket", {"ticket": "TICKET-s3cr3t-value", "bad": 1}),
        lambda: create_authenticator("wampcra", {"secret": "CRA-s3cr3t-value"}),
        lambda: create_authenticator("nope", {"secret": "CRA-s3cr3t-value"}),
        lambda: create_authenticator("cryptosign", {"privkey": SEED_HEX[:-1]}),
    ]


def test_errors_hide_secrets() -> None:
    calls = failing_calls()
    for call in calls:
        with pytest.raises(WampError) as info:
            call()
        assert_no_secret(exception_texts(info.value))


def test_scram_errors_hide_secrets_after_challenge() -> None:
    auth = ScramAuthenticator("SCRAM-s3cr3t-value", "user")
    nonce = auth.authextra()["nonce"]
    challenge = {"nonce": nonce + "x", "salt": "AAAAAAAAAAA=", "kdf": "pbkdf2", "iterations": 4096}
    auth.on_challenge(challenge, {})
    with pytest.raises(AuthenticationError) as info:
        auth.on_welcome({"verifier": base64.b64encode(b"\x00" * 32).decode()})
    assert_no_secret(exception_texts(info.value))
    assert_no_secret(repr(auth))


def test_logs_hide_secrets(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="wamp_core")
    TicketAuthenticator("TICKET-s3cr3t-value", "joe").on_challenge({}, {})
    WampCraAuthenticator("CRA-s3cr3t-value", "p").on_challenge({"challenge": "c", "salt": "s"}, {})
    CryptosignAuthenticator(SEED_HEX).on_challenge({"challenge": "00" * 32}, {})
    scram = ScramAuthenticator("SCRAM-s3cr3t-value", "user")
    nonce = scram.authextra()["nonce"]
    scram.on_challenge(
        {"nonce": nonce + "x", "salt": "AAAAAAAAAAA=", "kdf": "pbkdf2", "iterations": 4096}, {}
    )
    assert caplog.records  # something was logged, and none of it is secret
    assert_no_secret(caplog.text)
