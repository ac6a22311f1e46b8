"""wamp_anyio's session API against a real Crossbar.io, on asyncio and on trio: options and
details, progressive results both ways, local timeouts and cancel modes, errors both ways,
pattern subscriptions, shared registrations, bounded event queues, type checks."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import anyio
import pytest

import wamp_anyio as wamp
import wamp_core as wc
from crossbar import CrossbarRouter
from wamp_core.driver import MAX_QUEUED_RESULTS

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("wamp")]

TIMEOUT = 20


TRANSPORTS: dict[str, Callable[[CrossbarRouter], Any]] = {
    "rawsocket-msgpack": lambda cb: {
        "type": "rawsocket", "url": cb.rs_url, "serializer": "msgpack",
    },
    "websocket-json": lambda cb: {"type": "websocket", "url": cb.ws_url, "serializers": ["json"]},
}  # fmt: skip


@pytest.fixture(params=sorted(TRANSPORTS))
def transport(request: pytest.FixtureRequest, crossbar: CrossbarRouter) -> Any:
    return TRANSPORTS[request.param](crossbar)


_counter = iter(range(1_000_000))
_PER_CALL: contextvars.ContextVar[int | None] = contextvars.ContextVar("_PER_CALL", default=None)


def _uri(name: str) -> str:
    """A fresh URI per use: tests share one router."""
    return f"com.test.api.{name}.{next(_counter)}"


async def _until(condition: Callable[[], bool], timeout: float = 5) -> None:
    with anyio.fail_after(timeout):
        while not condition():
            await anyio.sleep(0.01)


async def test_details_args_kwargs_and_binary(transport: Any) -> None:
    proc, topic = _uri("echo"), _uri("topic")
    seen: list[wc.EventDetails] = []
    with anyio.fail_after(TIMEOUT):
        async with (
            wamp.connect(transport) as callee,
            wamp.connect(transport) as caller,
        ):

            def echo(*args: Any, details: wc.CallDetails, **kwargs: Any) -> wc.CallResult:
                assert details.caller == caller.session_id  # realm1 discloses callers
                assert details.procedure == proc
                return wc.CallResult(*args, **kwargs)

            await callee.register(echo, proc, wc.RegisterOptions(details=True))
            result = await caller.call(proc, b"\x00\xffbin", 2, key="v", blob=b"\x01")
            assert isinstance(result, wc.CallResult)
            assert result.args == [b"\x00\xffbin", 2]
            assert result.kwargs == {"key": "v", "blob": b"\x01"}
            # details=True on a call: always the whole CallResult
            single = await caller.call(proc, 7, options=wc.CallOptions(details=True))
            assert isinstance(single, wc.CallResult)
            assert single.args == [7]
            assert await caller.call(proc, 7) == 7

            def on_event(value: int, where: wc.EventDetails) -> None:
                seen.append(where)

            await callee.subscribe(on_event, topic, wc.SubscribeOptions(details_arg="where"))
            await caller.publish(topic, 1, options=wc.PublishOptions(acknowledge=True))
            await _until(lambda: bool(seen))
            assert seen[0].topic == topic
            assert seen[0].publisher == caller.session_id


async def test_errors_both_ways(transport: Any) -> None:
    proc = _uri("fail")
    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(transport) as session:

            class Unprintable(Exception):
                def __str__(self) -> str:
                    raise RuntimeError("no text")

            async def fail(kind: str) -> None:
                if kind == "app":
                    raise wc.ApplicationError("com.example.error.bad", "text", 2, code=42)
                if kind == "unprintable":  # its __str__ raising used to end the session
                    raise Unprintable
                raise ValueError("plain failure")

            await session.register(fail, proc)
            with pytest.raises(wc.ApplicationError) as info:
                await session.call(proc, "app")
            assert info.value.error == "com.example.error.bad"
            assert info.value.args == ("text", 2) or list(info.value.args) == ["text", 2]
            assert info.value.kwargs == {"code": 42}
            with pytest.raises(wc.ApplicationError) as info:
                await session.call(proc, "other")
            assert info.value.error == wc.ApplicationError.RUNTIME_ERROR
            assert "plain failure" in str(info.value)
            assert "Traceback" not in str(info.value)
            with pytest.raises(wc.ApplicationError) as info:
                await session.call(proc, "unprintable")
            assert (info.value.error, info.value.args) == (
                wc.ApplicationError.RUNTIME_ERROR,
                ("Unprintable",),
            )
            with pytest.raises(wc.ApplicationError) as info:
                await session.call(_uri("nobody"))
            assert info.value.error == wc.ApplicationError.NO_SUCH_PROCEDURE


@pytest.mark.parametrize("serializer", ["msgpack", "cbor"])
async def test_arguments_no_peer_can_decode_are_refused_before_sending(
    crossbar: CrossbarRouter, serializer: str
) -> None:
    """msgpack and CBOR encode an int dict key (CBOR a set of numbers too), but Crossbar's
    decoders refuse them and end the session that sent one (every call in flight failing with
    it; a procedure returning one cost the callee its session). They are refused before
    anything is sent: the caller gets EncodingError, the callee's caller an ERROR, and both
    sessions go on."""
    transport = {"type": "rawsocket", "url": crossbar.rs_url, "serializer": serializer}
    proc = _uri("undecodable")
    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(transport) as callee, wamp.connect(transport) as caller:
            await callee.register(lambda kind: {1: "one"} if kind == "bad" else kind, proc)
            bad_values: list[Any] = [{1: "one"}, [{"nested": {2.5: "x"}}]]
            if serializer == "cbor":
                bad_values.append({1, 2})
            for value in bad_values:
                with pytest.raises(wc.EncodingError, match="WAMP peers decode only"):
                    await caller.call(proc, value)
                with pytest.raises(wc.EncodingError):
                    await caller.publish(_uri("t"), kw=value)
            with pytest.raises(wc.ApplicationError, match="string keys") as info:
                await caller.call(proc, "bad")
            assert info.value.error != "wamp.error.protocol_violation"
            assert await caller.call(proc, "fine") == "fine"  # both sessions still joined
            assert await caller.call(proc, {b"raw": {"s"}} if serializer == "cbor" else "x")


async def test_a_result_above_the_limit_ends_the_session_with_payload_size_exceeded(
    crossbar: CrossbarRouter,
) -> None:
    """docs/errors.md: a received message above ``max_message_size`` (PayloadTooLarge) ends the
    session with ``wamp.error.payload_size_exceeded``, which the application sees on the
    pending call's SessionClosed and in close_details (it said protocol_violation)."""
    proc = _uri("big")
    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(crossbar.ws_url) as callee:
            await callee.register(lambda: "z" * 5000, proc)
            small = {"url": crossbar.ws_url, "options": {"max_message_size": 1024}}
            async with wamp.connect(small) as session:
                with pytest.raises(wc.SessionClosed) as info:
                    await session.call(proc)
                assert info.value.reason == "wamp.error.payload_size_exceeded"
                assert session.close_details is not None
                assert session.close_details.reason == "wamp.error.payload_size_exceeded"
                assert "1024" in (session.close_details.message or "")


