"""The sync loop: harvests one source into the store, resumably. The only writer of harvest
state.

Each page is committed together with the token that follows it (`HarvestStore.write_page`),
so after a crash the next run picks the run up at its saved tokens. The promise kept to the
librarian: a run that completes leaves the copy equal to what the source held when that run
started. A fresh run does so by construction (its lists start after it); a resumed run first
finishes the interrupted lists, then catches up incrementally from the interrupted run's own
start (minus the overlap), and only then is complete.

Every run ends recorded (complete, incomplete, failed or interrupted, with its reason), also
when the database connection or the code itself fails, and is bounded by its `RunGuard`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from harvester.checking import PayloadChecker, page_write
from harvester.client import OAIClient
from harvester.errors import (
    BudgetExhausted,
    CircuitOpen,
    DeadlineExceeded,
    HarvestError,
    Interrupted,
    RequestTimeout,
    ResponseError,
    ResponseTooLarge,
    RetriesExhausted,
    SuspiciousPaging,
    TransportError,
)
from harvester.guard import Limits, RunGuard
from harvester.lease import Lease
from harvester.options import HarvestOptions, RunOutcome, make_client
from harvester.paging import Args, ListPager, day_granularity_args
from harvester.parsing import IdentifyInfo, Page, parse_identify, parse_page
from harvester.planning import incremental_from, request_date, split
from oai.protocol.datestamps import Granularity, format_datestamp, parse_lenient_or_none
from oai.store.errors import StoreError
from oai.store.harvest import HarvestStore, RunRow, SourceRow, WindowRow
from oai.store.harvest.runs import WATERMARK_MODES

log = logging.getLogger(__name__)

Progress = Callable[[dict[str, Any]], None]


class _StopRun(Exception):
    """Ends the run early: (status, reason)."""

    def __init__(self, status: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _splittable(exc: HarvestError) -> bool:
    """Failures a narrower list may avoid: too slow, too big, or the server choking."""
    if isinstance(exc, ResponseTooLarge | DeadlineExceeded):
        return True
    if isinstance(exc, RetriesExhausted):
        return isinstance(exc.last_error, RequestTimeout) or (exc.status or 0) >= 500
    return False


class SourceHarvester:
    """Runs (or resumes) one harvest of one source."""

    def __init__(self, hstore: HarvestStore, source: SourceRow,
                 options: HarvestOptions | None = None, progress: Progress | None = None,
                 client: OAIClient | None = None) -> None:
        self.hstore = hstore
        self.source = source
        self.options = options or HarvestOptions()
        self.progress = progress or (lambda event: None)
        self.guard = client.guard if client is not None else RunGuard(
            Limits(self.options.max_requests, self.options.max_seconds, self.options.breaker),
            stop=self.options.stop, sleep=self.options.sleep)
        self.guard.notify = self._emit
        self.client = client or make_client(source, self.options, self.guard)
        self.granularity = Granularity(source.granularity) if source.granularity \
            else Granularity.SECONDS
        self._quirks = set(source.quirks)
        self.checker = PayloadChecker(self.options.schemas) if source.validate_records else None
        self._counted = 0  # requests already added to the run's count
        self._pages = 0
        self._records = 0
        self._lease: Lease | None = None
        self._server_now: str | None = None
        self._run_id: int | None = None

    def _emit(self, event: dict[str, Any]) -> None:
        self.progress({"source": self.source.name, **event})

    # -- the run ---------------------------------------------------------------------------

    def run(self) -> RunOutcome:
        lease = Lease(self.hstore, self.source.id, self.options.lease_seconds,
                      self.options.lease_label)
        try:
            holder = lease.acquire()
        except StoreError as exc:
            return RunOutcome(self.source.name, "failed", f"store: {exc}")
        if holder is not None:
            return RunOutcome(self.source.name, "failed", f"already being harvested by {holder}",
                              held_by=holder)
        self._lease = lease
        try:
            return self._run()
        finally:
            lease.release()

    def abandon(self, reason: str) -> None:
        """Record the run in flight as interrupted at once and let the source go (from
        another thread, when the process is about to exit without waiting for this one)."""
        try:
            run = self.hstore.get_run(self._run_id) if self._run_id is not None else None
            if run is not None and run.status == "running":
                self.hstore.finish_run(run, "interrupted", reason,
                                       self.guard.requests - self._counted)
            if self._lease is not None:
                self._lease.release()
        except StoreError as exc:  # the run stays resumable: the lease expires on its own
            log.warning("%s: could not record the interruption: %s", self.source.name, exc)

    def _run(self) -> RunOutcome:
        run: RunRow | None = None
        resumed = False
        status, reason = "complete", None
        try:
            run, resumed = self._open_run()
            self._run_id = run.id
            self._harvest(run, resumed)
        except _StopRun as stop:
            status, reason = stop.status, stop.reason
        except Interrupted as exc:
            status, reason = "interrupted", str(exc)
        except BudgetExhausted as exc:
            status, reason = "incomplete", f"{exc}; run again to continue"
        except CircuitOpen as exc:
            status, reason = "failed", f"{exc}; run again to resume"
        except HarvestError as exc:
            status, reason = "failed", str(exc)
        except StoreError as exc:
            status, reason = "incomplete", f"store: {exc}"
        except Exception as exc:  # a bug must still leave the run recorded, in one line
            log.debug("run of %s crashed", self.source.name, exc_info=True)
            status, reason = "failed", f"internal error: {type(exc).__name__}: {exc}"
        return self._close(run, status, reason, resumed)

    def _close(self, run: RunRow | None, status: str, reason: str | None,
               resumed: bool) -> RunOutcome:
        """Record how the run ended; if even that fails, say so with what is known."""
        name = self.source.name
        try:
            if run is None:
                run = self.hstore.start_run(self.source.id, self._mode(), None, None, None, [])
            failed_windows = sum(w.status == "failed" for w in self.hstore.windows_of(run.id))
            if status == "complete" and failed_windows:
                status, reason = "incomplete", f"{failed_windows} list(s) could not be harvested"
            if self._quirks != set(self.source.quirks):
                self.hstore.update_profile(self.source.id, quirks=sorted(self._quirks),
                                           granularity=self.granularity.value)
            reconciled = 0
            if status == "complete" and run.mode == "full":
                reconciled = self.hstore.reconcile(run)
                if reconciled:  # tombstoned in bulk: they leave their duplicate clusters
                    self.hstore.drop_deleted_duplicates(self.source.id)
            requests = self.guard.requests - self._counted
            self._counted = self.guard.requests
            if status == "incomplete" and self.hstore.require_run(run.id).pages == 0:
                status = "failed"
            final = self.hstore.finish_run(run, status, reason, requests)
        except StoreError as exc:
            return RunOutcome(name, "failed" if status == "complete" else status,
                              f"{reason + '; ' if reason else ''}the run could not be recorded: "
                              f"{exc}", run.id if run else None, self._records, 0, self._pages,
                              resumed=resumed, requests=self.guard.requests)
        self._emit({"event": "end", "status": final.status, "reason": reason})
        return RunOutcome(name, final.status, reason, final.id, final.records, final.deleted,
                          final.pages, final.quarantined, reconciled, resumed, final.requests,
                          list(final.errors))

    def _mode(self) -> str:
        if self.options.one_off is not None:
            return "window"
        return "full" if self.options.full or not self.source.last_complete_from \
            else "incremental"

    def _open_run(self) -> tuple[RunRow, bool]:
        """The run to resume (the interrupted one), or a new one planned from Identify."""
        one_off = self.options.one_off
        existing = self.hstore.resumable_run(self.source.id, one_off)
        if existing is not None and (one_off is not None or not self.options.full):
            self._emit({"event": "resume", "run": existing.id})
            self._server_now = self._identify(soft=True)
            return self.hstore.reopen_run(existing), True
        if existing is not None:
            self.hstore.finish_run(existing, "incomplete", "superseded by a full harvest")
        response_date = self._identify(soft=False)
        mode = self._mode()
        sets: list[str | None] = list(self.source.set_specs) or [None]
        until: str | None = None
        if one_off is not None:
            start: str | None = one_off[0] or None
            until = one_off[1]
        elif mode == "incremental" and self.source.last_complete_from:
            start = incremental_from(self.source.last_complete_from, self.options.overlap,
                                     self.granularity)
        else:
            start = None
        run = self.hstore.start_run(self.source.id, mode, start, until, response_date,
                                    self._plan(sets, start, until))
        self._emit({"event": "start", "run": run.id, "mode": mode, "from": start,
                    "until": until, "lists": len(sets)})
        return run, False

    def _identify(self, soft: bool) -> str:
        """Identify: learn the profile and the server's time (the run's base). A source that
        cannot be reached fails here (unless `soft`, when resuming); one whose Identify is
        broken but which may still list records is harvested with default assumptions."""
        page: Page | None = None
        try:
            result = self.client.request("Identify")
            page = parse_page(result.body, "Identify", self.options.max_bytes)
            page.raise_for_errors(result.url)
            info: IdentifyInfo | None = parse_identify(result.body)
        except TransportError:
            if not soft:
                raise
            info = None
        except HarvestError as exc:
            log.warning("%s: Identify unusable (%s); using defaults", self.source.name, exc)
            self._quirks.add("identify-broken")
            info = None
        if info is not None:
            if "day-granularity" not in self._quirks:
                self.granularity = info.granularity
            self.hstore.update_profile(
                self.source.id, granularity=self.granularity.value,
                earliest_datestamp=info.earliest_datestamp,
                deleted_record=info.deleted_record, compression=" ".join(info.compression),
                repository_name=info.repository_name)
            self.source = self.hstore.require_source(self.source.name)
        if page is not None and page.response_date and page.response_epoch is not None:
            return page.response_date
        return format_datestamp(self.hstore.now())

    # -- windows ---------------------------------------------------------------------------

    def _harvest(self, run: RunRow, resumed: bool) -> None:
        caught_up = not resumed or run.mode not in WATERMARK_MODES
        while True:
            window = self.hstore.next_window(run.id)
            if window is not None:
                self._harvest_window(run, window)
                continue
            if caught_up:
                return
            run = self._catch_up(run)
            caught_up = True

    def _catch_up(self, run: RunRow) -> RunRow:
        """The lists that bring a resumed run's copy up to this invocation's server time."""
        base = run.response_date or format_datestamp(run.started)
        start = incremental_from(base, self.options.overlap, self.granularity)
        now = self._server_now or format_datestamp(self.hstore.now())
        sets: list[str | None] = list(self.source.set_specs) or [None]
        self._emit({"event": "catch-up", "run": run.id, "from": start})
        return self.hstore.catch_up(run, self._plan(sets, start, None), now)

    def _plan(self, sets: list[str | None], start: str | None,
              until: str | None) -> list[tuple[str | None, ...]]:
        """One list per set and format: the metadata_prefix's first (the records' headers
        and payloads), then each extra format's (payloads beside them)."""
        return [(s, start, until, prefix) for prefix in (None, *self.source.extra_prefixes)
                for s in sets]

    def _harvest_window(self, run: RunRow, window: WindowRow) -> None:
        args: Args = (self._first_args(window) if window.token is None
                      else {"resumptionToken": window.token})
        from_token = window.token is not None
        written = 0
        self._emit({"event": "list", "run": run.id, "set": window.set_spec,
                    "from": window.from_date, "until": window.until_date,
                    "resumed": from_token})
        pager = ListPager(self.client, "ListRecords", max_bytes=self.options.max_bytes,
                          max_empty_pages=self.options.max_empty_pages,
                          prefetch=self.options.prefetch,
                          fetch_process=self.options.fetch_process)
        while True:
            try:
                for page in pager.pages(args):
                    if page.errors:
                        retry = self._on_errors(run, window, page, args, from_token, written)
                        if retry is None:
                            return
                        args, from_token = retry, False
                        break
                    self.guard.progressed()
                    self._write(run, window, page, window.pages + written + 1)
                    written += 1
                    self.guard.check()
                else:
                    return
            except SuspiciousPaging as exc:
                self.hstore.fail_window(window.id)
                self.hstore.add_error(run.id, str(exc))
                raise _StopRun("incomplete", str(exc)) from exc
            except ResponseTooLarge as exc:
                if self._split(run, window, exc):
                    return
                raise _StopRun("incomplete", str(exc)) from exc
            except ResponseError as exc:  # HTML, unparsable
                raise _StopRun("incomplete", str(exc)) from exc
            except TransportError as exc:
                if _splittable(exc) and self._split(run, window, exc):
                    return
                raise _StopRun("incomplete", f"{exc} (the run resumes from here)") from exc

    def _write(self, run: RunRow, window: WindowRow, page: Page, window_pages: int) -> None:
        if self._lease is not None and self._lease.lost:
            raise _StopRun("incomplete", "another process took over this source's lease")
        requests = self.guard.requests - self._counted
        self.hstore.write_page(run, window,
                               page_write(page, requests, window_pages, self.checker,
                                          self.options.match_duplicates))
        self._counted += requests
        self._pages += 1
        self._records += len(page.records)
        token = page.token
        self._emit({"event": "page", "run": run.id, "records": len(page.records),
                    "cursor": token.cursor if token else None,
                    "size": token.complete_list_size if token else None,
                    "quarantined": len(page.quarantined), "repairs": page.repairs})

    def _first_args(self, window: WindowRow) -> Args:
        return {"metadataPrefix": window.prefix or self.source.metadata_prefix,
                "set": window.set_spec,
                "from": request_date(window.from_date, self.granularity),
                "until": request_date(window.until_date, self.granularity)}

    def _on_errors(self, run: RunRow, window: WindowRow, page: Page, args: Args,
                   from_token: bool, written: int) -> Args | None:
        """React to OAI errors: new arguments to retry with, None when the window is done
        with for now; raises _StopRun when the run cannot go on."""
        codes = [code for code, _ in page.errors]
        message = "; ".join(f"{c}: {m}" for c, m in page.errors)
        if "badResumptionToken" in codes and (from_token or written):
            if window.attempts >= self.options.max_token_restarts:
                self.hstore.fail_window(window.id)
                raise _StopRun("incomplete", f"the server keeps rejecting its own tokens "
                                             f"({message})")
            self.hstore.add_error(run.id, f"token expired; window restarted ({message})")
            self.hstore.restart_window(window.id)
            return None
        day_args = None if from_token or written else day_granularity_args(page, args)
        if day_args is not None and self.granularity is Granularity.SECONDS:
            self.granularity = Granularity.DAY
            self._quirks.add("day-granularity")
            self.hstore.add_error(run.id, f"seconds refused, using day granularity ({message})")
            return day_args
        self.hstore.fail_window(window.id)
        raise _StopRun("failed" if not self._pages else "incomplete",
                       f"the server answered with an error: {message}")

    def _split(self, run: RunRow, window: WindowRow, exc: HarvestError) -> bool:
        """Replace a failing window by two narrower ones, if it can be narrowed."""
        lower = (parse_lenient_or_none(window.from_date)
                 or parse_lenient_or_none(self.source.earliest_datestamp) or 0)
        upper = (parse_lenient_or_none(window.until_date)
                 or parse_lenient_or_none(run.response_date) or self.hstore.now())
        if upper <= lower:
            return False
        pivot = self.hstore.median_datestamp(self.source.id, lower, upper)
        parts = split((window.from_date, window.until_date), lower, upper, self.granularity,
                      pivot)
        if not parts:
            return False
        message = (f"list {window.from_date or 'start'}..{window.until_date or 'now'} "
                   f"split at {parts[1][0]} after: {exc}")
        log.warning("%s: %s", self.source.name, message)
        self.hstore.add_error(run.id, message)
        self.hstore.split_window(window, parts)
        self._emit({"event": "split", "run": run.id, "at": parts[1][0]})
        return True

