"""API benchmark: mixed traffic at a steady rate over 100,000 leads, a lead page with 1,000
history entries, and the leads search, each against one raw SQL query reading the same data.

Starts the real processes (`followup api`, `projector`, `scheduler`) against a fresh PostgreSQL
database and a private Redis prefix, opens one brokerage with a few agents (accounts, signed in
with session cookies for the pages) and a brokerage token (`followup tokens create`), registers
the leads through the application in batches (real aggregates in the event store; the projector
makes the read models from the log, as it would from the API's writes), gives one lead 1,000
history entries through the application's own commands, then measures:

- the lead page (`GET /leads/{id}`, the HTML an agent's browser gets) and the lead's history
  (`GET /api/leads/{id}/history`) of that lead, one request at a time;
- the search (`GET /api/leads?q=…`) over all the brokerage's leads, varied prefixes;
- mixed traffic, open loop (requests sent at a steady rate whatever the answers do, latency
  from the moment each was due): score changes, lead reads, lead pages, histories and lists.

The reference of each read is the same data read by one raw SQL query on a psycopg connection
(of a score change: one INSERT + COMMIT), measured in the same run.

    uv run python scripts/bench_api.py          # 100,000 leads, 60 s at 200/s and 100/s: ~5 min
    uv run python scripts/bench_api.py --quick  # 5,000 leads, 10 s at each rate
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from uuid import UUID, uuid4

import httpx
import psycopg
import uvloop

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchkit import (  # noqa: E402
    PG_ADMIN,
    REDIS_URL,
    clean_up,
    cpu_seconds,
    free_port,
    integration_token,
    machine_busy_seconds,
    pct,
    start,
    stop,
)

from adapters.bootstrap import Runtime  # noqa: E402
from adapters.settings import Settings  # noqa: E402
from api.pages.lead_view import TIMELINE_BATCH  # noqa: E402
from domain.lead import Lead  # noqa: E402
from projections.lead_terms import after_prefix  # noqa: E402

BROKERAGE = "bench-realty"
PASSWORD = "bench-password-1234"
PAGE_HISTORY = TIMELINE_BATCH  # the timeline's entries the lead page shows at first
LIST_LIMIT = 50


def words(text: str) -> list[str]:
    return text.split()


FIRST = words("Ana Bruno Carla Diego Elena Farid Greta Hugo Ines Jonas Karin Luca Marta Nadia "
              "Oscar Paula Quentin Rosa Samuel Tanja Ulrich Vera Walter Xenia Yusuf Zoe Aiko "
              "Bjorn Chiara Dmitri Esther Felix Gloria Hamid Irene Joao Kenji Leila Mateo Nora "
              "Olga Pedro Rania Sven Tomas Ursula Victor Wanda Yara Zeno Adele Boris Celine "
              "Dario Emil Fatima Gustav Hanna Igor Julia Kofi Lena Milan Noemi Otto Priya "
              "Rafael Sofia Theo Uma Valentin Wiebke Ximena Yannick Zara Élodie Łukasz Søren "
              "Ömer")
LAST = words("Lima Silva Rossi Müller Schmidt Novak Kowalski Jensen Dubois Martin Garcia Lopez "
             "Costa Ferrari Bianchi Weber Fischer Wagner Becker Hoffmann Petrov Ivanova "
             "Nakamura Tanaka Kim Park Chen Wang Singh Patel Khan Ahmed O'Neil McCarthy Murphy "
             "Walsh Byrne Ryan Doyle Svensson Nilsson Berg Larsen Hansen Olsen Virtanen "
             "Korhonen Nagy Horvat Popescu Marin Dimitrou Papadopoulos Yilmaz Demir Cohen Levi "
             "Mendes Pereira Santos Oliveira Alves Ribeiro Carvalho Gomes Vargas Castillo "
             "Romero Navarro Moreno Ortega Delgado Ramos Herrera Medina Aguilar Vega Flores "
             "Rivera Torres")
DOMAINS = words("gmail.com outlook.com yahoo.com icloud.com proton.me hey.com web.de orange.fr "
                "libero.it example.com")
ZONES = words("UTC Europe/Lisbon Europe/Berlin America/New_York America/Chicago America/Denver "
              "America/Los_Angeles Asia/Tokyo Australia/Sydney")




def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms" if seconds < 0.001 else f"{seconds * 1000:.1f} ms"


@dataclass
class Figures:
    """Rows of the final table: (measure, samples), and the ratios against references."""

    rows: list[tuple[str, list[float]]] = field(default_factory=list)
    ratios: list[tuple[str, list[float], list[float]]] = field(default_factory=list)

    def add(self, name: str, values: list[float]) -> None:
        self.rows.append((name, values))
        print("  " + row(name, values), flush=True)

    def ratio(self, name: str, ours: list[float], ref: list[float]) -> None:
        self.ratios.append((name, ours, ref))

    def print(self) -> None:
        print("\n| measure | n | p50 | p99 | max |\n| --- | --- | --- | --- | --- |")
        for name, values in self.rows:
            print(f"| {name} | {len(values):,} | {ms(pct(values, 50))} | {ms(pct(values, 99))} "
                  f"| {ms(max(values))} |")
        print("\n| ours / reference | p50 | p99 |\n| --- | --- | --- |")
        for name, ours, ref in self.ratios:
            print(f"| {name} | {pct(ours, 50) / pct(ref, 50):.1f}x "
                  f"| {pct(ours, 99) / pct(ref, 99):.1f}x |")


def row(name: str, values: list[float]) -> str:
    if not values:
        return f"{name:<52} n=0"
    return (f"{name:<52} n={len(values):<6} p50={ms(pct(values, 50)):>10}  "
            f"p99={ms(pct(values, 99)):>10}  max={ms(max(values)):>10}")


@dataclass
class Agent:
    agent_id: str
    email: str
    cookie: str = ""
    leads: list[str] = field(default_factory=list)


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.rng = random.Random(args.seed)
        self.db = f"fu_bench_{uuid.uuid4().hex[:10]}"
        self.prefix = f"fu-bench-{uuid.uuid4().hex[:10]}"
        self.db_url = PG_ADMIN.rsplit("/", 1)[0] + "/" + self.db
        self.logs = Path(tempfile.mkdtemp(prefix="fu-bench-api-"))
        self.port = free_port()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("FOLLOWUP_")}
        self.env.update(FOLLOWUP_DATABASE_URL=self.db_url, FOLLOWUP_REDIS_URL=REDIS_URL,
                        FOLLOWUP_REDIS_PREFIX=self.prefix, FOLLOWUP_API_PORT=str(self.port),
                        FOLLOWUP_DATA_DIR=str(self.logs), FOLLOWUP_LOG_LEVEL="WARNING")
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.runtime: Runtime | None = None
        self.agents = [Agent(f"agent-{i + 1}", f"agent{i + 1}@bench-realty.test")
                       for i in range(args.agents)]
        self.brokerage_id: UUID | None = None
        self.token = ""
        self.names: list[tuple[str, str]] = []  # (first, last) of every lead, for searches
        self.big_lead = ""
        self.big_agent: Agent | None = None
        self.figures = Figures()
        self.errors: dict[str, int] = {}

    # Set-up ------------------------------------------------------------------

    @contextmanager
    def servers(self) -> Iterator[None]:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{self.db}"')
        keep = self.args.keep_logs
        try:
            yield
        except BaseException:
            keep = True  # a failed run's process logs are what tells why
            raise
        finally:
            for name in list(self.processes):
                self.stop(name)
            if self.runtime is not None:
                self.runtime.stop()
            if keep:
                print(f"process logs kept in {self.logs}", flush=True)
            else:
                shutil.rmtree(self.logs, ignore_errors=True)
            clean_up(self.prefix, self.db)

    def start(self, name: str) -> None:
        self.processes[name] = start(name, self.env, self.logs)

    def stop(self, name: str) -> None:
        stop(self.processes.pop(name))

    def rt(self) -> Runtime:
        if self.runtime is None:
            settings = Settings(database_url=self.db_url, redis_url=REDIS_URL,
                                redis_prefix=self.prefix, data_dir=self.logs)
            self.runtime = Runtime(settings)
        return self.runtime

    def wait_api(self) -> None:
        with httpx.Client(base_url=self.base, timeout=5) as http:
            for _ in range(600):
                try:
                    if http.get("/health").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
        raise SystemExit("the API did not answer /health within a minute")

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def accounts(self) -> None:
        """The brokerage, its agents (with passwords, through the use case the CLI calls) and
        a brokerage token made as an operator would (`followup tokens create`)."""
        app = self.rt().app
        self.brokerage_id = app.open_brokerage(BROKERAGE, "Bench Realty")
        for agent in self.agents:
            app.create_user(brokerage_id=self.brokerage_id, email=agent.email,
                            name=agent.agent_id.title(), role="agent", password=PASSWORD,
                            agent_id=agent.agent_id)
        self.token = integration_token(self.env, BROKERAGE,
                                       ("leads:read", "leads:write", "scores:write"))
        with httpx.Client(base_url=self.base, timeout=30) as http:
            for agent in self.agents:
                signed = http.post("/api/session", json={"email": agent.email,
                                                         "password": PASSWORD})
                signed.raise_for_status()
                agent.cookie = signed.cookies["followup_session"]
                http.cookies.clear()

    def load(self) -> None:
        """The leads, registered through the application in batches of `--batch` per commit
        (the same aggregates and events as `POST /api/leads`), spread over the agents."""
        app = self.rt().app
        assert self.brokerage_id is not None
        n, batch_size, every = self.args.leads, self.args.batch, max(1000, self.args.leads // 10)
        print(f"registering {n:,} leads over {len(self.agents)} agents, "
              f"{batch_size} per commit", flush=True)
        t0 = time.perf_counter()
        batch: list[Lead] = []
        for i in range(n):
            first, last = self.rng.choice(FIRST), self.rng.choice(LAST)
            agent = self.agents[i % len(self.agents)]
            local = self.rng.choice([f"{first}.{last}", f"{first[0]}{last}", f"{first}{i}",
                                     f"{last}.{first[0]}{i % 97}"])
            email = f"{local.lower().replace(chr(39), '')}@{self.rng.choice(DOMAINS)}"
            lead = Lead.register(
                lead_id=uuid4(), agent_id=agent.agent_id, name=f"{first} {last}", email=email,
                phone=f"+1555{i:07d}", timezone=self.rng.choice(ZONES),
                preferences={"area": self.rng.choice(["north", "south", "centre"]),
                             "beds": self.rng.randint(1, 5)},
                timeline=self.rng.choice(["soon", "3 months", "6 months", None]),
                score=self.rng.randint(0, 100),
                source=self.rng.choice(["zillow", "website", "referral", None]),
                brokerage_id=self.brokerage_id)
            batch.append(lead)
            agent.leads.append(str(lead.id))
            self.names.append((first, last))
            if len(batch) >= batch_size or i == n - 1:
                app.save(*batch)
                batch = []
            if (i + 1) % every == 0 or i == n - 1:
                took = time.perf_counter() - t0
                print(f"  {i + 1:>9,} leads saved in {took:6.1f} s ({(i + 1) / took:,.0f}/s)",
                      flush=True)
        self.wait_rows("directory_leads", n, "in the leads directory")
        # A database that has lived with its leads has been vacuumed and analysed by
        # autovacuum; right after a bulk load the planner has no statistics yet
        t0 = time.perf_counter()
        with psycopg.connect(self.db_url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        print(f"  VACUUM ANALYZE in {time.perf_counter() - t0:.1f} s", flush=True)

    def wait_rows(self, table: str, count: int, what: str, where: str = "",
                  params: tuple[Any, ...] = (), timeout: float = 900) -> None:
        t0, last = time.perf_counter(), -1.0
        with psycopg.connect(self.db_url, autocommit=True) as conn:
            while True:
                found = conn.execute(f"SELECT count(*) FROM {table} {where}", params).fetchone()
                have = int(found[0]) if found else 0
                took = time.perf_counter() - t0
                if have >= count:
                    print(f"  {have:>9,} {what} after {took:.1f} s", flush=True)
                    return
                if took - last >= 10:
                    print(f"  {have:>9,} {what} ({took:.0f} s)", flush=True)
                    last = took
                if took > timeout:
                    raise SystemExit(f"only {have} of {count} {what} after {timeout:.0f} s")
                time.sleep(0.5)

    def big(self) -> None:
        """One lead of the first agent with 1,000 history entries: its registration and 999
        commands through the application (mostly score changes, some profile edits and
        consent changes), as an integration and an agent would make them over time."""
        app = self.rt().app
        agent = self.agents[0]
        lead_id = app.register_lead(agent_id=agent.agent_id, name="Hilda Longhistory",
                                    email="hilda.longhistory@example.com", phone=None,
                                    timezone="Europe/Berlin", preferences={"area": "north"},
                                    timeline="soon", score=10, brokerage_id=self.brokerage_id
                                    or uuid4())
        t0 = time.perf_counter()
        for i in range(1, self.args.history):
            if i % 50 == 0:
                app.edit_lead(lead_id, {"timeline": f"{i // 50} months"}, actor=None)
            elif i % 50 == 25:
                app.set_consent(lead_id, "sms", i % 100 != 25, "the lead asked", actor=None)
            else:
                app.change_score(lead_id, 10 + i % 80, f"bench {i}")
        print(f"one lead given {self.args.history:,} history entries through the application "
              f"in {time.perf_counter() - t0:.1f} s", flush=True)
        self.big_lead, self.big_agent = str(lead_id), agent
        self.wait_rows("lead_history", self.args.history, "history entries of that lead",
                       "WHERE lead_id = %s", (self.big_lead,))

    # Raw SQL references ------------------------------------------------------

    def timed_sql(self, conn: psycopg.Connection[Any], sql: str,
                  params: Callable[[int], tuple[Any, ...]], n: int,
                  commit: bool = False) -> list[float]:
        took = []
        for i in range(n):
            p = params(i)
            t0 = time.perf_counter()
            cursor = conn.execute(sql, p, prepare=True)
            if commit:
                conn.commit()
            else:
                cursor.fetchall()
            took.append(time.perf_counter() - t0)
        return took

    # Measures ----------------------------------------------------------------

    def lead_page(self) -> None:
        agent = self.big_agent
        assert agent is not None
        n = self.args.page_requests
        print(f"\nthe lead page of a lead with {self.args.history:,} history entries, "
              f"{n} requests one at a time", flush=True)
        cookie = {"Cookie": f"followup_session={agent.cookie}"}
        bearer = {"Authorization": f"Bearer {self.token}"}
        page, history = [], []
        with httpx.Client(base_url=self.base, timeout=30) as http:
            for _ in range(5):  # warm-up (first loads, snapshots, template compile)
                http.get(f"/leads/{self.big_lead}", headers=cookie).raise_for_status()
                http.get(f"/api/leads/{self.big_lead}/history", headers=bearer)
            for _ in range(n):
                t0 = time.perf_counter()
                answer = http.get(f"/leads/{self.big_lead}", headers=cookie)
                page.append(time.perf_counter() - t0)
                answer.raise_for_status()
                t0 = time.perf_counter()
                answer = http.get(f"/api/leads/{self.big_lead}/history", headers=bearer)
                history.append(time.perf_counter() - t0)
                answer.raise_for_status()
            entries = len(answer.json())
        with psycopg.connect(self.db_url) as conn:
            ref_page = self.timed_sql(
                conn, "SELECT * FROM lead_history WHERE lead_id = %s ORDER BY position DESC "
                f"LIMIT {PAGE_HISTORY}", lambda i: (self.big_lead,), n)
            ref_history = self.timed_sql(
                conn, "SELECT * FROM lead_history WHERE lead_id = %s ORDER BY position "
                "LIMIT 1000", lambda i: (self.big_lead,), n)
        f = self.figures
        f.add(f"lead page `GET /leads/{{id}}` (HTML, {PAGE_HISTORY} newest entries)", page)
        f.add(f"reference: SQL, the lead's {PAGE_HISTORY} newest history rows", ref_page)
        f.add(f"lead history `GET /api/leads/{{id}}/history` ({entries:,} entries)", history)
        f.add("reference: SQL, the lead's 1,000 history rows", ref_history)
        f.ratio("lead page", page, ref_page)
        f.ratio("lead history (API)", history, ref_history)

    def search_terms(self, n: int) -> list[str]:
        """Varied searches: a name's first letters, a whole surname, a domain, two words."""
        found = []
        for _ in range(n):
            first, last = self.rng.choice(self.names)
            kind = self.rng.randrange(5)
            if kind == 0:
                found.append(first[:self.rng.randint(2, 4)].lower())
            elif kind == 1:
                found.append(last.lower())
            elif kind == 2:
                found.append(self.rng.choice(DOMAINS).split(".")[0])
            elif kind == 3:
                found.append(f"{first[:3].lower()} {last[:3].lower()}")
            else:
                found.append(last[:self.rng.randint(2, 3)].upper())
        return found

    def search_sql(self, q: str) -> tuple[str, tuple[Any, ...]]:
        """The search as one raw SQL query: the brokerage's leads with a term starting with
        each word, highest score first, a page of 50 (and one to tell there is more)."""
        brokerage = str(self.brokerage_id)
        conditions, params = [], [brokerage]
        for word in dict.fromkeys(q.casefold().split()):
            conditions.append("lead_id IN (SELECT lead_id FROM directory_lead_terms "
                              "WHERE brokerage_id = %s AND term >= %s AND term < %s)")
            params += [brokerage, word, after_prefix(word) or "\U0010ffff"]
        return (f"SELECT * FROM directory_leads WHERE brokerage_id = %s AND "
                f"{' AND '.join(conditions)} ORDER BY score DESC, created_pos DESC "
                f"LIMIT {LIST_LIMIT + 1}", tuple(params))

    def search(self) -> None:
        n = self.args.searches
        terms = self.search_terms(n)
        print(f"\nsearch over the brokerage's {self.args.leads:,} leads, {n} searches one at "
              "a time (a page of 50, highest score first)", flush=True)
        bearer = {"Authorization": f"Bearer {self.token}"}
        ours, hits = [], []
        with httpx.Client(base_url=self.base, timeout=30, headers=bearer) as http:
            for q in terms[:5]:
                http.get("/api/leads", params={"q": q}).raise_for_status()
            for q in terms:
                t0 = time.perf_counter()
                answer = http.get("/api/leads", params={"q": q})
                ours.append(time.perf_counter() - t0)
                answer.raise_for_status()
                hits.append(len(answer.json()["items"]))
        with psycopg.connect(self.db_url) as conn:
            ref = []
            for q in terms:
                sql, params = self.search_sql(q)
                t0 = time.perf_counter()
                rows = conn.execute(sql, params).fetchall()
                ref.append(time.perf_counter() - t0)
                assert len(rows) >= min(hits[len(ref) - 1], LIST_LIMIT)
        print(f"  searches: {sum(1 for h in hits if h == 0)} found nothing, "
              f"{sum(1 for h in hits if h == LIST_LIMIT)} a full page", flush=True)
        self.figures.add("search `GET /api/leads?q=…` (a page of 50)", ours)
        self.figures.add("reference: SQL, the same search on the read model", ref)
        self.figures.ratio("search", ours, ref)

    def mixed(self) -> None:
        rates, seconds = self.args.rates, self.args.seconds
        plans = {rate: self.plan(int(rate * seconds)) for rate in rates}
        first = plans[rates[0]]
        print("\nmixed traffic: " + ", ".join(
            f"{k} {sum(1 for p in first if p[0] == k) / len(first):.0%}" for k in KINDS),
              flush=True)
        self.one_at_a_time(first)
        refs = self.mixed_references(first)
        f = self.figures
        ref_all: list[float] = []
        for kind in KINDS:
            f.add(f"reference: SQL, {REFS[kind]}", refs[kind])
            ref_all += refs[kind]
        f.add("reference: all, in the same proportions", ref_all)
        for rate in rates:
            self.open_loop(rate, plans[rate], refs, ref_all)

    def open_loop(self, rate: float, plan: list[tuple[str, str, Agent, dict[str, Any] | None]],
                  refs: dict[str, list[float]], ref_all: list[float]) -> None:
        seconds = len(plan) / rate
        print(f"\nmixed traffic, open loop: {rate:g} requests/s for {seconds:g} s "
              f"({len(plan):,} requests)", flush=True)
        time.sleep(2)  # the projector's batches of the one-at-a-time requests
        cpu_before, t0 = self.cpu(), time.perf_counter()
        results = uvloop.run(self.fire(plan, rate))
        self.print_cpu(cpu_before, time.perf_counter() - t0, len(results))
        by_kind: dict[str, list[float]] = {k: [] for k in KINDS}
        lags, errors = [], {}
        for kind, took, lag, status in results:
            by_kind[kind].append(took)
            lags.append(lag)
            if not 200 <= status < 300:
                errors[f"{kind} {status}"] = errors.get(f"{kind} {status}", 0) + 1
        everything = [took for _, took, _, _ in results]
        f = self.figures
        for kind in KINDS:
            f.add(f"{rate:g}/s mixed: {KINDS[kind]}", by_kind[kind])
        f.add(f"{rate:g}/s mixed: all requests", everything)
        for kind in KINDS:
            f.ratio(f"{rate:g}/s mixed: {kind}", by_kind[kind], refs[kind])
        f.ratio(f"{rate:g}/s mixed: all", everything, ref_all)
        print(f"  non-2xx answers: {sum(errors.values())} {errors or ''}; the client sent "
              f"p99 {ms(pct(lags, 99))} after the due time (max {ms(max(lags))})", flush=True)
        for key, count in errors.items():
            self.errors[f"{rate:g}/s {key}"] = count

    def cpu(self) -> dict[str, float]:
        """CPU seconds used so far by each of our processes, this one, and PostgreSQL."""
        found = {name: cpu_seconds(p.pid) for name, p in self.processes.items()}
        found["bench (the client)"] = cpu_seconds(os.getpid())
        # PostgreSQL's backends come and go: counted as the machine's busy time less ours
        found["machine (all busy)"] = machine_busy_seconds()
        return found

    def print_cpu(self, before: dict[str, float], elapsed: float, requests: int) -> None:
        used = {k: v - before.get(k, 0.0) for k, v in self.cpu().items()}
        ours = sum(v for k, v in used.items() if k != "machine (all busy)")
        used["postgresql and the rest of the machine"] = used.pop("machine (all busy)") - ours
        print(f"  CPU (core-seconds over {elapsed:.0f} s, {os.cpu_count()} cores): "
              + ", ".join(f"{k} {v:.1f}" for k, v in sorted(used.items(), key=lambda kv: -kv[1]))
              + f"; {used.get('api', 0.0) / max(requests, 1) * 1000:.1f} ms of the API's CPU "
              f"per request", flush=True)

    def plan(self, total: int) -> list[tuple[str, str, Agent, dict[str, Any] | None]]:
        """(kind, path, agent, json or query) for each request, drawn in advance."""
        found: list[tuple[str, str, Agent, dict[str, Any] | None]] = []
        weights = [MIX[k] for k in KINDS]
        terms = iter(self.search_terms(total))
        for kind in self.rng.choices(list(KINDS), weights, k=total):
            agent = self.rng.choice(self.agents)
            lead = self.rng.choice(agent.leads)
            if kind == "score":
                found.append((kind, f"/api/leads/{lead}/score", agent,
                              {"score": self.rng.randint(0, 100), "reason": "bench"}))
            elif kind == "lead":
                found.append((kind, f"/api/leads/{lead}", agent, None))
            elif kind == "page":
                found.append((kind, f"/leads/{lead}", agent, None))
            elif kind == "history":
                found.append((kind, f"/api/leads/{lead}/history", agent, None))
            else:
                choice = self.rng.randrange(4)
                query: dict[str, Any] = (
                    {"agentId": agent.agent_id} if choice == 0 else
                    {"agentId": agent.agent_id, "scoreMin": 60, "scoreMax": 80} if choice == 1
                    else {"status": "new"} if choice == 2 else {"q": next(terms)})
                found.append((kind, "/api/leads", agent, query))
        return found

    def one_at_a_time(self, plan: list[tuple[str, str, Agent, dict[str, Any] | None]]) -> None:
        """The same requests one at a time first (closed loop): each kind's service time on
        an otherwise idle system, and the rate one request at a time would reach."""
        n = self.args.serial_requests
        picked = [p for k in KINDS for p in [q for q in plan if q[0] == k][:n]]
        took: dict[str, list[float]] = {k: [] for k in KINDS}
        bearer = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(base_url=self.base, timeout=30) as http:
            for kind, path, agent, extra in picked:
                t0 = time.perf_counter()
                if kind == "score":
                    answer = http.post(path, json=extra, headers=bearer)
                elif kind == "page":
                    answer = http.get(path, headers={
                        "Cookie": f"followup_session={agent.cookie}"})
                else:
                    answer = http.get(path, params=extra, headers=bearer)
                took[kind].append(time.perf_counter() - t0)
                answer.raise_for_status()
        mean = sum(MIX[k] * sum(v) / len(v) for k, v in took.items()) / sum(MIX.values())
        for kind in KINDS:
            self.figures.add(f"one at a time: {KINDS[kind]}", took[kind])
        print(f"  one at a time, the mix's mean service time is {ms(mean)}: "
              f"{1 / mean:,.0f} requests/s from one client", flush=True)

    async def fire(self, plan: list[tuple[str, str, Agent, dict[str, Any] | None]],
                   rate: float) -> list[tuple[str, float, float, int]]:
        """Each request sent at its due time whatever the answers before it do; its latency
        counts from the due time (waiting for a free connection included)."""
        bearer = f"Authorization: Bearer {self.token}\r\n"
        results: list[tuple[str, float, float, int]] = []
        pool = RawPool("127.0.0.1", self.port, self.args.connections)
        await pool.open()

        async def one(due: float, kind: str, path: str, agent: Agent,
                      extra: dict[str, Any] | None) -> None:
            lag = time.perf_counter() - due
            try:
                if kind == "score":
                    status = await pool.request("POST", path, bearer, json.dumps(extra).encode())
                elif kind == "page":
                    status = await pool.request(
                        "GET", path, f"Cookie: followup_session={agent.cookie}\r\n")
                else:
                    query = f"?{urlencode(extra)}" if extra else ""
                    status = await pool.request("GET", path + query, bearer)
            except (OSError, asyncio.IncompleteReadError, ValueError):
                status = 0
            results.append((kind, time.perf_counter() - due, lag, status))

        tasks = []
        t0 = time.perf_counter() + 0.1
        for i, (kind, path, agent, extra) in enumerate(plan):
            due = t0 + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(due, kind, path, agent, extra)))
        await asyncio.gather(*tasks)
        await pool.close()
        return results

    def mixed_references(self, plan: list[tuple[str, str, Agent, dict[str, Any] | None]]
                         ) -> dict[str, list[float]]:
        """Each kind's data by one raw SQL query, for the same targets, one at a time (a score
        change: an INSERT + COMMIT of an event-sized row, the floor of any durable write)."""
        n = self.args.ref_requests
        picked = {k: [p for p in plan if p[0] == k][:n] for k in KINDS}
        lead_of = {k: [p[1].split("/")[3 if p[1].startswith("/api") else 2] for p in v]
                   for k, v in picked.items() if k != "list"}
        refs: dict[str, list[float]] = {}
        with psycopg.connect(self.db_url) as conn:
            conn.execute("CREATE TABLE bench_ref (id bigserial PRIMARY KEY, lead_id text, "
                         "body bytea)")
            conn.commit()
            body = os.urandom(300)
            refs["score"] = self.timed_sql(
                conn, "INSERT INTO bench_ref (lead_id, body) VALUES (%s, %s)",
                lambda i: (lead_of["score"][i], body), len(picked["score"]), commit=True)
            refs["lead"] = self.timed_sql(
                conn, "SELECT originator_version, topic, state FROM followup_events WHERE "
                "originator_id = %s ORDER BY originator_version",
                lambda i: (UUID(lead_of["lead"][i]),), len(picked["lead"]))
            refs["page"] = self.timed_sql(
                conn, "SELECT * FROM lead_history WHERE lead_id = %s ORDER BY position DESC "
                f"LIMIT {PAGE_HISTORY}", lambda i: (lead_of["page"][i],), len(picked["page"]))
            refs["history"] = self.timed_sql(
                conn, "SELECT * FROM lead_history WHERE lead_id = %s ORDER BY position "
                "LIMIT 1000", lambda i: (lead_of["history"][i],), len(picked["history"]))
            conn.commit()
            lists = []
            brokerage = str(self.brokerage_id)
            for _, _, _, query in picked["list"]:
                assert query is not None
                if "q" in query:
                    sql, params = self.search_sql(query["q"])
                else:
                    where, params = ["brokerage_id = %s"], (brokerage,)
                    if "agentId" in query:
                        where.append("agent_id = %s")
                        params += (query["agentId"],)
                    if "scoreMin" in query:
                        where.append("score BETWEEN %s AND %s")
                        params += (query["scoreMin"], query["scoreMax"])
                    if "status" in query:
                        where.append("status = %s")
                        params += (query["status"],)
                    sql = (f"SELECT * FROM directory_leads WHERE {' AND '.join(where)} "
                           f"ORDER BY score DESC, created_pos DESC LIMIT {LIST_LIMIT + 1}")
                t0 = time.perf_counter()
                conn.execute(sql, params).fetchall()
                lists.append(time.perf_counter() - t0)
            refs["list"] = lists
            conn.execute("DROP TABLE bench_ref")
            conn.commit()
        return refs


