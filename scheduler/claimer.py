"""The claim loop: takes due members from the index and hands each to a sender actor."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from application.ports import Clock, DueSchedule
from domain.priority import LANES, URGENT_LANE

log = logging.getLogger(__name__)

Enqueue = Callable[[list[str]], object]
Count = Callable[[], int]


class Claimer:
    """Claims what is due, in lane order, and hands it to the senders in batches.

    With ``outstanding`` (batches queued or in progress at the broker) it keeps at most
    ``max_outstanding`` batches there: the backlog then waits in the due index, where the lanes
    order it, and not in the broker's first-in-first-out queue, where an urgent step would wait
    behind everything claimed before it (and leases would run out while waiting).

    With ``urgent`` (an enqueue to a queue of its own, which workers take first) the urgent lane
    is claimed apart, against its own count ``urgent_outstanding``: a live crossing's first step
    then never waits for room behind the backlog. It is cut into small batches, one per worker
    thread that may be free, since each member of a batch waits for the ones before it.

    The other lanes' batches are cut the same way, to fit the batches there is room for: a few
    steps due at once go out side by side, and a backlog in full batches of ``dispatch_batch``
    (each batch costs the system a broker message, two reads and two transactions, and every
    transaction wakes the log's followers: larger batches cost less CPU per step).
    """

    def __init__(self, schedule: DueSchedule, enqueue: Enqueue, clock: Clock,
                 *, batch_size: int = 500, dispatch_batch: int = 20, lease_ms: int = 120_000,
                 idle_wait: float = 0.05, outstanding: Count | None = None,
                 max_outstanding: int = 24, urgent: Enqueue | None = None,
                 urgent_outstanding: Count | None = None) -> None:
        self.schedule = schedule
        self.outstanding = outstanding
        self.max_outstanding = max_outstanding
        self.enqueue = enqueue
        self.urgent = urgent
        self.urgent_outstanding = urgent_outstanding
        self.clock = clock
        self.batch_size = batch_size
        self.dispatch_batch = dispatch_batch
        self.lease_ms = lease_ms
        self.idle_wait = idle_wait
        self.stopping = threading.Event()
        self._woken = threading.Event()

    def wake(self) -> None:
        """Claim now rather than at the end of the idle wait (an urgent step was just indexed)."""
        self._woken.set()

    def free(self, outstanding: Count | None) -> int | None:
        """How many batches may be handed over now to a queue with this count (None: no
        limit)."""
        return None if outstanding is None else max(0, self.max_outstanding - outstanding())

    def tick(self) -> int:
        now_ms = int(self.clock.now().timestamp() * 1000)
        claimed = 0
        lanes = range(LANES)
        if self.urgent is not None:
            urgent = range(URGENT_LANE, URGENT_LANE + 1)
            members = self._claim(now_ms, urgent, self.free(self.urgent_outstanding))
            # as many batches as there may be threads free, whatever the room left
            self._hand_over(members, self.max_outstanding, self.urgent)
            claimed += len(members)
            lanes = range(URGENT_LANE + 1, LANES)
        free = self.free(self.outstanding)
        members = self._claim(now_ms, lanes, free)
        self._hand_over(members, self.max_outstanding if free is None else free, self.enqueue)
        return claimed + len(members)

    def _claim(self, now_ms: int, lanes: range, free: int | None) -> list[str]:
        room = self.batch_size if free is None else min(self.batch_size,
                                                        free * self.dispatch_batch)
        return self.schedule.claim(now_ms, room, self.lease_ms, lanes) if room else []

    def _hand_over(self, members: list[str], batches: int, enqueue: Enqueue) -> None:
        """``members`` cut into at most ``batches`` batches (more only if that would make a
        batch larger than ``dispatch_batch``)."""
        per_batch = max(1, min(self.dispatch_batch, -(-len(members) // max(1, batches))))
        for i in range(0, len(members), per_batch):
            enqueue(members[i:i + per_batch])

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                claimed = self.tick()
            except Exception:
                log.exception("claim loop: tick failed; retrying")
                self.stopping.wait(1.0)
                continue
            if claimed < self.batch_size:
                self._woken.wait(self.idle_wait)
                self._woken.clear()

    def stop(self) -> None:
        self.stopping.set()
        self._woken.set()
