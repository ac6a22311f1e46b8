"""The embedded router as a separate process (``python -m wamp_anyio.router``) for tests that
run the same client scenarios against both routers: the attributes the scenarios use from
:class:`crossbar.CrossbarRouter` (``rs_url``, ``ws_url``, ``unix_path``, ``realm``, and the TLS
transports ``rss_url``/``wss_url`` with their ports and ``ca_path``, from a throwaway CA; the
same principals as Crossbar's test config)."""

from __future__ import annotations

import contextlib
import json
import ssl
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from types import TracebackType

import anyio
import anyio.abc

import crossbar as cb

__all__ = ["EmbeddedRouter", "router_program"]

#: How long the router program may take to say where it listens.
STARTUP_TIMEOUT = 20


@contextlib.asynccontextmanager
async def router_program(*options: str) -> AsyncIterator[tuple[anyio.abc.Process, str]]:
    """``python -m wamp_anyio.router --listen rs://127.0.0.1:0 *options``, and the URL it
    prints once it listens; killed after the block if it is still running."""
    process = await anyio.open_process(
        [sys.executable, "-m", "wamp_anyio.router", "--listen", "rs://127.0.0.1:0", *options]
    )
    try:
        assert process.stdout is not None
        with anyio.fail_after(STARTUP_TIMEOUT):
            line = b""
            while not line.endswith(b"\n"):
                line += await process.stdout.receive(1)
        url = line.decode().removeprefix("listening on ").strip()
        assert url.startswith("rs://127.0.0.1:")
        yield process, url
    finally:
        if process.returncode is None:
            process.kill()
        await process.aclose()


class EmbeddedRouter:
    realm = "realm1"

    def __enter__(self) -> EmbeddedRouter:
        self._tmp = tempfile.TemporaryDirectory(prefix="wamp-router-")
        tmp = Path(self._tmp.name)
        self.unix_path = str(tmp / "router.sock")
        self.ca_path = tmp / "ca.crt"
        cb.write_test_pki(tmp, self.ca_path)
        config = tmp / "router.json"
        config.write_text(json.dumps({"principals": [
            {"authid": cb.TICKET_AUTHID, "ticket": cb.TICKET_SECRET},
            {"authid": cb.WAMPCRA_AUTHID, "secret": cb.WAMPCRA_SECRET},
            {"authid": cb.WAMPCRA_SALTED_AUTHID, "secret": cb.WAMPCRA_SALTED_SECRET,
             "salt": cb.WAMPCRA_SALTED_SALT, "iterations": cb.WAMPCRA_SALTED_ITERATIONS,
             "keylen": cb.WAMPCRA_SALTED_KEYLEN},
            {"authid": cb.CRYPTOSIGN_AUTHID, "pubkeys": [cb.CRYPTOSIGN_PUBKEY_HEX]},
            {"authid": cb.SCRAM_AUTHID, "scram": {  # Crossbar's dialect and stored keys
                "method": "scram", "kdf": "argon2id-13", "iterations": cb.SCRAM_ITERATIONS,
                "memory": cb.SCRAM_MEMORY, "salt": cb.SCRAM_SALT.hex(),
                "stored_key": cb.SCRAM_STORED_KEY_HEX, "server_key": cb.SCRAM_SERVER_KEY_HEX}},
        ], "permissions": {"user": [{"uri": "", "match": "prefix"}],  # as Crossbar's config
                           "anonymous": [{"uri": "", "match": "prefix"}]}}),
            encoding="utf-8")  # fmt: skip
        listen = ["rs://127.0.0.1:0", "ws://127.0.0.1:0/ws", f"rs://unix:{self.unix_path}",
                  "rss://127.0.0.1:0", "wss://127.0.0.1:0/ws"]  # fmt: skip
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "wamp_anyio.router", "--disclose", "--config", str(config),
             "--tls-cert", str(tmp / "server.crt"), "--tls-key", str(tmp / "server.key"),
             "--realm", "realm1", "--realm", "realm2",
             *(arg for url in listen for arg in ("--listen", url))],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        assert self._proc.stdout is not None
        urls = [self._proc.stdout.readline().removeprefix("listening on ").strip() for _ in listen]
        if not all(urls):
            self.__exit__(None, None, None)
            raise RuntimeError("the embedded router did not start")
        self.rs_url, self.ws_url, _, self.rss_url, self.wss_url = urls
        self.pid = self._proc.pid
        self.ws_auth_url = self.ws_url  # the same endpoint: authenticated methods are offered
        self.rss_port = int(self.rss_url.rsplit(":", 1)[1])
        self.wss_port = int(self.wss_url.rsplit(":", 1)[1].split("/")[0])
        return self

    def ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts this router's CA (hostname verification on)."""
        return ssl.create_default_context(cafile=str(self.ca_path))

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:  # fmt: skip
        self._proc.terminate()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        if self._proc.stdout is not None:
            self._proc.stdout.close()
        self._tmp.cleanup()
