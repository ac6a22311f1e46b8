"""Build authenticators from configuration and combine them into HELLO.Details."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from .._errors import ConfigurationError
from ._base import AnonymousAuthenticator, Authenticator
from ._cra import WampCraAuthenticator
from ._cryptosign import CryptosignAuthenticator
from ._scram import ScramAuthenticator
from ._ticket import TicketAuthenticator

__all__ = ["HelloAuth", "combine_authenticators", "create_authenticator"]


@dataclass(frozen=True)
class HelloAuth:
    """The authentication part of ``HELLO.Details``."""

    authmethods: list[str]
    authid: str | None
    authrole: str | None
    authextra: dict[str, Any]

    def details(self) -> dict[str, Any]:
        """The HELLO.Details entries (``authid``/``authrole``/``authextra`` only when set)."""
        out: dict[str, Any] = {"authmethods": list(self.authmethods)}
        if self.authid is not None:
            out["authid"] = self.authid
        if self.authrole is not None:
            out["authrole"] = self.authrole
        if self.authextra:
            out["authextra"] = dict(self.authextra)
        return out


def _at_most_one(name: str, auths: Sequence[Authenticator]) -> str | None:
    chosen: Authenticator | None = None
    for auth in auths:
        value = getattr(auth, name)
        if value is None:
            continue
        if chosen is not None and getattr(chosen, name) != value:
            raise ConfigurationError(
                f"authenticators disagree on {name}: {chosen.method!r} has "
                f"{getattr(chosen, name)!r}, {auth.method!r} has {value!r}"
            )
        chosen = auth
    if chosen is None:
        return None
    value = getattr(chosen, name)
    assert isinstance(value, str)
    return value


def combine_authenticators(auths: Sequence[Authenticator]) -> HelloAuth:
    """Combine authenticators (in preference order) into the HELLO authentication details.

    Calls each ``authextra()`` once, so call this once per HELLO. ``authid``/``authrole`` is
    the one non-None value; differing values, duplicate methods or conflicting ``authextra``
    keys raise :class:`ConfigurationError`. No authenticators means ``["anonymous"]``.
    """
    methods, authid, authrole = check_authenticators(auths)
    if not methods:
        return HelloAuth(authmethods=["anonymous"], authid=None, authrole=None, authextra={})
    extra: dict[str, Any] = {}
    owner: dict[str, str] = {}
    for auth in auths:
        for key, value in auth.authextra().items():
            if key in extra and extra[key] != value:
                raise ConfigurationError(
                    f"authenticators {owner[key]!r} and {auth.method!r} disagree on "
                    f"authextra key {key!r}"
                )
            extra.setdefault(key, value)
            owner.setdefault(key, auth.method)
    return HelloAuth(authmethods=methods, authid=authid, authrole=authrole, authextra=extra)


def check_authenticators(auths: Sequence[Any]) -> tuple[list[str], str | None, str | None]:
    """Check what can be offered together, without calling ``authextra()`` (which may make
    a nonce): each an :class:`Authenticator`, one per method, at most one ``authid`` and one
    ``authrole``; returns the methods, the ``authid`` and the ``authrole``. Raises
    :class:`ConfigurationError`."""
    if not isinstance(auths, Sequence) or isinstance(auths, (str, bytes)):
        raise ConfigurationError(
            f"authenticators must be a sequence of Authenticator, not a {type(auths).__name__}"
        )
    methods: list[str] = []
    for auth in auths:
        if not isinstance(auth, Authenticator):
            raise ConfigurationError(f"not an Authenticator: {type(auth).__name__}")
        if auth.method in methods:
            raise ConfigurationError(f"two authenticators for method {auth.method!r}")
        methods.append(auth.method)
    return methods, _at_most_one("authid", auths), _at_most_one("authrole", auths)


_COMMON: Final = frozenset({"authid", "authrole", "authextra"})


def _anonymous(cfg: dict[str, Any]) -> Authenticator:
    return AnonymousAuthenticator(**cfg)


def _ticket(cfg: dict[str, Any]) -> Authenticator:
    return TicketAuthenticator(
        cfg.pop("ticket"), cfg.pop("authid", None), cfg.pop("authrole", None), **cfg
    )


def _wampcra(cfg: dict[str, Any]) -> Authenticator:
    return WampCraAuthenticator(cfg.pop("secret"), cfg.pop("authid"), **cfg)


def _cryptosign(cfg: dict[str, Any]) -> Authenticator:
    return CryptosignAuthenticator(cfg.pop("privkey"), **cfg)


def _scram_crossbar(cfg: dict[str, Any]) -> Authenticator:
    _scram_kdf(cfg)
    return ScramAuthenticator(cfg.pop("password"), cfg.pop("authid"), dialect="crossbar", **cfg)


def _scram_spec(cfg: dict[str, Any]) -> Authenticator:
    _scram_kdf(cfg)
    return ScramAuthenticator(cfg.pop("password"), cfg.pop("authid"), dialect="spec", **cfg)


def _scram_kdf(cfg: dict[str, Any]) -> None:
    """Autobahn's examples pass ``kdf`` (``"argon2id13"``), which its ``AuthScram`` ignores:
    the router's CHALLENGE names the KDF. Taken for porting, and checked to be a name."""
    kdf = cfg.pop("kdf", None)
    if kdf is not None and not isinstance(kdf, str):
        raise ConfigurationError(f"'scram' kdf must be a KDF name (str), not {kdf!r}")


