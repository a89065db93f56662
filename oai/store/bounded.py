"""Counting that stops early: the first page of a large list must not count millions of rows.

`SELECT count(*) FROM (SELECT 1 ... LIMIT cap + 1)` reads at most `cap + 1` index entries, so
its cost is bounded by the cap, not by the size of the list (a plain count of a 10-million
record window reads them all on every first page).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Select, func, literal, select


def bounded_count(conn: Connection, counting: Select[Any], cap: int | None,
                  values: dict[str, Any] | None = None) -> int:
    """The value of `counting` (a `SELECT count(*) ...` with an explicit FROM; `values` for
    its bind parameters), or, with a cap, that value if it is at most `cap` and `cap + 1`
    otherwise."""
    if cap is not None:
        inner = counting.with_only_columns(literal(1)).limit(cap + 1).subquery()
        counting = select(func.count()).select_from(inner)
    return int(conn.execute(counting, values or {}).scalar_one())
