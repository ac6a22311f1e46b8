"""Tests for wamp_core._config._transports (Autobahn-style ``transports=`` parsing).

The documented Autobahn ``Component`` page is the contract: its keys, forms and defaults.
"""

from __future__ import annotations

import dataclasses
import pathlib
import random
import ssl
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

import wamp_core as wc
from wamp_core import (
    ConfigurationError,
    Proxy,
    TcpEndpoint,
    TLSConfig,
    TransportConfig,
    UnixEndpoint,
    parse_transports,
)


def one(value: Any) -> TransportConfig:
    configs = parse_transports(value)
    assert len(configs) == 1
    return configs[0]


def error(value: Any) -> str:
    with pytest.raises(ConfigurationError) as info:
        parse_transports(value)
    return str(info.value)


# ---------------------------------------------------------------------------------- defaults


def test_none_is_autobahn_default() -> None:
    """Autobahn's default URL; the retry defaults of the documented ``Component`` page."""
    config = one(None)
    assert config.type == "websocket"
    assert config.url == "ws://127.0.0.1:8080/ws"
    assert config.endpoint == TcpEndpoint(host="127.0.0.1", port=8080)
    assert config.endpoint.timeout == 10.0
    assert config.endpoint.tls is None
    assert config.endpoint.version is None
    assert config.serializers == ("cbor", "msgpack", "json")
    assert config.max_retries == -1
    assert config.initial_retry_delay == 1.0
    assert config.max_retry_delay == 60.0
    assert config.retry_delay_growth == 1.5
    assert config.retry_delay_jitter == 0.1
    assert config.retry_delay_noise == random.random
    assert dict(config.options) == {}
    assert dict(config.headers) == {}
    assert config.proxy is None
    assert config.is_secure is False
    assert config.host_header == "127.0.0.1:8080"
    assert config.resource == "/ws"


def test_url_string_dict_and_list() -> None:
    assert (
        one("ws://h:1/x")
        == one({"url": "ws://h:1/x"})
        == one({"type": "websocket", "url": "ws://h:1/x"})
    )
    configs = parse_transports(["ws://a:1/", {"url": "rs://b:2"}, ("ws://c:3/")])
    assert [(c.type, tcp_of(c).host, tcp_of(c).port) for c in configs] == [
        ("websocket", "a", 1),
        ("rawsocket", "b", 2),
        ("websocket", "c", 3),
    ]
    assert len(parse_transports(("ws://a:1/", "ws://b:1/"))) == 2


def test_rawsocket_url_infers_type_and_defaults() -> None:
    config = one("rs://router:9000")
    assert config.type == "rawsocket"
    assert config.serializers == ("cbor",)
    assert config.endpoint == TcpEndpoint(host="router", port=9000)
    assert not config.is_secure


def test_transport_config_instances_pass_through() -> None:
    config = one("ws://h:1/")
    assert parse_transports(config)[0] is config
    assert parse_transports([config, "ws://x:2/"])[0] is config


def test_empty_list_is_an_error() -> None:
    assert "must not be empty" in error([])
    assert "must not be empty" in error(())


@pytest.mark.parametrize("value", [42, b"ws://h/", 1.5, {"url"}])
def test_bad_top_level_type(value: Any) -> None:
    assert "'transports' must be" in error(value)


def test_bad_item_type_names_index() -> None:
    assert error(["ws://h/", 42]).startswith("transport 1: a transport must be a URL str or a dict")


def test_none_values_mean_absent() -> None:
    config = one(
        {
            "url": "ws://h:1/",
            "type": None,
            "endpoint": None,
            "proxy": None,
            "headers": None,
            "options": None,
            "serializers": None,
            "max_retries": None,
        }
    )
    assert config == one("ws://h:1/")


def test_frozen() -> None:
    config = one(None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.url = "ws://other/"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        tcp_of(config).port = 1  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.options["max_message_size"] = 1  # type: ignore[index]


def test_hashable() -> None:
    a = one({"url": "ws://h:1/", "headers": {"X-A": "1"}, "options": {"max_message_size": 5}})
    b = one({"url": "ws://h:1/", "headers": {"X-A": "1"}, "options": {"max_message_size": 5}})
    assert a == b and hash(a) == hash(b)
    assert len({a, b}) == 1


# ---------------------------------------------------------------------------------- URLs


def test_ws_default_port_and_path() -> None:
    config = one("ws://example.com")
    assert config.endpoint == TcpEndpoint(host="example.com", port=80)
    assert config.resource == "/"
    assert config.host_header == "example.com"


def test_wss_means_tls_port_443() -> None:
    config = one("wss://example.com/ws")
    assert config.endpoint == TcpEndpoint(host="example.com", port=443, tls=True)
    assert config.is_secure


def test_resource_keeps_query_and_host_header_keeps_port() -> None:
    config = one("ws://[::1]:9000/path/ws?token=abc&x=1")
    assert tcp_of(config).host == "::1"
    assert tcp_of(config).port == 9000
    assert config.host_header == "[::1]:9000"
    assert config.resource == "/path/ws?token=abc&x=1"


def test_scheme_case_insensitive() -> None:
    assert one("WSS://h/").is_secure


def test_rss_means_tls() -> None:
    # Autobahn drops the TLS flag of rss:// URLs and connects in plaintext.
    config = one("rss://router.example:8443")
    assert config.type == "rawsocket"
    assert config.endpoint == TcpEndpoint(host="router.example", port=8443, tls=True)
    assert config.is_secure


def test_rawsocket_default_ports() -> None:
    assert tcp_of(one("rs://h")).port == 80
    assert tcp_of(one("rss://h")).port == 443


@pytest.mark.parametrize("url", ["rs://unix:/tmp/router.sock", "rs://unix/tmp/router.sock"])
def test_unix_url(url: str) -> None:
    config = one(url)
    assert config.type == "rawsocket"
    assert config.endpoint == UnixEndpoint(path="/tmp/router.sock")
    assert isinstance(config.endpoint, UnixEndpoint)
    assert not hasattr(config.endpoint, "host")
    assert not config.is_secure


def test_rawsocket_host_header_is_an_error() -> None:
    config = one("rs://h:1")
    with pytest.raises(ConfigurationError):
        _ = config.host_header
    with pytest.raises(ConfigurationError):
        _ = config.resource


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ({"type": "rawsocket", "url": "ws://h:1/"}, "rs:// or rss:// URL"),
        ({"type": "websocket", "url": "rs://h:1"}, "ws:// or wss:// URL"),
        ("http://h/", "ws:// or wss:// URL"),
        ("h:8080", "ws:// or wss:// URL"),
        ("ws://h/ws#frag", "fragment"),
        ("ws://user:pw@h/ws", "user info"),
        ("rs://h:1?x=1", "query"),
        ("rs://h:1/path", "must not have a path"),
        ("rs://h:1/ws", "must not have a path"),  # (a ws:// URL's path: not dropped unseen)
        ("ws:///ws", "no host"),
        ("ws://h:99999/", "invalid URL"),
        ("ws://h:0/", "invalid port 0"),
        ("ws://h:abc/", "invalid URL"),
        ("rss://unix:/tmp/x.sock", "unix socket does not support"),
        ("rs://unix:", "needs a path"),
        ("rs://unix:1234", "needs a path"),
        ({"url": 5}, "'url' must be a non-empty str"),
        ({"url": ""}, "'url' must be a non-empty str"),
        ({"type": "websocket"}, "needs a 'url'"),
        (
            {"type": "websocket", "endpoint": {"type": "tcp", "host": "h", "port": 1}},
            "needs a 'url'",
        ),
        ({"type": "rawsocket"}, "needs a 'url' or an 'endpoint'"),
        ({"type": "udp", "url": "ws://h/"}, "'type' must be 'websocket' or 'rawsocket'"),
        # refused when the component is built, not at the first connect (percent-encode)
        ("ws://h/ws?token=\u00e9", "must be ASCII without spaces"),
        ("ws://h/my path", "must be ASCII without spaces"),
        ("ws://h/ws?a=\x7f", "must be ASCII without spaces"),
    ],
)
def test_url_errors(value: Any, fragment: str) -> None:
    message = error(value)
    assert message.startswith("transport 0: ")
    assert fragment in message


