"""Serializer edges a mutation review found unguarded: msgpack's `loads` errors, its fast
decode path's type checks, the FlatBuffers work budget, encode error texts, a serializer whose
import fails; the ubjson and batched wrappers, the FlatBuffers codec and reader (bounds, work
budget, strings, tables), the Serializer base. Each test fails on the one-line change its
docstring names."""

from __future__ import annotations

import struct
from typing import Any

import flatbuffers
import msgpack
import pytest

from test_flatbuffers import event_frame, event_with_hops
from wamp_core import ConfigurationError, EncodingError, RemoteProtocolError, SerializationError
from wamp_core.messages import Authenticate, Call, Event, Goodbye, Hello, Publish, Published
from wamp_core.serializers import get_serializer
from wamp_core.serializers._flatbuffers import FlatBuffersSerializer
from wamp_core.serializers._ubjson import UbjsonSerializer


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
    return event_with_hops([builder.EndObject()] * hops, builder)


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


# -- a second round: the ubjson and batched wrappers, FlatBuffers, the base


def test_ubjson_repr_names_the_mode_and_the_current_dialect() -> None:
    """(Mutant U7: ``__repr__`` prints the current dialect as the mode, dropping "auto")
    The repr is how a user tells an adaptive serializer from a fixed one: an adaptive instance
    that switched to BJData must not look like one fixed to BJData."""
    ser = UbjsonSerializer()
    assert repr(ser) == "UbjsonSerializer(dialect='auto', current='ubjson')"
    assert (
        repr(UbjsonSerializer("bjdata")) == "UbjsonSerializer(dialect='bjdata', current='bjdata')"
    )
    # A WELCOME whose session ID uses BJData's uint16 marker: the instance switches.
    ser.decode(b"[U\x02u@\x9c{U\x05roles{U\x06broker{}}}]")
    assert repr(ser) == "UbjsonSerializer(dialect='auto', current='bjdata')"


@pytest.mark.parametrize("name", ["msgpack.batched", "cbor.batched", "ubjson.batched"])
def test_binary_batch_carries_a_message_over_64_kib(name: str) -> None:
    """(Mutant B3: the batch length limit is 0xFFFF instead of the 32-bit prefix's 0xFFFFFFFF)
    A binary batch prefixes each message with a 32-bit length, so a CALL with a 100 kB argument
    must frame and decode; the mutant raises EncodingError "message too long for a batch"."""
    ser = get_serializer(name)
    call = Call(request_id=1, options={}, procedure="com.big", args=["x" * 100_000])
    frame = ser.encode(call)
    inner = get_serializer(name.removesuffix(".batched")).encode(call)
    assert frame == struct.pack(">I", len(inner)) + inner
    assert ser.decode_all(ser.encode_batch([call, call])) == [call, call]


# --------------------------------------------------------------------------------------------
# FlatBuffers: hand-corrupted PUBLISHED buffers (request_id 1, publication_id 2)

FB = get_serializer("flatbuffers")


def _published_layout() -> tuple[bytes, int, int]:
    """A PUBLISHED buffer, the position of its body table and of the body's vtable."""
    data = FB.encode(Published(request_id=1, publication_id=2))
    root = struct.unpack_from("<I", data, 0)[0]
    root_vtable = root - struct.unpack_from("<i", data, root)[0]
    body_field = root + struct.unpack_from("<H", data, root_vtable + 6)[0]
    body = body_field + struct.unpack_from("<I", data, body_field)[0]
    vtable = body - struct.unpack_from("<i", data, body)[0]
    return data, body, vtable


def _patched(*patches: tuple[str, str, int]) -> bytes:
    """The PUBLISHED buffer with ``(where, fmt, value)`` patches; ``where`` is ``"vtable+N"``
    or ``"body+N"``."""
    data, body, vtable = _published_layout()
    buf = bytearray(data)
    for where, fmt, value in patches:
        base, _, delta = where.partition("+")
        struct.pack_into(fmt, buf, (body if base == "body" else vtable) + int(delta), value)
    return bytes(buf)


def test_published_layout_is_as_the_corruption_tests_assume() -> None:
    """The tests below patch this layout: body vtable of 3 slots (10 octets) over a 20-octet
    table, request_id at table offset 12, publication_id at offset 4."""
    data, body, vtable = _published_layout()
    assert struct.unpack_from("<5H", data, vtable) == (10, 20, 0, 12, 4)
    assert struct.unpack_from("<QQ", data, body + 4) == (2, 1)
    assert FB.decode(data) == Published(request_id=1, publication_id=2)


