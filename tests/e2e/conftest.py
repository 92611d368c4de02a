"""End-to-end: the `followup` processes started for real, driven over HTTP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from application.access import Scope
from tests.conftest import REDIS_URL, SmtpInbox, free_port

ROOT = Path(__file__).resolve().parents[2]


class Processes:
    """Starts, kills and restarts `followup <command>` processes with one environment."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.running: dict[str, subprocess.Popen[bytes]] = {}
        self.port = int(env["FOLLOWUP_API_PORT"])
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=10)

    def start(self, *names: str) -> None:
        for name in names:
            log = (self.logs / f"{name}.log").open("ab")
            self.running[name] = subprocess.Popen(
                [sys.executable, "-m", "adapters.cli", name], cwd=ROOT, env=self.env,
                stdout=log, stderr=subprocess.STDOUT)
        if "api" in names or "run" in names:
            self.wait_healthy()
            self.authorise()

    def authorise(self) -> None:
        """The calls go as an integration of the default brokerage would: with a token made by
        ``followup tokens create`` (every scope)."""
        if "authorization" in self.http.headers:
            return
        scopes = [arg for s in Scope for arg in ("--scope", s.value)]
        made = subprocess.run(
            [sys.executable, "-m", "adapters.cli", "tokens", "create", "--brokerage", "default",
             "--name", "e2e", *scopes], cwd=ROOT, env=self.env, capture_output=True, text=True,
            check=True)
        self.http.headers["Authorization"] = f"Bearer {made.stdout.strip().splitlines()[-1]}"

    def kill(self, *names: str) -> None:
        """SIGKILL: no chance to clean up, as in a crash."""
        for name in names:
            process = self.running.pop(name)
            process.send_signal(signal.SIGKILL)
            process.wait(10)

    def stop_all(self) -> None:
        for process in self.running.values():
            process.send_signal(signal.SIGTERM)
        for process in self.running.values():
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
        self.running.clear()
        self.http.close()

    def wait_healthy(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.http.get("/health").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        logs = "\n".join(p.read_text()[-2000:] for p in self.logs.glob("*.log"))
        raise AssertionError(f"the API did not become healthy:\n{logs}")


def base_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOLLOWUP_")}
    env.update(FOLLOWUP_DATA_DIR=str(tmp_path / "data"), FOLLOWUP_API_PORT=str(free_port()),
               FOLLOWUP_LOG_LEVEL="INFO", PYTHONUNBUFFERED="1")
    return env


@pytest.fixture
def servers(tmp_path: Path, pg_url: str, redis_prefix: str,
            smtp_server: tuple[SmtpInbox, int]) -> Iterator[Processes]:
    """PostgreSQL, Redis, Dramatiq over Redis, and a real SMTP server; processes not started."""
    env = base_env(tmp_path)
    env.update(FOLLOWUP_DATABASE_URL=pg_url, FOLLOWUP_REDIS_URL=REDIS_URL,
               FOLLOWUP_REDIS_PREFIX=redis_prefix, FOLLOWUP_SMTP_HOST="127.0.0.1",
               FOLLOWUP_SMTP_PORT=str(smtp_server[1]), FOLLOWUP_WORKER_THREADS="2",
               FOLLOWUP_BROKER_HEARTBEAT_TIMEOUT_MS="2000",
               FOLLOWUP_SCHEDULER_LEASE_SECONDS="5")
    processes = Processes(env, tmp_path)
    yield processes
    processes.stop_all()


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[Processes]:
    """`followup run` on the embedded defaults: SQLite, in-process index and broker, outbox."""
    processes = Processes(base_env(tmp_path), tmp_path)
    yield processes
    processes.stop_all()