def test_percent_encoded_paths_and_unix_paths_with_spaces_are_fine() -> None:
    assert one("ws://h/my%20path?t=%C3%A9").resource == "/my%20path?t=%C3%A9"
    assert one("rs://unix:/tmp/a b.sock").endpoint == UnixEndpoint(path="/tmp/a b.sock")


def test_rawsocket_with_endpoint_only() -> None:
    config = one({"type": "rawsocket", "endpoint": {"type": "tcp", "host": "h", "port": 8081}})
    assert config.url is None
    assert config.endpoint == TcpEndpoint(host="h", port=8081)
    assert config.describe() == "tcp:h:8081"


# ---------------------------------------------------------------------------------- endpoints


def test_explicit_endpoint_wins_over_url() -> None:
    config = one(
        {
            "url": "ws://public.example/ws",
            "endpoint": {"type": "tcp", "host": "10.0.0.1", "port": 8080},
        }
    )
    assert config.endpoint == TcpEndpoint(host="10.0.0.1", port=8080)
    assert config.host_header == "public.example"  # Host header still comes from the URL


def test_ws_url_with_explicit_tls_endpoint_is_allowed() -> None:
    config = one(
        {"url": "ws://h/ws", "endpoint": {"type": "tcp", "host": "h", "port": 443, "tls": True}}
    )
    assert config.endpoint.tls is True
    assert config.is_secure


@pytest.mark.parametrize("url", ["wss://h/ws", "rss://h:1"])
def test_secure_url_endpoint_without_tls_inherits_tls(url: str) -> None:
    config = one({"url": url, "endpoint": {"type": "tcp", "host": "h", "port": 9000}})
    assert config.endpoint.tls is True


@pytest.mark.parametrize("url", ["wss://h/ws", "rss://h:1"])
def test_secure_url_with_tls_false_is_an_error(url: str) -> None:
    message = error({"url": url, "endpoint": {"type": "tcp", "host": "h", "port": 1, "tls": False}})
    assert "means TLS" in message and "tls=False" in message


def test_secure_url_with_unix_endpoint_is_an_error() -> None:
    assert "unix endpoint does not support" in error(
        {"url": "wss://h/ws", "endpoint": {"type": "unix", "path": "/tmp/s"}}
    )


def test_websocket_over_unix_endpoint() -> None:
    config = one({"url": "ws://localhost/ws", "endpoint": {"type": "unix", "path": "/run/r.sock"}})
    assert config.endpoint == UnixEndpoint(path="/run/r.sock")
    assert config.resource == "/ws"


def test_endpoint_type_inferred() -> None:
    assert one({"url": "ws://h/", "endpoint": {"path": "/s"}}).endpoint.type == "unix"
    assert one({"url": "ws://h/", "endpoint": {"host": "a", "port": 2}}).endpoint.type == "tcp"


def test_endpoint_tls_false_is_none_and_unix_accepts_tls_false() -> None:
    assert (
        one(
            {"url": "ws://h/", "endpoint": {"type": "tcp", "host": "a", "port": 2, "tls": False}}
        ).endpoint.tls
        is None
    )
    assert (
        one(
            {"url": "ws://h/", "endpoint": {"type": "unix", "path": "/s", "tls": False}}
        ).endpoint.tls
        is None
    )


@pytest.mark.parametrize("timeout", [2.5, 3, 0.001, 600])
def test_endpoint_timeout_int_or_float(timeout: float) -> None:
    endpoint = one(
        {"url": "ws://h/", "endpoint": {"type": "tcp", "host": "h", "port": 1, "timeout": timeout}}
    ).endpoint
    assert endpoint.timeout == timeout
    assert type(endpoint.timeout) is float


@pytest.mark.parametrize("version", [4, 6])
def test_endpoint_version(version: int) -> None:
    endpoint = tcp_of(
        one(
            {
                "url": "ws://h/",
                "endpoint": {"type": "tcp", "host": "h", "port": 1, "version": version},
            }
        )
    )
    assert endpoint.version == version


def _tcp(**extra: Any) -> dict[str, Any]:
    return {"url": "ws://h/", "endpoint": {"type": "tcp", "host": "h", "port": 1, **extra}}


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (
            _tcp(protocol="x"),
            "unknown key 'protocol' in endpoint; "
            "allowed keys: host, name, path, port, timeout, tls, type, version",
        ),
        ({"url": "ws://h/", "endpoint": "tcp:h:80"}, "'endpoint' must be a dict, not str"),
        (
            {"url": "ws://h/", "endpoint": {"type": "udp", "host": "h", "port": 1}},
            "'type' must be 'tcp', 'unix' or 'memory'",
        ),
        ({"url": "ws://h/", "endpoint": {"type": "tcp", "port": 1}}, "requires 'host'"),
        ({"url": "ws://h/", "endpoint": {"type": "tcp", "host": "h"}}, "requires 'port'"),
        (_tcp(path="/x"), "'path' is not valid for a tcp endpoint"),
        ({"url": "ws://h/", "endpoint": {"type": "unix"}}, "requires 'path'"),
        (
            {"url": "ws://h/", "endpoint": {"type": "unix", "path": "/s", "host": "h"}},
            "'host' is not valid for a unix",
        ),
        (
            {"url": "ws://h/", "endpoint": {"type": "unix", "path": "/s", "port": 1}},
            "'port' is not valid for a unix",
        ),
        (
            {"url": "ws://h/", "endpoint": {"type": "unix", "path": "/s", "tls": True}},
            "'tls' is not valid for a unix",
        ),
        (
            {"url": "ws://h/", "endpoint": {"type": "unix", "path": "/s", "version": 4}},
            "'version' is not valid for a unix",
        ),
        (
            {"url": "ws://h/", "endpoint": {"type": "unix", "path": ""}},
            "'path' must be a non-empty",
        ),
        ({"url": "ws://h/", "endpoint": {"type": "unix", "path": 5}}, "'path' must be a non-empty"),
        (_tcp(port="80"), "'port' must be an int in 1..65535"),
        (_tcp(port=True), "'port' must be an int in 1..65535"),
        (_tcp(port=0), "'port' must be an int in 1..65535"),
        (_tcp(port=65536), "'port' must be an int in 1..65535"),
        (_tcp(port=80.0), "'port' must be an int in 1..65535"),
        (_tcp(host=""), "'host' must be a non-empty str"),
        (_tcp(host=5), "'host' must be a non-empty str"),
        (_tcp(host="a b"), "not a valid host"),
        (_tcp(timeout=0), "'timeout' must be > 0"),
        (_tcp(timeout=-1), "'timeout' must be > 0"),
        (_tcp(timeout="5"), "'timeout' must be a number"),
        (_tcp(timeout=True), "'timeout' must be a number"),
        (_tcp(timeout=float("nan")), "'timeout' must be finite"),
        (_tcp(timeout=float("inf")), "'timeout' must be finite"),
        (_tcp(version=5), "'version' must be 4 or 6"),
        (_tcp(version="4"), "'version' must be 4 or 6"),
        (_tcp(version=True), "'version' must be 4 or 6"),
        (
            {
                "url": "ws://h/",
                "endpoint": {"type": "tcp", "host": "127.0.0.1", "port": 1, "version": 6},
            },
            "not an IPv6 address",
        ),
        (
            {"url": "ws://h/", "endpoint": {"type": "tcp", "host": "::1", "port": 1, "version": 4}},
            "not an IPv4 address",
        ),
        (_tcp(tls="yes"), "'tls' must be a bool, a dict, a TLSConfig or an ssl.SSLContext"),
        (
            _tcp(tls={"ca": "x"}),
            "unknown key 'ca' in tls; allowed keys: client_cert, client_key, hostname, trust_root",
        ),
        (_tcp(tls={"client_key": "k.pem"}), "'client_key' needs 'client_cert'"),
        (_tcp(tls={"trust_root": 5}), "tls 'trust_root' must be a non-empty str or path"),
        (_tcp(tls={"hostname": ""}), "tls 'hostname' must be a non-empty str"),
    ],
)
def test_endpoint_errors(value: dict[str, Any], fragment: str) -> None:
    # Put the broken transport second: the message must name index 1.
    message = error(["ws://ok/", value])
    assert message.startswith("transport 1: ")
    assert fragment in message


