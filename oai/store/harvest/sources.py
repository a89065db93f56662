"""Sources: their definition, what was learned about them, and who is harvesting them.

A lease is an owner and an expiry that the owner's heartbeat keeps pushing forward, so it
works across processes and machines: a run that dies stops renewing and its lease lapses. The
caller may also declare a holder abandoned earlier (a process on this very machine that no
longer exists), which spares a restarted harvest the wait.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, select, update

from oai.store.errors import StoreError
from oai.store.harvest.base import HarvestBase
from oai.store.harvest.publishing import sql_of
from oai.store.harvest.rows import SourceRow, source_row
from oai.store.published import tombstone_source
from oai.store.tables import dump_list, harvested, harvested_formats, sources

_BATCH = 5000


class SourceExists(StoreError):
    """A source of that name is already defined."""


class UnknownSource(StoreError):
    """No source has that name."""


class SourceHeld(StoreError):
    """The source is being harvested; it cannot be removed now."""


class SourceQueries(HarvestBase):
    def add_source(self, name: str, base_url: str, metadata_prefix: str = "oai_dc",
                   set_specs: Sequence[str] = (), min_interval: float | None = None,
                   profile: dict[str, Any] | None = None,
                   validate_records: bool = False,
                   reconcile_every: int | None = None,
                   extra_prefixes: Sequence[str] = ()) -> SourceRow:
        def work(conn: Connection) -> None:
            if conn.execute(select(sources.c.id).where(sources.c.name == name)).scalar():
                raise SourceExists(f"a source named {name!r} already exists")
            conn.execute(insert(sources).values(
                name=name, base_url=base_url, metadata_prefix=metadata_prefix,
                set_specs=dump_list(set_specs), min_interval=min_interval,
                created=self.store.clock_in(conn), quirks="[]",
                validate_records=validate_records, reconcile_every=reconcile_every,
                extra_prefixes=dump_list(extra_prefixes),
                **_profile(profile or {})))
        self._write(work)
        return self.require_source(name)

    def get_source(self, name: str) -> SourceRow | None:
        row = self._read(lambda conn: conn.execute(
            select(sources).where(sources.c.name == name)).first())
        return source_row(row) if row else None

    def require_source(self, name: str) -> SourceRow:
        found = self.get_source(name)
        if found is None:
            raise UnknownSource(f"no source named {name!r} (see 'oai harvest list')")
        return found

    def list_sources(self) -> list[SourceRow]:
        rows = self._read(lambda conn: conn.execute(
            select(sources).order_by(sources.c.name)).all())
        return [source_row(r) for r in rows]

    def update_profile(self, source_id: int, **values: Any) -> None:
        """Store what was learned about a source (granularity, earliestDatestamp, quirks...)."""
        changes = _profile(values)
        self._write(lambda conn: conn.execute(
            update(sources).where(sources.c.id == source_id).values(**changes)))

    def edit_source(self, source_id: int, *, base_url: str | None = None,
                    metadata_prefix: str | None = None, set_specs: Sequence[str] | None = None,
                    min_interval: float | None = None, clear_interval: bool = False,
                    validate_records: bool | None = None,
                    reconcile_every: int | None = None, clear_reconcile: bool = False,
                    extra_prefixes: Sequence[str] | None = None) -> None:
        """Change a source's definition. A new prefix or set list describes another list, so
        the incremental state is dropped: the next run harvests everything again."""
        values: dict[str, Any] = {}
        if base_url is not None:
            values["base_url"] = base_url
        if metadata_prefix is not None:
            values["metadata_prefix"] = metadata_prefix
        if set_specs is not None:
            values["set_specs"] = dump_list(set_specs)
        if min_interval is not None or clear_interval:
            values["min_interval"] = min_interval
        if validate_records is not None:
            values["validate_records"] = validate_records
        if reconcile_every is not None or clear_reconcile:
            values["reconcile_every"] = reconcile_every
        if extra_prefixes is not None:
            values["extra_prefixes"] = dump_list(extra_prefixes)
        if metadata_prefix is not None or set_specs is not None or extra_prefixes is not None:
            values.update(last_complete_from=None, last_complete_run=None)
        if values:
            self._write(lambda conn: conn.execute(
                update(sources).where(sources.c.id == source_id).values(**values)))

    def set_harvest_every(self, source_id: int, seconds: int | None) -> None:
        """The source's harvest schedule (None: harvested only on demand)."""
        self._write(lambda conn: conn.execute(
            update(sources).where(sources.c.id == source_id).values(harvest_every=seconds)))

    def remove_source(self, source_id: int, progress: Callable[[int], None] | None = None,
                      ) -> int:
        """Delete a source with its runs and records, in bounded batches; the count removed.
        Refused while a live run holds the source."""
        now = self.now()
        held = self._read(lambda conn: conn.execute(
            select(sources.c.lease_owner, sources.c.lease_until)
            .where(sources.c.id == source_id)).one())
        if held.lease_owner and (held.lease_until or 0) > now:
            raise SourceHeld(f"the source is being harvested by {held.lease_owner}; "
                             "stop that run first")
        # what it served stays served, as tombstones (incremental harvesters see them go)
        self._write(lambda conn: tombstone_source(sql_of(conn), source_id,
                                                  self.store.clock_in(conn)))
        removed = 0
        while True:
            def batch(conn: Connection) -> int:
                ids = list(conn.execute(select(harvested.c.identifier)
                                        .where(harvested.c.source_id == source_id)
                                        .limit(_BATCH)).scalars())
                if ids:
                    conn.execute(delete(harvested_formats).where(and_(
                        harvested_formats.c.source_id == source_id,
                        harvested_formats.c.identifier.in_(ids))))
                    conn.execute(delete(harvested).where(and_(
                        harvested.c.source_id == source_id, harvested.c.identifier.in_(ids))))
                return len(ids)
            count = self._write(batch)
            removed += count
            if progress is not None:
                progress(count)
            if count < _BATCH:
                break
        self._write(lambda conn: conn.execute(delete(harvested_formats).where(
            harvested_formats.c.source_id == source_id)))
        self._write(lambda conn: conn.execute(delete(sources).where(sources.c.id == source_id)))
        return removed

    # -- leases --------------------------------------------------------------------------

    def acquire_lease(self, source_id: int, owner: str, node: str, seconds: int,
                      abandoned: Callable[[str, str | None], bool] = lambda o, n: False,
                      ) -> str | None:
        """Take the source for `owner`; None on success, else who holds it."""
        def work(conn: Connection) -> str | None:
            now = self.store.clock_in(conn)
            held = conn.execute(select(sources.c.lease_owner, sources.c.lease_until,
                                       sources.c.lease_node)
                                .where(sources.c.id == source_id)).one()
            if (held.lease_owner and held.lease_owner != owner
                    and (held.lease_until or 0) > now
                    and not abandoned(held.lease_owner, held.lease_node)):
                return str(held.lease_owner)
            conn.execute(update(sources).where(sources.c.id == source_id).values(
                lease_owner=owner, lease_node=node, lease_until=now + seconds))
            return None
        return self._write(work)

    def renew_lease(self, source_id: int, owner: str, seconds: int) -> bool:
        """Push the expiry forward; False if the lease is no longer this owner's."""
        def work(conn: Connection) -> bool:
            now = self.store.clock_in(conn)
            result = conn.execute(update(sources).where(and_(
                sources.c.id == source_id, sources.c.lease_owner == owner))
                .values(lease_until=now + seconds))
            return bool(result.rowcount)
        return self._write(work)

    def release_lease(self, source_id: int, owner: str) -> None:
        self._write(lambda conn: conn.execute(
            update(sources).where(and_(sources.c.id == source_id,
                                       sources.c.lease_owner == owner))
            .values(lease_owner=None, lease_until=None, lease_node=None)))


def _profile(values: dict[str, Any]) -> dict[str, Any]:
    if "quirks" in values:
        values = {**values, "quirks": json.dumps(sorted(set(values["quirks"])))}
    return values
