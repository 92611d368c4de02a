"""Snapshots of long streams (leads, the catalogue), on SQLite and PostgreSQL.

A snapshot is a cache of the log: a load starts from the newest one today's code took and reads
only the events after it, and whatever the snapshots hold or lack, a load rebuilds what the full
replay of the log rebuilds. The interval is 5 here, so streams are short.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy import create_engine, text

from adapters.bootstrap import Runtime
from adapters.settings import Settings
from application import snapshots
from application.app import FollowUp
from application.snapshots import Snapshots
from domain.ids import CATALOG_ID
from domain.lead import Lead
from domain.workflow import PublishedWorkflows
from tests.conftest import FakeClock
from tests.integration.helpers import register_ana, three_step_workflow

INTERVAL = 5


@pytest.fixture(params=["sqlite", "postgres"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    url = request.getfixturevalue("pg_url") if request.param == "postgres" else None
    return Settings(data_dir=tmp_path, database_url=url, snapshot_interval=INTERVAL)


@pytest.fixture
def rt(settings: Settings, clock: FakeClock) -> Iterator[Runtime]:
    runtime = Runtime(settings, clock=clock)
    yield runtime
    runtime.stop()


def lead_with_events(app: FollowUp, count: int) -> UUID:
    """A lead whose stream has ``count`` events (registered, then score changes)."""
    lead_id = register_ana(app, score=0)
    for score in range(1, count):
        app.change_score(lead_id, score, "engaged")
    return lead_id


def snapshot_versions(app: FollowUp, kind: type[Any], ident: UUID) -> list[int]:
    assert app.snapshots is not None
    return [s.originator_version for s in app.snapshots.get(Snapshots.key(kind, ident))]


def full_replay(app: FollowUp, ident: UUID) -> dict[str, Any]:
    """The aggregate as the whole log rebuilds it (the library's repository has no snapshots)."""
    return vars(app.repository.get(ident))


def file_snapshot(app: FollowUp, lead: Lead, key: UUID | None = None, **changed: Any) -> None:
    """Put a snapshot of ``lead`` with ``changed`` attributes where ``key`` says (by default,
    where today's code files them)."""
    snapshot = Lead.Snapshot.take(lead)
    snapshot.state.update(changed)
    assert app.snapshots is not None
    app.snapshots.put([replace(snapshot, originator_id=key or Snapshots.key(Lead, lead.id))])


def test_a_lead_is_snapshotted_every_interval_and_loads_as_the_log_rebuilds_it(
        rt: Runtime) -> None:
    app = rt.app
    # Given a lead whose stream has 13 events, and another of 3
    long, short = lead_with_events(app, 13), lead_with_events(app, 3)
    # Then it was snapshotted as its saves reached versions 5 and 10, the short one never
    assert snapshot_versions(app, Lead, long) == [5, 10]
    assert snapshot_versions(app, Lead, short) == []
    # And a load, alone or in a batch, rebuilds what the full replay of the log rebuilds
    assert vars(app.load(Lead, long)) == full_replay(app, long)
    batch = app.load_many(Lead, [short, long, uuid4()])
    assert list(batch) == [short, long]
    assert [vars(x) for x in batch.values()] == [full_replay(app, short), full_replay(app, long)]
    # And no snapshot is in the log that followers read and exports are made of
    topics = {n.topic for n in app.recorder.select_notifications(start=None, limit=1000)}
    assert not any("snapshot" in topic for topic in topics)


def test_a_load_starts_from_the_newest_snapshot_and_reads_only_the_events_after_it(
        rt: Runtime) -> None:
    app = rt.app
    # Given a lead of 12 events whose newest snapshot (version 12) says another name
    lead_id, other = lead_with_events(app, 12), lead_with_events(app, 2)
    file_snapshot(app, app.load(Lead, lead_id), name="Named by the snapshot")
    # When its score changes once more
    app.change_score(lead_id, 77, "replied")
    # Then a load, alone or in a batch, is that snapshot and the one event after it
    for lead in (app.load(Lead, lead_id), app.load_many(Lead, [other, lead_id])[lead_id]):
        assert (lead.name, lead.score, lead.version) == ("Named by the snapshot", 77, 13)


def test_a_snapshot_other_code_took_is_never_used_and_a_long_replay_is_snapshotted(
        rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    app = rt.app
    # Given a lead of 8 events whose snapshots older code took (at 5, and one at 8 from before
    # Lead had ``opted_out``), as before a change to domain/lead.py
    with monkeypatch.context() as older_code:
        older_code.setattr(snapshots, "code_fingerprint", lambda kind: "older code")
        lead_id, other = lead_with_events(app, 8), lead_with_events(app, 2)
        lead = app.load(Lead, lead_id)
        del lead.opted_out
        file_snapshot(app, lead)
        assert snapshot_versions(app, Lead, lead_id) == [5, 8]
    # When today's code loads it
    found = app.load(Lead, lead_id)
    # Then it replays the log, attribute and all
    assert vars(found) == full_replay(app, lead_id) and found.opted_out == []
    # And that long replay left a snapshot of today's code, which the next loads start from
    assert snapshot_versions(app, Lead, lead_id) == [8]
    assert vars(app.load_many(Lead, [lead_id, other])[lead_id]) == full_replay(app, lead_id)


def test_the_snapshot_table_can_be_emptied_at_any_time(rt: Runtime) -> None:
    app = rt.app
    # Given leads snapshotted at 5 and 10
    lead_id, other = lead_with_events(app, 12), lead_with_events(app, 2)
    # When every snapshot is deleted
    forget_snapshots(rt)
    # Then the leads load as the log rebuilds them, and the long one is snapshotted again
    assert vars(app.load_many(Lead, [lead_id, other])[lead_id]) == full_replay(app, lead_id)
    assert vars(app.load(Lead, lead_id)) == full_replay(app, lead_id)
    assert snapshot_versions(app, Lead, lead_id) == [12]


def forget_snapshots(rt: Runtime, *, drop: bool = False) -> None:
    """Empty (or drop) the snapshot table, as an operator may at any time."""
    table = "followup_snapshots" if rt.settings.database_url else "stored_snapshots"
    url = (rt.settings.read_model_url() if rt.settings.database_url
           else f"sqlite:///{rt.settings.data_dir / 'events.sqlite'}")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE {table}" if drop else f"DELETE FROM {table}"))
    engine.dispose()


def test_streams_from_before_snapshots_are_snapshotted_when_first_read(
        settings: Settings, clock: FakeClock) -> None:
    # Given leads written with snapshots off (as before snapshots were kept)
    before = Runtime(settings.model_copy(update={"snapshot_interval": 0}), clock=clock)
    try:
        assert before.app.snapshotting is None
        long, short = (lead_with_events(before.app, n) for n in (7, 3))
    finally:
        before.stop()
    now = Runtime(settings, clock=clock)
    try:
        # When a process that keeps snapshots reads them in a batch, then one alone
        found = now.app.load_many(Lead, [long, short])
        # Then each is what the log rebuilds, and the long one is now snapshotted
        assert [vars(x) for x in found.values()] == [full_replay(now.app, i) for i in found]
        assert snapshot_versions(now.app, Lead, long) == [7]
        assert snapshot_versions(now.app, Lead, short) == []
        assert vars(now.app.load(Lead, long)) == full_replay(now.app, long)
    finally:
        now.stop()


def test_the_catalogue_is_snapshotted_and_every_process_reads_it_whole(
        rt: Runtime, clock: FakeClock) -> None:
    app = rt.app
    # Given a catalogue of 8 events: opened, listed, then held and released three times
    workflow = three_step_workflow(app)
    for held in (True, False) * 3:
        app.hold_workflow(workflow, held, "copy edits")
    assert snapshot_versions(app, PublishedWorkflows, app.catalog().id) == [5]
    # Then a process starting now reads it from that snapshot as the log rebuilds it
    other = Runtime(rt.settings, clock=clock)
    try:
        for catalogue in (other.app.catalog(), other.app.catalog_to_change()):
            assert vars(catalogue) == full_replay(app, catalogue.id)
            assert catalogue.version == 8 and not catalogue.is_held(workflow)
    finally:
        other.stop()


def test_a_snapshot_table_dropped_while_running_fails_nothing_and_comes_back_at_start(
        rt: Runtime, clock: FakeClock) -> None:
    app = rt.app
    # Given a lead of 8 events (snapshotted at 5), and the snapshot table dropped
    lead_id, other = lead_with_events(app, 8), lead_with_events(app, 2)
    forget_snapshots(rt, drop=True)
    # When its score changes twice (the save reaching 10 cannot keep its snapshot)
    for score in (70, 75):
        assert app.change_score(lead_id, score, "viewed").new == score
    # Then loads, alone and in a batch, read the log in full
    assert vars(app.load(Lead, lead_id)) == full_replay(app, lead_id)
    assert vars(app.load_many(Lead, [lead_id, other])[lead_id]) == full_replay(app, lead_id)
    # And a process started now has the table again, and snapshots the lead as it reads it
    again = Runtime(rt.settings, clock=clock)
    try:
        assert vars(again.app.load(Lead, lead_id)) == full_replay(app, lead_id)
        assert snapshot_versions(again.app, Lead, lead_id) == [10]
    finally:
        again.stop()


READ_IN_A_NEW_PROCESS = """
import sys
from uuid import UUID
from adapters.bootstrap import Runtime
from adapters.settings import Settings
from domain.lead import Lead
from domain.workflow import PublishedWorkflows
from domain.ids import CATALOG_ID
rt = Runtime(Settings(data_dir=sys.argv[1], database_url=sys.argv[2] or None,
                      snapshot_interval=5))
print(rt.app.load(Lead, UUID(sys.argv[3])).score, rt.app.load_many(Lead, [UUID(sys.argv[3])] * 2)
      [UUID(sys.argv[3])].score, rt.app.load(PublishedWorkflows, CATALOG_ID).version)
rt.stop()
"""


def test_a_process_that_never_took_a_snapshot_reads_those_others_took(
        rt: Runtime, settings: Settings) -> None:
    import subprocess
    import sys

    # Given a lead and the catalogue snapshotted by this process
    for _ in range(3):
        workflow = three_step_workflow(rt.app)
        rt.app.hold_workflow(workflow, True, "agent")
    lead_id = lead_with_events(rt.app, 13)
    assert snapshot_versions(rt.app, Lead, lead_id) == [5, 10]
    # When a new process (an API or a worker restarted) loads them before taking any itself
    read = subprocess.run([sys.executable, "-c", READ_IN_A_NEW_PROCESS, str(settings.data_dir),
                           settings.database_url or "", str(lead_id)],
                          capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[2])
    # Then it reads them (it failed: the snapshot classes' topics were only known to a process
    # once it had taken a snapshot itself)
    assert read.returncode == 0, read.stderr[-2000:]
    catalog = rt.app.load(PublishedWorkflows, CATALOG_ID).version
    assert read.stdout.split() == ["12", "12", str(catalog)]