def test_ipv6_endpoint_host_brackets_stripped() -> None:
    endpoint = tcp_of(one(_tcp(host="[::1]", version=6)))
    assert endpoint.host == "::1"
    assert endpoint.describe() == "tcp:[::1]:1"


def test_tls_dict_becomes_tls_config(tmp_path: pathlib.Path) -> None:
    cert = tmp_path / "client.pem"
    endpoint = one(
        _tcp(
            tls={
                "hostname": "router.example",
                "trust_root": "/etc/ca.pem",
                "client_cert": cert,
                "client_key": str(cert),
            }
        )
    ).endpoint
    assert endpoint.tls == TLSConfig(
        hostname="router.example",
        trust_root="/etc/ca.pem",
        client_cert=str(cert),
        client_key=str(cert),
    )
    assert endpoint.is_secure


def test_tls_config_and_ssl_context_pass_through() -> None:
    context = ssl.create_default_context()
    assert one(_tcp(tls=context)).endpoint.tls is context
    tls = TLSConfig(trust_root="/ca.pem")
    assert one(_tcp(tls=tls)).endpoint.tls is tls
    assert one(_tcp(tls={})).endpoint.tls == TLSConfig()


def test_endpoint_instance_accepted() -> None:
    endpoint = TcpEndpoint(host="h", port=5, timeout=1.5)
    assert one({"url": "ws://h/", "endpoint": endpoint}).endpoint is endpoint


def test_endpoint_instance_with_secure_url_must_have_tls() -> None:
    message = error({"url": "wss://h/", "endpoint": TcpEndpoint(host="h", port=5)})
    assert "means TLS" in message


def test_dataclasses_validate_on_construction() -> None:
    with pytest.raises(ConfigurationError, match="'port'"):
        TcpEndpoint(host="h", port=0)
    with pytest.raises(ConfigurationError, match="'port'"):
        Proxy("h", 70000)
    with pytest.raises(ConfigurationError, match="client_cert"):
        TLSConfig(client_key="k.pem")
    with pytest.raises(ConfigurationError, match="serializer"):
        TransportConfig(
            type="rawsocket",
            url=None,
            endpoint=TcpEndpoint(host="h", port=1),
            serializers=("json.batched",),
        )


# ---------------------------------------------------------------------------------- serializers


def test_serializer_and_serializers_accepted_on_both_types() -> None:
    assert one({"url": "ws://h/", "serializer": "json"}).serializers == ("json",)
    assert one({"url": "ws://h/", "serializers": ["json", "msgpack"]}).serializers == (
        "json",
        "msgpack",
    )
    assert one({"url": "rs://h:1", "serializer": "msgpack"}).serializers == ("msgpack",)
    assert one({"url": "rs://h:1", "serializers": ["json"]}).serializers == ("json",)
    assert one({"url": "rs://h:1", "serializers": ("ubjson",)}).serializers == ("ubjson",)


@pytest.mark.parametrize(
    "name", ["json.batched", "msgpack.batched", "cbor.batched", "ubjson.batched"]
)
def test_batched_serializers_allowed_on_websocket(name: str) -> None:
    assert one({"url": "ws://h/", "serializers": [name, "json"]}).serializers == (name, "json")


@pytest.mark.parametrize("name", ["json", "msgpack", "cbor", "ubjson", "flatbuffers"])
def test_all_base_serializers(name: str) -> None:
    assert one({"url": "ws://h/", "serializer": name}).serializers == (name,)
    assert one({"url": "rs://h:1", "serializer": name}).serializers == (name,)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (
            {"url": "ws://h/", "serializer": "json", "serializers": ["json"]},
            "either 'serializer' or 'serializers'",
        ),
        (
            {"url": "rs://h:1", "serializer": "json.batched"},
            "unknown serializer 'json.batched' (batched serializers are websocket only)",
        ),
        (
            {"url": "ws://h/", "serializers": ["flatbuffers.batched"]},
            "unknown serializer 'flatbuffers.batched'",
        ),
        (
            {"url": "ws://h/", "serializers": ["xml"]},
            "unknown serializer 'xml'; allowed for websocket: json, msgpack",
        ),
        ({"url": "ws://h/", "serializers": ["JSON"]}, "unknown serializer 'JSON'"),
        ({"url": "ws://h/", "serializers": "json"}, "'serializers' must be a list of str"),
        ({"url": "ws://h/", "serializers": [1]}, "serializer names must be str"),
        ({"url": "ws://h/", "serializers": []}, "must not be empty"),
        ({"url": "ws://h/", "serializers": ["json", "json"]}, "duplicate serializer"),
        ({"url": "ws://h/", "serializer": ["json"]}, "'serializer' must be a str"),
        ({"url": "rs://h:1", "serializers": ["json", "cbor"]}, "exactly one serializer"),
    ],
)
def test_serializer_errors(value: dict[str, Any], fragment: str) -> None:
    message = error(value)
    assert message.startswith("transport 0: ")
    assert fragment in message


# ---------------------------------------------------------------------------------- retry settings


