"""Static files and the API docs page, all served by this app: no request leaves it.

``/assets/app/`` is our own ``api/static/``; ``/assets/vendor/<name>/`` a package folder that
``npm ci`` installed under ``node_modules/`` (only the folders the pages use). Without
``node_modules`` the app still runs; ``/docs`` then says that ``npm ci`` was not run."""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from api.security import policy

log = logging.getLogger(__name__)

OWN = Path(__file__).parent / "static"
#: URL name → folder under node_modules.
VENDOR = {"swagger-ui": "swagger-ui-dist", "htmx": "htmx.org/dist", "sortable": "sortablejs"}
SWAGGER = "/assets/vendor/swagger-ui"


def mount(app: FastAPI, node_modules: Path | None) -> None:
    app.mount("/assets/app", StaticFiles(directory=OWN), name="assets-app")
    missing = []
    for name, folder in VENDOR.items():
        if node_modules is not None and (node_modules / folder).is_dir():
            app.mount(f"/assets/vendor/{name}", StaticFiles(directory=node_modules / folder),
                      name=f"assets-{name}")
        else:
            missing.append(folder)
    if missing and node_modules is not None:
        log.warning("front-end packages missing under %s (%s): run `npm ci`; /docs says so",
                    node_modules, ", ".join(missing))
    ready = node_modules is not None and (node_modules / VENDOR["swagger-ui"]).is_dir()
    app.add_api_route("/docs", docs_page(app) if ready else no_docs_page,
                      include_in_schema=False)


def docs_page(app: FastAPI) -> Callable[[], HTMLResponse]:
    """Swagger UI from our own files; its one inline script (the set-up) is allowed by its hash
    in this page's CSP, and only here."""
    page = get_swagger_ui_html(
        openapi_url=app.openapi_url or "/openapi.json", title=f"{app.title} API",
        swagger_js_url=f"{SWAGGER}/swagger-ui-bundle.js",
        swagger_css_url=f"{SWAGGER}/swagger-ui.css",
        swagger_favicon_url=f"{SWAGGER}/favicon-32x32.png",
        swagger_ui_parameters={"validatorUrl": None})  # no badge from validator.swagger.io
    body = bytes(page.body).replace(b"<html>", b'<html lang="en">', 1)
    csp = policy(*(script_hash(s) for s in inline_scripts(body.decode())))

    def docs() -> HTMLResponse:
        return HTMLResponse(body, headers={"Content-Security-Policy": csp})

    return docs


def inline_scripts(html: str) -> list[str]:
    return re.findall(r"<script>(.*?)</script>", html, flags=re.DOTALL)


def script_hash(script: str) -> str:
    digest = hashlib.sha256(script.encode()).digest()
    return "sha256-" + base64.b64encode(digest).decode()


def no_docs_page() -> HTMLResponse:
    return HTMLResponse(
        "<!DOCTYPE html><html lang=en><head><title>API docs unavailable</title></head><body>"
        "<h1>The API docs need the front-end packages</h1>"
        "<p><code>npm ci</code> was not run: run it in the project's folder (it installs "
        "Swagger UI into <code>node_modules/</code>), then restart the app. The OpenAPI "
        "document itself is at <a href=/openapi.json>/openapi.json</a>.</p></body></html>",
        status_code=503)
