"""Followers: consumers that read the log in order and apply each event exactly once.

A consumer keeps its own position and writes it atomically with its effects (SQL rows and the
position in one transaction; Redis changes and the position in one script; new events and the
tracking row in one insert). The runner only reads batches after that position and hands them on.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eventsourcing.application import Application

from application.failures import Failure, backoff

log = logging.getLogger(__name__)

#: A follower's cursor moves ahead of its consumer's stored position over events of other topics;
#: the stored position follows it at least every this many events.
CHECKPOINT = 10_000


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


class PositionMoved(Exception):
    """Another runner (or a lost store) moved the consumer's position; read it again."""


class Waiter(ABC):
    """Blocks a follower until the log may have grown."""

    @abstractmethod
    def wait(self, timeout: float) -> bool:
        """Block until woken (True) or ``timeout`` seconds have passed (False)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        pass


class LocalWaiter(Waiter):
    """Woken by saves in this process (the embedded set-up); also polls on timeout."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def wake(self) -> None:
        self._event.set()

    def wait(self, timeout: float) -> bool:
        woken = self._event.wait(timeout)
        self._event.clear()
        return woken


@dataclass
class Part:
    """One part of a follower's consumer, as the follower sees it."""

    consumer: Consumer
    position: int = 0  # as last known here
    alone: bool = False  # held out of the shared batches: failing, or catching up after it
    failure: Failure | None = None

    def due(self) -> bool:
        return self.alone and (self.failure is None or time.monotonic() >= self.failure.retry_at)


