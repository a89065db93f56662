"""Bring the store's renditions up to the registered formats: `oai formats rebuild`.

A format is stale when its renditions were made by another version of its crosswalk (or
never, for a newly installed format). A rebuild renders every live record again, in identifier
order and in bounded batches (memory stays flat), rendering on one worker process per CPU,
and stores only what changed: a record whose rendering changed gets a new datestamp so
incremental harvesters see it, one whose rendering is the same keeps its datestamp. Each
batch commits with the last identifier done, so a killed rebuild resumes there.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial

from oai.formats import MANDATORY_PREFIX, Format, get, registry, select, selection
from oai.parallel import ordered_map
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
            batch: int = BATCH, jobs: int = 1) -> RebuildReport:
    """Re-render every live record in `fmt` on `jobs` processes (see the module doc)."""
    after = store.begin_rebuild(fmt.prefix, fmt.version)
    report = RebuildReport(fmt.prefix, fmt.version, resumed=after is not None)
    rendered = ordered_map(partial(render_rows, fmt.prefix), _live_rows(store, after, batch),
                           jobs=jobs, chunk=max(1, batch // 8), initializer=select,
                           initargs=(selection(),), preload=("oai.formats.rebuild",))
    done: list[tuple[str, str | None]] = []
    for (record_id, _data), xml in rendered:
        done.append((record_id, xml))
        if len(done) >= batch:
            _apply(store, fmt, done, report)
            progress(len(done))
            done = []
    if done:
        _apply(store, fmt, done, report)
        progress(len(done))
    store.finish_rebuild(fmt.prefix, fmt.version)
    return report


def render_rows(prefix: str, rows: list[tuple[str, str]]) -> list[str | None]:
    """Each stored record rendered in `prefix` (None: not carried). Runs in worker processes."""
    fmt = get(prefix)
    assert fmt is not None, prefix
    return [render(fmt, json.loads(data))[0] for _record_id, data in rows]


def _live_rows(store: Store, after: str | None, batch: int) -> Iterator[tuple[str, str]]:
    while rows := store.live_records_after(after, batch):
        yield from rows
        after = rows[-1][0]


def _apply(store: Store, fmt: Format, done: list[tuple[str, str | None]],
           report: RebuildReport) -> None:
    """Store one batch's changes and its resume point (the batch's last identifier)."""
    stored = store.renditions_of([record_id for record_id, _ in done], fmt.prefix)
    changes: list[tuple[str, str | None]] = []
    for record_id, xml in done:
        if xml is None and fmt.prefix == MANDATORY_PREFIX:
            report.kept.append(record_id)  # every record must stay available as oai_dc
            continue
        before = stored.get(record_id, _MISSING)
        if before is _MISSING and xml is None:
            continue  # not carried before, not carried now
        if before != xml:
            changes.append((record_id, xml))
            report.withdrawn += xml is None
    store.apply_rebuild(fmt.prefix, changes, done[-1][0])
    report.records += len(done)
    report.changed += len(changes)
