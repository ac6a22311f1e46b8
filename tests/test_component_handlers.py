"""HandlerSpec: how a handler is called with WAMP arguments, details and type checks."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, Literal, Optional, Union

import pytest
from hypothesis import given, strategies as st

import wamp_core as wc

DETAILS = object()


def _invalid(spec: wc.HandlerSpec, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(wc.ApplicationError) as info:
        spec.arguments(list(args), kwargs, DETAILS)
    assert info.value.error == wc.ApplicationError.INVALID_ARGUMENT
    return str(info.value)


def test_plain_arguments_are_new_containers() -> None:
    spec = wc.HandlerSpec(lambda *a, **k: None)
    kwargs = {"k": 1}
    args, keywords = spec.arguments([1, 2], kwargs, DETAILS)
    assert (args, keywords) == ((1, 2), {"k": 1})
    assert keywords is not kwargs
    assert spec.details_arg is None
    assert not spec.is_async_generator


def test_details_conventions() -> None:
    def f(a: int, details: Any = None) -> None: ...

    assert wc.HandlerSpec(f, details=True).arguments([1], {}, DETAILS) == (
        (1,),
        {"details": DETAILS},
    )
    assert wc.HandlerSpec(f).arguments([1], {}, DETAILS) == ((1,), {})  # not asked, not kw-only

    def g(a: int, *, info: Any) -> None: ...

    assert wc.HandlerSpec(g, details="info").arguments([1], {}, DETAILS)[1] == {"info": DETAILS}

    def h(a: int, *, details: Any) -> None: ...

    assert wc.HandlerSpec(h).details_arg == "details"  # keyword-only: passed without asking
    assert wc.HandlerSpec(lambda **kw: None, details="x").details_arg == "x"
    with pytest.raises(wc.ConfigurationError, match="cannot take the details"):
        wc.HandlerSpec(lambda a: None, details=True)
    with pytest.raises(wc.ConfigurationError, match="identifier"):
        wc.HandlerSpec(f, details="not valid")
    with pytest.raises(wc.ConfigurationError, match="callable"):
        wc.HandlerSpec(3)  # type: ignore[arg-type]
    message = _invalid(wc.HandlerSpec(f, details=True), 1, details="sneaky")
    assert "reserved" in message


def test_a_keyword_only_chunks_parameter_takes_the_chunks() -> None:
    chunks = object()

    def streaming(a: int, *, chunks: Any, details: Any) -> None: ...

    spec = wc.HandlerSpec(streaming, check_types=True, chunks=True)
    assert spec.chunks_arg == "chunks"
    assert spec.arguments([1], {}, DETAILS, chunks) == (
        (1,),
        {"details": DETAILS, "chunks": chunks},
    )
    assert "reserved for the chunks" in _invalid(spec, 1, chunks="sneaky")
    assert "must be int" in _invalid(spec, "x")  # the chunks are not type-checked, args are
    assert (
        wc.HandlerSpec(lambda a, chunks=None: None, chunks=True).chunks_arg is None
    )  # not kw-only
    assert wc.HandlerSpec(lambda *a: None, chunks=True).arguments([1], {}, DETAILS, chunks) == (
        (1,), {})  # fmt: skip

    def on_event(*, chunks: int = 0) -> None: ...

    # an event handler (or any handler not asked for chunks) keeps its parameter as it was
    event = wc.HandlerSpec(on_event)
    assert event.chunks_arg is None
    assert event.arguments([], {"chunks": 5}, DETAILS) == ((), {"chunks": 5})


def test_async_generators_are_recognised_through_wrappers() -> None:
    async def count(n: int) -> AsyncIterator[int]:
        yield n

    class Streamer:
        async def __call__(self) -> AsyncIterator[int]:
            yield 1

    assert wc.HandlerSpec(count).is_async_generator
    assert wc.HandlerSpec(functools.partial(count, 3)).is_async_generator
    assert wc.HandlerSpec(Streamer()).is_async_generator
    assert not wc.HandlerSpec(print).is_async_generator


def test_check_types_binds_and_names_the_parameter() -> None:
    def f(a: int, b: str = "x", *rest: float, flag: bool = False, **more: int) -> None: ...

    spec = wc.HandlerSpec(f, check_types=True)
    assert spec.arguments([1, "y", 2.5, 3], {"flag": True, "n": 4}, DETAILS)[0] == (1, "y", 2.5, 3)
    assert "'a' must be int, not str" in _invalid(spec, "1")
    assert "'a' must be int, not bool" in _invalid(spec, True)
    assert "'rest[1]' must be float" in _invalid(spec, 1, "y", 1.0, "no")
    assert "'n' must be int" in _invalid(spec, 1, n="no")
    assert "missing a required argument" in _invalid(spec)
    assert "unexpected keyword" in _invalid(wc.HandlerSpec(lambda a: a, check_types=True), 1, b=2)


def test_check_types_leaves_the_details_out_of_a_var_keyword_hint() -> None:
    """``details=True`` passes the details as the keyword ``details``: not an argument of the
    call, never checked against ``**kwargs: int`` (a mutation review)."""

    def handler(*args: int, **kwargs: int) -> None: ...

    spec = wc.HandlerSpec(handler, details=True, check_types=True)
    args, keywords = spec.arguments([1], {"n": 2}, DETAILS)
    assert args == (1,) and keywords == {"n": 2, "details": DETAILS}
    assert "'n' must be int" in _invalid(spec, 1, n="x")


@pytest.mark.parametrize(
    ("hint", "good", "bad"),
    [
        (float, [1, 2.5], [True, "1"]),
        (Optional[int], [None, 3], ["3"]),  # noqa: UP045 - the typing form on purpose
        (Union[int, str], [1, "x"], [1.5]),  # noqa: UP007 - the typing form on purpose
        (int | None, [None, 1], [[]]),
        (list[int], [[], [1, 2]], [[1, "2"], (1,), "12"]),
        (tuple[int, ...], [[1, 2], (3,)], [[1, "x"]]),
        (tuple[int, str], [[1, "a"]], [[1], [1, 2]]),
        (dict[str, float], [{"a": 1.0}, {}], [{"a": "b"}, {1: 1.0}, []]),
        (Mapping[str, Any], [{"x": object()}], [[("x", 1)]]),
        (Sequence[str], [["a"], ("b",)], ["ab", [1]]),
        (Literal["a", 1], ["a", 1], ["b", True]),
        (bytes, [b"\x00"], ["x"]),
        (Any, [None, object()], []),
        (tuple, [(), [1]], [{}]),
        (list, [[1, "a"]], [(1,)]),
        (dict, [{}], [[]]),
    ],
)
def test_annotation_forms(hint: Any, good: list[Any], bad: list[Any]) -> None:
    def f(value: Any) -> None: ...

    f.__annotations__ = {"value": hint}
    spec = wc.HandlerSpec(f, check_types=True)
    for value in good:
        assert spec.arguments([value], {}, DETAILS) == ((value,), {})
    for value in bad:
        assert "'value' must be" in _invalid(spec, value)


def test_unknown_forms_and_unresolvable_hints_accept_anything() -> None:
    from typing import TypeVar

    t = TypeVar("t")

    def f(a: t, b: NoSuchType, c: int) -> None: ...  # type: ignore[name-defined] # noqa: F821

    spec = wc.HandlerSpec(f, check_types=True)
    assert spec.arguments(["x", object(), 1], {}, DETAILS)[0][2] == 1
    assert "'c' must be int" in _invalid(spec, "x", None, "1")


def test_check_types_needs_a_signature() -> None:
    class NoSignature:
        __signature__ = "broken"

        def __call__(self) -> None: ...

    with pytest.raises(wc.ConfigurationError, match="signature"):
        wc.HandlerSpec(NoSignature(), check_types=True)
    assert wc.HandlerSpec(NoSignature()).arguments([1], {}, DETAILS) == ((1,), {})


def test_callable_objects_and_partials_are_checked() -> None:
    class Adder:
        def __call__(self, a: int, b: int) -> int:
            return a + b

    assert "'b' must be int" in _invalid(wc.HandlerSpec(Adder(), check_types=True), 1, "2")

    def add(a: int, b: int) -> int:
        return a + b

    partial = wc.HandlerSpec(functools.partial(add, 1), check_types=True)
    assert partial.arguments([2], {}, DETAILS) == ((2,), {})
    assert "'b' must be int" in _invalid(partial, "2")


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=10,
)


def _typed(a: int, b: list[str], *rest: dict[str, float], c: Literal["x"] | None = None) -> None:
    pass


@given(st.lists(JSON, max_size=4), st.dictionaries(st.sampled_from(["a", "b", "c", "z"]), JSON))
def test_arbitrary_arguments_raise_only_invalid_argument(
    args: list[Any], kwargs: dict[str, Any]
) -> None:
    spec = wc.HandlerSpec(_typed, check_types=True)
    try:
        spec.arguments(args, kwargs, DETAILS)
    except wc.ApplicationError as exc:
        assert exc.error == wc.ApplicationError.INVALID_ARGUMENT


def test_other_generic_containers_check_the_container_only() -> None:
    def f(a: set[int], b: frozenset[str] = frozenset()) -> None: ...

    spec = wc.HandlerSpec(f, check_types=True)
    assert spec.arguments([{1}], {}, DETAILS) == (({1},), {})
    assert "'a' must be set[int], not list" in _invalid(spec, [1])


def test_positional_only_details_are_refused() -> None:
    def f(details: Any, /) -> None: ...

    with pytest.raises(wc.ConfigurationError, match="cannot take the details"):
        wc.HandlerSpec(f, details=True)
    assert wc.HandlerSpec(f).details_arg is None
