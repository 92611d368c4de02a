"""Static files and the API docs come from this app alone: the docs page names only our own
assets, each of them is served, and without ``npm ci`` the app still runs and the docs page says
what to do."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from api.assets import inline_scripts, script_hash
from api.main import create_app


def test_the_docs_page_loads_nothing_but_our_own_files(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200 and "swagger-ui" in page.text
    urls = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert urls and all(u.startswith("/assets/vendor/swagger-ui/") for u in urls), urls
    for url in urls:
        assert client.get(url).status_code == 200, url
    assert "//" not in "".join(inline_scripts(page.text)), "the set-up names no other origin"


def test_the_front_end_packages_and_our_own_files_are_served(client: TestClient) -> None:
    for url, kind in (("/assets/vendor/htmx/htmx.min.js", "javascript"),
                      ("/assets/vendor/sortable/Sortable.min.js", "javascript"),
                      ("/assets/app/app.js", "javascript"), ("/assets/app/app.css", "css")):
        response = client.get(url)
        assert response.status_code == 200 and kind in response.headers["content-type"], url


def test_only_the_folders_the_pages_use_are_served(client: TestClient) -> None:
    for url in ("/assets/vendor/axe-core/axe.min.js", "/assets/vendor/htmx/package.json",
                "/assets/vendor/swagger-ui/../axe-core/axe.min.js"):
        assert client.get(url).status_code == 404, url


def test_the_docs_page_allows_its_one_inline_script_by_hash_only(client: TestClient) -> None:
    page = client.get("/docs")
    csp = page.headers["Content-Security-Policy"]
    [script] = inline_scripts(page.text)
    scripts = re.search(r"script-src ([^;]+)", csp)
    assert scripts and scripts.group(1) == f"'self' '{script_hash(script)}'"
    assert "unsafe" not in csp


def test_without_npm_ci_the_app_runs_and_the_docs_say_so(runtime: Any, tmp_path: Path) -> None:
    # Given no node_modules where the settings point
    client = TestClient(create_app(runtime, node_modules=tmp_path / "node_modules"))
    # Then the API answers, and the docs page says what was not run
    assert client.get("/health").status_code == 200
    docs = client.get("/docs")
    assert docs.status_code == 503 and "npm ci" in docs.text
    assert client.get("/assets/vendor/htmx/htmx.min.js").json()["error"]["code"] == "not_found"
    assert client.get("/assets/app/app.css").status_code == 200, "our own files do not need npm"
