"""Set lists as JSON arrays; run windows, request counts and lease machines.

Set lists were stored space-separated, which split any setSpec containing a space (servers
send them, schema or not). The provider's own setSpecs are restricted by the record schema to
characters that need no JSON escaping, so they are converted in SQL; harvested ones may hold
anything and are converted row by row, in bounded batches.

Revision ID: 0003
Revises: 0002
"""

import json
from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_BATCH = 2000


def upgrade() -> None:
    with op.batch_alter_table("harvest_sources") as batch:
        batch.add_column(sa.Column("lease_node", sa.String(200), nullable=True))
    with op.batch_alter_table("harvest_runs") as batch:
        batch.add_column(sa.Column("until_date", sa.String(32), nullable=True))
        batch.add_column(sa.Column("requests", sa.Integer, nullable=False, server_default="0"))

    bind = op.get_bind()
    bind.execute(sa.text("UPDATE records SET set_specs = '[]' WHERE set_specs = ''"))
    bind.execute(sa.text(
        "UPDATE records SET set_specs = '[\"' || REPLACE(set_specs, ' ', '\",\"') || '\"]' "
        "WHERE set_specs NOT LIKE '[%'"))
    for name, key in _HARVEST_LISTS:
        _convert(bind, name, key, _to_json)


def downgrade() -> None:
    """Back to space-separated lists (lossy for setSpecs holding spaces, as 0002 was)."""
    bind = op.get_bind()
    for name, key in (("records", ("id",)), *_HARVEST_LISTS):
        _convert(bind, name, key, _to_text)
    # Plain DROP COLUMN (SQLite 3.35+): a batch operation would rebuild harvest_sources, and
    # dropping the old table would cascade to every run and harvested record.
    op.drop_column("harvest_runs", "requests")
    op.drop_column("harvest_runs", "until_date")
    op.drop_column("harvest_sources", "lease_node")


_HARVEST_LISTS = (("harvest_sources", ("id",)),
                  ("harvested_records", ("source_id", "identifier")))


def _to_json(value: str) -> str | None:
    return None if value.startswith("[") else json.dumps(value.split())


def _to_text(value: str) -> str | None:
    return " ".join(json.loads(value)) if value.startswith("[") else None


def _convert(bind: sa.engine.Connection, name: str, key: tuple[str, ...],
             change: Callable[[str], str | None]) -> None:
    """Rewrite a set_specs column row by row (None: leave the row), keyset batch by batch."""
    table = sa.table(name, *(sa.column(c) for c in (*key, "set_specs")))
    keys = [table.c[c] for c in key]
    after: tuple[object, ...] | None = None
    while True:
        query = sa.select(*keys, table.c.set_specs).order_by(*keys).limit(_BATCH)
        if after is not None:
            query = query.where(sa.tuple_(*keys) > sa.tuple_(*after))
        rows = bind.execute(query).all()
        changes = [{**{f"k_{c}": row[i] for i, c in enumerate(key)}, "value": new}
                   for row in rows if (new := change(row[-1] or "")) is not None]
        if changes:
            bind.execute(
                sa.update(table).where(sa.and_(*(table.c[c] == sa.bindparam(f"k_{c}")
                                                for c in key)))
                .values(set_specs=sa.bindparam("value")), changes)
        if len(rows) < _BATCH:
            return
        after = tuple(rows[-1][:len(key)])
