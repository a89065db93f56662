"""The harvest store's value types: rows as the harvester reads them, and what it writes."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from oai.store.tables import load_list

ACTIVE = "running"
RESUMABLE = ("running", "interrupted", "incomplete", "failed")


@dataclass(frozen=True)
class SourceRow:
    id: int
    name: str
    base_url: str
    metadata_prefix: str
    set_specs: tuple[str, ...]
    min_interval: float | None
    granularity: str | None
    earliest_datestamp: str | None
    deleted_record: str | None
    compression: str | None
    quirks: tuple[str, ...]
    repository_name: str | None
    last_complete_from: str | None
    last_complete_run: int | None
    lease_owner: str | None = None
    lease_until: int | None = None
    validate_records: bool = False  # check each payload against its schema
    reconcile_every: int | None = None  # seconds between scheduled reconciliations
    publish: bool = False  # served by the provider as set source:NAME
    extra_prefixes: tuple[str, ...] = ()  # formats harvested besides metadata_prefix
    harvest_every: int | None = None  # seconds between scheduled harvests; None: on demand
    lease_node: str | None = None  # the machine of the lease holder (boot id, pid namespace)

    @property
    def prefixes(self) -> tuple[str, ...]:
        """Every format harvested, metadata_prefix first."""
        return (self.metadata_prefix, *self.extra_prefixes)


@dataclass(frozen=True)
class RunRow:
    id: int
    source_id: int
    mode: str  # full / incremental / window
    status: str
    started: int
    finished: int | None
    from_date: str | None
    until_date: str | None
    response_date: str | None
    pages: int
    records: int
    deleted: int
    quarantined: int
    requests: int
    errors: tuple[str, ...]
    reason: str | None
    invalid_records: int = 0  # records whose payload failed its schema (validating sources)


@dataclass(frozen=True)
class WindowRow:
    id: int
    run_id: int
    position: int
    set_spec: str | None
    from_date: str | None
    until_date: str | None
    status: str  # pending / done / split / failed
    token: str | None
    cursor: int | None
    complete_list_size: int | None
    pages: int
    attempts: int
    prefix: str | None = None  # the format it lists; None: the source's metadata_prefix


@dataclass(frozen=True)
class HarvestedRow:
    """One harvested record as stored: header as received, metadata bytes as served."""

    identifier: str
    datestamp: str
    datestamp_epoch: int | None
    deleted: bool
    set_specs: tuple[str, ...]
    metadata: str | None


class RecordWrite(NamedTuple):
    """One harvested record as the sync loop hands it over (a tuple: one per record)."""

    identifier: str
    datestamp: str
    datestamp_epoch: int | None
    deleted: bool
    set_specs: tuple[str, ...]
    metadata: str | None
    about: str | None = None
    schema_errors: int | None = None  # None: not validated
    keys: DuplicateKeys | None = None  # for duplicate matching; None: none extracted


@dataclass(frozen=True)
class QuarantineWrite:
    identifier: str | None
    reason: str
    raw: bytes | None


@dataclass(frozen=True)
class PageWrite:
    """Everything one page commits at once.

    `window_pages` is how many pages the window holds once this one is written: after a
    connection lost during the commit, it tells whether the commit happened."""

    records: Sequence[RecordWrite]
    quarantined: Sequence[QuarantineWrite] = ()
    next_token: str | None = None  # None: the window is complete
    cursor: int | None = None
    complete_list_size: int | None = None
    response_date: str | None = None
    repairs: Sequence[str] = field(default_factory=tuple)
    requests: int = 0  # HTTP requests made since the last write, for the run's count
    window_pages: int | None = None
    # duplicate matching: the fingerprint similarity test (harvester.duplicates.judge); when
    # set, each record's `keys` are filed and matched in the page's transaction
    judge: Any = None


def source_row(row: Any) -> SourceRow:
    return SourceRow(row.id, row.name, row.base_url, row.metadata_prefix,
                     load_list(row.set_specs), row.min_interval, row.granularity,
                     row.earliest_datestamp, row.deleted_record, row.compression,
                     load_list(row.quirks), row.repository_name, row.last_complete_from,
                     row.last_complete_run, row.lease_owner, row.lease_until,
                     bool(row.validate_records), row.reconcile_every, bool(row.publish),
                     load_list(row.extra_prefixes), row.harvest_every, row.lease_node)


def run_row(row: Any) -> RunRow:
    return RunRow(row.id, row.source_id, row.mode, row.status, row.started, row.finished,
                  row.from_date, row.until_date, row.response_date, row.pages, row.records,
                  row.deleted, row.quarantined, row.requests,
                  tuple(json.loads(row.errors or "[]")), row.reason, row.invalid_records)


def window_row(row: Any) -> WindowRow:
    return WindowRow(row.id, row.run_id, row.position, row.set_spec, row.from_date,
                     row.until_date, row.status, row.token, row.cursor,
                     row.complete_list_size, row.pages, row.attempts, row.prefix)


class DuplicateKeys(NamedTuple):
    """What duplicate matching files a harvested record under (made by the harvester's
    `harvester.duplicates.keys.keys_for`; the store only indexes and compares them)."""

    identifiers: tuple[tuple[str, str], ...]  # (scheme, normalised value)
    title: str | None  # as the record gives it, for listings
    fp_title: str | None  # the fingerprint: normalised title, year, first creator's surname
    year: int | None
    surname: str | None
    blocks: tuple[str, ...]  # blocking keys of the fingerprint (empty without one)

    @property
    def digest(self) -> str:
        """Changes whenever what matching uses changes (a record edited in other fields
        keeps its links without any work)."""
        import hashlib

        text = repr((self.identifiers, self.fp_title, self.year, self.surname, self.title))
        return hashlib.sha1(text.encode("utf-8")).hexdigest()
