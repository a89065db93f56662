"""Harvest tables: sources, runs, windows, harvested records, quarantine.

The tables are created from their definitions in `oai.store.tables` as they stand at this
revision; a later change to one of them gets a migration of its own.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

from oai.store import tables

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_TABLES = (tables.sources, tables.runs, tables.windows, tables.harvested, tables.quarantine)


def upgrade() -> None:
    bind = op.get_bind()
    for table in _TABLES:
        table.create(bind)


def downgrade() -> None:
    bind = op.get_bind()
    for table in reversed(_TABLES):
        table.drop(bind)