@pytest.mark.parametrize(
    ("patches", "detail"),
    [
        # R16: a vtable that claims to run past the buffer end.
        ([("vtable+0", "<H", 0x1000)], "vtable at {vtable} has an invalid size"),
        # R15: an odd vtable size (publication_id's slot half inside it).
        ([("vtable+0", "<H", 9)], "vtable at {vtable} has an invalid size"),
        # R14: a vtable too short to hold its own two sizes.
        ([("vtable+0", "<H", 2)], "vtable at {vtable} has an invalid size"),
        # R18: a table that claims to run past the buffer end.
        ([("vtable+2", "<H", 0x1000)], "table at {body} has an invalid size"),
        # R17: a table smaller than its own vtable offset.
        ([("vtable+2", "<H", 2)], "table at {body} has an invalid size"),
        # R20: publication_id's field offset points into the table's vtable offset.
        ([("vtable+8", "<H", 2)], "field 2 of table at {body} lies outside the table"),
        # R21: request_id (8 octets at offset 12) straddles the end of a 16-octet table.
        ([("vtable+2", "<H", 16)], "field 1 of table at {body} lies outside the table"),
        # R12: the table's vtable offset points before the buffer start.
        ([("body+0", "<i", 100)], "vtable of table at {body} is outside the buffer"),
    ],
    ids=[
        "R16-vtable-past-end",
        "R15-odd-vtable",
        "R14-vtable-2",
        "R18-table-past-end",
        "R17-table-2",
        "R20-field-in-soffset",
        "R21-field-straddles-end",
        "R12-vtable-negative",
    ],
)
def test_flatbuffers_rejects_inconsistent_tables(patches: Any, detail: str) -> None:
    """(Mutants R12, R14-R18, R20, R21: one of the FbsTable checks on the vtable and field
    offsets dropped or loosened) Each corrupt PUBLISHED is rejected with the check's own
    SerializationError. Without the check the mutants either decode a message (publication_id
    read from the wrong octets, or a field silently absent) or fail later with another text."""
    _, body, vtable = _published_layout()
    with pytest.raises(SerializationError) as info:
        FB.decode(_patched(*patches))
    assert str(info.value) == "invalid FlatBuffers data: " + detail.format(body=body, vtable=vtable)


def test_flatbuffers_rejects_a_vtable_too_close_to_the_buffer_end() -> None:
    """(Mutant R13: the vtable bound checks ``vtable > size`` instead of ``vtable + 4 > size``)
    A table whose vtable offset points 3 octets before the end (no room for the vtable's two
    sizes) is rejected as such; the mutant fails later on a read outside the buffer."""
    data, body, _ = _published_layout()
    buf = bytearray(data)
    struct.pack_into("<i", buf, body, body - (len(data) - 3))
    with pytest.raises(SerializationError) as info:
        FB.decode(bytes(buf))
    assert (
        str(info.value)
        == f"invalid FlatBuffers data: vtable of table at {body} is outside the buffer"
    )


def _publish_topic(topic: str = "com.topic") -> tuple[bytearray, int]:
    """A PUBLISH buffer without arguments and the position of its topic's first octet."""
    data = FB.encode(Publish(request_id=1, options={}, topic=topic))
    return bytearray(data), data.index(topic.encode())


def test_flatbuffers_string_must_end_with_nul() -> None:
    """(Mutant R10: the NUL-terminator check of strings is dropped) A topic whose terminating
    NUL is overwritten is invalid FlatBuffers data; the mutant accepts the PUBLISH."""
    buf, start = _publish_topic()
    buf[start + len("com.topic")] = ord("A")
    with pytest.raises(SerializationError, match=r"string at \d+ is not NUL-terminated"):
        FB.decode(bytes(buf))


def test_flatbuffers_string_at_the_buffer_end_without_nul() -> None:
    """(Mutant R9: ``end >= size`` -> ``end > size``) A buffer cut right after the topic's last
    octet (no room for the NUL) is rejected as a non-terminated string; the mutant indexes past
    the end and reports an IndexError instead."""
    buf, start = _publish_topic()
    data = bytes(buf[: start + len("com.topic")])
    with pytest.raises(SerializationError) as info:
        FB.decode(data)
    assert (
        str(info.value) == f"invalid FlatBuffers data: string at {start - 4} is not NUL-terminated"
    )


