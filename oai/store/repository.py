"""The provider's store: writes that assign datestamps inside their transaction, and the keyset
reads the provider serves from.

Every public method runs its own short transaction. Rendering and validation happen before a
write transaction opens (see `oai.protocol.rendering`), so the write lock is held only for the
SQL itself, and the datestamp read under that lock is never older than the commit by more than
a few milliseconds. The reads the provider serves from run once more on a fresh connection if
theirs was lost, and raise StoreUnavailable if the database still does not answer
(`oai.store.failures`).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
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
    delete,
    func,
    insert,
    literal_column,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.sql.compiler import SQLCompiler

from oai.protocol.formats import MANDATORY_PREFIX
from oai.protocol.rendering import PreparedRecord, canonical_json, set_ancestors
from oai.store import migrate
from oai.store.engine import WRITE_OPTION, open_engine
from oai.store.failures import StoreError, lost_connection, retried_read
from oai.store.tables import record_sets, records, renditions, sets, settings

_CHUNK = 500


@dataclass
class LoadSummary:
    """What a load did, record by record."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (where, reason)

    def merge(self, other: LoadSummary) -> None:
        self.added += other.added
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.rejected.extend(other.rejected)


class ListedRecord(NamedTuple):
    """One row of a list page: the header fields and, for ListRecords, the stored fragment.

    A plain tuple, built straight from a driver row: list pages are the hot path."""

    id: str
    datestamp: int
    deleted: bool
    specs: str  # space-separated setSpecs, as stored
    xml: bytes | str | None  # UTF-8 bytes from list pages, text from get_record

    @property
    def set_specs(self) -> tuple[str, ...]:
        return _specs(self.specs)


@dataclass(frozen=True)
class SetInfo:
    spec: str
    name: str
    description: str | None


def _as_bytes(value: Any) -> bytes | None:
    return None if value is None else bytes(value)


def _specs(value: str) -> tuple[str, ...]:
    return tuple(value.split()) if value else ()


