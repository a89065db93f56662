"""What a harvest run is told (`HarvestOptions`) and what it reports (`RunOutcome`), and the
client a run's options make."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harvester.client import OAIClient
from harvester.guard import RunGuard
from harvester.lease import DEFAULT_SECONDS
from harvester.politeness import HostSlots
from oai.config import Config, matching_mode
from oai.store.harvest import SourceRow


@dataclass(frozen=True)
class HarvestOptions:
    """How a run behaves; the defaults suit most repositories."""

    full: bool = False
    window_from: str | None = None  # a one-off window: harvested, but not the watermark
    window_until: str | None = None
    overlap: int = 600  # seconds subtracted from the last responseDate
    max_token_restarts: int = 3
    prefetch: bool = True
    user_agent: str | None = None
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    deadline: float = 300.0
    max_attempts: int = 4
    timeout_attempts: int = 2
    backoff_base: float = 1.0
    backoff_cap: float = 60.0
    max_retry_after: float = 300.0
    max_bytes: int | None = 256 * 1024 * 1024
    max_empty_pages: int = 10
    max_requests: int | None = 500_000
    max_seconds: float | None = 24 * 3600.0
    breaker: int | None = 6
    lease_seconds: int = DEFAULT_SECONDS
    schemas: str | None = None  # the catalog validating sources validate with; None: ours
    sleep: Callable[[float], None] | None = None
    stop: threading.Event | None = field(default=None, compare=False)
    # who holds the per-host slots: None is this process (a Celery worker passes a shared one)
    slots: HostSlots | None = field(default=None, compare=False)
    lease_label: str | None = None  # shown as the lease holder (a Celery worker's name)
    match_duplicates: bool = True  # extract identifiers and fingerprints as pages are written
    # resumption requests made ahead by a child process (`harvester.chainfetch`): only for a
    # caller that knows no other source of this process harvests the same host
    fetch_process: bool = False

    @property
    def one_off(self) -> tuple[str, str | None] | None:
        if self.window_from is None and self.window_until is None:
            return None
        return (self.window_from or "", self.window_until)


@dataclass
class RunOutcome:
    """What happened to one source, for the CLI's summary and exit status."""

    source: str
    status: str  # complete / incomplete / failed / interrupted
    reason: str | None = None
    run_id: int | None = None
    records: int = 0
    deleted: int = 0
    pages: int = 0
    quarantined: int = 0
    reconciled: int = 0
    resumed: bool = False
    requests: int = 0
    errors: list[str] = field(default_factory=list)
    # the scheduled reconciliation run after the harvest, if it was due (status, counts...)
    reconciliation: dict[str, Any] | None = None
    held_by: str | None = None  # not run: this lease holder is harvesting the source

    @property
    def ok(self) -> bool:
        return self.status == "complete"


def make_client(source: SourceRow, options: HarvestOptions, guard: RunGuard) -> OAIClient:
    return OAIClient(
        source.base_url, user_agent=options.user_agent,
        connect_timeout=options.connect_timeout, read_timeout=options.read_timeout,
        deadline=options.deadline, max_attempts=options.max_attempts,
        timeout_attempts=options.timeout_attempts, backoff_base=options.backoff_base,
        backoff_cap=options.backoff_cap, max_retry_after=options.max_retry_after,
        min_interval=source.min_interval or 0.0, max_bytes=options.max_bytes,
        max_empty_pages=options.max_empty_pages, guard=guard, slots=options.slots)


def options_from_config(config: Config, stop: threading.Event | None = None,
                        **overrides: Any) -> HarvestOptions:
    """A run's options from the configuration's [harvest] table; `overrides` (command-line
    options, a worker's slots) replace those that are not None. One place for every caller:
    `oai harvest run`, `oai reconcile` and the Celery tasks."""
    c = config
    values: dict[str, Any] = dict(
        overlap=c.harvest_overlap, read_timeout=c.harvest_timeout,
        deadline=c.harvest_deadline, max_attempts=c.harvest_retries,
        max_retry_after=c.harvest_max_retry_after, max_requests=c.harvest_max_requests,
        max_seconds=c.harvest_max_time, breaker=c.harvest_breaker,
        max_bytes=c.harvest_max_response_mb * 1024 * 1024, user_agent=c.user_agent,
        lease_seconds=c.harvest_lease_seconds, stop=stop, schemas=c.validate_schemas,
        match_duplicates=matching_mode(c.harvest_match_duplicates) != "off")
    values.update({k: v for k, v in overrides.items() if v is not None})
    return HarvestOptions(**values)