def test_flatbuffers_string_must_be_utf8() -> None:
    """(Mutant R11: strings decode with errors="replace") A topic holding an invalid UTF-8
    octet is rejected; the mutant accepts the PUBLISH with U+FFFD in its topic."""
    buf, start = _publish_topic()
    buf[start + 3] = 0xFF
    with pytest.raises(SerializationError, match=r"string at \d+ is not valid UTF-8"):
        FB.decode(bytes(buf))


def test_flatbuffers_work_budget_counts_tables_and_string_ends() -> None:
    """(Mutant R8: a vector costs its octets, not octets + 1; R22: a table costs 0, not 8)
    The work budget (4 x the buffer size + 4096) is exact: 20 hops sharing one 129-octet
    Principal string decode, 130 octets (the same 344-octet buffer size) exceed it. The mutants
    undercount each hop's table or its two strings and accept the 130-octet buffer."""
    ok, over = _event_with_shared_principal(20, 129), _event_with_shared_principal(20, 130)
    assert len(ok) == len(over) == 344
    event = FB.decode(ok)
    assert isinstance(event, Event)
    assert event.details["forward_for"][19] == {
        "session": 7,
        "authid": "r" * 129,
        "authrole": "r" * 129,
    }
    with pytest.raises(SerializationError, match="offsets reference the same data too often"):
        FB.decode(over)


# --------------------------------------------------------------------------------------------
# Batched framing


@pytest.mark.parametrize("data", [b"", "", b"\x18", "\x1e"], ids=["bytes", "str", "sep", "str-sep"])
def test_json_batched_empty_frame_is_a_batch_of_zero(data: Any) -> None:
    """(Mutant B18: the zero-message check of separated frames is dropped) An empty text frame
    (or one holding only a separator) is reported as a batch of zero messages; the mutant hands
    the empty chunk to the JSON codec and reports a JSON syntax error instead."""
    with pytest.raises(SerializationError) as info:
        get_serializer("json.batched").decode_all(data)
    assert str(info.value) == "empty json.batched frame: a batch of zero messages"


@pytest.mark.parametrize("data", [123, None, [b"[1]"]], ids=["int", "None", "list"])
def test_json_batched_decode_all_rejects_non_bytes(data: Any) -> None:
    """(Mutant B19: a frame that is neither text nor bytes decodes to an empty batch)
    ``decode_all`` of a value that is not a frame raises SerializationError naming its type;
    the mutant returns ``[]``: a caller iterating the batch silently drops the frame."""
    with pytest.raises(
        SerializationError, match=f"invalid json.batched data: {type(data).__name__}"
    ):
        get_serializer("json.batched").decode_all(data)


def test_flatbuffers_vector_bound_counts_element_width() -> None:
    """(Mutant R7: the vector bound checks ``start + length`` instead of ``start + length *
    width``) A PUBLISH whose ``exclude`` list (8-octet session IDs) claims as many elements as
    there are octets left is rejected as running past the buffer end; the mutant passes the
    check and fails on a raw struct read instead (another error text)."""
    data = FB.encode(Publish(request_id=1, options={"exclude": [5, 6]}, topic="t"))
    start = data.index(struct.pack("<QQ", 5, 6))
    buf = bytearray(data)
    count = len(data) - start
    struct.pack_into("<I", buf, start - 4, count)
    with pytest.raises(SerializationError) as info:
        FB.decode(bytes(buf))
    assert str(info.value) == (
        f"invalid FlatBuffers data: vector at {start - 4} ({count} elements) "
        "runs past the buffer end"
    )


# --------------------------------------------------------------------------------------------
# The Serializer base


def test_serializer_repr_quotes_the_name() -> None:
    """(Mutant A13: the base ``__repr__`` prints the name without quotes) The repr of the
    plain codecs, also shown inside a batched wrapper's repr, quotes the serializer name."""
    assert repr(get_serializer("json")) == "<JsonSerializer 'json'>"
    assert repr(get_serializer("msgpack")) == "<MsgpackSerializer 'msgpack'>"
    assert repr(get_serializer("cbor.batched")) == "BatchedSerializer(<CborSerializer 'cbor'>)"


# --------------------------------------------------------------------------------------------
# FlatBuffersSerializer.decode


