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


DEFAULT_SECTIONS = (duplicates,)
