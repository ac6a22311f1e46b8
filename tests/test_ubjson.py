"""Tests for the ubjson serializer: classic UBJSON, BJData and the adaptive dialect switch."""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import math
import os
import socket
import struct
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from enum import IntEnum
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from crossbar import REPO_ROOT, CrossbarRouter
from wamp_core import ConfigurationError, EncodingError, ProtocolError, SerializationError
from wamp_core.messages import (
    Call,
    Hello,
    Invocation,
    Message,
    Register,
    Registered,
    Result,
    Welcome,
    Yield,
    parse_message,
)
from wamp_core.serializers._ubjson import UbjsonSerializer
from wamp_core.serializers._ubjson_codec import MAX_DEPTH, decode, decode_detect, encode
from wamp_core.testing import messages

# --------------------------------------------------------------------------------------------
# The official test vectors


def _testsuite_path() -> Path:
    env = os.environ.get("WAMP_TESTSUITE_DIR")
    return Path(env) if env else REPO_ROOT.parent / "shared" / "wamp-testsuite"


def _unbinary(value: Any) -> Any:
    """Apply the WAMP JSON binary convention: a string starting with NUL is base64 bytes."""
    if isinstance(value, str) and value.startswith("\x00"):
        return base64.b64decode(value[1:])
    if isinstance(value, list):
        return [_unbinary(v) for v in value]
    if isinstance(value, dict):
        return {k: _unbinary(v) for k, v in value.items()}
    return value


def _load_vectors() -> list[Any]:
    """A param (expected message, classic bytes, BJData bytes) per ubjson sample."""
    root = _testsuite_path() / "singlemessage"
    if not root.is_dir():
        return []
    vectors = []
    for path in sorted(root.rglob("*.json")):
        doc = json.loads(path.read_text("utf-8"))
        for index, sample in enumerate(doc["samples"]):
            variants = sample.get("serializers", {}).get("ubjson")
            if not variants:
                continue
            expected = parse_message(
                _unbinary(json.loads(sample["serializers"]["json"][0]["bytes"]))
            )
            classic = [bytes.fromhex(v["bytes_hex"]) for v in variants if "BJData" not in v["note"]]
            bjdata = [bytes.fromhex(v["bytes_hex"]) for v in variants if "BJData" in v["note"]]
            assert len(classic) == 1 and len(bjdata) == 1, (path, index)
            vectors.append(
                pytest.param(
                    expected,
                    classic[0],
                    bjdata[0],
                    id=f"{path.parent.name}/{path.stem}[{index}]",
                )
            )
    return vectors


VECTORS = _load_vectors()
needs_vectors = pytest.mark.skipif(not VECTORS, reason="WAMP test vectors not found")


@needs_vectors
def test_vectors_found() -> None:
    # The loader itself: the vendored suite has 35 ubjson samples.
    assert len(VECTORS) >= 30


@needs_vectors
@pytest.mark.parametrize(("expected", "classic", "bjdata"), VECTORS)
def test_vector_decodes_in_every_mode(expected: Message, classic: bytes, bjdata: bytes) -> None:
    for mode in ("auto", "ubjson", "bjdata"):
        for frame in (classic, bjdata):
            if mode == "bjdata" and frame == classic and frame != bjdata:
                continue  # classic multi-byte numbers read as BJData: see the ambiguity test
            assert UbjsonSerializer(mode).decode(frame) == expected


@needs_vectors
@pytest.mark.parametrize(("expected", "classic", "bjdata"), VECTORS)
def test_vector_encodes_like_reference(expected: Message, classic: bytes, bjdata: bytes) -> None:
    assert UbjsonSerializer().encode(expected) == classic
    assert UbjsonSerializer("ubjson").encode(expected) == classic
    assert UbjsonSerializer("bjdata").encode(expected) == bjdata


@needs_vectors
@pytest.mark.parametrize(("expected", "classic", "bjdata"), VECTORS)
def test_vector_dialect_detection(expected: Message, classic: bytes, bjdata: bytes) -> None:
    ser = UbjsonSerializer()
    ser.decode(classic)
    assert ser.dialect == "ubjson"
    ser.decode(bjdata)
    # Every vector whose bytes differ has a BJData-only marker (an unsigned u/m/M id or [$B#).
    assert ser.dialect == ("ubjson" if bjdata == classic else "bjdata")
    assert ser.encode(expected) == bjdata


@needs_vectors
@pytest.mark.parametrize(("expected", "classic", "bjdata"), VECTORS)
def test_vector_truncated_and_trailing(expected: Message, classic: bytes, bjdata: bytes) -> None:
    ser = UbjsonSerializer()
    for frame in (classic, bjdata):
        for cut in range(len(frame)):
            with pytest.raises(SerializationError):
                ser.decode(frame[:cut])
        for extra in (b"Z", b"]", b"\x00", frame):
            with pytest.raises(SerializationError, match="trailing"):
                ser.decode(frame + extra)


