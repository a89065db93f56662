"""Harvesting with `--validate`: every payload is checked against its schema; those that fail
are flagged per record and counted per run, never dropped; sources that do not ask are not
checked at all. Over loopback HTTP, on SQLite and PostgreSQL, and as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import select

from harvester.options import HarvestOptions
from harvester.sync import SourceHarvester
from oai.protocol.namespaces import DC, OAI_DC, OAI_DC_SCHEMA_URL
from oai.protocol.schemas import load_schema
from oai.store.harvest import HarvestStore
from oai.store.repository import Store
from oai.store.tables import harvested
from tests.hostile_server import Hostile, Item, Running, items, serve_hostile

OAI_CLI = str(Path(sys.executable).with_name("oai"))
FAST = HarvestOptions(max_attempts=2, backoff_base=0.0, backoff_cap=0.0, read_timeout=5,
                      connect_timeout=2, sleep=lambda seconds: None)


def dc(inner: str) -> str:
    return f'<oai_dc:dc xmlns:oai_dc="{OAI_DC}" xmlns:dc="{DC}">{inner}</oai_dc:dc>'


BAD_PAYLOADS = {  # identifier -> payload the oai_dc schema rejects
    "oai:hostile.example.org:bad-1": dc("<dc:foo>not a DC element</dc:foo>"),
    "oai:hostile.example.org:bad-2": dc('<dc:title xml:lang="en_US">x</dc:title>'
                                        "<dc:title><b>nested</b></dc:title>"),
    "oai:hostile.example.org:bad-3": dc("<title>unqualified</title>"),
}
UNKNOWN = "oai:hostile.example.org:unknown"


def official_errors(payload: str) -> int:
    """How many errors the oai_dc schema itself finds in a payload."""
    schema = load_schema(OAI_DC_SCHEMA_URL)
    schema.validate(etree.fromstring(payload))
    return len(schema.error_log)


@pytest.fixture
def repository() -> Iterator[Running]:
    content = [*items(10),
               *(Item(i, f"2024-02-0{n}T00:00:00Z", metadata=p)
                 for n, (i, p) in enumerate(BAD_PAYLOADS.items(), 1)),
               Item(UNKNOWN, "2024-02-05T00:00:00Z",
                    metadata='<x:thing xmlns:x="urn:example:thing"/>'),
               Item("oai:hostile.example.org:gone", "2024-02-06T00:00:00Z", deleted=True)]
    with serve_hostile(Hostile(content, earliest="2024-01-01T00:00:00Z", page_size=4)) as r:
        yield r


def verdicts(store: Store, source_id: int) -> dict[str, int | None]:
    with store.engine.connect() as conn:
        return dict(conn.execute(select(harvested.c.identifier, harvested.c.schema_errors)
                                 .where(harvested.c.source_id == source_id)).all())


def test_failing_records_are_flagged_and_counted(database_url: str,
                                                 repository: Running) -> None:
    store = Store.open(database_url, create=True)
    try:
        hstore = HarvestStore(store)
        source = hstore.add_source("checked", repository.url(), validate_records=True)
        plain = hstore.add_source("plain", repository.url())
        outcome = SourceHarvester(hstore, source, FAST).run()
        assert outcome.status == "complete" and outcome.records == 15
        found = verdicts(store, source.id)
        assert len(found) == 15  # flagged, never dropped
        assert {i: n for i, n in found.items() if n} == {
            i: official_errors(p) for i, p in BAD_PAYLOADS.items()}
        assert found[UNKNOWN] is None and found["oai:hostile.example.org:gone"] is None
        assert sum(1 for n in found.values() if n == 0) == 10
        run = hstore.last_run(source.id)
        assert run is not None and run.invalid_records == 3
        assert hstore.invalid_count(source.id) == 3

        # a source that does not ask is not checked at all
        assert SourceHarvester(hstore, plain, FAST).run().records == 15
        assert set(verdicts(store, plain.id).values()) == {None}
        assert hstore.last_run(plain.id).invalid_records == 0  # type: ignore[union-attr]

        # asked no more: the next full harvest clears the verdicts
        hstore.edit_source(source.id, validate_records=False)
        again = SourceHarvester(hstore, hstore.require_source("checked"),
                                replace(FAST, full=True)).run()
        assert again.status == "complete"
        assert set(verdicts(store, source.id).values()) == {None}
        assert hstore.invalid_count(source.id) == 0
    finally:
        store.close()


def test_validate_from_the_command_line(tmp_path: Path, repository: Running) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OAI_")}
    env["OAI_DATABASE_URL"] = f"sqlite:///{tmp_path / 'h.sqlite'}"

    def oai(*args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([OAI_CLI, *args], capture_output=True, text=True, env=env,
                              cwd=tmp_path, timeout=100)
        assert "Traceback" not in done.stderr
        return done

    added = oai("harvest", "add", "src", repository.url(), "--validate", "--json")
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout)["validate"] is True
    assert oai("harvest", "run", "src").returncode == 0
    status = oai("harvest", "status", "src")
    assert status.stdout.splitlines()[0] == ("src: 15 records (1 deleted), 0 quarantined, "
                                             "3 failing their schema")
    assert "pages, 15 records (3 invalid), " in status.stdout
    info = json.loads(oai("harvest", "status", "src", "--json").stdout)
    assert (info["validate"], info["invalid"], info["last_run"]["invalid"]) == (True, 3, 3)

    edited = oai("harvest", "edit", "src", "--no-validate")
    assert edited.returncode == 0 and "records validated" not in edited.stdout
    assert json.loads(oai("harvest", "list", "--json").stdout)["validate"] is False
    info = json.loads(oai("harvest", "status", "src", "--json").stdout)
    assert (info["validate"], info["invalid"]) == (False, None)
    assert "records validated" in oai("harvest", "edit", "src", "--validate").stdout
