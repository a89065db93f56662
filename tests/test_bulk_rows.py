"""oai.store.bulk.execute_rows: a page of rows in multi-row statements, on real SQLite."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, bindparam
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from oai.store.bulk import ROWS_PER_STATEMENT, SQLITE_MAX_VARIABLES, execute_rows, multi_row

metadata = MetaData()
items = Table("items", metadata, Column("id", Integer, primary_key=True),
              Column("name", String), Column("size", Integer))


def _upsert_sql() -> str:
    """The single-row upsert as SQLAlchemy compiles it for SQLite, as the harvest uses it."""
    stmt = sqlite_insert(items).values({c.name: bindparam(c.name) for c in items.columns})
    stmt = stmt.on_conflict_do_update(index_elements=[items.c.id],
                                      set_={"name": stmt.excluded.name,
                                            "size": stmt.excluded.size})
    return str(stmt.compile(dialect=sqlite.dialect()))


@pytest.fixture
def cursor() -> sqlite3.Cursor:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, size INTEGER)")
    return conn.cursor()


@pytest.mark.parametrize("count", [1, 2, ROWS_PER_STATEMENT, ROWS_PER_STATEMENT + 1, 1234])
def test_every_row_is_written_once(cursor: sqlite3.Cursor, count: int) -> None:
    rows = [(i, f"item {i} ' \" ?", i * 10) for i in range(count)]
    execute_rows(cursor, _upsert_sql(), rows)
    assert cursor.execute("SELECT id, name, size FROM items ORDER BY id").fetchall() == rows


def test_the_upsert_clause_still_applies(cursor: sqlite3.Cursor) -> None:
    execute_rows(cursor, _upsert_sql(), [(1, "old", 1), (2, "kept", 2)])
    execute_rows(cursor, _upsert_sql(), [(1, "new", 10), (3, "added", 3)])
    assert cursor.execute("SELECT id, name, size FROM items ORDER BY id").fetchall() == [
        (1, "new", 10), (2, "kept", 2), (3, "added", 3)]


def test_no_rows_runs_nothing(cursor: sqlite3.Cursor) -> None:
    execute_rows(cursor, "not even SQL", [])
    assert cursor.execute("SELECT count(*) FROM items").fetchone() == (0,)


def test_statements_stay_within_sqlites_parameter_limit() -> None:
    sql = multi_row("INSERT INTO t (a) VALUES (?)", 1, SQLITE_MAX_VARIABLES)
    assert sql.count("?") == SQLITE_MAX_VARIABLES


def test_a_statement_it_cannot_extend_is_refused() -> None:
    with pytest.raises(ValueError, match="single-row positional INSERT"):
        multi_row("INSERT INTO t (a, b) VALUES (:a, :b)", 2, 3)
