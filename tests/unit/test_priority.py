"""Priority lanes: urgent first touches, then score bands."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from domain.priority import LANES, URGENT, lane


def test_urgent_goes_first_and_the_lowest_scores_last() -> None:
    assert lane(URGENT) == 0
    assert [lane(s) for s in (100, 80, 79, 60, 59, 40, 39, 0)] == [1, 1, 2, 2, 3, 3, 4, 4]


@given(st.integers(0, URGENT), st.integers(0, URGENT))
def test_a_higher_priority_never_waits_in_a_later_lane(a: int, b: int) -> None:
    low, high = sorted((a, b))
    assert 0 <= lane(high) <= lane(low) < LANES


def test_a_priority_below_every_floor_waits_in_the_last_lane() -> None:
    assert lane(-1) == LANES - 1
    assert lane(-1000) == LANES - 1
