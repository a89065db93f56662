"""Every path that writes harvested records files them for duplicate matching the same way:
a harvest, a reconciliation fetching what the copy misses, and `oai duplicates rebuild` after
harvests made with matching switched off (`[harvest] match_duplicates = false`). Real HTTP,
the `oai` command as a user runs it, SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.changing_server import START, ChangingSource, serve_changing

OAI = str(Path(sys.executable).with_name("oai"))
DAY = 86400
SHARED = ("doi:10.5555/Shared-1", "doi:10.5555/SHARED-1")  # one DOI, two spellings
Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def sources() -> Iterator[tuple[ChangingSource, ChangingSource, str, str]]:
    a, b = ChangingSource(page_size=5), ChangingSource(page_size=5)
    for n in range(8):
        a.add(f"oai:a.example.org:{n}", when=START - (20 - n) * DAY)
        b.add(f"oai:b.example.org:{n}", when=START - (20 - n) * DAY)
    a.add(SHARED[0], when=START - 30 * DAY)
    with ExitStack() as stack:
        yield a, b, stack.enter_context(serve_changing(a)), stack.enter_context(serve_changing(b))


@pytest.fixture
def oai(database_url: str, tmp_path: Path) -> Run:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OAI_")}
    env["OAI_DATABASE_URL"] = database_url

    def run(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([OAI, *args], capture_output=True, text=True,
                              env={**env, **extra}, cwd=tmp_path, timeout=300)
        assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
        return done

    return run


def clusters(oai: Run) -> list[set[tuple[str, str]]]:
    out = oai("duplicates", "--json").stdout.splitlines()
    return [{(m["source"], m["identifier"]) for m in json.loads(line)["members"]}
            for line in out]


def test_records_a_reconciliation_fetches_are_matched(
        sources: tuple[ChangingSource, ChangingSource, str, str], oai: Run) -> None:
    _, b, url_a, url_b = sources
    oai("harvest", "add", "a", url_a)
    oai("harvest", "add", "b", url_b)
    oai("harvest", "run", "a", "b")
    assert clusters(oai) == []
    b.add(SHARED[1], when=START - 40 * DAY)  # backdated: only a reconciliation finds it
    assert oai("harvest", "run", "b").stdout  # incremental: misses it
    assert clusters(oai) == []
    applied = json.loads(oai("reconcile", "b", "--apply", "--json").stdout.splitlines()[-1])
    assert applied["fetched"] == 1
    assert clusters(oai) == [{("a", SHARED[0]), ("b", SHARED[1])}]


def test_matching_switched_off_then_rebuilt(
        sources: tuple[ChangingSource, ChangingSource, str, str], oai: Run) -> None:
    _, b, url_a, url_b = sources
    b.add(SHARED[1], when=START - 40 * DAY)
    oai("harvest", "add", "a", url_a)
    oai("harvest", "add", "b", url_b)
    oai("harvest", "run", "a", "b", OAI_HARVEST_MATCH_DUPLICATES="false")
    assert clusters(oai) == []  # nothing filed
    oai("duplicates", "rebuild")
    assert clusters(oai) == [{("a", SHARED[0]), ("b", SHARED[1])}]


def filed(database_url: str) -> int:
    from sqlalchemy import create_engine, func, select

    from oai.store.tables import dup_records

    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(dup_records)).scalar_one())
    finally:
        engine.dispose()


def test_auto_matching_starts_with_the_second_source(
        sources: tuple[ChangingSource, ChangingSource, str, str], oai: Run,
        database_url: str) -> None:
    """One source has nothing to match against: its harvest files nothing (and costs half as
    much). Adding a second files what the first holds; the second's harvest is matched."""
    _, b, url_a, url_b = sources
    b.add(SHARED[1], when=START - 40 * DAY)
    oai("harvest", "add", "a", url_a)
    oai("harvest", "run", "a")
    assert filed(database_url) == 0
    added = oai("harvest", "add", "b", url_b, "--json")
    assert json.loads(added.stdout.splitlines()[-1])["duplicates_filed"] == 9
    assert filed(database_url) == 1  # a's one record with an identifier (its DOI)
    oai("harvest", "run", "b")
    assert clusters(oai) == [{("a", SHARED[0]), ("b", SHARED[1])}]


def test_matching_on_files_a_lone_sources_records(
        sources: tuple[ChangingSource, ChangingSource, str, str], oai: Run,
        database_url: str) -> None:
    _, _, url_a, _ = sources
    oai("harvest", "add", "a", url_a)
    oai("harvest", "run", "a", OAI_HARVEST_MATCH_DUPLICATES="on")
    assert filed(database_url) == 1  # the one record with an identifier (DOI)