# --------------------------------------------------------------------------------------------
# Byte-level facts of both dialects


@pytest.mark.parametrize(
    ("value", "classic", "bjdata"),
    [
        (None, "5a", "5a"),
        (True, "54", "54"),
        (False, "46", "46"),
        (0, "5500", "5500"),
        (255, "55ff", "55ff"),
        (-1, "69ff", "69ff"),
        (-128, "6980", "6980"),
        (256, "490100", "750001"),
        (32767, "497fff", "75ff7f"),
        (32768, "6c00008000", "750080"),
        (65536, "6c00010000", "6d00000100"),
        (-129, "49ff7f", "497fff"),
        (-32769, "6cffff7fff", "6cff7fffff"),
        (2**31, "4c0000000080000000", "6d00000080"),
        (2**32, "4c0000000100000000", "4d0000000001000000"),
        (2**63 - 1, "4c7fffffffffffffff", "4dffffffffffffff7f"),
        (2**63, "485513" + b"9223372036854775808".hex(), "4d0000000000000080"),
        (-(2**63), "4c8000000000000000", "4c0000000000000080"),
        (2**64, "485514" + b"18446744073709551616".hex(), "485514" + b"18446744073709551616".hex()),
        (1.5, "443ff8000000000000", "44000000000000f83f"),
        (0.0, "6400000000", "6400000000"),
        (-0.0, "6480000000", "6400000080"),
        (math.inf, "5a", "44000000000000f07f"),
        ("x", "4378", "4378"),
        ("", "535500", "535500"),
        ("é", "535502c3a9", "535502c3a9"),
        ("x" * 300, "5349012c" + "78" * 300, "53752c01" + "78" * 300),
        (b"ab", "5b24552355026162", "5b24422355026162"),
        (b"", "5b2455235500", "5b2442235500"),
        ([1, "ab"], "5b550153550261625d", "5b550153550261625d"),
        ({"a": [True]}, "7b5501615b545d7d", "7b5501615b545d7d"),
    ],
)
def test_encoding_bytes(value: Any, classic: str, bjdata: str) -> None:
    assert encode(value).hex() == classic
    assert encode(value, bjdata=True).hex() == bjdata


def test_h_marker_for_integers_beyond_64_bits() -> None:
    for n in (2**63, 2**64, -(2**63) - 1, 10**40, -(10**40)):
        for bj in (False, True):
            assert decode(encode(n, bjdata=bj), bjdata=bj) == n
    assert decode(b"H" + b"U\x04" + b"-1.5") == -1.5
    for bad in (b"nan", b"1_0", b"1.", b" 1", b"\xff"):
        with pytest.raises(SerializationError):
            decode(b"HU" + bytes((len(bad),)) + bad)
    with pytest.raises(EncodingError, match="too large"):
        encode(10**5000)
    with pytest.raises(SerializationError, match="too long"):
        decode(b"HI\x13\x88" + b"1" * 5000)


def test_nan_is_null_in_classic_and_kept_in_bjdata() -> None:
    assert decode(encode(math.nan)) is None
    assert math.isnan(decode(encode(math.nan, bjdata=True), bjdata=True))


@pytest.mark.parametrize(
    ("frame", "value"),
    [
        ("5b245523550300017f", b"\x00\x01\x7f"),  # [$U#: bytes in classic UBJSON
        ("5b2469235503ff0001", [-1, 0, 1]),  # typed int8 array
        ("5b2449235502fffe0001", [-2, 1]),  # typed int16 array (big-endian)
        ("5b235502550153550178", [1, "x"]),  # counted array (no end marker)
        ("5b245a235503", [None, None, None]),
        ("5b2454235502", [True, True]),
        ("7b2455235502550161015501620f", {"a": 1, "b": 15}),  # typed object
        ("7b2446235501550161", {"a": False}),
        ("7b2355015501615355027879", {"a": "xy"}),  # counted object
        ("7b23550155016153550278797d", None),  # a counted object has no end marker
        ("4e4e5b4e55014e5d", [1]),  # no-ops before the value and inside an array
        ("7b4e55016155014e7d", {"a": 1}),  # no-ops before keys
        ("7b55014e61557d", None),  # ... but not inside a key
        ("5b245b23550255555d5d", [[85], []]),  # classic: typed array of arrays
        ("5b247b2355015501615a7d", [{"a": None}]),  # and of objects
    ],
)
def test_classic_decoding(frame: str, value: Any) -> None:
    data = bytes.fromhex(frame)
    if value is None:
        with pytest.raises(SerializationError):
            decode(data)
    else:
        assert decode(data) == value


