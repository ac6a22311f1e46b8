"""The embedded router as a separate process (``python -m wamp_anyio.router``) for tests that
run the same client scenarios against both routers: the attributes the scenarios use from
:class:`crossbar.CrossbarRouter` (``rs_url``, ``ws_url``, ``unix_path``, ``realm``)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path
from types import TracebackType

__all__ = ["EmbeddedRouter"]


class EmbeddedRouter:
    realm = "realm1"

    def __enter__(self) -> EmbeddedRouter:
        self._tmp = tempfile.TemporaryDirectory(prefix="wamp-router-")
        self.unix_path = str(Path(self._tmp.name) / "router.sock")
        listen = ["rs://127.0.0.1:0", "ws://127.0.0.1:0/ws", f"rs://unix:{self.unix_path}"]
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "wamp_anyio.router", "--disclose",
             "--realm", "realm1", "--realm", "realm2",
             *(arg for url in listen for arg in ("--listen", url))],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        assert self._proc.stdout is not None
        urls = [self._proc.stdout.readline().removeprefix("listening on ").strip() for _ in listen]
        if not all(urls):
            self.__exit__(None, None, None)
            raise RuntimeError("the embedded router did not start")
        self.rs_url, self.ws_url, _ = urls
        return self

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
