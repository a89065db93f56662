"""rioxx through the provider: the fixtures written to a store are listed, served by GetRecord
and ListRecords (every response validated against the combined schema, payloads included),
refused with cannotDisseminateFormat where a mandatory property is missing, and counted with
their reason by `oai check`; the combined response schema holds oai_dc, oai_openaire and rioxx
payloads together; `oai validate` names the profile's example spelling."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from oai.formats.check import check
from oai.formats.rioxx import requirements as req
from oai.formats.rioxx.namespaces import DC, DOCS_RIOXXTERMS, RIOXX, RIOXXTERMS, SCHEMA_URL
from oai.protocol.schemas import SchemaViolation, validate_response
from oai.provider.app import create_app
from oai.store.repository import Store
from oai.validation import validate_bytes
from tests.conftest import NS, SHARED, OAIClient, error_codes, make_config, put

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "records"
PREFIX = "oai:test.example.org:"
OAI_CLI = str(Path(sys.executable).with_name("oai"))


def _fixtures() -> list[dict[str, Any]]:
    records = [json.loads(p.read_text()) for p in sorted(FIXTURES.glob("*.json"))]
    records += [json.loads(line) for line in (FIXTURES / "theses.jsonl").read_text()
                .splitlines() if line.strip()]
    return records


def test_fixtures_are_served_as_rioxx(store: Store) -> None:
    records = _fixtures()
    put(store, *records)
    oai = OAIClient(create_app(make_config(), store).test_client())

    formats = {f.findtext("o:metadataPrefix", namespaces=NS):
               (f.findtext("o:schema", namespaces=NS),
                f.findtext("o:metadataNamespace", namespaces=NS))
               for f in oai(verb="ListMetadataFormats").iterfind(".//o:metadataFormat", NS)}
    assert formats["rioxx"] == (SCHEMA_URL, RIOXX)

    got = oai(verb="GetRecord", metadataPrefix="rioxx", identifier=PREFIX + "123456")
    payload = got.find(f".//o:metadata/{{{RIOXX}}}rioxx", NS)
    assert payload is not None
    assert payload.findtext(f"{{{DC}}}identifier") == (
        "https://orca.cardiff.ac.uk/id/eprint/123456/")
    assert len(payload.findall(f"{{{RIOXXTERMS}}}creator")) == 2

    harvested = oai.harvest(metadataPrefix="rioxx")  # every page schema-validated
    live = {r["id"] for r in records if not r.get("deleted")}
    served = {r.findtext(".//o:header/o:identifier", namespaces=NS) for r in harvested
              if r.find(f".//o:metadata/{{{RIOXX}}}rioxx", NS) is not None}
    assert len(served) == 27 - sum(1 for r in records if r.get("deleted")
                                   and r["dates"].get("accepted") and r.get("languages"))

    # a thesis has no acceptance date: not disseminated in this format, with the reason
    refused_id = next(r["id"] for r in records if not r.get("deleted")
                      and not (r.get("dates") or {}).get("accepted"))
    only = oai(verb="ListMetadataFormats", identifier=PREFIX + refused_id)
    prefixes = [p.text for p in only.iterfind(".//o:metadataPrefix", NS)]
    assert "oai_dc" in prefixes and "rioxx" not in prefixes
    refused = oai(verb="GetRecord", metadataPrefix="rioxx", identifier=PREFIX + refused_id)
    assert error_codes(refused) == ["cannotDisseminateFormat"]

    [result] = [c for c in check(store, sample=60) if c.prefix == "rioxx"]
    assert result.reasons == {req.NO_ACCEPTED: result.not_disseminated - 1, req.NO_CREATOR: 1}
    assert result.disseminated + result.not_disseminated == len(live)
    assert result.sampled > 0 and result.invalid == []


def test_oai_dc_openaire_and_rioxx_validate_in_one_response_schema(store: Store) -> None:
    """dc and dcterms are declared by simple Dublin Core, OpenAIRE and RIOXX documents: the
    combined response schema holds them all (see schemas/rioxx/dc.xsd), and still judges."""
    example = json.loads((FIXTURES / "123456.json").read_text())
    put(store, example)
    oai = OAIClient(create_app(make_config(), store).test_client())
    pages = {}
    for prefix, root in (("oai_dc", "{http://www.openarchives.org/OAI/2.0/oai_dc/}dc"),
                         ("oai_openaire", "{http://namespace.openaire.eu/schema/oaire/}resource"),
                         ("rioxx", f"{{{RIOXX}}}rioxx")):
        served = oai(verb="GetRecord", metadataPrefix=prefix,  # validated as a whole
                     identifier=PREFIX + "123456")
        assert served.find(f".//o:metadata/{root}", NS) is not None
        pages[prefix] = served
    broken = pages["rioxx"]
    payload = broken.find(f".//o:metadata/{{{RIOXX}}}rioxx", NS)
    title = payload.find(f"{{{DC}}}title")  # type: ignore[union-attr]
    payload.remove(title)  # type: ignore[union-attr,arg-type]
    with pytest.raises(SchemaViolation, match="oneTitle"):
        validate_response(etree.tostring(broken))
    payload.append(title)  # type: ignore[union-attr,arg-type]
    payload.append(etree.fromstring(f'<d:rights xmlns:d="{DC}">x</d:rights>'))  # type: ignore[union-attr]
    with pytest.raises(SchemaViolation, match="rights"):
        validate_response(etree.tostring(broken))



EXAMPLE = SHARED / "real-responses" / "rioxx-profile_doc_rioxx_v3-final-example1-imperial.xml"


def test_validate_names_the_example_spelling() -> None:
    if not EXAMPLE.is_file():
        pytest.skip(f"{EXAMPLE} is not available")
    data = EXAMPLE.read_bytes()
    report = validate_bytes(data)
    [problem] = report.problems
    assert (problem.rule, str(problem.severity), problem.namespace) == ("no-schema", "error", "")
    assert problem.message.startswith(
        "RIOXX record in the profile's example spelling: root <rioxx> has no namespace; the "
        f"RIOXX v3.0 XSD requires {RIOXX}")
    assert DOCS_RIOXXTERMS in problem.message

    # root in the right namespace, terms still in docs.rioxx.net: the schema errors, and why
    fixed = data.decode().replace("<rioxx ", f'<rioxx xmlns="{RIOXX}" ', 1).encode()
    report = validate_bytes(fixed)
    rules = Counter(p.rule for p in report.problems)
    assert rules["format-spelling"] == 1 and rules["schema"] >= 1
    [said] = [p for p in report.problems if p.rule == "format-spelling"]
    assert "root" not in said.message and DOCS_RIOXXTERMS in said.message
    assert "rioxxterms element(s)" in said.message

    # and the command line says it
    done = subprocess.run([OAI_CLI, "validate", str(EXAMPLE)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 1
    assert "RIOXX record in the profile's example spelling" in done.stdout


def test_a_correct_record_gets_no_spelling_note(store: Store) -> None:
    put(store, json.loads((FIXTURES / "123456.json").read_text()))
    oai = OAIClient(create_app(make_config(), store).test_client())
    served = oai(verb="GetRecord", metadataPrefix="rioxx", identifier=PREFIX + "123456")
    assert validate_bytes(etree.tostring(served)).problems == []
