"""Lead: register, change_score, change_status, enrol, opt_out / opt_in, rearmed."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from random import Random
from uuid import UUID

import hypothesis
import pytest
from hypothesis import strategies as st

from domain import ids
from domain.errors import InvalidState, InvalidValue
from domain.ids import DEFAULT_BROKERAGE_ID
from domain.lead import RECENT_SCORE_EVENTS, Lead
from tests.unit.conftest import ANN, T0, given, names, state, then

LEAD_ID = ids.lead_id("agent-1", "crm-42")
WORKFLOW_ID = UUID("00000000-0000-4000-8000-0000000000a1")
OTHER_WORKFLOW_ID = UUID("00000000-0000-4000-8000-0000000000a2")
EXECUTION_ID = UUID("00000000-0000-4000-8000-0000000000e1")


def register(**overrides: object) -> Lead:
    fields: dict[str, object] = dict(
        lead_id=LEAD_ID, agent_id="agent-1", name="Ana Maria Lopez", email="ana@example.com",
        phone="+15551234567", timezone="America/New_York",
        preferences={"area": "Downtown", "bedrooms": 2}, timeline="within 3 months", score=10,
    )
    fields.update(overrides)
    return Lead.register(**fields)  # type: ignore[arg-type]


def registered(*commands: object, **overrides: object) -> list[object]:
    """The events of a lead registered, then changed by ``commands`` (callables)."""
    lead = register(**overrides)
    for command in commands:
        command(lead)  # type: ignore[operator]
    return list(lead.collect_events())


# register ------------------------------------------------------------------


def test_register_records_created_with_the_lead_details() -> None:
    # Given no lead
    # When
    lead = register(name="  Ana Maria Lopez  ")
    # Then
    assert then(lead) == [("Lead.Created", {
        "brokerage_id": DEFAULT_BROKERAGE_ID, "agent_id": "agent-1",
        "name": "Ana Maria Lopez", "email": "ana@example.com",
        "phone": "+15551234567", "timezone": "America/New_York",
        "preferences": {"area": "Downtown", "bedrooms": 2}, "timeline": "within 3 months",
        "score": 10, "source": None, "move_by": None,
    })]
    assert lead.id == LEAD_ID
    assert lead.status == "new"
    assert lead.first_name == "Ana"
    assert lead.enrolments == {}
    assert lead.low_water == {}
    assert lead.opted_out == []
    assert not lead.is_stopped


def test_register_records_the_source_and_the_move_date() -> None:
    # When
    lead = register(source="  Zillow ", move_by=date(2026, 6, 30))
    # Then
    [(name, fields)] = then(lead)
    assert name == "Lead.Created"
    assert (fields["source"], fields["move_by"]) == ("zillow", "2026-06-30")
    assert (lead.source, lead.move_by) == ("zillow", "2026-06-30")


@pytest.mark.parametrize("source", [None, "", "   "])
def test_register_without_a_source_records_none(source: str | None) -> None:
    # When / Then
    assert then(register(source=source))[0][1]["source"] is None


def test_register_defaults_the_score_to_zero() -> None:
    # When
    lead = Lead.register(lead_id=LEAD_ID, agent_id="a", name="Bo", email=None, phone=None,
                         timezone="UTC", preferences={}, timeline=None)
    # Then
    [(name, fields)] = then(lead)
    assert name == "Lead.Created"
    assert fields["score"] == 0


def test_register_copies_the_preferences() -> None:
    # Given the caller's preferences
    preferences = {"area": "Downtown"}
    # When the lead is registered and the caller changes its dict afterwards
    lead = register(preferences=preferences)
    preferences["area"] = "Uptown"
    # Then the lead keeps what it was given
    assert lead.preferences == {"area": "Downtown"}


@pytest.mark.parametrize(("overrides", "field"), [
    ({"name": "   "}, "name"),
    ({"name": ""}, "name"),
    ({"agent_id": " "}, "agentId"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"timezone": ""}, "timezone"),
    ({"timezone": "../etc/passwd"}, "timezone"),
    ({"score": -1}, "score"),
    ({"score": 101}, "score"),
    ({"score": True}, "score"),
    ({"score": 50.0}, "score"),
])
def test_register_refuses_bad_values(overrides: dict[str, object], field: str) -> None:
    # When / Then
    with pytest.raises(InvalidValue) as refused:
        register(**overrides)
    assert refused.value.field == field


@pytest.mark.parametrize("score", [0, 100])
def test_register_accepts_the_score_bounds(score: int) -> None:
    # When / Then
    assert register(score=score).score == score


# change_score ----------------------------------------------------------------


def test_change_score_records_old_and_new() -> None:
    # Given
    lead = given(*registered(score=10))
    # When
    lead.change_score(75, "viewed three listings", T0)
    # Then
    assert then(lead) == [("Lead.ScoreChanged",
                           {"old": 10, "new": 75, "reason": "viewed three listings", "at": T0,
                            "event_id": None, "occurred_at": None})]
    assert lead.score == 75


def test_change_score_to_the_same_score_records_nothing() -> None:
    # Given
    lead = given(*registered(lambda le: le.change_score(40, "call", T0), score=10))
    # When
    lead.change_score(40, "again", T0)
    # Then
    assert then(lead) == []
    assert lead.score == 40


@pytest.mark.parametrize("score", [0, 100])
def test_change_score_accepts_the_bounds(score: int) -> None:
    # Given
    lead = given(*registered(score=50))
    # When
    lead.change_score(score, "edge", T0)
    # Then
    assert then(lead) == [("Lead.ScoreChanged",
                           {"old": 50, "new": score, "reason": "edge", "at": T0,
                            "event_id": None, "occurred_at": None})]


@pytest.mark.parametrize("score", [-1, 101, 1000, True, False, 50.5, "50", None])
def test_change_score_refuses_what_is_not_a_score(score: object) -> None:
    # Given
    lead = given(*registered(score=1))
    # When / Then
    with pytest.raises(InvalidValue) as refused:
        lead.change_score(score, "bad", T0)  # type: ignore[arg-type]
    assert refused.value.field == "score"
    assert then(lead) == []
    assert lead.score == 1


def scored(score: int, event_id: str, minutes: int) -> object:
    """A command: the scoring system's update ``event_id``, computed ``minutes`` after T0."""
    return lambda le: le.change_score(score, "scoring", T0 + timedelta(days=1),
                                      event_id=event_id,
                                      occurred_at=T0 + timedelta(minutes=minutes))