_SCRAM_KEYS: Final = _COMMON | {
    "password", "min_iterations", "min_argon2_cost", "max_argon2_cost", "kdf",
}  # fmt: skip

# name -> (allowed keys, required keys, builder)
_FACTORIES: Final[
    dict[str, tuple[frozenset[str], frozenset[str], Callable[[dict[str, Any]], Authenticator]]]
] = {
    "anonymous": (_COMMON, frozenset(), _anonymous),
    "ticket": (_COMMON | {"ticket"}, frozenset({"ticket"}), _ticket),
    "wampcra": (_COMMON | {"secret"}, frozenset({"secret", "authid"}), _wampcra),
    "cryptosign": (
        _COMMON | {"privkey", "channel_binding", "router_pubkey"},
        frozenset({"privkey"}),
        _cryptosign,
    ),
    "scram": (_SCRAM_KEYS, frozenset({"password", "authid"}), _scram_crossbar),
    "wamp-scram": (_SCRAM_KEYS, frozenset({"password", "authid"}), _scram_spec),
}


def create_authenticator(name: str, config: Mapping[str, Any]) -> Authenticator:
    """An authenticator from Autobahn-style ``authentication={name: config}`` settings.

    ``name`` is ``anonymous``, ``ticket``, ``wampcra``, ``cryptosign``, ``scram`` (Crossbar's
    dialect, authmethod ``"scram"``) or ``wamp-scram`` (the spec's). Unknown names, unknown
    or missing keys raise :class:`ConfigurationError`.
    """
    try:
        allowed, required, build = _FACTORIES[name]
    except (KeyError, TypeError):
        raise ConfigurationError(
            f"unknown authentication method {name!r} (known: {', '.join(_FACTORIES)})"
        ) from None
    if not isinstance(config, Mapping):
        raise ConfigurationError(
            f"configuration for {name!r} must be a dict, not {type(config).__name__}"
        )
    unknown = sorted(str(key) for key in config if key not in allowed)
    if unknown:
        raise ConfigurationError(
            f"unknown key(s) for {name!r} authentication: {', '.join(unknown)} "
            f"(allowed: {', '.join(sorted(allowed))})"
        )
    missing = sorted(required - set(config))
    if missing:
        raise ConfigurationError(f"{name!r} authentication needs {', '.join(missing)}")
    return build(dict(config))