def test_retry_settings() -> None:
    config = one(
        {
            "url": "ws://h/",
            "max_retries": 3,
            "initial_retry_delay": 2,
            "max_retry_delay": 60,
            "retry_delay_growth": 2,
            "retry_delay_jitter": 0,
        }
    )
    assert (config.max_retries, config.initial_retry_delay, config.max_retry_delay) == (
        3,
        2.0,
        60.0,
    )
    assert (config.retry_delay_growth, config.retry_delay_jitter) == (2.0, 0.0)
    assert type(config.initial_retry_delay) is float
    limits = one(
        {
            "url": "ws://h/",
            "max_retries": 0,
            "initial_retry_delay": 0,
            "retry_delay_growth": 1,
            "retry_delay_jitter": 1,
        }
    )
    assert (
        limits.max_retries,
        limits.initial_retry_delay,
        limits.retry_delay_growth,
        limits.retry_delay_jitter,
    ) == (0, 0.0, 1.0, 1.0)
    assert one({"url": "ws://h/", "max_retries": -1}).max_retries == -1


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        ("max_retries", -2, "'max_retries' must be >= -1"),
        ("max_retries", 1.0, "'max_retries' must be an int"),
        ("max_retries", True, "'max_retries' must be an int"),
        ("max_retries", "3", "'max_retries' must be an int"),
        ("initial_retry_delay", -0.1, "'initial_retry_delay' must be >= 0"),
        ("initial_retry_delay", "1", "'initial_retry_delay' must be a number"),
        ("max_retry_delay", -1, "'max_retry_delay' must be >= 0"),
        ("max_retry_delay", float("inf"), "'max_retry_delay' must be finite"),
        ("max_retry_delay", False, "'max_retry_delay' must be a number"),
        ("retry_delay_growth", 0.5, "'retry_delay_growth' must be >= 1"),
        ("retry_delay_growth", float("nan"), "'retry_delay_growth' must be finite"),
        ("retry_delay_jitter", -0.1, "'retry_delay_jitter' must be >= 0"),
        ("retry_delay_jitter", 1.5, "'retry_delay_jitter' must be <= 1"),
        (
            "retry_delay_jitter",
            "0.1",
            "'retry_delay_jitter' must be a number in [0, 1] or a 0-argument callable "
            "(like random.random), not str",
        ),
        ("retry_delay_jitter", True, "'retry_delay_jitter' must be a number in [0, 1] or a"),
        ("retry_delay_jitter", float("nan"), "'retry_delay_jitter' must be finite"),
        (
            "retry_delay_jitter",
            lambda x: 0.5,
            "'retry_delay_jitter' must be callable without arguments (like random.random), "
            "not with signature (x)",
        ),
        ("retry_delay_jitter", random.uniform, "must be callable without arguments"),
    ],
)
def test_retry_setting_errors(key: str, value: Any, fragment: str) -> None:
    message = error(["ws://ok/", "ws://ok2/", {"url": "ws://h/", key: value}])
    assert message.startswith("transport 2: ")
    assert fragment in message


# ---------------------------------------------------------------------------------- options


def test_websocket_options_snake_case() -> None:
    options = {
        "max_message_size": 1 << 20,
        "open_handshake_timeout": 2.5,
        "close_handshake_timeout": 1,
        "auto_ping_interval": 10,
        "auto_ping_timeout": 5.0,
        "auto_ping_size": 8,
    }
    config = one({"url": "ws://h/", "options": options})
    assert dict(config.options) == options


def test_autobahn_camel_case_options_are_mapped() -> None:
    config = one(
        {
            "url": "ws://h/",
            "options": {
                "maxMessagePayloadSize": 65536,
                "openHandshakeTimeout": 2.5,
                "closeHandshakeTimeout": 1.0,
                "autoPingInterval": 10,
                "autoPingTimeout": 5,
                "autoPingSize": 16,
            },
        }
    )
    assert dict(config.options) == {
        "max_message_size": 65536,
        "open_handshake_timeout": 2.5,
        "close_handshake_timeout": 1.0,
        "auto_ping_interval": 10.0,
        "auto_ping_timeout": 5.0,
        "auto_ping_size": 16,
    }


def test_rawsocket_options() -> None:
    config = one(
        {
            "url": "rs://h:1",
            "options": {
                "maxMessagePayloadSize": 512,
                "autoPingInterval": 30,
                "auto_ping_timeout": 10,
            },
        }
    )
    assert dict(config.options) == {
        "max_message_size": 512,
        "auto_ping_interval": 30.0,
        "auto_ping_timeout": 10.0,
    }
    assert (
        one({"url": "rs://h:1", "options": {"max_message_size": 2**24}}).options["max_message_size"]
        == 2**24
    )


def test_option_with_none_value_is_absent() -> None:
    assert dict(one({"url": "ws://h/", "options": {"autoPingInterval": None}}).options) == {}


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (
            {"url": "ws://h/", "options": {"foo": 1}},
            "unknown websocket option 'foo'; allowed options: auto_ping_interval, auto_ping_size",
        ),
        (
            {"url": "ws://h/", "options": {"tcpNoDelay": True}},
            "'tcpNoDelay' (an Autobahn option wamp-py does not support)",
        ),
        (
            {"url": "ws://h/", "options": {"auto_fragment_size": 100}},
            "'auto_fragment_size' (an Autobahn option wamp-py does not support)",
        ),
        ({"url": "ws://h/", "options": {"headers": {}}}, "unknown websocket option 'headers'"),
        (
            {"url": "rs://h:1", "options": {"open_handshake_timeout": 1}},
            "unknown rawsocket option 'open_handshake_timeout'",
        ),
        (
            {"url": "rs://h:1", "options": {"autoPingSize": 8}},
            "unknown rawsocket option 'autoPingSize'",
        ),
        (
            {"url": "ws://h/", "options": {"autoPingInterval": 1, "auto_ping_interval": 2}},
            "given twice",
        ),
        ({"url": "ws://h/", "options": [("autoPingInterval", 1)]}, "'options' must be a dict"),
        (
            {"url": "rs://h:1", "options": {"max_message_size": 511}},
            "'max_message_size' must be in 512..16777216",
        ),
        (
            {"url": "rs://h:1", "options": {"max_message_size": 2**24 + 1}},
            "'max_message_size' must be in 512..16777216",
        ),
        ({"url": "ws://h/", "options": {"max_message_size": 0}}, "'max_message_size' must be >= 1"),
        (
            {"url": "ws://h/", "options": {"max_message_size": 1.5}},
            "'max_message_size' must be an int",
        ),
        (
            {"url": "ws://h/", "options": {"auto_ping_size": 3}},
            "'auto_ping_size' must be in 4..125",
        ),
        (
            {"url": "ws://h/", "options": {"auto_ping_size": 126}},
            "'auto_ping_size' must be in 4..125",
        ),
        (
            {"url": "ws://h/", "options": {"open_handshake_timeout": 0}},
            "'open_handshake_timeout' must be > 0",
        ),
        (
            {"url": "ws://h/", "options": {"auto_ping_interval": -1}},
            "'auto_ping_interval' must be >= 0",
        ),
        (
            {"url": "ws://h/", "options": {"auto_ping_timeout": "5"}},
            "'auto_ping_timeout' must be a number",
        ),
    ],
)
def test_option_errors(value: dict[str, Any], fragment: str) -> None:
    message = error(value)
    assert message.startswith("transport 0: ")
    assert fragment in message


# ------------------------------------------------------------------------------ proxy and headers


def test_proxy() -> None:
    config = one({"url": "wss://h/ws", "proxy": {"host": "proxy.local", "port": 3128}})
    assert config.proxy == Proxy("proxy.local", 3128)
    assert tcp_of(config).host == "h"  # the endpoint stays the target; TLS goes through the tunnel
    assert config.is_secure
    assert one({"url": "ws://h/", "proxy": Proxy("p", 1)}).proxy == Proxy("p", 1)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (
            {"url": "ws://h/", "proxy": {"host": "p", "port": 1, "user": "u"}},
            "unknown key 'user' in proxy; allowed keys: host, port",
        ),
        ({"url": "ws://h/", "proxy": {"host": "p"}}, "'proxy' requires 'port'"),
        ({"url": "ws://h/", "proxy": {"port": 1}}, "'proxy' requires 'host'"),
        ({"url": "ws://h/", "proxy": {"host": "p", "port": "1"}}, "proxy 'port' must be an int"),
        ({"url": "ws://h/", "proxy": "http://p:1"}, "'proxy' must be a dict"),
        (
            {"url": "rs://h:1", "proxy": {"host": "p", "port": 1}},
            "'proxy' is only supported by websocket",
        ),
    ],
)
def test_proxy_errors(value: dict[str, Any], fragment: str) -> None:
    assert fragment in error(value)


def test_describe_hides_the_query() -> None:
    """``describe()`` goes into logs and errors: a query string often carries a token."""
    assert one("ws://h:1/ws?token=s3cret&x=1").describe() == "ws://h:1/ws?..."
    assert one("ws://h:1/ws").describe() == "ws://h:1/ws"
    assert one("rs://unix:/run/r.sock").describe() == "rs://unix:/run/r.sock"


