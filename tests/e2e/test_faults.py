"""Crash everything at random while 2,000 executions run; every step goes out exactly once.

The worker, the scheduler and the projector are SIGKILLed at random instants and restarted, and
Redis loses all of this test's keys once mid-run (what FLUSHALL does to them: the due index, its
position and every queued Dramatiq message), and the index is restored from PostgreSQL. At the
end every step is either sent exactly once or, when its sender died inside the provider call,
recorded in the log as of unknown outcome.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import redis

from adapters.settings import Settings
from tests.conftest import REDIS_URL, SmtpInbox
from tests.e2e.conftest import Processes
from tests.e2e.scenario import noon_zone, ok

EXECUTIONS = int(os.environ.get("FOLLOWUP_FAULT_EXECUTIONS", "2000"))
STEPS = 2
CRASHABLE = ("worker", "scheduler", "projector")


def setup_workflow(http: httpx.Client) -> None:
    template = ok(http.post("/api/templates", json={
        "name": "t", "channel": "email", "subject": "Hi {{ lead.first_name }}",
        "body": "Hello {{ lead.name }}"}), 201)
    workflow = ok(http.post("/api/workflows", json={
        "agentId": "fault", "name": "fault", "trigger": {"scoreThreshold": 80},
        "steps": [{"channel": "email", "templateId": template["id"], "delayMinutes": 0}] * STEPS}),
        201)
    ok(http.post(f"/api/workflows/{workflow['id']}/publish"))


def register_and_cross(http: httpx.Client, i: int) -> str:
    lead = ok(http.post("/api/leads", json={
        "agentId": "fault", "name": f"Lead {i}", "email": f"lead{i}@example.com",
        "timezone": noon_zone(), "score": 10}), 201)
    ok(http.post(f"/api/leads/{lead['id']}/score", json={"score": 90}))
    return str(lead["id"])


class Chaos:
    """Kills and restarts processes at random until stopped; flushes our Redis keys once."""

    def __init__(self, processes: Processes, prefix: str, seed: int) -> None:
        self.processes = processes
        self.prefix = prefix
        self.random = random.Random(seed)
        self.stopping = threading.Event()
        self.kills: Counter[str] = Counter()
        self.flushed = False

    def run(self) -> None:
        start = time.monotonic()
        while not self.stopping.wait(self.random.uniform(0.5, 2.0)):
            victim = self.random.choice(CRASHABLE)
            self.processes.kill(victim)
            self.kills[victim] += 1
            if not self.flushed and time.monotonic() - start > 8:
                self.flush()
            self.stopping.wait(self.random.uniform(0.0, 1.0))
            self.processes.start(victim)

    def flush(self) -> None:
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(f"*{self.prefix}*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()
        self.flushed = True


def step_outcomes(http: httpx.Client, leads: list[str]) -> tuple[list[Any], bool]:
    def executions(lead: str) -> list[Any]:
        return list(ok(http.get(f"/api/leads/{lead}/executions")))

    with ThreadPoolExecutor(4) as pool:
        found = [x for xs in pool.map(executions, leads) for x in xs]
    done = len(found) == len(leads) and all(x["status"] == "completed" for x in found)
    return found, done


def test_every_step_goes_out_exactly_once_through_crashes_and_a_redis_flush(
        servers: Processes, smtp_server: tuple[SmtpInbox, int], redis_prefix: str) -> None:
    inbox = smtp_server[0]
    servers.env.update(FOLLOWUP_DISPATCH_TIMEOUT_SECONDS="5", FOLLOWUP_SCHEDULER_LEASE_SECONDS="3",
                       FOLLOWUP_BROKER_HEARTBEAT_TIMEOUT_MS="1500", FOLLOWUP_LOG_LEVEL="WARNING")
    servers.start("api", "scheduler", "worker", "projector")
    setup_workflow(servers.http)
    chaos = Chaos(servers, redis_prefix, seed=int(os.environ.get("FOLLOWUP_FAULT_SEED", "7")))
    killer = threading.Thread(target=chaos.run)
    killer.start()
    try:
        with ThreadPoolExecutor(4) as pool:
            leads = list(pool.map(lambda i: register_and_cross(servers.http, i),
                                  range(EXECUTIONS)))
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not chaos.flushed:
            time.sleep(0.5)
        time.sleep(3)  # keep crashing a little after the flush
    finally:
        chaos.stopping.set()
        killer.join()
    for name in CRASHABLE:
        if name not in servers.running:
            servers.start(name)

    deadline = time.monotonic() + 300
    executions, done = step_outcomes(servers.http, leads)
    while not done and time.monotonic() < deadline:
        time.sleep(5)
        executions, done = step_outcomes(servers.http, leads)

    received = Counter(str(m["msg"]["X-Followup-Message"])  # type: ignore[index]
                       for m in list(inbox.messages))
    statuses = Counter(s["status"] for x in executions for s in x["steps"])
    unknown = [(x["id"], i) for x in executions for i, s in enumerate(x["steps"])
               if s["status"] == "unknown"]
    print(f"\nkills {dict(chaos.kills)}, step outcomes {dict(statuses)}, "
          f"emails {sum(received.values())}, unknown outcome {len(unknown)}")
    assert chaos.flushed and sum(chaos.kills.values()) >= 5
    # The flushed index came back from the due_steps read model, not by replaying the log
    assert "restored" in (servers.logs / "scheduler.log").read_text()
    assert done, f"not every execution completed: {dict(statuses)}"
    assert len(executions) == EXECUTIONS, "one execution per lead, never two"
    duplicates = {m: n for m, n in received.items() if n > 1}
    assert duplicates == {}, f"sent twice: {duplicates}"
    sent_ids = {str(s["messageId"]) for x in executions for s in x["steps"]
                if s["status"] == "sent"}
    assert set(statuses) <= {"sent", "unknown"}
    assert statuses["sent"] + statuses["unknown"] == EXECUTIONS * STEPS
    assert len(received) >= statuses["sent"]
    # Only a worker dying inside the provider call leaves a send ambiguous: at most one batch
    # per worker thread each time.
    batch = int(servers.env.get("FOLLOWUP_SCHEDULER_DISPATCH_BATCH",
                                Settings.model_fields["scheduler_dispatch_batch"].default))
    in_flight = int(servers.env["FOLLOWUP_WORKER_THREADS"]) * batch
    assert len(unknown) <= chaos.kills["worker"] * in_flight
    assert sent_ids <= set(received), "every step recorded as sent reached the server"
