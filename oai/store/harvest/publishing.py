"""Publishing a source (`oai harvest add/edit --publish`): the flag, the first full pass over
what was harvested, unpublishing, and the collisions a source met.

The per-page upkeep is `oai.store.published.sync`, called by the page writer in each page's
transaction; here are the whole-source operations, each batch in its own transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, and_, func, insert, select, text, update

from oai.store.errors import StoreError
from oai.store.harvest.base import HarvestBase
from oai.store.published import (
    LOCAL_PREFIX_KEY,
    Sql,
    ensure_sets,
    source_info,
    sync,
    tombstone_source,
)
from oai.store.tables import harvested, published, settings, sources

_BATCH = 1000


def sql_of(conn: Connection) -> Sql:
    """Plain SQL on the driver cursor of `conn`, inside its transaction."""
    return Sql(conn.connection.cursor(), conn.dialect.paramstyle)


def publish_sync(conn: Connection, source_id: int, identifiers: list[str], now: int) -> int:
    """`sync` inside the transaction of `conn`: for writers of harvested rows (reconciliation
    tombstoning what a source no longer lists) to keep the published copies in step."""
    return sync(sql_of(conn), source_id, identifiers, now)


class UnorderedCollation(StoreError):
    """The database orders identifiers by a locale: published and local records could not be
    listed in one order."""


#: identifiers whose order differs between code points and every locale's collation
_PROBE = ("a", "B", "_", "Z", "e", "\u00e9", "1", ":", "-", "oai:x", "oai-x", "A")


def _require_code_point_order(conn: Connection) -> None:
    """Published and local records are merged in Python by (datestamp, identifier): the
    database must order identifiers as Python does (by code point). SQLite's default (BINARY)
    does; on PostgreSQL that takes a C or C.UTF-8 collation, which the database's own ORDER BY
    is asked to show (whatever the provider: libc, ICU)."""
    if conn.dialect.name != "postgresql":
        return
    values = ", ".join(f"(:v{i})" for i in range(len(_PROBE)))
    ordered = list(conn.execute(
        text(f"SELECT v FROM (VALUES {values}) AS probe(v) ORDER BY v"),
        {f"v{i}": v for i, v in enumerate(_PROBE)}).scalars())
    if ordered != sorted(_PROBE):
        collation = conn.execute(text(
            "SELECT datcollate FROM pg_database WHERE datname = current_database()")).scalar()
        raise UnorderedCollation(
            f"cannot publish: this PostgreSQL database orders text by a locale ({collation}); "
            "published and local records are listed in code-point order, which needs a "
            "database created with a C collation "
            "(createdb --locale=C.UTF-8 --locale-provider=libc --template=template0)")


class PublishQueries(HarvestBase):
    def set_publish(self, source_id: int, publish: bool, local_prefix: str | None = None,
                    progress: Callable[[int], None] | None = None) -> int:
        """Publish or unpublish a source; the number of identifiers whose served copy changed.

        Publishing serves every record held (in batches, each its own transaction: a pass
        that was killed is simply run again by `harvest edit --publish`); unpublishing turns
        every record the source served into a tombstone, in one transaction."""
        def flag(conn: Connection) -> int:
            if publish:
                _require_code_point_order(conn)
            if local_prefix is not None:
                _put_setting(conn, LOCAL_PREFIX_KEY, local_prefix)
            conn.execute(update(sources).where(sources.c.id == source_id)
                         .values(publish=publish))
            sql = sql_of(conn)
            if not publish:
                return tombstone_source(sql, source_id, self.store.clock_in(conn))
            info = source_info(sql, source_id)
            assert info is not None
            ensure_sets(sql, info)
            return 0
        changed = self._write(flag)
        if not publish:
            return changed
        after = ""
        while True:
            ids = self._read(lambda conn, a=after: list(conn.execute(  # type: ignore[misc]
                select(harvested.c.identifier).where(and_(
                    harvested.c.source_id == source_id, harvested.c.identifier > a))
                .order_by(harvested.c.identifier).limit(_BATCH)).scalars()))
            if not ids:
                return changed
            count = self._write(lambda conn, i=ids: sync(  # type: ignore[misc]
                sql_of(conn), source_id, i, self.store.clock_in(conn)))
            changed += count
            if progress is not None:
                progress(len(ids))
            after = ids[-1]

    def publish_sync(self, source_id: int, identifiers: list[str]) -> int:
        """Bring the published copies of these identifiers up to date, in one transaction
        (for writers of harvested rows that do not call `sync` in their own)."""
        return self._write(lambda conn: sync(sql_of(conn), source_id, identifiers,
                                             self.store.clock_in(conn)))

    def published_counts(self, source_id: int) -> dict[str, Any]:
        """Served identifiers (live, deleted) and collisions: identifiers held for the
        source that another source published first or that lie in the provider's own
        namespace, so are not served."""
        def work(conn: Connection) -> dict[str, Any]:
            live, deleted = conn.execute(select(
                func.count(func.distinct(published.c.identifier)).filter(
                    published.c.deleted.is_(False)),
                func.count(func.distinct(published.c.identifier)).filter(
                    published.c.deleted.is_(True)))
                .where(published.c.source_id == source_id)).one()
            taken = select(published.c.identifier).where(
                published.c.source_id != source_id).scalar_subquery()
            collisions = conn.execute(select(func.count()).select_from(harvested).where(
                harvested.c.source_id == source_id,
                harvested.c.identifier.in_(taken))).scalar_one()
            prefix = conn.execute(select(settings.c.value).where(
                settings.c.key == LOCAL_PREFIX_KEY)).scalar()
            reserved = 0
            if prefix:
                reserved = conn.execute(select(func.count()).select_from(harvested).where(
                    harvested.c.source_id == source_id,
                    func.substr(harvested.c.identifier, 1, len(prefix)) == prefix,
                )).scalar_one()
            return {"served": int(live), "served_deleted": int(deleted),
                    "collisions": int(collisions) + int(reserved)}
        return self._read(work)


def _put_setting(conn: Connection, key: str, value: str) -> None:
    if conn.execute(select(settings.c.key).where(settings.c.key == key)).scalar() is None:
        conn.execute(insert(settings).values(key=key, value=value))
    else:
        conn.execute(update(settings).where(settings.c.key == key).values(value=value))
