"""Many rows in one statement on the driver's cursor, for the store's hot write paths.

SQLAlchemy's per-row parameter processing costs about as much as SQLite's own work when a
batch writes thousands of small rows (a record, its renditions in seven formats, its set
memberships); compiled once per dialect and handed to the driver's `executemany`, the same
statements cost a fraction. Used inside a transaction begun by SQLAlchemy, on its connection.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
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


def insert_rows(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert `rows` (each naming every column of `table`) in one executemany."""
    if not rows:
        return
    sql, names = _insert(conn.dialect, table)
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        if names is None:
            cursor.executemany(sql, rows)
        else:
            cursor.executemany(sql, [tuple(row[n] for n in names) for row in rows])
    finally:
        cursor.close()
