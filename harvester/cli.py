"""`oai harvest ...` and `oai export`: the harvester's commands, plugged into the `oai` command
through the `oai.commands` entry-point group (so `oai` itself never imports the harvester)."""

from __future__ import annotations

import json
import logging
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from typing import IO, Any

import click

from harvester.export import write_jsonl, write_xml
from harvester.sync import HarvestOptions, RunOutcome, SourceHarvester
from oai.cli.context import CliContext, fail, pass_ctx
from oai.cli.loading import SET_SPEC
from oai.protocol.datestamps import format_datestamp
from oai.store.harvest import HarvestStore


def _hstore(ctx: CliContext, read_only: bool = False) -> HarvestStore:
    """Writing commands create or migrate the store; reading ones (list, status, export) open
    it read-only, so they work on a store that cannot be written and never change it."""
    if read_only:
        return HarvestStore(ctx.open_store(read_only=True))
    return HarvestStore(ctx.open_store(create=True))


@click.group("harvest")
def harvest() -> None:
    """Harvest remote OAI-PMH repositories into the local store.

    `oai harvest add NAME URL` defines a source; `oai harvest run NAME` harvests it
    (incrementally after the first complete run, resuming where a killed run stopped).
    """


@harvest.command("add")
@click.argument("name")
@click.argument("url")
@click.option("--prefix", default="oai_dc", show_default=True, help="metadataPrefix.")
@click.option("--set", "set_specs", multiple=True, metavar="SPEC",
              help="Harvest only this set (repeatable).")
@click.option("--rate-limit", type=float, metavar="SECONDS",
              help="Minimum interval between two requests to this source.")
@pass_ctx
def add(ctx: CliContext, name: str, url: str, prefix: str, set_specs: tuple[str, ...],
        rate_limit: float | None) -> None:
    """Define the source NAME at base URL URL."""
    if not url.startswith(("http://", "https://")) or "?" in url:
        fail(f"{url!r} is not an OAI-PMH base URL (http(s), without a query string)")
    for spec in set_specs:
        if not SET_SPEC.match(spec):
            fail(f"{spec!r} is not a valid setSpec")
    if rate_limit is not None and rate_limit < 0:
        fail("--rate-limit must not be negative")
    source = _hstore(ctx).add_source(name, url, prefix, set_specs, rate_limit)
    click.echo(f"added source {source.name}: {source.base_url} ({source.metadata_prefix}"
               + (f", sets {' '.join(source.set_specs)}" if source.set_specs else "") + ")")


@harvest.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per source.")
@pass_ctx
def list_sources(ctx: CliContext, as_json: bool) -> None:
    """List the defined sources."""
    for source in _hstore(ctx, read_only=True).list_sources():
        if as_json:
            click.echo(json.dumps({"name": source.name, "url": source.base_url,
                                   "prefix": source.metadata_prefix,
                                   "sets": list(source.set_specs)}))
        else:
            sets = f" sets={','.join(source.set_specs)}" if source.set_specs else ""
            click.echo(f"{source.name}\t{source.base_url}\t{source.metadata_prefix}{sets}")


class _Reporter:
    """Progress for a terminal (a bar with ETA from completeListSize) or log lines."""

    def __init__(self, as_json: bool, bar: bool) -> None:
        self.as_json = as_json
        self.bar_enabled = bar
        self._bars: dict[str, Any] = {}
        self._lock = threading.Lock()

    def __call__(self, event: dict[str, Any]) -> None:
        with self._lock:
            if self.as_json:
                click.echo(json.dumps(event), err=True)
                return
            if not self.bar_enabled or event.get("event") != "page":
                return
            name = event["source"]
            bar = self._bars.get(name)
            if bar is None and event.get("size"):
                bar = click.progressbar(length=int(event["size"]), label=name, file=sys.stderr,
                                        show_eta=True, show_pos=True)
                bar.__enter__()
                self._bars[name] = bar
            if bar is not None:
                bar.update(int(event["records"]))

    def close(self) -> None:
        for bar in self._bars.values():
            bar.__exit__(None, None, None)
        self._bars.clear()


@harvest.command("run")
@click.argument("names", nargs=-1)
@click.option("--all", "run_all", is_flag=True, help="Harvest every source.")
@click.option("--full", is_flag=True, help="Ignore the incremental state: harvest everything "
                                           "again, and tombstone what the source no longer has.")
@click.option("--jobs", default=1, show_default=True,
              help="Sources harvested at once (one request at a time per host regardless).")
@click.option("--overlap", default=600, show_default=True,
              help="Seconds subtracted from the last run's responseDate for `from`.")
@click.option("--timeout", default=60.0, show_default=True, help="Read timeout in seconds.")
@click.option("--retries", default=5, show_default=True, help="Attempts per request.")
@click.option("--max-response-mb", default=256, show_default=True,
              help="Refuse (never truncate) a response larger than this.")
@click.option("--json", "as_json", is_flag=True,
              help="Structured log lines on stderr and a JSON summary on stdout.")
