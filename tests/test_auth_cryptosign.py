"""WAMP-Cryptosign: spec test vectors, example transcripts, channel binding, router auth."""

from __future__ import annotations

import re
import secrets
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from hypothesis import given, strategies as st

from wamp_core import AuthenticationError, ConfigurationError
from wamp_core.auth import (
    CryptosignAuthenticator,
    create_authenticator,
    cryptosign_pubkey,
    sign_challenge,
    verify_challenge_signature,
)

HEX192 = re.compile(r"^[0-9a-f]{192}\Z")

SEED_1 = "4d57d97a68f555696620a6d849c0ce582568518d729eb753dc7c732de2804510"
SEED_2 = "d511fe78e23934b3dadb52fcd022974b80bd92bccc7c5cf404e46cc0a8a2f5cd"
SEED_3 = "6e1fde9cf9e2359a87420b65a87dc0c66136e66945196ba2475990d8a0c3a25b"
CHANNEL_ID = "62e935ae755f3d48f80d4d59f6121358c435722a67e859cc0caa8b539027f2ff"

# test_vectors_1 from wamp-proto rfc/text/advanced/authentication_cryptosign.md, verbatim.
TEST_VECTORS_1: list[dict[str, Any]] = [
    {
        "channel_id": None,
        "private_key": SEED_1,
        "challenge": "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "signature": (
            "b32675b221f08593213737bef8240e7c15228b07028e19595294678c90d11c0c"
            "ae80a357331bfc5cc9fb71081464e6e75013517c2cf067ad566a6b7b728e5d03"
            "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
        ),
    },
    {
        "channel_id": None,
        "private_key": SEED_2,
        "challenge": "b26c1f87c13fc1da14997f1b5a71995dff8fbe0a62fae8473c7bdbd05bfb607d",
        "signature": (
            "d4209ad10d5aff6bfbc009d7e924795de138a63515efc7afc6b01b7fe5201372"
            "190374886a70207b042294af5bd64ce725cd8dceb344e6d11c09d1aaaf4d660f"
            "b26c1f87c13fc1da14997f1b5a71995dff8fbe0a62fae8473c7bdbd05bfb607d"
        ),
    },
    {
        "channel_id": None,
        "private_key": SEED_3,
        "challenge": "b05e6b8ad4d69abf74aa3be3c0ee40ae07d66e1895b9ab09285a2f1192d562d2",
        "signature": (
            "7beb282184baadd08f166f16dd683b39cab53816ed81e6955def951cb2ddad1e"
            "c184e206746fd82bda075af03711d3d5658fc84a76196b0fa8d1ebc92ef9f30b"
            "b05e6b8ad4d69abf74aa3be3c0ee40ae07d66e1895b9ab09285a2f1192d562d2"
        ),
    },
    {
        "channel_id": CHANNEL_ID,
        "private_key": SEED_1,
        "challenge": "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "signature": (
            "9b6f41540c9b95b4b7b281c3042fa9c54cef43c842d62ea3fd6030fcb66e70b3"
            "e80d49d44c29d1635da9348d02ec93f3ed1ef227dfb59a07b580095c2b82f80f"
            "9d16ca518aa0c2b707f2b2a609edeca73bca8dd59817a633f35574ac6fd80d00"
        ),
    },
    {
        "channel_id": CHANNEL_ID,
        "private_key": SEED_2,
        "challenge": "b26c1f87c13fc1da14997f1b5a71995dff8fbe0a62fae8473c7bdbd05bfb607d",
        "signature": (
            "305aaa3ac25e98f651427688b3fc43fe7d8a68a7ec1d7d61c61517c519bd4a42"
            "7c3015599d83ca28b4c652333920223844ef0725eb5dc2febfd6af7677b73f01"
            "d0852a29b460fc92ec943242ac638a053bbacc200512b18b30d15083cbdc9282"
        ),
    },
    {
        "channel_id": CHANNEL_ID,
        "private_key": SEED_3,
        "challenge": "b05e6b8ad4d69abf74aa3be3c0ee40ae07d66e1895b9ab09285a2f1192d562d2",
        "signature": (
            "ee3c7644fd8070532bc1fde3d70d742267da545d8c8f03e63bda63f1ad4214f4"
            "d2c4bfdb4eb9526def42deeb7e31602a6ff99eba893e0a4ad4d45892ca75e608"
            "d2b75e24a189a7f78ca776ba36fc53f6c3e31c32f251f2c524f0a44202f2902d"
        ),
    },
]

