"""Table definitions (SQLAlchemy Core). Migrations in `migrations/` create exactly these.

Datestamps are integer UTC epoch seconds: identical ordering and arithmetic on SQLite and
PostgreSQL, and the protocol's finest granularity is the second anyway.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()


def dump_list(values: Iterable[str]) -> str:
    """A list-valued column's text: a JSON array, so any value (spaces included) survives."""
    return json.dumps(list(values), ensure_ascii=False, separators=(",", ":"))


def load_list(text: str | None) -> tuple[str, ...]:
    """The values of a list-valued column."""
    return tuple(json.loads(text)) if text and text != "[]" else ()

records = Table(
    "records",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("datestamp", BigInteger, nullable=False),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("set_specs", Text, nullable=False, default="[]"),  # declared specs, a JSON array
    Column("content_hash", String(64), nullable=False),
    Column("data", Text, nullable=False),  # canonical record JSON
    Index("ix_records_datestamp_id", "datestamp", "id"),
)

# One stored, validated fragment per record and format; `xml` is NULL for a tombstone, the row
# staying so that a deleted record is still listed in every format it was disseminated in.
renditions = Table(
    "renditions",
    metadata,
    Column("record_id", String(200), ForeignKey("records.id", ondelete="CASCADE"),
           primary_key=True),
    Column("prefix", String(64), primary_key=True),
    Column("xml", Text, nullable=True),
)

# Set membership with ancestors expanded (a record in a:b is in a), datestamp denormalised so
# that set-restricted lists page by keyset on their own index.
record_sets = Table(
    "record_sets",
    metadata,
    Column("set_spec", String(200), primary_key=True),
    Column("record_id", String(200), ForeignKey("records.id", ondelete="CASCADE"),
           primary_key=True),
    Column("datestamp", BigInteger, nullable=False),
    Index("ix_record_sets_keyset", "set_spec", "datestamp", "record_id"),
    Index("ix_record_sets_record", "record_id"),
)

sets = Table(
    "sets",
    metadata,
    Column("spec", String(200), primary_key=True),
    Column("name", Text, nullable=False),
    Column("description", Text, nullable=True),
)

settings = Table(
    "settings",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("value", Text, nullable=False),
)


# Which crosswalk version the store's renditions of each format were made with (migration
# 0004). `oai formats rebuild` re-renders a format whose registered version differs, batch by
# batch, noting the last record done so that a killed rebuild resumes where it stopped.
format_versions = Table(
    "format_versions",
    metadata,
    Column("prefix", String(64), primary_key=True),
    Column("version", String(64), nullable=True),  # every live record rendered with it
    Column("rebuilding", String(64), nullable=True),  # a rebuild to this version under way
    Column("rebuilt_after", String(200), nullable=True),  # the last record id it has done
)


# -- harvesting (migrations 0002, 0003, 0005) -------------------------------------------
# Every list-valued column (set_specs, quirks, errors) holds a JSON array: a setSpec or an
# identifier may contain any character a server sends, spaces included.

sources = Table(
    "harvest_sources",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("base_url", Text, nullable=False),
    Column("metadata_prefix", String(64), nullable=False),
    Column("set_specs", Text, nullable=False, default="[]"),  # JSON array; [] = everything
    Column("min_interval", Float, nullable=True),  # seconds between requests (rate limit)
    Column("created", BigInteger, nullable=False),
    # learned profile
    Column("granularity", String(32), nullable=True),
    Column("earliest_datestamp", String(32), nullable=True),
    Column("deleted_record", String(16), nullable=True),
    Column("compression", Text, nullable=True),
    Column("quirks", Text, nullable=False, default="[]"),  # JSON list of strings
    Column("repository_name", Text, nullable=True),
    # incremental state: the first responseDate of the last complete run
    Column("last_complete_from", String(32), nullable=True),
    Column("last_complete_run", Integer, nullable=True),
    # who is harvesting it now: an owner ("host:pid:nonce") whose lease expires unless its
    # heartbeat renews it, and the machine it runs on (boot id and pid namespace), so that an
    # owner that died on this very machine can be taken over without waiting for the expiry
    Column("lease_owner", String(200), nullable=True),
    Column("lease_until", BigInteger, nullable=True),
    Column("lease_node", String(200), nullable=True),
    # validate each harvested payload against its schema (flagged, never dropped)
    Column("validate_records", Boolean, nullable=False, server_default="0"),
    # seconds between scheduled reconciliations (`--reconcile-every`); NULL: never
    Column("reconcile_every", Integer, nullable=True),
)

