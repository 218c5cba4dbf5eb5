"""Bookkeeping of text spans already claimed by a finding, for overlap checks in O(log n)."""

from __future__ import annotations

from bisect import bisect_left


class TakenSpans:
    """Disjoint (start, end) spans; `overlaps` asks whether a new span shares a character with one.

    The same answer as ``any(start < b and a < end for a, b in taken)`` over a list, without
    reading the whole list per finding (that made finders quadratic in the number of matches).
    Spans are only added when they overlap none, so they stay disjoint and sorted by start,
    and then their ends are sorted too: the one that starts last before `end` decides."""

    def __init__(self) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []

    def overlaps(self, start: int, end: int) -> bool:
        i = bisect_left(self._starts, end) - 1
        return i >= 0 and self._ends[i] > start

    def add(self, start: int, end: int) -> None:
        i = bisect_left(self._starts, start)
        self._starts.insert(i, start)
        self._ends.insert(i, end)
