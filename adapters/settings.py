"""One typed settings class, read from FOLLOWUP_* environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from pydantic import NonNegativeInt, PositiveInt, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """With no database and Redis URL, everything runs embedded (SQLite, in-process index)."""

    model_config = SettingsConfigDict(env_prefix="FOLLOWUP_", extra="ignore")

    database_url: str | None = None
    redis_url: str | None = None
    broker_url: str | None = None
    redis_prefix: str = "followup"
    data_dir: Path = Path(".followup")

    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str = "Follow-up <followup@localhost>"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_timeout_seconds: float = 10.0
    #: Where SMS goes. Only the outbox folder exists so far (a real provider is planned): set it
    #: explicitly so that nobody takes SMS for delivered because SMTP is configured.
    sms_provider: Literal["outbox"] = "outbox"

    #: The ``node_modules`` folder ``npm ci`` filled (the API serves Swagger UI, htmx and
    #: SortableJS from it); by default the project's own.
    assets_dir: Path = Path(__file__).resolve().parents[1] / "node_modules"
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    worker_threads: int = 8
    worker_poll_ms: int = 100
    #: Which send queues a worker takes: both, or one (a small worker of its own for the urgent
    #: queue keeps a live crossing's first step off the busy workers' interpreter lock).
    worker_queues: Literal["all", "regular", "urgent"] = "all"
    broker_heartbeat_timeout_ms: int = 15_000
    scheduler_poll_ms: int = 50
    scheduler_lease_seconds: int = 120
    scheduler_batch_size: int = 500
    scheduler_dispatch_batch: int = 50
    scheduler_max_outstanding_batches: int = 24
    follower_idle_seconds: float = 1.0
    projector_coalesce_ms: int = 50
    dispatch_timeout_seconds: int = 120

    #: Events between two snapshots of a lead or of the catalogue (0: none; see
    #: application/snapshots.py).
    snapshot_interval: NonNegativeInt = 100

    #: Failed sign-ins allowed per account and per client address in the window, after which
    #: sign-in answers 429 until the window lets one go (counted in Redis when configured).
    sign_in_limit_per_account: PositiveInt = 5
    sign_in_limit_per_address: PositiveInt = 50
    sign_in_window_minutes: PositiveInt = 15

    pg_pool_size: int = 5
    pg_max_overflow: int = 10
    pg_lock_timeout_seconds: int = 2
    pg_pool_timeout_seconds: int = 5
    log_level: str = "INFO"

    @field_validator("database_url")
    @classmethod
    def _postgres_only(cls, value: str | None) -> str | None:
        if value and urlsplit(value).scheme not in ("postgresql", "postgres"):
            raise ValueError("must be a postgresql:// URL")
        return value or None

    @property
    def embedded(self) -> bool:
        return self.database_url is None

    def eventsourcing_env(self) -> dict[str, str]:
        """The event store library's environment, derived from these settings."""
        ours = {"FOLLOWUP_SNAPSHOT_INTERVAL": str(self.snapshot_interval)}
        if self.database_url is None:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            return {**ours, "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                    "SQLITE_DBNAME": str(self.data_dir / "events.sqlite"),
                    "SQLITE_LOCK_TIMEOUT": "10"}
        url = urlsplit(self.database_url)
        return {
            **ours,
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": url.path.lstrip("/") or "followup",
            "POSTGRES_HOST": url.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(url.port or 5432),
            "POSTGRES_USER": unquote(url.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(url.password or ""),
            "POSTGRES_POOL_SIZE": str(self.pg_pool_size),
            "POSTGRES_MAX_OVERFLOW": str(self.pg_max_overflow),
            "POSTGRES_LOCK_TIMEOUT": str(self.pg_lock_timeout_seconds),
            "POSTGRES_CONNECT_TIMEOUT": str(self.pg_pool_timeout_seconds),
            # Writes as one server-side statement: the table lock never waits on a client
            "PROCESS_RECORDER_TOPIC": "adapters.pg_recorder:OneStatementProcessRecorder",
        }

    def read_model_url(self) -> str:
        if self.database_url is None:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            return f"sqlite:///{self.data_dir / 'views.sqlite'}"
        return "postgresql+psycopg://" + self.database_url.split("://", 1)[1]

    @property
    def outbox(self) -> Path:
        return self.data_dir / "outbox"
