"""`oai harvest run`: harvest sources, several at once, and stop cleanly when asked.

Ctrl-C (SIGINT) or SIGTERM lets every run commit the page in flight, record itself as
`interrupted` and stop within moments; the command exits 128 + the signal number (130 for
Ctrl-C) with a line saying how to resume. A second signal stops at once: the runs are
recorded `interrupted` on the spot (the page in flight, uncommitted, is simply fetched
again next time).
"""

from __future__ import annotations

import gc
import json
import logging
import queue
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import click

from harvester.cli.group import harvest, hstore_for
from oai.cli.context import CliContext, fail, pass_ctx

if TYPE_CHECKING:
    from harvester.options import HarvestOptions, RunOutcome
    from harvester.sync import SourceHarvester
    from oai.store.harvest import HarvestStore, SourceRow

JOIN_POLL = 0.2


def _date(value: str | None, name: str) -> str | None:
    from oai.protocol.datestamps import InvalidDate, parse_protocol_date

    if value is None:
        return None
    try:
        parse_protocol_date(value)
    except InvalidDate as exc:
        fail(f"--{name}: {exc}")
    return value


@harvest.command("run")
@click.argument("names", nargs=-1)
@click.option("--all", "run_all", is_flag=True, help="Harvest every source.")
@click.option("--full", is_flag=True, help="Ignore the incremental state: harvest everything "
                                           "again, and tombstone what the source no longer has.")
@click.option("--from", "from_", metavar="DATE",
              help="A one-off window from DATE (YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ); the "
                   "incremental state is left as it is.")
@click.option("--until", metavar="DATE", help="A one-off window until DATE (inclusive).")
@click.option("--jobs", type=click.IntRange(min=1), default=1, show_default=True,
              help="Sources harvested at once (one request at a time per host regardless).")
@click.option("--overlap", type=click.IntRange(min=0), metavar="SECONDS",
              help="Subtracted from the last run's responseDate for `from` [600].")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
              help="Longest silence while waiting for the server [60].")
@click.option("--deadline", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
              help="Longest whole request, body included [300].")
@click.option("--retries", type=click.IntRange(min=1), metavar="N",
              help="Attempts per request (a timeout is tried at most twice) [4].")
@click.option("--max-retry-after", type=click.FloatRange(min=0), metavar="SECONDS",
              help="A longer Retry-After stops the run (resume later) [300].")
@click.option("--max-requests", type=click.IntRange(min=1), metavar="N",
              help="Request budget of each run [500000].")
@click.option("--max-time", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
              help="Wall-clock budget of each run [86400].")
@click.option("--breaker", type=click.IntRange(min=1), metavar="N",
              help="Stop after N consecutive failed requests without progress [6].")
@click.option("--max-response-mb", type=click.IntRange(min=1), metavar="MB",
              help="Refuse (never truncate) a response larger than this [256].")
@click.option("--json", "as_json", is_flag=True,
              help="Events as JSON lines on stderr and a JSON summary per source on stdout.")
@click.option("--distributed", is_flag=True,
              help="Send one task per source to the Celery workers (`oai worker`) instead of "
                   "harvesting here; prints what was queued.")
