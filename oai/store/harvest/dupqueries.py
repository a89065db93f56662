"""Duplicate clusters as the CLI reads them, and the maintenance that does not come with a
harvested page: re-filing records harvested before matching existed (`refile`), and leaving
out records tombstoned in bulk or whose source is removed."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, and_, delete, distinct, func, select

from oai.store.harvest.base import HarvestBase
from oai.store.harvest.duplicates import (
    Cluster,
    ClusterLink,
    ClusterMember,
    DuplicateMatcher,
    Judge,
    MatchStats,
)
from oai.store.harvest.rows import DuplicateKeys
from oai.store.tables import dup_links, dup_records, harvested, sources

_BATCH = 500


class DuplicateQueries(HarvestBase):
    _dup_matcher: DuplicateMatcher | None = None

    def duplicate_matcher(self) -> DuplicateMatcher:
        if self._dup_matcher is None:
            self._dup_matcher = DuplicateMatcher(self.engine.dialect)
        return self._dup_matcher

    def refile(self, source_id: int, records: Sequence[tuple[str, DuplicateKeys | None]],
               judge: Judge | None, stats: MatchStats | None = None) -> MatchStats:
        """File a batch of one source's records as a harvested page would (one transaction)."""
        matcher = self.duplicate_matcher()
        return self._write_raw(lambda cursor: matcher.apply(cursor, source_id, records, judge,
                                                            stats))

    def clear_duplicates(self, source_id: int | None = None) -> None:
        """Forget what matching filed (all of it, or one source's records, whose clusters
        are then split again)."""
        if source_id is None:
            self._write(lambda conn: conn.execute(delete(dup_records)))
            return
        self._detach_where(dup_records.c.source_id == source_id)

    def drop_deleted_duplicates(self, source_id: int) -> int:
        """Leave out the source's records that are now tombstones (after a bulk tombstoning
        that did not go through a page write, e.g. reconciliation)."""
        deleted = select(harvested.c.identifier).where(
            harvested.c.source_id == source_id, harvested.c.deleted.is_(True))
        return self._detach_where(and_(dup_records.c.source_id == source_id,
                                       dup_records.c.identifier.in_(deleted)))

    def _detach_where(self, condition: Any) -> int:
        matcher = self.duplicate_matcher()
        done = 0
        while True:
            rows = self._read(lambda conn: conn.execute(
                select(dup_records.c.id, dup_records.c.cluster_id).where(condition)
                .order_by(dup_records.c.id).limit(_BATCH)).all())
            if not rows:
                return done

            def work(cursor: Any, rows: Sequence[Any] = rows) -> None:
                stats = MatchStats()
                for rid, _cluster in rows:
                    matcher.detach(cursor, int(rid), None, stats)
                    matcher.run(cursor, "delete", id=rid)
                for cluster in {int(c) for _, c in rows if c is not None}:
                    matcher.resplit(cursor, cluster, stats)
            self._write_raw(work)
            done += len(rows)

    def duplicate_counts(self) -> tuple[int, int, int]:
        """(records filed, clusters, links)."""
        def work(conn: Connection) -> tuple[int, int, int]:
            filed = conn.execute(select(func.count()).select_from(dup_records)).scalar_one()
            clusters = conn.execute(select(func.count(distinct(dup_records.c.cluster_id))))\
                .scalar_one()
            links = conn.execute(select(func.count()).select_from(dup_links)).scalar_one()
            return int(filed), int(clusters), int(links)
        return self._read(work)

    def iter_clusters(self, source_id: int | None = None, batch: int = 200,
                      ) -> Iterator[Cluster]:
        """Clusters with their members and links, by label, in bounded batches; with
        `source_id`, those holding at least one record of that source."""
        after = -1
        while True:
            query = (select(dup_records.c.cluster_id).distinct()
                     .where(dup_records.c.cluster_id.is_not(None),
                            dup_records.c.cluster_id > after)
                     .order_by(dup_records.c.cluster_id).limit(batch))
            if source_id is not None:
                query = query.where(dup_records.c.source_id == source_id)
            labels = [int(c) for c in self._read(
                lambda conn, q=query: conn.execute(q).scalars().all())]  # type: ignore[misc]
            if not labels:
                return
            yield from self._clusters(labels)
            after = labels[-1]

    def _clusters(self, labels: list[int]) -> Iterator[Cluster]:
        def work(conn: Connection) -> tuple[list[Any], list[Any]]:
            members = conn.execute(
                select(dup_records.c.cluster_id, dup_records.c.id, sources.c.name,
                       dup_records.c.identifier, dup_records.c.title)
                .select_from(dup_records.join(sources,
                                              sources.c.id == dup_records.c.source_id))
                .where(dup_records.c.cluster_id.in_(labels))
                .order_by(dup_records.c.cluster_id, dup_records.c.id)).all()
            links = conn.execute(
                select(dup_records.c.cluster_id, dup_links)
                .select_from(dup_links.join(dup_records,
                                            dup_records.c.id == dup_links.c.low_id))
                .where(dup_records.c.cluster_id.in_(labels))
                .order_by(dup_links.c.low_id, dup_links.c.high_id, dup_links.c.kind)).all()
            return list(members), list(links)
        members, links = self._read(work)
        by_label: dict[int, tuple[list[ClusterMember], list[ClusterLink]]] = {
            label: ([], []) for label in labels}
        for m in members:
            by_label[int(m.cluster_id)][0].append(
                ClusterMember(int(m.id), m.name, m.identifier, m.title))
        for link in links:
            by_label[int(link.cluster_id)][1].append(ClusterLink(
                int(link.low_id), int(link.high_id), link.kind, link.value, link.score))
        for label in labels:
            found, joined = by_label[label]
            if len(found) > 1:
                yield Cluster(label, tuple(found), tuple(joined))
