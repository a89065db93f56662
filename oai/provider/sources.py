"""Record sources behind one interface: the provider's own records and published (harvested)
ones, listed together in one (datestamp, served identifier) keyset order.

Each source pages by its own index; a list page asks both for `limit` records past the
position and merges them, so tokens carry one position (the last datestamp and served
identifier) whatever source the last record came from. Local records are served as
`oai:<repositoryIdentifier>:<id>`, a namespace published records never use
(`oai.store.published`), so a served identifier names one record only.
"""

from __future__ import annotations

import heapq
from typing import NamedTuple

from oai.store.published_reads import PublishedReads, PublishedRow
from oai.store.repository import ListedRecord, Store
from oai.store.tables import dump_list


class Served(NamedTuple):
    """One record as the provider writes it, whichever source it comes from."""

    identifier: str  # as served
    datestamp: int
    deleted: bool
    specs: str  # header setSpecs: a JSON array
    xml: bytes | str | None
    about: str | None  # the provenance container of a published record
    local_id: str | None  # the local record's id (None: published)


class RecordSources:
    def __init__(self, store: Store, id_prefix: str) -> None:
        self.store = store
        self.published = PublishedReads(store.engine)
        self.id_prefix = id_prefix

    def _local(self, row: ListedRecord) -> Served:
        return Served(self.id_prefix + row.id, row.datestamp, row.deleted, row.specs, row.xml,
                      None, row.id)

    @staticmethod
    def _published(row: PublishedRow) -> Served:
        return Served(row.identifier, row.datestamp, row.deleted, dump_list([row.set_spec]),
                      row.xml, row.about, None)

    def _local_after(self, after: tuple[int, str] | None) -> tuple[int, str] | None:
        """The local keyset position equivalent to a served-identifier position: local ids
        sort as their served identifiers do (one common prefix)."""
        if after is None:
            return None
        datestamp, served = after
        if served.startswith(self.id_prefix):
            return datestamp, served[len(self.id_prefix):]
        if served < self.id_prefix:
            return datestamp, ""  # every local record of that datestamp comes after it
        return datestamp + 1, ""  # none does

    def list_page(self, prefix: str, set_spec: str | None, from_epoch: int | None,
                  until_epoch: int, after: tuple[int, str] | None, limit: int,
                  with_metadata: bool) -> list[Served]:
        local = [self._local(r) for r in self.store.list_page(
            prefix, set_spec, from_epoch, until_epoch, self._local_after(after), limit,
            with_metadata)]
        published = [self._published(r) for r in self.published.page(
            prefix, set_spec, from_epoch, until_epoch, after, limit, with_metadata)]
        if not published:
            return local
        merged = heapq.merge(local, published, key=lambda r: (r.datestamp, r.identifier))
        return [row for _, row in zip(range(limit), merged, strict=False)]

    def count_list(self, prefix: str, set_spec: str | None, from_epoch: int | None,
                   until_epoch: int) -> int:
        return (self.store.count_list(prefix, set_spec, from_epoch, until_epoch)
                + self.published.count(prefix, set_spec, from_epoch, until_epoch))

    def count_list_upto(self, prefix: str, set_spec: str | None, from_epoch: int | None,
                        until_epoch: int, cap: int) -> int | None:
        """The exact size of a list window if it is at most `cap`, else None; costs at most
        cap + 1 index entries per source, whatever the size of the window."""
        local = self.store.count_list(prefix, set_spec, from_epoch, until_epoch, cap)
        if local > cap:
            return None
        total = local + self.published.count(prefix, set_spec, from_epoch, until_epoch,
                                             cap - local)
        return total if total <= cap else None

    def get_record(self, identifier: str, prefix: str) -> tuple[Served, bool] | None:
        if identifier.startswith(self.id_prefix):
            local_id = identifier[len(self.id_prefix):]
            found = self.store.get_record(local_id, prefix) if local_id else None
            return None if found is None else (self._local(found[0]), found[1])
        published = self.published.get(identifier, prefix)
        return None if published is None else (self._published(published[0]), published[1])

    def record_formats(self, identifier: str) -> list[str] | None:
        if identifier.startswith(self.id_prefix):
            local_id = identifier[len(self.id_prefix):]
            return self.store.record_formats(local_id) if local_id else None
        return self.published.formats(identifier)

    def earliest_datestamp(self) -> int:
        local = self.store.earliest_datestamp()
        published = self.published.earliest()
        return local if published is None else min(local, published)