class RawPool:
    """A minimal HTTP/1.1 keep-alive client for the open-loop load: a fixed pool of
    connections, requests written as bytes, answers read by their Content-Length (or chunks).
    httpx's async client cost about 7 ms of CPU per request at 200 requests/s on these two
    cores (more than the API itself), so the client, not the API, set the figures."""

    def __init__(self, host: str, port: int, size: int) -> None:
        self.host, self.port, self.size = host, port, size
        self.idle: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = (
            asyncio.Queue())

    async def open(self) -> None:
        for _ in range(self.size):
            self.idle.put_nowait(await asyncio.open_connection(self.host, self.port))

    async def close(self) -> None:
        while not self.idle.empty():
            _, writer = self.idle.get_nowait()
            writer.close()

    async def request(self, method: str, target: str, headers: str,
                      body: bytes = b"") -> int:
        reader, writer = await self.idle.get()
        try:
            extra = (f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                     if method == "POST" else "")
            writer.write(f"{method} {target} HTTP/1.1\r\nHost: {self.host}\r\n{headers}"
                         f"{extra}\r\n".encode() + body)
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ", 2)[1])
            fields = {k.strip().lower(): v.strip() for k, _, v in
                      (h.partition(":") for h in lines[1:] if h)}
            if "content-length" in fields:
                await reader.readexactly(int(fields["content-length"]))
            elif fields.get("transfer-encoding") == "chunked":
                while size := int((await reader.readuntil(b"\r\n")).strip(), 16):
                    await reader.readexactly(size + 2)
                await reader.readuntil(b"\r\n")
        except BaseException:
            writer.close()  # a broken connection: replaced by a new one
            self.idle.put_nowait(await asyncio.open_connection(self.host, self.port))
            raise
        self.idle.put_nowait((reader, writer))
        return status


