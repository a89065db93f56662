"""Committing a harvested page: the heart of crash safety.

A page's records, its quarantined fragments, the resumption token that follows it and the
run's counters are committed in one transaction, so a process killed at any instant loses at
most the page it was fetching, and the next run resumes from the saved token. A commit whose
connection was lost is retried on a new one; the window's page count says whether the first
attempt had in fact committed, so a page is never counted twice.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from oai.store.harvest.base import HarvestBase
from oai.store.harvest.rows import PageWrite, RecordWrite, RunRow, WindowRow
from oai.store.tables import dump_list, harvested, quarantine, runs, windows

_UPDATED = ("datestamp", "datestamp_epoch", "deleted", "set_specs", "metadata", "about",
            "run_id", "response_date")


class PageWriter(HarvestBase):
    _upsert: tuple[str, list[str] | None] | None = None

    def write_page(self, run: RunRow, window: WindowRow, page: PageWrite) -> None:
        """Commit one page: records, quarantine, the following token and the counters."""
        latest = list({r.identifier: r for r in page.records}.values())  # last one wins

        def work(conn: Connection) -> None:
            if page.window_pages is not None:
                done = conn.execute(select(windows.c.pages)
                                    .where(windows.c.id == window.id)).scalar_one()
                if done >= page.window_pages:
                    return  # committed before the connection was lost
            if latest:
                self._upsert_records(conn, run, latest, page.response_date)
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
            values: dict[str, Any] = {
                "pages": runs.c.pages + 1, "records": runs.c.records + len(latest),
                "deleted": runs.c.deleted + sum(1 for r in latest if r.deleted),
                "quarantined": runs.c.quarantined + len(page.quarantined),
                "requests": runs.c.requests + page.requests}
            if page.repairs:
                errors = json.loads(conn.execute(select(runs.c.errors)
                                                 .where(runs.c.id == run.id)).scalar_one())
                errors.extend(f"repaired: {r}" for r in page.repairs)
                values["errors"] = json.dumps(errors[-200:])
            conn.execute(update(runs).where(runs.c.id == run.id).values(**values))

        self._write(work)

    def _upsert_records(self, conn: Connection, run: RunRow, rows: list[RecordWrite],
                        response_date: str | None) -> None:
        """Insert or replace a page of records with one executemany of a statement compiled
        once: per-row SQLAlchemy parameter processing would cost more than SQLite itself."""
        if self._upsert is None:
            self._upsert = self._compile_upsert(conn)
        sql, names = self._upsert
        values = [{"source_id": run.source_id, "identifier": r.identifier,
                   "datestamp": r.datestamp, "datestamp_epoch": r.datestamp_epoch,
                   "deleted": r.deleted, "set_specs": dump_list(r.set_specs),
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
            set_={name: getattr(excluded, name) for name in _UPDATED})
        compiled = stmt.compile(dialect=conn.dialect)
        names = list(compiled.positiontup or []) if compiled.positional else None
        return compiled.string, names