def _root(union_type: int, body: bool) -> bytes:
    """A root ``Message`` table with ``union_type`` and an empty body table (or none)."""
    builder = flatbuffers.Builder(64)
    if body:
        builder.StartObject(0)
        table = builder.EndObject()
    builder.StartObject(2)
    builder.PrependUint8Slot(0, union_type, 0)
    if body:
        builder.PrependUOffsetTRelativeSlot(1, table, 0)
    builder.Finish(builder.EndObject())
    return bytes(builder.Output())


def test_flatbuffers_unknown_message_type_is_named() -> None:
    """(Mutant F3: the unknown-union-type check is dropped; F1: decode re-raises only ValueError
    as is, so its own SerializationErrors get wrapped a second time) A buffer whose union type is
    7 (no WAMP message) is rejected naming the type; F3 reports an AttributeError on None, F1
    prefixes "invalid flatbuffers data: SerializationError: " to the text."""
    with pytest.raises(SerializationError) as info:
        FB.decode(_root(7, body=True))
    assert str(info.value) == "unsupported FlatBuffers message type 7"


def test_flatbuffers_message_without_body() -> None:
    """(Mutant F4: the missing-body check is dropped) An EVENT union type without its table is
    rejected as a message without a body; the mutant reports an AttributeError on None."""
    with pytest.raises(SerializationError) as info:
        FB.decode(_root(36, body=False))
    assert str(info.value) == "FlatBuffers message without a body"


def test_flatbuffers_decode_wraps_any_error_of_the_input() -> None:
    """(Mutant F2: decode wraps only TypeError) A released memoryview raises ValueError when read:
    decode must still raise only SerializationError (a ProtocolError), as it promises."""
    view = memoryview(FB.encode(Published(request_id=1, publication_id=2)))
    view.release()
    with pytest.raises(SerializationError, match="invalid flatbuffers data: ValueError"):
        FB.decode(view)  # type: ignore[arg-type]


def _event_with_payload(args: bool, kwargs: bool) -> bytes:
    """An EVENT with a transparent payload and, if asked, CBOR arguments as well."""
    builder = flatbuffers.Builder(64)
    fields = {}
    if args:
        fields[3] = builder.CreateByteVector(b"\x81\x01")  # CBOR [1]
    if kwargs:
        fields[4] = builder.CreateByteVector(b"\xa1\x61a\x01")  # CBOR {"a": 1}
    fields[5] = builder.CreateByteVector(b"\x01\x02")
    return event_frame(builder, fields)


@pytest.mark.parametrize(("args", "kwargs"), [(True, False), (False, True), (True, True)])
def test_flatbuffers_payload_and_arguments_are_exclusive(args: bool, kwargs: bool) -> None:
    """(Mutant F5: the check ignores args; F6: it ignores kwargs; F7: the check is dropped)
    An EVENT carrying both a transparent payload and arguments is rejected: a subscriber must
    not receive arguments next to an (encrypted) payload the router could not see into."""
    assert FB.decode(_event_with_payload(False, False)) == Event(
        subscription_id=1, publication_id=2, details={}, payload=b"\x01\x02"
    )
    with pytest.raises(SerializationError) as info:
        FB.decode(_event_with_payload(args, kwargs))
    assert str(info.value) == "both a transparent payload and arguments are set"


def _empty_body(union_type: int, fields: int) -> bytes:
    builder = flatbuffers.Builder(64)
    builder.StartObject(fields)
    body = builder.EndObject()
    builder.StartObject(2)
    builder.PrependUint8Slot(0, union_type, 0)
    builder.PrependUOffsetTRelativeSlot(1, body, 0)
    builder.Finish(builder.EndObject())
    return bytes(builder.Output())


def test_flatbuffers_authenticate_without_signature_is_empty() -> None:
    """(Mutant F9: an absent signature is no longer read as "") Autobahn omits an empty
    AUTHENTICATE signature (the string's default); it decodes as ``""``. The mutant
    leaves it None and the message parser rejects the AUTHENTICATE."""
    assert FB.decode(_empty_body(5, 3)) == Authenticate(signature="", extra={})


def test_flatbuffers_challenge_without_method_is_reported_as_missing() -> None:
    """(Mutant F8: absent enum fields default to 0 like numbers) A CHALLENGE without its
    AuthMethod is rejected as None (absent); the mutant fills in 0 and the error reads "got 0"."""
    with pytest.raises(RemoteProtocolError) as info:
        FB.decode(_empty_body(4, 3))
    assert str(info.value) == "CHALLENGE.AuthMethod must be a non-empty string, got None"


