"""Reconciliation: sweeps of a source's identifiers, what they found, and a schedule.

`reconciliations` records each one (status, counts, reason, and the sweep's resumable
position: its plan of lists, the list being swept and the token after its last page);
`reconcile_items` holds the identifiers a sweep received, compared with the local copy in
SQL; `harvest_sources.reconcile_every` is the schedule in seconds (NULL: none).

Revision ID: 0006_reconcile
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_reconcile"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMN, never a batch rebuild (see 0005: a rebuild would cascade)
    op.add_column("harvest_sources", sa.Column("reconcile_every", sa.Integer, nullable=True))
    op.create_table(
        "reconciliations",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source_id", sa.Integer,
                  sa.ForeignKey("harvest_sources.id", ondelete="CASCADE"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started", sa.BigInteger, nullable=False),
        sa.Column("finished", sa.BigInteger, nullable=True),
        sa.Column("apply", sa.Boolean, nullable=False),
        sa.Column("content", sa.Boolean, nullable=False),
        sa.Column("response_date", sa.String(32), nullable=True),
        sa.Column("after_run", sa.Integer, nullable=True),
        sa.Column("plan", sa.Text, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("token", sa.Text, nullable=True),
        sa.Column("pages", sa.Integer, nullable=False),
        sa.Column("requests", sa.Integer, nullable=False),
        sa.Column("swept", sa.Integer, nullable=False),
        sa.Column("swept_complete", sa.Boolean, nullable=False),
        sa.Column("missing", sa.Integer, nullable=True),
        sa.Column("stale", sa.Integer, nullable=True),
        sa.Column("changed", sa.Integer, nullable=True),
        sa.Column("gone", sa.Integer, nullable=True),
        sa.Column("agree", sa.Integer, nullable=True),
        sa.Column("fetched", sa.Integer, nullable=False),
        sa.Column("tombstoned", sa.Integer, nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
    )
    op.create_index("ix_reconciliations_source", "reconciliations", ["source_id", "id"])
    op.create_table(
        "reconcile_items",
        sa.Column("reconciliation_id", sa.Integer,
                  sa.ForeignKey("reconciliations.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("identifier", sa.String(500), primary_key=True),
        sa.Column("datestamp", sa.String(32), nullable=False),
        sa.Column("datestamp_epoch", sa.BigInteger, nullable=True),
        sa.Column("deleted", sa.Boolean, nullable=False),
        sa.Column("differs", sa.Boolean, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("reconcile_items")
    op.drop_index("ix_reconciliations_source", table_name="reconciliations")
    op.drop_table("reconciliations")
    op.drop_column("harvest_sources", "reconcile_every")
