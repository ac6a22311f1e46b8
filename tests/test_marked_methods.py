"""``session.register(obj)`` / ``session.subscribe(obj)`` with ``@wamp.register`` /
``@wamp.subscribe`` marked methods (ours, and Autobahn's markers on a class ported without
changing them), through Crossbar.io on every driver; the marks' checks without a router."""

from __future__ import annotations

import logging
from typing import Any

import anyio
import pytest

import wamp_anyio as wamp
import wamp_core as wc
from crossbar import CrossbarRouter

TIMEOUT = 20

_counter = iter(range(1_000_000))


def _prefix() -> str:
    return f"com.test.marks{next(_counter)}."


class Calculator:
    """A ported Autobahn service object: marked methods, one unmarked."""

    def __init__(self) -> None:
        self.seen: list[Any] = []

    @wamp.wamp.register("add")
    def add(self, a: int, b: int) -> int:
        return a + b

    @wamp.wamp.register(None)  # the method's name, as in Autobahn
    async def mul(self, a: int, b: int) -> int:
        return a * b

    @wamp.wamp.register("checked", check_types=True)
    def checked(self, a: int) -> int:
        return a

    @wamp.wamp.register("both")
    @wamp.wamp.subscribe("news")
    def both(self, value: Any) -> Any:
        self.seen.append(("both", value))
        return value

    @wamp.wamp.subscribe("status..changed")  # an empty component: a wildcard
    def any_status(self, value: Any) -> None:
        self.seen.append(("status", value))

    @wamp.wamp.subscribe("disk.", wc.SubscribeOptions(match="prefix", details=True))
    def disk(self, value: Any, details: wc.EventDetails) -> None:
        self.seen.append(("disk", value, details.topic))

    @staticmethod
    @wamp.wamp.register("version")
    def version() -> str:
        return "1.0"

    def helper(self) -> None:  # not marked: neither registered nor subscribed
        raise AssertionError


async def _until(condition: Any) -> None:
    while not condition():
        await anyio.sleep(0.01)


@pytest.mark.anyio
@pytest.mark.usefixtures("wamp")
async def test_marked_methods_are_registered_and_subscribed(crossbar: CrossbarRouter) -> None:
    prefix = _prefix()
    service = Calculator()
    transport = {"type": "rawsocket", "url": crossbar.rs_url, "serializer": "msgpack"}
    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(transport) as callee, wamp.connect(transport) as caller:
            registrations = await callee.register(service, prefix=prefix)
            assert [r.procedure for r in registrations] == [  # by the methods' names
                prefix + name for name in ("add", "both", "checked", "mul", "version")
            ]
            assert await caller.call(prefix + "add", 2, 3) == 5
            assert await caller.call(prefix + "mul", 4, 5) == 20
            assert await caller.call(prefix + "version") == "1.0"
            assert await caller.call(prefix + "both", "x") == "x"
            with pytest.raises(wc.ApplicationError) as info:
                await caller.call(prefix + "checked", "not an int")
            assert info.value.error == "wamp.error.invalid_argument"
            with pytest.raises(wc.ApplicationError, match="no_such_procedure"):
                await caller.call(prefix + "helper")

            one = await callee.register(lambda: 1, "one", prefix=prefix)  # a function too
            assert one.procedure == prefix + "one" and await caller.call(prefix + "one") == 1

            subscriptions = await callee.subscribe(service, prefix=prefix)
            assert [s.topic for s in subscriptions] == [
                prefix + topic for topic in ("status..changed", "news", "disk.")
            ]
            acked = wc.PublishOptions(acknowledge=True)
            await caller.publish(prefix + "news", 1, options=acked)
            await caller.publish(prefix + "status.disk.changed", 2, options=acked)
            await caller.publish(prefix + "disk.sda", 3, options=acked)
            await _until(lambda: len(service.seen) == 4)
            assert ("both", 1) in service.seen
            assert ("status", 2) in service.seen
            assert ("disk", 3, prefix + "disk.sda") in service.seen

            # each comes back as one object: unregister/unsubscribe work on them
            for registration in registrations:
                await registration.unregister()
            with pytest.raises(wc.ApplicationError, match="no_such_procedure"):
                await caller.call(prefix + "add", 2, 3)
            for subscription in subscriptions:
                await subscription.unsubscribe()


