"""What the benchmarks share: where PostgreSQL and Redis are, a free port, the real processes
(`followup <name>`) started and stopped, an integration's token made as an operator would,
and the clean-up of a run's database and Redis keys."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import psycopg
import redis

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN = os.environ.get("BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


def pct(values: list[float], p: float) -> float:
    """The ``p``-th percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def cpu_seconds(pid: int) -> float:
    """The CPU time (user and system) process ``pid`` has used so far; 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """The CPU time every core of the machine has been busy so far (not idle nor waiting)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(name: str, env: dict[str, str], logs: Path) -> subprocess.Popen[bytes]:
    """``followup <name>`` with ``env``, its output appended to ``logs/<name>.log``."""
    return subprocess.Popen([sys.executable, "-m", "adapters.cli", name], cwd=ROOT, env=env,
                            stdout=(logs / f"{name}.log").open("ab"), stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (a clean stop), then SIGKILL after 30 s."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


def integration_token(env: dict[str, str], brokerage: str = "default",
                      scopes: tuple[str, ...] = ("leads:write", "scores:write",
                                                 "workflows:write")) -> str:
    """A token of the brokerage, made as an operator would (`followup tokens create`)."""
    made = subprocess.run(
        [sys.executable, "-m", "adapters.cli", "tokens", "create", "--brokerage", brokerage,
         "--name", "benchmark", *(a for s in scopes for a in ("--scope", s))], cwd=ROOT,
        env=env, capture_output=True, text=True, check=True)
    return made.stdout.strip().splitlines()[-1]


def clean_up(prefix: str, database: str) -> None:
    """Delete the run's Redis keys (those under its prefix only) and drop its database."""
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(f"*{prefix}*", count=1000))
    for i in range(0, len(keys), 10_000):
        client.delete(*keys[i:i + 10_000])
    client.close()
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
