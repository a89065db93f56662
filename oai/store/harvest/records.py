"""Reading what was harvested: counts, records in bounded batches, and where datestamps lie."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Connection, and_, case, func, select

from oai.store.harvest.base import HarvestBase
from oai.store.harvest.rows import HarvestedRow
from oai.store.tables import harvested, load_list, quarantine


class RecordQueries(HarvestBase):
    def counts(self, source_id: int) -> tuple[int, int]:
        """(records, of which deleted) held for a source."""
        total, deleted = self._read(lambda conn: conn.execute(select(
            func.count(), func.coalesce(func.sum(case((harvested.c.deleted, 1), else_=0)), 0))
            .where(harvested.c.source_id == source_id)).one())
        return int(total), int(deleted)

    def quarantine_count(self, source_id: int) -> int:
        return int(self._read(lambda conn: conn.execute(
            select(func.count()).select_from(quarantine)
            .where(quarantine.c.source_id == source_id)).scalar_one()))

    def invalid_count(self, source_id: int) -> int:
        """Records held whose payload, as last harvested, failed its schema."""
        return int(self._read(lambda conn: conn.execute(
            select(func.count()).select_from(harvested)
            .where(harvested.c.source_id == source_id, harvested.c.schema_errors > 0))
            .scalar_one()))

    def iter_records(self, source_id: int, batch: int = 1000) -> Iterator[HarvestedRow]:
        """Every record of a source by identifier, in bounded batches (memory stays flat)."""
        after: str | None = None
        while True:
            query = (select(harvested.c.identifier, harvested.c.datestamp,
                            harvested.c.datestamp_epoch, harvested.c.deleted,
                            harvested.c.set_specs, harvested.c.metadata)
                     .where(harvested.c.source_id == source_id)
                     .order_by(harvested.c.identifier).limit(batch))
            if after is not None:
                query = query.where(harvested.c.identifier > after)
            rows = self._read(lambda conn, q=query: conn.execute(q).all())  # type: ignore[misc]
            for r in rows:
                yield HarvestedRow(r.identifier, r.datestamp, r.datestamp_epoch, bool(r.deleted),
                                   load_list(r.set_specs), r.metadata)
            if len(rows) < batch:
                return
            after = rows[-1].identifier

    def median_datestamp(self, source_id: int, low: int, high: int) -> int | None:
        """The median datestamp held for a source within [low, high]: where to split a window
        so that both halves hold about as many of the records already seen."""
        def work(conn: Connection) -> int | None:
            inside = and_(harvested.c.source_id == source_id,
                          harvested.c.datestamp_epoch >= low,
                          harvested.c.datestamp_epoch <= high)
            count = conn.execute(select(func.count()).select_from(harvested)
                                 .where(inside)).scalar_one()
            if not count:
                return None
            value = conn.execute(select(harvested.c.datestamp_epoch).where(inside)
                                 .order_by(harvested.c.datestamp_epoch)
                                 .offset(int(count) // 2).limit(1)).scalar()
            return int(value) if value is not None else None
        return self._read(work)
