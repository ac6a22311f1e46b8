"""The direct socket stream on asyncio: read from the event loop's readiness callback.

:class:`wamp_core.driver.DirectSocketStream` skips the scheduler when the kernel is ready; on
an asyncio selector loop this subclass also lets the session be fed from the loop's readiness
callback (no task wake-up per message, like Autobahn's protocol).
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from wamp_core import driver

_library_cvar: contextvars.ContextVar[str | None] | None
try:  # anyio finds the running library through sniffio when it is installed
    from sniffio import current_async_library_cvar as _library_cvar
except ImportError:  # pragma: no cover - then anyio asks asyncio, which works in callbacks
    _library_cvar = None

__all__ = ["AsyncioSocketStream", "on_trio", "running_asyncio_loop"]

_sniffio_local: Any
try:  # trio names itself there while it runs (trio depends on sniffio)
    from sniffio import thread_local as _sniffio_local
except ImportError:  # pragma: no cover - then trio is not installed either
    _sniffio_local = None


def on_trio() -> bool:
    """Whether trio runs this thread's code, also as a guest on an asyncio host loop (checked
    first for that reason: the host's loop is running too)."""
    return _sniffio_local is not None and _sniffio_local.name == "trio"


def running_asyncio_loop() -> asyncio.AbstractEventLoop | None:
    """The running asyncio loop, or ``None`` on another library (trio)."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class AsyncioSocketStream(driver.DirectSocketStream):
    """A direct socket stream that can be read from the asyncio loop's readiness callback."""

    _callback: tuple[asyncio.AbstractEventLoop, Callable[[], None]] | None = None

    def has_reader_callbacks(self) -> bool:
        """Whether :meth:`reader_callback` works here: asyncio with a selector loop or uvloop
        (whose ``add_reader`` takes sockets too; the proactor loop on Windows has none)."""
        if on_trio():
            return False
        loop = running_asyncio_loop()
        return isinstance(loop, asyncio.SelectorEventLoop) or (
            loop is not None and type(loop).__module__.startswith("uvloop")
        )

    @contextmanager
    def reader_callback(self, callback: Callable[[], None]) -> Iterator[None]:
        """Within the block, the loop calls ``callback`` whenever the socket is readable (and
        once more if the stream is closed meanwhile, so the reader sees it)."""
        loop = asyncio.get_running_loop()
        # A loop callback runs outside any task, where sniffio cannot tell the library: say
        # it, so that anyio calls made from the callback (starting a task...) work.
        context = contextvars.copy_context()
        if _library_cvar is not None:
            context.run(_library_cvar.set, "asyncio")

        def run_callback() -> None:
            context.run(callback)

        loop.add_reader(self.socket, run_callback)
        self._callback = (loop, run_callback)
        try:
            yield
        finally:
            if self._callback is not None:
                self._callback = None
                loop.remove_reader(self.socket)

    def _closing(self) -> None:
        if self._callback is not None:
            loop, callback = self._callback
            self._callback = None
            loop.remove_reader(self.socket)
            loop.call_soon(callback)
