"""Committing a harvested page: the heart of crash safety.

A page's records, its quarantined fragments, the resumption token that follows it and the
run's counters are committed in one transaction, so a process killed at any instant loses at
most the page it was fetching, and the next run resumes from the saved token. A commit whose
connection was lost is retried on a new one; the window's page count says whether the first
attempt had in fact committed, so a page is never counted twice.
"""

from __future__ import annotations

import json
import time
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Connection,
    bindparam,
    insert,
    literal_column,
    or_,
    select,
    update,
)

from oai.store.bulk import compiled, execute_rows
from oai.store.harvest.base import HarvestBase
from oai.store.harvest.duplicates import DuplicateMatcher
from oai.store.harvest.rows import PageWrite, RecordWrite, RunRow, WindowRow
from oai.store.published import Sql, source_info, sync
from oai.store.tables import dump_list, harvested, quarantine, runs, windows

# a harvested row as `_upsert_records` builds it: the table's columns, in its order
_ROW = ("source_id", "identifier", "datestamp", "datestamp_epoch", "deleted", "set_specs",
        "metadata", "about", "run_id", "response_date", "schema_errors")
_UPDATED = ("datestamp", "datestamp_epoch", "deleted", "set_specs", "metadata", "about",
            "run_id", "response_date", "schema_errors")


