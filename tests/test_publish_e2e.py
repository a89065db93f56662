"""The aggregate, re-served: two origins harvested over loopback HTTP (one in oai_dc only,
one in oai_dc and oai_datacite), published, and harvested back from our own provider by our
own harvester: every record with its identifier, payload bytes and deleted flag, with a
provenance container that validates; after the origins change and the aggregator harvests
again, an incremental harvest of the aggregate picks up exactly what changed. SQLite and
PostgreSQL (the aggregator's store)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from lxml import etree
from sqlalchemy import select

from harvester.options import HarvestOptions
from harvester.sync import SourceHarvester
from oai.protocol.namespaces import PROVENANCE, PROVENANCE_SCHEMA_URL
from oai.protocol.schemas import load_schema
from oai.provider.app import create_app
from oai.store.harvest import HarvestStore
from oai.store.repository import Store
from oai.store.tables import harvested, harvested_formats
from tests.conftest import NS, OAIClient, make_config, put, record
from tests.serving import serve_in_thread

AGG = "agg.example.org"
OPTIONS = HarvestOptions(sleep=lambda s: None, overlap=0)


def datacite_record(rid: str, title: str | None = None) -> dict[str, Any]:
    return record(rid, title, doi=f"10.1234/{rid}", publisher="Example Press",
                  dates={"published": "2021-03-04"})


@contextmanager
def origin(path: Path, repo: str, formats: tuple[str, ...]) -> Iterator[tuple[Store, str]]:
    store = Store.open(f"sqlite:///{path}", create=True)
    app = create_app(make_config(repository_identifier=repo, page_size=7, base_url=None,
                                 formats=formats, repository_name=f"Origin {repo}"), store)
    try:
        with serve_in_thread(app) as base:
            yield store, f"{base}/oai"
    finally:
        store.close()


def run(hstore: HarvestStore, name: str) -> Any:
    outcome = SourceHarvester(hstore, hstore.require_source(name), OPTIONS).run()
    assert outcome.ok, outcome.reason
    return outcome


def copy_of(hstore: HarvestStore, name: str) -> dict[str, tuple[bool, str | None]]:
    source = hstore.require_source(name)
    return {r.identifier: (r.deleted, r.metadata) for r in hstore.iter_records(source.id)}


def formats_of(hstore: HarvestStore, name: str, prefix: str) -> dict[str, tuple[bool, Any]]:
    source = hstore.require_source(name)
    with hstore.engine.connect() as conn:
        rows = conn.execute(select(harvested_formats.c.identifier, harvested_formats.c.deleted,
                                   harvested_formats.c.metadata).where(
            harvested_formats.c.source_id == source.id,
            harvested_formats.c.prefix == prefix)).all()
    return {r[0]: (bool(r[1]), r[2]) for r in rows}


def written_by(hstore: HarvestStore, run_id: int) -> set[str]:
    """Identifiers a run wrote, in any format."""
    with hstore.engine.connect() as conn:
        main = conn.execute(select(harvested.c.identifier)
                            .where(harvested.c.run_id == run_id)).scalars()
        extra = conn.execute(select(harvested_formats.c.identifier)
                             .where(harvested_formats.c.run_id == run_id)).scalars()
        return set(main) | set(extra)


def check_provenance(consumer: HarvestStore, origins: dict[str, str]) -> int:
    """Every live record of the aggregate carries a provenance container that validates and
    names its origin; the number checked."""
    schema = load_schema(PROVENANCE_SCHEMA_URL)
    source = consumer.require_source("agg")
    with consumer.engine.connect() as conn:
        rows = conn.execute(select(harvested.c.identifier, harvested.c.about).where(
            harvested.c.source_id == source.id, harvested.c.deleted.is_(False))).all()
    for identifier, about in rows:
        assert about, identifier
        tree = etree.fromstring(f"<a>{about}</a>".encode())
        found = tree.find(f"{{{PROVENANCE}}}provenance")
        assert found is not None, identifier
        schema.assertValid(etree.ElementTree(found))
        origin_description = found.find(f"{{{PROVENANCE}}}originDescription")
        assert origin_description is not None
        assert origin_description.get("altered") == "false"
        assert origin_description.findtext(f"{{{PROVENANCE}}}identifier") == identifier
        base = origin_description.findtext(f"{{{PROVENANCE}}}baseURL")
        assert base == origins[identifier.split(":")[1]]
    return len(rows)


def test_publish_and_harvest_the_aggregate(database_url: str, tmp_path: Path) -> None:
    with ExitStack() as stack:
        store_a, url_a = stack.enter_context(origin(tmp_path / "a.sqlite", "a.example.org",
                                                    ("oai_dc",)))
        store_b, url_b = stack.enter_context(origin(tmp_path / "b.sqlite", "b.example.org",
                                                    ("oai_dc", "oai_datacite")))
        put(store_a, *[record(f"a{i:03d}", f"A record {i} \u2013 ünï") for i in range(30)])
        store_a.delete(["a005", "a006"])
        put(store_b, *[datacite_record(f"b{i:03d}") for i in range(20)])
        store_b.delete(["b003"])

        aggregator = Store.open(database_url, create=True)
        stack.callback(aggregator.close)
        put(aggregator, *[record(f"local{i}") for i in range(5)])  # the aggregator's own
        hagg = HarvestStore(aggregator)
        hagg.add_source("a", url_a)
        hagg.add_source("b", url_b, extra_prefixes=["oai_datacite"])
        hagg.add_source("a-copy", url_a)  # the same identifiers again: never served twice
        for name in ("a", "b", "a-copy"):
            run(hagg, name)
        assert len(formats_of(hagg, "b", "oai_datacite")) == 20
        prefix = f"oai:{AGG}:"
        for name in ("a", "b", "a-copy"):
            hagg.set_publish(hagg.require_source(name).id, True, prefix)
        assert hagg.published_counts(hagg.require_source("a-copy").id) == {
            "served": 0, "served_deleted": 0, "collisions": 30}

        app = create_app(make_config(repository_identifier=AGG, page_size=9, base_url=None),
                         aggregator)
        # every response of the aggregate validates (OAIClient checks each one)
        oai = OAIClient(app.test_client())
        sets = {s.findtext("o:setSpec", namespaces=NS): s for s in
                oai(verb="ListSets").iterfind("o:ListSets/o:set", NS)}
        assert {"source", "source:a", "source:b", "source:a-copy"} <= set(sets)
        assert sets["source:b"].findtext("o:setName", namespaces=NS) == "Origin b.example.org"
        assert url_b in etree.tostring(sets["source:b"]).decode()
        headers = oai.harvest("ListIdentifiers", metadataPrefix="oai_dc")
        identifiers = [h.findtext("o:identifier", namespaces=NS) for h in headers]
        assert len(identifiers) == len(set(identifiers)) == 5 + 30 + 20
        assert len(oai.harvest("ListRecords", metadataPrefix="oai_datacite",
                               set="source:b")) == 20
        assert len(oai.harvest("ListRecords", metadataPrefix="oai_dc", set="source")) == 50
        formats = oai(verb="ListMetadataFormats", identifier="oai:b.example.org:b001")
        assert {f.text for f in formats.iterfind(".//o:metadataPrefix", NS)} == {
            "oai_dc", "oai_datacite"}
        got = oai(verb="GetRecord", identifier="oai:a.example.org:a001", metadataPrefix="oai_dc")
        assert got.find(".//o:about", NS) is not None
        assert oai(verb="GetRecord", identifier="oai:a.example.org:a001",
                   metadataPrefix="oai_datacite").find("o:error", NS).get(
            "code") == "cannotDisseminateFormat"

        time.sleep(1.1)  # the consumer's first `from` lies after every datestamp written
        consumer = HarvestStore(Store.open(f"sqlite:///{tmp_path / 'c.sqlite'}", create=True))
        with serve_in_thread(app) as base:
            consumer.add_source("agg", f"{base}/oai", set_specs=["source"],
                                extra_prefixes=["oai_datacite"])
            run(consumer, "agg")
            expected = {**copy_of(hagg, "a"), **copy_of(hagg, "b")}
            assert copy_of(consumer, "agg") == expected
            assert formats_of(consumer, "agg", "oai_datacite") == formats_of(
                hagg, "b", "oai_datacite")
            assert check_provenance(consumer, {"a.example.org": url_a,
                                               "b.example.org": url_b}) == 28 + 19

            # the origins change; the aggregator harvests them again
            time.sleep(1.1)
            put(store_a, *[record(f"a{i:03d}", f"Edited {i}") for i in (1, 2, 3)])
            put(store_a, record("a100", "New in A"))
            store_b.delete(["b010", "b011"])
            put(store_b, datacite_record("b012", "Edited in B"))
            for name in ("a", "b", "a-copy"):
                run(hagg, name)
            time.sleep(1.1)
            again = run(consumer, "agg")
            assert hagg.require_source("a").publish
            assert copy_of(consumer, "agg") == {**copy_of(hagg, "a"), **copy_of(hagg, "b")}
            changed = {f"oai:a.example.org:a{i:03d}" for i in (1, 2, 3, 100)} | {
                f"oai:b.example.org:b{i:03d}" for i in (10, 11, 12)}
            assert written_by(consumer, again.run_id) == changed

            # unpublishing b: its records leave the feed as deletions
            time.sleep(1.1)
            hagg.set_publish(hagg.require_source("b").id, False)
            time.sleep(1.1)
            third = run(consumer, "agg")
            # the records it still served; those already deleted stay the tombstones they were
            assert written_by(consumer, third.run_id) == {
                f"oai:b.example.org:b{i:03d}" for i in range(20) if i not in (3, 10, 11)}
            held = copy_of(consumer, "agg")
            assert all(held[f"oai:b.example.org:b{i:03d}"] == (True, None) for i in range(20))
            consumer.store.close()
