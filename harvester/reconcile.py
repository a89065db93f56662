"""Reconciliation: sweep a source's identifiers, compare them with the local copy, and (with
`apply`) make the copy equal to the source.

Why a sweep and not a harvest: many repositories never report deletions (`deletedRecord` no
or transient), so an incremental harvest accumulates records the source no longer has. A
ListIdentifiers sweep costs a fraction of a full ListRecords harvest and finds them, along
with records missing locally and records whose datestamp moved on. With `content`, the sweep
is a ListRecords one whose payloads are compared with the local ones, which also finds edits
a source made without bumping the datestamp.

The guarantees:
- The sweep is a harvest in every respect but what it stores: same client, budgets, breaker,
  politeness, stop signal, and the source's lease (a harvest and a sweep never run at once).
  Each page of identifiers is committed with the token that follows it; a killed sweep
  resumes from it (unless a harvest changed the copy meanwhile: then it starts over).
- After the lists from the start, the same lists are asked again from the sweep's own start
  (minus the overlap), so a record edited during the sweep, which a datestamp-ordered list
  moves past its end, is still seen: absence from a complete sweep means absence.
- Nothing is tombstoned after a partial sweep, nor, unless forced, when the share of live
  records to tombstone exceeds the threshold. Tombstones, never hard deletes.
- Missing, stale and changed records are fetched one GetRecord each and written through the
  harvest's own page writer, under a run of mode `reconcile` (their provenance).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harvester.checking import PayloadChecker, page_write
from harvester.client import OAIClient
from harvester.duplicates.fingerprint import judge
from harvester.errors import (
    BudgetExhausted,
    CircuitOpen,
    HarvestError,
    Interrupted,
    TransportError,
)
from harvester.guard import Limits, RunGuard
from harvester.lease import Lease
from harvester.options import HarvestOptions, make_client
from harvester.paging import Args, ListPager, day_granularity_args, list_args
from harvester.parsing import Page, parse_identify, parse_page
from harvester.planning import incremental_from
from oai.protocol.datestamps import Granularity, format_datestamp
from oai.store.errors import StoreError
from oai.store.harvest import HarvestStore, PageWrite, RecordWrite, RunRow, SourceRow
from oai.store.harvest.reconcile import ReconciliationRow, SweptItem

log = logging.getLogger(__name__)

Progress = Callable[[dict[str, Any]], None]
MAX_TOKEN_RESTARTS = 3


@dataclass(frozen=True)
class ReconcileOptions:
    apply: bool = False
    force: bool = False  # tombstone even above the threshold
    content: bool = False  # sweep with ListRecords and compare payloads
    max_delete_share: float = 0.10
    fetch_batch: int = 50  # GetRecords committed together


@dataclass
class ReconcileOutcome:
    """What a reconciliation found and did, for the CLI and `oai harvest run`."""

    source: str
    status: str  # complete / refused / incomplete / failed / interrupted
    reason: str | None = None
    reconciliation: int | None = None
    resumed: bool = False
    applied: bool = False
    swept: int = 0
    held: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    samples: dict[str, list[str]] = field(default_factory=dict)
    fetched: int = 0
    tombstoned: int = 0
    requests: int = 0

    @property
    def ok(self) -> bool:
        return self.status == "complete"


class _Stop(Exception):
    def __init__(self, status: str, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


class Reconciler:
    """Runs (or resumes) one reconciliation of one source."""

    def __init__(self, hstore: HarvestStore, source: SourceRow,
                 harvest: HarvestOptions | None = None,
                 options: ReconcileOptions | None = None, progress: Progress | None = None,
                 client: OAIClient | None = None) -> None:
        self.hstore = hstore
        self.source = source
        self.harvest = harvest or HarvestOptions()
        self._checker = (PayloadChecker(self.harvest.schemas) if source.validate_records
                         else None)
        self.options = options or ReconcileOptions()
        self.progress = progress or (lambda event: None)
        h = self.harvest
        self.guard = client.guard if client is not None else RunGuard(
            Limits(h.max_requests, h.max_seconds, h.breaker), stop=h.stop, sleep=h.sleep)
        self.guard.notify = self._emit
        self.client = client or make_client(source, h, self.guard)
        self.granularity = Granularity(source.granularity) if source.granularity \
            else Granularity.SECONDS
        self.outcome = ReconcileOutcome(source.name, "running")
        self._counted = 0
        self._lease: Lease | None = None

    def _emit(self, event: dict[str, Any]) -> None:
        self.progress({"source": self.source.name, **event})

    def _requests(self) -> int:
        """Requests made since the last time they were counted in the store."""
        delta = self.guard.requests - self._counted
        self._counted = self.guard.requests
        return delta

    def run(self) -> ReconcileOutcome:
        lease = Lease(self.hstore, self.source.id, self.harvest.lease_seconds,
                      self.harvest.lease_label)
        out = self.outcome
        try:
            holder = lease.acquire()
        except StoreError as exc:
            out.status, out.reason = "failed", f"store: {exc}"
            return out
        if holder is not None:
            out.status, out.reason = "failed", f"the source is held by {holder}"
            return out
        self._lease = lease
        try:
            return self._run()
        finally:
            lease.release()

    def _run(self) -> ReconcileOutcome:
        out = self.outcome
        rec: ReconciliationRow | None = None
        status, reason = "complete", None
        try:
            rec = self._open()
            out.reconciliation = rec.id
            if not rec.swept_complete:
                self._sweep(rec)
            status, reason = self._compare_and_apply(self.hstore.require_reconciliation(rec.id))
        except _Stop as stop:
            status, reason = stop.status, stop.reason
        except Interrupted as exc:
            status, reason = "interrupted", str(exc)
        except BudgetExhausted as exc:
            status, reason = "incomplete", f"{exc}; run again to continue"
        except CircuitOpen as exc:
            status, reason = "failed", f"{exc}; run again to resume"
        except HarvestError as exc:
            status, reason = "incomplete", f"{exc} (run again to resume)"
        except StoreError as exc:
            status, reason = "incomplete", f"store: {exc}"
        except Exception as exc:  # a bug must still leave the reconciliation recorded
            log.debug("reconciliation of %s crashed", self.source.name, exc_info=True)
            status, reason = "failed", f"internal error: {type(exc).__name__}: {exc}"
        if rec is not None and status in ("incomplete", "failed", "interrupted"):
            done = self.hstore.require_reconciliation(rec.id)
            if not done.swept_complete:
                reason = f"{reason}; the sweep is partial, so nothing was tombstoned"
        out.status, out.reason = status, reason
        out.requests = self.guard.requests
        if rec is None:  # failed before it began (Identify): recorded all the same
            try:
                rec = self.hstore.start_reconciliation(self.source.id, self.options.apply,
                                                       self.options.content, None, [])
                out.reconciliation = rec.id
            except StoreError:
                pass
        if rec is not None:
            try:
                final = self.hstore.finish_reconciliation(rec.id, status, reason,
                                                          self._requests())
                out.swept = final.swept
            except StoreError as exc:
                out.reason = f"{reason + '; ' if reason else ''}not recorded: {exc}"
        self._emit({"event": "end", "status": out.status, "reason": out.reason})
        return out

    # -- opening -----------------------------------------------------------------------------

    def _open(self) -> ReconciliationRow:
        content = self.options.content
        existing = self.hstore.resumable_reconciliation(self.source.id, content)
        if existing is not None:
            self.outcome.resumed = True
            self._identify(soft=True)
            self._emit({"event": "resume", "reconciliation": existing.id})
            return self.hstore.reopen_reconciliation(existing.id, self.options.apply)
        now = self._identify(soft=False)
        sets: list[str | None] = list(self.source.set_specs) or [None]
        since = incremental_from(now, self.harvest.overlap, self.granularity)
        plan = [(s, None) for s in sets] + [(s, since) for s in sets]
        rec = self.hstore.start_reconciliation(self.source.id, self.options.apply, content,
                                               now, plan)
        self._emit({"event": "start", "reconciliation": rec.id, "lists": len(plan)})
        return rec

    def _identify(self, soft: bool) -> str:
        """The server's time (the sweep's start) and its granularity."""
        try:
            result = self.client.request("Identify")
            page = parse_page(result.body, "Identify", self.harvest.max_bytes)
            page.raise_for_errors(result.url)
            info = parse_identify(result.body)
        except TransportError:
            if not soft:
                raise
            return format_datestamp(self.hstore.now())
        except HarvestError as exc:
            log.warning("%s: Identify unusable (%s); using defaults", self.source.name, exc)
            return format_datestamp(self.hstore.now())
        if "day-granularity" not in self.source.quirks:
            self.granularity = info.granularity
        return page.response_date or format_datestamp(self.hstore.now())

    # -- the sweep ---------------------------------------------------------------------------

    def _sweep(self, rec: ReconciliationRow) -> None:
        verb = "ListRecords" if self.options.content else "ListIdentifiers"
        position, token, pages = rec.position, rec.token, rec.pages
        restarts = 0
        retry: Args | None = None
        while position < len(rec.plan):
            set_spec, since = rec.plan[position]
            if retry is not None:
                args, retry = retry, None
            elif token:
                args = {"resumptionToken": token}
            else:
                args = list_args(verb, self.source.metadata_prefix, set_spec, since, None,
                                 self.granularity)
            self._emit({"event": "list", "set": set_spec, "from": since,
                        "resumed": "resumptionToken" in args})
            pager = ListPager(self.client, verb, max_bytes=self.harvest.max_bytes,
                              max_empty_pages=self.harvest.max_empty_pages,
                              prefetch=self.harvest.prefetch)
            for written, page in enumerate(pager.pages(args)):
                if page.errors:
                    retry = self._on_errors(page, args,
                                            "resumptionToken" in args or written > 0)
                    if retry is None:  # the token expired: the list starts over
                        restarts += 1
                        if restarts > MAX_TOKEN_RESTARTS:
                            raise _Stop("incomplete", "the server keeps rejecting its own "
                                                      "resumption tokens")
                        token = None
                        self.hstore.move_sweep(rec.id, position)
                    break
                self.guard.progressed()
                token = page.next_token
                following = position if token else position + 1
                self._write_page(rec, pages, page, following, token,
                                 following >= len(rec.plan))
                position = following
                pages += 1
                self.guard.check()

    def _on_errors(self, page: Page, args: Args, resumed: bool) -> Args | None:
        codes = [code for code, _ in page.errors]
        message = "; ".join(f"{c}: {m}" for c, m in page.errors)
        if "badResumptionToken" in codes and resumed:
            log.warning("%s: token expired; the list starts over (%s)", self.source.name,
                        message)
            return None
        day_args = None if resumed else day_granularity_args(page, args)
        if day_args is not None and self.granularity is Granularity.SECONDS:
            self.granularity = Granularity.DAY
            return day_args
        raise _Stop("failed", f"the server answered with an error: {message}")

    def _write_page(self, rec: ReconciliationRow, pages: int, page: Page, position: int,
                    token: str | None, complete: bool) -> None:
        if self._lease is not None and self._lease.lost:
            raise _Stop("incomplete", "another process took over this source's lease")
        items = [SweptItem(r.identifier, r.datestamp, r.datestamp_epoch, r.deleted)
                 for r in page.records]
        items += [SweptItem(q.identifier, "", None, False) for q in page.quarantined
                  if q.identifier]  # listed, though unreadable: never taken for gone
        if self.options.content and page.records:
            held = self.hstore.held_payloads(self.source.id,
                                             [r.identifier for r in page.records])
            items = [i._replace(differs=None if i.identifier not in held or i.deleted
                                else held[i.identifier] != r.metadata)
                     for i, r in zip(items, page.records, strict=False)] \
                + items[len(page.records):]
        self.hstore.write_sweep_page(rec.id, pages, items, position, token,
                                     self._requests(), complete)
        size = page.token.complete_list_size if page.token else None
        self._emit({"event": "page", "records": len(page.records), "size": size})

    # -- comparing and applying -----------------------------------------------------------------

    def _compare_and_apply(self, rec: ReconciliationRow) -> tuple[str, str | None]:
        out = self.outcome
        found = self.hstore.compare(rec.id, self.source.id)
        out.counts, out.samples, out.held = found.counts, found.samples, found.held
        # distinct identifiers (a list's pages count them again when a record is in several
        # sets or was listed again by the catch-up lists)
        self.hstore.update_reconciliation(rec.id, swept=found.listed, **found.counts)
        gone = found.counts["gone"]
        share = gone / found.held if found.held else (1.0 if gone else 0.0)
        limit = self.options.max_delete_share
        too_many = gone > 0 and share > limit and not self.options.force
        why = (f"{gone} of {found.held} live records ({share:.1%}) are gone from the source, "
               f"more than the {limit:.0%} allowed")
        if not self.options.apply:
            return "complete", (f"{why}: --apply would refuse to tombstone them without "
                                "--force" if too_many else None)
        out.applied = True
        run: RunRow | None = None
        try:
            run = self._fetch(rec, run)
            if too_many:
                return "refused", (f"{why}; nothing was tombstoned (check the source, then "
                                   "run again with --force or a higher --max-delete-share)")
            if gone:
                run = run or self._open_run(rec)
                out.tombstoned = self.hstore.tombstone_gone(rec.id, self.source.id, run.id)
                if out.tombstoned:  # tombstoned in bulk: they leave their duplicate clusters
                    self.hstore.drop_deleted_duplicates(self.source.id)
                self.hstore.update_reconciliation(rec.id, tombstoned=out.tombstoned)
            return "complete", None
        finally:
            if run is not None:
                self.hstore.finish_run(run, "complete", None, self._requests())

    def _open_run(self, rec: ReconciliationRow) -> RunRow:
        """The harvest run that writes what the reconciliation fetches (provenance)."""
        return self.hstore.start_run(self.source.id, "reconcile", None, None,
                                     rec.response_date, [(None, None, None)])

    def _fetch(self, rec: ReconciliationRow, run: RunRow | None) -> RunRow | None:
        """GetRecord for each missing, stale or changed record, committed in batches."""
        after: str | None = None
        total = sum(self.outcome.counts[k] for k in ("missing", "stale", "changed"))
        if total:
            self._emit({"event": "list", "fetching": total})
        while True:
            batch = self.hstore.to_fetch(rec.id, self.source.id, after,
                                         self.options.fetch_batch)
            if not batch:
                return run
            run = run or self._open_run(rec)
            records: list[RecordWrite] = []
            response_date = None
            for identifier in batch:
                page = self._get_record(identifier)
                response_date = page.response_date or response_date
                # as a harvest writes them: checked when the source validates, and filed
                # for duplicate matching
                records += page_write(page, 0, 0, self._checker,
                                      self.harvest.match_duplicates).records
            window = self.hstore.windows_of(run.id)[0]
            self.hstore.write_page(run, window, PageWrite(
                records, response_date=response_date, requests=self._requests(),
                window_pages=window.pages + 1,
                judge=judge if self.harvest.match_duplicates else None))
            self.outcome.fetched += len(records)
            self.hstore.update_reconciliation(rec.id, fetched=self.outcome.fetched)
            self._emit({"event": "page", "records": len(batch), "size": total})
            after = batch[-1]

    def _get_record(self, identifier: str) -> Page:
        result = self.client.request("GetRecord", identifier=identifier,
                                     metadataPrefix=self.source.metadata_prefix)
        page = parse_page(result.body, "GetRecord", self.harvest.max_bytes)
        codes = [c for c, _ in page.errors]
        if "idDoesNotExist" in codes or "cannotDisseminateFormat" in codes:
            page.records = []  # gone since the sweep: the next sweep sees it gone
            return page
        page.raise_for_errors(result.url)
        self.guard.progressed()
        return page
