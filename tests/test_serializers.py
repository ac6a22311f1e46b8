"""Tests for wamp_core.serializers: round trips, hostile input, wire conventions, registry."""

from __future__ import annotations

import contextlib
import math
import struct
from collections.abc import Callable
from typing import Any

import cbor2
import msgpack
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from wamp_core import ConfigurationError, EncodingError, ProtocolError, SerializationError
from wamp_core.messages import Call, Event, Message, Publish, Result
from wamp_core.serializers import (
    SERIALIZER_NAMES,
    BatchedSerializer,
    CborSerializer,
    JsonSerializer,
    MsgpackSerializer,
    Serializer,
    get_serializer,
    serializer_for_rawsocket_id,
    serializer_for_subprotocol,
)
from wamp_core.testing import ALL_MESSAGE_CLASSES, message_of, messages

OPTIONAL = ("ubjson", "flatbuffers")
CORE = ("json", "msgpack", "cbor")
NAMES = SERIALIZER_NAMES


def make(name: str) -> Serializer:
    """The serializer; skip cleanly when an optional one (ubjson, flatbuffers) is missing."""
    try:
        return get_serializer(name)
    except ConfigurationError as exc:
        if name.partition(".")[0] in OPTIONAL:
            pytest.skip(str(exc))
        raise


def assert_same(a: Any, b: Any, path: str = "message") -> None:
    """Equality that also compares types (``True`` is not ``1``) and the sign of zero."""
    assert type(a) is type(b), f"{path}: {type(a).__name__} != {type(b).__name__} ({a!r}, {b!r})"
    if isinstance(a, (list, tuple)):
        assert len(a) == len(b), f"{path}: length {len(a)} != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{path}[{i}]")
    elif isinstance(a, dict):
        assert set(a) == set(b), f"{path}: keys {sorted(a)} != {sorted(b)}"
        for key in a:
            assert_same(a[key], b[key], f"{path}[{key!r}]")
    elif isinstance(a, float):
        assert a == b and math.copysign(1, a) == math.copysign(1, b), f"{path}: {a!r} != {b!r}"
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


def only_protocol_errors(call: Callable[[], Any]) -> Any:
    """Run ``call``; it may succeed or raise ProtocolError, nothing else."""
    try:
        return call()
    except ProtocolError:
        return None


# ---------------------------------------------------------------------------------- registry

EXPECTED_ATTRIBUTES = {
    # name: (class, subprotocol, rawsocket_id, binary, batched)
    "json": (JsonSerializer, "wamp.2.json", 1, False, False),
    "msgpack": (MsgpackSerializer, "wamp.2.msgpack", 2, True, False),
    "cbor": (CborSerializer, "wamp.2.cbor", 3, True, False),
    "ubjson": (None, "wamp.2.ubjson", 4, True, False),
    "flatbuffers": (None, "wamp.2.flatbuffers", 5, True, False),
    "json.batched": (BatchedSerializer, "wamp.2.json.batched", None, False, True),
    "msgpack.batched": (BatchedSerializer, "wamp.2.msgpack.batched", None, True, True),
    "cbor.batched": (BatchedSerializer, "wamp.2.cbor.batched", None, True, True),
    "ubjson.batched": (BatchedSerializer, "wamp.2.ubjson.batched", None, True, True),
}


def test_serializer_names() -> None:
    assert set(SERIALIZER_NAMES) == set(EXPECTED_ATTRIBUTES)
    assert len(SERIALIZER_NAMES) == len(set(SERIALIZER_NAMES))


@pytest.mark.parametrize("name", NAMES)
def test_registry_attributes(name: str) -> None:
    cls, subprotocol, rawsocket_id, binary, batched = EXPECTED_ATTRIBUTES[name]
    ser = make(name)
    assert isinstance(ser, Serializer)
    if cls is not None:
        assert type(ser) is cls
    assert (ser.name, ser.subprotocol, ser.rawsocket_id, ser.binary, ser.batched) == (
        name,
        subprotocol,
        rawsocket_id,
        binary,
        batched,
    )
    assert type(serializer_for_subprotocol(subprotocol)) is type(ser)
    assert serializer_for_subprotocol(subprotocol).name == name
    if rawsocket_id is not None:
        assert serializer_for_rawsocket_id(rawsocket_id).name == name
    # A new instance per call: some serializers keep per-connection state.
    assert make(name) is not ser


