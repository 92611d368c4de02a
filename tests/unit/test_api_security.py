"""Every answer carries the security headers: a CSP allowing only the app's own files (no inline
script, no framing), no MIME sniffing, and no referrer to other origins."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from api.main import create_app

REQUESTS: list[tuple[str, Callable[[TestClient], Response]]] = [
    ("json", lambda c: c.get("/health")),
    ("openapi", lambda c: c.get("/openapi.json")),
    ("404", lambda c: c.get("/api/leads/00000000-0000-0000-0000-000000000000")),
    ("unknown route", lambda c: c.get("/nowhere")),
    ("422", lambda c: c.post("/api/leads", json={"agentId": "a"})),
    ("413 before the app", lambda c: c.post("/api/leads", content=b"x" * 300_000)),
    ("static", lambda c: c.get("/assets/vendor/htmx/htmx.min.js")),
    ("docs", lambda c: c.get("/docs")),
]


@pytest.mark.parametrize(("kind", "call"), REQUESTS, ids=[k for k, _ in REQUESTS])
def test_every_answer_carries_the_headers(client: TestClient, kind: str,
                                          call: Callable[[TestClient], Response]) -> None:
    headers = call(client).headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    csp = dict(d.strip().split(" ", 1) for d in headers["Content-Security-Policy"].split(";"))
    assert csp["default-src"] == "'self'" and csp["frame-ancestors"] == "'none'"
    assert csp["object-src"] == "'none'" and "unsafe" not in headers["Content-Security-Policy"]
    if kind != "docs":
        assert csp["script-src"] == "'self'", "no inline script anywhere but the docs page"


def test_a_fault_answers_with_the_headers_too() -> None:
    app = create_app(runtime=None)

    def boom() -> None:
        raise RuntimeError("boom")

    app.add_api_route("/boom", boom)
    response = TestClient(app, raise_server_exceptions=False).get("/boom")
    assert response.status_code == 500 and response.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
