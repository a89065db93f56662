"""The sync loop: harvests one source into the store, resumably. The only writer of harvest
state.

Each page is committed together with the token that follows it (`HarvestStore.write_page`),
so after a crash `run` picks the run up at its saved tokens. While a page is being written
the next one is already being fetched: the token is known as soon as a page is parsed, and
prefetching does not weaken crash safety because nothing of the next page is stored before
its own commit.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import unescape

from harvester.client import OAIClient, PagingGuard, refused_seconds
from harvester.errors import (
    HarvestError,
    ResponseError,
    SuspiciousPaging,
    TransportError,
)
from harvester.parsing import IdentifyInfo, Page, parse_identify, parse_page
from harvester.planning import (
    Window,
    date_windows,
    halve,
    incremental_from,
    request_date,
)
from oai.protocol.datestamps import Granularity, format_datestamp, parse_lenient
from oai.store.harvest import (
    HarvestStore,
    PageWrite,
    QuarantineWrite,
    RecordWrite,
    RunRow,
    SourceRow,
    WindowRow,
    this_process,
)

log = logging.getLogger(__name__)

Progress = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class HarvestOptions:
    """How a run behaves; the defaults suit most repositories."""

    full: bool = False
    overlap: int = 600  # seconds subtracted from the last responseDate
    window_days: int = 366
    max_token_restarts: int = 3
    prefetch: bool = True
    user_agent: str = "oai-toolkit-harvester/0.1"
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_attempts: int = 5
    backoff_base: float = 1.0
    backoff_cap: float = 60.0
    max_retry_after: float = 600.0
    max_bytes: int | None = 256 * 1024 * 1024
    max_empty_pages: int = 10
    sleep: Callable[[float], None] | None = None


@dataclass
class RunOutcome:
    """What happened to one source, for the CLI's summary and exit status."""

    source: str
    status: str  # complete / incomplete / failed
    reason: str | None = None
    run_id: int | None = None
    records: int = 0
    deleted: int = 0
    pages: int = 0
    quarantined: int = 0
    reconciled: int = 0
    resumed: bool = False
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "complete"