def test_classic_typed_containers_of_strings_and_chars() -> None:
    assert decode(bytes.fromhex("5b2453235502") + b"U\x01aU\x02bc") == ["a", "bc"]
    assert decode(bytes.fromhex("5b2443235503") + b"abc") == ["a", "b", "c"]
    assert decode(bytes.fromhex("7b2453235501") + b"U\x01k" + b"U\x02xy") == {"k": "xy"}
    with pytest.raises(SerializationError, match="ASCII"):
        decode(b"C\x80")
    with pytest.raises(SerializationError, match="ASCII"):
        decode(bytes.fromhex("5b2443235501") + b"\xc3")


@pytest.mark.parametrize(
    ("frame", "value"),
    [
        ("5b2442235503000180", b"\x00\x01\x80"),  # [$B#: bytes
        ("5b245523550300017f", b"\x00\x01\x7f"),  # [$U# stays bytes (what py-ubjson peers send)
        ("42ff", 255),
        ("75feff", 0xFFFE),
        ("6dfeffffff", 0xFFFFFFFE),
        ("4dfeffffffffffffff", 2**64 - 2),
        ("68003c", 1.0),  # float16
        ("6800c0", -2.0),
        ("5b24682355020000003c", [0.0, 1.0]),
        ("5b2475235502010002ff", [1, 0xFF02]),
        ("5b244d2355010100000000000000", [1]),
        ("7b246d235501550161feffffff", {"a": 0xFFFFFFFE}),  # typed object
        ("7b246d235501550161010000", None),  # truncated
        ("537502007879", "xy"),  # string length as uint16
        ("5b23750200550155025d", None),  # a counted array has no end marker
        ("5b2375020055015502", [1, 2]),
    ],
)
def test_bjdata_decoding(frame: str, value: Any) -> None:
    data = bytes.fromhex(frame)
    if value is None:
        with pytest.raises(SerializationError):
            decode(data, bjdata=True)
    else:
        assert decode(data, bjdata=True) == value


def test_bjdata_only_markers_are_invalid_classic() -> None:
    for frame in ("42ff", "75feff", "6dfeffffff", "4dfeffffffffffffff", "68003c", "5b2442235500"):
        with pytest.raises(SerializationError):
            decode(bytes.fromhex(frame))
        assert decode_detect(bytes.fromhex(frame))[1] is True


def test_bjdata_unsupported_forms_are_rejected() -> None:
    # Structure-of-arrays, container element types, N-dimensional counts in classic UBJSON.
    for frame in ("5b247b", "5b245b235501"):
        with pytest.raises(SerializationError):
            decode(bytes.fromhex(frame), bjdata=True)
    with pytest.raises(SerializationError):
        decode(bytes.fromhex("5b2455235b55025d0102"))


@pytest.mark.parametrize(
    ("frame", "value"),
    [
        # What Crossbar 26 relays when a classic client sent the bytes 00 ff.
        (b"[$U#[U\x02]\x00\xff", b"\x00\xff"),
        (b"[$B#[$U#U\x01\x02\x00\xff", b"\x00\xff"),
        (b"[$U#[U\x02U\x02]\x00\x01\x02\x03", [[0, 1], [2, 3]]),
        (b"[$I#[U\x02U\x03]" + struct.pack("<6h", 0, 1, 2, 3, 4, -5), [[0, 1, 2], [3, 4, -5]]),
        (b"[$D#[U\x02U\x00U\x03]", [[], []]),
        (b"[$Z#[U\x01U\x02U\x01]", [[[None], [None]]]),
        (b"[#[U\x02]SU\x02abZ", ["ab", None]),
        (b"[$U#[]", None),  # no dimensions
        (b"[$U#[i\xff]", None),  # negative dimension
        (b"[$U#[D" + bytes(8) + b"]", None),  # non-integer dimension
        (b"[$U#[" + b"U\x01" * 65 + b"]\x00", None),  # more dimensions than numpy allows
        (b"[$U#[U\x03]\x00\xff", None),  # truncated
        (b"[$Z#[I\xff\x7fI\xff\x7fI\xff\x7f]", None),  # 2**45 empty elements
        (b"[$U#[I\xff\x7fI\xff\x7fU\x00]", None),  # 2**30 empty lists
        (b"{$U#[U\x01]U\x01a\x00", None),  # objects have no dimensions
    ],
)
def test_bjdata_n_dimensional_arrays(frame: bytes, value: Any) -> None:
    if value is None:
        with pytest.raises(SerializationError):
            decode(frame, bjdata=True)
    else:
        assert decode(frame, bjdata=True) == value


