"""TLS pieces every driver needs, without any I/O: the client :class:`ssl.SSLContext` for an
endpoint's ``tls`` option, the host name to verify, and the channel-binding ids.

A driver connects, wraps the stream with ``ssl_context_for(endpoint)`` and
``server_hostname=server_hostname_for(endpoint)``, reads the raw binding bytes from its TLS object
(``get_channel_binding("tls-unique")``) and hands them to :func:`channel_ids`; the result goes to
``make_connection(..., channel_ids=...)``. Nothing here opens a socket or reads the clock; the
only file access is :func:`ssl_context_for` loading the PEM files a :class:`TLSConfig` names.
"""

from __future__ import annotations

import hashlib
import logging
import os
import ssl
from typing import Final

from .._errors import ConfigurationError
from ._transports import (
    Endpoint,
    MemoryEndpoint,
    TcpEndpoint,
    TLSConfig,
    TLSOption,
    TransportConfig,
    UnixEndpoint,
)

__all__ = [
    "MINIMUM_TLS_VERSION",
    "TLS_EXPORTER_LENGTH",
    "channel_ids",
    "server_hostname_for",
    "ssl_context_for",
]

logger = logging.getLogger(__name__)

#: The oldest TLS version a context made here accepts.
MINIMUM_TLS_VERSION: Final = ssl.TLSVersion.TLSv1_2

#: Length of the RFC 9266 ``tls-exporter`` value,
#: ``TLS-Exporter("EXPORTER-Channel-Binding", "", 32)``.
TLS_EXPORTER_LENGTH: Final = 32


def _tls_option(target: Endpoint | TransportConfig | TLSOption | bool) -> TLSOption:
    if isinstance(target, TransportConfig):
        return target.endpoint.tls
    if isinstance(target, TcpEndpoint | UnixEndpoint | MemoryEndpoint):
        return target.tls
    if target is False or target is None:
        return None
    if target is True or isinstance(target, (TLSConfig, ssl.SSLContext)):
        return target
    raise ConfigurationError(
        "'tls' must be True, a TLSConfig, an ssl.SSLContext, an Endpoint or a TransportConfig, "
        f"not {type(target).__name__}"
    )


def _refuse_password() -> str:
    # Called by OpenSSL only for an encrypted private key; without it OpenSSL would prompt on
    # the terminal. The exception propagates out of load_cert_chain().
    raise ConfigurationError("tls 'client_key' is encrypted; wamp-py needs an unencrypted key")


def _reason(exc: OSError) -> str:
    return exc.strerror if exc.strerror else str(exc)


def _load_client_cert(context: ssl.SSLContext, cert: str, key: str | None) -> None:
    try:
        context.load_cert_chain(cert, key, password=_refuse_password)
    except (OSError, ssl.SSLError) as exc:  # SSLError is an OSError
        files = repr(cert) if key is None else f"{cert!r} and {key!r}"
        raise ConfigurationError(
            f"tls 'client_cert': cannot load the client certificate and key from {files}: "
            f"{_reason(exc)}"
        ) from exc


def _new_context(tls: TLSConfig | None) -> ssl.SSLContext:
    # create_default_context(): CERT_REQUIRED, check_hostname, no compression, and the system
    # trust store unless a trust root is given (then only that, as Autobahn does).
    trust_root = tls.trust_root if tls is not None else None
    try:
        if trust_root is not None and os.path.isdir(trust_root):
            context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, capath=trust_root)
        else:
            context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=trust_root)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigurationError(
            f"tls 'trust_root': cannot load CA certificates from {trust_root!r}: {_reason(exc)}"
        ) from exc
    context.minimum_version = max(context.minimum_version, MINIMUM_TLS_VERSION)
    if tls is not None and tls.client_cert is not None:
        _load_client_cert(context, tls.client_cert, tls.client_key)
    return context


