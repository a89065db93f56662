"""Removing a set: refused while records or sub-sets use it, unless forced.

A forced removal takes the set and its whole subtree (`a` takes `a:b` and `a:b:c` with it) out
of every record first, through the store's normal write path: each record's canonical JSON
loses those setSpecs, is prepared again (so its memberships, header setSpecs and content hash
follow) and gets a new datestamp, so that incremental harvesters see the change. Records are
rewritten in bounded batches, each a compare-and-swap on the content hash read before it, so a
concurrent write is never overwritten; the set rows go last, in one transaction that checks
that no record has joined the subtree meanwhile.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, delete, func, or_, select

from oai.protocol.records import InvalidRecord
from oai.protocol.rendering import PreparedRecord, prepare_record
from oai.store.errors import SetInUse, StoreError, UnknownSet
from oai.store.repository import Store
from oai.store.tables import record_sets, records, sets


@dataclass(frozen=True)
class SetUsage:
    """What depends on a set: records in it or its sub-sets, and its sub-sets."""

    spec: str
    records: int  # tombstones included: they are still listed in the set
    deleted: int
    subsets: tuple[str, ...]

    @property
    def in_use(self) -> bool:
        return bool(self.records or self.subsets)


@dataclass(frozen=True)
class SetRemoval:
    records_updated: int
    sets_removed: tuple[str, ...]


def _subtree(column: Any, spec: str) -> ColumnElement[bool]:
    return or_(column == spec, column.startswith(spec + ":", autoescape=True))


def in_subtree(candidate: str, spec: str) -> bool:
    return candidate == spec or candidate.startswith(spec + ":")


def set_usage(store: Store, spec: str) -> SetUsage:
    """Records in `spec` (memberships include sub-sets' records) and its sub-sets."""
    with store.engine.connect() as conn:
        return _usage(conn, spec)


def _usage(conn: Connection, spec: str) -> SetUsage:
    defined = conn.execute(select(sets.c.spec).where(_subtree(sets.c.spec, spec))
                           .order_by(sets.c.spec)).scalars().all()
    if spec not in defined:
        raise UnknownSet(f"no set {spec!r} is defined")
    total, deleted = conn.execute(
        select(func.count(), func.count().filter(records.c.deleted))
        .select_from(record_sets.join(records, records.c.id == record_sets.c.record_id))
        .where(record_sets.c.set_spec == spec)).one()
    return SetUsage(spec, int(total), int(deleted or 0),
                    tuple(s for s in defined if s != spec))


def remove_set(store: Store, spec: str, force: bool = False,
               batch_size: int = 500) -> SetRemoval:
    """Remove `spec`; with force, take its subtree out of its records, then remove the subtree.

    Without force, raises SetInUse if the set holds records or has sub-sets."""
    usage = set_usage(store, spec)
    if usage.in_use and not force:
        raise SetInUse(_refusal(usage))
    updated = 0
    while True:
        updated += _strip_batch(store, spec, max(1, batch_size))
        with store.write_connection() as conn, conn.begin():
            usage = _usage(conn, spec)
            if usage.records and force:
                continue  # a record joined the set meanwhile: take it out too
            if usage.in_use and not force:
                raise SetInUse(_refusal(usage))
            conn.execute(delete(sets).where(_subtree(sets.c.spec, spec)))
            return SetRemoval(updated, (spec, *usage.subsets))


def _refusal(usage: SetUsage) -> str:
    parts = []
    if usage.records:
        tombstones = f" ({usage.deleted} of them deleted)" if usage.deleted else ""
        parts.append(f"{usage.records} record{'s' if usage.records != 1 else ''}{tombstones}")
    if usage.subsets:
        shown = ", ".join(usage.subsets[:3]) + (", ..." if len(usage.subsets) > 3 else "")
        parts.append(f"{len(usage.subsets)} sub-set{'s' if len(usage.subsets) != 1 else ''} "
                     f"({shown})")
    return f"set {usage.spec} still has {' and '.join(parts)}"


def _strip_batch(store: Store, spec: str, batch_size: int) -> int:
    """Take the subtree of `spec` out of records in it, a batch at a time; records rewritten."""
    updated = 0
    while True:
        with store.engine.connect() as conn:
            rows = conn.execute(
                select(records.c.id, records.c.data, records.c.content_hash)
                .select_from(record_sets.join(records, records.c.id == record_sets.c.record_id))
                .where(record_sets.c.set_spec == spec)
                .order_by(records.c.id).limit(batch_size)).all()
        if not rows:
            return updated
        batch = [_without_subtree(row.id, row.data, spec) for row in rows]
        summary = store.write(batch, if_hash={row.id: row.content_hash for row in rows})
        if summary.unchanged:
            raise StoreError(f"cannot take set {spec} out of its records: the memberships of "
                             "some records disagree with their JSON")
        updated += summary.updated


def _without_subtree(record_id: str, data: str, spec: str) -> PreparedRecord:
    record = json.loads(data)
    kept = [s for s in record.get("sets", []) if not in_subtree(s, spec)]
    if kept:
        record["sets"] = kept
    else:
        record.pop("sets", None)
    try:
        return prepare_record(record)
    except InvalidRecord as exc:
        raise StoreError(f"cannot take set {spec} out of record {record_id}: it no longer "
                         f"validates ({exc}); fix the record and try again") from None
