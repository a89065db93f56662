"""The report's content as plain values: what the HTML page, the text summary and `--json`
all show, gathered once from the store."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class RunSummary:
    id: int
    mode: str
    status: str
    started: str
    finished: str | None
    records: int
    deleted: int
    pages: int
    requests: int
    errors: int
    reason: str | None


@dataclass(frozen=True)
class YearCount:
    """Records the source dated in one year (its own datestamps), live and deleted."""
    year: int
    live: int
    deleted: int


@dataclass(frozen=True)
class Section:
    """An extra part of a source's entry (reconciliation, duplicates, ...): a title, a line
    saying how it stands, and rows of label/value pairs."""
    title: str
    summary: str
    rows: tuple[tuple[str, str], ...] = ()
    status: str = "ok"  # ok / warn / fail: how the page colours it


@dataclass(frozen=True)
class SourceSummary:
    name: str
    base_url: str
    repository_name: str | None
    prefix: str
    sets: tuple[str, ...]
    records: int
    deleted: int
    quarantined: int
    invalid: int | None  # None: payloads are not validated for this source
    deleted_record: str | None
    granularity: str | None
    quirks: tuple[str, ...]
    incremental_from: str | None
    harvested_by: str | None
    health: str  # ok / warn / fail / never
    health_reason: str
    runs_by_status: dict[str, int]
    runs: tuple[RunSummary, ...]
    years: tuple[YearCount, ...]
    invalid_sample: tuple[tuple[str, int], ...]
    quarantine_sample: tuple[tuple[str | None, str], ...]
    sections: tuple[Section, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Report:
    generated: str
    database: str
    sources: tuple[SourceSummary, ...]

    @property
    def totals(self) -> dict[str, int]:
        return {"sources": len(self.sources),
                "records": sum(s.records for s in self.sources),
                "deleted": sum(s.deleted for s in self.sources),
                "failing": sum(1 for s in self.sources if s.health == "fail"),
                "warnings": sum(1 for s in self.sources if s.health == "warn")}

    def as_json(self) -> dict[str, Any]:
        return {"generated": self.generated, "database": self.database,
                "totals": self.totals, "sources": [asdict(s) for s in self.sources]}