runs = Table(
    "harvest_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source_id", Integer, ForeignKey("harvest_sources.id", ondelete="CASCADE"),
           nullable=False),
    Column("mode", String(16), nullable=False),  # full / incremental / window
    # running / complete / incomplete / failed / interrupted
    Column("status", String(16), nullable=False),
    Column("started", BigInteger, nullable=False),
    Column("finished", BigInteger, nullable=True),
    Column("from_date", String(32), nullable=True),
    Column("until_date", String(32), nullable=True),  # a one-off window's end (mode window)
    # server time at the start of the oldest list the copy is not yet known to be current
    # past: the run's start, moved forward each time a resumed run catches up
    Column("response_date", String(32), nullable=True),
    Column("requests", Integer, nullable=False, server_default="0"),
    Column("pages", Integer, nullable=False, default=0),
    Column("records", Integer, nullable=False, default=0),
    Column("deleted", Integer, nullable=False, default=0),
    Column("quarantined", Integer, nullable=False, default=0),
    Column("invalid_records", Integer, nullable=False, server_default="0"),  # schema failures
    Column("errors", Text, nullable=False, default="[]"),  # JSON list of strings
    Column("reason", Text, nullable=True),
    Index("ix_harvest_runs_source", "source_id", "id"),
)

# A run's list request sequences: one per (set, date window). The token and cursor that follow
# the last written page are saved with that page, so a killed run resumes exactly there.
windows = Table(
    "harvest_windows",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("harvest_runs.id", ondelete="CASCADE"),
           nullable=False),
    Column("position", Integer, nullable=False),
    Column("set_spec", String(200), nullable=True),
    Column("from_date", String(32), nullable=True),
    Column("until_date", String(32), nullable=True),
    Column("status", String(16), nullable=False),  # pending / done / split / failed
    Column("token", Text, nullable=True),
    Column("cursor", Integer, nullable=True),
    Column("complete_list_size", Integer, nullable=True),
    Column("pages", Integer, nullable=False, default=0),
    Column("attempts", Integer, nullable=False, default=0),
    Index("ix_harvest_windows_run", "run_id", "position"),
)

harvested = Table(
    "harvested_records",
    metadata,
    Column("source_id", Integer, ForeignKey("harvest_sources.id", ondelete="CASCADE"),
           primary_key=True),
    Column("identifier", String(500), primary_key=True),
    Column("datestamp", String(32), nullable=False),  # as the server wrote it
    Column("datestamp_epoch", BigInteger, nullable=True),
    Column("deleted", Boolean, nullable=False),
    Column("set_specs", Text, nullable=False, default="[]"),  # JSON array, as received
    Column("metadata", Text, nullable=True),  # the payload exactly as received
    Column("about", Text, nullable=True),
    Column("run_id", Integer, nullable=False),  # provenance: the run that last wrote it
    Column("response_date", String(32), nullable=True),  # of the response it came in
    # schema problems of the payload as last harvested; NULL: not validated
    Column("schema_errors", Integer, nullable=True),
    Index("ix_harvested_records_datestamp", "source_id", "datestamp_epoch"),
    # the records an earlier run left (reconcile after a full harvest), without a table scan
    Index("ix_harvested_records_run", "source_id", "run_id"),
)

