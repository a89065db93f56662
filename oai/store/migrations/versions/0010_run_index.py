"""An index on harvested records by source and run.

After a complete full harvest, the records the source no longer lists are those of an earlier
run (`RunQueries.reconcile`). Without this index that question read every row of the source,
metadata overflow pages included (run_id is stored after the payload): seconds at a million
records, for an answer that is usually "none".

Revision ID: 0010_run_index
Revises: 0009_distributed
"""

from alembic import op

revision = "0010_run_index"
down_revision = "0009_distributed"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_harvested_records_run", "harvested_records", ["source_id", "run_id"])


def downgrade() -> None:
    op.drop_index("ix_harvested_records_run", table_name="harvested_records")
