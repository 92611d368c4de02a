"""The application core: one event log for every aggregate, and what every use case needs."""

from __future__ import annotations

import contextlib
import copy
import logging
import threading
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import PersistenceError, ProcessRecorder, Tracking

from application.credentials import AttemptLimiter, Credentials, PasswordHasher
from application.errors import Conflict, NotFound, StaleVersion, refused
from application.ports import (
    Catalogue,
    Clock,
    Directory,
    Streams,
    SystemClock,
    TemplateRenderer,
)
from application.retrying import retry_conflicts
from application.snapshots import DEFAULT_INTERVAL, SNAPSHOTTED, Snapshots
from domain.errors import DomainError
from domain.ids import CATALOG_ID
from domain.workflow import PublishedWorkflows

T = TypeVar("T")
A = TypeVar("A", bound=Aggregate)

log = logging.getLogger(__name__)


def expect_version(aggregate: Aggregate, if_match: Collection[int] | None) -> None:
    """Refuse (``StaleVersion``) a change made to what the caller read at another version:
    ``if_match`` holds the versions it may have read (None: no such condition)."""
    if if_match is not None and aggregate.version not in if_match:
        raise StaleVersion(type(aggregate).__name__, aggregate.id, aggregate.version)


class Core(Application[UUID]):
    """Loading, saving with tracking, retrying on conflicts; the ports use cases reach."""

    name = "FollowUp"
    # Snapshots of leads and the catalogue only, whose streams grow without bound (see
    # application/snapshots.py); the library's repository has none, so loading any other kind
    # costs one query. ``FOLLOWUP_SNAPSHOT_INTERVAL`` (events between snapshots) 0 turns them off.

    def __init__(self, env: dict[str, str] | None = None, *, clock: Clock | None = None,
                 renderer: TemplateRenderer | None = None,
                 directory: Directory | None = None) -> None:
        super().__init__(env=env)
        self.clock = clock or SystemClock()
        self.renderer = renderer
        self.directory = directory
        self.catalogue: Catalogue | None = None  # the lists of workflows and templates
        self.on_saved: list[Callable[[], None]] = []
        # Credential material, outside the log (set by the composition root; see accounts.py).
        self.credentials: Credentials | None = None
        self.passwords: PasswordHasher | None = None
        self.sign_in_limiter: AttemptLimiter | None = None
        self._catalog: PublishedWorkflows | None = None
        self._catalog_lock = threading.Lock()
        # Reads many streams in one query, where the store allows it (set by the composition root).
        self.read_streams: Streams | None = None
        interval = int(self.env.get("SNAPSHOT_INTERVAL", str(DEFAULT_INTERVAL)))
        self.snapshotting: Snapshots | None = None
        if interval > 0:
            self.snapshots = self.snapshots or self.construct_snapshot_store()
            self.snapshotting = Snapshots(self.snapshots, interval)

    def construct_recorder(self) -> ProcessRecorder:  # type: ignore[override]
        # A process recorder writes a follower's new events and its tracking position in the
        # same transaction, into this same log.
        recorder = self.factory.process_recorder()
        assert isinstance(recorder, ProcessRecorder)
        return recorder

    def save(self, *objs: Any, tracking: Tracking | None = None, **kwargs: Any) -> Any:
        """Save atomically; a follower passes its ``tracking`` position to be written with it."""
        processing_event: ProcessingEvent[UUID] = ProcessingEvent(tracking=tracking)
        for obj in objs:
            if isinstance(obj, Aggregate):
                # What ProcessingEvent.collect_events does for an aggregate, without its two
                # isinstance checks against runtime Protocols (slow on Python 3.11: about a
                # fifth of the CPU of a save).
                processing_event.events.extend(obj.collect_events())
                processing_event.aggregates[obj.id] = obj
            else:
                processing_event.collect_events(obj)
        processing_event.saved_kwargs.update(kwargs)
        recordings = self._record(processing_event)
        if self.snapshotting is not None:
            self.snapshotting.saved(processing_event.events, processing_event.aggregates)
        self._notify(recordings)
        for wake in self.on_saved:
            wake()
        return recordings

    # Helpers ---------------------------------------------------------------

    def load(self, kind: type[A], ident: UUID) -> A:
        if self.snapshotting is not None and kind in SNAPSHOTTED:
            found: Aggregate | None = self._load_from_snapshot(kind, ident)
        else:
            try:
                found = self.repository.get(ident)
            except AggregateNotFoundError:
                found = None
        if not isinstance(found, kind):
            raise NotFound(kind.__name__, ident)
        return found

    def _load_from_snapshot(self, kind: type[Aggregate], ident: UUID) -> Aggregate | None:
        assert self.snapshotting is not None
        if self.read_streams is not None:  # one query instead of two
            return self._after_snapshots(kind, [ident]).get(ident)
        start = self.snapshotting.latest(kind, ident)
        after = start.originator_version if start is not None else None
        aggregate = start.mutate(None) if start is not None else None
        replayed = 0
        domain_event: Any
        for domain_event in self.events.get(ident, gt=after):
            aggregate = domain_event.mutate(aggregate)
            replayed += 1
        self.snapshotting.loaded(aggregate, replayed)
        return aggregate

    def load_many(self, kind: type[A], idents: Sequence[UUID]) -> dict[UUID, A]:
        """The aggregates of these ids that exist and are of ``kind``, in the order asked, in
        as few queries as the store allows (one on PostgreSQL)."""
        if self.read_streams is None or len(idents) < 2:
            found: dict[UUID, A] = {}
            for ident in idents:
                with contextlib.suppress(NotFound):
                    found[ident] = self.load(kind, ident)
            return found
        asked = list(dict.fromkeys(idents))
        if self.snapshotting is not None and kind in SNAPSHOTTED:
            rebuilt = self._after_snapshots(kind, asked)
        else:
            rebuilt = {}
            for stored in self.read_streams.events(asked):
                domain_event = self.mapper.to_domain_event(stored)
                ident = domain_event.originator_id
                rebuilt[ident] = domain_event.mutate(rebuilt.get(ident))  # type: ignore[attr-defined]
        return {i: rebuilt[i] for i in asked if isinstance(rebuilt.get(i), kind)}

    def _after_snapshots(self, kind: type[Aggregate], idents: Sequence[UUID]) -> dict[UUID, Any]:
        """Each stream from its newest snapshot of today's code and the events after it, read
        in one query; a stream that replayed a long run of events is snapshotted."""
        assert self.snapshotting is not None and self.read_streams is not None
        keys = [self.snapshotting.key(kind, i) for i in idents]
        try:
            rows = self.read_streams.after_snapshots(idents, keys)
        except PersistenceError as e:  # a cache: without it, the log is read in full
            log.warning("snapshots not read: %s", type(e).__name__)
            rows = [(False, stored) for stored in self.read_streams.events(idents)]
        rebuilt: dict[UUID, Any] = {}
        replayed: Counter[UUID] = Counter()
        for is_snapshot, stored in rows:
            decoded: Any = self.mapper.to_domain_event(stored)
            ident = decoded.originator_id
            rebuilt[ident] = decoded.mutate(None if is_snapshot else rebuilt.get(ident))
            replayed[ident] += not is_snapshot
        for ident, count in replayed.items():
            self.snapshotting.loaded(rebuilt[ident], count)
        return rebuilt

    def exists(self, ident: UUID) -> bool:
        return bool(list(self.events.get(ident, limit=1)))

    def retrying(self, command: Callable[[], T]) -> T:
        """Run a load-decide-save command again (reloading) when another writer got there first;
        a rule of the domain that refuses it is not retried."""
        try:
            return retry_conflicts(command, lambda: Conflict("the aggregate kept changing; "
                                                             "try again"))
        except DomainError as e:
            raise refused(e) from e

    def catalog(self) -> PublishedWorkflows:
        """The catalogue as of now, to read only (never change it: it is shared).

        Every send batch and every score change reads it, and its stream grows with every
        publish and hold of every workflow, so each process keeps it and reads only the events
        after the version it holds; new events are applied to a copy, so a reader holding the
        previous one never sees it change."""
        with self._catalog_lock:
            held = self._catalog
            if held is None:
                with contextlib.suppress(NotFound):
                    self._catalog = held = self.load(PublishedWorkflows, CATALOG_ID)
                return held if held is not None else PublishedWorkflows.open()
            new = list(self.events.get(CATALOG_ID, gt=held.version))
            if new:
                fresh: Any = copy.deepcopy(held)
                for domain_event in new:
                    fresh = domain_event.mutate(fresh)  # type: ignore[attr-defined]
                assert isinstance(fresh, PublishedWorkflows)
                self._catalog = held = fresh
        return held if held is not None else PublishedWorkflows.open()

    def catalog_to_change(self) -> PublishedWorkflows:
        """The catalogue read afresh, for a command that changes and saves it."""
        try:
            return self.load(PublishedWorkflows, CATALOG_ID)
        except NotFound:
            return PublishedWorkflows.open()
