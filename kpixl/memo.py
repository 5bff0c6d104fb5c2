"""A bounded memo of values that depend on their key alone, shared by the per-process caches."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def remembered(store: dict[K, V], key: K, make: Callable[[], V], kept: int) -> V:
    """``store[key]``, made by ``make()`` the first time it is asked for.

    The store is emptied when it already holds ``kept`` entries, so it never grows past that:
    a batch meets a few keys again and again, and a rare new one costs one ``make()``.
    """
    value = store.get(key)
    if value is None:
        value = make()
        if len(store) >= kept:
            store.clear()
        store[key] = value
    return value