@pytest.mark.parametrize(
    "name", ["", "JSON", "xml", "json.batched.batched", "flatbuffers.batched", "batched", "json."]
)
def test_unknown_serializer_name(name: str) -> None:
    with pytest.raises(ConfigurationError, match="unknown serializer"):
        get_serializer(name)


@pytest.mark.parametrize(
    "subprotocol", ["", "wamp.2", "wamp.2.xml", "wamp.1.json", "json", "wamp.2.flatbuffers.batched"]
)
def test_unknown_subprotocol(subprotocol: str) -> None:
    with pytest.raises(ConfigurationError, match="subprotocol"):
        serializer_for_subprotocol(subprotocol)


@pytest.mark.parametrize("serializer_id", [0, 6, 15, -1, True, "1", None])
def test_unknown_rawsocket_id(serializer_id: Any) -> None:
    with pytest.raises(ConfigurationError, match="RawSocket serializer id"):
        serializer_for_rawsocket_id(serializer_id)


def test_missing_optional_module_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import wamp_core.serializers as registry

    monkeypatch.setitem(registry._BASE, "ubjson", ("._no_such_module", "UbjsonSerializer"))
    with pytest.raises(ConfigurationError, match="ubjson serializer is not available"):
        get_serializer("ubjson")
    with pytest.raises(ConfigurationError, match="ubjson serializer is not available"):
        get_serializer("ubjson.batched")
    with pytest.raises(ConfigurationError, match="not available"):
        serializer_for_rawsocket_id(4)
    monkeypatch.setitem(registry._BASE, "ubjson", ("._json", "NoSuchClass"))
    with pytest.raises(ConfigurationError, match="has no NoSuchClass"):
        get_serializer("ubjson")


def test_batched_wrapper_rejects_batched_inner() -> None:
    with pytest.raises(ValueError, match="already batched"):
        BatchedSerializer(get_serializer("json.batched"))


# -------------------------------------------------------------------------------- round trips


def lossy_round_trip(ser: Serializer, message: Message) -> Message:
    """FlatBuffers is schema-bound and documents losses (unknown keys, extra dicts, roles...).

    Values it cannot represent raise EncodingError (the example is skipped); otherwise the
    first round trip keeps the type and every id/URI field, and its result must then round-trip
    exactly (checked by the caller).
    """
    try:
        data = ser.encode(message)
    except EncodingError:
        return message  # documented: unrepresentable values are refused (checked again below)
    decoded = ser.decode(data)
    assert type(decoded) is type(message)
    for field in message.FIELDS:
        value = getattr(message, field)
        if field.endswith("_id") or field in ("realm", "topic", "procedure", "error", "reason"):
            assert_same(getattr(decoded, field), value, field)
    return decoded


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("cls", ALL_MESSAGE_CLASSES, ids=lambda cls: cls.__name__)
def test_round_trip(cls: type[Message], name: str) -> None:
    ser = make(name)

    @settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow])
    @given(message_of(cls))
    def check(message: Message) -> None:
        if ser.name == "flatbuffers":
            message = lossy_round_trip(ser, message)
            try:
                ser.encode(message)
            except EncodingError:
                return
        data = ser.encode(message)
        assert type(data) is bytes
        decoded = ser.decode(data)
        assert decoded == message
        assert_same(decoded, message)
        assert_same(ser.decode_all(data), [message])
        assert_same(ser.decode(ser.encode_batch([message])), message)

    check()


@pytest.mark.parametrize("name", [n for n in NAMES if n.endswith(".batched")])
@settings(max_examples=40)
@given(batch=st.lists(messages(), min_size=1, max_size=5))
def test_batch_round_trip(name: str, batch: list[Message]) -> None:
    ser = make(name)
    assert ser.batched
    data = ser.encode_batch(batch)
    assert_same(ser.decode_all(data), batch)
    # A batch is the concatenation of single-message frames.
    assert data == b"".join(ser.encode(m) for m in batch)


@pytest.mark.parametrize("name", NAMES)
def test_encode_batch_counts(name: str) -> None:
    ser = make(name)
    message = Call(request_id=1, procedure="com.example.proc")
    with pytest.raises(ValueError):
        ser.encode_batch([])
    if not ser.batched:
        with pytest.raises(ValueError):
            ser.encode_batch([message, message])
    else:
        frame = ser.encode_batch([message, message])
        with pytest.raises(SerializationError, match="exactly one message"):
            ser.decode(frame)
        assert ser.decode_all(frame) == [message, message]


