"""`PublishedReads` on a real store (SQLite and PostgreSQL): a format with no published record
up to a window's end is asked about once, not on every page, and only for `EMPTY_TTL`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import event, insert

from oai.store.published_reads import EMPTY_TTL, PublishedReads
from oai.store.repository import Store
from oai.store.tables import published


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def opened(database_url: str) -> Iterator[Store]:
    store = Store.open(database_url, create=True)
    yield store
    store.close()


def publish(store: Store, identifier: str, datestamp: int) -> None:
    with store.engine.begin() as conn:
        conn.execute(insert(published).values(
            identifier=identifier, prefix="oai_dc", source_id=1, set_spec="source:s",
            datestamp=datestamp, deleted=False, xml="<x/>"))


def test_an_empty_format_is_asked_about_once_per_window(opened: Store) -> None:
    ticks = Ticks()
    reads = PublishedReads(opened.engine, clock=ticks)
    checkouts: list[int] = []
    event.listen(opened.engine.pool, "checkout", lambda *_: checkouts.append(1))

    def page(until: int, after: tuple[int, str] | None = None) -> list[str]:
        return [r.identifier for r in reads.page("oai_dc", None, None, until, after, 10, True)]

    assert page(5000) == [] and len(checkouts) == 2  # the page, then "any at all?"
    assert page(5000, (4000, "x")) == [] and page(4999) == [] and len(checkouts) == 2
    publish(opened, "oai:other:new", 6000)  # written later, so dated later: as in a harvest
    checkouts.clear()
    assert page(5000) == [] and checkouts == []
    assert page(6000) == ["oai:other:new"] and len(checkouts) == 1
    assert page(5000) == []  # a later window takes nothing from the earlier's knowledge
    # a row appearing inside a known-empty window (a restored database) is seen once the
    # knowledge expires
    publish(opened, "oai:other:restored", 100)
    assert page(5000) == []
    ticks.now += EMPTY_TTL
    assert page(5000) == ["oai:other:restored"]
    assert page(6000) == ["oai:other:restored", "oai:other:new"]


def test_a_format_with_published_records_is_never_taken_for_empty(opened: Store) -> None:
    reads = PublishedReads(opened.engine, clock=Ticks())
    publish(opened, "oai:other:a", 100)
    for after in (None, (100, "oai:other:a")):  # the second page of this window is empty
        reads.page("oai_dc", None, None, 5000, after, 10, False)
    publish(opened, "oai:other:b", 200)  # against the premise, so only a fresh ask finds it
    found = reads.page("oai_dc", None, None, 5000, None, 10, False)
    assert [r.identifier for r in found] == ["oai:other:a", "oai:other:b"]
