"""Followers: consumers that read the log in order and apply each event exactly once.

A consumer keeps its own position and writes it atomically with its effects (SQL rows and the
position in one transaction; Redis changes and the position in one script; new events and the
tracking row in one insert). The runner only reads batches after that position and hands them on.
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eventsourcing.application import Application

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


class Follower:
    """Reads the log after a consumer's position and hands it batches, until stopped."""

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

    def run_once(self) -> int:
        """Apply one batch after the consumer's stored position; returns how many notifications
        were read."""
        return self._step(self.consumer.position())[0]

    def _step(self, start: int, stop: int | None = None) -> tuple[int, int | None]:
        """Read (up to ``stop``, if given) and apply one batch after ``start``: how many
        notifications were read, and the position of the last one applied (``start`` when none
        was read; ``None`` when the consumer refused the batch: its stored position moved)."""
        notifications = self.app.recorder.select_notifications(
            start=start, limit=self.batch_size, stop=stop, topics=list(self.consumer.topics),
            inclusive_of_start=False)
        if not notifications:
            return 0, start
        items = [Item(n.id, self.app.mapper.to_domain_event(n)) for n in notifications]
        try:
            self.consumer.apply(items, notifications[-1].id)
        except PositionMoved:
            log.warning("follower %s: position moved under it; re-reading", self.consumer.name)
            return len(notifications), None
        return len(notifications), notifications[-1].id

    def _checkpoint(self, cursor: int) -> bool:
        """Move the consumer's stored position over events of other topics read past; False when
        it refused (its stored position moved)."""
        try:
            self.consumer.apply([], cursor)
            return True
        except PositionMoved:
            log.warning("follower %s: position moved under it; re-reading", self.consumer.name)
            return False

    def catch_up(self) -> None:
        while self.run_once():
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
        topics (most wakes of the trigger follower) costs a read of the head and a bounded read."""
        stored = self.consumer.position()
        cursor: int | None = stored
        bounded = False
        log.info("follower %s starting at %s", self.consumer.name, stored)
        while not self.stopping.is_set():
            if cursor is None:
                cursor = stored = self.consumer.position()
            head = self.app.recorder.max_notification_id() if bounded else None
            read, last = self._step(cursor, stop=head)
            if last is None:
                cursor, bounded = None, False
                continue
            if read:
                cursor = stored = last
                bounded = False
            elif head is not None:
                cursor = max(cursor, head)
            else:
                bounded = bool(self.consumer.topics)
            if cursor - stored >= CHECKPOINT:
                if not self._checkpoint(cursor):
                    cursor = None
                    continue
                stored = cursor
            if read < self.batch_size:
                self.caught_up.set()
                if read and self.coalesce:
                    self.stopping.wait(self.coalesce)
                    continue
                woken = self.waiter.wait(self.idle_wait)
                if not read and not woken:
                    if cursor > stored:
                        self._checkpoint(cursor)
                    cursor = None

    def stop(self) -> None:
        self.stopping.set()
