"""Engine benchmark: sustained sends, the 08:00 burst against Dramatiq's own delayed messages,
trigger latency under load, and Redis memory per scheduled step.

Everything runs on this machine: `followup scheduler`, `followup worker`, `followup projector`
and `followup api` as separate processes, PostgreSQL, Redis, and an SMTP server in this process
that accepts every send (the provider stand-in). References are measured in the same run.

    uv run python scripts/bench_engine.py            # about twelve minutes
    uv run python scripts/bench_engine.py --quick    # smaller numbers, for a smoke run
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import psycopg
import redis
import uvloop
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchkit import (  # noqa: E402
    PG_ADMIN,
    REDIS_URL,
    clean_up,
    cpu_seconds,
    free_port,
    integration_token,
    pct,
)
from benchkit import start as start_process  # noqa: E402
from benchkit import stop as stop_process  # noqa: E402

from adapters.bootstrap import Runtime  # noqa: E402
from adapters.settings import Settings  # noqa: E402
from application.due_feeder import DueFeeder  # noqa: E402
from application.enrolment import try_enrol  # noqa: E402
from application.ports import DueChange  # noqa: E402
from domain.lead import Lead  # noqa: E402
from domain.priority import lane  # noqa: E402
from domain.workflow import Workflow  # noqa: E402
from projections.due_steps import DueStepsProjection  # noqa: E402
from scheduler.due_index import RedisDueSchedule  # noqa: E402

ANGLE_ADDRESS = re.compile(r"\s*<([^<>\s]*)>(.*)")
HEADER = re.compile(rb"^X-Followup-Message: *(\S+)", re.MULTILINE | re.IGNORECASE)


class QuickSMTP(SMTP):
    """aiosmtpd's server with a plain reading of ``MAIL FROM:<a>`` and ``RCPT TO:<b>``: its full
    RFC 5322 address parser (which declares a class on every call) cost the stand-in more CPU
    than everything else it does, on the same two cores as the system under test."""

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        found = ANGLE_ADDRESS.match(arg)
        return (found.group(1), found.group(2)) if found else (None, None)


class QuickController(Controller):
    def factory(self) -> SMTP:
        return QuickSMTP(self.handler, **self.SMTP_kwargs)


class Accepting:
    """The provider stand-in: accepts every message and notes when each arrived."""

    def __init__(self) -> None:
        self.at: dict[str, float] = {}
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        # Only the id header is read (a full parse would cost the stand-in more than the sender)
        found = HEADER.search(envelope.content)
        with self.lock:
            self.at.setdefault(found.group(1).decode() if found else "", time.time())
        return "250 OK"

    def count(self) -> int:
        with self.lock:
            return len(self.at)

    def wait_for(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.count() < count and time.monotonic() < deadline:
            time.sleep(0.2)


class Ref(Aggregate):
    """The reference's aggregate: one event, saved alone."""

    @event("Made")
    def __init__(self, n: int) -> None:
        self.n = n






