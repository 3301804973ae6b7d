"""Name -> object lookup with an error that lists the known names."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import Generic, TypeVar

from ganforge.errors import GanforgeError

T = TypeVar("T")


class Registry(Generic[T]):
    """A small named table (models, losses, data sets, presets)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def add(self, name: str, item: T) -> T:
        self._items[name] = item
        return item

    def get(self, name: str) -> T:
        if name not in self._items:
            raise GanforgeError(unknown_name_message(self.kind, name, list(self._items)))
        return self._items[name]

    def names(self) -> list[str]:
        return list(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)


def unknown_name_message(kind: str, name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    return f"unknown {kind} '{name}'.{hint} Known: {', '.join(known)}."
