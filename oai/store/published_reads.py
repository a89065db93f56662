"""The provider's reads of published records (`published_records`): the same keyset pages,
counts and look-ups as `oai.store.reads` gives for local records, by served identifier.

Set selection: the parent set `source` holds every published record, `source:NAME` those of
one source; no other set holds any (the origins' own sets are not re-exposed).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from sqlalchemy import Engine, Select, and_, bindparam, func, select, tuple_

from oai.store.bounded import bounded_count
from oai.store.compiled import CompiledReads
from oai.store.published import PARENT_SET
from oai.store.resilience import retried_read
from oai.store.tables import published


class PublishedRow(NamedTuple):
    identifier: str
    datestamp: int
    deleted: bool
    set_spec: str
    xml: str | None
    about: str | None


_COLUMNS = (published.c.identifier, published.c.datestamp, published.c.deleted,
            published.c.set_spec)


def _row(r: Any, with_metadata: bool = True) -> PublishedRow:
    return PublishedRow(r[0], int(r[1]), bool(r[2]), r[3], r[4] if with_metadata else None,
                        r[5] if with_metadata else None)


class PublishedReads:
    """Reads over `engine` (the store's)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._compiled = CompiledReads(engine)

    @staticmethod
    def selects(set_spec: str | None) -> bool:
        """Whether a set can hold published records at all."""
        return set_spec is None or set_spec == PARENT_SET or set_spec.startswith(
            PARENT_SET + ":")

    @staticmethod
    def _window(query: Select[Any], set_spec: str | None, from_epoch: int | None,
                ) -> Select[Any]:
        """`query` restricted to a list window of this shape, its values left to bind
        (`_values`): a compiled page statement then serves every window of the same shape."""
        query = query.where(published.c.prefix == bindparam("prefix"),
                            published.c.datestamp <= bindparam("until_epoch"))
        if set_spec is not None and set_spec != PARENT_SET:
            query = query.where(published.c.set_spec == bindparam("set_spec"))
        if from_epoch is not None:
            query = query.where(published.c.datestamp >= bindparam("from_epoch"))
        return query

    @staticmethod
    def _values(prefix: str, set_spec: str | None, from_epoch: int | None, until_epoch: int,
                after: tuple[int, str] | None = None) -> dict[str, Any]:
        return {"prefix": prefix, "set_spec": set_spec, "from_epoch": from_epoch,
                "until_epoch": until_epoch, "after_ds": after[0] if after else None,
                "after_id": after[1] if after else None}

    @retried_read
    def page(self, prefix: str, set_spec: str | None, from_epoch: int | None,
             until_epoch: int, after: tuple[int, str] | None, limit: int,
             with_metadata: bool) -> list[PublishedRow]:
        """Up to `limit` records after `after` in (datestamp, identifier) order."""
        if not self.selects(set_spec):
            return []
        shape = (set_spec not in (None, PARENT_SET), from_epoch is not None, after is not None,
                 with_metadata, limit)
        rows = self._compiled.fetch(
            ("page", *shape), lambda: self._page_statement(set_spec, from_epoch, after,
                                                           with_metadata, limit),
            self._values(prefix, set_spec, from_epoch, until_epoch, after))
        if with_metadata:
            return [_row(r) for r in rows]
        return [PublishedRow(r[0], int(r[1]), bool(r[2]), r[3], None, None) for r in rows]

    def _page_statement(self, set_spec: str | None, from_epoch: int | None,
                        after: tuple[int, str] | None, with_metadata: bool,
                        limit: int) -> Select[Any]:
        columns: list[Any] = list(_COLUMNS)
        if with_metadata:
            columns += [published.c.xml, published.c.about]
        query = self._window(select(*columns), set_spec, from_epoch)
        if after is not None:
            query = query.where(tuple_(published.c.datestamp, published.c.identifier)
                                > tuple_(bindparam("after_ds"), bindparam("after_id")))
        return query.order_by(published.c.datestamp, published.c.identifier).limit(limit)

    @retried_read
    def count(self, prefix: str, set_spec: str | None, from_epoch: int | None,
              until_epoch: int, cap: int | None = None) -> int:
        """Records of a list window (with `cap`: at most cap + 1, `oai.store.bounded`)."""
        if not self.selects(set_spec):
            return 0
        query = self._window(select(func.count()).select_from(published), set_spec, from_epoch)
        with self.engine.connect() as conn:
            return bounded_count(conn, query, cap,
                                 self._values(prefix, set_spec, from_epoch, until_epoch))

    @retried_read
    def get(self, identifier: str, prefix: str) -> tuple[PublishedRow, bool] | None:
        """The record in `prefix` and True; in another format and False; or None."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(*_COLUMNS, published.c.xml, published.c.about,
                                       published.c.prefix)
                                .where(published.c.identifier == identifier)).all()
        if not rows:
            return None
        for r in rows:
            if r[6] == prefix:
                return _row(r), True
        return _row(rows[0]), False

    @retried_read
    def formats(self, identifier: str) -> list[str] | None:
        with self.engine.connect() as conn:
            found = list(conn.execute(select(published.c.prefix)
                                      .where(published.c.identifier == identifier)
                                      .order_by(published.c.prefix)).scalars())
        return found or None

    @retried_read
    def earliest(self) -> int | None:
        with self.engine.connect() as conn:
            value = conn.execute(select(func.min(published.c.datestamp))).scalar()
        return None if value is None else int(value)

    @retried_read
    def any_in(self, prefix: str) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(published.c.identifier).where(and_(
                published.c.prefix == prefix)).limit(1)).first() is not None