def test_bjdata_package_numpy_arrays_decode_to_nested_lists() -> None:
    bjdata = pytest.importorskip("bjdata")
    np = pytest.importorskip("numpy")
    for array in (
        np.arange(6, dtype="int16").reshape(2, 3),
        np.array([[1.5, -2.5]]),
        np.arange(24, dtype="uint32").reshape(2, 3, 4),
        np.zeros((2, 0, 3)),
    ):
        assert decode(bjdata.dumpb(array), bjdata=True) == array.tolist()
    assert decode(bjdata.dumpb(np.array([0, 255], dtype="uint8")), bjdata=True) == b"\x00\xff"


@pytest.mark.parametrize(
    "frame",
    [
        b"",
        b"N",
        b"X",
        b"]",
        b"}",
        b"S",
        b"SU",
        b"SU\x05abc",
        b"Si\xff",  # negative length
        b"SD\x00\x00\x00\x00\x00\x00\x00\x00",  # non-integer length
        b"SU\x02\xc3\x28",  # invalid UTF-8
        b"SU\x01\xed",
        b"[",
        b"[U\x01",
        b"{U\x01a}",
        b"{SU\x01aU\x01}",  # S marker before a key is not allowed
        b"{U\x01aU\x01",
        b"[$U]",  # type without count
        b"[$N#U\x01",  # no-op is not a type
        b"[#U\x05U\x01]",
        b"[#U\x02U\x01]",
        b"[$i#L\x7f\xff\xff\xff\xff\xff\xff\xff\x00",  # huge count: no allocation
        b"[$Z#L\x00\x00\x00\x00\xff\xff\xff\xff",  # huge count of empty elements
        b"{$Z#L\x00\x00\x00\x00\xff\xff\xff\xff",
        b"[#L\x00\x00\x00\x00\xff\xff\xff\xffZ",
        b"H",
        b"HU\x02\x00\x01",
        b"C",
        b"D\x00",
        b"Z\x00",
    ],
)
def test_malformed_frames(frame: bytes) -> None:
    for bj in (False, True):
        with pytest.raises(SerializationError):
            decode(frame, bjdata=bj)
        with pytest.raises(SerializationError):
            decode_detect(frame, bjdata=bj)


def test_empty_element_budget_bounds_memory() -> None:
    # 1000 typed null arrays of 32k elements each would be 32M list slots from a 7 kB frame.
    frame = b"[" + b"[$Z#I\x7f\xff" * 1000 + b"]"
    with pytest.raises(SerializationError, match="too many elements"):
        decode(frame)
    assert decode(b"[$Z#I\x01\x00") == [None] * 256


def test_depth_limit() -> None:
    deep = b"[" * MAX_DEPTH + b"]" * MAX_DEPTH
    assert decode(deep) is not None
    for too_deep in (b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1), b"{U\x01a" * 5000):
        with pytest.raises(SerializationError, match="deeper"):
            decode(too_deep)
        with pytest.raises(SerializationError, match="deeper"):
            decode(too_deep, bjdata=True)
    value: Any = []
    for _ in range(MAX_DEPTH - 1):
        value = [value]
    assert decode(encode(value)) == value
    with pytest.raises(EncodingError, match="deeper"):
        encode([value])
    cyclic: list[Any] = []
    cyclic.append(cyclic)
    with pytest.raises(EncodingError, match="deeper"):
        encode(cyclic)


class _Color(IntEnum):
    RED = 1000


def test_encode_rejects_and_accepts_types() -> None:
    for bad in ({1: "x"}, {None: 1}, {1, 2}, object(), 1j, "\udc80", {"\udc80": 1}):
        for bj in (False, True):
            with pytest.raises(EncodingError):
                encode(bad, bjdata=bj)
    assert decode(encode(_Color.RED)) == 1000
    assert decode(encode(OrderedDict(a=1))) == {"a": 1}
    assert decode(encode((1, (2,)))) == [1, [2]]
    assert decode(encode(bytearray(b"\x01"))) == b"\x01"
    assert decode(encode(memoryview(b"\x01\x02"), bjdata=True), bjdata=True) == b"\x01\x02"


class _HostileMapping(Mapping[str, Any]):
    def __getitem__(self, key: str) -> Any:
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        raise RuntimeError("boom")

    def __len__(self) -> int:
        return 1


def test_encode_wraps_unexpected_errors() -> None:
    ser = UbjsonSerializer()
    with pytest.raises(EncodingError, match="boom"):
        ser.dumps([_HostileMapping()])
    with pytest.raises(EncodingError, match="CALL"):
        ser.encode(Call(request_id=1, procedure="com.example.p", args=[_HostileMapping()]))


