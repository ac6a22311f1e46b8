"""The sans-IO HTTP CONNECT tunnel: the request, and the proxy's answer fed whole, byte by
byte and with trailing data; refusals and garbage end in HandshakeError only."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, strategies as st

import wamp_core as wc
from wamp_core._framing._proxy import MAX_PROXY_RESPONSE

OK = b"HTTP/1.1 200 Connection established\r\nVia: test\r\n\r\n"


def test_request_names_the_authority_with_its_port() -> None:
    assert wc.ProxyTunnel("example.com", 443).request() == (
        b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"
    )
    request = wc.ProxyTunnel("::1", 80, {"Proxy-Authorization": "Basic eA=="}).request()
    assert request.startswith(b"CONNECT [::1]:80 HTTP/1.1\r\n")
    assert b"\r\nProxy-Authorization: Basic eA==\r\n\r\n" in request
    for bad in ({"X": "a\r\nInjected: 1"}, {"X:Y": "v"}, {"X": "\u00e9"}):
        with pytest.raises(wc.LocalProtocolError):
            wc.ProxyTunnel("h", 1, bad).request()


@pytest.mark.parametrize("trailing", [b"", b"\x81\x05hello"])
def test_answer_whole_and_byte_by_byte(trailing: bytes) -> None:
    whole = wc.ProxyTunnel("h", 1)
    assert whole.receive_data(OK + trailing) == trailing
    assert whole.status == 200
    with pytest.raises(wc.LocalProtocolError):
        whole.receive_data(b"more")
    split = wc.ProxyTunnel("h", 1)
    for i in range(len(OK) - 1):
        assert split.receive_data(OK[i : i + 1]) is None
    assert split.receive_data(OK[-1:] + trailing) == trailing


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        (b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n", 407),
        (b"HTTP/1.0 502 Bad Gateway\r\n\r\n", 502),
        (b"HTTP/1.1 101 Switching\r\n\r\n", 101),
        (b"SSH-2.0-OpenSSH\r\n\r\n", None),
        (b"HTTP/1.1 abc\r\n\r\n", None),
        (b"HTTP/1.1 2\xb200 OK\r\n\r\n", None),  # '2\u00b200': str.isdigit() says yes
        (b"HTTP/1.1 0200 OK\r\n\r\n", None),  # a status code is three digits
        (b"HTTP/1.1 20 OK\r\n\r\n", None),
    ],
)
def test_refusals_and_garbage(answer: bytes, code: int | None) -> None:
    with pytest.raises(wc.HandshakeError) as info:
        wc.ProxyTunnel("h", 1).receive_data(answer)
    assert info.value.code == code


def test_an_endless_answer_is_bounded() -> None:
    tunnel = wc.ProxyTunnel("h", 1)
    assert tunnel.receive_data(b"HTTP/1.1 200 OK\r\n") is None
    with pytest.raises(wc.HandshakeError, match="exceeds"):
        for _ in range(100):
            tunnel.receive_data(b"X-Filler: " + b"a" * 1000 + b"\r\n")


def test_an_answer_over_the_limit_in_one_read_is_refused() -> None:
    """The limit held only while the blank line was missing: one big read opened the tunnel."""
    filler = b"X-Filler: " + b"a" * MAX_PROXY_RESPONSE + b"\r\n"
    with pytest.raises(wc.HandshakeError, match="exceeds"):
        wc.ProxyTunnel("h", 1).receive_data(b"HTTP/1.1 200 OK\r\n" + filler + b"\r\n")


def test_an_internationalised_host_is_sent_as_its_a_labels() -> None:
    assert wc.ProxyTunnel("b\u00fccher.example", 443).request() == (
        b"CONNECT xn--bcher-kva.example:443 HTTP/1.1\r\nHost: xn--bcher-kva.example:443\r\n\r\n"
    )


@given(st.binary(max_size=300))
def test_arbitrary_answers_raise_only_handshake_errors(data: bytes) -> None:
    with contextlib.suppress(wc.HandshakeError):
        wc.ProxyTunnel("h", 1).receive_data(data)


@given(st.binary(min_size=1, max_size=5))
def test_arbitrary_status_codes_raise_only_handshake_errors(status: bytes) -> None:
    tunnel = wc.ProxyTunnel("h", 1)
    try:
        assert tunnel.receive_data(b"HTTP/1.1 " + status + b" Reason\r\n\r\n") == b""
    except wc.HandshakeError:
        return
    assert len(status) == 3 and status.isdigit() and status.startswith(b"2")
