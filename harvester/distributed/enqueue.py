"""Which sources to send to the workers, and sending them (one task per source).

`oai harvest run --distributed` sends the sources it is given (every one with `--all`) that
no live lease holds; beat's periodic tick sends the due ones (`harvester.scheduled`). A
source already waiting in the queue is not sent again (a mark in the coordinator, expiring
on its own in case the message was lost with a dead worker).
"""

from __future__ import annotations

from typing import Any

from harvester.distributed.coordinator import Coordinator
from harvester.scheduled import harvest_due, held
from oai.config import Config
from oai.store.harvest import HarvestStore, SourceRow

HARVEST_TASK = "oai.harvest_source"
TICK_TASK = "oai.enqueue_due"


def queued_seconds(config: Config) -> float:
    """How long a "queued" mark lasts: a few ticks (long enough to cover a queue backlog
    between two ticks, short enough that a message lost with a dead worker is sent again)."""
    return 3.0 * config.distributed_tick


def enqueue(app: Any, config: Config, hstore: HarvestStore, coordinator: Coordinator,
            sources: list[SourceRow], full: bool = False,
            scheduled: bool = False) -> list[dict[str, Any]]:
    """Send a harvest task for each source that should go; what happened to each source
    (`queued` with the task id, or `skipped` with the reason)."""
    now = hstore.now()
    report: list[dict[str, Any]] = []
    for source in sources:
        if held(source, now):
            report.append({"source": source.name, "status": "skipped",
                           "reason": f"being harvested by {source.lease_owner}"})
            continue
        why = harvest_due(hstore, source, now) if scheduled else "requested"
        if why is None:
            continue  # not due: the tick says nothing about it
        if not coordinator.mark_queued(source.name, queued_seconds(config)):
            report.append({"source": source.name, "status": "skipped",
                           "reason": "already queued"})
            continue
        result = app.send_task(HARVEST_TASK, kwargs={"name": source.name, "full": full,
                                                     "scheduled": scheduled},
                               queue=config.distributed_queue)
        report.append({"source": source.name, "status": "queued", "task": result.id,
                       "reason": why})
    return report
