"""A pure-Python codec for classic UBJSON (draft 12) and BJData (draft 4, little-endian).

Both dialects share their markers and structure; they differ in:

* byte order: classic UBJSON numbers are big-endian, BJData numbers little-endian;
* BJData-only markers ``u`` (uint16), ``m`` (uint32), ``M`` (uint64), ``h`` (float16) and ``B``
  (byte; ``[$B#`` is a byte array);
* what the reference encoders emit (mirrored here): py-ubjson writes the smallest *signed* type
  (``U`` for 0-255) and byte strings as ``[$U#``; bjdata writes the smallest *unsigned* type for
  non-negative integers and byte strings as ``[$B#``.

Encoding: ``None`` -> ``Z``; booleans -> ``T``/``F``; integers -> the smallest integer type, or
``H`` (decimal digits) beyond int64 (classic) or beyond int64/uint64 (BJData); ``0.0``/``-0.0``
-> ``d`` (float32), other finite floats -> ``D``; NaN and infinities -> ``Z`` in classic UBJSON
(as the spec and py-ubjson do) and ``D`` in BJData (as bjdata does); a string of one UTF-8 byte
-> ``C``, other strings -> ``S``; ``bytes``/``bytearray``/``memoryview`` -> ``[$U#`` (classic) or
``[$B#`` (BJData); lists and tuples -> ``[...]``; mappings with string keys -> ``{...}``. Floats
below 2.23e-308 are written as ``D`` (the reference encoders switch to ``H`` for them).

Decoding accepts every marker of the dialect, no-ops (``N``), optimized containers (``$`` type,
``#`` count) and ``H`` (an integer literal gives ``int``, another number ``float``). Typed arrays
of ``U`` (both dialects) and of ``B`` (BJData) decode to ``bytes``. BJData N-dimensional arrays
(``#[dims]``, what bjdata writes for numpy arrays) decode to nested lists, or to ``bytes`` when
one-dimensional of ``U``/``B``: Crossbar 26 turns a classic peer's ``[$U#`` bytes into a numpy
array and relays it as ``[$U#[n]``. Structure-of-arrays containers are rejected. Nesting is
limited to :data:`MAX_DEPTH` containers; typed arrays of ``Z``/``T``/``F`` (no data per element)
may expand to a bounded number of elements per frame byte. Malformed input raises
:class:`SerializationError`, nothing else.
"""

from __future__ import annotations

import math
import re
import struct
from collections.abc import Callable, Mapping
from typing import Any

from .._errors import EncodingError, SerializationError

__all__ = ["MAX_DEPTH", "encode", "decode", "decode_detect"]

#: Maximum container nesting accepted by the decoder (and produced by the encoder) in a whole
#: message: CBOR's (cbor2's, so ours and Crossbar.io's), so that arguments as deep as
#: ``wamp_core.MAX_NESTING`` allows, from a peer on any serializer, reach a ubjson peer too.
MAX_DEPTH = 400

# Marker bytes as integers (indexing ``bytes`` yields ``int``).
_Z, _N, _T, _F = b"ZNTF"
_B, _i, _U, _I, _u, _l, _m, _L, _M = b"BiUIulmLM"
_h, _d, _D, _H, _C, _S = b"hdDHCS"
_ARR, _ARR_END, _OBJ, _OBJ_END = b"[]{}"
_TYPE, _COUNT = b"$#"
_NO_DATA = frozenset((_Z, _T, _F))
_BYTE_ARRAYS = frozenset((_U, _B))
_HEADER = frozenset((_TYPE, _COUNT))

_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_INTEGER = re.compile(r"-?[0-9]+")

# Zero-width elements (typed arrays of Z/T/F) a frame may expand to: base + factor * its size.
_EMPTY_BUDGET_BASE = 1024
_EMPTY_BUDGET_FACTOR = 32
# Most dimensions of a BJData N-dimensional array (numpy's limit).
_MAX_DIMENSIONS = 64

_U8 = [b"U" + bytes((n,)) for n in range(256)]
_I8 = [b"i" + struct.pack("b", n) for n in range(-128, 0)]  # index n + 128


def _reshape(flat: list[Any], shape: list[int]) -> list[Any]:
    """Nest a flat row-major list into lists of the given dimensions."""
    if len(shape) == 1:
        return flat
    inner = shape[1:]
    step = math.prod(inner)
    return [_reshape(flat[i * step : (i + 1) * step], inner) for i in range(shape[0])]


