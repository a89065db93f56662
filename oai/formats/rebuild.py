"""Bring the store's renditions up to the registered formats: `oai formats rebuild`.

A format is stale when its renditions were made by another version of its crosswalk (or
never, for a newly installed format). A rebuild renders every live record again, in identifier
order and in bounded batches (memory stays flat), and stores only what changed: a record whose
rendering changed gets a new datestamp so incremental harvesters see it, one whose rendering
is the same keeps its datestamp. Each batch commits with the last identifier done, so a killed
rebuild resumes there.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from oai.formats import MANDATORY_PREFIX, Format, registry
from oai.protocol.rendering import render
from oai.store.repository import Store

BATCH = 500
_MISSING = object()


@dataclass
class RebuildReport:
    prefix: str
    version: str
    records: int = 0  # live records rendered
    changed: int = 0  # renditions added, replaced or withdrawn (records given a new datestamp)
    withdrawn: int = 0  # records the format no longer carries
    kept: list[str] = field(default_factory=list)  # oai_dc renderings kept: the new one failed
    resumed: bool = False


def stale(store: Store) -> list[Format]:
    """The registered formats whose renditions are not all made by their current version."""
    states = store.format_states()
    out = []
    for prefix, fmt in registry().items():
        state = states.get(prefix)
        if state is None or state.version != fmt.version or state.rebuilding is not None:
            out.append(fmt)
    return out


def rebuild(store: Store, fmt: Format, progress: Callable[[int], None] = lambda n: None,
            batch: int = BATCH) -> RebuildReport:
    """Re-render every live record in `fmt` (see the module doc)."""
    after = store.begin_rebuild(fmt.prefix, fmt.version)
    report = RebuildReport(fmt.prefix, fmt.version, resumed=after is not None)
    while True:
        rows = store.live_records_after(after, batch)
        if not rows:
            break
        stored = store.renditions_of([record_id for record_id, _ in rows], fmt.prefix)
        changes: list[tuple[str, str | None]] = []
        for record_id, data in rows:
            xml, _reason = render(fmt, json.loads(data))
            if xml is None and fmt.prefix == MANDATORY_PREFIX:
                report.kept.append(record_id)  # every record must stay available as oai_dc
                continue
            before = stored.get(record_id, _MISSING)
            if before is _MISSING and xml is None:
                continue  # not carried before, not carried now
            if before != xml:
                changes.append((record_id, xml))
                report.withdrawn += xml is None
        after = rows[-1][0]
        store.apply_rebuild(fmt.prefix, changes, after)
        report.records += len(rows)
        report.changed += len(changes)
        progress(len(rows))
    store.finish_rebuild(fmt.prefix, fmt.version)
    return report