async def test_plain_function_handlers_run_one_after_another_in_one_task(
    transport: Any,
) -> None:
    """A plain function's invocations run in the session's one task for them (not a task
    each): all 200 of a burst in that task, inside which anyio works (a handler may start
    background work) and context variables stay the invocation's; errors reach the caller as
    from an async handler, and a plain function that returns a coroutine has it awaited."""
    proc, fail, wrapped = _uri("plain"), _uri("plainfail"), _uri("wrapped")
    seen: list[tuple[int, int]] = []
    noted: list[int] = []

    async def note(i: int) -> None:
        noted.append(i)

    async def double(x: int) -> int:
        await anyio.sleep(0)
        return 2 * x

    def wrapping(x: int) -> Awaitable[int]:  # a plain function that returns a coroutine
        return double(x)

    def failing(kind: str) -> None:
        if kind == "app":
            raise wc.ApplicationError("com.example.error.bad", "text", code=42)
        raise ValueError("plain failure")

    with anyio.fail_after(TIMEOUT):
        async with (
            anyio.create_task_group() as background,
            wamp.connect(transport) as callee,
            wamp.connect(transport) as caller,
        ):

            def record(i: int) -> int:
                seen.append((i, anyio.get_current_task().id))
                background.start_soon(note, i)
                assert _PER_CALL.get() is None  # nothing leaks from the invocation before
                _PER_CALL.set(i)
                return 2 * i

            await callee.register(record, proc)
            await callee.register(failing, fail)
            await callee.register(wrapping, wrapped)
            results: dict[int, int] = {}

            async def call(i: int) -> None:
                results[i] = await caller.call(proc, i)

            async with anyio.create_task_group() as calls:
                for i in range(200):
                    calls.start_soon(call, i)
            assert results == {i: 2 * i for i in range(200)}
            assert sorted(i for i, _ in seen) == list(range(200))
            assert len({task for _, task in seen}) == 1
            with pytest.raises(wc.ApplicationError) as info:
                await caller.call(fail, "app")
            assert info.value.error == "com.example.error.bad"
            assert info.value.kwargs == {"code": 42}
            with pytest.raises(wc.ApplicationError) as info:
                await caller.call(fail, "other")
            assert info.value.error == wc.ApplicationError.RUNTIME_ERROR
            assert "plain failure" in str(info.value)
            assert await caller.call(wrapped, 21) == 42
            await _until(lambda: len(noted) == 200)