@pytest.mark.parametrize("name", CORE)
@settings(max_examples=100)
@given(
    value=st.recursive(
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(-(2**63), 2**64 - 1),
            st.floats(allow_nan=False, allow_infinity=False),
            st.text().filter(lambda s: not s.startswith("\x00")),
            st.binary(),
        ),
        lambda c: st.one_of(st.lists(c, max_size=4), st.dictionaries(st.text(), c, max_size=4)),
        max_leaves=15,
    )
)
def test_raw_codec_round_trip(name: str, value: Any) -> None:
    ser = get_serializer(name)
    assert_same(ser.loads(ser.dumps(value)), value)


# --------------------------------------------------------------------- hostile / invalid input


def assert_rejects_only_with_protocol_errors(ser: Serializer, data: Any) -> None:
    for method in (ser.decode, ser.decode_all):
        with contextlib.suppress(ProtocolError):
            method(data)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=150)
@given(data=st.binary(max_size=300))
def test_arbitrary_bytes_raise_only_protocol_errors(name: str, data: bytes) -> None:
    assert_rejects_only_with_protocol_errors(make(name), data)


@st.composite
def mutated(draw: st.DrawFn, ser: Serializer) -> bytes:
    """A valid frame with a few bytes replaced, inserted, deleted, or cut off."""
    batch = draw(st.lists(messages(), min_size=1, max_size=2 if ser.batched else 1))
    try:
        data = bytearray(ser.encode_batch(batch))
    except EncodingError:  # flatbuffers cannot carry every message
        data = bytearray(ser.encode(Call(request_id=1, procedure="com.example.p", args=[1])))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["replace", "insert", "delete", "truncate"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "replace" and data:
            data[pos] = draw(st.integers(0, 255))
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=4))
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 4))]
        else:
            del data[pos:]
    return bytes(data)


@pytest.mark.parametrize("name", NAMES)
def test_mutated_frames_raise_only_protocol_errors(name: str) -> None:
    ser = make(name)

    @settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
    @given(mutated(ser))
    def check(data: bytes) -> None:
        assert_rejects_only_with_protocol_errors(ser, data)

    check()


@pytest.mark.parametrize("name", NAMES)
def test_every_truncation_is_rejected(name: str) -> None:
    ser = make(name)
    message = Call(
        request_id=123456789,
        procedure="com.example.proc",
        options={"timeout": 1000},
        args=[1, "two", b"three", [4.5, None, True]],
        kwargs={"six": {"seven": b"\x00\xff"}},
    )
    data = ser.encode(message)
    # json.batched tolerates a missing separator after the last message (documented), so
    # cutting off only the final separator still decodes.
    ends = len(data) - 1 if name == "json.batched" else len(data)
    for end in range(ends):
        frame = data[:end]
        for method in (ser.decode, ser.decode_all):
            try:
                result = method(frame)
            except ProtocolError:
                continue
            # A prefix may only "succeed" for formats with optional trailers: never for these.
            pytest.fail(f"{name}: prefix of {end}/{len(data)} octets decoded to {result!r}")


