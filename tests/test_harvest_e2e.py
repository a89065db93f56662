"""Our harvester against our own provider over loopback HTTP (SQLite and PostgreSQL), and a
harvest killed with SIGKILL many times that still ends identical to its source."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from harvester.options import HarvestOptions
from harvester.sync import SourceHarvester
from oai.protocol.datestamps import format_datestamp
from oai.provider.app import create_app
from oai.store.harvest import HarvestStore
from oai.store.repository import Store
from tests.conftest import make_config, put, record
from tests.serving import serve_in_thread

OAI = str(Path(sys.executable).with_name("oai"))
REPO = "e2e.example.org"


@dataclass
class Provided:
    url: str


@contextmanager
def serve_provider(store: Store, page_size: int) -> Iterator[Provided]:
    """The provider app on 127.0.0.1 (free port) in a thread."""
    app = create_app(make_config(repository_identifier=REPO, page_size=page_size,
                                 base_url=None), store)
    with serve_in_thread(app) as base:
        yield Provided(f"{base}/oai")


def provider_state(store: Store) -> dict[str, tuple[Any, ...]]:
    """Each record as served: header fields and the stored fragment's exact text."""
    rows = store.list_page("oai_dc", None, None, 2**40, None, 1_000_000, True)
    return {f"oai:{REPO}:{r.id}": (format_datestamp(r.datestamp), r.deleted,
                                   r.set_specs, bytes(r.xml).decode() if r.xml else None)
            for r in rows}


def harvested_state(hstore: HarvestStore, name: str) -> dict[str, tuple[Any, ...]]:
    """Each harvested record: the header as received and the metadata bytes exactly as served
    (no declaration added: the fragments declare their own namespaces)."""
    source = hstore.require_source(name)
    return {r.identifier: (r.datestamp, r.deleted, r.set_specs, r.metadata)
            for r in hstore.iter_records(source.id)}


@pytest.fixture
def provider_store(database_url: str) -> Iterator[Store]:
    store = Store.open(database_url, create=True)  # the real clock
    yield store
    store.close()


def test_harvest_our_provider_full_then_incremental(provider_store: Store) -> None:
    store = provider_store
    put(store, *[record(f"p{i:04d}", f"Title {i} \u2013 ünïcode",
                        sets=[["school:a"], ["school:b:c"], []][i % 3]) for i in range(120)])
    store.delete([f"p{i:04d}" for i in range(0, 120, 17)])
    hstore = HarvestStore(store)  # the harvest tables live in the same database
    with serve_provider(store, page_size=25) as server:
        hstore.add_source("self", server.url)
        options = HarvestOptions(sleep=lambda s: None)
        first = SourceHarvester(hstore, hstore.require_source("self"), options).run()
        assert first.ok and first.records == 120 and first.pages == 5
        assert harvested_state(hstore, "self") == provider_state(store)

        put(store, *[record(f"p{i:04d}", f"Changed {i}") for i in range(1, 6)])
        store.delete(["p0010", "p0011", "p0012"])
        put(store, *[record(f"n{i}", sets=["school:a"]) for i in range(4)])
        second = SourceHarvester(hstore, hstore.require_source("self"), options).run()
        assert second.ok
        assert hstore.last_run(hstore.require_source("self").id).mode == "incremental"
        assert harvested_state(hstore, "self") == provider_state(store)


def _harvest_process(db_url: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OAI_")}
    env["OAI_DATABASE_URL"] = db_url
    return subprocess.Popen([OAI, "harvest", "run", "src", "--retries", "2"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _pages(db: Path) -> int:
    """Pages committed so far by every run (read beside the harvester, as WAL allows)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
        return int(conn.execute("SELECT coalesce(sum(pages), 0) FROM harvest_runs")
                   .fetchone()[0])


def _differences(held: dict[str, Any], source: dict[str, Any]) -> str:
    missing = len(source.keys() - held.keys())
    extra = len(held.keys() - source.keys())
    stale = sum(1 for k in source.keys() & held.keys() if source[k] != held[k])
    return f"{missing} missing, {extra} extra, {stale} stale"


def _change(store: Store, rng: random.Random, attempt: int) -> None:
    """Edits, deletions and additions, as a live repository makes them."""
    live = [r.id for r in store.list_page("oai_dc", None, None, 2**40, None, 10**6, False)
            if not r.deleted]
    put(store, *[record(rid, f"Edited in round {attempt}") for rid in rng.sample(live, 40)])
    store.delete(rng.sample(live, 10))
    put(store, *[record(f"new{attempt}-{i}") for i in range(10)])


@pytest.mark.slow
def test_sigkill_while_the_source_changes(tmp_path: Path) -> None:
    """Killed at random pages (25 times and more) while the source is edited between runs:
    every run that exits 0 leaves the copy equal to the source as it was when that run
    started: 0 missing, 0 extra, 0 stale records."""
    seed = int(os.environ.get("OAI_KILL_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    source_store = Store.open(f"sqlite:///{tmp_path / 'source.sqlite'}", create=True)
    put(source_store, *[record(f"k{i:05d}", sets=["s:t"] if i % 2 else None)
                        for i in range(2000)])
    db = tmp_path / "harvest.sqlite"
    hstore = HarvestStore(Store.open(f"sqlite:///{db}", create=True))
    kills = attempts = completed = 0
    with serve_provider(source_store, page_size=10) as server:
        hstore.add_source("src", server.url)
        while kills < 25 and attempts < 200:
            attempts += 1
            _change(source_store, rng, attempts)
            before = _pages(db)
            target = before + rng.randint(1, 15)
            proc = _harvest_process(f"sqlite:///{db}")
            while proc.poll() is None and _pages(db) < target:
                time.sleep(0.005)
            time.sleep(rng.uniform(0, 0.03))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=30)
                kills += 1
                continue
            _, err = proc.communicate(timeout=30)
            assert proc.returncode == 0, f"seed {seed}: {err.decode()}"
            completed += 1
            held, source = harvested_state(hstore, "src"), provider_state(source_store)
            assert held == source, f"seed {seed}, round {attempts}: " \
                                   f"{_differences(held, source)} after exit 0"
        _change(source_store, rng, attempts + 1)
        proc = _harvest_process(f"sqlite:///{db}")  # the first run after the last kill
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, f"seed {seed}: {err.decode()}"
        held, source = harvested_state(hstore, "src"), provider_state(source_store)
        assert held == source, f"seed {seed}: {_differences(held, source)}"
        assert kills == 25, f"seed {seed}: only {kills} of {attempts} runs were killed"
    with hstore.engine.connect() as conn:
        assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        statuses = dict(conn.execute(text(
            "SELECT status, count(*) FROM harvest_runs GROUP BY status")).all())
    # a killed run is resumed from its saved token, not started again: at most one new run
    # per completed one, plus the one in progress
    assert sum(statuses.values()) <= completed + 2, f"seed {seed}: {statuses}"
    assert "running" not in statuses
    source_store.close()


def test_set_restricted_source(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'sets.sqlite'}", create=True)
    put(store, *[record(f"s{i:03d}", sets=[["school:a"], ["school:b"]][i % 2])
                 for i in range(30)])
    hstore = HarvestStore(store)
    with serve_provider(store, page_size=7) as server:
        hstore.add_source("only-a", server.url, set_specs=["school:a"])
        outcome = SourceHarvester(hstore, hstore.require_source("only-a"),
                                  HarvestOptions(sleep=lambda s: None)).run()
    assert outcome.ok and outcome.records == 15
    held = harvested_state(hstore, "only-a")
    assert all(v[2] == ("school:a",) for v in held.values())
    store.close()