# Example Message Exchanges 1-3 of the same spec file.
EX_CLIENT_PUBKEY = "545efb0a2192db8d43f118e9bf9aee081466e1ef36c708b96ee6f62dddad9122"
EX_ROUTER_PUBKEY = "4a3838f6fe75251e613329d53fc69b262d5eac97fb1d73bebbaed4015b53c862"
EXAMPLES: dict[str, dict[str, Any]] = {
    "ex1": {
        "client_pubkey": EX_CLIENT_PUBKEY,
        "hello_challenge": "bbae60ea44cdd7b20dc7010a618b0f0803fab25a817520b4b7f057299b524deb",
        "channel_binding": None,
        "channel_id": None,
        "challenge": {
            "challenge": "0e9192bc08512c8198da159c1ae600ba91729215f35d56102ee318558e773537",
            "channel_binding": None,
            "pubkey": EX_ROUTER_PUBKEY,
            "signature": (
                "fd5128d2d207ba58a9d1d6f41b72c747964ad9d1294077b3b1eee6130b05843a"
                "b12c53c7f2519f73d4feb82db19d8ca0fc26b62bde6518e79a882f5795bc9f00"
                "bbae60ea44cdd7b20dc7010a618b0f0803fab25a817520b4b7f057299b524deb"
            ),
        },
        "authenticate": (
            "a3a178fe792ed772a8fc092f8341e455de96670c8901264a7c312dbf940d5743"
            "626fe9fbc29b23dcd2169b308eca309de85a89ccd296b24835de3d95b16b7703"
            "0e9192bc08512c8198da159c1ae600ba91729215f35d56102ee318558e773537"
        ),
    },
    "ex2": {
        "client_pubkey": EX_CLIENT_PUBKEY,
        "hello_challenge": "4f861f12796c2972b7b0026522a687aa851d90355122a61d4f1fdce4d06b564f",
        "channel_binding": "tls-unique",
        # from the transcript's "session joined" transport details
        "channel_id": "e973bee24dcea9e20625f949c0e3cd28d632ccbefe4907c2fac2728710f7b160",
        "challenge": {
            "challenge": "358625312c6c3bf64ed51d17d210ce21af1639c774cabf5735a9651d7d91fc6a",
            "channel_binding": "tls-unique",
            "pubkey": EX_ROUTER_PUBKEY,
            "signature": (
                "aa05f4cd7747d36b79443f1d4703a681e107edc085d876b508714e2a3a8135ba"
                "caae1c018452c4acb3ad2818aa97a6d23e5ac7e3734c7b1f40e6232a70938205"
                "a6f5a1f034a28090b195fb2ce2454a82532f5c8baf6ba1dfb5ddae63c09ce72f"
            ),
        },
        "authenticate": (
            "25114474580d6e99a6126b091b4565c23db567d686c5b8c3a94e3f2f09dc8030"
            "0c5b40a124236733fa56396df721eb12ac092362379bd5b27b4db9e2beaa1408"
            "dcf59bd361a2921448f0e45e12f303097924f5798a83b895cf6b179a6d664d0a"
        ),
    },
    "ex3": {
        "client_pubkey": "12ae0184b180e9a9c5e45be4a1afbce3c6491320063701cd9c4011a777d04089",
        "hello_challenge": "2763e7fdb1c34a74e8497daf6c913744d11161a94cec3b16aeec60a788612e17",
        "channel_binding": "tls-unique",
        # not printed in the transcript: recovered from AUTHENTICATE (signed msg XOR challenge);
        # the router's signature independently yields the same id
        "channel_id": "bd5b9ef32d574c39617a2e3cbf0844859165acb9443b1d7b49a004b68b82281e",
        "challenge": {
            "challenge": "e4b40f72f9604754789d472225483bace926b9668d72c9122545e540d8d98f23",
            "channel_binding": "tls-unique",
            "pubkey": EX_ROUTER_PUBKEY,
            "signature": (
                "ce456092998d796533d7ef2bab543300409d161066c9520c9284df6bbfb82947"
                "b37fb78d69fd56e5118afec62e35e015c60569af2e18ed92fedc738552242d03"
                "9a38790e9c94064d89335393d39973c14074cd1008d7266de74c641103e30609"
            ),
        },
        "authenticate": (
            "16c89629e72aff3f44661e701341b2221a2fa9d93205826fad85e70d3a8dab70"
            "a8f54314c14d470ebeb77a0dd16c833928c01134a52b2e73862b7d3f258b6000"
            "59ef9181d4370b6d19e7691e9a407f29784315dfc949d4696ce5e1f6535ba73d"
        ),
    },
}

