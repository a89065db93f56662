"""The aggregate, re-served: published sources, several formats per source, and the table
the provider serves published records from.

`harvest_sources.publish` and `.extra_prefixes`, `harvest_windows.prefix`; new tables
`harvested_formats` (payloads in the formats besides the source's metadata_prefix) and
`published_records` (one row per served identifier and format, with the aggregator's own
datestamp and the provenance container).

Revision ID: 0008_publish
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_publish"
down_revision = "0007_duplicates"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMN, never a batch rebuild (see 0005: a rebuild of harvest_sources would
    # cascade to every run and record on SQLite)
    op.add_column("harvest_sources", sa.Column("publish", sa.Boolean, nullable=False,
                                               server_default="0"))
    op.add_column("harvest_sources", sa.Column("extra_prefixes", sa.Text, nullable=False,
                                               server_default="[]"))
    op.add_column("harvest_windows", sa.Column("prefix", sa.String(64), nullable=True))
    op.create_table(
        "harvested_formats",
        sa.Column("source_id", sa.Integer,
                  sa.ForeignKey("harvest_sources.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("identifier", sa.String(500), primary_key=True),
        sa.Column("prefix", sa.String(64), primary_key=True),
        sa.Column("deleted", sa.Boolean, nullable=False),
        sa.Column("metadata", sa.Text, nullable=True),
        sa.Column("run_id", sa.Integer, nullable=False),
    )
    op.create_table(
        "published_records",
        sa.Column("identifier", sa.String(500), primary_key=True),
        sa.Column("prefix", sa.String(64), primary_key=True),
        sa.Column("source_id", sa.Integer, nullable=False),
        sa.Column("set_spec", sa.String(200), nullable=False),
        sa.Column("datestamp", sa.BigInteger, nullable=False),
        sa.Column("deleted", sa.Boolean, nullable=False),
        sa.Column("origin_datestamp", sa.String(32), nullable=True),
        sa.Column("xml", sa.Text, nullable=True),
        sa.Column("about", sa.Text, nullable=True),
    )
    op.create_index("ix_published_keyset", "published_records",
                    ["prefix", "datestamp", "identifier"])
    op.create_index("ix_published_set_keyset", "published_records",
                    ["prefix", "set_spec", "datestamp", "identifier"])
    op.create_index("ix_published_source", "published_records", ["source_id", "identifier"])


def downgrade() -> None:
    op.drop_table("published_records")
    op.drop_table("harvested_formats")
    op.drop_column("harvest_windows", "prefix")
    op.drop_column("harvest_sources", "extra_prefixes")
    op.drop_column("harvest_sources", "publish")
