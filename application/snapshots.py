"""Snapshots of the long streams: a cache of the log, never its truth.

A lead's stream grows with every score change and the catalogue's with every publish, so
`Core` keeps, for those two kinds only, a snapshot every ``interval`` events (taken from the
aggregate in hand when a save reaches a multiple of the interval, or when a load had to replay
that many events since the last one): a load then reads the latest snapshot and only the events
after it. Other streams (executions, messages) are short and are read as they are.

A snapshot is the aggregate's attributes as the code of the day built them, so it is used only
by the same code: it is filed under an id derived from its stream's id and a fingerprint of the
code (the source of the aggregate's module and of the domain modules that module uses, and the
event library's version), and code that differs looks under another id. After a change to any
of those modules the next load of each long stream replays the log and files a new snapshot, so
a new attribute or a changed event handler never meets a snapshot that lacks it, and nobody has
to write an upcast for a snapshot. The table holds nothing the log does not: it is never
exported (it is not in the notification log), older code's snapshots are only dead rows, and it
can be emptied or dropped at any time (it is made again at start, and filled as streams are
read).
"""

from __future__ import annotations

import ast
import hashlib
import logging
import sys
from collections.abc import Iterable, Mapping
from dataclasses import replace
from functools import cache
from importlib.metadata import version
from pathlib import Path
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import EventStore, PersistenceError
from eventsourcing.utils import get_topic

from domain.lead import Lead
from domain.workflow import PublishedWorkflows

SNAPSHOTTED: tuple[type[Aggregate], ...] = (Lead, PublishedWorkflows)
DEFAULT_INTERVAL = 100
# The library registers a snapshot class's topic only when it first stores one: register them
# now, or a process that reads snapshots before it takes one (any process after a restart)
# cannot decode them.
for _kind in SNAPSHOTTED:
    get_topic(_kind.Snapshot)

log = logging.getLogger(__name__)


def _modules_used(name: str, root: str, found: dict[str, bytes]) -> None:
    """``name``'s source and that of every module of package ``root`` it imports, deeply."""
    source = Path(str(sys.modules[name].__file__)).read_bytes()
    found[name] = source
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):  # compiled only: its bytes still tell one build apart
        return
    for node in ast.walk(tree):
        imported = ([a.name for a in node.names] if isinstance(node, ast.Import)
                    else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
        for used in imported:
            if used.split(".")[0] == root and used not in found and used in sys.modules:
                _modules_used(used, root, found)


@cache
def code_fingerprint(kind: type[Any]) -> str:
    """What a snapshot of ``kind`` was built by: its module and the modules of the same package
    it imports (their source), and the event library's version."""
    sources: dict[str, bytes] = {}
    _modules_used(kind.__module__, kind.__module__.split(".")[0], sources)
    digest = hashlib.sha256(version("eventsourcing").encode())
    for name in sorted(sources):
        digest.update(name.encode() + b"\0" + sources[name])
    return digest.hexdigest()[:32]


class Snapshots:
    """Takes and reads the snapshots of the snapshotted kinds."""

    def __init__(self, store: EventStore[UUID], interval: int) -> None:
        self.store = store
        self.interval = interval

    @staticmethod
    def key(kind: type[Aggregate], ident: UUID) -> UUID:
        """Where the snapshots of stream ``ident`` taken by today's code are filed."""
        return uuid5(ident, code_fingerprint(kind))

    def latest(self, kind: type[Aggregate], ident: UUID) -> Any:
        """The newest snapshot today's code took of the stream, or None."""
        try:
            found: list[Any] = list(self.store.get(self.key(kind, ident), desc=True, limit=1))
        except PersistenceError as e:  # a cache: without it, the log is read in full
            log.warning("snapshots of %s not read: %s", ident, type(e).__name__)
            return None
        return replace(found[0], originator_id=ident) if found else None

    def loaded(self, aggregate: Any, replayed: int) -> None:
        """After a load that replayed ``replayed`` events: snapshot it if that was a long run
        (a stream from before snapshots, or whose snapshots older code took)."""
        if replayed >= self.interval and isinstance(aggregate, SNAPSHOTTED):
            self.take(aggregate)

    def saved(self, events: Iterable[Any], aggregates: Mapping[UUID, Any]) -> None:
        """After a save: snapshot each aggregate one of whose new events is at a multiple of the
        interval, as it is in hand (no reading again)."""
        taken: set[UUID] = set()
        for domain_event in events:
            ident = domain_event.originator_id
            if domain_event.originator_version % self.interval or ident in taken:
                continue
            aggregate = aggregates.get(ident)
            if isinstance(aggregate, SNAPSHOTTED):
                self.take(aggregate)
                taken.add(ident)

    def take(self, aggregate: Aggregate) -> None:
        kind: type[Aggregate] = type(aggregate)
        snapshot = replace(kind.Snapshot.take(aggregate),
                           originator_id=self.key(kind, aggregate.id))
        try:
            self.store.put([snapshot])
        except PersistenceError as e:  # a cache: the command it follows has been recorded
            log.info("snapshot of %s at version %s not kept: %s", aggregate.id,
                     aggregate.version, type(e).__name__)
