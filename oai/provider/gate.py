"""The maintenance switch as each provider process sees it: read from the store at most once a
second (per process), so that checking it costs nothing per request."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from oai.store.maintenance import Maintenance, maintenance_state
from oai.store.repository import Store

#: Seconds a process keeps what it read: how long turning the switch takes to be seen.
TTL = 1.0


class MaintenanceGate:
    def __init__(self, store: Store, clock: Callable[[], float] = time.monotonic) -> None:
        self._store = store
        self._clock = clock
        self._lock = threading.Lock()
        self._state: Maintenance | None = None
        self._until = float("-inf")

    def state(self) -> Maintenance | None:
        """The switch if on, else None; StoreUnavailable if the store cannot say (the
        request then gets the database's own 503)."""
        now = self._clock()
        if now < self._until:
            return self._state
        with self._lock:
            if now >= self._until:  # one thread reads; the others wait for its answer
                self._state = maintenance_state(self._store)
                self._until = self._clock() + TTL
            return self._state
