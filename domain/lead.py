"""The Lead aggregate: who the lead is, its score, its status and its enrolments."""

from __future__ import annotations

from collections.abc import Callable
from copy import deepcopy
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import Any
from uuid import UUID
from zoneinfo import available_timezones

from eventsourcing.domain import Aggregate, event

from domain.actors import upcast_no_actor
from domain.channels import parse_channel
from domain.errors import InvalidState, InvalidValue
from domain.ids import DEFAULT_BROKERAGE_ID
from domain.scoring import MAX_SCORE, MIN_SCORE


class LeadStatus(StrEnum):
    NEW = "new"
    CONTACTED = "contacted"
    QUALIFIED = "qualified"
    NURTURING = "nurturing"
    NEGOTIATING = "negotiating"
    CLOSED = "closed"
    LOST = "lost"


#: Statuses in which no follow-up may be sent.
STOPPING_STATUSES = frozenset({LeadStatus.CLOSED, LeadStatus.LOST})


def check_score(score: int, field: str = "score") -> int:
    if isinstance(score, bool) or not isinstance(score, int):
        raise InvalidValue(field, "must be a whole number")
    if not MIN_SCORE <= score <= MAX_SCORE:
        raise InvalidValue(field, f"must be between {MIN_SCORE} and {MAX_SCORE}")
    return score


#: Names of the time zone database that are not a place's time: the machine's own zone and
#: the database's placeholder.
NOT_ZONES = frozenset({"localtime", "Factory"})


@cache
def known_timezones() -> frozenset[str]:
    """The IANA zones a lead may be in (as the installed time zone database names them)."""
    return frozenset(available_timezones()) - NOT_ZONES


#: How many recent scoring updates' ids a lead remembers, to tell a repeat from news.
RECENT_SCORE_EVENTS = 100
#: How far ahead of our clock a scoring system's clock may run.
CLOCK_SKEW = timedelta(minutes=5)


def check_occurred_at(occurred_at: datetime, now: datetime) -> None:
    if occurred_at.tzinfo is None:
        raise InvalidValue("occurredAt", "must carry a time zone offset")
    if occurred_at > now + CLOCK_SKEW:
        raise InvalidValue("occurredAt", f"is in the future (now is {now.isoformat()})")


def check_timezone(name: str) -> str:
    if name not in known_timezones():
        raise InvalidValue("timezone", f"{name!r} is not a known IANA time zone")
    return name


def check_name(name: str) -> str:
    if not name.strip():
        raise InvalidValue("name", "must not be empty")
    return name.strip()


def normal_source(source: str | None) -> str | None:
    return source.strip().lower() if source and source.strip() else None


def iso_date(day: date | None) -> str | None:
    return day.isoformat() if day else None


#: What a profile edit may change, each with how it is checked and stored as at registration.
PROFILE: dict[str, Callable[[Any], Any]] = {
    "name": check_name, "email": lambda v: v, "phone": lambda v: v,
    "timezone": check_timezone, "preferences": deepcopy, "timeline": lambda v: v,
    "source": normal_source, "move_by": iso_date,
}


