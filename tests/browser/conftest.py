"""The real app on a free port with data of its own, and Debian's chromium driven by
Playwright, for the whole session; each test gets a fresh page in a fresh context, with every
request that would leave the app blocked and recorded."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, ConsoleMessage, Page, Route, sync_playwright

from tests.browser.harness import ARTEFACTS, CHROMIUM
from tests.conftest import free_port


@dataclass
class LiveApp:
    url: str
    runtime: Any


@dataclass
class Outside:
    """What a page tried to fetch from elsewhere (blocked), and what its console reported as
    an error (a CSP refusal among them)."""

    blocked: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest.fixture(scope="session")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    """``followup run`` in this process: the API under uvicorn in a thread, and the projector,
    scheduler and worker, on SQLite and the embedded index, in a data folder of its own."""
    from adapters.bootstrap import Runtime
    from adapters.settings import Settings
    from api.main import create_app

    settings = Settings(data_dir=tmp_path_factory.mktemp("browser-app"), api_port=free_port())
    runtime = Runtime(settings)
    for start in (runtime.start_projector, runtime.start_scheduler, runtime.start_worker):
        start()
    app = create_app(runtime, node_modules=settings.assets_dir)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=settings.api_port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, name="browser-app", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{settings.api_port}"
    try:
        _wait_healthy(url, thread)
        yield LiveApp(url, runtime)
    finally:
        server.should_exit = True
        thread.join(10)
        runtime.stop()


def _wait_healthy(url: str, thread: threading.Thread, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and thread.is_alive():
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"the app at {url} did not answer /health with 200")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        pytest.fail(f"the browser tests need Debian's chromium at {CHROMIUM}: "
                    "apt-get install -y chromium (.ci/run installs it)", pytrace=False)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=["--no-sandbox", "--disable-gpu"])
        yield browser
        browser.close()


@pytest.fixture
def outside() -> Outside:
    return Outside()


@pytest.fixture
def page(browser: Browser, live_app: LiveApp, outside: Outside) -> Iterator[Page]:
    """A page at desktop size whose relative URLs go to the app; a request for any other host
    is aborted and listed in ``outside.blocked``."""
    context = browser.new_context(base_url=live_app.url, viewport={"width": 1280, "height": 800})
    app_host = urlsplit(live_app.url).netloc

    def only_the_app(route: Route) -> None:
        if urlsplit(route.request.url).netloc == app_host:
            route.continue_()
        else:
            outside.blocked.append(route.request.url)
            route.abort()

    context.route("**/*", only_the_app)
    page = context.new_page()
    page.on("console", lambda m: _console_error(m, outside))
    page.on("pageerror", lambda e: outside.errors.append(f"uncaught: {e}"))
    yield page
    context.close()


def _console_error(message: ConsoleMessage, outside: Outside) -> None:
    if message.type == "error":
        outside.errors.append(message.text)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if ARTEFACTS.is_dir():
        terminalreporter.write_sep("-", "browser screenshots")
        terminalreporter.write_line(str(ARTEFACTS))
