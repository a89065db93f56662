"""The store's errors, and what a lost database connection turns into.

A PostgreSQL backend can be terminated under a running query (failover, restart,
`pg_terminate_backend`), and an SQLite file can be locked or unreadable for a while. A read
that fails that way is run once more, on a fresh connection; if that fails too, the database
is really unavailable and the caller gets `StoreUnavailable` (the provider answers 503 with
Retry-After). Any other error is a bug and goes up unchanged. Callers above the store never
see a driver or SQLAlchemy exception for an unreachable database.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from sqlalchemy import Engine
from sqlalchemy import exc as sa_exc


class StoreError(RuntimeError):
    """The store cannot be used as asked (not initialised, unreachable...)."""


class StoreUnavailable(StoreError):
    """The database did not answer a read, even on a fresh connection: try again later."""


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
        try:
            return method(self, *args, **kwargs)
        except Exception as error:
            if not lost_connection(error, self.engine):
                raise
        try:
            return method(self, *args, **kwargs)
        except Exception as error:
            if not lost_connection(error, self.engine):
                raise
            raise StoreUnavailable(f"the database is unavailable: {describe(error)}") from error

    return wrapper


def describe(error: BaseException) -> str:
    """`ClassName: first line of the message`, for one-line reports."""
    orig: Any = getattr(error, "orig", None) or error
    lines = str(orig).strip().splitlines()
    name = orig.__class__.__name__
    return f"{name}: {lines[0]}" if lines else name


__all__ = ["StoreError", "StoreUnavailable", "describe", "lost_connection", "retried_read"]
