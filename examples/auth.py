"""Every authentication method: anonymous, ticket, WAMP-CRA (plain and salted), WAMP-Cryptosign
and WAMP-SCRAM (the spec's ``wamp-scram`` and Crossbar's ``scram``).

    python examples/auth.py [URL] [--realm REALM] [--backend asyncio|trio]

Without URL the embedded router runs in this process, knowing the ``PRINCIPALS`` below. A router
at URL must know the same principals; for the embedded router, this ``--config`` file::

    {"principals": [
        {"authid": "joe", "ticket": "joe-ticket"},
        {"authid": "peter", "secret": "peter-secret"},
        {"authid": "salty", "secret": "salty-secret", "salt": "pepper", "iterations": 1000,
         "keylen": 32},
        {"authid": "alice", "role": "admin",
         "pubkeys": ["ea489300d3013e7bf53dd94b97cb1c8c2ec9f114034e0e5f55c056a35d6dc414"]},
        {"authid": "carol", "scram": {"method": "wamp-scram", "kdf": "pbkdf2", "iterations": 4096,
         "salt": "00112233445566778899aabbccddeeff", "password": "carol-password"}},
        {"authid": "dave", "scram": {"method": "scram", "kdf": "argon2id-13", "iterations": 16,
         "memory": 4096, "salt": "00112233445566778899aabbccddeeff",
         "password": "dave-password"}}],
     "permissions": {"user": [{"uri": "com.example.", "match": "prefix"}],
                     "anonymous": [{"uri": "", "match": "prefix"}]}}

(``python -m wamp_anyio.router --listen rs://127.0.0.1:8081 --config auth.json``; the
``anonymous`` entry lets the other examples, which join anonymously, use that router too: on a
router with principals an anonymous session may do only what such an entry allows). Prints one
line per method with the authid and authrole the router assigned (an anonymous session's
authid is the router's choice), then what a wrong password and a forbidden action raise.
"""

from __future__ import annotations

import argparse

import anyio

import wamp_anyio
import wamp_core as wc

# Never ship a private key in code: this one is for the example only (32 bytes, hex).
ALICE_KEY = "164233694846c070d94df79511211bfa516a94864cb7fde82e01d7021c2913ef"
SALT = bytes.fromhex("00112233445566778899aabbccddeeff")

# WAMP-SCRAM: the spec's dialect (PBKDF2 here) and Crossbar's (Argon2id, cheap for the example).
CAROL_SCRAM = wc.ScramCredential.from_password("carol-password", SALT, method="wamp-scram")
DAVE_SCRAM = wc.ScramCredential.from_password(
    "dave-password", SALT, method="scram", kdf="argon2id-13", iterations=16, memory=4096
)
# What the router knows: the role each principal gets, and its credential. A router keeps only
# the public key (cryptosign) and the derived keys (SCRAM), never the private key or password.
PRINCIPALS = [
    wc.Principal("joe", role="user", ticket="joe-ticket"),
    wc.Principal("peter", secret="peter-secret"),  # role defaults to "user"
    wc.Principal("salty", secret="salty-secret", salt="pepper", iterations=1000, keylen=32),
    wc.Principal("alice", role="admin", pubkeys=(wc.auth.cryptosign_pubkey(ALICE_KEY),)),
    wc.Principal("carol", scram=CAROL_SCRAM),
    wc.Principal("dave", scram=DAVE_SCRAM),
]
# Every role may do nothing unless allowed: "anonymous" too, as this router has principals (it
# may do everything only on a router configured with neither principals nor permissions).
PERMISSIONS = {"user": [wc.Permission("com.example.", match="prefix")]}

# What each client says: Autobahn's ``authentication={method: config}``. WAMP-CRA's salt and
# the SCRAM parameters come from the router's challenge: the client needs only the password.
LOGINS: dict[str, wamp_anyio.Authentication] = {
    "anonymous": {"anonymous": {}},
    "ticket": {"ticket": {"authid": "joe", "ticket": "joe-ticket"}},
    "wampcra": {"wampcra": {"authid": "peter", "secret": "peter-secret"}},
    "wampcra-salted": {"wampcra": {"authid": "salty", "secret": "salty-secret"}},
    "cryptosign": {"cryptosign": {"authid": "alice", "privkey": ALICE_KEY}},
    "wamp-scram": {"wamp-scram": {"authid": "carol", "password": "carol-password"}},
    "scram": {"scram": {"authid": "dave", "password": "dave-password"}},
}


async def demo(url: str, realm: str) -> None:
    for name, authentication in LOGINS.items():
        async with wamp_anyio.connect(url, realm=realm, authentication=authentication) as session:
            details = session.details
            assert details is not None
            print(
                f"{name}: authid={details.authid} authrole={details.authrole} "
                f"authmethod={details.authmethod}"
            )

    # A refused join raises SessionClosed; its reason is the router's error URI.
    wrong = {"ticket": {"authid": "joe", "ticket": "not-joe-ticket"}}
    try:
        async with wamp_anyio.connect(url, realm=realm, authentication=wrong):
            raise SystemExit("a wrong ticket was accepted")
    except wc.SessionClosed as exc:
        print(f"wrong ticket: SessionClosed {exc.reason}")

    # An action the role may not do fails with ApplicationError wamp.error.not_authorized.
    async with wamp_anyio.connect(url, realm=realm, authentication=LOGINS["ticket"]) as joe:
        await joe.register(lambda: "ok", "com.example.allowed")  # inside com.example.
        try:
            await joe.register(lambda: "no", "org.other.forbidden")
        except wc.ApplicationError as exc:
            print(f"joe registering org.other.forbidden: ApplicationError {exc.error}")
        else:
            raise SystemExit("a forbidden registration was accepted")


async def main(url: str | None, realm: str) -> None:
    with anyio.fail_after(30):  # a hang is a failure too
        if url is not None:
            await demo(url, realm)
            return
        # rs://memory/NAME: clients in this process and loop reach the router with no socket
        async with wamp_anyio.start_router(
            ["rs://memory/auth"], realms=[realm], principals=PRINCIPALS, permissions=PERMISSIONS
        ) as router:
            await demo(router.urls[0], realm)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="WAMP authentication methods")
    parser.add_argument("url", nargs="?", help="a router (default: one in this process)")
    parser.add_argument("--realm", default="realm1")
    parser.add_argument("--backend", choices=["asyncio", "trio"], default="asyncio")
    args = parser.parse_args()
    anyio.run(main, args.url, args.realm, backend=args.backend)
