"""Test modules that keep no state between runs: each passes when run twice in one process (a
schedule or a log built at import is used up by the first run, and the second then fails)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: Modules whose tests build stores that a run changes (indexes, logs, consumers).
MODULES = ("tests/unit/test_due_feeder.py", "tests/unit/test_follower.py")


@pytest.mark.parametrize("module", MODULES)
def test_a_module_passes_when_run_twice_in_one_process(module: str) -> None:
    # --keep-duplicates: pytest otherwise collects a path given twice only once
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--keep-duplicates",
         module, module], cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-3000:]
