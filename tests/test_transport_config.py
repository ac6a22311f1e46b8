"""Tests for wamp_core._transport_config (Autobahn-style ``transports=`` parsing)."""

from __future__ import annotations

import dataclasses
import pathlib
import ssl
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from wamp_core import (
    ConfigurationError,
    Endpoint,
    Proxy,
    TLSConfig,
    TransportConfig,
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
    config = one(None)
    assert config.type == "websocket"
    assert config.url == "ws://127.0.0.1:8080/ws"
    assert config.endpoint == Endpoint(type="tcp", host="127.0.0.1", port=8080)
    assert config.endpoint.timeout == 10.0
    assert config.endpoint.tls is None
    assert config.endpoint.version is None
    assert config.serializers == ("cbor", "msgpack", "json")
    assert config.max_retries == -1
    assert config.initial_retry_delay == 1.5
    assert config.max_retry_delay == 300.0
    assert config.retry_delay_growth == 1.5
    assert config.retry_delay_jitter == 0.1
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
    assert [(c.type, c.endpoint.host, c.endpoint.port) for c in configs] == [
        ("websocket", "a", 1),
        ("rawsocket", "b", 2),
        ("websocket", "c", 3),
    ]
    assert len(parse_transports(("ws://a:1/", "ws://b:1/"))) == 2


def test_rawsocket_url_infers_type_and_defaults() -> None:
    config = one("rs://router:9000")
    assert config.type == "rawsocket"
    assert config.serializers == ("cbor",)
    assert config.endpoint == Endpoint(type="tcp", host="router", port=9000)
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
        config.endpoint.port = 1  # type: ignore[misc]
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
    assert config.endpoint == Endpoint(type="tcp", host="example.com", port=80)
    assert config.resource == "/"
    assert config.host_header == "example.com"


def test_wss_means_tls_port_443() -> None:
    config = one("wss://example.com/ws")
    assert config.endpoint == Endpoint(type="tcp", host="example.com", port=443, tls=True)
    assert config.is_secure


def test_resource_keeps_query_and_host_header_keeps_port() -> None:
    config = one("ws://[::1]:9000/path/ws?token=abc&x=1")
    assert config.endpoint.host == "::1"
    assert config.endpoint.port == 9000
    assert config.host_header == "[::1]:9000"
    assert config.resource == "/path/ws?token=abc&x=1"


def test_scheme_case_insensitive() -> None:
    assert one("WSS://h/").is_secure


def test_rss_means_tls() -> None:
    # Autobahn drops the TLS flag of rss:// URLs and connects in plaintext.
    config = one("rss://router.example:8443")
    assert config.type == "rawsocket"
    assert config.endpoint == Endpoint(type="tcp", host="router.example", port=8443, tls=True)
    assert config.is_secure


def test_rawsocket_default_ports() -> None:
    assert one("rs://h").endpoint.port == 80
    assert one("rss://h").endpoint.port == 443


@pytest.mark.parametrize("url", ["rs://unix:/tmp/router.sock", "rs://unix/tmp/router.sock"])
def test_unix_url(url: str) -> None:
    config = one(url)
    assert config.type == "rawsocket"
    assert config.endpoint == Endpoint(type="unix", path="/tmp/router.sock")
    assert config.endpoint.host is None and config.endpoint.port is None
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
    ],
)
def test_url_errors(value: Any, fragment: str) -> None:
    message = error(value)
    assert message.startswith("transport 0: ")
    assert fragment in message


def test_rawsocket_with_endpoint_only() -> None:
    config = one({"type": "rawsocket", "endpoint": {"type": "tcp", "host": "h", "port": 8081}})
    assert config.url is None
    assert config.endpoint == Endpoint(type="tcp", host="h", port=8081)
    assert config.describe() == "tcp:h:8081"


# ---------------------------------------------------------------------------------- endpoints


def test_explicit_endpoint_wins_over_url() -> None:
    config = one(
        {
            "url": "ws://public.example/ws",
            "endpoint": {"type": "tcp", "host": "10.0.0.1", "port": 8080},
        }
    )
    assert config.endpoint == Endpoint(type="tcp", host="10.0.0.1", port=8080)
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
    assert config.endpoint == Endpoint(type="unix", path="/run/r.sock")
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
    endpoint = one(
        {"url": "ws://h/", "endpoint": {"type": "tcp", "host": "h", "port": 1, "version": version}}
    ).endpoint
    assert endpoint.version == version


def _tcp(**extra: Any) -> dict[str, Any]:
    return {"url": "ws://h/", "endpoint": {"type": "tcp", "host": "h", "port": 1, **extra}}


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (
            _tcp(protocol="x"),
            "unknown key 'protocol' in endpoint; "
            "allowed keys: host, path, port, timeout, tls, type, version",
        ),
        ({"url": "ws://h/", "endpoint": "tcp:h:80"}, "'endpoint' must be a dict, not str"),
        (
            {"url": "ws://h/", "endpoint": {"type": "udp", "host": "h", "port": 1}},
            "'type' must be 'tcp' or 'unix'",
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
    endpoint = one(_tcp(host="[::1]", version=6)).endpoint
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
    endpoint = Endpoint(type="tcp", host="h", port=5, timeout=1.5)
    assert one({"url": "ws://h/", "endpoint": endpoint}).endpoint is endpoint


def test_endpoint_instance_with_secure_url_must_have_tls() -> None:
    message = error({"url": "wss://h/", "endpoint": Endpoint(type="tcp", host="h", port=5)})
    assert "means TLS" in message


def test_dataclasses_validate_on_construction() -> None:
    with pytest.raises(ConfigurationError, match="'port'"):
        Endpoint(type="tcp", host="h", port=0)
    with pytest.raises(ConfigurationError, match="'type'"):
        Endpoint(type="sctp", host="h", port=1)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="'port'"):
        Proxy("h", 70000)
    with pytest.raises(ConfigurationError, match="client_cert"):
        TLSConfig(client_key="k.pem")
    with pytest.raises(ConfigurationError, match="serializer"):
        TransportConfig(
            type="rawsocket",
            url=None,
            endpoint=Endpoint(type="tcp", host="h", port=1),
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
        ("retry_delay_jitter", lambda: 0.5, "'retry_delay_jitter' must be a number"),
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
    assert config.endpoint.host == "h"  # the endpoint stays the target; TLS goes through the tunnel
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
    assert config.endpoint == Endpoint(
        type="tcp", host=host, port=port, tls=True if secure else None
    )
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
