"""Serializer edges a mutation review found unguarded: msgpack's `loads` errors, its fast
decode path's type checks, the FlatBuffers work budget, encode error texts, a serializer whose
import fails. Each test fails on the one-line change its docstring names."""

from __future__ import annotations

from typing import Any

import flatbuffers
import msgpack
import pytest

from wamp_core import ConfigurationError, EncodingError, RemoteProtocolError, SerializationError
from wamp_core.messages import Call, Event
from wamp_core.serializers import get_serializer


@pytest.mark.parametrize(
    ("data", "detail"),
    [
        (b"\xc1", "FormatError"),
        (123, "TypeError: a bytes-like object is required"),
        (b"\x81\x01\x02", "ValueError: int is not allowed for map key"),
    ],
    ids=["reserved-byte", "not-bytes", "int-map-key"],
)
def test_msgpack_loads_raises_serialization_error(data: Any, detail: str) -> None:
    """(Mutant M6: loads catches only ValueError; M8: loads re-raises msgpack's own exception;
    M17: loads passes strict_map_key=False, so ``{1: 2}`` decodes)
    ``Serializer.loads`` promises a SerializationError for anything undecodable: a user (or the
    FlatBuffers payload codec) would otherwise see msgpack's FormatError or a bare TypeError."""
    with pytest.raises(SerializationError, match=f"invalid msgpack data: {detail}"):
        get_serializer("msgpack").loads(data)


@pytest.mark.parametrize("blob", [b"\x23\x05", b"\x43\x07"], ids=["unsubscribed", "unregistered"])
def test_msgpack_bin_frame_is_not_a_message(blob: bytes) -> None:
    """(Mutant M12: decode's fast path indexes any value, not only a list) A msgpack ``bin``
    whose octets read like ``[35, 5]`` (UNSUBSCRIBED) or ``[67, 7]`` (UNREGISTERED) must be
    rejected as not-a-list; the mutant hands the bytes to the parser and yields a message."""
    with pytest.raises(RemoteProtocolError, match="must be a non-empty list"):
        get_serializer("msgpack").decode(msgpack.packb(blob))


def _event_with_shared_principal(hops: int, text_size: int) -> bytes:
    """An EVENT whose ``forward_for`` lists the same Principal ``hops`` times; the Principal's
    authid and authrole both point at one string of ``text_size`` octets."""
    builder = flatbuffers.Builder(1024)
    text = builder.CreateString("r" * text_size)
    builder.StartObject(3)
    builder.PrependUint64Slot(0, 7, 0)
    builder.PrependUOffsetTRelativeSlot(1, text, 0)
    builder.PrependUOffsetTRelativeSlot(2, text, 0)
    principal = builder.EndObject()
    builder.StartVector(4, hops, 4)
    for _ in range(hops):
        builder.PrependUOffsetTRelative(principal)
    vector = builder.EndVector()
    builder.StartObject(18)
    builder.PrependUint64Slot(1, 1, 0)
    builder.PrependUint64Slot(2, 2, 0)
    builder.PrependUOffsetTRelativeSlot(17, vector, 0)
    body = builder.EndObject()
    builder.StartObject(2)
    builder.PrependUint8Slot(0, 36, 0)
    builder.PrependUOffsetTRelativeSlot(1, body, 0)
    builder.Finish(builder.EndObject())
    return bytes(builder.Output())


def test_flatbuffers_work_budget_is_four_times_the_buffer() -> None:
    """(Mutant R1: the decode budget is 40 x the buffer size instead of 4 x) A ~1.2 kB buffer
    that references one 1000-octet string 40 times (20 hops, authid and authrole) is
    rejected; the same buffer with 2 references (decoded size well under the budget) decodes.
    With the mutant the amplifying buffer decodes into 40 kB of strings."""
    fb = get_serializer("flatbuffers")
    small = fb.decode(_event_with_shared_principal(2, 1000))
    assert isinstance(small, Event)
    assert (
        small.details["forward_for"]
        == [{"session": 7, "authid": "r" * 1000, "authrole": "r" * 1000}] * 2
    )
    data = _event_with_shared_principal(20, 1000)
    assert len(data) < 1300
    with pytest.raises(SerializationError, match="offsets reference the same data too often"):
        fb.decode(data)


