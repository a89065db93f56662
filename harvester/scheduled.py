"""What is due: a source's scheduled harvest, and its reconciliation after a complete harvest.

Shared by `oai harvest run` and the Celery tasks, so a harvest behaves the same wherever it
runs.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from harvester.lease import abandoned
from harvester.options import HarvestOptions
from harvester.schedule import is_due
from oai.store.errors import StoreError
from oai.store.harvest import HarvestStore, SourceRow

#: A run left in one of these states is resumed at the next tick, schedule or not: it was
#: stopped (worker shut down, Ctrl-C) or its worker died (its lease has lapsed).
UNFINISHED = ("running", "interrupted")


def held(source: SourceRow, now: int) -> bool:
    """Whether a live lease holds the source (a run or a sweep in progress): unexpired, and
    not held by a process seen to be gone on this machine."""
    return (bool(source.lease_owner) and (source.lease_until or 0) > now
            and not abandoned(str(source.lease_owner), source.lease_node))


def harvest_due(hstore: HarvestStore, source: SourceRow, now: int) -> str | None:
    """Why the source should be harvested now (None: it should not): a run left unfinished
    is resumed, a scheduled source whose last run started `harvest_every` seconds ago or more
    is harvested again. Sources held by a live lease are never due."""
    if held(source, now):
        return None
    last = hstore.last_run(source.id)
    if last is not None and last.status in UNFINISHED:
        return f"resume run #{last.id} ({last.status})"
    if source.harvest_every and is_due(source.harvest_every, last.started if last else None,
                                       now):
        return "scheduled" if last else "scheduled, never harvested"
    return None


def reconcile_if_due(hstore: HarvestStore, source: SourceRow, options: HarvestOptions,
                     max_delete_share: float, progress: Any = None) -> dict[str, Any] | None:
    """After a complete harvest, the source's scheduled reconciliation, when due (applied,
    never forced: the threshold holds)."""
    try:
        last = hstore.last_reconciliation(source.id, done=True)
        if not is_due(source.reconcile_every, last.started if last else None, hstore.now()):
            return None
        if options.stop is not None and options.stop.is_set():
            return None
        # imported when due only: every harvest ends here, few reconcile
        from harvester.reconcile import ReconcileOptions, Reconciler

        result = Reconciler(hstore, hstore.require_source(source.name), options,
                            ReconcileOptions(apply=True, max_delete_share=max_delete_share),
                            progress).run()
    except StoreError as exc:
        return {"status": "failed", "reason": f"store: {exc}", "ok": False}
    return {**asdict(result), "ok": result.ok}
