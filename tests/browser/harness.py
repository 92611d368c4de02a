"""Helpers for browser tests: screenshots at two widths, kept as artefacts, and axe-core's
accessibility check."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
#: Where screenshots go: FOLLOWUP_ARTEFACTS, else a folder of this run's own.
ARTEFACTS = Path(os.environ.get("FOLLOWUP_ARTEFACTS")
                 or ROOT / ".artefacts" / "browser" / time.strftime("%Y%m%d-%H%M%S"))
WIDTHS = {"desktop": (1280, 800), "phone": (390, 844)}
#: axe-core impacts that fail a test.
FAILING = ("serious", "critical")


def shoot(page: Page, name: str) -> list[Path]:
    """Full-page screenshots of ``page`` at desktop and phone width (``<name>-desktop.png``,
    ``<name>-phone.png``); the page keeps the size it had."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    before = page.viewport_size
    shots = []
    for label, (width, height) in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        settle(page)
        shots.append(ARTEFACTS / f"{name}-{label}.png")
        page.screenshot(path=shots[-1], full_page=True)
    if before:
        page.set_viewport_size(before)
    return shots


def settle(page: Page) -> None:
    """Two animation frames: layout after a resize has been done and painted."""
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def axe(page: Page, **options: Any) -> list[dict[str, Any]]:
    """Runs axe-core (from node_modules) on the page; fails naming every serious or critical
    violation (rule, impact, the elements). Returns the lesser ones."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        inject_axe(page)
    results = page.evaluate("options => axe.run(document, options)",
                            {"resultTypes": ["violations"], **options})
    failing = [v for v in results["violations"] if v["impact"] in FAILING]
    if failing:
        pytest.fail(f"axe-core on {page.url}:\n" + "\n".join(map(_described, failing)),
                    pytrace=False)
    return list(results["violations"])


def inject_axe(page: Page) -> None:
    """``add_script_tag`` adds an inline script, which the app's CSP refuses (as it should):
    the script is evaluated through the browser's debugging protocol instead, which a page's
    CSP does not govern."""
    if not AXE.is_file():
        pytest.fail(f"axe-core is missing at {AXE}: run `npm ci` in {ROOT}", pytrace=False)
    page.evaluate(AXE.read_text())


def _described(violation: dict[str, Any]) -> str:
    targets = ", ".join(" ".join(map(str, node["target"])) for node in violation["nodes"])
    return f"- {violation['id']} ({violation['impact']}): {violation['help']}; at {targets}"
