"""Which due steps go first when more are due than the senders can take at once.

A scheduled step carries a priority: the first step of an execution that a live score crossing
just started is urgent (speed to lead: the first touch is what converts), every other step
carries its lead's score when it was scheduled. The due index keeps one lane per band and
drains higher lanes first; within a lane, earlier due times go first.
"""

from __future__ import annotations

URGENT = 200
# Lane i holds the priorities at or above LANE_FLOORS[i] and below LANE_FLOORS[i - 1].
LANE_FLOORS = (URGENT, 80, 60, 40, 0)
LANES = len(LANE_FLOORS)


def lane(priority: int) -> int:
    """The lane (0 drains first) that a step of this priority waits in."""
    for i, floor in enumerate(LANE_FLOORS):
        if priority >= floor:
            return i
    return LANES - 1


URGENT_LANE = lane(URGENT)
