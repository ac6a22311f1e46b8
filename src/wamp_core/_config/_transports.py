"""Transport configuration: Autobahn-compatible ``transports=`` values parsed into typed objects.

:func:`parse_transports` accepts what Autobahn's ``Component(transports=...)`` accepts (a URL, a
dict or a list of them) and returns validated, immutable :class:`TransportConfig` objects. It is
stricter about types and unknown keys, and fixes Autobahn's gaps: ``rss://`` means TLS, batched
serializers are allowed, float timeouts work, headers and client certificates are real options.
The retry keys follow the documented ``Component`` page (defaults 1.0 s / 60 s / 1.5, and
``retry_delay_jitter`` may be a 0-argument callable) and also accept Autobahn's numeric jitter.

A key whose value is ``None`` is treated as absent. Every error is a
:class:`~wamp_core.ConfigurationError` naming the transport (by index) and the offending key.
"""

from __future__ import annotations

import dataclasses
import inspect
import ipaddress
import logging
import math
import os
import random as _random
import re
import ssl
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final, Literal, TypeAlias, cast
from urllib.parse import SplitResult, urlsplit

import idna

from .._errors import ConfigurationError
from .._wire import (
    DEFAULT_PORTS,
    RAWSOCKET_MAX_MESSAGE_SIZE,
    RAWSOCKET_MIN_MESSAGE_SIZE,
    RAWSOCKET_SERIALIZER_NAMES,
    WEBSOCKET_RESERVED_HEADERS,
    WEBSOCKET_SERIALIZER_NAMES,
    host_header,
    request_target,
)

__all__ = [
    "DEFAULT_URL",
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_INITIAL_RETRY_DELAY",
    "DEFAULT_MAX_RETRY_DELAY",
    "DEFAULT_RETRY_DELAY_GROWTH",
    "DEFAULT_RETRY_DELAY_JITTER",
    "NoiseSource",
    "TransportType",
    "EndpointType",
    "TLSOption",
    "TLSConfig",
    "Endpoint",
    "MemoryEndpoint",
    "TcpEndpoint",
    "UnixEndpoint",
    "Proxy",
    "TransportConfig",
    "TransportSpec",
    "parse_transports",
]

logger = logging.getLogger(__name__)

#: The transport used when ``transports`` is ``None`` (Autobahn's default).
DEFAULT_URL: Final = "ws://127.0.0.1:8080/ws"

TransportType: TypeAlias = Literal["websocket", "rawsocket"]
EndpointType: TypeAlias = Literal["tcp", "unix"]

_TRANSPORT_KEYS: Final = frozenset(
    {
        "type",
        "url",
        "endpoint",
        "serializer",
        "serializers",
        "options",
        "max_retries",
        "max_retry_delay",
        "initial_retry_delay",
        "retry_delay_growth",
        "retry_delay_jitter",
        "proxy",
        "headers",
    }
)
_ENDPOINT_KEYS: Final = frozenset(
    {"type", "host", "port", "path", "name", "tls", "timeout", "version"}
)
_TLS_KEYS: Final = frozenset({"hostname", "trust_root", "client_cert", "client_key"})
_PROXY_KEYS: Final = frozenset({"host", "port"})

_SERIALIZERS: Final[Mapping[str, tuple[str, ...]]] = {
    "websocket": WEBSOCKET_SERIALIZER_NAMES,
    "rawsocket": RAWSOCKET_SERIALIZER_NAMES,
}
_DEFAULT_SERIALIZERS: Final[Mapping[str, tuple[str, ...]]] = {
    "websocket": ("cbor", "msgpack", "json"),
    "rawsocket": ("cbor",),
}
_SCHEMES: Final[Mapping[str, tuple[str, ...]]] = {
    "websocket": ("ws", "wss"),
    "rawsocket": ("rs", "rss"),
}
_SECURE_SCHEMES: Final = frozenset({"wss", "rss"})

DEFAULT_CONNECT_TIMEOUT: Final = 10.0

# Retry defaults: the documented Autobahn ``Component`` page (Autobahn's code uses 1.5 s / 300 s).
DEFAULT_MAX_RETRIES: Final = -1
DEFAULT_INITIAL_RETRY_DELAY: Final = 1.0
DEFAULT_MAX_RETRY_DELAY: Final = 60.0
DEFAULT_RETRY_DELAY_GROWTH: Final = 1.5
#: The relative spread of the jitter (the delay varies by up to +-10 %).
DEFAULT_RETRY_DELAY_JITTER: Final = 0.1

#: A 0-argument callable returning a float in ``[0, 1]``, like :func:`random.random`.
NoiseSource: TypeAlias = Callable[[], float]

