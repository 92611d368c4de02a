"""The claim loop's back-pressure, against real Redis and Dramatiq's Redis broker."""

from __future__ import annotations

import threading
import time
import uuid
from typing import cast

import dramatiq
import redis

from application.sending import StepSender
from scheduler.claimer import Claimer
from scheduler.due_index import RedisDueSchedule
from scheduler.tasks import (
    QUEUE,
    URGENT_QUEUE,
    declare_send_steps,
    make_broker,
    outstanding_counter,
)
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


def test_a_few_due_steps_go_out_side_by_side_and_a_backlog_in_full_batches(
        redis_prefix: str, clock: FakeClock) -> None:
    schedule = RedisDueSchedule(redis.Redis.from_url(REDIS_URL), redis_prefix)
    now_ms = int(clock.now().timestamp() * 1000)
    schedule.apply([(f"x{i}", now_ms - 1_000, 3) for i in range(6)], 0, 1)
    queued: list[list[str]] = []
    claimer = Claimer(schedule, queued.append, clock, batch_size=500, dispatch_batch=50,
                      outstanding=lambda: len(queued), max_outstanding=4)
    # Six steps and room for four batches: no step waits behind five others in one batch
    assert claimer.tick() == 6 and [len(b) for b in queued] == [2, 2, 2]
    queued.clear()
    schedule.apply([(f"y{i:03d}", now_ms - 1_000, 3) for i in range(300)], 1, 2)
    assert claimer.tick() == 200 and [len(b) for b in queued] == [50, 50, 50, 50]
    queued.pop()
    assert claimer.tick() == 50 and [len(b) for b in queued] == [50, 50, 50, 50]


def test_the_urgent_lane_goes_to_its_own_queue_in_small_batches_even_when_the_broker_is_full(
        redis_prefix: str, clock: FakeClock) -> None:
    schedule = RedisDueSchedule(redis.Redis.from_url(REDIS_URL), redis_prefix)
    now_ms = int(clock.now().timestamp() * 1000)
    schedule.apply([(f"x{i:03d}", now_ms - 1_000, 1) for i in range(100)]
                   + [(f"u{i}", now_ms, 0) for i in range(3)], 0, 1)
    regular: list[list[str]] = [["queued"]] * 3  # the regular queue is full
    urgent: list[list[str]] = []
    claimer = Claimer(schedule, regular.append, clock, batch_size=500, dispatch_batch=20,
                      outstanding=lambda: len(regular), max_outstanding=3,
                      urgent=urgent.append, urgent_outstanding=lambda: len(urgent))
    assert claimer.tick() == 3
    assert urgent == [["u0"], ["u1"], ["u2"]] and len(regular) == 3
    assert schedule.due_at("x000") == now_ms - 1_000  # the backlog still waits in the index
    # Many urgent members at once: batches grow so they fit the same number of batches
    schedule.apply([(f"v{i:02d}", now_ms, 0) for i in range(30)], 1, 2)
    urgent.clear()
    assert claimer.tick() == 30 and [len(b) for b in urgent] == [10, 10, 10]
    # The urgent queue has its own limit
    schedule.apply([("w", now_ms, 0)], 2, 3)
    assert claimer.tick() == 0 and schedule.due_at("w") == now_ms


def test_a_worker_takes_the_urgent_queue_before_what_it_already_holds(redis_prefix: str) -> None:
    broker = make_broker(REDIS_URL, f"{redis_prefix}-dq")
    done: list[str] = []
    release = threading.Event()

    class Recording:
        def send_batch(self, ids: list[uuid.UUID]) -> list[str]:
            release.wait(10)
            done.extend(str(i) for i in ids)
            return []

    recording = cast(StepSender, Recording())
    regular = declare_send_steps(broker, lambda: recording)
    urgent = declare_send_steps(broker, lambda: recording, urgent=True)
    blocker, waiting, first = uuid.uuid4(), [uuid.uuid4() for _ in range(2)], uuid.uuid4()
    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=50)
    worker.queue_prefetch = 3  # the blocked message and the two waiting ones are all taken
    worker.start()
    try:
        for ident in [blocker, *waiting]:
            regular.send([str(ident)])
        deadline = time.monotonic() + 10
        while worker.consumers[QUEUE].consumer.outstanding_message_count < 3:  # type: ignore
            assert time.monotonic() < deadline
            time.sleep(0.05)
        urgent.send([str(first)])
        time.sleep(0.5)  # the urgent message is taken too, after the waiting ones
        release.set()
        broker.join(QUEUE, timeout=10_000)
        broker.join(URGENT_QUEUE, timeout=10_000)
        assert done == [str(blocker), str(first)] + [str(i) for i in waiting]
    finally:
        worker.stop()
        broker.close()
