"""The renditions of each format as a whole: which crosswalk version made them, rebuilding
them batch by batch, and what `oai check` counts.

A rebuild re-renders the live records of one format in identifier order. Each batch commits
its changed renditions, the new datestamps of the records whose rendering changed (so that
incremental harvesters see them; unchanged ones keep theirs) and the last identifier done, in
one transaction: a killed rebuild resumes after that identifier.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import and_, delete, func, insert, select, update

from oai.store.tables import format_versions, record_sets, records, renditions

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

_CHUNK = 500


@dataclass(frozen=True)
class FormatState:
    prefix: str
    version: str | None  # the version every live record was rendered with; None: never
    rebuilding: str | None  # a rebuild to this version is under way
    rebuilt_after: str | None  # the last record id that rebuild has done


class _StoreLike(Protocol):
    engine: Engine

    def write_connection(self: _StoreLike) -> Any: ...

    def clock_in(self: _StoreLike, conn: Connection) -> int: ...


class RenditionAdmin:
    """Mixed into Store (whose engine, write connections and clock it uses)."""

    def format_states(self: _StoreLike) -> dict[str, FormatState]:
        with self.engine.connect() as conn:
            return {r.prefix: FormatState(r.prefix, r.version, r.rebuilding, r.rebuilt_after)
                    for r in conn.execute(select(format_versions))}

    def adopt_format_versions(self: _StoreLike, versions: Mapping[str, str]) -> None:
        """For a store holding no record yet, note that every format is up to date (there is
        nothing to render); a store with records keeps what it has, to be rebuilt."""
        with self.write_connection() as conn, conn.begin():
            if conn.execute(select(records.c.id).limit(1)).first() is not None:
                return
            known = set(conn.execute(select(format_versions.c.prefix)).scalars())
            conn.execute(delete(format_versions).where(
                format_versions.c.prefix.in_([p for p in versions if p in known])))
            conn.execute(insert(format_versions), [
                {"prefix": p, "version": v, "rebuilding": None, "rebuilt_after": None}
                for p, v in versions.items()])

    def begin_rebuild(self: _StoreLike, prefix: str, version: str) -> str | None:
        """Start (or resume) rebuilding `prefix` to `version`; the last record id already
        done, or None to start from the first."""
        with self.write_connection() as conn, conn.begin():
            row = conn.execute(select(format_versions)
                               .where(format_versions.c.prefix == prefix)).first()
            if row is not None and row.rebuilding == version:
                return str(row.rebuilt_after) if row.rebuilt_after is not None else None
            if row is None:
                conn.execute(insert(format_versions).values(
                    prefix=prefix, version=None, rebuilding=version, rebuilt_after=None))
            else:
                conn.execute(update(format_versions).where(format_versions.c.prefix == prefix)
                             .values(rebuilding=version, rebuilt_after=None))
        return None

    def live_records_after(self: _StoreLike, after: str | None,
                           limit: int) -> list[tuple[str, str]]:
        """(id, canonical JSON) of live records past `after`, in identifier order."""
        query = (select(records.c.id, records.c.data).where(records.c.deleted.is_(False))
                 .order_by(records.c.id).limit(limit))
        if after is not None:
            query = query.where(records.c.id > after)
        with self.engine.connect() as conn:
            return [(r.id, r.data) for r in conn.execute(query)]

    def renditions_of(self: _StoreLike, ids: Sequence[str], prefix: str) -> dict[str, str | None]:
        with self.engine.connect() as conn:
            return dict(conn.execute(select(renditions.c.record_id, renditions.c.xml).where(
                and_(renditions.c.prefix == prefix, renditions.c.record_id.in_(list(ids)))))
                .all())

    def apply_rebuild(self: _StoreLike, prefix: str, changes: Sequence[tuple[str, str | None]],
                      last_id: str) -> None:
        """One batch of a rebuild: the new renditions (None: no longer disseminated), a new
        datestamp for their records, and the resume point, in one transaction."""
        ids = [record_id for record_id, _ in changes]
        with self.write_connection() as conn, conn.begin():
            now = self.clock_in(conn)
            for start in range(0, len(ids), _CHUNK):
                chunk = ids[start:start + _CHUNK]
                conn.execute(delete(renditions).where(and_(
                    renditions.c.prefix == prefix, renditions.c.record_id.in_(chunk))))
                conn.execute(update(records).where(records.c.id.in_(chunk))
                             .values(datestamp=now))
                conn.execute(update(record_sets).where(record_sets.c.record_id.in_(chunk))
                             .values(datestamp=now))
            rows = [{"record_id": i, "prefix": prefix, "xml": xml}
                    for i, xml in changes if xml is not None]
            if rows:
                conn.execute(insert(renditions), rows)
            conn.execute(update(format_versions).where(format_versions.c.prefix == prefix)
                         .values(rebuilt_after=last_id))

    def finish_rebuild(self: _StoreLike, prefix: str, version: str) -> None:
        with self.write_connection() as conn, conn.begin():
            conn.execute(update(format_versions).where(format_versions.c.prefix == prefix)
                         .values(version=version, rebuilding=None, rebuilt_after=None))

    def live_record_count(self: _StoreLike) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(records)
                                    .where(records.c.deleted.is_(False))).scalar_one())

    def disseminated_counts(self: _StoreLike) -> dict[str, int]:
        """Live records carried by each format."""
        with self.engine.connect() as conn:
            return dict(conn.execute(
                select(renditions.c.prefix, func.count())
                .select_from(renditions.join(records, records.c.id == renditions.c.record_id))
                .where(records.c.deleted.is_(False)).group_by(renditions.c.prefix)).all())

    def records_without(self: _StoreLike, prefix: str, after: str | None,
                        limit: int) -> list[tuple[str, str]]:
        """(id, canonical JSON) of live records that `prefix` does not carry, past `after`."""
        carried = select(renditions.c.record_id).where(and_(
            renditions.c.prefix == prefix, renditions.c.record_id == records.c.id))
        query = (select(records.c.id, records.c.data)
                 .where(and_(records.c.deleted.is_(False), ~carried.exists()))
                 .order_by(records.c.id).limit(limit))
        if after is not None:
            query = query.where(records.c.id > after)
        with self.engine.connect() as conn:
            return [(r.id, r.data) for r in conn.execute(query)]

    def sample_renditions(self: _StoreLike, prefix: str, limit: int) -> list[tuple[str, str]]:
        """Up to `limit` stored fragments of `prefix`, spread over the identifier range."""
        with self.engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(renditions).where(and_(
                renditions.c.prefix == prefix, renditions.c.xml.is_not(None)))).scalar_one()
            step = max(1, int(total) // max(1, limit))
            query = (select(renditions.c.record_id, renditions.c.xml)
                     .where(and_(renditions.c.prefix == prefix, renditions.c.xml.is_not(None)))
                     .order_by(renditions.c.record_id))
            picked = []
            for index, row in enumerate(conn.execute(query)):
                if index % step == 0:
                    picked.append((row.record_id, row.xml))
                    if len(picked) >= limit:
                        break
            return picked