def test_decode_accepts_bytes_like_only() -> None:
    assert decode(bytearray(b"U\x01")) == 1
    assert decode(memoryview(b"U\x01")) == 1
    with pytest.raises(SerializationError):
        decode("U\x01")  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# The serializer, the dialect rule and the adaptive switch


def _current(ser: UbjsonSerializer) -> str:
    """``ser.dialect``, without mypy narrowing it across calls that change it."""
    return ser.dialect


def test_serializer_attributes() -> None:
    ser = UbjsonSerializer()
    assert (ser.name, ser.subprotocol, ser.rawsocket_id, ser.binary, ser.batched) == (
        "ubjson",
        "wamp.2.ubjson",
        4,
        True,
        False,
    )
    assert ser.dialect == "ubjson" and ser.adaptive
    assert UbjsonSerializer("bjdata").dialect == "bjdata"
    assert not UbjsonSerializer("ubjson").adaptive
    with pytest.raises(ConfigurationError):
        UbjsonSerializer("bjdata2")  # type: ignore[arg-type]


WELCOME = Welcome(session_id=9129137332, details={"roles": {"broker": {}, "dealer": {}}})
CLASSIC_WELCOME = bytes.fromhex(
    "5b55024c00000002202394b47b5505726f6c65737b550662726f6b65727b7d55066465616c65727b7d7d7d5d"
)
BJDATA_WELCOME = bytes.fromhex(
    "5b55024db4942320020000007b5505726f6c65737b550662726f6b65727b7d55066465616c65727b7d7d7d5d"
)
CALL = Call(request_id=1, procedure="com.example.add", args=[-300, 1.5])


def test_adaptive_switches_on_first_bjdata_frame() -> None:
    ser = UbjsonSerializer()
    assert ser.encode(CALL) == encode(CALL.to_list())
    assert ser.decode(CLASSIC_WELCOME) == WELCOME
    assert ser.dialect == "ubjson"
    assert ser.decode(BJDATA_WELCOME) == WELCOME
    assert _current(ser) == "bjdata"
    big_endian = encode(CALL.to_list())
    little_endian = encode(CALL.to_list(), bjdata=True)
    assert big_endian != little_endian
    assert ser.encode(CALL) == little_endian
    assert ser.dumps([-300]) == bytes.fromhex("5b49d4fe5d")
    # Sticky: a later frame that is valid only as classic UBJSON does not switch back.
    long_call = Call(request_id=2, procedure="com.example.echo", args=["x" * 300])
    assert ser.decode(encode(long_call.to_list())) == long_call
    assert _current(ser) == "bjdata"


def test_ambiguous_frames_use_the_current_dialect() -> None:
    # [-300, 1.5]: only multi-byte numbers, valid in both dialects with different values.
    classic = encode([-300, 1.5])
    assert decode_detect(classic) == ([-300, 1.5], False)
    swapped = decode_detect(classic, bjdata=True)
    assert swapped[1] is True and swapped[0] != [-300, 1.5]
    little = encode([-300, 1.5], bjdata=True)
    ser = UbjsonSerializer()
    assert ser.loads(little) != [-300, 1.5]  # read big-endian: wrong, as the rule says
    assert ser.dialect == "ubjson"
    ser.decode(BJDATA_WELCOME)
    assert ser.loads(little) == [-300, 1.5]
    # A fixed-BJData instance reads the classic WELCOME's int64 little-endian: the session ID
    # becomes > 2**53, which the message parser rejects instead of accepting a wrong ID.
    with pytest.raises(ProtocolError) as info:
        UbjsonSerializer("bjdata").decode(CLASSIC_WELCOME)
    assert not isinstance(info.value, SerializationError)


def test_fixed_dialects_never_switch() -> None:
    ser = UbjsonSerializer("ubjson")
    assert ser.decode(BJDATA_WELCOME) == WELCOME
    assert ser.dialect == "ubjson"
    assert ser.encode(CALL) == encode(CALL.to_list())
    ser = UbjsonSerializer("bjdata")
    long_classic = encode([1, "x" * 300])  # S I 01 2c: a length that only parses big-endian
    assert ser.loads(long_classic) == [1, "x" * 300]
    assert ser.dialect == "bjdata"


def test_length_only_valid_little_endian_switches() -> None:
    frame = b"[U\x01" + b"SI\x2c\x01" + b"x" * 300 + b"]"  # I-length 300, little-endian
    ser = UbjsonSerializer()
    assert ser.loads(frame) == [1, "x" * 300]
    assert ser.dialect == "ubjson"  # loads() never switches
    with pytest.raises(ProtocolError):
        ser.decode(frame)  # not a WAMP message, but the bytes were BJData
    assert _current(ser) == "bjdata"


