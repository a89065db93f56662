"""The store on SQLite and PostgreSQL: datestamps, no-op writes, tombstones, sets, rejection."""

from __future__ import annotations

import pytest

from oai.formats import registry
from oai.protocol.records import InvalidRecord
from oai.protocol.rendering import prepare_record
from oai.store.repository import Store, StoreError
from tests.conftest import Clock, put, record


def carried(rec: dict[str, object]) -> list[str]:
    """The prefixes of the registered formats that carry `rec`, sorted (as the store lists)."""
    return sorted(p for p, f in registry().items() if f.unavailable(rec) is None)


def test_datestamp_comes_from_the_write_transaction(store: Store, clock: Clock) -> None:
    clock.now = 1_650_000_000
    put(store, record("a"))
    page = store.list_page("oai_dc", None, None, 2**40, None, 10, False)
    assert [(r.id, r.datestamp) for r in page] == [("a", 1_650_000_000)]


def test_unchanged_write_keeps_datestamp_changed_write_moves_it(store: Store,
                                                                clock: Clock) -> None:
    first = put(store, record("a"))
    assert (first.added, first.updated, first.unchanged) == (1, 0, 0)
    t0 = clock.now
    clock.tick(60)
    same = put(store, record("a"))
    assert (same.added, same.updated, same.unchanged) == (0, 0, 1)
    assert store.list_page("oai_dc", None, None, 2**40, None, 10, False)[0].datestamp == t0
    clock.tick(60)
    changed = put(store, record("a", "A new title"))
    assert changed.updated == 1
    row = store.list_page("oai_dc", None, None, 2**40, None, 10, True)[0]
    assert row.datestamp == t0 + 120
    assert isinstance(row.xml, bytes) and "A new title" in row.xml.decode("utf-8")


def test_deletion_leaves_a_tombstone_with_sets(store: Store, clock: Clock) -> None:
    put(store, record("a", sets=["school:eng"]), record("b"))
    clock.tick(5)
    done, already, unknown = store.delete(["a", "a", "zz"])
    assert (done, already, unknown) == (["a"], [], ["zz"])
    assert store.delete(["a"]) == ([], ["a"], [])
    rows = store.list_page("oai_dc", "school", None, 2**40, None, 10, True)
    assert [(r.id, r.deleted, r.xml, r.set_specs, r.datestamp) for r in rows] == [
        ("a", True, None, ("school:eng",), clock.now)]
    assert store.record_formats("a") == carried(record("a"))
    # re-loading the record resurrects it with a new datestamp
    clock.tick(5)
    assert put(store, record("a", sets=["school:eng"])).updated == 1
    found = store.get_record("a", "oai_dc")
    assert found is not None and not found[0].deleted and found[0].datestamp == clock.now


def test_loading_a_deleted_record_creates_a_tombstone(store: Store) -> None:
    put(store, record("gone", deleted=True, sets=["x:y"]))
    found = store.get_record("gone", "oai_dc")
    assert found is not None
    row, in_format = found
    assert row.deleted and row.xml is None and in_format and row.set_specs == ("x:y",)


def test_keyset_paging_orders_by_datestamp_then_id(store: Store, clock: Clock) -> None:
    put(store, record("b"), record("a"))
    clock.tick()
    put(store, record("0"))
    page1 = store.list_page("oai_dc", None, None, 2**40, None, 2, False)
    assert [r.id for r in page1] == ["a", "b"]
    page2 = store.list_page("oai_dc", None, None, 2**40, (page1[-1].datestamp, "b"), 2, False)
    assert [r.id for r in page2] == ["0"]
    assert store.count_list("oai_dc", None, None, 2**40) == 3


def test_invalid_records_are_rejected_with_a_reason() -> None:
    with pytest.raises(InvalidRecord, match="titles"):
        prepare_record({"id": "x", "type": "article"})
    with pytest.raises(InvalidRecord, match="doi"):
        prepare_record(record("x", doi="not-a-doi"))
    with pytest.raises(InvalidRecord, match="JSON object"):
        prepare_record(["x"])


def test_illegal_xml_characters_are_stripped_at_write(store: Store) -> None:
    put(store, record("c", "a\x0bb\ufffec"))
    row = store.get_record("c", "oai_dc")
    assert row is not None and ">abc<" in (row[0].xml or "")


def test_batch_duplicates_last_wins(store: Store) -> None:
    summary = put(store, record("d", "first"), record("d", "second"))
    assert summary.added == 1
    row = store.get_record("d", "oai_dc")
    assert row is not None and "second" in (row[0].xml or "")


def test_sets_and_stats(store: Store) -> None:
    assert store.add_set("a:b", "AB", "desc") is True
    assert store.add_set("a:b", "AB renamed") is False
    assert [s.spec for s in store.sets_page(None, 10)] == ["a", "a:b"]
    put(store, record("r", sets=["a:b:c"]))
    store.delete(["r"])
    stats = store.stats()
    assert stats["records"] == 1 and stats["deleted"] == 1 and stats["sets"] == 3
    assert stats["formats"] == dict.fromkeys(carried(record("r")), 1)


def test_uninitialised_store_gives_a_clear_error(tmp_path: object) -> None:
    with pytest.raises(StoreError, match="oai init"):
        Store.open(f"sqlite:///{tmp_path}/empty.sqlite")
    with pytest.raises(StoreError, match="cannot open"):
        Store.open("postgresql+psycopg://nobody@127.0.0.1:1/none")
