"""What every part of the harvest store shares: the engine, and units of work that are retried
on a fresh connection when the database connection is lost."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Connection

from oai.store.repository import Store
from oai.store.resilience import retrying

T = TypeVar("T")


class HarvestBase:
    """Harvest state over the same engine as the provider's store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.engine = store.engine

    def now(self) -> int:
        return self._read(self.store.clock_in)

    def _write(self, work: Callable[[Connection], T]) -> T:
        """`work` in one write transaction, retried whole after a lost connection."""
        def attempt() -> T:
            with self.store.write_connection() as conn, conn.begin():
                return work(conn)
        return retrying(self.engine, attempt)

    def _read(self, work: Callable[[Connection], T]) -> T:
        def attempt() -> T:
            with self.engine.connect() as conn:
                return work(conn)
        return retrying(self.engine, attempt)
