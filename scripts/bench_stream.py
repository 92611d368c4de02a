"""Long streams: a score change's latency on a lead whose stream has 10, 1,000 and 10,000 events,
and the sender's batch load with a long-stream lead among its leads, with snapshots and without.

On PostgreSQL, in a scratch database the script makes and drops. The streams are written in
bulk (one save per lead) by the application with snapshots off, as a deployment from before
snapshots left them; each measure begins with one warm-up command per lead (with snapshots on,
that first load of a long stream snapshots it). The reference is the same command through the
same application with snapshots off (`FOLLOWUP_SNAPSHOT_INTERVAL=0`: every load replays the
whole stream), measured in the same run: two applications are open side by side and their
commands take turns, so both see the same machine. The ratio is ours / reference. A lead takes
at most a tenth of its length in measured commands, so a stream grows by at most 10% while
measured. A mode's case stops once its commands took `--budget` seconds and it has
`--min-commands` (the reference at 10,000 events takes most of a second a command).

The batch load is what `StepSender.send_batch` reads first: `load_many` of 50 executions, then
of their 50 leads, one of whose streams has 10,000 events (the others 10); beside it the same
batch with no long lead.

    uv run python scripts/bench_stream.py                  # about three minutes
    uv run python scripts/bench_stream.py --commands 100 --budget 10
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from uuid import UUID

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchkit import pct  # noqa: E402

from adapters.bootstrap import Runtime  # noqa: E402
from adapters.settings import Settings  # noqa: E402
from application.app import FollowUp  # noqa: E402
from domain import ids  # noqa: E402
from domain.definition import execution_steps  # noqa: E402
from domain.execution import WorkflowExecution  # noqa: E402
from domain.lead import Lead  # noqa: E402
from domain.workflow import Workflow  # noqa: E402

PG_ADMIN = os.environ.get("BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
LENGTHS = (10, 1_000, 10_000)
BATCH = 50
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)




@contextmanager
def scratch_database() -> Iterator[str]:
    name = f"fu_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def write_lead(app: FollowUp, length: int) -> UUID:
    """A lead whose stream has ``length`` events (registered, then score changes), one save."""
    lead = Lead.register(lead_id=uuid.uuid4(), agent_id="bench", name="Bench Lead",
                         email="lead@example.com", phone=None, timezone="UTC",
                         preferences={"property_type": "condo"}, timeline="soon", score=10)
    for i in range(length - 1):
        lead.change_score(11 + i % 80, "engaged", NOW)
    app.save(lead)
    return lead.id


def write_executions(app: FollowUp, lead_ids: list[UUID]) -> list[UUID]:
    """One started execution per lead, of a one-step email workflow."""
    template = app.create_template(name="t", channel="email", subject="Hi", body="Hello")
    workflow_id = app.create_workflow(agent_id="bench", name="w", definition={
        "trigger": {"score_threshold": 80},
        "steps": [{"channel": "email", "template_id": str(template), "delay_minutes": 0}]})
    app.publish_workflow(workflow_id)
    definition = app.load(Workflow, workflow_id).frozen(1)["definition"]
    executions = [WorkflowExecution.start(
        execution_id=ids.execution_id(lead_id, workflow_id, "bench"), lead_id=lead_id,
        workflow_id=workflow_id, workflow_version=1, steps=execution_steps(definition),
        trigger={"kind": "score", "score_threshold": 80, "exclusive_group": None,
                 "priority": 0}, timezone="UTC", now=NOW) for lead_id in lead_ids]
    app.save(*executions)
    return [x.id for x in executions]


class Case:
    """The leads of one stream length, for one mode, and their command quotas."""

    def __init__(self, app: FollowUp, length: int, commands: int) -> None:
        self.quota = max(1, length // 10)
        count = -(-commands // self.quota)
        self.leads = [write_lead(app, length) for _ in range(count)]


class Timings:
    """Runs the two modes' commands in turn (the machine's speed drifts, and both see it); a
    mode stops at ``count``, or once its commands took ``--budget`` seconds in all."""

    def __init__(self, args: argparse.Namespace, count: int) -> None:
        self.args, self.count = args, count
        self.took: dict[str, list[float]] = {"with": [], "without": []}

    def wants(self, mode: str) -> bool:
        took = self.took[mode]
        return len(took) < self.count and (len(took) < self.args.min_commands
                                           or sum(took) < self.args.budget)

    def run(self, runs: dict[str, Callable[[], object]]) -> dict[str, list[float]]:
        while any(self.wants(mode) for mode in runs):
            for mode, run in runs.items():
                if self.wants(mode):
                    t0 = time.perf_counter()
                    run()
                    self.took[mode].append(time.perf_counter() - t0)
        return self.took


def score_changes(apps: dict[str, FollowUp], cases: dict[str, Case],
                  args: argparse.Namespace) -> dict[str, list[float]]:
    runs = {}
    for mode, app in apps.items():
        for lead_id in cases[mode].leads:  # warm-up: one command per lead
            app.change_score(lead_id, 95, "warm-up")
        plan = iter([i for i in cases[mode].leads for _ in range(cases[mode].quota)])
        runs[mode] = partial(change_score, app, plan, iter(range(10**9)))
    return Timings(args, args.commands).run(runs)


def change_score(app: FollowUp, plan: Iterator[UUID], scores: Iterator[int]) -> None:
    app.change_score(next(plan), 10 + next(scores) % 80, "bench")


def batch_loads(apps: dict[str, FollowUp], batches: dict[str, list[UUID]],
                args: argparse.Namespace) -> dict[str, list[float]]:
    runs = {mode: partial(batch_load, app, batches[mode]) for mode, app in apps.items()}
    for run in runs.values():
        run()  # warm-up (with snapshots on, this snapshots the long stream)
    return Timings(args, args.batches).run(runs)


def batch_load(app: FollowUp, executions: list[UUID]) -> None:
    found = app.load_many(WorkflowExecution, executions)
    leads = app.load_many(Lead, [x.lead_id for x in found.values()])
    assert len(found) == len(leads) == BATCH


def line(name: str, took: dict[str, list[float]]) -> str:
    ours, ref = took["with"], took["without"]

    def ms(values: list[float], p: float) -> str:
        return f"{pct(values, p) * 1000:9.1f}"

    return (f"{name:<44} with: n={len(ours):<4} p50={ms(ours, 50)} p95={ms(ours, 95)} ms | "
            f"without: n={len(ref):<4} p50={ms(ref, 50)} p95={ms(ref, 95)} ms | "
            f"ratio p50 {pct(ours, 50) / pct(ref, 50):.3f}")


def runtime(db_url: str, data_dir: Path, interval: int) -> Runtime:
    settings = Settings(database_url=db_url, data_dir=data_dir, snapshot_interval=interval,
                        log_level="WARNING")
    return Runtime(settings)


def measure(db_url: str, data_dir: Path, args: argparse.Namespace) -> None:
    writer = runtime(db_url, data_dir, 0)
    modes = ("with", "without")
    try:
        cases = {n: {mode: Case(writer.app, n, args.commands) for mode in modes}
                 for n in LENGTHS}
        batches: dict[str, dict[str, list[UUID]]] = {"long": {}, "short": {}}
        for mode in modes:
            for name, long in (("long", 10_000), ("short", 10)):
                leads = [write_lead(writer.app, long)] + [write_lead(writer.app, 10)
                                                          for _ in range(BATCH - 1)]
                batches[name][mode] = write_executions(writer.app, leads)
        print(f"written: {writer.app.recorder.max_notification_id():,} events")
    finally:
        writer.stop()
    runtimes = {"with": runtime(db_url, data_dir, args.interval),
                "without": runtime(db_url, data_dir, 0)}
    try:
        apps = {mode: rt.app for mode, rt in runtimes.items()}
        for n in LENGTHS:
            print(line(f"score change, stream of {n:,} events",
                       score_changes(apps, cases[n], args)), flush=True)
        for name, label in (("long", "batch load, one lead of 10,000 events"),
                            ("short", "batch load, every lead 10 events")):
            print(line(label, batch_loads(apps, batches[name], args)), flush=True)
    finally:
        for rt in runtimes.values():
            rt.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--commands", type=int, default=300, help="score changes per case")
    parser.add_argument("--batches", type=int, default=100, help="batch loads per case")
    parser.add_argument("--budget", type=float, default=30.0,
                        help="seconds a case may take once it has --min-commands")
    parser.add_argument("--min-commands", type=int, default=10)
    parser.add_argument("--interval", type=int, default=Settings().snapshot_interval,
                        help="events between snapshots, with snapshots on")
    args = parser.parse_args()
    started = time.perf_counter()
    with scratch_database() as db_url, tempfile.TemporaryDirectory() as data_dir:
        print(f"snapshot interval {args.interval}; {os.cpu_count()} cores; "
              f"load average {os.getloadavg()[0]:.1f}")
        measure(db_url, Path(data_dir), args)
    print(f"took {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
