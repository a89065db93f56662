"""What the librarian's report reads: bounded summaries of each source, never its records.

Every query here is an aggregate or a LIMITed sample, so the report costs the same at a
thousand records as at ten million (each grouped count walks the source's datestamp index).
"""

from __future__ import annotations

from sqlalchemy import Connection, and_, distinct, func, select

from oai.store.harvest.base import HarvestBase
from oai.store.harvest.rows import RunRow, run_row
from oai.store.tables import dup_records, harvested, quarantine, runs, sources


class ReportQueries(HarvestBase):
    def recent_runs(self, source_id: int, limit: int = 10) -> list[RunRow]:
        """The source's last `limit` runs, newest first."""
        return self._read(lambda conn: [run_row(r) for r in conn.execute(
            select(runs).where(runs.c.source_id == source_id)
            .order_by(runs.c.id.desc()).limit(limit))])

    def run_count(self, source_id: int) -> dict[str, int]:
        """How many runs ended in each status."""
        return self._read(lambda conn: {str(status): int(n) for status, n in conn.execute(
            select(runs.c.status, func.count()).where(runs.c.source_id == source_id)
            .group_by(runs.c.status))})

    def records_by_year(self, source_id: int) -> list[tuple[int, int, int]]:
        """(year, live records, deleted records) by the year of the datestamp the source gave
        them, oldest first: how the copy is spread over time."""
        def work(conn: Connection) -> list[tuple[int, int, int]]:
            year = func.substr(harvested.c.datestamp, 1, 4)
            rows = conn.execute(
                select(year.label("year"), harvested.c.deleted, func.count())
                .where(harvested.c.source_id == source_id)
                .group_by(year, harvested.c.deleted)).all()
            by_year: dict[int, list[int]] = {}
            for value, deleted, count in rows:
                try:
                    key = int(value)
                except (TypeError, ValueError):
                    continue  # a datestamp the source wrote without a year: nothing to chart
                by_year.setdefault(key, [0, 0])[1 if deleted else 0] += int(count)
            return [(y, live, gone) for y, (live, gone) in sorted(by_year.items())]
        return self._read(work)

    def invalid_sample(self, source_id: int, limit: int = 5) -> list[tuple[str, int]]:
        """(identifier, schema problems) of a few records whose payload failed its schema."""
        return self._read(lambda conn: [(r.identifier, int(r.schema_errors)) for r in
                                        conn.execute(
            select(harvested.c.identifier, harvested.c.schema_errors)
            .where(and_(harvested.c.source_id == source_id, harvested.c.schema_errors > 0))
            .order_by(harvested.c.identifier).limit(limit))])

    def quarantine_sample(self, source_id: int, limit: int = 5) -> list[tuple[str | None, str]]:
        """(identifier, reason) of the latest quarantined items."""
        return self._read(lambda conn: [(r.identifier, r.reason) for r in conn.execute(
            select(quarantine.c.identifier, quarantine.c.reason)
            .where(quarantine.c.source_id == source_id)
            .order_by(quarantine.c.id.desc()).limit(limit))])

    def shared_duplicates(self, source_id: int, limit: int = 10,
                          ) -> tuple[int, list[tuple[str, int]]]:
        """How many of the source's records sit in a cluster with another source's, and
        with which sources (name, records of this source shared with it), most first."""
        def work(conn: Connection) -> tuple[int, list[tuple[str, int]]]:
            mine, other = dup_records.alias("mine"), dup_records.alias("other")
            joined = mine.join(other, and_(other.c.cluster_id == mine.c.cluster_id,
                                           other.c.source_id != mine.c.source_id))
            total = conn.execute(select(func.count(distinct(mine.c.id))).select_from(joined)
                                 .where(mine.c.source_id == source_id)).scalar_one()
            count = func.count(distinct(mine.c.id))
            rows = conn.execute(
                select(sources.c.name, count)
                .select_from(joined.join(sources, sources.c.id == other.c.source_id))
                .where(mine.c.source_id == source_id)
                .group_by(sources.c.name).order_by(count.desc(), sources.c.name)
                .limit(limit)).all()
            return int(total), [(str(name), int(n)) for name, n in rows]
        return self._read(work)