# Known transport options: canonical snake_case name -> Autobahn camelCase spelling.
_OPTION_ALIASES: Final[Mapping[str, str]] = {
    "maxMessagePayloadSize": "max_message_size",
    "openHandshakeTimeout": "open_handshake_timeout",
    "closeHandshakeTimeout": "close_handshake_timeout",
    "autoPingInterval": "auto_ping_interval",
    "autoPingTimeout": "auto_ping_timeout",
    "autoPingSize": "auto_ping_size",
}
_OPTIONS: Final[Mapping[str, frozenset[str]]] = {
    "websocket": frozenset(
        {
            "max_message_size",
            "open_handshake_timeout",
            "close_handshake_timeout",
            "auto_ping_interval",
            "auto_ping_timeout",
            "auto_ping_size",
        }
    ),
    "rawsocket": frozenset({"max_message_size", "auto_ping_interval", "auto_ping_timeout"}),
}
# Autobahn factory options that wamp-py deliberately does not offer (for a better error message).
_AUTOBAHN_ONLY_OPTIONS: Final = frozenset(
    {
        "version",
        "utf8validateIncoming",
        "acceptMaskedServerFrames",
        "maskClientFrames",
        "applyMask",
        "maxFramePayloadSize",
        "autoFragmentSize",
        "failByDrop",
        "echoCloseCodeReason",
        "serverConnectionDropTimeout",
        "tcpNoDelay",
        "perMessageCompressionOffers",
        "perMessageCompressionAccept",
        "autoPingRestartOnAnyTraffic",
    }
)

_TOKEN: Final = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
_BAD_HEADER_VALUE: Final = re.compile(r"[\r\n\x00]")


# --------------------------------------------------------------------------------------------
# small validators (raise ConfigurationError without the transport prefix; the parser adds it)


def _keys_error(what: str, key: object, allowed: frozenset[str]) -> ConfigurationError:
    return ConfigurationError(
        f"unknown key {key!r} in {what}; allowed keys: {', '.join(sorted(allowed))}"
    )


def _check_keys(what: str, mapping: Mapping[Any, Any], allowed: frozenset[str]) -> None:
    for key in mapping:
        if key not in allowed:
            raise _keys_error(what, key, allowed)