def test_a_repeated_score_event_id_records_nothing() -> None:
    # Given update e1 applied
    lead = given(*registered(scored(70, "e1", 5), score=10))
    # When it comes again (a retry), even with another score
    why = lead.change_score(90, "scoring", T0 + timedelta(hours=1), event_id="e1",
                            occurred_at=T0 + timedelta(minutes=5))
    # Then nothing is recorded and the answer says why
    assert (why, then(lead), lead.score) == ("duplicate eventId", [], 70)


def test_a_score_update_older_than_the_last_applied_is_recorded_and_ignored() -> None:
    # Given update e2 (computed at minute 10) applied
    lead = given(*registered(scored(80, "e2", 10), score=10))
    # When e1, computed at minute 5, arrives late
    now = T0 + timedelta(hours=1)
    why = lead.change_score(60, "scoring", now, event_id="e1",
                            occurred_at=T0 + timedelta(minutes=5))
    # Then it is recorded as ignored, the score stays, and a retry of it is a repeat
    assert why is not None and why.startswith("older than the last update applied")
    assert then(lead) == [("Lead.ScoreIgnored", {
        "score": 60, "reason": "scoring", "event_id": "e1",
        "occurred_at": T0 + timedelta(minutes=5), "why": why, "at": now})]
    assert lead.score == 80
    assert lead.change_score(60, "scoring", now, event_id="e1",
                             occurred_at=T0 + timedelta(minutes=5)) == "duplicate eventId"


def test_the_same_score_from_a_newer_update_records_its_time() -> None:
    # Given 80 at minute 10
    lead = given(*registered(scored(80, "e1", 10), score=10))
    # When 80 again at minute 30, then 60 from minute 20 arrives late
    now = T0 + timedelta(hours=1)
    assert lead.change_score(80, "scoring", now, event_id="e3",
                             occurred_at=T0 + timedelta(minutes=30)) is None
    # Then the late one does not move the score back
    assert lead.change_score(60, "scoring", now, event_id="e2",
                             occurred_at=T0 + timedelta(minutes=20)) is not None
    assert lead.score == 80
    assert names(lead.collect_events()) == ["Lead.ScoreChanged", "Lead.ScoreIgnored"]


def test_a_lead_remembers_a_bounded_number_of_score_event_ids() -> None:
    # Given more updates than it remembers
    lead = given(*registered(*[scored(i % 2 * 50 + 20, f"e{i}", i)
                               for i in range(RECENT_SCORE_EVENTS + 5)]))
    # Then it keeps the latest ones only, in order, and rebuilding gives the same
    assert lead.score_event_ids == [f"e{i}" for i in range(5, RECENT_SCORE_EVENTS + 5)]