quarantine = Table(
    "harvest_quarantine",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source_id", Integer, ForeignKey("harvest_sources.id", ondelete="CASCADE"),
           nullable=False),
    Column("run_id", Integer, nullable=False),
    Column("identifier", String(500), nullable=True),
    Column("reason", Text, nullable=False),
    Column("raw", LargeBinary, nullable=True),
    Column("created", BigInteger, nullable=False),
)


# -- duplicates across sources (migration 0007) -------------------------------------------
# One row per harvested record that has identifiers or a fingerprint; `cluster_id` is the
# smallest member id of its connected component over `dup_links`, NULL for a record linked to
# nothing. Identifiers and blocking keys are indexed by value: a new record finds its
# candidates with one indexed look-up per key.

dup_records = Table(
    "dup_records",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source_id", Integer, ForeignKey("harvest_sources.id", ondelete="CASCADE"),
           nullable=False),
    Column("identifier", String(500), nullable=False),  # the OAI identifier
    Column("title", Text, nullable=True),  # as the record gives it, for listings
    Column("fp_title", Text, nullable=True),  # fingerprint: normalised title, year, surname
    Column("fp_year", Integer, nullable=True),
    Column("fp_surname", String(100), nullable=True),
    Column("digest", String(40), nullable=False),  # of what matching used
    Column("cluster_id", Integer, nullable=True),
    Index("ux_dup_records_record", "source_id", "identifier", unique=True),
    Index("ix_dup_records_cluster", "cluster_id"),
)

dup_identifiers = Table(
    "dup_identifiers",
    metadata,
    Column("scheme", String(16), primary_key=True),
    Column("value", String(500), primary_key=True),
    Column("record_id", Integer, ForeignKey("dup_records.id", ondelete="CASCADE"),
           primary_key=True),
    Index("ix_dup_identifiers_record", "record_id"),
)

dup_blocks = Table(
    "dup_blocks",
    metadata,
    Column("block", String(500), primary_key=True),
    Column("record_id", Integer, ForeignKey("dup_records.id", ondelete="CASCADE"),
           primary_key=True),
    Index("ix_dup_blocks_record", "record_id"),
)

# A link between two records of different sources (low_id < high_id) and why: an identifier
# shared (kind = its scheme, value = its normalised value) or a fingerprint (kind
# "fingerprint", value the normalised title, score the title similarity).
dup_links = Table(
    "dup_links",
    metadata,
    Column("low_id", Integer, ForeignKey("dup_records.id", ondelete="CASCADE"),
           primary_key=True),
    Column("high_id", Integer, ForeignKey("dup_records.id", ondelete="CASCADE"),
           primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("value", String(500), primary_key=True),
    Column("score", Float, nullable=True),
    Index("ix_dup_links_high", "high_id"),
)


# -- reconciliation (migration 0006_reconcile) --------------------------------------------
# A reconciliation sweeps a source's identifiers into `reconcile_items` page by page, the
# resumption token committed with each page (so a killed sweep resumes), then compares them
# with `harvested_records` in SQL. `plan` is the JSON list of its lists, [[setSpec, from]...]
# (the lists of the whole repository or of each set, then the catch-up lists from the
# sweep's own start); `position` the list being swept, `token` the one following its last
# written page.

reconciliations = Table(
    "reconciliations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source_id", Integer, ForeignKey("harvest_sources.id", ondelete="CASCADE"),
           nullable=False),
    # running / complete / refused / incomplete / failed / interrupted
    Column("status", String(16), nullable=False),
    Column("started", BigInteger, nullable=False),
    Column("finished", BigInteger, nullable=True),
    Column("apply", Boolean, nullable=False),
    Column("content", Boolean, nullable=False),  # swept with ListRecords, payloads compared
    Column("response_date", String(32), nullable=True),  # server time at the sweep's start
    # the source's latest harvest run when the sweep began: a later one supersedes the sweep
    Column("after_run", Integer, nullable=True),
    Column("plan", Text, nullable=False, default="[]"),
    Column("position", Integer, nullable=False, default=0),
    Column("token", Text, nullable=True),
    Column("pages", Integer, nullable=False, default=0),
    Column("requests", Integer, nullable=False, default=0),
    Column("swept", Integer, nullable=False, default=0),  # identifiers received
    Column("swept_complete", Boolean, nullable=False, default=False),
    # what the comparison found, and what was done about it
    Column("missing", Integer, nullable=True),
    Column("stale", Integer, nullable=True),
    Column("changed", Integer, nullable=True),
    Column("gone", Integer, nullable=True),
    Column("agree", Integer, nullable=True),
    Column("fetched", Integer, nullable=False, default=0),
    Column("tombstoned", Integer, nullable=False, default=0),
    Column("reason", Text, nullable=True),
    Index("ix_reconciliations_source", "source_id", "id"),
)

