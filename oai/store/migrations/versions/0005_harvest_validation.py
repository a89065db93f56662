"""Schema validation of harvested records: which sources ask for it, and what it found.

`harvest_sources.validate_records` is the source's flag; `harvested_records.schema_errors`
the number of schema problems in a record's payload as last harvested (NULL when it was not
validated: the flag off, a deletion, a namespace without a schema); `harvest_runs.
invalid_records` how many records a run flagged.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE, never a batch rebuild: on SQLite, rebuilding harvest_sources drops
    # it, and the drop cascades to every run and record. A default that is a plain string
    # (not an SQL expression) keeps ADD COLUMN possible there.
    op.add_column("harvest_sources", sa.Column("validate_records", sa.Boolean,
                                               nullable=False, server_default="0"))
    op.add_column("harvest_runs", sa.Column("invalid_records", sa.Integer, nullable=False,
                                            server_default="0"))
    op.add_column("harvested_records", sa.Column("schema_errors", sa.Integer, nullable=True))


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN needs SQLite 3.35 (2021) or later
    op.drop_column("harvested_records", "schema_errors")
    op.drop_column("harvest_runs", "invalid_records")
    op.drop_column("harvest_sources", "validate_records")