def test_headers() -> None:
    config = one({"url": "ws://h/", "headers": {"Authorization": "Bearer s3cret", "X-Trace": ""}})
    assert dict(config.headers) == {"Authorization": "Bearer s3cret", "X-Trace": ""}
    assert "s3cret" not in repr(config)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ({"url": "rs://h:1", "headers": {"X-A": "1"}}, "'headers' is only supported by websocket"),
        ({"url": "ws://h/", "headers": [("X-A", "1")]}, "'headers' must be a dict"),
        ({"url": "ws://h/", "headers": {"X-A": 1}}, "header 'X-A' must have a str value"),
        ({"url": "ws://h/", "headers": {"X-A": "a\r\nEvil: 1"}}, "contains CR, LF or NUL"),
        ({"url": "ws://h/", "headers": {"X-A": "a\x00b"}}, "contains CR, LF or NUL"),
        ({"url": "ws://h/", "headers": {"bad name": "1"}}, "invalid HTTP header name 'bad name'"),
        ({"url": "ws://h/", "headers": {"": "1"}}, "invalid HTTP header name ''"),
        ({"url": "ws://h/", "headers": {5: "1"}}, "invalid HTTP header name 5"),
        ({"url": "ws://h/", "headers": {"Host": "x"}}, "'Host' is set by the WebSocket handshake"),
        (
            {"url": "ws://h/", "headers": {"sec-websocket-protocol": "x"}},
            "set by the WebSocket handshake",
        ),
        ({"url": "ws://h/", "headers": {"X-A": "1", "x-a": "2"}}, "given twice"),
    ],
)
def test_header_errors(value: dict[str, Any], fragment: str) -> None:
    message = error(value)
    assert fragment in message
    assert "Evil" not in message  # header values are never echoed


# ---------------------------------------------------------------------------------- unknown keys


@pytest.mark.parametrize("key", ["realm", "Url", "retries", "auto_reconnect", "tls"])
def test_unknown_transport_key(key: str) -> None:
    message = error(["ws://ok/", {"url": "ws://h/", key: 1}])
    assert message.startswith("transport 1: ")
    assert f"unknown key {key!r} in transport" in message
    assert "allowed keys: endpoint, headers, initial_retry_delay" in message


@settings(max_examples=100, deadline=None)
@given(key=st.text(min_size=1, max_size=20))
def test_any_unknown_key_is_rejected(key: str) -> None:
    allowed = {
        "type", "url", "endpoint", "serializer", "serializers", "options", "max_retries",
        "max_retry_delay", "initial_retry_delay", "retry_delay_growth", "retry_delay_jitter",
        "proxy", "headers",
    }  # fmt: skip
    if key in allowed:
        return
    endpoint_keys = {"type", "host", "port", "path", "tls", "timeout", "version"}
    cases: list[dict[str, object]] = [{"url": "ws://h/", key: 1}]
    if key not in endpoint_keys:
        cases.append(
            {"url": "ws://h/", "endpoint": {"type": "tcp", "host": "h", "port": 1, key: 1}}
        )
    for value in cases:
        with pytest.raises(ConfigurationError, match="unknown key"):
            parse_transports(value)


@settings(max_examples=100, deadline=None)
@given(
    host=st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z]{2,5})?", fullmatch=True),
    port=st.integers(1, 65535),
    secure=st.booleans(),
    rawsocket=st.booleans(),
)
def test_url_roundtrip(host: str, port: int, secure: bool, rawsocket: bool) -> None:
    scheme = ("rs" if rawsocket else "ws") + ("s" if secure else "")
    config = one(f"{scheme}://{host}:{port}")
    assert config.type == ("rawsocket" if rawsocket else "websocket")
    assert config.endpoint == TcpEndpoint(host=host, port=port, tls=True if secure else None)
    assert config.is_secure is secure


@pytest.mark.parametrize(
    "url",
    [
        "ws://alice:hunter2@host:8080/ws",
        "http://alice:hunter2@host/ws",
        "ws://alice:hunter2@host:99999/ws",
        "ws://alice:hunter2@host:0/ws",
        "rs://alice:hunter2@unix:/x.sock",
    ],
)
def test_credentials_in_url_never_appear_in_the_error(url: str) -> None:
    message = error(url)
    assert "hunter2" not in message
    assert "alice" not in message
    assert "<credentials removed>@" in message


def test_malformed_ipv6_url_is_a_configuration_error() -> None:
    assert "invalid URL" in error("ws://[::1/ws")


# ------------------------------------------------------------------------ retry_delay_jitter forms


def test_jitter_callable_is_the_noise_source() -> None:
    """The page's form: a 0-argument callable; the spread stays 0.1."""

    def noise() -> float:
        return 0.25

    config = one({"url": "ws://h/", "retry_delay_jitter": noise})
    assert config.retry_delay_noise is noise
    assert config.retry_delay_jitter == 0.1
    assert one({"url": "ws://h/", "retry_delay_jitter": random.random}) == one("ws://h/")
    seeded = random.Random(7)
    assert one({"url": "ws://h/", "retry_delay_jitter": seeded.random}).retry_delay_noise() == (
        random.Random(7).random()
    )


def test_jitter_number_is_the_spread() -> None:
    """Autobahn's code form (a number), kept for porting: the noise stays random.random."""
    config = one({"url": "ws://h/", "retry_delay_jitter": 0.3})
    assert config.retry_delay_jitter == 0.3
    assert config.retry_delay_noise == random.random
    assert one({"url": "ws://h/", "retry_delay_jitter": 1}).retry_delay_jitter == 1.0


def test_noise_source_is_not_called_when_parsing() -> None:
    calls: list[int] = []

    def noise() -> float:
        calls.append(1)
        return 0.5

    one({"url": "ws://h/", "retry_delay_jitter": noise})
    assert calls == []


def test_noise_source_in_repr_hash_and_eq() -> None:
    a = one({"url": "ws://h/", "retry_delay_jitter": lambda: 0.5})
    b = one({"url": "ws://h/", "retry_delay_jitter": lambda: 0.5})
    assert "retry_delay_noise" not in repr(a)
    assert hash(a) == hash(b)  # the noise source is not hashed (it may be unhashable)
    assert a != b  # but two different sources are different configurations
    assert dataclasses.replace(a) == a


def test_transport_config_checks_the_noise_source() -> None:
    endpoint = TcpEndpoint(host="h", port=1)
    with pytest.raises(ConfigurationError, match="'retry_delay_noise' must be a 0-argument"):
        TransportConfig(
            type="websocket",
            url="ws://h/",
            endpoint=endpoint,
            serializers=("json",),
            retry_delay_noise=0.5,  # type: ignore[arg-type]
        )
    with pytest.raises(ConfigurationError, match="'retry_delay_noise' must be callable without"):
        TransportConfig(
            type="websocket",
            url="ws://h/",
            endpoint=endpoint,
            serializers=("json",),
            retry_delay_noise=lambda a, b: 0.5,  # type: ignore[arg-type,misc]
        )


# ------------------------------------------------------------------- every key: a table


class _Required:
    """No default: leaving the key out (or None) is an error with this message."""

    def __init__(self, fragment: str) -> None:
        self.fragment = fragment


def _noise() -> float:
    return 0.5


_CONTEXT = ssl.create_default_context()
_TLS = TLSConfig(hostname="x.example")

