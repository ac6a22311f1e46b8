"""What INTERRUPT does to an ``async def`` procedure, through Crossbar.io and the embedded
router, on asyncio and trio (every driver): what a cancelled anyio (trio) cancel scope means,
the handler running in a real one (a lighter scope built on asyncio's ``task.cancel()`` was
tried for speed: anyio's own code in the handler never saw it, see the anyio cases below).

* a shielded anyio scope in the handler defers the cancel until it ends;
* once interrupted the handler is cancelled at each wait until it ends (level-triggered),
  so a handler that catches the cancel and waits again does not run on;
* anyio's own waits see it (an uncontended lock), and it reaches the handler's task groups
  while the handler waits for them shielded;
* a handler that swallows the cancel and returns: what it returns is dropped (the callee
  answered ``wamp.error.canceled`` when the INTERRUPT came), and the session (and the next
  invocation of the same procedure) goes on unharmed;
* an INTERRUPT that arrives before the handler started: it is cancelled at its first wait;
  a plain function's invocation interrupted while it waits in the queue is not run.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import anyio
import pytest

import wamp_core as wc
from wamp_anyio import start_router

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("wamp")]

TIMEOUT = 20

_counter = iter(range(1_000_000))


def _uri(name: str) -> str:
    return f"com.test.interrupt.{name}.{next(_counter)}"


async def _interrupt_after(caller: Any, proc: str, entered: anyio.Event, *args: Any) -> None:
    """Call ``proc`` and cancel the call (mode ``kill``) once the handler has entered."""

    async def call() -> None:
        await caller.call(proc, *args, options=wc.CallOptions(cancel_mode="kill"))

    async with anyio.create_task_group() as tg:
        tg.start_soon(call)
        await entered.wait()
        tg.cancel_scope.cancel()


async def _interrupted(
    router: Any, wamp: Any, handler: Any, entered: anyio.Event, ended: Any
) -> float:
    """Register ``handler`` (a callee session), call it from another session and cancel the
    call once it has ``entered``; wait until ``ended()``: the seconds from the call to then."""
    proc = _uri("p")
    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(router.rs_url) as callee, wamp.connect(router.rs_url) as caller:
            await callee.register(handler, proc)
            started = time.monotonic()
            await _interrupt_after(caller, proc, entered)
            await _until(ended)
            assert callee.is_attached() and caller.is_attached()
            return time.monotonic() - started


async def test_a_shielded_scope_defers_the_interrupt(router: Any, wamp: Any) -> None:
    entered, shielded_done = anyio.Event(), [False]
    cancelled: list[float] = []
    ended: list[float] = []

    async def handler() -> str:
        try:
            with anyio.CancelScope(shield=True):
                entered.set()
                await anyio.sleep(0.5)
                shielded_done[0] = True
            await anyio.sleep(10)
        except anyio.get_cancelled_exc_class():
            cancelled.append(time.monotonic())
            raise
        finally:
            ended.append(time.monotonic())
        return "late"

    elapsed = await _interrupted(router, wamp, handler, entered, lambda: bool(ended))
    assert shielded_done[0]  # the shielded sleep ran to its end
    assert len(cancelled) == 1 and 0.4 < elapsed < 3


async def test_an_interrupted_handler_is_cancelled_at_each_wait(router: Any, wamp: Any) -> None:
    entered, ended = anyio.Event(), [False]
    cancels = [0]

    async def handler() -> str:
        entered.set()
        try:
            for _ in range(3):
                try:
                    await anyio.sleep(10)
                except anyio.get_cancelled_exc_class():
                    cancels[0] += 1  # caught, and waits again: cancelled again
        finally:
            ended[0] = True
        return "ran on"

    elapsed = await _interrupted(router, wamp, handler, entered, lambda: ended[0])
    assert cancels[0] == 3
    assert elapsed < 5


async def test_an_interrupt_reaches_a_handler_whose_only_waits_are_anyio_checkpoints(
    router: Any, wamp: Any
) -> None:
    """An uncontended anyio.Lock yields only in a shielded checkpoint, after checking the
    task's anyio cancel scopes: the handler's scope must be one anyio sees (a scope built on
    asyncio's ``task.cancel()`` was never seen there, the loop ran on)."""
    entered = anyio.Event()
    outcome: list[str] = []
    lock = anyio.Lock()

    async def handler() -> str:
        entered.set()
        started = time.monotonic()
        try:
            while time.monotonic() - started < 10:
                async with lock:
                    pass
        except anyio.get_cancelled_exc_class():
            outcome.append("cancelled")
            raise
        outcome.append("ran on")
        return "ran on"

    await _interrupted(router, wamp, handler, entered, lambda: bool(outcome))
    assert outcome == ["cancelled"]


async def test_an_interrupt_reaches_the_handlers_own_tasks_while_it_waits_shielded(
    router: Any, wamp: Any
) -> None:
    """A handler waits for its task group's worker in a shielded scope: the INTERRUPT cancels
    the worker at once (anyio delivers a scope's cancel to the task groups inside it)."""
    entered = anyio.Event()
    worker: list[str] = []

    async def handler() -> str:
        done = anyio.Event()

        async def work() -> None:
            try:
                await anyio.sleep(10)
                worker.append("ran on")
            except anyio.get_cancelled_exc_class():
                worker.append("cancelled")
                raise
            finally:
                done.set()

        async with anyio.create_task_group() as tg:
            tg.start_soon(work)
            entered.set()
            with anyio.CancelScope(shield=True):
                await done.wait()
        return "done"

    await _interrupted(router, wamp, handler, entered, lambda: bool(worker))
    assert worker == ["cancelled"]


async def test_a_handler_that_swallows_the_interrupt_and_the_session_goes_on(
    router: Any, wamp: Any
) -> None:
    proc = _uri("swallow")
    entered = anyio.Event()
    calls = [0]
    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(router.rs_url) as callee, wamp.connect(router.rs_url) as caller:

            async def handler(first: bool) -> str:
                calls[0] += 1
                if not first:
                    await anyio.sleep(0.05)  # waits: no cancel left over from the first
                    return "second"
                entered.set()
                try:
                    await anyio.sleep(10)
                except anyio.get_cancelled_exc_class():
                    return "swallowed"
                return "slept"

            await callee.register(handler, proc)
            await _interrupt_after(caller, proc, entered, True)
            for _ in range(3):
                assert await caller.call(proc, False) == "second"
            assert calls[0] == 4
            assert callee.is_attached()


async def test_an_interrupt_before_the_handler_started_cancels_it_at_its_first_wait(
    wamp: Any,
) -> None:
    """CALL and CANCEL leave the caller in one write (its session driven by hand); the
    embedded router, in this event loop through memory, reads them together and sends
    INVOCATION and INTERRUPT together: the callee reads both before the handler's task runs.
    As in a cancelled anyio scope, the handler runs up to its first wait and is cancelled
    there (it does not sleep on)."""
    proc = _uri("early")
    ran: list[int] = []
    cancelled: list[int] = []
    with anyio.fail_after(TIMEOUT):
        async with start_router([f"rs://memory/{proc}"], realms=["realm1"]) as server:
            url = server.urls[0]
            async with wamp.connect(url) as callee, wamp.connect(url) as caller:

                async def handler(i: int) -> int:
                    ran.append(i)
                    try:
                        await anyio.sleep(5)
                    except anyio.get_cancelled_exc_class():
                        cancelled.append(i)
                        raise
                    return i

                await callee.register(handler, proc)
                session = caller._conn.session
                requests = [session.call(proc, [i]) for i in range(5)]
                for request_id in requests:
                    session.cancel(request_id, "kill")
                caller._link.push()
                await _until(lambda: len(cancelled) == 5)
                assert sorted(ran) == sorted(cancelled) == list(range(5))
                assert caller.is_attached() and callee.is_attached()


async def _until(condition: Any, timeout: float = 5) -> None:
    with anyio.fail_after(timeout):
        while not condition():
            await anyio.sleep(0.01)


async def test_a_plain_invocation_interrupted_while_queued_is_not_run(
    router: Any, wamp: Any, anyio_backend: str
) -> None:
    """(A review.) Plain functions run one after another; a call that times out (``kill``)
    while its invocation waits behind a slow one got ``canceled``, and the callee ran it
    anyway afterwards (its side effects included). The callee runs in a thread of its own:
    its slow function blocks its loop, not the caller's."""
    proc = _uri("queued")
    ran: list[str] = []
    ready, stop = threading.Event(), threading.Event()

    def handler(name: str) -> str:
        ran.append(name)
        if name == "slow":
            time.sleep(0.6)  # blocks the callee's loop: "queued" waits behind it
        return name

    async def callee_main() -> None:
        async with wamp.connect(router.rs_url) as callee:
            await callee.register(handler, proc)
            ready.set()
            while not stop.is_set():
                await anyio.sleep(0.02)

    thread = threading.Thread(target=anyio.run, args=(callee_main,),
                              kwargs={"backend": anyio_backend})  # fmt: skip
    thread.start()
    try:
        with anyio.fail_after(TIMEOUT):
            assert await anyio.to_thread.run_sync(ready.wait, TIMEOUT)
            async with wamp.connect(router.rs_url) as caller, anyio.create_task_group() as tg:
                tg.start_soon(caller.call, proc, "slow")
                await anyio.sleep(0.1)
                with pytest.raises(wc.ApplicationError) as info:
                    await caller.call(
                        proc, "queued", options=wc.CallOptions(timeout=0.2, cancel_mode="kill")
                    )
                assert info.value.error == wc.ApplicationError.TIMEOUT
            async with wamp.connect(router.rs_url) as caller:
                assert await caller.call(proc, "after") == "after"
    finally:
        stop.set()
        await anyio.to_thread.run_sync(thread.join, TIMEOUT)
    assert ran == ["slow", "after"]