@pytest.mark.parametrize(("occurred_at", "reason"), [
    (datetime(2026, 1, 5, 9, 0), "time zone"),  # naive: the point of the test
    (T0 + timedelta(hours=2), "future"),
])
def test_a_bad_occurred_at_is_refused(occurred_at: datetime, reason: str) -> None:
    lead = given(*registered(score=10))
    with pytest.raises(InvalidValue) as refused:
        lead.change_score(50, "scoring", T0, occurred_at=occurred_at)
    assert refused.value.field == "occurredAt" and reason in refused.value.reason
    assert then(lead) == []


def test_a_version_1_score_changed_still_decodes() -> None:
    # Given a ScoreChanged stored before it carried a source event
    from eventsourcing.persistence import JSONTranscoder, Mapper, StoredEvent
    from eventsourcing.utils import get_topic

    transcoder = JSONTranscoder()
    stored = StoredEvent(originator_id=LEAD_ID, originator_version=2,
                         topic=get_topic(Lead.ScoreChanged),
                         state=transcoder.encode({"old": 10, "new": 75, "reason": "r",
                                                  "at": "x", "timestamp": "y"}))
    # When it is read
    decoded = Mapper(transcoder=transcoder).to_domain_event(stored)
    # Then it has no source event
    assert (decoded.event_id, decoded.occurred_at) == (None, None)  # type: ignore[attr-defined]


# change_status ---------------------------------------------------------------


def test_change_status_records_old_and_new() -> None:
    # Given
    lead = given(*registered())
    # When
    lead.change_status("contacted", "first call", by=ANN)
    # Then it names who changed it
    assert then(lead) == [("Lead.StatusChanged",
                           {"old": "new", "new": "contacted", "reason": "first call",
                            "by": ANN})]
    assert lead.status == "contacted"
    assert not lead.is_stopped


def test_change_status_to_the_same_status_records_nothing() -> None:
    # Given
    lead = given(*registered(lambda le: le.change_status("qualified", "x")))
    # When
    lead.change_status("qualified", "again")
    # Then
    assert then(lead) == []


@pytest.mark.parametrize("status", ["archived", "", "CLOSED", "Closed ", None])
def test_change_status_refuses_an_unknown_status(status: object) -> None:
    # Given
    lead = given(*registered())
    # When / Then
    with pytest.raises(InvalidValue) as refused:
        lead.change_status(status, "typo")  # type: ignore[arg-type]
    assert refused.value.field == "status"
    assert then(lead) == []
    assert lead.status == "new"


@pytest.mark.parametrize(("status", "stopped"), [
    ("new", False), ("contacted", False), ("qualified", False), ("nurturing", False),
    ("negotiating", False), ("closed", True), ("lost", True),
])
def test_only_closed_and_lost_stop_the_lead(status: str, stopped: bool) -> None:
    # Given
    lead = given(*registered(lambda le: le.change_status("contacted", "call")))
    # When
    lead.change_status(status, "update")
    # Then
    assert lead.is_stopped is stopped


def test_a_lost_lead_can_come_back() -> None:
    # Given
    lead = given(*registered(lambda le: le.change_status("lost", "went quiet")))
    # When
    lead.change_status("nurturing", "called back")
    # Then
    assert then(lead) == [("Lead.StatusChanged",
                           {"old": "lost", "new": "nurturing", "reason": "called back",
                            "by": None})]
    assert not lead.is_stopped


# enrol -----------------------------------------------------------------------


def test_enrol_records_the_workflow_and_execution() -> None:
    # Given
    lead = given(*registered())
    # When
    lead.enrol(WORKFLOW_ID, EXECUTION_ID)
    # Then
    assert then(lead) == [("Lead.Enrolled",
                           {"workflow_id": WORKFLOW_ID, "execution_id": EXECUTION_ID})]
    assert lead.active_execution_of(WORKFLOW_ID) == EXECUTION_ID
    assert lead.active_execution_of(OTHER_WORKFLOW_ID) is None
    assert lead.execution_ids() == [EXECUTION_ID]


def test_enrol_again_in_a_workflow_replaces_the_execution() -> None:
    second = UUID("00000000-0000-4000-8000-0000000000e2")
    # Given
    lead = given(*registered(lambda le: le.enrol(WORKFLOW_ID, EXECUTION_ID)))
    # When
    lead.enrol(WORKFLOW_ID, second)
    # Then
    assert then(lead) == [("Lead.Enrolled", {"workflow_id": WORKFLOW_ID, "execution_id": second})]
    assert lead.active_execution_of(WORKFLOW_ID) == second
    assert lead.execution_ids() == [second]
    # And the earlier run is still listed, first
    assert lead.all_execution_ids() == [EXECUTION_ID, second]