#: One value of each Python type; ``Key.typed`` lists the kinds of a type the key accepts.
JUNK: dict[str, Any] = {
    "complex": 3.5j,
    "bytes": b"ws://h/",
    "object": object(),
    "list": ["x"],
    "tuple": ("x",),
    "dict": {"x": 1},
    "str": "x",
    "int": 7,
    "bool": True,
    "float": 1.5,
    "function": _noise,
}


@dataclasses.dataclass(frozen=True)
class Key:
    """One configuration key: how to set it, read it back, its default and its accepted forms."""

    label: str
    build: Callable[[Any], Any]  # value -> the transports argument
    read: Callable[[TransportConfig], Any]
    default: Any  # read(...) with the key absent, or a _Required
    accepted: tuple[tuple[Any, Any], ...]  # (value given, read back)
    typed: frozenset[str]  # JUNK kinds of an accepted type (not tested as wrong types)
    names: str  # how an error names the key


def _top(key: str, url: str = "ws://h/") -> Callable[[Any], Any]:
    return lambda value: {"url": url, key: value}


def tcp_of(config: TransportConfig) -> TcpEndpoint:
    """The config's endpoint, which must be a TCP one."""
    assert isinstance(config.endpoint, TcpEndpoint)
    return config.endpoint


def _endpoint_attr(name: str) -> Callable[[TransportConfig], object]:
    """Read an attribute only one endpoint kind has (the table checks both kinds)."""
    return lambda config: getattr(config.endpoint, name)


def _endpoint(key: str, base: dict[str, Any] | None = None) -> Callable[[Any], Any]:
    fields = base if base is not None else {"type": "tcp", "host": "h", "port": 1}
    return lambda value: {"url": "ws://h/", "endpoint": {**fields, key: value}}


def _tls(key: str, base: dict[str, Any] | None = None) -> Callable[[Any], Any]:
    return lambda value: {
        "url": "ws://h/",
        "endpoint": {"type": "tcp", "host": "h", "port": 1, "tls": {**(base or {}), key: value}},
    }


def _proxy(key: str) -> Callable[[Any], Any]:
    return lambda value: {"url": "ws://h/", "proxy": {"host": "p", "port": 1, key: value}}


def _option(key: str, url: str = "ws://h/") -> Callable[[Any], Any]:
    return lambda value: {"url": url, "options": {key: value}}


def _jitter(config: TransportConfig) -> tuple[float, Callable[[], float]]:
    return config.retry_delay_jitter, config.retry_delay_noise


