"""Lost database connections: recognise them, and run the unit of work again on a fresh one.

A PostgreSQL backend can be terminated under a running query (failover, restart,
`pg_terminate_backend`), and a SQLite file can be locked or unreadable for a while. Reads the
provider serves from run once more (`retried_read`); if that fails too, the database is really
unavailable and the caller gets `StoreUnavailable` (the provider answers 503 with
Retry-After). The harvester's units of work are retried with more patience (`retrying`): a
failover takes seconds. Any other error is not a lost connection and goes up unchanged.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from sqlalchemy import Engine
from sqlalchemy import exc as sa_exc

from oai.store.errors import StoreUnavailable

T = TypeVar("T")


def lost_connection(error: BaseException, engine: Engine) -> bool:
    """Whether `error` says the database could not be reached or dropped the connection
    (rather than refusing a statement): SQLAlchemy's wrapped errors, and the raw driver
    errors of the compiled-statement path."""
    if isinstance(error, sa_exc.TimeoutError):  # no pooled connection came free in time
        return True
    if isinstance(error, sa_exc.DBAPIError):
        if error.connection_invalidated:
            return True
        if error.orig is None:
            return isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError)
        error = error.orig
    dbapi = engine.dialect.loaded_dbapi
    return (isinstance(error, dbapi.OperationalError | dbapi.InterfaceError)
            # "file is not a database", "disk image is malformed": unreadable, not a bug
            or type(error) is dbapi.DatabaseError)


def describe(error: BaseException) -> str:
    """`ClassName: first line of the message`, for one-line reports (no SQL, no parameters)."""
    orig: Any = getattr(error, "orig", None) or error
    lines = str(orig).strip().splitlines()
    name = orig.__class__.__name__
    return f"{name}: {lines[0]}" if lines else name


def retrying(engine: Engine, work: Callable[[], T], attempts: int = 2,
             pause: float = 0.0) -> T:
    """Run `work` (its own transaction), again on a fresh pool after a lost connection, up to
    `attempts` times in all with growing pauses; StoreUnavailable when every one failed."""
    for attempt in range(attempts):
        try:
            return work()
        except Exception as error:
            if not lost_connection(error, engine):
                raise
            if attempt + 1 == attempts:
                raise StoreUnavailable(f"the database is unavailable: {describe(error)}") \
                    from error
            engine.dispose()  # every pooled connection may be dead: start afresh
            if pause:
                time.sleep(pause * (attempt + 1))
    raise AssertionError("unreachable")


class _HasEngine(Protocol):
    engine: Engine


S = TypeVar("S", bound=_HasEngine)
P = ParamSpec("P")
R = TypeVar("R")


def retried_read(method: Callable[Concatenate[S, P], R]) -> Callable[Concatenate[S, P], R]:
    """Run a read again, once, if it lost its connection; StoreUnavailable if the retry
    fails the same way. Only for reads: running them twice is harmless."""

    @functools.wraps(method)
    def wrapper(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return retrying(self.engine, lambda: method(self, *args, **kwargs))

    return wrapper


__all__ = ["describe", "lost_connection", "retried_read", "retrying"]