@pytest.mark.anyio
@pytest.mark.usefixtures("wamp")
async def test_a_failed_registration_undoes_the_others(crossbar: CrossbarRouter) -> None:
    """All or nothing: when the router refuses one (another session holds ``both``), the ones
    already made are unregistered and the refusal is raised."""
    prefix = _prefix()
    transport = {"type": "rawsocket", "url": crossbar.rs_url, "serializer": "msgpack"}
    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(transport) as other, wamp.connect(transport) as session:
            await other.register(lambda value: "other", prefix + "mul")
            with pytest.raises(wc.ApplicationError, match="procedure_already_exists"):
                await session.register(Calculator(), prefix=prefix)
            # "add", "both" and "checked" (before "mul" by name) were made, then undone
            for name in ("add", "both", "checked"):
                with pytest.raises(wc.ApplicationError, match="no_such_procedure"):
                    await other.call(prefix + name, 1)
            assert await other.call(prefix + "mul", 1) == "other"


@pytest.mark.anyio
@pytest.mark.usefixtures("wamp")
async def test_autobahn_markers_are_read(crossbar: CrossbarRouter) -> None:
    """A class ported with its ``from autobahn import wamp`` decorators left as they were."""
    autobahn_wamp = pytest.importorskip("autobahn.wamp")
    prefix = _prefix()

    class Ported:
        @autobahn_wamp.register(prefix + "echo")  # type: ignore[untyped-decorator]
        def echo(self, value: Any) -> Any:
            return ["echo", value]

        @autobahn_wamp.subscribe(prefix + "topic")  # type: ignore[untyped-decorator]
        def on_topic(self, value: Any) -> None:
            got.append(value)

    got: list[Any] = []
    transport = {"type": "websocket", "url": crossbar.ws_url, "serializers": ["json"]}
    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(transport) as callee, wamp.connect(transport) as caller:
            ported = Ported()
            assert len(await callee.register(ported)) == 1
            assert len(await callee.subscribe(ported)) == 1
            assert await caller.call(prefix + "echo", 7) == ["echo", 7]
            await caller.publish(prefix + "topic", 8, options=wc.PublishOptions(acknowledge=True))
            await _until(lambda: got == [8])


def test_marks_are_checked_when_made() -> None:
    with pytest.raises(wc.ConfigurationError, match="not a valid procedure URI"):
        wamp.wamp.register("com.example..bad", wc.RegisterOptions(match="exact"))(lambda: 0)
    with pytest.raises(wc.ConfigurationError, match="takes the URI first"):
        wamp.wamp.subscribe(lambda: 0)  # type: ignore[arg-type]
    with pytest.raises(wc.ConfigurationError, match="must be SubscribeOptions"):
        wamp.wamp.subscribe("com.example", wc.RegisterOptions())(lambda: 0)  # type: ignore[arg-type]
    autobahn_types = pytest.importorskip("autobahn.wamp.types")
    with pytest.raises(wc.ConfigurationError, match="Autobahn's options objects"):
        wc.Declaration("register", "com.x", lambda: 0, autobahn_types.RegisterOptions())


def test_a_function_without_a_mark_needs_its_uri() -> None:
    """``register(fn)`` without a procedure is a mistake, said before anything is sent (an
    object without marks gives an empty list, as in Autobahn)."""
    from wamp_core._component._marks import marked

    with pytest.raises(wc.ConfigurationError, match="give the procedure URI"):
        marked(lambda: 0, "register")
    assert marked(object(), "subscribe") == []

    @wamp.wamp.register("com.example.marked")
    def alone() -> int:
        return 1

    with pytest.raises(wc.ConfigurationError, match="give the topic URI"):
        marked(alone, "subscribe")  # marked, but for the other kind
    [declaration] = marked(alone, "register", prefix="x.")
    assert declaration.uri == "x.com.example.marked" and declaration.handler is alone


@wamp.wamp.error("com.example.error.not_found")
class NotFound(Exception):
    def __init__(self, key: str, *, hint: str = "") -> None:
        super().__init__(key)
        self.key = key
        self.hint = hint
        self.kwargs = {"hint": hint} if hint else {}


class GoneForGood(NotFound):
    """A subclass answers with its base's URI."""


class Unbuildable(Exception):
    def __init__(self) -> None:  # cannot take the error's args
        super().__init__()


