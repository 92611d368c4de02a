"""Wakes followers when PostgreSQL announces new events (the event store NOTIFYs on every write)."""

from __future__ import annotations

import logging
import threading

import psycopg

from application.follower import LocalWaiter

log = logging.getLogger(__name__)


class PgNotifyListener:
    """One LISTEN connection per process; each notification wakes every registered waiter."""

    def __init__(self, conninfo: str, channel: str) -> None:
        self.conninfo = conninfo
        self.channel = channel
        self.waiters: list[LocalWaiter] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="pg-listen", daemon=True)

    def waiter(self) -> LocalWaiter:
        waiter = LocalWaiter()
        self.waiters.append(waiter)
        return waiter

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        if self.thread.is_alive():
            self.thread.join(timeout=2.0)  # it checks for a stop at least twice a second

    def _wake_all(self) -> None:
        for waiter in self.waiters:
            waiter.wake()

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                with psycopg.connect(self.conninfo, autocommit=True) as conn:
                    conn.execute(f'LISTEN "{self.channel}"')
                    self._wake_all()  # anything written while we were not listening
                    while not self.stopping.is_set():
                        for _ in conn.notifies(timeout=0.5, stop_after=1):
                            self._wake_all()
            except psycopg.Error:
                if self.stopping.is_set():
                    return  # the connection went with the process's stop: nothing was lost
                log.warning("LISTEN connection lost; followers poll until it is back")
                self.stopping.wait(1.0)
