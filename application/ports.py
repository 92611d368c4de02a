"""Ports: the small abstract classes through which use cases reach the outside world."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from application.list_views import (
    ExecutionFilter,
    ExecutionSummary,
    LeadFilter,
    LeadSummary,
    Page,
    PageAsk,
    Reach,
    TemplateSummary,
    WorkflowSummary,
)
from domain.priority import LANES


class Clock(ABC):
    @abstractmethod
    def now(self) -> datetime:
        """The current instant, timezone-aware."""


class SystemClock(Clock):
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass(frozen=True)
class OutgoingMessage:
    message_id: UUID
    lead_id: UUID
    channel: str
    recipient: str
    subject: str | None
    body: str
    headers: dict[str, str] = field(default_factory=dict)


class ChannelSender(ABC):
    """Delivers one rendered message on one channel; returns the provider's id for it."""

    #: True when sending the same message id twice delivers it once (so a send whose process
    #: died may simply be tried again); False when a repeat would reach the lead twice.
    idempotent: bool = False

    @abstractmethod
    def send(self, message: OutgoingMessage) -> str:
        """Raise TransientSendError or PermanentSendError when it cannot."""

    def open(self, connections: int) -> int:
        """Open up to ``connections`` connections to the provider before the first sends need
        them; returns how many it opened (none where a channel keeps no connection)."""
        return 0


class TemplateRenderer(ABC):
    @abstractmethod
    def check(self, text: str, field: str) -> None:
        """Raise Invalid naming ``field`` when ``text`` is not a usable template."""

    @abstractmethod
    def render(self, text: str, context: dict[str, Any]) -> str:
        """Render ``text`` with ``context``; unknown variables are errors."""


# (member, due epoch ms or None to remove, lane): see domain.priority for the lanes.
DueChange = tuple[str, int | None, int]


class DueSnapshot(ABC):
    """The due index's contents as of a position of the log, kept where Redis is not."""

    @abstractmethod
    def snapshot(self, chunk: int = 10_000) -> tuple[int, Iterator[list[DueChange]]]:
        """The position, and the members as of it in chunks (read in one consistent snapshot;
        consume the chunks to the end)."""


class DueSchedule(ABC):
    """The index of due steps: one member per execution whose next step is scheduled.

    It is a projection of the log: it keeps its own position, changed atomically with its members.
    """

    #: Whether an empty index behind the log means its data was lost (Redis flushed or restarted
    #: without data), rather than an index that starts empty by design (in process memory).
    lost_when_empty: ClassVar[bool] = True

    @abstractmethod
    def position(self) -> int:
        """The log position of the last change applied (0 when empty or lost)."""

    @abstractmethod
    def apply(self, changes: list[DueChange], expected: int, position: int,
              at: Sequence[int | None] | None = None) -> None:
        """Set (member, due epoch ms, lane) or remove (member, None, _), and move to
        ``position``. Claims drain lane 0 first; within a lane, earliest due first. ``at``
        gives a change's own log position where it may have been offered: a change that an
        ``offer`` already made is not made again (a claim may have leased the member since;
        setting it again would have it claimed twice).

        Raise ``PositionMoved`` when the stored position is not ``expected``.
        """

    @abstractmethod
    def claim(self, now_ms: int, limit: int, lease_ms: int,
              lanes: range = range(LANES)) -> list[str]:
        """Take up to ``limit`` members due at ``now_ms`` from ``lanes`` (lower lanes first);
        each comes back after ``lease_ms`` unless the log moves it first."""

    @abstractmethod
    def offer(self, member: str, due_ms: int, lane: int, position: int) -> bool:
        """Add ``member`` ahead of the feeder, unless the index already followed the log to
        ``position`` (the log position of the change that schedules it: the feeder set it, and
        may have moved it since) or holds it in some lane. The feeder's ``apply`` of that change
        then leaves it as it is. Returns whether it was added."""

    @abstractmethod
    def due_at(self, member: str) -> int | None:
        """The member's due time (or lease expiry) in epoch ms, if it is in the index."""

    @abstractmethod
    def size(self) -> int: ...


class Directory(ABC):
    """Read-model lookups some use cases need (eventually consistent with the log)."""

    @abstractmethod
    def leads_at_or_above(self, brokerage_id: UUID, agent_id: str, score: int) -> list[UUID]:
        """Leads of the brokerage's agent whose current score is at least ``score``."""

    @abstractmethod
    def live_executions(self, workflow_id: UUID) -> list[tuple[UUID, int]]:
        """(execution id, workflow version) of the workflow's active and paused executions."""

    @abstractmethod
    def template_users(self, template_id: UUID) -> list[UUID]:
        """Workflows that have (or had, in a draft or a version) a step with the template."""

    @abstractmethod
    def held_executions(self, workflow_id: UUID) -> list[UUID]:
        """Executions of the workflow whose due step waits for the workflow's resume."""

    @abstractmethod
    def dead_letters(self, *, agent_id: str | None = None, workflow_id: UUID | None = None,
                     limit: int = 1000,
                     brokerage_id: UUID | None = None) -> list[dict[str, Any]]:
        """Executions held at a dead-lettered step, oldest first: ``execution_id``,
        ``lead_id``, ``workflow_id``, ``agent_id``, ``step_no``, ``attempts``, ``reason``,
        ``dead_lettered_at``."""

    @abstractmethod
    def lead_page(self, reach: Reach, wanted: LeadFilter, page: PageAsk) -> Page[LeadSummary]:
        """Leads in ``reach`` that match, in ``wanted.sort``'s order; ``Invalid`` naming the
        query field for a cursor this list did not give."""

    @abstractmethod
    def execution_page(self, reach: Reach, wanted: ExecutionFilter,
                       page: PageAsk) -> Page[ExecutionSummary]:
        """Executions of leads in ``reach`` that match, the latest started first."""


class Catalogue(ABC):
    """The lists of workflows and templates (a read model: eventually consistent)."""

    @abstractmethod
    def workflow_page(self, reach: Reach, status: str | None, page: PageAsk,
                      sent_since: datetime) -> Page[WorkflowSummary]:
        """Workflows in ``reach`` by name, each with its steps sent since ``sent_since``."""

    @abstractmethod
    def template_page(self, reach: Reach, channel: str | None,
                      page: PageAsk) -> Page[TemplateSummary]:
        """Templates in ``reach`` (an agent's: their own and the brokerage's own) by name."""


class Streams(ABC):
    """Many streams read at once, in one query (PostgreSQL)."""

    @abstractmethod
    def events(self, originator_ids: Sequence[UUID]) -> Sequence[StoredEvent]:
        """The streams' events, by stream, then version."""

    @abstractmethod
    def after_snapshots(self, originator_ids: Sequence[UUID],
                        keys: Sequence[UUID]) -> Sequence[tuple[bool, StoredEvent]]:
        """For each stream, the newest snapshot filed under its key (``True``, given as a
        snapshot of the stream), then its events after that snapshot (``False``); by stream,
        then version."""
