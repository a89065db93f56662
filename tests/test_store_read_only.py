"""Read-only stores, at the store level: a store opened read-only serves every read and the
database itself refuses every write (SQLite through a `mode=ro` URI, PostgreSQL through
read-only transactions), each refusal one ReadOnlyStore line; a SQLite file or directory
without write permission is opened read-only by itself (even by root, whom chmod does not
stop); driver errors on writes are one-line StoreErrors."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from oai.store.errors import ReadOnlyStore, StoreError
from oai.store.repository import Store
from tests.conftest import Clock, put, record


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Path]:
    """A SQLite store in its own directory, holding two records; permissions restored after."""
    folder = tmp_path / "store"
    folder.mkdir()
    path = folder / "s.sqlite"
    store = Store.open(f"sqlite:///{path}", create=True)
    put(store, record("1", sets=["a"]), record("2"))
    store.close()
    try:
        yield path
    finally:
        folder.chmod(0o755)
        path.chmod(0o644)


def _assert_refused(write: Callable[[], object]) -> None:
    with pytest.raises(ReadOnlyStore) as info:
        write()
    message = str(info.value)
    assert "read-only" in message and "\n" not in message


def _assert_every_write_refused(store: Store) -> None:
    _assert_refused(lambda: put(store, record("3")))
    _assert_refused(lambda: store.delete(["1"]))
    _assert_refused(lambda: store.add_set("b", "B"))


def test_read_only_store_reads_and_refuses_writes(database_url: str, clock: Clock) -> None:
    writable = Store.open(database_url, clock=clock, create=True)
    put(writable, record("1", sets=["a"]), record("2"))
    writable.close()
    store = Store.open(database_url, read_only=True)
    try:
        assert store.read_only
        assert store.stats()["records"] == 2
        found = store.get_record("1", "oai_dc")
        assert found is not None and found[0].set_specs == ("a",)
        assert [s.spec for s in store.sets_page(None, 10)] == ["a"]
        _assert_every_write_refused(store)
    finally:
        store.close()
    again = Store.open(database_url)
    try:
        figures = again.stats()
        assert (figures["records"], figures["deleted"], figures["sets"]) == (2, 0, 1)
    finally:
        again.close()


def test_read_only_and_create_exclude_each_other(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        Store.open(f"sqlite:///{tmp_path / 'x.sqlite'}", create=True, read_only=True)


def test_file_without_write_permission_is_opened_read_only(sqlite_store: Path) -> None:
    sqlite_store.chmod(0o444)
    before = _digest(sqlite_store)
    store = Store.open(f"sqlite:///{sqlite_store}")
    try:
        assert store.read_only
        assert store.stats()["records"] == 2
        _assert_every_write_refused(store)
    finally:
        store.close()
    with pytest.raises(ReadOnlyStore, match="the file is not writable"):
        Store.open(f"sqlite:///{sqlite_store}", create=True)
    assert _digest(sqlite_store) == before


def test_read_only_directory_is_read_without_creating_anything(sqlite_store: Path) -> None:
    folder = sqlite_store.parent
    assert sorted(p.name for p in folder.iterdir()) == ["s.sqlite"]  # no WAL left behind
    folder.chmod(0o555)
    before = _digest(sqlite_store)
    store = Store.open(f"sqlite:///{sqlite_store}")
    try:
        assert store.read_only
        assert store.stats()["records"] == 2
        _assert_every_write_refused(store)
    finally:
        store.close()
    with pytest.raises(ReadOnlyStore, match="its directory is not writable"):
        Store.open(f"sqlite:///{sqlite_store}", create=True)
    assert sorted(p.name for p in folder.iterdir()) == ["s.sqlite"]
    assert _digest(sqlite_store) == before


def test_mode_ro_in_the_url_opens_read_only(sqlite_store: Path) -> None:
    url = f"sqlite:///{sqlite_store}?mode=ro"
    store = Store.open(url)
    try:
        assert store.read_only and store.stats()["records"] == 2
        _assert_every_write_refused(store)
    finally:
        store.close()
    with pytest.raises(ReadOnlyStore, match="mode=ro"):
        Store.open(url, create=True)


@pytest.mark.parametrize("read_only", [False, True])
def test_a_missing_store_file_is_never_created_by_opening(tmp_path: Path,
                                                          read_only: bool) -> None:
    path = tmp_path / "var" / "none.sqlite"
    with pytest.raises(StoreError, match="run 'oai init'"):
        Store.open(f"sqlite:///{path}", read_only=read_only)
    assert not path.parent.exists()


def test_driver_errors_on_writes_are_one_line_store_errors(store: Store) -> None:
    with pytest.raises(StoreError) as info, store.write_connection() as conn, conn.begin():
        conn.execute(text("INSERT INTO no_such_table VALUES (1)"))
    message = str(info.value)
    assert not isinstance(info.value, ReadOnlyStore)
    assert message.startswith("cannot write to the store: ") and "\n" not in message
    assert "no_such_table" in message
    assert store.stats()["records"] == 0  # and the store is still usable


def test_a_writable_store_is_written_as_usual(sqlite_store: Path) -> None:
    """The permission check is no blanket refusal: a file its owner may write is written."""
    sqlite_store.chmod(0o600)
    store = Store.open(f"sqlite:///{sqlite_store}")
    try:
        assert not store.read_only
        assert put(store, record("3")).added == 1
    finally:
        store.close()