NASTY: dict[str, list[bytes]] = {
    "json": [
        b"[" * 100_000 + b"]" * 100_000,
        b"[48," + b"[" * 5000 + b"]" * 5000 + b"]",
        b'[48,1,{},"a",[' + b'{"a":' * 3000 + b"1" + b"}" * 3000 + b"]]",
        b"[36,1,2,{}," + b"9" * 50_000 + b"]",
        b"[36,1,2,{},[" + b"1e400" + b"]]",
        b"[36,1,2,{},[-1e400]]",
        b"[36,1,2,{},[NaN]]",
        b"[36,1,2,{},[Infinity]]",
        b"[36,1,2,{},[-Infinity]]",
        b"NaN",
        b'[48,1,{},"a",["\xff"]]',
        b'[48,1,{},"a",["\xed\xa0\x80"]]',
        b"\xef\xbb\xbf[17,1,2]",
        b"\xff\xfe[\x001\x007\x00]\x00",
        b'[48,1,{},"a",["\\u0000not base64!"]]',
        b'[48,1,{},"a",["\\u0000QQ="]]',
        b'[48,1,{},"a",["\\u0000\xc3\xa9"]]',
        b'"\\u0000AAAA"',
        b'{"a": "\\u0000QQ="}',
        b"[17,1,2] [17,1,2]",
        b"[17,1,2]x",
        b"",
        b" ",
        b"\x00",
        b"[",
        b'["\\ud800"]',
        b"[1e999999999999999]",
    ],
    "msgpack": [
        b"\x91" * 100_000,
        b"\x96\x30\x01\x80\xa1a" + b"\x91" * 2000 + b"\x01",
        b"\x93\x24\x01\xcf",
        b"\xdd\xff\xff\xff\xff",
        b"\xdf\xff\xff\xff\xff",
        b"\xdb\xff\xff\xff\xff",
        b"\xc6\xff\xff\xff\xff",
        b"\xa1\xff",
        b"\x93\x11\x01\xa2\xed\xa0",
        b"\x81\x01\x02",
        b"\x81\x91\x01\x02",
        b"\x81\xc0\x02",
        b"\x93\x11\x01\x02\x00",
        b"\xc1",
        b"\xd7\xff\xff\xff\xff\xff\xff\xff\xff\xff",
        b"\xc7\x00\xff",
        b"\x96\x24\x01\x02\x80\x91\xcb\x7f\xf8\x00\x00\x00\x00\x00\x00",
        b"",
    ],
    "cbor": [
        b"\x81" * 100_000,
        b"\x9f" * 100_000,
        b"\x86\x18\x30\x01\xa0\x61a" + b"\x81" * 2000 + b"\x01",
        b"\xc2\x5a\x00\x01\x00\x00" + b"\xff" * 65536,
        b"\x9b\xff\xff\xff\xff\xff\xff\xff\xff",
        b"\xbb\xff\xff\xff\xff\xff\xff\xff\xff",
        b"\x5b\xff\xff\xff\xff\xff\xff\xff\xff",
        b"\x61\xff",
        b"\xa1\x01\x02",
        b"\xa1\x81\x01\x02",
        b"\xd8\x1c\x81\xd8\x1d\x00",
        b"\x83\x11\x01\xd8\x1d\x00",
        b"\xd9\x01\x00\x82\x63abc\xd8\x19\x00",
        b"\x83\x11\x01\x02\x00",
        b"\xc1\x1b\xff\xff\xff\xff\xff\xff\xff\xff",
        b"\xc0\x61x",
        b"\xc4\x82\x01\x02",
        b"\xd8\x1e\x82\x01\x00",
        b"\xd9\xd9\xf7\xff",
        b"\xf8\x10",
        b"\x1f",
        b"\xff",
        b"",
    ],
}


@pytest.mark.parametrize(
    ("name", "data"),
    [(name, data) for name, items in NASTY.items() for data in items],
    ids=[f"{name}-{i}" for name, items in NASTY.items() for i in range(len(items))],
)
def test_nasty_inputs(name: str, data: bytes) -> None:
    for variant in (name, f"{name}.batched"):
        ser = get_serializer(variant)
        frame = data
        if ser.batched:
            frame = data + b"\x1e" if not ser.binary else struct.pack(">I", len(data)) + data
        assert_rejects_only_with_protocol_errors(ser, frame)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    "data", [None, 123, "[17,1,2]x", ["list"], object(), b"\x00" * 3], ids=repr
)
def test_non_bytes_input(name: str, data: Any) -> None:
    assert_rejects_only_with_protocol_errors(make(name), data)


# Arbitrary (also odd) values where a message's elements go, encoded with the raw codec.
_odd_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=8),
    st.binary(max_size=8),
    st.sampled_from(["\x00", "\x00AAAA", "\x00@@", "com.example", ""]),
)
_odd_values = st.recursive(
    _odd_scalars,
    lambda c: st.one_of(
        st.lists(c, max_size=4),
        st.dictionaries(
            st.one_of(st.text(max_size=5), st.integers(-3, 3), st.binary(max_size=3)), c, max_size=3
        ),
    ),
    max_leaves=12,
)
_codes = st.one_of(
    st.sampled_from(
        [
            1,
            2,
            3,
            4,
            5,
            6,
            8,
            16,
            17,
            32,
            33,
            34,
            35,
            36,
            48,
            49,
            50,
            64,
            65,
            66,
            67,
            68,
            69,
            70,
            337,
        ]
    ),
    _odd_scalars,
)


