"""Gathering the report from the store: per source, a fixed number of bounded queries.

Extra sections (reconciliation, duplicates) are contributed by functions in `SECTIONS`, each
given the store and a source and returning a `Section` or None, so a new kind of evidence is
a new function rather than an edit to the page.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from harvester.report.model import Report, RunSummary, Section, SourceSummary, YearCount
from oai.protocol.datestamps import format_datestamp
from oai.store.harvest import HarvestStore, RunRow, SourceRow

SectionSource = Callable[[HarvestStore, SourceRow], "Section | None"]
#: contributors of extra sections, in page order (harvester.report.sections)
SECTIONS: list[SectionSource] = []


def _sections() -> list[SectionSource]:
    if not SECTIONS:
        from harvester.report.sections import DEFAULT_SECTIONS

        SECTIONS.extend(DEFAULT_SECTIONS)
    return SECTIONS

RUNS_SHOWN = 8
FAILED = ("failed", "incomplete")


def _when(epoch: int | None) -> str | None:
    return format_datestamp(epoch) if epoch else None


def _run(run: RunRow) -> RunSummary:
    return RunSummary(id=run.id, mode=run.mode, status=run.status,
                      started=_when(run.started) or "", finished=_when(run.finished),
                      records=run.records, deleted=run.deleted, pages=run.pages,
                      requests=run.requests, errors=len(run.errors), reason=run.reason)


def _health(runs: list[RunRow], quarantined: int, invalid: int | None,
            holder: str | None) -> tuple[str, str]:
    """How the source is doing, judged by its last run, in one word and one reason."""
    if not runs:
        return "never", "never harvested"
    last = runs[0]
    if holder is not None and last.status == "running":
        return "ok", f"being harvested by {holder}"
    if last.status in FAILED:
        return "fail", f"last run {last.status}: {last.reason or 'no reason recorded'}"
    if last.status in ("running", "interrupted"):
        return "warn", (f"last run {last.status}" + (f": {last.reason}" if last.reason else "")
                        + "; the next run resumes it")
    problems = []
    if last.errors:
        problems.append(f"{len(last.errors)} error(s) in the last run")
    if quarantined:
        problems.append(f"{quarantined} item(s) quarantined")
    if invalid:
        problems.append(f"{invalid} record(s) failing their schema")
    if problems:
        return "warn", "; ".join(problems)
    return "ok", "last run complete"


def summarise(hstore: HarvestStore, source: SourceRow, now: int) -> SourceSummary:
    total, deleted = hstore.counts(source.id)
    runs = hstore.recent_runs(source.id, RUNS_SHOWN)
    quarantined = hstore.quarantine_count(source.id)
    invalid = hstore.invalid_count(source.id) if source.validate_records else None
    holder = source.lease_owner if (source.lease_until or 0) > now else None
    health, reason = _health(runs, quarantined, invalid, holder)
    sections = tuple(s for s in (contribute(hstore, source) for contribute in _sections())
                     if s is not None)
    return SourceSummary(
        name=source.name, base_url=source.base_url, repository_name=source.repository_name,
        prefix=source.metadata_prefix, sets=source.set_specs, records=total, deleted=deleted,
        quarantined=quarantined, invalid=invalid, deleted_record=source.deleted_record,
        granularity=source.granularity, quirks=source.quirks,
        incremental_from=source.last_complete_from, harvested_by=holder, health=health,
        health_reason=reason, runs_by_status=hstore.run_count(source.id),
        runs=tuple(_run(r) for r in runs),
        years=tuple(YearCount(*y) for y in hstore.records_by_year(source.id)),
        invalid_sample=tuple(hstore.invalid_sample(source.id)) if invalid else (),
        quarantine_sample=tuple(hstore.quarantine_sample(source.id)) if quarantined else (),
        sections=sections)


def build_report(hstore: HarvestStore, database: str, names: tuple[str, ...] = ()) -> Report:
    """The report on every source (or those named), in name order."""
    now = hstore.now()
    sources = ([hstore.require_source(n) for n in names] if names
               else sorted(hstore.list_sources(), key=lambda s: s.name))
    generated = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return Report(generated=generated, database=database,
                  sources=tuple(summarise(hstore, s, now) for s in sources))
