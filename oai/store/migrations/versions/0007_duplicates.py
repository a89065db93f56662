"""Duplicates across sources: each harvested record's normalised identifiers and fingerprint
blocking keys, indexed by value, the links found between records of different sources with
their evidence, and each record's cluster (connected component over the links).

Revision ID: 0007_duplicates
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_duplicates"
down_revision = "0006_reconcile"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dup_records",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source_id", sa.Integer,
                  sa.ForeignKey("harvest_sources.id", ondelete="CASCADE"), nullable=False),
        sa.Column("identifier", sa.String(500), nullable=False),
        sa.Column("title", sa.Text, nullable=True),
        sa.Column("fp_title", sa.Text, nullable=True),
        sa.Column("fp_year", sa.Integer, nullable=True),
        sa.Column("fp_surname", sa.String(100), nullable=True),
        sa.Column("digest", sa.String(40), nullable=False),
        sa.Column("cluster_id", sa.Integer, nullable=True),
    )
    op.create_index("ux_dup_records_record", "dup_records", ["source_id", "identifier"],
                    unique=True)
    op.create_index("ix_dup_records_cluster", "dup_records", ["cluster_id"])
    op.create_table(
        "dup_identifiers",
        sa.Column("scheme", sa.String(16), primary_key=True),
        sa.Column("value", sa.String(500), primary_key=True),
        sa.Column("record_id", sa.Integer,
                  sa.ForeignKey("dup_records.id", ondelete="CASCADE"), primary_key=True),
    )
    op.create_index("ix_dup_identifiers_record", "dup_identifiers", ["record_id"])
    op.create_table(
        "dup_blocks",
        sa.Column("block", sa.String(500), primary_key=True),
        sa.Column("record_id", sa.Integer,
                  sa.ForeignKey("dup_records.id", ondelete="CASCADE"), primary_key=True),
    )
    op.create_index("ix_dup_blocks_record", "dup_blocks", ["record_id"])
    op.create_table(
        "dup_links",
        sa.Column("low_id", sa.Integer,
                  sa.ForeignKey("dup_records.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("high_id", sa.Integer,
                  sa.ForeignKey("dup_records.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("value", sa.String(500), primary_key=True),
        sa.Column("score", sa.Float, nullable=True),
    )
    op.create_index("ix_dup_links_high", "dup_links", ["high_id"])


def downgrade() -> None:
    op.drop_table("dup_links")
    op.drop_table("dup_blocks")
    op.drop_table("dup_identifiers")
    op.drop_table("dup_records")
