"""End to end: `oai serve` (gunicorn, 2 workers) over loopback HTTP, harvested with Sickle,
returns exactly the store's records, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sickle import Sickle

from oai.protocol.datestamps import format_datestamp
from oai.protocol.schemas import validate_response
from oai.store.repository import Store
from tests.conftest import put, record
from tests.serving import oai_serve


class ValidatingSickle(Sickle):  # type: ignore[misc]
    """Sickle that schema-validates every response it receives."""

    responses = 0

    def harvest(self, **kwargs: Any) -> Any:
        response = super().harvest(**kwargs)
        validate_response(response.http_response.content)
        ValidatingSickle.responses += 1
        return response


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[tuple[str, Store]]:
    """A store with 257 records (some deleted, some in sets) served by `oai serve`."""
    store = Store.open(database_url, create=True)
    put(store, *[record(f"e{i:04d}", sets=["school:x"] if i % 4 == 0 else None)
                 for i in range(257)])
    store.delete([f"e{i:04d}" for i in range(0, 257, 17)])
    try:
        with oai_serve(database_url, tmp_path / "serve.log", workers=2, safety_lag="0",
                       page_size="50", repository_identifier="e2e.example.org") as s:
            yield s.url, store
    finally:
        store.close()


def test_sickle_harvests_exactly_the_store(served: tuple[str, Store]) -> None:
    url, store = served
    ValidatingSickle.responses = 0
    harvested = {}
    for rec in ValidatingSickle(url).ListRecords(metadataPrefix="oai_dc",
                                                 ignore_deleted=False):
        header = rec.header
        assert header.identifier not in harvested, "an identifier came twice"
        harvested[header.identifier] = (header.datestamp, header.deleted,
                                        tuple(header.setSpecs))
    assert ValidatingSickle.responses == 6  # 257 records, 50 a page
    expected = {
        f"oai:e2e.example.org:{row.id}": (format_datestamp(row.datestamp), row.deleted,
                                          row.set_specs)
        for row in store.list_page("oai_dc", None, None, 2**40, None, 10_000, False)
    }
    assert harvested == expected
    assert sum(1 for v in harvested.values() if v[1]) == 16

    in_set = {h.identifier for h in Sickle(url).ListIdentifiers(
        metadataPrefix="oai_dc", set="school", ignore_deleted=False)}
    assert in_set == {k for k, v in expected.items() if v[2] == ("school:x",)}
