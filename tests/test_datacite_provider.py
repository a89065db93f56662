"""DataCite through the provider: the fixtures loaded in a store are listed, served and refused
in both DataCite formats, every response valid against the project's schemas (OAIClient
validates each one), and `oai check` counts why records are not carried."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from lxml import etree

from oai.formats.check import check
from oai.formats.datacite.crosswalk import requires
from oai.formats.datacite.vocabularies import (
    KERNEL,
    KERNEL_SCHEMA_URL,
    OAI_DATACITE_NS,
    OAI_DATACITE_SCHEMA_URL,
)
from oai.paths import fixtures_dir
from oai.protocol.rendering import prepare_record
from oai.provider.app import create_app
from oai.store.repository import Store
from tests.conftest import NS, OAIClient, error_codes, make_config

PREFIX = "oai:test.example.org:"
XPATHS = {"k": KERNEL, "w": OAI_DATACITE_NS, **NS}


def _fixtures() -> list[dict[str, Any]]:
    records = []
    for path in sorted((fixtures_dir() / "records").iterdir()):
        lines = path.read_text("utf-8").splitlines() if path.suffix == ".jsonl" else [
            path.read_text("utf-8")]
        records += [json.loads(line) for line in lines if line.strip()]
    return records


@pytest.fixture
def loaded(store: Store) -> tuple[OAIClient, Store, list[dict[str, Any]]]:
    records = _fixtures()
    store.write([prepare_record(r) for r in records])
    return OAIClient(create_app(make_config(page_size=7), store).test_client()), store, records


def test_listed_served_and_refused(loaded: tuple[OAIClient, Store, list[dict[str, Any]]]) -> None:
    oai, _, records = loaded
    formats = {f.findtext("o:metadataPrefix", namespaces=NS):
               (f.findtext("o:schema", namespaces=NS), f.findtext("o:metadataNamespace",
                                                                  namespaces=NS))
               for f in oai(verb="ListMetadataFormats").iterfind(".//o:metadataFormat", NS)}
    assert formats["datacite"] == (KERNEL_SCHEMA_URL, KERNEL)
    assert formats["oai_datacite"] == (OAI_DATACITE_SCHEMA_URL, OAI_DATACITE_NS)

    def prefixes(rid: str) -> set[str]:
        root = oai(verb="ListMetadataFormats", identifier=PREFIX + rid)
        return {p.text or "" for p in root.iterfind(".//o:metadataPrefix", NS)}

    assert {"datacite", "oai_datacite"} <= prefixes("123456")
    assert not {"datacite", "oai_datacite"} & prefixes("110234")  # no DOI

    got = oai(verb="GetRecord", metadataPrefix="datacite", identifier=PREFIX + "123456")
    assert got.findtext(".//o:metadata/k:resource/k:identifier",
                        namespaces=XPATHS) == "10.1093/bjsw/bcz067"
    wrapped = oai(verb="GetRecord", metadataPrefix="oai_datacite",
                  identifier=PREFIX + "123456")
    assert wrapped.findtext(".//o:metadata/w:oai_datacite/w:payload/k:resource/k:identifier",
                            namespaces=XPATHS) == "10.1093/bjsw/bcz067"
    for prefix in ("datacite", "oai_datacite"):
        refused = oai(verb="GetRecord", metadataPrefix=prefix, identifier=PREFIX + "110234")
        assert error_codes(refused) == ["cannotDisseminateFormat"]

    carried = {r["id"] for r in records if not r.get("deleted") and requires(r) is None}
    assert len(carried) >= 30
    for prefix, path in (("datacite", "o:metadata/k:resource"),
                         ("oai_datacite", "o:metadata/w:oai_datacite/w:payload/k:resource")):
        listed = oai.harvest(metadataPrefix=prefix)  # paged by 7, every page validated
        live = [r for r in listed if r.find("o:header", NS).get("status") is None]  # type: ignore[union-attr]
        assert {r.findtext("o:header/o:identifier", namespaces=NS) for r in live} == {
            PREFIX + rid for rid in carried}
        assert all(r.find(path, XPATHS) is not None for r in live)


def test_check_counts_why_records_are_not_carried(
        loaded: tuple[OAIClient, Store, list[dict[str, Any]]]) -> None:
    _, store, records = loaded
    live = [r for r in records if not r.get("deleted")]
    expected = Counter(reason for r in live if (reason := requires(r)) is not None)
    assert expected  # the fixtures include records DataCite cannot carry
    by_prefix = {c.prefix: c for c in check(store, sample=20)}
    for prefix in ("datacite", "oai_datacite"):
        result = by_prefix[prefix]
        assert result.invalid == [] and result.sampled == 20
        assert result.disseminated == len(live) - sum(expected.values())
        assert result.reasons == dict(expected)


def test_the_served_resource_is_the_stored_rendering(
        loaded: tuple[OAIClient, Store, list[dict[str, Any]]]) -> None:
    oai, _, _ = loaded
    root = oai(verb="GetRecord", metadataPrefix="datacite", identifier=PREFIX + "123456")
    resource = root.find(".//o:metadata/k:resource", XPATHS)
    assert resource is not None
    item = resource.find("k:relatedItems/k:relatedItem", XPATHS)
    assert item is not None and item.findtext("k:volume", namespaces=XPATHS) == "49"
    assert etree.QName(resource).namespace == KERNEL