reconcile_items = Table(
    "reconcile_items",
    metadata,
    Column("reconciliation_id", Integer,
           ForeignKey("reconciliations.id", ondelete="CASCADE"), primary_key=True),
    Column("identifier", String(500), primary_key=True),
    Column("datestamp", String(32), nullable=False),
    Column("datestamp_epoch", BigInteger, nullable=True),
    Column("deleted", Boolean, nullable=False),
    # content sweeps: whether the payload differs from the local copy's (NULL: not compared)
    Column("differs", Boolean, nullable=True),
)


# -- the aggregate, re-served (migration 0008_publish) ------------------------------------
# `harvest_sources.publish` says whether a source's records are served by the provider, and
# `harvest_sources.extra_prefixes` (a JSON array) names the formats harvested besides
# `metadata_prefix`; each list request sequence of a run says which one it harvests
# (`harvest_windows.prefix`, NULL: the source's metadata_prefix).
sources.append_column(Column("publish", Boolean, nullable=False, server_default="0"))
sources.append_column(Column("extra_prefixes", Text, nullable=False, server_default="[]"))
windows.append_column(Column("prefix", String(64), nullable=True))

# The payload of a harvested record in each format besides the source's metadata_prefix
# (which stays in harvested_records.metadata): as received, NULL for a deletion.
harvested_formats = Table(
    "harvested_formats",
    metadata,
    Column("source_id", Integer, ForeignKey("harvest_sources.id", ondelete="CASCADE"),
           primary_key=True),
    Column("identifier", String(500), primary_key=True),
    Column("prefix", String(64), primary_key=True),
    Column("deleted", Boolean, nullable=False),
    Column("metadata", Text, nullable=True),
    Column("run_id", Integer, nullable=False),
)

# What the provider serves of published sources: one row per OAI identifier and format,
# written in the same transaction as the harvested rows it derives from. `datestamp` is the
# aggregator's own (when the copy last changed), so that these rows page by the same
# (datestamp, identifier) keyset as local records; `xml` is the payload as received and
# `about` its provenance container (both NULL for a tombstone, which stays forever). An
# identifier belongs to the first source that published it (no foreign key: the tombstones of
# a removed source stay served).
published = Table(
    "published_records",
    metadata,
    Column("identifier", String(500), primary_key=True),
    Column("prefix", String(64), primary_key=True),
    Column("source_id", Integer, nullable=False),
    Column("set_spec", String(200), nullable=False),  # source:NAME
    Column("datestamp", BigInteger, nullable=False),
    Column("deleted", Boolean, nullable=False),
    Column("origin_datestamp", String(32), nullable=True),  # as the origin wrote it
    Column("xml", Text, nullable=True),
    Column("about", Text, nullable=True),
    Index("ix_published_keyset", "prefix", "datestamp", "identifier"),
    Index("ix_published_set_keyset", "prefix", "set_spec", "datestamp", "identifier"),
    Index("ix_published_source", "source_id", "identifier"),
)

# -- distributed harvesting (migration 0009_distributed) -----------------------------------
# `harvest_sources.harvest_every`: seconds between scheduled harvests (`oai harvest schedule`),
# which Celery beat's periodic "enqueue due sources" reads; NULL: harvested only on demand.
sources.append_column(Column("harvest_every", Integer, nullable=True))
