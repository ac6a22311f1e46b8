"""Calls that stream: progressive results iterated by the caller (:class:`ProgressiveCall`),
arguments sent in chunks by the caller (:class:`OpenCall`, progressive call invocations) and
the chunks as the callee's handler receives them (:class:`Chunks`)."""

from __future__ import annotations

import inspect
from types import TracebackType
from typing import TYPE_CHECKING, Any, NamedTuple

import wamp_core as wc

from ._inbox import Inbox
from ._waiters import Waiter

if TYPE_CHECKING:
    from ._runtime import Runtime
    from ._session import Session

__all__ = ["MAX_QUEUED_CHUNKS", "Chunk", "Chunks", "OpenCall", "ProgressiveCall", "to_on_progress"]

#: Chunks of one invocation the handler may leave unread; one more cancels the invocation.
MAX_QUEUED_CHUNKS = 1024


async def to_on_progress(options: wc.CallOptions, result: wc.CallResult) -> None:
    """Hand a progressive result to ``options.on_progress`` (its ``*args, **kwargs``, or the
    whole result with ``details=True``; a coroutine it returns is awaited)."""
    on_progress = options.on_progress
    assert on_progress is not None
    outcome = on_progress(result) if options.details else on_progress(*result.args, **result.kwargs)
    if inspect.isawaitable(outcome):
        await outcome


class _OpenRequest:
    """A call open across awaits: leaving its ``async with`` (or :meth:`aclose`) before it
    ended cancels it."""

    def __init__(
        self, session: Session, procedure: str, args: tuple[Any, ...], kwargs: dict[str, Any],
        options: wc.CallOptions,
    ) -> None:  # fmt: skip
        self._session = session
        self._procedure = procedure
        self._args = args
        self._kwargs = kwargs
        self._options = options
        self._request: tuple[int, Waiter] | None = None
        self._done = False

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:  # fmt: skip
        await self.aclose()

    async def aclose(self) -> None:
        """Cancel the call if it has not ended (``options.cancel_mode``)."""
        if self._request is not None and not self._done:
            self._done = True
            self._session._abandon_call(self._request[0], self._options.cancel_mode)


class ProgressiveCall(_OpenRequest):
    """A call whose progressive results are iterated: ``async with session.iter_call(...) as
    results: async for result in results: ...``.

    Every item is a :class:`wamp_core.CallResult`; the last one has ``progress=False``.
    Leaving the ``async with`` (or :meth:`aclose`) before the end cancels the call.
    ``options.timeout`` is the whole call's, from the CALL to the last result (the time the
    caller spends between results counts too): past it the call is canceled and the next
    read raises :class:`~wamp_core.ApplicationError` ``wamp.error.timeout``. At most
    :data:`~wamp_core.driver.MAX_QUEUED_RESULTS` results may wait unread: one more cancels the
    call (``options.cancel_mode``); the results queued before are still read, then
    ``wamp.error.canceled`` is raised.
    """

    _deadline: float | None = None

    async def __aenter__(self) -> ProgressiveCall:
        await self._start()
        return self

    def __aiter__(self) -> ProgressiveCall:
        return self

    async def _start(self) -> tuple[int, Waiter]:
        if self._request is None:
            if (cancelled := self._session._cancel_point()) is not None:
                await cancelled  # (cancelled: nothing is sent)
            self._request = self._session._issue_call(
                self._procedure, self._args, self._kwargs, self._options, progressive=True,
                whole_result=True,
            )  # fmt: skip
            if self._options.timeout is not None:
                self._deadline = self._session._rt.current_time() + self._options.timeout
        return self._request

    async def __anext__(self) -> wc.CallResult:
        if self._done:
            raise StopAsyncIteration
        request_id, waiter = await self._start()
        if waiter.ready():  # (trio's rule: an await yields, even when a result is here)
            await self._session._rt.checkpoint()
        try:
            chunk = await self._session._within_deadline(
                request_id, waiter, self._options, waiter.next_chunk, self._deadline
            )
        except BaseException:
            self._done = True
            raise
        if chunk is not None:
            return chunk  # type: ignore[no-any-return]
        self._done = True
        result = waiter.unwrap()
        assert isinstance(result, wc.CallResult)
        return result


