"""When harvests file records for duplicate matching: always, never, or ("auto", the
default) once the store defines two sources. Matching is across sources, so a harvester
keeping one source's copy would pay for it (about half a harvest's CPU) and find nothing; when
a second source is added, the records already held are filed then (`file_existing`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from oai.config import matching_mode
from oai.store.harvest import HarvestStore

if TYPE_CHECKING:
    from oai.store.harvest.duplicates import MatchStats

BATCH = 500


def matching(setting: str, hstore: HarvestStore) -> bool:
    """Whether harvests file records for matching now."""
    mode = matching_mode(setting)
    return mode == "on" or (mode == "auto" and len(hstore.list_sources()) >= 2)


def file_records(hstore: HarvestStore, source_id: int, stats: MatchStats,
                 advance: Callable[[int], None] = lambda n: None) -> None:
    """File (again) every record held for a source, streaming in batches."""
    from harvester.duplicates.fingerprint import judge
    from harvester.duplicates.keys import keys_for

    batch: list[tuple[str, Any]] = []
    for row in hstore.iter_records(source_id):
        batch.append((row.identifier, None if row.deleted else keys_for(row.metadata)))
        if len(batch) >= BATCH:
            hstore.refile(source_id, batch, judge, stats)
            advance(len(batch))
            batch = []
    if batch:
        hstore.refile(source_id, batch, judge, stats)
        advance(len(batch))


def file_existing(setting: str, hstore: HarvestStore, added: str,
                  advance: Callable[[int], None] = lambda n: None) -> int:
    """After source `added` was defined: in auto mode, when it is the second source, file the
    records the other one holds (they were harvested without matching); the number filed."""
    sources = hstore.list_sources()
    if matching_mode(setting) != "auto" or len(sources) != 2:
        return 0
    from oai.store.harvest.duplicates import MatchStats

    stats = MatchStats()
    for source in sources:
        if source.name != added:
            hstore.clear_duplicates(source.id)
            file_records(hstore, source.id, stats, advance)
    return int(stats.records)