def test_msgpack_boolean_message_code_is_unknown() -> None:
    """(Mutant M13: decode's fast path takes any code, not only an ``int``) ``true`` is not a
    message type: ``[true, "realm1", {...}]`` must be rejected, not read as a HELLO (code 1,
    since ``True == 1`` in a dict lookup)."""
    frame = msgpack.packb([True, "realm1", {"roles": {"caller": {}}}])
    with pytest.raises(RemoteProtocolError, match="unknown WAMP message type True"):
        get_serializer("msgpack").decode(frame)


class _Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no text")


class _HostileList(list):  # type: ignore[type-arg]
    """A list that passes the message's validation, then fails while being serialized."""

    iterations = 0

    def __iter__(self) -> Any:
        self.iterations += 1
        if self.iterations > 1:
            raise _Unprintable
        return super().__iter__()


def test_encode_error_survives_an_exception_whose_str_raises() -> None:
    """(Mutant A2: _describe catches only ValueError from str(exc); A5: an empty text still
    gets ": ") A payload whose iteration raises an exception with a broken ``__str__`` must give
    a clean EncodingError naming the exception type, not leak the RuntimeError of its
    ``__str__`` (which would end a session instead of failing one call)."""
    call = Call(request_id=1, procedure="com.example.p", args=[_HostileList([1])])
    with pytest.raises(EncodingError) as info:
        get_serializer("ubjson").encode(call)
    assert str(info.value) == "cannot encode CALL with ubjson: _Unprintable"


def _unencodable(name_size: int) -> Any:
    return type("X" * name_size, (), {})()


def _text_of(obj: Any) -> str:
    try:
        msgpack.packb(obj)
    except TypeError as exc:
        return str(exc)
    raise AssertionError("msgpack encoded it")


def test_encode_error_detail_is_cut_at_160_characters() -> None:
    """(Mutant A1: limit 160 -> 16; A3: ``>`` -> ``>=``; A4: no room kept for the "...") The
    library's text in an EncodingError is kept when it has 160 characters and cut to 157 + "..."
    (160 in all) when it is longer, so a log line stays bounded but short texts stay whole."""
    ser = get_serializer("msgpack")
    fixed = len(_text_of(_unencodable(1))) - 1
    exact = _unencodable(160 - fixed)
    assert len(_text_of(exact)) == 160
    with pytest.raises(EncodingError) as info:
        ser.encode(Call(request_id=1, procedure="com.example.p", args=[exact]))
    assert str(info.value) == f"cannot encode CALL with msgpack: TypeError: {_text_of(exact)}"
    longer = _unencodable(300)
    with pytest.raises(EncodingError) as info:
        ser.encode(Call(request_id=1, procedure="com.example.p", args=[longer]))
    detail = str(info.value).removeprefix("cannot encode CALL with msgpack: TypeError: ")
    assert len(detail) == 160
    assert detail == _text_of(longer)[:157] + "..."


def test_serializer_whose_import_fails_is_a_configuration_error(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """(Mutant I2: the registry catches only ModuleNotFoundError) A serializer module that is
    present but fails to import with a plain ImportError (a dependency too old, the way
    ``_msgpack`` refuses msgpack < 1.0, or a ``cannot import name``) must still give the
    documented ConfigurationError "... serializer is not available", not a bare ImportError."""
    import wamp_core.serializers as registry

    (tmp_path / "_too_old_codec.py").write_text(
        'raise ImportError("wamp_core needs somecodec >= 2.0")\n'
    )
    monkeypatch.setattr(registry, "__path__", [*registry.__path__, str(tmp_path)])
    monkeypatch.setitem(registry._BASE, "ubjson", ("._too_old_codec", "UbjsonSerializer"))
    with pytest.raises(
        ConfigurationError,
        match=r"the ubjson serializer is not available: .*ImportError: wamp_core needs somecodec",
    ):
        get_serializer("ubjson")
