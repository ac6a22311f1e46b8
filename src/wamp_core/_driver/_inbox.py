"""A subscription's bounded queue of events, between the reader and the handler's tasks."""

from __future__ import annotations

from collections import deque
from typing import Generic, TypeVar

from ._runtime import Event, Runtime

__all__ = ["Inbox"]

T = TypeVar("T")


class Inbox(Generic[T]):
    """At most ``size`` items besides one for each task waiting in :meth:`get` (an item put
    while a task waits is that task's, like a handover); :meth:`put` never waits (it says when
    the queue is full), :meth:`get` waits for the next item. After :meth:`close` the queued
    items are still handed out (unless discarded), then :meth:`get` returns ``None``."""

    __slots__ = ("_closed", "_items", "_parked", "_rt", "_size", "_wakeup", "slow")

    def __init__(self, runtime: Runtime, size: int) -> None:
        self._rt = runtime
        self._size = size
        self._items: deque[T] = deque()
        self._closed = False
        self._parked = 0
        self._wakeup: Event | None = None
        #: Set by the consumer: its last two turns were long (a slow handler, not a burst),
        #: so a reader does not wait for it (see ``Link.crowded``).
        self.slow = False

    def put(self, item: T, extra: int = 0) -> bool:
        """Queue ``item``; ``False`` if the queue is full (``extra``: items it may hold beyond
        its size this time). After close: ignored."""
        if self._closed:
            return True
        if len(self._items) >= self._size + self._parked + extra:
            return False
        self._items.append(item)
        self._wake()
        return True

    def over(self) -> bool:
        """Whether more than its size is queued (see ``extra`` in :meth:`put`)."""
        return len(self._items) > self._size

    def get_nowait(self) -> T | None:
        """The next item if one is queued, else ``None``."""
        return self._items.popleft() if self._items else None

    async def get(self) -> T | None:
        """The next item, waiting for one; ``None`` once closed and empty."""
        while not self._items:
            if self._closed:
                return None
            if self._wakeup is None:
                self._wakeup = self._rt.event()
            self._parked += 1
            try:
                await self._wakeup.wait()
            finally:
                self._parked -= 1
        return self._items.popleft()

    def close(self, *, discard: bool = False) -> int:
        """No more items; with ``discard`` the queued ones go too (returns how many)."""
        dropped = 0
        if discard:
            dropped = len(self._items)
            self._items.clear()
        self._closed = True
        self._wake()
        return dropped

    def _wake(self) -> None:
        if self._wakeup is not None:
            self._wakeup.set()
            self._wakeup = None
