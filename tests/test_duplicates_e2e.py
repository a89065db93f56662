"""Duplicates across sources, end to end: three loopback sources in three formats share works
by DOI (`doi:10.1000/Alpha`, `https://doi.org/10.1000/alpha`, `10.1000/ALPHA`), by arXiv
id (with and without a version, as a URL) and by title
only (case, punctuation and diacritics differ); near misses must stay apart. Clusters follow
edits, deletions and records no longer listed, on SQLite and PostgreSQL; the CLI lists them
(text, JSON, CSV) and `rebuild` finds them again from the stored records."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from harvester.options import HarvestOptions
from harvester.sync import SourceHarvester
from oai.store.harvest import HarvestStore
from oai.store.repository import Store
from tests.dups_server import DupServer, Source, dc, rendered, serve_sources

OAI = str(Path(sys.executable).with_name("oai"))
FULL = HarvestOptions(max_attempts=2, backoff_base=0.0, backoff_cap=0.0, read_timeout=5,
                      connect_timeout=2, sleep=lambda seconds: None, full=True)
QUANTUM = "Über die Quantenmechanik der Katzen"


def planted() -> dict[str, Source]:
    a, b, c = Source("oai_dc"), Source("oai_openaire"), Source("mods")
    a.put("oai:a:1", dc("Cats in space: a field guide", "Smith, Anna", "2021",
                        "doi:10.1000/Alpha"))
    a.put("oai:a:2", dc("Quantum cats revisited", "Jones, Bob", "2021", "arXiv:2101.00001"))
    a.put("oai:a:3", dc(QUANTUM, "Müller, Hans", "2019-03-01"))
    a.put("oai:a:4", dc("A study of graph colouring in planar graphs", "Lee, Kim", "2018"))
    a.put("oai:a:5", dc("Same source, first copy", "Kay, Al", "2017", "doi:10.1000/samesource"))
    a.put("oai:a:6", dc("Same source, second copy", "Kay, Al", "2017",
                        "https://doi.org/10.1000/SAMESOURCE"))
    a.put("oai:a:7", dc("Unrelated filler record number seven", "Fill, Er", "2015",
                        "https://example.org/a7"))
    b.put("oai:b:1", rendered("oai_openaire", "b1", "Cats in Space — A Field Guide (preprint)",
                              "Smith, A.", "2021", doi="10.1000/alpha"))
    b.put("oai:b:2", rendered("oai_openaire", "b2", "Quantum Cats Revisited: extended version",
                              "Jones, B.", "2022", identifiers=[
                                  {"scheme": "arxiv",
                                   "value": "https://arxiv.org/abs/2101.00001v2"}]))
    b.put("oai:b:3", rendered("oai_openaire", "b3", "ÜBER DIE QUANTENMECHANIK DER KATZEN!",
                              "Müller, H.", "2019-06-01"))
    b.put("oai:b:4", rendered("oai_openaire", "b4", QUANTUM, "Müller, Hans", "2020"))  # year
    b.put("oai:b:5", rendered("oai_openaire", "b5", "A reply to cats in space", "Doe, Jo",
                              "2022", relations=[{"kind": "references", "scheme": "doi",
                                                  "identifier": "10.1000/alpha"}]))
    c.put("oai:c:1", rendered("mods", "c1", "Cats in space", "Smith, Anna", "2021",
                              doi="10.1000/ALPHA"))
    c.put("oai:c:3", rendered("mods", "c3", "Uber die Quantenmechanik der Katzen.",
                              "Hans Müller", "2019"))
    c.put("oai:c:4", rendered("mods", "c4", QUANTUM, "Schmidt, Hans", "2019"))  # surname
    c.put("oai:c:5", rendered("mods", "c5", "A study of graph colouring in sparse graphs",
                              "Lee, Kim", "2018"))  # a similar but different title
    return {"a": a, "b": b, "c": c}


def clusters(hstore: HarvestStore, source: str | None = None) -> set[frozenset[str]]:
    source_id = hstore.require_source(source).id if source else None
    return {frozenset(f"{m.source} {m.identifier}" for m in cluster.members)
            for cluster in hstore.iter_clusters(source_id)}


def harvest_all(hstore: HarvestStore) -> None:
    for name in ("a", "b", "c"):
        outcome = SourceHarvester(hstore, hstore.require_source(name), FULL).run()
        assert outcome.status == "complete", outcome


@pytest.fixture
def server() -> Iterator[DupServer]:
    with serve_sources(planted()) as served:
        yield served
    assert not served.invalid, served.invalid


@pytest.fixture
def hstore(database_url: str) -> Iterator[HarvestStore]:
    store = Store.open(database_url, create=True)
    yield HarvestStore(store)
    store.close()


PLANTED = {frozenset({"a oai:a:1", "b oai:b:1", "c oai:c:1"}),
           frozenset({"a oai:a:2", "b oai:b:2"}),
           frozenset({"a oai:a:3", "b oai:b:3", "c oai:c:3"})}


def test_three_sources_give_exactly_the_planted_clusters(hstore: HarvestStore,
                                                         server: DupServer) -> None:
    for name, source in server.sources.items():
        hstore.add_source(name, server.url(name), source.prefix)
    harvest_all(hstore)
    assert clusters(hstore) == PLANTED
    assert clusters(hstore, "b") == PLANTED
    assert clusters(hstore, "c") == {s for s in PLANTED if any(m[0] == "c" for m in s)}
    evidence = {(link.kind, link.value, link.score)
                for cluster in hstore.iter_clusters() for link in cluster.links}
    assert ("doi", "10.1000/alpha", None) in evidence
    assert ("arxiv", "2101.00001", None) in evidence
    fingerprints = [e for e in evidence if e[0] == "fingerprint"]
    assert fingerprints and all(e[2] is not None and e[2] >= 0.95 for e in fingerprints)
    assert all(e[1] == "uber die quantenmechanik der katzen" for e in fingerprints)

    # harvesting again changes nothing
    harvest_all(hstore)
    assert clusters(hstore) == PLANTED

    # an edit that loses the DOI, a reported deletion, a record no longer listed, and an
    # edit that makes a near miss match
    server.sources["c"].put("oai:c:1", rendered("mods", "c1", "Dogs on the moon, a guide",
                                                "Smith, Anna", "2021"), "2024-02-01T00:00:00Z")
    server.sources["b"].put("oai:b:2", None, "2024-02-01T00:00:00Z")
    server.sources["b"].drop("oai:b:3")
    server.sources["c"].put("oai:c:4", rendered("mods", "c4", QUANTUM, "Müller, Hans", "2019"),
                            "2024-02-01T00:00:00Z")
    harvest_all(hstore)
    assert clusters(hstore) == {frozenset({"a oai:a:1", "b oai:b:1"}),
                                frozenset({"a oai:a:3", "c oai:c:3", "c oai:c:4"})}

    # the bridge leaves: what remains are two records of one source, never linked
    server.sources["a"].put("oai:a:3", dc("Something else entirely now", "Müller, Hans",
                                          "2019"), "2024-03-01T00:00:00Z")
    harvest_all(hstore)
    assert clusters(hstore) == {frozenset({"a oai:a:1", "b oai:b:1"})}


def test_cli_lists_and_rebuilds(server: DupServer, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'h.sqlite'}"
    store = Store.open(url, create=True)
    hstore = HarvestStore(store)
    for name, source in server.sources.items():
        hstore.add_source(name, server.url(name), source.prefix)
    harvest_all(hstore)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OAI_")}
    env["OAI_DATABASE_URL"] = url

    def oai(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([OAI, *args], capture_output=True, text=True, env=env,
                              cwd=tmp_path, timeout=120)

    listed = oai("duplicates", "--json")
    assert listed.returncode == 0, listed.stderr
    found = [json.loads(line) for line in listed.stdout.splitlines()]
    assert {frozenset(f"{m['source']} {m['identifier']}" for m in c["members"])
            for c in found} == PLANTED
    assert all(link["a"] and link["b"] for c in found for link in c["links"])

    text = oai("duplicates", "--source", "a")
    assert text.returncode == 0 and "3 cluster(s), 8 records" in text.stdout
    assert "doi 10.1000/alpha" in text.stdout and "title similarity 1.00" in text.stdout

    table = list(csv.DictReader(io.StringIO(oai("duplicates", "--csv").stdout)))
    assert len(table) == 8 and all(row["evidence"] for row in table)

    hstore.clear_duplicates()
    assert clusters(hstore) == set()
    rebuilt = oai("duplicates", "rebuild", "--json")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert json.loads(rebuilt.stdout)["clusters"] == 3
    assert clusters(hstore) == PLANTED

    unknown = oai("duplicates", "--source", "nope")
    assert unknown.returncode != 0 and "Traceback" not in unknown.stderr
    assert len(unknown.stderr.strip().splitlines()) == 1

    removed = oai("harvest", "remove", "c", "--yes")
    assert removed.returncode == 0, removed.stderr
    assert clusters(hstore) == {frozenset({"a oai:a:1", "b oai:b:1"}),
                                frozenset({"a oai:a:2", "b oai:b:2"}),
                                frozenset({"a oai:a:3", "b oai:b:3"})}
    store.close()