class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.db = f"fu_bench_{uuid.uuid4().hex[:10]}"
        self.prefix = f"fu-bench-{uuid.uuid4().hex[:10]}"
        self.db_url = PG_ADMIN.rsplit("/", 1)[0] + "/" + self.db
        self.smtp = Accepting()
        self.smtp_port = free_port()
        self.logs = Path(tempfile.mkdtemp(prefix="fu-bench-"))
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("FOLLOWUP_")}
        self.env.update(FOLLOWUP_DATABASE_URL=self.db_url, FOLLOWUP_REDIS_URL=REDIS_URL,
                        FOLLOWUP_REDIS_PREFIX=self.prefix, FOLLOWUP_SMTP_HOST="127.0.0.1",
                        FOLLOWUP_SMTP_PORT=str(self.smtp_port), FOLLOWUP_API_PORT=str(free_port()),
                        FOLLOWUP_DATA_DIR=str(self.logs), FOLLOWUP_LOG_LEVEL="WARNING",
                        FOLLOWUP_WORKER_THREADS=str(args.threads),
                        FOLLOWUP_SCHEDULER_DISPATCH_BATCH=str(args.dispatch_batch))
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.runtime: Runtime | None = None

    # Set-up ------------------------------------------------------------------

    @contextmanager
    def servers(self) -> Iterator[None]:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{self.db}"')
        # uvloop: the stand-in shares the two cores with the system under test (a provider's
        # servers would not), so its own event loop should cost as little as it can
        controller = QuickController(self.smtp, hostname="127.0.0.1", port=self.smtp_port,
                                     loop=uvloop.new_event_loop())
        controller.start()
        keep = self.args.keep_logs
        try:
            yield
        except BaseException:
            keep = True  # a failed run's process logs are what tells why
            raise
        finally:
            for name in list(self.processes):
                self.stop(name)
            if keep:
                print(f"process logs kept in {self.logs}", flush=True)
            else:
                shutil.rmtree(self.logs, ignore_errors=True)
            if self.runtime is not None:
                self.runtime.stop()
            controller.stop()
            clean_up(self.prefix, self.db)

    def start(self, name: str) -> None:
        self.processes[name] = start_process(name, self.env, self.logs)

    def stop(self, name: str) -> None:
        stop_process(self.processes.pop(name))

    def settle(self, timeout: float = 120) -> None:
        """Wait until the processes have started and idle (imports take seconds of CPU each on
        two cores): a reference measured while they start would be measured on a busy machine."""
        deadline = time.monotonic() + timeout
        time.sleep(1)
        while time.monotonic() < deadline:
            before = self.cpu()
            time.sleep(1)
            after = self.cpu()
            busy = sum(after[k] - before.get(k, 0.0) for k in self.processes)
            if busy < 0.1 * len(self.processes):  # idle polls of the broker and the log
                return
        print(f"  the processes were still busy after {timeout:.0f} s", flush=True)

    def rt(self) -> Runtime:
        if self.runtime is None:
            settings = Settings(database_url=self.db_url, redis_url=REDIS_URL,
                                redis_prefix=self.prefix, data_dir=self.logs)
            self.runtime = Runtime(settings)
        return self.runtime

    def workflow(self, steps: int, window_start: str | None = None, agent: str = "bench") -> Any:
        app = self.rt().app
        template = app.create_template(name="t", channel="email",
                                       subject="Hi {{ lead.first_name }}",
                                       body="Hello {{ lead.name }}, {{ lead.timeline }}")
        windows = ({"email": {"start": window_start, "end": "24:00"}} if window_start else {})
        workflow = app.create_workflow(agent_id=agent, name="bench", definition={
            # leads are enrolled as they are registered (see enrol), not by the trigger
            "trigger": {"score_threshold": 80, "on_registration": "ignore"},
            "send_windows": windows,
            "steps": [{"channel": "email", "template_id": str(template), "delay_minutes": 0}]
            * steps})
        app.publish_workflow(workflow)
        return app.load(Workflow, workflow)

    def enrol(self, workflow: Any, count: int) -> None:
        """Leads already above the threshold, each started in the workflow (50 per commit)."""
        app = self.rt().app
        now = app.clock.now()
        batch: list[Any] = []
        for i in range(count):
            lead = Lead.register(lead_id=uuid4(), agent_id=workflow.agent_id, name=f"Lead {i}",
                                 email=f"lead{i}@example.com", phone=None, timezone="UTC",
                                 preferences={}, timeline="soon", score=90)
            execution = try_enrol(app, lead, workflow, 1, "bench", {"kind": "bench"}, set(), now)
            batch += [lead, execution]
            if len(batch) >= 100:
                app.save(*batch)
                batch = []
        if batch:
            app.save(*batch)

    def wait_indexed(self, count: int, timeout: float = 600) -> None:
        schedule = RedisDueSchedule(redis.Redis.from_url(REDIS_URL), self.prefix)
        deadline = time.monotonic() + timeout
        while schedule.size() < count and time.monotonic() < deadline:
            time.sleep(0.5)

    # Measures ----------------------------------------------------------------

    def reference_save_rate(self) -> float:
        """eventsourcing saving one new aggregate per transaction, on the same PostgreSQL."""

        env = Settings(database_url=self.db_url).eventsourcing_env()
        app: Application[Any] = Application(
            env=env | {"PERSISTENCE_MODULE": "eventsourcing.postgres"})
        n = 2000
        t0 = time.perf_counter()
        for i in range(n):
            app.save(Ref(i))
        rate = n / (time.perf_counter() - t0)
        app.close()
        return rate

    def cpu(self) -> dict[str, float]:
        """CPU seconds used so far by each of our processes, this one, and the servers."""
        found = {name: cpu_seconds(p.pid) for name, p in self.processes.items()}
        found["bench (SMTP stand-in, probes)"] = cpu_seconds(os.getpid())
        for name, pattern in (("postgresql", "postgres"), ("redis", "redis-server")):
            pids = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True)
            found[name] = sum(cpu_seconds(int(p)) for p in pids.stdout.split())
        return found

    def print_cpu(self, before: dict[str, float], elapsed: float, what: str) -> None:
        used = {k: v - before.get(k, 0.0) for k, v in self.cpu().items()}
        print(f"  CPU during {what} (core-seconds; the machine has {os.cpu_count()} cores, "
              f"{elapsed:.0f} s elapsed): "
              + ", ".join(f"{k} {v:.1f}" for k, v in sorted(used.items(), key=lambda kv: -kv[1])),
              flush=True)

    def sustained(self) -> tuple[float, int]:
        """Steps through the whole path while thousands of executions run three steps each."""
        executions, steps = self.args.sustained, 3
        workflow = self.workflow(steps)
        self.stop("scheduler")  # executions pile up in the log, none claimed yet
        self.enrol(workflow, executions)
        before = self.smtp.count()
        self.start("scheduler")
        cpu_before, t0 = self.cpu(), time.monotonic()
        # The probes measure the trigger while the load runs: from the first send on, not while
        # the scheduler process is still starting (importing, connecting, restoring the index)
        self.smtp.wait_for(before + 1, timeout=120)
        self.trigger_probe_start()
        self.smtp.wait_for(before + executions * steps, timeout=900)
        self.print_cpu(cpu_before, time.monotonic() - t0, "the sustained run")
        self.trigger_probe_stop()
        arrivals = sorted(self.smtp.at.values())[before:]
        lo, hi = arrivals[len(arrivals) // 10], arrivals[len(arrivals) * 9 // 10]
        rate = (len(arrivals) * 8 // 10) / (hi - lo)
        return rate, len(arrivals)

    def trigger_probe_start(self) -> None:
        self.probe_stop = threading.Event()
        self.probe_stages: list[tuple[float, float, float]] = []  # they add up to the latency
        probe_workflow = self.workflow(1, agent="probe")
        api = httpx.Client(base_url=f"http://127.0.0.1:{self.env['FOLLOWUP_API_PORT']}",
                           timeout=30, headers={
                               "Authorization": f"Bearer {integration_token(self.env)}"})

        def run() -> None:
            pending: dict[str, float] = {}
            while not self.probe_stop.wait(0.25):  # about four a second: a p99 of dozens
                lead = api.post("/api/leads", json={
                    "agentId": "probe", "name": "Probe Lead", "email": "probe@example.com",
                    "score": 10}).json()["id"]
                t0 = time.time()
                api.post(f"/api/leads/{lead}/score", json={"score": 90}).raise_for_status()
                pending[lead] = t0
                self.match_probes(pending)
            self.match_probes(pending, wait=True)
            api.close()

        del probe_workflow
        self.probe_thread = threading.Thread(target=run)
        self.probe_thread.start()

    def match_probes(self, pending: dict[str, float], wait: bool = False) -> None:
        deadline = time.monotonic() + (30 if wait else 0)
        app = self.rt().app
        while pending:
            for lead_id, t0 in list(pending.items()):
                executions = app.lead_executions(uuid.UUID(lead_id))
                message = executions[0].steps[0].message_id if executions else None
                if message and str(message) in self.smtp.at:
                    accepted = self.smtp.at[str(message)]
                    events = list(app.events.get(executions[0].id))
                    created = events[0].timestamp.timestamp()
                    dispatched = next(e.timestamp.timestamp() for e in events
                                      if type(e).__name__ == "StepDispatched")
                    self.probe_stages.append((created - t0, dispatched - created,
                                              accepted - dispatched))
                    del pending[lead_id]
            if not wait or time.monotonic() > deadline:
                return
            time.sleep(0.2)

    def trigger_probe_stop(self) -> None:
        self.probe_stop.set()
        self.probe_thread.join()

    def burst(self, dramatiq_peer: bool) -> list[float]:
        """N executions whose first step falls due at the same instant (a window opening)."""
        count = self.args.burst
        opening = (datetime.now(UTC) + timedelta(seconds=self.args.lead_seconds)).replace(
            second=0, microsecond=0) + timedelta(minutes=1)
        workflow = self.workflow(1, window_start=f"{opening:%H:%M}")
        if dramatiq_peer:
            self.stop("scheduler")
        before = self.smtp.count()
        t0 = time.monotonic()
        self.enrol(workflow, count)
        if dramatiq_peer:
            self.enqueue_delayed(workflow, opening)
        print(f"  {count} executions due at {opening:%H:%M:%S} UTC set up in "
              f"{time.monotonic() - t0:.0f} s", flush=True)
        if datetime.now(UTC) >= opening:
            raise SystemExit("set-up took longer than the lead time; raise --lead-seconds")
        time.sleep(max(0.0, (opening - datetime.now(UTC)).total_seconds()))
        cpu_before, t0 = self.cpu(), time.monotonic()
        self.smtp.wait_for(before + count, timeout=600)
        self.print_cpu(cpu_before, time.monotonic() - t0, "the burst")
        due = opening.timestamp()
        lags = sorted(self.smtp.at.values())[before:]
        if dramatiq_peer:
            self.start("scheduler")
        return [max(0.0, at - due) for at in lags]

    def enqueue_delayed(self, workflow: Any, opening: datetime) -> None:
        """Dramatiq's own delayed messages, one per execution, calling the same sender."""
        runtime = self.rt()
        actor = runtime.send_steps
        with psycopg.connect(self.db_url) as conn:
            rows = conn.execute("SELECT execution_id FROM directory_executions "
                                "WHERE workflow_id = %s", (str(workflow.id),)).fetchall()
        while len(rows) < self.args.burst:  # the projector is still filling the directory
            time.sleep(1)
            with psycopg.connect(self.db_url) as conn:
                rows = conn.execute("SELECT execution_id FROM directory_executions "
                                    "WHERE workflow_id = %s", (str(workflow.id),)).fetchall()
        for (execution_id,) in rows:
            delay = max(0, int((opening - datetime.now(UTC)).total_seconds() * 1000) + 20)
            actor.send_with_options(args=([execution_id],), delay=delay)

    def redis_memory(self) -> tuple[float, float]:
        """Bytes per scheduled step in the due index with a million executions scheduled,
        against the bytes of the data itself (a 16-byte id and an 8-byte time)."""
        client = redis.Redis.from_url(REDIS_URL)
        schedule = RedisDueSchedule(client, f"{self.prefix}-mem")
        n = self.args.memory
        due = int(time.time() * 1000) + 3_600_000
        self.members: list[DueChange] = [(str(uuid4()), due + i, lane(i % 101)) for i in range(n)]
        for position, start in enumerate(range(0, n, 10_000)):
            schedule.apply(self.members[start:start + 10_000], position, position + 1)
        used = schedule.memory_bytes()
        schedule.forget()
        return used / n, used / n / 24

    def restore(self) -> tuple[float, float]:
        """Seconds to restore a lost index of that size from the due_steps read model (what the
        feeder does after a FLUSHALL), against raw Redis: the same members written with
        pipelined ZADDs of 1,000 members each."""
        n = len(self.members)
        with psycopg.connect(self.db_url, autocommit=True) as conn:
            self.rt().due_steps  # noqa: B018 - creates the table
            copying = "COPY due_steps (execution_id, due_ms, lane) FROM STDIN"
            with conn.cursor().copy(copying) as copy:
                for row in self.members:
                    copy.write_row(row)
            conn.execute("UPDATE projection_positions SET position = %s WHERE name = 'due_steps'",
                         (10**9,))
        projection = DueStepsProjection(self.rt().engine)
        client = redis.Redis.from_url(REDIS_URL)
        schedule = RedisDueSchedule(client, f"{self.prefix}-restore")
        t0 = time.perf_counter()
        assert DueFeeder(schedule, projection).position() == 10**9
        ours = time.perf_counter() - t0
        assert schedule.size() == n
        schedule.forget()
        key = f"{{{self.prefix}-raw}}:due"
        t0 = time.perf_counter()
        pipe = client.pipeline(transaction=False)
        for start in range(0, n, 1_000):
            pipe.zadd(key, {m: d or 0 for m, d, _ in self.members[start:start + 1_000]})
            if len(pipe) >= 50:
                pipe.execute()
        pipe.execute()
        raw = time.perf_counter() - t0
        client.delete(key)
        with psycopg.connect(self.db_url, autocommit=True) as conn:
            conn.execute("TRUNCATE due_steps")
            conn.execute("UPDATE projection_positions SET position = 0 WHERE name = 'due_steps'")
        return ours, raw


    def engine_measures(self) -> None:
        """Sustained rate, trigger latency under it, and the burst against Dramatiq."""
        self.sustained_measures()
        self.burst_measures()

    def sustained_measures(self) -> None:
        # The reference is measured before the run and again after it (once the processes
        # idle): the machine's speed drifts from one minute to the next, and the two bracket it
        before = self.reference_save_rate()
        print(f"reference: eventsourcing, one aggregate saved per transaction: "
              f"{before:,.0f} saves/s", flush=True)
        rate, sent = self.sustained()
        self.settle()
        after = self.reference_save_rate()
        reference = (before + after) / 2
        print(f"reference again after the run: {after:,.0f} saves/s (mean {reference:,.0f})",
              flush=True)
        print(f"sustained: {rate:,.0f} steps/s through the full path ({sent} steps); "
              f"{rate / reference:.2f}x the reference's mean, {rate / max(before, after):.2f}x "
              f"its higher figure", flush=True)
        probes = [sum(stages) for stages in self.probe_stages]
        if probes:
            print(f"trigger latency under that load: n={len(probes)} "
                  f"p50={pct(probes, 50) * 1000:.0f} ms p99={pct(probes, 99) * 1000:.0f} ms",
                  flush=True)
            stages = list(zip(*self.probe_stages, strict=True))
            print("  by stage (p50 / p99 ms): " + "; ".join(
                f"{name} {pct(list(v), 50) * 1000:.0f} / {pct(list(v), 99) * 1000:.0f}"
                for name, v in zip(("request to execution started (trigger)",
                                    "started to step claimed in the log (index, claim, "
                                    "Dramatiq, worker)",
                                    "claimed to accepted (render, SMTP)"), stages, strict=True)),
                  flush=True)

    def burst_measures(self) -> None:
        ours = self.burst(dramatiq_peer=False)
        print(f"burst, ours: {len(ours)} steps due at once, lag p50={pct(ours, 50):.1f} s "
              f"p99={pct(ours, 99):.1f} s max={max(ours):.1f} s", flush=True)
        peer = self.burst(dramatiq_peer=True)
        print(f"burst, Dramatiq delayed messages: lag p50={pct(peer, 50):.1f} s "
              f"p99={pct(peer, 99):.1f} s max={max(peer):.1f} s; ours/peer p99 "
              f"{pct(ours, 99) / max(pct(peer, 99), 1e-9):.2f}", flush=True)



def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2,
                        help="`followup worker` processes for the regular queue")
    parser.add_argument("--nice", type=int, default=0,
                        help="run the regular workers at this niceness (bulk sends yield the "
                             "CPU to the latency-sensitive processes)")
    parser.add_argument("--no-urgent-worker", action="store_true",
                        help="no worker of its own for the urgent queue (2 threads, 20 ms "
                             "poll): the "
                             "regular workers take both queues")
    parser.add_argument("--dispatch-batch", type=int,
                        default=Settings.model_fields["scheduler_dispatch_batch"].default,
                        help="executions per Dramatiq message (FOLLOWUP_SCHEDULER_DISPATCH_BATCH)")
    parser.add_argument("--keep-logs", action="store_true",
                        help="keep the processes' logs (kept anyway when the run fails)")
    parser.add_argument("--redis-only", action="store_true",
                        help="only the Redis memory and restore measures")
    parser.add_argument("--sustained-only", action="store_true",
                        help="only the reference and the sustained rate (with trigger latency)")
    parser.add_argument("--burst-only", action="store_true",
                        help="only the 08:00 burst, ours and Dramatiq's (about 6 min)")
    args = parser.parse_args()
    args.sustained = 1000 if args.quick else 8000
    args.burst = 2000 if args.quick else 20_000
    args.memory = 100_000 if args.quick else 1_000_000
    args.lead_seconds = 60 if args.quick else 150
    bench = Bench(args)
    with bench.servers():
        for name in ("api", "scheduler", "projector"):
            bench.start(name)
        queues = {} if args.no_urgent_worker else {"FOLLOWUP_WORKER_QUEUES": "regular"}
        workers = {f"worker-{i}": queues for i in range(args.workers)}
        if not args.no_urgent_worker:
            workers["worker-urgent"] = {"FOLLOWUP_WORKER_QUEUES": "urgent",
                                        "FOLLOWUP_WORKER_THREADS": "2",
                                        "FOLLOWUP_WORKER_POLL_MS": "20"}
        for name, extra in workers.items():
            nice = ["nice", "-n", str(args.nice)] if args.nice and "urgent" not in name else []
            bench.processes[name] = subprocess.Popen(
                [*nice, sys.executable, "-m", "adapters.cli", "worker"], cwd=ROOT,
                env=bench.env | extra, stdout=(bench.logs / f"{name}.log").open("ab"),
                stderr=subprocess.STDOUT)
        bench.settle()
        if args.sustained_only:
            bench.sustained_measures()
            return
        if args.burst_only:
            bench.burst_measures()
            return
        if not args.redis_only:
            bench.engine_measures()
        per_step, ratio = bench.redis_memory()
        print(f"redis: {per_step:.0f} bytes per scheduled step with {args.memory:,} scheduled "
              f"({ratio:.1f}x the 24 bytes of id and due time)", flush=True)
        ours_s, raw_s = bench.restore()
        print(f"restore after a FLUSHALL: {args.memory:,} scheduled steps back in Redis from the "
              f"due_steps read model in {ours_s:.1f} s; raw pipelined ZADD of the same members "
              f"{raw_s:.1f} s ({ours_s / raw_s:.1f}x)", flush=True)


if __name__ == "__main__":
    main()
