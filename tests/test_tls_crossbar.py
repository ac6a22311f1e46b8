"""TLS transports and Cryptosign channel binding against the real Crossbar.io 26.10.1 (and
the channel binding against the embedded router, which checks it the same way).

The harness makes a throwaway CA and a server certificate for ``127.0.0.1``/``localhost``
per run and serves ``wss://`` (paths ``/ws`` anonymous, ``/auth`` cryptosign + scram) and
``rss://`` (anonymous, cryptosign, scram).

Facts about Crossbar.io 26.10.1 these tests pin:

* Its TLS listeners are **TLS 1.3 only** (``raiseMinimumTo=TLSv1_3`` in
  ``crossbar/common/twisted/endpoint.py``): a client capped at TLS 1.2 gets a
  ``protocol version`` alert. So "tls-unique over TLS 1.2" cannot be shown against it.
* Its cryptosign authenticator checks ``tls-unique`` bindings: it denies the HELLO when the
  transport has no TLS channel id, denies any other binding type (``tls-exporter`` too), and
  otherwise expects the client to sign ``challenge XOR channel_id`` with
  ``channel_id = SHA-256(own TLS Finished)`` (pyOpenSSL ``get_peer_finished`` on the router).
  Under TLS 1.3 Python's ``get_channel_binding("tls-unique")`` still returns the client's
  Finished message and pyOpenSSL returns the same bytes on the router, so the binding works
  in practice, although RFC 8446/9266 leave ``tls-unique`` undefined for TLS 1.3.

``tls-exporter`` (RFC 9266) would need the TLS exporter value
``TLS-Exporter("EXPORTER-Channel-Binding", "", 32)``; Python's :mod:`ssl` cannot export
keying material (a driver would need pyOpenSSL's ``Connection.export_keying_material`` or a
future ``ssl`` API), and Crossbar 26.10.1 refuses the binding type anyway. Only the refusals
are tested: Crossbar's at HELLO, and the client's own when no exporter value is given.
"""

from __future__ import annotations

import secrets
import ssl
from collections.abc import Iterator
from typing import Any

import pytest

import wamp_core as wc
from crossbar import CRYPTOSIGN_AUTHID, CRYPTOSIGN_SEED, CrossbarRouter
from embedded import EmbeddedRouter
from wamp_client import BlockingClient, pump
from wamp_core import auth, events as ev

PAYLOAD = ["über", 1, {"k": [True, None]}]


def _echo(client: BlockingClient, event: Any) -> None:
    if isinstance(event, ev.InvocationReceived):
        client.session.yield_result(event.request_id, event.args, event.kwargs)


def _tls_url(crossbar: CrossbarRouter, kind: str) -> str:
    return crossbar.wss_url if kind == "wss" else crossbar.rss_url


def _cryptosign(binding: str | None = "tls-unique") -> auth.CryptosignAuthenticator:
    return auth.CryptosignAuthenticator(CRYPTOSIGN_SEED, CRYPTOSIGN_AUTHID, channel_binding=binding)


def _aborted(client: BlockingClient) -> ev.Aborted:
    outcome = client.join()
    assert isinstance(outcome, ev.Aborted), outcome
    assert not any(isinstance(e, ev.Joined) for e in client.events)
    return outcome


# -- TLS transports --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["wss", "rss"])
def test_join_call_publish_over_tls(crossbar: CrossbarRouter, kind: str) -> None:
    """A call and an event travel through the router over TLS (CA trusted, hostname checked).

    Client ``a`` uses the core's context (``ssl_context_for`` of a ``TLSConfig`` trusting the
    test CA), client ``b`` one made by hand.
    """
    context = wc.ssl_context_for(wc.TLSConfig(trust_root=str(crossbar.ca_path)))
    assert context is not None
    assert context.check_hostname and context.verify_mode == ssl.CERT_REQUIRED
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2
    with (
        BlockingClient(_tls_url(crossbar, kind), ssl_context=context) as a,
        BlockingClient(_tls_url(crossbar, kind), ssl_context=crossbar.ssl_context()) as b,
    ):
        for client in (a, b):
            assert isinstance(client.sock, ssl.SSLSocket)
            assert client.sock.version() == "TLSv1.3"
            peer = client.sock.getpeercert()
            assert peer is not None
            sans = peer["subjectAltName"]
            assert ("IP Address", "127.0.0.1") in sans
            assert isinstance(client.join(), ev.Joined)
        b.handlers.append(_echo)
        assert isinstance(b.request(b.session.register("com.tls.echo")), ev.Registered)
        assert isinstance(a.request(a.session.subscribe("com.tls.topic")), ev.Subscribed)

        rid = a.session.call("com.tls.echo", PAYLOAD, {"x": "ÿ"})
        pump(a, b, until=lambda: any(
            isinstance(e, ev.CallSucceeded | ev.RequestFailed) for e in a.events))  # fmt: skip
        result = a.request(rid)
        assert isinstance(result, ev.CallSucceeded), result
        assert result.result.args == PAYLOAD
        assert result.result.kwargs == {"x": "ÿ"}

        published = b.request(
            b.session.publish("com.tls.topic", ["hi"], options=wc.PublishOptions(acknowledge=True))
        )
        assert isinstance(published, ev.Published)
        pump(a, b, until=lambda: any(isinstance(e, ev.EventDelivered) for e in a.events))
        event = a.wait_type(ev.EventDelivered)
        assert event.args == ["hi"]
        assert event.details.topic == "com.tls.topic"


