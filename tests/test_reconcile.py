"""`oai reconcile` against a source that hides its changes (deletedRecord `no`, edits without
a new datestamp, backdated additions), over real HTTP, on SQLite and PostgreSQL: reports,
applies, refuses above the threshold or after a partial sweep, and runs on schedule."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select

from harvester.schedule import BadDuration, format_duration, is_due, parse_duration
from oai.protocol.datestamps import parse_lenient, utc_now
from oai.store.harvest import HarvestStore
from oai.store.repository import Store
from oai.store.tables import harvested, reconciliations
from tests.changing_server import START, ChangingSource, serve_changing

OAI = str(Path(sys.executable).with_name("oai"))
DAY = 86400
Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def source() -> Iterator[tuple[ChangingSource, str]]:
    src = ChangingSource(page_size=7)
    for n in range(120):
        src.add(f"oai:changing.example.org:{n:04d}", when=START - (120 - n) * DAY)
    with serve_changing(src) as url:
        yield src, url
    assert src.invalid == [], src.invalid[:3]


@pytest.fixture
def oai(database_url: str, tmp_path: Path) -> Run:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OAI_")}
    env["OAI_DATABASE_URL"] = database_url

    def run(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([OAI, *args], capture_output=True, text=True,
                              env={**env, **extra}, cwd=tmp_path, timeout=300)

    return run


def held(database_url: str) -> tuple[dict[str, tuple[str, str | None]], dict[str, Any]]:
    """The live records of source `src` (datestamp, payload) and its tombstones."""
    store = Store.open(database_url)
    try:
        hstore = HarvestStore(store)
        rows = list(hstore.iter_records(hstore.require_source("src").id))
    finally:
        store.close()
    live = {r.identifier: (r.datestamp, r.metadata) for r in rows if not r.deleted}
    dead = {r.identifier: r.metadata for r in rows if r.deleted}
    return live, dead


def result(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert "Traceback" not in done.stderr, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_reconcile_makes_the_copy_equal_to_a_source_that_hides_its_changes(
        source: tuple[ChangingSource, str], oai: Run, database_url: str) -> None:
    src, url = source
    added = oai("harvest", "add", "src", url)
    assert added.returncode == 0, added.stderr
    assert "deletedRecord=no" in added.stdout and "--reconcile-every 7d" in added.stdout
    assert oai("harvest", "run", "src").returncode == 0
    assert held(database_url)[0] == src.state()

    ids = sorted(src.items)
    src.tick(3600)
    for i in ids[:6]:
        src.delete(i)  # vanish: deletedRecord no
    for i in ids[10:15]:
        src.edit(i, f"Edited {i}")  # a new datestamp
    for i in ids[20:24]:
        src.edit(i, f"Quietly edited {i} \u2013 ünïcode", bump=False)  # the same datestamp
    for n in range(3):
        src.add(f"oai:changing.example.org:old{n}", when=START - 500 * DAY)  # backdated
    for n in range(2):
        src.add(f"oai:changing.example.org:new{n}")
    before = held(database_url)

    report = oai("reconcile", "src", "--json")
    assert report.returncode == 0, report.stderr
    found = result(report)
    assert found["counts"] == {"missing": 5, "stale": 5, "changed": 0, "gone": 6,
                               "agree": 109}
    assert found["samples"]["gone"] == ids[:5] and found["swept"] == 119
    assert not found["applied"] and held(database_url) == before  # a report changes nothing
    text = oai("reconcile", "src")
    assert "6 gone from the source" in text.stdout and ids[0] in text.stdout

    applied = result(oai("reconcile", "src", "--apply", "--json"))
    assert applied["status"] == "complete" and applied["fetched"] == 10
    assert applied["tombstoned"] == 6
    live, dead = held(database_url)
    state = src.state()
    assert set(live) == set(state) and set(dead) == set(ids[:6])
    assert all(v is None for v in dead.values())  # tombstones, not deletions
    assert [i for i in state if live[i] != state[i]] == ids[20:24]  # only the quiet edits

    content = result(oai("reconcile", "src", "--apply", "--verify-content", "--json"))
    assert content["counts"]["changed"] == 4 and content["fetched"] == 4
    assert content["tombstoned"] == 0
    live, dead = held(database_url)
    assert live == src.state()  # identifiers, datestamps and payload bytes
    assert set(dead) == set(ids[:6])

    status = json.loads(oai("harvest", "status", "src", "--json").stdout)
    last = status["last_reconciliation"]
    assert last["status"] == "complete" and last["changed"] == 4 and last["verify_content"]
    again = result(oai("reconcile", "src", "--json"))
    assert again["counts"]["agree"] == len(src.items) and again["counts"]["gone"] == 0


def test_threshold_refuses_unless_forced(source: tuple[ChangingSource, str], oai: Run,
                                         database_url: str) -> None:
    src, url = source
    assert oai("harvest", "add", "src", url, "--no-check").returncode == 0
    assert oai("harvest", "run", "src").returncode == 0
    for i in sorted(src.items)[:30]:  # a quarter of the copy
        src.delete(i)
    refused = oai("reconcile", "src", "--apply", "--json")
    assert refused.returncode == 1
    out = result(refused)
    assert out["status"] == "refused" and out["tombstoned"] == 0
    assert "30 of 120 live records (25.0%)" in out["reason"] and "--force" in out["reason"]
    assert refused.stderr.strip().splitlines()[-1].startswith("Error: src: refused: 30 of")
    assert not held(database_url)[1]
    assert oai("reconcile", "src", "--apply", "--max-delete-share", "20%").returncode == 1
    bad = oai("reconcile", "src", "--max-delete-share", "120%")
    assert bad.returncode == 2 and "between 0% and 100%" in bad.stderr
    # the configuration's threshold (OAI_HARVEST_MAX_DELETE_SHARE) lets it through
    allowed = oai("reconcile", "src", "--apply", OAI_HARVEST_MAX_DELETE_SHARE="0.3")
    assert allowed.returncode == 0, allowed.stderr
    assert len(held(database_url)[1]) == 30

    for i in sorted(src.items)[:60]:  # most of what is left
        src.delete(i)
    assert oai("reconcile", "src", "--apply").returncode == 1
    assert len(held(database_url)[1]) == 30
    status = json.loads(oai("harvest", "status", "src", "--json").stdout)
    assert status["last_reconciliation"]["status"] == "refused"
    forced = result(oai("reconcile", "src", "--apply", "--force", "--json"))
    assert forced["status"] == "complete" and forced["tombstoned"] == 60
    assert held(database_url)[0] == src.state()


def test_a_partial_sweep_tombstones_nothing_and_resumes(
        source: tuple[ChangingSource, str], oai: Run, database_url: str) -> None:
    src, url = source
    assert oai("harvest", "add", "src", url, "--no-check").returncode == 0
    assert oai("harvest", "run", "src").returncode == 0
    for i in sorted(src.items)[-5:]:  # at the end of the list: only a complete sweep knows
        src.delete(i)
    partial = oai("reconcile", "src", "--apply", "--max-requests", "4", "--json")
    assert partial.returncode == 1
    out = result(partial)
    assert out["status"] == "incomplete" and "budget of 4 requests" in out["reason"]
    assert "the sweep is partial, so nothing was tombstoned" in out["reason"]
    assert not held(database_url)[1] and out["swept"] == 21  # three pages of seven
    done = result(oai("reconcile", "src", "--apply", "--json"))
    assert done["resumed"] and done["status"] == "complete" and done["tombstoned"] == 5
    assert done["swept"] == 115 and held(database_url)[0] == src.state()


def test_a_held_source_is_not_swept(source: tuple[ChangingSource, str], oai: Run,
                                    database_url: str) -> None:
    _, url = source
    assert oai("harvest", "add", "src", url, "--no-check").returncode == 0
    store = Store.open(database_url)
    hstore = HarvestStore(store)
    assert hstore.acquire_lease(hstore.require_source("src").id, "elsewhere:1:x",
                                "another-machine", 600) is None
    store.close()
    held_up = oai("reconcile", "src")
    assert held_up.returncode == 1 and "held by elsewhere:1:x" in held_up.stderr


def test_schedule(source: tuple[ChangingSource, str], oai: Run, database_url: str) -> None:
    src, url = source
    bad = oai("harvest", "add", "src", url, "--reconcile-every", "7x")
    assert bad.returncode == 1 and "not a duration" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
    added = oai("harvest", "add", "src", url, "--reconcile-every", "2w")
    assert added.returncode == 0 and "reconciled every 14d" in added.stdout
    assert "consider" not in added.stdout  # a schedule was given: no suggestion
    first = oai("harvest", "run", "src")
    assert first.returncode == 0 and "reconciled: complete" in first.stdout, first.stdout
    src.delete(sorted(src.items)[0])
    second = oai("harvest", "run", "src")  # not due again for two weeks
    assert second.returncode == 0 and "reconciled" not in second.stdout
    status = json.loads(oai("harvest", "status", "src", "--json").stdout)
    assert status["reconcile_every"] == 14 * DAY
    assert status["last_reconciliation"]["agree"] == 120
    assert "last reconciliation #1 (every 14d): complete" in oai("harvest", "status").stdout
    assert oai("harvest", "edit", "src", "--reconcile-every", "30m").returncode == 0
    engine = create_engine(database_url)
    with engine.begin() as conn:  # as if the last one was an hour ago
        conn.execute(reconciliations.update().values(started=reconciliations.c.started - 3600))
    engine.dispose()
    third = oai("harvest", "run", "src")
    assert third.returncode == 0 and "1 tombstoned" in third.stdout, third.stdout
    assert oai("harvest", "edit", "src", "--reconcile-every", "off").returncode == 0
    assert json.loads(oai("harvest", "status", "src", "--json").stdout)[
        "reconcile_every"] is None


def test_durations() -> None:
    assert parse_duration("30m") == 1800 and parse_duration("12h") == 43200
    assert parse_duration("7d") == 7 * DAY and parse_duration(" 2W ") == 14 * DAY
    assert parse_duration("off") is None
    for wrong in ("", "7", "0d", "1y", "-1d", "1.5h"):
        with pytest.raises(BadDuration):
            parse_duration(wrong)
    assert format_duration(7 * DAY) == "7d" and format_duration(5400) == "90m"
    assert format_duration(None) == "off"
    assert not is_due(None, None, 10) and is_due(60, None, 10)
    assert not is_due(60, 0, 59) and is_due(60, 0, 60)


def _pages(database_url: str) -> tuple[int, bool]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            row = conn.execute(select(reconciliations.c.pages,
                                      reconciliations.c.swept_complete)
                               .order_by(reconciliations.c.id.desc()).limit(1)).first()
            return (int(row[0]), bool(row[1])) if row else (0, False)
    finally:
        engine.dispose()


def _tombstones(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(harvested)
                                    .where(harvested.c.deleted.is_(True))).scalar_one())
    finally:
        engine.dispose()


@pytest.mark.slow
def test_sweeps_killed_at_random_points_tombstone_nothing(
        database_url: str, oai: Run) -> None:
    """`oai reconcile --apply` killed with SIGKILL at random pages, several times: nothing is
    tombstoned until a sweep completes, and the next run resumes and finishes the job."""
    seed = int(os.environ.get("OAI_KILL_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    src = ChangingSource(page_size=10)
    for n in range(1500):
        src.add(f"oai:changing.example.org:{n:05d}", when=START - n * 60)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OAI_")}
    env["OAI_DATABASE_URL"] = database_url
    with serve_changing(src) as url:
        assert oai("harvest", "add", "src", url, "--no-check").returncode == 0
        assert oai("harvest", "run", "src").returncode == 0
        for i in rng.sample(sorted(src.items), 100):
            src.delete(i)
        kills = 0
        while kills < 5:
            before, _ = _pages(database_url)
            target = before + rng.randint(1, 25)
            proc = subprocess.Popen([OAI, "reconcile", "src", "--apply"], env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            while proc.poll() is None and _pages(database_url)[0] < target:
                time.sleep(0.005)
            time.sleep(rng.uniform(0, 0.02))
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            pages, complete = _pages(database_url)
            assert pages >= before, f"seed {seed}: a killed sweep lost committed pages"
            assert not complete, f"seed {seed}: the sweep finished before the kill"
            assert _tombstones(database_url) == 0, f"seed {seed}: tombstoned after a kill"
            kills += 1
        done = oai("reconcile", "src", "--apply", "--json")
        assert done.returncode == 0, f"seed {seed}: {done.stderr}"
        out = result(done)
        assert out["resumed"] and out["reconciliation"] == 1 and out["tombstoned"] == 100
        assert held(database_url)[0] == src.state()
    assert src.invalid == []


def test_an_unreachable_source_is_recorded_as_failed(oai: Run) -> None:
    assert oai("harvest", "add", "src", "http://127.0.0.1:9/oai", "--no-check").returncode == 0
    failed = oai("reconcile", "src", "--apply", OAI_HARVEST_RETRIES="1")
    assert failed.returncode == 1 and "Traceback" not in failed.stderr
    assert failed.stderr.strip().splitlines()[-1].startswith("Error: src: ")
    status = json.loads(oai("harvest", "status", "src", "--json").stdout)
    assert status["last_reconciliation"]["status"] in ("failed", "incomplete")


def test_a_harvest_since_a_partial_sweep_starts_it_over(
        source: tuple[ChangingSource, str], oai: Run) -> None:
    _, url = source
    assert oai("harvest", "add", "src", url, "--no-check").returncode == 0
    assert oai("harvest", "run", "src").returncode == 0
    assert oai("reconcile", "src", "--max-requests", "3").returncode == 1
    assert oai("harvest", "run", "src").returncode == 0  # the copy may have changed
    again = result(oai("reconcile", "src", "--json"))
    assert not again["resumed"] and again["reconciliation"] == 2
    assert again["status"] == "complete" and again["swept"] == 120
    status = json.loads(oai("harvest", "status", "src", "--json").stdout)
    assert status["last_reconciliation"]["id"] == 2


def _past(datestamp: str) -> None:
    """Wait until the clock has left `datestamp`'s second: served datestamps have second
    granularity, so a change within the second the copy was published keeps its datestamp."""
    while utc_now() <= parse_lenient(datestamp):
        time.sleep(0.05)


def test_tombstones_of_a_published_source_are_served_as_deleted(
        source: tuple[ChangingSource, str], oai: Run, database_url: str) -> None:
    """What reconciliation tombstones leaves the aggregate too: a harvester of the published
    set sees those records deleted, with a newer datestamp, and nothing else changed."""
    from oai.provider.app import create_app
    from tests.conftest import NS, OAIClient, make_config

    src, url = source
    assert oai("harvest", "add", "src", url, "--publish").returncode == 0
    assert oai("harvest", "run", "src").returncode == 0
    store = Store.open(database_url)
    try:
        client = OAIClient(create_app(make_config(page_size=500, base_url=None),
                                      store).test_client())

        def headers() -> dict[str, tuple[bool, str]]:
            listed = client(verb="ListIdentifiers", metadataPrefix="oai_dc", set="source:src")
            return {h.findtext("o:identifier", namespaces=NS) or "":
                    (h.get("status") == "deleted", h.findtext("o:datestamp", namespaces=NS)
                     or "") for h in listed.iterfind("o:ListIdentifiers/o:header", NS)}

        before = headers()
        assert len(before) == 120 and not any(d for d, _ in before.values())
        _past(max(stamp for _, stamp in before.values()))
        ids = sorted(src.items)
        src.tick(3600)
        for i in ids[:4]:
            src.delete(i)
        applied = result(oai("reconcile", "src", "--apply", "--json"))
        assert applied["tombstoned"] == 4
        after = headers()
        assert {i for i, (d, _) in after.items() if d} == set(ids[:4])
        assert all(after[i][1] > before[i][1] for i in ids[:4])
        assert {i: after[i] for i in ids[4:]} == {i: before[i] for i in ids[4:]}
        got = client(verb="GetRecord", metadataPrefix="oai_dc", identifier=ids[0])
        assert got.find("o:GetRecord/o:record/o:header", NS).get("status") == "deleted"
    finally:
        store.close()