@pytest.mark.parametrize("name", [*CORE, "ubjson"])
@settings(max_examples=200)
@given(code=_codes, rest=st.lists(_odd_values, max_size=7))
def test_arbitrary_values_decode_to_message_or_protocol_error(
    name: str, code: Any, rest: list[Any]
) -> None:
    ser = make(name)
    try:
        data = ser.dumps([code, *rest])
    except EncodingError:
        assume(False)
        return
    message = only_protocol_errors(lambda: ser.decode(data))
    batched = get_serializer(f"{name}.batched")
    frame = struct.pack(">I", len(data)) + data if batched.binary else data + b"\x1e"
    assert only_protocol_errors(lambda: batched.decode_all(frame)) == (
        None if message is None else [message]
    )
    if message is not None:
        # Whatever is accepted is a valid message that survives another round trip.
        assert isinstance(message, Message)
        assert ser.decode(ser.encode(message)) == message


# ----------------------------------------------------------------------------- encode errors


class Unencodable:
    pass


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    "args",
    [
        [Unencodable()],
        [{"nested": [Unencodable()]}],
        [{Unencodable(): 2}],
    ],
    ids=["object", "nested-object", "object-key"],
)
def test_unencodable_values_raise_serialization_error(name: str, args: list[Any]) -> None:
    ser = make(name)
    # Built without the constructor's checks (which refuse the object key before any codec).
    message = tuple.__new__(Call, (1, {}, "com.example.proc", args, None, None))
    # Ours say which message failed; ubjson/flatbuffers only need the exception type.
    match = "cannot encode CALL" if name.partition(".")[0] in CORE else None
    with pytest.raises(EncodingError, match=match):
        ser.encode(message)
    with pytest.raises(EncodingError):
        ser.dumps(args)


@pytest.mark.parametrize("name", ["msgpack", "msgpack.batched"])
@pytest.mark.parametrize("value", [2**64, -(2**63) - 1, 10**30])
def test_msgpack_rejects_ints_beyond_64_bits(name: str, value: int) -> None:
    with pytest.raises(EncodingError, match="msgpack"):
        get_serializer(name).encode(Call(request_id=1, procedure="p", args=[value]))


@pytest.mark.parametrize("value", [2**64 - 1, -(2**63)])
def test_msgpack_64_bit_edges(value: int) -> None:
    ser = get_serializer("msgpack")
    message = Call(request_id=1, procedure="p", args=[value])
    assert ser.decode(ser.encode(message)) == message


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_json_rejects_non_finite_floats_on_encode(value: float) -> None:
    with pytest.raises(EncodingError, match="json"):
        get_serializer("json").encode(Call(request_id=1, procedure="p", args=[value]))


@pytest.mark.parametrize("name", CORE)
def test_cyclic_and_deep_values_raise_serialization_error(name: str) -> None:
    ser = get_serializer(name)
    cyclic: list[Any] = []
    cyclic.append(cyclic)
    deep: list[Any] = []
    for _ in range(100_000):
        deep = [deep]
    # cbor2 6.3's encoder has no depth limit: it encodes 5000 levels and overflows the C stack
    # (segfault) somewhere below 20000, so deep values are not tried with cbor.
    for value in (cyclic,) if name == "cbor" else (cyclic, deep):
        with pytest.raises(EncodingError):
            ser.encode(Call(request_id=1, procedure="p", args=[value]))


def test_json_lone_surrogate_cannot_be_encoded() -> None:
    ser = get_serializer("json")
    decoded = ser.decode(b'[48,1,{},"p",["\\ud800"]]')
    assert decoded.args == ["\ud800"]  # type: ignore[attr-defined]
    with pytest.raises(EncodingError):
        ser.encode(decoded)


# ------------------------------------------------------------------------- JSON conventions

SPEC_BYTES = bytes.fromhex("10e3ff9053075c526f5fc06d4fe37cdb")
SPEC_TEXT = '"\\u0000EOP/kFMHXFJvX8BtT+N82w=="'


def test_json_binary_convention_spec_example() -> None:
    ser = get_serializer("json")
    message = Call(
        request_id=1,
        procedure="com.example.proc",
        options={"_key": SPEC_BYTES},
        args=[SPEC_BYTES, [SPEC_BYTES]],
        kwargs={"k": {"deep": SPEC_BYTES}},
    )
    data = ser.encode(message)
    text = (
        f'[48,1,{{"_key":{SPEC_TEXT}}},"com.example.proc",[{SPEC_TEXT},[{SPEC_TEXT}]],'
        f'{{"k":{{"deep":{SPEC_TEXT}}}}}]'
    )
    assert data == text.encode()
    assert_same(ser.decode(data), message)
    assert ser.dumps(SPEC_BYTES) == SPEC_TEXT.encode()
    assert ser.loads(SPEC_TEXT.encode()) == SPEC_BYTES


