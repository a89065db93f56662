"""Engine creation: one code path for SQLite (default, WAL) and PostgreSQL, writable or
read-only.

SQLite write transactions start with BEGIN IMMEDIATE so that the datestamp is read while the
write lock is held: no other writer can commit between the clock read and our commit.

A read-only engine never writes anything: a SQLite file is opened through a `mode=ro` URI and
its journal mode is left alone (setting WAL is a write); in a read-only directory, where SQLite
could not create the WAL's shared-memory file, it is opened `immutable=1`, which is safe there
because nobody can write the file without creating its journal next to it. A PostgreSQL session
gets read-only transactions. Driver errors on write connections, and any write the database
refuses because it is read-only, surface as one-line StoreErrors.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, ExceptionContext, make_url
from sqlalchemy.pool import NullPool

from oai.store.errors import ReadOnlyStore, StoreError
from oai.store.resilience import describe

WRITE_OPTION = "oai_write"

_SQLITE_READONLY = 8  # primary result code; extended codes keep it in their low byte
_PG_READ_ONLY = "25006"  # read_only_sql_transaction
_PG_NO_PRIVILEGE = "42501"  # insufficient_privilege: a role that may only read


@dataclass(frozen=True)
class Target:
    """Where a store URL points, as far as opening it is concerned."""

    url: URL
    sqlite_file: Path | None  # None: PostgreSQL, an in-memory or a caller-managed URI database
    read_only_url: bool  # `?mode=ro` in a SQLite URL


def parse_target(url: str) -> Target:
    """The URL without our own `mode=ro` query parameter, and the SQLite file it names."""
    try:
        parsed = make_url(url)
    except Exception as exc:  # SQLAlchemy's ArgumentError, or a ValueError from the port
        raise StoreError(f"invalid database URL {url!r}: {exc}") from None
    if parsed.get_backend_name() != "sqlite":
        return Target(parsed, None, False)
    read_only = parsed.query.get("mode") == "ro"
    if read_only:
        parsed = parsed.difference_update_query(["mode"])
    managed = str(parsed.query.get("uri", "")).lower() in ("1", "true")
    database = parsed.database or ""
    if managed or database in ("", ":memory:"):
        return Target(parsed, None, read_only)
    return Target(parsed, Path(database), read_only)


def unwritable_reason(path: Path) -> str | None:
    """Why this process cannot, or must not, write the SQLite file `path`; None if it may.

    A file or directory without any write permission bit counts as read-only even for root,
    who could write it anyway: `chmod a-w` is how an administrator says "do not write here"."""
    for target, what in ((path, "the file"), (path.parent, "its directory")):
        try:
            mode = target.stat().st_mode
        except OSError as exc:
            return f"{what} cannot be read: {exc.strerror or exc}"
        wanted = os.W_OK | (os.X_OK if target is not path else 0)
        if not mode & 0o222 or not os.access(target, wanted):
            return f"{what} is not writable"
    return None


def _read_only_sqlite_url(path: Path) -> URL:
    """A `mode=ro` URI for `path`; `immutable=1` where SQLite could not read it otherwise."""
    query = {"mode": "ro", "uri": "true"}
    directory = path.parent
    directory_writable = bool(directory.stat().st_mode & 0o222) and os.access(
        directory, os.W_OK | os.X_OK)
    if not directory_writable:
        wal, shm = Path(f"{path}-wal"), Path(f"{path}-shm")
        if wal.exists() and not shm.exists() and wal.stat().st_size > 0:
            raise StoreError(f"the store {path} has a write-ahead log but no shared-memory "
                             "file, and its directory is read-only: it cannot be read safely "
                             "there (open it once where it is writable)")
        if not wal.exists():
            query["immutable"] = "1"
    return URL.create("sqlite", database="file:" + quote(str(path.resolve())), query=query)


def open_engine(url: str | Target, read_only: bool = False, serving: bool = False,
                **kwargs: Any) -> Engine:
    """An engine for `url`; SQLite files get WAL (unless read-only), a busy timeout and
    foreign keys. A writable SQLite file's directory is created if missing.

    `serving`: the provider's engine, which only reads, one statement at a time. On
    PostgreSQL each statement then runs in autocommit (no BEGIN and ROLLBACK round trips
    around it) and a pooled connection is not pinged at checkout: every read the provider
    makes is run again on a fresh connection if its own was lost (`retried_read`). A
    resumed page then costs one or two round trips instead of eight (one where the format
    has no published record, `oai.store.published_reads`)."""
    target = url if isinstance(url, Target) else parse_target(url)
    read_only = read_only or target.read_only_url
    parsed = target.url
    if target.sqlite_file is None and parsed.get_backend_name() != "sqlite":
        if serving:
            kwargs.setdefault("isolation_level", "AUTOCOMMIT")
        kwargs.setdefault("pool_pre_ping", not serving)
        engine = create_engine(parsed, **kwargs)
        if read_only:
            event.listen(engine, "connect", _postgres_read_only)
        event.listen(engine, "handle_error", _translate_error)
        return engine

    if target.sqlite_file is None:
        if not parsed.database or parsed.database == ":memory:":
            kwargs.setdefault("poolclass", NullPool)
    elif read_only:
        parsed = _read_only_sqlite_url(target.sqlite_file)
    else:
        target.sqlite_file.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed, **kwargs)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        if not read_only:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        # checkpoint every ~4 MB of log (SQLite's default, said here because it was once
        # 40 MB): the checkpoint runs in the committing thread, and a harvest's page writer
        # stalls 90 ms on a 40 MB one (its prefetch runs dry) but a few ms on a 4 MB one;
        # `oai load` measured the same with both
        cursor.execute("PRAGMA wal_autocheckpoint=1000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get(WRITE_OPTION)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    event.listen(engine, "handle_error", _translate_error)
    return engine


def _postgres_read_only(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
    cursor.close()
    dbapi_connection.commit()


def refused_as_read_only(exc: BaseException, writing: bool = False) -> bool:
    """True if the driver error says the database refused a write because it is read-only
    (or, on a write connection, because the role may not write)."""
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF == _SQLITE_READONLY
    state = getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None)
    return state == _PG_READ_ONLY or (writing and state == _PG_NO_PRIVILEGE)


def _translate_error(context: ExceptionContext) -> BaseException | None:
    """A refused write becomes ReadOnlyStore, any other driver error on a write connection a
    StoreError: one line each, the driver's exception kept as the cause."""
    if context.is_pre_ping or context.is_disconnect:
        return None
    original = context.original_exception
    connection = context.connection
    writing = bool(connection is not None
                   and connection.get_execution_options().get(WRITE_OPTION))
    if refused_as_read_only(original, writing):
        return ReadOnlyStore(f"the store is read-only: {describe(original)}")
    if writing:
        return StoreError(f"cannot write to the store: {describe(original)}")
    return None
