"""Conformance with the official WAMP test vectors (wamp-proto ``testsuite/singlemessage``).

Directory: env ``WAMP_TESTSUITE_DIR``, default ``<repo>/../shared/wamp-testsuite`` (the
``testsuite_dir`` fixture of conftest.py skips the tests when it is absent).

* Serialization samples: for every serializer a sample lists and every byte variant, our
  decoder yields a message whose attributes equal ``expected_attributes``, and encoding it with
  our encoder decodes back to the same message. For json/msgpack/cbor our bytes must equal one
  of the listed variants. ubjson/flatbuffers cells go through ``get_serializer`` like the
  others: when their module is missing these tests FAIL (they are the acceptance gate).
* Validation samples (``wmsg``): :func:`parse_message` accepts the array when the sample has no
  ``expected_error``, else raises :class:`ProtocolError` whose message contains
  ``expected_error.contains``.

Attribute mapping (test-vector name -> our message):

* ``message_type`` -> ``MESSAGE_TYPE`` (and the class must be the one for that code);
* EVENT ``subscription``/``publication`` -> ``subscription_id``/``publication_id``;
* ``roles`` (HELLO/WELCOME) -> ``details["roles"]``; exception: the flatbuffers vectors
  (Autobahn's bytes) carry no roles at all, so there the expected role names must only be a
  subset of the decoded (default) roles;
* ``payload`` (hex string) -> ``payload.hex()`` (the transparent payload must be ``bytes``);
* ``args``/``kwargs``: ``null`` (and, by our normalisation, ``[]``/``{}``) -> ``None``;
* every other name (``request_id``, ``options``, ``details``, ``procedure``, ``topic``,
  ``realm``, ``session_id``, ``method``, ``extra``, ``signature``, ``reason``,
  ``request_type``, ``error``, ``publication_id``, ``subscription_id``, ``registration_id``)
  -> the attribute of the same name. An unknown name fails the test.

Values are compared type-strictly (``true`` is not ``1``).
"""

from __future__ import annotations

import base64
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from wamp_core import ConfigurationError, ProtocolError
from wamp_core.messages import MESSAGE_CLASSES, Message, parse_message
from wamp_core.serializers import Serializer, get_serializer

# The path as conftest.py's ``testsuite_dir`` fixture computes it; needed at collection time
# to parametrize. The fixture (requested by every test) skips when the directory is absent.
_env = os.environ.get("WAMP_TESTSUITE_DIR")
TESTSUITE = (
    Path(_env) if _env else Path(__file__).resolve().parents[1].parent / "shared" / "wamp-testsuite"
)

#: Serializers whose output must equal one of the listed variants byte for byte.
EXACT_ENCODING = ("json", "msgpack", "cbor")

_RENAMED = {
    ("EVENT", "subscription"): "subscription_id",
    ("EVENT", "publication"): "publication_id",
}
# Autobahn's FlatBuffers HELLO/WELCOME omit the (schema-required) roles, so the vector bytes
# cannot carry the expected roles: there we only require the expected role names to be among
# the decoded (default) roles.
_ROLELESS = frozenset({("flatbuffers", "HELLO"), ("flatbuffers", "WELCOME")})
_PLAIN = frozenset(
    {
        "request_id", "options", "details", "procedure", "topic", "realm", "session_id",
        "method", "extra", "signature", "reason", "request_type", "error", "publication_id",
        "subscription_id", "registration_id",
    }
)  # fmt: skip


@dataclass(frozen=True)
class Variant:
    file: str
    index: int
    description: str
    message_name: str
    serializer: str
    variant: int
    data: bytes
    note: str
    expected: dict[str, Any]
    all_variants: tuple[bytes, ...]


@dataclass(frozen=True)
class Validation:
    file: str
    index: int
    description: str
    wmsg: list[Any]
    error: dict[str, Any] | None


