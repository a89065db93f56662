"""oai_openaire through the provider: the fixtures written to a store are listed, served by
GetRecord and ListRecords (every response validated against the schemas, payloads included),
refused with cannotDisseminateFormat where the profile's mandatory properties are missing,
and counted with their reason by `oai check`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from oai.formats.check import check
from oai.formats.openaire import requirements as req
from oai.formats.openaire.namespaces import DATACITE, OAIRE, SCHEMA_URL
from oai.provider.app import create_app
from oai.store.repository import Store
from tests.conftest import NS, OAIClient, error_codes, make_config, put

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "records"
PREFIX = "oai:test.example.org:"


def _fixtures() -> list[dict[str, Any]]:
    records = [json.loads(p.read_text()) for p in sorted(FIXTURES.glob("*.json"))]
    records += [json.loads(line) for line in (FIXTURES / "theses.jsonl").read_text()
                .splitlines() if line.strip()]
    return records


def test_fixtures_are_served_as_oai_openaire(store: Store) -> None:
    records = _fixtures()
    put(store, *records)
    oai = OAIClient(create_app(make_config(), store).test_client())

    formats = {f.findtext("o:metadataPrefix", namespaces=NS):
               (f.findtext("o:schema", namespaces=NS),
                f.findtext("o:metadataNamespace", namespaces=NS))
               for f in oai(verb="ListMetadataFormats").iterfind(".//o:metadataFormat", NS)}
    assert formats["oai_openaire"] == (SCHEMA_URL, OAIRE)

    got = oai(verb="GetRecord", metadataPrefix="oai_openaire", identifier=PREFIX + "123456")
    payload = got.find(f".//o:metadata/{{{OAIRE}}}resource", NS)
    assert payload is not None
    assert payload.findtext(f"{{{DATACITE}}}identifier") == (
        "https://orca.cardiff.ac.uk/id/eprint/123456/")
    assert payload.find(f"{{{OAIRE}}}resourceType").get("uri") == (  # type: ignore[union-attr]
        "http://purl.org/coar/resource_type/c_6501")

    harvested = oai.harvest(metadataPrefix="oai_openaire")  # every page schema-validated
    served = {r.findtext(".//o:header/o:identifier", namespaces=NS): r for r in harvested}
    live = {PREFIX + r["id"] for r in records if not r.get("deleted")}
    live_served = {i for i, r in served.items()
                   if r.find("o:header", NS).get("status") != "deleted"}  # type: ignore[union-attr]
    assert live_served == live - {PREFIX + "113579"}
    assert all(r.find(f".//o:metadata/{{{OAIRE}}}resource", NS) is not None
               for i, r in served.items() if i in live_served)

    # the edited book has no creator: not disseminated in this format, with the reason
    only = oai(verb="ListMetadataFormats", identifier=PREFIX + "113579")
    prefixes = [p.text for p in only.iterfind(".//o:metadataPrefix", NS)]
    assert "oai_dc" in prefixes and "oai_openaire" not in prefixes
    refused = oai(verb="GetRecord", metadataPrefix="oai_openaire", identifier=PREFIX + "113579")
    assert error_codes(refused) == ["cannotDisseminateFormat"]

    [result] = [c for c in check(store, sample=60) if c.prefix == "oai_openaire"]
    assert result.reasons == {req.NO_CREATOR: 1}
    assert result.not_disseminated == 1 and result.disseminated == len(live) - 1
    assert result.sampled > 0 and result.invalid == []
