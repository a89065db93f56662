"""The RIOXX v3.0 crosswalk on the example article (Maxwell & Rees 2019): each property the
issue names, asserted by XPath; and what `requires` refuses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from oai.formats import installed
from oai.formats.rioxx import render_rioxx, requires
from oai.formats.rioxx import requirements as req
from oai.formats.rioxx.namespaces import DC, DCTERMS, RIOXX, RIOXXTERMS
from oai.protocol.records import validate_record
from oai.protocol.schemas import validate_fragment

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "records"
NS = {"r": RIOXX, "rioxxterms": RIOXXTERMS, "dc": DC, "dcterms": DCTERMS}
COAR = "http://purl.org/coar/"


def example() -> dict[str, Any]:
    return validate_record(json.loads((FIXTURES / "123456.json").read_text()))


def rendered(record: dict[str, Any]) -> etree._Element:
    xml = render_rioxx(record)
    validate_fragment("rioxx", xml)
    return etree.fromstring(xml.encode())


def values(root: etree._Element, path: str) -> list[str]:
    found = root.xpath(path, namespaces=NS)
    return [(v.text or "" if isinstance(v, etree._Element) else str(v)).strip()
            for v in found]  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def root() -> etree._Element:
    return rendered(example())


def test_registered_with_the_official_schema_location() -> None:
    fmt = installed()["rioxx"]
    assert (fmt.namespace, fmt.schema_location) == (
        RIOXX, "http://www.rioxx.net/schema/v3.0/rioxx/rioxx.xsd")
    assert fmt.diagnose is not None and fmt.catalog.is_file()


def test_root_and_schema_location(root: etree._Element) -> None:
    assert root.tag == f"{{{RIOXX}}}rioxx"
    assert root.get("{http://www.w3.org/2001/XMLSchema-instance}schemaLocation") == (
        f"{RIOXX} http://www.rioxx.net/schema/v3.0/rioxx/rioxx.xsd")


def test_both_creators_with_their_orcids(root: etree._Element) -> None:
    assert values(root, "rioxxterms:creator/rioxxterms:name") == ["Maxwell, Nina", "Rees, Alyson"]
    assert values(root, "rioxxterms:creator/rioxxterms:id") == [
        "https://orcid.org/0000-0003-3931-7729", "https://orcid.org/0000-0003-2363-4965"]
    assert values(root, "rioxxterms:creator/@first-named-author") == ["true"]


def test_identifiers_and_dates(root: etree._Element) -> None:
    assert values(root, "dc:identifier") == ["https://orca.cardiff.ac.uk/id/eprint/123456/"]
    assert values(root, "rioxxterms:ext_relation[@rel='cite-as']") == [
        "https://doi.org/10.1093/bjsw/bcz067"]
    assert values(root, "rioxxterms:ext_relation/@coar_version") == [
        COAR + "version/c_970fb48d4fbd8a85"]  # the DOI: the version of record
    assert values(root, "dcterms:dateAccepted") == ["2019-05-02"]
    assert values(root, "rioxxterms:publication_date") == ["2019-09"]
    assert values(root, "rioxxterms:record_public_release_date") == ["2019-05-02"]


def test_the_accepted_manuscript_with_its_licence(root: etree._Element) -> None:
    [item] = root.xpath("dc:relation[@rel='item']", namespaces=NS)  # type: ignore[misc]
    assert item.text == ("https://orca.cardiff.ac.uk/id/eprint/123456/1/"
                         "Maxwell_Rees_VIG_BJSW_AM.pdf")
    assert dict(item.attrib) == {
        "rel": "item", "type": "application/pdf",
        "coar_type": COAR + "resource_type/c_6501",
        "coar_version": COAR + "version/c_ab4af688f83e57aa",  # AM
        "deposit_date": "2019-05-02", "resource_exposed_date": "2019-05-02",  # licence start
        "access_rights": COAR + "access_right/c_abf2",
        "license_ref": "https://creativecommons.org/licenses/by-nc/4.0/"}


def test_funder_and_grant(root: etree._Element) -> None:
    [grant] = root.xpath("rioxxterms:grant", namespaces=NS)  # type: ignore[misc]
    assert grant.text == "ES/P000401/1"
    assert grant.get("funder_name") == "Economic and Social Research Council"
    assert grant.get("funder_id") == "https://doi.org/10.13039/501100000269"
    assert values(root, "rioxxterms:project") == []  # the record names no project URI
    record = example()
    record["funding"][0]["project_uri"] = "https://gtr.ukri.org/projects?ref=ES%2FP000401%2F1"
    assert values(rendered(record), "rioxxterms:project") == [
        "https://gtr.ukri.org/projects?ref=ES%2FP000401%2F1"]


def test_the_other_properties(root: etree._Element) -> None:
    assert values(root, "dc:title") == [
        "Video Interaction Guidance: a return to traditional values and relationship-based "
        "practice?"]
    assert values(root, "dc:language") == ["en"]
    assert values(root, "dc:type") == [COAR + "resource_type/c_6501"]
    assert values(root, "dc:source") == ["1468-263X"]  # the electronic ISSN
    assert values(root, "rioxxterms:publisher/rioxxterms:name") == ["Oxford University Press"]
    assert len(values(root, "dc:description")) == 2  # the abstract and the note
    assert values(root, "dc:description[1]/@xml:lang") == ["en"]
    assert "Social service" in values(root, "dc:subject")
    assert "attunement" in values(root, "dc:subject")


def test_subtitle_contributors_relations_and_embargo() -> None:
    record = example()
    record["titles"].append({"text": "A sequel", "kind": "subtitle"})
    record["contributors"] = [{"name": "Doe, Jane", "orcid": "0000-0002-1825-0097",
                               "role": "editor"}]
    record["relations"] = [{"kind": "is_supplemented_by", "identifier": "10.5555/data.1"},
                           {"kind": "references", "identifier": "no uri"}]
    record["identifiers"].append({"scheme": "handle", "value": "1234/5678"})
    record["files"][0].update(access="embargoed", embargo_end="2020-03-01")
    root = rendered(record)
    assert values(root, "dc:title")[0].endswith("practice?: A sequel")
    assert values(root, "rioxxterms:contributor/rioxxterms:id") == [
        "https://orcid.org/0000-0002-1825-0097"]
    assert values(root, "rioxxterms:ext_relation") == [
        "https://doi.org/10.1093/bjsw/bcz067", "https://doi.org/10.5555/data.1"]
    assert values(root, "dc:relation[@rel='cite-as']") == ["https://hdl.handle.net/1234/5678"]
    assert values(root, "dc:relation[@rel='item']/@resource_exposed_date") == ["2020-03-01"]
    assert values(root, "dc:relation[@rel='item']/@access_rights") == [
        COAR + "access_right/c_f1cf"]


@pytest.mark.parametrize(("change", "reason"), [
    (lambda r: r.update(titles=[{"text": "\x0b"}]), req.NO_TITLE),
    (lambda r: r.pop("url"), req.NO_IDENTIFIER),
    (lambda r: r.update(url="urn:nbn:x"), req.NO_IDENTIFIER),
    (lambda r: r.pop("languages"), req.NO_LANGUAGE),
    (lambda r: r.update(creators=[]), req.NO_CREATOR),
    (lambda r: r.update(creators=[{"name": "\x01"}]), req.NO_CREATOR),
    (lambda r: r["dates"].pop("accepted"), req.NO_ACCEPTED),
])
def test_requires_names_the_missing_property(change: Any, reason: str) -> None:
    record = example()
    assert requires(record) is None
    change(record)
    assert requires(record) == reason
    assert "123456" not in reason and "Maxwell" not in reason  # countable by oai check
