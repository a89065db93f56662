"""Counting that stops early: the first page of a large list must not count millions of rows.

`SELECT count(*) FROM (SELECT 1 ... LIMIT cap + 1)` reads at most `cap + 1` index entries, so
its cost is bounded by the cap, not by the size of the list (a plain count of a 10-million
record window reads them all on every first page).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Select, func, literal, select


def bounded_count(conn: Connection, counting: Select[Any], cap: int | None) -> int:
    """The value of `counting` (a `SELECT count(*) ...` with an explicit FROM), or, with a
    cap, that value if it is at most `cap` and `cap + 1` otherwise."""
    if cap is None:
        return int(conn.execute(counting).scalar_one())
    inner = counting.with_only_columns(literal(1)).limit(cap + 1).subquery()
    return int(conn.execute(select(func.count()).select_from(inner)).scalar_one())
