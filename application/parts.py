"""A follower's consumer in parts: the consumer itself, or each member of a group fed from one
reading of the log. A part that fails on an event stops right before it (it has applied every
event before it), is reported, and is tried again alone from its own position with a growing
pause, while the other parts go on past it; once it applies the event it catches up alone to
where the others are, and rejoins their shared batches."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from application.consumers import Consumer, Item, PositionMoved
from application.failures import Failure

log = logging.getLogger("application.follower")  # the followers' log, wherever it is written

#: Reads one batch of the log: (after this position, up to this one or the head, of these topics)
Reader = Callable[[int, int | None, Sequence[str]], list[Item]]


@dataclass
class Part:
    """One part of a follower's consumer, as the follower sees it."""

    consumer: Consumer
    position: int = 0  # as last known here
    alone: bool = False  # held out of the shared batches: failing, or catching up after it
    failure: Failure | None = None

    def due(self) -> bool:
        return self.alone and (self.failure is None or time.monotonic() >= self.failure.retry_at)


class Parts:
    """Applies batches to a consumer's parts, holding one that fails where it fails."""

    def __init__(self, consumer: Consumer, batch_size: int) -> None:
        self.consumer = consumer
        self.batch_size = batch_size
        self.all = [Part(p) for p in consumer.parts()]

    def live(self) -> list[Part]:
        return [p for p in self.all if not p.alone]

    def position(self) -> int | None:
        """Where the live parts stand (``None`` when every part is held)."""
        live = self.live()
        return min(self._known(p) for p in live) if live else None

    def _known(self, part: Part) -> int:
        part.position = part.consumer.position()
        return part.position

    def forget(self) -> None:
        for part in self.all:
            part.consumer.forget()

    def apply(self, items: list[Item], last: int) -> bool:
        """Apply a batch to the live parts, in one go when none fails; False when a stored
        position moved (read it again). A part that fails is held where it fails."""
        live = self.live()
        try:
            if live:
                self._apply_live(live, items, last)
            return True
        except PositionMoved:
            log.warning("follower %s: position moved under it; re-reading", self.consumer.name)
            return False

    def _apply_live(self, live: list[Part], items: list[Item], last: int) -> None:
        try:
            self.consumer.apply_parts([p.consumer for p in live], items, last)
        except PositionMoved:
            raise
        except Exception:
            for part in live:
                self._isolate(part, items, last)
            return
        for part in live:
            part.position = max(part.position, last)

    # Failing parts -------------------------------------------------------------

    def _isolate(self, part: Part, items: list[Item], last: int) -> None:
        """Apply the batch to ``part`` alone, as far as it goes."""
        part.consumer.forget()
        try:
            start = self._known(part)
        except Exception as error:
            self._hold(part, Failure.of(None, None, error))
            return
        found = self._first_failure(part, [i for i in items if i.position > start], last)
        if found is not None:
            self._hold(part, found)
        else:
            part.position = last

    def _first_failure(self, part: Part, items: list[Item], last: int) -> Failure | None:
        """Apply ``items`` to ``part`` alone, halving what fails until one event is left: the
        failure on it (the events before it applied), or ``None`` when all were applied."""
        try:
            self.consumer.apply_parts([part.consumer], items, last)
            return None
        except PositionMoved:
            raise
        except Exception as error:
            part.consumer.forget()
            if not items:
                return Failure.of(None, None, error)
            if len(items) == 1:
                return Failure.of(items[0].position, items[0].event, error)
        half = len(items) // 2
        return (self._first_failure(part, items[:half], items[half - 1].position)
                or self._first_failure(part, items[half:], last))

    def _hold(self, part: Part, failure: Failure) -> None:
        """Keep ``part`` out of the shared batches, report it, and try it again later."""
        previous, part.alone = part.failure, True
        part.failure = failure if previous is None else failure.again(previous)
        part.failure.schedule()
        with contextlib.suppress(Exception):
            self._known(part)
        if previous is None or not previous.same(failure):
            log.error("follower %s: %s stopped at %s; it is retried alone, the others go on",
                      self.consumer.name, part.consumer.name, failure.describe())

    def _retry(self, part: Part, read: Reader, where: Callable[[], int]) -> bool:
        """One batch for a held part, from its own position up to ``where`` the others are
        (the log's head when none is live); True when it is there and rejoins them."""
        part.consumer.forget()
        try:
            target = where()
            start = self._known(part)
            items = read(start, target, part.consumer.topics) if start < target else []
        except Exception as error:
            self._hold(part, Failure.of(None, None, error))
            return False
        last = items[-1].position if len(items) == self.batch_size else max(start, target)
        found = self._first_failure(part, items, last) if last > start else None
        if found is not None:
            self._hold(part, found)
            return False
        return self._recovered(part, last, target)

    def _recovered(self, part: Part, last: int, target: int) -> bool:
        part.position = last
        if part.failure is not None:
            log.info("follower %s: %s recovered after %d attempts at event %s",
                     self.consumer.name, part.consumer.name, part.failure.attempts,
                     part.failure.event)
            part.failure = None
        if last >= target:
            part.alone = False
        return not part.alone

    def retry_due(self, read: Reader, target: Callable[[], int], *, now: bool = False) -> bool:
        """One batch for each held part whose retry is due (``now``: each held part); True
        when one rejoined the live parts (where they stand is to be asked again)."""
        rejoined = False
        for part in self.all:
            if part.alone and (now or part.due()):
                try:
                    rejoined |= self._retry(part, read, target)
                except PositionMoved:
                    part.consumer.forget()
        return rejoined

    def catching_up(self) -> bool:
        return any(p.alone and p.failure is None for p in self.all)

    def next_retry(self) -> float:
        """When the first failing part is due (``time.monotonic()``)."""
        return min((p.failure.retry_at for p in self.all if p.failure is not None),
                   default=time.monotonic())

    # Reporting -----------------------------------------------------------------

    def status(self, cursor: int | None, trouble: Failure | None) -> list[dict[str, Any]]:
        """Each part: the position it has read the log up to, and its failure if any (a live
        part shares the follower's ``trouble``, a failure that is no event's)."""
        return [self._status(p, cursor, trouble) for p in self.all]

    def _status(self, part: Part, cursor: int | None,
                trouble: Failure | None) -> dict[str, Any]:
        position = part.position
        if not part.alone and cursor is not None:
            position = max(position, cursor)  # past events of other topics too
        failure = part.failure or (None if part.alone else trouble)
        return {"name": part.consumer.name, "follower": self.consumer.name,
                "position": position, "catchingUp": part.alone and part.failure is None,
                "failing": failure.report() if failure else None}

    @property
    def failing(self) -> bool:
        return any(p.failure for p in self.all)