def ssl_context_for(
    target: Endpoint | TransportConfig | TLSOption | bool,
) -> ssl.SSLContext | None:
    """The client :class:`ssl.SSLContext` for an endpoint's ``tls`` option; ``None`` for plain.

    ``target`` is an :class:`Endpoint`, a :class:`TransportConfig` (its endpoint) or a ``tls``
    value itself:

    * ``None``/``False``: no TLS, returns ``None``;
    * ``True``: the system trust store, certificate and host name verification on;
    * a :class:`TLSConfig`: like ``True``, but ``trust_root`` (a PEM file or a hashed
      directory) replaces the system trust store, and ``client_cert``/``client_key`` are loaded
      for mutual TLS (an encrypted key is refused instead of prompting on the terminal);
    * an :class:`ssl.SSLContext`: returned as is (the same object, not modified).

    Contexts made here never accept less than TLS 1.2. A new context is made on every call
    (files are read again, so rotated certificates are picked up); a driver may keep one per
    transport. A file that cannot be loaded raises :class:`ConfigurationError` (which
    :func:`default_is_fatal` treats as fatal).
    """
    tls = _tls_option(target)
    if tls is None:
        return None
    if isinstance(tls, ssl.SSLContext):
        return tls
    context = _new_context(tls if isinstance(tls, TLSConfig) else None)
    logger.debug(
        "TLS context: trust root %s, client certificate %s",
        "system" if not isinstance(tls, TLSConfig) or tls.trust_root is None else tls.trust_root,
        "yes" if isinstance(tls, TLSConfig) and tls.client_cert is not None else "no",
    )
    return context


def server_hostname_for(target: Endpoint | TransportConfig) -> str | None:
    """The name to verify the router's certificate against (and send as SNI).

    ``TLSConfig.hostname`` when set, else the endpoint's host (an IP address is verified
    against the certificate's IP addresses, and no SNI is sent for it). ``None`` when the
    endpoint does not use TLS (or is a unix socket).
    """
    endpoint = target.endpoint if isinstance(target, TransportConfig) else target
    if not isinstance(endpoint, TcpEndpoint | UnixEndpoint | MemoryEndpoint):
        raise ConfigurationError(
            f"server_hostname_for() needs an Endpoint or a TransportConfig, "
            f"not {type(endpoint).__name__}"
        )
    if endpoint.tls is None or endpoint.type != "tcp":
        return None
    if isinstance(endpoint.tls, TLSConfig) and endpoint.tls.hostname is not None:
        return endpoint.tls.hostname
    return endpoint.host


def _binding_bytes(value: object, name: str) -> bytes:
    if isinstance(value, str) or not isinstance(value, (bytes, bytearray, memoryview)):
        raise TypeError(f"{name} must be bytes, not {type(value).__name__}")
    data = bytes(value)
    if not data:
        raise ValueError(f"{name} must not be empty (is the TLS handshake complete?)")
    return data


def channel_ids(
    tls_unique: bytes | bytearray | memoryview | None,
    tls_exporter: bytes | bytearray | memoryview | None = None,
) -> dict[str, bytes]:
    """The channel ids of a TLS connection, for ``make_connection(..., channel_ids=...)``.

    ``tls_unique`` is the raw ``tls-unique`` binding as the driver read it
    (``ssl_object.get_channel_binding("tls-unique")``: the first Finished message); its id is
    ``SHA-256(tls_unique)``, 32 bytes, as Autobahn and Crossbar.io compute it.

    ``tls_exporter`` is the raw RFC 9266 value ``TLS-Exporter("EXPORTER-Channel-Binding", "",
    32)``; it is already 32 uniformly random bytes and is used as is (Python's :mod:`ssl` cannot
    produce it, so a driver passes it only when its TLS library can).

    ``None`` leaves an id out: a plain connection passes ``channel_ids(None)`` and gets ``{}``.
    Never a zero id: an authenticator that needs a missing id refuses to sign.
    """
    ids: dict[str, bytes] = {}
    if tls_unique is not None:
        ids["tls-unique"] = hashlib.sha256(_binding_bytes(tls_unique, "tls_unique")).digest()
    if tls_exporter is not None:
        exported = _binding_bytes(tls_exporter, "tls_exporter")
        if len(exported) != TLS_EXPORTER_LENGTH:
            raise ValueError(
                f"tls_exporter must be {TLS_EXPORTER_LENGTH} bytes (RFC 9266), not {len(exported)}"
            )
        ids["tls-exporter"] = exported
    return ids
