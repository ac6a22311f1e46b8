"""A request's waiter: resolved once by the reader (or the end of the session), awaited by the
task that made the request.

There is one waiter per request, so a plain one parks its task with the library's own
primitive (a bare asyncio future, trio's ``wait_task_rescheduled``): a general event costs
several times more. A progressive call's waiter also queues the intermediate results
(``chunks``) for the caller's task, and wakes it once per result; at most
:data:`MAX_QUEUED_RESULTS` of them (see :meth:`Waiter.progress`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from .._client._types import CallResult
from .._component._requests import Outcome

if TYPE_CHECKING:
    from .._client._types import CancelMode
    from ._runtime import Event

__all__ = ["MAX_QUEUED_RESULTS", "EventWaiter", "TrioWaiter", "Waiter"]

#: Progressive results of one call its caller may leave unread; one more cancels the call.
MAX_QUEUED_RESULTS = 1024


class Waiter:
    """The base: what the reader does (:meth:`resolve`, :meth:`progress`); waiting is the
    subclass's (:meth:`_arm`, :meth:`_wake`, :meth:`wait`)."""

    __slots__ = ("_chunks", "_failure", "_outcome", "cancel_mode", "on_success")

    def __init__(
        self, on_success: Callable[[Any], None] | None = None, *, progressive: bool = False
    ) -> None:
        self._outcome: Outcome | None = None
        self._failure: Exception | None = None
        self._chunks: deque[CallResult] | None = deque() if progressive else None
        #: How a progressive call is canceled when its caller falls behind (set by the
        #: session that issues it).
        self.cancel_mode: CancelMode
        #: Run by the reader when the request succeeds, before any later event is handled.
        self.on_success = on_success
        self._arm()

    def _arm(self) -> None:
        raise NotImplementedError

    def _wake(self) -> None:
        raise NotImplementedError

    async def wait(self) -> Any:
        """The request's value once it has ended (its error raised)."""
        raise NotImplementedError

    async def next_chunk(self) -> CallResult | None:
        """The next intermediate result; ``None`` once the request has ended."""
        raise NotImplementedError

    def ready(self) -> bool:
        """Whether :meth:`next_chunk` would return without waiting."""
        return bool(self._chunks) or self._outcome is not None

    def queued_chunk(self) -> CallResult | None:
        """The next intermediate result already here, without waiting (``None``: none)."""
        return self._chunks.popleft() if self._chunks else None

    def resolve(self, outcome: Outcome) -> None:
        if self._outcome is not None:
            return
        if self.on_success is not None and outcome.error is None:
            try:
                self.on_success(outcome.value)
            except Exception as exc:  # the request fails with it: never leave it waiting
                self._failure = exc
        self._outcome = outcome
        self._wake()

    def progress(self, result: CallResult) -> bool:
        """Queue an intermediate result for the caller; ``False`` (not queued) when
        :data:`MAX_QUEUED_RESULTS` already wait unread: the caller fell behind and the
        session gives the call up (:meth:`Session._fell_behind`)."""
        chunks = self._chunks
        if chunks is not None and self._outcome is None:
            if len(chunks) >= MAX_QUEUED_RESULTS:
                return False
            chunks.append(result)
            self._wake()
        return True

    def unwrap(self) -> Any:
        assert self._outcome is not None
        if self._failure is not None:
            raise self._failure
        return self._outcome.unwrap()


class EventWaiter(Waiter):
    """A waiter on the library's event (any request, progressive ones included); a runtime
    sets :attr:`new_event` in its subclass."""

    __slots__ = ("_event",)
    new_event: ClassVar[type[Event]]

    def _arm(self) -> None:
        self._event = self.new_event()

    def _wake(self) -> None:
        self._event.set()

    async def wait(self) -> Any:
        await self._event.wait()
        return self.unwrap()

    async def next_chunk(self) -> CallResult | None:
        assert self._chunks is not None
        while True:
            if self._chunks:
                return self._chunks.popleft()
            if self._outcome is not None:
                return None
            self._event = self.new_event()
            await self._event.wait()


class TrioWaiter(Waiter):
    """A plain waiter on trio: the waiting task is parked and rescheduled directly. A runtime
    sets :attr:`lowlevel` (``trio.lowlevel``) in its subclass; this module imports no trio."""

    __slots__ = ("_task",)
    lowlevel: ClassVar[Any]

    def _arm(self) -> None:
        self._task: Any = None

    def _wake(self) -> None:
        task = self._task
        if task is not None:
            self._task = None
            self.lowlevel.reschedule(task)

    async def wait(self) -> Any:
        if self._outcome is None:
            lowlevel = self.lowlevel
            self._task = lowlevel.current_task()

            def abort(_raise_cancel: Any) -> Any:
                self._task = None
                return lowlevel.Abort.SUCCEEDED

            await lowlevel.wait_task_rescheduled(abort)
        return self.unwrap()