@pass_ctx
def run(ctx: CliContext, names: tuple[str, ...], run_all: bool, full: bool, jobs: int,
        overlap: int, timeout: float, retries: int, max_response_mb: int,
        as_json: bool) -> None:
    """Harvest sources; exit 0 only when every run is complete."""
    hstore = _hstore(ctx)
    if run_all == bool(names):
        fail("name one or more sources, or give --all")
    sources = hstore.list_sources() if run_all else [hstore.require_source(n) for n in names]
    if jobs < 1:
        fail("--jobs must be at least 1")
    _configure_logging(as_json)
    if max_response_mb < 1:
        fail("--max-response-mb must be at least 1")
    options = HarvestOptions(full=full, overlap=overlap, read_timeout=timeout,
                             max_attempts=retries, user_agent=ctx.config.user_agent,
                             max_bytes=max_response_mb * 1024 * 1024)
    reporter = _Reporter(as_json, bar=sys.stderr.isatty() and jobs == 1)

    def one(source: Any) -> RunOutcome:
        try:
            return SourceHarvester(hstore, source, options, reporter).run()
        except Exception as exc:  # a bug must not cost the other sources their runs
            logging.getLogger("harvester").debug("run of %s crashed", source.name,
                                                 exc_info=True)
            return RunOutcome(source.name, "failed",
                              f"internal error: {exc.__class__.__name__}: {exc}")

    try:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            outcomes = list(pool.map(one, sources))
    finally:
        reporter.close()
    for outcome in outcomes:
        if as_json:
            click.echo(json.dumps(asdict(outcome)))
        else:
            click.echo(_summary(outcome))
    failing = [o for o in outcomes if not o.ok]
    for outcome in failing:
        click.echo(f"{outcome.source}: {outcome.status}: {outcome.reason}", err=True)
    if failing:
        sys.exit(1)


class _JsonLogFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps({"event": "log", "level": record.levelname.lower(),
                           "logger": record.name, "message": record.getMessage()})


def _configure_logging(as_json: bool) -> None:
    """Warnings (retries, repairs, fallbacks) on stderr: JSON lines or `warning: ...`."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_JsonLogFormatter() if as_json
                         else logging.Formatter("%(levelname)s: %(message)s"))
    for name in ("harvester",):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(logging.WARNING)
        logger.propagate = False


def _summary(o: RunOutcome) -> str:
    text = (f"{o.source}: {o.status}{' (resumed)' if o.resumed else ''} - "
            f"{o.records} records ({o.deleted} deleted) in {o.pages} pages")
    if o.quarantined:
        text += f", {o.quarantined} quarantined"
    if o.reconciled:
        text += f", {o.reconciled} tombstoned by reconciliation"
    return text


@harvest.command("status")
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per source.")
@pass_ctx
def status(ctx: CliContext, name: str | None, as_json: bool) -> None:
    """Records held and the last run of each source (or of NAME)."""
    hstore = _hstore(ctx, read_only=True)
    sources = [hstore.require_source(name)] if name else hstore.list_sources()
    for source in sources:
        total, deleted = hstore.counts(source.id)
        last = hstore.last_run(source.id)
        info: dict[str, Any] = {
            "name": source.name, "url": source.base_url, "prefix": source.metadata_prefix,
            "records": total, "deleted": deleted,
            "quarantined": hstore.quarantine_count(source.id),
            "granularity": source.granularity, "deleted_record": source.deleted_record,
            "quirks": list(source.quirks), "incremental_from": source.last_complete_from,
            "last_run": None}
        if last is not None:
            info["last_run"] = {
                "id": last.id, "mode": last.mode, "status": last.status,
                "started": _when(last.started), "finished": _when(last.finished),
                "pages": last.pages, "records": last.records, "deleted": last.deleted,
                "quarantined": last.quarantined, "reason": last.reason,
                "errors": list(last.errors)}
        if as_json:
            click.echo(json.dumps(info))
            continue
        click.echo(f"{source.name}: {total} records ({deleted} deleted), "
                   f"{info['quarantined']} quarantined")
        if last is None:
            click.echo("  never harvested")
            continue
        click.echo(f"  last run #{last.id} ({last.mode}): {last.status}, started "
                   f"{_when(last.started)}, finished {_when(last.finished) or '-'}, "
                   f"{last.pages} pages, {last.records} records, {len(last.errors)} errors")
        if last.reason:
            click.echo(f"  reason: {last.reason}")


def _when(epoch: int | None) -> str | None:
    return format_datestamp(epoch) if epoch else None


@click.command("export")
@click.argument("name")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "xml"]), default="jsonl",
              show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True),
              help="File to write (default: standard output).")
@pass_ctx
def export(ctx: CliContext, name: str, fmt: str, output: str | None) -> None:
    """Export the records harvested from source NAME (JSONL or an OAI-PMH XML document)."""
    hstore = _hstore(ctx, read_only=True)
    source = hstore.require_source(name)
    rows: Iterator[Any] = hstore.iter_records(source.id)
    with _open_output(output) as out:
        count = (write_jsonl if fmt == "jsonl" else write_xml)(rows, out, source.base_url)
    if output:
        click.echo(f"{count} records written to {output}", err=True)


class _open_output:
    def __init__(self, path: str | None) -> None:
        self.path = path
        self.fh: IO[bytes] | None = None

    def __enter__(self) -> IO[bytes]:
        self.fh = open(self.path, "wb") if self.path else sys.stdout.buffer
        return self.fh

    def __exit__(self, *exc: object) -> None:
        if self.path and self.fh is not None:
            self.fh.close()
        elif self.fh is not None:
            self.fh.flush()
