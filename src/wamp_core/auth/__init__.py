"""WAMP authentication methods (pure: no I/O): the client side, and the checks a router needs.

Each method is an :class:`Authenticator`; :func:`combine_authenticators` builds the HELLO
details for a list of them and :func:`create_authenticator` builds one from Autobahn-style
configuration.
"""

from ._base import AnonymousAuthenticator as AnonymousAuthenticator, Authenticator as Authenticator
from ._cra import (
    WampCraAuthenticator as WampCraAuthenticator,
    compute_wcs as compute_wcs,
    derive_key as derive_key,
)
from ._cryptosign import (
    CHANNEL_BINDINGS as CHANNEL_BINDINGS,
    CryptosignAuthenticator as CryptosignAuthenticator,
    cryptosign_pubkey as cryptosign_pubkey,
    sign_challenge as sign_challenge,
    verify_challenge_signature as verify_challenge_signature,
)
from ._factory import (
    HelloAuth as HelloAuth,
    check_authenticators as check_authenticators,
    combine_authenticators as combine_authenticators,
    create_authenticator as create_authenticator,
)
from ._saslprep import saslprep as saslprep
from ._scram import (
    ScramAuthenticator as ScramAuthenticator,
    scram_auth_message as scram_auth_message,
    scram_client_proof as scram_client_proof,
    scram_crossbar_auth_message as scram_crossbar_auth_message,
    scram_salted_password as scram_salted_password,
    scram_server_keys as scram_server_keys,
    scram_server_signature as scram_server_signature,
    scram_verify_proof as scram_verify_proof,
)
from ._ticket import TicketAuthenticator as TicketAuthenticator

__all__ = [
    "Authenticator",
    "AnonymousAuthenticator",
    "TicketAuthenticator",
    "WampCraAuthenticator",
    "CryptosignAuthenticator",
    "ScramAuthenticator",
    "HelloAuth",
    "check_authenticators",
    "combine_authenticators",
    "create_authenticator",
    "compute_wcs",
    "derive_key",
    "CHANNEL_BINDINGS",
    "cryptosign_pubkey",
    "sign_challenge",
    "verify_challenge_signature",
    "saslprep",
    "scram_auth_message",
    "scram_client_proof",
    "scram_crossbar_auth_message",
    "scram_salted_password",
    "scram_server_keys",
    "scram_server_signature",
    "scram_verify_proof",
]