@pytest.mark.parametrize("status", ["closed", "lost"])
def test_enrol_is_refused_when_the_lead_is_stopped(status: str) -> None:
    # Given
    lead = given(*registered(lambda le: le.change_status(status, "done")))
    # When / Then
    with pytest.raises(InvalidState) as refused:
        lead.enrol(WORKFLOW_ID, EXECUTION_ID)
    assert refused.value.field == "status"
    assert then(lead) == []
    assert lead.enrolments == {}


# refuse_entry ----------------------------------------------------------------


def test_refuse_entry_records_the_workflow_version_and_the_reason() -> None:
    # Given a closed lead
    lead = given(*registered(lambda le: le.change_status("closed", "bought")))
    before = state(lead)
    # When a crossing of version 3's threshold is refused
    lead.refuse_entry(WORKFLOW_ID, 3, "the lead is closed", score_version=4)
    # Then the refusal is on the record, and nothing else about the lead changed
    assert then(lead) == [("Lead.EntryRefused", {
        "workflow_id": WORKFLOW_ID, "workflow_version": 3, "reason": "the lead is closed",
        "score_version": 4})]
    envelope = {"_version", "_modified_on"}
    assert {k: v for k, v in state(lead).items() if k not in envelope} == {
        k: v for k, v in before.items() if k not in envelope}


@pytest.mark.parametrize("reason", ["", "   "])
def test_refuse_entry_without_a_reason_is_refused(reason: str) -> None:
    # Given
    lead = given(*registered())
    # When / Then
    with pytest.raises(InvalidValue) as refused:
        lead.refuse_entry(WORKFLOW_ID, 1, reason, score_version=None)
    assert refused.value.field == "reason"
    assert then(lead) == []


# replay ----------------------------------------------------------------------


def test_replaying_a_leads_events_rebuilds_the_same_lead() -> None:
    # Given a lead that went through every command
    lead = register()
    lead.change_score(60, "opened emails", T0)
    lead.change_status("qualified", "call")
    lead.enrol(WORKFLOW_ID, EXECUTION_ID)
    lead.enrol(OTHER_WORKFLOW_ID, UUID("00000000-0000-4000-8000-0000000000e3"))
    lead.change_score(30, "went quiet", T0)
    lead.opt_out("sms", "STOP")
    lead.opt_out("email", "unsubscribe link")
    lead.opt_in("sms", "START")
    lead.change_status("closed", "bought")
    events = lead.collect_events()
    # When
    replayed = given(*events)
    # Then
    assert state(replayed) == state(lead)
    assert replayed.version == len(events)


# opt_out / opt_in --------------------------------------------------------------


def test_opt_out_records_the_channel_and_why() -> None:
    # Given
    lead = given(*registered())
    # When
    lead.opt_out("sms", "replied STOP", by=ANN)
    # Then
    assert then(lead) == [("Lead.OptedOut", {"channel": "sms", "reason": "replied STOP",
                                             "by": ANN})]
    assert lead.opted_out == ["sms"]


def test_opt_out_of_a_channel_already_opted_out_records_nothing() -> None:
    # Given
    lead = given(*registered(lambda le: le.opt_out("email", "unsubscribed")))
    # When
    lead.opt_out("email", "again")
    # Then
    assert then(lead) == []
    assert lead.opted_out == ["email"]


def test_opt_out_of_several_channels() -> None:
    # Given
    lead = given(*registered(lambda le: le.opt_out("email", "unsubscribed")))
    # When
    lead.opt_out("in_app", "muted")
    # Then
    assert then(lead) == [("Lead.OptedOut", {"channel": "in_app", "reason": "muted",
                                             "by": None})]
    assert lead.opted_out == ["email", "in_app"]


def test_opt_in_records_the_channel_and_why() -> None:
    # Given
    lead = given(*registered(lambda le: le.opt_out("sms", "STOP")))
    # When
    lead.opt_in("sms", "replied START", by=ANN)
    # Then
    assert then(lead) == [("Lead.OptedIn", {"channel": "sms", "reason": "replied START",
                                            "by": ANN})]
    assert lead.opted_out == []


def test_opt_in_to_a_channel_not_opted_out_records_nothing() -> None:
    # Given
    lead = given(*registered(lambda le: le.opt_out("sms", "STOP")))
    # When
    lead.opt_in("email", "asked")
    # Then
    assert then(lead) == []
    assert lead.opted_out == ["sms"]


