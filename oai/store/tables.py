"""Table definitions (SQLAlchemy Core). Migrations in `migrations/` create exactly these.

Datestamps are integer UTC epoch seconds: identical ordering and arithmetic on SQLite and
PostgreSQL, and the protocol's finest granularity is the second anyway.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

records = Table(
    "records",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("datestamp", BigInteger, nullable=False),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("set_specs", Text, nullable=False, default=""),  # declared specs, space-separated
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

__all__ = ["Integer", "metadata", "record_sets", "records", "renditions", "sets", "settings"]
