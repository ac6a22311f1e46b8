"""Immutable records for the values the session engine creates per message.

Events and details are built for every CALL result, INVOCATION and EVENT, so they are tuples
underneath (as messages are): construction is one C call (``new(Cls, (...))`` in the engine),
fields are read through C accessors, and nothing can be assigned. Public construction by
keyword still works through each class's ``__new__``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from .._messages._base import field as field, new as new

__all__ = ["Record", "field", "new"]


def _rebuild(cls: type[Record], items: tuple[Any, ...]) -> Record:
    return new(cls, items)


class Record(tuple[Any, ...]):
    """Base of the tuple-backed records: type-aware equality, a dataclass-like repr."""

    __slots__ = ()
    #: Field names, in tuple order.
    _fields: ClassVar[tuple[str, ...]] = ()

    def __repr__(self) -> str:
        parts = ", ".join(
            f"{name}={value!r}" for name, value in zip(self._fields, self, strict=True)
        )
        return f"{type(self).__name__}({parts})"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and tuple.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return hash((type(self), tuple(self)))

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), tuple(self)))