@pytest.mark.parametrize("command", ["opt_out", "opt_in"])
@pytest.mark.parametrize("channel", ["fax", "", "SMS", "whatsapp"])
def test_an_unknown_channel_is_refused_naming_the_channel(command: str, channel: str) -> None:
    # Given a lead opted out of sms
    lead = given(*registered(lambda le: le.opt_out("sms", "STOP")))
    # When / Then
    with pytest.raises(InvalidValue) as refused:
        getattr(lead, command)(channel, "why")
    assert refused.value.field == "channel"
    assert then(lead) == []


# low_water / rearmed ---------------------------------------------------------


def test_enrol_notes_the_score_as_the_low_water_mark() -> None:
    # Given a lead at 80
    lead = given(*registered(score=80))
    # When
    lead.enrol(WORKFLOW_ID, EXECUTION_ID)
    # Then
    assert lead.low_water == {str(WORKFLOW_ID): 80}


def test_the_low_water_mark_follows_the_score_down_but_not_up() -> None:
    # Given a lead enrolled at 80
    lead = given(*registered(lambda le: le.enrol(WORKFLOW_ID, EXECUTION_ID), score=80))
    # When the score falls to 55, then rises to 95
    lead.change_score(55, "quiet", T0)
    lead.change_score(95, "back", T0)
    # Then
    assert lead.low_water == {str(WORKFLOW_ID): 55}


def test_a_new_enrolment_resets_the_low_water_mark() -> None:
    # Given a lead enrolled at 80 whose score fell to 40, then rose to 90
    lead = given(*registered(lambda le: le.enrol(WORKFLOW_ID, EXECUTION_ID),
                             lambda le: le.change_score(40, "quiet", T0),
                             lambda le: le.change_score(90, "back", T0), score=80))
    # When
    lead.enrol(WORKFLOW_ID, UUID("00000000-0000-4000-8000-0000000000e2"))
    # Then
    assert lead.low_water == {str(WORKFLOW_ID): 90}


def test_the_low_water_mark_is_kept_per_workflow() -> None:
    # Given a lead enrolled in one workflow at 80, its score then at 50
    lead = given(*registered(lambda le: le.enrol(WORKFLOW_ID, EXECUTION_ID),
                             lambda le: le.change_score(50, "quiet", T0), score=80))
    # When it enrols in another
    lead.enrol(OTHER_WORKFLOW_ID, UUID("00000000-0000-4000-8000-0000000000e2"))
    # Then
    assert lead.low_water == {str(WORKFLOW_ID): 50, str(OTHER_WORKFLOW_ID): 50}


@pytest.mark.parametrize(("low", "threshold", "hysteresis", "rearmed"), [
    (None, 70, 10, True),    # never enrolled
    (80, 70, 0, True),       # no hysteresis: every crossing counts
    (60, 70, 10, False),     # 60 is not below 70 - 10
    (59, 70, 10, True),
    (69, 70, 1, False),
    (68, 70, 1, True),
    (0, 70, 70, False),      # nothing is below 0
])
def test_rearmed_when_the_score_fell_below_threshold_minus_hysteresis(
        low: int | None, threshold: int, hysteresis: int, rearmed: bool) -> None:
    # Given a lead enrolled at 90 whose lowest score since is ``low``
    commands = [] if low is None else [lambda le: le.enrol(WORKFLOW_ID, EXECUTION_ID),
                                       lambda le: le.change_score(low, "fell", T0)]
    lead = given(*registered(*commands, score=90))
    # When / Then
    assert lead.rearmed(WORKFLOW_ID, threshold, hysteresis) is rearmed
    assert lead.rearmed(OTHER_WORKFLOW_ID, threshold, hysteresis) is True


@hypothesis.given(st.lists(st.integers(min_value=0, max_value=100), min_size=1, max_size=12),
                  st.randoms(use_true_random=False))
def test_any_delivery_order_with_repeats_ends_at_the_latest_updates_score(
        scores: list[int], rng: Random) -> None:
    # Given scoring updates e0..en, computed a minute apart, delivered shuffled and some twice
    updates = [(f"e{i}", score, T0 + timedelta(minutes=i)) for i, score in enumerate(scores)]
    deliveries = updates + rng.sample(updates, k=len(updates) // 2)
    rng.shuffle(deliveries)
    past = registered(score=10)
    lead = given(*past)
    # When each is applied as it arrives
    for event_id, score, occurred_at in deliveries:
        lead.change_score(score, "scoring", T0 + timedelta(days=1), event_id=event_id,
                          occurred_at=occurred_at)
    # Then the score is the latest update's, and rebuilding from the events gives the same lead
    assert lead.score == scores[-1]
    rebuilt = given(*past, *lead.collect_events())
    assert state(rebuilt) == state(lead)
