"""Counting that stops early: the first page of a large list must not count millions of rows.

`SELECT count(*) FROM (SELECT 1 ... LIMIT cap + 1)` reads at most `cap + 1` index entries, so
its cost is bounded by the cap, not by the size of the list (a plain count of a 10-million
record window reads them all on every first page). On PostgreSQL, a window the planner's
statistics already put above the cap is not counted at all: past the cap the size is not
announced anyway, and reading 100,000 index entries to learn so cost 50-130 ms a first page.
The statistics only decide whether to count; a number returned is always an exact count.
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
        rows = counting.with_only_columns(literal(1))
        if conn.dialect.name == "postgresql" and planned_rows(conn, rows, values) > cap:
            return cap + 1
        counting = select(func.count()).select_from(rows.limit(cap + 1).subquery())
    return int(conn.execute(counting, values or {}).scalar_one())


def planned_rows(conn: Connection, query: Select[Any],
                 values: dict[str, Any] | None = None) -> float:
    """PostgreSQL's estimate of the rows `query` returns (EXPLAIN: planning, no execution)."""
    compiled = query.compile(dialect=conn.dialect)
    params = compiled.construct_params(values or {})
    [[plan]] = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + compiled.string, params).all()
    return float(plan[0]["Plan"]["Plan Rows"])
