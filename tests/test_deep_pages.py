"""bench/deep_pages.py builds a store the provider pages correctly, on PostgreSQL: the tables
are the migrations' own, and a crafted near-the-end token serves the list's last records."""

from __future__ import annotations

import importlib.util
import sys
import uuid
from collections.abc import Iterator
from types import ModuleType

import psycopg
import pytest

from oai.protocol.tokens import TokenCodec
from oai.provider.app import create_app
from oai.store.repository import Store
from tests.conftest import NS, POSTGRES_URL, PROJECT, OAIClient, make_config, require_postgres

SCRIPT = PROJECT / "bench" / "deep_pages.py"
RECORDS = 2_000
END_EPOCH = 1_700_000_000
PAGE = 100


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_deep_pages", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


deep = _load()


@pytest.fixture(scope="module")
def built() -> Iterator[tuple[str, str, dict[str, object]]]:
    require_postgres()
    schema = f"t_deep_{uuid.uuid4().hex[:10]}"
    try:
        figures = deep.build(POSTGRES_URL, schema, RECORDS, seed=2, end_epoch=END_EPOCH,
                             progress=False)
        yield schema, deep.schema_url(POSTGRES_URL, schema), figures
    finally:
        deep.drop(POSTGRES_URL, schema)


@pytest.fixture
def store(built: tuple[str, str, dict[str, object]]) -> Iterator[Store]:
    s = Store.open(built[1])
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def oai(store: Store) -> OAIClient:
    config = make_config(repository_identifier=deep.REPOSITORY_ID, page_size=PAGE)
    return OAIClient(create_app(config, store).test_client())


def _identifiers(root: object, verb: str) -> list[str]:
    return [e.text or "" for e in root.iterfind(  # type: ignore[attr-defined]
        f"o:{verb}/o:{'record/o:header' if verb == 'ListRecords' else 'header'}/o:identifier",
        NS)]


def test_the_built_tables_are_the_migrations_own(built: tuple[str, str, dict[str, object]],
                                                 ) -> None:
    schema, _, figures = built
    fresh = f"t_fresh_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(deep.libpq_url(POSTGRES_URL), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{fresh}"')
    try:
        Store.open(deep.schema_url(POSTGRES_URL, fresh), create=True).close()
        with psycopg.connect(deep.libpq_url(built[1])) as conn:
            ours = deep._ddl(conn, schema)
        with psycopg.connect(deep.libpq_url(deep.schema_url(POSTGRES_URL, fresh))) as conn:
            theirs = deep._ddl(conn, fresh)
        with psycopg.connect(deep.libpq_url(POSTGRES_URL)) as conn:
            columns = ("SELECT table_name, column_name, data_type, is_nullable FROM "
                       "information_schema.columns WHERE table_schema = %s ORDER BY 1, 2")
            same_columns = (conn.execute(columns, (schema,)).fetchall()
                            == conn.execute(columns, (fresh,)).fetchall())
    finally:
        deep.drop(POSTGRES_URL, fresh)
    assert same_columns
    assert len(ours[0]) == 5 and len(ours[1]) == 3  # 3 primary keys, 2 foreign keys
    assert ours[1] == [(n, d.replace(f"{fresh}.", f"{schema}.")) for n, d in theirs[1]]
    assert ours[0] == theirs[0]
    assert figures["records"] == RECORDS


def test_the_generated_rows_are_spread_and_counted(store: Store) -> None:
    until = END_EPOCH + 10
    assert store.count_list(deep.PREFIX, None, None, until) == RECORDS
    sizes = [store.count_list(deep.PREFIX, deep.set_spec(k), None, until)
             for k in range(1, deep.SETS + 1)]
    assert sizes[0] > sizes[-1] > 0  # Zipf-like: dept01 the largest, every set used
    assert sum(sizes) >= RECORDS  # a share of records is in two sets
    assert store.earliest_datestamp() >= deep.START_EPOCH


@pytest.mark.parametrize("verb", deep.VERBS)
@pytest.mark.parametrize("spec", [None, "dept01"])
def test_a_crafted_token_serves_the_last_page(built: tuple[str, str, dict[str, object]],
                                              store: Store, oai: OAIClient, verb: str,
                                              spec: str | None) -> None:
    store_url = built[1]
    secret = store.setting("token_secret")
    assert secret
    codec = TokenCodec(secret.encode("utf-8"))
    until = store.now()
    size = store.count_list(deep.PREFIX, spec, None, until)
    after = deep.position_from_end(store_url, spec, PAGE)
    token = deep.craft_token(codec, verb, spec, until, size, after, size - PAGE)
    root = oai(verb=verb, resumptionToken=token)  # validated against the schemas
    expected = deep.last_ids(store_url, spec, PAGE)
    assert _identifiers(root, verb) == expected
    element = root.find(f"o:{verb}/o:resumptionToken", NS)
    assert element is not None and not (element.text or "").strip()  # the list's end
    assert element.get("completeListSize") == str(size)
    assert element.get("cursor") == str(size - PAGE)
    # the same records a harvest from the start ends with
    args = {"metadataPrefix": deep.PREFIX, **({"set": spec} if spec else {})}
    harvested = [h.findtext("o:identifier", namespaces=NS)
                 for h in oai.harvest("ListIdentifiers", **args)]
    assert len(harvested) == len(set(harvested)) == size
    assert harvested[-PAGE:] == expected
