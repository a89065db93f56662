"""The provider's reads of published records (`published_records`): the same keyset pages,
counts and look-ups as `oai.store.reads` gives for local records, by served identifier.

Set selection: the parent set `source` holds every published record, `source:NAME` those of
one source; no other set holds any (the origins' own sets are not re-exposed).
"""

from __future__ import annotations

import time
from collections.abc import Callable
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


#: Seconds a process trusts that a format had no published record up to a datestamp: the
#: fact cannot change (below), but a restored or hand-edited database could change it.
EMPTY_TTL = 60.0


class PublishedReads:
    """Reads over `engine` (the store's).

    Most repositories publish no harvested source, yet each list page would ask for published
    records: a second round trip for every page. A published row's datestamp is the database
    clock of the transaction that writes it, as for local records, so once no row of a format
    is dated at or before T, none ever will be (the same premise as the provider's frozen
    list windows and safety lag): pages of windows ending at or before T are then known empty
    without asking, for `EMPTY_TTL` seconds."""

    def __init__(self, engine: Engine, clock: Callable[[], float] = time.monotonic) -> None:
        self.engine = engine
        self._compiled = CompiledReads(engine)
        self._clock = clock
        self._empty_upto: dict[str, tuple[int, float]] = {}  # prefix: (datestamp, until when)

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
        if not self.selects(set_spec) or self._known_empty(prefix, until_epoch):
            return []
        shape = (set_spec not in (None, PARENT_SET), from_epoch is not None, after is not None,
                 with_metadata, limit)
        rows = self._compiled.fetch(
            ("page", *shape), lambda: self._page_statement(set_spec, from_epoch, after,
                                                           with_metadata, limit),
            self._values(prefix, set_spec, from_epoch, until_epoch, after))
        if not rows:
            self._learn_if_empty(prefix, until_epoch)
        if with_metadata:
            return [_row(r) for r in rows]
        return [PublishedRow(r[0], int(r[1]), bool(r[2]), r[3], None, None) for r in rows]

    def _known_empty(self, prefix: str, until_epoch: int) -> bool:
        known = self._empty_upto.get(prefix)
        return known is not None and until_epoch <= known[0] and self._clock() < known[1]

    def _learn_if_empty(self, prefix: str, until_epoch: int) -> None:
        """After an empty page: whether the format has no published record at all up to the
        window's end (one more query, made again only once that is known or expired)."""
        found = self._compiled.fetch(
            ("any",), lambda: select(published.c.identifier).where(
                published.c.prefix == bindparam("prefix"),
                published.c.datestamp <= bindparam("until_epoch")).limit(1),
            {"prefix": prefix, "until_epoch": until_epoch})
        if not found:
            self._empty_upto[prefix] = (until_epoch, self._clock() + EMPTY_TTL)

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
