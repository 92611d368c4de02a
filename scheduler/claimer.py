"""The claim loop: takes due members from the index and hands each to a sender actor."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from application.ports import Clock, DueSchedule

log = logging.getLogger(__name__)


class Claimer:
    """Claims what is due, in lane order, and hands it to the senders in batches.

    With ``outstanding`` (batches queued or in progress at the broker) it keeps at most
    ``max_outstanding`` batches there: the backlog then waits in the due index, where the lanes
    order it, and not in the broker's first-in-first-out queue, where an urgent step would wait
    behind everything claimed before it (and leases would run out while waiting).
    """

    def __init__(self, schedule: DueSchedule, enqueue: Callable[[list[str]], None], clock: Clock,
                 *, batch_size: int = 500, dispatch_batch: int = 20, lease_ms: int = 120_000,
                 idle_wait: float = 0.05, outstanding: Callable[[], int] | None = None,
                 max_outstanding: int = 24) -> None:
        self.schedule = schedule
        self.outstanding = outstanding
        self.max_outstanding = max_outstanding
        self.enqueue = enqueue
        self.clock = clock
        self.batch_size = batch_size
        self.dispatch_batch = dispatch_batch
        self.lease_ms = lease_ms
        self.idle_wait = idle_wait
        self.stopping = threading.Event()

    def room(self) -> int:
        """How many members may be claimed now."""
        if self.outstanding is None:
            return self.batch_size
        batches = self.max_outstanding - self.outstanding()
        return max(0, min(self.batch_size, batches * self.dispatch_batch))

    def tick(self) -> int:
        room = self.room()
        if room == 0:
            return 0
        now_ms = int(self.clock.now().timestamp() * 1000)
        members = self.schedule.claim(now_ms, room, self.lease_ms)
        for i in range(0, len(members), self.dispatch_batch):
            self.enqueue(members[i:i + self.dispatch_batch])
        return len(members)

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                claimed = self.tick()
            except Exception:
                log.exception("claim loop: tick failed; retrying")
                self.stopping.wait(1.0)
                continue
            if claimed < self.batch_size:
                self.stopping.wait(self.idle_wait)

    def stop(self) -> None:
        self.stopping.set()