NUMBER = frozenset({"int", "float"})
TRANSPORT_KEYS: tuple[Key, ...] = (
    Key(
        "type",
        lambda v: {"type": v, "url": "rs://h:1" if v == "rawsocket" else "ws://h/"},
        lambda c: c.type,
        "websocket",
        (("websocket", "websocket"), ("rawsocket", "rawsocket")),
        frozenset({"str"}),
        "transport 'type'",
    ),
    Key(
        "url",
        lambda v: {"url": v},
        lambda c: (c.url, c.endpoint.describe()),
        _Required("a websocket transport needs a 'url'"),
        (
            ("ws://r.example:9/ws", ("ws://r.example:9/ws", "tcp:r.example:9")),
            ("wss://r.example/ws", ("wss://r.example/ws", "tcp:r.example:443 (tls)")),
        ),
        frozenset({"str"}),
        "'url'",
    ),
    Key(
        "endpoint",
        _top("endpoint"),
        lambda c: c.endpoint,
        TcpEndpoint(host="h", port=80),  # derived from the URL
        (
            ({"type": "tcp", "host": "a", "port": 2}, TcpEndpoint(host="a", port=2)),
            ({"type": "unix", "path": "/r.sock"}, UnixEndpoint(path="/r.sock")),
            (
                {"host": "a", "port": 2, "timeout": 2.5},
                TcpEndpoint(host="a", port=2, timeout=2.5),
            ),
            (TcpEndpoint(host="b", port=3), TcpEndpoint(host="b", port=3)),
        ),
        frozenset({"dict"}),
        "'endpoint'",
    ),
    Key(
        "serializer",
        _top("serializer"),
        lambda c: c.serializers,
        ("cbor", "msgpack", "json"),
        (("json", ("json",)), ("cbor.batched", ("cbor.batched",))),
        frozenset({"str"}),
        "'serializer'",
    ),
    Key(
        "serializers",
        _top("serializers"),
        lambda c: c.serializers,
        ("cbor", "msgpack", "json"),
        ((["json", "cbor"], ("json", "cbor")), (("msgpack",), ("msgpack",))),
        frozenset({"list", "tuple"}),
        "'serializers'",
    ),
    Key(
        "options",
        _top("options"),
        lambda c: dict(c.options),
        {},
        (
            ({"auto_ping_interval": 10}, {"auto_ping_interval": 10.0}),
            ({"maxMessagePayloadSize": 4096}, {"max_message_size": 4096}),
            # Autobahn's snake_case spelling of its camelCase names
            ({"max_message_payload_size": 4096}, {"max_message_size": 4096}),
            (
                {"auto_ping_interval": 5, "open_handshake_timeout": 2},
                {"auto_ping_interval": 5.0, "open_handshake_timeout": 2.0},
            ),
        ),
        frozenset({"dict"}),
        "'options'",
    ),
    Key(
        "max_retries",
        _top("max_retries"),
        lambda c: c.max_retries,
        -1,
        ((-1, -1), (0, 0), (5, 5)),
        frozenset({"int"}),
        "'max_retries'",
    ),
    Key(
        "initial_retry_delay",
        _top("initial_retry_delay"),
        lambda c: c.initial_retry_delay,
        1.0,
        ((0, 0.0), (2.5, 2.5), (3, 3.0)),
        NUMBER,
        "'initial_retry_delay'",
    ),
    Key(
        "max_retry_delay",
        _top("max_retry_delay"),
        lambda c: c.max_retry_delay,
        60.0,
        ((300, 300.0), (0.5, 0.5)),
        NUMBER,
        "'max_retry_delay'",
    ),
    Key(
        "retry_delay_growth",
        _top("retry_delay_growth"),
        lambda c: c.retry_delay_growth,
        1.5,
        ((1, 1.0), (2.0, 2.0)),
        NUMBER,
        "'retry_delay_growth'",
    ),
    Key(
        "retry_delay_jitter",
        _top("retry_delay_jitter"),
        _jitter,
        (0.1, random.random),
        ((0, (0.0, random.random)), (0.5, (0.5, random.random)), (_noise, (0.1, _noise))),
        NUMBER | {"function"},
        "'retry_delay_jitter'",
    ),
    Key(
        "proxy",
        _top("proxy"),
        lambda c: c.proxy,
        None,
        (({"host": "p", "port": 3128}, Proxy("p", 3128)), (Proxy("q", 8080), Proxy("q", 8080))),
        frozenset({"dict"}),
        "'proxy'",
    ),
    Key(
        "headers",
        _top("headers"),
        lambda c: dict(c.headers),
        {},
        (({"X-Trace": "1"}, {"X-Trace": "1"}),),
        frozenset({"dict"}),
        "'headers'",
    ),
)
ENDPOINT_KEYS: tuple[Key, ...] = (
    Key(
        "endpoint.type",
        lambda v: {"url": "ws://h/", "endpoint": {"type": v, "host": "h", "port": 1}},
        lambda c: c.endpoint.type,
        "tcp",  # inferred: unix when there is a path
        (("tcp", "tcp"),),
        frozenset({"str"}),
        "endpoint 'type'",
    ),
    Key(
        "endpoint.host",
        lambda v: {"url": "ws://h/", "endpoint": {"type": "tcp", "host": v, "port": 1}},
        _endpoint_attr("host"),
        _Required("a tcp endpoint requires 'host'"),
        (("r.example", "r.example"), ("[::1]", "::1"), ("10.0.0.1", "10.0.0.1")),
        frozenset({"str"}),
        "endpoint 'host'",
    ),
    Key(
        "endpoint.port",
        lambda v: {"url": "ws://h/", "endpoint": {"type": "tcp", "host": "h", "port": v}},
        _endpoint_attr("port"),
        _Required("a tcp endpoint requires 'port'"),
        ((1, 1), (65535, 65535)),
        frozenset({"int"}),
        "endpoint 'port'",
    ),
    Key(
        "endpoint.path",
        lambda v: {"url": "ws://h/", "endpoint": {"type": "unix", "path": v}},
        _endpoint_attr("path"),
        _Required("a unix endpoint requires 'path'"),
        (("/run/r.sock", "/run/r.sock"), (pathlib.Path("/run/p.sock"), "/run/p.sock")),
        frozenset({"str"}),
        "endpoint 'path'",
    ),
    Key(
        "endpoint.name",
        lambda v: {"type": "rawsocket", "endpoint": {"type": "memory", "name": v}},
        _endpoint_attr("name"),
        _Required("a memory endpoint requires 'name'"),
        (("unit-test", "unit-test"),),
        frozenset({"str"}),
        "endpoint 'name'",
    ),
    Key(
        "endpoint.tls",
        _endpoint("tls"),
        lambda c: c.endpoint.tls,
        None,
        (
            (True, True),
            (False, None),
            ({}, TLSConfig()),
            ({"hostname": "x.example"}, TLSConfig(hostname="x.example")),
            (_TLS, _TLS),
            (_CONTEXT, _CONTEXT),
        ),
        frozenset({"dict", "bool"}),
        "endpoint 'tls'",
    ),
    Key(
        "endpoint.timeout",
        _endpoint("timeout"),
        lambda c: c.endpoint.timeout,
        10.0,
        ((2.5, 2.5), (3, 3.0)),
        NUMBER,
        "endpoint 'timeout'",
    ),
    Key(
        "endpoint.version",
        _endpoint("version"),
        _endpoint_attr("version"),
        None,
        ((4, 4), (6, 6)),
        frozenset({"int"}),
        "endpoint 'version'",
    ),
)
TLS_KEYS: tuple[Key, ...] = (
    Key(
        "tls.hostname",
        _tls("hostname"),
        lambda c: c.endpoint.tls.hostname,  # type: ignore[union-attr]
        None,
        (("router.example", "router.example"),),
        frozenset({"str"}),
        "tls 'hostname'",
    ),
    Key(
        "tls.trust_root",
        _tls("trust_root"),
        lambda c: c.endpoint.tls.trust_root,  # type: ignore[union-attr]
        None,
        (("/etc/ca.pem", "/etc/ca.pem"), (pathlib.Path("/etc/ca"), "/etc/ca")),
        frozenset({"str"}),
        "tls 'trust_root'",
    ),
    Key(
        "tls.client_cert",
        _tls("client_cert"),
        lambda c: c.endpoint.tls.client_cert,  # type: ignore[union-attr]
        None,
        (("/etc/client.pem", "/etc/client.pem"),),
        frozenset({"str"}),
        "tls 'client_cert'",
    ),
    Key(
        "tls.client_key",
        _tls("client_key", {"client_cert": "/etc/client.pem"}),
        lambda c: c.endpoint.tls.client_key,  # type: ignore[union-attr]
        None,  # the key is then read from the client_cert file
        (("/etc/client.key", "/etc/client.key"),),
        frozenset({"str"}),
        "tls 'client_key'",
    ),
)
PROXY_KEYS: tuple[Key, ...] = (
    Key(
        "proxy.host",
        _proxy("host"),
        lambda c: c.proxy.host,  # type: ignore[union-attr]
        _Required("'proxy' requires 'host'"),
        (("proxy.local", "proxy.local"),),
        frozenset({"str"}),
        "proxy 'host'",
    ),
    Key(
        "proxy.port",
        _proxy("port"),
        lambda c: c.proxy.port,  # type: ignore[union-attr]
        _Required("'proxy' requires 'port'"),
        ((3128, 3128),),
        frozenset({"int"}),
        "proxy 'port'",
    ),
)
OPTION_KEYS: tuple[Key, ...] = (
    Key(
        "options.max_message_size",
        _option("max_message_size"),
        lambda c: c.options.get("max_message_size"),
        None,  # absent: the driver's default applies
        ((1, 1), (1 << 20, 1 << 20)),
        frozenset({"int"}),
        "option 'max_message_size'",
    ),
    Key(
        "options.open_handshake_timeout",
        _option("open_handshake_timeout"),
        lambda c: c.options.get("open_handshake_timeout"),
        None,
        ((2.5, 2.5), (5, 5.0)),
        NUMBER,
        "option 'open_handshake_timeout'",
    ),
    Key(
        "options.close_handshake_timeout",
        _option("close_handshake_timeout"),
        lambda c: c.options.get("close_handshake_timeout"),
        None,
        ((1, 1.0),),
        NUMBER,
        "option 'close_handshake_timeout'",
    ),
    Key(
        "options.auto_ping_interval",
        _option("auto_ping_interval"),
        lambda c: c.options.get("auto_ping_interval"),
        None,
        ((0, 0.0), (10, 10.0)),
        NUMBER,
        "option 'auto_ping_interval'",
    ),
    Key(
        "options.auto_ping_timeout",
        _option("auto_ping_timeout"),
        lambda c: c.options.get("auto_ping_timeout"),
        None,
        ((5, 5.0), (0.5, 0.5)),
        NUMBER,
        "option 'auto_ping_timeout'",
    ),
    Key(
        "options.auto_ping_size",
        _option("auto_ping_size"),
        lambda c: c.options.get("auto_ping_size"),
        None,
        ((4, 4), (125, 125)),
        frozenset({"int"}),
        "option 'auto_ping_size'",
    ),
    Key(
        "rawsocket options.max_message_size",
        _option("max_message_size", "rs://h:1"),
        lambda c: c.options.get("max_message_size"),
        None,
        ((512, 512), (1 << 24, 1 << 24)),
        frozenset({"int"}),
        "option 'max_message_size'",
    ),
    Key(
        "rawsocket options.auto_ping_interval",
        _option("auto_ping_interval", "rs://h:1"),
        lambda c: c.options.get("auto_ping_interval"),
        None,
        ((30, 30.0),),
        NUMBER,
        "option 'auto_ping_interval'",
    ),
    Key(
        "rawsocket options.auto_ping_timeout",
        _option("auto_ping_timeout", "rs://h:1"),
        lambda c: c.options.get("auto_ping_timeout"),
        None,
        ((10, 10.0),),
        NUMBER,
        "option 'auto_ping_timeout'",
    ),
)
ALL_KEYS = TRANSPORT_KEYS + ENDPOINT_KEYS + TLS_KEYS + PROXY_KEYS + OPTION_KEYS


def test_the_table_covers_every_key() -> None:
    from wamp_core._config import _transports as tc

    def names(keys: tuple[Key, ...], prefix: str = "") -> set[str]:
        return {k.label.removeprefix(prefix) for k in keys}

    assert names(TRANSPORT_KEYS) == set(tc._TRANSPORT_KEYS)
    assert names(ENDPOINT_KEYS, "endpoint.") == set(tc._ENDPOINT_KEYS)
    assert names(TLS_KEYS, "tls.") == set(tc._TLS_KEYS)
    assert names(PROXY_KEYS, "proxy.") == set(tc._PROXY_KEYS)
    assert names(OPTION_KEYS[:6], "options.") == set(tc._OPTIONS["websocket"])
    assert names(OPTION_KEYS[6:], "rawsocket options.") == set(tc._OPTIONS["rawsocket"])


