"""The harvester on PostgreSQL while its connections are terminated under it (a failover, a
restart, `pg_terminate_backend`): page writes are retried on new connections, the run goes
on and ends complete, with the right counts, never left `running`."""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from harvester.options import HarvestOptions
from harvester.sync import SourceHarvester
from oai.store.harvest import HarvestStore
from oai.store.repository import Store
from tests.conftest import POSTGRES_URL
from tests.hostile_server import Hostile, items, serve_hostile

pytestmark = [pytest.mark.postgresql, pytest.mark.timeout(120)]


class Terminator:
    """Terminates, every few tens of milliseconds, the backends of one application name
    (only ours: other tests share this server)."""

    def __init__(self, application: str) -> None:
        self.application = application
        self.terminated = 0
        self._stop = threading.Event()
        self._engine = create_engine(POSTGRES_URL)
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        rng = random.Random(7)
        while not self._stop.wait(rng.uniform(0.02, 0.12)):
            with self._engine.begin() as conn:
                self.terminated += sum(conn.execute(text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = :name AND pid <> pg_backend_pid()"),
                    {"name": self.application}).scalars())

    def __enter__(self) -> Terminator:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._engine.dispose()


@pytest.fixture
def pg_hstore(postgres_url: str) -> Iterator[tuple[HarvestStore, str]]:
    application = f"oai-harvest-test-{uuid.uuid4().hex[:10]}"
    store = Store.open(f"{postgres_url}&application_name={application}", create=True)
    yield HarvestStore(store), application
    store.close()


def test_terminated_connections_during_page_writes(
        pg_hstore: tuple[HarvestStore, str]) -> None:
    hstore, application = pg_hstore
    repo = Hostile(items(400), page_size=10)
    with serve_hostile(repo) as server:
        hstore.add_source("src", server.url())
        with Terminator(application) as terminator:
            outcome = SourceHarvester(hstore, hstore.require_source("src"),
                                      HarvestOptions(sleep=lambda s: None)).run()
    assert terminator.terminated > 0, "the test must really cut connections"
    assert outcome.ok, outcome.reason
    assert (outcome.records, outcome.pages) == (400, 40)  # no page counted twice
    assert hstore.counts(hstore.require_source("src").id) == (400, 0)
    run = hstore.last_run(hstore.require_source("src").id)
    assert run is not None and (run.status, run.records, run.pages) == ("complete", 400, 40)
