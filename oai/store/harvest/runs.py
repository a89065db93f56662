"""Runs and their windows: the plan of list requests, and how each run ends.

A run's `response_date` is the server time at the start of the oldest list the copy is not yet
known to be current past. A complete run hands it to the source as the base of the next
incremental harvest; a resumed run first finishes its interrupted lists, then catches up from
that time and moves it forward (`catch_up`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlalchemy import ColumnElement, Connection, and_, func, insert, select, update

from oai.store.harvest.base import HarvestBase
from oai.store.harvest.publishing import publish_sync
from oai.store.harvest.rows import RESUMABLE, RunRow, WindowRow, run_row, window_row
from oai.store.tables import harvested, runs, sources, windows

# (set, from, until) or (set, from, until, prefix): a list in one of the source's extra
# formats names its prefix (None: the source's metadata_prefix)
Plan = Sequence[tuple[str | None, ...]]

WATERMARK_MODES = ("full", "incremental")


def _windows(run_id: int, plan: Plan, position: int = 0) -> list[dict[str, object]]:
    return [{"run_id": run_id, "position": position + i, "set_spec": step[0],
             "from_date": step[1], "until_date": step[2], "status": "pending", "pages": 0,
             "attempts": 0, "prefix": step[3] if len(step) > 3 else None}
            for i, step in enumerate(plan)]


class RunQueries(HarvestBase):
    def resumable_run(self, source_id: int, window: tuple[str, str | None] | None = None,
                      ) -> RunRow | None:
        """The run a new harvest should resume: the latest incremental-or-full run (or, for a
        one-off window, the latest run of that very window) if it did not complete and still
        has lists to finish or to catch up on."""
        def work(conn: Connection) -> RunRow | None:
            query = select(runs).where(runs.c.source_id == source_id)
            if window is None:
                query = query.where(runs.c.mode.in_(WATERMARK_MODES))
            else:
                query = query.where(and_(runs.c.mode == "window",
                                         runs.c.from_date == window[0],
                                         _same(runs.c.until_date, window[1])))
            row = conn.execute(query.order_by(runs.c.id.desc()).limit(1)).first()
            if row is None or row.status not in RESUMABLE:
                return None
            pending = conn.execute(select(func.count()).select_from(windows).where(and_(
                windows.c.run_id == row.id, windows.c.status == "pending"))).scalar_one()
            done = conn.execute(select(func.count()).select_from(windows).where(and_(
                windows.c.run_id == row.id, windows.c.status == "done"))).scalar_one()
            # killed after its last page but before it was closed: only the catch-up is left
            finished_lists = row.status == "running" and done > 0
            return run_row(row) if pending or finished_lists else None
        return self._read(work)

    def reopen_run(self, run: RunRow) -> RunRow:
        self._write(lambda conn: conn.execute(
            update(runs).where(runs.c.id == run.id).values(status="running", finished=None)))
        return self.require_run(run.id)

    def start_run(self, source_id: int, mode: str, from_date: str | None,
                  until_date: str | None, response_date: str | None, plan: Plan) -> RunRow:
        """Create a run and its windows in one transaction."""
        def work(conn: Connection) -> int:
            run_id = int(conn.execute(insert(runs).values(
                source_id=source_id, mode=mode, status="running",
                started=self.store.clock_in(conn), from_date=from_date, until_date=until_date,
                response_date=response_date, pages=0, records=0, deleted=0, quarantined=0,
                requests=0, errors="[]").returning(runs.c.id)).scalar_one())
            if plan:
                conn.execute(insert(windows), _windows(run_id, plan))
            return run_id
        return self.require_run(self._write(work))

    def catch_up(self, run: RunRow, plan: Plan, response_date: str) -> RunRow:
        """After a resumed run finished its interrupted lists: add the lists that bring the
        copy up to `response_date` (this invocation's server time), which becomes the run's
        base, in one transaction."""
        def work(conn: Connection) -> None:
            last = conn.execute(select(func.max(windows.c.position))
                                .where(windows.c.run_id == run.id)).scalar() or 0
            conn.execute(insert(windows), _windows(run.id, plan, int(last) + 1))
            conn.execute(update(runs).where(runs.c.id == run.id)
                         .values(response_date=response_date))
        self._write(work)
        return self.require_run(run.id)

    def get_run(self, run_id: int) -> RunRow | None:
        row = self._read(lambda conn: conn.execute(
            select(runs).where(runs.c.id == run_id)).first())
        return run_row(row) if row else None

    def require_run(self, run_id: int) -> RunRow:
        found = self.get_run(run_id)
        assert found is not None, f"run {run_id} vanished"
        return found

    def last_run(self, source_id: int) -> RunRow | None:
        row = self._read(lambda conn: conn.execute(
            select(runs).where(runs.c.source_id == source_id)
            .order_by(runs.c.id.desc()).limit(1)).first())
        return run_row(row) if row else None

    def windows_of(self, run_id: int) -> list[WindowRow]:
        rows = self._read(lambda conn: conn.execute(
            select(windows).where(windows.c.run_id == run_id)
            .order_by(windows.c.position, windows.c.id)).all())
        return [window_row(r) for r in rows]

    def next_window(self, run_id: int) -> WindowRow | None:
        row = self._read(lambda conn: conn.execute(
            select(windows).where(and_(windows.c.run_id == run_id,
                                       windows.c.status == "pending"))
            .order_by(windows.c.position, windows.c.id).limit(1)).first())
        return window_row(row) if row else None

    def restart_window(self, window_id: int) -> None:
        """Forget a window's token (e.g. it expired): the window is fetched again from its
        start; records already written are simply upserted again."""
        self._write(lambda conn: conn.execute(update(windows).where(windows.c.id == window_id)
                                              .values(token=None, cursor=None,
                                                      attempts=windows.c.attempts + 1)))

    def split_window(self, window: WindowRow, parts: Sequence[tuple[str | None, str | None]],
                     ) -> None:
        """Replace a failing window by narrower ones placed where it stood."""
        def work(conn: Connection) -> None:
            conn.execute(update(windows).where(windows.c.id == window.id)
                         .values(status="split"))
            conn.execute(insert(windows), _windows(
                window.run_id, [(window.set_spec, f, u, window.prefix) for f, u in parts],
                window.position))
        self._write(work)

    def fail_window(self, window_id: int) -> None:
        self._write(lambda conn: conn.execute(
            update(windows).where(windows.c.id == window_id).values(status="failed")))

    def add_error(self, run_id: int, message: str) -> None:
        def work(conn: Connection) -> None:
            errors = json.loads(conn.execute(select(runs.c.errors)
                                             .where(runs.c.id == run_id)).scalar_one())
            errors.append(message)
            conn.execute(update(runs).where(runs.c.id == run_id)
                         .values(errors=json.dumps(errors[-200:])))
        self._write(work)

    def finish_run(self, run: RunRow, status: str, reason: str | None = None,
                   requests: int = 0) -> RunRow:
        """Close a run; a complete incremental or full one becomes the base of the next
        incremental harvest (a one-off window never moves it)."""
        def work(conn: Connection) -> None:
            conn.execute(update(runs).where(runs.c.id == run.id).values(
                status=status, reason=reason, finished=self.store.clock_in(conn),
                requests=runs.c.requests + requests))
            if status == "complete" and run.mode in WATERMARK_MODES:
                base = conn.execute(select(runs.c.response_date)
                                    .where(runs.c.id == run.id)).scalar_one()
                conn.execute(update(sources).where(sources.c.id == run.source_id).values(
                    last_complete_from=base, last_complete_run=run.id))
        self._write(work)
        return self.require_run(run.id)

    def reconcile(self, run: RunRow) -> int:
        """After a complete full harvest, records the source no longer lists are tombstoned."""
        def work(conn: Connection) -> int:
            gone = and_(harvested.c.source_id == run.source_id, harvested.c.run_id != run.id,
                        harvested.c.deleted.is_(False))
            ids = list(conn.execute(select(harvested.c.identifier).where(gone)).scalars())
            result = conn.execute(update(harvested).where(gone).values(
                deleted=True, metadata=None, schema_errors=None))
            if ids:  # published copies become tombstones in the same transaction
                publish_sync(conn, run.source_id, ids, self.store.clock_in(conn))
            return int(result.rowcount or 0)
        return self._write(work)


def _same(column: ColumnElement[str | None], value: str | None) -> ColumnElement[bool]:
    return column.is_(None) if value is None else column == value
