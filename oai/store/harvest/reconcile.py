"""Reconciliation state: sweeps of a source's identifiers and their comparison with the copy.

A sweep's identifiers are written to `reconcile_items` page by page, each page committed with
the token that follows it, so memory stays flat whatever the size of the source and a killed
sweep resumes where it stopped. The comparison is a handful of SQL joins and anti-joins on
the two tables' primary keys; nothing is ever held in memory but a page or a batch.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)

from oai.store.harvest.base import HarvestBase
from oai.store.harvest.rows import RESUMABLE
from oai.store.tables import harvested, reconcile_items, reconciliations, runs, sources

CLASSES = ("missing", "stale", "changed", "gone", "agree")
SAMPLES = 5
_DROP_BATCH = 20_000
_PUBLISH_BATCH = 1_000
DONE = ("complete", "refused")  # a sweep that finished (what the schedule counts)
Plan = Sequence[tuple[str | None, str | None]]  # (setSpec, from) of each list


@dataclass(frozen=True)
class ReconciliationRow:
    id: int
    source_id: int
    status: str
    started: int
    finished: int | None
    apply: bool
    content: bool
    response_date: str | None
    plan: tuple[tuple[str | None, str | None], ...]
    position: int
    token: str | None
    pages: int
    requests: int
    swept: int
    swept_complete: bool
    counts: dict[str, int | None]
    fetched: int
    tombstoned: int
    reason: str | None


class SweptItem(NamedTuple):
    identifier: str
    datestamp: str
    datestamp_epoch: int | None
    deleted: bool
    differs: bool | None = None


@dataclass(frozen=True)
class Comparison:
    """Counts of each class, a few sample identifiers of each, and the live records held."""

    counts: dict[str, int]
    samples: dict[str, list[str]]
    held: int  # live local records: the base of the share to tombstone
    listed: int  # distinct identifiers the sweep received


def _row(r: Any) -> ReconciliationRow:
    return ReconciliationRow(
        r.id, r.source_id, r.status, r.started, r.finished, bool(r.apply), bool(r.content),
        r.response_date, tuple((s, f) for s, f in json.loads(r.plan or "[]")), r.position,
        r.token, r.pages, r.requests, r.swept, bool(r.swept_complete),
        {c: getattr(r, c) for c in CLASSES}, r.fetched, r.tombstoned, r.reason)


def _on(source_id: int) -> ColumnElement[bool]:
    return and_(harvested.c.source_id == source_id,
                harvested.c.identifier == reconcile_items.c.identifier)


def _newer() -> ColumnElement[bool]:
    """The swept datestamp is later than the local one (as epochs; as text if unparsable)."""
    mine, theirs = harvested.c.datestamp_epoch, reconcile_items.c.datestamp_epoch
    return or_(and_(theirs.is_not(None), mine.is_not(None), theirs > mine),
               and_(or_(theirs.is_(None), mine.is_(None)),
                    reconcile_items.c.datestamp != harvested.c.datestamp))


def _conditions(rid: int, source_id: int) -> dict[str, tuple[Any, ColumnElement[bool]]]:
    """Each class as (FROM clause, WHERE clause) yielding identifiers."""
    items = reconcile_items
    live_item = and_(items.c.reconciliation_id == rid, items.c.deleted.is_(False))
    both = items.join(harvested, _on(source_id))
    both_live = and_(live_item, harvested.c.deleted.is_(False))
    differs = items.c.differs.is_(True)
    listed = exists().where(items.c.reconciliation_id == rid,
                            items.c.identifier == harvested.c.identifier,
                            items.c.deleted.is_(False))
    return {
        "missing": (items.outerjoin(harvested, _on(source_id)),
                    and_(live_item, or_(harvested.c.identifier.is_(None),
                                        harvested.c.deleted.is_(True)))),
        "stale": (both, and_(both_live, _newer())),
        "changed": (both, and_(both_live, ~_newer(), differs)),
        "gone": (harvested, and_(harvested.c.source_id == source_id,
                                 harvested.c.deleted.is_(False), ~listed)),
        "agree": (both, and_(both_live, ~_newer(), or_(items.c.differs.is_(None),
                                                         items.c.differs.is_(False)))),
    }


def _identifier(kind: str) -> Any:
    return harvested.c.identifier if kind == "gone" else reconcile_items.c.identifier


class ReconcileQueries(HarvestBase):
    # -- the record of each reconciliation ------------------------------------------------

    def start_reconciliation(self, source_id: int, apply: bool, content: bool,
                             response_date: str | None, plan: Plan) -> ReconciliationRow:
        def work(conn: Connection) -> int:
            after_run = conn.execute(select(func.max(runs.c.id))
                                     .where(runs.c.source_id == source_id)).scalar()
            return int(conn.execute(insert(reconciliations).values(
                source_id=source_id, status="running", started=self.store.clock_in(conn),
                after_run=after_run,
                apply=apply, content=content, response_date=response_date,
                plan=json.dumps([list(p) for p in plan]), position=0, pages=0, requests=0,
                swept=0, swept_complete=False, fetched=0, tombstoned=0)
                .returning(reconciliations.c.id)).scalar_one())
        return self.require_reconciliation(self._write(work))

    def get_reconciliation(self, rid: int) -> ReconciliationRow | None:
        row = self._read(lambda conn: conn.execute(
            select(reconciliations).where(reconciliations.c.id == rid)).first())
        return _row(row) if row else None

    def require_reconciliation(self, rid: int) -> ReconciliationRow:
        found = self.get_reconciliation(rid)
        assert found is not None, f"reconciliation {rid} vanished"
        return found

    def last_reconciliation(self, source_id: int, done: bool = False,
                            ) -> ReconciliationRow | None:
        """The latest reconciliation of a source (with `done`, the latest whose sweep
        finished: what the schedule goes by)."""
        query = select(reconciliations).where(reconciliations.c.source_id == source_id)
        if done:
            query = query.where(reconciliations.c.status.in_(DONE))
        row = self._read(lambda conn: conn.execute(
            query.order_by(reconciliations.c.id.desc()).limit(1)).first())
        return _row(row) if row else None

    def resumable_reconciliation(self, source_id: int, content: bool,
                                 ) -> ReconciliationRow | None:
        """The unfinished reconciliation a new one should resume, if it is still valid: of
        the same kind, and no harvest has changed the copy since it started (else it is
        closed as superseded and its items dropped)."""
        last = self.last_reconciliation(source_id)
        if last is None or last.status not in RESUMABLE:
            return None
        after = self._read(lambda conn: conn.execute(
            select(reconciliations.c.after_run).where(reconciliations.c.id == last.id))
            .scalar()) or 0
        harvested_since = self._read(lambda conn: conn.execute(
            select(func.count()).select_from(runs).where(
                runs.c.source_id == source_id, runs.c.mode != "reconcile",
                runs.c.id > after)).scalar_one())
        if harvested_since or last.content != content:
            why = ("a harvest ran since it started" if harvested_since
                   else "a sweep of the other kind was asked for")
            self.finish_reconciliation(last.id, last.status if last.status != "running"
                                       else "interrupted", f"superseded: {why}")
            return None
        return last

    def reopen_reconciliation(self, rid: int, apply: bool) -> ReconciliationRow:
        self._write(lambda conn: conn.execute(
            update(reconciliations).where(reconciliations.c.id == rid)
            .values(status="running", finished=None, reason=None, apply=apply)))
        return self.require_reconciliation(rid)

    def update_reconciliation(self, rid: int, **values: Any) -> None:
        """Store counts, progress of the apply step or a reason."""
        self._write(lambda conn: conn.execute(
            update(reconciliations).where(reconciliations.c.id == rid).values(**values)))

    def finish_reconciliation(self, rid: int, status: str, reason: str | None = None,
                              requests: int = 0) -> ReconciliationRow:
        """Close a reconciliation. Its items go when its sweep is of no further use: it
        finished, or it can no longer be resumed."""
        self._write(lambda conn: conn.execute(
            update(reconciliations).where(reconciliations.c.id == rid).values(
                status=status, reason=reason, finished=self.store.clock_in(conn),
                requests=reconciliations.c.requests + requests)))
        if status not in RESUMABLE or (reason or "").startswith("superseded"):
            self._drop_items(rid)
        return self.require_reconciliation(rid)

    def _drop_items(self, rid: int) -> None:
        """Delete a sweep's items in batches of keys: one DELETE of a million rows would
        hold them all in SQLite's memory (and the write lock for seconds)."""
        items = reconcile_items
        mine = items.c.reconciliation_id == rid

        def batch(conn: Connection) -> bool:
            last = conn.execute(select(items.c.identifier).where(mine)
                                .order_by(items.c.identifier).offset(_DROP_BATCH - 1)
                                .limit(1)).scalar()
            conn.execute(delete(items).where(
                mine, *([] if last is None else [items.c.identifier <= last])))
            return last is not None
        while self._write(batch):
            pass

    # -- the sweep -------------------------------------------------------------------------

    def write_sweep_page(self, rid: int, pages_before: int, items: Sequence[SweptItem],
                         position: int, token: str | None, requests: int,
                         complete: bool = False) -> bool:
        """Commit one page of identifiers with where the sweep stands after it, on condition
        that the sweep still holds `pages_before` pages (False: committed already, by an
        attempt whose connection was lost)."""
        latest = list({i.identifier: i for i in items}.values())

        def work(conn: Connection) -> bool:
            moved = conn.execute(update(reconciliations).where(
                reconciliations.c.id == rid, reconciliations.c.pages == pages_before).values(
                pages=pages_before + 1, position=position, token=token,
                swept=reconciliations.c.swept + len(latest), swept_complete=complete,
                requests=reconciliations.c.requests + requests)).rowcount
            if not moved:
                return False
            if latest:
                conn.execute(self._upsert_items(conn), [
                    {"reconciliation_id": rid, "identifier": i.identifier,
                     "datestamp": i.datestamp, "datestamp_epoch": i.datestamp_epoch,
                     "deleted": i.deleted, "differs": i.differs} for i in latest])
            return True
        return self._write(work)

    @staticmethod
    def _upsert_items(conn: Connection) -> Any:
        """Insert, or replace what an earlier list said (a record in several sets, or
        listed again by the catch-up lists: the later word wins)."""
        stmt: Any
        if conn.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as postgresql_insert

            stmt = postgresql_insert(reconcile_items)
        else:
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            stmt = sqlite_insert(reconcile_items)
        return stmt.on_conflict_do_update(
            index_elements=[reconcile_items.c.reconciliation_id, reconcile_items.c.identifier],
            set_={c: stmt.excluded[c] for c in ("datestamp", "datestamp_epoch", "deleted",
                                                "differs")})

    def move_sweep(self, rid: int, position: int, token: str | None = None,
                   complete: bool = False, requests: int = 0) -> None:
        """Move to another list (an empty one ended, or one restarted from its start)."""
        self.update_reconciliation(rid, position=position, token=token,
                                   swept_complete=complete,
                                   requests=reconciliations.c.requests + requests)

    def held_payloads(self, source_id: int, identifiers: Sequence[str],
                      ) -> dict[str, str | None]:
        """The local payloads of one page's identifiers (content sweeps compare them)."""
        if not identifiers:
            return {}
        rows = self._read(lambda conn: conn.execute(
            select(harvested.c.identifier, harvested.c.metadata).where(
                harvested.c.source_id == source_id,
                harvested.c.identifier.in_(list(identifiers)))).all())
        return {r.identifier: r.metadata for r in rows}

    # -- the comparison ----------------------------------------------------------------------

    def compare(self, rid: int, source_id: int) -> Comparison:
        """Counts and sample identifiers of each class (see `_conditions`)."""
        def work(conn: Connection) -> Comparison:
            counts: dict[str, int] = {}
            samples: dict[str, list[str]] = {}
            for kind, (source, where) in _conditions(rid, source_id).items():
                counts[kind] = int(conn.execute(
                    select(func.count()).select_from(source).where(where)).scalar_one())
                ident = _identifier(kind)
                samples[kind] = [] if not counts[kind] else list(conn.execute(
                    select(ident).select_from(source).where(where).order_by(ident)
                    .limit(SAMPLES)).scalars())
            held = int(conn.execute(select(func.count()).select_from(harvested).where(
                harvested.c.source_id == source_id,
                harvested.c.deleted.is_(False))).scalar_one())
            listed = int(conn.execute(select(func.count()).select_from(reconcile_items).where(
                reconcile_items.c.reconciliation_id == rid)).scalar_one())
            return Comparison(counts, samples, held, listed)
        return self._read(work)

    def to_fetch(self, rid: int, source_id: int, after: str | None, limit: int,
                 ) -> list[str]:
        """The next identifiers to fetch (missing, stale or changed), in identifier order."""
        conds = _conditions(rid, source_id)
        items = reconcile_items
        where = and_(items.c.reconciliation_id == rid, items.c.deleted.is_(False),
                     or_(conds["missing"][1], conds["stale"][1], conds["changed"][1]))
        if after is not None:
            where = and_(where, items.c.identifier > after)
        query = (select(items.c.identifier).select_from(conds["missing"][0]).where(where)
                 .order_by(items.c.identifier).limit(limit))
        return list(self._read(lambda conn: conn.execute(query).scalars().all()))

    def tombstone_gone(self, rid: int, source_id: int, run_id: int) -> int:
        """Tombstone (never delete) every live record that a complete sweep did not list
        or listed as deleted (with the datestamp of its deletion), in one transaction, so it
        happens entirely or not at all; the number tombstoned."""
        items = reconcile_items
        mine = and_(items.c.reconciliation_id == rid,
                    items.c.identifier == harvested.c.identifier)
        live = and_(harvested.c.source_id == source_id, harvested.c.deleted.is_(False))
        gone = {"deleted": True, "metadata": None, "schema_errors": None, "run_id": run_id}

        def work(conn: Connection) -> int:
            reported = conn.execute(update(harvested).where(
                live, exists().where(mine, items.c.deleted.is_(True))).values(
                datestamp=select(items.c.datestamp).where(mine).scalar_subquery(),
                datestamp_epoch=select(items.c.datestamp_epoch).where(mine)
                .scalar_subquery(), **gone)).rowcount or 0
            unlisted = conn.execute(update(harvested).where(live, ~exists().where(mine))
                                    .values(**gone)).rowcount or 0
            if reported or unlisted:
                _republish(conn, source_id, run_id, self.store.clock_in(conn))
            return int(reported) + int(unlisted)
        return self._write(work)


def _republish(conn: Connection, source_id: int, run_id: int, now: int) -> None:
    """Serve the tombstones of a published source as deleted records, in the transaction
    that made them, identifiers read in bounded batches (memory stays flat)."""
    from oai.store.harvest.publishing import publish_sync

    if not conn.execute(select(sources.c.publish).where(sources.c.id == source_id)).scalar():
        return
    after = ""
    while True:
        batch = list(conn.execute(
            select(harvested.c.identifier)
            .where(harvested.c.source_id == source_id, harvested.c.run_id == run_id,
                   harvested.c.deleted.is_(True), harvested.c.identifier > after)
            .order_by(harvested.c.identifier).limit(_PUBLISH_BATCH)).scalars())
        if not batch:
            return
        publish_sync(conn, source_id, batch, now)
        after = batch[-1]
