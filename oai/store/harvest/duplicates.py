"""Duplicate matching in the store: files each harvested record under its identifiers and
fingerprint blocking keys, links it to records of other sources that share one, and keeps
clusters (connected components over the links) up to date, incrementally.

It runs inside the page's own transaction (`PageWriter.write_page`), so a record and its
links are committed together. Per record: one look-up of its own row, then, only if what
matching uses changed (`DuplicateKeys.digest`), one indexed look-up per identifier and per
blocking key (at most `CANDIDATES` rows each), and the cluster relabelling. A record that
changed or was deleted first drops its links, and only its former component is split again.
On PostgreSQL the step holds a transaction-level advisory lock: two sources' pages matched
concurrently could otherwise each miss the other's uncommitted records.

Links are made only between records of different sources (the issue is the same work in
several repositories; one repository's own versions are its business), but a cluster may
hold two records of one source when both are linked to a third.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, delete, insert, literal_column, select, text, update
from sqlalchemy.engine import Dialect

from oai.store.bulk import compiled
from oai.store.harvest.clusters import components
from oai.store.harvest.rows import DuplicateKeys
from oai.store.tables import dup_blocks, dup_identifiers, dup_links, dup_records

CANDIDATES = 64  # rows one key look-up may return: bounds the work per record
LOCK_KEY = 80_080_001  # PostgreSQL advisory lock serialising duplicate matching

Judge = Callable[[tuple[str, int, str], tuple[str, int, str]], "float | None"]


@dataclass
class MatchStats:
    """What matching cost: records seen, records (re)filed, indexed look-ups, links made."""

    records: int = 0
    filed: int = 0
    lookups: int = 0
    links: int = 0


# literal, not bound: compiled once, the statements take only the caller's parameters
_LIMIT: Any = literal_column(str(CANDIDATES))
_ZERO: Any = literal_column("0")


def _statements(dialect: Dialect) -> dict[str, tuple[str, list[str] | None]]:
    p = bindparam
    r, i, b, lk = dup_records.c, dup_identifiers.c, dup_blocks.c, dup_links.c
    other = dup_records.alias("other")
    s: dict[str, Any] = {
        "find": select(r.id, r.cluster_id, r.digest).where(
            r.source_id == p("source_id"), r.identifier == p("identifier")),
        "insert": insert(dup_records).values(
            source_id=p("source_id"), identifier=p("identifier"), title=p("title"),
            fp_title=p("fp_title"), fp_year=p("fp_year"), fp_surname=p("fp_surname"),
            digest=p("digest")).returning(r.id),
        "update": update(dup_records).where(r.id == p("id")).values(
            title=p("title"), fp_title=p("fp_title"), fp_year=p("fp_year"),
            fp_surname=p("fp_surname"), digest=p("digest"), cluster_id=p("cluster")),
        "delete": delete(dup_records).where(r.id == p("id")),
        "drop_ids": delete(dup_identifiers).where(i.record_id == p("id")),
        "drop_blocks": delete(dup_blocks).where(b.record_id == p("id")),
        "add_id": insert(dup_identifiers).values(scheme=p("scheme"), value=p("value"),
                                                 record_id=p("id")),
        "add_block": insert(dup_blocks).values(block=p("block"), record_id=p("id")),
        "by_id": select(other.c.id, other.c.source_id, other.c.cluster_id)
        .select_from(dup_identifiers.join(other, other.c.id == i.record_id))
        .where(i.scheme == p("scheme"), i.value == p("value")).limit(_LIMIT).offset(_ZERO),
        "by_block": select(other.c.id, other.c.source_id, other.c.cluster_id, other.c.fp_title,
                           other.c.fp_year, other.c.fp_surname)
        .select_from(dup_blocks.join(other, other.c.id == b.record_id))
        .where(b.block == p("block")).limit(_LIMIT).offset(_ZERO),
        "add_link": insert(dup_links).values(low_id=p("low"), high_id=p("high"),
                                             kind=p("kind"), value=p("value"),
                                             score=p("score")),
        "drop_links_low": delete(dup_links).where(lk.low_id == p("id")),
        "drop_links_high": delete(dup_links).where(lk.high_id == p("id")),
        "set_cluster": update(dup_records).where(r.id == p("id")).values(
            cluster_id=p("cluster")),
        "relabel": update(dup_records).where(r.cluster_id == p("old")).values(
            cluster_id=p("new")),
        "members": select(r.id).where(r.cluster_id == p("cluster")),
        "member_links": select(lk.low_id, lk.high_id)
        .select_from(dup_links.join(dup_records, dup_records.c.id == lk.low_id))
        .where(and_(r.cluster_id == p("cluster"))),
    }
    return {key: compiled(dialect, stmt) for key, stmt in s.items()}


class DuplicateMatcher:
    """The matching step, on a driver cursor inside a write transaction."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.statements = _statements(dialect)
        self.postgresql = dialect.name == "postgresql"

    def run(self, cursor: Any, key: str, **values: Any) -> Any:
        sql, names = self.statements[key]
        cursor.execute(sql, values if names is None else tuple(values[n] for n in names))
        return cursor

    def apply(self, cursor: Any, source_id: int,
              records: Sequence[tuple[str, DuplicateKeys | None]], judge: Judge | None,
              stats: MatchStats | None = None) -> MatchStats:
        """File `records` of `source_id` ((OAI identifier, keys or None when deleted or
        without any)) and update links and clusters."""
        stats = stats or MatchStats()
        if self.postgresql and records:
            cursor.execute(text("SELECT pg_advisory_xact_lock(:k)").compile(
                dialect=self.dialect).string, {"k": LOCK_KEY})
        for identifier, keys in records:
            self._one(cursor, source_id, identifier, keys, judge, stats)
        return stats

    def _one(self, cursor: Any, source_id: int, identifier: str, keys: DuplicateKeys | None,
             judge: Judge | None, stats: MatchStats) -> None:
        stats.records += 1
        stats.lookups += 1
        row = self.run(cursor, "find", source_id=source_id, identifier=identifier).fetchone()
        if row is not None and keys is not None and row[2] == keys.digest:
            return  # nothing matching uses has changed
        if row is not None:
            self.detach(cursor, int(row[0]), row[1], stats)
            if keys is None:
                self.run(cursor, "delete", id=row[0])
                return
        if keys is None:
            return
        stats.filed += 1
        fields = {"title": keys.title, "fp_title": keys.fp_title, "fp_year": keys.year,
                  "fp_surname": keys.surname, "digest": keys.digest}
        if row is not None:
            rid = int(row[0])
            self.run(cursor, "update", id=rid, cluster=None, **fields)
            self.run(cursor, "drop_ids", id=rid)
            self.run(cursor, "drop_blocks", id=rid)
        else:
            rid = int(self.run(cursor, "insert", source_id=source_id, identifier=identifier,
                                **fields).fetchone()[0])
        found: dict[int, list[tuple[str, str, float | None]]] = {}
        clusters: dict[int, int | None] = {}
        for scheme, value in keys.identifiers:
            stats.lookups += 1
            for other, other_source, cluster in self.run(
                    cursor, "by_id", scheme=scheme, value=value).fetchall():
                if other_source != source_id:
                    found.setdefault(other, []).append((scheme, value, None))
                    clusters[other] = cluster
            self.run(cursor, "add_id", scheme=scheme, value=value, id=rid)
        if keys.fp_title is not None and judge is not None:
            mine = (keys.fp_title, keys.year or 0, keys.surname or "")
            judged: set[int] = set()
            for block in keys.blocks:
                stats.lookups += 1
                for other, other_source, cluster, title, year, surname in self.run(
                        cursor, "by_block", block=block).fetchall():
                    if other_source == source_id or other in found or other in judged:
                        continue
                    judged.add(other)
                    score = judge(mine, (title, year, surname))
                    if score is not None:
                        found[other] = [("fingerprint", keys.fp_title[:500], score)]
                        clusters[other] = cluster
        for block in keys.blocks:
            self.run(cursor, "add_block", block=block, id=rid)
        for other, evidence in found.items():
            low, high = min(rid, other), max(rid, other)
            for kind, value, score in evidence:
                self.run(cursor, "add_link", low=low, high=high, kind=kind, value=value,
                          score=score)
                stats.links += 1
        if found:
            self._join(cursor, rid, clusters)

    def _join(self, cursor: Any, rid: int, clusters: dict[int, int | None]) -> None:
        """`rid` (in no cluster yet) joins its linked records' clusters: every member takes
        the smallest label among them."""
        labels = {c if c is not None else o for o, c in clusters.items()} | {rid}
        new = min(labels)
        for old in labels - {new}:
            self.run(cursor, "relabel", old=old, new=new)
        for record in [rid, *(o for o, c in clusters.items() if c is None)]:
            self.run(cursor, "set_cluster", id=record, cluster=new)

    def detach(self, cursor: Any, rid: int, cluster: int | None, stats: MatchStats) -> None:
        """Drop `rid`'s links and leave its cluster, splitting what remains of it."""
        self.run(cursor, "drop_links_low", id=rid)
        self.run(cursor, "drop_links_high", id=rid)
        self.run(cursor, "set_cluster", id=rid, cluster=None)
        if cluster is not None:
            self.resplit(cursor, cluster, stats)

    def resplit(self, cursor: Any, cluster: int, stats: MatchStats) -> None:
        """Split what remains of a cluster after links left it into its components."""
        stats.lookups += 2
        members = [int(m) for (m,) in self.run(cursor, "members", cluster=cluster).fetchall()]
        links = [(int(a), int(b)) for a, b in
                 self.run(cursor, "member_links", cluster=cluster).fetchall()]
        for part in components(members, links):
            label = min(part) if len(part) > 1 else None
            if label == cluster:
                continue
            for member in part:
                self.run(cursor, "set_cluster", id=member, cluster=label)


@dataclass(frozen=True)
class ClusterMember:
    id: int
    source: str
    identifier: str
    title: str | None


@dataclass(frozen=True)
class ClusterLink:
    low_id: int
    high_id: int
    kind: str  # an identifier scheme, or "fingerprint"
    value: str
    score: float | None


@dataclass(frozen=True)
class Cluster:
    id: int
    members: tuple[ClusterMember, ...]
    links: tuple[ClusterLink, ...]