class Store:
    """Records, sets and settings over one SQLAlchemy engine (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine, clock: Callable[[], int] | None = None) -> None:
        self.engine = engine
        self._clock = clock
        self._compiled: dict[tuple[Any, ...], SQLCompiler] = {}

    @classmethod
    def open(cls, url: str, clock: Callable[[], int] | None = None,
             create: bool = False) -> Store:
        """Open the store at `url`; with create=True, initialise or migrate it first."""
        try:
            engine = open_engine(url)
            if create:
                migrate.upgrade(engine)
            elif not migrate.is_current(engine):
                raise StoreError(f"the database at {engine.url!r} is not initialised or "
                                 "not up to date: run 'oai init'")
        except StoreError:
            raise
        except Exception as exc:  # driver errors: unreachable server, unreadable file...
            raise StoreError(f"cannot open the database: {exc.__class__.__name__}: "
                             f"{str(exc).splitlines()[0]}") from exc
        store = cls(engine, clock)
        if create:
            store._ensure_settings()
        return store

    def close(self) -> None:
        self.engine.dispose()

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

    def write_connection(self) -> Any:
        """A connection whose transactions take the write lock at BEGIN (SQLite), so that a
        datestamp read with `clock_in` is never older than a concurrent writer's commit."""
        return self.engine.connect().execution_options(**{WRITE_OPTION: True})

    # -- settings ------------------------------------------------------------------------

    def _ensure_settings(self) -> None:
        with self.write_connection() as conn, conn.begin():
            have = set(conn.execute(select(settings.c.key)).scalars())
            wanted = {"token_secret": secrets.token_hex(32), "created": str(self.clock_in(conn))}
            rows = [{"key": k, "value": v} for k, v in wanted.items() if k not in have]
            if rows:
                conn.execute(insert(settings), rows)

    @retried_read
    def setting(self, key: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(select(settings.c.value).where(settings.c.key == key)).scalar()

    # -- writing -------------------------------------------------------------------------

    def write(self, batch: Sequence[PreparedRecord]) -> LoadSummary:
        """Insert or update prepared records in one transaction; unchanged ones keep their
        datestamp. Within a batch a later record with the same id wins."""
        summary = LoadSummary()
        latest = {p.id: p for p in batch}
        if not latest:
            return summary
        with self.write_connection() as conn, conn.begin():
            now = self.clock_in(conn)
            existing = dict(conn.execute(
                select(records.c.id, records.c.content_hash)
                .where(records.c.id.in_(list(latest)))
            ).all())
            new = [p for p in latest.values() if p.id not in existing]
            changed = [p for p in latest.values()
                       if p.id in existing and existing[p.id] != p.content_hash]
            summary.added = len(new)
            summary.updated = len(changed)
            summary.unchanged = len(latest) - len(new) - len(changed)
            if new:
                conn.execute(insert(records), [self._record_row(p, now) for p in new])
            if changed:
                conn.execute(
                    update(records).where(records.c.id == bindparam("b_id")).values(
                        datestamp=bindparam("datestamp"), deleted=bindparam("deleted"),
                        set_specs=bindparam("set_specs"),
                        content_hash=bindparam("content_hash"), data=bindparam("data")),
                    [{**self._record_row(p, now), "b_id": p.id} for p in changed],
                )
                ids = [p.id for p in changed]
                conn.execute(delete(renditions).where(renditions.c.record_id.in_(ids)))
                conn.execute(delete(record_sets).where(record_sets.c.record_id.in_(ids)))
            written = new + changed
            rendition_rows = [
                {"record_id": p.id, "prefix": prefix, "xml": None if p.deleted else xml}
                for p in written for prefix, xml in p.renditions.items()
            ]
            if rendition_rows:
                conn.execute(insert(renditions), rendition_rows)
            memberships = [
                {"set_spec": spec, "record_id": p.id, "datestamp": now}
                for p in written
                for spec in dict.fromkeys(a for s in p.set_specs for a in set_ancestors(s))
            ]
            if memberships:
                conn.execute(insert(record_sets), memberships)
                self._ensure_sets(conn, {str(m["set_spec"]) for m in memberships})
        return summary

    @staticmethod
    def _record_row(p: PreparedRecord, now: int) -> dict[str, Any]:
        return {"id": p.id, "datestamp": now, "deleted": p.deleted,
                "set_specs": " ".join(p.set_specs), "content_hash": p.content_hash,
                "data": p.data}

    @staticmethod
    def _ensure_sets(conn: Connection, specs: set[str]) -> None:
        known = set(conn.execute(select(sets.c.spec).where(sets.c.spec.in_(list(specs))))
                    .scalars())
        missing = sorted(specs - known)
        if missing:
            conn.execute(insert(sets), [{"spec": s, "name": s, "description": None}
                                        for s in missing])

    def delete(self, ids: Iterable[str]) -> tuple[list[str], list[str], list[str]]:
        """Turn records into tombstones: (deleted, already deleted, unknown) ids.

        A tombstone keeps its set memberships and its list of formats, gets a new datestamp,
        and stays forever (deletedRecord=persistent)."""
        done: list[str] = []
        already: list[str] = []
        unknown: list[str] = []
        wanted = list(dict.fromkeys(ids))
        with self.write_connection() as conn, conn.begin():
            now = self.clock_in(conn)
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start:start + _CHUNK]
                tombstoned: list[str] = []
                rows = {r.id: r for r in conn.execute(
                    select(records.c.id, records.c.deleted, records.c.data)
                    .where(records.c.id.in_(chunk)))}
                for rid in chunk:
                    row = rows.get(rid)
                    if row is None:
                        unknown.append(rid)
                        continue
                    if row.deleted:
                        already.append(rid)
                        continue
                    data = json.loads(row.data)
                    data["deleted"] = True
                    canonical = canonical_json(data)
                    conn.execute(update(records).where(records.c.id == rid).values(
                        deleted=True, datestamp=now, data=canonical,
                        content_hash=hashlib.sha256(canonical.encode()).hexdigest()))
                    tombstoned.append(rid)
                if tombstoned:
                    conn.execute(update(renditions)
                                 .where(renditions.c.record_id.in_(tombstoned)).values(xml=None))
                    conn.execute(update(record_sets)
                                 .where(record_sets.c.record_id.in_(tombstoned))
                                 .values(datestamp=now))
                    done.extend(tombstoned)
        return done, already, unknown

    def add_set(self, spec: str, name: str, description: str | None = None) -> bool:
        """Create or rename a set (and create missing ancestors); True if it was new."""
        with self.write_connection() as conn, conn.begin():
            exists = conn.execute(select(sets.c.spec).where(sets.c.spec == spec)).scalar()
            if exists:
                conn.execute(update(sets).where(sets.c.spec == spec)
                             .values(name=name, description=description))
            else:
                conn.execute(insert(sets).values(spec=spec, name=name,
                                                 description=description))
            self._ensure_sets(conn, set(set_ancestors(spec)) - {spec})
        return not exists

    # -- reading -------------------------------------------------------------------------

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
        rows = self._fetch_compiled(("list", *shape), lambda: self._compile_list(*shape), {
            "prefix": prefix, "set_spec": set_spec, "from_epoch": from_epoch,
            "until_epoch": until_epoch, "after_ds": after[0] if after else None,
            "after_id": after[1] if after else None})
        if with_metadata:
            return [ListedRecord(r[0], r[1], bool(r[2]), r[3], _as_bytes(r[4])) for r in rows]
        return [ListedRecord(r[0], r[1], bool(r[2]), r[3], None) for r in rows]

    def _fetch_compiled(self, key: tuple[Any, ...], build: Callable[[], SQLCompiler],
                        values: dict[str, Any]) -> list[Any]:
        """Rows of a statement compiled once per key, run on a raw driver cursor."""
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = build()
        bound = compiled.construct_params(values)
        params: Any = ([bound[n] for n in compiled.positiontup or ()] if compiled.positional
                       else bound)
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute(compiled.string, params)
            rows = cursor.fetchall()
            cursor.close()
        except Exception as error:
            if lost_connection(error, self.engine):
                raw.invalidate()  # never hand a dead connection back to the pool
            raise
        finally:
            raw.close()
        return list(rows)

    def _compile(self, query: Any) -> SQLCompiler:
        compiled = query.compile(dialect=self.engine.dialect)
        assert isinstance(compiled, SQLCompiler)
        return compiled

    def _compile_list(self, by_set: bool, by_from: bool, by_after: bool,
                      with_metadata: bool, limit: int) -> SQLCompiler:
        """The list query for one shape, compiled for this engine's dialect."""
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
        return self._compile(query.order_by(ds, rid).limit(limit))

    @retried_read
    def count_list(self, prefix: str, set_spec: str | None, from_epoch: int | None,
                   until_epoch: int) -> int:
        """Records of a list window. oai_dc is rendered for every record (a write fails
        otherwise), so its count needs no join: an index-only range count."""
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
            return int(conn.execute(query).scalar_one())

    @retried_read
    def get_record(self, record_id: str, prefix: str) -> tuple[ListedRecord, bool] | None:
        """The record (with its fragment in `prefix`) and whether it exists in that format."""
        rows = self._fetch_compiled(("get",), lambda: self._compile(
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
