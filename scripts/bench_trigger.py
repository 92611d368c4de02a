"""Trigger latency: from the score-change request to the email reaching the SMTP server.

Starts the real processes (`followup api`, `scheduler`, `worker`, `projector`) against a fresh
PostgreSQL database, a private Redis prefix and a local SMTP server, publishes a one-step email
workflow, registers N leads at score 50, then raises their scores to 85 at a steady rate and
times each email's arrival. The reference, measured in the same run, is the bare minimum the same
path must do: one PostgreSQL INSERT + COMMIT plus one SMTP send to the same server.

    uv run python scripts/bench_trigger.py --leads 300 --rate 20
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import smtplib
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from email.message import EmailMessage
from pathlib import Path

import httpx
import psycopg
import redis
from aiosmtpd.controller import Controller
from benchkit import PG_ADMIN, REDIS_URL, ROOT, free_port, integration_token, pct


class Arrivals:
    def __init__(self) -> None:
        self.at: dict[str, float] = {}
        self.cond = threading.Condition()

    async def handle_DATA(self, server, session, envelope):
        with self.cond:
            for rcpt in envelope.rcpt_tos:
                self.at.setdefault(rcpt, time.perf_counter())
            self.cond.notify_all()
        return "250 OK"

    def wait(self, count: int, timeout: float) -> None:
        with self.cond:
            self.cond.wait_for(lambda: len(self.at) >= count, timeout)






def line(name: str, values: list[float]) -> str:
    return (f"{name:<38} n={len(values):<5} p50={pct(values, 50) * 1000:8.1f} ms  "
            f"p99={pct(values, 99) * 1000:8.1f} ms  max={max(values) * 1000:8.1f} ms")


def reference(db_url: str, smtp_port: int, n: int) -> list[float]:
    """One INSERT + COMMIT and one SMTP send, n times: the floor for our path."""
    took = []
    with psycopg.connect(db_url) as conn:
        conn.execute("CREATE TABLE bench_ref (id bigserial primary key, body text)")
        conn.commit()
        for i in range(n):
            t0 = time.perf_counter()
            conn.execute("INSERT INTO bench_ref (body) VALUES (%s)", (f"score {i}",))
            conn.commit()
            email = EmailMessage()
            email["From"], email["To"], email["Subject"] = "a@x", f"ref{i}@example.com", "ref"
            email.set_content("reference")
            with smtplib.SMTP("127.0.0.1", smtp_port) as smtp:
                smtp.send_message(email)
            took.append(time.perf_counter() - t0)
    return took



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--leads", type=int, default=300)
    parser.add_argument("--rate", type=float, default=20.0, help="score changes per second")
    parser.add_argument("--workers", type=int, default=1, help="`followup worker` processes")
    args = parser.parse_args()

    db = f"fu_bench_{uuid.uuid4().hex[:10]}"
    prefix = f"fu-bench-{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{db}"')
    db_url = PG_ADMIN.rsplit("/", 1)[0] + "/" + db
    arrivals = Arrivals()
    smtp_port = free_port()
    controller = Controller(arrivals, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    api_port = free_port()
    logs = Path(tempfile.mkdtemp(prefix="fu-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOLLOWUP_")}
    env.update(FOLLOWUP_DATABASE_URL=db_url, FOLLOWUP_REDIS_URL=REDIS_URL,
               FOLLOWUP_REDIS_PREFIX=prefix, FOLLOWUP_SMTP_HOST="127.0.0.1",
               FOLLOWUP_SMTP_PORT=str(smtp_port), FOLLOWUP_API_PORT=str(api_port),
               FOLLOWUP_DATA_DIR=str(logs), FOLLOWUP_LOG_LEVEL="WARNING")
    commands = ["api", "scheduler", "projector"] + ["worker"] * args.workers
    processes = [subprocess.Popen([sys.executable, "-m", "adapters.cli", c], cwd=ROOT, env=env,
                                  stdout=(logs / f"{c}.log").open("ab"),
                                  stderr=subprocess.STDOUT) for c in commands]
    http = httpx.Client(base_url=f"http://127.0.0.1:{api_port}", timeout=30)
    keep = False
    try:
        for _ in range(300):
            try:
                if http.get("/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        http.headers["Authorization"] = f"Bearer {integration_token(env)}"
        template = http.post("/api/templates", json={
            "name": "t", "channel": "email", "subject": "Hi {{ lead.first_name }}",
            "body": "Hello {{ lead.name }}, {{ lead.timeline }}"}).json()["id"]
        workflow = http.post("/api/workflows", json={
            "agentId": "bench", "name": "bench", "trigger": {"scoreThreshold": 80},
            "steps": [{"channel": "email", "templateId": template, "delayMinutes": 0}]}).json()
        http.post(f"/api/workflows/{workflow['id']}/publish").raise_for_status()
        leads = []
        for i in range(args.leads):
            lead = http.post("/api/leads", json={
                "agentId": "bench", "name": f"Lead {i}", "email": f"lead{i}@example.com",
                "timeline": "soon", "score": 50}).json()
            leads.append((lead["id"], f"lead{i}@example.com"))

        started: dict[str, float] = {}
        request_times: list[float] = []
        interval = 1.0 / args.rate
        t_start = time.perf_counter()
        for i, (lead_id, email) in enumerate(leads):
            time.sleep(max(0.0, t_start + i * interval - time.perf_counter()))
            t0 = time.perf_counter()
            started[email] = t0
            http.post(f"/api/leads/{lead_id}/score", json={"score": 85}).raise_for_status()
            request_times.append(time.perf_counter() - t0)
        arrivals.wait(len(leads), timeout=120)
        latencies = [arrivals.at[e] - t for e, t in started.items() if e in arrivals.at]
        missing = len(started) - len(latencies)
        ref = reference(db_url, smtp_port, 200)

        print(f"trigger latency, {args.leads} leads at {args.rate:g}/s, "
              f"{args.workers} worker process(es), everything on this machine")
        print(line("score request -> email at SMTP server", latencies))
        print(line("score request (HTTP round trip)", request_times))
        print(line("reference: INSERT+COMMIT + SMTP send", ref))
        print(f"ratio p50 ours/reference: {pct(latencies, 50) / pct(ref, 50):.1f}x   "
              f"p99: {pct(latencies, 99) / pct(ref, 99):.1f}x   missing emails: {missing}")
    except BaseException:
        keep = True  # a failed run's process logs are what tells why
        print(f"process logs kept in {logs}", flush=True)
        raise
    finally:
        http.close()
        for p in processes:
            p.send_signal(signal.SIGTERM)
        for p in processes:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
        controller.stop()
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(f"*{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        if not keep:
            shutil.rmtree(logs, ignore_errors=True)


if __name__ == "__main__":
    main()
