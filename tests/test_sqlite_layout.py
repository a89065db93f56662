"""The SQLite file layout: a new store gets 16 KiB pages (XML records of a few KB share a
page instead of filling one each) and a checkpoint every ~4 MB of log; a store created with
another page size keeps it, with its checkpoint interval scaled to the same bytes."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import text

from oai.store.engine import CHECKPOINT_BYTES, SQLITE_PAGE_SIZE, open_engine
from oai.store.repository import Store
from tests.conftest import put, record


def _pragmas(url: str) -> tuple[int, int, str]:
    engine = open_engine(url)
    try:
        with engine.connect() as conn:
            return (conn.execute(text("PRAGMA page_size")).scalar_one(),
                    conn.execute(text("PRAGMA wal_autocheckpoint")).scalar_one(),
                    conn.execute(text("PRAGMA journal_mode")).scalar_one())
    finally:
        engine.dispose()


def test_a_new_store_has_16_kib_pages_and_a_4_mb_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite"
    store = Store.open(f"sqlite:///{path}", create=True)
    put(store, *(record(str(i), title="x" * 2500) for i in range(30)))
    store.close()
    assert SQLITE_PAGE_SIZE == 16384
    with sqlite3.connect(path) as conn:  # what is in the file, not what a pragma says
        assert conn.execute("PRAGMA page_size").fetchone()[0] == SQLITE_PAGE_SIZE
    assert _pragmas(f"sqlite:///{path}") == (SQLITE_PAGE_SIZE,
                                            CHECKPOINT_BYTES // SQLITE_PAGE_SIZE, "wal")


def test_an_existing_store_keeps_its_page_size(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as conn:  # as an earlier version (SQLite's default) made it
        conn.execute("PRAGMA page_size=4096")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE t (x)")
    conn.close()
    assert _pragmas(f"sqlite:///{path}") == (4096, CHECKPOINT_BYTES // 4096, "wal")
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA page_size").fetchone()[0] == 4096
    conn.close()