class _StopRun(Exception):
    """Ends the run early: (status, reason)."""

    def __init__(self, status: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def make_client(source: SourceRow, options: HarvestOptions) -> OAIClient:
    extra: dict[str, Any] = {"sleep": options.sleep} if options.sleep else {}
    return OAIClient(
        source.base_url, user_agent=options.user_agent,
        connect_timeout=options.connect_timeout, read_timeout=options.read_timeout,
        max_attempts=options.max_attempts, backoff_base=options.backoff_base,
        backoff_cap=options.backoff_cap, max_retry_after=options.max_retry_after,
        min_interval=source.min_interval or 0.0, max_bytes=options.max_bytes,
        max_empty_pages=options.max_empty_pages, **extra)


class SourceHarvester:
    """Runs (or resumes) one harvest of one source."""

    def __init__(self, hstore: HarvestStore, source: SourceRow,
                 options: HarvestOptions | None = None, progress: Progress | None = None,
                 client: OAIClient | None = None) -> None:
        self.hstore = hstore
        self.source = source
        self.options = options or HarvestOptions()
        self.client = client or make_client(source, self.options)
        self.progress = progress or (lambda event: None)
        self.granularity = Granularity(source.granularity) if source.granularity \
            else Granularity.SECONDS
        self._quirks = set(source.quirks)
        self._pool = ThreadPoolExecutor(1, thread_name_prefix=f"prefetch-{source.name}")

    # -- the run ---------------------------------------------------------------------------

    def run(self) -> RunOutcome:
        owner = this_process()
        holder = self.hstore.acquire_lease(self.source.id, owner)
        if holder is not None:
            return RunOutcome(self.source.name, "failed",
                              f"already being harvested by process {holder}")
        try:
            return self._run()
        except HarvestError as exc:  # anything not handled per window: the run fails
            return RunOutcome(self.source.name, "failed", str(exc))
        finally:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self.hstore.release_lease(self.source.id, owner)

    def _run(self) -> RunOutcome:
        run = self.hstore.unfinished_run(self.source.id)
        resumed = run is not None
        if run is not None and not self.options.full:
            self.progress({"event": "resume", "source": self.source.name, "run": run.id})
            run = self.hstore.reopen_run(run)
        else:
            if run is not None:  # --full abandons a resumable run
                self.hstore.finish_run(run, "incomplete", "superseded by a full harvest")
            resumed = False
            try:
                run = self._start_run()
            except HarvestError as exc:
                return self._record_failure(exc)
        status, reason = "complete", None
        try:
            self._harvest_windows(run)
        except _StopRun as stop:
            status, reason = stop.status, stop.reason
        failed_windows = [w for w in self.hstore.windows_of(run.id) if w.status == "failed"]
        if status == "complete" and failed_windows:
            status = "incomplete"
            reason = f"{len(failed_windows)} window(s) could not be harvested"
        if self._quirks != set(self.source.quirks):
            self.hstore.update_profile(self.source.id, quirks=sorted(self._quirks),
                                       granularity=self.granularity.value)
        reconciled = 0
        if status == "complete" and run.mode == "full":
            reconciled = self.hstore.reconcile(run)
        final = self.hstore.finish_run(run, status, reason)
        if status != "complete" and final.pages == 0:
            final = self.hstore.finish_run(run, "failed", reason)
        return RunOutcome(self.source.name, final.status, reason, final.id, final.records,
                          final.deleted, final.pages, final.quarantined, reconciled, resumed,
                          list(final.errors))

    def _record_failure(self, exc: HarvestError) -> RunOutcome:
        run = self.hstore.start_run(self.source.id, "full" if self.options.full else
                                    "incremental", None, None, [])
        final = self.hstore.finish_run(run, "failed", str(exc))
        return RunOutcome(self.source.name, "failed", str(exc), final.id)

    def _start_run(self) -> RunRow:
        """Identify (learning the profile), then plan the windows of a new run.

        A source that cannot be reached fails here; one whose Identify is broken but which
        may still list records is harvested with default assumptions, and the quirk noted."""
        try:
            result = self.client.request("Identify")
            identify_page = parse_page(result.body, "Identify", self.options.max_bytes)
            identify_page.raise_for_errors(result.url)
            info: IdentifyInfo | None = parse_identify(result.body)
        except TransportError:
            raise
        except HarvestError as exc:
            log.warning("%s: Identify unusable (%s); using defaults", self.source.name, exc)
            self._quirks.add("identify-broken")
            info, identify_page = None, None
        if info is not None:
            if "day-granularity" not in self._quirks:
                self.granularity = info.granularity
            self.hstore.update_profile(
                self.source.id, granularity=self.granularity.value,
                earliest_datestamp=info.earliest_datestamp,
                deleted_record=info.deleted_record, compression=" ".join(info.compression),
                repository_name=info.repository_name)
            self.source = self.hstore.require_source(self.source.name)
        response_date = identify_page.response_date if identify_page else None
        server_now = identify_page.response_epoch if identify_page else None
        now = server_now or self.hstore.now()
        if response_date is None:
            response_date = format_datestamp(now)
        sets: list[str | None] = list(self.source.set_specs) or [None]
        if self.source.last_complete_from and not self.options.full:
            mode = "incremental"
            start = incremental_from(self.source.last_complete_from, self.options.overlap,
                                     self.granularity)
            plan: list[Window] = [(start, None)]
        else:
            mode, start = "full", None
            earliest = _epoch_or_none(info.earliest_datestamp if info else None)
            plan = date_windows(earliest, now, self.options.window_days * 86400,
                                self.granularity)
        run = self.hstore.start_run(self.source.id, mode, start, response_date,
                                    [(s, f, u) for s in sets for f, u in plan])
        self.progress({"event": "start", "source": self.source.name, "run": run.id,
                       "mode": mode, "from": start, "windows": len(plan) * len(sets)})
        return run

    # -- windows ---------------------------------------------------------------------------

    def _harvest_windows(self, run: RunRow) -> None:
        while True:
            pending = [w for w in self.hstore.windows_of(run.id) if w.status == "pending"]
            if not pending:
                return
            self._harvest_window(run, pending[0])

    def _harvest_window(self, run: RunRow, window: WindowRow) -> None:
        guard = PagingGuard(self.options.max_empty_pages)
        token = window.token
        args: dict[str, str | None] = (self._first_args(window) if token is None
                                       else {"resumptionToken": token})
        future = self._fetch(args)
        pages = 0
        while True:
            try:
                fetched = future.result()
            except TransportError as exc:
                if token is None and pages == 0 and self._split(run, window, str(exc)):
                    return
                raise _StopRun("incomplete", f"{exc} (the run resumes from here)") from exc
            except ResponseError as exc:  # e.g. larger than the configured cap
                raise _StopRun("incomplete", str(exc)) from exc
            # Ask for the next page before parsing this one: the token is read from the
            # body's tail here and checked against the parsed one below.
            early = early_token(fetched)
            ahead = self._fetch({"resumptionToken": early}) if early else None
            try:
                page = parse_page(fetched, "ListRecords", self.options.max_bytes)
            except ResponseError as exc:
                _discard(ahead)
                raise _StopRun("incomplete", str(exc)) from exc
            if page.errors:
                _discard(ahead)
                if self._handle_oai_errors(run, window, page, token is not None, pages):
                    return
                future = self._fetch(self._first_args(window))  # retry at day granularity
                continue
            try:
                guard.check(page)
            except SuspiciousPaging as exc:
                _discard(ahead)
                self.hstore.fail_window(window.id)
                self.hstore.add_error(run.id, str(exc))
                raise _StopRun("incomplete", str(exc)) from exc
            next_token = page.next_token
            if next_token != early:
                _discard(ahead)
                ahead = self._fetch({"resumptionToken": next_token}) if next_token else None
            self.hstore.write_page(run, window, _page_write(page))
            pages += 1
            token = next_token
            self.progress({"event": "page", "source": self.source.name, "run": run.id,
                           "records": len(page.records),
                           "cursor": page.token.cursor if page.token else None,
                           "size": page.token.complete_list_size if page.token else None,
                           "quarantined": len(page.quarantined), "repairs": page.repairs})
            if not next_token or ahead is None:
                return
            future = ahead

    def _first_args(self, window: WindowRow) -> dict[str, str | None]:
        return {"metadataPrefix": self.source.metadata_prefix, "set": window.set_spec,
                "from": request_date(window.from_date, self.granularity),
                "until": request_date(window.until_date, self.granularity)}

    def _fetch(self, args: dict[str, str | None]) -> Future[bytes]:
        """The response body for these arguments, fetched on the prefetch thread."""
        clean = {k: v for k, v in args.items() if v is not None}

        def fetch() -> bytes:
            return self.client.request("ListRecords", **clean).body

        if self.options.prefetch:
            return self._pool.submit(fetch)
        done: Future[bytes] = Future()
        try:
            done.set_result(fetch())
        except BaseException as exc:  # delivered through the future like a pooled fetch
            done.set_exception(exc)
        return done

    def _handle_oai_errors(self, run: RunRow, window: WindowRow, page: Page, resumed: bool,
                           pages: int) -> bool:
        """React to OAI errors; True when the window is finished with, False to retry it."""
        codes = [code for code, _ in page.errors]
        message = "; ".join(f"{c}: {m}" for c, m in page.errors)
        if "badResumptionToken" in codes and resumed:
            fresh = self.hstore.windows_of(run.id)
            attempts = next((w.attempts for w in fresh if w.id == window.id), 0)
            if attempts >= self.options.max_token_restarts:
                self.hstore.fail_window(window.id)
                raise _StopRun("incomplete", f"the server keeps rejecting its own tokens "
                                             f"({message})")
            self.hstore.add_error(run.id, f"token expired; window restarted ({message})")
            self.hstore.restart_window(window.id)
            return True
        if (not resumed and pages == 0 and self.granularity is Granularity.SECONDS
                and refused_seconds(page, self._first_args(window))):
            self.granularity = Granularity.DAY
            self._quirks.add("day-granularity")
            self.hstore.add_error(run.id, f"seconds refused, using day granularity ({message})")
            return False
        self.hstore.fail_window(window.id)
        raise _StopRun("failed" if pages == 0 else "incomplete",
                       f"the server answered with an error: {message}")

    def _split(self, run: RunRow, window: WindowRow, reason: str) -> bool:
        earliest = _epoch_or_none(self.source.earliest_datestamp) or 0
        latest = _epoch_or_none(run.response_date) or self.hstore.now()
        halves = halve((window.from_date, window.until_date), earliest, latest,
                       self.granularity)
        if not halves:
            return False
        self.hstore.add_error(run.id, f"window {window.from_date}..{window.until_date} "
                                      f"halved after: {reason}")
        self.hstore.split_window(window, halves)
        return True


_TOKEN_TAIL = re.compile(
    rb"<(?:[A-Za-z_][\w.-]*:)?resumptionToken\b[^>]*>([^<]*)</(?:[A-Za-z_][\w.-]*:)?"
    rb"resumptionToken\s*>")


def early_token(body: bytes) -> str | None:
    """The resumption token as it appears near the end of a body, before any parsing."""
    match = _TOKEN_TAIL.search(body, max(0, len(body) - 8192))
    if match is None:
        return None
    try:
        value = unescape(match.group(1).decode("utf-8")).strip()
    except UnicodeDecodeError:
        return None
    return value or None


def _discard(future: Future[bytes] | None) -> None:
    """Drop a prefetch that turned out not to be needed (its result, if any, is unused)."""
    if future is not None:
        future.cancel()


def _epoch_or_none(value: str | None) -> int | None:
    if not value:
        return None
    try:
        return parse_lenient(value)
    except ValueError:
        return None


def _page_write(page: Page) -> PageWrite:
    records = [RecordWrite(r.identifier, r.datestamp, r.datestamp_epoch, r.deleted,
                           r.set_specs, r.metadata, "".join(r.about) or None)
               for r in page.records]
    quarantined = [QuarantineWrite(q.identifier, q.reason, q.raw) for q in page.quarantined]
    if page.repairs and page.raw is not None:
        quarantined.append(QuarantineWrite(None, "page repaired: " + "; ".join(page.repairs),
                                           page.raw))
    token = page.token
    return PageWrite(records, quarantined, page.next_token or None,
                     token.cursor if token else None,
                     token.complete_list_size if token else None, page.response_date,
                     tuple(page.repairs))