# Crossbar test principal (shared/reference/crossbar/README.md).
CROSSBAR_ALICE_SEED = b"\x01" * 32
CROSSBAR_ALICE_PUBKEY = "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c"


def xor(a: bytes, b: bytes | None) -> bytes:
    return a if b is None else bytes(x ^ y for x, y in zip(a, b, strict=True))


def fixed_token_bytes(monkeypatch: pytest.MonkeyPatch, value: bytes) -> None:
    monkeypatch.setattr(secrets, "token_bytes", lambda n: value[:n])


# -- spec test vectors ----------------------------------------------------------------------


@pytest.mark.parametrize("vector", TEST_VECTORS_1, ids=lambda v: v["signature"][:8])
def test_sign_challenge_spec_vectors(vector: dict[str, Any]) -> None:
    channel_id = bytes.fromhex(vector["channel_id"]) if vector["channel_id"] else None
    seed = bytes.fromhex(vector["private_key"])
    assert sign_challenge(seed, vector["challenge"], channel_id) == vector["signature"]
    assert (
        sign_challenge(vector["private_key"], vector["challenge"], channel_id)
        == (vector["signature"])
    )


@pytest.mark.parametrize("vector", TEST_VECTORS_1, ids=lambda v: v["signature"][:8])
def test_authenticator_reproduces_spec_vectors(vector: dict[str, Any]) -> None:
    bound = vector["channel_id"] is not None
    auth = CryptosignAuthenticator(
        vector["private_key"], channel_binding="tls-unique" if bound else None
    )
    extra = {"challenge": vector["challenge"], "channel_binding": "tls-unique" if bound else None}
    channel_ids = {"tls-unique": bytes.fromhex(vector["channel_id"])} if bound else {}
    signature, auth_extra = auth.on_challenge(extra, channel_ids)
    assert signature == vector["signature"]
    assert auth_extra == {}


def test_spec_vector_pubkey() -> None:
    assert cryptosign_pubkey(SEED_1) == (
        "1adfc8bfe1d35616e64dffbd900096f23b066f914c8c2ffbb66f6075b96e116d"
    )


def test_crossbar_alice_pubkey() -> None:
    assert cryptosign_pubkey(CROSSBAR_ALICE_SEED) == CROSSBAR_ALICE_PUBKEY
    auth = create_authenticator("cryptosign", {"privkey": "01" * 32, "authid": "alice"})
    assert auth.authextra() == {"pubkey": CROSSBAR_ALICE_PUBKEY}
    assert auth.authid == "alice"


@given(
    seed=st.binary(min_size=32, max_size=32),
    challenge=st.binary(min_size=32, max_size=32),
    channel_id=st.none() | st.binary(min_size=32, max_size=32),
)
def test_signature_shape_and_validity(
    seed: bytes, challenge: bytes, channel_id: bytes | None
) -> None:
    signature = sign_challenge(seed, challenge.hex(), channel_id)
    assert HEX192.match(signature)
    raw = bytes.fromhex(signature)
    assert raw[64:] == xor(challenge, channel_id)
    public = Ed25519PrivateKey.from_private_bytes(seed).public_key()
    public.verify(raw[:64], raw[64:])  # raises if invalid
    assert verify_challenge_signature(cryptosign_pubkey(seed), signature, raw[64:])