def _variant_bytes(entry: dict[str, Any]) -> bytes:
    if "bytes_hex" in entry:
        data = bytes.fromhex(entry["bytes_hex"])
        if "bytes" in entry:  # both given: they must agree
            assert entry["bytes"].encode() == data, f"bytes/bytes_hex disagree in {entry}"
        return data
    if "bytes_base64" in entry:
        return base64.b64decode(entry["bytes_base64"])
    return entry["bytes"].encode()  # type: ignore[no-any-return]


def _load() -> tuple[list[Variant], list[Validation], list[tuple[str, int, str, str]]]:
    variants: list[Variant] = []
    validations: list[Validation] = []
    samples: list[tuple[str, int, str, str]] = []  # (file, index, serializer, message name)
    if not TESTSUITE.is_dir():
        return variants, validations, samples
    for path in sorted((TESTSUITE / "singlemessage").glob("**/*.json")):
        rel = path.relative_to(TESTSUITE / "singlemessage").with_suffix("").as_posix()
        doc = json.loads(path.read_text(encoding="utf-8"))
        for index, sample in enumerate(doc["samples"]):
            if "wmsg" in sample:
                validations.append(
                    Validation(
                        rel, index, sample["description"], sample["wmsg"],
                        sample.get("expected_error"),
                    )
                )  # fmt: skip
                continue
            for serializer, entries in sample["serializers"].items():
                datas = tuple(_variant_bytes(entry) for entry in entries)
                samples.append((rel, index, serializer, doc["wamp_message_type"]))
                for number, (entry, data) in enumerate(zip(entries, datas, strict=True)):
                    variants.append(
                        Variant(
                            rel, index, sample["description"], doc["wamp_message_type"],
                            serializer, number, data, entry.get("note", ""),
                            sample["expected_attributes"], datas,
                        )
                    )  # fmt: skip
    return variants, validations, samples


VARIANTS, VALIDATIONS, SAMPLES = _load()
_BY_SAMPLE: dict[tuple[str, int, str], list[Variant]] = {}
for _v in VARIANTS:
    _BY_SAMPLE.setdefault((_v.file, _v.index, _v.serializer), []).append(_v)

_ABSENT = [pytest.param(None, id="testsuite-absent")]


def _variant_id(v: Variant) -> str:
    return f"{v.file}#{v.index}-{v.serializer}-v{v.variant}"


@pytest.fixture
def suite(testsuite_dir: Path) -> Path:
    """The test-vector directory (skips via conftest's fixture when absent)."""
    assert testsuite_dir == TESTSUITE.resolve(), (
        f"conftest's testsuite_dir {testsuite_dir} differs from the collected {TESTSUITE}"
    )
    return testsuite_dir


def serializer(name: str) -> Serializer:
    """The serializer; a missing one is a FAILURE here (acceptance gate), never a skip."""
    try:
        return get_serializer(name)
    except ConfigurationError as exc:
        pytest.fail(f"serializer {name!r} is required by the WAMP test vectors: {exc}")


def assert_same(actual: Any, expected: Any, path: str) -> None:
    assert type(actual) is type(expected) or (
        isinstance(actual, float) and type(expected) is int and actual == expected
    ), f"{path}: got {type(actual).__name__} {actual!r}, expected {expected!r}"
    if isinstance(expected, list):
        assert len(actual) == len(expected), f"{path}: got {actual!r}, expected {expected!r}"
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            assert_same(a, e, f"{path}[{i}]")
    elif isinstance(expected, dict):
        assert set(actual) == set(expected), f"{path}: got {actual!r}, expected {expected!r}"
        for key in expected:
            assert_same(actual[key], expected[key], f"{path}[{key!r}]")
    elif isinstance(expected, float):
        assert math.isclose(actual, expected), f"{path}: got {actual!r}, expected {expected!r}"
    else:
        assert actual == expected, f"{path}: got {actual!r}, expected {expected!r}"


