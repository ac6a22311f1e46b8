"""What a caller gets for a procedure's odd answers, and what happens to the callee: every
driver, through Crossbar.io and through the embedded router (from a review of the handler
paths: each of these once ended the callee's session, or answered the wrong URI)."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import anyio
import pytest

import wamp_anyio as wamp
import wamp_core as wc
from crossbar import CrossbarRouter
from embedded import EmbeddedRouter

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("wamp")]

TIMEOUT = 20
_counter = iter(range(1_000_000))


@pytest.fixture
def url(router: Any) -> str:
    assert isinstance(router, CrossbarRouter | EmbeddedRouter)
    return str(router.rs_url)


def _uri(name: str) -> str:
    return f"com.test.answers.{name}.{next(_counter)}"


async def _error_of(caller: Any, procedure: str, options: wc.CallOptions | None = None) -> str:
    with pytest.raises(wc.ApplicationError) as info:
        await caller.call(procedure, options=options)
    return info.value.error


class NoUri(wc.ApplicationError):
    def __init__(self) -> None:  # forgets super().__init__(): no .error, .kwargs
        pass


class BrokenList(list[int]):
    def __iter__(self) -> Iterator[int]:
        raise RuntimeError("no")


class Opaque:
    pass


async def _awaits_a_cancelled_future() -> str:
    """A handler that another library's cancel reaches (a future it awaits is cancelled)."""
    future = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().call_later(0.01, future.cancel)
    await future
    return "unreachable"


def _raise(exc: BaseException) -> Any:
    raise exc


async def test_a_broken_answer_fails_the_call_not_the_callee(url: str) -> None:
    broken_error, broken_result, fine = _uri("noerr"), _uri("nolist"), _uri("fine")
    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(url) as callee, wamp.connect(url) as caller:
            await callee.register(lambda: _raise(NoUri()), broken_error)
            await callee.register(lambda: BrokenList([1]), broken_result)
            await callee.register(lambda: "still here", fine)
            assert await _error_of(caller, broken_error) == wc.ApplicationError.RUNTIME_ERROR
            assert await _error_of(caller, broken_result) == wc.ApplicationError.RUNTIME_ERROR
            assert await caller.call(fine) == "still here"
            assert callee.is_attached()