def test_invalid_frame_does_not_switch() -> None:
    ser = UbjsonSerializer()
    # Invalid in both dialects; the report is BJData's, which got further.
    with pytest.raises(SerializationError, match="truncated BJData"):
        ser.decode(b"[U\x01m\x01\x02")
    assert ser.dialect == "ubjson"


def test_typical_hello_is_identical_in_both_dialects() -> None:
    hello = Hello(
        realm="realm1",
        details={
            "roles": {
                "caller": {"features": {"progressive_call_results": True, "call_canceling": True}},
                "callee": {"features": {"shared_registration": True, "call_timeout": True}},
                "publisher": {"features": {"publisher_exclusion": True}},
                "subscriber": {"features": {"pattern_based_subscription": True}},
            },
            "authmethods": ["cryptosign", "ticket", "anonymous"],
            "authid": "joe",
            "authextra": {"pubkey": "a" * 64, "channel_binding": None},
        },
    )
    classic = UbjsonSerializer("ubjson").encode(hello)
    assert UbjsonSerializer("bjdata").encode(hello) == classic
    assert decode_detect(classic) == (hello.to_list(), False)
    ubjson = pytest.importorskip("ubjson")
    assert ubjson.dumpb(hello.to_list()) == classic
    bjdata = pytest.importorskip("bjdata")
    assert bjdata.dumpb(hello.to_list()) == classic
    # ... while a WELCOME differs: its session ID is a multi-byte number.
    assert UbjsonSerializer().encode(WELCOME) != UbjsonSerializer("bjdata").encode(WELCOME)


def test_serializer_batch_and_errors() -> None:
    ser = UbjsonSerializer()
    frame = ser.encode(CALL)
    assert ser.decode_all(frame) == [CALL]
    assert ser.encode_batch([CALL]) == frame
    with pytest.raises(ValueError):
        ser.encode_batch([CALL, CALL])
    with pytest.raises(SerializationError):
        ser.decode(frame + frame)
    with pytest.raises(ProtocolError):
        ser.decode(encode([999, 1]))
    with pytest.raises(ProtocolError):
        ser.decode(encode({"a": 1}))


# --------------------------------------------------------------------------------------------
# Property tests

_keys = st.text(max_size=8)
_ints = st.one_of(
    st.integers(-300, 300),
    st.integers(-(2**63), 2**64 - 1),
    st.sampled_from([2**15, 2**16, 2**31, 2**32, 2**63, -(2**31) - 1, -(2**63)]),
    st.integers(-(2**100), 2**100),
)
_floats = st.floats(allow_nan=False, allow_infinity=False)
_scalars = st.one_of(
    st.none(), st.booleans(), _ints, _floats, st.text(max_size=20), st.binary(max_size=20)
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_keys, inner, max_size=4)),
    max_leaves=12,
)


@given(messages())
@settings(max_examples=200)
def test_message_round_trip_both_dialects(msg: Message) -> None:
    for mode in ("ubjson", "bjdata"):
        ser = UbjsonSerializer(mode)
        assert ser.decode(ser.encode(msg)) == msg
        assert ser.dialect == mode
    # An adaptive instance follows a BJData peer as soon as a frame shows the dialect.
    classic = encode(msg.to_list())
    little = encode(msg.to_list(), bjdata=True)
    auto = UbjsonSerializer()
    if decode_detect(little)[1]:
        assert auto.decode(little) == msg
        assert auto.dialect == "bjdata"
        assert auto.encode(msg) == little
    elif little == classic:
        assert auto.decode(little) == msg
        assert auto.dialect == "ubjson"


@given(_values)
@settings(max_examples=200)
def test_value_round_trip(value: Any) -> None:
    for bj in (False, True):
        assert decode(encode(value, bjdata=bj), bjdata=bj) == value


@given(st.binary(max_size=64))
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@example(b"[" * 300)
@example(b"[$Z#l\x7f\xff\xff\xff")
def test_arbitrary_bytes_only_raise_protocol_errors(data: bytes) -> None:
    with contextlib.suppress(ProtocolError):
        UbjsonSerializer().decode(data)
    with contextlib.suppress(SerializationError):
        UbjsonSerializer("bjdata").loads(data)


@given(messages(), st.data())
@settings(max_examples=150)
def test_mutated_frames_only_raise_protocol_errors(msg: Message, data: st.DataObject) -> None:
    frame = bytearray(encode(msg.to_list(), bjdata=data.draw(st.booleans())))
    for _ in range(data.draw(st.integers(1, 4))):
        index = data.draw(st.integers(0, len(frame) - 1))
        frame[index] = data.draw(st.sampled_from([*b"[]{}$#NZUiIlLumMhBdDHCS", 0, 0xFF]))
    with contextlib.suppress(ProtocolError):
        UbjsonSerializer().decode(bytes(frame))


