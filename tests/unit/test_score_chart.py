"""The lead page's score chart: a step line to now, its time axis labelled by the day at each
end, or by the time of day when everything happened on one day."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.pages.formatting import MAX_DOTS, ScorePoint, score_chart

START = datetime(2026, 12, 1, 9, 5, tzinfo=UTC)


def axis(svg: str) -> list[str]:
    """The time axis's labels, left to right (the score labels are numbers)."""
    return [t for t in re.findall(r"<text [^>]*>([^<]+)</text>", svg) if not t.isdigit()]


def test_changes_over_several_days_are_labelled_by_their_days() -> None:
    points = [ScorePoint(at=START, score=40), ScorePoint(at=START + timedelta(days=2), score=85)]
    assert axis(score_chart(points, START + timedelta(days=3))) == ["1 Dec 2026", "4 Dec 2026"]


def test_changes_of_one_day_are_labelled_by_their_times_not_the_same_day_twice() -> None:
    points = [ScorePoint(at=START, score=40), ScorePoint(at=START + timedelta(minutes=7),
                                                         score=85)]
    assert axis(score_chart(points, START + timedelta(hours=2))) == ["1 Dec 2026 09:05",
                                                                      "11:05 UTC"]


@given(st.lists(st.integers(min_value=0, max_value=100), min_size=1, max_size=20),
       st.integers(min_value=0, max_value=10 * 24 * 60))
def test_the_two_ends_never_read_the_same(scores: list[int], minutes: int) -> None:
    points = [ScorePoint(at=START + timedelta(minutes=i), score=s) for i, s in enumerate(scores)]
    left, right = axis(score_chart(points, START + timedelta(minutes=len(scores) + minutes)))
    assert left != right


@pytest.mark.parametrize("changes", [1, MAX_DOTS, MAX_DOTS + 1, 500])
def test_each_change_is_a_dot_until_the_dots_would_merge(changes: int) -> None:
    points = [ScorePoint(at=START + timedelta(minutes=i), score=i % 100) for i in range(changes)]
    svg = str(score_chart(points, START + timedelta(days=1)))
    assert svg.count("<circle") == (changes if changes <= MAX_DOTS else 0)
    assert svg.count("<path") == 1  # the line is always drawn