async def test_an_application_error_from_a_handlers_task_group_is_its_answer(
    url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """(A review.) anyio and trio put a child task's error in an exception group: a group of
    one ``ApplicationError`` answers as that error (its URI, args, kwargs), not logged as a
    failure; a group of two is a failure (``runtime_error``), as before."""
    one, two = _uri("one"), _uri("two")

    async def child(i: int) -> None:
        raise wc.ApplicationError("com.x.not_found", i, key="k")  # (at once: two fail)

    async def lookup(children: int) -> None:
        async with anyio.create_task_group() as tg:
            for i in range(children):
                tg.start_soon(child, i)

    with anyio.fail_after(TIMEOUT), caplog.at_level(logging.ERROR):
        async with wamp.connect(url) as callee, wamp.connect(url) as caller:
            await callee.register(functools.partial(lookup, 1), one)
            await callee.register(functools.partial(lookup, 2), two)
            with pytest.raises(wc.ApplicationError) as info:
                await caller.call(one)
            assert (info.value.error, info.value.args, info.value.kwargs) == (
                "com.x.not_found", (0,), {"key": "k"}
            )  # fmt: skip
            assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
            assert await _error_of(caller, two) == wc.ApplicationError.RUNTIME_ERROR
            assert callee.is_attached()


async def test_an_answer_that_cannot_be_encoded_is_invalid_payload_and_logged(
    url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """As an Autobahn callee answers (not invalid_argument: the caller's arguments were fine)."""
    result, error, progressive = _uri("result"), _uri("error"), _uri("progressive")

    async def stream() -> AsyncIterator[Any]:
        yield 1
        yield Opaque()
        yield 3

    with anyio.fail_after(TIMEOUT), caplog.at_level(logging.ERROR):
        async with wamp.connect(url) as callee, wamp.connect(url) as caller:
            await callee.register(Opaque, result)
            await callee.register(lambda: _raise(wc.ApplicationError("com.x", Opaque())), error)
            await callee.register(stream, progressive)
            progress = wc.CallOptions(on_progress=lambda *a: None)
            for procedure, options in ((result, None), (error, None), (progressive, progress)):
                assert await _error_of(caller, procedure, options) == "wamp.error.invalid_payload"
            assert callee.is_attached()
    # Logged at ERROR on the documented logger, as a procedure's other failures are.
    failures = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(failures) >= 3, [r.getMessage() for r in caplog.records]
    assert {r.name for r in failures} == {"wamp_core.driver"}


async def test_a_decorated_async_generator_streams(url: str) -> None:
    procedure = _uri("decorated")

    def logged(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return fn(*args, **kwargs)

        return wrapper

    def undecorated_wrapper(n: int) -> Any:  # returns an async generator, no __wrapped__
        return countdown(n)

    @logged
    async def countdown(n: int) -> AsyncIterator[int]:
        for i in range(n, -1, -1):
            yield i

    async def async_returning(n: int) -> Any:  # an async function returning the generator
        return countdown(n)

    def collected(fn: Callable[..., Any]) -> Callable[..., Any]:  # async wrapper: no stream
        @functools.wraps(fn)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            return [x async for x in fn(*args, **kwargs)]

        return wrapper

    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(url) as callee, wamp.connect(url) as caller:
            await callee.register(countdown, procedure)
            await callee.register(undecorated_wrapper, procedure + ".plain")
            await callee.register(async_returning, procedure + ".async")
            await callee.register(collected(countdown), procedure + ".collected")
            for name in (procedure, procedure + ".plain", procedure + ".async"):
                got = [result.value async for result in caller.iter_call(name, 3)]
                assert got == [3, 2, 1, 0], name
                assert await caller.call(name, 2) == 0
            assert await caller.call(procedure + ".collected", 2) == [2, 1, 0]


async def test_a_generator_that_fails_sends_its_last_value_first(url: str) -> None:
    """Each value is held until the next comes (the last is the final result): one held when
    the generator raises went nowhere. It goes out as progressive, then the error, as an
    Autobahn callee's ``details.progress(2)`` before its ``raise``."""
    procedure = _uri("fails")

    async def stream() -> AsyncIterator[int]:
        yield 1
        yield 2
        raise wc.ApplicationError("com.example.failed")

    got: list[Any] = []
    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(url) as callee, wamp.connect(url) as caller:
            await callee.register(stream, procedure)
            options = wc.CallOptions(on_progress=got.append)
            assert await _error_of(caller, procedure, options) == "com.example.failed"
    assert got == [1, 2]


@pytest.mark.parametrize("where", ["procedure", "async procedure", "event handler"])
async def test_system_exit_in_a_handler_ends_connect_with_it(url: str, where: str) -> None:
    """Not wrapped in an exception group, on every driver; the caller is answered and the
    session leaves."""
    uri = _uri("exit")

    def stop() -> None:
        raise SystemExit(3)

    async def stop_async() -> None:
        raise SystemExit(3)

    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(url) as caller:
            with pytest.raises(SystemExit) as info:
                async with wamp.connect(url) as callee:
                    if where == "event handler":
                        await callee.subscribe(stop, uri)
                        await caller.publish(uri, options=wc.PublishOptions(acknowledge=True))
                    else:
                        await callee.register(stop if where == "procedure" else stop_async, uri)
                        assert await _error_of(caller, uri) == wc.ApplicationError.RUNTIME_ERROR
                    await anyio.sleep_forever()
            assert info.value.code == 3
            assert callee.close_details is not None
            assert callee.close_details.reason == "wamp.close.system_shutdown"


async def test_system_exit_in_a_handler_ends_an_async_with_component_with_it(url: str) -> None:
    """``async with component:`` raises it as ``component.run()`` does: itself, not in an
    exception group (it came out of the block's task group wrapped), and at once (the block
    is interrupted)."""
    uri = _uri("exit")

    async def main(session: Any) -> None:
        with pytest.raises(wc.ApplicationError):
            await session.call(uri)

    component = wamp.Component(main=main, transports=url, realm="realm1")

    @component.register(uri)
    def stop() -> None:
        raise SystemExit(3)

    with anyio.fail_after(TIMEOUT):
        with pytest.raises(SystemExit) as info:
            async with component:
                await anyio.sleep_forever()
    assert info.value.code == 3


class _Odd(BaseException):
    pass


async def test_a_cancellation_the_handler_met_is_a_failure_not_a_lost_call(
    url: str, anyio_backend_name: str
) -> None:
    """A cancellation exception that no cancel of the invocation caused (asyncio: a future
    another library cancelled; a plain function raising a BaseException) fails the call with
    ``runtime_error``: the caller waited for ever (the async case), or the task running plain
    functions ended and later invocations were never run (the plain case)."""
    uri = _uri("stray")

    def raises(kind: str) -> str:
        if kind == "odd":
            raise _Odd("odd")
        if kind == "cancelled":
            raise asyncio.CancelledError
        return kind

    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(url) as callee, wamp.connect(url) as caller:
            await callee.register(raises, uri + ".plain")
            kinds = ["odd", "cancelled"] if anyio_backend_name == "asyncio" else ["odd"]
            for kind in kinds:
                with pytest.raises(wc.ApplicationError) as info:
                    await caller.call(uri + ".plain", kind)
                assert info.value.error == wc.ApplicationError.RUNTIME_ERROR
                assert await caller.call(uri + ".plain", "fine") == "fine"
            if anyio_backend_name == "asyncio":
                await callee.register(_awaits_a_cancelled_future, uri + ".async")
                with pytest.raises(wc.ApplicationError) as info:
                    await caller.call(uri + ".async")
                assert info.value.error == wc.ApplicationError.RUNTIME_ERROR
                assert "cancelled by what it awaited" in str(info.value)
            assert callee.is_attached()


async def test_a_stray_cancellation_where_asyncio_keeps_no_count(
    url: str, anyio_backend_name: str, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    """Python 3.10's asyncio keeps no count of a task's cancellations (the runtime says it
    cannot tell, as it does there): the session's own scopes tell. A future another library
    cancelled fails the call with ``runtime_error`` (the caller waited for ever on 3.10), and
    the caller's cancel still cancels the handler, answered ``canceled``, not as a failure."""
    if anyio_backend_name != "asyncio":
        pytest.skip("asyncio's own cancellations")
    from wamp_anyio._runtime import AnyioRuntime

    monkeypatch.setattr(AnyioRuntime, "cancelling", lambda self: None)
    uri = _uri("count")
    cancelled = anyio.Event()

    async def waits() -> None:
        try:
            await anyio.sleep(30)
        finally:
            cancelled.set()

    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(url) as callee, wamp.connect(url) as caller:
            await callee.register(_awaits_a_cancelled_future, uri + ".stray")
            await callee.register(waits, uri + ".waits")
            with pytest.raises(wc.ApplicationError) as info:
                await caller.call(uri + ".stray")
            assert info.value.error == wc.ApplicationError.RUNTIME_ERROR
            caplog.clear()
            with anyio.move_on_after(0.3):
                await caller.call(uri + ".waits", options=wc.CallOptions(cancel_mode="kill"))
            await cancelled.wait()  # the INTERRUPT cancelled it
            assert await caller.call("wamp.session.count") >= 2
    assert not [r for r in caplog.records if "cancelled by what it awaited" in r.getMessage()]
