"""What a follower feeds: a consumer of the log, which applies events after its own position
and records the position atomically with its effects."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from application.errors import PositionMoved

__all__ = ["Consumer", "Item", "PositionMoved"]


@dataclass(frozen=True)
class Item:
    """One event of the log with its position."""

    position: int
    event: Any


class Consumer(ABC):
    #: Unique name: the key of its position.
    name: str
    #: Topics it wants; empty means every event.
    topics: Sequence[str] = ()

    @abstractmethod
    def position(self) -> int:
        """The position of the last event applied (0 when none)."""

    @abstractmethod
    def apply(self, items: list[Item], last_position: int) -> None:
        """Apply ``items`` and record ``last_position`` atomically.

        ``last_position`` may lie beyond the last item (events of other topics were read past).
        Raise ``PositionMoved`` when the stored position is not what the caller read.
        """

    def forget(self) -> None:  # noqa: B027 - optional hook
        """Read the position (and anything kept with it) afresh next time: an apply failed."""

    def parts(self) -> Sequence[Consumer]:
        """What fails and recovers on its own, each with its own position: the consumer itself,
        or the members of a group fed from one reading of the log."""
        return (self,)

    def apply_parts(self, parts: Sequence[Consumer], items: list[Item],
                    last_position: int) -> None:
        """``apply`` for ``parts`` only (the others are held at an event they failed on)."""
        self.apply(items, last_position)
