"""Transient database failures: recognise them, and retry a unit of work on a fresh connection.

A PostgreSQL backend can vanish under a live connection (failover, restart,
`pg_terminate_backend`); SQLite can stay locked past its busy timeout. Both are worth one more
try on a new connection; anything else (a constraint, a read-only file, a bug) is not.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from oai.store.errors import StoreUnavailable

T = TypeVar("T")

_SQLITE_TRANSIENT = ("database is locked", "database is busy", "database table is locked")


def is_transient(exc: BaseException) -> bool:
    """A lost connection, or a SQLite lock that outlasted the busy timeout."""
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    if not isinstance(exc, OperationalError):
        return False
    module = type(exc.orig).__module__ if exc.orig is not None else ""
    if module.startswith("sqlite3"):
        return str(exc.orig).startswith(_SQLITE_TRANSIENT)
    return True  # psycopg's OperationalError: the server or the connection went away


def first_line(exc: BaseException) -> str:
    """A driver error in one line (no SQL, no parameters)."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()
    return f"{type(orig).__name__}: {text[0] if text else ''}".rstrip(": ")


def retrying(engine: Engine, work: Callable[[], T], attempts: int = 3,
             pause: float = 0.2) -> T:
    """Run `work` (its own transaction), again on a fresh pool after a transient failure;
    StoreUnavailable in one line when every attempt failed."""
    for attempt in range(attempts):
        try:
            return work()
        except DBAPIError as exc:
            if not is_transient(exc):
                raise
            if attempt + 1 == attempts:
                raise StoreUnavailable(f"the database is unavailable: {first_line(exc)}") \
                    from exc
            engine.dispose()  # every pooled connection may be dead: start afresh
            time.sleep(pause * (attempt + 1))
    raise AssertionError("unreachable")