def _present(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """The entries of ``mapping`` whose value is not ``None`` (None means absent)."""
    return {k: v for k, v in mapping.items() if v is not None}


def _type_name(value: object) -> str:
    return type(value).__name__


def _check_str(value: object, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigurationError(f"{what} must be a non-empty str, not {value!r}")
    return value


def _check_path(value: object, what: str) -> str:
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str) or not value:
        raise ConfigurationError(f"{what} must be a non-empty str or path, not {value!r}")
    return value


def _check_host(value: object, what: str) -> str:
    host = _check_str(value, what)
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host or any(c.isspace() for c in host) or "/" in host:
        raise ConfigurationError(f"{what} is not a valid host name or address: {value!r}")
    try:
        host.encode("idna")  # Python's codec (IDNA 2003): the resolver, the HTTP Host header
        if not host.isascii():
            idna.encode(host, uts46=True)  # IDNA 2008: what anyio and trio send as the TLS name
    except UnicodeError as exc:  # (idna.IDNAError is one)
        raise ConfigurationError(
            f"{what} is not a valid host name or address: {value!r} ({exc})"
        ) from None
    return host


def _check_port(value: object, what: str) -> int:
    if type(value) is not int or not 1 <= value <= 65535:
        raise ConfigurationError(f"{what} must be an int in 1..65535, not {value!r}")
    return value


def _check_number(
    value: object,
    what: str,
    *,
    minimum: float = 0.0,
    positive: bool = False,
    maximum: float | None = None,
) -> float:
    """An int or float (not a bool), finite, ``>= minimum`` (``> minimum`` if ``positive``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigurationError(f"{what} must be a number, not {_type_name(value)}")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise ConfigurationError(f"{what} must be finite, not {value!r}")
    if number < minimum or (positive and number == minimum):
        bound = f"> {minimum:g}" if positive else f">= {minimum:g}"
        raise ConfigurationError(f"{what} must be {bound}, not {value!r}")
    if maximum is not None and number > maximum:
        raise ConfigurationError(f"{what} must be <= {maximum:g}, not {value!r}")
    return number


def _check_int(value: object, what: str, *, minimum: int, maximum: int | None = None) -> int:
    if type(value) is not int:
        raise ConfigurationError(f"{what} must be an int, not {_type_name(value)}")
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"in {minimum}..{maximum}" if maximum is not None else f">= {minimum}"
        raise ConfigurationError(f"{what} must be {bound}, not {value!r}")
    return value


def _check_mapping(value: object, what: str) -> Mapping[Any, Any]:
    if not isinstance(value, Mapping):
        raise ConfigurationError(f"{what} must be a dict, not {_type_name(value)}")
    return value


def _check_noise_source(value: object, what: str) -> Callable[[], float]:
    """A callable that can be called without arguments (checked when its signature is known)."""
    if not callable(value):
        raise ConfigurationError(
            f"{what} must be a 0-argument callable returning a float in [0, 1], "
            f"not {_type_name(value)}"
        )
    try:
        signature = inspect.signature(value)
    except (TypeError, ValueError):  # some builtins have no signature: trust them
        return cast(Callable[[], float], value)
    try:
        signature.bind()
    except TypeError:
        raise ConfigurationError(
            f"{what} must be callable without arguments (like random.random), "
            f"not with signature {signature}"
        ) from None
    return cast(Callable[[], float], value)


# --------------------------------------------------------------------------------------------
# URLs


@dataclass(frozen=True, slots=True)
class _URLInfo:
    scheme: str
    host: str | None  # None for a unix socket URL
    port: int | None
    unix_path: str | None
    split: SplitResult
    memory_name: str | None = None

    @property
    def secure(self) -> bool:
        return self.scheme in _SECURE_SCHEMES


def _redact(url: str) -> str:
    """``url`` without user info, its query shown as ``?...`` (it often carries a token), and
    no fragment: credentials never go into error messages, logs or reprs."""
    base, query, _ = url.partition("?")
    base = base.partition("#")[0]
    scheme, sep, rest = base.partition("://")
    if sep:
        netloc, slash, tail = rest.partition("/")
        if "@" in netloc:
            netloc = "<credentials removed>@" + netloc.rpartition("@")[2]
        base = f"{scheme}://{netloc}{slash}{tail}"
    return base + ("?..." if query else "")


def _parse_url(url: object, kind: str) -> _URLInfo:
    if not isinstance(url, str) or not url:
        raise ConfigurationError(f"'url' must be a non-empty str, not {url!r}")
    shown = _redact(url)
    base, sep, rest = url.partition("://")
    # rs://unix:router.sock: a path relative to the working directory, as the embedded
    # router's --listen takes it (rs://unix:1234 looks like a port: refused below)
    relative: str | None = None
    if (
        kind == "rawsocket" and sep and rest.startswith("unix:")
        and rest[5:6] not in ("", "/") and not rest[5:].isdigit()
    ):  # fmt: skip
        relative, url = rest[5:], f"{base}://unix"
        if "?" in relative or "#" in relative:
            raise ConfigurationError(f"a unix socket URL must not have a query: {shown!r}")
    try:
        split = urlsplit(url)
        port = split.port
        if "[" in split.netloc:  # (Python 3.10's urlsplit takes any text in brackets)
            ipaddress.IPv6Address(split.hostname or "")
    except ValueError as exc:
        raise ConfigurationError(f"invalid URL {shown!r}: {exc}") from None
    scheme = split.scheme.lower()
    allowed = _SCHEMES[kind]
    if scheme not in allowed:
        schemes = " or ".join(f"{s}://" for s in allowed)
        raise ConfigurationError(f"'url': a {kind} transport needs a {schemes} URL, not {shown!r}")
    if split.username is not None or split.password is not None:
        raise ConfigurationError(
            f"user info in URL {shown!r} is not supported: use the authentication settings"
        )
    if split.fragment:
        raise ConfigurationError(f"URL {shown!r} must not have a fragment")
    host = split.hostname
    if not host:
        raise ConfigurationError(f"URL {shown!r} has no host")
    target = request_target(split) if kind == "websocket" else ""
    if not target.isascii() or any(c <= " " or c == "\x7f" for c in target):
        raise ConfigurationError(
            f"the path and query of URL {shown!r} must be ASCII without spaces or control "
            "characters: percent-encode them (RFC 3986 section 2.1)"
        )
    if kind == "rawsocket":
        if split.query:
            raise ConfigurationError(f"a rawsocket URL must not have a query: {shown!r}")
        if host == "unix":
            # rs://unix:/tmp/router.sock (Autobahn's form) or rs://unix/tmp/router.sock
            if relative is not None:
                return _URLInfo(scheme, None, None, relative, split)
            if port is not None or not split.path or split.path == "/":
                raise ConfigurationError(
                    f"a unix socket URL needs a path, like 'rs://unix:/run/router.sock': {shown!r}"
                )
            return _URLInfo(scheme, None, None, split.path, split)
        if host == "memory" and port is None and split.path not in ("", "/"):
            # rs://memory/NAME: an in-process router listening under NAME (no socket)
            return _URLInfo(scheme, None, None, None, split, memory_name=split.path[1:])
        if split.path not in ("", "/"):
            raise ConfigurationError(f"a rawsocket URL must not have a path: {shown!r}")
    if port is None:
        port = DEFAULT_PORTS[scheme]
    elif not 1 <= port <= 65535:
        raise ConfigurationError(f"invalid port {port} in URL {shown!r}")
    return _URLInfo(scheme, host, port, None, split)


# --------------------------------------------------------------------------------------------
# public dataclasses


@dataclass(frozen=True, slots=True, kw_only=True)
class TLSConfig:
    """TLS settings of an endpoint (all optional; file paths are PEM files).

    ``hostname`` is the name to verify and send as SNI (default: the endpoint host);
    ``trust_root`` a CA bundle (default: the system trust store); ``client_cert`` and
    ``client_key`` a client certificate for mutual TLS (the key may live in the cert file).
    """

    hostname: str | None = None
    trust_root: str | None = None
    client_cert: str | None = None
    client_key: str | None = None

    def __post_init__(self) -> None:
        if self.hostname is not None:
            object.__setattr__(self, "hostname", _check_host(self.hostname, "tls 'hostname'"))
        for name in ("trust_root", "client_cert", "client_key"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, _check_path(value, f"tls {name!r}"))
        if self.client_key is not None and self.client_cert is None:
            raise ConfigurationError("tls 'client_key' needs 'client_cert'")


TLSOption: TypeAlias = Literal[True] | TLSConfig | ssl.SSLContext | None


@dataclass(frozen=True, slots=True, kw_only=True)
class TcpEndpoint:
    """Where to connect over TCP: ``host`` and ``port``, optionally TLS.

    ``timeout`` (seconds) bounds the connect (TCP + TLS); ``version`` restricts the address family
    (4 or 6) and ``None`` allows both. ``tls`` is ``None`` (plain), ``True`` (default TLS settings),
    a :class:`TLSConfig` or an :class:`ssl.SSLContext` used as is. ``type`` is always ``"tcp"``
    (tell the two endpoint kinds apart with it or with ``isinstance``).
    """

    host: str
    port: int
    timeout: float = DEFAULT_CONNECT_TIMEOUT
    tls: TLSOption = None
    version: Literal[4, 6] | None = None
    type: Literal["tcp"] = field(default="tcp", init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "host", _check_host(self.host, "endpoint 'host'"))
        _check_port(self.port, "endpoint 'port'")
        timeout = _check_number(self.timeout, "endpoint 'timeout'", positive=True)
        object.__setattr__(self, "timeout", timeout)
        tls: object = self.tls
        if tls is False:
            object.__setattr__(self, "tls", None)
        elif (
            tls is not None and tls is not True and not isinstance(tls, (TLSConfig, ssl.SSLContext))
        ):
            raise ConfigurationError(
                "endpoint 'tls' must be a bool, a dict, a TLSConfig or an ssl.SSLContext, "
                f"not {_type_name(tls)}"
            )
        if isinstance(tls, ssl.SSLContext) and tls.protocol == ssl.PROTOCOL_TLS_SERVER:
            # (every connect would fail, and a Component would retry that for ever)
            raise ConfigurationError(
                "endpoint 'tls' is a server-side ssl.SSLContext: a client needs one from "
                "ssl.create_default_context() (Purpose.SERVER_AUTH, the default)"
            )
        if self.version is not None:
            if type(self.version) is not int or self.version not in (4, 6):
                raise ConfigurationError(f"endpoint 'version' must be 4 or 6, not {self.version!r}")
            try:
                address = ipaddress.ip_address(self.host)
            except ValueError:
                pass  # a name: resolved later, restricted to the family
            else:
                if address.version != self.version:
                    raise ConfigurationError(
                        f"endpoint host {self.host!r} is not an IPv{self.version} address"
                    )

    @property
    def is_secure(self) -> bool:
        """True when the connection uses TLS."""
        return self.tls is not None

    def describe(self) -> str:
        """A short human-readable form, like ``tcp:example.com:443 (tls)``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"tcp:{host}:{self.port}" + (" (tls)" if self.is_secure else "")


@dataclass(frozen=True, slots=True, kw_only=True)
class UnixEndpoint:
    """Where to connect over a unix socket: its ``path``. ``timeout`` (seconds) bounds the
    connect. ``type`` is always ``"unix"``; ``tls`` is always ``None`` (no TLS over unix
    sockets)."""

    path: str
    timeout: float = DEFAULT_CONNECT_TIMEOUT
    type: Literal["unix"] = field(default="unix", init=False)
    tls: None = field(default=None, init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", _check_path(self.path, "endpoint 'path'"))
        timeout = _check_number(self.timeout, "endpoint 'timeout'", positive=True)
        object.__setattr__(self, "timeout", timeout)

    @property
    def is_secure(self) -> bool:
        """Always False: a unix socket endpoint has no TLS."""
        return False

    def describe(self) -> str:
        """A short human-readable form: ``unix:/path``."""
        return f"unix:{self.path}"


@dataclass(frozen=True, slots=True, kw_only=True)
class MemoryEndpoint:
    """An in-process router that listens under ``name`` (``rs://memory/NAME``): no socket, the
    bytes go through memory in the same event loop (see ``wamp_core.driver.listen_memory``).
    ``timeout`` bounds the connect; ``type`` is always ``"memory"``, ``tls`` always ``None``."""

    name: str
    timeout: float = DEFAULT_CONNECT_TIMEOUT
    type: Literal["memory"] = field(default="memory", init=False)
    tls: None = field(default=None, init=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name or "/" in self.name:
            raise ConfigurationError(
                f"endpoint 'name' must be a non-empty str without '/', not {self.name!r}"
            )
        timeout = _check_number(self.timeout, "endpoint 'timeout'", positive=True)
        object.__setattr__(self, "timeout", timeout)

    @property
    def is_secure(self) -> bool:
        """Always False: nothing leaves the process."""
        return False

    def describe(self) -> str:
        """A short human-readable form: ``memory:NAME``."""
        return f"memory:{self.name}"


#: Where to connect: a :class:`TcpEndpoint`, a :class:`UnixEndpoint` or a :class:`MemoryEndpoint`.
Endpoint: TypeAlias = TcpEndpoint | UnixEndpoint | MemoryEndpoint
_ENDPOINT_CLASSES: Final = (TcpEndpoint, UnixEndpoint, MemoryEndpoint)


@dataclass(frozen=True, slots=True)
class Proxy:
    """An HTTP proxy (websocket only): TCP goes to the proxy, which gets an HTTP ``CONNECT``
    for the endpoint; TLS (if any) is then negotiated with the endpoint through the tunnel."""

    host: str
    port: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "host", _check_host(self.host, "proxy 'host'"))
        _check_port(self.port, "proxy 'port'")


def _empty_mapping() -> Mapping[str, Any]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True, kw_only=True)
class TransportConfig:
    """One validated transport: how to connect, serialize and retry.

    ``serializers`` are in preference order (a rawsocket has exactly one). ``options`` holds only
    the transport options the user gave (snake_case names, validated); drivers apply their
    defaults for the rest. Build instances with :func:`parse_transports`.

    Retry settings (defaults from the documented Autobahn ``Component`` page):
    ``max_retries`` counts retries after the first consecutive failure (``-1``: forever);
    the n-th consecutive failure is followed by a wait of
    ``min(max_retry_delay, initial_retry_delay * retry_delay_growth ** (n - 1))`` scaled by
    ``1 + retry_delay_jitter * (2 * retry_delay_noise() - 1)`` and clamped to
    ``[0, max_retry_delay]``. ``retry_delay_jitter`` is the relative spread (0..1) and
    ``retry_delay_noise`` the 0-argument source of values in ``[0, 1]`` (default
    :func:`random.random`; a value outside ``[0, 1]`` is a :class:`ConfigurationError` when
    drawn). The transport dict key ``retry_delay_jitter`` sets the spread when it is a number
    and the noise source when it is a callable (see :func:`parse_transports`).
    """

    type: TransportType
    url: str | None
    endpoint: Endpoint
    serializers: tuple[str, ...]
    max_retries: int = DEFAULT_MAX_RETRIES
    initial_retry_delay: float = DEFAULT_INITIAL_RETRY_DELAY
    max_retry_delay: float = DEFAULT_MAX_RETRY_DELAY
    retry_delay_growth: float = DEFAULT_RETRY_DELAY_GROWTH
    retry_delay_jitter: float = DEFAULT_RETRY_DELAY_JITTER
    retry_delay_noise: NoiseSource = field(default=_random.random, hash=False, repr=False)
    options: Mapping[str, Any] = field(default_factory=_empty_mapping, hash=False)
    proxy: Proxy | None = None
    headers: Mapping[str, str] = field(default_factory=_empty_mapping, hash=False, repr=False)

    def __post_init__(self) -> None:
        kind = self.type
        if kind not in ("websocket", "rawsocket"):
            raise ConfigurationError(
                f"transport 'type' must be 'websocket' or 'rawsocket', not {kind!r}"
            )
        if not isinstance(self.endpoint, _ENDPOINT_CLASSES):
            raise ConfigurationError(
                f"'endpoint' must be an Endpoint, not {_type_name(self.endpoint)}"
            )
        if self.url is not None:
            info = _parse_url(self.url, kind)
            if info.secure and not self.endpoint.is_secure:
                raise ConfigurationError(
                    f"URL scheme '{info.scheme}://' means TLS, but the endpoint "
                    f"{self.endpoint.describe()} has TLS disabled"
                )
        elif kind == "websocket":
            raise ConfigurationError("a websocket transport needs a 'url'")
        object.__setattr__(self, "serializers", _check_serializers(kind, self.serializers))
        _check_int(self.max_retries, "'max_retries'", minimum=-1)
        for name in ("initial_retry_delay", "max_retry_delay"):
            value = _check_number(getattr(self, name), repr(name))
            object.__setattr__(self, name, value)
        growth = _check_number(self.retry_delay_growth, "'retry_delay_growth'", minimum=1.0)
        object.__setattr__(self, "retry_delay_growth", growth)
        jitter = _check_number(self.retry_delay_jitter, "'retry_delay_jitter'", maximum=1.0)
        object.__setattr__(self, "retry_delay_jitter", jitter)
        _check_noise_source(self.retry_delay_noise, "'retry_delay_noise'")
        object.__setattr__(self, "options", _check_options(kind, self.options))
        if self.proxy is not None:
            if kind != "websocket":
                raise ConfigurationError("'proxy' is only supported by websocket transports")
            if not isinstance(self.proxy, Proxy):
                raise ConfigurationError(f"'proxy' must be a Proxy, not {_type_name(self.proxy)}")
            if not isinstance(self.endpoint, TcpEndpoint):
                raise ConfigurationError(
                    f"'proxy' needs a tcp endpoint (a proxy tunnels TCP), not {self.endpoint}"
                )
        headers = _check_headers(self.headers)
        if headers and kind != "websocket":
            raise ConfigurationError("'headers' is only supported by websocket transports")
        object.__setattr__(self, "headers", headers)

    @property
    def is_secure(self) -> bool:
        """True when the connection to the router uses TLS."""
        return self.endpoint.is_secure

    @property
    def host_header(self) -> str:
        """The HTTP ``Host`` of the WebSocket opening handshake (from the URL, as sent)."""
        split = self._websocket_url()
        return host_header(split.hostname or "", split.port, split.scheme.lower() == "wss")

    @property
    def resource(self) -> str:
        """The request target of the WebSocket opening handshake: path plus query (from the URL)."""
        return request_target(self._websocket_url())

    def describe(self) -> str:
        """The URL, or the endpoint when there is no URL (for messages and logs).

        A query string is shown as ``?...``: it often carries a token.
        """
        if self.url is None:
            return self.endpoint.describe()
        return _redact(self.url)

    def __repr__(self) -> str:  # (the URL as describe() shows it: a token stays out of logs)
        shown = []
        for item in dataclasses.fields(self):
            value = getattr(self, item.name)
            if item.name == "url" and value is not None:
                value = _redact(value)
            if item.repr:
                shown.append(f"{item.name}={value!r}")
        return f"TransportConfig({', '.join(shown)})"

    def _websocket_url(self) -> SplitResult:
        if self.type != "websocket" or self.url is None:
            raise ConfigurationError("only a websocket transport has a Host and a resource")
        return urlsplit(self.url)


#: One transport as users write it: a URL, an Autobahn-style dict, or a ready TransportConfig.
TransportSpec: TypeAlias = str | Mapping[str, Any] | TransportConfig


def _check_serializers(kind: str, value: object, key: str = "serializers") -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise ConfigurationError(f"'serializers' must be a list of str, not {value!r}")
    names = tuple(value)
    if not names:
        raise ConfigurationError("'serializers' must not be empty")
    allowed = _SERIALIZERS[kind]
    for name in names:
        if not isinstance(name, str):
            raise ConfigurationError(f"'{key}': serializer names must be str, not {name!r}")
        if name not in allowed:
            hint = " (batched serializers are websocket only)" if name.endswith(".batched") else ""
            raise ConfigurationError(
                f"'{key}': unknown serializer {name!r}{hint}; "
                f"allowed for {kind}: {', '.join(allowed)}"
            )
    if len(set(names)) != len(names):
        raise ConfigurationError(f"'{key}': duplicate serializer in {list(names)!r}")
    if kind == "rawsocket" and len(names) != 1:
        raise ConfigurationError(
            f"'{key}': a rawsocket transport uses exactly one serializer, not {list(names)!r}"
        )
    return names


def _check_option_value(kind: str, name: str, value: object) -> object:
    what = f"option {name!r}"
    if name == "max_message_size":
        if kind == "rawsocket":
            return _check_int(
                value,
                what,
                minimum=RAWSOCKET_MIN_MESSAGE_SIZE,
                maximum=RAWSOCKET_MAX_MESSAGE_SIZE,
            )
        return _check_int(value, what, minimum=1)
    if name == "auto_ping_size":
        return _check_int(value, what, minimum=4, maximum=125)
    if name in ("open_handshake_timeout", "close_handshake_timeout"):
        return _check_number(value, what, positive=True)
    # auto_ping_interval / auto_ping_timeout: 0 disables
    return _check_number(value, what)


def _camel(key: str) -> str:
    """``auto_fragment_size`` -> ``autoFragmentSize``, as Autobahn reads snake_case options."""
    first, *rest = key.split("_")
    return first + "".join(part[:1].upper() + part[1:] for part in rest)


def _check_options(kind: str, value: object) -> Mapping[str, Any]:
    options = _check_mapping(value, "'options'")
    known = _OPTIONS[kind]
    result: dict[str, Any] = {}
    for key, raw in options.items():
        if raw is None:
            continue
        # Autobahn's camelCase, and its snake_case spelling of that (max_message_payload_size)
        camel = _camel(key) if isinstance(key, str) else key
        name = _OPTION_ALIASES.get(key, _OPTION_ALIASES.get(camel, key))
        if name not in known:
            hint = (
                " (an Autobahn option wamp-py does not support)"
                if key in _AUTOBAHN_ONLY_OPTIONS or camel in _AUTOBAHN_ONLY_OPTIONS
                else ""
            )
            raise ConfigurationError(
                f"unknown {kind} option {key!r}{hint}; allowed options: {', '.join(sorted(known))}"
            )
        if name in result:
            raise ConfigurationError(f"option {name!r} is given twice (as {key!r} too)")
        result[name] = _check_option_value(kind, name, raw)
    return MappingProxyType(result)


def _check_headers(value: object) -> Mapping[str, str]:
    headers = _check_mapping(value, "'headers'")
    result: dict[str, str] = {}
    seen: set[str] = set()
    for name, val in headers.items():
        if not isinstance(name, str) or not _TOKEN.match(name):
            raise ConfigurationError(f"invalid HTTP header name {name!r}")
        if name.lower() in WEBSOCKET_RESERVED_HEADERS:
            raise ConfigurationError(
                f"header {name!r} is set by the WebSocket handshake and cannot be overridden"
            )
        if name.lower() in seen:
            raise ConfigurationError(f"header {name!r} is given twice")
        seen.add(name.lower())
        # Never echo header values: they often carry credentials.
        if not isinstance(val, str):
            raise ConfigurationError(
                f"header {name!r} must have a str value, not {_type_name(val)}"
            )
        if _BAD_HEADER_VALUE.search(val):
            raise ConfigurationError(f"header {name!r} value contains CR, LF or NUL")
        result[name] = val
    return MappingProxyType(result)


# --------------------------------------------------------------------------------------------
# dict -> dataclass parsing


def _parse_tls(value: object) -> TLSOption:
    if value is True or value is False:
        return True if value else None
    if isinstance(value, (TLSConfig, ssl.SSLContext)):
        return value
    if isinstance(value, Mapping):
        _check_keys("tls", value, _TLS_KEYS)
        return TLSConfig(**_present(value))
    raise ConfigurationError(
        "endpoint 'tls' must be a bool, a dict, a TLSConfig or an ssl.SSLContext, "
        f"not {_type_name(value)}"
    )


def _parse_endpoint(value: object, url: _URLInfo | None) -> Endpoint:
    if isinstance(value, _ENDPOINT_CLASSES):
        return value
    raw = _check_mapping(value, "'endpoint'")
    _check_keys("endpoint", raw, _ENDPOINT_KEYS)
    config = _present(raw)
    kind = config.pop("type", None)
    if kind is None:
        kind = "unix" if "path" in config else "memory" if "name" in config else "tcp"
    if kind not in ("tcp", "unix", "memory"):
        raise ConfigurationError(f"endpoint 'type' must be 'tcp', 'unix' or 'memory', not {kind!r}")
    if kind == "memory":
        if "name" not in config:
            raise ConfigurationError("a memory endpoint requires 'name'")
        for name in ("host", "port", "path", "tls", "version"):
            value = config.pop(name, None)
            if value is not None and value is not False:
                raise ConfigurationError(f"endpoint {name!r} is not valid for a memory endpoint")
        return MemoryEndpoint(**config)
    if "name" in config:
        raise ConfigurationError(f"endpoint 'name' is not valid for a {kind} endpoint")
    if kind == "tcp":
        for key in ("host", "port"):
            if key not in config:
                raise ConfigurationError(f"a tcp endpoint requires {key!r}")
    elif kind == "unix" and "path" not in config:
        raise ConfigurationError("a unix endpoint requires 'path'")
    if "tls" in config:
        config["tls"] = _parse_tls(config["tls"])
        if url is not None and url.secure and config["tls"] is None:
            raise ConfigurationError(
                f"URL scheme '{url.scheme}://' means TLS, but the endpoint sets tls=False"
            )
    elif url is not None and url.secure:
        if kind == "unix":
            raise ConfigurationError(
                f"URL scheme '{url.scheme}://' means TLS, which a unix endpoint does not support"
            )
        config["tls"] = True
    if kind == "unix":
        for name in ("host", "port", "tls", "version"):
            value = config.pop(name, None)
            if value is not None and value is not False:
                raise ConfigurationError(f"endpoint {name!r} is not valid for a unix endpoint")
        return UnixEndpoint(**config)
    if "path" in config:
        raise ConfigurationError("endpoint 'path' is not valid for a tcp endpoint")
    return TcpEndpoint(**config)


def _endpoint_from_url(url: _URLInfo) -> Endpoint:
    if url.memory_name is not None:
        if url.secure:
            raise ConfigurationError(
                f"URL scheme '{url.scheme}://' means TLS, which a memory endpoint does not use"
            )
        return MemoryEndpoint(name=url.memory_name)
    if url.unix_path is not None:
        if url.secure:
            raise ConfigurationError(
                f"URL scheme '{url.scheme}://' means TLS, which a unix socket does not support"
            )
        return UnixEndpoint(path=url.unix_path)
    assert url.host is not None and url.port is not None
    return TcpEndpoint(host=url.host, port=url.port, tls=True if url.secure else None)


def _parse_proxy(value: object) -> Proxy:
    if isinstance(value, Proxy):
        return value
    raw = _check_mapping(value, "'proxy'")
    _check_keys("proxy", raw, _PROXY_KEYS)
    for key in ("host", "port"):
        if raw.get(key) is None:
            raise ConfigurationError(f"'proxy' requires {key!r}")
    return Proxy(raw["host"], raw["port"])


def _parse_serializers(kind: str, config: Mapping[str, Any]) -> tuple[str, ...]:
    if "serializer" in config and "serializers" in config:
        raise ConfigurationError("give either 'serializer' or 'serializers', not both")
    if "serializer" in config:
        name = config["serializer"]
        if not isinstance(name, str):
            raise ConfigurationError(f"'serializer' must be a str, not {name!r}")
        return _check_serializers(kind, (name,), "serializer")
    if "serializers" in config:
        value = config["serializers"]
        if isinstance(value, str) or not isinstance(value, (list, tuple)):
            raise ConfigurationError(f"'serializers' must be a list of str, not {value!r}")
        return _check_serializers(kind, value)
    return _DEFAULT_SERIALIZERS[kind]


def _parse_jitter(value: object) -> dict[str, Any]:
    """``retry_delay_jitter``: a number is the spread, a callable the noise source."""
    if callable(value):
        return {"retry_delay_noise": _check_noise_source(value, "'retry_delay_jitter'")}
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigurationError(
            "'retry_delay_jitter' must be a number in [0, 1] or a 0-argument callable "
            f"(like random.random), not {_type_name(value)}"
        )
    return {"retry_delay_jitter": value}


def _parse_transport(item: object) -> TransportConfig:
    if isinstance(item, TransportConfig):
        return item
    if isinstance(item, str):
        item = {"url": item}
    if not isinstance(item, Mapping):
        raise ConfigurationError(f"a transport must be a URL str or a dict, not {_type_name(item)}")
    _check_keys("transport", item, _TRANSPORT_KEYS)
    config = _present(item)

    url = config.get("url")
    kind = config.get("type")
    if kind is None:
        is_rs = isinstance(url, str) and url.partition("://")[0].lower() in _SCHEMES["rawsocket"]
        kind = "rawsocket" if is_rs else "websocket"
    elif kind not in ("websocket", "rawsocket"):
        raise ConfigurationError(
            f"transport 'type' must be 'websocket' or 'rawsocket', not {kind!r}"
        )

    url_info = _parse_url(url, kind) if url is not None else None
    if "endpoint" in config:
        endpoint = _parse_endpoint(config["endpoint"], url_info)
    elif url_info is not None:
        endpoint = _endpoint_from_url(url_info)
    elif kind == "websocket":
        raise ConfigurationError("a websocket transport needs a 'url'")
    else:
        raise ConfigurationError("a rawsocket transport needs a 'url' or an 'endpoint'")

    if kind != "websocket":
        for key in ("proxy", "headers"):
            if key in config:
                raise ConfigurationError(f"{key!r} is only supported by websocket transports")

    kwargs: dict[str, Any] = {}
    for key in (
        "max_retries",
        "initial_retry_delay",
        "max_retry_delay",
        "retry_delay_growth",
        "options",
        "headers",
    ):
        if key in config:
            kwargs[key] = config[key]
    if "retry_delay_jitter" in config:
        kwargs.update(_parse_jitter(config["retry_delay_jitter"]))
    if "proxy" in config:
        kwargs["proxy"] = _parse_proxy(config["proxy"])
    return TransportConfig(
        type=cast(TransportType, kind),
        url=url,
        endpoint=endpoint,
        serializers=_parse_serializers(kind, config),
        **kwargs,
    )


def parse_transports(
    transports: TransportSpec | Sequence[TransportSpec] | None,
) -> list[TransportConfig]:
    """Validate Autobahn-style ``transports`` and return one :class:`TransportConfig` each.

    ``transports`` is a URL, a transport dict, or a list of them; ``None`` means
    ``ws://127.0.0.1:8080/ws``. ``TransportConfig`` instances are accepted as they are.
    Raises :class:`ConfigurationError` naming the transport index and the problem.

    The dict keys are those of the documented Autobahn ``Component`` page: ``type``, ``url``,
    ``endpoint`` (``type``, ``host``, ``port``, ``path``, ``timeout``, ``tls``, ``version``),
    ``serializer``/``serializers``, ``options``, ``proxy`` (``host``, ``port``), ``headers`` and
    the retry settings ``max_retries`` (default -1, unlimited), ``initial_retry_delay`` (1.0 s),
    ``max_retry_delay`` (60 s), ``retry_delay_growth`` (1.5) and ``retry_delay_jitter``:
    either a 0-argument callable returning floats in ``[0, 1]`` (the page's form; it becomes
    ``TransportConfig.retry_delay_noise`` and the spread stays 0.1) or a number in ``[0, 1]``
    (Autobahn's code form; it becomes the spread ``TransportConfig.retry_delay_jitter`` and the
    noise stays :func:`random.random`). See :class:`TransportConfig` for the delay formula.
    """
    items: Sequence[object]
    if transports is None:
        items = [DEFAULT_URL]
    elif isinstance(transports, (str, Mapping, TransportConfig)):
        items = [transports]
    elif isinstance(transports, Sequence) and not isinstance(transports, (bytes, bytearray)):
        items = list(transports)
        if not items:
            raise ConfigurationError("'transports' must not be empty")
    else:
        raise ConfigurationError(
            "'transports' must be a URL str, a dict or a list of them, "
            f"not {_type_name(transports)}"
        )
    result: list[TransportConfig] = []
    for index, item in enumerate(items):
        try:
            config = _parse_transport(item)
        except ConfigurationError as exc:
            raise ConfigurationError(f"transport {index}: {exc}") from None
        logger.debug("transport %d: %s %s", index, config.type, config.describe())
        result.append(config)
    return result
