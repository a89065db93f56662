"""The store's reads: the database clock and the keyset queries the provider serves from.

A mixin of `Store` (see `oai.store.repository`), kept apart from the writes. List pages and
GetRecord run on a raw driver cursor with statements compiled once per query shape.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import (
    Connection,
    Engine,
    LargeBinary,
    Select,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal_column,
    select,
    text,
    tuple_,
)

from oai.formats import MANDATORY_PREFIX
from oai.store.bounded import bounded_count
from oai.store.compiled import CompiledReads
from oai.store.resilience import retried_read
from oai.store.tables import load_list, record_sets, records, renditions, sets, settings

_CHUNK = 500  # ids per IN (...) list


class ListedRecord(NamedTuple):
    """One row of a list page: the header fields and, for ListRecords, the stored fragment.

    A plain tuple, built straight from a driver row: list pages are the hot path."""

    id: str
    datestamp: int
    deleted: bool
    specs: str  # the declared setSpecs as stored: a JSON array
    xml: bytes | str | None  # UTF-8 bytes from list pages, text from get_record

    @property
    def set_specs(self) -> tuple[str, ...]:
        return load_list(self.specs)


@dataclass(frozen=True)
class SetInfo:
    spec: str
    name: str
    description: str | None


def _as_bytes(value: Any) -> bytes | None:
    return None if value is None else bytes(value)



class StoreReads:
    """Reads over `engine`; `clock` (tests) replaces the database clock."""

    engine: Engine
    _clock: Callable[[], int] | None
    _compiled: CompiledReads

    # -- clock ---------------------------------------------------------------------------

    def clock_in(self, conn: Connection) -> int:
        """The datestamp clock: the database's own, read inside the caller's transaction."""
        if self._clock is not None:
            return self._clock()
        if conn.dialect.name == "sqlite":
            return int(conn.execute(text("SELECT CAST(strftime('%s','now') AS INTEGER)"))
                       .scalar_one())
        return int(conn.execute(text("SELECT FLOOR(EXTRACT(EPOCH FROM clock_timestamp()))"))
                   .scalar_one())

    @retried_read
    def now(self) -> int:
        with self.engine.connect() as conn:
            return self.clock_in(conn)

    @retried_read
    def earliest_datestamp(self) -> int:
        """The oldest datestamp, tombstones included; the store's creation time when empty."""
        with self.engine.connect() as conn:
            oldest = conn.execute(select(func.min(records.c.datestamp))).scalar()
            if oldest is not None:
                return int(oldest)
            created = conn.execute(select(settings.c.value)
                                   .where(settings.c.key == "created")).scalar()
            return int(created) if created else self.clock_in(conn)

    def _list_query(self, columns: list[Any], prefix: Any, set_spec: Any,
                    from_epoch: Any, until_epoch: Any) -> tuple[Select[Any], Any, Any]:
        """The records of a list window (values or bind parameters), and its keyset columns."""
        join_format = and_(renditions.c.record_id == records.c.id,
                           renditions.c.prefix == prefix)
        if set_spec is None:
            ds, rid = records.c.datestamp, records.c.id
            query = select(*columns).select_from(records.join(renditions, join_format))
        else:
            ds, rid = record_sets.c.datestamp, record_sets.c.record_id
            query = (select(*columns)
                     .select_from(record_sets
                                  .join(records, records.c.id == record_sets.c.record_id)
                                  .join(renditions, join_format))
                     .where(record_sets.c.set_spec == set_spec))
        query = query.where(ds <= until_epoch)
        if from_epoch is not None:
            query = query.where(ds >= from_epoch)
        return query, ds, rid

    @retried_read
    def list_page(self, prefix: str, set_spec: str | None, from_epoch: int | None,
                  until_epoch: int, after: tuple[int, str] | None, limit: int,
                  with_metadata: bool) -> list[ListedRecord]:
        """Up to `limit` records after the keyset position `after`, oldest first.

        Runs on a raw driver cursor with a statement compiled once per query shape: at 100
        rows a page, SQLAlchemy's per-row result processing costs more than the query."""
        shape = (set_spec is not None, from_epoch is not None, after is not None,
                 with_metadata, limit)
        rows = self._compiled.fetch(("list", *shape), lambda: self._list_statement(*shape), {
            "prefix": prefix, "set_spec": set_spec, "from_epoch": from_epoch,
            "until_epoch": until_epoch, "after_ds": after[0] if after else None,
            "after_id": after[1] if after else None})
        if with_metadata:
            return [ListedRecord(r[0], r[1], bool(r[2]), r[3], _as_bytes(r[4])) for r in rows]
        return [ListedRecord(r[0], r[1], bool(r[2]), r[3], None) for r in rows]

    def _list_statement(self, by_set: bool, by_from: bool, by_after: bool,
                        with_metadata: bool, limit: int) -> Select[Any]:
        """The list query for one shape, with bind parameters for its values."""
        columns: list[Any] = [records.c.id, records.c.datestamp, records.c.deleted,
                              records.c.set_specs]
        if with_metadata:
            # Fragments come back as UTF-8 bytes: no decoding here, no encoding when served.
            if self.engine.dialect.name == "postgresql":
                columns.append(func.convert_to(renditions.c.xml, literal_column("'UTF8'")))
            else:
                columns.append(cast(renditions.c.xml, LargeBinary))
        query, ds, rid = self._list_query(
            columns, bindparam("prefix"), bindparam("set_spec") if by_set else None,
            bindparam("from_epoch") if by_from else None, bindparam("until_epoch"))
        if by_after:
            query = query.where(tuple_(ds, rid) > tuple_(bindparam("after_ds"),
                                                         bindparam("after_id")))
        return query.order_by(ds, rid).limit(limit)

    @retried_read
    def count_list(self, prefix: str, set_spec: str | None, from_epoch: int | None,
                   until_epoch: int, cap: int | None = None) -> int:
        """Records of a list window (with `cap`: at most cap + 1, see `oai.store.bounded`).
        oai_dc is rendered for every record (a write fails otherwise), so its count needs no
        join: an index-only range count."""
        if prefix == MANDATORY_PREFIX:
            if set_spec is None:
                ds = records.c.datestamp
                query = select(func.count()).select_from(records)
            else:
                ds = record_sets.c.datestamp
                query = (select(func.count()).select_from(record_sets)
                         .where(record_sets.c.set_spec == set_spec))
            query = query.where(ds <= until_epoch)
            if from_epoch is not None:
                query = query.where(ds >= from_epoch)
        else:
            query, _, _ = self._list_query([func.count()], prefix, set_spec, from_epoch,
                                           until_epoch)
        with self.engine.connect() as conn:
            return bounded_count(conn, query, cap)

    @retried_read
    def get_record(self, record_id: str, prefix: str) -> tuple[ListedRecord, bool] | None:
        """The record (with its fragment in `prefix`) and whether it exists in that format."""
        rows = self._compiled.fetch(("get",), lambda: (
            select(records.c.id, records.c.datestamp, records.c.deleted, records.c.set_specs,
                   renditions.c.xml, renditions.c.prefix)
            .select_from(records.outerjoin(renditions, and_(
                renditions.c.record_id == records.c.id,
                renditions.c.prefix == bindparam("prefix"))))
            .where(records.c.id == bindparam("record_id"))),
            {"prefix": prefix, "record_id": record_id})
        if not rows:
            return None
        row = rows[0]
        listed = ListedRecord(row[0], row[1], bool(row[2]), row[3], row[4])
        return listed, row[5] is not None

    @retried_read
    def record_formats(self, record_id: str) -> list[str] | None:
        """Prefixes the record is disseminated in; None if the record does not exist."""
        with self.engine.connect() as conn:
            exists = conn.execute(select(records.c.id).where(records.c.id == record_id)).scalar()
            if exists is None:
                return None
            return list(conn.execute(select(renditions.c.prefix)
                                     .where(renditions.c.record_id == record_id)
                                     .order_by(renditions.c.prefix)).scalars())

    @retried_read
    def record_licences(self, ids: Iterable[str]) -> dict[str, str]:
        """The licence URL (rights.licence) of each of `ids` that has one: for the rights
        statements of about containers, read only when those are configured."""
        wanted = list(dict.fromkeys(ids))
        found: dict[str, str] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), _CHUNK):
                rows = conn.execute(select(records.c.id, records.c.data).where(
                    records.c.id.in_(wanted[start:start + _CHUNK])))
                for rid, data in rows:
                    rights = json.loads(data).get("rights") or {}
                    if isinstance(rights.get("licence"), str):
                        found[rid] = rights["licence"]
        return found

    @retried_read
    def count_sets(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(sets)).scalar_one())

    @retried_read
    def sets_page(self, after: str | None, limit: int) -> list[SetInfo]:
        query = select(sets.c.spec, sets.c.name, sets.c.description).order_by(sets.c.spec)
        if after is not None:
            query = query.where(sets.c.spec > after)
        with self.engine.connect() as conn:
            return [SetInfo(*row) for row in conn.execute(query.limit(limit))]

    def defined_sets(self, specs: Iterable[str]) -> set[str]:
        """Those of `specs` that are defined sets."""
        wanted = list(dict.fromkeys(specs))
        found: set[str] = set()
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), _CHUNK):
                found.update(conn.execute(select(sets.c.spec).where(
                    sets.c.spec.in_(wanted[start:start + _CHUNK]))).scalars())
        return found

    def content_hashes(self, ids: Iterable[str]) -> dict[str, str]:
        """The stored content hash of each of `ids` that exists (to compare without writing)."""
        wanted = list(dict.fromkeys(ids))
        found: dict[str, str] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), _CHUNK):
                rows = conn.execute(select(records.c.id, records.c.content_hash).where(
                    records.c.id.in_(wanted[start:start + _CHUNK])))
                found.update((rid, content_hash) for rid, content_hash in rows)
        return found

    def stats(self) -> dict[str, Any]:
        """Counts for `oai stats`."""
        with self.engine.connect() as conn:
            total, deleted, first, last = conn.execute(select(
                func.count(), func.coalesce(func.sum(case((records.c.deleted, 1), else_=0)), 0),
                func.min(records.c.datestamp), func.max(records.c.datestamp))).one()
            per_format: dict[str, int] = dict(conn.execute(
                select(renditions.c.prefix, func.count()).group_by(renditions.c.prefix)).all())
            set_count = conn.execute(select(func.count()).select_from(sets)).scalar_one()
        return {"records": int(total), "deleted": int(deleted), "sets": int(set_count),
                "formats": {k: int(v) for k, v in per_format.items()},
                "earliest_datestamp": first, "latest_datestamp": last}
