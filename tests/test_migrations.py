"""Migrations build exactly the tables the code defines, and upgrade a store holding data.

Each migration spells out its own tables; these tests are what keeps that honest: a column
added to `oai.store.tables` without a migration (or a migration that drifts from the code)
shows up in Alembic's comparison on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import insert, select, text

from oai.store import migrate
from oai.store.engine import open_engine
from oai.store.repository import Store
from oai.store.tables import harvested, metadata, record_sets, records, sources


def _differences(url: str) -> list[object]:
    engine = open_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "compare_server_default": True})
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


def test_migrations_from_empty_match_the_code(database_url: str) -> None:
    engine = open_engine(database_url)
    migrate.upgrade(engine)
    assert migrate.is_current(engine)
    engine.dispose()
    assert _differences(database_url) == []


def test_a_store_with_data_upgrades_from_the_previous_revision(database_url: str) -> None:
    engine = open_engine(database_url)
    migrate.upgrade(engine, "0002")
    with engine.begin() as conn:  # rows as revision 0002 wrote them: space-separated lists
        conn.execute(insert(records), [
            {"id": "1", "datestamp": 100, "deleted": False, "set_specs": "a a:b",
             "content_hash": "h1", "data": "{}"},
            {"id": "2", "datestamp": 101, "deleted": True, "set_specs": "",
             "content_hash": "h2", "data": "{}"}])
        conn.execute(insert(record_sets), [
            {"set_spec": "a", "record_id": "1", "datestamp": 100},
            {"set_spec": "a:b", "record_id": "1", "datestamp": 100}])
        conn.execute(text(
            "INSERT INTO harvest_sources (name, base_url, metadata_prefix, set_specs, created, "
            "quirks) VALUES ('s', 'http://x.example.org/oai', 'oai_dc', 'one two', 1, '[]')"))
        source_id = conn.execute(select(sources.c.id)).scalar_one()
        conn.execute(text(
            "INSERT INTO harvest_runs (source_id, mode, status, started, pages, records, "
            "deleted, quarantined, errors) VALUES (:s, 'full', 'complete', 1, 1, 2, 0, 0, "
            "'[]')"), {"s": source_id})
        conn.execute(text(
            "INSERT INTO harvested_records (source_id, identifier, datestamp, deleted, "
            "set_specs, metadata, run_id) VALUES (:s, :i, '2024-01-01', false, :specs, "
            "'<x/>', 1)"),
            [{"s": source_id, "i": f"oai:x:{n}", "specs": specs}
             for n, specs in enumerate(["", "p q:r", "solo"] * 1500)])
    migrate.upgrade(engine)
    with engine.connect() as conn:
        assert dict(conn.execute(select(records.c.id, records.c.set_specs)).all()) == {
            "1": '["a","a:b"]', "2": "[]"}
        assert json.loads(conn.execute(select(sources.c.set_specs)).scalar_one()) == [
            "one", "two"]
        lists = [json.loads(v) for v in conn.execute(select(harvested.c.set_specs)).scalars()]
        assert len(lists) == 4500
        assert sorted(map(tuple, lists)) == sorted([(), ("p", "q:r"), ("solo",)] * 1500)
        requests = conn.execute(text("SELECT requests FROM harvest_runs")).scalar_one()
        assert requests == 0
    engine.dispose()
    assert _differences(database_url) == []
    store = Store.open(database_url)  # the upgraded store serves its records
    try:
        assert [r.set_specs for r in store.list_page("oai_dc", None, None, 10**6, None, 10,
                                                     False)] == []  # no renditions were made
        assert store.stats()["records"] == 2
    finally:
        store.close()


def test_downgrade_returns_to_space_separated_lists(database_url: str) -> None:
    """...and keeps every harvest (dropping 0003's columns must not rebuild harvest_sources,
    whose old table's removal would cascade to its runs and records)."""
    engine = open_engine(database_url)
    migrate.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(insert(records), [{"id": "1", "datestamp": 1, "deleted": False,
                                        "set_specs": '["a","b"]', "content_hash": "h",
                                        "data": "{}"}])
        conn.execute(text(
            "INSERT INTO harvest_sources (name, base_url, metadata_prefix, set_specs, created, "
            "quirks) VALUES ('s', 'http://x.example.org/oai', 'oai_dc', '[\"x\"]', 1, '[]')"))
        source_id = conn.execute(select(sources.c.id)).scalar_one()
        conn.execute(text(
            "INSERT INTO harvest_runs (source_id, mode, status, started, pages, records, "
            "deleted, quarantined, errors) VALUES (:s, 'full', 'complete', 1, 1, 2, 0, 0, "
            "'[]')"), {"s": source_id})
        conn.execute(text(
            "INSERT INTO harvested_records (source_id, identifier, datestamp, deleted, "
            "set_specs, metadata, run_id) VALUES (:s, :i, '2024-01-01', false, '[\"x\"]', "
            "'<x/>', 1)"), [{"s": source_id, "i": f"oai:x:{n}"} for n in range(10)])
    migrate.downgrade(engine, "0002")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT set_specs FROM records")).scalar_one() == "a b"
        assert [conn.execute(text(f"SELECT count(*) FROM {name}")).scalar_one()
                for name in ("harvest_sources", "harvest_runs", "harvested_records")] == [
            1, 1, 10]
    migrate.upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(select(records.c.set_specs)).scalar_one() == '["a","b"]'
    engine.dispose()


def test_the_head_the_store_checks_against_is_the_newest_migration() -> None:
    assert migrate.script_head() == migrate.HEAD


def test_validation_columns_come_and_go_without_touching_the_records(database_url: str) -> None:
    """0005 adds the validation flag and counts; on SQLite a rebuilt harvest_sources would
    cascade to every run and record, so the rows must all be there afterwards."""
    engine = open_engine(database_url)
    migrate.upgrade(engine, "0004")
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO harvest_sources (name, base_url, metadata_prefix, set_specs, created, "
            "quirks) VALUES ('s', 'http://x.example.org/oai', 'oai_dc', '[]', 1, '[]')"))
        source_id = conn.execute(select(sources.c.id)).scalar_one()
        conn.execute(text(
            "INSERT INTO harvest_runs (source_id, mode, status, started, pages, records, "
            "deleted, quarantined, errors) VALUES (:s, 'full', 'complete', 1, 1, 2, 0, 0, "
            "'[]')"), {"s": source_id})
        conn.execute(text(
            "INSERT INTO harvested_records (source_id, identifier, datestamp, deleted, "
            "set_specs, metadata, run_id) VALUES (:s, :i, '2024-01-01', false, '[]', '<x/>', "
            "1)"), [{"s": source_id, "i": f"oai:x:{n}"} for n in range(10)])

    def counts() -> tuple[int, int, int]:
        with engine.connect() as conn:
            return tuple(conn.execute(text(f"SELECT count(*) FROM {name}")).scalar_one()
                         for name in ("harvest_sources", "harvest_runs", "harvested_records"))

    migrate.upgrade(engine)
    assert counts() == (1, 1, 10)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT validate_records FROM harvest_sources")).scalar_one() \
            in (False, 0)
        assert conn.execute(text("SELECT invalid_records FROM harvest_runs")).scalar_one() == 0
        assert set(conn.execute(text("SELECT schema_errors FROM harvested_records")).scalars()) \
            == {None}
    migrate.downgrade(engine, "0004")
    assert counts() == (1, 1, 10)
    engine.dispose()
