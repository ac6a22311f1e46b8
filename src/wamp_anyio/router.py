"""The embedded router as a program::

    python -m wamp_anyio.router --listen ws://127.0.0.1:8080/ws --listen rs://127.0.0.1:8081 \\
        --listen rs://unix:./wamp.sock --realm realm1 \\
        [--listen wss://127.0.0.1:8443/ws --tls-cert server.crt --tls-key server.key]

``--config FILE`` (JSON) adds who may authenticate and what roles may do::

    {"principals": [{"authid": "joe", "role": "user", "ticket": "..."},
                    {"authid": "peter", "secret": "...", "salt": "...", "iterations": 1000,
                     "keylen": 32},
                    {"authid": "alice", "pubkeys": ["<64 hex chars>"]},
                    {"authid": "carol", "scram": {"method": "wamp-scram", "kdf": "pbkdf2",
                     "iterations": 4096, "salt": "<hex>", "stored_key": "<hex>",
                     "server_key": "<hex>"}}],
     "permissions": {"user": [{"uri": "com.example.", "match": "prefix",
                               "actions": ["call", "subscribe"]}],
                     "anonymous": [{"uri": "com.example.public.", "actions": ["call"]}]},
     "anonymous": true}

On a router with principals or permissions, anonymous sessions may do only what an
``anonymous`` entry allows (docs/router.md).

Prints ``listening on URL`` for each bound address (port 0 picks a free port), logs at INFO,
and on Ctrl-C or SIGTERM says GOODBYE ``wamp.close.system_shutdown`` to every session and exits
0. Binds only where told (loopback by default).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import signal
import ssl
import sys
from collections.abc import Sequence
from typing import Any

import anyio

import wamp_core as wc

from ._router import HANDSHAKE_TIMEOUT, start_router

__all__ = ["main"]


_SCRAM_KEYS = {"method", "kdf", "iterations", "memory", "salt", "password", "stored_key",
               "server_key"}  # fmt: skip


def _scram(authid: Any, raw: Any) -> wc.ScramCredential:
    """A principal's ``scram`` entry: the derived keys (hex), or a ``password`` to derive
    them from at start. A misspelt key is refused (``"iteratons"`` would have meant the
    default cost); the values are checked by :class:`wamp_core.ScramCredential`."""
    if not isinstance(raw, dict):
        raise ValueError(f"principal {authid!r}: scram must be an object")
    unknown = set(raw) - _SCRAM_KEYS
    if unknown:
        raise ValueError(f"principal {authid!r}: unknown scram keys {sorted(unknown)}")
    keys = ("password",) if "password" in raw else ("stored_key", "server_key")
    for key in ("salt", *keys):
        if not isinstance(raw.get(key), str):
            raise ValueError(f"principal {authid!r}: scram {key} must be a string")
    iterations, memory = raw.get("iterations", 4096), raw.get("memory")
    method = raw.get("method", "wamp-scram")

    def hex_bytes(key: str) -> bytes:
        try:
            return bytes.fromhex(raw[key])
        except ValueError:
            raise ValueError(f"principal {authid!r}: scram {key} must be hex") from None

    salt = hex_bytes("salt")
    kdf = raw.get("kdf") or ("pbkdf2" if method == "wamp-scram" else "argon2id-13")
    if "password" in raw:
        return wc.ScramCredential.from_password(raw["password"], salt, method=method,
                                                kdf=kdf, iterations=iterations,
                                                memory=memory)  # fmt: skip
    return wc.ScramCredential(salt, hex_bytes("stored_key"), hex_bytes("server_key"), kdf,
                              iterations, memory, method)  # fmt: skip


def _load_config(path: str | None) -> dict[str, Any]:
    """The keyword arguments of :func:`start_router` a ``--config`` file gives; a mistake in it
    ends the program with a message naming the file (``SystemExit``)."""
    if path is None:
        return {}
    try:
        with open(path, encoding="utf-8") as f:
            raw = json.load(f)  # (JSONDecodeError is a ValueError)
        return _config(raw)
    except (KeyError, TypeError, ValueError, OSError) as exc:  # ConfigurationError: ValueError
        what = f"missing key {exc}" if isinstance(exc, KeyError) else str(exc)
        raise SystemExit(f"{path}: {what}") from None


#: The keys of a principal in a --config file: :class:`wamp_core.Principal`'s fields.
_PRINCIPAL_KEYS = frozenset(f.name for f in dataclasses.fields(wc.Principal))


def _config(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ValueError("the configuration must be a JSON object")
    unknown = set(raw) - {"principals", "permissions", "anonymous"}
    if unknown:
        raise ValueError(f"unknown keys {sorted(unknown)}")
    anonymous = raw.get("anonymous", True)
    if not isinstance(anonymous, bool):  # "false" is not false
        raise ValueError(f"anonymous must be true or false, not {anonymous!r}")
    entries, rules = raw.get("principals", []), raw.get("permissions", {})
    if not isinstance(entries, list) or not all(isinstance(p, dict) for p in entries):
        raise ValueError("principals must be a list of objects")
    if not isinstance(rules, dict) or not all(isinstance(r, list) for r in rules.values()):
        raise ValueError("permissions must map each role to a list of rules")
    principals: list[wc.Principal] = []
    for p in entries:
        unknown_keys = set(p) - _PRINCIPAL_KEYS
        if unknown_keys:  # (it said: Principal.__init__() got an unexpected keyword argument)
            raise ValueError(f"principal {p.get('authid')!r}: unknown keys {sorted(unknown_keys)}")
        pubkeys = p.get("pubkeys", [])
        if not isinstance(pubkeys, list):
            raise ValueError(f"principal {p.get('authid')!r}: pubkeys must be a list")
        realms = p.get("realms", [])
        if not isinstance(realms, list):
            raise ValueError(f"principal {p.get('authid')!r}: realms must be a list")
        scram = _scram(p.get("authid"), p["scram"]) if "scram" in p else None
        principals.append(wc.Principal(**{**p, "pubkeys": tuple(pubkeys), "realms": tuple(realms),
                                          "scram": scram}))  # fmt: skip
    permissions = {role: [_rule(role, r) for r in role_rules] for role, role_rules in rules.items()}
    # What the engine refuses of the whole (an authid given twice), named with the file (the
    # realms come from --realm: a principal pinned to another is refused when the router starts)
    wc.Router(principals=principals, permissions=permissions, anonymous=anonymous,
              auto_realms=True)  # fmt: skip
    return {"principals": principals, "permissions": permissions, "anonymous": anonymous}


def _rule(role: str, raw: Any) -> wc.Permission:
    """One permission rule of ``role``: a misspelt key would widen it (to every action, or to
    prefix matching), so an unknown one is refused."""
    if not isinstance(raw, dict):
        raise ValueError(f"role {role!r}: each rule must be an object")
    unknown = set(raw) - {"uri", "actions", "match"}
    if unknown:
        raise ValueError(f"role {role!r}: unknown rule keys {sorted(unknown)}")
    actions = raw.get("actions", wc.Permission.actions)
    if not isinstance(actions, list | tuple):
        raise ValueError(f"role {role!r}: actions must be a list, not {actions!r}")
    uri = raw["uri"]
    if "match" not in raw and isinstance(uri, str) and uri and not uri.endswith("."):
        # Crossbar.io reads such a rule as exact, a default of prefix would widen it
        # ("com.example.add" would also cover "com.example.addUser"): say which one.
        raise ValueError(
            f'role {role!r}: rule {uri!r} needs "match": "exact" or "prefix" (without'
            " it, only a URI ending in '.' or \"\" is a prefix)"
        )
    try:
        return wc.Permission(uri, tuple(actions), raw.get("match", "prefix"))
    except wc.ConfigurationError as exc:
        raise ValueError(f"role {role!r}: {exc}") from None


def _no_passphrase() -> str:
    """An encrypted --tls-key: refused with a message (OpenSSL would prompt on a terminal,
    or fail with "Invalid argument" under a service manager)."""
    raise wc.ConfigurationError("the key is encrypted: give an unencrypted --tls-key")


async def _serve(opts: argparse.Namespace) -> None:
    config = _load_config(opts.config)
    context = None
    if opts.tls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        try:
            context.load_cert_chain(opts.tls_cert, opts.tls_key, password=_no_passphrase)
        except (OSError, ssl.SSLError) as exc:
            cause = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            raise wc.ConfigurationError(
                f"--tls-cert {opts.tls_cert!r} / --tls-key {opts.tls_key!r}: {cause}"
            ) from None
    listen = opts.listen or ["ws://127.0.0.1:8080/ws"]
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with start_router(listen, realms=opts.realm or ["realm1"],
                                auto_realms=opts.auto_realms, disclose=opts.disclose,
                                ssl_context=context, handshake_timeout=opts.handshake_timeout,
                                idle_timeout=opts.idle_timeout, ping_interval=opts.ping_interval,
                                max_queued=opts.max_queued, **config) as server:  # fmt: skip
            for url in server.urls:
                sys.stdout.write(f"listening on {url}\n")  # the program's output
            sys.stdout.flush()
            async for signum in signals:
                logging.getLogger(__name__).info("%s: shutting down", signal.Signals(signum).name)
                return


def main(argv: Sequence[str] | None = None, prog: str = "python -m wamp_anyio.router") -> int:
    parser = argparse.ArgumentParser(prog=prog,
                                     description="A WAMP router (embedded engine).")  # fmt: skip
    parser.add_argument("--listen", action="append", metavar="URL",
                        help="ws://host:port/path, rs://host:port or rs://unix:/path "
                             "(repeatable; default ws://127.0.0.1:8080/ws)")  # fmt: skip
    parser.add_argument("--realm", action="append", metavar="URI", help="realm (repeatable; "
                        "default realm1)")  # fmt: skip
    parser.add_argument("--auto-realms", action="store_true",
                        help="create any realm a client asks for (tests)")  # fmt: skip
    parser.add_argument("--disclose", action="store_true",
                        help="always disclose callers and publishers")  # fmt: skip
    parser.add_argument("--config", metavar="FILE", help="principals and permissions (JSON)")
    parser.add_argument("--tls-cert", metavar="PEM", help="server certificate (wss://, rss://)")
    parser.add_argument("--tls-key", metavar="PEM", help="its private key")
    parser.add_argument(
        "--handshake-timeout",
        type=float,
        default=HANDSHAKE_TIMEOUT,
        metavar="S",
        help=f"close a connection not joined within S seconds (default {HANDSHAKE_TIMEOUT:g})",
    )
    parser.add_argument(
        "--idle-timeout",
        type=float,
        metavar="S",
        help="close a connection that sends nothing for S seconds (default: never)",
    )
    parser.add_argument(
        "--ping-interval",
        type=float,
        metavar="S",
        help="ping a joined connection that sent nothing for S seconds and close it when it "
        "does not answer within S more: frees the session of a client whose link died "
        "(default: never)",
    )
    parser.add_argument(
        "--max-queued",
        type=int,
        default=wc.RouterConnection.MAX_QUEUED,
        metavar="BYTES",
        help="cut off a client that does not read once BYTES wait for it beyond the write in "
        "progress: it holds at most about twice that (default 16 MiB)",
    )
    parser.add_argument("--backend", choices=("asyncio", "trio"), default="asyncio")
    opts = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if bool(opts.tls_cert) != bool(opts.tls_key):
        parser.error("--tls-cert and --tls-key go together")
    secure = [url for url in opts.listen or () if url.startswith(("wss:", "rss:"))]
    if secure and not opts.tls_cert:
        parser.error(f"{secure[0]} needs --tls-cert and --tls-key")
    try:
        anyio.run(_serve, opts, backend=opts.backend)
    except (wc.ConfigurationError, OSError) as exc:  # a --listen URL, a port in use, a TLS file
        sys.stderr.write(f"{parser.prog}: {exc}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