class OpenCall(_OpenRequest):
    """A call whose arguments are sent in chunks (a progressive call invocation)::

        async with session.open_call("com.example.sum", 1, 2) as call:
            await call.send(3)
            total = await call.finish(4)  # the last chunk; then the call's result

    Made by :meth:`Session.open_call`; the callee's handler reads the chunks through its
    ``chunks`` parameter (:class:`Chunks`). The callee may answer before the last chunk:
    :meth:`send` then returns ``False`` and :meth:`finish` returns that answer (or raises its
    error). Leaving the ``async with`` before :meth:`finish` has returned cancels the call
    (``options.cancel_mode``). ``options.timeout`` is the whole call's: a dealer announcing
    ``call_timeout`` times it from the first chunk (the call then ends with
    ``wamp.error.timeout``, :meth:`send` returns ``False``); the client's own deadline bounds
    the wait in :meth:`finish`. If the session ends while the callee reads the chunks, its
    handler is cancelled (it never sees a stream cut short as complete).
    Needs a dealer announcing ``progressive_call_invocations`` (the embedded router does;
    Crossbar.io 26 does not: entering raises :class:`wamp_core.LocalProtocolError`
    ``wamp.error.feature_not_supported``).
    """

    async def __aenter__(self) -> OpenCall:
        if (cancelled := self._session._cancel_point()) is not None:
            await cancelled  # (a cancelled caller sends nothing)
        self._request = self._session._issue_call(
            self._procedure, self._args, self._kwargs, self._options,
            progressive=self._options.on_progress is not None, whole_result=self._options.details,
            streaming=True,
        )  # fmt: skip
        return self

    def _open(self) -> int:
        if self._request is None:
            raise wc.LocalProtocolError("use the call in 'async with session.open_call(...)'")
        if self._done:
            raise wc.LocalProtocolError("the call is finished: it takes no more chunks")
        return self._request[0]

    async def send(self, *args: Any, **kwargs: Any) -> bool:
        """Send a further chunk of arguments. ``False`` when the call has already ended (the
        callee answered early, the call failed or the session ended): nothing was sent and
        :meth:`finish` returns the answer or raises the error. A chunk that cannot be sent
        (:class:`~wamp_core.EncodingError`, :class:`~wamp_core.MessageTooLarge`) raises, the
        call still open. The progressive results that came meanwhile go to ``on_progress``
        here (an exception it raises cancels the call and is raised here)."""
        request_id = self._open()
        sent = await self._session._send_chunk(request_id, args, kwargs, final=False)
        if self._options.on_progress is not None:
            assert self._request is not None
            try:
                while (result := self._request[1].queued_chunk()) is not None:
                    await to_on_progress(self._options, result)
            except BaseException:
                await self.aclose()
                raise
        return sent

    async def finish(self, *args: Any, **kwargs: Any) -> Any:
        """Send the last chunk (if the call is still open) and return the call's result, like
        :meth:`Session.call` (its error raised)."""
        request_id = self._open()
        await self._session._send_chunk(request_id, args, kwargs, final=True)
        assert self._request is not None
        waiter = self._request[1]
        try:
            return await self._session._await_call(request_id, waiter, self._options)
        finally:
            self._done = True


class Chunk(NamedTuple):
    """One chunk of a progressive call invocation's arguments."""

    args: list[Any]
    kwargs: dict[str, Any]


class Chunks:
    """The further chunks of a progressive call invocation, as its handler receives them
    (a keyword-only parameter named ``chunks``)::

        @component.register("com.example.sum")
        async def total(*first: int, chunks: wamp_anyio.Chunks) -> int:
            result = sum(first)
            async for args, kwargs in chunks:  # Chunk(args, kwargs), until the last one
                result += sum(args)
            return result

    The iteration ends after the caller's last chunk (at once for an ordinary call). At most
    :data:`MAX_QUEUED_CHUNKS` may wait unread: one more cancels the invocation, and the caller
    gets ``wamp.error.canceled``, rather than let a fast caller grow the callee's memory.
    """

    __slots__ = ("_inbox", "overflowed")

    def __init__(self, runtime: Runtime, more: bool) -> None:
        self._inbox: Inbox[Chunk] = Inbox(runtime, MAX_QUEUED_CHUNKS)
        #: More chunks than :data:`MAX_QUEUED_CHUNKS` were left unread.
        self.overflowed = False
        if not more:
            self._inbox.close()

    def __repr__(self) -> str:
        return f"<Chunks queued={len(self._inbox._items)}>"

    def __aiter__(self) -> Chunks:
        return self

    async def __anext__(self) -> Chunk:
        chunk = await self._inbox.get()
        if chunk is None:
            raise StopAsyncIteration
        return chunk

    def _put(self, chunk: Chunk, last: bool) -> bool:
        """Queue a chunk from the caller; ``False`` when it does not fit."""
        if not self._inbox.put(chunk):
            self.overflowed = True
            return False
        if last:
            self._inbox.close()
        return True