def test_json_binary_payload_and_details() -> None:
    ser = get_serializer("json")
    event = Event(
        subscription_id=5,
        publication_id=6,
        details={"enc_algo": "cryptobox", "enc_key": b"\x01\x02"},
        payload=b"\xca\xfe",
    )
    data = ser.encode(event)
    assert data == b'[36,5,6,{"enc_algo":"cryptobox","enc_key":"\\u0000AQI="},"\\u0000yv4="]'
    assert_same(ser.decode(data), event)
    # bytearray/memoryview encode like bytes (and come back as bytes).
    assert ser.dumps([bytearray(b"\xca\xfe"), memoryview(b"\xca\xfe")]) == (
        b'["\\u0000yv4=","\\u0000yv4="]'
    )


def test_json_empty_bytes_and_nul_only_string() -> None:
    ser = get_serializer("json")
    assert ser.dumps(b"") == b'"\\u0000"'
    assert ser.loads(b'["\\u0000", "\\u0000", {"a": "\\u0000"}]') == [b"", b"", {"a": b""}]


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b'["\\u0000not base64!"]', "\x00not base64!"),
        (b'["\\u0000QQ="]', "\x00QQ="),
        (b'["\\u0000QQ"]', "\x00QQ"),
        (b'["\\u0000\xc3\xa9"]', "\x00\u00e9"),
        (b'["\\u0000ab-cd"]', "\x00ab-cd"),  # (lenient base64 would drop the "-": bytes)
    ],
)
def test_json_text_after_nul_that_is_not_base64_stays_text(data: bytes, text: str) -> None:
    """A peer on a binary serializer may send text starting with U+0000 (a router relays it
    as it is): it reads as that text, where it used to end the receiving session."""
    assert get_serializer("json").loads(data) == [text]


def test_json_strings_with_escaped_backslash_u0000_stay_text() -> None:
    # "\\u0000" in JSON text is a backslash followed by "u0000", not U+0000.
    assert get_serializer("json").loads(b'["\\\\u0000QQ=="]') == ["\\u0000QQ=="]


def test_json_wire_format() -> None:
    ser = get_serializer("json")
    message = Publish(
        request_id=1, topic="com.example.t", args=["héllo ☃", 1.5, None, True], kwargs={"ü": 1}
    )
    data = ser.encode(message)
    assert data == '[16,1,{},"com.example.t",["héllo ☃",1.5,null,true],{"ü":1}]'.encode()
    assert not ser.binary


@pytest.mark.parametrize(
    ("data", "value"),
    [(b"1e400", math.inf), (b"[-1e400]", [-math.inf]), (b"[Infinity]", [math.inf]),
     (b"[-Infinity]", [-math.inf]), (b"[1E309]", [math.inf])],
)  # fmt: skip
def test_json_takes_non_finite_numbers_on_decode(data: bytes, value: Any) -> None:
    """As Python's json and Autobahn: Crossbar.io relays a binary peer's NaN as ``NaN``, and
    refusing it ended the JSON receiver's session over another peer's payload."""
    ser = get_serializer("json")
    assert ser.loads(data) == value
    (nan,) = ser.loads(b"[NaN]")
    assert math.isnan(nan)
    with pytest.raises(EncodingError, match="json"):  # never sent
        ser.dumps(value)


@pytest.mark.parametrize("text", ["\x00", "\x00hello", "\x00AAAA"])
def test_json_refuses_text_that_would_read_as_binary(text: str) -> None:
    ser = get_serializer("json")
    with pytest.raises(EncodingError, match="starting with U\\+0000"):
        ser.encode(Call(request_id=1, procedure="com.example.p", args=[1, {"k": [text]}]))
    with pytest.raises(EncodingError, match="starting with U\\+0000"):
        ser.dumps(text)
    # inside a string, or as binary, U+0000 is fine
    data = ser.encode(Call(request_id=1, procedure="com.example.p", args=["a\x00", b"\x00"]))
    decoded = ser.decode(data)
    assert isinstance(decoded, Call) and decoded.args == ["a\x00", b"\x00"]


@pytest.mark.parametrize(
    "data", [b"[\xff]", b'["\xff"]', b'["\xed\xa0\x80"]', b"\xef\xbb\xbf[1]", b"[1]\x00"]
)
def test_json_rejects_invalid_utf8_bom_and_garbage(data: bytes) -> None:
    with pytest.raises(SerializationError, match="json"):
        get_serializer("json").loads(data)


