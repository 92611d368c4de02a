"""Shared fixtures: a fresh PostgreSQL database and a private Redis key prefix per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis

from application.ports import Clock

PG_ADMIN = os.environ.get("FOLLOWUP_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("FOLLOWUP_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


class FakeClock(Clock):
    """A clock the test moves by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 11, 25, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def _admin(sql: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(sql)


@contextmanager
def scratch_database() -> Iterator[str]:
    """The URL of a database of its own, dropped afterwards."""
    name = f"fu_test_{uuid.uuid4().hex[:12]}"
    _admin(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A database of its own, dropped afterwards."""
    with scratch_database() as url:
        yield url


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of its own; every key under it is deleted afterwards."""
    prefix = f"fu-test-{uuid.uuid4().hex[:12]}"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(f"*{prefix}*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SmtpInbox:
    """A real SMTP server on loopback (aiosmtpd) that keeps what it receives."""

    def __init__(self) -> None:
        import threading

        self.messages: list[dict[str, object]] = []
        self.arrived = threading.Condition()

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        import email
        import email.policy
        import time

        parsed = email.message_from_bytes(envelope.content,  # type: ignore[attr-defined]
                                           policy=email.policy.default)
        with self.arrived:
            self.messages.append({"to": envelope.rcpt_tos, "msg": parsed,  # type: ignore[attr-defined]
                                  "at": time.time()})
            self.arrived.notify_all()
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 20.0) -> list[dict[str, object]]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.messages) >= count, timeout)
            return list(self.messages)


@pytest.fixture
def smtp_server() -> Iterator[tuple[SmtpInbox, int]]:
    from aiosmtpd.controller import Controller

    inbox = SmtpInbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Any]:
    """An embedded runtime (SQLite, in-process index and broker) of its own, stopped after."""
    from adapters.bootstrap import Runtime
    from adapters.settings import Settings

    rt = Runtime(Settings(data_dir=tmp_path))
    yield rt
    rt.stop()


def operator_token(rt: Any) -> str:
    """A token of the default brokerage with every scope (what an integration set up by
    ``followup tokens create`` holds), made once per runtime."""
    from application.access import Scope
    from domain.ids import DEFAULT_BROKERAGE_ID

    token = getattr(rt, "_test_token", None)
    if token is None:
        rt.app.open_brokerage("default", "Default brokerage")
        token = rt.app.issue_brokerage_token(DEFAULT_BROKERAGE_ID, name="tests",
                                             scopes=[s.value for s in Scope], by="tests").token
        rt._test_token = token
    return str(token)


def api_client(rt: Any, **kwargs: Any) -> Any:
    """The HTTP app over ``rt``, called in-process, as the default brokerage's integration."""
    from fastapi.testclient import TestClient

    from api.main import create_app

    client = TestClient(create_app(rt, node_modules=rt.settings.assets_dir), **kwargs)
    client.headers["Authorization"] = f"Bearer {operator_token(rt)}"
    return client


@pytest.fixture
def client(runtime: Any) -> Any:
    """The HTTP app over ``runtime``, called in-process, with a token of every scope."""
    return api_client(runtime)