async def test_plain_invocations_beyond_the_queue_get_tasks_of_their_own(
    crossbar: CrossbarRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no room in the plain handlers' queue, a burst's invocations still all run and are
    answered: those that do not fit get a task each (as async handlers do)."""
    monkeypatch.setattr("wamp_core._driver._session.MAX_QUEUED_INVOCATIONS", 0)
    proc = _uri("overflow")
    tasks: set[int] = set()

    def record(i: int) -> int:
        tasks.add(anyio.get_current_task().id)
        return i + 1

    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(crossbar.rs_url) as callee, wamp.connect(crossbar.rs_url) as caller:
            await callee.register(record, proc)
            results: dict[int, int] = {}

            async def call(i: int) -> None:
                results[i] = await caller.call(proc, i)

            async with anyio.create_task_group() as calls:
                for i in range(50):
                    calls.start_soon(call, i)
    assert results == {i: i + 1 for i in range(50)}
    assert len(tasks) > 1  # some ran outside the queue's one task


async def test_progressive_results_both_ways(transport: Any) -> None:
    proc = _uri("count")
    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(transport) as session:

            async def count(n: int) -> AsyncIterator[int]:
                for i in range(n):
                    yield i

            await session.register(count, proc)
            chunks: list[int] = []

            async def on_progress(value: int) -> None:
                chunks.append(value)

            final = await session.call(proc, 4, options=wc.CallOptions(on_progress=on_progress))
            assert chunks == [0, 1, 2]
            assert final == 3
            # without asking for progress: only the final result
            assert await session.call(proc, 4) == 3
            async with session.iter_call(proc, 3) as results:
                items = [(r.args, r.progress) async for r in results]
            assert items == [([0], True), ([1], True), ([2], False)]
            assert await session.call(proc, 0) is None


async def test_an_on_progress_callback_that_raises_cancels_the_call(transport: Any) -> None:
    """The error reaches the caller and the call is canceled at the router: the callee's
    stream is interrupted instead of running on (it did, with its results piling up)."""
    proc = _uri("endless")
    interrupted = anyio.Event()
    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(transport) as callee, wamp.connect(transport) as caller:

            async def endless() -> AsyncIterator[int]:
                try:
                    for i in range(1_000_000):
                        yield i
                        await anyio.sleep(0.01)
                except BaseException:
                    interrupted.set()
                    raise

            await callee.register(endless, proc)

            def on_progress(value: int) -> None:
                raise RuntimeError(f"cannot take {value}")

            with pytest.raises(RuntimeError, match="cannot take 0"):
                await caller.call(proc, options=wc.CallOptions(on_progress=on_progress))
            with anyio.fail_after(5):
                await interrupted.wait()
            assert await caller.call("wamp.session.count") >= 2  # the session goes on


async def test_a_caller_that_falls_behind_the_results_cancels_the_call(transport: Any) -> None:
    """Progressive results the caller leaves unread are bounded: past MAX_QUEUED_RESULTS the
    call is canceled (the callee interrupted); the caller still gets every result queued before
    that, in order, then ``wamp.error.canceled`` (they queued without bound)."""
    proc = _uri("flood")
    interrupted = anyio.Event()
    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(transport) as callee, wamp.connect(transport) as caller:

            async def flood() -> AsyncIterator[int]:
                try:
                    for i in range(1_000_000):
                        yield i
                        await anyio.sleep(0)
                except BaseException:
                    interrupted.set()
                    raise

            await callee.register(flood, proc)
            got: list[int] = []
            with pytest.raises(wc.ApplicationError) as info:
                async with caller.iter_call(proc) as results:
                    async for result in results:
                        got.append(result.args[0])
                        if len(got) == 1:  # a slow consumer: the results pile up meanwhile
                            with anyio.move_on_after(5):
                                await interrupted.wait()
                        assert len(got) <= MAX_QUEUED_RESULTS + 1
            assert info.value.error == wc.ApplicationError.CANCELED
            assert "fell behind" in str(info.value)
            assert got == list(range(MAX_QUEUED_RESULTS + 1))
            assert interrupted.is_set()
            assert await caller.call("wamp.session.count") >= 2  # the session goes on


async def test_local_timeout_cancels_the_call_and_interrupts_the_callee(
    transport: Any,
) -> None:
    proc = _uri("slow")
    interrupted = anyio.Event()
    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(transport) as session:

            async def slow() -> str:
                try:
                    await anyio.sleep(30)
                finally:
                    interrupted.set()
                return "late"

            await session.register(slow, proc)
            started = time.monotonic()
            with pytest.raises(wc.ApplicationError) as info:
                await session.call(proc, options=wc.CallOptions(timeout=0.3))
            assert info.value.error == wc.ApplicationError.TIMEOUT
            assert time.monotonic() - started < 3
            with anyio.fail_after(5):
                await interrupted.wait()  # Crossbar sent INTERRUPT for the CANCEL (kill)


async def test_an_iter_call_timeout_bounds_the_whole_call(transport: Any) -> None:
    """``options.timeout`` of ``iter_call`` is the whole call's, as ``call()``'s: it was
    applied to each result, so a callee streaming one every 0.1 s never timed out (Crossbar
    does not announce ``call_timeout``: only the client's deadline is in play)."""
    proc = _uri("drip")
    interrupted = anyio.Event()
    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(transport) as callee, wamp.connect(transport) as caller:

            async def drip() -> AsyncIterator[int]:
                try:
                    for i in range(40):
                        yield i
                        await anyio.sleep(0.1)
                except BaseException:
                    interrupted.set()
                    raise

            await callee.register(drip, proc)
            got: list[int] = []
            started = time.monotonic()
            with pytest.raises(wc.ApplicationError) as info:
                options = wc.CallOptions(timeout=0.5)
                async with caller.iter_call(proc, options=options) as results:
                    async for result in results:
                        got.append(result.args[0])
            assert info.value.error == wc.ApplicationError.TIMEOUT
            assert time.monotonic() - started < 2.5  # not the 4 s of all 40 results
            assert got == list(range(len(got))) and 0 < len(got) < 40
            with anyio.fail_after(5):
                await interrupted.wait()  # canceled: the callee stopped streaming


@pytest.mark.parametrize("mode", ["kill", "killnowait", "skip", None])
async def test_cancelling_the_caller_sends_cancel(
    crossbar: CrossbarRouter, mode: wc.CancelMode | None
) -> None:
    """Each cancel mode; ``None``: a call without options, canceled as ``kill`` (a mutation
    review: that default could change unseen)."""
    options = None if mode is None else wc.CallOptions(cancel_mode=mode)
    proc = _uri("cancel")
    interrupted = anyio.Event()
    entered = anyio.Event()
    finished = anyio.Event()
    with anyio.fail_after(TIMEOUT):
        async with (
            wamp.connect(crossbar.rs_url) as callee,
            wamp.connect(crossbar.rs_url) as caller,
        ):

            async def slow() -> str:
                entered.set()
                try:
                    await anyio.sleep(1)
                except anyio.get_cancelled_exc_class():
                    interrupted.set()
                    raise
                finished.set()
                return "done"

            await callee.register(slow, proc)
            with anyio.move_on_after(5) as scope:
                async with anyio.create_task_group() as tg:
                    tg.start_soon(lambda: caller.call(proc, options=options))
                    await entered.wait()
                    tg.cancel_scope.cancel()
            assert not scope.cancelled_caught
            with anyio.fail_after(5):
                if mode == "skip":  # the callee is not interrupted: it runs to its end
                    await finished.wait()
                else:
                    await interrupted.wait()
            # the caller's session is still fine
            assert caller.is_attached()


async def test_pattern_subscriptions_and_exclude_me(crossbar: CrossbarRouter) -> None:
    base = _uri("pat")
    got: dict[str, list[str]] = {"prefix": [], "wildcard": [], "exact": []}
    with anyio.fail_after(TIMEOUT):
        async with (
            wamp.connect(crossbar.rs_url) as subscriber,
            wamp.connect(crossbar.ws_url) as publisher,
        ):

            def collect(kind: str) -> Callable[..., None]:
                def handler(*args: Any, details: wc.EventDetails) -> None:
                    assert details.topic is not None
                    got[kind].append(details.topic)

                return handler

            await subscriber.subscribe(
                collect("prefix"), base, wc.SubscribeOptions(match="prefix", details=True)
            )
            await subscriber.subscribe(
                collect("wildcard"),
                f"{base}..b",
                wc.SubscribeOptions(match="wildcard", details=True),
            )
            await subscriber.subscribe(
                collect("exact"), f"{base}.a.b", wc.SubscribeOptions(details=True)
            )
            ack = wc.PublishOptions(acknowledge=True)
            await publisher.publish(f"{base}.a.b", options=ack)
            await publisher.publish(f"{base}.x.b", options=ack)
            await publisher.publish(f"{base}.a.c", options=ack)
            await _until(lambda: len(got["prefix"]) == 3)
            await _until(lambda: len(got["wildcard"]) == 2)
            assert got["exact"] == [f"{base}.a.b"]
            # a publisher does not get its own event unless exclude_me=False
            own: list[int] = []
            await publisher.subscribe(own.append, f"{base}.own")
            await publisher.publish(f"{base}.own", 1, options=ack)
            await publisher.publish(
                f"{base}.own", 2, options=wc.PublishOptions(acknowledge=True, exclude_me=False)
            )
            await _until(lambda: own == [2])


async def test_shared_registration_round_robin(crossbar: CrossbarRouter) -> None:
    proc = _uri("shared")
    options = wc.RegisterOptions(invoke="roundrobin")
    with anyio.fail_after(TIMEOUT):
        async with (
            wamp.connect(crossbar.rs_url) as one,
            wamp.connect(crossbar.ws_url) as two,
            wamp.connect(crossbar.rs_url) as caller,
        ):
            await one.register(lambda: "one", proc, options)
            await two.register(lambda: "two", proc, options)
            answers = [await caller.call(proc) for _ in range(4)]
            assert sorted(answers) == ["one", "one", "two", "two"]
            assert answers[0] != answers[1]


async def test_events_in_order_with_a_bounded_queue(crossbar: CrossbarRouter) -> None:
    topic = _uri("flood")
    got: list[int] = []
    release = anyio.Event()
    with anyio.fail_after(TIMEOUT):
        async with (
            wamp.connect(crossbar.rs_url) as subscriber,
            wamp.connect(crossbar.rs_url) as publisher,
        ):

            async def slow(i: int) -> None:
                await release.wait()
                got.append(i)

            subscription = await subscriber.subscribe(
                slow, topic, wc.SubscribeOptions(queue_size=3)
            )
            for i in range(20):
                await publisher.publish(topic, i, options=wc.PublishOptions(acknowledge=True))
            await _until(lambda: subscription.dropped > 0)
            release.set()
            await anyio.sleep(0.3)
            # the handler holds one event, the queue three more; the rest was dropped
            assert got == sorted(got)
            assert got[:4] == [0, 1, 2, 3]
            assert len(got) + subscription.dropped == 20


async def test_check_types_answers_invalid_argument(crossbar: CrossbarRouter) -> None:
    proc = _uri("typed")
    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(crossbar.rs_url) as session:

            def typed(a: int, names: list[str], flag: bool | None = None) -> str:
                return f"{a}:{','.join(names)}:{flag}"

            await session.register(typed, proc, check_types=True)
            assert await session.call(proc, 1, ["x", "y"]) == "1:x,y:None"
            for args in [("1", ["x"]), (1, [2]), (1,), (1, ["x"], "no")]:
                with pytest.raises(wc.ApplicationError) as info:
                    await session.call(proc, *args)
                assert info.value.error == wc.ApplicationError.INVALID_ARGUMENT


async def test_options_of_another_type_are_refused_before_anything_is_sent(
    crossbar: CrossbarRouter,
) -> None:
    """A porting user's ``autobahn.wamp.types`` options (or a dict) raise a TypeError naming
    the import to change, and nothing reaches the router: the session goes on."""
    ab = pytest.importorskip("autobahn.wamp.types")
    proc, topic = _uri("typed_options"), _uri("typed_options_topic")
    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(crossbar.rs_url) as session:
            attempts: list[tuple[str, Callable[[Any], Awaitable[Any]]]] = [
                ("RegisterOptions", lambda o: session.register(print, proc, options=o)),
                ("SubscribeOptions", lambda o: session.subscribe(print, topic, options=o)),
                ("PublishOptions", lambda o: session.publish(topic, options=o)),
                ("CallOptions", lambda o: session.call(proc, options=o)),
                ("CallOptions", lambda o: session.iter_call(proc, options=o).__aenter__()),
                ("CallOptions", lambda o: session.open_call(proc, options=o).__aenter__()),
            ]
            for name, attempt in attempts:
                with pytest.raises(TypeError) as info:
                    await attempt(getattr(ab, name)())
                assert str(info.value).endswith(
                    f"options must be {name} (wamp_core.{name}), not autobahn.wamp.types.{name}: "
                    f"Autobahn's options objects are not accepted, import {name} from "
                    "wamp_anyio, wamp_trio or wamp_core instead"
                )
                with pytest.raises(TypeError, match=f"must be {name} .*, not builtins.dict$"):
                    await attempt({})
            with pytest.raises(wc.ApplicationError) as error:
                await session.call(proc)  # nothing was registered
            assert error.value.error == "wamp.error.no_such_procedure"
            await session.register(lambda: "ok", proc, options=wamp.RegisterOptions())
            assert await session.call(proc, options=wamp.CallOptions(timeout=5)) == "ok"
    # The component's decorators refuse them when the handler is declared (porting.md).
    component = wamp.Component(transports=crossbar.rs_url)
    for name, decorator in (("RegisterOptions", component.register),
                            ("SubscribeOptions", component.subscribe)):  # fmt: skip
        with pytest.raises(wc.ConfigurationError, match=f"import {name} from wamp_anyio"):
            decorator("com.x", options=getattr(ab, name)())(print)


async def test_a_ported_handler_may_return_or_raise_autobahns_objects(transport: Any) -> None:
    """The caller gets what a handler still using ``autobahn.wamp.types.CallResult`` or
    ``autobahn.wamp.exception.ApplicationError`` meant (it got ``runtime_error`` with the
    object's repr, and an encoding error, before)."""
    ab_types = pytest.importorskip("autobahn.wamp.types")
    ab_exception = pytest.importorskip("autobahn.wamp.exception")
    returns, raises = _uri("ab_result"), _uri("ab_error")

    def result() -> Any:
        return ab_types.CallResult("a", b"\x00", n=2)

    def error() -> None:
        raise ab_exception.ApplicationError("com.example.refused", "why", code=3)

    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(transport) as callee, wamp.connect(transport) as caller:
            await callee.register(result, returns)
            await callee.register(error, raises)
            answer = await caller.call(returns)
            assert (answer.args, answer.kwargs) == (["a", b"\x00"], {"n": 2})
            # ... and the caller may read it with Autobahn's names
            assert (answer.results, answer.kwresults) == (("a", b"\x00"), {"n": 2})
            assert answer.callee == answer.details.get("callee")
            if "callee" in answer.details:  # Crossbar discloses every callee (our router: asked)
                assert answer.callee == callee.session_id
            with pytest.raises(wc.ApplicationError) as info:
                await caller.call(raises)
            assert (info.value.error, info.value.args, info.value.kwargs) == (
                "com.example.refused", ("why",), {"code": 3},
            )  # fmt: skip


async def test_publish_and_leave_send_when_called_as_in_autobahn(transport: Any) -> None:
    """A ported plain handler calls ``session.publish(...)`` and ``session.leave()`` without
    ``await`` (Autobahn sends at call time): both used to do nothing (a coroutine never
    awaited)."""
    ping, pong = _uri("ping"), _uri("pong")
    received: list[Any] = []
    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(transport) as watcher, wamp.connect(transport) as relay:

            def on_ping(n: int) -> None:  # a plain handler: no await possible
                relay.publish(pong, n, options=wamp.PublishOptions(acknowledge=True))
                relay.publish(pong, n + 1)
                if n == 2:
                    relay.leave()

            await relay.subscribe(on_ping, ping)
            await watcher.subscribe(received.append, pong)
            publication = await watcher.publish(ping, 1, options=wamp.PublishOptions(
                acknowledge=True, exclude_me=False))  # fmt: skip
            assert isinstance(publication, int) and publication.id == publication > 0
            assert await watcher.publish(ping, 2) is None
            await relay.wait_closed()
            await _until(lambda: len(received) == 4)
            assert received == [1, 2, 2, 3] and not relay.is_attached()


async def test_autobahns_session_attributes(transport: Any) -> None:
    """Ported code reads ``session.realm``, ``authid``... (an AttributeError ended the run)."""
    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(transport) as session:
            details = session.details
            assert details is not None and session.session_details is details
            assert (session.realm, session.authid, session.authrole, session.authmethod) == (
                "realm1", details.authid, details.authrole, details.authmethod,
            )  # fmt: skip
            assert session.authrole == "anonymous" and session.authid
            assert session.authprovider == details.authprovider
            assert session.authextra == details.authextra
            assert session.is_connected() and session.is_attached()
            await session.leave()
            assert not session.is_connected() and not session.is_attached()
            left: tuple[object, ...] = (session.realm, session.authid, session.session_details)
            assert left == (None, None, None)


async def test_a_procedure_that_raises_is_logged_with_its_traceback(
    transport: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """The caller gets the message only; the callee's side logged nothing at all."""
    proc = _uri("buggy")

    def buggy() -> None:
        raise KeyError("missing")

    def refuses() -> None:
        raise wc.ApplicationError("com.example.no")

    exception = pytest.importorskip("autobahn.wamp.exception")

    def refuses_as_ported() -> None:  # Autobahn's ApplicationError is an answer too
        raise exception.ApplicationError("com.example.no")

    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(transport) as session:
            await session.register(buggy, proc)
            await session.register(refuses, proc + ".no")
            await session.register(refuses_as_ported, proc + ".ab")
            with caplog.at_level(logging.ERROR, logger="wamp_core.driver"):  # the documented
                for procedure in (proc, proc + ".no", proc + ".ab"):
                    with pytest.raises(wc.ApplicationError):
                        await session.call(procedure)
    [record] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert record.name == "wamp_core.driver"
    assert record.getMessage() == f"procedure {proc} failed"
    assert record.exc_info is not None and record.exc_info[0] is KeyError


async def test_pending_requests_fail_at_once_on_disconnect(crossbar: CrossbarRouter) -> None:
    proc = _uri("hang")
    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(crossbar.rs_url) as callee:
            await callee.register(anyio.sleep_forever, proc)
            async with wamp.connect(crossbar.rs_url) as caller:
                errors: list[BaseException] = []

                async def call() -> None:
                    try:
                        await caller.call(proc)
                    except wc.SessionClosed as exc:
                        errors.append(exc)

                async with anyio.create_task_group() as tg:
                    for _ in range(3):
                        tg.start_soon(call)
                    await anyio.sleep(0.2)
                    await caller.disconnect()
                assert len(errors) == 3
                with pytest.raises(wc.SessionClosed):
                    await caller.call(proc)
            # Every command says the same after the connection ended (unregister() and
            # unsubscribe() said "not registered", a LocalProtocolError).
            subscription = await callee.subscribe(lambda: None, _uri("topic"))
            registration = await callee.register(lambda: None, _uri("proc"))
            await callee.disconnect()
            for command in (subscription.unsubscribe, registration.unregister):
                with pytest.raises(wc.SessionClosed, match="the transport is closed"):
                    await command()


async def test_a_cancelled_register_or_subscribe_leaves_nothing_at_the_router(
    transport: Any,
) -> None:
    """The router's late REGISTERED / SUBSCRIBED is undone (UNREGISTER / UNSUBSCRIBE): the
    registration and subscription stayed at the router without a handler (the procedure
    answered no_such_registration, nobody else could register it)."""
    proc, topic = _uri("zombie"), _uri("zombie")
    created: dict[str, int] = {}
    deleted: set[int] = set()

    def on_create(_session: int, details: dict[str, Any]) -> None:
        if details["uri"] in (proc, topic):
            created[details["uri"]] = details["id"]

    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(transport) as session, wamp.connect(transport) as other:
            for kind in ("registration", "subscription"):
                await other.subscribe(on_create, f"wamp.{kind}.on_create")
                await other.subscribe(lambda _s, id_: deleted.add(id_), f"wamp.{kind}.on_delete")
            commands: list[Callable[[], Awaitable[Any]]] = [
                lambda: session.register(lambda: "zombie", proc),
                lambda: session.subscribe(lambda: None, topic),
            ]
            for command in commands:
                with anyio.CancelScope() as scope:
                    scope.cancel()
                    await command()  # the request goes out, then the wait is cancelled
                assert scope.cancelled_caught
            # Made at the router after all, then undone.
            await _until(lambda: len(created) == 2 and set(created.values()) <= deleted)
            await other.register(lambda: "alive", proc)
            assert await session.call(proc) == "alive"


async def test_a_register_answered_as_its_caller_is_cancelled_is_undone(
    transport: Any, anyio_backend: str
) -> None:
    """On asyncio a task's own cancel() wins over the result it was woken with: the REGISTERED
    / SUBSCRIBED was handled, yet the caller gets CancelledError and never the object, so it is
    undone (it stayed at the router, its handler running for nobody)."""
    if anyio_backend != "asyncio":
        pytest.skip("asyncio's race: a woken trio task is not cancelled before it resumes")
    proc, topic = _uri("race"), _uri("race")
    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(transport) as session:
            link: Any = session._link
            on_events = link._on_events
            commands: list[Callable[[], Awaitable[Any]]] = [
                lambda: session.register(lambda: "raced", proc),
                lambda: session.subscribe(lambda: None, topic),
            ]
            for command in commands:

                async def run(command: Callable[[], Awaitable[Any]] = command) -> Any:
                    return await command()

                task = asyncio.ensure_future(run())

                def answered_then_cancelled(events: list[Any], task: Any = task) -> None:
                    on_events(events)  # the success is handled: the caller is woken...
                    if any(
                        isinstance(e, (wc.events.Registered, wc.events.Subscribed)) for e in events
                    ):
                        task.cancel()  # ...and cancelled before it resumes

                link._on_events = answered_then_cancelled
                with pytest.raises(asyncio.CancelledError):
                    await task
            link._on_events = on_events
            await _until_none(session, "wamp.registration.lookup", proc)
            await _until_none(session, "wamp.subscription.lookup", topic)


async def test_a_subscribe_made_while_an_abandoned_one_is_in_flight_gets_events(
    transport: Any,
) -> None:
    """A cancelled subscribe and a second one to the same topic are both in flight; the router
    answers both with one subscription. Undoing the first must not remove it under the second
    (its UNSUBSCRIBE did: the second subscription counted live and got nothing)."""
    topic = _uri("shared")
    got: list[int] = []
    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(transport) as session, wamp.connect(transport) as publisher:
            with anyio.CancelScope() as scope:
                scope.cancel()
                await session.subscribe(lambda i: None, topic)
            subscription = await session.subscribe(got.append, topic)
            assert subscription.active
            await publisher.publish(topic, 1, options=wc.PublishOptions(acknowledge=True))
            await _until(lambda: got == [1])
            assert await publisher.call("wamp.subscription.lookup", topic) == subscription.id


@pytest.mark.parametrize("invoke", ["single", "roundrobin"])
async def test_a_register_retried_after_a_cancelled_one_is_registered(
    transport: Any, invoke: str
) -> None:
    """Register under a deadline, retry: the retry takes the first REGISTER's answer over (a
    second REGISTER was refused, or on Crossbar answered with the first's registration, and
    the first's undoing left nothing registered)."""
    proc = _uri("retry")
    options = wc.RegisterOptions(invoke=invoke)  # type: ignore[arg-type]
    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(transport) as callee, wamp.connect(transport) as caller:
            with anyio.CancelScope() as scope:
                scope.cancel()
                await callee.register(lambda: "first", proc, options)
            registration = await callee.register(lambda: "retry", proc, options)
            assert registration.active
            assert await caller.call(proc) == "retry"
            await anyio.sleep(0.2)  # (an undo would have gone by now)
            assert registration.active and await caller.call(proc) == "retry"


async def test_no_event_reaches_the_handler_after_unsubscribe(transport: Any) -> None:
    """Events queued for a slow handler are dropped on unsubscribe(): the application said it
    wants no more (the one the handler is running finishes)."""
    topic = _uri("unsub")
    got: list[int] = []
    release = anyio.Event()
    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(transport) as session, wamp.connect(transport) as publisher:

            async def slow(i: int) -> None:
                got.append(i)
                await release.wait()

            subscription = await session.subscribe(slow, topic)
            subscription_id: int = subscription.id  # (typed int: set once the router confirms)
            assert subscription_id > 0
            for i in range(5):
                await publisher.publish(topic, i, options=wc.PublishOptions(acknowledge=True))
            # All five reached this client: the handler holds the first, four are queued.
            assert await session.call("wamp.subscription.lookup", topic) == subscription.id
            await _until(lambda: got == [0])
            await subscription.unsubscribe()
            release.set()
            await anyio.sleep(0.2)
            assert got == [0]


async def test_unsubscribe_and_unregister_send_without_await(transport: Any) -> None:
    """Autobahn's one-shot idiom, ported: a plain event handler calls ``unsubscribe()`` and
    ``unregister()`` without ``await``. The requests go at once (they were coroutines: nothing
    was sent, a RuntimeWarning, and the handler kept getting events)."""
    topic, proc = _uri("oneshot"), _uri("oneshot_proc")
    got: list[int] = []
    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(transport) as session, wamp.connect(transport) as publisher:
            registration = await session.register(lambda: "once", proc)

            def once(i: int) -> None:
                got.append(i)
                subscription.unsubscribe()
                registration.unregister()

            subscription = await session.subscribe(once, topic)
            await publisher.publish(topic, 0, options=wc.PublishOptions(acknowledge=True))
            await _until(lambda: got == [0])
            await _until_none(publisher, "wamp.subscription.lookup", topic)
            await _until_none(publisher, "wamp.registration.lookup", proc)
            for i in (1, 2):
                await publisher.publish(topic, i, options=wc.PublishOptions(acknowledge=True))
            with pytest.raises(wc.ApplicationError, match="no_such_procedure"):
                await publisher.call(proc)
            assert got == [0] and not subscription.active and not registration.active
            # awaited, the result waits for the router's answer
            again = await session.subscribe(got.append, topic)
            assert await again.unsubscribe() is None  # type: ignore[func-returns-value]
            assert not again.active
            registered = await session.register(lambda: None, proc)
            assert await registered.unregister() is None  # type: ignore[func-returns-value]


async def test_no_event_reaches_the_handler_after_unsubscribe_from_another_task(
    crossbar: CrossbarRouter,
) -> None:
    """The handler's deliverer yields every few dozen events; an unsubscribe() another task
    makes then stops the next one already (it was taken before the yield, and handled)."""
    topic = _uri("unsub_fair")
    got: list[int] = []
    gate, hit = anyio.Event(), anyio.Event()
    counts: list[int] = []

    async def handler(i: int) -> None:
        got.append(i)
        if i == 0:
            await gate.wait()  # the rest queue up behind the first
        if i == 10:
            hit.set()  # the other task unsubscribes at the deliverer's next yield

    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(crossbar.rs_url) as session, wamp.connect(crossbar.rs_url) as pub:
            subscription = await session.subscribe(handler, topic)

            async def unsubscriber() -> None:
                await hit.wait()
                counts.append(len(got))  # nothing runs between this and unsubscribe()
                await subscription.unsubscribe()

            async with anyio.create_task_group() as tg:
                tg.start_soon(unsubscriber)
                for i in range(300):
                    pub.publish(topic, i)
                await pub.publish(topic, 300, options=wc.PublishOptions(acknowledge=True))
                await _until(lambda: subscription.dropped == 0 and len(got) == 1)
                await anyio.sleep(0.2)  # every event is queued
                gate.set()
            await anyio.sleep(0.2)
    assert counts and len(got) == counts[0], f"{len(got)} handled, {counts} at unsubscribe()"


async def test_a_retained_event_reaches_only_the_subscription_that_asked(
    crossbar: CrossbarRouter,
) -> None:
    """Crossbar sends a retained event on the subscription ID that the session's handlers of
    one topic share: only the handler whose subscribe asked for it gets it, once."""
    topic = _uri("retained")
    plain: list[str] = []
    asked: list[str] = []
    late: list[str] = []
    retain = wc.SubscribeOptions(get_retained=True)
    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(crossbar.rs_url) as session, wamp.connect(crossbar.rs_url) as pub:
            ack = wc.PublishOptions(acknowledge=True)
            await pub.publish(topic, "v1", options=wc.PublishOptions(acknowledge=True, retain=True))
            await session.subscribe(plain.append, topic)
            await session.subscribe(asked.append, topic, retain)
            await _until(lambda: asked == ["v1"])
            await pub.publish(topic, "v2", options=ack)
            await _until(lambda: plain == ["v2"] and asked == ["v1", "v2"])
            await session.subscribe(late.append, topic, retain)
            await _until(lambda: late == ["v1"])
            await pub.publish(topic, "v3", options=ack)
            await _until(lambda: late == ["v1", "v3"])
    assert plain == ["v2", "v3"]
    assert asked == ["v1", "v2", "v3"]


async def test_a_cancelled_unregister_still_ends_the_registration(transport: Any) -> None:
    """UNREGISTER went out, its caller was cancelled before UNREGISTERED: the router removed
    the registration, and the Registration says so (it stayed "active")."""
    proc = _uri("unreg")
    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(transport) as session:
            registration = await session.register(lambda: "x", proc)
            with anyio.CancelScope() as scope:
                scope.cancel()
                await registration.unregister()
            assert scope.cancelled_caught
            await _until(lambda: not registration.active)
            await _until_none(session, "wamp.registration.lookup", proc)
            with pytest.raises(wc.LocalProtocolError, match="is not registered"):
                await registration.unregister()


async def _until_none(session: Any, procedure: str, *args: Any) -> None:
    with anyio.fail_after(5):
        while await session.call(procedure, *args) is not None:
            await anyio.sleep(0.05)


async def test_a_revoked_subscription_stops_delivering(
    crossbar: CrossbarRouter, caplog: pytest.LogCaptureFixture
) -> None:
    """The router removes our subscriber (meta API): the subscription says so and its handler
    gets nothing more. (Crossbar 26's ``wamp.registration.remove_callee`` fails inside the
    router -- ``'NoneType' object has no attribute 'forward_for'`` -- so the registration side
    cannot be shown against it.)"""
    topic = _uri("revoked")
    got: list[int] = []
    with anyio.fail_after(TIMEOUT):
        async with (
            wamp.connect(crossbar.rs_url) as session,
            wamp.connect(crossbar.rs_url) as admin,
        ):
            subscription = await session.subscribe(got.append, topic)
            ack = wc.PublishOptions(acknowledge=True)
            await admin.publish(topic, 1, options=ack)
            await _until(lambda: got == [1])
            await admin.call(
                "wamp.subscription.remove_subscriber", subscription.id, session.session_id
            )
            await _until(lambda: not subscription.active)
            await admin.publish(topic, 2, options=ack)
            await anyio.sleep(0.2)
            assert got == [1]
            assert session.is_attached()
    assert any("revoked by the router" in r.getMessage() for r in caplog.records)


async def test_handler_concurrency_is_opt_in(crossbar: CrossbarRouter) -> None:
    topic = _uri("concurrent")
    running = 0
    peak = {"one": 0, "three": 0}
    done = {"one": 0, "three": 0}

    def handler(name: str) -> Callable[[int], Any]:
        async def handle(i: int) -> None:
            nonlocal running
            running += 1
            peak[name] = max(peak[name], running)
            await anyio.sleep(0.05)
            running -= 1
            done[name] += 1

        return handle

    with anyio.fail_after(TIMEOUT):
        async with (
            wamp.connect(crossbar.rs_url) as one,
            wamp.connect(crossbar.rs_url) as three,
            wamp.connect(crossbar.rs_url) as publisher,
        ):
            await one.subscribe(handler("one"), topic)
            for i in range(6):
                await publisher.publish(topic, i, options=wc.PublishOptions(acknowledge=True))
            await _until(lambda: done["one"] == 6)
            await one.leave()
            await three.subscribe(handler("three"), topic, wc.SubscribeOptions(concurrency=3))
            for i in range(6):
                await publisher.publish(topic, i, options=wc.PublishOptions(acknowledge=True))
            await _until(lambda: done["three"] == 6)
    assert peak == {"one": 1, "three": 3}


@pytest.mark.parametrize("kind", ["async def", "plain function returning a coroutine"])
async def test_running_handlers_end_before_the_session_does(
    crossbar: CrossbarRouter, kind: str
) -> None:
    """Invocations still running when the callee's session ends are cancelled, and leaving
    ``connect`` waits until their handlers have finished (cleanup that awaits included)."""
    proc = _uri("running")
    started = anyio.Event()
    log: list[str] = []

    async def body() -> None:
        started.set()
        try:
            await anyio.sleep_forever()
        except anyio.get_cancelled_exc_class():
            log.append("cancelled")
            raise
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.sleep(0.05)  # cleanup that takes a while
            log.append("cleaned up")

    def plain() -> Awaitable[None]:
        return body()

    handler = body if kind == "async def" else plain
    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(crossbar.rs_url) as caller:
            async with wamp.connect(crossbar.rs_url) as callee:
                await callee.register(handler, proc)
                async with anyio.create_task_group() as tg:

                    async def call() -> None:
                        with pytest.raises(wc.ApplicationError):
                            await caller.call(proc)

                    tg.start_soon(call)
                    await started.wait()
                    assert log == []
                    await callee.leave()
            assert log == ["cancelled", "cleaned up"]  # before connect's exit returned


class _Fatal(BaseException):
    """Not an Exception: a handler raising it is a bug the application must see."""


async def test_a_handler_raising_a_base_exception_ends_the_session_with_it(
    crossbar: CrossbarRouter,
) -> None:
    proc = _uri("fatal")

    async def fatal() -> None:
        await anyio.sleep(0)
        raise _Fatal("boom")

    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(crossbar.rs_url) as caller:
            with pytest.raises(BaseException) as info:  # a group (the task group's)
                async with wamp.connect(crossbar.rs_url) as callee:
                    await callee.register(fatal, proc)
                    with pytest.raises(wc.WampError):
                        await caller.call(proc, options=wc.CallOptions(timeout=2))
                    await anyio.sleep_forever()
            assert info.group_contains(_Fatal, match="boom")
