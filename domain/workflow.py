"""The Workflow aggregate (a definition with numbered versions) and the live catalogue."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.actors import upcast_no_actor
from domain.definition import check_definition
from domain.errors import InvalidState, InvalidValue
from domain.ids import CATALOG_ID, DEFAULT_BROKERAGE_ID

#: What a workflow is in: never published, published (running), or paused by its agent.
STATES = ("draft", "published", "paused")


class Workflow(Aggregate):
    """Drafts are edited freely; publishing freezes an immutable numbered version."""

    TOPIC = "followup.workflow"

    class Created(Aggregate.Created):
        TOPIC = "followup.workflow.created"
        class_version = 2
        brokerage_id: UUID
        agent_id: str
        name: str
        definition: dict[str, Any]

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Workflows made before accounts existed belong to the default brokerage."""
            state["brokerage_id"] = DEFAULT_BROKERAGE_ID

    class DraftEdited(Aggregate.Event):
        """``by``: who edited it (``domain.actors``)."""
        TOPIC = "followup.workflow.draft_edited"
        class_version = 2
        name: str
        definition: dict[str, Any]
        by: str | None
        upcast_v1_v2 = staticmethod(upcast_no_actor)

    class Published(Aggregate.Event):
        """A frozen version; ``template_revisions`` pins, by template id, the revision of each
        step's template it sends (an edit of a template changes no published version); ``by``
        who published (or rolled back) it (``domain.actors``)."""
        TOPIC = "followup.workflow.published"
        class_version = 3
        number: int
        definition: dict[str, Any]
        published_at: datetime
        restored_from: int | None
        template_revisions: dict[str, int]
        by: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Version 1 was published before templates had revisions: each was at its first."""
            state["template_revisions"] = {step["template_id"]: 1
                                           for step in state["definition"]["steps"]}

        upcast_v2_v3 = staticmethod(upcast_no_actor)

    class Paused(Aggregate.Event):
        """``by``: who paused it (``domain.actors``)."""
        TOPIC = "followup.workflow.paused"
        class_version = 2
        reason: str
        at: datetime
        by: str | None
        upcast_v1_v2 = staticmethod(upcast_no_actor)

    class Resumed(Aggregate.Event):
        """``by``: who resumed it (``domain.actors``)."""
        TOPIC = "followup.workflow.resumed"
        class_version = 2
        at: datetime
        by: str | None
        upcast_v1_v2 = staticmethod(upcast_no_actor)

    class Snapshot(Aggregate.Snapshot):  # type: ignore[misc,valid-type]
        TOPIC = "followup.workflow.snapshot"

    @event(Created)
    def __init__(self, brokerage_id: UUID, agent_id: str, name: str,
                 definition: dict[str, Any]) -> None:
        self.brokerage_id = brokerage_id
        self.agent_id = agent_id
        self.name = name
        self.draft = definition
        self.versions: list[dict[str, Any]] = []
        self.paused = False

    @classmethod
    def create(cls, *, agent_id: str, name: str, definition: dict[str, Any],
               brokerage_id: UUID = DEFAULT_BROKERAGE_ID) -> Workflow:
        if not name.strip():
            raise InvalidValue("name", "must not be empty")
        if not agent_id.strip():
            raise InvalidValue("agentId", "must not be empty")
        return cls(brokerage_id=brokerage_id, agent_id=agent_id, name=name.strip(),
                   definition=check_definition(definition))

    # Queries ---------------------------------------------------------------

    @property
    def state(self) -> str:
        return STATES[2] if self.paused else STATES[1] if self.versions else STATES[0]

    @property
    def latest(self) -> dict[str, Any] | None:
        return self.versions[-1] if self.versions else None

    def frozen(self, number: int) -> dict[str, Any]:
        if not 1 <= number <= len(self.versions):
            raise InvalidValue("version", f"no version {number}; there are {len(self.versions)}")
        return self.versions[number - 1]

    @property
    def draft_differs(self) -> bool:
        return self.latest is None or self.latest["definition"] != self.draft

    # Commands --------------------------------------------------------------

    def edit(self, *, name: str, definition: dict[str, Any], by: str | None = None) -> None:
        """Change the draft; published versions and running executions are not touched."""
        if not name.strip():
            raise InvalidValue("name", "must not be empty")
        checked = check_definition(definition)
        if name.strip() != self.name or checked != self.draft:
            self._edited(name=name.strip(), definition=checked, by=by)

    @event(DraftEdited)
    def _edited(self, name: str, definition: dict[str, Any], by: str | None) -> None:
        self.name = name
        self.draft = definition

    def publish(self, *, template_channels: dict[str, str | None],
                template_revisions: dict[str, int], now: datetime,
                by: str | None = None) -> int:
        """Freeze the draft as the next numbered version, pinning the revision of each step's
        template that ``template_revisions`` gives (their latest); refuse a draft that cannot
        run."""
        check_runnable(self.draft, template_channels)
        number = len(self.versions) + 1
        pins = {step["template_id"]: template_revisions[step["template_id"]]
                for step in self.draft["steps"]}
        self._published(number=number, definition=self.draft, published_at=now,
                        restored_from=None, template_revisions=pins, by=by)
        return number

    def rollback(self, number: int, now: datetime, *, by: str | None = None) -> int:
        """Publish an earlier version again, as the newest, with the template revisions it
        pinned; the draft becomes that version."""
        old = self.frozen(number)
        if self.latest is not None and self.latest["number"] == number:
            raise InvalidState("version", f"version {number} is already the newest")
        newest = len(self.versions) + 1
        self._published(number=newest, definition=old["definition"], published_at=now,
                        restored_from=number, template_revisions=old["template_revisions"],
                        by=by)
        return newest

    @event(Published)
    def _published(self, number: int, definition: dict[str, Any], published_at: datetime,
                   restored_from: int | None, template_revisions: dict[str, int],
                   by: str | None) -> None:
        self.draft = definition
        self.versions.append({"number": number, "definition": definition,
                              "published_at": published_at, "restored_from": restored_from,
                              "template_revisions": template_revisions})

    def live_pin(self, template_id: str) -> int | None:
        """The revision of the template the newest version sends (None: nothing published,
        or no step of it)."""
        return self.pinned(len(self.versions), template_id) if self.versions else None

    def drafts_with(self, template_id: str) -> bool:
        """Whether a step of the draft uses the template."""
        return any(step["template_id"] == template_id for step in self.draft["steps"])

    def pinned(self, number: int, template_id: str) -> int | None:
        """The revision of the template that version ``number`` sends (None: no step of it)."""
        pins: dict[str, int] = self.frozen(number)["template_revisions"]
        return pins.get(template_id)

    def pause(self, reason: str, now: datetime, *, by: str | None = None) -> bool:
        if self.paused:
            return False
        self._paused(reason=reason, at=now, by=by)
        return True

    @event(Paused)
    def _paused(self, reason: str, at: datetime, by: str | None) -> None:
        self.paused = True

    def resume(self, now: datetime, *, by: str | None = None) -> bool:
        if not self.paused:
            return False
        self._resumed(at=now, by=by)
        return True

    @event(Resumed)
    def _resumed(self, at: datetime, by: str | None) -> None:
        self.paused = False


def check_runnable(definition: dict[str, Any], template_channels: dict[str, str | None]) -> None:
    """Refuse, naming the field, a definition that cannot run."""
    check_definition(definition)  # a draft saved under older rules meets today's
    if not definition["steps"]:
        raise InvalidState("steps", "a workflow needs at least one step")
    for i, step in enumerate(definition["steps"]):
        found = template_channels.get(step["template_id"])
        if found is None:
            raise InvalidState(f"steps[{i}].templateId", "no such template")
        if found != step["channel"]:
            raise InvalidState(f"steps[{i}].templateId",
                               f"template is for {found}, step is {step['channel']}")


class PublishedWorkflows(Aggregate):
    """The one catalogue the trigger consults: every published version with its trigger, and
    which workflows are paused."""

    TOPIC = "followup.catalog"
    id: UUID  # given by the caller: a deterministic identity

    class Created(Aggregate.Created):
        TOPIC = "followup.catalog.opened"

    class Listed(Aggregate.Event):
        TOPIC = "followup.catalog.listed"
        workflow_id: UUID
        number: int
        trigger: dict[str, Any]
        published_at: datetime

    class Held(Aggregate.Event):
        TOPIC = "followup.catalog.held"
        workflow_id: UUID
        held: bool

    class Snapshot(Aggregate.Snapshot):  # type: ignore[misc,valid-type]
        TOPIC = "followup.catalog.snapshot"

    @event(Created)
    def __init__(self) -> None:
        self.versions: dict[str, list[dict[str, Any]]] = {}
        self.held: list[str] = []

    @classmethod
    def open(cls) -> PublishedWorkflows:
        return cls(id=CATALOG_ID)  # type: ignore[call-arg]

    def list_version(self, workflow_id: UUID, number: int, trigger: dict[str, Any],
                     published_at: datetime) -> None:
        self._listed(workflow_id=workflow_id, number=number, trigger=trigger,
                     published_at=published_at)

    @event(Listed)
    def _listed(self, workflow_id: UUID, number: int, trigger: dict[str, Any],
                published_at: datetime) -> None:
        self.versions.setdefault(str(workflow_id), []).append(
            {"number": number, "trigger": trigger, "published_at": published_at})

    def hold(self, workflow_id: UUID, held: bool) -> None:
        if (str(workflow_id) in self.held) != held:
            self._held(workflow_id=workflow_id, held=held)

    @event(Held)
    def _held(self, workflow_id: UUID, held: bool) -> None:
        if held:
            self.held.append(str(workflow_id))
        else:
            self.held.remove(str(workflow_id))

    def is_held(self, workflow_id: UUID) -> bool:
        return str(workflow_id) in self.held

    def live_at(self, when: datetime, *,
                include_held: bool = False) -> list[tuple[UUID, dict[str, Any]]]:
        """Each workflow's version that was newest at ``when``, skipping held workflows unless
        ``include_held``; highest priority first."""
        found = []
        for workflow_id, versions in self.versions.items():
            if workflow_id in self.held and not include_held:
                continue
            live = [v for v in versions if v["published_at"] <= when]
            if live:
                found.append((UUID(workflow_id), live[-1]))
        return sorted(found, key=lambda f: (-f[1]["trigger"]["priority"], str(f[0])))