# --------------------------------------------------------------------------------------------
# Cross-checks with the reference implementations (bjdata for BJData, py-ubjson for classic)

# The reference encoders write H (a decimal string) below 2.23e-308 (bjdata) or for subnormals
# (py-ubjson); we write D there. Byte equality is checked for the other floats.
_plain_floats = st.floats(allow_nan=False, allow_infinity=False).filter(
    lambda f: f == 0 or abs(f) >= 2.23e-308
)
_ref_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**64 - 1),
    st.integers(-300, 300),
    _plain_floats,
    st.text(max_size=20),
    st.binary(max_size=300),
)
_ref_values = st.recursive(
    _ref_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_keys, inner, max_size=4)),
    max_leaves=12,
)

_EDGE_VALUES: list[Any] = [
    0,
    255,
    256,
    -1,
    -128,
    -129,
    32767,
    32768,
    -32768,
    -32769,
    65535,
    65536,
    2**31 - 1,
    2**31,
    -(2**31),
    -(2**31) - 1,
    2**32 - 1,
    2**32,
    2**53,
    2**63 - 1,
    2**63,
    2**64 - 1,
    2**64,
    -(2**63),
    -(2**63) - 1,
    10**30,
    0.0,
    -0.0,
    1.5,
    -2.5e-300,
    1.7976931348623157e308,
    5e-324,
    2.2250738585072014e-308,
    1e-310,
    "",
    "x",
    "é",
    "x" * 70000,
    b"",
    b"\x00\xff",
    b"y" * 70000,
    [],
    {},
    [[[{"a": [1, {"b": None}]}]]],
    {"": True, "é": [False, 1.25, b"\x01"]},
]


@pytest.mark.parametrize("value", _EDGE_VALUES, ids=lambda v: repr(v)[:30])
def test_reference_encoders_decode_with_ours(value: Any) -> None:
    bjdata = pytest.importorskip("bjdata")
    ubjson = pytest.importorskip("ubjson")
    assert decode(bjdata.dumpb(value), bjdata=True) == value
    assert decode(bjdata.dumpb(value, container_count=True), bjdata=True) == value
    assert decode(ubjson.dumpb(value)) == value
    assert decode(ubjson.dumpb(value, container_count=True)) == value


@pytest.mark.parametrize("value", _EDGE_VALUES, ids=lambda v: repr(v)[:30])
def test_reference_decoders_read_ours(value: Any) -> None:
    bjdata = pytest.importorskip("bjdata")
    ubjson = pytest.importorskip("ubjson")
    # (They return Decimal for H numbers, which compares equal to the int.)
    assert ubjson.loadb(encode(value)) == value
    assert bjdata.loadb(encode(value, bjdata=True)) == value


@given(_ref_values)
@settings(max_examples=150)
def test_reference_cross_check(value: Any) -> None:
    bjdata = pytest.importorskip("bjdata")
    ubjson = pytest.importorskip("ubjson")
    # Same bytes as the reference encoders.
    assert encode(value, bjdata=True) == bjdata.dumpb(value)
    assert encode(value) == ubjson.dumpb(value)
    assert decode(bjdata.dumpb(value), bjdata=True) == value
    assert decode(ubjson.dumpb(value)) == value
    assert decode(ubjson.dumpb(value, container_count=True)) == value
    # And they decode ours (H numbers come back as Decimal, equal to the int).
    assert ubjson.loadb(encode(value)) == value
    assert bjdata.loadb(encode(value, bjdata=True)) == value


def test_float16_and_float32_values() -> None:
    assert decode(b"d" + struct.pack(">f", 0.25)) == 0.25
    assert decode(b"d" + struct.pack("<f", 0.25), bjdata=True) == 0.25
    assert decode(b"h" + struct.pack("<e", 65504.0), bjdata=True) == 65504.0
    assert math.isinf(decode(b"h\x00\x7c", bjdata=True))


# --------------------------------------------------------------------------------------------
# Against a real Crossbar.io 26 (BJData on the wire), over a hand-rolled RawSocket