class _DecodeError(SerializationError):
    """A decoding failure that knows how far the decoder got (to pick the better report)."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.position = position


class _Dialect:
    """Everything that differs between the two dialects, precomputed."""

    __slots__ = (
        "bjdata",
        "bytes_prefix",
        "fixed",
        "length_markers",
        "name",
        "pack_H",
        "pack_I",
        "pack_Q",
        "pack_d",
        "pack_f",
        "pack_h",
        "pack_i",
        "pack_q",
        "typed_markers",
    )

    def __init__(self, bjdata: bool) -> None:
        e = "<" if bjdata else ">"
        self.name = "BJData" if bjdata else "UBJSON"
        self.bjdata = bjdata
        # marker -> (struct, width) for fixed-width numbers (and C, decoded specially).
        fixed: dict[int, tuple[str, int]] = {
            _i: ("b", 1),
            _U: ("B", 1),
            _I: ("h", 2),
            _l: ("i", 4),
            _L: ("q", 8),
            _d: ("f", 4),
            _D: ("d", 8),
        }
        if bjdata:
            fixed.update({_B: ("B", 1), _u: ("H", 2), _m: ("I", 4), _M: ("Q", 8), _h: ("e", 2)})
        self.fixed: dict[int, tuple[str, int, Callable[[bytes, int], tuple[Any, ...]]]] = {
            marker: (e + code, width, struct.Struct(e + code).unpack_from)
            for marker, (code, width) in fixed.items()
        }
        ints = {_i, _U, _I, _l, _L}
        if bjdata:
            ints |= {_B, _u, _m, _M}
        self.length_markers = frozenset(ints)
        typed = set(self.fixed) | {_Z, _T, _F, _H, _C, _S}
        if not bjdata:
            # Classic UBJSON allows containers as the element type; in BJData ``${`` starts a
            # structure-of-arrays schema instead (unsupported) and ``$[`` is not allowed.
            typed |= {_ARR, _OBJ}
        self.typed_markers = frozenset(typed)
        self.pack_h = struct.Struct(e + "h").pack
        self.pack_H = struct.Struct(e + "H").pack
        self.pack_i = struct.Struct(e + "i").pack
        self.pack_I = struct.Struct(e + "I").pack
        self.pack_q = struct.Struct(e + "q").pack
        self.pack_Q = struct.Struct(e + "Q").pack
        self.pack_f = struct.Struct(e + "f").pack
        self.pack_d = struct.Struct(e + "d").pack
        self.bytes_prefix = b"[$B#" if bjdata else b"[$U#"


_CLASSIC = _Dialect(False)
_BJDATA = _Dialect(True)


# --------------------------------------------------------------------------------------------
# Encoding


def _encode_int(d: _Dialect, v: int) -> bytes:
    if 0 <= v < 256:
        return _U8[v]
    if -128 <= v < 0:
        return _I8[v + 128]
    if d.bjdata and v > 0:
        if v < 0x10000:
            return b"u" + d.pack_H(v)
        if v < 0x100000000:
            return b"m" + d.pack_I(v)
        if v < 0x10000000000000000:
            return b"M" + d.pack_Q(v)
    else:
        if -0x8000 <= v < 0x8000:
            return b"I" + d.pack_h(v)
        if -0x80000000 <= v < 0x80000000:
            return b"l" + d.pack_i(v)
        if -0x8000000000000000 <= v < 0x8000000000000000:
            return b"L" + d.pack_q(v)
    try:
        digits = str(v).encode("ascii")
    except ValueError:  # more digits than int -> str conversion allows
        raise EncodingError("integer too large to encode") from None
    return b"H" + _encode_int(d, len(digits)) + digits


def _encode_float(d: _Dialect, v: float) -> bytes:
    if v == 0.0:
        return b"d" + d.pack_f(v)  # keeps the sign of -0.0
    if math.isfinite(v) or d.bjdata:
        return b"D" + d.pack_d(v)
    return b"Z"  # classic UBJSON: NaN and infinities are encoded as null


def _encode_str(d: _Dialect, v: str, out: list[bytes]) -> None:
    try:
        raw = v.encode("utf-8")
    except UnicodeEncodeError:
        raise EncodingError("string is not encodable as UTF-8") from None
    if len(raw) == 1:
        out.append(b"C")
    else:
        out.append(b"S")
        out.append(_encode_int(d, len(raw)))
    out.append(raw)


def _encode_value(d: _Dialect, v: Any, out: list[bytes], depth: int) -> None:
    t = type(v)
    if t is str:
        _encode_str(d, v, out)
    elif t is int:
        out.append(_encode_int(d, v))
    elif t is list or t is tuple:
        _encode_array(d, v, out, depth)
    elif t is dict:
        _encode_object(d, v, out, depth)
    elif v is None:
        out.append(b"Z")
    elif v is True:
        out.append(b"T")
    elif v is False:
        out.append(b"F")
    elif t is float:
        out.append(_encode_float(d, v))
    elif t is bytes or t is bytearray or t is memoryview:
        raw = bytes(v)
        out.append(d.bytes_prefix)
        out.append(_encode_int(d, len(raw)))
        out.append(raw)
    # Subclasses (IntEnum, str enums, OrderedDict, ...), after the exact types for speed.
    elif isinstance(v, str):
        _encode_str(d, str(v), out)
    elif isinstance(v, int):
        out.append(_encode_int(d, int(v)))
    elif isinstance(v, float):
        out.append(_encode_float(d, float(v)))
    elif isinstance(v, (bytes, bytearray)):
        _encode_value(d, bytes(v), out, depth)
    elif isinstance(v, Mapping):
        _encode_object(d, v, out, depth)
    elif isinstance(v, (list, tuple)):
        _encode_array(d, v, out, depth)
    else:
        raise EncodingError(f"cannot encode a value of type {t.__name__} as {d.name}")


def _encode_array(d: _Dialect, v: Any, out: list[bytes], depth: int) -> None:
    if depth >= MAX_DEPTH:
        raise EncodingError(f"value nested deeper than {MAX_DEPTH} containers")
    out.append(b"[")
    for item in v:
        _encode_value(d, item, out, depth + 1)
    out.append(b"]")


def _encode_object(d: _Dialect, v: Mapping[Any, Any], out: list[bytes], depth: int) -> None:
    if depth >= MAX_DEPTH:
        raise EncodingError(f"value nested deeper than {MAX_DEPTH} containers")
    out.append(b"{")
    for key, item in v.items():
        if not isinstance(key, str):
            raise EncodingError(f"mapping keys must be strings, got {type(key).__name__}")
        try:
            raw = key.encode("utf-8")
        except UnicodeEncodeError:
            raise EncodingError("mapping key is not encodable as UTF-8") from None
        out.append(_encode_int(d, len(raw)))
        out.append(raw)
        _encode_value(d, item, out, depth + 1)
    out.append(b"}")


def encode(value: Any, *, bjdata: bool = False) -> bytes:
    """Encode ``value`` as classic UBJSON (default) or BJData; raise EncodingError."""
    out: list[bytes] = []
    try:
        _encode_value(_BJDATA if bjdata else _CLASSIC, value, out, 0)
    except RecursionError:
        raise EncodingError("value nested too deeply to encode") from None
    return b"".join(out)


# --------------------------------------------------------------------------------------------
# Decoding


class _Decoder:
    """Decodes one frame in one dialect. Truncation surfaces as IndexError/struct.error."""

    __slots__ = ("budget", "d", "data", "depth", "end", "pos")

    def __init__(self, d: _Dialect, data: bytes) -> None:
        self.d = d
        self.data = data
        self.pos = 0
        self.end = len(data)
        self.depth = 0
        self.budget = _EMPTY_BUDGET_BASE + _EMPTY_BUDGET_FACTOR * len(data)

    def fail(self, what: str) -> _DecodeError:
        return _DecodeError(f"invalid {self.d.name} data at byte {self.pos}: {what}", self.pos)

    def next_marker(self) -> int:
        """The next marker, skipping no-ops."""
        data = self.data
        pos = self.pos
        m = data[pos]
        while m == _N:
            pos += 1
            m = data[pos]
        self.pos = pos + 1
        return m

    def take(self, n: int) -> bytes:
        pos = self.pos
        if n > self.end - pos:
            raise self.fail(f"{n} bytes announced, {self.end - pos} left")
        self.pos = pos + n
        return self.data[pos : pos + n]

    def length(self, m: int) -> int:
        """A length or count introduced by marker ``m``."""
        if m not in self.d.length_markers:
            raise self.fail(f"expected an integer length, got marker {bytes((m,))!r}")
        _, width, unpack = self.d.fixed[m]
        n: int = unpack(self.data, self.pos)[0]
        self.pos += width
        if n < 0:
            raise self.fail("negative length")
        return n

    def text(self, n: int) -> str:
        raw = self.take(n)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise self.fail("string is not valid UTF-8") from None

    def short_text(self) -> str:
        """The text of a string whose length marker is ``U`` (the common case), at ``pos``."""
        data = self.data
        start = self.pos + 1
        stop = start + data[start - 1]
        if stop > self.end:
            raise self.fail("string runs past the end of the data")
        self.pos = stop
        try:
            return data[start:stop].decode("utf-8")
        except UnicodeDecodeError:
            raise self.fail("string is not valid UTF-8") from None

    def value(self, m: int) -> Any:
        """The value introduced by marker ``m`` (already consumed)."""
        data = self.data
        if m == _S:
            m = data[self.pos]
            self.pos += 1
            if m == _U:
                return self.short_text()
            return self.text(self.length(m))
        if m == _U:
            v = data[self.pos]
            self.pos += 1
            return v
        if m == _ARR:
            return self.array()
        if m == _OBJ:
            return self.obj()
        fixed = self.d.fixed.get(m)
        if fixed is not None:
            v = fixed[2](data, self.pos)[0]
            self.pos += fixed[1]
            return v
        if m == _Z:
            return None
        if m == _T:
            return True
        if m == _F:
            return False
        if m == _C:
            c = data[self.pos]
            if c >= 0x80:
                raise self.fail("char (C) value is not ASCII")
            self.pos += 1
            return chr(c)
        if m == _H:
            return self.high_precision()
        self.pos -= 1
        raise self.fail(f"unexpected marker {bytes((m,))!r}")

    def marker(self) -> int:
        m = self.data[self.pos]
        self.pos += 1
        return m

    def high_precision(self) -> int | float:
        raw = self.take(self.length(self.marker()))
        try:
            s = raw.decode("ascii")
        except UnicodeDecodeError:
            raise self.fail("high-precision number is not ASCII") from None
        if _INTEGER.fullmatch(s):
            try:
                return int(s)
            except ValueError:  # exceeds the int <-> str digit limit
                raise self.fail("high-precision integer too long") from None
        if _NUMBER.fullmatch(s):
            return float(s)
        raise self.fail("malformed high-precision number")

    def header(self) -> tuple[int, int, list[int] | None]:
        """Optional ``$type`` and ``#count`` of a container.

        Returns (type or -1, count or -1, shape): ``shape`` is the dimension list of a BJData
        N-dimensional count (``#[...]``, then ``count`` is their product), else ``None``.
        """
        data = self.data
        m = data[self.pos]
        if m == _TYPE:
            t = data[self.pos + 1]
            if t not in self.d.typed_markers:
                self.pos += 1
                raise self.fail(f"unsupported container element type {bytes((t,))!r}")
            if data[self.pos + 2] != _COUNT:
                self.pos += 2
                raise self.fail("typed container without a count")
            self.pos += 4
        elif m == _COUNT:
            t = -1
            self.pos += 2
        else:
            return -1, -1, None
        m = data[self.pos - 1]
        if m == _ARR and self.d.bjdata:
            shape = self.shape()
            return t, math.prod(shape), shape
        return t, self.length(m), None

    def shape(self) -> list[int]:
        """The dimensions of a BJData N-dimensional array (after ``#[``)."""
        dims = self.array()
        if isinstance(dims, bytes):
            dims = list(dims)
        if (
            not dims
            or len(dims) > _MAX_DIMENSIONS
            or not all(type(n) is int and n >= 0 for n in dims)
        ):
            raise self.fail("invalid N-dimensional array dimensions")
        # Charge the nested lists that reshaping will build.
        for k in range(1, len(dims)):
            self.spend(math.prod(dims[:k]))
        return dims  # type: ignore[no-any-return]

    def spend(self, count: int) -> None:
        self.budget -= count
        if self.budget < 0:
            raise self.fail("too many elements without data")

    def typed_values(self, t: int, count: int) -> list[Any]:
        """``count`` values of fixed type ``t`` (of a typed container)."""
        if t in _NO_DATA:
            self.spend(count)
            return [None if t == _Z else t == _T] * count
        fixed = self.d.fixed.get(t)
        if fixed is not None:
            fmt, width, _ = fixed
            raw = self.take(count * width)
            return list(struct.unpack(f"{fmt[0]}{count}{fmt[1]}", raw))
        if t == _C:
            raw = self.take(count)
            if not raw.isascii():
                raise self.fail("char (C) value is not ASCII")
            return list(raw.decode("ascii"))
        # S, H, [ or {: every element takes at least one byte.
        if count > self.end - self.pos:
            raise self.fail(f"{count} elements announced, {self.end - self.pos} bytes left")
        value = self.value
        items: list[Any] = []  # (a loop, not a comprehension: one frame less per level)
        for _ in range(count):
            items.append(value(t))
        return items

    def array(self) -> Any:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(f"nested deeper than {MAX_DEPTH} containers")
        data = self.data
        value = self.value
        if data[self.pos] not in _HEADER:
            result: Any = []
            append = result.append
            while True:
                m = data[self.pos]
                self.pos += 1
                if m == _ARR_END:
                    break
                if m != _N:
                    append(value(m))
        else:
            t, count, shape = self.header()
            if t < 0:
                if count > self.end - self.pos:
                    raise self.fail(f"{count} elements announced, {self.end - self.pos} bytes left")
                next_marker = self.next_marker
                result = []  # (a loop, not a comprehension: one frame less per level)
                for _ in range(count):
                    result.append(value(next_marker()))
            elif t in _BYTE_ARRAYS:
                result = self.take(count)
            else:
                result = self.typed_values(t, count)
            if shape is not None and len(shape) > 1:
                result = _reshape(list(result), shape)
        self.depth -= 1
        return result

    def key(self) -> str:
        m = self.next_marker()
        if m == _U:
            return self.short_text()
        return self.text(self.length(m))

    def obj(self) -> dict[str, Any]:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(f"nested deeper than {MAX_DEPTH} containers")
        data = self.data
        value = self.value
        result: dict[str, Any] = {}
        if data[self.pos] not in _HEADER:
            short_text = self.short_text
            while True:
                m = data[self.pos]
                self.pos += 1
                if m == _U:
                    k = short_text()
                elif m == _OBJ_END:
                    break
                elif m == _N:
                    continue
                else:
                    k = self.text(self.length(m))
                m = data[self.pos]
                self.pos += 1
                while m == _N:
                    m = data[self.pos]
                    self.pos += 1
                result[k] = value(m)
        else:
            t, count, shape = self.header()
            if shape is not None:
                raise self.fail("an object cannot have N-dimensional counts")
            # Every entry takes at least one byte (its key's length marker).
            if count > self.end - self.pos:
                raise self.fail(f"{count} entries announced, {self.end - self.pos} bytes left")
            key = self.key
            if t < 0:
                next_marker = self.next_marker
                for _ in range(count):
                    k = key()
                    result[k] = value(next_marker())
            elif t in _NO_DATA:
                constant = None if t == _Z else t == _T
                for _ in range(count):
                    result[key()] = constant
            else:
                for _ in range(count):
                    k = key()
                    result[k] = value(t)
        self.depth -= 1
        return result

    def run(self) -> Any:
        if not self.end:
            raise self.fail("empty frame")
        v = self.value(self.next_marker())
        if self.pos != self.end:
            raise self.fail("trailing bytes after the value")
        return v


def decode(data: bytes | bytearray | memoryview, *, bjdata: bool = False) -> Any:
    """Decode exactly one value in the given dialect; raise SerializationError otherwise."""
    if not isinstance(data, bytes):
        if not isinstance(data, (bytearray, memoryview)):
            raise SerializationError(f"expected bytes, got {type(data).__name__}")
        data = bytes(data)
    decoder = _Decoder(_BJDATA if bjdata else _CLASSIC, data)
    try:
        return decoder.run()
    except SerializationError:
        raise
    except (IndexError, struct.error):
        raise _DecodeError(
            f"truncated {decoder.d.name} data ({len(data)} bytes)", len(data)
        ) from None
    except RecursionError:
        raise decoder.fail("nested too deeply") from None
    except Exception as exc:  # pragma: no cover - defensive: a decoder bug must not leak
        raise decoder.fail(f"{type(exc).__name__}: {exc}") from exc


def decode_detect(
    data: bytes | bytearray | memoryview, *, bjdata: bool = False
) -> tuple[Any, bool]:
    """Decode one value of either dialect: ``(value, is_bjdata)``.

    The frame is decoded in the preferred dialect (``bjdata``) first; only if that fails it is
    decoded in the other one. So a frame with a BJData-only marker (``u m M h B``) or a length
    that only parses little-endian is BJData; a frame valid in both dialects (same markers,
    multi-byte numbers readable either way) is taken in the preferred dialect. If both fail,
    the error of the dialect that got further is raised.
    """
    try:
        return decode(data, bjdata=bjdata), bjdata
    except SerializationError as first:
        try:
            return decode(data, bjdata=not bjdata), not bjdata
        except SerializationError as second:
            if getattr(second, "position", -1) > getattr(first, "position", -1):
                raise second from None
            raise first from None
