"""What a snapshot's fingerprint covers (application/snapshots.py): the code that built it."""

from __future__ import annotations

import sys
from pathlib import Path
from uuid import uuid4

from application.snapshots import Snapshots, _modules_used, code_fingerprint
from domain.execution import WorkflowExecution
from domain.lead import Lead
from domain.workflow import PublishedWorkflows


def test_a_fingerprint_covers_the_aggregate_module_and_the_domain_modules_it_uses() -> None:
    found: dict[str, bytes] = {}
    _modules_used(Lead.__module__, "domain", found)
    # domain.lead imports the actors' upcast, the channels, the domain errors, the ids and the
    # score bounds (and nothing else of ours); the event library is covered by its version
    assert sorted(found) == ["domain.actors", "domain.channels", "domain.errors", "domain.ids",
                             "domain.lead", "domain.scoring"]
    assert found["domain.lead"] == Path(sys.modules["domain.lead"].__file__ or "").read_bytes()


def test_each_kind_files_its_snapshots_apart_and_the_same_code_finds_them_again() -> None:
    ident = uuid4()
    keys = {kind: Snapshots.key(kind, ident) for kind in (Lead, PublishedWorkflows)}
    assert len(set(keys.values())) == 2 and ident not in keys.values()
    assert Snapshots.key(Lead, ident) == keys[Lead]
    assert code_fingerprint(Lead) != code_fingerprint(WorkflowExecution)
