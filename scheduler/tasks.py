"""The Dramatiq broker and the sender actor: it takes an id, reloads and re-checks (StepSender)."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker

from application.sending import StepSender

QUEUE = "steps"
ACTOR = "send_steps"
#: A live crossing's first step (the urgent lane) has its own queue and goes before anything else
#: a worker has taken: Dramatiq hands a worker's threads its messages lowest priority first.
URGENT_QUEUE = "steps-urgent"
URGENT_ACTOR = "send_urgent_steps"
PRIORITY, URGENT_PRIORITY = 10, 0
#: Well inside the sender's dispatch timeout, so a live send is never taken for a dead one.
TIME_LIMIT_MS = 60_000


def make_broker(redis_url: str | None, namespace: str, *, heartbeat_timeout_ms: int = 15_000,
                maintenance_chance: int = 100_000) -> dramatiq.Broker:
    """Dramatiq over Redis when configured; an in-process broker otherwise (embedded)."""
    if redis_url is None:
        broker: dramatiq.Broker = StubBroker()
        broker.emit_after("process_boot")
        return broker
    return RedisBroker(url=redis_url, namespace=namespace, heartbeat_timeout=heartbeat_timeout_ms,
                       maintenance_chance=maintenance_chance)


def outstanding_counter(broker: dramatiq.Broker,
                        queue: str = QUEUE) -> Callable[[], int] | None:
    """How many send batches are queued or being worked on, for the claim loop's back-pressure.

    Dramatiq's Redis broker keeps each message's body in ``{namespace}:{queue}.msgs`` from enqueue
    until ack, so its length counts both. The in-process broker has no such count (None).
    """
    if not isinstance(broker, RedisBroker):
        return None
    key = f"{broker.namespace}:{queue}.msgs"
    client = broker.client
    return lambda: int(client.hlen(key))


def declare_send_steps(broker: dramatiq.Broker, sender: Callable[[], StepSender], *,
                       urgent: bool = False) -> dramatiq.Actor:
    """The actor that sends a batch of executions' due steps (``urgent``: the one for the urgent
    lane); ``sender`` builds the service lazily. Each id is re-checked, so a repeated or stale
    message does nothing."""

    def send_steps(execution_ids: list[str]) -> None:
        sender().send_batch([UUID(x) for x in execution_ids])

    declare = dramatiq.actor(actor_name=URGENT_ACTOR if urgent else ACTOR,
                             queue_name=URGENT_QUEUE if urgent else QUEUE, broker=broker,
                             priority=URGENT_PRIORITY if urgent else PRIORITY,
                             max_retries=20, min_backoff=500, max_backoff=60_000,
                             time_limit=TIME_LIMIT_MS)
    return declare(send_steps)