def test_flatbuffers_bool_is_true_for_any_nonzero_octet() -> None:
    """(Mutant F13: a bool reads True only for octet 1) FlatBuffers, like C, reads any nonzero
    bool octet as true: a GOODBYE whose ``resumable`` octet is 2 decodes as resumable. The
    mutant reads it as False."""
    data = FB.encode(Goodbye(details={"resumable": True}, reason="wamp.close.normal"))
    root = struct.unpack_from("<I", data, 0)[0]
    root_vtable = root - struct.unpack_from("<i", data, root)[0]
    body_field = root + struct.unpack_from("<H", data, root_vtable + 6)[0]
    body = body_field + struct.unpack_from("<I", data, body_field)[0]
    vtable = body - struct.unpack_from("<i", data, body)[0]
    resumable = body + struct.unpack_from("<H", data, vtable + 4 + 2 * 3)[0]  # slot 3
    assert data[resumable] == 1
    buf = bytearray(data)
    buf[resumable] = 2
    assert FB.decode(bytes(buf)) == Goodbye(details={"resumable": True}, reason="wamp.close.normal")


def test_flatbuffers_map_without_key_is_rejected() -> None:
    """(Mutant F16: the missing-key check of a ``Map`` table is dropped) An AUTHENTICATE whose
    ``extra`` Map has a value but no key is rejected as such; the mutant builds ``{None: ...}``
    and fails later in the message parser with another error."""
    builder = flatbuffers.Builder(64)
    signature = builder.CreateString("sig")
    value = builder.CreateString("v")
    builder.StartObject(2)
    builder.PrependUOffsetTRelativeSlot(1, value, 0)
    extra = builder.EndObject()
    builder.StartObject(3)
    builder.PrependUOffsetTRelativeSlot(1, signature, 0)
    builder.PrependUOffsetTRelativeSlot(2, extra, 0)
    body = builder.EndObject()
    builder.StartObject(2)
    builder.PrependUint8Slot(0, 5, 0)
    builder.PrependUOffsetTRelativeSlot(1, body, 0)
    builder.Finish(builder.EndObject())
    with pytest.raises(SerializationError) as info:
        FB.decode(bytes(builder.Output()))
    assert str(info.value) == "FlatBuffers Map without a key"


def test_flatbuffers_negative_unsigned_field_is_named() -> None:
    """(Mutant F17: the range check of unsigned fields drops ``0 <=``) A HELLO whose
    ``resume_session`` (a key the message validator does not type-check) is -1 cannot be
    encoded, and the error names the field; the mutant hands -1 to the FlatBuffers builder and
    reports its struct.error instead."""
    hello = Hello(realm="r", details={"roles": {"caller": {}}, "resume_session": -1})
    with pytest.raises(EncodingError) as info:
        FB.encode(hello)
    assert str(info.value) == "FlatBuffers cannot represent resume_session=-1"


@pytest.mark.parametrize("name", ["json.batched", "flatbuffers", "flexbuffers"])
def test_flatbuffers_payload_serializer_must_be_a_plain_codec(name: str) -> None:
    """(Mutant F21: the payload serializer is not checked against PAYLOAD_SERIALIZERS)
    Only cbor, msgpack, json and ubjson can serialize the envelope's arguments (what Autobahn
    reads): ``json.batched`` would append a batch separator to every argument blob, and
    ``flatbuffers`` is no payload format Autobahn knows. The mutant accepts both (and reports
    ``flexbuffers`` as an unknown serializer of the registry, not as unsupported here)."""

    with pytest.raises(
        ConfigurationError, match=f"unsupported FlatBuffers payload serializer '{name}'"
    ):
        FlatBuffersSerializer(payload_serializer=name)


@pytest.mark.parametrize("kind", [bytearray, memoryview])
def test_flatbuffers_decodes_any_bytes_like_input(kind: Any) -> None:
    """(Mutant F23: decode reads a bytearray or memoryview as is instead of as bytes) A frame
    handed over as a memoryview or bytearray (as a transport's receive buffer may be) decodes
    to the same message, with a ``bytes`` payload; the mutant fails on a memoryview's strings
    and returns a bytearray payload from a bytearray."""
    event = Event(
        subscription_id=1, publication_id=2, details={"topic": "a.b"}, payload=b"\x01\x02"
    )
    decoded = FB.decode(kind(FB.encode(event)))
    assert decoded == event
    assert isinstance(decoded, Event) and type(decoded.payload) is bytes