def test_json_accepts_whitespace_and_text_input() -> None:
    ser = get_serializer("json")
    expected = Result(request_id=7, args=[1])
    assert ser.decode(b" \n[50, 7, {}, [1]]\r\n\t") == expected
    assert ser.decode("[50,7,{},[1]]") == expected  # type: ignore[arg-type]
    assert ser.decode(bytearray(b"[50,7,{},[1]]")) == expected  # type: ignore[arg-type]
    assert ser.decode(memoryview(b"[50,7,{},[1]]")) == expected  # type: ignore[arg-type]


def test_json_int_keys_become_strings() -> None:
    assert get_serializer("json").dumps({1: "a"}) == b'{"1":"a"}'


# ----------------------------------------------------------------------- msgpack / cbor rules


def test_msgpack_wire_format() -> None:
    ser = get_serializer("msgpack")
    message = Call(request_id=1, procedure="p", args=["s", b"b"])
    assert ser.encode(message) == msgpack.packb([48, 1, {}, "p", ["s", b"b"]], use_bin_type=True)
    assert ser.encode(message) == bytes.fromhex("953001 80 a170 92a173c40162".replace(" ", ""))


def test_msgpack_ext_types_are_payload_values() -> None:
    ser = get_serializer("msgpack")
    data = msgpack.packb([48, 1, {}, "p", [msgpack.ExtType(5, b"x"), msgpack.Timestamp(1, 2)]])
    message = ser.decode(data)
    assert message.args == [msgpack.ExtType(5, b"x"), msgpack.Timestamp(1, 2)]  # type: ignore[attr-defined]


def test_msgpack_non_string_map_keys_are_rejected() -> None:
    with pytest.raises(SerializationError, match="msgpack"):
        get_serializer("msgpack").decode(msgpack.packb([48, 1, {}, "p", [{1: 2}]]))


def test_cbor_wire_format() -> None:
    ser = get_serializer("cbor")
    message = Call(request_id=1, procedure="p", args=["s", b"b"])
    assert ser.encode(message) == cbor2.dumps([48, 1, {}, "p", ["s", b"b"]])


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (cbor2.dumps([17, 1, 2]) + b"\x01", "trailing"),
        (cbor2.dumps([17, 1, 2]) * 2, "trailing"),
        (bytes.fromhex("83 11 01 d81c 81 d81d 00".replace(" ", "")), "29"),
        (bytes.fromhex("d90100 83 11 01 d819 00".replace(" ", "")), "25"),
        (cbor2.dumps([48, 1, {}, "p", [{1: 2}]]), "map key"),
    ],
    ids=["trailing-byte", "two-items", "shared-ref", "string-ref", "int-key"],
)
def test_cbor_rejections(data: bytes, match: str) -> None:
    with pytest.raises(SerializationError, match=match):
        get_serializer("cbor").decode(data)


def test_cbor_tags_are_payload_values() -> None:
    import datetime

    when = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    data = cbor2.dumps([48, 1, {}, "p", [when, 2**100, cbor2.CBORTag(4000, "x")]])
    message = get_serializer("cbor").decode(data)
    assert message.args == [when, 2**100, cbor2.CBORTag(4000, "x")]  # type: ignore[attr-defined]


def test_cbor_decoder_is_reusable_after_errors() -> None:
    ser = get_serializer("cbor")
    good = cbor2.dumps([17, 1, 2])
    for bad in NASTY["cbor"]:
        with pytest.raises(ProtocolError):
            ser.decode(bad)
        assert_same(ser.decode(good), ser.decode(good))
        assert ser.decode(good).publication_id == 2  # type: ignore[attr-defined]


def test_cbor_big_frames_decode() -> None:
    ser = get_serializer("cbor")
    message = Event(subscription_id=1, publication_id=2, args=[b"x" * 200_000, "y" * 100_000])
    assert ser.decode(ser.encode(message)) == message
    assert ser.decode(ser.encode(message)) == message


# --------------------------------------------------------------------------------- batching

M1 = Call(request_id=1, procedure="com.example.one", args=["record\x1eseparator", "\x18"])
M2 = Result(request_id=2, args=[b"\x1e\x18"])