def check_attributes(
    message: Message, name: str, expected: dict[str, Any], serializer: str
) -> None:
    code = expected["message_type"]
    got_code, got_name = message.MESSAGE_TYPE, message.NAME
    assert got_code == code, f"message type {got_code} != {code}"
    assert type(message) is MESSAGE_CLASSES[code]
    assert got_name == name
    for key, want in expected.items():
        if key == "message_type":
            continue
        if key == "roles":
            got = message.details["roles"]  # type: ignore[attr-defined]
            if (serializer, name) in _ROLELESS:
                # The bytes hold no roles: the decoder fills in its defaults.
                assert set(want) <= set(got), f"roles: got {got!r}, expected {want!r}"
            else:
                assert_same(got, want, "roles")
        elif key == "payload":
            got = message.payload  # type: ignore[attr-defined]
            if want is None:
                assert got is None, f"payload: got {got!r}, expected None"
            else:
                assert type(got) is bytes, f"payload: got {type(got).__name__} {got!r}"
                assert got.hex() == want, f"payload: got {got.hex()}, expected {want}"
        elif key in ("args", "kwargs"):
            got = getattr(message, key)
            if want is None or want == [] or want == {}:
                assert got is None, f"{key}: got {got!r}, expected None/empty"
            else:
                assert_same(got, want, key)
        else:
            attr = _RENAMED.get((name, key), key)
            if attr not in _PLAIN:
                pytest.fail(f"unmapped expected attribute {key!r} for {name}")
            assert_same(getattr(message, attr), want, attr)


@pytest.mark.parametrize("v", [pytest.param(v, id=_variant_id(v)) for v in VARIANTS] or _ABSENT)
def test_serialization_sample(suite: Path, v: Variant | None) -> None:
    assert v is not None
    ser = serializer(v.serializer)
    message = ser.decode(v.data)
    check_attributes(message, v.message_name, v.expected, v.serializer)
    assert ser.decode_all(v.data) == [message]
    # Our encoding decodes back to the same message.
    again = ser.decode(ser.encode(message))
    assert again == message
    check_attributes(again, v.message_name, v.expected, v.serializer)
    # The batched variant carries it too (ubjson: once its module exists).
    if v.serializer in ("json", "msgpack", "cbor", "ubjson"):
        batched = serializer(f"{v.serializer}.batched")
        assert batched.decode_all(batched.encode_batch([message, message])) == [message, message]


@pytest.mark.parametrize(
    "key",
    [
        pytest.param(key, id=f"{key[0]}#{key[1]}-{key[2]}")
        for key in _BY_SAMPLE
        if key[2] in EXACT_ENCODING
    ]
    or _ABSENT,
)
def test_encoding_matches_a_variant(suite: Path, key: tuple[str, int, str] | None) -> None:
    assert key is not None
    variants = _BY_SAMPLE[key]
    ser = serializer(key[2])
    for v in variants:
        ours = ser.encode(ser.decode(v.data))
        assert ours in v.all_variants, (
            f"our {key[2]} bytes {ours!r} match none of the variants {list(v.all_variants)!r}"
        )


@pytest.mark.parametrize(
    "sample",
    [pytest.param(s, id=f"{s.file}#{s.index}") for s in VALIDATIONS] or _ABSENT,
)
def test_validation_sample(suite: Path, sample: Validation | None) -> None:
    assert sample is not None
    if sample.error is None:
        message = parse_message(sample.wmsg)
        assert message.to_list() == sample.wmsg
    else:
        with pytest.raises(ProtocolError) as info:
            parse_message(sample.wmsg)
        assert sample.error["contains"] in str(info.value), (
            f"error {str(info.value)!r} does not mention {sample.error['contains']!r}"
        )


def test_every_message_type_and_serializer_is_covered(suite: Path) -> None:
    """Guard against a silently shrinking suite: the vectors cover all 25 types x 5 formats."""
    names = {name for (_, _, _, name) in SAMPLES}
    assert len(names) == 25, sorted(names)
    assert {s for (_, _, s, _) in SAMPLES} == {"json", "msgpack", "cbor", "ubjson", "flatbuffers"}
    assert len(VALIDATIONS) > 0
