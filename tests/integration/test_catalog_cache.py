"""Each process keeps the catalogue and reads only what was published since."""

from __future__ import annotations

from adapters.bootstrap import Runtime
from tests.integration.helpers import Harness, three_step_workflow


def test_the_kept_catalogue_follows_every_process_and_never_changes_under_a_reader(
        h: Harness) -> None:
    app = h.rt.app
    first = three_step_workflow(app)
    seen = app.catalog()
    assert [w for w, _ in seen.live_at(h.clock.now())] == [first]
    assert app.catalog() is seen  # nothing new: the same one, no copy
    # When another process publishes a workflow and pauses the first
    other = Runtime(h.settings, clock=h.clock)
    try:
        second = three_step_workflow(other.app)
        other.app.hold_workflow(first, True, "reworking the copy")
    finally:
        other.stop()
    # Then this process reads what is new, into a new catalogue
    now = app.catalog()
    assert now is not seen and now.version > seen.version
    assert [w for w, _ in now.live_at(h.clock.now())] == [second]
    assert now.is_held(first)
    # And a reader still holding the old one sees it as it was
    assert [w for w, _ in seen.live_at(h.clock.now())] == [first] and not seen.is_held(first)
    # And it is what a full read of the log rebuilds
    assert app.catalog_to_change().__dict__ == now.__dict__
