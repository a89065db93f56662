"""`oai load` on PostgreSQL analyzes the list tables when it changed a tenth of the records or
more: until then the planner takes a freshly loaded table for empty (pg_class.reltuples is -1
for a table never analyzed), which costs set-restricted pages hundreds of milliseconds."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, text

from oai.store.repository import Store
from tests.conftest import PROJECT

OAI = str(Path(sys.executable).with_name("oai"))


def reltuples(url: str, table: str) -> float:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return float(conn.execute(text(
                "SELECT reltuples FROM pg_class WHERE oid = to_regclass(:t)"), {"t": table})
                .scalar_one())
    finally:
        engine.dispose()


def test_a_big_load_is_analyzed_a_small_one_is_not(postgres_url: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OAI_")}
    env["OAI_DATABASE_URL"] = postgres_url
    assert subprocess.run([OAI, "init"], env=env, capture_output=True).returncode == 0
    assert reltuples(postgres_url, "records") == -1  # never analyzed
    done = subprocess.run([OAI, "load", str(PROJECT / "fixtures")], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert reltuples(postgres_url, "records") == 53
    assert reltuples(postgres_url, "record_sets") > 0
    store = Store.open(postgres_url)
    try:
        assert not store.refresh_statistics(5)  # 5 of 53: autovacuum's business
        assert store.refresh_statistics(6)
    finally:
        store.close()


def test_sqlite_is_left_alone(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 's.sqlite'}", create=True)
    try:
        assert not store.refresh_statistics(1000)
    finally:
        store.close()