class Follower:
    """Reads the log after a consumer's position and hands it batches, until stopped.

    A part of the consumer (the consumer itself, or a member of a group) that fails on an event
    stops right before it, is reported, and is retried alone from its own position with a
    growing pause; the other parts carry on past it. Once it applies the event it catches up on
    its own to where the others are, and rejoins them."""

    def __init__(self, app: Application[Any], consumer: Consumer, waiter: Waiter, *,
                 batch_size: int = 500, idle_wait: float = 1.0, coalesce: float = 0.0) -> None:
        """``coalesce``: after a short batch, wait this long before reading again, so the events
        of many commits are applied as one batch (a read model trades that much freshness for
        far fewer transactions under load; the trigger and the due feeder do not wait)."""
        self.app = app
        self.consumer = consumer
        self.waiter = waiter
        self.batch_size = batch_size
        self.idle_wait = idle_wait
        self.coalesce = coalesce
        self.stopping = threading.Event()
        self.caught_up = threading.Event()
        self.parts = [Part(p) for p in consumer.parts()]
        self.trouble: Failure | None = None  # a failure not of one event (reading the log)
        self.cursor: int | None = None  # where the live parts have read the log up to
        self.stored = 0  # the live parts' stored position, as last known
        self.bounded = False  # whether the next read is bounded by the log's head

    # Reading and applying ----------------------------------------------------

    def _live(self) -> list[Part]:
        return [p for p in self.parts if not p.alone]

    def _position(self) -> int | None:
        """Where the live parts stand (``None`` when every part is held)."""
        live = self._live()
        return min(self._known(p) for p in live) if live else None

    def _known(self, part: Part) -> int:
        part.position = part.consumer.position()
        return part.position

    def _read(self, start: int, stop: int | None, topics: Sequence[str]) -> list[Item]:
        notifications = self.app.recorder.select_notifications(
            start=start, limit=self.batch_size, stop=stop, topics=list(topics),
            inclusive_of_start=False)
        return [Item(n.id, self.app.mapper.to_domain_event(n)) for n in notifications]

    def _step(self, start: int, stop: int | None = None) -> tuple[int, int | None]:
        """Read (up to ``stop``, if given) and apply one batch after ``start``: how many
        notifications were read, and the position of the last one applied (``start`` when none
        was read; ``None`` when the consumer refused the batch: its stored position moved)."""
        items = self._read(start, stop, self.consumer.topics)
        if not items:
            return 0, start
        last = items[-1].position
        return len(items), (last if self._apply(items, last) else None)

    def _apply(self, items: list[Item], last: int) -> bool:
        """Apply a batch to the live parts, in one go when none fails; False when a stored
        position moved (read it again). A part that fails is held where it fails."""
        live = self._live()
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

    def _checkpoint(self, cursor: int) -> bool:
        """Move the stored position over events of other topics read past; False when it was
        refused (the stored position moved)."""
        return self._apply([], cursor)

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

    def _retry(self, part: Part) -> None:
        """One batch for a held part, from its own position up to where the others are (the
        log's head when none is live); it rejoins them once it is there."""
        part.consumer.forget()
        try:
            target = self._target()
            start = self._known(part)
            items = self._read(start, target, part.consumer.topics) if start < target else []
        except Exception as error:
            self._hold(part, Failure.of(None, None, error))
            return
        last = items[-1].position if len(items) == self.batch_size else max(start, target)
        found = self._first_failure(part, items, last) if last > start else None
        if found is not None:
            self._hold(part, found)
            return
        self._recovered(part, last, target)

    def _target(self) -> int:
        if self._live() and self.cursor is not None:
            return self.cursor
        return self.app.recorder.max_notification_id() or 0

    def _recovered(self, part: Part, last: int, target: int) -> None:
        part.position = last
        if part.failure is not None:
            log.info("follower %s: %s recovered after %d attempts at event %s",
                     self.consumer.name, part.consumer.name, part.failure.attempts,
                     part.failure.event)
            part.failure = None
        if last >= target:
            part.alone = False
            self.cursor = None  # where the live parts stand is asked again

    def _retry_due(self, *, now: bool = False) -> None:
        for part in self.parts:
            if part.alone and (now or part.due()):
                try:
                    self._retry(part)
                except PositionMoved:
                    part.consumer.forget()

    def _catching_up(self) -> bool:
        return any(p.alone and p.failure is None for p in self.parts)

    # Running -------------------------------------------------------------------

    def run_once(self) -> int:
        """Apply one batch after the live parts' stored positions (and one to each held part
        whose retry is due); returns how many notifications were read."""
        self._retry_due()
        start = self._position()
        return 0 if start is None else self._step(start)[0]

    def catch_up(self) -> None:
        """Read the log to its end now, held parts tried again at once."""
        self._retry_due(now=True)
        while self.run_once() or self._catching_up():
            pass

    def run(self) -> None:
        """Under load each wake costs one read and one apply: the position a batch was applied
        up to is where the next read starts (the consumer refuses a batch whose stored position
        moved meanwhile, and then it is asked again), and a short batch means the log was read
        to its end, so the follower waits for the next wake instead of reading once more.

        A read that finds nothing of the consumer's topics makes the next ones bounded by the
        log's head, read first: the follower's cursor then moves past the events of other topics,
        so a consumer of a rare topic (the trigger's score changes during a burst of sends) does
        not scan every event since its last match at every wake. The consumer's stored position
        follows the cursor every ``CHECKPOINT`` events, and before it is asked again.

        It is asked again whenever a wait ends with nothing new, so a lost store (the due index
        after a FLUSHALL) is noticed even when nothing is written; a wake for events of other
        topics (most wakes of the trigger follower) costs a read of the head and a bounded read.

        Nothing stops the loop but ``stop``: a part that fails on an event is held (see the
        class), and a failed read of the log is reported and tried again after a pause."""
        self.cursor = None
        try:
            log.info("follower %s starting at %s", self.consumer.name, self._reposition())
        except Exception as error:
            self._troubled(error)
        while not self.stopping.is_set():
            try:
                self._turn()
            except Exception as error:
                self._troubled(error)
            else:
                self._untroubled()

    def _turn(self) -> None:
        self._retry_due()
        if not self._live():
            self._wait_for_retry()
            return
        if self.cursor is None:
            self._reposition()
        read = self._advance()
        if read is None or not self._follow_cursor():
            return
        if read < self.batch_size:
            self._idle(read)

    def _reposition(self) -> int | None:
        """Ask the live parts where they stand; the cursor starts there."""
        self.bounded = False
        position = self._position()
        if position is not None:
            self.cursor = self.stored = position
        return position

    def _advance(self) -> int | None:
        """Read and apply one batch at the cursor: how many notifications were read (``None``
        when the stored position moved: it is asked again)."""
        assert self.cursor is not None
        head = self.app.recorder.max_notification_id() if self.bounded else None
        read, last = self._step(self.cursor, stop=head)
        if last is None:
            self.cursor = None
            return None
        if read:
            self.cursor = self.stored = last
            self.bounded = False
        elif head is not None:
            self.cursor = max(self.cursor, head)
        else:
            self.bounded = bool(self.consumer.topics)
        return read

    def _follow_cursor(self) -> bool:
        """Move the stored position to the cursor every ``CHECKPOINT`` events; False when it
        was refused (the position is asked again)."""
        assert self.cursor is not None
        if self.cursor - self.stored < CHECKPOINT:
            return True
        if not self._checkpoint(self.cursor):
            self.cursor = None
            return False
        self.stored = self.cursor
        return True

    def _idle(self, read: int) -> None:
        """After a short batch: wait to coalesce commits, or for the next wake (not while a part
        catches up alone); after a wait that timed out with nothing new, the position is asked
        again."""
        self.caught_up.set()
        if self._catching_up():
            return  # a part catches up alone on the log already written: no wait for more
        if read and self.coalesce:
            self.stopping.wait(self.coalesce)
            return
        woken = self.waiter.wait(self.idle_wait)
        if not read and not woken and self.cursor is not None:
            if self.cursor > self.stored:
                self._checkpoint(self.cursor)
            self.cursor = None

    def _wait_for_retry(self) -> None:
        """Every part is held: wait until the first is due."""
        if self._catching_up():
            return
        due = min(p.failure.retry_at for p in self.parts if p.failure is not None)
        self.stopping.wait(min(self.idle_wait, max(0.0, due - time.monotonic())))

    def _troubled(self, error: Exception) -> None:
        """A failure that is no event's (the log or a position could not be read): report it
        once, pause, and read the positions afresh."""
        failure = Failure.of(None, None, error)
        if self.trouble is None or not self.trouble.same(failure):
            log.error("follower %s failed: %s; trying again", self.consumer.name,
                      failure.describe())
        self.trouble = failure if self.trouble is None else failure.again(self.trouble)
        self.trouble.schedule()
        self.cursor = None
        for part in self.parts:
            part.consumer.forget()
        self.stopping.wait(backoff(self.trouble.attempts))

    def _untroubled(self) -> None:
        if self.trouble is not None:
            log.info("follower %s recovered after %d attempts", self.consumer.name,
                     self.trouble.attempts)
            self.trouble = None

    def stop(self) -> None:
        self.stopping.set()

    # Reporting -----------------------------------------------------------------

    def status(self) -> list[dict[str, Any]]:
        """Each part: the position it has read the log up to, and its failure if any."""
        return [self._part_status(p) for p in self.parts]

    def _part_status(self, part: Part) -> dict[str, Any]:
        position = part.position
        if not part.alone and self.cursor is not None:
            position = max(position, self.cursor)  # past events of other topics too
        failure = part.failure or (None if part.alone else self.trouble)
        return {"name": part.consumer.name, "follower": self.consumer.name,
                "position": position, "catchingUp": part.alone and part.failure is None,
                "failing": failure.report() if failure else None}

    @property
    def failing(self) -> bool:
        return self.trouble is not None or any(p.failure for p in self.parts)
