"""The Celery application: a task that harvests one source with the same crash-safe sync code
as `oai harvest run`, and the periodic task that enqueues due sources.

A harvest task never retries: a source held by another worker ends `held` (its run goes on
there), a failed run is recorded as the CLI records it and waits for the next tick. A worker
told to stop (SIGTERM, Ctrl-C: Celery's warm shutdown) asks every run to stop after its page
in flight, so the runs end `interrupted` and the next tick sends them to a live worker,
which resumes them from their saved tokens. A worker that dies outright stops renewing its
leases; once they lapse (at once on the same machine, where its pid is seen to be gone) the
next tick sends its sources again.
"""

from __future__ import annotations

import logging
import socket
import threading
from dataclasses import asdict
from typing import Any

from celery import Celery
from celery.signals import worker_shutting_down

from harvester.distributed.coordinator import Coordinator, LocalCoordinator, RedisCoordinator
from harvester.distributed.enqueue import HARVEST_TASK, TICK_TASK, enqueue
from harvester.guard import StopRequest
from harvester.options import HarvestOptions, options_from_config
from oai.config import Config
from oai.store.harvest import HarvestStore

log = logging.getLogger("harvester.distributed")


def is_redis(url: str) -> bool:
    return url.split(":", 1)[0] in ("redis", "rediss", "redis+socket")


def make_coordinator(config: Config) -> Coordinator:
    """Politeness across workers lives in Redis: the coordinator URL, else the broker if it
    is Redis; `local` (one worker only) keeps it in the process."""
    url = config.coordinator_url or (config.broker_url if is_redis(config.broker_url)
                                     else "redis://127.0.0.1:6379/0")
    if url == "local":
        return LocalCoordinator()
    return RedisCoordinator(url, config.distributed_prefix)


def harvest_options(config: Config, stop: StopRequest | None, coordinator: Coordinator,
                    full: bool = False, label: str | None = None) -> HarvestOptions:
    """A run's options from the configuration, as `oai harvest run` builds them, with the
    worker's slots (politeness across workers) and name."""
    return options_from_config(config, stop, full=full, slots=coordinator.slots,
                               lease_label=label)


class WorkerState:
    """What a worker process shares between its task threads: store, coordinator, and the
    stop request its shutdown sets. Opened on first use (the enqueuing side never does)."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.stop = StopRequest()
        self.label = socket.gethostname()
        self._hstore: HarvestStore | None = None
        self._coordinator: Coordinator | None = None
        self._lock = threading.Lock()

    @property
    def hstore(self) -> HarvestStore:
        with self._lock:
            if self._hstore is None:
                from oai.store.repository import Store

                self._hstore = HarvestStore(Store.open(self.config.database_url))
            return self._hstore

    @property
    def coordinator(self) -> Coordinator:
        with self._lock:
            if self._coordinator is None:
                self._coordinator = make_coordinator(self.config)
            return self._coordinator


def make_app(config: Config) -> Celery:
    """The application for this configuration (broker, queue, beat's tick)."""
    app = Celery("oai", broker=config.broker_url, set_as_current=False)
    transport: dict[str, Any] = {}
    if is_redis(config.broker_url):
        # every key the broker makes (queues, bindings, unacked messages) under the prefix
        transport["global_keyprefix"] = config.distributed_prefix
    app.conf.update(
        task_default_queue=config.distributed_queue, task_ignore_result=True,
        task_acks_late=False, worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True, broker_transport_options=transport,
        worker_hijack_root_logger=False, beat_scheduler="celery.beat:Scheduler",
        beat_schedule={"enqueue-due-sources": {
            "task": TICK_TASK, "schedule": float(config.distributed_tick),
            "options": {"queue": config.distributed_queue}}})
    state = WorkerState(config)
    app.oai_state = state

    @app.task(name=HARVEST_TASK)
    def harvest_source(name: str, full: bool = False, scheduled: bool = False,
                       ) -> dict[str, Any]:
        return run_source(state, name, full, scheduled)

    @app.task(name=TICK_TASK)
    def enqueue_due() -> list[dict[str, Any]]:
        hstore = state.hstore
        sent = enqueue(app, config, hstore, state.coordinator, hstore.list_sources(),
                       scheduled=True)
        for item in sent:
            log.info("tick: %s %s (%s)", item["source"], item["status"], item["reason"])
        return sent

    @worker_shutting_down.connect(weak=False)
    def _stop_runs(sig: Any = None, how: Any = None, exitcode: Any = None,
                   **kwargs: Any) -> None:
        state.stop.request(f"worker shutdown ({sig})")

    return app


def run_source(state: WorkerState, name: str, full: bool, scheduled: bool) -> dict[str, Any]:
    """One harvest of `name` (resuming its unfinished run), then its reconciliation when
    due; the outcome as a dict (`held` when another worker has it)."""
    from harvester.scheduled import harvest_due, held, reconcile_if_due
    from harvester.sync import SourceHarvester
    from oai.store.harvest import UnknownSource

    coordinator = state.coordinator
    try:
        coordinator.unmark_queued(name)
    except Exception as exc:  # the mark expires on its own
        log.warning("%s: queued mark not cleared: %s", name, exc)
    hstore = state.hstore
    try:
        source = hstore.require_source(name)
    except UnknownSource as exc:
        return {"source": name, "status": "failed", "reason": str(exc)}
    now = hstore.now()
    if held(source, now):  # the lease decides in the end; this spares opening a client
        return _held(name, str(source.lease_owner))
    if scheduled and harvest_due(hstore, source, now) is None:
        return {"source": name, "status": "skipped", "reason": "not due"}
    options = harvest_options(state.config, state.stop, coordinator, full,
                              _worker_label(state))
    outcome = SourceHarvester(hstore, source, options).run()
    if outcome.held_by is not None:
        return _held(name, outcome.held_by)
    if outcome.ok:
        outcome.reconciliation = reconcile_if_due(hstore, source, options,
                                                  state.config.harvest_max_delete_share)
    log.info("%s: %s - %d records in %d pages%s", name, outcome.status, outcome.records,
             outcome.pages, f" ({outcome.reason})" if outcome.reason else "")
    return asdict(outcome)


def _held(name: str, holder: str) -> dict[str, Any]:
    log.info("%s: held by %s; not harvested here", name, holder)
    return {"source": name, "status": "held", "reason": f"held by {holder}", "held_by": holder}


def _worker_label(state: WorkerState) -> str:
    """The worker's node name (`name@host`) when Celery runs us, else the host name."""
    from celery import current_task

    try:
        hostname = current_task.request.hostname
    except AttributeError:
        hostname = None
    return str(hostname or state.label)
