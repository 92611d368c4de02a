"""Followers: consumers that read the log in order and apply each event exactly once.

A consumer keeps its own position and writes it atomically with its effects (SQL rows and the
position in one transaction; Redis changes and the position in one script; new events and the
tracking row in one insert). The runner only reads batches after that position and hands them on
(``application.parts`` applies them, holding a part that fails on an event).
"""

from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from eventsourcing.application import Application

from application.consumers import Consumer, Item, PositionMoved
from application.failures import Failure, backoff
from application.parts import Parts

__all__ = ["CHECKPOINT", "Consumer", "Follower", "Item", "LocalWaiter", "PositionMoved",
           "Waiter"]

log = logging.getLogger(__name__)

#: A follower's cursor moves ahead of its consumer's stored position over events of other topics;
#: the stored position follows it at least every this many events.
CHECKPOINT = 10_000


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


class Follower:
    """Reads the log after a consumer's position and hands it batches, until stopped.

    A part of the consumer (the consumer itself, or a member of a group) that fails on an event
    stops right before it, is reported, and is retried alone (see ``application.parts``); the
    other parts carry on past it. Nothing but ``stop`` ends the loop."""

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
        self.parts = Parts(consumer, batch_size)
        self.trouble: Failure | None = None  # a failure not of one event (reading the log)
        self.cursor: int | None = None  # where the live parts have read the log up to
        self.stored = 0  # the live parts' stored position, as last known
        self.bounded = False  # whether the next read is bounded by the log's head

    # Reading and applying ----------------------------------------------------

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
        return len(items), (last if self.parts.apply(items, last) else None)

    def _checkpoint(self, cursor: int) -> bool:
        """Move the stored position over events of other topics read past; False when it was
        refused (the stored position moved)."""
        return self.parts.apply([], cursor)

    def _retry_due(self, *, now: bool = False) -> None:
        """Held parts whose retry is due (``now``: every one) are tried again, alone."""
        if self.parts.retry_due(self._read, self._target, now=now):
            self.cursor = None  # one rejoined: where the live parts stand is asked again

    def _target(self) -> int:
        """Where a held part catches up to: the live parts' cursor, else the log's head."""
        if self.parts.live() and self.cursor is not None:
            return self.cursor
        return self.app.recorder.max_notification_id() or 0

    # Running -------------------------------------------------------------------

    def run_once(self) -> int:
        """Apply one batch after the live parts' stored positions (and one to each held part
        whose retry is due); returns how many notifications were read."""
        self._retry_due()
        start = self.parts.position()
        return 0 if start is None else self._step(start)[0]

    def catch_up(self) -> None:
        """Read the log to its end now, held parts tried again at once."""
        self._retry_due(now=True)
        while self.run_once() or self.parts.catching_up():
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
        if not self.parts.live():
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
        position = self.parts.position()
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
        if self.parts.catching_up():
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
        if self.parts.catching_up():
            return
        due = self.parts.next_retry() - time.monotonic()
        self.stopping.wait(min(self.idle_wait, max(0.0, due)))

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
        self.parts.forget()
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
        return self.parts.status(self.cursor, self.trouble)

    @property
    def failing(self) -> bool:
        return self.trouble is not None or self.parts.failing
