"""What clients see through the embedded router and through Crossbar.io, side by side.

Each scenario runs with ``wamp_anyio`` clients (asyncio) once per router and returns what the
clients observed; the test asserts the same observation on both, written out, so a change in
either router fails here. These are the places where the embedded router once differed from
Crossbar.io: shared registrations, ``force_reregister``, the meta API's view of ``wamp.*``
subscriptions, the session meta procedures, and a call timeout with ``cancel_mode="skip"``.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import anyio
import pytest

import wamp_anyio
import wamp_core as wc
from crossbar import CrossbarRouter
from embedded import EmbeddedRouter
from wamp_core import auth

ROUTERS = ("crossbar", "embedded")


@pytest.fixture(scope="module")
def embedded() -> Iterator[EmbeddedRouter]:
    with EmbeddedRouter() as router:
        yield router


@pytest.fixture(params=ROUTERS)
def url(request: pytest.FixtureRequest) -> str:
    router = request.getfixturevalue(request.param)
    assert isinstance(router, CrossbarRouter | EmbeddedRouter)
    return router.ws_url


def run(scenario: Callable[[str], Awaitable[Any]], url: str) -> Any:
    async def bounded() -> Any:
        with anyio.fail_after(20):
            return await scenario(url)

    return anyio.run(bounded)


async def _registers_twice(url: str) -> dict[str, Any]:
    shared = wc.RegisterOptions(invoke="roundrobin")
    async with wamp_anyio.connect(url) as callee, wamp_anyio.connect(url) as caller:
        await callee.register(lambda: "first", "com.parity.shared", shared)
        try:
            await callee.register(lambda: "second", "com.parity.shared", shared)
            second = "registered"
        except wc.ApplicationError as exc:
            second = exc.error
        return {"second": second, "attached": callee.is_attached(),
                "served by": await caller.call("com.parity.shared")}  # fmt: skip


def test_a_session_registering_a_shared_procedure_twice_keeps_its_session(url: str) -> None:
    # Crossbar.io answers REGISTERED with the registration the session has; the embedded
    # router refuses. The client makes both the same error, and the first handler stays.
    assert run(_registers_twice, url) == {
        "second": wc.ApplicationError.PROCEDURE_ALREADY_EXISTS, "attached": True,
        "served by": "first",
    }  # fmt: skip


async def _force_reregister(url: str) -> dict[str, Any]:
    async with (
        wamp_anyio.connect(url) as old,
        wamp_anyio.connect(url) as new,
        wamp_anyio.connect(url) as caller,
    ):
        registration = await old.register(lambda: "old", "com.parity.force")
        await new.register(
            lambda: "new", "com.parity.force", wc.RegisterOptions(force_reregister=True)
        )
        with anyio.fail_after(5):
            while registration.active:  # the revocation is on its way to the old callee
                await anyio.sleep(0.01)
        return {"served by": await caller.call("com.parity.force"), "old": registration.active}


def test_force_reregister_takes_the_procedure_over(url: str) -> None:
    assert run(_force_reregister, url) == {"served by": "new", "old": False}


async def _mixed_policies(url: str) -> list[str]:
    async with wamp_anyio.connect(url) as a, wamp_anyio.connect(url) as b:
        await a.register(lambda: 0, "com.parity.policy", wc.RegisterOptions(invoke="first"))
        errors = []
        for invoke in ("last", "single", "first"):
            try:
                await b.register(lambda: 0, "com.parity.policy", wc.RegisterOptions(invoke=invoke))
                errors.append("registered")
            except wc.ApplicationError as exc:
                errors.append(exc.error)
        return errors


def test_another_invocation_policy_is_refused_with_its_own_error(url: str) -> None:
    conflict = wc.ApplicationError.PROCEDURE_EXISTS_INVOCATION_POLICY_CONFLICT
    assert run(_mixed_policies, url) == [conflict, conflict, "registered"]


async def _meta_view_of_wamp_subscriptions(url: str) -> dict[str, Any]:
    async with wamp_anyio.connect(url) as monitor, wamp_anyio.connect(url) as other:
        seen: list[Any] = []
        for topic in ("wamp.subscription.on_create", "wamp.subscription.on_subscribe"):
            await monitor.subscribe(lambda *args: seen.append(args), topic)
        hidden = await other.subscribe(lambda *args: None, "wamp.session.on_join")
        shown = await other.subscribe(lambda *args: None, "com.parity.topic")
        with anyio.fail_after(5):
            while len(seen) < 2:  # the ordinary subscription's on_create and on_subscribe
                await anyio.sleep(0.01)
        await anyio.sleep(0.2)  # (time for any event about the wamp.* one)
        listed = await monitor.call("wamp.subscription.list")
        # (of these two: the router may hold other tests' subscriptions too)
        pair = (("wamp.session.on_join", hidden), ("com.parity.topic", shown))
        return {
            "meta events": len(seen),
            "listed": [name for name, sub in pair if sub.id in listed["exact"]],
            "lookup": await monitor.call("wamp.subscription.lookup", "wamp.session.on_join"),
            "match": await monitor.call("wamp.subscription.match", "wamp.session.on_join"),
        }


def test_the_meta_api_does_not_show_subscriptions_to_wamp_topics(url: str) -> None:
    assert run(_meta_view_of_wamp_subscriptions, url) == {
        "meta events": 2, "listed": ["com.parity.topic"], "lookup": None, "match": None,
    }  # fmt: skip


async def _session_meta_procedures(url: str) -> dict[str, Any]:
    async with wamp_anyio.connect(url) as admin:
        async with wamp_anyio.connect(url) as victim:
            killed = await admin.call("wamp.session.kill_by_authid", victim.authid)
            expected = [victim.session_id]
            with anyio.fail_after(5):
                while victim.is_attached():
                    await anyio.sleep(0.01)
        nobody = await admin.call("wamp.session.kill_by_authrole", "com.parity.nobody")
        testament = await admin.call("wamp.session.add_testament", "com.parity.t", [], {})
        flushed = await admin.call("wamp.session.flush_testaments")
        return {"killed": killed == expected, "by role": nobody,
                "testament id": type(testament) is int, "flushed": flushed}  # fmt: skip


def test_session_meta_procedures_answer_as_crossbar_does(url: str) -> None:
    assert run(_session_meta_procedures, url) == {
        "killed": True, "by role": [], "testament id": True, "flushed": 1,
    }  # fmt: skip


async def _testaments_by_position(url: str) -> list[Any]:
    """Crossbar.io's ``add_testament(topic, args, kwargs, publish_options=None,
    scope="destroyed")`` and ``flush_testaments(scope="destroyed")``, every argument by
    position; ``None`` for args and kwargs."""
    heard: list[Any] = []
    async with wamp_anyio.connect(url) as watcher:
        await watcher.subscribe(lambda *a: heard.append(list(a)), "com.parity.will")
        async with wamp_anyio.connect(url) as dying:
            add = "wamp.session.add_testament"
            await dying.call(add, "com.parity.will", ["withdrawn"], {}, {}, "detached")
            flushed = await dying.call("wamp.session.flush_testaments", "detached")
            await dying.call(add, "com.parity.will", ["kept"], {}, {}, "detached")
            await dying.call(add, "com.parity.will", None, None)
        with anyio.fail_after(5):
            while len(heard) < 2:
                await anyio.sleep(0.01)
        await anyio.sleep(0.2)  # (nothing more comes)
    return [flushed, heard]


def test_testament_arguments_by_position_as_crossbar_takes_them(url: str) -> None:
    assert run(_testaments_by_position, url) == [1, [["kept"], []]]


async def _session_details(url: str) -> dict[str, Any]:
    """What ``wamp.session.get`` tells of a session, in the keys both routers write."""
    async with (
        wamp_anyio.connect(url) as admin,
        wamp_anyio.connect(
            {"url": url, "serializers": ["msgpack"]},
            authentication=[auth.AnonymousAuthenticator(authextra={"app": "parity"})],
        ) as other,
    ):
        details = await admin.call("wamp.session.get", other.session_id)
        transport = details["transport"]
        return {
            "realm": details["realm"],
            "authextra app": details["authextra"].get("app"),
            "framing": transport.get("channel_framing"),
            "type": transport.get("channel_type"),
            "peer on loopback": "127.0.0.1" in str(transport.get("peer")),
        }


def test_session_details_tell_realm_authextra_and_transport(url: str) -> None:
    """(A review.) The embedded router told only the authentication, ``transport`` empty:
    apps moving from Crossbar.io read these."""
    assert run(_session_details, url) == {
        "realm": "realm1", "authextra app": "parity", "framing": "websocket", "type": "tcp",
        "peer on loopback": True,
    }  # fmt: skip


async def _timeout_with_skip(url: str) -> list[str]:
    log: list[str] = []
    async with wamp_anyio.connect(url) as callee, wamp_anyio.connect(url) as caller:

        async def work() -> str:
            try:
                await anyio.sleep(0.6)
            except BaseException:
                log.append("interrupted")
                raise
            log.append("finished")
            return "done"

        await callee.register(work, "com.parity.work")
        options = wc.CallOptions(timeout=0.2, cancel_mode="skip")
        try:
            await caller.call("com.parity.work", options=options)
        except wc.ApplicationError as exc:
            log.append(exc.error)
        await anyio.sleep(0.8)
    return log


def test_a_timeout_with_skip_lets_the_callee_finish(url: str) -> None:
    # The embedded router announces call_timeout; a dealer deadline would interrupt the callee.
    assert run(_timeout_with_skip, url) == ["wamp.error.timeout", "finished"]


async def _floats_to_a_ubjson_callee(url: str) -> list[str]:
    received: list[Any] = []
    async with (
        wamp_anyio.connect({"url": url, "serializers": ["ubjson"]}) as callee,
        wamp_anyio.connect({"url": url, "serializers": ["msgpack"]}) as caller,
    ):
        await callee.register(lambda *args: received.extend(args), "com.parity.floats")
        await caller.call("com.parity.floats", math.nan, math.inf, -math.inf, 2.5)
    return [repr(value) for value in received]


def test_non_finite_floats_reach_a_ubjson_peer(url: str) -> None:
    # Crossbar.io 26 speaks BJData; the embedded router spoke classic UBJSON (NaN as null).
    assert run(_floats_to_a_ubjson_callee, url) == ["nan", "inf", "-inf", "2.5"]


async def _concurrency_one(url: str) -> dict[str, Any]:
    outcomes: list[str] = []
    async with wamp_anyio.connect(url) as callee, wamp_anyio.connect(url) as caller:
        running, peak = 0, 0

        async def slow() -> str:
            nonlocal running, peak
            running += 1
            peak = max(peak, running)
            await anyio.sleep(0.3)
            running -= 1
            return "done"

        await callee.register(slow, "com.parity.conc", wc.RegisterOptions(concurrency=1))

        async def one() -> None:
            try:
                outcomes.append(await caller.call("com.parity.conc"))
            except wc.ApplicationError as exc:
                outcomes.append(exc.error)

        async with anyio.create_task_group() as tg:
            for _ in range(3):
                tg.start_soon(one)
        outcomes.append(await caller.call("com.parity.conc"))  # free again
    return {"peak": peak, "outcomes": sorted(outcomes)}


def test_register_concurrency_bounds_the_invocations_at_a_callee(url: str) -> None:
    busy = "crossbar.error.max_concurrency_reached"
    assert run(_concurrency_one, url) == {
        "peak": 1, "outcomes": [busy, busy, "done", "done"],
    }  # fmt: skip


async def _prefixes(url: str) -> dict[str, Any]:
    got: list[str] = []
    async with wamp_anyio.connect(url) as subscriber, wamp_anyio.connect(url) as publisher:
        await subscriber.subscribe(
            lambda details: got.append(details.topic), "", wc.SubscribeOptions(
                match="prefix", details=True
            ),
        )  # fmt: skip
        ack = wc.PublishOptions(acknowledge=True)
        await publisher.publish("com.parity.anything", options=ack)
        await publisher.publish("org.other", options=ack)
        with anyio.fail_after(5):
            while len(got) < 2:
                await anyio.sleep(0.01)
        try:
            await subscriber.subscribe(print, "com..x", wc.SubscribeOptions(match="prefix"))
            inner = "subscribed"
        except wc.LocalProtocolError as exc:
            inner = exc.reason
        return {"events": sorted(got), "inner empty component": inner}


def test_the_empty_prefix_subscribes_to_every_topic(url: str) -> None:
    assert run(_prefixes, url) == {
        "events": ["com.parity.anything", "org.other"],
        "inner empty component": "wamp.error.invalid_uri",
    }


async def _meta_arguments(url: str) -> dict[str, Any]:
    async def error_of(session: Any, procedure: str, *args: Any, **kwargs: Any) -> str:
        try:
            await session.call(procedure, *args, **kwargs)
        except wc.ApplicationError as exc:
            return "not_authorized" if exc.error == "wamp.error.not_authorized" else "refused"
        return "answered"

    async with wamp_anyio.connect(url) as a, wamp_anyio.connect(url) as b:
        mine = await a.register(lambda: None, "com.parity.meta.a")
        theirs = await b.register(lambda: None, "com.parity.meta.b")
        await a.subscribe(lambda: None, "com.parity.meta.topic")
        watcher = await b.subscribe(lambda *args: None, "wamp.session.on_leave")
        listed = await b.call("wamp.registration.list", a.session_id)
        try:
            await a.call("wamp.session.add_testament", "com.parity.t", [], {}, scope="soon")
            scope = "accepted"
        except wc.ApplicationError as exc:
            scope = exc.error
        return {
            "lookup by keyword": await b.call(
                "wamp.registration.lookup", procedure="com.parity.meta.a"
            )
            == mine.id,
            "match by keyword": await b.call(
                "wamp.subscription.match", topic="com.parity.meta.topic"
            )
            is not None,
            "count with a role filter by keyword": await b.call(
                "wamp.session.count", filter_authroles=["com.parity.nobody"]
            ),
            "a role name as filter": await error_of(b, "wamp.session.count", "anonymous"),
            "listed for one session": (mine.id in listed["exact"], theirs.id in listed["exact"]),
            "removing a meta API user's subscription": await error_of(
                a, "wamp.subscription.remove_subscriber", watcher.id, b.session_id
            ),
            "unknown testament scope": scope,
        }


def test_meta_procedures_take_crossbars_arguments(url: str) -> None:
    assert run(_meta_arguments, url) == {
        "lookup by keyword": True, "match by keyword": True,
        "count with a role filter by keyword": 0, "a role name as filter": "refused",
        "listed for one session": (True, False),
        "removing a meta API user's subscription": "not_authorized",
        "unknown testament scope": "wamp.error.testament_error",
    }  # fmt: skip
