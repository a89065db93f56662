"""What every part of the harvest store shares: the engine, and units of work that are retried
on a fresh connection when the database connection is lost."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from oai.store.errors import StoreError
from oai.store.repository import Store
from oai.store.resilience import describe, lost_connection, retrying

T = TypeVar("T")

ATTEMPTS = 6  # pauses of 0.25, 0.5, ... 1.25 s: about 4 s of patience in all
PAUSE = 0.25


class HarvestBase:
    """Harvest state over the same engine as the provider's store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.engine = store.engine

    def now(self) -> int:
        return self._read(self.store.clock_in)

    def _write(self, work: Callable[[Connection], T]) -> T:
        """`work` in one write transaction, retried whole after a lost connection (with
        patience: a failover takes seconds); any other database error is a one-line
        StoreError, never a driver message with its SQL."""
        def attempt() -> T:
            with self.store.write_connection() as conn, conn.begin():
                return work(conn)
        return self._retrying(attempt)

    def _write_raw(self, work: Callable[[Any], T]) -> T:
        """`work` on a driver cursor in one write transaction (SQLite: BEGIN IMMEDIATE), with
        the same retries and one-line errors as `_write`, for the hot path of page commits."""
        dbapi = self.engine.dialect.loaded_dbapi
        sqlite = self.engine.dialect.name == "sqlite"

        def attempt() -> T:
            raw = self.engine.raw_connection()
            try:
                cursor = raw.cursor()
                if sqlite:
                    cursor.execute("BEGIN IMMEDIATE")
                result = work(cursor)
                raw.commit()
                return result
            except BaseException as error:
                with contextlib.suppress(Exception):
                    raw.rollback()
                if lost_connection(error, self.engine):
                    raw.invalidate()  # never hand a dead connection back to the pool
                raise
            finally:
                raw.close()

        try:
            return self._retrying(attempt)
        except dbapi.Error as exc:  # raised by the driver itself, not wrapped
            raise StoreError(describe(exc)) from exc

    def _read(self, work: Callable[[Connection], T]) -> T:
        def attempt() -> T:
            with self.engine.connect() as conn:
                return work(conn)
        return self._retrying(attempt)

    def _retrying(self, attempt: Callable[[], T]) -> T:
        try:
            return retrying(self.engine, attempt, attempts=ATTEMPTS, pause=PAUSE)
        except DBAPIError as exc:  # not a lost connection (those end as StoreUnavailable)
            raise StoreError(describe(exc)) from exc
