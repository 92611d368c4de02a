"""Schemathesis over the OpenAPI document, in-process on SQLite: for every operation, generated
requests (valid and not), mostly at resources that exist, never answer 5xx nor a status the
document does not list, every answer matches its documented schema and content type, and every
follower moves past whatever was accepted."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from adapters.settings import Settings
from api.main import create_app
from tests.conftest import FakeClock
from tests.integration.helpers import Harness
from tests.integration.seeded import seed

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]

#: The app is built without a runtime (it reads one per request, and its document needs none);
#: the module's tests share one.
APP = create_app(runtime=None)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Harness, dict[str, str]]]:
    h = Harness(Settings(data_dir=tmp_path_factory.mktemp("schemathesis")), FakeClock())
    APP.state.runtime = h.rt
    yield h, seed(h)
    h.rt.stop()


def aim(case: Any, ids: dict[str, str]) -> None:
    """Point most generated ids at the resources that exist (a quarter stay as generated, so
    unknown ids are tried too)."""
    for name, value in (case.path_parameters or {}).items():
        if name in ids and str(value)[:1] not in "0123":
            case.path_parameters[name] = ids[name]


@schema.parametrize()
@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_the_api_keeps_its_document(case: Any, world: tuple[Harness, dict[str, str]]) -> None:
    h, ids = world
    aim(case, ids)
    case.call_and_validate(checks=CHECKS)
    h.settle()
