"""Splitting work into batches of bounded size, keeping order."""
from __future__ import annotations

from typing import Callable, TypeVar

T = TypeVar("T")


def batches_by_size(items: list[T], size_of: Callable[[T], int], limit: int) -> list[list[T]]:
    """Consecutive batches whose sizes add up to at most `limit` (an item larger than it goes alone)."""
    batches: list[list[T]] = []
    current: list[T] = []
    total = 0
    for item in items:
        size = size_of(item)
        if current and total + size > limit:
            batches.append(current)
            current, total = [], 0
        current.append(item)
        total += size
    return batches + ([current] if current else [])