def test_json_batched_wire_format() -> None:
    ser = get_serializer("json.batched")
    single = get_serializer("json")
    # We send Autobahn/Crossbar's 0x18 (Crossbar drops frames ending in the spec's 0x1E).
    assert ser.encode(M1) == single.encode(M1) + b"\x18"
    assert ser.encode_batch([M1, M2]) == single.encode(M1) + b"\x18" + single.encode(M2) + b"\x18"
    # Separators inside strings are escaped, so they never split a message.
    assert b"\\u001e" in single.encode(M1)
    assert not ser.binary


@pytest.mark.parametrize(
    ("first", "second"),
    [(b"\x1e", b"\x1e"), (b"\x18", b"\x18"), (b"\x1e", b"\x18"), (b"\x18", b"\x1e")],
    ids=["spec", "autobahn", "mixed-1", "mixed-2"],
)
def test_json_batched_accepts_both_separators(first: bytes, second: bytes) -> None:
    ser = get_serializer("json.batched")
    single = get_serializer("json")
    frame = single.encode(M1) + first + single.encode(M2) + second
    assert ser.decode_all(frame) == [M1, M2]
    # The separator after the last message may be missing.
    assert ser.decode_all(frame[:-1]) == [M1, M2]
    assert ser.decode_all(frame.decode()) == [M1, M2]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "frame", [b"", b"\x1e", b"\x18", b"\x1e\x1e", b"[17,1,2]\x1e\x1e[17,1,3]\x1e", b"\x1e[17,1,2]"]
)
def test_json_batched_rejects_empty_batches_and_messages(frame: bytes) -> None:
    with pytest.raises(SerializationError):
        get_serializer("json.batched").decode_all(frame)


@pytest.mark.parametrize("name", ["msgpack", "cbor"])
def test_binary_batched_wire_format(name: str) -> None:
    ser = get_serializer(f"{name}.batched")
    single = get_serializer(name)
    one, two = single.encode(M1), single.encode(M2)
    assert ser.encode(M1) == struct.pack(">I", len(one)) + one
    frame = ser.encode_batch([M1, M2])
    assert frame == struct.pack(">I", len(one)) + one + struct.pack(">I", len(two)) + two
    assert ser.decode_all(frame) == [M1, M2]


@pytest.mark.parametrize("name", ["msgpack", "cbor"])
def test_binary_batched_framing_errors(name: str) -> None:
    ser = get_serializer(f"{name}.batched")
    frame = ser.encode(M1)
    cases = {
        b"": "zero messages",
        b"\x00": "truncated length prefix",
        b"\x00\x00\x00": "truncated length prefix",
        frame + b"\x00\x00": "truncated length prefix",
        frame[:-1]: "exceeds the frame",
        frame + b"\x00\x00\x00\x05\x01": "exceeds the frame",
        b"\xff\xff\xff\xff": "exceeds the frame",
        b"\x00\x00\x00\x00": f"invalid {name} data",
    }
    for data, match in cases.items():
        with pytest.raises(SerializationError, match=match):
            ser.decode_all(data)


# ------------------------------------------------------------------------------------ nesting


def _nested(depth: int) -> list[Any]:
    value: list[Any] = [1]
    for _ in range(depth - 1):
        value = [value]
    return value


def _empty_nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth - 1):
        value = [value]
    return value


@pytest.mark.parametrize("name", CORE)
def test_nesting_limits(name: str) -> None:
    """Moderate nesting decodes; absurd nesting (codec limits: cbor2 400, msgpack 1024, JSON the
    interpreter's recursion limit, or its scanner's own from 3.12) is a SerializationError,
    never a RecursionError."""
    ser = get_serializer(name)
    ok = Call(request_id=1, procedure="p", args=[_nested(200)])
    assert ser.decode(ser.encode(ok)) == ok
    raw: dict[str, Callable[[int], bytes]] = {
        "json": lambda d: b'[48,1,{},"p",[' + b"[" * d + b"]" * d + b"]]",
        "msgpack": lambda d: b"\x95\x30\x01\x80\xa1p\x91" + b"\x91" * (d - 1) + b"\x90",
        "cbor": lambda d: b"\x85\x18\x30\x01\xa0\x61p\x81" + b"\x81" * (d - 1) + b"\x80",
    }
    assert ser.decode(raw[name](200)).args == [_empty_nested(200)]  # type: ignore[attr-defined]
    # (JSON's C scanner has its own limit from Python 3.12 on: 2000 levels decode on 3.13)
    for depth in (2000, 100_000) if name != "json" else (100_000,):
        with pytest.raises(SerializationError):
            ser.decode(raw[name](depth))
