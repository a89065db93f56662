"""Publishing harvested sources: deriving what the provider serves from what was harvested.

`published_records` holds one row per served OAI identifier and format. It is a function of
the harvested rows (`harvested_records`, `harvested_formats`) and of the source's `publish`
flag, brought up to date by `sync` for the identifiers a write touched, inside that write's
own transaction: the page writer calls it for each page, reconciliation for what it
tombstones, `set_publish` for a whole source. So the provider never sees a harvested change
without its published counterpart, and a crash loses neither.

Guarantees:
- A row's `datestamp` is the aggregator's clock when the served copy last changed (payload,
  deletion, the origin's datestamp or its provenance), the same for every format of an
  identifier; a re-harvest that brings nothing new leaves it alone, so incremental harvesters
  of the aggregate see exactly what changed.
- An identifier is served once: it belongs to the first source that published it; the same
  identifier from another published source, or one in the provider's own namespace
  (`oai:<repositoryIdentifier>:`), is not served and is counted as a collision.
- Nothing is hard-deleted: a record deleted at the origin, reconciled away or no longer
  published (unpublish, source removed, format dropped) becomes a tombstone.

Runs on a driver cursor (the page writer's hot path is one) with plain SQL whose
placeholders are written for the driver's paramstyle: no dialect-specific statement.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from lxml import etree

from oai.protocol.datestamps import InvalidDate, format_datestamp, parse_protocol_date
from oai.protocol.namespaces import PROVENANCE, PROVENANCE_SCHEMA_URL, XSI
from oai.protocol.xmltext import escape_attr, escape_text

#: settings key: the provider's own identifier namespace, never published over
LOCAL_PREFIX_KEY = "local_identifier_prefix"
#: the parent set of every published source's set
PARENT_SET = "source"
PARENT_SET_NAME = "Harvested sources"

_PLACEHOLDER = re.compile(r":([a-z_][a-z0-9_]*)")
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True,
                          remove_blank_text=False)


def source_set(name: str) -> str:
    """The setSpec of a published source."""
    return f"{PARENT_SET}:{name}"


class Sql:
    """Plain SQL with `:name` placeholders, run on a driver cursor in its paramstyle."""

    def __init__(self, cursor: Any, paramstyle: str) -> None:
        self.cursor = cursor
        self.qmark = paramstyle == "qmark"
        self._cache: dict[str, tuple[str, list[str]]] = {}

    def _prepare(self, sql: str) -> tuple[str, list[str]]:
        found = self._cache.get(sql)
        if found is None:
            names = _PLACEHOLDER.findall(sql)
            text = _PLACEHOLDER.sub("?" if self.qmark else r"%(\1)s",
                                    sql.replace("%", "%%") if not self.qmark else sql)
            found = self._cache[sql] = (text, names)
        return found

    def run(self, sql: str, values: dict[str, Any] | None = None) -> list[Any]:
        text, names = self._prepare(sql)
        values = values or {}
        self.cursor.execute(text, tuple(values[n] for n in names) if self.qmark else values)
        return list(self.cursor.fetchall()) if self.cursor.description else []

    def many(self, sql: str, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            text, names = self._prepare(sql)
            self.cursor.executemany(text, [tuple(r[n] for n in names) for r in rows]
                                    if self.qmark else list(rows))

    def in_list(self, name: str, values: Sequence[Any]) -> tuple[str, dict[str, Any]]:
        """`(:name0, :name1, ...)` and its values, for an IN clause."""
        keys = {f"{name}{i}": v for i, v in enumerate(values)}
        return "(" + ", ".join(f":{k}" for k in keys) + ")", keys


@dataclass(frozen=True)
class SourceInfo:
    id: int
    name: str
    base_url: str
    publish: bool
    prefix: str
    extra_prefixes: tuple[str, ...]
    repository_name: str | None


def source_info(sql: Sql, source_id: int) -> SourceInfo | None:
    rows = sql.run("SELECT id, name, base_url, publish, metadata_prefix, extra_prefixes, "
                   "repository_name FROM harvest_sources WHERE id = :id", {"id": source_id})
    if not rows:
        return None
    r = rows[0]
    return SourceInfo(int(r[0]), r[1], r[2], bool(r[3]), r[4],
                      tuple(json.loads(r[5] or "[]")), r[6])


def local_prefix(sql: Sql) -> str | None:
    rows = sql.run("SELECT value FROM settings WHERE key = :k", {"k": LOCAL_PREFIX_KEY})
    return rows[0][0] if rows else None


_BATCH = 200  # identifiers per IN list


def sync(sql: Sql, source_id: int, identifiers: Iterable[str], now: int) -> int:
    """Bring the published rows of `identifiers` (of one source) up to date with what was
    harvested; the number of identifiers whose served copy changed. Runs in the caller's
    transaction."""
    source = source_info(sql, source_id)
    wanted = list(dict.fromkeys(identifiers))
    if source is None or not wanted:
        return 0
    reserved = local_prefix(sql)
    changed = 0
    for start in range(0, len(wanted), _BATCH):
        changed += _sync_batch(sql, source, wanted[start:start + _BATCH], reserved, now)
    return changed


def _sync_batch(sql: Sql, source: SourceInfo, ids: list[str], reserved: str | None,
                now: int) -> int:
    clause, keys = sql.in_list("i", ids)
    existing: dict[str, dict[str, tuple[Any, ...]]] = {}
    owners: dict[str, int] = {}
    for ident, prefix, owner, deleted, xml, origin, _datestamp, about in sql.run(
            "SELECT identifier, prefix, source_id, deleted, xml, origin_datestamp, datestamp, "
            f"about FROM published_records WHERE identifier IN {clause}", keys):
        owners.setdefault(ident, int(owner))
        if int(owner) == source.id:
            existing.setdefault(ident, {})[prefix] = (bool(deleted), xml, origin, about)
    desired: dict[str, dict[str, tuple[bool, str | None, str | None, str | None]]] = {}
    if source.publish:
        harvested = {r[0]: r for r in sql.run(
            "SELECT identifier, datestamp, datestamp_epoch, deleted, metadata, about, "
            f"response_date FROM harvested_records WHERE source_id = :s AND identifier IN "
            f"{clause}", {"s": source.id, **keys})}
        extras: dict[str, dict[str, tuple[bool, str | None]]] = {}
        if source.extra_prefixes:
            for ident, prefix, deleted, metadata in sql.run(
                    "SELECT identifier, prefix, deleted, metadata FROM harvested_formats "
                    f"WHERE source_id = :s AND identifier IN {clause}",
                    {"s": source.id, **keys}):
                if prefix in source.extra_prefixes:
                    extras.setdefault(ident, {})[prefix] = (bool(deleted), metadata)
        for ident, row in harvested.items():
            if owners.get(ident, source.id) != source.id:
                continue  # another source published it first
            if reserved and ident.startswith(reserved):
                continue  # the provider's own namespace
            desired[ident] = _formats(source, row, extras.get(ident, {}))
    changed = 0
    writes: list[dict[str, Any]] = []
    for ident in ids:
        want = desired.get(ident, {})
        have = existing.get(ident, {})
        rows: dict[str, tuple[bool, str | None, str | None, str | None]] = dict(want)
        for prefix, (_deleted, _xml, origin, _about) in have.items():
            if prefix not in rows:  # no longer published in that format: a tombstone
                rows[prefix] = (True, None, origin, None)
        if not rows:
            continue
        if all(p in have and _same(have[p], rows[p]) for p in rows):
            continue
        changed += 1
        for prefix, (deleted, xml, origin, about) in rows.items():
            writes.append({"identifier": ident, "prefix": prefix, "source_id": source.id,
                           "set_spec": source_set(source.name), "datestamp": now,
                           "deleted": deleted, "origin": origin, "xml": xml,
                           "about": about, "new": prefix not in have})
    sql.many("INSERT INTO published_records (identifier, prefix, source_id, set_spec, "
             "datestamp, deleted, origin_datestamp, xml, about) VALUES (:identifier, :prefix, "
             ":source_id, :set_spec, :datestamp, :deleted, :origin, :xml, :about)",
             [w for w in writes if w["new"]])
    sql.many("UPDATE published_records SET datestamp = :datestamp, deleted = :deleted, "
             "origin_datestamp = :origin, xml = :xml, about = :about "
             "WHERE identifier = :identifier AND prefix = :prefix",
             [w for w in writes if not w["new"]])
    return changed


def _same(have: tuple[Any, ...], want: tuple[Any, ...]) -> bool:
    """Whether the served copy is unchanged (the about container's harvestDate aside)."""
    if have[0] != want[0]:
        return False
    if want[0]:
        return True  # a tombstone stays the same tombstone
    return bool(have[1] == want[1] and have[2] == want[2]
                and _nested(have[3]) == _nested(want[3]))


def _nested(about: str | None) -> str:
    """The part of our about container that comes from the origin (what it nests)."""
    if not about:
        return ""
    _, _, rest = about.partition("</metadataNamespace>")
    return rest


def _formats(source: SourceInfo, row: Any, extras: dict[str, tuple[bool, str | None]],
             ) -> dict[str, tuple[bool, str | None, str | None, str | None]]:
    """The served copy in each format: (deleted, payload, origin datestamp, about)."""
    ident, datestamp, epoch, deleted, metadata, origin_about, response_date = row
    deleted = bool(deleted)
    origin = _valid_date(datestamp) or (format_datestamp(int(epoch)) if epoch is not None
                                        else None)
    payloads: dict[str, tuple[bool, str | None]] = {source.prefix: (deleted, metadata)}
    for prefix, (gone, payload) in extras.items():
        payloads[prefix] = (deleted or gone, payload)
    harvest_date = _valid_date(response_date) or origin or "1970-01-01T00:00:00Z"
    out: dict[str, tuple[bool, str | None, str | None, str | None]] = {}
    for prefix, (gone, payload) in payloads.items():
        if gone or payload is None:
            out[prefix] = (True, None, origin, None)
        else:
            about = provenance(source.base_url, ident, origin or harvest_date,
                               _root_namespace(payload), harvest_date, origin_about)
            out[prefix] = (False, payload, origin, about)
    return out


def provenance(base_url: str, identifier: str, datestamp: str, namespace: str,
               harvest_date: str, origin_about: str | None) -> str:
    """The `<about>` container saying where a copy came from (OAI provenance guidelines),
    nesting the origin's own originDescription when the record arrived with one."""
    nested = _origin_description(origin_about) if origin_about else ""
    return (f'<about><provenance xmlns="{PROVENANCE}" xmlns:xsi="{XSI}" '
            f'xsi:schemaLocation="{PROVENANCE} {PROVENANCE_SCHEMA_URL}">'
            f'<originDescription harvestDate="{escape_attr(harvest_date)}" altered="false">'
            f"<baseURL>{escape_text(base_url)}</baseURL>"
            f"<identifier>{escape_text(identifier)}</identifier>"
            f"<datestamp>{escape_text(datestamp)}</datestamp>"
            f"<metadataNamespace>{escape_text(namespace)}</metadataNamespace>"
            f"{nested}</originDescription></provenance></about>")


def _origin_description(about: str) -> str:
    """The origin's provenance originDescription, if one of its about containers has it."""
    try:
        root = etree.fromstring(f"<a>{about}</a>".encode(), _PARSER)
    except etree.XMLSyntaxError:
        return ""
    found = root.find(f"{{{PROVENANCE}}}provenance/{{{PROVENANCE}}}originDescription")
    if found is None:
        return ""
    found.tail = None
    return etree.tostring(found, encoding="unicode")


def _root_namespace(payload: str) -> str:
    try:
        root = etree.fromstring(payload.encode(), _PARSER)
    except etree.XMLSyntaxError:
        return ""
    return etree.QName(root).namespace or ""


def _valid_date(value: str | None) -> str | None:
    if not value:
        return None
    try:
        parse_protocol_date(value)
    except InvalidDate:
        return None
    return value


# -- whole sources -----------------------------------------------------------------------


def tombstone_source(sql: Sql, source_id: int, now: int) -> int:
    """Every live published row of a source becomes a tombstone (unpublish, removal)."""
    live = sql.run("SELECT COUNT(DISTINCT identifier) FROM published_records "
                   "WHERE source_id = :s AND deleted = :f", {"s": source_id, "f": False})
    sql.run("UPDATE published_records SET deleted = :t, xml = NULL, about = NULL, "
            "datestamp = :now WHERE source_id = :s AND deleted = :f",
            {"t": True, "f": False, "s": source_id, "now": now})
    return int(live[0][0]) if live else 0


def ensure_sets(sql: Sql, source: SourceInfo) -> None:
    """Define the parent set and the source's set (name and description kept current)."""
    name = source.repository_name or source.name
    description = f"Records harvested from {source.base_url} and re-exposed with provenance."
    for spec, set_name, text in ((PARENT_SET, PARENT_SET_NAME,
                                  "Records harvested from other repositories."),
                                 (source_set(source.name), name, description)):
        rows = sql.run("SELECT name, description FROM sets WHERE spec = :s", {"s": spec})
        if not rows:
            sql.run("INSERT INTO sets (spec, name, description) VALUES (:s, :n, :d)",
                    {"s": spec, "n": set_name, "d": text})
        elif spec != PARENT_SET and tuple(rows[0]) != (set_name, text):
            sql.run("UPDATE sets SET name = :n, description = :d WHERE spec = :s",
                    {"s": spec, "n": set_name, "d": text})
