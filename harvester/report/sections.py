"""The report's extra sections, one function each: evidence gathered by other parts of the
harvester (duplicates across sources, reconciliation), shown per source."""

from __future__ import annotations

from harvester.report.model import Section
from oai.store.harvest import HarvestStore, SourceRow


def duplicates(hstore: HarvestStore, source: SourceRow) -> Section | None:
    """Records of this source that other sources also hold (clusters of `oai duplicates`)."""
    shared, by_source = hstore.shared_duplicates(source.id)
    if not shared:
        return Section("Duplicates shared with other sources",
                       "No record of this source is known to sit in another source.")
    rows = tuple((name, f"{n:,} record(s)") for name, n in by_source)
    return Section("Duplicates shared with other sources",
                   f"{shared:,} record(s) of this source are also held by other sources "
                   f"(oai duplicates --source {source.name} lists them with the evidence).",
                   rows)


def _every(seconds: int) -> str:
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def reconciliation(hstore: HarvestStore, source: SourceRow) -> Section | None:
    """The last comparison of the copy with what the source really holds (`oai reconcile`)."""
    from oai.protocol.datestamps import format_datestamp

    schedule = (f"scheduled every {_every(source.reconcile_every)}" if source.reconcile_every
                else "not scheduled")
    last = hstore.last_reconciliation(source.id)
    if last is None:
        hint = ("; this source does not report deletions, so its copy may hold records it "
                "no longer has" if source.deleted_record in ("no", "transient") else "")
        return Section("Reconciliation", f"Never reconciled ({schedule}){hint}.",
                       status="warn" if hint else "ok")
    when = format_datestamp(last.finished or last.started)
    counts = {k: v for k, v in last.counts.items() if v is not None}
    found = ", ".join(f"{v:,} {k}" for k, v in counts.items()) if counts else "nothing compared"
    action = (f"; {last.fetched:,} fetched, {last.tombstoned:,} tombstoned" if last.apply
              else " (report only)")
    status = {"complete": "ok", "refused": "warn", "interrupted": "warn",
              "running": "warn"}.get(last.status, "fail")
    rows: list[tuple[str, str]] = [("Status", last.status), ("Finished", when),
                                   ("Identifiers swept", f"{last.swept:,}"),
                                   ("Schedule", schedule)]
    if last.reason:
        rows.append(("Why", last.reason))
    return Section("Reconciliation",
                   f"Last reconciliation #{last.id} {last.status} at {when}: {found}{action}.",
                   tuple(rows), status)


DEFAULT_SECTIONS = (reconciliation, duplicates)