@pytest.mark.anyio
@pytest.mark.usefixtures("wamp")
async def test_defined_exceptions_cross_the_wire_both_ways(
    crossbar: CrossbarRouter, caplog: pytest.LogCaptureFixture
) -> None:
    """``session.define``: the callee's exception goes out as its URI with its args and
    kwargs (no ERROR log: it is an answer), the caller gets the class back, built from them."""
    prefix = _prefix()
    transport = {"type": "rawsocket", "url": crossbar.rs_url, "serializer": "cbor"}
    with anyio.fail_after(TIMEOUT):
        async with wamp.connect(transport) as callee, wamp.connect(transport) as caller:
            callee.define(NotFound)  # by its mark
            callee.define(Unbuildable, "com.example.error.unbuildable")

            def find(key: str) -> None:
                if key == "gone":
                    raise GoneForGood(key, hint="deleted")
                if key == "odd":
                    raise Unbuildable
                raise NotFound(key, hint="try another")

            await callee.register(find, prefix + "find")

            # the caller has not defined it: the ApplicationError, with the args and kwargs
            with pytest.raises(wc.ApplicationError) as plain:
                await caller.call(prefix + "find", "k1")
            assert plain.value.error == "com.example.error.not_found"
            assert plain.value.args == ("k1",) and plain.value.kwargs == {"hint": "try another"}

            caller.define(NotFound)
            caller.define(Unbuildable, "com.example.error.unbuildable")
            with pytest.raises(NotFound) as mapped:
                await caller.call(prefix + "find", "k2")
            assert type(mapped.value) is NotFound
            assert (mapped.value.key, mapped.value.hint) == ("k2", "try another")
            assert isinstance(mapped.value.__cause__, wc.ApplicationError)
            with pytest.raises(NotFound) as sub:
                await caller.call(prefix + "find", "gone")
            assert sub.value.hint == "deleted"
            with pytest.raises(Unbuildable):
                await caller.call(prefix + "find", "odd")
            failures = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
            assert failures == []  # answers, not failures of the procedure
            # a class that cannot be built from the error's args: the ApplicationError
            await callee.register(lambda: _raise(wc.ApplicationError(
                "com.example.error.unbuildable", 1, 2)), prefix + "odd2")  # fmt: skip
            with caplog.at_level(logging.WARNING), pytest.raises(wc.ApplicationError) as odd2:
                await caller.call(prefix + "odd2")
            assert odd2.value.args == (1, 2)
            assert "could not be built" in caplog.text


def _raise(exc: BaseException) -> None:
    raise exc


def test_define_checks_what_it_is_given() -> None:
    from wamp_core._component._defined import DefinedErrors

    defined = DefinedErrors()
    with pytest.raises(wc.ConfigurationError, match="not an exception class"):
        defined.define(NotFound("x"))  # type: ignore[arg-type]
    with pytest.raises(wc.ConfigurationError, match=r"has no @wamp\.error mark"):
        defined.define(GoneForGood)  # the mark is its base's: give the URI
    with pytest.raises(wc.ConfigurationError, match="not a valid error URI"):
        defined.define(Unbuildable, "not a uri")
    with pytest.raises(wc.ConfigurationError, match="not a valid error URI"):
        wamp.wamp.error("bad uri")
    # redefining moves the URI: one class per URI and back
    defined.define(Unbuildable, "com.example.e")
    defined.define(NotFound, "com.example.e")
    assert defined.answer(Unbuildable()) is None
    assert defined.answer(GoneForGood("k")) == ("com.example.e", ["k"], {})
    autobahn_wamp = pytest.importorskip("autobahn.wamp")

    @autobahn_wamp.error("com.example.autobahn")
    class Ported(Exception):
        pass

    assert defined.define(Ported) == "com.example.autobahn"


def test_autobahn_marks_with_autobahn_options_are_taken() -> None:
    """(An own-diff review.) A class ported with ``@autobahn.wamp.subscribe(topic,
    options=SubscribeOptions(match="prefix"))`` was refused for Autobahn's options object."""
    autobahn_wamp = pytest.importorskip("autobahn.wamp")
    types = pytest.importorskip("autobahn.wamp.types")
    from wamp_core._component._marks import marked

    class Ported:
        @autobahn_wamp.subscribe("com.example.", options=types.SubscribeOptions(match="prefix"))  # type: ignore[untyped-decorator]
        def on_any(self, value: Any) -> None:
            pass

        @autobahn_wamp.register(  # type: ignore[untyped-decorator]
            "com.example.add", options=types.RegisterOptions(invoke="roundrobin")
        )
        def add(self, a: int, b: int) -> int:
            return a + b

    [subscription] = marked(Ported(), "subscribe")
    assert subscription.options == wc.SubscribeOptions(match="prefix")
    [registration] = marked(Ported(), "register")
    assert registration.options == wc.RegisterOptions(invoke="roundrobin")
