"""Provider tables: records, renditions, set memberships, sets, settings.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "records",
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("datestamp", sa.BigInteger, nullable=False),
        sa.Column("deleted", sa.Boolean, nullable=False),
        sa.Column("set_specs", sa.Text, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
    )
    op.create_index("ix_records_datestamp_id", "records", ["datestamp", "id"])
    op.create_table(
        "renditions",
        sa.Column("record_id", sa.String(200),
                  sa.ForeignKey("records.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("prefix", sa.String(64), primary_key=True),
        sa.Column("xml", sa.Text, nullable=True),
    )
    op.create_table(
        "record_sets",
        sa.Column("set_spec", sa.String(200), primary_key=True),
        sa.Column("record_id", sa.String(200),
                  sa.ForeignKey("records.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("datestamp", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_record_sets_keyset", "record_sets",
                    ["set_spec", "datestamp", "record_id"])
    op.create_index("ix_record_sets_record", "record_sets", ["record_id"])
    op.create_table(
        "sets",
        sa.Column("spec", sa.String(200), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=True),
    )
    op.create_table(
        "settings",
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for table in ("settings", "sets", "record_sets", "renditions", "records"):
        op.drop_table(table)
