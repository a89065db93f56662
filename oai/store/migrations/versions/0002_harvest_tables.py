"""Harvest tables: sources, runs, windows, harvested records, quarantine.

Spelled out as they stood at this revision: a migration never imports the live definitions in
`oai.store.tables`, which move on with later revisions.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "harvest_sources",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("base_url", sa.Text, nullable=False),
        sa.Column("metadata_prefix", sa.String(64), nullable=False),
        sa.Column("set_specs", sa.Text, nullable=False),
        sa.Column("min_interval", sa.Float, nullable=True),
        sa.Column("created", sa.BigInteger, nullable=False),
        sa.Column("granularity", sa.String(32), nullable=True),
        sa.Column("earliest_datestamp", sa.String(32), nullable=True),
        sa.Column("deleted_record", sa.String(16), nullable=True),
        sa.Column("compression", sa.Text, nullable=True),
        sa.Column("quirks", sa.Text, nullable=False),
        sa.Column("repository_name", sa.Text, nullable=True),
        sa.Column("last_complete_from", sa.String(32), nullable=True),
        sa.Column("last_complete_run", sa.Integer, nullable=True),
        sa.Column("lease_owner", sa.String(200), nullable=True),
        sa.Column("lease_until", sa.BigInteger, nullable=True),
    )
    op.create_table(
        "harvest_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source_id", sa.Integer,
                  sa.ForeignKey("harvest_sources.id", ondelete="CASCADE"), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started", sa.BigInteger, nullable=False),
        sa.Column("finished", sa.BigInteger, nullable=True),
        sa.Column("from_date", sa.String(32), nullable=True),
        sa.Column("response_date", sa.String(32), nullable=True),
        sa.Column("pages", sa.Integer, nullable=False),
        sa.Column("records", sa.Integer, nullable=False),
        sa.Column("deleted", sa.Integer, nullable=False),
        sa.Column("quarantined", sa.Integer, nullable=False),
        sa.Column("errors", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
    )
    op.create_index("ix_harvest_runs_source", "harvest_runs", ["source_id", "id"])
    op.create_table(
        "harvest_windows",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Integer,
                  sa.ForeignKey("harvest_runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("set_spec", sa.String(200), nullable=True),
        sa.Column("from_date", sa.String(32), nullable=True),
        sa.Column("until_date", sa.String(32), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("token", sa.Text, nullable=True),
        sa.Column("cursor", sa.Integer, nullable=True),
        sa.Column("complete_list_size", sa.Integer, nullable=True),
        sa.Column("pages", sa.Integer, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
    )
    op.create_index("ix_harvest_windows_run", "harvest_windows", ["run_id", "position"])
    op.create_table(
        "harvested_records",
        sa.Column("source_id", sa.Integer,
                  sa.ForeignKey("harvest_sources.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("identifier", sa.String(500), primary_key=True),
        sa.Column("datestamp", sa.String(32), nullable=False),
        sa.Column("datestamp_epoch", sa.BigInteger, nullable=True),
        sa.Column("deleted", sa.Boolean, nullable=False),
        sa.Column("set_specs", sa.Text, nullable=False),
        sa.Column("metadata", sa.Text, nullable=True),
        sa.Column("about", sa.Text, nullable=True),
        sa.Column("run_id", sa.Integer, nullable=False),
        sa.Column("response_date", sa.String(32), nullable=True),
    )
    op.create_index("ix_harvested_records_datestamp", "harvested_records",
                    ["source_id", "datestamp_epoch"])
    op.create_table(
        "harvest_quarantine",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source_id", sa.Integer,
                  sa.ForeignKey("harvest_sources.id", ondelete="CASCADE"), nullable=False),
        sa.Column("run_id", sa.Integer, nullable=False),
        sa.Column("identifier", sa.String(500), nullable=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("raw", sa.LargeBinary, nullable=True),
        sa.Column("created", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    for table in ("harvest_quarantine", "harvested_records", "harvest_windows", "harvest_runs",
                  "harvest_sources"):
        op.drop_table(table)