@pass_ctx
def run(ctx: CliContext, names: tuple[str, ...], run_all: bool, full: bool,
        from_: str | None, until: str | None, jobs: int, overlap: int | None,
        timeout: float | None, deadline: float | None, retries: int | None,
        max_retry_after: float | None, max_requests: int | None, max_time: float | None,
        breaker: int | None, max_response_mb: int | None, as_json: bool,
        distributed: bool = False) -> None:
    """Harvest sources; exit 0 only when every run is complete, which means the copy then
    equals what each source held when its run started (bar a stopped run: 130 on Ctrl-C)."""
    with _collector_paused():
        from harvester.cli.progress import make_reporter
        from harvester.cli.signals import StopSignals
        from harvester.duplicates.policy import matching
        from harvester.guard import StopRequest
        from harvester.options import options_from_config

        if run_all == bool(names):
            fail("name one or more sources, or give --all")
        if full and (from_ or until):
            fail("--full and --from/--until contradict each other")
        from_, until = _date(from_, "from"), _date(until, "until")
        if from_ and until:
            from oai.protocol.datestamps import parse_protocol_date

            a, b = parse_protocol_date(from_), parse_protocol_date(until)
            if a.granularity is not b.granularity or a.epoch > b.epoch:
                fail("--from must not be later than --until, in the same granularity")
        hstore = hstore_for(ctx, write=True, adopt_formats=False)  # harvests never render
        sources = hstore.list_sources() if run_all else [hstore.require_source(n) for n in names]
        if not sources:
            fail("no source is defined (see 'oai harvest add')")
        if distributed:
            if from_ or until:
                fail("--distributed runs the regular harvest (or --full): no --from/--until")
            from harvester.distributed.cli import enqueue_sources

            enqueue_sources(ctx, hstore, sources, full, as_json)
            return
        c = ctx.config
        stop = StopRequest()
        options = options_from_config(
            c, stop, full=full, window_from=from_, window_until=until, overlap=overlap,
            read_timeout=timeout, deadline=deadline, max_attempts=retries,
            max_retry_after=max_retry_after, max_requests=max_requests, max_seconds=max_time,
            breaker=breaker,
            max_bytes=max_response_mb * 1024 * 1024 if max_response_mb else None,
            match_duplicates=matching(c.harvest_match_duplicates, hstore),
            fetch_process=_hosts_apart(sources, jobs))
        _configure_logging(as_json)
        reporter = make_reporter([s.name for s in sources], as_json)
        runner = _Runner(hstore, sources, options, reporter, jobs)
        runner.max_delete_share = c.harvest_max_delete_share
        _freeze_start_up()
    try:
        def at_once(name: str) -> str:
            runner.abandon(f"interrupted by {name} (twice)")
            return (": run 'oai harvest run "
                    f"{' '.join(s.name for s in runner.sources)}' to resume")

        with StopSignals(stop, at_once) as signals:
            outcomes = runner.run()
    finally:
        reporter.close()
        gc.unfreeze()  # (a process that goes on, as under a test runner, collects it again)
    _report(outcomes, as_json)
    if signals.signum is not None:
        click.echo(f"interrupted: run 'oai harvest run {' '.join(s.name for s in sources)}' "
                   "to resume", err=True)
        sys.exit(128 + signals.signum)
    if any(not o.ok or (o.reconciliation and not o.reconciliation["ok"]) for o in outcomes):
        sys.exit(1)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The command's start-up without the cyclic collector: what the imports, the store and
    the options build lives as long as the command, yet a full collection ran while
    SQLAlchemy loaded (14 ms). See `_freeze_start_up` for what follows."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _freeze_start_up() -> None:
    """What start-up built, left out of the collections of the harvest that follows (each
    walked some 60,000 such objects), until `run` unfreezes it at the end."""
    import harvester.sync  # noqa: F401  (the harvest's modules, before the freeze)

    gc.freeze()


def _hosts_apart(sources: list[SourceRow], jobs: int) -> bool:
    """Whether no two sources of this command can be harvested from one host at the same
    time: then each run's resumption requests may be made ahead by a child process
    (`harvester.chainfetch`), the host's one-request-at-a-time kept by the chain itself."""
    from harvester.politeness import host_key

    hosts = [host_key(s.base_url) for s in sources]
    return jobs == 1 or len(set(hosts)) == len(hosts)