@pytest.mark.parametrize("key", ALL_KEYS, ids=lambda k: k.label)
def test_every_key_default(key: Key) -> None:
    """Absent and ``None`` are the same: the default, or an error naming the missing key."""
    if isinstance(key.default, _Required):
        assert key.default.fragment in error(key.build(None))
    else:
        assert key.read(one(key.build(None))) == key.default


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [(k, value, expected) for k in ALL_KEYS for value, expected in k.accepted],
    ids=lambda x: x.label if isinstance(x, Key) else "",
)
def test_every_key_accepted_forms(key: Key, value: Any, expected: Any) -> None:
    result = key.read(one(key.build(value)))
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("key", "kind"),
    [(k, kind) for k in ALL_KEYS for kind in JUNK if kind not in k.typed],
    ids=lambda x: x.label if isinstance(x, Key) else x,
)
def test_every_key_wrong_type(key: Key, kind: str) -> None:
    """Every wrong type of every key: a ConfigurationError naming the key (and the transport)."""
    message = error(key.build(JUNK[kind]))
    assert message.startswith("transport 0: ")
    assert key.names in message


def test_a_token_in_the_url_query_stays_out_of_reprs_and_errors() -> None:
    """``describe()`` hid it; ``repr(TransportConfig)`` (what a ``connect`` hook or a log of
    the transport shows) and the URL errors printed it (a review)."""
    [transport] = wc.parse_transports({"url": "wss://example.com:8443/ws?token=s3cret"})
    assert "s3cret" not in repr(transport) and "?..." in repr(transport)
    assert transport.resource == "/ws?token=s3cret"  # (still sent to the router)
    for url in ("ws://example.com:99999/ws?token=s3cret", "ws://example.com/ws?token=s3cret#f"):
        with pytest.raises(wc.ConfigurationError) as info:
            wc.parse_transports({"url": url})
        assert "s3cret" not in str(info.value)


def test_reconnect_exhausted_carries_the_last_failures_reason() -> None:
    closed = wc.SessionClosed("refused", reason="wamp.error.not_authorized")
    exhausted = wc.ReconnectExhausted("done", [(0, closed)])
    assert exhausted.reason == "wamp.error.not_authorized"
    exhausted.__cause__ = wc.AuthenticationError("no ticket")
    assert exhausted.reason == "wamp.error.cannot_authenticate"
    assert wc.ReconnectExhausted("done", [(0, OSError("refused"))]).reason is None


def test_a_proxy_needs_a_tcp_endpoint() -> None:
    """(A review.) With a unix endpoint the proxy was kept and never used."""
    with pytest.raises(wc.ConfigurationError, match="'proxy' needs a tcp endpoint"):
        wc.parse_transports(
            {"url": "ws://127.0.0.1:8080/ws", "endpoint": {"type": "unix", "path": "/r.sock"},
             "proxy": {"host": "127.0.0.1", "port": 3128}}
        )  # fmt: skip


@pytest.mark.parametrize(
    ("url", "path"),
    [("rs://unix:router.sock", "router.sock"), ("rs://unix:./run/r.sock", "./run/r.sock"),
     ("rs://unix:/run/r.sock", "/run/r.sock")],
)  # fmt: skip
def test_a_unix_socket_url_takes_a_relative_path_as_the_router_does(url: str, path: str) -> None:
    """(A review.) ``wamp-py router --listen rs://unix:router.sock`` listens there; the
    client refused the same URL with urllib's words about a port."""
    endpoint = wc.parse_transports(url)[0].endpoint
    assert isinstance(endpoint, wc.UnixEndpoint) and endpoint.path == path
    with pytest.raises(wc.ConfigurationError, match="must not have a query"):
        wc.parse_transports("rs://unix:router.sock?x=1")
    with pytest.raises(wc.ConfigurationError, match="invalid URL"):
        wc.parse_transports("ws://unix:router.sock")  # (a websocket URL has no such form)


# (A mutation review: each of these could change unseen.)


@pytest.mark.parametrize("url", ["RS://127.0.0.1:8080", "Rss://127.0.0.1:8080"])
def test_a_rawsocket_scheme_in_capitals_is_rawsocket(url: str) -> None:
    assert one(url).type == "rawsocket"


@pytest.mark.parametrize(
    "value",
    [
        {"type": "rawsocket", "endpoint": {"type": "tcp", "host": "a/b", "port": 8080}},
        {"url": "ws://127.0.0.1:8080/ws", "proxy": {"host": "proxy/x", "port": 3128}},
        {"url": "wss://127.0.0.1:8080/ws",
         "endpoint": {"type": "tcp", "host": "127.0.0.1", "port": 8080,
                      "tls": {"hostname": "a/b"}}},
    ],
)  # fmt: skip
def test_a_slash_in_a_host_is_refused(value: dict[str, Any]) -> None:
    assert "not a valid host name" in error(value)


_LONG_LABEL = "\u00fc" * 70  # 140 bytes in UTF-8, longer than 63 once punycoded


@pytest.mark.parametrize(
    ("value", "setting"),
    [
        ({"url": "wss://127.0.0.1:8080/ws",
          "endpoint": {"type": "tcp", "host": "127.0.0.1", "port": 8080,
                       "tls": {"hostname": _LONG_LABEL}}}, "tls 'hostname'"),
        ({"type": "rawsocket", "endpoint": {"type": "tcp", "host": "a" * 64, "port": 8080}},
         "endpoint 'host'"),
        (f"rs://{_LONG_LABEL}.example:8080", "endpoint 'host'"),
        ({"url": "ws://127.0.0.1:8080/ws", "proxy": {"host": "a..b", "port": 3128}},
         "proxy 'host'"),
        # IDNA 2003 (Python's codec) encodes a snowman; IDNA 2008 (the TLS libraries') does not
        ({"url": "wss://127.0.0.1:8080/ws",
          "endpoint": {"type": "tcp", "host": "127.0.0.1", "port": 8080,
                       "tls": {"hostname": "\u2603.example"}}}, "tls 'hostname'"),
    ],
)  # fmt: skip
def test_a_host_name_no_resolver_or_tls_library_can_encode_is_refused(
    value: Any, setting: str
) -> None:
    """(A review: a ``tls.hostname`` with a label over 63 characters was accepted here, and the
    connect then raised a bare ``idna.IDNAError`` from inside the TLS library, on every driver.)
    A host the resolver, the TLS name or the Host header cannot encode (IDNA: every label 1-63
    characters) is a configuration error naming its setting, when the transports are parsed."""
    message = error(value)
    assert f"{setting} is not a valid host name or address" in message
    assert "label" in message.lower() or "codepoint" in message.lower()


@pytest.mark.parametrize("host", ["a" * 63, "example.com.", "b\u00fccher.example", "::1"])
def test_host_names_at_the_limits_are_accepted(host: str) -> None:
    endpoint = {"type": "tcp", "host": "127.0.0.1", "port": 8080, "tls": {"hostname": host}}
    (transport,) = parse_transports({"url": "wss://127.0.0.1:8080/ws", "endpoint": endpoint})
    assert wc.server_hostname_for(transport) == host


def test_a_password_with_an_at_sign_stays_out_of_the_error() -> None:
    """The user info ends at the last ``@`` (RFC 3986): no part of the password shows."""
    message = error("ws://alice:pa@ss-s3cret@127.0.0.1:8080/ws")
    assert "user info" in message
    assert "s3cret" not in message and "<credentials removed>@127.0.0.1:8080" in message
