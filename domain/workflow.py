"""The Workflow aggregate (a definition) and the catalogue of published workflows."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.channels import parse_channel
from domain.errors import InvalidState, InvalidValue
from domain.ids import CATALOG_ID
from domain.scoring import MAX_SCORE, MIN_SCORE
from domain.timing import MAX_DELAY_MINUTES


@dataclass(frozen=True)
class StepSpec:
    """One step of a definition, as frozen in a published version."""

    channel: str
    template_id: str
    delay_minutes: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_steps(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    checked = []
    for i, raw in enumerate(steps):
        field = f"steps[{i}]"
        channel = parse_channel(str(raw.get("channel")), f"{field}.channel")
        delay = raw.get("delay_minutes")
        if isinstance(delay, bool) or not isinstance(delay, int):
            raise InvalidValue(f"{field}.delayMinutes", "must be a whole number of minutes")
        if not 0 <= delay <= MAX_DELAY_MINUTES:
            raise InvalidValue(f"{field}.delayMinutes", f"must be within 0..{MAX_DELAY_MINUTES}")
        template_id = str(raw.get("template_id") or "")
        try:
            UUID(template_id)
        except ValueError:
            raise InvalidValue(f"{field}.templateId", "must be a template id") from None
        checked.append(StepSpec(channel.value, template_id, delay).as_dict())
    return checked


def check_threshold(threshold: int) -> int:
    if isinstance(threshold, bool) or not isinstance(threshold, int):
        raise InvalidValue("trigger.scoreThreshold", "must be a whole number")
    if not MIN_SCORE < threshold <= MAX_SCORE:
        raise InvalidValue("trigger.scoreThreshold", f"must be within {MIN_SCORE + 1}..{MAX_SCORE}")
    return threshold


class Workflow(Aggregate):
    TOPIC = "followup.workflow"

    class Created(Aggregate.Created):
        TOPIC = "followup.workflow.created"
        agent_id: str
        name: str
        score_threshold: int
        steps: list[dict[str, Any]]

    class Published(Aggregate.Event):
        TOPIC = "followup.workflow.published"
        number: int
        score_threshold: int
        steps: list[dict[str, Any]]
        published_at: datetime

    class Snapshot(Aggregate.Snapshot):  # type: ignore[misc,valid-type]
        TOPIC = "followup.workflow.snapshot"

    @event(Created)
    def __init__(self, agent_id: str, name: str, score_threshold: int,
                 steps: list[dict[str, Any]]) -> None:
        self.agent_id = agent_id
        self.name = name
        self.score_threshold = score_threshold
        self.steps = steps
        self.versions: list[dict[str, Any]] = []

    @classmethod
    def create(cls, *, agent_id: str, name: str, score_threshold: int,
               steps: list[dict[str, Any]]) -> Workflow:
        if not name.strip():
            raise InvalidValue("name", "must not be empty")
        return cls(agent_id=agent_id, name=name.strip(),
                   score_threshold=check_threshold(score_threshold), steps=check_steps(steps))

    @property
    def published_version(self) -> dict[str, Any] | None:
        return self.versions[-1] if self.versions else None

    def frozen(self, number: int) -> dict[str, Any]:
        return self.versions[number - 1]

    def publish(self, *, template_channels: dict[str, str | None], now: datetime) -> int:
        """Freeze the draft as the next numbered version; refuse a draft that cannot run."""
        if not self.steps:
            raise InvalidState("steps", "a workflow needs at least one step")
        for i, step in enumerate(self.steps):
            found = template_channels.get(step["template_id"])
            if found is None:
                raise InvalidState(f"steps[{i}].templateId", "no such template")
            if found != step["channel"]:
                raise InvalidState(f"steps[{i}].templateId",
                                   f"template is for {found}, step is {step['channel']}")
        number = len(self.versions) + 1
        self._published(number=number, score_threshold=self.score_threshold,
                        steps=list(self.steps), published_at=now)
        return number

    @event(Published)
    def _published(self, number: int, score_threshold: int, steps: list[dict[str, Any]],
                   published_at: datetime) -> None:
        self.versions.append({"number": number, "score_threshold": score_threshold,
                              "steps": steps, "published_at": published_at})


class PublishedWorkflows(Aggregate):
    """The one catalogue the trigger consults: which workflow versions are live, and since when."""

    TOPIC = "followup.catalog"
    id: UUID  # given by the caller: a deterministic identity

    class Created(Aggregate.Created):
        TOPIC = "followup.catalog.opened"

    class Listed(Aggregate.Event):
        TOPIC = "followup.catalog.listed"
        workflow_id: UUID
        number: int
        score_threshold: int
        published_at: datetime

    class Snapshot(Aggregate.Snapshot):  # type: ignore[misc,valid-type]
        TOPIC = "followup.catalog.snapshot"

    @event(Created)
    def __init__(self) -> None:
        self.live: dict[str, dict[str, Any]] = {}

    @classmethod
    def open(cls) -> PublishedWorkflows:
        return cls(id=CATALOG_ID)  # type: ignore[call-arg]

    def list_version(self, workflow_id: UUID, number: int, score_threshold: int,
                     published_at: datetime) -> None:
        self._listed(workflow_id=workflow_id, number=number, score_threshold=score_threshold,
                     published_at=published_at)

    @event(Listed)
    def _listed(self, workflow_id: UUID, number: int, score_threshold: int,
                published_at: datetime) -> None:
        self.live[str(workflow_id)] = {"number": number, "score_threshold": score_threshold,
                                       "published_at": published_at}

    def live_at(self, when: datetime) -> list[tuple[UUID, dict[str, Any]]]:
        """Workflows whose current version was published at or before ``when``."""
        return [(UUID(k), v) for k, v in sorted(self.live.items())
                if v["published_at"] <= when]
