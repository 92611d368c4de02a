"""Use cases, trigger, feeder, sender and read models; the same tests on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest
from eventsourcing.persistence import IntegrityError

from adapters.settings import Settings
from adapters.templating import JinjaRenderer
from application.errors import Invalid, NotFound
from application.follower import Follower, Item, LocalWaiter
from application.ports import OutgoingMessage
from application.sending import StepSender
from application.trigger import TriggerPolicy
from application.views import ReplayRefusal, ReplayReport
from domain.execution import MAX_SEND_ATTEMPTS, WorkflowExecution
from domain.lead import Lead
from tests.conftest import FakeClock
from tests.integration.helpers import Harness, executions_of, register_ana, three_step_workflow


class ApplicationScenarios:
    """Subclassed once per storage: the same tests against each."""

    @pytest.fixture
    def settings(self, tmp_path: Path) -> Settings:
        raise NotImplementedError

    @pytest.fixture
    def h(self, settings: Settings, clock: FakeClock) -> Iterator[Harness]:
        harness = Harness(settings, clock)
        yield harness
        harness.rt.stop()

    def test_score_crossing_sends_personalised_email_then_schedules_sms(self, h: Harness) -> None:
        # Given a published three-step workflow and a lead at 50
        app = h.rt.app
        three_step_workflow(app)
        lead = register_ana(app)
        # When the score goes to 85 and due steps are sent
        app.change_score(lead, 85, "viewed a listing")
        assert h.send_due() == ["sent"]
        # Then one execution exists, the email is personalised, the SMS is due 60 min later
        [execution] = executions_of(app, lead)
        [email] = h.channel.sent
        assert (email.channel, email.recipient) == ("email", "ana@example.com")
        assert email.subject == "Ana, new listings"
        assert "Ana Lima" in email.body and "condo" in email.body
        assert "within 3 months" in email.body
        sent_at = execution.steps[0].sent_at
        assert execution.steps[1].status == "scheduled"
        assert execution.steps[1].due_at == sent_at + timedelta(minutes=60)
        assert execution.current_step == 1 and execution.status == "active"

    def test_a_worker_reads_and_compiles_the_live_workflows_templates_before_sending(
            self, h: Harness) -> None:
        # Given a published three-step workflow (three templates) and a paused copy of it
        three_step_workflow(h.rt.app)
        held = three_step_workflow(h.rt.app)
        h.rt.app.hold_workflow(held, True, "not yet")
        # When a worker with four threads starts in a new process (a new runtime on the same
        # stores)
        worker = Harness(h.settings, h.clock)
        sender = worker.rt.sender
        renderer = sender.app.renderer
        assert isinstance(renderer, JinjaRenderer) and not renderer._cache
        ready = sender.warm(connections=4)
        # Then each provider (one fake behind the three channels here) opens a connection per
        # thread; the live workflow's templates are read and compiled; the paused one's are not
        assert worker.channel.opened == [4]
        assert ready == 3 and len(sender.delivery.templates) == 3
        assert len(renderer._cache) == 5  # the email's subject and body, the SMS, the in-app two
        # And a limit stops it early
        assert Harness(h.settings, h.clock).rt.sender.warm(max_templates=2) == 2

    def test_the_trigger_offers_a_first_touch_to_the_index_before_the_feeder_reads_it(
            self, h: Harness) -> None:
        # Given a published workflow, Ana at 50, and a trigger that offers to the due index
        three_step_workflow(h.rt.app)
        lead = register_ana(h.rt.app)
        woken: list[int] = []
        trigger = Follower(h.rt.app, TriggerPolicy(h.rt.app, h.rt.schedule,
                                                   lambda: woken.append(1)), LocalWaiter())
        h.rt.app.change_score(lead, 85, "viewed a listing")
        # When the trigger applies the crossing, and the feeder has not run
        trigger.catch_up()
        # Then the first step is in the index already, due now, and the claim loop was woken
        [execution] = executions_of(h.rt.app, lead)
        now_ms = int(h.clock.now().timestamp() * 1000)
        assert h.rt.schedule.due_at(str(execution.id)) == now_ms and woken == [1]
        assert h.rt.schedule.position() < h.rt.app.recorder.max_notification_id()
        # And when it is claimed before the feeder reads the log, the feeder leaves the claim be
        assert h.rt.schedule.claim(now_ms, 10, 60_000) == [str(execution.id)]
        h.settle()
        assert h.rt.schedule.claim(now_ms, 10, 60_000) == []
        # And the claimed step is sent, once
        assert h.rt.sender.send_due(execution.id) == "sent" and len(h.channel.sent) == 1
        h.settle()
        assert h.send_due() == []

    def test_no_execution_without_an_upward_crossing(self, h: Harness) -> None:
        app = h.rt.app
        three_step_workflow(app)
        below = register_ana(app, score=10)
        above = app.register_lead(agent_id="a", name="Bo", email="b@example.com", phone=None,
                                  timezone="UTC", preferences={}, timeline=None, score=90)
        app.change_score(below, 79, "scoring")
        app.change_score(above, 95, "scoring")  # already above: no crossing
        h.settle()
        assert executions_of(app, below) == [] and executions_of(app, above) == []

    def test_a_workflow_published_after_the_crossing_does_not_start_for_it(
            self, h: Harness) -> None:
        app = h.rt.app
        lead = register_ana(app)
        app.change_score(lead, 85, "up")  # nothing is live yet
        h.clock.advance(minutes=1)
        three_step_workflow(app)  # the trigger sees the crossing only now, late
        h.settle()
        assert executions_of(app, lead) == []

    def test_trigger_is_exactly_once_across_restarts_replays_and_re_crossings(
            self, h: Harness) -> None:
        lead = h.crossing()
        h.settle()
        # When the process restarts, and the same event is handed to the policy again
        h.restart()
        h.settle()
        policy = h.followers["trigger"].consumer
        assert isinstance(policy, TriggerPolicy)
        notifications = h.rt.app.recorder.select_notifications(start=1, limit=1000,
                                                               topics=list(policy.topics))
        items = [Item(n.id, h.rt.app.mapper.to_domain_event(n)) for n in notifications]
        policy.apply(items, items[-1].position)
        # And the score wobbles down and up again while the execution is active
        h.rt.app.change_score(lead, 60, "down")
        h.rt.app.change_score(lead, 90, "up again")
        h.settle()
        # Then there is still exactly one execution
        assert len(executions_of(h.rt.app, lead)) == 1

    def test_lost_lead_pauses_and_nothing_more_is_sent(self, h: Harness) -> None:
        app = h.rt.app
        lead = h.crossing()
        h.send_due()
        [execution] = executions_of(app, lead)
        # When the lead is lost
        result = app.change_status(lead, "lost", "bought elsewhere")
        # Then the execution is paused in the same commit, with the reason
        assert result.paused_executions == [execution.id]
        [execution] = executions_of(app, lead)
        assert execution.status == "paused"
        assert "lost" in (execution.status_reason or "")
        # And when its next step's time comes, nothing is sent and nothing is due
        h.clock.advance(days=3)
        assert h.send_due() == []
        assert h.rt.sender.send_due(execution.id) == "not-due"
        assert len(h.channel.sent) == 1
        assert h.rt.schedule.due_at(str(execution.id)) is None

    def test_whole_sequence_completes_and_in_app_message_reaches_the_inbox(
            self, h: Harness) -> None:
        app = h.rt.app
        lead = h.crossing()
        assert h.send_due() == ["sent"]
        h.clock.advance(minutes=59)
        assert h.send_due() == []
        h.clock.advance(minutes=1)
        assert h.send_due() == ["sent"]
        h.clock.advance(minutes=1440)
        assert h.send_due() == ["sent"]
        [execution] = executions_of(app, lead)
        assert execution.status == "completed" and execution.completed_at == h.clock.now()
        assert [m.channel for m in h.channel.sent] == ["email", "sms", "in_app"]
        [item] = h.rt.messages.inbox(str(lead))
        assert item["body"] == "Ana, 3 new matches" and item["subject"] == "Matches"

    def test_transient_failures_retry_later_and_permanent_ones_move_on(self, h: Harness) -> None:
        app = h.rt.app
        h.channel.fail_next(permanent=False)
        lead = h.crossing()
        assert h.send_due() == ["failed"]
        [execution] = executions_of(app, lead)
        assert execution.steps[0].status == "scheduled"
        assert execution.steps[0].due_at > h.clock.now()
        h.clock.advance(minutes=5)
        assert h.send_due() == ["sent"]
        h.channel.fail_next(permanent=True)
        h.clock.advance(minutes=60)
        assert h.send_due() == ["failed"]
        [execution] = executions_of(app, lead)
        assert execution.steps[1].status == "failed"
        assert execution.steps[2].status == "scheduled"

    def test_exhausted_retries_dead_letter_the_step_until_an_agent_replays_it(
            self, h: Harness) -> None:
        app = h.rt.app
        h.channel.fail_next(permanent=False, times=MAX_SEND_ATTEMPTS)
        lead = h.crossing()
        for _ in range(MAX_SEND_ATTEMPTS):
            assert h.send_due() == ["failed"]
            h.clock.advance(hours=2)  # past any backoff
        # The step is held: nothing is due, the index no longer holds it, the list shows it
        [execution] = executions_of(app, lead)
        assert execution.status == "paused" and execution.dead_letter == 0
        assert h.send_due() == []
        assert h.rt.schedule.due_at(str(execution.id)) is None
        [entry] = h.rt.directory.dead_letters(agent_id="agent-1")
        assert entry["execution_id"] == str(execution.id) and entry["lead_id"] == str(lead)
        assert entry["attempts"] == MAX_SEND_ATTEMPTS and entry["reason"] == "busy"
        assert h.rt.directory.dead_letters(agent_id="someone-else") == []
        summaries = [r["summary"] for r in h.rt.history.for_lead(str(lead))]
        assert any("dead-lettered after 5 attempts (busy)" in s for s in summaries)
        # When the agent replays everything listed (after the outage)
        report = app.replay_dead_letters(agent_id="agent-1")
        assert report == ReplayReport(replayed=[execution.id], refused=[])
        assert h.send_due() == ["sent"]
        # Then the step went out once, the sequence goes on, and the list is empty again
        [execution] = executions_of(app, lead)
        assert execution.steps[0].status == "sent" and execution.current_step == 1
        assert len(h.channel.sent) == 1
        assert h.rt.directory.dead_letters() == []

    def test_a_replay_for_a_closed_lead_is_refused_and_reported(self, h: Harness) -> None:
        app = h.rt.app
        h.channel.fail_next(permanent=False, times=MAX_SEND_ATTEMPTS)
        lead = h.crossing()
        for _ in range(MAX_SEND_ATTEMPTS):
            h.send_due()
            h.clock.advance(hours=2)
        app.change_status(lead, "lost", "bought elsewhere")
        h.settle()
        [execution] = executions_of(app, lead)
        report = app.replay_dead_letters()
        assert report.replayed == []
        assert report.refused == [ReplayRefusal(execution.id,
                                                "status: the lead is lost; reopen it first")]
        # still held, nothing changed
        assert app.load(WorkflowExecution, execution.id).dead_letter == 0

    def test_when_steps_pile_up_live_crossings_then_higher_scores_go_first(
            self, h: Harness) -> None:
        app = h.rt.app
        three_step_workflow(app)
        cooled = register_ana(app)
        app.change_score(cooled, 85, "viewed a listing")
        app.change_score(cooled, 45, "went quiet")  # before her first email goes out
        h.clock.advance(minutes=1)
        hot = register_ana(app)
        app.change_score(hot, 90, "booked a viewing")
        assert h.send_due() == ["sent", "sent"]  # both first emails; the SMS steps follow
        h.clock.advance(minutes=62)
        fresh = register_ana(app)
        app.change_score(fresh, 81, "asked for a call")  # a live crossing, due last of all
        h.settle()
        [x_cooled], [x_hot], [x_fresh] = (executions_of(app, x) for x in (cooled, hot, fresh))
        now_ms = int(h.clock.now().timestamp() * 1000)
        claimed = [h.rt.schedule.claim(now_ms, 1, 60_000)[0] for _ in range(3)]
        assert claimed == [str(x_fresh.id), str(x_hot.id), str(x_cooled.id)]

    def test_load_many_rebuilds_what_load_rebuilds_skipping_missing_and_other_kinds(
            self, h: Harness) -> None:
        from domain.execution import WorkflowExecution
        from domain.lead import Lead

        app = h.rt.app
        leads = [h.crossing()] + [register_ana(app) for _ in range(3)]
        assert h.send_due() == ["sent"]
        [execution] = executions_of(app, leads[0])
        asked = [*leads, leads[1], uuid4(), execution.id]
        found = app.load_many(Lead, asked)
        assert list(found) == leads  # the missing id and the execution are left out
        for lead_id, lead in found.items():
            assert vars(lead) == vars(app.load(Lead, lead_id))
        [(ident, again)] = app.load_many(WorkflowExecution, [execution.id, leads[1]]).items()
        assert ident == execution.id
        assert vars(again) == vars(app.load(WorkflowExecution, execution.id))

    def test_a_lost_index_is_restored_from_the_due_steps_read_model(self, h: Harness) -> None:
        app = h.rt.app
        lead = h.crossing()
        assert h.send_due() == ["sent"]  # step 1 sent; step 2 due in an hour
        [execution] = executions_of(app, lead)
        member = str(execution.id)
        due, position = h.rt.schedule.due_at(member), h.rt.schedule.position()
        assert due is not None and position > 0
        # When the index loses everything (FLUSHALL, a restart without data)
        h.rt.schedule.forget()  # type: ignore[attr-defined]
        # Then the feeder restores it from the read model, at the read model's position
        feeder = h.followers["due_feeder"].consumer
        assert feeder.position() == h.rt.due_steps.position() == position
        assert h.rt.schedule.due_at(member) == due and h.rt.schedule.size() == 1
        # And the sequence goes on, each step sent once
        h.clock.advance(minutes=61)
        assert h.send_due() == ["sent"]
        assert [m.channel for m in h.channel.sent] == ["email", "sms"]

    def test_a_second_delivery_of_the_same_step_sends_nothing(self, h: Harness) -> None:
        app = h.rt.app
        lead = h.crossing()
        h.settle()
        [execution] = executions_of(app, lead)
        # loaded by a second sender before the first sends
        stale = app.load(WorkflowExecution, execution.id)
        assert h.rt.sender.send_due(execution.id) == "sent"
        assert h.rt.sender.send_due(execution.id) == "not-due"
        stale.dispatch(0, uuid4(), h.clock.now())
        with pytest.raises(IntegrityError):
            app.save(stale)
        assert len(h.channel.sent) == 1

    def test_a_slow_providers_batch_is_claimed_and_recorded_in_chunks_and_stops_in_time(
            self, h: Harness) -> None:
        # Given twelve leads crossing a published workflow, and a provider taking 1 s a send
        app = h.rt.app
        three_step_workflow(app)
        leads = [app.register_lead(agent_id="agent-1", name=f"Lead {i}", email=f"l{i}@example.com",
                                   phone=None, timezone="UTC", timeline="soon",
                                   preferences={"property_type": "condo"},
                                   score=50) for i in range(12)]
        for lead in leads:
            app.change_score(lead, 85, "viewed a listing")
        h.settle()
        ids = [executions_of(app, lead)[0].id for lead in leads]
        seconds = [0.0]
        accept = h.channel.send

        def slow_send(message: OutgoingMessage) -> str:
            seconds[0] += 1.0
            return accept(message)

        h.channel.send = slow_send  # type: ignore[method-assign]
        sender = StepSender(app, h.rt.channels, chunk_seconds=3.0, batch_budget_seconds=6.5,
                            monotonic=lambda: seconds[0])
        # When a first batch of two teaches the sender the provider's pace (one chunk: its
        # first guess is a quarter of a second a send), and a batch of ten follows
        assert sender.send_batch(ids[:2]) == ["sent", "sent"]
        outcomes = sender.send_batch(ids[2:])
        # Then the ten go in chunks of three (about three seconds of sends each), each chunk's
        # claims saved before its sends and its outcomes after them; past 6.5 s the batch
        # stops claiming, and what is left stays due, unclaimed, for the next offer
        assert outcomes == ["sent"] * 9 + ["deferred"]
        assert len(h.channel.sent) == 11
        at = {(n.originator_id, n.topic.rsplit(".", 1)[1]): n.id
              for n in app.recorder.select_notifications(start=1, limit=100_000)}
        for first, last in ((2, 4), (5, 7), (8, 10)):
            assert at[ids[last], "step_dispatched"] < at[ids[first], "step_sent"]
            if last < 10:
                assert at[ids[last], "step_sent"] < at[ids[last + 1], "step_dispatched"]
        assert (ids[11], "step_dispatched") not in at
        assert app.load(WorkflowExecution, ids[11]).steps[0].status == "scheduled"
        assert h.rt.sender.send_due(ids[11]) == "sent" and len(h.channel.sent) == 12

    def test_a_sender_that_died_mid_send_is_resolved_without_sending_twice(
            self, h: Harness) -> None:
        app = h.rt.app
        # Given the email step was claimed, and its sender died before recording an outcome
        lead, execution = h.stranded_dispatch()
        # When the step is offered again before the dispatch timeout: nothing happens
        h.clock.advance(seconds=30)
        assert h.rt.sender.send_due(execution.id) == "not-due"
        # And after it: email is not idempotent, so the outcome is recorded as unknown
        h.clock.advance(minutes=2)
        assert h.rt.sender.send_due(execution.id) == "unknown"
        assert h.channel.sent == []
        [execution] = executions_of(app, lead)
        assert execution.steps[0].status == "unknown"
        assert execution.steps[1].status == "scheduled"
        h.settle()
        summaries = [r["summary"] for r in h.rt.history.for_lead(str(lead))]
        assert any("outcome unknown" in s for s in summaries)
        [row] = h.rt.messages.for_lead(str(lead))
        assert row["status"] == "unknown"

    def test_a_send_whose_sender_died_while_paused_is_resolved_after_resume(
            self, h: Harness) -> None:
        app = h.rt.app
        # Given the email step was claimed, its sender died, and the agent paused meanwhile
        lead, execution = h.stranded_dispatch()
        app.pause_execution(execution.id, "agent's call")
        h.settle()
        assert h.rt.schedule.due_at(str(execution.id)) is None
        # When the agent resumes: the index holds the execution again
        h.clock.advance(minutes=1)
        app.resume_execution(execution.id, "shift")
        assert h.send_due() == ["not-due"]  # the dispatch is not yet old enough to be stale
        # Then once the dispatch is stale (and its lease over) it is resolved, never resent
        h.clock.advance(minutes=3)
        assert h.send_due() == ["unknown"]
        [execution] = executions_of(app, lead)
        assert execution.steps[0].status == "unknown"
        assert execution.steps[1].status == "scheduled"
        assert h.channel.sent == []

    def test_a_send_whose_sender_died_before_a_cancel_is_settled_and_leaves_the_index(
            self, h: Harness) -> None:
        app = h.rt.app
        # Given the email step was claimed, its sender died, and the agent cancelled meanwhile
        _, execution = h.stranded_dispatch()
        member = str(execution.id)
        app.cancel_execution(execution.id, "agent's call")
        assert h.send_due() == ["not-due"]  # offered, but the dispatch is not stale yet
        # When the dispatch is stale: settled as unknown, never resent, and off the index
        h.clock.advance(minutes=3)
        assert h.send_due() == ["unknown"]
        assert app.load(WorkflowExecution, execution.id).steps[0].status == "unknown"
        assert h.rt.schedule.due_at(member) is None and h.channel.sent == []
        # A cancel with nothing in flight leaves nothing in the index either
        other = h.crossing()
        h.settle()
        second = executions_of(app, other)[0]
        app.cancel_execution(second.id, "agent's call")
        h.settle()
        assert h.rt.schedule.due_at(str(second.id)) is None

    def test_an_idempotent_channel_is_simply_tried_again(self, h: Harness) -> None:
        app = h.rt.app
        h.channel.idempotent = True
        lead, execution = h.stranded_dispatch()
        h.clock.advance(minutes=3)
        assert h.rt.sender.send_due(execution.id) == "sent"
        [execution] = executions_of(app, lead)
        assert execution.steps[0].status == "sent" and execution.steps[0].attempts == 2
        assert len(h.channel.sent) == 1

    def test_history_lists_everything_in_order_and_rebuilds_identically(
            self, h: Harness) -> None:
        app = h.rt.app
        lead = h.crossing()
        h.send_due()
        app.change_status(lead, "lost", "bought elsewhere")
        h.settle()
        rows = h.rt.history.for_lead(str(lead))
        kinds = [r["kind"] for r in rows]
        assert kinds == [  # one entry per start: the execution's, not also the enrolment's
            "Lead.Created", "Lead.ScoreChanged", "WorkflowExecution.Created",
            "WorkflowExecution.StepScheduled", "WorkflowExecution.StepDispatched",
            "Message.CreatedSent", "WorkflowExecution.StepSent", "Lead.StatusChanged",
            "WorkflowExecution.Paused"]
        positions = [r["position"] for r in rows]
        assert positions == sorted(positions)
        assert rows[5]["summary"] == "Email sent: “Ana, new listings”"
        assert rows[6]["summary"].startswith("step 1 (email) sent; step 2 (")
        sent = rows[6]["data"]  # the event's own fields, for readers who want more
        assert sent["step_no"] == 0 and sent["next_step"] == 1
        assert datetime.fromisoformat(sent["next_due_at"]) >= datetime.fromisoformat(
            sent["sent_at"])
        assert "lost" in rows[-1]["summary"]
        # When the read model is dropped and rebuilt from the log
        h.rt.history.drop()
        assert h.rt.history.for_lead(str(lead)) == []
        h.settle()
        assert h.rt.history.for_lead(str(lead)) == rows

    def test_bad_input_is_refused_and_nothing_changes(self, h: Harness) -> None:
        app = h.rt.app
        lead = register_ana(app)
        before = app.recorder.max_notification_id()
        with pytest.raises(Invalid) as e:
            app.register_lead(agent_id="a", name="X", email=None, phone=None,
                              timezone="Mars/Olympus", preferences={}, timeline=None)
        assert e.value.field == "timezone"
        with pytest.raises(Invalid) as e:
            app.change_score(lead, 101, "x")
        assert e.value.field == "score"
        with pytest.raises(Invalid) as e:
            app.create_template(name="t", channel="email", subject="Hi", body="{{ lead.ssn }}")
        assert e.value.field == "body"
        with pytest.raises(NotFound):
            app.change_status(uuid4(), "lost", "x")
        workflow = app.create_workflow(agent_id="a", name="w", definition={
            "trigger": {"score_threshold": 50},
            "steps": [{"channel": "sms", "template_id": str(uuid4()), "delay_minutes": 0}]})
        before = app.recorder.max_notification_id()
        with pytest.raises(Invalid) as e:
            app.publish_workflow(workflow)
        assert e.value.field == "steps[0].templateId"
        assert app.recorder.max_notification_id() == before
        assert app.load(Lead, lead).score == 50


class TestOnSQLite(ApplicationScenarios):
    @pytest.fixture
    def settings(self, tmp_path: Path) -> Settings:
        return Settings(data_dir=tmp_path)


class TestOnPostgres(ApplicationScenarios):
    @pytest.fixture
    def settings(self, tmp_path: Path, pg_url: str) -> Settings:
        return Settings(data_dir=tmp_path, database_url=pg_url)