# -- example transcripts (verification vectors) ----------------------------------------------


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example_transcripts_verify(name: str) -> None:
    ex = EXAMPLES[name]
    channel_id = bytes.fromhex(ex["channel_id"]) if ex["channel_id"] else None
    chal = ex["challenge"]
    # router signed HELLO.authextra.challenge (XOR channel id)
    router_msg = xor(bytes.fromhex(ex["hello_challenge"]), channel_id)
    assert verify_challenge_signature(chal["pubkey"], chal["signature"], router_msg)
    # client signed CHALLENGE.extra.challenge (XOR channel id)
    client_msg = xor(bytes.fromhex(chal["challenge"]), channel_id)
    assert verify_challenge_signature(ex["client_pubkey"], ex["authenticate"], client_msg)
    # and not the unbound message when bound, nor under the other key
    if channel_id is not None:
        unbound = bytes.fromhex(chal["challenge"])
        assert not verify_challenge_signature(ex["client_pubkey"], ex["authenticate"], unbound)
    assert not verify_challenge_signature(chal["pubkey"], ex["authenticate"], client_msg)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_router_authentication_with_example_transcripts(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ex = EXAMPLES[name]
    fixed_token_bytes(monkeypatch, bytes.fromhex(ex["hello_challenge"]))
    auth = CryptosignAuthenticator(
        SEED_1, channel_binding=ex["channel_binding"], router_pubkey=EX_ROUTER_PUBKEY
    )
    hello_extra = auth.authextra()
    assert hello_extra["challenge"] == ex["hello_challenge"]
    channel_ids = {"tls-unique": bytes.fromhex(ex["channel_id"])} if ex["channel_id"] else {}
    signature, _ = auth.on_challenge(dict(ex["challenge"]), channel_ids)
    channel_id = bytes.fromhex(ex["channel_id"]) if ex["channel_id"] else None
    expected_msg = xor(bytes.fromhex(ex["challenge"]["challenge"]), channel_id)
    assert verify_challenge_signature(cryptosign_pubkey(SEED_1), signature, expected_msg)
    auth.on_welcome({})  # router was authenticated


def test_router_authentication_rejects_tampered_example(monkeypatch: pytest.MonkeyPatch) -> None:
    ex = EXAMPLES["ex1"]
    fixed_token_bytes(monkeypatch, bytes.fromhex(ex["hello_challenge"]))
    auth = CryptosignAuthenticator(SEED_1, router_pubkey=EX_ROUTER_PUBKEY)
    auth.authextra()
    extra = dict(ex["challenge"])
    sig = bytearray(bytes.fromhex(extra["signature"]))
    sig[3] ^= 0x01
    extra["signature"] = sig.hex()
    with pytest.raises(AuthenticationError, match="invalid signature"):
        auth.on_challenge(extra, {})
    with pytest.raises(AuthenticationError, match="without authenticating"):
        auth.on_welcome({})


# -- router authentication with generated keys -----------------------------------------------


class Router:
    def __init__(self) -> None:
        self.key = Ed25519PrivateKey.generate()
        self.pubkey = self.key.public_key().public_bytes_raw().hex()

    def challenge(
        self, hello_extra: dict[str, Any], channel_id: bytes | None = None
    ) -> dict[str, Any]:
        msg = xor(bytes.fromhex(hello_extra["challenge"]), channel_id)
        return {
            "challenge": bytes(range(32)).hex(),
            "channel_binding": hello_extra.get("channel_binding"),
            "pubkey": self.pubkey,
            "signature": (self.key.sign(msg) + msg).hex(),
        }


def test_router_authentication_good() -> None:
    router = Router()
    auth = CryptosignAuthenticator(SEED_2, router_pubkey=bytes.fromhex(router.pubkey))
    hello = auth.authextra()
    assert re.fullmatch("[0-9a-f]{64}", hello["challenge"])
    signature, _ = auth.on_challenge(router.challenge(hello), {})
    assert HEX192.match(signature)
    auth.on_welcome({})


def test_router_authentication_with_channel_binding() -> None:
    router = Router()
    cid = bytes(range(100, 132))
    auth = CryptosignAuthenticator(
        SEED_2, channel_binding="tls-exporter", router_pubkey=router.pubkey
    )
    hello = auth.authextra()
    assert hello["channel_binding"] == "tls-exporter"
    auth.on_challenge(router.challenge(hello, cid), {"tls-exporter": cid})
    # router that signed the unbound challenge is rejected
    hello = auth.authextra()
    with pytest.raises(AuthenticationError, match="different challenge"):
        auth.on_challenge(router.challenge(hello, None), {"tls-exporter": cid})


def test_router_challenge_fresh_per_hello() -> None:
    router = Router()
    auth = CryptosignAuthenticator(SEED_2, router_pubkey=router.pubkey)
    first = auth.authextra()
    second = auth.authextra()
    assert first["challenge"] != second["challenge"]
    # a signature over the previous HELLO's challenge (replay) is refused
    with pytest.raises(AuthenticationError, match="different challenge"):
        auth.on_challenge(router.challenge(first), {})


def test_router_authentication_wrong_key() -> None:
    pinned, impostor = Router(), Router()
    auth = CryptosignAuthenticator(SEED_2, router_pubkey=pinned.pubkey)
    hello = auth.authextra()
    with pytest.raises(AuthenticationError, match="not the pinned"):
        auth.on_challenge(impostor.challenge(hello), {})
    # impostor claiming the pinned public key but signing with its own key
    extra = impostor.challenge(hello)
    extra["pubkey"] = pinned.pubkey
    with pytest.raises(AuthenticationError, match="invalid signature"):
        auth.on_challenge(extra, {})


@pytest.mark.parametrize("signature", [None, "", "ab" * 95, "zz" * 96, 42])
def test_router_authentication_missing_signature(signature: object) -> None:
    router = Router()
    auth = CryptosignAuthenticator(SEED_2, router_pubkey=router.pubkey)
    extra = router.challenge(auth.authextra())
    extra["signature"] = signature
    with pytest.raises(AuthenticationError, match="signature"):
        auth.on_challenge(extra, {})


def test_router_authentication_needs_hello_challenge() -> None:
    router = Router()
    auth = CryptosignAuthenticator(SEED_2, router_pubkey=router.pubkey)
    with pytest.raises(AuthenticationError, match="authextra"):
        auth.on_challenge({"challenge": "00" * 32}, {})


def test_no_router_authentication_ignores_router_signature() -> None:
    auth = CryptosignAuthenticator(SEED_2)
    assert "challenge" not in auth.authextra()
    extra = {"challenge": "00" * 32, "pubkey": "11" * 32, "signature": "22" * 96}
    signature, _ = auth.on_challenge(extra, {})
    assert HEX192.match(signature)
    auth.on_welcome({})


# -- channel binding -------------------------------------------------------------------------


def test_channel_binding_missing_channel_id_is_an_error() -> None:
    auth = CryptosignAuthenticator(SEED_1, channel_binding="tls-unique")
    extra = {"challenge": "ff" * 32, "channel_binding": "tls-unique"}
    with pytest.raises(AuthenticationError, match="no 'tls-unique' channel id"):
        auth.on_challenge(extra, {})
    with pytest.raises(AuthenticationError, match="no 'tls-unique' channel id"):
        auth.on_challenge(extra, {"tls-exporter": b"\x00" * 32})


def test_channel_binding_wrong_length_channel_id() -> None:
    auth = CryptosignAuthenticator(SEED_1, channel_binding="tls-unique")
    extra = {"challenge": "ff" * 32, "channel_binding": "tls-unique"}
    with pytest.raises(AuthenticationError, match="32 bytes"):
        auth.on_challenge(extra, {"tls-unique": b"\x00" * 12})


@pytest.mark.parametrize(
    ("requested", "answered"),
    [("tls-unique", None), (None, "tls-unique"), ("tls-unique", "tls-exporter")],
)
def test_channel_binding_must_match_request(requested: str | None, answered: str | None) -> None:
    auth = CryptosignAuthenticator(SEED_1, channel_binding=requested)
    extra = {"challenge": "ff" * 32, "channel_binding": answered}
    cids = {"tls-unique": b"\x01" * 32, "tls-exporter": b"\x02" * 32}
    with pytest.raises(AuthenticationError, match="channel_binding"):
        auth.on_challenge(extra, cids)


def test_unbound_ignores_channel_ids() -> None:
    auth = CryptosignAuthenticator(SEED_1)
    signature, _ = auth.on_challenge(
        {"challenge": "ff" * 32}, {"tls-unique": bytes.fromhex(CHANNEL_ID)}
    )
    assert signature == TEST_VECTORS_1[0]["signature"]


def test_channel_binding_from_authextra() -> None:
    auth = CryptosignAuthenticator(SEED_1, authextra={"channel_binding": "tls-unique"})
    assert auth.channel_binding == "tls-unique"
    assert auth.authextra() == {
        "pubkey": cryptosign_pubkey(SEED_1),
        "channel_binding": "tls-unique",
    }


# -- malformed input / configuration ---------------------------------------------------------


@pytest.mark.parametrize(
    "challenge", [None, 5, "", "ff" * 31, "ff" * 33, "gg" * 32, " f" * 32, "ff " * 21 + "f"]
)
def test_malformed_challenge(challenge: object) -> None:
    auth = CryptosignAuthenticator(SEED_1)
    with pytest.raises(AuthenticationError, match="64 hex"):
        auth.on_challenge({"challenge": challenge}, {})


@pytest.mark.parametrize("privkey", ["ab" * 31, "xy" * 32, b"\x00" * 31, b"\x00" * 64, 5, None])
def test_bad_private_key(privkey: Any) -> None:
    with pytest.raises(ConfigurationError, match="private key"):
        CryptosignAuthenticator(privkey)


def test_authextra_pubkey_must_match() -> None:
    CryptosignAuthenticator(SEED_1, authextra={"pubkey": cryptosign_pubkey(SEED_1).upper()})
    with pytest.raises(ConfigurationError, match="does not match"):
        CryptosignAuthenticator(SEED_1, authextra={"pubkey": cryptosign_pubkey(SEED_2)})


def test_bad_channel_binding_config() -> None:
    with pytest.raises(ConfigurationError, match="channel_binding must be one of"):
        CryptosignAuthenticator(SEED_1, channel_binding="tls-server-end-point")
    with pytest.raises(ConfigurationError, match="conflicts"):
        CryptosignAuthenticator(
            SEED_1, channel_binding="tls-unique", authextra={"channel_binding": "tls-exporter"}
        )
    with pytest.raises(ConfigurationError, match="router_pubkey"):
        CryptosignAuthenticator(SEED_1, authextra={"challenge": "00" * 32})
    with pytest.raises(ConfigurationError, match="router_pubkey"):
        CryptosignAuthenticator(SEED_1, router_pubkey="00" * 31)


def test_authextra_passthrough_and_copy() -> None:
    auth = CryptosignAuthenticator(
        SEED_1, authid="dev1", authrole="device", authextra={"trustroot": "0xabc"}
    )
    extra = auth.authextra()
    assert extra == {"pubkey": cryptosign_pubkey(SEED_1), "trustroot": "0xabc"}
    extra["trustroot"] = "changed"
    assert auth.authextra()["trustroot"] == "0xabc"
    assert (auth.method, auth.authid, auth.authrole) == ("cryptosign", "dev1", "device")


def test_public_key_type() -> None:
    # the pubkey we announce is the one cryptography derives
    key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(cryptosign_pubkey(SEED_3)))
    assert (
        key.public_bytes_raw()
        == Ed25519PrivateKey.from_private_bytes(bytes.fromhex(SEED_3))
        .public_key()
        .public_bytes_raw()
    )
