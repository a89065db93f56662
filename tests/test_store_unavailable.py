"""A lost database connection is retried once on a fresh one; a database that is really gone
(or broken) gives HTTP 503 with Retry-After and a schema-valid OAI-PMH body, never a 500."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from lxml import etree
from sqlalchemy import create_engine, text

from oai.protocol.schemas import validate_response
from oai.provider.app import create_app
from oai.store.engine import open_engine
from oai.store.errors import StoreUnavailable
from oai.store.repository import Store
from tests.conftest import NS, Clock, error_codes, make_config, put, record

QUERIES = ["verb=Identify", "verb=ListIdentifiers&metadataPrefix=oai_dc",
           "verb=ListRecords&metadataPrefix=oai_dc&set=s", "verb=ListSets",
           "verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:test.example.org:r1",
           "verb=ListMetadataFormats&identifier=oai:test.example.org:r1"]


def with_query(url: str, **params: str) -> str:
    return url + ("&" if "?" in url else "?") + "&".join(f"{k}={v}" for k, v in params.items())


def terminate(admin_url: str, application_name: str) -> int:
    """Terminate the backends of one application (ours alone: other tests share the
    server) and say how many there were."""
    admin = create_engine(admin_url)
    try:
        with admin.connect() as conn:
            return len(conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = :name AND pid <> pg_backend_pid()"),
                {"name": application_name}).all())
    finally:
        admin.dispose()


def assert_unavailable(client: FlaskClient, query: str) -> None:
    resp = client.get("/oai?" + query)
    assert resp.status_code == 503, resp.data[:300]
    assert int(resp.headers["Retry-After"]) > 0
    assert resp.content_type == "text/xml; charset=utf-8"
    validate_response(resp.data)
    assert error_codes(etree.fromstring(resp.data)) == ["badArgument"]


def assert_ok(client: FlaskClient, query: str) -> etree._Element:
    resp = client.get("/oai?" + query)
    assert resp.status_code == 200, resp.data[:300]
    validate_response(resp.data)
    return etree.fromstring(resp.data)


@pytest.mark.postgresql
def test_terminated_connections_are_retried(postgres_url: str, clock: Clock) -> None:
    """The provider's engine (`serving`: autocommit, no pre-ping) finds a dead pooled
    connection only by the query itself: that query must be run again on a fresh
    connection, not turned into an error."""
    name = f"oai_retry_{uuid.uuid4().hex[:10]}"
    writer = Store.open(postgres_url, clock=clock, create=True)
    try:
        put(writer, *[record(f"r{i}", sets=["s"]) for i in range(3)])
    finally:
        writer.close()
    store = Store(open_engine(with_query(postgres_url, application_name=name), serving=True),
                  clock=clock)
    client = create_app(make_config(), store).test_client()
    try:
        for query in QUERIES:
            assert error_codes(assert_ok(client, query)) == []
            assert terminate(postgres_url, name) >= 1
            assert error_codes(assert_ok(client, query)) == []
    finally:
        store.close()


@pytest.mark.postgresql
def test_postgresql_down_is_503(postgres_url: str, clock: Clock) -> None:
    store = Store.open(postgres_url, clock=clock, create=True)
    put(store, record("r1"))
    secret = store.setting("token_secret")
    store.close()
    nowhere = Store(open_engine("postgresql+psycopg://postgres@127.0.0.1:9/none",
                                connect_args={"connect_timeout": 2}))
    client = create_app(make_config(secret_key=secret), nowhere).test_client()
    for query in QUERIES:
        assert_unavailable(client, query)
    with pytest.raises(StoreUnavailable):
        nowhere.count_sets()


def test_sqlite_gone_is_503(tmp_path: Path, clock: Clock) -> None:
    folder = tmp_path / "volume"
    store = Store.open(f"sqlite:///{folder / 'store.sqlite'}", clock=clock, create=True)
    put(store, record("r1", sets=["s"]))
    client = create_app(make_config(), store).test_client()
    assert_ok(client, QUERIES[1])
    shutil.rmtree(folder)  # the volume is gone...
    store.engine.dispose()  # ...and the pool's open handles with it
    for query in QUERIES:
        assert_unavailable(client, query)


def test_a_broken_schema_is_503_not_500(store: Store) -> None:
    """Not a lost connection but a failing statement: logged, answered 503 all the same."""
    put(store, record("r1"))
    client = create_app(make_config(), store).test_client()
    assert assert_ok(client, QUERIES[1]).find("o:ListIdentifiers", NS) is not None
    with store.engine.begin() as conn:
        conn.execute(text("ALTER TABLE records RENAME COLUMN datestamp TO moved"))
    assert_unavailable(client, QUERIES[1])
    assert_unavailable(client, QUERIES[4])