def test_tls_settings_from_transport_config(crossbar: CrossbarRouter) -> None:
    """``tls: {hostname, trust_root}`` in a transport dict: ``localhost`` matches the cert."""
    assert crossbar.ca_path is not None
    transport = {
        "type": "rawsocket",
        "url": crossbar.rss_url,
        "endpoint": {
            "type": "tcp",
            "host": "127.0.0.1",
            "port": crossbar.rss_port,
            "tls": {"hostname": "localhost", "trust_root": str(crossbar.ca_path)},
        },
    }
    with BlockingClient(transport) as client:
        assert isinstance(client.join(), ev.Joined)


def test_hostname_mismatch_is_a_verification_error(crossbar: CrossbarRouter) -> None:
    assert crossbar.ca_path is not None
    transport = {
        "type": "websocket",
        "url": crossbar.wss_url,
        "endpoint": {
            "type": "tcp",
            "host": "127.0.0.1",
            "port": crossbar.wss_port,
            "tls": {"hostname": "wrong.example", "trust_root": str(crossbar.ca_path)},
        },
    }
    with pytest.raises(ssl.SSLCertVerificationError) as info:
        BlockingClient(transport)
    assert "wrong.example" in str(info.value)
    assert wc.default_is_fatal(info.value)


@pytest.mark.parametrize("kind", ["wss", "rss"])
def test_untrusted_ca_fails_verification(crossbar: CrossbarRouter, kind: str) -> None:
    """``tls: True`` (the core's default context: the system trust store) does not know the
    test CA: a fatal verification error."""
    with pytest.raises(ssl.SSLCertVerificationError) as info:
        BlockingClient(_tls_url(crossbar, kind))
    assert info.value.verify_code in (19, 20)  # self-signed in chain / unknown issuer
    assert wc.default_is_fatal(info.value)
    # Wrapped by a driver, the cause still counts.
    wrapped = wc.TransportError("connect failed")
    wrapped.__cause__ = info.value
    assert wc.default_is_fatal(wrapped)


def test_crossbar_refuses_tls_1_2(crossbar: CrossbarRouter) -> None:
    """Crossbar 26.10.1 listens with TLS 1.3 only: a TLS 1.2 client is refused."""
    context = crossbar.ssl_context(maximum_version=ssl.TLSVersion.TLSv1_2)
    with pytest.raises(ssl.SSLError) as info:
        BlockingClient(crossbar.rss_url, ssl_context=context)
    assert not isinstance(info.value, ssl.SSLCertVerificationError)
    assert "PROTOCOL_VERSION" in str(info.value).upper()


# -- Cryptosign channel binding ----------------------------------------------------------------


@pytest.mark.parametrize("url_attr", ["wss_auth_url", "rss_url"])
def test_cryptosign_tls_unique_binding_joins(crossbar: CrossbarRouter, url_attr: str) -> None:
    authenticator = _cryptosign()
    with BlockingClient(
        getattr(crossbar, url_attr),
        authenticators=[authenticator],
        ssl_context=crossbar.ssl_context(),
    ) as client:
        assert isinstance(client.sock, ssl.SSLSocket)
        finished = client.sock.get_channel_binding("tls-unique")
        assert finished
        channel_id = client.session.channel_ids["tls-unique"]
        assert channel_id == wc.channel_ids(finished)["tls-unique"]
        assert len(channel_id) == 32
        joined = client.join()
        assert isinstance(joined, ev.Joined), joined
        assert joined.details.authmethod == "cryptosign"
        assert joined.details.authid == CRYPTOSIGN_AUTHID
        assert joined.details.authrole == "user"
        rid = client.session.call("wamp.session.count")
        assert isinstance(client.request(rid), ev.CallSucceeded)


def test_cryptosign_wrong_channel_id_is_refused(crossbar: CrossbarRouter) -> None:
    """Crossbar checks the binding: a signature over another channel id is denied."""
    wrong = {"tls-unique": secrets.token_bytes(32)}
    with BlockingClient(
        crossbar.wss_auth_url,
        authenticators=[_cryptosign()],
        ssl_context=crossbar.ssl_context(),
        channel_ids=wrong,
    ) as client:
        assert client.session.channel_ids == wrong
        aborted = _aborted(client)
        assert not aborted.details.local  # the router refused the AUTHENTICATE
        assert aborted.details.reason == "wamp.error.not_authorized"
        assert "bogus" in (aborted.details.message or "")
        assert any(isinstance(e, ev.ChallengeAnswered) for e in client.events)


