"""Many rows in one statement handed straight to the driver, for the store's hot write paths.

SQLAlchemy's per-row parameter processing costs about as much as SQLite's own work when a
batch writes thousands of small rows (a record, its renditions in seven formats, its set
memberships); compiled once per dialect and handed to the driver's `executemany`, the same
statements cost a fraction.

On SQLite, rows go in multi-row INSERTs (`execute_rows`), not `executemany`: the driver lets
go of the GIL around every statement it steps, and each time it wants the GIL back it waits
for whichever thread holds it, up to the 5 ms switch interval. With the harvester parsing
the next page on another thread, a hundred single-row steps cost 7 ms instead of 2; one
statement per page waits once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table, bindparam, insert

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlalchemy.engine import Dialect


def compiled(dialect: Dialect, statement: Any) -> tuple[str, list[str] | None]:
    """A statement's SQL for this dialect, and its parameter order if positional."""
    result = statement.compile(dialect=dialect)
    names = list(result.positiontup or []) if result.positional else None
    return result.string, names


@cache
def _insert(dialect: Dialect, table: Table) -> tuple[str, list[str] | None]:
    return compiled(dialect, insert(table).values({c.name: bindparam(c.name)
                                                   for c in table.columns}))


SQLITE_MAX_VARIABLES = 32766  # SQLite's default limit on a statement's parameters (3.32+)
ROWS_PER_STATEMENT = 500


@lru_cache(maxsize=64)
def multi_row(sql: str, width: int, count: int) -> str:
    """The single-row positional INSERT `sql` (as SQLAlchemy writes it for SQLite: one
    `VALUES (?, ?, ...)` group of `width` parameters) with `count` row groups."""
    group = "(" + ", ".join(["?"] * width) + ")"
    head, found, tail = sql.partition(" VALUES " + group)
    if not found:
        raise ValueError(f"not a single-row positional INSERT: {sql[:120]}")
    return head + " VALUES " + ", ".join([group] * count) + tail


def execute_rows(cursor: Any, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """Run the single-row positional INSERT `sql` for every row of `rows`, several hundred
    rows to a statement (see the module doc): a driver cursor of SQLite's."""
    if not rows:
        return
    width = len(rows[0])
    per_statement = max(1, min(ROWS_PER_STATEMENT, SQLITE_MAX_VARIABLES // width))
    for start in range(0, len(rows), per_statement):
        chunk = rows[start:start + per_statement]
        cursor.execute(multi_row(sql, width, len(chunk)), [v for row in chunk for v in row])


def insert_rows(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert `rows` (each naming every column of `table`) in one executemany."""
    if not rows:
        return
    sql, names = _insert(conn.dialect, table)
    # exec_driver_sql hands the rows to the driver's executemany as they are (no per-row
    # processing), while SQLAlchemy still translates the driver's errors as usual
    if names is None:
        conn.exec_driver_sql(sql, [dict(row) for row in rows])
    else:
        conn.exec_driver_sql(sql, [tuple(row[n] for n in names) for row in rows])