class _Runner:
    """Runs sources on daemon threads, `jobs` at a time (a stopped command never waits for a
    request in flight), and can abandon them all at once."""

    def __init__(self, hstore: HarvestStore, sources: list[SourceRow],
                 options: HarvestOptions, reporter: Any, jobs: int) -> None:
        self.hstore = hstore
        self.sources = sources
        self.options = options
        self.reporter = reporter
        self.jobs = min(jobs, len(sources))
        self.active: dict[str, SourceHarvester] = {}
        self.outcomes: dict[str, RunOutcome] = {}
        self.max_delete_share = 0.10
        self._lock = threading.Lock()

    def run(self) -> list[RunOutcome]:
        work: queue.Queue[SourceRow] = queue.Queue()
        for source in self.sources:
            work.put(source)
        threads = [threading.Thread(target=self._work, args=(work,), daemon=True,
                                    name=f"harvest-{i}") for i in range(self.jobs)]
        for thread in threads:
            thread.start()
        for thread in threads:
            while thread.is_alive():
                thread.join(JOIN_POLL)  # short waits: signal handlers run in between
        return [self._outcome(s) for s in self.sources]

    def _work(self, work: queue.Queue[SourceRow]) -> None:
        from harvester.options import RunOutcome
        from harvester.sync import SourceHarvester

        while True:
            try:
                source = work.get_nowait()
            except queue.Empty:
                return
            if self.options.stop is not None and self.options.stop.is_set():
                continue  # not started: reported as such
            harvester = SourceHarvester(self.hstore, source, self.options, self.reporter)
            with self._lock:
                self.active[source.name] = harvester
            try:
                outcome = harvester.run()
            except Exception as exc:  # the sync loop records its own failures; belt and braces
                outcome = RunOutcome(source.name, "failed", f"internal error: {exc}")
            if outcome.ok:
                outcome.reconciliation = self._reconcile_if_due(source)
            with self._lock:
                self.outcomes[source.name] = outcome
                self.active.pop(source.name, None)

    def _reconcile_if_due(self, source: SourceRow) -> dict[str, Any] | None:
        from harvester.scheduled import reconcile_if_due

        return reconcile_if_due(self.hstore, source, self.options, self.max_delete_share,
                                self.reporter)

    def _outcome(self, source: SourceRow) -> RunOutcome:
        from harvester.options import RunOutcome

        return self.outcomes.get(source.name) or RunOutcome(
            source.name, "interrupted", "not started: the harvest was stopped first")

    def abandon(self, reason: str) -> None:
        """Record every run in flight as interrupted, now (the second Ctrl-C)."""
        with self._lock:
            active = list(self.active.values())
        for harvester in active:
            harvester.abandon(reason)


def _report(outcomes: list[RunOutcome], as_json: bool) -> None:
    for outcome in outcomes:
        if as_json:
            click.echo(json.dumps(asdict(outcome), ensure_ascii=False))
        else:
            click.echo(_summary(outcome))
    for outcome in outcomes:
        if not outcome.ok and outcome.status != "interrupted":
            click.echo(f"{outcome.source}: {outcome.status}: {outcome.reason}", err=True)
        r = outcome.reconciliation
        if r is not None and not r["ok"]:
            click.echo(f"{outcome.source}: reconciliation {r['status']}: {r['reason']}",
                       err=True)


def _summary(o: RunOutcome) -> str:
    text = (f"{o.source}: {o.status}{' (resumed)' if o.resumed else ''} - "
            f"{o.records} records ({o.deleted} deleted) in {o.pages} pages, "
            f"{o.requests} requests")
    if o.quarantined:
        text += f", {o.quarantined} quarantined"
    if o.reconciled:
        text += f", {o.reconciled} tombstoned by reconciliation"
    r = o.reconciliation
    if r is not None:
        text += (f"; reconciled: {r['status']}" + (
            f" ({r.get('fetched', 0)} fetched, {r.get('tombstoned', 0)} tombstoned)"
            if r.get("applied") else ""))
    return text


class _JsonLogFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps({"event": "log", "level": record.levelname.lower(),
                           "logger": record.name, "message": record.getMessage()})


def _configure_logging(as_json: bool) -> None:
    """Warnings (retries, repairs, splits) on stderr: JSON lines or `warning: ...`."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_JsonLogFormatter() if as_json
                         else logging.Formatter("%(levelname)s: %(message)s"))
    logger = logging.getLogger("harvester")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.WARNING)
    logger.propagate = False