class _RawSocketPeer:
    """A minimal blocking RawSocket client: handshake for ubjson, then message frames."""

    def __init__(self, router: CrossbarRouter) -> None:
        self.sock = socket.create_connection(("127.0.0.1", router.rs_port), timeout=30)
        self.sock.sendall(bytes((0x7F, 0xF4, 0, 0)))  # 16 MiB, serializer 4 (ubjson)
        reply = self._read(4)
        assert reply[0] == 0x7F and reply[1] & 0x0F == 4, reply.hex()

    def _read(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            assert chunk, "router closed the connection"
            data += chunk
        return data

    def send(self, payload: bytes) -> None:
        self.sock.sendall(struct.pack(">I", len(payload)) + payload)

    def receive(self) -> bytes:
        while True:
            (header,) = struct.unpack(">I", self._read(4))
            payload = self._read(header & 0xFFFFFF)
            kind = header >> 24
            if kind == 0:
                return payload
            if kind == 1:  # ping -> pong
                self.sock.sendall(struct.pack(">I", (2 << 24) | len(payload)) + payload)

    def close(self) -> None:
        self.sock.close()


_ECHO_IDS = itertools.count(1)
_ECHO_ARGS: list[Any] = [-300, -(2**40), 1.5, -0.25, 70000, 2**53, b"\x00\xff", "x" * 300]


def _join(peer: _RawSocketPeer, ser: UbjsonSerializer, realm: str) -> Welcome:
    hello = Hello(realm=realm, details={"roles": {"caller": {}, "callee": {}}})
    peer.send(ser.encode(hello))
    welcome = ser.decode(peer.receive())
    assert isinstance(welcome, Welcome), welcome
    return welcome


def _echo_through_router(
    peer: _RawSocketPeer, ser: UbjsonSerializer, args: list[Any], *, answer: bool = True
) -> tuple[Any, Any]:
    """Register, call ourselves with ``args``: the INVOCATION and RESULT args we get back.

    The procedure name is unique per call: a test's registration must not meet the one an
    earlier test's closed socket may still hold on the shared router."""
    procedure = f"com.test.ubjson.echo{next(_ECHO_IDS)}"
    peer.send(ser.encode(Register(request_id=1, procedure=procedure)))
    registered = ser.decode(peer.receive())
    assert isinstance(registered, Registered), registered
    peer.send(ser.encode(Call(request_id=2, procedure=procedure, args=args)))
    invocation = ser.decode(peer.receive())
    assert isinstance(invocation, Invocation), invocation
    if not answer:
        return invocation.args, None
    peer.send(ser.encode(Yield(request_id=invocation.request_id, args=invocation.args)))
    result = ser.decode(peer.receive())
    assert isinstance(result, Result), result
    return invocation.args, result.args


def test_crossbar_adaptive_client_follows_bjdata(crossbar: CrossbarRouter) -> None:
    ser = UbjsonSerializer()
    peer = _RawSocketPeer(crossbar)
    try:
        assert ser.dialect == "ubjson"
        _join(peer, ser, crossbar.realm)  # our HELLO is identical in both dialects
        assert _current(ser) == "bjdata"  # the WELCOME's session ID showed the dialect
        assert _echo_through_router(peer, ser, _ECHO_ARGS) == (_ECHO_ARGS, _ECHO_ARGS)
    finally:
        peer.close()


def test_crossbar_classic_ubjson_multibyte_numbers_differ(crossbar: CrossbarRouter) -> None:
    """A classic-only client: Crossbar 26 reads its multi-byte numbers little-endian."""
    ser = UbjsonSerializer("ubjson")
    peer = _RawSocketPeer(crossbar)
    try:
        _join(peer, ser, crossbar.realm)  # decodes fine: the WELCOME is unambiguous BJData
        args: list[Any] = [-300, 1.5, 7, "short", b"\x00\xff"]
        # No YIELD: once the router has handed out more than 255 invocation IDs, a classic
        # (big-endian) request ID is misread by Crossbar and the answer would never arrive.
        invocation_args, _ = _echo_through_router(peer, ser, args, answer=False)
    finally:
        peer.close()
    # int16 -300 sent big-endian (fe d4) is read little-endian (d4 fe); the float likewise.
    assert invocation_args[0] == struct.unpack("<h", struct.pack(">h", -300))[0] != -300
    assert invocation_args[1] == struct.unpack("<d", struct.pack(">d", 1.5))[0] != 1.5
    # One-byte integers, short strings and bytes agree in both dialects.
    assert invocation_args[2:] == args[2:]
    # A string of 256+ bytes has a big-endian int16 length: Crossbar cannot parse the frame at
    # all and drops the connection.
    peer = _RawSocketPeer(crossbar)
    try:
        _join(peer, ser, crossbar.realm)
        peer.send(ser.encode(Call(request_id=1, procedure="com.test.nothing", args=["x" * 300])))
        with pytest.raises((AssertionError, ConnectionError), match=r"closed|reset"):
            peer.receive()
    finally:
        peer.close()
