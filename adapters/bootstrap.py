"""The composition root: settings in, concrete parts wired together out."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from typing import Any

import dramatiq
import psycopg
import redis
from eventsourcing.postgres import PostgresAggregateRecorder
from sqlalchemy import Engine, create_engine, event, select, text

from adapters.channels import InAppSender, OutboxSender, SmtpEmailSender
from adapters.credentials import Argon2Hasher, SqlCredentials, WindowLimiter
from adapters.pg_listen import PgNotifyListener
from adapters.pg_streams import PostgresStreams
from adapters.settings import Settings
from adapters.templating import JinjaRenderer
from application.app import FollowUp
from application.due_feeder import DueFeeder
from application.follower import Consumer, Follower, LocalWaiter, Waiter
from application.ports import ChannelSender, Clock, DueSchedule, SystemClock
from application.sending import StepSender
from application.trigger import TriggerPolicy
from projections.base import SCHEMA_LOCK, ReadModels, positions
from projections.catalogue import CatalogueProjection
from projections.directory import DirectoryProjection
from projections.due_steps import DueStepsProjection
from projections.lead_history import LeadHistoryProjection
from projections.messages import MessagesProjection
from scheduler.claimer import Claimer
from scheduler.due_index import MemoryDueSchedule, RedisDueSchedule
from scheduler.tasks import (
    QUEUE,
    URGENT_QUEUE,
    declare_send_steps,
    make_broker,
    outstanding_counter,
)

log = logging.getLogger(__name__)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


@dataclass
class Runtime:
    """Everything one process needs, built lazily: nothing connects until it is used."""

    settings: Settings
    clock: Clock = field(default_factory=SystemClock)
    threads: list[threading.Thread] = field(default_factory=list)
    stoppables: list[Any] = field(default_factory=list)
    local_waiters: list[LocalWaiter] = field(default_factory=list)
    #: Channel senders to use instead of the configured ones (tests, fixtures), by channel name
    channel_overrides: dict[str, ChannelSender] = field(default_factory=dict)
    followers: list[Follower] = field(default_factory=list)  # made in this process

    @cached_property
    def app(self) -> FollowUp:
        directory = self.directory  # takes the schema lock itself: before ours, not inside it
        with schema_lock(self.settings.database_url):
            app = FollowUp(env=self.settings.eventsourcing_env(), clock=self.clock,
                           renderer=JinjaRenderer(), directory=directory)
        app.credentials = self.credentials
        app.catalogue = self.catalogue
        app.passwords = Argon2Hasher()
        app.sign_in_limiter = self.sign_in_limiter
        if isinstance(app.recorder, PostgresAggregateRecorder):
            snapshots = app.snapshots.recorder if app.snapshots is not None else None
            assert snapshots is None or isinstance(snapshots, PostgresAggregateRecorder)
            app.read_streams = PostgresStreams(app.recorder, snapshots)
        app.on_saved.append(self._wake_local)
        return app

    @cached_property
    def engine(self) -> Engine:
        url = self.settings.read_model_url()
        if url.startswith("sqlite"):
            # Statement parameters (names, addresses) never appear in an error or a log line
            engine = create_engine(url, connect_args={"check_same_thread": False,
                                                      "timeout": 10}, hide_parameters=True)
            event.listen(engine, "connect", _sqlite_pragmas)
            return engine
        return create_engine(url, pool_size=5, max_overflow=10, pool_pre_ping=True,
                             hide_parameters=True)

    @cached_property
    def credentials(self) -> SqlCredentials:
        store = SqlCredentials(self.engine)
        store.create()
        return store

    @cached_property
    def sign_in_limiter(self) -> WindowLimiter:
        s = self.settings
        return WindowLimiter(s.redis_url or "memory://", per_account=s.sign_in_limit_per_account,
                             per_address=s.sign_in_limit_per_address,
                             minutes=s.sign_in_window_minutes, prefix=s.redis_prefix)

    @cached_property
    def history(self) -> LeadHistoryProjection:
        projection = LeadHistoryProjection(self.engine)
        projection.create()
        return projection

    @cached_property
    def directory(self) -> DirectoryProjection:
        projection = DirectoryProjection(self.engine)
        projection.create()
        return projection

    @cached_property
    def catalogue(self) -> CatalogueProjection:
        projection = CatalogueProjection(self.engine)
        projection.create()
        return projection

    @cached_property
    def messages(self) -> MessagesProjection:
        projection = MessagesProjection(self.engine)
        projection.create()
        return projection

    @cached_property
    def due_steps(self) -> DueStepsProjection:
        projection = DueStepsProjection(self.engine)
        projection.create()
        return projection

    @cached_property
    def redis(self) -> redis.Redis | None:
        url = self.settings.redis_url
        return redis.Redis.from_url(url) if url else None

    @cached_property
    def schedule(self) -> DueSchedule:
        if self.redis is None:
            return MemoryDueSchedule()
        return RedisDueSchedule(self.redis, self.settings.redis_prefix)

    @cached_property
    def broker(self) -> dramatiq.Broker:
        s = self.settings
        url = s.broker_url or s.redis_url
        return make_broker(url, f"{s.redis_prefix}-dq",
                           heartbeat_timeout_ms=s.broker_heartbeat_timeout_ms)

    @cached_property
    def send_steps(self) -> dramatiq.Actor:
        return declare_send_steps(self.broker, lambda: self.sender)

    @cached_property
    def send_urgent_steps(self) -> dramatiq.Actor:
        return declare_send_steps(self.broker, lambda: self.sender, urgent=True)

    @cached_property
    def channels(self) -> dict[str, ChannelSender]:
        configured = {name: self._channel(name) for name in ("email", "sms", "in_app")
                      if name not in self.channel_overrides}
        return {**configured, **self.channel_overrides}

    def _channel(self, name: str) -> ChannelSender:
        s = self.settings
        if name == "in_app":
            return InAppSender()
        if name == "email" and s.smtp_host:
            return SmtpEmailSender(
                s.smtp_host, s.smtp_port, s.smtp_from, timeout=s.smtp_timeout_seconds,
                username=s.smtp_username, starttls=s.smtp_starttls,
                password=s.smtp_password.get_secret_value() if s.smtp_password else None)
        return OutboxSender(s.outbox / name)

    @cached_property
    def sender(self) -> StepSender:
        return StepSender(self.app, self.channels,
                          dispatch_timeout=timedelta(seconds=self.settings.dispatch_timeout_seconds))

    @cached_property
    def listener(self) -> PgNotifyListener | None:
        if self.settings.database_url is None:
            return None
        listener = PgNotifyListener(self.settings.database_url, "followup_events")
        listener.start()
        self.stoppables.append(listener)
        return listener

    # Followers -------------------------------------------------------------

    def _wake_local(self) -> None:
        for waiter in self.local_waiters:
            waiter.wake()

    def _waiter(self) -> Waiter:
        if self.listener is not None:
            return self.listener.waiter()
        waiter = LocalWaiter()
        self.local_waiters.append(waiter)
        return waiter

    def follower(self, consumer: Consumer, coalesce: float = 0.0) -> Follower:
        follower = Follower(self.app, consumer, self._waiter(),
                            idle_wait=self.settings.follower_idle_seconds, coalesce=coalesce)
        self.followers.append(follower)  # reported by ``health``
        return follower

    def scheduler_followers(self, claimer: Claimer | None = None) -> list[Follower]:
        """The trigger and the due feeder; both wake ``claimer`` for an urgent step (the trigger
        offers it to the index at once, the feeder indexes it from the log)."""
        wake = claimer.wake if claimer else None
        return [self.follower(TriggerPolicy(self.app, self.schedule if claimer else None, wake)),
                self.follower(DueFeeder(self.schedule, self.due_steps,
                                        on_urgent=wake))]

    @cached_property
    def read_models(self) -> ReadModels:
        return ReadModels(self.engine, [self.history, self.messages, self.directory,
                                        self.catalogue, self.due_steps])

    def projector_followers(self) -> list[Follower]:
        # One follower for every read model: the log is read and decoded once for all of them
        return [self.follower(self.read_models, self.settings.projector_coalesce_ms / 1000)]

    def claimer(self) -> Claimer:
        s = self.settings
        regular, urgent = self.send_steps, self.send_urgent_steps
        return Claimer(self.schedule, regular.send, self.clock,
                       batch_size=s.scheduler_batch_size, dispatch_batch=s.scheduler_dispatch_batch,
                       lease_ms=s.scheduler_lease_seconds * 1000,
                       idle_wait=s.scheduler_poll_ms / 1000,
                       outstanding=outstanding_counter(self.broker),
                       max_outstanding=s.scheduler_max_outstanding_batches,
                       urgent=urgent.send,
                       urgent_outstanding=outstanding_counter(self.broker, URGENT_QUEUE))

    def worker(self) -> dramatiq.Worker:
        # The actors must be declared before the worker starts, or it consumes no queue of theirs
        self.send_steps  # noqa: B018
        self.send_urgent_steps  # noqa: B018
        queues = {"all": None, "regular": {QUEUE}, "urgent": {URGENT_QUEUE}}
        worker = dramatiq.Worker(self.broker, queues=queues[self.settings.worker_queues],
                                 worker_threads=self.settings.worker_threads,
                                 worker_timeout=self.settings.worker_poll_ms)
        # Take no more than the threads can work on: what is not taken stays in the shared queue
        # for an idle worker, and the claim loop's back-pressure sees it (Dramatiq prefetches
        # twice the threads by default, and only reads this from its environment at import).
        worker.queue_prefetch = self.settings.worker_threads
        return worker

    # Running ---------------------------------------------------------------

    def spawn(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=_supervised(name, target), name=name, daemon=True)
        thread.start()
        self.threads.append(thread)

    def start_scheduler(self) -> None:
        claimer = self.claimer()
        for follower in self.scheduler_followers(claimer):
            self.stoppables.append(follower)
            self.spawn(follower.consumer.name, follower.run)
        self.stoppables.append(claimer)
        self.spawn("claimer", claimer.run)

    def start_projector(self) -> None:
        for follower in self.projector_followers():
            self.stoppables.append(follower)
            self.spawn(follower.consumer.name, follower.run)

    def start_worker(self) -> dramatiq.Worker:
        worker = self.worker()
        # Before taking messages: otherwise the first ones (a new hot lead's first touch, say)
        # wait while the process connects, reads the catalogue and compiles templates
        ready = self.sender.warm(connections=self.settings.worker_threads)
        if self.settings.sms_provider == "outbox" and not self.settings.embedded:
            log.warning("SMS is written to the outbox folder %s, not sent: no SMS provider is "
                        "configured (FOLLOWUP_SMS_PROVIDER)", self.settings.outbox / "sms")
        log.info("worker ready: catalogue read, %d templates compiled, provider connections "
                 "opened where reachable", ready)
        worker.start()
        self.stoppables.append(worker)
        return worker

    def stop(self) -> None:
        for part in reversed(self.stoppables):
            part.stop()
        for thread in self.threads:
            thread.join(timeout=5)
        if "app" in self.__dict__:
            self.app.close()

    def health(self) -> dict[str, Any]:
        checks: dict[str, Any] = {}
        checks["eventStore"] = _check(lambda: self.app.recorder.max_notification_id())
        checks["readModels"] = _check(lambda: _ping_sql(self.engine))
        if self.redis is not None:
            checks["redis"] = _check(self.redis.ping)
        broker_client = getattr(self.broker, "client", None)
        checks["broker"] = _check(broker_client.ping) if broker_client else {"ok": True,
                                                                             "kind": "in-process"}
        checks["followers"] = self._followers_health()
        checks["channels"] = {"ok": True, **self.channel_kinds()}
        return checks

    def _followers_health(self) -> dict[str, Any]:
        """Each follower running in this process (position, lag, failure), and every consumer's
        stored position and lag wherever it runs (a split deployment's API runs none)."""
        try:
            head = self.app.recorder.max_notification_id() or 0
            running = [dict(s, lag=head - s["position"]) for f in self.followers
                       for s in f.status()]
            stored = [{"name": name, "position": position, "lag": head - position}
                      for name, position in self._stored_positions()]
        except Exception as e:
            return {"ok": False, "error": type(e).__name__}
        ok = not any(s["failing"] for s in running)
        return {"ok": ok, "head": head, "running": running, "stored": stored}

    def _stored_positions(self) -> list[tuple[str, int]]:
        with self.engine.connect() as conn:
            found = [(r.name, int(r.position)) for r in
                     conn.execute(select(positions.c.name, positions.c.position)
                                  .order_by(positions.c.name))]
        tracked = self.app.recorder.max_tracking_id(TriggerPolicy.name)  # type: ignore[attr-defined]
        return [(TriggerPolicy.name, tracked or 0), (DueFeeder.name, self.schedule.position()),
                *found]

    def channel_kinds(self) -> dict[str, str]:
        """Where each channel's messages go, as configured (no secrets, no addresses)."""
        s = self.settings
        email = f"smtp {s.smtp_host}:{s.smtp_port}" if s.smtp_host else "outbox folder"
        return {"email": email, "sms": f"{s.sms_provider} folder", "in_app": "in-app inbox"}


@contextmanager
def schema_lock(database_url: str | None) -> Iterator[None]:
    """Hold the schema advisory lock while the event store creates its tables (if missing), so
    processes starting together do not race on CREATE."""
    if database_url is None:
        yield
        return
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK,))
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK,))


def _ping_sql(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def _check(probe: Callable[[], Any]) -> dict[str, Any]:
    try:
        probe()
        return {"ok": True}
    except Exception as e:
        return {"ok": False, "error": type(e).__name__}


def _supervised(name: str, target: Callable[[], None]) -> Callable[[], None]:
    """Restart a loop that died of an error, after a pause; a clean return ends it."""

    def run() -> None:
        while True:
            try:
                target()
                return
            except Exception:
                log.exception("%s failed; restarting in 1 s", name)
                threading.Event().wait(1.0)

    return run
