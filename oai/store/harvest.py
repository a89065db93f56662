"""Harvest state in the store: sources, runs, windows, harvested records and quarantine.

The harvester's sync loop is the only caller that writes here. `write_page` is the heart of
crash safety: a page's records, its quarantined fragments and the resumption token that follows
it are committed in one transaction, so a process killed at any instant loses at most the page
it was fetching, and the next run resumes from the saved token.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Connection,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from oai.store.repository import Store, StoreError
from oai.store.tables import harvested, quarantine, runs, sources, windows


class SourceExists(StoreError):
    """A source of that name is already defined."""


class UnknownSource(StoreError):
    """No source has that name."""


@dataclass(frozen=True)
class SourceRow:
    id: int
    name: str
    base_url: str
    metadata_prefix: str
    set_specs: tuple[str, ...]
    min_interval: float | None
    granularity: str | None
    earliest_datestamp: str | None
    deleted_record: str | None
    compression: str | None
    quirks: tuple[str, ...]
    repository_name: str | None
    last_complete_from: str | None
    last_complete_run: int | None


@dataclass(frozen=True)
class RunRow:
    id: int
    source_id: int
    mode: str
    status: str
    started: int
    finished: int | None
    from_date: str | None
    response_date: str | None
    pages: int
    records: int
    deleted: int
    quarantined: int
    errors: tuple[str, ...]
    reason: str | None


@dataclass(frozen=True)
class WindowRow:
    id: int
    run_id: int
    position: int
    set_spec: str | None
    from_date: str | None
    until_date: str | None
    status: str
    token: str | None
    cursor: int | None
    complete_list_size: int | None
    pages: int
    attempts: int


@dataclass(frozen=True)
class RecordWrite:
    """One harvested record as the sync loop hands it over."""

    identifier: str
    datestamp: str
    datestamp_epoch: int | None
    deleted: bool
    set_specs: tuple[str, ...]
    metadata: str | None
    about: str | None = None


@dataclass(frozen=True)
class QuarantineWrite:
    identifier: str | None
    reason: str
    raw: bytes | None


@dataclass(frozen=True)
class PageWrite:
    """Everything one page commits at once."""

    records: Sequence[RecordWrite]
    quarantined: Sequence[QuarantineWrite] = ()
    next_token: str | None = None  # None: the window is complete
    cursor: int | None = None
    complete_list_size: int | None = None
    response_date: str | None = None
    repairs: Sequence[str] = field(default_factory=tuple)


def this_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _owner_alive(owner: str) -> bool:
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True  # another machine: trust its lease until it expires
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _source(row: Any) -> SourceRow:
    return SourceRow(row.id, row.name, row.base_url, row.metadata_prefix,
                     tuple(row.set_specs.split()) if row.set_specs else (), row.min_interval,
                     row.granularity, row.earliest_datestamp, row.deleted_record,
                     row.compression, tuple(json.loads(row.quirks or "[]")),
                     row.repository_name, row.last_complete_from, row.last_complete_run)


def _run(row: Any) -> RunRow:
    return RunRow(row.id, row.source_id, row.mode, row.status, row.started, row.finished,
                  row.from_date, row.response_date, row.pages, row.records, row.deleted,
                  row.quarantined, tuple(json.loads(row.errors or "[]")), row.reason)


def _window(row: Any) -> WindowRow:
    return WindowRow(row.id, row.run_id, row.position, row.set_spec, row.from_date,
                     row.until_date, row.status, row.token, row.cursor,
                     row.complete_list_size, row.pages, row.attempts)


class HarvestStore:
    """Harvest state over the same engine as the provider's store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.engine = store.engine
        self._upsert: tuple[str, list[str] | None] | None = None
        self._lease_renewed: dict[int, float] = {}

    def now(self) -> int:
        return self.store.now()

    # -- sources -------------------------------------------------------------------------

    def add_source(self, name: str, base_url: str, metadata_prefix: str = "oai_dc",
                   set_specs: Sequence[str] = (), min_interval: float | None = None) -> SourceRow:
        with self.store.write_connection() as conn, conn.begin():
            if conn.execute(select(sources.c.id).where(sources.c.name == name)).scalar():
                raise SourceExists(f"a source named {name!r} already exists")
            conn.execute(insert(sources).values(
                name=name, base_url=base_url, metadata_prefix=metadata_prefix,
                set_specs=" ".join(set_specs), min_interval=min_interval,
                created=self.store.clock_in(conn), quirks="[]"))
        found = self.get_source(name)
        assert found is not None
        return found

    def get_source(self, name: str) -> SourceRow | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(sources).where(sources.c.name == name)).first()
        return _source(row) if row else None

    def require_source(self, name: str) -> SourceRow:
        found = self.get_source(name)
        if found is None:
            raise UnknownSource(f"no source named {name!r} (see 'oai harvest list')")
        return found

    def list_sources(self) -> list[SourceRow]:
        with self.engine.connect() as conn:
            return [_source(r) for r in conn.execute(select(sources).order_by(sources.c.name))]

    def update_profile(self, source_id: int, **values: Any) -> None:
        """Store what was learned about a source (granularity, earliestDatestamp, quirks...)."""
        if "quirks" in values:
            values["quirks"] = json.dumps(sorted(set(values["quirks"])))
        with self.store.write_connection() as conn, conn.begin():
            conn.execute(update(sources).where(sources.c.id == source_id).values(**values))

    # -- leases --------------------------------------------------------------------------

    def acquire_lease(self, source_id: int, owner: str, seconds: int = 300) -> str | None:
        """Take the source for `owner`; returns None, or who holds it if that one is alive."""
        with self.store.write_connection() as conn, conn.begin():
            now = self.store.clock_in(conn)
            held = conn.execute(select(sources.c.lease_owner, sources.c.lease_until)
                                .where(sources.c.id == source_id)).one()
            if (held.lease_owner and held.lease_owner != owner
                    and (held.lease_until or 0) > now and _owner_alive(held.lease_owner)):
                return str(held.lease_owner)
            conn.execute(update(sources).where(sources.c.id == source_id)
                         .values(lease_owner=owner, lease_until=now + seconds))
        return None

    def release_lease(self, source_id: int, owner: str) -> None:
        with self.store.write_connection() as conn, conn.begin():
            conn.execute(update(sources).where(and_(sources.c.id == source_id,
                                                    sources.c.lease_owner == owner))
                         .values(lease_owner=None, lease_until=None))

    # -- runs and windows ----------------------------------------------------------------

    def unfinished_run(self, source_id: int) -> RunRow | None:
        """The latest run if it can be resumed: left 'running' by a process that died, or
        ended 'incomplete' by a transport failure with windows still pending."""
        with self.engine.connect() as conn:
            row = conn.execute(select(runs).where(runs.c.source_id == source_id)
                               .order_by(runs.c.id.desc())).first()
            if row is None or row.status not in ("running", "incomplete"):
                return None
            pending = conn.execute(select(func.count()).select_from(windows).where(and_(
                windows.c.run_id == row.id, windows.c.status == "pending"))).scalar_one()
        return _run(row) if pending else None

    def reopen_run(self, run: RunRow) -> RunRow:
        with self.store.write_connection() as conn, conn.begin():
            conn.execute(update(runs).where(runs.c.id == run.id)
                         .values(status="running", finished=None))
        found = self.get_run(run.id)
        assert found is not None
        return found

    def start_run(self, source_id: int, mode: str, from_date: str | None,
                  response_date: str | None,
                  plan: Sequence[tuple[str | None, str | None, str | None]]) -> RunRow:
        """Create a run and its windows (set, from, until) in one transaction."""
        with self.store.write_connection() as conn, conn.begin():
            run_id = conn.execute(insert(runs).values(
                source_id=source_id, mode=mode, status="running",
                started=self.store.clock_in(conn), from_date=from_date,
                response_date=response_date, pages=0, records=0, deleted=0, quarantined=0,
                errors="[]").returning(runs.c.id)).scalar_one()
            if plan:
                conn.execute(insert(windows), [
                    {"run_id": run_id, "position": i * 1000, "set_spec": s, "from_date": f,
                     "until_date": u, "status": "pending", "pages": 0, "attempts": 0}
                    for i, (s, f, u) in enumerate(plan)])
        found = self.get_run(run_id)
        assert found is not None
        return found

    def get_run(self, run_id: int) -> RunRow | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(runs).where(runs.c.id == run_id)).first()
        return _run(row) if row else None

    def last_run(self, source_id: int) -> RunRow | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(runs).where(runs.c.source_id == source_id)
                               .order_by(runs.c.id.desc())).first()
        return _run(row) if row else None

    def windows_of(self, run_id: int) -> list[WindowRow]:
        with self.engine.connect() as conn:
            return [_window(r) for r in conn.execute(
                select(windows).where(windows.c.run_id == run_id)
                .order_by(windows.c.position, windows.c.id))]

    def restart_window(self, window_id: int) -> None:
        """Forget a window's token (e.g. it expired): the window is fetched again from its
        start; records already written are simply upserted again."""
        with self.store.write_connection() as conn, conn.begin():
            conn.execute(update(windows).where(windows.c.id == window_id).values(
                token=None, cursor=None, attempts=windows.c.attempts + 1))

    def split_window(self, window: WindowRow,
                     halves: Sequence[tuple[str | None, str | None]]) -> None:
        """Replace a failing window by narrower ones placed where it stood."""
        with self.store.write_connection() as conn, conn.begin():
            conn.execute(update(windows).where(windows.c.id == window.id)
                         .values(status="split"))
            conn.execute(insert(windows), [
                {"run_id": window.run_id, "position": window.position + i + 1,
                 "set_spec": window.set_spec, "from_date": f, "until_date": u,
                 "status": "pending", "pages": 0, "attempts": 0}
                for i, (f, u) in enumerate(halves)])

    def fail_window(self, window_id: int) -> None:
        with self.store.write_connection() as conn, conn.begin():
            conn.execute(update(windows).where(windows.c.id == window_id)
                         .values(status="failed"))

    def write_page(self, run: RunRow, window: WindowRow, page: PageWrite) -> None:
        """Commit one page: records, quarantine, the following token and the run's counters."""
        latest = {r.identifier: r for r in page.records}  # a page may repeat an identifier
        with self.store.write_connection() as conn, conn.begin():
            if latest:
                self._upsert_records(conn, run, list(latest.values()), page.response_date)
            if page.quarantined:
                now = self.store.clock_in(conn)
                conn.execute(insert(quarantine), [
                    {"source_id": run.source_id, "run_id": run.id, "identifier": q.identifier,
                     "reason": q.reason, "raw": q.raw, "created": now}
                    for q in page.quarantined])
            conn.execute(update(windows).where(windows.c.id == window.id).values(
                token=page.next_token, cursor=page.cursor,
                complete_list_size=page.complete_list_size, pages=windows.c.pages + 1,
                status="pending" if page.next_token else "done"))
            deleted = sum(1 for r in latest.values() if r.deleted)
            values: dict[str, Any] = {
                "pages": runs.c.pages + 1, "records": runs.c.records + len(latest),
                "deleted": runs.c.deleted + deleted,
                "quarantined": runs.c.quarantined + len(page.quarantined)}
            if page.repairs:
                errors = json.loads(conn.execute(select(runs.c.errors)
                                                 .where(runs.c.id == run.id)).scalar_one())
                errors.extend(f"repaired: {r}" for r in page.repairs)
                values["errors"] = json.dumps(errors[-200:])
            conn.execute(update(runs).where(runs.c.id == run.id).values(**values))
            if time.monotonic() - self._lease_renewed.get(run.source_id, 0.0) >= 30:
                conn.execute(update(sources).where(sources.c.id == run.source_id)
                             .values(lease_until=self.store.clock_in(conn) + 300))
                self._lease_renewed[run.source_id] = time.monotonic()

    def _upsert_records(self, conn: Connection, run: RunRow, rows: list[RecordWrite],
                        response_date: str | None) -> None:
        """Insert or replace a page of records with one executemany of a statement compiled
        once: per-row SQLAlchemy parameter processing would cost more than SQLite itself."""
        if self._upsert is None:
            self._upsert = self._compile_upsert(conn)
        sql, names = self._upsert
        values = [{"source_id": run.source_id, "identifier": r.identifier,
                   "datestamp": r.datestamp, "datestamp_epoch": r.datestamp_epoch,
                   "deleted": r.deleted, "set_specs": " ".join(r.set_specs),
                   "metadata": None if r.deleted else r.metadata,
                   "about": r.about, "run_id": run.id, "response_date": response_date}
                  for r in rows]
        if names is None:
            conn.exec_driver_sql(sql, values)
        else:
            conn.exec_driver_sql(sql, [tuple(v[n] for n in names) for v in values])

    def _compile_upsert(self, conn: Connection) -> tuple[str, list[str] | None]:
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(harvested).values(
            {c.name: bindparam(c.name) for c in harvested.columns})
        excluded = stmt.excluded
        stmt = stmt.on_conflict_do_update(
            index_elements=[harvested.c.source_id, harvested.c.identifier],
            set_={name: getattr(excluded, name) for name in (
                "datestamp", "datestamp_epoch", "deleted", "set_specs", "metadata", "about",
                "run_id", "response_date")})
        compiled = stmt.compile(dialect=conn.dialect)
        names = list(compiled.positiontup or []) if compiled.positional else None
        return compiled.string, names

    def add_error(self, run_id: int, message: str) -> None:
        with self.store.write_connection() as conn, conn.begin():
            errors = json.loads(conn.execute(select(runs.c.errors)
                                             .where(runs.c.id == run_id)).scalar_one())
            errors.append(message)
            conn.execute(update(runs).where(runs.c.id == run_id)
                         .values(errors=json.dumps(errors[-200:])))

    def finish_run(self, run: RunRow, status: str, reason: str | None = None) -> RunRow:
        """Close a run; a complete one becomes the base of the next incremental harvest."""
        with self.store.write_connection() as conn, conn.begin():
            conn.execute(update(runs).where(runs.c.id == run.id).values(
                status=status, reason=reason, finished=self.store.clock_in(conn)))
            if status == "complete":
                conn.execute(update(sources).where(sources.c.id == run.source_id).values(
                    last_complete_from=run.response_date, last_complete_run=run.id))
        found = self.get_run(run.id)
        assert found is not None
        return found

    def reconcile(self, run: RunRow) -> int:
        """After a complete full harvest, records the source no longer lists are tombstoned."""
        with self.store.write_connection() as conn, conn.begin():
            result = conn.execute(update(harvested).where(and_(
                harvested.c.source_id == run.source_id, harvested.c.run_id != run.id,
                harvested.c.deleted.is_(False))).values(deleted=True, metadata=None))
            return int(result.rowcount or 0)

    # -- reading -------------------------------------------------------------------------

    def counts(self, source_id: int) -> tuple[int, int]:
        """(records, of which deleted) held for a source."""
        with self.engine.connect() as conn:
            total, deleted = conn.execute(select(
                func.count(), func.coalesce(func.sum(case((harvested.c.deleted, 1), else_=0)),
                                            0))
                .where(harvested.c.source_id == source_id)).one()
        return int(total), int(deleted)

    def quarantine_count(self, source_id: int) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(quarantine)
                                    .where(quarantine.c.source_id == source_id)).scalar_one())

    def iter_records(self, source_id: int, batch: int = 1000) -> Iterator[Any]:
        """Every record of a source by identifier, in bounded batches (memory stays flat)."""
        after: str | None = None
        while True:
            query = (select(harvested.c.identifier, harvested.c.datestamp, harvested.c.deleted,
                            harvested.c.set_specs, harvested.c.metadata)
                     .where(harvested.c.source_id == source_id)
                     .order_by(harvested.c.identifier).limit(batch))
            if after is not None:
                query = query.where(harvested.c.identifier > after)
            with self.engine.connect() as conn:
                rows = conn.execute(query).all()
            yield from rows
            if len(rows) < batch:
                return
            after = rows[-1].identifier

    def delete_source_records(self, source_id: int) -> None:
        with self.store.write_connection() as conn, conn.begin():
            conn.execute(delete(harvested).where(harvested.c.source_id == source_id))