def test_cryptosign_without_binding_over_tls_joins(crossbar: CrossbarRouter) -> None:
    """Control: without a requested binding Crossbar expects the bare challenge."""
    with BlockingClient(
        crossbar.rss_url, authenticators=[_cryptosign(None)], ssl_context=crossbar.ssl_context()
    ) as client:
        assert isinstance(client.join(), ev.Joined)


def test_tls_unique_without_channel_id_aborts_locally(crossbar: CrossbarRouter) -> None:
    """The driver gives no channel id: the client refuses to sign (never a zero id)."""
    with BlockingClient(
        crossbar.wss_auth_url,
        authenticators=[_cryptosign()],
        ssl_context=crossbar.ssl_context(),
        channel_ids={},
    ) as client:
        aborted = _aborted(client)
        assert aborted.details.local
        assert aborted.details.reason == "wamp.error.cannot_authenticate"
        assert "tls-unique" in (aborted.details.message or "")
        assert not any(isinstance(e, ev.ChallengeAnswered) for e in client.events)


def test_tls_unique_over_plain_tcp_is_refused(crossbar: CrossbarRouter) -> None:
    """Without TLS the router denies the HELLO itself: nothing is signed."""
    with BlockingClient(crossbar.ws_auth_url, authenticators=[_cryptosign()]) as client:
        assert client.session.channel_ids == {}
        aborted = _aborted(client)
        assert not aborted.details.local
        assert "no TLS channel ID" in (aborted.details.message or "")
        assert not any(isinstance(e, ev.ChallengeAnswered) for e in client.events)


def test_tls_exporter_is_refused(crossbar: CrossbarRouter) -> None:
    """Crossbar 26.10.1 refuses ``tls-exporter`` at HELLO; the client refuses without a value."""
    with BlockingClient(
        crossbar.wss_auth_url,
        authenticators=[_cryptosign("tls-exporter")],
        ssl_context=crossbar.ssl_context(),
    ) as client:
        assert "tls-exporter" not in client.session.channel_ids
        aborted = _aborted(client)
        assert not aborted.details.local
        assert 'invalid channel binding type "tls-exporter"' in (aborted.details.message or "")
    # The client side alone: a CHALLENGE for tls-exporter with only a tls-unique id at hand.
    authenticator = _cryptosign("tls-exporter")
    authenticator.authextra()
    challenge = {"challenge": "ab" * 32, "channel_binding": "tls-exporter"}
    with pytest.raises(wc.AuthenticationError, match="tls-exporter"):
        authenticator.on_challenge(challenge, {"tls-unique": bytes(32)})


# -- the embedded router's side of the binding ----------------------------------------------


@pytest.fixture(scope="module")
def embedded() -> Iterator[EmbeddedRouter]:
    with EmbeddedRouter() as router:
        yield router


@pytest.mark.parametrize("url_attr", ["wss_url", "rss_url"])
def test_the_embedded_router_checks_the_tls_unique_binding(
    embedded: EmbeddedRouter, url_attr: str
) -> None:
    url = getattr(embedded, url_attr)
    with BlockingClient(url, authenticators=[_cryptosign()],
                        ssl_context=embedded.ssl_context()) as client:  # fmt: skip
        assert client.session.channel_ids["tls-unique"]
        joined = client.join()
        assert isinstance(joined, ev.Joined), joined
        assert joined.details.authmethod == "cryptosign"
        assert joined.details.authid == CRYPTOSIGN_AUTHID
    # a signature bound to another channel (a relayed one) does not verify
    wrong = {"tls-unique": secrets.token_bytes(32)}
    with BlockingClient(url, authenticators=[_cryptosign()], ssl_context=embedded.ssl_context(),
                        channel_ids=wrong) as client:  # fmt: skip
        aborted = _aborted(client)
        assert not aborted.details.local
        assert aborted.details.reason == "wamp.error.authentication_failed"
    with BlockingClient(url, authenticators=[_cryptosign(None)],
                        ssl_context=embedded.ssl_context()) as client:  # fmt: skip
        assert isinstance(client.join(), ev.Joined)  # no binding asked: the bare challenge


def test_the_embedded_router_refuses_a_binding_without_tls(embedded: EmbeddedRouter) -> None:
    fake = {"tls-unique": secrets.token_bytes(32)}  # the client believes it has a channel
    with BlockingClient(embedded.rs_url, authenticators=[_cryptosign()],
                        channel_ids=fake) as client:  # fmt: skip
        aborted = _aborted(client)
        assert aborted.details.reason == "wamp.error.authentication_failed"
        assert "not available" in (aborted.details.message or "")
