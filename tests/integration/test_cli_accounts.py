"""`followup users create` and `followup tokens create`, as an operator runs them."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from adapters.bootstrap import Runtime
from adapters.cli import cli
from adapters.demo import load_demo
from adapters.settings import Settings
from api.main import create_app
from domain import ids
from tests.conftest import api_client


def run(tmp_path: Path, *args: str, password: str | None = None) -> object:
    env = {"FOLLOWUP_DATA_DIR": str(tmp_path), "FOLLOWUP_LOG_LEVEL": "WARNING"}
    if password is not None:
        env["FOLLOWUP_NEW_PASSWORD"] = password
    return CliRunner().invoke(cli, list(args), env=env)


def test_the_first_admin_signs_in_and_a_token_of_the_brokerage_scores(tmp_path: Path) -> None:
    made = run(tmp_path, "users", "create", "--brokerage", "acme", "--email", "Ada@Acme.test",
               "--role", "admin", password="the first admin's")
    assert made.exit_code == 0, made.output  # type: ignore[attr-defined]
    assert "admin ada@acme.test of brokerage acme" in made.output  # type: ignore[attr-defined]
    token = run(tmp_path, "tokens", "create", "--brokerage", "acme", "--name", "scoring",
                "--scope", "scores:write", "--scope", "leads:read")
    assert token.exit_code == 0
    secret = token.output.strip()  # type: ignore[attr-defined]
    rt = Runtime(Settings(data_dir=tmp_path))
    try:
        client = TestClient(create_app(rt))
        signed = client.post("/api/session", json={"email": "ada@acme.test",
                                                   "password": "the first admin's"})
        assert signed.status_code == 200 and signed.json()["user"]["role"] == "admin"
        listed = client.get("/api/tokens").json()
        assert [(t["name"], t["scopes"]) for t in listed] == [
            ("scoring", ["leads:read", "scores:write"])]
        assert secret not in str(listed)
        scorer = TestClient(create_app(rt), headers={"Authorization": f"Bearer {secret}"})
        assert scorer.get("/api/dead-letters").status_code == 200
    finally:
        rt.stop()


def test_a_refusal_names_the_field_and_exits_2(tmp_path: Path) -> None:
    bad_email = run(tmp_path, "users", "create", "--brokerage", "acme", "--email", "nope",
                    password="long enough pass")
    assert bad_email.exit_code == 2 and "email" in bad_email.output  # type: ignore[attr-defined]
    short = run(tmp_path, "users", "create", "--brokerage", "acme", "--email", "a@acme.test",
                password="short")
    assert short.exit_code == 2 and "password" in short.output  # type: ignore[attr-defined]
    bad_role = run(tmp_path, "users", "create", "--brokerage", "acme", "--email", "b@acme.test",
                   "--role", "owner", password="long enough pass")
    assert bad_role.exit_code == 2 and "role" in bad_role.output  # type: ignore[attr-defined]
    nobody = run(tmp_path, "tokens", "create", "--brokerage", "globex", "--name", "x",
                 "--scope", "leads:read")
    assert nobody.exit_code == 2 and "brokerage" in nobody.output  # type: ignore[attr-defined]
    again = run(tmp_path, "users", "create", "--brokerage", "acme", "--email", "c@acme.test",
                password="long enough pass")
    assert again.exit_code == 0
    twice = run(tmp_path, "users", "create", "--brokerage", "acme", "--email", "C@acme.test",
                password="long enough pass")
    assert twice.exit_code == 2 and "already" in twice.output  # type: ignore[attr-defined]


def test_the_demo_makes_its_agent_who_sees_the_demo_and_only_it(tmp_path: Path) -> None:
    rt = Runtime(Settings(data_dir=tmp_path))
    try:
        sign_in = load_demo(rt.app)
        again = load_demo(rt.app)  # a second start: a new password, no second copy of the data
        client = TestClient(create_app(rt))
        old = client.post("/api/session", json={"email": sign_in.email,
                                                "password": sign_in.password})
        assert old.status_code == 401
        signed = client.post("/api/session", json={"email": again.email,
                                                   "password": again.password})
        assert signed.status_code == 200
        agent = signed.json()["user"]["agentId"]
        lead = ids.lead_id(agent, "demo-0")
        assert client.get(f"/api/leads/{lead}").json()["name"] == "Ana Lima"
        outsider = api_client(rt)  # the default brokerage's integration
        assert outsider.get(f"/api/leads/{lead}").status_code == 404
    finally:
        rt.stop()