class Lead(Aggregate):
    TOPIC = "followup.lead"
    id: UUID  # given by the caller: a deterministic identity

    class Created(Aggregate.Created):
        TOPIC = "followup.lead.registered"
        class_version = 2
        brokerage_id: UUID
        agent_id: str
        name: str
        email: str | None
        phone: str | None
        timezone: str
        preferences: dict[str, Any]
        timeline: str | None
        score: int
        source: str | None
        move_by: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Leads registered before accounts existed belong to the default brokerage."""
            state["brokerage_id"] = DEFAULT_BROKERAGE_ID

    class ScoreChanged(Aggregate.Event):
        """The score was set (``old`` may equal ``new`` when only the update's time is news).
        ``event_id`` and ``occurred_at`` are the scoring system's, when it gave them."""
        TOPIC = "followup.lead.score_changed"
        class_version = 2
        old: int
        new: int
        reason: str
        at: datetime
        event_id: str | None
        occurred_at: datetime | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Version 1 carried no source event."""
            state.update(event_id=None, occurred_at=None)

    class ScoreIgnored(Aggregate.Event):
        """A score update older than the last one applied: recorded, and the score kept."""
        TOPIC = "followup.lead.score_ignored"
        score: int
        reason: str
        event_id: str | None
        occurred_at: datetime
        why: str
        at: datetime

    class StatusChanged(Aggregate.Event):
        """``by``: who changed it (``domain.actors``)."""
        TOPIC = "followup.lead.status_changed"
        class_version = 2
        old: str
        new: str
        reason: str
        by: str | None
        upcast_v1_v2 = staticmethod(upcast_no_actor)

    class Enrolled(Aggregate.Event):
        TOPIC = "followup.lead.enrolled"
        workflow_id: UUID
        execution_id: UUID

    class EntryRefused(Aggregate.Event):
        """An upward crossing of a workflow's threshold (or a backfill at publish) that started
        nothing, and why: so "why didn't this lead start?" has an answer."""
        TOPIC = "followup.lead.entry_refused"
        workflow_id: UUID
        workflow_version: int
        reason: str
        score_version: int | None  # the crossing ScoreChanged's version; None for a backfill

    class OptedOut(Aggregate.Event):
        """``by``: who acted (``domain.actors``)."""
        TOPIC = "followup.lead.opted_out"
        class_version = 2
        channel: str
        reason: str
        by: str | None
        upcast_v1_v2 = staticmethod(upcast_no_actor)

    class OptedIn(Aggregate.Event):
        """``by``: who acted (``domain.actors``)."""
        TOPIC = "followup.lead.opted_in"
        class_version = 2
        channel: str
        reason: str
        by: str | None
        upcast_v1_v2 = staticmethod(upcast_no_actor)

    class ProfileEdited(Aggregate.Event):
        """The agent edited the lead's profile: ``changes`` holds the fields that changed (by
        attribute: name, email, phone, timezone, preferences, timeline, source, move_by) with
        their new values; ``by`` who acted."""
        TOPIC = "followup.lead.profile_edited"
        changes: dict[str, Any]
        by: str | None

    class Snapshot(Aggregate.Snapshot):  # type: ignore[misc,valid-type]
        TOPIC = "followup.lead.snapshot"

    @event(Created)
    def __init__(
        self,
        brokerage_id: UUID,
        agent_id: str,
        name: str,
        email: str | None,
        phone: str | None,
        timezone: str,
        preferences: dict[str, Any],
        timeline: str | None,
        score: int,
        source: str | None,
        move_by: str | None,
    ) -> None:
        self.brokerage_id = brokerage_id
        self.agent_id = agent_id
        self.name = name
        self.email = email
        self.phone = phone
        self.timezone = timezone
        self.preferences = deepcopy(preferences)
        self.timeline = timeline
        self.score = score
        self.source = source
        self.move_by = move_by
        self.status = LeadStatus.NEW.value
        self.enrolments: dict[str, str] = {}  # the latest execution per workflow
        self.started: list[str] = []  # every execution started for the lead, in order
        self.low_water: dict[str, int] = {}  # lowest score since the last enrolment, per workflow
        self.opted_out: list[str] = []
        self.score_occurred_at: datetime | None = None  # of the latest update applied
        self.score_event_ids: list[str] = []  # the last RECENT_SCORE_EVENTS updates' ids

    @classmethod
    def register(cls, *, lead_id: UUID, agent_id: str, name: str, email: str | None,
                 phone: str | None, timezone: str, preferences: dict[str, Any],
                 timeline: str | None, score: int = 0, source: str | None = None,
                 move_by: date | None = None,
                 brokerage_id: UUID = DEFAULT_BROKERAGE_ID) -> Lead:
        name = check_name(name)
        if not agent_id.strip():
            raise InvalidValue("agentId", "must not be empty")
        return cls(id=lead_id, brokerage_id=brokerage_id, agent_id=agent_id,  # type: ignore[call-arg]
                   name=name, email=email, phone=phone,
                   timezone=check_timezone(timezone), preferences=preferences,
                   timeline=timeline, score=check_score(score), source=normal_source(source),
                   move_by=iso_date(move_by))

    def edit_profile(self, changes: dict[str, Any], by: str | None = None) -> list[str]:
        """Set profile fields (``PROFILE``), checked as at registration; only those that
        differ are recorded, nothing when none does. Returns the fields that changed."""
        for field, value in changes.items():
            if field not in PROFILE:
                raise InvalidValue(field, "is not a profile field")
            if value is None and field in ("name", "timezone", "preferences"):
                raise InvalidValue(field, "must not be null")
        checked = {field: PROFILE[field](value) for field, value in changes.items()}
        changed = {f: v for f, v in checked.items() if getattr(self, f) != v}
        if changed:
            self._profile_edited(changes=changed, by=by)
        return list(changed)

    @event(ProfileEdited)
    def _profile_edited(self, changes: dict[str, Any], by: str | None) -> None:
        for field, value in changes.items():
            setattr(self, field, deepcopy(value))

    @property
    def first_name(self) -> str:
        return self.name.split()[0]

    @property
    def is_stopped(self) -> bool:
        return self.status in STOPPING_STATUSES

    def change_score(self, score: int, reason: str, now: datetime, *, event_id: str | None = None,
                     occurred_at: datetime | None = None) -> str | None:
        """Apply a scoring update; returns why it was not applied, or ``None``. An ``event_id``
        seen among the last updates is a repeat (nothing recorded); an update that
        ``occurred_at`` before the last one applied is recorded as ignored."""
        check_score(score)
        if event_id is not None and event_id in self.score_event_ids:
            return "duplicate eventId"
        last = self.score_occurred_at
        if occurred_at is not None:
            check_occurred_at(occurred_at, now)
            if last is not None and occurred_at < last:
                why = f"older than the last update applied ({last.isoformat()})"
                self._score_ignored(score=score, reason=reason, event_id=event_id,
                                    occurred_at=occurred_at, why=why, at=now)
                return why
        newer = occurred_at is not None and (last is None or occurred_at > last)
        if score == self.score and not newer:
            return "score unchanged"
        self._score_changed(old=self.score, new=score, reason=reason, at=now,
                            event_id=event_id, occurred_at=occurred_at)
        return None

    @event(ScoreChanged)
    def _score_changed(self, old: int, new: int, reason: str, at: datetime,
                       event_id: str | None, occurred_at: datetime | None) -> None:
        self.score = new
        for workflow, low in self.low_water.items():
            self.low_water[workflow] = min(low, new)
        self._noted(event_id, occurred_at)

    @event(ScoreIgnored)
    def _score_ignored(self, score: int, reason: str, event_id: str | None,
                       occurred_at: datetime, why: str, at: datetime) -> None:
        self._noted(event_id, None)

    def _noted(self, event_id: str | None, occurred_at: datetime | None) -> None:
        if occurred_at is not None and (self.score_occurred_at is None
                                        or occurred_at > self.score_occurred_at):
            self.score_occurred_at = occurred_at
        if event_id is not None:
            self.score_event_ids = [*self.score_event_ids, event_id][-RECENT_SCORE_EVENTS:]

    def change_status(self, status: str, reason: str, *, by: str | None = None) -> None:
        try:
            new = LeadStatus(status)
        except ValueError:
            allowed = ", ".join(s.value for s in LeadStatus)
            reason_text = f"{status!r} is not a status; use one of {allowed}"
            raise InvalidValue("status", reason_text) from None
        if new.value != self.status:
            self._status_changed(old=self.status, new=new.value, reason=reason, by=by)

    @event(StatusChanged)
    def _status_changed(self, old: str, new: str, reason: str, by: str | None) -> None:
        self.status = new

    def active_execution_of(self, workflow_id: UUID) -> UUID | None:
        found = self.enrolments.get(str(workflow_id))
        return UUID(found) if found else None

    def execution_ids(self) -> list[UUID]:
        """The latest execution of each workflow the lead entered (what entry rules follow)."""
        return [UUID(e) for e in self.enrolments.values()]

    def all_execution_ids(self) -> list[UUID]:
        """Every execution started for the lead, earlier runs of a workflow included, in the
        order they started."""
        return [UUID(e) for e in self.started]

    def enrol(self, workflow_id: UUID, execution_id: UUID) -> None:
        if self.is_stopped:
            raise InvalidState("status", f"lead is {self.status}; no workflow may start")
        self._enrolled(workflow_id=workflow_id, execution_id=execution_id)

    @event(Enrolled)
    def _enrolled(self, workflow_id: UUID, execution_id: UUID) -> None:
        self.enrolments[str(workflow_id)] = str(execution_id)
        self.started.append(str(execution_id))
        self.low_water[str(workflow_id)] = self.score

    def refuse_entry(self, workflow_id: UUID, workflow_version: int, reason: str,
                     score_version: int | None) -> None:
        """Record that the workflow did not start for the lead, and why."""
        if not reason.strip():
            raise InvalidValue("reason", "must not be empty")
        self._entry_refused(workflow_id=workflow_id, workflow_version=workflow_version,
                            reason=reason, score_version=score_version)

    @event(EntryRefused)
    def _entry_refused(self, workflow_id: UUID, workflow_version: int, reason: str,
                       score_version: int | None) -> None:
        pass  # nothing about the lead changes: the refusal is for the record

    def rearmed(self, workflow_id: UUID, threshold: int, hysteresis: int) -> bool:
        """Since its last enrolment in the workflow, has the score fallen far enough below the
        threshold (``hysteresis`` points) to count a new crossing?"""
        low = self.low_water.get(str(workflow_id))
        return low is None or hysteresis == 0 or low < threshold - hysteresis

    def opt_out(self, channel: str, reason: str, *, by: str | None = None) -> None:
        kind = parse_channel(channel)
        if kind.value not in self.opted_out:
            self._opted_out(channel=kind.value, reason=reason, by=by)

    @event(OptedOut)
    def _opted_out(self, channel: str, reason: str, by: str | None) -> None:
        self.opted_out.append(channel)

    def opt_in(self, channel: str, reason: str, *, by: str | None = None) -> None:
        kind = parse_channel(channel)
        if kind.value in self.opted_out:
            self._opted_in(channel=kind.value, reason=reason, by=by)

    @event(OptedIn)
    def _opted_in(self, channel: str, reason: str, by: str | None) -> None:
        self.opted_out.remove(channel)
