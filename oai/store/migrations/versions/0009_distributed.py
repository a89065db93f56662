"""Distributed harvesting: a harvest schedule per source.

`harvest_sources.harvest_every` is the number of seconds between scheduled harvests (NULL:
only on demand), read by the periodic task that enqueues due sources on Celery.

Revision ID: 0009_distributed
Revises: 0008_publish
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_distributed"
down_revision = "0008_publish"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMN, never a batch rebuild (see 0005: a rebuild would cascade)
    op.add_column("harvest_sources", sa.Column("harvest_every", sa.Integer, nullable=True))


def downgrade() -> None:
    op.drop_column("harvest_sources", "harvest_every")
