"""Tests for wamp_core._config._tls: SSL contexts, verified host names and channel ids.

A throwaway PKI (CA, server certificate for ``localhost``/``127.0.0.1``, client certificate)
is written to a tmp dir; handshakes run in memory (``ssl.MemoryBIO``), no sockets.
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import ssl
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

import wamp_core as wc
from wamp_core import (
    ConfigurationError,
    Endpoint,
    TcpEndpoint,
    TLSConfig,
    UnixEndpoint,
    default_is_fatal,
    parse_transports,
)

# --------------------------------------------------------------------------------- test PKI


@dataclass(frozen=True)
class PKI:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    client_bundle: Path  # certificate and key in one file
    client_key_encrypted: Path
    other_key: Path  # matches no certificate here


def _pem_key(key: ec.EllipticCurvePrivateKey, password: bytes | None = None) -> bytes:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


def _issue(
    name: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Name,
    issuer_key: ec.EllipticCurvePrivateKey,
    *,
    ca: bool = False,
    usage: x509.ObjectIdentifier | None = None,
    sans: list[x509.GeneralName] | None = None,
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    else:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    if usage is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PKI:
    d = tmp_path_factory.mktemp("pki")
    pem = serialization.Encoding.PEM
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "wamp-py tls-config test CA")])
    ca = _issue("wamp-py tls-config test CA", ca_key, ca_name, ca_key, ca=True)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = _issue(
        "localhost",
        server_key,
        ca_name,
        ca_key,
        usage=ExtendedKeyUsageOID.SERVER_AUTH,
        sans=[x509.DNSName("localhost"), x509.IPAddress(ipaddress.IPv4Address("127.0.0.1"))],
    )
    client_key = ec.generate_private_key(ec.SECP256R1())
    client = _issue("client", client_key, ca_name, ca_key, usage=ExtendedKeyUsageOID.CLIENT_AUTH)
    paths = PKI(
        ca=d / "ca.pem",
        server_cert=d / "server.crt",
        server_key=d / "server.key",
        client_cert=d / "client.crt",
        client_key=d / "client.key",
        client_bundle=d / "client-bundle.pem",
        client_key_encrypted=d / "client-locked.key",  # (no "encrypted" in the name)
        other_key=d / "other.key",
    )
    paths.ca.write_bytes(ca.public_bytes(pem))
    paths.server_cert.write_bytes(server.public_bytes(pem))
    paths.server_key.write_bytes(_pem_key(server_key))
    paths.client_cert.write_bytes(client.public_bytes(pem))
    paths.client_key.write_bytes(_pem_key(client_key))
    paths.client_bundle.write_bytes(client.public_bytes(pem) + _pem_key(client_key))
    paths.client_key_encrypted.write_bytes(_pem_key(client_key, b"s3cret-passphrase"))
    paths.other_key.write_bytes(_pem_key(ec.generate_private_key(ec.SECP256R1())))
    return paths


def server_context(pki: PKI, *, require_client_cert: bool = False) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki.server_cert, pki.server_key)
    if require_client_cert:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(cafile=str(pki.ca))
    return context


def handshake(
    client_context: ssl.SSLContext, server: ssl.SSLContext, server_hostname: str | None
) -> tuple[ssl.SSLObject, ssl.SSLObject]:
    """A TLS handshake in memory; returns (client, server) or raises the first SSL error."""
    c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
    client = client_context.wrap_bio(c_in, c_out, server_hostname=server_hostname)
    peer = server.wrap_bio(s_in, s_out, server_side=True)
    done = {"client": False, "server": False}
    for _ in range(20):
        for name, obj in (("client", client), ("server", peer)):
            if not done[name]:
                try:
                    obj.do_handshake()
                    done[name] = True
                except ssl.SSLWantReadError:
                    pass
        s_in.write(c_out.read())
        c_in.write(s_out.read())
        if all(done.values()):
            # TLS 1.3: the server checks a client certificate after the client is done.
            client.write(b"ping")
            s_in.write(c_out.read())
            assert peer.read(4) == b"ping"
            return client, peer
    raise AssertionError("handshake did not finish")


def tcp(tls: object, host: str = "localhost") -> Endpoint:
    return parse_transports(
        {"url": "ws://x/", "endpoint": {"type": "tcp", "host": host, "port": 1, "tls": tls}}
    )[0].endpoint


# --------------------------------------------------------------------------------- contexts


@pytest.mark.parametrize("value", [None, False])
def test_no_tls_gives_none(value: object) -> None:
    assert wc.ssl_context_for(value) is None  # type: ignore[arg-type]
    assert wc.ssl_context_for(TcpEndpoint(host="h", port=1)) is None
    assert wc.ssl_context_for(UnixEndpoint(path="/run/r.sock")) is None
    assert wc.ssl_context_for(parse_transports("ws://h/")[0]) is None


def test_true_is_the_verifying_system_context() -> None:
    for target in (True, tcp(True), parse_transports("wss://h/ws")[0], TLSConfig()):
        context = wc.ssl_context_for(target)
        assert isinstance(context, ssl.SSLContext)
        assert context.verify_mode == ssl.CERT_REQUIRED
        assert context.check_hostname
        assert context.minimum_version >= ssl.TLSVersion.TLSv1_2
        assert context.protocol == ssl.PROTOCOL_TLS_CLIENT
    assert wc.ssl_context_for(True) is not wc.ssl_context_for(True)  # fresh every time


def test_ssl_context_is_used_as_is() -> None:
    mine = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    mine.check_hostname = False
    mine.verify_mode = ssl.CERT_NONE
    mine.minimum_version = ssl.TLSVersion.TLSv1_3
    assert wc.ssl_context_for(mine) is mine
    assert wc.ssl_context_for(tcp(mine)) is mine
    transport = parse_transports({"url": "wss://h/", "endpoint": tcp(mine)})[0]
    assert wc.ssl_context_for(transport) is mine
    assert mine.verify_mode == ssl.CERT_NONE and not mine.check_hostname  # untouched


def test_a_server_side_ssl_context_is_refused() -> None:
    """Every connect would fail with it, and a Component would retry that for ever."""
    server_side = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    with pytest.raises(wc.ConfigurationError, match=r"server-side ssl\.SSLContext"):
        parse_transports({"url": "wss://h/", "endpoint": tcp(server_side)})
    with pytest.raises(wc.ConfigurationError, match=r"server-side ssl\.SSLContext"):
        parse_transports({"url": "wss://h/", "endpoint": {"host": "h", "port": 1,
                                                         "tls": server_side}})  # fmt: skip


def test_trust_root_verifies_the_router(pki: PKI) -> None:
    context = wc.ssl_context_for(TLSConfig(trust_root=str(pki.ca)))
    assert context is not None
    assert [c["subject"] for c in context.get_ca_certs()] == [
        ((("commonName", "wamp-py tls-config test CA"),),)
    ]  # only the trust root, not the system store
    for name in ("localhost", "127.0.0.1"):
        client, _ = handshake(context, server_context(pki), name)
        assert client.version() in ("TLSv1.2", "TLSv1.3")
        peer = client.getpeercert()
        assert peer is not None and ("DNS", "localhost") in peer["subjectAltName"]


def test_trust_root_as_path_object(pki: PKI) -> None:
    endpoint = tcp({"trust_root": pki.ca})  # a PathLike in the dict
    context = wc.ssl_context_for(endpoint)
    assert context is not None
    handshake(context, server_context(pki), wc.server_hostname_for(endpoint))


def test_wrong_hostname_fails_verification(pki: PKI) -> None:
    endpoint = tcp({"trust_root": str(pki.ca), "hostname": "wrong.example"}, host="127.0.0.1")
    context = wc.ssl_context_for(endpoint)
    assert context is not None
    with pytest.raises(ssl.SSLCertVerificationError) as info:
        handshake(context, server_context(pki), wc.server_hostname_for(endpoint))
    assert "wrong.example" in str(info.value)
    assert default_is_fatal(info.value)


def test_system_store_does_not_know_the_test_ca(pki: PKI) -> None:
    context = wc.ssl_context_for(True)
    assert context is not None
    with pytest.raises(ssl.SSLCertVerificationError) as info:
        handshake(context, server_context(pki), "localhost")
    assert default_is_fatal(info.value)


def test_tls_1_2_router_is_accepted(pki: PKI) -> None:
    """The floor is TLS 1.2 (older versions are refused by the context's minimum_version)."""
    server = server_context(pki)
    server.maximum_version = ssl.TLSVersion.TLSv1_2
    context = wc.ssl_context_for(TLSConfig(trust_root=str(pki.ca)))
    assert context is not None
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    client, _ = handshake(context, server, "localhost")
    assert client.version() == "TLSv1.2"
    finished = client.get_channel_binding("tls-unique")
    assert finished is not None and len(finished) == 12  # the TLS 1.2 Finished message
    assert wc.channel_ids(finished) == {"tls-unique": hashlib.sha256(finished).digest()}


@pytest.mark.parametrize("bundle", [False, True])
def test_client_certificate_for_mutual_tls(pki: PKI, bundle: bool) -> None:
    tls = (
        TLSConfig(trust_root=str(pki.ca), client_cert=str(pki.client_bundle))
        if bundle
        else TLSConfig(
            trust_root=str(pki.ca), client_cert=str(pki.client_cert), client_key=str(pki.client_key)
        )
    )
    context = wc.ssl_context_for(tls)
    assert context is not None
    _, server = handshake(context, server_context(pki, require_client_cert=True), "localhost")
    peer = server.getpeercert()
    assert peer is not None
    assert peer["subject"] == ((("commonName", "client"),),)


def test_mutual_tls_without_client_certificate_fails(pki: PKI) -> None:
    context = wc.ssl_context_for(TLSConfig(trust_root=str(pki.ca)))
    assert context is not None
    with pytest.raises(ssl.SSLError):
        handshake(context, server_context(pki, require_client_cert=True), "localhost")


def test_trust_root_directory_is_a_capath(tmp_path: Path) -> None:
    context = wc.ssl_context_for(TLSConfig(trust_root=str(tmp_path)))
    assert context is not None
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.get_ca_certs() == []  # a capath is read lazily, during verification


def _config_error(tls: TLSConfig) -> ConfigurationError:
    with pytest.raises(ConfigurationError) as info:
        wc.ssl_context_for(tls)
    assert default_is_fatal(info.value)  # retrying cannot fix a file
    return info.value


def test_file_errors_are_configuration_errors(pki: PKI, tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.pem")
    message = str(_config_error(TLSConfig(trust_root=missing)))
    assert "'trust_root'" in message and missing in message
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    assert "'trust_root'" in str(_config_error(TLSConfig(trust_root=str(garbage))))
    message = str(_config_error(TLSConfig(client_cert=missing)))
    assert "'client_cert'" in message and missing in message
    mismatch = TLSConfig(client_cert=str(pki.client_cert), client_key=str(pki.other_key))
    assert "'client_cert'" in str(_config_error(mismatch))
    no_key = TLSConfig(client_cert=str(pki.client_cert))  # key not in the cert file
    assert "'client_cert'" in str(_config_error(no_key))


def test_encrypted_client_key_is_refused_without_prompting(pki: PKI) -> None:
    error = _config_error(
        TLSConfig(client_cert=str(pki.client_cert), client_key=str(pki.client_key_encrypted))
    )
    assert "needs an unencrypted key" in str(error), error
    assert "s3cret" not in str(error)


@pytest.mark.parametrize("value", ["yes", 1, {"trust_root": "/ca.pem"}, b"ctx"])
def test_bad_tls_value(value: object) -> None:
    with pytest.raises(ConfigurationError, match="'tls' must be"):
        wc.ssl_context_for(value)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------- host names


def test_server_hostname() -> None:
    assert wc.server_hostname_for(tcp(True, host="router.example")) == "router.example"
    assert wc.server_hostname_for(tcp({"hostname": "cert.example"}, host="10.0.0.1")) == (
        "cert.example"
    )
    assert wc.server_hostname_for(tcp({}, host="[::1]")) == "::1"
    assert wc.server_hostname_for(tcp(ssl.create_default_context(), host="h")) == "h"
    assert wc.server_hostname_for(tcp(None)) is None
    assert wc.server_hostname_for(UnixEndpoint(path="/run/r.sock")) is None
    assert wc.server_hostname_for(parse_transports("wss://r.example:8443/ws")[0]) == "r.example"
    assert wc.server_hostname_for(parse_transports("ws://r.example/ws")[0]) is None
    # The endpoint host, not the URL host (as Autobahn); TLSConfig.hostname overrides it.
    transport = parse_transports(
        {"url": "wss://public.example/ws", "endpoint": {"host": "10.0.0.1", "port": 443}}
    )[0]
    assert wc.server_hostname_for(transport) == "10.0.0.1"
    with pytest.raises(ConfigurationError, match="Endpoint or a TransportConfig"):
        wc.server_hostname_for("wss://h/")  # type: ignore[arg-type]


# --------------------------------------------------------------------------------- channel ids


def test_channel_ids_tls_unique_is_sha256() -> None:
    ids = wc.channel_ids(b"abc")
    assert ids == {
        "tls-unique": bytes.fromhex(
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        )
    }
    finished = bytes(range(12))  # a TLS 1.2 Finished is 12 bytes
    assert wc.channel_ids(bytearray(finished)) == {"tls-unique": hashlib.sha256(finished).digest()}
    assert wc.channel_ids(memoryview(finished))["tls-unique"] == hashlib.sha256(finished).digest()
    assert type(ids["tls-unique"]) is bytes


def test_channel_ids_without_tls_is_empty() -> None:
    assert wc.channel_ids(None) == {}
    assert wc.channel_ids(None, None) == {}


def test_channel_ids_tls_exporter_is_used_as_is() -> None:
    exported = bytes(range(32))
    assert wc.channel_ids(None, exported) == {"tls-exporter": exported}
    both = wc.channel_ids(b"finished", exported)
    assert set(both) == {"tls-unique", "tls-exporter"}
    assert both["tls-exporter"] == exported


@pytest.mark.parametrize(
    ("unique", "exporter", "error", "fragment"),
    [
        (b"", None, ValueError, "tls_unique must not be empty"),
        ("abc", None, TypeError, "tls_unique must be bytes, not str"),
        (5, None, TypeError, "tls_unique must be bytes, not int"),
        (None, bytes(31), ValueError, "tls_exporter must be 32 bytes (RFC 9266), not 31"),
        (None, bytes(48), ValueError, "tls_exporter must be 32 bytes"),
        (None, b"", ValueError, "tls_exporter must not be empty"),
        (None, "x" * 32, TypeError, "tls_exporter must be bytes"),
    ],
)
def test_channel_ids_errors(
    unique: object, exporter: object, error: type[Exception], fragment: str
) -> None:
    with pytest.raises(error) as info:
        wc.channel_ids(unique, exporter)  # type: ignore[arg-type]
    assert fragment in str(info.value)


def test_channel_ids_of_a_real_handshake(pki: PKI) -> None:
    context = wc.ssl_context_for(TLSConfig(trust_root=str(pki.ca)))
    assert context is not None
    client, _ = handshake(context, server_context(pki), "localhost")
    finished = client.get_channel_binding("tls-unique")
    assert finished
    ids = wc.channel_ids(finished)
    assert ids == {"tls-unique": hashlib.sha256(finished).digest()}
    assert len(ids["tls-unique"]) == 32
    # What a cryptosign authenticator accepts as a channel id.
    authenticator = wc.auth.CryptosignAuthenticator(
        bytes(32), "alice", channel_binding="tls-unique"
    )
    authenticator.authextra()
    signature, _ = authenticator.on_challenge(
        {"challenge": "00" * 32, "channel_binding": "tls-unique"}, ids
    )
    assert signature.endswith(ids["tls-unique"].hex())  # challenge XOR id, challenge = zeros