class PageWriter(HarvestBase):
    _statements: dict[str, tuple[str, list[str] | None]] | None = None
    _matcher: DuplicateMatcher | None = None

    def _duplicates(self) -> DuplicateMatcher:
        if self._matcher is None:
            self._matcher = DuplicateMatcher(self.engine.dialect)
        return self._matcher

    def write_page(self, run: RunRow, window: WindowRow, page: PageWrite) -> None:
        """Commit one page: records, quarantine, the following token and the counters.

        The window moves on first, on condition that it still holds `window_pages - 1`
        pages: if not, an earlier attempt has committed this page already and nothing is
        written again. Statements are compiled once and run on a driver cursor: at a hundred
        records a page, SQLAlchemy's per-statement work would cost as much as SQLite's."""
        latest = list({r.identifier: r for r in page.records}.values())  # last one wins
        if self._statements is None:
            self._statements = self._read(self._compile_all)

        def work(cursor: Any) -> None:
            moved = self._execute(cursor, "advance", {
                "w_id": window.id, "token": page.next_token, "cursor": page.cursor,
                "size": page.complete_list_size,
                "status": "pending" if page.next_token else "done",
                "before": (page.window_pages - 1) if page.window_pages is not None else None})
            if not moved:
                return  # committed before the connection was lost
            sql = Sql(cursor, self.engine.dialect.paramstyle)
            source = source_info(sql, run.source_id)
            extra = window.prefix if window.prefix not in (None, source and source.prefix) \
                else None
            if latest and extra is not None:
                upsert_formats(sql, run, extra, latest)
            elif latest:
                self._upsert_records(cursor, run, latest, page.response_date)
                if page.judge is not None:
                    self._duplicates().apply(
                        cursor, run.source_id,
                        [(r.identifier, None if r.deleted else r.keys) for r in latest],
                        page.judge)
            if latest and source is not None and source.publish:
                sync(sql, run.source_id, [r.identifier for r in latest],
                     self._now(sql))
            now = int(time.time())
            for q in page.quarantined:
                self._execute(cursor, "quarantine", {
                    "source_id": run.source_id, "run_id": run.id, "identifier": q.identifier,
                    "reason": q.reason, "raw": q.raw, "created": now})
            self._execute(cursor, "count", {
                "r_id": run.id, "records": len(latest),
                "deleted": sum(1 for r in latest if r.deleted),
                "quarantined": len(page.quarantined), "requests": page.requests,
                "invalid": sum(1 for r in latest if r.schema_errors)})
            if page.repairs:
                self._execute(cursor, "errors", {"r_id": run.id})
                errors = json.loads(cursor.fetchone()[0])
                errors.extend(f"repaired: {r}" for r in page.repairs)
                self._execute(cursor, "set_errors", {"r_id": run.id,
                                                     "errors": json.dumps(errors[-200:])})

        self._write_raw(work)

    def _now(self, sql: Sql) -> int:
        """The datestamp clock inside the page's transaction (the store's, or its test
        clock), for the published copies the page changes."""
        if self.store._clock is not None:
            return self.store._clock()
        query = ("SELECT CAST(strftime('%s','now') AS INTEGER)" if sql.qmark
                 else "SELECT FLOOR(EXTRACT(EPOCH FROM clock_timestamp()))")
        return int(sql.run(query)[0][0])

    def _execute(self, cursor: Any, key: str, values: dict[str, Any]) -> int:
        """Run one of the compiled statements; the number of rows it touched."""
        assert self._statements is not None
        sql, names = self._statements[key]
        cursor.execute(sql, values if names is None else tuple(values[n] for n in names))
        return int(cursor.rowcount or 0)

    def _compile_all(self, conn: Connection) -> dict[str, tuple[str, list[str] | None]]:
        before: Any = bindparam("before")
        one: Any = literal_column("1")
        advance = update(windows).where(
            windows.c.id == bindparam("w_id"),
            or_(before.is_(None), windows.c.pages == before)).values(
            token=bindparam("token"), cursor=bindparam("cursor"),
            complete_list_size=bindparam("size"), pages=windows.c.pages + one,
            status=bindparam("status"))
        count = update(runs).where(runs.c.id == bindparam("r_id")).values(
            pages=runs.c.pages + one, records=runs.c.records + bindparam("records"),
            deleted=runs.c.deleted + bindparam("deleted"),
            quarantined=runs.c.quarantined + bindparam("quarantined"),
            requests=runs.c.requests + bindparam("requests"),
            invalid_records=runs.c.invalid_records + bindparam("invalid"))
        errors = select(runs.c.errors).where(runs.c.id == bindparam("r_id"))
        set_errors = update(runs).where(runs.c.id == bindparam("r_id")).values(
            errors=bindparam("errors"))
        held = insert(quarantine).values(
            {c: bindparam(c) for c in ("source_id", "run_id", "identifier", "reason", "raw",
                                       "created")})
        return {"advance": _compiled(conn, advance), "count": _compiled(conn, count),
                "upsert": self._compile_upsert(conn), "errors": _compiled(conn, errors),
                "set_errors": _compiled(conn, set_errors), "quarantine": _compiled(conn, held)}

    def _upsert_records(self, cursor: Any, run: RunRow, rows: list[RecordWrite],
                        response_date: str | None) -> None:
        """Insert or replace a page of records with one statement (SQLite) or executemany."""
        assert self._statements is not None
        sql, names = self._statements["upsert"]
        source, run_id = run.source_id, run.id
        # in the order the statement binds them (_ROW), as `_compile_upsert` makes sure
        values = [(source, r.identifier, r.datestamp, r.datestamp_epoch, r.deleted,
                   _set_list(r.set_specs), None if r.deleted else r.metadata, r.about,
                   run_id, response_date, r.schema_errors)
                  for r in rows]
        if names is None:
            cursor.executemany(sql, [dict(zip(_ROW, row, strict=True)) for row in values])
        else:  # SQLite: one statement for the page (oai.store.bulk)
            execute_rows(cursor, sql, values)

    def _compile_upsert(self, conn: Connection) -> tuple[str, list[str] | None]:
        # imported here: each dialect's module costs start-up time
        if conn.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as postgresql_insert

            stmt: Any = postgresql_insert(harvested)
        else:
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            stmt = sqlite_insert(harvested)
        if tuple(c.name for c in harvested.columns) != _ROW:
            raise RuntimeError("harvested_records' columns are not those _ROW lists")
        stmt = stmt.values({name: bindparam(name) for name in _ROW})
        excluded = stmt.excluded
        stmt = stmt.on_conflict_do_update(
            index_elements=[harvested.c.source_id, harvested.c.identifier],
            set_={name: getattr(excluded, name) for name in _UPDATED})
        sql, names = _compiled(conn, stmt)
        if names is not None and tuple(names) != _ROW:
            raise RuntimeError(f"the upsert binds {names}, not the columns of _ROW in order")
        return sql, names


def _compiled(conn: Connection, statement: Any) -> tuple[str, list[str] | None]:
    return compiled(conn.dialect, statement)


@lru_cache(maxsize=1024)
def _set_list(set_specs: tuple[str, ...]) -> str:
    """A record's set list as stored (records share a handful: cached)."""
    return dump_list(set_specs)


def upsert_formats(sql: Sql, run: RunRow, prefix: str, rows: list[RecordWrite]) -> None:
    """A page of a list in one of the source's extra formats: the payloads go beside the
    records (`harvested_formats`), which keep their metadata_prefix's header and payload."""
    sql.many("INSERT INTO harvested_formats (source_id, identifier, prefix, deleted, metadata, "
             "run_id) VALUES (:s, :i, :p, :d, :m, :r) ON CONFLICT (source_id, identifier, "
             "prefix) DO UPDATE SET deleted = excluded.deleted, metadata = excluded.metadata, "
             "run_id = excluded.run_id",
             [{"s": run.source_id, "i": r.identifier, "p": prefix, "d": r.deleted,
               "m": None if r.deleted else r.metadata, "r": run.id} for r in rows])
