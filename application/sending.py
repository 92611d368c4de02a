"""Sending a due step: reload, re-check, claim in the log, render, send, record, schedule next.

The parts: ``send_decision`` decides what becomes of a step (send, skip, hold, defer, resolve a
dead sender's dispatch), ``send_delivery`` renders, calls the provider and records its answer on
the aggregates, and this module claims and saves, one step or a batch in chunks."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from application.app import FollowUp
from application.errors import Invalid, NotFound, OutcomeNotRecorded
from application.ports import ChannelSender
from application.retrying import retry_conflicts
from application.send_decision import HELD, UNKNOWN, Outcome, Prepared, StepDecider
from application.send_delivery import Delivery, Result, record_result
from domain.execution import WorkflowExecution
from domain.lead import Lead
from domain.workflow import PublishedWorkflows

__all__ = ["HELD", "UNKNOWN", "Outcome", "Prepared", "Result", "StepSender"]

log = logging.getLogger(__name__)

RECORD_RETRIES = 8
#: A dispatch with no outcome after this long means its sender died (sends time out far sooner).
DISPATCH_TIMEOUT = timedelta(minutes=2)
#: Templates read and compiled when a worker starts, at most.
WARM_TEMPLATES = 500
#: A batch is claimed and recorded in chunks of about this many seconds of sending (one chunk when
#: the provider is fast), so a sender that dies mid-batch strands at most that much unrecorded.
CHUNK_SECONDS = 5.0
#: A batch stops claiming after this long; the rest stay due and come back with their lease. Well
#: inside the actor's time limit (60 s), which would otherwise stop a claimed chunk mid-way.
BATCH_BUDGET_SECONDS = 40.0
#: How long one send is taken to last before this process has timed any on its channel.
FIRST_GUESS_SECONDS = 0.25


class StepSender:
    """Safe to call any number of times for the same execution: only a due step is claimed."""

    def __init__(self, app: FollowUp, channels: Mapping[str, ChannelSender], *,
                 dispatch_timeout: timedelta = DISPATCH_TIMEOUT,
                 chunk_seconds: float = CHUNK_SECONDS,
                 batch_budget_seconds: float = BATCH_BUDGET_SECONDS,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.app = app
        self.channels = channels
        self.dispatch_timeout = dispatch_timeout
        self.chunk_seconds = chunk_seconds
        self.batch_budget_seconds = batch_budget_seconds
        self.monotonic = monotonic
        self.delivery = Delivery(app, channels)
        self.decider = StepDecider(app, channels, self.delivery.content, dispatch_timeout)
        #: Recent seconds per send, by channel (a moving average; threads share it, and a lost
        #: update only delays what it learns)
        self._send_seconds: dict[str, float] = {}

    def warm(self, max_templates: int = WARM_TEMPLATES, connections: int = 0) -> int:
        """Pay at start what the first sends would pay while a lead waits: the application and
        its connections, up to ``connections`` open connections per provider (one per sending
        thread), the catalogue, and the templates of the live workflows' steps (read and
        compiled). Returns how many templates are ready; one that cannot be read or compiled
        is left to fail at its send, as it would have."""
        if connections:
            for channel in {id(c): c for c in self.channels.values()}.values():
                channel.open(connections)
        ready = 0
        for template_id, revision in self._live_templates():
            if ready >= max_templates:
                break
            try:
                self.delivery.compile(UUID(template_id), revision)
                ready += 1
            except (NotFound, Invalid) as e:
                log.warning("template %s not ready at start: %s", template_id, e)
        return ready

    def _live_templates(self) -> Iterator[tuple[str, int | None]]:
        """The templates of the workflow versions live now, at the revisions they pin."""
        for workflow_id, live in self.app.catalog().live_at(self.app.clock.now()):
            frozen = self.delivery.frozen(workflow_id, live["number"])
            for step in frozen["definition"]["steps"]:
                yield step["template_id"], frozen["template_revisions"].get(step["template_id"])

    def send_due(self, execution_id: UUID) -> Outcome:
        """Send the execution's due step if there is one; returns what happened."""
        now = self.app.clock.now()
        prepared = self._prepare(execution_id, now, self.app.catalog())
        if isinstance(prepared, Outcome):
            return prepared
        try:
            self.app.save(*prepared.aggregates)
        except IntegrityError:
            return Outcome.CLAIMED_ELSEWHERE
        if prepared.outcome != Outcome.SEND:
            return prepared.outcome
        result = self._deliver(prepared)
        self._record(prepared, result)
        return _sent_or_failed(result)

    def send_batch(self, execution_ids: list[UUID]) -> list[Outcome]:
        """Send many executions' due steps, reading them with one query per kind and saving the
        claims, then the outcomes, with one transaction each per chunk (the whole batch is one
        chunk when the provider is fast: see ``CHUNK_SECONDS``). If another writer touched one
        of a chunk's executions, the rest go one at a time; after ``BATCH_BUDGET_SECONDS`` the
        rest are left unclaimed ("deferred"), due again when their lease ends."""
        started = self.monotonic()
        prepared = self._prepare_batch(execution_ids)
        ready = [p for p in prepared if isinstance(p, Prepared)]
        outcomes: dict[UUID, Outcome] = {p.execution.id: p.outcome for p in ready}
        if not self._send_in_chunks(ready, outcomes, started, len(execution_ids)):
            log.info("batch of %d: a claim conflicted; sending one at a time",
                     len(execution_ids))
            return [self.send_due(x) for x in execution_ids]
        return [p if isinstance(p, Outcome) else outcomes[p.execution.id] for p in prepared]

    def _prepare_batch(self, execution_ids: list[UUID]) -> list[Prepared | Outcome]:
        """Each execution decided, the executions and then their leads read in one query each."""
        now = self.app.clock.now()
        catalog = self.app.catalog()
        executions = self.app.load_many(WorkflowExecution, execution_ids)
        leads = self.app.load_many(Lead, [x.lead_id for x in executions.values()])
        return [self._prepare(x, now, catalog, executions.get(x), leads) for x in execution_ids]

    def _send_in_chunks(self, ready: list[Prepared], outcomes: dict[UUID, Outcome],
                        started: float, size: int) -> bool:
        """Claim, deliver and record the steps to send, chunk by chunk, into ``outcomes``;
        False (nothing saved) when the first claim conflicted. ``size``: the batch's, for logs."""
        sending = [p for p in ready if p.outcome == Outcome.SEND]
        done, first = 0, True
        while first or done < len(sending):
            if not first and self.monotonic() - started > self.batch_budget_seconds:
                log.warning("batch of %d: out of time after %d sends; %d left for their lease",
                            size, done, len(sending) - done)
                outcomes.update((p.execution.id, Outcome.DEFERRED) for p in sending[done:])
                return True
            chunk = sending[done:done + self._chunk_size(sending[done:])]
            # The first chunk's claims carry the batch's other decisions (skips, unknowns)
            claims = [*(p for p in ready if p.outcome != Outcome.SEND), *chunk] if first else chunk
            try:
                if claims:
                    self.app.save(*(a for p in claims for a in p.aggregates))
            except IntegrityError:
                if first:
                    return False
                log.info("batch of %d: a claim conflicted; sending one at a time", size)
                outcomes.update((p.execution.id, self.send_due(p.execution.id))
                                for p in sending[done:])
                return True
            self._send_chunk(chunk, outcomes)
            done, first = done + len(chunk), False
        return True

    def _chunk_size(self, sending: list[Prepared]) -> int:
        """How many sends take about ``chunk_seconds`` on the slowest channel among them."""
        slowest = max((self._send_seconds.get(p.channel, FIRST_GUESS_SECONDS) for p in sending),
                      default=0.0)
        return max(1, int(self.chunk_seconds / slowest)) if slowest > 0 else len(sending)

    def _send_chunk(self, chunk: list[Prepared], outcomes: dict[UUID, Outcome]) -> None:
        """Deliver a claimed chunk and save its outcomes in one transaction."""
        if not chunk:
            return
        results = []
        for p in chunk:
            began = self.monotonic()
            results.append(self._deliver(p))
            took = self.monotonic() - began
            seen = self._send_seconds.get(p.channel)
            self._send_seconds[p.channel] = took if seen is None else 0.8 * seen + 0.2 * took
        for p, result in zip(chunk, results, strict=True):
            record_result(p, result, self.app.clock.now())
        try:
            self.app.save(*(a for p in chunk for a in p.aggregates))
        except IntegrityError:
            for p, result in zip(chunk, results, strict=True):
                self._record(p, result)
        outcomes.update((p.execution.id, _sent_or_failed(r))
                        for p, r in zip(chunk, results, strict=True))

    def _prepare(self, execution_id: UUID, now: datetime, catalog: PublishedWorkflows,
                 loaded: WorkflowExecution | None = None,
                 leads: Mapping[UUID, Lead] | None = None) -> Prepared | Outcome:
        return self.decider.prepare(execution_id, now, catalog, loaded, leads)

    def _deliver(self, p: Prepared) -> Result:
        return self.delivery.deliver(p)

    def _record(self, p: Prepared, result: Result) -> None:
        """Record the outcome, reloading when another writer (a pause, say) got there first."""
        def attempt() -> None:
            reloaded = Prepared(self.app.load(WorkflowExecution, p.execution.id),
                                self.decider.message(p.message_id), p.message_id, p.step_no,
                                p.lead, p.outcome, p.at)
            record_result(reloaded, result, self.app.clock.now())
            self.app.save(*reloaded.aggregates)

        retry_conflicts(attempt, lambda: OutcomeNotRecorded(
            f"could not record the outcome of step {p.step_no + 1} of {p.execution.id}"),
            tries=RECORD_RETRIES)


def _sent_or_failed(result: Result) -> Outcome:
    return Outcome.SENT if result.provider_id else Outcome.FAILED
