"""A bounds-checked FlatBuffers table reader (a small verifier).

The ``flatbuffers`` runtime's ``Table`` trusts its input: on a hostile buffer it reads out of
bounds, wraps negative offsets around, or raises ``struct.error``/``IndexError``. This reader
checks every offset against the buffer before reading and raises :class:`SerializationError`
instead. It also charges every string, byte vector and vector element against a budget
proportional to the buffer size, so a buffer whose offsets alias the same data many times
cannot make decoding cost more than linear work.
"""

from __future__ import annotations

import struct

from .._errors import SerializationError

__all__ = ["FbsBuffer", "FbsTable"]

_U8 = struct.Struct("<B")
_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_I32 = struct.Struct("<i")
_U64 = struct.Struct("<Q")

_WIDTH = {1: _U8, 2: _U16, 4: _U32, 8: _U64}


def _bad(what: str) -> SerializationError:
    return SerializationError(f"invalid FlatBuffers data: {what}")


class FbsBuffer:
    """A finished FlatBuffers buffer, with a work budget for decoding it."""

    __slots__ = ("budget", "data", "size")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.size = len(data)
        # Generous for legitimately shared data, linear in the input size.
        self.budget = 4 * self.size + 4096

    def charge(self, amount: int) -> None:
        self.budget -= amount
        if self.budget < 0:
            raise _bad("offsets reference the same data too often")

    def scalar(self, pos: int, width: int) -> int:
        if pos < 0 or pos + width > self.size:
            raise _bad(f"read of {width} bytes at {pos} is outside the buffer")
        value: int = _WIDTH[width].unpack_from(self.data, pos)[0]
        return value

    def soffset(self, pos: int) -> int:
        self.scalar(pos, 4)
        value: int = _I32.unpack_from(self.data, pos)[0]
        return value

    def root(self) -> FbsTable:
        """The root table (the buffer starts with a ``uoffset`` to it)."""
        if self.size < 12:
            raise _bad(f"buffer too short ({self.size} bytes)")
        return FbsTable(self, self.scalar(0, 4))

    def deref(self, pos: int) -> int:
        """Follow the ``uoffset`` stored at ``pos``; return the absolute target position."""
        target = pos + self.scalar(pos, 4)
        if target + 4 > self.size:
            raise _bad(f"offset at {pos} points outside the buffer")
        return target

    def vector(self, pos: int, width: int) -> tuple[int, int]:
        """``(start, length)`` of the vector at ``pos`` (elements ``width`` bytes wide)."""
        length = self.scalar(pos, 4)
        start = pos + 4
        if start + length * width > self.size:
            raise _bad(f"vector at {pos} ({length} elements) runs past the buffer end")
        self.charge(length * width + 1)
        return start, length

    def blob(self, pos: int) -> bytes:
        start, length = self.vector(pos, 1)
        return self.data[start : start + length]

    def string(self, pos: int) -> str:
        start, length = self.vector(pos, 1)
        end = start + length
        if end >= self.size or self.data[end] != 0:
            raise _bad(f"string at {pos} is not NUL-terminated")
        try:
            return self.data[start:end].decode("utf-8")
        except UnicodeDecodeError:
            raise _bad(f"string at {pos} is not valid UTF-8") from None


class FbsTable:
    """One verified table: ``pos`` is its start, the vtable is checked on construction."""

    __slots__ = ("buf", "object_size", "pos", "vtable", "vtable_size")

    def __init__(self, buf: FbsBuffer, pos: int) -> None:
        self.buf = buf
        self.pos = pos
        vtable = pos - buf.soffset(pos)
        if vtable < 0 or vtable + 4 > buf.size:
            raise _bad(f"vtable of table at {pos} is outside the buffer")
        self.vtable = vtable
        self.vtable_size = buf.scalar(vtable, 2)
        self.object_size = buf.scalar(vtable + 2, 2)
        if self.vtable_size < 4 or self.vtable_size % 2 or vtable + self.vtable_size > buf.size:
            raise _bad(f"vtable at {vtable} has an invalid size")
        if self.object_size < 4 or pos + self.object_size > buf.size:
            raise _bad(f"table at {pos} has an invalid size")
        buf.charge(8)

    def field(self, slot: int, width: int) -> int:
        """Absolute position of field ``slot`` (``width`` bytes), 0 when absent."""
        voffset = 4 + 2 * slot
        if voffset + 2 > self.vtable_size:
            return 0
        offset = self.buf.scalar(self.vtable + voffset, 2)
        if offset == 0:
            return 0
        if offset < 4 or offset + width > self.object_size:
            raise _bad(f"field {slot} of table at {self.pos} lies outside the table")
        return self.pos + offset

    def scalar(self, slot: int, width: int) -> int | None:
        """An unsigned scalar field, ``None`` when absent."""
        pos = self.field(slot, width)
        return None if pos == 0 else self.buf.scalar(pos, width)

    def _target(self, slot: int) -> int:
        pos = self.field(slot, 4)
        return 0 if pos == 0 else self.buf.deref(pos)

    def string(self, slot: int) -> str | None:
        target = self._target(slot)
        return None if target == 0 else self.buf.string(target)

    def blob(self, slot: int) -> bytes | None:
        target = self._target(slot)
        return None if target == 0 else self.buf.blob(target)

    def table(self, slot: int) -> FbsTable | None:
        target = self._target(slot)
        return None if target == 0 else FbsTable(self.buf, target)

    def scalars(self, slot: int, width: int) -> list[int] | None:
        """A vector of unsigned scalars."""
        target = self._target(slot)
        if target == 0:
            return None
        start, length = self.buf.vector(target, width)
        unpack = _WIDTH[width].unpack_from
        data = self.buf.data
        return [unpack(data, start + i * width)[0] for i in range(length)]

    def _offsets(self, slot: int) -> list[int] | None:
        target = self._target(slot)
        if target == 0:
            return None
        start, length = self.buf.vector(target, 4)
        return [self.buf.deref(start + 4 * i) for i in range(length)]

    def strings(self, slot: int) -> list[str] | None:
        offsets = self._offsets(slot)
        return None if offsets is None else [self.buf.string(o) for o in offsets]

    def tables(self, slot: int) -> list[FbsTable] | None:
        offsets = self._offsets(slot)
        return None if offsets is None else [FbsTable(self.buf, o) for o in offsets]
