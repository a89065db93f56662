"""The provider's store: writes that assign datestamps inside their transaction (the keyset
reads the provider serves from are in `oai.store.reads`).

Every public method runs its own short transaction. Rendering and validation happen before a
write transaction opens (see `oai.protocol.rendering`), so the write lock is held only for the
SQL itself, and the datestamp read under that lock is never older than the commit by more than
a few milliseconds. The reads the provider serves from run once more on a fresh connection if
theirs was lost, and raise StoreUnavailable if the database still does not answer
(`oai.store.resilience`).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, bindparam, delete, func, insert, select, update

from oai.protocol.canonical import canonical_json, set_ancestors
from oai.store import migrate
from oai.store.bulk import insert_rows
from oai.store.compiled import CompiledReads
from oai.store.engine import WRITE_OPTION, open_engine, parse_target, unwritable_reason
from oai.store.errors import ReadOnlyStore, StoreError
from oai.store.reads import ListedRecord, SetInfo, StoreReads
from oai.store.renditions import FormatState, RenditionAdmin
from oai.store.resilience import retried_read
from oai.store.tables import dump_list, record_sets, records, renditions, sets, settings

if TYPE_CHECKING:  # rendering (schemas, crosswalks) is loaded only by commands that write
    from oai.protocol.rendering import PreparedRecord

__all__ = ["KEEP", "FormatState", "ListedRecord", "LoadSummary", "ReadOnlyStore", "SetInfo",
           "Store", "StoreError"]

_CHUNK = 500


class _Keep:
    """The type of KEEP: "leave this value as it is stored"."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP = _Keep()


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


class Store(StoreReads, RenditionAdmin):
    """Records, sets and settings over one SQLAlchemy engine (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine, clock: Callable[[], int] | None = None,
                 read_only: bool = False) -> None:
        self.engine = engine
        self._clock = clock
        self.read_only = read_only
        self._compiled = CompiledReads(engine)

    @classmethod
    def open(cls, url: str, clock: Callable[[], int] | None = None,
             create: bool = False, read_only: bool = False) -> Store:
        """Open the store at `url`; with create=True, initialise or migrate it first.

        read_only=True opens it so that nothing can be written (read-only commands). A SQLite
        file this process cannot or must not write (see `unwritable_reason`), or a URL with
        `?mode=ro`, is opened read-only anyway, so that a provider can serve it; asking to
        create or migrate it then raises ReadOnlyStore."""
        if create and read_only:
            raise ValueError("a store opened read-only cannot be created")
        target = parse_target(url)
        path = target.sqlite_file
        read_only = read_only or target.read_only_url
        if path is not None:
            if not path.exists():
                if not create:
                    raise StoreError(f"there is no store at {path}: run 'oai init'")
            elif not read_only:
                reason = unwritable_reason(path)
                if reason and create:
                    raise ReadOnlyStore(f"the store {path} is read-only ({reason}): it cannot "
                                        "be initialised, migrated or written")
                read_only = reason is not None
        if create and read_only:
            raise ReadOnlyStore("the store is opened read-only (mode=ro in its URL): it "
                                "cannot be initialised, migrated or written")
        try:
            engine = open_engine(target, read_only=read_only)
            if create:
                if not migrate.is_current(engine):  # Alembic is loaded only to migrate
                    migrate.upgrade(engine)
            elif not migrate.is_current(engine):
                raise StoreError(f"the database at {path or target.url!r} is not initialised "
                                 "or not up to date: run 'oai init'")
        except StoreError:
            raise
        except Exception as exc:  # driver errors: unreachable server, unreadable file...
            raise StoreError(f"cannot open the database: {exc.__class__.__name__}: "
                             f"{str(exc).splitlines()[0]}") from exc
        store = cls(engine, clock, read_only=read_only)
        if create:
            store._ensure_settings()
        return store

    def close(self) -> None:
        self.engine.dispose()

    def refresh_statistics(self, changed: int) -> bool:
        """After a bulk write of `changed` records: on PostgreSQL, when that is at least a
        tenth of the records held, ANALYZE the list tables at once rather than waiting for
        autovacuum (until then the planner takes a freshly loaded table for empty, and a
        set-restricted page costs hundreds of milliseconds instead of a few). Whether it ran."""
        if self.engine.dialect.name != "postgresql" or changed <= 0:
            return False
        with self.engine.connect() as conn:
            held = conn.execute(select(func.count()).select_from(records)).scalar_one()
        if changed * 10 < held:
            return False
        with self.engine.connect() as conn:
            quote = conn.dialect.identifier_preparer.quote
            for table in (records, renditions, record_sets):
                conn.exec_driver_sql(f"ANALYZE {quote(table.name)}")
            conn.commit()
        return True

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

    def write(self, batch: Sequence[PreparedRecord],
              if_hash: Mapping[str, str] | None = None) -> LoadSummary:
        """Insert or update prepared records in one transaction; unchanged ones keep their
        datestamp. Within a batch a later record with the same id wins.

        With `if_hash` (id -> content hash read earlier), a record is written only if its
        stored hash is still that one: read-modify-write callers never overwrite a concurrent
        change; records left out are not counted."""
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
            if if_hash is not None:
                latest = {k: p for k, p in latest.items()
                          if k in existing and existing[k] == if_hash.get(k)}
            new = [p for p in latest.values() if p.id not in existing]
            changed = [p for p in latest.values()
                       if p.id in existing and existing[p.id] != p.content_hash]
            summary.added = len(new)
            summary.updated = len(changed)
            summary.unchanged = len(latest) - len(new) - len(changed)
            if new:
                insert_rows(conn, records, [self._record_row(p, now) for p in new])
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
            insert_rows(conn, renditions, rendition_rows)
            memberships = [
                {"set_spec": spec, "record_id": p.id, "datestamp": now}
                for p in written
                for spec in dict.fromkeys(a for s in p.set_specs for a in set_ancestors(s))
            ]
            if memberships:
                insert_rows(conn, record_sets, memberships)
                self._ensure_sets(conn, {str(m["set_spec"]) for m in memberships})
        return summary

    @staticmethod
    def _record_row(p: PreparedRecord, now: int) -> dict[str, Any]:
        return {"id": p.id, "datestamp": now, "deleted": p.deleted,
                "set_specs": dump_list(p.set_specs), "content_hash": p.content_hash,
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

    def add_set(self, spec: str, name: str, description: str | _Keep | None = KEEP) -> bool:
        """Create or rename a set (and create missing ancestors); True if it was new.

        An existing set keeps its description unless one is given (None removes it)."""
        with self.write_connection() as conn, conn.begin():
            exists = conn.execute(select(sets.c.spec).where(sets.c.spec == spec)).scalar()
            if exists:
                values: dict[str, Any] = {"name": name}
                if not isinstance(description, _Keep):
                    values["description"] = description
                conn.execute(update(sets).where(sets.c.spec == spec).values(**values))
            else:
                conn.execute(insert(sets).values(
                    spec=spec, name=name,
                    description=None if isinstance(description, _Keep) else description))
            self._ensure_sets(conn, set(set_ancestors(spec)) - {spec})
        return not exists

    # -- reading -------------------------------------------------------------------------
