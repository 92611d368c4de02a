"""The application core: one event log for every aggregate, and what every use case needs."""

from __future__ import annotations

import contextlib
import copy
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, ProcessRecorder, StoredEvent, Tracking

from application.errors import Conflict, NotFound, refused
from application.ports import Clock, Directory, SystemClock, TemplateRenderer
from domain.errors import DomainError
from domain.ids import CATALOG_ID
from domain.workflow import PublishedWorkflows

T = TypeVar("T")
A = TypeVar("A", bound=Aggregate)

CONFLICT_RETRIES = 8


class Core(Application[UUID]):
    """Loading, saving with tracking, retrying on conflicts; the ports use cases reach."""

    name = "FollowUp"
    # No snapshots: streams are short (an execution is tens of events), and a snapshot store costs
    # every load a second query. Long lead streams are the case to revisit (see docs).

    def __init__(self, env: dict[str, str] | None = None, *, clock: Clock | None = None,
                 renderer: TemplateRenderer | None = None,
                 directory: Directory | None = None) -> None:
        super().__init__(env=env)
        self.clock = clock or SystemClock()
        self.renderer = renderer
        self.directory = directory
        self.on_saved: list[Callable[[], None]] = []
        self._catalog: PublishedWorkflows | None = None
        self._catalog_lock = threading.Lock()
        # Reads many streams in one query, where the store allows it (set by the composition root).
        self.read_streams: Callable[[Sequence[UUID]], Sequence[StoredEvent]] | None = None

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
        self._take_snapshots(processing_event)
        self._notify(recordings)
        for wake in self.on_saved:
            wake()
        return recordings

    # Helpers ---------------------------------------------------------------

    def load(self, kind: type[A], ident: UUID) -> A:
        try:
            found: Aggregate = self.repository.get(ident)
        except AggregateNotFoundError:
            raise NotFound(kind.__name__, ident) from None
        if not isinstance(found, kind):
            raise NotFound(kind.__name__, ident)
        return found

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
        rebuilt: dict[UUID, Any] = {}
        for stored in self.read_streams(asked):
            domain_event = self.mapper.to_domain_event(stored)
            ident = domain_event.originator_id
            rebuilt[ident] = domain_event.mutate(rebuilt.get(ident))  # type: ignore[attr-defined]
        return {i: rebuilt[i] for i in asked if isinstance(rebuilt.get(i), kind)}

    def exists(self, ident: UUID) -> bool:
        return ident in self.repository

    def retrying(self, command: Callable[[], T]) -> T:
        """Run a load-decide-save command again (reloading) when another writer got there first."""
        for _ in range(CONFLICT_RETRIES):
            try:
                return command()
            except IntegrityError:
                continue
            except DomainError as e:
                raise refused(e) from e
        raise Conflict("the aggregate kept changing; try again")

    def catalog(self) -> PublishedWorkflows:
        """The catalogue as of now, to read only (never change it: it is shared).

        Every send batch and every score change reads it, and its stream grows with every
        publish and hold of every workflow, so each process keeps it and reads only the events
        after the version it holds; new events are applied to a copy, so a reader holding the
        previous one never sees it change."""
        with self._catalog_lock:
            held = self._catalog
            new = list(self.events.get(CATALOG_ID, gt=held.version if held else None))
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
            found: Aggregate = self.repository.get(CATALOG_ID)
            assert isinstance(found, PublishedWorkflows)
            return found
        except AggregateNotFoundError:
            return PublishedWorkflows.open()

    def save_in_batches(self, aggregates: list[Any], size: int = 100) -> None:
        """Save many independent changes, ``size`` aggregates per transaction."""
        for i in range(0, len(aggregates), size):
            self.save(*aggregates[i:i + size])
