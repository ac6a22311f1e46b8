"""Subscriptions or registrations by URI, found without walking all of them.

A publication or call must cost the same however many unrelated subscriptions and
registrations the realm holds (one client with 10,000 exact topics made every publication
walk them, and its own subscribing quadratic). Exact URIs are one dict lookup; prefixes one
lookup per distinct prefix length in use; wildcards are found by walking a tree of their
components (each level: the URI's component, and an empty one), as Crossbar.io does.
"""

from __future__ import annotations

from collections.abc import ItemsView, Iterator, ValuesView
from typing import Generic, TypeVar

__all__ = ["UriIndex", "specificity"]

T = TypeVar("T")


class _Node(Generic[T]):
    """One level of the wildcard tree: children by component ("" for any), and the patterns
    that end here."""

    __slots__ = ("children", "ends")

    def __init__(self) -> None:
        self.children: dict[str, _Node[T]] = {}
        self.ends: dict[str, T] = {}


def specificity(match: str, pattern: str) -> tuple[int, int, tuple[int, ...]]:
    """Sort key of a matching registration, most specific first (the spec's precedence:
    exact, then the longest prefix, then the wildcard whose first portion of literal
    components is longest, then its second portion, and so on: ``a1.b2..d4.e5..g7`` before
    ``a1.b2..d4..f6.g7``)."""
    if match == "exact":
        return (0, 0, ())
    if match == "prefix":
        return (1, -len(pattern), ())
    runs = [0]
    for part in pattern.split("."):
        if part:
            runs[-1] -= 1
        else:
            runs.append(0)
    return (2, 0, tuple(runs))


class UriIndex(Generic[T]):
    """Entries by ``(match, uri)`` (iterated in the order they were added), and which of
    them match a concrete URI."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], T] = {}
        self._prefixes: dict[str, T] = {}
        #: Prefix length -> how many prefixes of that length there are; the lengths, longest
        #: first.
        self._lengths: dict[int, int] = {}
        self._longest_first: tuple[int, ...] = ()
        #: Wildcard patterns, by component.
        self._wildcards: _Node[T] = _Node()

    def get(self, key: tuple[str, str]) -> T | None:
        return self._entries.get(key)

    def items(self) -> ItemsView[tuple[str, str], T]:
        return self._entries.items()

    def values(self) -> ValuesView[T]:
        return self._entries.values()

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._entries)

    def add(self, match: str, uri: str, entry: T) -> None:
        self._entries[match, uri] = entry
        if match == "prefix":
            self._prefixes[uri] = entry
            self._lengths[len(uri)] = self._lengths.get(len(uri), 0) + 1
            self._longest_first = tuple(sorted(self._lengths, reverse=True))
        elif match == "wildcard":
            node = self._wildcards
            for part in uri.split("."):
                node = node.children.setdefault(part, _Node())
            node.ends[uri] = entry

    def remove(self, match: str, uri: str) -> None:
        del self._entries[match, uri]
        if match == "prefix":
            del self._prefixes[uri]
            left = self._lengths.pop(len(uri)) - 1
            if left:
                self._lengths[len(uri)] = left
            self._longest_first = tuple(sorted(self._lengths, reverse=True))
        elif match == "wildcard":
            parts = uri.split(".")
            path = [self._wildcards]
            for part in parts:
                path.append(path[-1].children[part])
            del path[-1].ends[uri]
            for depth in range(len(parts), 0, -1):  # (the branch left empty: pruned)
                node = path[depth]
                if node.ends or node.children:
                    break
                del path[depth - 1].children[parts[depth - 1]]

    def matching(self, uri: str) -> list[T]:
        """Every entry matching ``uri``: the exact one, the prefixes from the shortest, then
        the wildcards (the order Crossbar.io delivers and lists them in)."""
        exact = self._entries.get(("exact", uri))
        if not self._longest_first and not self._wildcards.children:  # (the common realm)
            return [] if exact is None else [exact]
        found = [] if exact is None else [exact]
        for length in reversed(self._longest_first):
            if length <= len(uri):
                entry = self._prefixes.get(uri[:length])
                if entry is not None:
                    found.append(entry)
        if self._wildcards.children:
            found += [entry for _, entry in self._wildcard(uri)]
        return found

    def best(self, uri: str) -> T | None:
        """The entry a call to ``uri`` goes to: the most specific match (:func:`specificity`)."""
        exact = self._entries.get(("exact", uri))
        if exact is not None:
            return exact
        for length in self._longest_first:  # (a prefix comes before any wildcard)
            if length <= len(uri):
                entry = self._prefixes.get(uri[:length])
                if entry is not None:
                    return entry
        wildcards = self._wildcard(uri) if self._wildcards.children else []
        if not wildcards:
            return None
        return min(wildcards, key=lambda found: specificity("wildcard", found[0]))[1]

    def _wildcard(self, uri: str) -> list[tuple[str, T]]:
        """The wildcard patterns matching ``uri``: at each component its own branch first,
        then the empty one's (Crossbar.io's order)."""
        parts = uri.split(".")
        found: list[tuple[str, T]] = []
        level = [self._wildcards]
        for part in parts:
            keys = (part, "") if part else ("",)
            level = [
                child
                for node in level
                for child in (node.children.get(key) for key in keys)
                if child is not None
            ]
            if not level:
                return found
        for node in level:
            found += node.ends.items()
        return found