KINDS = {"score": "score change `POST /api/leads/{id}/score`",
         "lead": "lead `GET /api/leads/{id}`",
         "page": "lead page `GET /leads/{id}` (HTML, cookie)",
         "history": "lead history `GET /api/leads/{id}/history`",
         "list": "lists `GET /api/leads` (agent, score range, status, search)"}
REFS = {"score": "INSERT + COMMIT of one row",
        "lead": "the lead's events from the event store",
        "page": f"the lead's history rows (newest {PAGE_HISTORY})",
        "history": "the lead's history rows",
        "list": "the same list on the read model"}
MIX = {"score": 40, "lead": 15, "page": 15, "history": 10, "list": 20}
AIMS = (("{rate}/s mixed: all", 0.050), ("lead page", 0.100), ("search", 0.100))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="5,000 leads, 10 s of mixed traffic, fewer repeats")
    parser.add_argument("--leads", type=int, default=None)
    parser.add_argument("--agents", type=int, default=4)
    parser.add_argument("--batch", type=int, default=500, help="leads per commit when loading")
    parser.add_argument("--history", type=int, default=1000,
                        help="history entries of the lead whose page is timed")
    parser.add_argument("--rates", type=lambda t: [float(r) for r in t.split(",")],
                        default=[200.0, 100.0],
                        help="mixed requests per second, one open-loop run each (the first is "
                             "the acceptance figure)")
    parser.add_argument("--seconds", type=float, default=None, help="of mixed traffic")
    parser.add_argument("--connections", type=int, default=64,
                        help="the open-loop client's keep-alive connections")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep-logs", action="store_true")
    args = parser.parse_args()
    args.leads = args.leads or (5_000 if args.quick else 100_000)
    args.seconds = args.seconds or (10.0 if args.quick else 60.0)
    args.page_requests = 100 if args.quick else 500
    args.searches = 200 if args.quick else 1000
    args.ref_requests = 300 if args.quick else 1000
    args.serial_requests = 100 if args.quick else 300
    bench = Bench(args)
    started = time.perf_counter()
    with bench.servers():
        for name in ("api", "projector", "scheduler"):
            bench.start(name)
        bench.wait_api()
        bench.accounts()
        bench.load()
        bench.big()
        time.sleep(2)  # the projector's and trigger's last batches
        bench.lead_page()
        bench.search()
        bench.mixed()
    f = bench.figures
    print(f"\n{args.leads:,} leads over {args.agents} agents of one brokerage; everything on "
          f"this machine ({os.cpu_count()} cores); {time.perf_counter() - started:.0f} s in all")
    f.print()
    p99 = {name: pct(ours, 99) for name, ours, _ in f.ratios}
    print("\naims: " + "; ".join(
        f"{name} p99 {ms(p99[name])} (aim < {ms(aim)}: {'met' if p99[name] < aim else 'NOT met'})"
        for name, aim in ((n.format(rate=f"{args.rates[0]:g}"), a) for n, a in AIMS)))
    if bench.errors:
        raise SystemExit(f"non-2xx answers in the mixed traffic: {bench.errors}")


if __name__ == "__main__":
    main()
