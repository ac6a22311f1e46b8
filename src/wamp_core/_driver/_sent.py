"""What a command that sends at once returns: an awaitable for its outcome.

``session.publish()`` and ``session.leave()`` send their message when called, as Autobahn's
do: code ported from Autobahn that calls them without ``await`` (in a plain function, a sync
event handler) still publishes and leaves. Awaiting the :class:`Sent` waits for what follows
(the acknowledgement, room on a slow link, the closed session). Not awaiting it creates no
coroutine, so nothing warns that one was never awaited.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Generator
from typing import Any, Generic, TypeVar

__all__ = ["Sent", "SENT"]

T_co = TypeVar("T_co", covariant=True)


class Sent(Generic[T_co]):
    """The message went out; ``await`` this for the outcome (once)."""

    __slots__ = ("_outcome",)

    def __init__(self, outcome: Callable[[], Coroutine[Any, Any, T_co]] | None) -> None:
        self._outcome = outcome

    def __await__(self) -> Generator[Any, None, T_co]:
        if self._outcome is None:
            return _nothing()
        return self._outcome().__await__()

    def __repr__(self) -> str:
        return f"<Sent {'done' if self._outcome is None else 'awaitable'}>"


def _nothing() -> Generator[Any, None, Any]:
    return
    yield  # (a generator that ends at once: ``await SENT`` is None, without suspending)


#: A :class:`Sent` with nothing to wait for (an unacknowledged publication on a free link).
SENT: Sent[Any] = Sent(None)
