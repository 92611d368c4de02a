"""Score rules: the range and what counts as crossing a threshold."""

from __future__ import annotations

MIN_SCORE = 0
MAX_SCORE = 100


def crossed_upward(old: int | None, new: int, threshold: int) -> bool:
    """True when a score moves from below ``threshold`` (or from no score) to at-or-above it."""
    return (old is None or old < threshold) and new >= threshold
