"""Shared test fixtures: stores on SQLite and PostgreSQL, a controllable clock, and an OAI
client that validates every response against the project's schemas."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from flask.testing import FlaskClient
from lxml import etree
from sqlalchemy import create_engine, text

from oai.config import Config
from oai.protocol.namespaces import OAI
from oai.protocol.rendering import prepare_record
from oai.protocol.schemas import validate_response
from oai.provider.app import create_app
from oai.store.repository import Store
from tests.serving import Served, oai_serve

PROJECT = Path(__file__).resolve().parents[1]
SHARED = PROJECT.parent / "shared"
POSTGRES_URL = os.environ.get("OAI_TEST_POSTGRES_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_POSTGRES = os.environ.get("OAI_REQUIRE_POSTGRES") == "1"
NS = {"o": OAI}
#: Files tests leave for people to look at (browser screenshots), listed after the run.
ARTIFACTS: list[Path] = []


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if ARTIFACTS:
        terminalreporter.section("test artefacts")
        for path in ARTIFACTS:
            terminalreporter.write_line(str(path))


def _postgres_available() -> str | None:
    """None if PostgreSQL answers, else the reason it does not."""
    try:
        engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # any driver or network failure means "not here"
        return f"{exc.__class__.__name__}: {str(exc).splitlines()[0]}"


_PG_PROBLEM: str | bool | None = False


def postgres_problem() -> str | None:
    global _PG_PROBLEM
    if _PG_PROBLEM is False:
        _PG_PROBLEM = _postgres_available()
    return _PG_PROBLEM  # type: ignore[return-value]


def require_postgres() -> None:
    problem = postgres_problem()
    if problem is None:
        return
    if REQUIRE_POSTGRES:
        pytest.fail(f"PostgreSQL is required (OAI_REQUIRE_POSTGRES=1) but {POSTGRES_URL} "
                    f"does not answer: {problem}")
    pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL} ({problem}); "
                "set OAI_TEST_POSTGRES_URL to run these tests")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL to a fresh, empty PostgreSQL schema, dropped afterwards."""
    require_postgres()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each store test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite'}"
    return str(request.getfixturevalue("postgres_url"))


@dataclass
class Clock:
    """A settable datestamp clock (epoch seconds) for deterministic store tests."""

    now: int = 1_600_000_000

    def __call__(self) -> int:
        return self.now

    def tick(self, seconds: int = 1) -> int:
        self.now += seconds
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(database_url: str, clock: Clock) -> Iterator[Store]:
    s = Store.open(database_url, clock=clock, create=True)
    try:
        yield s
    finally:
        s.close()


def make_config(**overrides: Any) -> Config:
    base = {"repository_identifier": "test.example.org", "repository_name": "Test Repository",
            "admin_emails": ("admin@test.example.org",), "page_size": 10,
            "sets_page_size": 5, "safety_lag": 0, "base_url": "http://test.example.org/oai"}
    base.update(overrides)
    return Config(**base)


def record(rid: str, title: str | None = None, sets: list[str] | None = None,
           **extra: Any) -> dict[str, Any]:
    """A small valid record."""
    rec: dict[str, Any] = {"id": rid, "titles": [{"text": title or f"Title {rid}"}],
                           "type": "article", "creators": [{"name": "Doe, Jane"}]}
    if sets:
        rec["sets"] = sets
    rec.update(extra)
    return rec


def put(store: Store, *records: dict[str, Any]) -> Any:
    return store.write([prepare_record(r) for r in records])


class OAIClient:
    """Issues OAI-PMH requests through Flask's test client; every response is checked to be
    HTTP 200, text/xml, and valid against OAI-PMH.xsd plus the payload schemas."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def raw(self, method: str = "GET", **params: str) -> bytes:
        if method == "POST":
            resp = self.client.post("/oai", data=urlencode(params),
                                    content_type="application/x-www-form-urlencoded")
        else:
            resp = self.client.get("/oai?" + urlencode(params))
        assert resp.status_code == 200, resp.data
        assert resp.content_type == "text/xml; charset=utf-8"
        validate_response(resp.data)
        return resp.data

    def __call__(self, method: str = "GET", **params: str) -> etree._Element:
        return etree.fromstring(self.raw(method, **params))

    def query_string(self, query: str) -> etree._Element:
        resp = self.client.get("/oai?" + query)
        assert resp.status_code == 200
        validate_response(resp.data)
        return etree.fromstring(resp.data)

    def harvest(self, verb: str = "ListRecords", **params: str) -> list[etree._Element]:
        """Every record (or header) of a complete list, following tokens."""
        items: list[etree._Element] = []
        root = self(verb=verb, **params)
        child = "o:record" if verb == "ListRecords" else "o:header"
        while True:
            if root.find("o:error", NS) is not None:
                return items
            items.extend(root.iterfind(f"o:{verb}/{child}", NS))
            token = root.findtext(f"o:{verb}/o:resumptionToken", namespaces=NS)
            if not token:
                return items
            root = self(verb=verb, resumptionToken=token)


@pytest.fixture
def config() -> Config:
    return make_config()


@pytest.fixture
def oai(store: Store, config: Config) -> OAIClient:
    app = create_app(config, store)
    return OAIClient(app.test_client())


def error_codes(root: etree._Element) -> list[str]:
    return [e.get("code") for e in root.iterfind("o:error", NS)]


@contextmanager
def serve_records(tmp_path_factory: pytest.TempPathFactory, count: int,
                  **settings: str) -> Iterator[Served]:
    """`oai serve` (one worker, two threads) on a new SQLite store of `count` records;
    `settings` become OAI_* variables."""
    url = f"sqlite:///{tmp_path_factory.mktemp('store') / 'store.sqlite'}"
    store = Store.open(url, create=True)
    put(store, *[record(f"r{i}") for i in range(count)])
    store.close()
    log = tmp_path_factory.mktemp("served") / "serve.log"
    with oai_serve(url, log, threads=2, **settings) as server:
        yield server
