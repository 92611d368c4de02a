"""The claim loop's back-pressure, against real Redis and Dramatiq's Redis broker."""

from __future__ import annotations

import threading

import dramatiq
import redis

from scheduler.claimer import Claimer
from scheduler.due_index import RedisDueSchedule
from scheduler.tasks import QUEUE, make_broker, outstanding_counter
from tests.conftest import REDIS_URL, FakeClock


def test_outstanding_counts_queued_and_in_progress_batches(redis_prefix: str) -> None:
    broker = make_broker(REDIS_URL, f"{redis_prefix}-dq")
    release = threading.Event()
    started = threading.Semaphore(0)

    @dramatiq.actor(actor_name="send_steps", queue_name=QUEUE, broker=broker)
    def send_steps(ids: list[str]) -> None:
        started.release()
        release.wait(10)

    outstanding = outstanding_counter(broker)
    assert outstanding is not None and outstanding() == 0
    for i in range(3):
        send_steps.send([str(i)])
    assert outstanding() == 3
    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=50)
    worker.queue_prefetch = 1
    worker.start()
    try:
        assert started.acquire(timeout=10)  # one in progress, two queued: still three
        assert outstanding() == 3
        release.set()
        broker.join(QUEUE, timeout=10_000)
        assert outstanding() == 0
    finally:
        worker.stop()
        broker.close()


def test_the_backlog_waits_in_the_index_not_in_the_broker(redis_prefix: str,
                                                          clock: FakeClock) -> None:
    schedule = RedisDueSchedule(redis.Redis.from_url(REDIS_URL), redis_prefix)
    now_ms = int(clock.now().timestamp() * 1000)
    schedule.apply([(f"x{i:03d}", now_ms - 1_000, 3) for i in range(200)], 0, 1)
    queued: list[list[str]] = []
    claimer = Claimer(schedule, queued.append, clock, batch_size=500, dispatch_batch=20,
                      outstanding=lambda: len(queued), max_outstanding=3)
    # Room for three batches: sixty members leave the index, the rest stay due there
    assert claimer.tick() == 60 and [len(b) for b in queued] == [20, 20, 20]
    assert claimer.tick() == 0
    # An urgent step arriving now is the first claimed once a batch is done
    schedule.apply([("urgent", now_ms, 0)], 1, 2)
    queued.pop(0)
    assert claimer.tick() == 20 and queued[-1][0] == "urgent"
    # Without a count (the in-process broker) everything due is claimed at once
    free = Claimer(schedule, queued.append, clock, batch_size=500, dispatch_batch=20)
    assert free.tick() == 200 - 60 - 19
