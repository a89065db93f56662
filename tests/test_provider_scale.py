"""The provider at scale, over real HTTP: several `oai serve` processes on one PostgreSQL store
(a harvest alternating between them is the harvest of one), load shedding, the maintenance
switch, conditional GET, completeListSize past its counting limit, and /metrics."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests
from lxml import etree
from sqlalchemy.engine import make_url

from oai.protocol.schemas import validate_response
from oai.provider.app import create_app
from oai.store.repository import Store
from tests.conftest import NS, make_config, put, record
from tests.serving import OAI, Served, oai_serve, serve_in_thread

ID = "oai:test.example.org:"
RECORDS = 40


def get(url: str, **params: str) -> requests.Response:
    return requests.get(url, params=params, timeout=60)


def valid(resp: requests.Response) -> etree._Element:
    """HTTP 200, text/xml, schema-valid: the parsed document."""
    assert resp.status_code == 200, (resp.status_code, resp.text[:300])
    assert resp.headers["Content-Type"] == "text/xml; charset=utf-8"
    validate_response(resp.content)
    return etree.fromstring(resp.content)


def harvest(urls: list[str], verb: str, **params: str) -> list[bytes]:
    """Every record (or header) of a list, each request to the next of `urls` in turn."""
    turn = itertools.cycle(urls)
    root = valid(get(next(turn), verb=verb, **params))
    child = "o:record" if verb == "ListRecords" else "o:header"
    items: list[bytes] = []
    while True:
        items += [etree.tostring(e, method="c14n") for e in root.iterfind(f"o:{verb}/{child}",
                                                                          NS)]
        token = root.findtext(f"o:{verb}/o:resumptionToken", namespaces=NS)
        if not token:
            return items
        root = valid(get(next(turn), verb=verb, resumptionToken=token))


@pytest.fixture
def pg_store(postgres_url: str) -> str:
    store = Store.open(postgres_url, create=True)
    put(store, *[record(f"r{i:03}", sets=[f"s{i % 3}"]) for i in range(RECORDS)])
    store.delete(["r007"])
    store.close()
    return postgres_url


@contextmanager
def servers(url: str, tmp: Path, count: int, **settings: str) -> Iterator[list[Served]]:
    with ExitStack() as stack:
        yield [stack.enter_context(oai_serve(url, tmp / f"serve{i}.log", **settings))
               for i in range(count)]


def test_a_harvest_alternating_three_processes_is_the_harvest_of_one(
        pg_store: str, tmp_path: Path) -> None:
    with servers(pg_store, tmp_path, 3, page_size="7", sets_page_size="2") as served:
        urls = [s.url for s in served]
        for verb, params in (("ListRecords", {"metadataPrefix": "oai_dc"}),
                             ("ListIdentifiers", {"metadataPrefix": "oai_dc"}),
                             ("ListRecords", {"metadataPrefix": "oai_dc", "set": "s1"})):
            alone = harvest(urls[:1], verb, **params)
            alternating = harvest(urls, verb, **params)
            assert alternating == alone
            assert len(alone) == (RECORDS if "set" not in params else RECORDS // 3)
        # tokens of ListSets too, and a token from one process is good on each of the others
        root = valid(get(urls[0], verb="ListSets"))
        token = root.findtext("o:ListSets/o:resumptionToken", namespaces=NS)
        assert token
        pages = {valid(get(u, verb="ListSets", resumptionToken=token)).findtext(
            "o:ListSets/o:set/o:setSpec", namespaces=NS) for u in urls}
        assert pages == {"s2"}


def locked_records(url: str) -> Any:
    """A transaction holding an exclusive lock on the records table of `url`'s schema: every
    read of it waits, so a request stays in flight until the lock is released."""
    parsed = make_url(url)
    conn = psycopg.connect(host=parsed.host, port=parsed.port, user=parsed.username,
                           dbname=parsed.database, options=parsed.query.get("options"))
    conn.execute("LOCK TABLE records IN ACCESS EXCLUSIVE MODE")
    return conn


def wait_for_lock_waiter(conn: Any) -> None:
    """Until some session waits for the lock on records (the request is in the database)."""
    with psycopg.connect(conn.info.dsn, autocommit=True) as watcher:
        watcher.execute(f"SET search_path TO {conn.execute('SHOW search_path').fetchone()[0]}")
        for _ in range(600):
            waiting = watcher.execute(
                "SELECT count(*) FROM pg_locks WHERE NOT granted "
                "AND relation = 'records'::regclass").fetchone()[0]
            if waiting:
                return
            time.sleep(0.05)
    raise AssertionError("no request ever waited for the records table")


def test_above_max_in_flight_a_process_answers_503_with_retry_after(
        pg_store: str, tmp_path: Path) -> None:
    with servers(pg_store, tmp_path, 1, max_in_flight="1") as (server,):
        lock = locked_records(pg_store)
        held: dict[str, requests.Response] = {}
        thread = threading.Thread(target=lambda: held.setdefault("r", get(
            server.url, verb="ListRecords", metadataPrefix="oai_dc")))
        try:
            thread.start()
            wait_for_lock_waiter(lock)  # one request in flight, blocked in the database
            for verb in ("Identify", "ListSets"):
                shed = get(server.url, verb=verb)
                assert shed.status_code == 503
                assert int(shed.headers["Retry-After"]) > 0
            head = requests.head(server.url, params={"verb": "Identify"}, timeout=60)
            assert head.status_code == 503 and head.content == b""
        finally:
            lock.rollback()
            lock.close()
            thread.join(timeout=60)
        valid(held["r"])  # the request in flight was served in full
        # and requests are served again once the worker has counted it done
        shed_after = 0
        while (resp := get(server.url, verb="Identify")).status_code == 503 \
                and shed_after < 100:
            shed_after += 1
        valid(resp)
        metrics = requests.get(server.url.replace("/oai", "/metrics"), timeout=60).text
        assert f'oai_requests_shed_total{{reason="load"}} {3.0 + shed_after}' in metrics


def maintenance(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([OAI, "maintenance", *args], capture_output=True, text=True,
                          env={"OAI_DATABASE_URL": url, "PATH": ""}, timeout=60, check=False)


def wait_for_status(url: str, status: int) -> requests.Response:
    """The first answer with `status` (the switch is cached for a second per process)."""
    for _ in range(100):
        resp = get(url, verb="Identify")
        if resp.status_code == status:
            return resp
        time.sleep(0.1)
    raise AssertionError(f"{url} never answered {status}")


def test_the_maintenance_switch_is_seen_by_every_process(pg_store: str,
                                                        tmp_path: Path) -> None:
    with servers(pg_store, tmp_path, 2) as served:
        done = maintenance(pg_store, "on", "--retry-after", "42", "--message", "moving racks")
        assert done.returncode == 0, done.stderr
        for server in served:
            resp = wait_for_status(server.url, 503)
            assert resp.headers["Retry-After"] == "42"
            validate_response(resp.content)
            assert b"moving racks" in resp.content
            for verb in ("ListRecords", "GetRecord", "ListSets"):
                assert get(server.url, verb=verb).status_code == 503
        status = maintenance(pg_store, "status", "--json")
        assert '"maintenance": true' in status.stdout
        assert maintenance(pg_store, "off").returncode == 0
        for server in served:
            valid(wait_for_status(server.url, 200))
        metrics = requests.get(served[0].url.replace("/oai", "/metrics"), timeout=60).text
        assert 'oai_requests_shed_total{reason="maintenance"}' in metrics


@pytest.mark.parametrize("args", [["on", "--retry-after", "0"], ["on", "--message", " "],
                                  ["on", "--retry-after", "x"], ["sideways"]])
def test_bad_maintenance_input_is_one_line(tmp_path: Path, args: list[str]) -> None:
    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    Store.open(url, create=True).close()
    done = maintenance(url, *args)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert [line for line in done.stderr.splitlines() if line.startswith("Error")]
    assert '"maintenance": false' in maintenance(url, "status", "--json").stdout


def test_metrics_sum_the_workers_of_a_serve(pg_store: str, tmp_path: Path) -> None:
    with servers(pg_store, tmp_path, 1, workers="2") as (server,):
        before = requests.get(server.url.replace("/oai", "/metrics"), timeout=60).text
        for _ in range(20):  # new connections: both workers answer some
            requests.get(server.url, params={"verb": "Identify"}, timeout=60,
                         headers={"Connection": "close"})
        for _ in range(5):
            requests.get(server.url, params={"verb": "Nonsense"}, timeout=60,
                         headers={"Connection": "close"})
        text = requests.get(server.url.replace("/oai", "/metrics"), timeout=60).text
    assert "# TYPE oai_request_duration_seconds histogram" in text
    assert "oai_requests_in_flight" in text

    def value(exposition: str, sample: str) -> float:
        found = [line for line in exposition.splitlines() if line.startswith(sample + " ")]
        return float(found[0].split()[-1]) if found else 0.0

    identify = 'oai_requests_total{status="200",verb="Identify"}'
    assert value(text, identify) - value(before, identify) == 20
    assert value(text, 'oai_requests_total{status="200",verb="none"}') == 5
    assert value(text, 'oai_request_duration_seconds_count{verb="Identify"}') >= 20


@pytest.fixture
def served_app(database_url: str) -> Iterator[tuple[str, Store]]:
    store = Store.open(database_url, create=True)
    put(store, *[record(f"r{i}", sets=["a"]) for i in range(25)])
    put(store, *[record(f"b{i}", sets=["b"]) for i in range(5)])
    app = create_app(make_config(page_size=3, complete_list_size_limit=10, base_url=None),
                     store)
    with serve_in_thread(app) as base:
        yield base + "/oai", store
    store.close()


@pytest.mark.parametrize("params", [
    {"verb": "Identify"}, {"verb": "ListSets"}, {"verb": "ListMetadataFormats"},
    {"verb": "ListMetadataFormats", "identifier": ID + "r1"},
    {"verb": "GetRecord", "identifier": ID + "r1", "metadataPrefix": "oai_dc"}])
def test_conditional_get_answers_304(served_app: tuple[str, Store],
                                     params: dict[str, str]) -> None:
    url, _ = served_app
    for coding in ("identity", "gzip"):
        first = requests.get(url, params=params, headers={"Accept-Encoding": coding},
                             timeout=60)
        valid(first)
        tag = first.headers["ETag"]
        again = requests.get(url, params=params, timeout=60,
                             headers={"If-None-Match": tag, "Accept-Encoding": coding})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["ETag"] == tag
    other = requests.get(url, params=params, headers={"If-None-Match": '"elsewhere"'},
                         timeout=60)
    valid(other)


def test_a_changed_record_is_no_longer_not_modified(served_app: tuple[str, Store]) -> None:
    url, store = served_app
    params = {"verb": "GetRecord", "identifier": ID + "r2", "metadataPrefix": "oai_dc"}
    first = requests.get(url, params=params, timeout=60)
    valid(first)
    since = first.headers["Last-Modified"]
    assert requests.get(url, params=params, headers={"If-Modified-Since": since},
                        timeout=60).status_code == 304
    put(store, record("r2", title="A new title"))
    changed = requests.get(url, params=params, timeout=60,
                           headers={"If-None-Match": first.headers["ETag"]})
    assert b"A new title" in valid(changed).findtext(".//{*}title").encode()
    assert changed.headers["ETag"] != first.headers["ETag"]


def test_lists_carry_no_validators(served_app: tuple[str, Store]) -> None:
    url, _ = served_app
    resp = get(url, verb="ListIdentifiers", metadataPrefix="oai_dc")
    valid(resp)
    assert "ETag" not in resp.headers and "Last-Modified" not in resp.headers


def test_complete_list_size_beyond_the_limit_is_left_out(
        served_app: tuple[str, Store]) -> None:
    url, _ = served_app
    # 25 records, counted up to 10: no size announced, the list still complete
    root = valid(get(url, verb="ListIdentifiers", metadataPrefix="oai_dc", set="a"))
    token = root.find("o:ListIdentifiers/o:resumptionToken", NS)
    assert token is not None and token.get("completeListSize") is None
    assert len(harvest([url], "ListIdentifiers", metadataPrefix="oai_dc", set="a")) == 25
    last = token
    while token is not None and token.text:
        root = valid(get(url, verb="ListIdentifiers", resumptionToken=token.text))
        token = root.find("o:ListIdentifiers/o:resumptionToken", NS)
        assert token is not None
        if token.text:
            assert token.get("completeListSize") is None
        last = token
    assert last.get("completeListSize") == "25"  # known exactly at the end
    # a window within the limit is counted exactly
    root = valid(get(url, verb="ListRecords", metadataPrefix="oai_dc", set="b"))
    token = root.find("o:ListRecords/o:resumptionToken", NS)
    assert token is not None and token.get("completeListSize") == "5"


PROBE = Path(os.environ.get("OAI_PROBE", "/work/shared/tools/oaiprobe/oaiprobe.py"))


@pytest.mark.skipif(not PROBE.exists(), reason=f"the conformance probe is not at {PROBE}")
def test_probe_passes_with_every_scale_setting_on(pg_store: str, tmp_path: Path) -> None:
    """Shedding configured (above the probe's load), lists larger than the counting limit:
    the independent probe still finds nothing wrong."""
    with servers(pg_store, tmp_path, 1, workers="2", page_size="7", max_in_flight="8",
                 complete_list_size_limit="10") as (server,):
        probe = subprocess.run([sys.executable, str(PROBE), server.url], capture_output=True,
                               text=True, timeout=600, check=False)
    failed = [line for line in probe.stdout.splitlines() if line.startswith("FAIL")]
    assert probe.returncode == 0 and not failed, "\n".join(failed) or probe.stderr
    assert " 0 failed" in probe.stdout.splitlines()[-1]


@pytest.mark.postgresql
def test_counting_is_skipped_only_where_the_planner_puts_the_window_above_the_cap(
        postgres_url: str) -> None:
    """The planner's estimate decides whether to count, never the size announced: below
    the cap the count is exact, above it the answer is cap + 1 (not announced)."""
    from sqlalchemy import func, select, text

    from oai.store.bounded import bounded_count, planned_rows
    from oai.store.tables import record_sets, records

    store = Store.open(postgres_url, create=True)
    try:
        put(store, *[record(f"r{i}", sets=["a" if i % 3 else "b"]) for i in range(60)])
        with store.engine.begin() as conn:
            conn.execute(text("ANALYZE records"))
            conn.execute(text("ANALYZE record_sets"))
        whole = select(func.count()).select_from(records)
        in_b = (select(func.count()).select_from(record_sets)
                .where(record_sets.c.set_spec == "b"))
        with store.engine.connect() as conn:
            assert 30 <= planned_rows(conn, select(records.c.id)) <= 120
            assert bounded_count(conn, whole, None) == 60
            assert bounded_count(conn, whole, 1000) == 60
            assert bounded_count(conn, whole, 10) == 11
            assert bounded_count(conn, in_b, 1000) == 20
            assert bounded_count(conn, in_b, 5) == 6
    finally:
        store.close()
